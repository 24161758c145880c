//! IMDS: `GET /metadata/identity/oauth2/token` with `Metadata: true`, on VMs,
//! scale sets and Container Instances. Before the first token, a probe
//! without the header (which IMDS answers at once with 400) tells within
//! 750 ms whether there is an IMDS at all, so a laptop moves on quickly.

use std::time::Duration;

use dsops_config::model::Identity;
use tokio::sync::OnceCell;

use super::super::error::{IdentityError, SourceError};
use super::super::{AccessToken, Scope, TokenSource};
use super::{describe_identity, parse_token, selector_query, status_error};
use crate::azure::http::{Http, Outgoing, ProbeFailure, RetryOn, Route};

/// IMDS's address in Azure.
const DEFAULT_HOST: &str = "http://169.254.169.254";
const API_VERSION: &str = "2019-08-01";
/// How long the probe waits for any answer.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_millis(750);

#[derive(Debug)]
pub(crate) struct Imds {
    http: Http,
    host: String,
    identity: Identity,
    probe: OnceCell<Result<(), String>>,
}

impl Imds {
    pub(crate) fn new(http: Http, host: Option<String>, identity: Identity) -> Self {
        let host = host
            .unwrap_or_else(|| DEFAULT_HOST.to_owned())
            .trim_end_matches('/')
            .to_owned();
        Self {
            http,
            host,
            identity,
            probe: OnceCell::new(),
        }
    }

    fn endpoint(&self) -> String {
        format!("{}/metadata/identity/oauth2/token", self.host)
    }

    /// Whether anything answers at the endpoint within `PROBE_TIMEOUT`:
    /// an answer's head, whatever its status or body, or a connection
    /// accepted and then reset. Only no connection, or no answer in time,
    /// means there is no IMDS here.
    async fn probe(&self) -> Result<(), String> {
        let url = format!("{}?api-version={API_VERSION}", self.endpoint());
        match self.http.probe_head(&url, PROBE_TIMEOUT).await {
            Ok(_) => Ok(()),
            Err(ProbeFailure::Timeout) => Err(format!(
                "no IMDS answered at {} within {} ms (not an Azure VM, scale set or container instance)",
                self.host,
                PROBE_TIMEOUT.as_millis()
            )),
            Err(ProbeFailure::Connect) => Err(format!(
                "no IMDS at {} (connection failed: not an Azure VM, scale set or container instance)",
                self.host
            )),
        }
    }
}

#[async_trait::async_trait]
impl TokenSource for Imds {
    fn managed_host(&self) -> Option<crate::azure::identity::ManagedHost> {
        Some(crate::azure::identity::ManagedHost::Imds)
    }

    fn kind(&self) -> &'static str {
        "managed_identity"
    }

    fn describe(&self) -> String {
        format!(
            "managed identity via IMDS at {} ({})",
            self.host,
            describe_identity(&self.identity)
        )
    }

    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError> {
        let selector = selector_query(
            &self.identity,
            [Some("client_id"), Some("object_id"), Some("msi_res_id")],
            "IMDS",
        )?;
        let mut query = vec![
            ("api-version", API_VERSION.to_owned()),
            ("resource", scope.resource().to_owned()),
        ];
        query.extend(selector);
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = format!(
            "{}?{}",
            self.endpoint(),
            crate::azure::http::form_body(&pairs)
        );
        let request = Outgoing::get(url).header("metadata", "true", false);
        let response = if self.probe.initialized() {
            if let Some(Err(reason)) = self.probe.get() {
                return Err(SourceError::Unavailable(reason.clone()));
            }
            self.http
                .send(Route::Local, &request, RetryOn::IMDS)
                .await?
        } else {
            // The first time, the token request goes out with the probe
            // rather than after it: where IMDS exists this costs no round
            // trip, and where it does not the request is abandoned.
            let http = self.http.clone();
            let pending =
                tokio::spawn(async move { http.send(Route::Local, &request, RetryOn::IMDS).await });
            let abort = pending.abort_handle();
            if let Err(reason) = self.probe.get_or_init(|| self.probe()).await {
                abort.abort();
                return Err(SourceError::Unavailable(reason.clone()));
            }
            pending.await.map_err(|_| {
                SourceError::Failed(IdentityError::Protocol {
                    endpoint: self.endpoint(),
                    problem: "the token request was cancelled".to_owned(),
                })
            })??
        };
        let endpoint = self.endpoint();
        if response.status.is_success() {
            return Ok(parse_token(&endpoint, &response)?);
        }
        let error = status_error(&endpoint, &response);
        if response.status.as_u16() == 400
            && let IdentityError::Status { message, .. } = &error
            && message.contains("Identity not found")
        {
            return Err(SourceError::Failed(IdentityError::Unsupported(format!(
                "IMDS has no {} identity on this host: assign it (e.g. `az vm identity assign`)",
                describe_identity(&self.identity)
            ))));
        }
        Err(SourceError::Failed(error))
    }
}
