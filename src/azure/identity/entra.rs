//! Entra ID's token endpoint, the Microsoft identity platform's v2
//! `{authority}/{tenant}/oauth2/v2.0/token`: the client credentials grant
//! (RFC 6749 §4.4) with a client secret or a client assertion (RFC 7521,
//! RFC 7523), as Microsoft's "client credentials flow" and "certificate
//! credentials" pages describe it. Both `client_secret` and federated
//! sources use it; it is the only code that talks to that endpoint.
//!
//! What `azure_identity` 1.0.0 (which dsops used before) did and dsops's
//! tests rely on is kept, and each place says which of its files it follows:
//! the tenant check, the HTTPS authority and how the URL is built (its
//! `lib.rs` and `client_secret_credential.rs`), the form fields
//! (`client_secret_credential.rs`, `client_assertion_credential.rs`), and
//! the answer's fields (`lib.rs`, `handle_entra_response`).
//!
//! The authority is always the one dsops computed (the store's `cloud:`,
//! else `AZURE_AUTHORITY_HOST`, else the public cloud's: see
//! `chain::Context::authority`): nothing here reads the environment. There
//! are no retries of its own and no token cache: requests go through
//! [`Http`] (retries honouring `Retry-After` within one deadline, the CA
//! bundle, the trace), and the chain's cache is the only one, so that the
//! store's `cache.token_cache` is obeyed.
//!
//! Secrets stay in [`SecretString`]; the form body is never logged or put
//! in an error, and is overwritten with zeros once sent. Errors keep
//! Entra's status, `AADSTS` code and the first part of its description,
//! never its trace and correlation ids, a request body or a token.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use dsops_config::model::{TRUSTED_AUTHORITY_VARIABLE, is_named_authority, trusted_authorities};

use super::error::IdentityError;
use super::{AccessToken, Scope};
use crate::azure::http::{Http, Outgoing, RetryOn, Route};

/// `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest service message kept in an error.
const MAX_MESSAGE: usize = 600;

/// How the client proves who it is.
#[derive(Clone, Copy)]
pub(crate) enum ClientCredential<'a> {
    /// `client_secret`.
    Secret(&'a SecretString),
    /// `client_assertion`: a JWT (a federated token).
    Assertion(&'a SecretString),
}

impl fmt::Debug for ClientCredential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientCredential::Secret(_) => "Secret([redacted])",
            ClientCredential::Assertion(_) => "Assertion([redacted])",
        })
    }
}

/// The token endpoint of one tenant, for one client.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    url: String,
    client_id: String,
}

impl TokenEndpoint {
    /// The endpoint of `tenant` at `authority` for `client_id`, checked as
    /// `azure_identity`'s credentials check them when made (`lib.rs`:
    /// `validate_tenant_id`, `validate_not_empty`, `get_authority_host`):
    /// the tenant, then the client id, then the authority.
    ///
    /// Then the authority must be a named cloud's Entra ID, or one that
    /// `trust` confirms: a client secret or an assertion sent to any other
    /// host is a credential handed to it (a GitHub assertion can be exchanged
    /// at the real Entra ID for minutes).
    pub(crate) fn new(
        authority: &str,
        tenant: &str,
        client_id: &str,
        trust: &AuthorityTrust,
    ) -> Result<Self, IdentityError> {
        check_tenant(tenant)?;
        if client_id.is_empty() {
            return Err(IdentityError::Config("no client ID specified".to_owned()));
        }
        let origin = authority_origin(authority)?;
        trust.check(&origin)?;
        Ok(Self {
            url: format!("{origin}/{}/oauth2/v2.0/token", path_segment(tenant)),
            client_id: client_id.to_owned(),
        })
    }

