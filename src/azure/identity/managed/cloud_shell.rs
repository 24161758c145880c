//! Cloud Shell: `POST $MSI_ENDPOINT` with the form `resource=...` and
//! `Metadata: true`. The signed-in user's identity; nothing to select.

use dsops_config::model::Identity;

use super::super::error::SourceError;
use super::super::{AccessToken, Scope, TokenSource};
use super::{parse_token, selector_query, status_error};
use crate::azure::http::{Http, Outgoing, RetryOn, Route};

#[derive(Debug)]
pub(crate) struct CloudShell {
    http: Http,
    endpoint: String,
    identity: Identity,
}

impl CloudShell {
    pub(crate) fn new(http: Http, endpoint: String, identity: Identity) -> Self {
        Self {
            http,
            endpoint,
            identity,
        }
    }
}

#[async_trait::async_trait]
impl TokenSource for CloudShell {
    fn managed_host(&self) -> Option<crate::azure::identity::ManagedHost> {
        Some(crate::azure::identity::ManagedHost::CloudShell)
    }

    fn kind(&self) -> &'static str {
        "managed_identity"
    }

    fn describe(&self) -> String {
        format!("managed identity via Cloud Shell at {}", self.endpoint)
    }

    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError> {
        selector_query(&self.identity, [None, None, None], "Cloud Shell")?;
        let request = Outgoing::post_form(&self.endpoint, &[("resource", scope.resource())])
            .header("metadata", "true", false);
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
