//! The managed identity endpoints: IMDS (VMs, scale sets, Container
//! Instances), App Service / Functions, Azure Arc and Cloud Shell. Each has
//! its own parameters, headers and error bodies; all issue the same tokens.

use serde_json::{Value, json};

use crate::app::{ARC_KEY_SUFFIX, App};
use crate::crypto::{guid_from, random_b64, same_secret};
use crate::directory::{IdentitySelector, Principal};
use crate::http::{Request, Response};
use crate::tokens::Issued;

/// IMDS errors: `{"error": "...", "error_description": "..."}`.
fn imds_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn looks_like_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The audience of a token for `resource` (a scope's `/.default` removed).
fn audience(resource: &str) -> &str {
    resource.strip_suffix("/.default").unwrap_or(resource)
}

/// The body IMDS, Arc and Cloud Shell answer with: every field a string.
fn imds_body(issued: &Issued, principal: &Principal, resource: &str) -> Value {
    json!({
        "access_token": issued.token,
        "client_id": principal.client_id,
        "expires_in": issued.expires_in.to_string(),
        "expires_on": issued.expires_on.to_string(),
        "ext_expires_in": issued.expires_in.to_string(),
        "not_before": issued.not_before.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    })
}

/// Issues a token or answers 500 (key failures only).
fn issue(app: &App, principal: &Principal, resource: &str) -> Result<Issued, Response> {
    app.tokens
        .issue(principal, audience(resource))
        .map_err(|e| imds_error(500, "server_error", &e.to_string()))
}

/// The identity selector from query parameters, or an error listing them.
fn selector<'a>(req: &'a Request, names: [&[&str]; 3]) -> Result<IdentitySelector<'a>, ()> {
    let [client, object, resource] = names;
    let find = |keys: &[&str]| keys.iter().find_map(|k| req.query(k));
    let given: Vec<IdentitySelector<'a>> = [
        find(client).map(IdentitySelector::ClientId),
        find(object).map(IdentitySelector::ObjectId),
        find(resource).map(IdentitySelector::ResourceId),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.as_slice() {
        [] => Ok(IdentitySelector::System),
        [one] => Ok(*one),
        _ => Err(()),
    }
}

/// `GET /metadata/identity/oauth2/token` (IMDS, plain HTTP at 169.254.169.254).
pub(super) fn imds(app: &App, req: &Request) -> Response {
    if req.method != "GET" {
        return imds_error(405, "invalid_request", "The method is not allowed; use GET");
    }
    if !req
        .header("metadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    match req.query("api-version") {
        None => {
            return Response::json(
                400,
                &json!({
                    "error": "Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds",
                    "newest-versions": ["2025-04-07", "2024-03-15", "2023-07-01"],
                }),
            );
        }
        Some(v) if !looks_like_api_version(v) => {
            return Response::json(
                400,
                &json!({
                    "error": "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds",
                    "newest-versions": ["2025-04-07", "2024-03-15", "2023-07-01"],
                }),
            );
        }
        Some(_) => {}
    }
    let Some(resource) = req.query("resource").filter(|r| !r.is_empty()) else {
        return imds_error(
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    let Ok(selector) = selector(
        req,
        [&["client_id"], &["object_id"], &["msi_res_id", "mi_res_id"]],
    ) else {
        return imds_error(
            400,
            "invalid_request",
            "Multiple identity parameters specified: give one of client_id, object_id, msi_res_id",
        );
    };
    // No selector: the system-assigned identity, or else the VM's only
    // user-assigned one; with several, IMDS cannot choose.
    let found = match (selector, app.directory.host_identity(&selector)) {
        (IdentitySelector::System, None) => {
            let users = app.directory.host_user_assigned();
            match users.as_slice() {
                [only] => Some(*only),
                [] => None,
                _ => {
                    return imds_error(
                        400,
                        "invalid_request",
                        "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request",
                    );
                }
            }
        }
        (_, found) => found,
    };
    let Some(principal) = found else {
        return imds_error(400, "invalid_request", "Identity not found");
    };
    match issue(app, principal, resource) {
        Ok(issued) => Response::json(200, &imds_body(&issued, principal, resource))
            .issued(&principal.name, audience(resource)),
        Err(response) => response,
    }
}

fn app_service_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "statusCode": status, "message": message, "correlationId": guid_from(message) }),
    )
}

