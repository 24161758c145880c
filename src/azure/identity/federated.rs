//! Workload identity federation: a client assertion from a projected token
//! file (AKS) or from GitHub Actions' OIDC endpoint, exchanged at Entra ID
//! through `azure_identity`'s `ClientAssertionCredential` over [`Http`].
//!
//! The assertion is fetched anew for every exchange: the token file is read
//! each time, so a rotated token is used at once (`azure_identity`'s
//! `WorkloadIdentityCredential` keeps the file's content for ten minutes),
//! and a GitHub token (valid for about five minutes) is requested each time.
//! Entra ID's access tokens are cached by the chain, so exchanges are rare;
//! a credential is made for each exchange, so that the SDK's own token cache
//! does not override the store's `cache.token_cache` (see `client_secret`).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::ClientMethodOptions;
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::client_secret::from_sdk_token;
use super::error::{IdentityError, SourceError};
use super::{AccessToken, Scope, TokenSource, managed, sdk};
use crate::azure::http::trace::without_query;
use crate::azure::http::{Http, Outgoing, RetryOn, Route};

/// A federated credential.
pub(crate) struct Federated {
    kind: &'static str,
    description: String,
    endpoint: String,
    tenant: String,
    client_id: String,
    authority: String,
    http: Http,
    assertion: Assertion,
}

/// Where the assertion comes from.
#[derive(Debug, Clone)]
enum Assertion {
    File(TokenFile),
    Github(GithubToken),
}

impl fmt::Debug for Federated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Federated")
            .field("kind", &self.kind)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Federated {
    /// AKS workload identity: the service-account token in `token_file`.
    pub(crate) fn workload(
        http: &Http,
        authority: &str,
        tenant: &str,
        client_id: &str,
        token_file: PathBuf,
    ) -> Result<Self, IdentityError> {
        let description = format!(
            "workload identity federation (AKS): client {client_id} in tenant {tenant} at {authority}, token file {}",
            token_file.display()
        );
        let assertion = Assertion::File(TokenFile { path: token_file });
        Self::new(
            "workload_identity",
            description,
            http,
            authority,
            tenant,
            client_id,
            assertion,
        )
    }

    /// GitHub Actions OIDC: a token from `request_url` for `audience`.
    pub(crate) fn github(
        http: &Http,
        authority: &str,
        tenant: &str,
        client_id: &str,
        request_url: String,
        request_token: SecretString,
        audience: String,
    ) -> Result<Self, IdentityError> {
        let description = format!(
            "GitHub Actions OIDC federation: client {client_id} in tenant {tenant} at {authority}, audience {audience}"
        );
        let assertion = Assertion::Github(GithubToken {
            http: http.clone(),
            request_url,
            request_token,
            audience,
        });
        Self::new(
            "github_oidc",
            description,
            http,
            authority,
            tenant,
            client_id,
            assertion,
        )
    }

    fn new(
        kind: &'static str,
        description: String,
        http: &Http,
        authority: &str,
        tenant: &str,
        client_id: &str,
        assertion: Assertion,
    ) -> Result<Self, IdentityError> {
        let source = Self {
            kind,
            description,
            endpoint: sdk::token_endpoint(authority, tenant),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            authority: authority.to_owned(),
            http: http.clone(),
            assertion,
        };
        // The SDK checks the tenant, the client id and the authority here.
        source.credential()?;
        Ok(source)
    }

    /// A credential for one exchange.
    fn credential(&self) -> Result<Arc<dyn TokenCredential>, IdentityError> {
        match &self.assertion {
            Assertion::File(file) => self.credential_with(file.clone()),
            Assertion::Github(github) => self.credential_with(github.clone()),
        }
    }

    fn credential_with<C: ClientAssertion + 'static>(
        &self,
        assertion: C,
    ) -> Result<Arc<dyn TokenCredential>, IdentityError> {
        let options = ClientAssertionCredentialOptions {
            client_options: sdk::client_options(&self.http, &self.authority),
        };
        let credential = ClientAssertionCredential::new(
            self.tenant.clone(),
            self.client_id.clone(),
            assertion,
            Some(options),
        )
        .map_err(|e| sdk::identity_error(e, &self.endpoint))?;
        Ok(credential)
    }
}

