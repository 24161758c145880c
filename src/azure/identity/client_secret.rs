//! A service principal's client secret (`service_principal`, `environment`),
//! exchanged at Entra ID's token endpoint ([`entra`](super::entra)).
//!
//! No token is kept here: the chain's cache is the only one, so the store's
//! `cache.token_cache` (`enabled: false`, a longer `buffer`) is obeyed.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::entra::{Authority, ClientCredential, TokenEndpoint};
use super::error::{IdentityError, SourceError};
use super::{AccessToken, Scope, TokenSource};
use crate::azure::http::Http;

/// Client credentials with a secret.
pub(crate) struct ClientSecret {
    kind: &'static str,
    client_id: String,
    tenant: String,
    authority: String,
    endpoint: TokenEndpoint,
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
    /// Checks the tenant, the client id, the authority and that there is a
    /// secret (as `azure_identity`'s `ClientSecretCredential::new` did);
    /// sends nothing.
    pub(crate) fn new(
        kind: &'static str,
        http: &Http,
        authority: &Authority,
        tenant: &str,
        client_id: &str,
        secret: SecretString,
    ) -> Result<Self, IdentityError> {
        let endpoint = TokenEndpoint::new(&authority.url, tenant, client_id, &authority.trust)?;
        if secret.expose_secret().is_empty() {
            return Err(IdentityError::Config("no secret specified".to_owned()));
        }
        Ok(Self {
            kind,
            client_id: client_id.to_owned(),
            tenant: tenant.to_owned(),
            authority: authority.url.clone(),
            endpoint,
            http: http.clone(),
            secret,
        })
    }
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
        let credential = ClientCredential::Secret(&self.secret);
        Ok(self.endpoint.token(&self.http, scope, credential).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::http::HttpOptions;

    #[test]
    fn an_empty_secret_is_refused_and_debug_shows_no_secret() {
        let http = Http::new(HttpOptions::default()).expect("Http builds");
        let made = |secret: &str| {
            ClientSecret::new(
                "service_principal",
                &http,
                &Authority {
                    url: "https://login.microsoftonline.com".to_owned(),
                    trust: crate::azure::identity::entra::AuthorityTrust::named_only(),
                },
                "contoso.onmicrosoft.com",
                "client",
                SecretString::from(secret),
            )
        };
        assert!(
            matches!(made(""), Err(IdentityError::Config(ref m)) if m == "no secret specified")
        );
        let source = made("CANARY-secret").expect("a source");
        let text = format!("{source:?}");
        assert!(!text.contains("CANARY"), "{text}");
        assert_eq!(
            source.endpoint.url(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
    }
}
