//! Azure Arc: `GET $IDENTITY_ENDPOINT` with `Metadata: true` is answered 401
//! with `WWW-Authenticate: Basic realm=<key file>`; the agent wrote a secret
//! there, readable by local administrators only, and the retry carries it as
//! `Authorization: Basic <secret>`. As the Azure SDKs do, dsops reads the key
//! only from the agent's token directory, only a `.key` file, and only up to
//! 4096 bytes: a hostile endpoint must not make it read any file.

use std::path::{Path, PathBuf};

use dsops_config::Environment;
use dsops_config::model::Identity;
use secrecy::{ExposeSecret, SecretString};

use super::super::error::{IdentityError, SourceError};
use super::super::{AccessToken, Scope, TokenSource};
use super::{parse_token, selector_query, status_error};
use crate::azure::http::{Http, Outgoing, RetryOn, Route, form_body};

/// Overrides the agent's token directory (a non-standard agent install, or
/// the emulator's `managed_identity.arc_key_dir`).
pub(crate) const ARC_TOKEN_DIR_VARIABLE: &str = "DSOPS_ARC_TOKEN_DIR";
const MAX_KEY_SIZE: u64 = 4096;

#[derive(Debug)]
pub(crate) struct Arc {
    http: Http,
    endpoint: String,
    identity: Identity,
    token_dir: PathBuf,
}

fn default_token_dir(env: &dyn Environment) -> PathBuf {
    if cfg!(windows) {
        let data = env
            .var("ProgramData")
            .unwrap_or_else(|| "C:\\ProgramData".to_owned());
        Path::new(&data)
            .join("AzureConnectedMachineAgent")
            .join("Tokens")
    } else {
        PathBuf::from("/var/opt/azcmagent/tokens")
    }
}

impl Arc {
    pub(crate) fn new(
        http: Http,
        endpoint: String,
        identity: Identity,
        env: &dyn Environment,
    ) -> Self {
        let token_dir = env
            .var(ARC_TOKEN_DIR_VARIABLE)
            .filter(|d| !d.is_empty())
            .map_or_else(|| default_token_dir(env), PathBuf::from);
        Self {
            http,
            endpoint,
            identity,
            token_dir,
        }
    }

    /// The key the challenge names, if it is a file dsops may read.
    fn read_key(&self, challenge: &str) -> Result<SecretString, IdentityError> {
        let refuse = |why: &str| IdentityError::Protocol {
            endpoint: self.endpoint.clone(),
            problem: why.to_owned(),
        };
        let realm = challenge
            .split_once('=')
            .filter(|(scheme, _)| scheme.trim().eq_ignore_ascii_case("basic realm"))
            .map(|(_, path)| path.trim().trim_matches('"'))
            .ok_or_else(|| refuse("the 401 has no `WWW-Authenticate: Basic realm=<key file>`"))?;
        let path = Path::new(realm);
        if path.extension().is_none_or(|e| e != "key") {
            return Err(refuse("the challenge's key file does not end in .key"));
        }
        let canonical = path.canonicalize().map_err(|source| IdentityError::Io {
            path: realm.to_owned(),
            source,
        })?;
        let dir = self.token_dir.canonicalize().ok();
        if dir.is_none() || canonical.parent() != dir.as_deref() {
            return Err(refuse(&format!(
                "the challenge's key file is not in the Arc agent's token directory {}",
                self.token_dir.display()
            )));
        }
        let size = std::fs::metadata(&canonical)
            .map_err(|source| IdentityError::Io {
                path: realm.to_owned(),
                source,
            })?
            .len();
        if size > MAX_KEY_SIZE {
            return Err(refuse("the challenge's key file is larger than 4096 bytes"));
        }
        let key = std::fs::read_to_string(&canonical).map_err(|source| IdentityError::Io {
            path: realm.to_owned(),
            source,
        })?;
        Ok(SecretString::from(key.trim().to_owned()))
    }
}

#[async_trait::async_trait]
impl TokenSource for Arc {
    fn managed_host(&self) -> Option<crate::azure::identity::ManagedHost> {
        Some(crate::azure::identity::ManagedHost::Arc)
    }

    fn kind(&self) -> &'static str {
        "managed_identity"
    }

    fn describe(&self) -> String {
        format!("managed identity via Azure Arc at {}", self.endpoint)
    }

    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError> {
        selector_query(&self.identity, [None, None, None], "Azure Arc")?;
        let query = form_body(&[
            ("api-version", "2020-06-01"),
            ("resource", scope.resource()),
        ]);
        let separator = if self.endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}{query}", self.endpoint);
        let challenge = self
            .http
            .send(
                Route::Local,
                &Outgoing::get(url.clone()).header("metadata", "true", false),
                RetryOn::SERVICE,
            )
            .await?;
        if challenge.status.as_u16() != 401 {
            return Err(SourceError::Failed(if challenge.status.is_success() {
                IdentityError::Protocol {
                    endpoint: self.endpoint.clone(),
                    problem: "answered without the key-file challenge Azure Arc sends first"
                        .to_owned(),
                }
            } else {
                status_error(&self.endpoint, &challenge)
            }));
        }
        let header = challenge
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let key = self.read_key(&header)?;
        let request = Outgoing::get(url).header("metadata", "true", false).header(
            "authorization",
            &format!("Basic {}", key.expose_secret()),
            true,
        );
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
