//! Identity: where dsops gets its access tokens.
//!
//! Every way of getting a token is a [`TokenSource`]: the platform's managed
//! identity (IMDS, App Service, Azure Arc, Cloud Shell), workload identity
//! federation (AKS, GitHub Actions OIDC), a service principal's client
//! secret, and the Azure CLI. A [`Chain`] tries the sources a store names
//! (or the default order) and keeps why each one was skipped or failed; a
//! [`TokenCache`] hands out one token per scope, fetched once however many
//! callers ask at the same time.
//!
//! All HTTP goes through [`Http`]: bounded retries with jittered backoff that
//! honour `Retry-After`, a per-request timeout and an overall deadline, the
//! CA bundle the user trusts, and the `debug` trace. No token, secret or
//! assertion is ever logged or put in an error.

mod azure_cli;
mod cache;
mod chain;
mod claims;
mod client_secret;
mod error;
mod federated;
mod http;
mod managed;
mod scope;
mod sdk;
mod trace;

use std::fmt;
use std::time::SystemTime;

use secrecy::SecretString;

pub use cache::TokenCache;
pub use chain::chain_text;
pub use chain::{Attempt, AttemptOutcome, Chain, ChainError, DEFAULT_ORDER, GITHUB_AUDIENCE};
pub use claims::TokenClaims;
pub use error::{IdentityError, SourceError};
pub use http::{Http, HttpOptions, RetryPolicy};
pub use managed::ARC_TOKEN_DIR_VARIABLE;
pub use scope::Scope;
pub use trace::Trace;

/// `DSOPS_TIMEOUT`: how long resolving may wait on one request with its
/// retries (default 60 s). `DSOPS_REQUEST_TIMEOUT`: how long one attempt
/// may take (default 15 s). Durations as in dsops.yaml (`10s`, `500ms`).
pub const TIMEOUT_VARIABLES: [&str; 2] = ["DSOPS_TIMEOUT", "DSOPS_REQUEST_TIMEOUT"];

/// Sets `options`' deadline and attempt timeout from [`TIMEOUT_VARIABLES`]
/// in `env`, when set; an unreadable value is an error naming it.
pub fn apply_timeouts(
    options: &mut HttpOptions,
    env: &dyn dsops_config::Environment,
) -> Result<(), String> {
    for name in TIMEOUT_VARIABLES {
        let Some(text) = env.var(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let duration = dsops_config::duration::parse_duration(text.trim())
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("{name}={text:?} is not a duration such as `30s` or `500ms`"))?;
        match name {
            "DSOPS_TIMEOUT" => options.deadline = duration,
            _ => options.request_timeout = duration,
        }
    }
    Ok(())
}

/// The HTTP settings of a store: its `cloud.ca_bundle` (relative to the
/// configuration file's directory `config_dir`) and its `debug` trace.
pub fn http_options_for_store(
    store: &dsops_config::model::Store,
    config_dir: &std::path::Path,
) -> Result<HttpOptions, IdentityError> {
    let ca_pem = match &store.cloud.ca_bundle {
        Some(path) => {
            let path = config_dir.join(path);
            Some(std::fs::read(&path).map_err(|source| IdentityError::Io {
                path: path.display().to_string(),
                source,
            })?)
        }
        None => None,
    };
    let debug = store.debug;
    Ok(HttpOptions {
        ca_pem,
        trace: if debug.enabled {
            Trace::stderr(debug.log_requests, debug.trace_identity)
        } else {
            Trace::off()
        },
        ..HttpOptions::default()
    })
}

/// An access token. `Debug` shows when it expires and whose it is, never the
/// token.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: SecretString,
    /// When it expires.
    pub expires_on: SystemTime,
    /// Claims read from it (not verified: for messages and `doctor` only).
    pub claims: TokenClaims,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[redacted]")
            .field("expires_on", &self.expires_on)
            .field("claims", &self.claims)
            .finish()
    }
}

impl AccessToken {
    /// A token with its claims read from the JWT (empty when it is not one).
    pub fn new(secret: SecretString, expires_on: SystemTime) -> Self {
        let claims = TokenClaims::read(&secret);
        Self {
            secret,
            expires_on,
            claims,
        }
    }
}

/// A way of getting tokens.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// The `fallback:` type this source is (`managed_identity`, `github_oidc`...).
    fn kind(&self) -> &'static str;

    /// What it is, for messages: "managed identity via IMDS at http://...".
    fn describe(&self) -> String;

    /// A token for `scope`. [`SourceError::Unavailable`] means "not here"
    /// (the chain moves on quietly); [`SourceError::Failed`] means it was
    /// tried and failed.
    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError>;
}
