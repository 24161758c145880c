//! The OIDC tokens of CI systems other than GitHub Actions, as client
//! assertions for workload identity federation (`type: ci_federation`):
//!
//! - Azure Pipelines: `POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=ID`
//!   with `Authorization: Bearer $SYSTEM_ACCESSTOKEN`, answering
//!   `{"oidcToken": "<jwt>"}` (the Oidctoken REST API the AzureCLI@2 task
//!   and `azure-identity`'s `AzurePipelinesCredential` call);
//! - GitLab CI, and the generic preset: a token in an environment variable
//!   (GitLab's `id_tokens:`), or in a file.
//!
//! Each is fetched or read again at every exchange: no token is kept here.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use dsops_config::Environment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::entra::{self, NotAnObject};
use super::error::IdentityError;
use super::managed;
use crate::azure::http::trace::without_query;
use crate::azure::http::{Http, Outgoing, RetryOn, Route, bearer_request};

/// The version of the Oidctoken API requested, as `azure-identity` asks.
const OIDC_API_VERSION: &str = "7.1";

/// An Azure Pipelines OIDC token for a service connection, requested at
/// every exchange.
#[derive(Clone)]
pub(super) struct PipelinesToken {
    pub(super) http: Http,
    /// `SYSTEM_OIDCREQUESTURI`.
    pub(super) request_uri: String,
    /// `SYSTEM_ACCESSTOKEN` (the job's `System.AccessToken`).
    pub(super) access_token: SecretString,
    pub(super) service_connection_id: String,
}

impl fmt::Debug for PipelinesToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelinesToken")
            .field("request_uri", &without_query(&self.request_uri))
            .field("service_connection_id", &self.service_connection_id)
            .finish_non_exhaustive()
    }
}

impl PipelinesToken {
    /// `SYSTEM_OIDCREQUESTURI` with the API version and the service
    /// connection added to its query.
    pub(super) fn url(&self) -> String {
        let id: String =
            form_urlencoded::byte_serialize(self.service_connection_id.as_bytes()).collect();
        let base = self.request_uri.trim_end_matches(['?', '&', '/']);
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}api-version={OIDC_API_VERSION}&serviceConnectionId={id}")
    }

    pub(super) async fn fetch(&self) -> Result<SecretString, IdentityError> {
        // System.AccessToken goes over TLS (or to loopback) only.
        let request = bearer_request(http::Method::POST, &self.url(), &self.access_token)?
            .header("content-type", "application/json", false)
            .header("accept", "application/json", false);
        request_oidc_token(&self.http, &request, OidcField::PipelinesOidcToken).await
    }
}

/// Where a CI's OIDC endpoint puts the token in its JSON answer.
#[derive(Debug, Clone, Copy)]
pub(super) enum OidcField {
    /// GitHub Actions: `{"count": ..., "value": "<jwt>"}`.
    GithubValue,
    /// Azure Pipelines' Oidctoken API: `{"oidcToken": "<jwt>"}`.
    PipelinesOidcToken,
}

/// A CI's OIDC endpoint's answer, as either CI writes it. Borrowed from the
/// body (zeroized when dropped): the token is copied only into a
/// `SecretString`. serde's messages, which may quote the body, are not kept.
#[derive(Deserialize)]
struct OidcAnswer<'a> {
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "oidcToken")]
    oidc_token: Option<Cow<'a, str>>,
}

/// Sends `request` (a [`bearer_request`] with the job's token) to a CI's
/// OIDC endpoint and reads the OIDC token from `field` of its answer.
pub(super) async fn request_oidc_token(
    http: &Http,
    request: &Outgoing,
    field: OidcField,
) -> Result<SecretString, IdentityError> {
    let endpoint = without_query(&request.url).to_owned();
    let response = http.send(Route::Remote, request, RetryOn::SERVICE).await?;
    if !response.status.is_success() {
        return Err(managed::status_error(&endpoint, &response));
    }
    let protocol = |problem: &str| IdentityError::Protocol {
        endpoint: endpoint.clone(),
        problem: problem.to_owned(),
    };
    let missing = || {
        protocol(match field {
            OidcField::GithubValue => "no `value` (the GitHub OIDC token)",
            OidcField::PipelinesOidcToken => "no `oidcToken` (the Azure Pipelines OIDC token)",
        })
    };
    let body: OidcAnswer<'_> = entra::json_object(&response.body).map_err(|e| match e {
        NotAnObject::Json => missing(),
        NotAnObject::NotJson => protocol("not JSON"),
    })?;
    let token = match field {
        OidcField::GithubValue => body.value.as_deref(),
        OidcField::PipelinesOidcToken => body.oidc_token.as_deref(),
    };
    match token.map(str::trim) {
        Some(token) if !token.is_empty() => Ok(SecretString::from(token.to_owned())),
        _ => Err(missing()),
    }
}

/// A token in an environment variable (GitLab's `id_tokens:`, Bitbucket's
/// `BITBUCKET_STEP_OIDC_TOKEN`...), read at every exchange.
#[derive(Clone)]
pub(super) struct TokenVariable {
    pub(super) name: String,
    pub(super) env: Arc<dyn Environment + Send + Sync>,
}

impl fmt::Debug for TokenVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVariable")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TokenVariable {
    pub(super) fn read(&self) -> Result<SecretString, IdentityError> {
        let value = self.env.var(&self.name).map(SecretString::from);
        match value {
            Some(value) if !value.expose_secret().trim().is_empty() => {
                Ok(SecretString::from(value.expose_secret().trim().to_owned()))
            }
            _ => Err(IdentityError::Config(format!(
                "the variable {} that should hold the CI's OIDC token is unset or empty",
                self.name
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipelines(uri: &str) -> PipelinesToken {
        PipelinesToken {
            http: Http::new(crate::azure::http::HttpOptions::default()).expect("Http builds"),
            request_uri: uri.to_owned(),
            access_token: SecretString::from("CANARY-system-access-token"),
            service_connection_id: "a b".to_owned(),
        }
    }

    #[test]
    fn the_api_version_and_the_service_connection_are_added_to_the_query() {
        let uri =
            "https://dev.azure.com/org/p/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken";
        assert_eq!(
            pipelines(uri).url(),
            format!("{uri}?api-version=7.1&serviceConnectionId=a+b")
        );
        assert_eq!(
            pipelines(&format!("{uri}?x=1")).url(),
            format!("{uri}?x=1&api-version=7.1&serviceConnectionId=a+b")
        );
    }

    #[test]
    fn debug_shows_no_access_token() {
        let text = format!("{:?}", pipelines("https://dev.azure.com/o?sig=abc"));
        assert!(
            !text.contains("CANARY") && !text.contains("sig=abc"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn plain_http_to_a_remote_host_never_gets_the_access_token() {
        let error = pipelines("http://dev.azure.com/org/oidctoken")
            .fetch()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("TLS"), "{error}");
    }
}
