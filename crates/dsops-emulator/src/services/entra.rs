//! Entra ID: the v2 (and v1) token endpoint for client credentials with a
//! client secret or a federated client assertion, plus the discovery
//! documents MSAL-based SDKs read first.

use serde_json::{Value, json};

use crate::app::App;
use crate::crypto::{guid_from, jwt, now, random_b64, same_secret};
use crate::directory::Principal;
use crate::http::{Request, Response};
use crate::tokens::TokenProblem;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Entra's error body: `error`, `error_description` starting `AADSTSnnnn:`,
/// `error_codes`, and trace ids.
fn aadsts(status: u16, error: &str, code: u32, message: &str) -> Response {
    let trace = guid_from(&format!("trace/{message}/{}", now()));
    let correlation = random_b64(12)
        .map(|r| guid_from(&r))
        .unwrap_or_else(|_| trace.clone());
    Response::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {message} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {}", now()),
            "error_codes": [code],
            "timestamp": now().to_string(),
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

/// Routes `/{tenant}/...`.
pub(super) fn handle(app: &App, req: &Request) -> Response {
    let parts = req.parts();
    let Some((tenant, rest)) = parts.split_first() else {
        return super::not_found(req);
    };
    match (req.method.as_str(), rest) {
        ("POST", ["oauth2", "v2.0", "token"]) => token(app, req, tenant, true),
        ("POST", ["oauth2", "token"]) => token(app, req, tenant, false),
        ("GET", ["v2.0", ".well-known", "openid-configuration"]) => {
            openid_configuration(app, req, tenant)
        }
        ("GET", [".well-known", "openid-configuration"]) => openid_configuration(app, req, tenant),
        ("GET", ["discovery", "v2.0", "keys"] | ["discovery", "keys"]) => {
            Response::json(200, &app.tokens.jwks())
        }
        ("GET", ["discovery", "instance"]) => instance_discovery(req),
        (_, ["oauth2", ..]) => super::method_not_allowed(req),
        _ => super::not_found(req),
    }
}

fn origin(req: &Request) -> String {
    format!("{}://{}", req.scheme, req.authority)
}

fn openid_configuration(app: &App, req: &Request, tenant: &str) -> Response {
    let tenant_id = match app.directory.tenant(tenant) {
        Some(t) => t.id.clone(),
        None if matches!(tenant, "common" | "organizations") => "{tenantid}".to_owned(),
        None => {
            return aadsts(
                400,
                "invalid_tenant",
                90002,
                &format!("Tenant '{tenant}' not found."),
            );
        }
    };
    let o = origin(req);
    Response::json(
        200,
        &json!({
            "token_endpoint": format!("{o}/{tenant}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{o}/{tenant}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{o}/{tenant_id}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("{o}/oidc/userinfo"),
            "authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{o}/{tenant}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }),
    )
}

fn instance_discovery(req: &Request) -> Response {
    let host = req.authority.clone();
    Response::json(
        200,
        &json!({
            "tenant_discovery_endpoint": format!("{}/common/v2.0/.well-known/openid-configuration", origin(req)),
            "api-version": "1.1",
            "metadata": [{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }],
        }),
    )
}

/// The resource of a v2 `scope` list: exactly one `RESOURCE/.default`
/// (OIDC scopes aside).
fn resource_of_scope(scope: &str) -> Result<String, Response> {
    let resources: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access" | "email"))
        .collect();
    match resources.as_slice() {
        [one] => match one.strip_suffix("/.default") {
            Some(resource) if !resource.is_empty() => Ok(resource.to_owned()),
            _ => Err(aadsts(
                400,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {one} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            )),
        },
        [] => Err(aadsts(
            400,
            "invalid_request",
            90014,
            "The required field 'scope' is missing from the credential request.",
        )),
        _ => Err(aadsts(
            400,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )),
    }
}

fn token(app: &App, req: &Request, tenant: &str, v2: bool) -> Response {
    let form = req.form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(tenant) = app.directory.tenant(tenant) else {
        return aadsts(
            400,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return aadsts(
                400,
                "unsupported_grant_type",
                70003,
                &format!(
                    "The app requested an unsupported grant type '{other}'. The emulator supports client_credentials."
                ),
            );
        }
        None => {
            return aadsts(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let basic = basic_parts(req);
    let client_id = field("client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()));
    let secret = field("client_secret")
        .map(str::to_owned)
        .or_else(|| basic.map(|(_, s)| s));
    let Some(client_id) = client_id.as_deref() else {
        return aadsts(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let resource = if v2 {
        match resource_of_scope(field("scope").unwrap_or_default()) {
            Ok(r) => r,
            Err(response) => return response,
        }
    } else {
        match field("resource") {
            Some(r) if !r.is_empty() => r.to_owned(),
            _ => {
                return aadsts(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'resource'.",
                );
            }
        }
    };
    let principal = match app.directory.by_client_id(client_id) {
        Some(p) if p.tenant_id == tenant.id => p,
        _ => {
            return aadsts(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                    tenant.id
                ),
            );
        }
    };

    let authenticated = match (secret.as_deref(), field("client_assertion")) {
        (Some(secret), None) => check_secret(principal, secret),
        (None, Some(assertion)) => {
            if field("client_assertion_type") != Some(ASSERTION_TYPE) {
                return aadsts(
                    400,
                    "invalid_request",
                    700023,
                    &format!("The client_assertion_type must be '{ASSERTION_TYPE}'."),
                );
            }
            check_assertion(app, principal, assertion)
        }
        (Some(_), Some(_)) => Err(aadsts(
            400,
            "invalid_request",
            700025,
            "Give either client_secret or client_assertion, not both.",
        )),
        (None, None) => Err(aadsts(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    };
    if let Err(response) = authenticated {
        return response.by(Some(principal.name.clone()));
    }
    let issued = match app.tokens.issue(principal, &resource) {
        Ok(i) => i,
        Err(e) => return aadsts(500, "server_error", 90033, &e.to_string()),
    };
    let body = if v2 {
        json!({
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "ext_expires_in": issued.expires_in,
            "access_token": issued.token,
        })
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": issued.expires_in.to_string(),
            "ext_expires_in": issued.expires_in.to_string(),
            "expires_on": issued.expires_on.to_string(),
            "not_before": issued.not_before.to_string(),
            "resource": resource,
            "access_token": issued.token,
        })
    };
    Response::json(200, &body).issued(&principal.name, &resource)
}

/// `Authorization: Basic base64(id:secret)` (client_secret_basic).
fn basic_parts(req: &Request) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = req.header("authorization")?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

fn check_secret(principal: &Principal, secret: &str) -> Result<(), Response> {
    if principal
        .client_secrets
        .iter()
        .any(|s| same_secret(s, secret))
    {
        Ok(())
    } else {
        Err(aadsts(
            401,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                principal.client_id
            ),
        ))
    }
}

fn check_assertion(app: &App, principal: &Principal, assertion: &str) -> Result<(), Response> {
    let malformed = || {
        aadsts(
            400,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
        )
    };
    let parts = jwt::decode(assertion).map_err(|_| malformed())?;
    let claim = |name: &str| {
        parts
            .claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (iss, sub) = (claim("iss"), claim("sub"));
    let audiences: Vec<String> = match parts.claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let issuer_url = |name: &str| {
        app.issuer(name)
            .map_or_else(|| name.to_owned(), |i| i.url.clone())
    };
    let no_match = |why: &str| {
        aadsts(
            400,
            "invalid_client",
            70021,
            &format!(
                "No matching federated identity record found for presented assertion{why}. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'.",
                audiences.join(",")
            ),
        )
    };
    let candidates: Vec<_> = principal
        .federated
        .iter()
        .filter(|f| issuer_url(&f.issuer) == iss && f.subject == sub)
        .collect();
    if candidates.is_empty() {
        return Err(no_match(""));
    }
    if !candidates
        .iter()
        .any(|f| f.audiences.iter().any(|a| audiences.contains(a)))
    {
        return Err(aadsts(
            400,
            "invalid_client",
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{}'. Please note that the matching is done using a case-sensitive comparison.",
                audiences.join(",")
            ),
        ));
    }
    let Some(issuer) = app.issuer_by_url(&iss) else {
        return Err(aadsts(
            400,
            "invalid_client",
            700211,
            &format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'; the emulator can only verify tokens of the issuers it hosts."
            ),
        ));
    };
    match issuer.verify(assertion) {
        Ok(_) => Ok(()),
        Err(TokenProblem::Expired | TokenProblem::NotYetValid) => Err(aadsts(
            400,
            "invalid_client",
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}.",
                now()
            ),
        )),
        Err(_) => Err(aadsts(
            400,
            "invalid_client",
            5002738,
            "The client assertion failed signature validation.",
        )),
    }
}