    /// The URL.
    #[cfg(test)]
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A token for `scope`: one POST (with [`Http`]'s retries), its answer read.
    pub(crate) async fn token(
        &self,
        http: &Http,
        scope: &Scope,
        credential: ClientCredential<'_>,
    ) -> Result<AccessToken, IdentityError> {
        let request = SentForm(Outgoing::post_form(
            self.url.as_str(),
            &self.form(scope, credential),
        ));
        let response = http
            .send(Route::Remote, &request.0, RetryOn::SERVICE)
            .await?;
        drop(request);
        if !response.status.is_success() {
            return Err(error_answer(
                &self.url,
                response.status.as_u16(),
                response.status.canonical_reason(),
                &response.body,
            ));
        }
        read_token(&self.url, &response.body)
    }

    /// The form, field for field as `azure_identity` sends it
    /// (`client_secret_credential.rs`, `client_assertion_credential.rs`:
    /// `get_token_impl`).
    fn form<'a>(
        &'a self,
        scope: &'a Scope,
        credential: ClientCredential<'a>,
    ) -> Vec<(&'a str, &'a str)> {
        let client_id = ("client_id", self.client_id.as_str());
        let grant = ("grant_type", "client_credentials");
        let scope = ("scope", scope.as_str());
        match credential {
            ClientCredential::Secret(secret) => vec![
                client_id,
                ("client_secret", secret.expose_secret()),
                grant,
                scope,
            ],
            ClientCredential::Assertion(assertion) => vec![
                ("client_assertion", assertion.expose_secret()),
                ("client_assertion_type", ASSERTION_TYPE),
                client_id,
                grant,
                scope,
            ],
        }
    }
}

/// A request whose body holds a secret or an assertion: the body is
/// overwritten with zeros when this is dropped (sent, failed or cancelled),
/// where the transport no longer shares the buffer.
struct SentForm(Outgoing);

impl Drop for SentForm {
    fn drop(&mut self) {
        use secrecy::zeroize::Zeroize;
        if let Some(body) = self.0.body.take()
            && let Ok(mut unique) = body.try_into_mut()
        {
            unique.as_mut().zeroize();
        }
    }
}

/// `azure_identity`'s tenant check (`lib.rs`, `validate_tenant_id`): not
/// empty, only alphanumerics, `.` and `-`; and, since the tenant is a path
/// segment, not `.` or `..` (which the URL would resolve away).
fn check_tenant(tenant: &str) -> Result<(), IdentityError> {
    let valid = !tenant.is_empty()
        && tenant != "."
        && tenant != ".."
        && tenant
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(IdentityError::Config(format!(
            "invalid tenant ID {tenant}. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names"
        )))
    }
}

