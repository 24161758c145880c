//! A service principal's client secret (`service_principal`, `environment`),
//! through `azure_identity`'s `ClientSecretCredential` over [`Http`].
//!
//! A credential is made for each token request: `azure_identity`'s
//! credentials keep their own token cache (refreshing 5 minutes before
//! expiry), which would override the store's `cache.token_cache` (`enabled:
//! false`, a longer `buffer`). The chain's cache is the only one; making a
//! credential costs no request.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use secrecy::{ExposeSecret, SecretString};

use super::error::{IdentityError, SourceError};
use super::{AccessToken, Scope, TokenSource, sdk};
use crate::azure::http::Http;

/// Client credentials with a secret.
pub(crate) struct ClientSecret {
    kind: &'static str,
    client_id: String,
    tenant: String,
    authority: String,
    endpoint: String,
    http: Http,
    secret: SecretString,
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("tenant", &self.tenant)
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl ClientSecret {
    pub(crate) fn new(
        kind: &'static str,
        http: &Http,
        authority: &str,
        tenant: &str,
        client_id: &str,
        secret: SecretString,
    ) -> Result<Self, IdentityError> {
        let source = Self {
            kind,
            client_id: client_id.to_owned(),
            tenant: tenant.to_owned(),
            authority: authority.to_owned(),
            endpoint: sdk::token_endpoint(authority, tenant),
            http: http.clone(),
            secret,
        };
        // The SDK checks the tenant, the client id and the authority here.
        source.credential()?;
        Ok(source)
    }

    fn credential(&self) -> Result<Arc<ClientSecretCredential>, IdentityError> {
        let options = ClientSecretCredentialOptions {
            client_options: sdk::client_options(&self.http, &self.authority),
        };
        ClientSecretCredential::new(
            &self.tenant,
            self.client_id.clone(),
            Secret::new(self.secret.expose_secret().to_owned()),
            Some(options),
        )
        .map_err(|e| sdk::identity_error(e, &self.endpoint))
    }
}

/// The SDK's token as ours.
pub(crate) fn from_sdk_token(token: azure_core::credentials::AccessToken) -> AccessToken {
    let secret = SecretString::from(token.token.secret().to_owned());
    AccessToken::new(secret, SystemTime::from(token.expires_on))
}

#[async_trait::async_trait]
impl TokenSource for ClientSecret {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn describe(&self) -> String {
        format!(
            "service principal {} in tenant {} at {}",
            self.client_id, self.tenant, self.authority
        )
    }

    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError> {
        match self.credential()?.get_token(&[scope.as_str()], None).await {
            Ok(token) => Ok(from_sdk_token(token)),
            Err(error) => Err(SourceError::Failed(sdk::identity_error(
                error,
                &self.endpoint,
            ))),
        }
    }
}
