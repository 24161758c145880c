//! Workload identity federation: a client assertion from a projected token
//! file (AKS), from GitHub Actions' OIDC endpoint, or from another CI
//! ([`ci`](super::ci): Azure Pipelines, GitLab, a variable or a file),
//! exchanged at Entra ID's token endpoint ([`entra`](super::entra)).
//!
//! The assertion is fetched anew for every exchange: the token file is read
//! each time, so a rotated token is used at once (`azure_identity`'s
//! `WorkloadIdentityCredential` kept the file's content for ten minutes),
//! and a GitHub token (valid for about five minutes) is requested each time.
//! Entra ID's access tokens are cached by the chain, so exchanges are rare;
//! no token is kept here, so that the store's `cache.token_cache` is obeyed
//! (see `client_secret`).

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use secrecy::zeroize::Zeroizing;

use super::ci::{OidcField, PipelinesToken, TokenVariable, request_oidc_token};
use super::entra::{Authority, ClientCredential, TokenEndpoint};
use super::error::{IdentityError, SourceError};
use super::{AccessToken, FederatedToken, Scope, TokenSource};
use crate::azure::http::trace::without_query;
use crate::azure::http::{Http, bearer_request};

/// A federated credential.
pub(crate) struct Federated {
    kind: &'static str,
    description: String,
    endpoint: TokenEndpoint,
    http: Http,
    assertion: Assertion,
}

/// Where the assertion comes from.
#[derive(Debug, Clone)]
pub(super) enum Assertion {
    File(TokenFile),
    Github(GithubToken),
    Pipelines(PipelinesToken),
    Variable(TokenVariable),
}

impl Assertion {
    /// A token file read at every exchange.
    pub(super) fn file(path: PathBuf) -> Self {
        Assertion::File(TokenFile { path })
    }

    /// The assertion, fetched or read anew.
    async fn get(&self) -> Result<SecretString, IdentityError> {
        match self {
            Assertion::File(file) => file.read().await,
            Assertion::Github(github) => github.fetch().await,
            Assertion::Pipelines(pipelines) => pipelines.fetch().await,
            Assertion::Variable(variable) => variable.read(),
        }
    }
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
        authority: &Authority,
        tenant: &str,
        client_id: &str,
        token_file: PathBuf,
    ) -> Result<Self, IdentityError> {
        let description = format!(
            "workload identity federation (AKS): client {client_id} in tenant {tenant} at {authority}, token file {}",
            token_file.display()
        );
        let assertion = Assertion::file(token_file);
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
        authority: &Authority,
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

    /// Another CI's token (`type: ci_federation`), from `assertion`.
    pub(crate) fn ci(
        http: &Http,
        authority: &Authority,
        tenant: &str,
        client_id: &str,
        assertion: Assertion,
        what: &str,
    ) -> Result<Self, IdentityError> {
        let description = format!("{what}: client {client_id} in tenant {tenant} at {authority}");
        Self::new(
            "ci_federation",
            description,
            http,
            authority,
            tenant,
            client_id,
            assertion,
        )
    }

    /// Checks the tenant, the client id and the authority (as
    /// `azure_identity`'s `ClientAssertionCredential::new` did); sends nothing.
    fn new(
        kind: &'static str,
        description: String,
        http: &Http,
        authority: &Authority,
        tenant: &str,
        client_id: &str,
        assertion: Assertion,
    ) -> Result<Self, IdentityError> {
        Ok(Self {
            kind,
            description,
            endpoint: TokenEndpoint::new(&authority.url, tenant, client_id, &authority.trust)?,
            http: http.clone(),
            assertion,
        })
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
        let assertion = self.assertion.get().await?;
        let credential = ClientCredential::Assertion(&assertion);
        Ok(self.endpoint.token(&self.http, scope, credential).await?)
    }

    async fn federated_token(&self) -> Option<Result<FederatedToken, SourceError>> {
        Some(match self.assertion.get().await {
            Ok(assertion) => FederatedToken::read(&assertion).ok_or_else(|| {
                SourceError::Failed(IdentityError::Config(
                    "the federated token is not a JWT: its claims cannot be read".to_owned(),
                ))
            }),
            Err(error) => Err(SourceError::Failed(error)),
        })
    }
}

/// A projected service-account token, read at every exchange.
#[derive(Debug, Clone)]
pub(super) struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    async fn read(&self) -> Result<SecretString, IdentityError> {
        let path = self.path.display().to_string();
        let text = Zeroizing::new(tokio::fs::read_to_string(&self.path).await.map_err(
            |source| IdentityError::Io {
                path: format!("the federated token file {path}"),
                source,
            },
        )?);
        let token = text.trim();
        if token.is_empty() {
            return Err(IdentityError::Config(format!(
                "the federated token file {path} is empty"
            )));
        }
        Ok(SecretString::from(token.to_owned()))
    }
}

/// A GitHub Actions OIDC token, requested at every exchange.
#[derive(Clone)]
pub(super) struct GithubToken {
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

    async fn fetch(&self) -> Result<SecretString, IdentityError> {
        // ACTIONS_ID_TOKEN_REQUEST_TOKEN goes over TLS (or to loopback) only.
        let request = bearer_request(http::Method::GET, &self.url(), &self.request_token)?.header(
            "accept",
            "application/json",
            false,
        );
        request_oidc_token(&self.http, &request, OidcField::GithubValue).await
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

    #[tokio::test]
    async fn plain_http_to_a_remote_host_never_gets_the_request_token() {
        // ACTIONS_ID_TOKEN_REQUEST_TOKEN goes where System.AccessToken may
        // go: over TLS, or to loopback. The check comes before any request.
        let error = github("http://token.actions.example/idtoken")
            .fetch()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("TLS"), "{error}");
    }
}