/// A checked tenant as a path segment: ASCII as it is, any other
/// (alphanumeric) character percent-encoded as UTF-8, as `url` encodes a
/// path.
fn path_segment(tenant: &str) -> Cow<'_, str> {
    if tenant.is_ascii() {
        return Cow::Borrowed(tenant);
    }
    let mut segment = String::with_capacity(tenant.len() * 3);
    for byte in tenant.bytes() {
        if byte.is_ascii() {
            segment.push(char::from(byte));
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    Cow::Owned(segment)
}

/// An Entra ID authority as the chain computed it, with the authorities the
/// process environment confirms: what every source that sends a client
/// secret or an assertion is built with, so that none can skip the check.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    /// The authority host URL (the store's `cloud:`, `AZURE_AUTHORITY_HOST`
    /// or the public cloud's).
    pub(crate) url: String,
    /// Which authorities may receive credentials.
    pub(crate) trust: AuthorityTrust,
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Which Entra ID authorities may receive a client secret or an assertion:
/// the named clouds' (`login.microsoftonline.com`, `login.chinacloudapi.cn`,
/// `login.microsoftonline.us`), and those the process environment confirms
/// in `DSOPS_TRUSTED_AUTHORITY` (set by the job, never by `dsops.yaml`).
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthorityTrust {
    confirmed: Vec<String>,
}

impl AuthorityTrust {
    /// The authorities `env` confirms.
    pub(crate) fn from_env(env: &dyn dsops_config::Environment) -> Self {
        Self {
            confirmed: env
                .var(TRUSTED_AUTHORITY_VARIABLE)
                .map(|value| trusted_authorities(&value))
                .unwrap_or_default(),
        }
    }

    /// Only the named clouds.
    #[cfg(test)]
    pub(crate) fn named_only() -> Self {
        Self::default()
    }

    /// Trust exactly these authorities besides the named clouds.
    #[cfg(test)]
    pub(crate) fn confirming(authorities: &[&str]) -> Self {
        Self {
            confirmed: authorities
                .iter()
                .map(|a| dsops_config::model::normalise_origin(a))
                .collect(),
        }
    }

    /// Whether `origin` (from [`authority_origin`]) may receive credentials.
    pub(crate) fn allows(&self, origin: &str) -> bool {
        is_named_authority(origin) || self.confirmed.iter().any(|c| c == origin)
    }

    fn check(&self, origin: &str) -> Result<(), IdentityError> {
        if self.allows(origin) {
            return Ok(());
        }
        Err(IdentityError::Config(format!(
            "the authority host {origin} is not a named cloud's Entra ID, and dsops sends client secrets and federated assertions only there unless the job confirms it: set {TRUSTED_AUTHORITY_VARIABLE}={origin} in the job's environment (dsops.yaml cannot)"
        )))
    }
}

/// `https://host[:port]` of the authority, as `azure_identity` builds the
/// token URL (`client_secret_credential.rs`: `authority_host.join("/{tenant}
/// /oauth2/v2.0/token")`, with `url`'s rules): the scheme must be HTTPS
/// (`lib.rs`, `get_authority_host`); the host is lowercased and the default
/// port dropped; a path, query or fragment of the authority is replaced by
/// the tenant's path. Unlike `url`, user information is refused (it would
/// be sent to Entra ID and shown in messages) and so is a host that is not
/// ASCII (give its punycode form).
fn authority_origin(authority: &str) -> Result<String, IdentityError> {
    let authority = authority.trim();
    // An authority with user information is not repeated: it may hold a password.
    let shown = if authority.contains('@') {
        "(not shown: it holds user information)"
    } else {
        authority
    };
    let not_a_url = |problem: &str| {
        IdentityError::Config(format!(
            "the authority host {shown} is not a URL: {problem}"
        ))
    };
    let Some((scheme, rest)) = authority.split_once(':') else {
        return Err(not_a_url("no scheme (https://)"));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(not_a_url("no scheme (https://)"));
    }
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(IdentityError::Config(format!(
            "authority host doesn't use HTTPS scheme: {shown}"
        )));
    }
    // `url` skips any slashes after a special scheme's colon.
    let rest = rest.trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let host_port = rest.get(..end).unwrap_or_default();
    if host_port.contains('@') {
        return Err(not_a_url("it holds user information (`user@`)"));
    }
    let (host, port) =
        split_host_port(host_port).ok_or_else(|| not_a_url("an invalid IPv6 address"))?;
    if host.is_empty() {
        return Err(not_a_url("no host"));
    }
    let is_ipv6 = host.starts_with('[');
    if !is_ipv6
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(not_a_url("the host has characters a host name cannot have"));
    }
    let host = host.to_ascii_lowercase();
    let port = match port {
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => match digits.parse::<u16>() {
            Ok(443) => None,
            Ok(port) => Some(port),
            Err(_) => return Err(not_a_url("an invalid port number")),
        },
        Some(_) => return Err(not_a_url("an invalid port number")),
    };
    Ok(match port {
        Some(port) => format!("https://{host}:{port}"),
        None => format!("https://{host}"),
    })
}

