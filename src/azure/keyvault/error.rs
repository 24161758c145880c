//! Key Vault's errors: the error body it answers with ([`ServiceError`]) and
//! why a read failed ([`KeyVaultError`]). No message ever holds a value.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::azure::http::HttpError;
use crate::azure::utc;

/// Key Vault's error body: `{"error": {"code", "message", "innererror": {"code"}}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceError {
    /// `Forbidden`, `SecretNotFound`, `Unauthorized`...
    pub code: Option<String>,
    /// `ForbiddenByRbac`, `ForbiddenByPolicy`, `ForbiddenByFirewall`, `SecretDisabled`...
    pub inner_code: Option<String>,
    /// The service's message (Key Vault's own text, which names no value).
    pub message: String,
}

impl ServiceError {
    /// Reads the error of a body (any bytes); `reason` (the status's reason
    /// phrase) is the message when the body has none.
    pub(crate) fn from_body(body: &[u8], reason: &str) -> Self {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        Self::from_json(&body, reason)
    }

    pub(crate) fn from_json(body: &Value, reason: &str) -> Self {
        let error = body.get("error");
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Self {
            code: text(error.and_then(|e| e.get("code"))),
            inner_code: text(
                error
                    .and_then(|e| e.get("innererror"))
                    .and_then(|e| e.get("code")),
            ),
            message: text(error.and_then(|e| e.get("message")))
                .unwrap_or_else(|| reason.to_owned()),
        }
    }
}

/// Why reading a secret, certificate or key failed.
///
/// Messages name no value; the caller adds which vault and object it was.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyVaultError {
    /// Key Vault answered with an error status: 401 (token refused), 403
    /// (`ForbiddenByRbac`...), 404 (`SecretNotFound`...), 429 after the
    /// retries...
    #[error(
        "Key Vault answered {status}{}{}: {message}",
        code.as_ref().map(|c| format!(" {c}")).unwrap_or_default(),
        inner_code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
    )]
    Status {
        /// The HTTP status.
        status: u16,
        /// Key Vault's error code (`Forbidden`, `SecretNotFound`...).
        code: Option<String>,
        /// Its inner error code (`ForbiddenByRbac`...).
        inner_code: Option<String>,
        /// The first line of Key Vault's message.
        message: String,
    },
    /// The object (or this version of it) is disabled: Key Vault's `403
    /// SecretDisabled`, or `attributes.enabled: false`.
    #[error("it is disabled in Key Vault (enable it, or name an enabled version)")]
    Disabled,
    /// `attributes.exp` has passed. Key Vault still serves it; dsops does not
    /// use it.
    #[error(
        "it expired at {} (Key Vault still serves it, dsops does not use it: set a new version or a later expiry)",
        utc::format(*at)
    )]
    Expired {
        /// `attributes.exp`.
        at: SystemTime,
    },
    /// `attributes.nbf` is still to come.
    #[error("it is not valid before {} (its not-before date)", utc::format(*from))]
    NotYetValid {
        /// `attributes.nbf`.
        from: SystemTime,
    },
    /// The vault answered 401 with a challenge for a resource whose domain
    /// is not the vault's: a host asking for a token it should not get (the
    /// look-alike-host leak the Azure SDKs guard against). No token is
    /// fetched for it and nothing is retried.
    #[error(
        "the vault's 401 challenge asks for a token for `{resource}`, which is not the domain of {vault_host}: refused"
    )]
    ChallengeMismatch {
        /// The challenge's `resource`.
        resource: String,
        /// The vault's host.
        vault_host: String,
    },
    /// The request got no answer (connection, TLS, timeout).
    #[error(transparent)]
    Transport(#[from] HttpError),
    /// The answer is not what Key Vault's API says (not JSON, no value, a
    /// PFX that cannot be read). Never echoes what was received.
    #[error("Key Vault's answer cannot be used: {0}")]
    Protocol(String),
    /// The certificate's content is not usable: no private key, no
    /// certificate, an encrypted key...
    #[error("{0}")]
    Certificate(String),
}

impl KeyVaultError {
    /// The HTTP status of a [`KeyVaultError::Status`].
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            KeyVaultError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The most precise code Key Vault gave: the inner code when there is one
    /// (`ForbiddenByRbac`), otherwise the code (`SecretNotFound`).
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            KeyVaultError::Status {
                code, inner_code, ..
            } => inner_code.as_deref().or(code.as_deref()),
            _ => None,
        }
    }

    /// The error of an answer with an error status.
    pub(crate) fn from_status(status: u16, reason: &str, body: &[u8]) -> Self {
        let error = ServiceError::from_body(body, reason);
        let disabled = error
            .inner_code
            .as_deref()
            .is_some_and(|c| c.ends_with("Disabled"));
        if status == 403 && disabled {
            return KeyVaultError::Disabled;
        }
        KeyVaultError::Status {
            status,
            code: error.code,
            inner_code: error.inner_code,
            message: first_line(&error.message).to_owned(),
        }
    }
}

/// The first line of a message, trimmed.
pub(crate) fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default().trim()
}

/// An epoch time of Key Vault's attributes (seconds).
pub(crate) fn from_epoch(seconds: i64) -> SystemTime {
    let span = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        SystemTime::UNIX_EPOCH
            .checked_add(span)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    } else {
        SystemTime::UNIX_EPOCH
            .checked_sub(span)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors() {
        let body = serde_json::json!({"error": {"code": "Forbidden", "message": "no", "innererror": {"code": "ForbiddenByRbac"}}});
        let e = ServiceError::from_json(&body, "Forbidden");
        assert_eq!(e.code.as_deref(), Some("Forbidden"));
        assert_eq!(e.inner_code.as_deref(), Some("ForbiddenByRbac"));
        assert_eq!(
            ServiceError::from_body(b"<html>", "Not Found").message,
            "Not Found"
        );
    }

    #[test]
    fn status_errors() {
        let body = br#"{"error":{"code":"Forbidden","message":"Caller is not authorized.\r\nCaller: appid=x\r\n","innererror":{"code":"ForbiddenByRbac"}}}"#;
        let e = KeyVaultError::from_status(403, "Forbidden", body);
        assert_eq!(e.status(), Some(403));
        assert_eq!(e.code(), Some("ForbiddenByRbac"));
        assert_eq!(
            e.to_string(),
            "Key Vault answered 403 Forbidden (ForbiddenByRbac): Caller is not authorized."
        );
        let disabled = br#"{"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}}"#;
        let e = KeyVaultError::from_status(403, "Forbidden", disabled);
        assert!(matches!(e, KeyVaultError::Disabled), "{e:?}");
        assert_eq!(e.status(), None);
        let e = KeyVaultError::from_status(502, "Bad Gateway", b"");
        assert_eq!(e.to_string(), "Key Vault answered 502: Bad Gateway");
        assert_eq!(e.code(), None);
    }

    #[test]
    fn times() {
        assert_eq!(
            utc::format(from_epoch(1_000_000_000)),
            "2001-09-09T01:46:40Z"
        );
        assert_eq!(utc::format(from_epoch(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            utc::format(from_epoch(1_767_225_600)),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(utc::format(from_epoch(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(utc::format(from_epoch(-86_400)), "1969-12-31T00:00:00Z");
    }
}
