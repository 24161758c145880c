//! Identity: where dsops gets its access tokens.
//!
//! Every way of getting a token is a [`TokenSource`]: the platform's managed
//! identity (IMDS, App Service, Azure Arc, Cloud Shell), workload identity
//! federation (AKS, GitHub Actions OIDC, other CIs' OIDC tokens), a service principal's client
//! secret, and the Azure CLI. A [`Chain`] tries the sources a store names
//! (or the default order) and keeps why each one was skipped or failed; a
//! [`TokenCache`] hands out one token per scope, fetched once however many
//! callers ask at the same time.
//!
//! All HTTP goes through the transport below ([`crate::azure::http`]). No
//! token, secret or assertion is ever logged or put in an error.

mod azure_cli;
mod cache;
mod chain;
mod ci;
mod claims;
mod client_secret;
mod entra;
mod error;
mod federated;
mod managed;
mod scope;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::SystemTime;

use secrecy::SecretString;

pub(crate) use chain::Chain;
pub(crate) use chain::chain_text;
pub use chain::{Attempt, AttemptOutcome, ChainError, DEFAULT_ORDER, GITHUB_AUDIENCE};
pub(crate) use claims::jwt_payload;
pub use claims::{FederatedToken, TokenClaims};
pub(crate) use error::SourceError;
#[cfg(test)]
pub(crate) use managed::ARC_TOKEN_DIR_VARIABLE;
#[cfg(test)]
pub(crate) use managed::parse_token;
pub use scope::Scope;

/// One source of a store's credential chain: its `fallback:` type
/// (`managed_identity`, `github_oidc`...) and what it is ("managed identity
/// via IMDS at http://169.254.169.254").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The `fallback:` type.
    pub kind: &'static str,
    /// What it is, for messages.
    pub description: String,
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
pub(crate) trait TokenSource: Send + Sync + fmt::Debug {
    /// The `fallback:` type this source is (`managed_identity`, `github_oidc`...).
    fn kind(&self) -> &'static str;

    /// What it is, for messages: "managed identity via IMDS at http://...".
    fn describe(&self) -> String;

    /// A token for `scope`. [`SourceError::Unavailable`] means "not here"
    /// (the chain moves on quietly); [`SourceError::Failed`] means it was
    /// tried and failed.
    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError>;

    /// For a federated source, what its token (the client assertion) says
    /// about itself, fetched anew; `None` for any other source.
    async fn federated_token(&self) -> Option<Result<FederatedToken, SourceError>> {
        None
    }

    /// For a managed identity endpoint: how it names a user-assigned
    /// identity that a SQL driver passes on (`UID` of ODBC). `None` for
    /// every other source.
    fn managed_host(&self) -> Option<ManagedHost> {
        None
    }
}

/// The managed identity endpoints, as SQL drivers treat them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ManagedHost {
    /// IMDS (virtual machines, scale sets, AKS nodes): ODBC's `UID` is sent
    /// as `object_id`.
    Imds,
    /// Azure Arc: ODBC's `UID` is an object id, as on IMDS.
    Arc,
    /// App Service and Functions: ODBC's `UID` is sent as `client_id`.
    AppService,
    /// Cloud Shell: no user-assigned identities.
    CloudShell,
}