/// `host[:port]` or `[v6]:port` as its host (brackets kept) and port;
/// `None` for a bracketed host that is not an IPv6 address.
fn split_host_port(host_port: &str) -> Option<(&str, Option<&str>)> {
    if !host_port.starts_with('[') {
        return Some(match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        });
    }
    let close = host_port.find(']')?;
    let (host, after) = host_port.split_at(close + 1);
    let address = host.get(1..close)?;
    if address.is_empty()
        || !address
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
    {
        return None;
    }
    match after {
        "" => Some((host, None)),
        _ => Some((host, Some(after.strip_prefix(':')?))),
    }
}

/// A success answer: `access_token`, `expires_in` (seconds, a number or a
/// string of digits) and `token_type` (`Bearer`). Borrowed from the body
/// where it has no escapes, so that the token is copied only into a
/// [`SecretString`].
#[derive(Deserialize)]
struct TokenAnswer<'a> {
    #[serde(borrow, default)]
    access_token: Option<Cow<'a, str>>,
    #[serde(default)]
    expires_in: Option<Value>,
    #[serde(borrow, default)]
    token_type: Option<Cow<'a, str>>,
}

/// Why a body is not the JSON object looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotAnObject {
    /// JSON, but not an object, or not of that shape.
    Json,
    /// Not JSON at all.
    NotJson,
}

/// `body` as `T` when it is a JSON object (serde would also read a
/// struct from an array, field by field), without keeping serde's message,
/// which may quote the body.
pub(super) fn json_object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, NotAnObject> {
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    match serde_json::from_slice::<T>(body) {
        Ok(value) if is_object => Ok(value),
        Err(e) if !e.is_data() => Err(NotAnObject::NotJson),
        _ if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => {
            Err(NotAnObject::Json)
        }
        _ => Err(NotAnObject::NotJson),
    }
}

/// Reads a success answer of `endpoint`. Stricter than `azure_identity`
/// (`lib.rs`, `EntraIdTokenResponse`, whose fields default to empty and
/// zero): a token answer without a token or a lifetime, or of another type
/// than `Bearer`, is an error. `expires_in` may be a string of digits, as
/// in Entra's v1 answers and ADFS's.
fn read_token(endpoint: &str, body: &[u8]) -> Result<AccessToken, IdentityError> {
    let protocol = |problem: String| IdentityError::Protocol {
        endpoint: endpoint.to_owned(),
        problem,
    };
    // serde's messages may quote the body: none is kept.
    let answer: TokenAnswer<'_> = json_object(body).map_err(|e| {
        protocol(match e {
            NotAnObject::Json => {
                "not a token answer (`access_token`, `expires_in`, `token_type`)".to_owned()
            }
            NotAnObject::NotJson => "not JSON".to_owned(),
        })
    })?;
    if let Some(kind) = &answer.token_type
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(protocol(format!(
            "the token is of type `{}`, not `Bearer`",
            shorten(kind)
        )));
    }
    let seconds = match &answer.expires_in {
        None => return Err(protocol("no expires_in".to_owned())),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        }
        Some(_) => None,
    }
    .ok_or_else(|| protocol("expires_in is not a number of seconds".to_owned()))?;
    let expires_on = SystemTime::now()
        .checked_add(Duration::from_secs(seconds))
        .ok_or_else(|| protocol("expires_in is out of range".to_owned()))?;
    let token = match answer.access_token {
        Some(token) if !token.trim().is_empty() => token,
        _ => return Err(protocol("no access_token".to_owned())),
    };
    Ok(AccessToken::new(
        SecretString::from(token.into_owned()),
        expires_on,
    ))
}

/// An error answer of `endpoint` (`reason`: the status's canonical reason
/// phrase). A body that is not a JSON object (a proxy's page, say) keeps the
/// status and says so; otherwise [`status_error`].
fn error_answer(endpoint: &str, status: u16, reason: Option<&str>, body: &[u8]) -> IdentityError {
    let reason = reason.unwrap_or("error");
    match serde_json::from_slice::<Value>(body) {
        Ok(body @ Value::Object(_)) => status_error(endpoint, status, reason, &body),
        _ => IdentityError::Status {
            endpoint: endpoint.to_owned(),
            status,
            code: None,
            message: format!("{reason} (the body is not JSON)"),
        },
    }
}

