//! Whether a Key Vault object exists and this identity may see it, without
//! reading its value: one `GET {vault}/{secrets|keys|certificates}/{name}/versions`
//! (the list of versions carries ids and attributes, never a value),
//! following `nextLink` past the empty pages Key Vault may answer first.

use dsops_config::model::KeyVaultObject;
use serde_json::Value;

use super::error::ServiceError;
use super::url::versions_url;
use crate::azure::http::{Address, Http, HttpError, Incoming};
use crate::azure::identity::AccessToken;

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The vault's name does not resolve.
    Dns,
    /// The TLS handshake failed (most often: a certificate not trusted).
    Tls,
    /// The connection was refused or reset.
    Connection,
    /// No answer in time.
    Timeout,
    /// Anything else.
    Other,
}

/// What Key Vault answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// 200: the object exists and may be listed; how many versions the
    /// first page that listed any listed.
    Exists {
        /// Versions listed (at most one is asked for).
        versions: usize,
    },
    /// 200 with no versions: the object does not exist (or no longer).
    NoVersions,
    /// 401: the token was refused (audience or tenant).
    Unauthorized {
        /// Key Vault's error (`AKV10022: Invalid audience...`).
        error: ServiceError,
        /// `resource` of the challenge: the audience the vault expects.
        resource: Option<String>,
        /// `authorization` of the challenge: the vault's tenant's authority.
        authority: Option<String>,
    },
    /// 403: the identity may not do this.
    Forbidden(ServiceError),
    /// 404: no such object (`SecretNotFound`...) or vault.
    NotFound(ServiceError),
    /// Any other status.
    Status {
        /// The HTTP status.
        status: u16,
        /// Key Vault's error, if the body is one.
        error: ServiceError,
    },
    /// No answer.
    Unreachable {
        /// Why.
        kind: Unreachable,
        /// The cause, one line (no URL query, no header).
        detail: String,
    },
}

impl ProbeOutcome {
    /// Whether the object exists and may be listed.
    pub fn is_ok(&self) -> bool {
        matches!(self, ProbeOutcome::Exists { .. })
    }
}

/// Pages of a versions list followed at most (Key Vault may answer empty
/// pages, each with a `nextLink`, before the first version).
const MAX_PAGES: usize = 20;

/// Lists the versions of `name` in the vault at `vault_url` with `token`
/// (one per page asked for), following `nextLink` past empty pages until one
/// lists a version: whether it exists and this identity may see it. Reads no
/// value.
pub(crate) async fn probe(
    http: &Http,
    vault_url: &str,
    object: KeyVaultObject,
    name: &str,
    token: &AccessToken,
) -> ProbeOutcome {
    let first = versions_url(vault_url, object, name);
    let mut url = first.clone();
    for _ in 0..MAX_PAGES {
        let response = match http.get_with_bearer(&url, &token.secret).await {
            Ok(response) => response,
            Err(error) => return unreachable(&error),
        };
        let status = response.status.as_u16();
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if !response.status.is_success() {
            return refusal(status, &response, &body);
        }
        match versions_page(&body) {
            Some((0, Some(next))) if same_vault(&first, &next) => url = next,
            Some((0, _)) => return ProbeOutcome::NoVersions,
            Some((versions, _)) => return ProbeOutcome::Exists { versions },
            None => {
                return ProbeOutcome::Status {
                    status,
                    error: ServiceError {
                        message: "the answer is not a Key Vault list of versions".to_owned(),
                        ..ServiceError::default()
                    },
                };
            }
        }
    }
    ProbeOutcome::NoVersions
}

/// A page of a Key Vault list: how many items it has, and its `nextLink`
/// (absent, `null` or empty: the last page). `None` if it is not a list.
pub(crate) fn versions_page(body: &Value) -> Option<(usize, Option<String>)> {
    let items = body.get("value")?.as_array()?;
    let next = body
        .get("nextLink")
        .and_then(Value::as_str)
        .filter(|link| !link.is_empty())
        .map(str::to_owned);
    Some((items.len(), next))
}

/// Whether `link` (a `nextLink`) goes to the vault `url` was sent to:
/// compared as parsed URLs, so that Key Vault's explicit `:443` equals no
/// port, and nothing else (another host, user information) carries the token.
pub(crate) fn same_vault(url: &str, link: &str) -> bool {
    match (Address::parse(url), Address::parse(link)) {
        (Some(a), Some(b)) => !b.has_userinfo() && a.same_origin(&b),
        _ => false,
    }
}

