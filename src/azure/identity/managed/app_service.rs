//! App Service, Functions and Container Apps: `GET $IDENTITY_ENDPOINT` with
//! `X-IDENTITY-HEADER: $IDENTITY_HEADER` (api-version 2019-08-01).

use dsops_config::model::Identity;
use secrecy::{ExposeSecret, SecretString};

use super::super::error::SourceError;
use super::super::{AccessToken, Scope, TokenSource};
use super::{describe_identity, parse_token, selector_query, status_error};
use crate::azure::http::{Http, Outgoing, RetryOn, Route, form_body};

pub(crate) struct AppService {
    http: Http,
    endpoint: String,
    header: SecretString,
    identity: Identity,
}

impl std::fmt::Debug for AppService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppService")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl AppService {
    pub(crate) fn new(
        http: Http,
        endpoint: String,
        header: SecretString,
        identity: Identity,
    ) -> Self {
        Self {
            http,
            endpoint,
            header,
            identity,
        }
    }
}

#[async_trait::async_trait]
impl TokenSource for AppService {
    fn managed_host(&self) -> Option<crate::azure::identity::ManagedHost> {
        Some(crate::azure::identity::ManagedHost::AppService)
    }

    fn kind(&self) -> &'static str {
        "managed_identity"
    }

    fn describe(&self) -> String {
        format!(
            "managed identity via App Service at {} ({})",
            self.endpoint,
            describe_identity(&self.identity)
        )
    }

    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError> {
        let selector = selector_query(
            &self.identity,
            [Some("client_id"), Some("principal_id"), Some("mi_res_id")],
            "App Service",
        )?;
        let mut query = vec![
            ("api-version", "2019-08-01".to_owned()),
            ("resource", scope.resource().to_owned()),
        ];
        query.extend(selector);
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let separator = if self.endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}{}", self.endpoint, form_body(&pairs));
        let request =
            Outgoing::get(url).header("x-identity-header", self.header.expose_secret(), true);
        let response = self
            .http
            .send(Route::Local, &request, RetryOn::SERVICE)
            .await?;
        if response.status.is_success() {
            Ok(parse_token(&self.endpoint, &response)?)
        } else {
            Err(SourceError::Failed(status_error(&self.endpoint, &response)))
        }
    }
}