/// Entra ID's error answer as [`IdentityError::Status`]: its status, its
/// `AADSTS` code and the first part of its description. Entra's body is
/// `{"error": "invalid_client", "error_description": "AADSTS7000215: ...
/// Trace ID: ... Correlation ID: ... Timestamp: ...", "error_codes":
/// [7000215], "trace_id": ..., "correlation_id": ...}`; other services (and
/// the emulator's injected faults) answer `{"error": {"code": ..., "message":
/// ...}}`. The code is, in this order: the `AADSTSnnnn:` prefix of the
/// description, the first of `error_codes`, `error` (or `error.code`), all of
/// `error_codes` (as `azure_identity`'s `handle_entra_response` joins them);
/// the message is the description (or `error.message`, or `message`), else
/// the status's reason.
fn status_error(endpoint: &str, status: u16, reason: &str, body: &Value) -> IdentityError {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
    };
    let codes: Vec<i64> = body
        .get("error_codes")
        .and_then(Value::as_array)
        .map(|codes| codes.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let first_code = body
        .get("error_codes")
        .and_then(Value::as_array)
        .and_then(|codes| codes.first())
        .and_then(Value::as_u64)
        .map(|code| format!("AADSTS{code}"));
    let (mut code, description) = match body.get("error") {
        Some(Value::Object(e)) => (text(e.get("code")), text(e.get("message"))),
        Some(Value::String(error)) => (
            first_code.or_else(|| Some(error.clone())),
            text(body.get("error_description")),
        ),
        _ => (
            first_code,
            text(body.get("error_description")).or_else(|| text(body.get("message"))),
        ),
    };
    let mut message = description.map(|d| clean_description(&d));
    // "AADSTS7000215: Invalid client secret ..." names its own code.
    if let Some(m) = &message
        && let Some((prefix, rest)) = m.split_once(": ")
        && let Some(digits) = prefix.strip_prefix("AADSTS")
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        code = Some(prefix.to_owned());
        message = Some(rest.to_owned());
    }
    let code = code.or_else(|| {
        let joined = codes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        match joined.as_str() {
            "" => None,
            digits if digits.bytes().all(|b| b.is_ascii_digit()) => Some(format!("AADSTS{digits}")),
            other => Some(other.to_owned()),
        }
    });
    let message = message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| reason.to_owned());
    IdentityError::Status {
        endpoint: endpoint.to_owned(),
        status,
        code,
        message,
    }
}

/// An `error_description` without what follows the message: Entra appends
/// `Trace ID`, `Correlation ID` and `Timestamp` (after a line break), which
/// change at every request and help only Microsoft support.
fn clean_description(description: &str) -> String {
    let mut end = description.len();
    for marker in ["\r", "\n", "Trace ID:", "Correlation ID:", "Timestamp:"] {
        if let Some(i) = description.find(marker) {
            end = end.min(i);
        }
    }
    shorten(description.get(..end).unwrap_or(description).trim())
}