/// A non-2xx answer.
fn refusal(status: u16, response: &Incoming, body: &Value) -> ProbeOutcome {
    let error =
        ServiceError::from_json(body, response.status.canonical_reason().unwrap_or("error"));
    match status {
        401 => {
            let challenge = response
                .headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            ProbeOutcome::Unauthorized {
                error,
                resource: challenge_parameter(challenge, "resource"),
                authority: challenge_parameter(challenge, "authorization")
                    .or_else(|| challenge_parameter(challenge, "authorization_uri")),
            }
        }
        403 => ProbeOutcome::Forbidden(error),
        404 => ProbeOutcome::NotFound(error),
        _ => ProbeOutcome::Status { status, error },
    }
}

/// `name="value"` of a `WWW-Authenticate: Bearer ...` challenge.
pub(super) fn challenge_parameter(challenge: &str, name: &str) -> Option<String> {
    let challenge = challenge.trim();
    let params = challenge
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("bearer "))
        .map_or(challenge, |_| challenge.get(7..).unwrap_or_default());
    params.split(',').find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// A transport failure, classified from its cause chain.
fn unreachable(error: &HttpError) -> ProbeOutcome {
    let (kind, detail) = match error {
        HttpError::Timeout { after, .. } => (
            Unreachable::Timeout,
            format!("no answer within {} ms", after.as_millis()),
        ),
        HttpError::Transport { source, .. } => {
            // The transport error and its causes (none repeats the URL).
            let mut causes = Vec::new();
            let mut cause: Option<&dyn std::error::Error> = Some(source);
            while let Some(c) = cause {
                let text = c.to_string();
                if !causes.iter().any(|seen: &String| seen.contains(&text)) {
                    causes.push(text);
                }
                cause = c.source();
            }
            // hyper's "client error (Connect)" says less than what follows it.
            if causes.len() > 1
                && causes
                    .first()
                    .is_some_and(|c| c.starts_with("client error"))
            {
                causes.remove(0);
            }
            let detail = if causes.is_empty() {
                source.to_string()
            } else {
                causes.join(": ")
            };
            let lower = detail.to_ascii_lowercase();
            let kind = if lower.contains("dns error")
                || lower.contains("failed to lookup address")
                || lower.contains("name or service not known")
                || lower.contains("no such host")
                || lower.contains("nodename nor servname")
            {
                Unreachable::Dns
            } else if lower.contains("certificate")
                || lower.contains("tls")
                || lower.contains("handshake")
                || lower.contains("unknownissuer")
            {
                Unreachable::Tls
            } else if source.is_timeout() {
                Unreachable::Timeout
            } else if source.is_connect() || lower.contains("connection") {
                Unreachable::Connection
            } else {
                Unreachable::Other
            };
            (kind, detail)
        }
        other => (Unreachable::Other, other.to_string()),
    };
    ProbeOutcome::Unreachable { kind, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = r#"Bearer authorization="https://login.microsoftonline.com/t", resource="https://vault.azure.net""#;
        assert_eq!(
            challenge_parameter(c, "resource").as_deref(),
            Some("https://vault.azure.net")
        );
        assert_eq!(
            challenge_parameter(c, "authorization").as_deref(),
            Some("https://login.microsoftonline.com/t")
        );
        assert_eq!(challenge_parameter("", "resource"), None);
    }

    #[test]
    fn next_links_are_compared_as_urls() {
        let vault =
            "https://myvault.vault.azure.net/secrets/s/versions?maxresults=1&api-version=7.5";
        // Key Vault writes the default port; it is the same vault.
        assert!(same_vault(
            vault,
            "https://myvault.vault.azure.net:443/secrets/s/versions?api-version=7.5&$skiptoken=x"
        ));
        assert!(same_vault(
            "https://dev-vault.vault.localhost:8443/secrets/s/versions",
            "https://dev-vault.vault.localhost:8443/secrets/s/versions?$skiptoken=x"
        ));
        for elsewhere in [
            "https://myvault.vault.azure.net:444/secrets/s/versions",
            "http://myvault.vault.azure.net/secrets/s/versions",
            "https://other.vault.azure.net/secrets/s/versions",
            "https://evil@myvault.vault.azure.net/secrets/s/versions",
            "/secrets/s/versions",
        ] {
            assert!(!same_vault(vault, elsewhere), "{elsewhere}");
        }
    }

    #[test]
    fn pages_empty_null_and_absent_next_links() {
        let page = |v: &str| versions_page(&serde_json::from_str(v).unwrap());
        assert_eq!(
            page(r#"{"value":[],"nextLink":"https://x/y"}"#),
            Some((0, Some("https://x/y".to_owned())))
        );
        assert_eq!(page(r#"{"value":[{}],"nextLink":null}"#), Some((1, None)));
        assert_eq!(page(r#"{"value":[{}]}"#), Some((1, None)));
        assert_eq!(page(r#"{"value":[],"nextLink":""}"#), Some((0, None)));
        assert_eq!(page(r#"{"error":{}}"#), None);
    }
}
