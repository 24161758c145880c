//! Workload identity federation: a client assertion from a projected token
//! file (AKS) or from GitHub Actions' OIDC endpoint, exchanged at Entra ID's
//! token endpoint ([`entra`](super::entra)).
//!
//! The assertion is fetched anew for every exchange: the token file is read
//! each time, so a rotated token is used at once (`azure_identity`'s
//! `WorkloadIdentityCredential` kept the file's content for ten minutes),
//! and a GitHub token (valid for about five minutes) is requested each time.
//! Entra ID's access tokens are cached by the chain, so exchanges are rare;
//! no token is kept here, so that the store's `cache.token_cache` is obeyed
//! (see `client_secret`).

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::entra::{self, Authority, ClientCredential, NotAnObject, TokenEndpoint};
use super::error::{IdentityError, SourceError};
use super::{AccessToken, Scope, TokenSource, managed};
use crate::azure::http::trace::without_query;
use crate::azure::http::{Http, Outgoing, RetryOn, Route};

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
        authority: &Authority,
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
        let assertion = match &self.assertion {
            Assertion::File(file) => file.read().await?,
            Assertion::Github(github) => github.fetch().await?,
        };
        let credential = ClientCredential::Assertion(&assertion);
        Ok(self.endpoint.token(&self.http, scope, credential).await?)
    }
}

/// A projected service-account token, read at every exchange.
#[derive(Debug, Clone)]
struct TokenFile {
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

    async fn fetch(&self) -> Result<SecretString, IdentityError> {
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
        let no_value = || protocol("no `value` (the GitHub OIDC token)");
        // Borrowed from the body (zeroized when dropped): the token is
        // copied only into a `SecretString`. serde's messages, which may
        // quote the body, are not kept.
        let body: GithubAnswer<'_> = entra::json_object(&response.body).map_err(|e| match e {
            NotAnObject::Json => no_value(),
            NotAnObject::NotJson => protocol("not JSON"),
        })?;
        match body.value.as_deref().map(str::trim) {
            Some(token) if !token.is_empty() => Ok(SecretString::from(token.to_owned())),
            _ => Err(no_value()),
        }
    }
}

/// GitHub's answer: `{"count": ..., "value": "<the OIDC token>"}`.
#[derive(Deserialize)]
struct GithubAnswer<'a> {
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
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