/// At most [`MAX_MESSAGE`] bytes, cut at a character boundary.
fn shorten(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(error: IdentityError) -> String {
        error.to_string()
    }

    /// An error answer of `e` with the reason phrase of `status`.
    fn answer(status: u16, body: &str) -> String {
        let reason = match status {
            400 => "Bad Request",
            401 => "Unauthorized",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Other",
        };
        display(error_answer("e", status, Some(reason), body.as_bytes()))
    }

    /// Trusts the hosts these tests use.
    fn trusting() -> AuthorityTrust {
        AuthorityTrust::confirming(&[
            "https://h",
            "https://127.0.0.1:8443",
            "https://login.example",
            "https://[::1]:8443",
        ])
    }

    #[test]
    fn credentials_go_only_to_named_clouds_or_confirmed_authorities() {
        let named = AuthorityTrust::named_only();
        for authority in [
            "https://login.microsoftonline.com",
            "https://login.chinacloudapi.cn/",
            "https://LOGIN.microsoftonline.us:443",
        ] {
            assert!(
                TokenEndpoint::new(authority, "t", "c", &named).is_ok(),
                "{authority}"
            );
        }
        for authority in [
            "https://attacker.example",
            "https://127.0.0.1:8443",
            "https://login.microsoftonline.com.evil.example",
        ] {
            let text = config(TokenEndpoint::new(authority, "t", "c", &named));
            assert!(text.contains("DSOPS_TRUSTED_AUTHORITY="), "{text}");
        }
        let env: std::collections::HashMap<String, String> = [(
            "DSOPS_TRUSTED_AUTHORITY".to_owned(),
            "https://Attacker.example:443/".to_owned(),
        )]
        .into();
        let confirmed = AuthorityTrust::from_env(&env);
        assert!(TokenEndpoint::new("https://attacker.example", "t", "c", &confirmed).is_ok());
        assert!(TokenEndpoint::new("https://other.example", "t", "c", &confirmed).is_err());
    }

    fn config(error: Result<TokenEndpoint, IdentityError>) -> String {
        match error {
            Err(IdentityError::Config(text)) => text,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    fn url(authority: &str, tenant: &str) -> String {
        TokenEndpoint::new(authority, tenant, "c", &trusting())
            .expect("a valid endpoint")
            .url()
            .to_owned()
    }

    #[test]
    fn the_url_is_the_authoritys_origin_and_the_tenants_path() {
        assert_eq!(
            url(
                "https://login.microsoftonline.com",
                "contoso.onmicrosoft.com"
            ),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            url(
                "https://127.0.0.1:8443/",
                "72f988bf-86f1-41af-91ab-2d7cd011db47"
            ),
            "https://127.0.0.1:8443/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        );
        // As `url`'s join: the host lowercased, the default port dropped, and
        // a path, query or fragment replaced.
        assert_eq!(
            url("HTTPS://Login.Example:443/some/path?x=1#f", "t"),
            "https://login.example/t/oauth2/v2.0/token"
        );
        assert_eq!(
            url("https://[::1]:8443", "t"),
            "https://[::1]:8443/t/oauth2/v2.0/token"
        );
        assert_eq!(
            url("https://h", "tenänt"),
            "https://h/ten%C3%A4nt/oauth2/v2.0/token"
        );
    }

    #[test]
    fn the_tenant_client_id_and_authority_are_checked_as_azure_identity_checks_them() {
        for tenant in ["", "a/b", "a b", "x@y", "a_b", ".", ".."] {
            let text = config(TokenEndpoint::new("https://h", tenant, "c", &trusting()));
            assert!(
                text.starts_with(&format!("invalid tenant ID {tenant}.")),
                "{text}"
            );
        }
        assert_eq!(
            config(TokenEndpoint::new("https://h", "t", "", &trusting())),
            "no client ID specified"
        );
        assert_eq!(
            config(TokenEndpoint::new(
                "http://127.0.0.1:9",
                "t",
                "c",
                &trusting()
            )),
            "authority host doesn't use HTTPS scheme: http://127.0.0.1:9"
        );
        assert_eq!(
            config(TokenEndpoint::new("localhost:8443", "t", "c", &trusting())),
            "authority host doesn't use HTTPS scheme: localhost:8443"
        );
        // A password is never repeated.
        assert_eq!(
            config(TokenEndpoint::new(
                "https://user:pw@h",
                "t",
                "c",
                &trusting()
            )),
            "the authority host (not shown: it holds user information) is not a URL: it holds user information (`user@`)"
        );
        for (authority, problem) in [
            ("login.microsoftonline.com", "no scheme (https://)"),
            ("https://", "no host"),
            ("https://h:99999", "an invalid port number"),
            ("https://h:+1", "an invalid port number"),
            (
                "https://hö",
                "the host has characters a host name cannot have",
            ),
            (
                "https://h:1:2",
                "the host has characters a host name cannot have",
            ),
            ("https://[zz]:1", "an invalid IPv6 address"),
            ("https://[::1]x", "an invalid IPv6 address"),
        ] {
            assert_eq!(
                config(TokenEndpoint::new(authority, "t", "c", &trusting())),
                format!("the authority host {authority} is not a URL: {problem}")
            );
        }
    }

    #[test]
    fn the_form_has_azure_identitys_fields() {
        let endpoint = TokenEndpoint::new("https://h", "t", "client", &trusting()).expect("valid");
        let scope = Scope::for_resource("https://vault.azure.net");
        let secret = SecretString::from("s");
        assert_eq!(
            endpoint.form(&scope, ClientCredential::Secret(&secret)),
            [
                ("client_id", "client"),
                ("client_secret", "s"),
                ("grant_type", "client_credentials"),
                ("scope", "https://vault.azure.net/.default"),
            ]
        );
        let assertion = SecretString::from("eyJ.a.b");
        assert_eq!(
            endpoint.form(&scope, ClientCredential::Assertion(&assertion)),
            [
                ("client_assertion", "eyJ.a.b"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_id", "client"),
                ("grant_type", "client_credentials"),
                ("scope", "https://vault.azure.net/.default"),
            ]
        );
        let text = format!(
            "{:?} {:?}",
            ClientCredential::Secret(&secret),
            ClientCredential::Assertion(&assertion)
        );
        assert!(!text.contains("eyJ") && !text.contains("\"s\""), "{text}");
    }

    #[test]
    fn expires_in_is_a_number_or_a_string_of_digits() {
        for body in [
            r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#,
            r#"{"token_type":"Bearer","expires_in":"3599","access_token":"eyJ0"}"#,
            r#"{"token_type":"bearer","expires_in":" 3599 ","access_token":"eyJ0"}"#,
            r#"{"expires_in":3599,"access_token":"eyJ0"}"#,
        ] {
            let token = read_token("e", body.as_bytes()).expect(body);
            assert_eq!(token.secret.expose_secret(), "eyJ0");
            let left = token
                .expires_on
                .duration_since(SystemTime::now())
                .expect("not expired");
            assert!(
                left > Duration::from_secs(3590) && left <= Duration::from_secs(3599),
                "{left:?}"
            );
        }
    }

    #[test]
    fn token_answers_without_a_token_or_a_lifetime_are_errors_that_show_no_body() {
        for (body, problem) in [
            (
                r#"{"expires_in":3599,"token_type":"Bearer"}"#,
                "no access_token",
            ),
            (
                r#"{"access_token":"","expires_in":3599}"#,
                "no access_token",
            ),
            (
                r#"{"access_token":"CANARY-t","token_type":"Bearer"}"#,
                "no expires_in",
            ),
            (
                r#"{"access_token":"CANARY-t","expires_in":"soon"}"#,
                "expires_in is not a number of seconds",
            ),
            (
                r#"{"access_token":"CANARY-t","expires_in":-1}"#,
                "expires_in is not a number of seconds",
            ),
            (
                r#"{"access_token":"CANARY-t","expires_in":"99999999999999999999"}"#,
                "expires_in is not a number of seconds",
            ),
            (
                r#"{"access_token":"CANARY-t","expires_in":18446744073709551615}"#,
                "expires_in is out of range",
            ),
            (
                r#"{"access_token":"CANARY-t","expires_in":3599,"token_type":"pop"}"#,
                "the token is of type `pop`, not `Bearer`",
            ),
            (
                r#"{"access_token":7,"expires_in":3599}"#,
                "not a token answer (`access_token`, `expires_in`, `token_type`)",
            ),
            (
                r#"["CANARY-t"]"#,
                "not a token answer (`access_token`, `expires_in`, `token_type`)",
            ),
            (
                r#"["CANARY-t", 3599, "Bearer"]"#,
                "not a token answer (`access_token`, `expires_in`, `token_type`)",
            ),
            ("CANARY-t", "not JSON"),
            (r#"{"access_token":"CANARY-t""#, "not JSON"),
        ] {
            let text = match read_token("e", body.as_bytes()) {
                Err(error) => display(error),
                Ok(token) => panic!("{body} gave {token:?}"),
            };
            assert_eq!(
                text,
                format!("e answered with an unexpected body: {problem}")
            );
        }
    }

    #[test]
    fn entra_errors_keep_the_code_and_message_without_trace_ids() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret is right.\r\nTrace ID: 1234 Correlation ID: 5678 Timestamp: 2025-01-01 00:00:00Z","error_codes":[7000215],"trace_id":"1234","correlation_id":"5678"}"#;
        let text = display(error_answer(
            "https://login/t/oauth2/v2.0/token",
            401,
            Some("Unauthorized"),
            body.as_bytes(),
        ));
        assert_eq!(
            text,
            "https://login/t/oauth2/v2.0/token answered 401 AADSTS7000215: Invalid client secret provided. Ensure the secret is right."
        );
        // On one line, as the emulator and Entra also send it.
        let body = r#"{"error":"invalid_client","error_description":"AADSTS700024: Client assertion is not within its valid time range. Current time: 1. Trace ID: 12 Correlation ID: 34 Timestamp: 5","error_codes":[700024]}"#;
        assert_eq!(
            answer(400, body),
            "e answered 400 AADSTS700024: Client assertion is not within its valid time range. Current time: 1."
        );
    }

    #[test]
    fn entra_errors_without_a_prefix_use_error_codes_then_error() {
        assert_eq!(
            answer(
                400,
                r#"{"error":"invalid_scope","error_codes":[1002012],"error_description":"The scope is bad."}"#
            ),
            "e answered 400 AADSTS1002012: The scope is bad."
        );
        assert_eq!(
            answer(400, r#"{"error":"invalid_request"}"#),
            "e answered 400 invalid_request: Bad Request"
        );
        assert_eq!(
            answer(
                503,
                r#"{"error":{"code":"InjectedFault","message":"down"}}"#
            ),
            "e answered 503 InjectedFault: down"
        );
        assert_eq!(
            answer(502, r#"{"error_codes":[7000]}"#),
            "e answered 502 AADSTS7000: Bad Gateway"
        );
        // `error` an object without a code: `error_codes` joined, as
        // `azure_identity` reported them.
        assert_eq!(
            answer(400, r#"{"error":{"message":"m"},"error_codes":[1,2]}"#),
            "e answered 400 1,2: m"
        );
    }

    #[test]
    fn an_error_body_without_error_codes_keeps_error_and_its_description() {
        assert_eq!(
            answer(
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed.\r\nTrace ID: 1"}"#
            ),
            "e answered 401 invalid_client: Client authentication failed."
        );
        assert_eq!(
            answer(
                400,
                r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found. Trace ID: 1"}"#
            ),
            "e answered 400 AADSTS90002: Tenant 'x' not found."
        );
        assert_eq!(
            answer(500, r#"{"message":"went wrong"}"#),
            "e answered 500: went wrong"
        );
        assert_eq!(answer(500, "{}"), "e answered 500: Other");
    }

    #[test]
    fn a_non_json_error_keeps_its_status() {
        for body in ["<html>Bad Request</html>", "", "[1]", "\"x\"", "{\"error\""] {
            assert_eq!(
                answer(400, body),
                "e answered 400: Bad Request (the body is not JSON)",
                "{body}"
            );
        }
        assert_eq!(
            display(error_answer("e", 599, None, b"x")),
            "e answered 599: error (the body is not JSON)"
        );
    }

    #[test]
    fn long_messages_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(400);
        let short = shorten(&long);
        assert!(
            short.len() <= MAX_MESSAGE + 3 && short.ends_with("..."),
            "{}",
            short.len()
        );
    }
}