/// `GET {IDENTITY_ENDPOINT}` with `X-IDENTITY-HEADER` (App Service and
/// Functions, api-version 2019-08-01).
pub(super) fn app_service(app: &App, req: &Request) -> Response {
    if req.method != "GET" {
        return app_service_error(405, "The method is not allowed; use GET.");
    }
    match req.header("x-identity-header") {
        Some(h) if same_secret(h, &app.identity_header) => {}
        Some(_) => return app_service_error(401, "The X-IDENTITY-HEADER value is invalid."),
        None => return app_service_error(400, "The X-IDENTITY-HEADER header is required."),
    }
    if req.query("api-version") != Some("2019-08-01") {
        return app_service_error(400, "The api-version parameter must be 2019-08-01.");
    }
    let Some(resource) = req.query("resource").filter(|r| !r.is_empty()) else {
        return app_service_error(400, "The resource parameter is required.");
    };
    let Ok(selector) = selector(
        req,
        [
            &["client_id"],
            &["principal_id", "object_id"],
            &["mi_res_id", "msi_res_id"],
        ],
    ) else {
        return app_service_error(
            400,
            "Only one of client_id, principal_id and mi_res_id may be given.",
        );
    };
    let Some(principal) = app.directory.host_identity(&selector) else {
        return app_service_error(400, "Unable to load the proper Managed Identity.");
    };
    match issue(app, principal, resource) {
        Ok(issued) => Response::json(
            200,
            &json!({
                "access_token": issued.token,
                "expires_on": issued.expires_on.to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": principal.client_id,
            }),
        )
        .issued(&principal.name, audience(resource)),
        Err(response) => response,
    }
}

/// Azure Arc's endpoint: IMDS's shape, but the first request gets a 401 with
/// `WWW-Authenticate: Basic realm=<key file>`, and the retry must carry the
/// file's content as `Authorization: Basic <content>`. No user-assigned
/// identities.
pub(super) fn arc(app: &App, req: &Request) -> Response {
    if req.method != "GET" {
        return imds_error(405, "invalid_request", "The method is not allowed; use GET");
    }
    if !req
        .header("metadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    if req
        .query("api-version")
        .is_none_or(|v| !looks_like_api_version(v))
    {
        return imds_error(
            400,
            "invalid_request",
            "Required api-version parameter not specified",
        );
    }
    let Some(resource) = req.query("resource").filter(|r| !r.is_empty()) else {
        return imds_error(
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    if ["client_id", "object_id", "msi_res_id", "mi_res_id"]
        .iter()
        .any(|k| req.query(k).is_some())
    {
        return imds_error(
            400,
            "invalid_request",
            "User assigned identity is not supported by Azure Arc",
        );
    }
    let presented = req
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, key)| key.trim());
    match presented {
        None => {
            let key = match random_b64(32) {
                Ok(k) => k,
                Err(e) => return imds_error(500, "server_error", &e.to_string()),
            };
            let path = app
                .arc_key_dir
                .join(format!("{}{ARC_KEY_SUFFIX}", guid_from(&key)));
            if let Err(e) = write_key_file(&path, &key) {
                return imds_error(
                    500,
                    "server_error",
                    &format!("cannot write the key file: {e}"),
                );
            }
            app.remember_arc_key(key, path.clone());
            imds_error(
                401,
                "invalid_request",
                "Unauthorized: read the key file named in WWW-Authenticate",
            )
            .header(
                "www-authenticate",
                format!("Basic realm={}", path.display()),
            )
        }
        Some(key) if app.knows_arc_key(key) => {
            let Some(principal) = app.directory.host_identity(&IdentitySelector::System) else {
                return imds_error(400, "invalid_request", "Identity not found");
            };
            match issue(app, principal, resource) {
                Ok(issued) => Response::json(200, &imds_body(&issued, principal, resource))
                    .issued(&principal.name, audience(resource)),
                Err(response) => response,
            }
        }
        Some(_) => imds_error(
            401,
            "invalid_request",
            "Unauthorized: the key does not match",
        ),
    }
}

/// Cloud Shell's `MSI_ENDPOINT`: POST a form with `resource`, `Metadata: true`.
pub(super) fn cloud_shell(app: &App, req: &Request) -> Response {
    if req.method != "POST" {
        return imds_error(
            405,
            "invalid_request",
            "The method is not allowed; use POST",
        );
    }
    if !req
        .header("metadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return imds_error(
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let form = req.form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(resource) = field("resource")
        .or_else(|| req.query("resource"))
        .filter(|r| !r.is_empty())
    else {
        return imds_error(
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    if ["client_id", "object_id", "msi_res_id"]
        .iter()
        .any(|k| field(k).is_some() || req.query(k).is_some())
    {
        return imds_error(
            400,
            "invalid_request",
            "User assigned identity is not supported by Cloud Shell",
        );
    }
    let Some(principal) = app.directory.host_identity(&IdentitySelector::System) else {
        return imds_error(400, "invalid_request", "Identity not found");
    };
    match issue(app, principal, resource) {
        Ok(issued) => Response::json(200, &imds_body(&issued, principal, resource))
            .issued(&principal.name, audience(resource)),
        Err(response) => response,
    }
}

/// Writes an Arc challenge key readable by this user only (0600): the agent
/// keeps its key files where only the users allowed to ask for tokens can
/// read them (Microsoft's "Authenticate against Azure resources with Azure
/// Arc-enabled servers" page), so a key is as good as a token.
fn write_key_file(path: &std::path::Path, key: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(key.as_bytes())
}