#[async_trait::async_trait]
impl TokenSource for Federated {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn describe(&self) -> String {
        self.description.clone()
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

/// A projected service-account token, read at every exchange.
#[derive(Debug, Clone)]
struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    async fn read(&self) -> Result<String, IdentityError> {
        let path = self.path.display().to_string();
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|source| IdentityError::Io {
                path: format!("the federated token file {path}"),
                source,
            })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(IdentityError::Config(format!(
                "the federated token file {path} is empty"
            )));
        }
        Ok(token.to_owned())
    }
}

#[async_trait::async_trait]
impl ClientAssertion for TokenFile {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.read().await.map_err(sdk::to_sdk)
    }
}

/// A GitHub Actions OIDC token, requested at every exchange.
#[derive(Clone)]
struct GithubToken {
    http: Http,
    request_url: String,
    request_token: SecretString,
    audience: String,
}

impl fmt::Debug for GithubToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubToken")
            .field("request_url", &without_query(&self.request_url))
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl GithubToken {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` with `audience` added to its query.
    fn url(&self) -> String {
        let audience: String = form_urlencoded::byte_serialize(self.audience.as_bytes()).collect();
        let base = self.request_url.trim_end_matches(['?', '&']);
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}audience={audience}")
    }

    async fn fetch(&self) -> Result<String, IdentityError> {
        let url = self.url();
        let endpoint = without_query(&url).to_owned();
        let authorization = format!("Bearer {}", self.request_token.expose_secret());
        let request = Outgoing::get(url)
            .header("authorization", &authorization, true)
            .header("accept", "application/json", false);
        let response = self
            .http
            .send(Route::Remote, &request, RetryOn::SERVICE)
            .await?;
        if !response.status.is_success() {
            return Err(managed::status_error(&endpoint, &response));
        }
        let protocol = |problem: &str| IdentityError::Protocol {
            endpoint: endpoint.clone(),
            problem: problem.to_owned(),
        };
        let body: Value =
            serde_json::from_slice(&response.body).map_err(|_| protocol("not JSON"))?;
        match body.get("value").and_then(Value::as_str).map(str::trim) {
            Some(token) if !token.is_empty() => Ok(token.to_owned()),
            _ => Err(protocol("no `value` (the GitHub OIDC token)")),
        }
    }
}

#[async_trait::async_trait]
impl ClientAssertion for GithubToken {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.fetch().await.map_err(sdk::to_sdk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github(url: &str) -> GithubToken {
        GithubToken {
            http: Http::new(crate::azure::http::HttpOptions::default()).expect("Http builds"),
            request_url: url.to_owned(),
            request_token: SecretString::from("t"),
            audience: "api://AzureADTokenExchange".to_owned(),
        }
    }

    #[test]
    fn the_audience_is_added_to_the_query_encoded() {
        assert_eq!(
            github("https://gh/idtoken?api-version=2.0").url(),
            "https://gh/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"
        );
        assert_eq!(
            github("https://gh/idtoken").url(),
            "https://gh/idtoken?audience=api%3A%2F%2FAzureADTokenExchange"
        );
        assert_eq!(
            github("https://gh/idtoken?").url(),
            "https://gh/idtoken?audience=api%3A%2F%2FAzureADTokenExchange"
        );
    }

    #[test]
    fn debug_shows_neither_the_request_token_nor_the_query() {
        let mut token = github("https://gh/idtoken?sig=abc");
        token.request_token = SecretString::from("CANARY-request-token");
        let text = format!("{token:?}");
        assert!(
            !text.contains("CANARY") && !text.contains("sig=abc"),
            "{text}"
        );
    }
}
