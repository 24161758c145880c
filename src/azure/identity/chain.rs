//! The credential chain of a store: its `fallback:` sources in order, or the
//! default order, each tried until one gives a token. The first that works
//! is kept for the other scopes; why each other one was skipped or failed is
//! kept for the error.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dsops_config::Environment;
use dsops_config::model::{CiPreset, CredentialSource, Identity, Store, UserAssignedId};
use secrecy::SecretString;

use super::cache::TokenCache;
use super::entra::{Authority, AuthorityTrust};
use super::error::SourceError;
use super::{AccessToken, Scope, TokenSource, azure_cli, ci, client_secret, federated, managed};
use crate::azure::http::Http;
use dsops_config::names::{EndpointKind, check_endpoint};

/// The audience GitHub tokens are requested for by default.
pub const GITHUB_AUDIENCE: &str = "api://AzureADTokenExchange";

/// What happened to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// It gave a token.
    Succeeded,
    /// It does not exist here, and why.
    Skipped(String),
    /// It was tried and failed, and why (the cause chain, one line).
    Failed(String),
    /// An earlier source gave the token.
    NotTried,
}

/// One source of a chain walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The `fallback:` type.
    pub kind: &'static str,
    /// What the source is.
    pub description: String,
    /// What happened.
    pub outcome: AttemptOutcome,
}

/// No source gave a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    /// The store.
    pub store: String,
    /// The scope asked for.
    pub scope: String,
    /// Every source, in order, with why it did not give one.
    pub attempts: Vec<Attempt>,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no identity of store `{}` could get a token for {}",
            self.store, self.scope
        )?;
        for attempt in &self.attempts {
            let (verb, why) = match &attempt.outcome {
                AttemptOutcome::Skipped(why) => ("skipped", why.as_str()),
                AttemptOutcome::Failed(why) => ("failed", why.as_str()),
                AttemptOutcome::Succeeded | AttemptOutcome::NotTried => continue,
            };
            write!(
                f,
                "\n  - {} ({}): {verb}: {why}",
                attempt.kind, attempt.description
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ChainError {}

/// The chain of one store.
#[derive(Debug)]
pub(crate) struct Chain {
    store: String,
    sources: Vec<Box<dyn TokenSource>>,
    winner: Mutex<Option<usize>>,
    /// Held while the sources are walked.
    walking: tokio::sync::Mutex<()>,
    cache: TokenCache,
    http: Http,
}

/// A source that is not available here, with the reason.
#[derive(Debug)]
struct Missing {
    kind: &'static str,
    description: String,
    reason: String,
}

#[async_trait::async_trait]
impl TokenSource for Missing {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
    async fn token(&self, _: &Scope) -> Result<AccessToken, SourceError> {
        Err(SourceError::Unavailable(self.reason.clone()))
    }
}

/// A source the configuration names but that cannot be set up (a bad
/// authority, say): it fails, with the reason.
#[derive(Debug)]
struct Broken {
    kind: &'static str,
    description: String,
    reason: String,
}

#[async_trait::async_trait]
impl TokenSource for Broken {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
    async fn token(&self, _: &Scope) -> Result<AccessToken, SourceError> {
        Err(SourceError::Failed(super::error::IdentityError::Config(
            self.reason.clone(),
        )))
    }
}

/// The default order, without `fallback:`.
pub const DEFAULT_ORDER: &[&str] = &[
    "environment",
    "workload_identity",
    "github_oidc",
    "managed_identity",
    "azure_cli",
];

impl Chain {
    /// The chain of `store` in this environment (sources that read it again
    /// at every exchange keep a copy of `env`).
    pub(crate) fn for_store<E>(store: &Store, env: &E, http: &Http) -> Self
    where
        E: Environment + Clone + Send + Sync + 'static,
    {
        let sources: Vec<CredentialSource> = match (&store.fallback, &store.auth) {
            (Some(list), _) => list.iter().map(|s| s.value.clone()).collect(),
            (None, Some(auth)) => vec![CredentialSource::ServicePrincipal(auth.clone())],
            (None, None) => default_sources(),
        };
        let shared: Arc<dyn Environment + Send + Sync> = Arc::new(env.clone());
        let context = Context {
            store,
            env,
            shared,
            http,
        };
        Self {
            store: store.name.value.clone(),
            sources: sources.iter().map(|s| context.build(s)).collect(),
            winner: Mutex::new(None),
            walking: tokio::sync::Mutex::new(()),
            cache: TokenCache::new(store.cache.token_cache, store.cache.token_buffer),
            http: http.clone(),
        }
    }

    /// The store's name.
    pub(crate) fn store(&self) -> &str {
        &self.store
    }

    /// The source that gave the last token, once one has.
    pub(crate) fn winner(&self) -> Option<&dyn TokenSource> {
        let index = (*self
            .winner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))?;
        self.sources.get(index).map(|s| &**s)
    }

    /// The managed identity endpoint of the chain, if it has one.
    pub(crate) fn managed_host(&self) -> Option<super::ManagedHost> {
        self.sources.iter().find_map(|s| s.managed_host())
    }

    /// The sources, in order.
    pub(crate) fn sources(&self) -> impl Iterator<Item = &dyn TokenSource> {
        self.sources.iter().map(|s| &**s)
    }

    /// A token for `scope`: cached, or from the source that worked before,
    /// or from the first source that works.
    pub(crate) async fn token(&self, scope: &Scope) -> Result<AccessToken, ChainError> {
        self.cache.get_or_fetch(scope, || self.fetch(scope)).await
    }

    async fn fetch(&self, scope: &Scope) -> Result<AccessToken, ChainError> {
        if let Some(result) = self.ask_winner(scope).await {
            return result;
        }
        // One walk at a time: fetches for other scopes that start meanwhile
        // wait for it and then ask the winner, instead of probing again.
        let _walking = self.walking.lock().await;
        if let Some(result) = self.ask_winner(scope).await {
            return result;
        }
        let (attempts, found) = self.walk_sources(scope).await;
        match found {
            Some((index, token)) => {
                *self
                    .winner
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(index);
                Ok(token)
            }
            None => Err(self.error(scope, attempts)),
        }
    }

    /// A token from the source that worked before, if one has.
    async fn ask_winner(&self, scope: &Scope) -> Option<Result<AccessToken, ChainError>> {
        let winner = *self
            .winner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let source = self.sources.get(winner?)?;
        Some(match self.try_source(source.as_ref(), scope).await {
            (_, Some(token)) => Ok(token),
            (attempt, None) => Err(self.error(scope, vec![attempt])),
        })
    }

    fn error(&self, scope: &Scope, attempts: Vec<Attempt>) -> ChainError {
        ChainError {
            store: self.store.clone(),
            scope: scope.to_string(),
            attempts,
        }
    }

    /// Tries every source in order until one gives a token for `scope`,
    /// whatever worked before: what `dsops doctor` shows. The source that
    /// gives it is kept for later [`Chain::token`] calls, and its token cached.
    pub(crate) async fn walk(&self, scope: &Scope) -> (Vec<Attempt>, Option<(usize, AccessToken)>) {
        let (attempts, found) = self.walk_sources(scope).await;
        if let Some((index, token)) = &found {
            *self
                .winner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(*index);
            let token = token.clone();
            let _ = self
                .cache
                .get_or_fetch(scope, || async { Ok::<_, ()>(token) })
                .await;
        }
        (attempts, found)
    }

    async fn walk_sources(&self, scope: &Scope) -> (Vec<Attempt>, Option<(usize, AccessToken)>) {
        let mut attempts = Vec::new();
        let mut found = None;
        for (index, source) in self.sources.iter().enumerate() {
            if found.is_some() {
                attempts.push(Attempt {
                    kind: source.kind(),
                    description: source.describe(),
                    outcome: AttemptOutcome::NotTried,
                });
                continue;
            }
            let (attempt, token) = self.try_source(source.as_ref(), scope).await;
            attempts.push(attempt);
            if let Some(token) = token {
                found = Some((index, token));
            }
        }
        (attempts, found)
    }

    async fn try_source(
        &self,
        source: &dyn TokenSource,
        scope: &Scope,
    ) -> (Attempt, Option<AccessToken>) {
        let started = std::time::Instant::now();
        let result = source.token(scope).await;
        let millis = started.elapsed().as_millis();
        let trace = self.http.trace();
        let (outcome, token) = match result {
            Ok(token) => {
                trace.identity(|| {
                    let claims = &token.claims;
                    let known = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
                    format!(
                        "{} ({}) gave a token for {scope}: object id {}, app id {}, tenant {} ({millis} ms)",
                        source.kind(),
                        source.describe(),
                        known(&claims.object_id),
                        known(&claims.client_id),
                        known(&claims.tenant_id)
                    )
                });
                (AttemptOutcome::Succeeded, Some(token))
            }
            Err(SourceError::Unavailable(why)) => {
                trace.identity(|| {
                    format!(
                        "{} ({}) skipped: {why} ({millis} ms)",
                        source.kind(),
                        source.describe()
                    )
                });
                (AttemptOutcome::Skipped(why), None)
            }
            Err(SourceError::Failed(error)) => {
                let why = chain_text(&error);
                trace.identity(|| {
                    format!(
                        "{} ({}) failed: {why} ({millis} ms)",
                        source.kind(),
                        source.describe()
                    )
                });
                (AttemptOutcome::Failed(why), None)
            }
        };
        (
            Attempt {
                kind: source.kind(),
                description: source.describe(),
                outcome,
            },
            token,
        )
    }
}

/// An error and its causes on one line.
pub(crate) fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn default_sources() -> Vec<CredentialSource> {
    let text = |s: &str| dsops_config::model::Text {
        value: s.to_owned(),
        span: dsops_config::Span::default(),
    };
    vec![
        CredentialSource::Environment {
            client_id_env: text("AZURE_CLIENT_ID"),
            client_secret_env: text("AZURE_CLIENT_SECRET"),
            tenant_id_env: text("AZURE_TENANT_ID"),
        },
        CredentialSource::WorkloadIdentity {
            client_id: None,
            tenant_id: None,
            token_file: None,
        },
        CredentialSource::GithubOidc {
            client_id: None,
            tenant_id: None,
            audience: text(GITHUB_AUDIENCE),
        },
        CredentialSource::ManagedIdentity,
        CredentialSource::AzureCli { tenant_id: None },
    ]
}

/// What building a source needs.
struct Context<'a> {
    store: &'a Store,
    env: &'a dyn Environment,
    /// The same environment, for sources that read it at every exchange.
    shared: Arc<dyn Environment + Send + Sync>,
    http: &'a Http,
}

impl Context<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.env.var(name).filter(|v| !v.is_empty())
    }

    /// Entra ID's authority: the store's `cloud:` when written, else
    /// `AZURE_AUTHORITY_HOST` (AKS's webhook sets it), else the public
    /// cloud's; with the authorities the environment confirms
    /// (`DSOPS_TRUSTED_AUTHORITY`). An `AZURE_AUTHORITY_HOST` that is not a
    /// valid endpoint is refused as `dsops.yaml`'s would be, naming the
    /// variable, not its value.
    fn authority(&self) -> Result<Authority, String> {
        let cloud = &self.store.cloud;
        let configured = cloud
            .span
            .is_some()
            .then(|| cloud.endpoints.authority_host.clone());
        let url = match configured {
            Some(url) => url,
            None => match self.endpoint_var("AZURE_AUTHORITY_HOST", EndpointKind::Service)? {
                Some(url) => url,
                None => cloud.endpoints.authority_host.clone(),
            },
        };
        Ok(Authority {
            url: url.trim_end_matches('/').to_owned(),
            trust: AuthorityTrust::from_env(self.env),
        })
    }

    /// An endpoint read from the environment, checked as an endpoint in
    /// `dsops.yaml` is; the error names the variable, never its value.
    fn endpoint_var(&self, name: &str, kind: EndpointKind) -> Result<Option<String>, String> {
        match self.var(name) {
            None => Ok(None),
            Some(url) => match check_endpoint(url.trim(), kind) {
                Ok(()) => Ok(Some(url.trim().to_owned())),
                Err(problem) => Err(format!("{name} {problem}")),
            },
        }
    }

    /// A tenant: the source's, the store's, `AZURE_TENANT_ID`.
    fn tenant(&self, given: &Option<dsops_config::model::Text>) -> Option<String> {
        given
            .as_ref()
            .map(|t| t.value.clone())
            .or_else(|| self.store.tenant_id.as_ref().map(|t| t.value.clone()))
            .or_else(|| self.var("AZURE_TENANT_ID"))
    }

    /// A client id: the source's, the store's user-assigned identity's,
    /// `AZURE_CLIENT_ID`.
    fn client_id(&self, given: &Option<dsops_config::model::Text>) -> Option<String> {
        let identity = match &self.store.identity {
            Identity::UserAssigned(UserAssignedId::ClientId(id)) => Some(id.value.clone()),
            _ => None,
        };
        given
            .as_ref()
            .map(|t| t.value.clone())
            .or(identity)
            .or_else(|| self.var("AZURE_CLIENT_ID"))
    }

    fn broken(
        &self,
        kind: &'static str,
        description: &str,
        reason: impl Into<String>,
    ) -> Box<dyn TokenSource> {
        Box::new(Broken {
            kind,
            description: description.to_owned(),
            reason: reason.into(),
        })
    }

    fn missing(
        &self,
        kind: &'static str,
        description: &str,
        reason: impl Into<String>,
    ) -> Box<dyn TokenSource> {
        Box::new(Missing {
            kind,
            description: description.to_owned(),
            reason: reason.into(),
        })
    }

    fn build(&self, source: &CredentialSource) -> Box<dyn TokenSource> {
        let authority = self.authority();
        let authority = &authority;
        match source {
            CredentialSource::ManagedIdentity => {
                managed::detect(self.env, &self.store.identity, self.http)
            }
            CredentialSource::AzureCli { tenant_id } => Box::new(azure_cli::AzureCli::new(
                tenant_id.as_ref().map(|t| t.value.clone()),
                self.env,
            )),
            CredentialSource::ServicePrincipal(sp) => self.client_secret(
                "service_principal",
                authority,
                sp.tenant_id.value.clone(),
                sp.client_id.value.clone(),
                sp.client_secret.value.clone(),
            ),
            CredentialSource::Environment {
                client_id_env,
                client_secret_env,
                tenant_id_env,
            } => {
                let names = [
                    &client_id_env.value,
                    &client_secret_env.value,
                    &tenant_id_env.value,
                ];
                let description = format!(
                    "service principal from {}, {}, {}",
                    names[0], names[1], names[2]
                );
                let [id, secret, tenant] = names.map(|n| self.var(n));
                match (id, secret, tenant) {
                    (Some(id), Some(secret), Some(tenant)) => self.client_secret(
                        "environment",
                        authority,
                        tenant,
                        id,
                        SecretString::from(secret),
                    ),
                    _ => {
                        let unset: Vec<&str> = names
                            .iter()
                            .filter(|n| self.var(n).is_none())
                            .map(|n| n.as_str())
                            .collect();
                        self.missing(
                            "environment",
                            &description,
                            format!("{} not set", unset.join(", ")),
                        )
                    }
                }
            }
            CredentialSource::WorkloadIdentity {
                client_id,
                tenant_id,
                token_file,
            } => {
                let description = "workload identity federation (AKS)";
                let file = token_file
                    .as_ref()
                    .map(|t| t.value.clone())
                    .or_else(|| self.var("AZURE_FEDERATED_TOKEN_FILE"));
                let Some(file) = file else {
                    return self.missing("workload_identity", description, "AZURE_FEDERATED_TOKEN_FILE is not set (not an AKS pod with workload identity)");
                };
                let (Some(client), Some(tenant)) =
                    (self.client_id(client_id), self.tenant(tenant_id))
                else {
                    return self.missing("workload_identity", description, "no client id or tenant id: set AZURE_CLIENT_ID and AZURE_TENANT_ID, or give them in the store");
                };
                let authority = match authority {
                    Ok(authority) => authority,
                    Err(reason) => return self.broken("workload_identity", description, reason),
                };
                match federated::Federated::workload(
                    self.http,
                    authority,
                    &tenant,
                    &client,
                    PathBuf::from(file),
                ) {
                    Ok(source) => Box::new(source),
                    Err(error) => self.broken("workload_identity", description, chain_text(&error)),
                }
            }
            CredentialSource::GithubOidc {
                client_id,
                tenant_id,
                audience,
            } => {
                let description = "GitHub Actions OIDC federation";
                let (Some(url), Some(request_token)) = (
                    self.var("ACTIONS_ID_TOKEN_REQUEST_URL"),
                    self.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
                ) else {
                    return self.missing(
                        "github_oidc",
                        description,
                        "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (not a GitHub Actions job with `permissions: id-token: write`)",
                    );
                };
                let (Some(client), Some(tenant)) =
                    (self.client_id(client_id), self.tenant(tenant_id))
                else {
                    return self.missing("github_oidc", description, "no client id or tenant id: give client_id and tenant_id in the store (as azure/login takes them), or set AZURE_CLIENT_ID and AZURE_TENANT_ID");
                };
                let authority = match authority {
                    Ok(authority) => authority,
                    Err(reason) => return self.broken("github_oidc", description, reason),
                };
                if let Err(reason) = self.endpoint_var(
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    EndpointKind::ServiceWithQuery,
                ) {
                    return self.broken("github_oidc", description, reason);
                }
                match federated::Federated::github(
                    self.http,
                    authority,
                    &tenant,
                    &client,
                    url,
                    SecretString::from(request_token),
                    audience.value.clone(),
                ) {
                    Ok(source) => Box::new(source),
                    Err(error) => self.broken("github_oidc", description, chain_text(&error)),
                }
            }
            CredentialSource::CiFederation {
                preset,
                client_id,
                tenant_id,
            } => self.ci_federation(authority, preset, client_id, tenant_id),
        }
    }

    /// `type: ci_federation`: the preset's token, exchanged as a client
    /// assertion. Not here (skipped) when the CI's variables are absent.
    fn ci_federation(
        &self,
        authority: &Result<Authority, String>,
        preset: &CiPreset,
        client_id: &Option<dsops_config::model::Text>,
        tenant_id: &Option<dsops_config::model::Text>,
    ) -> Box<dyn TokenSource> {
        const KIND: &str = "ci_federation";
        let given = |t: &Option<dsops_config::model::Text>| t.as_ref().map(|t| t.value.clone());
        let (description, assertion, client, tenant) = match preset {
            CiPreset::AzurePipelines {
                service_connection_id,
            } => {
                let description = "Azure Pipelines OIDC federation (service connection)";
                let (Some(request_uri), Some(access_token)) = (
                    self.var("SYSTEM_OIDCREQUESTURI"),
                    self.var("SYSTEM_ACCESSTOKEN"),
                ) else {
                    let why = if self.var("SYSTEM_OIDCREQUESTURI").is_some() {
                        "SYSTEM_ACCESSTOKEN is not set: map it into the step with `env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }`"
                    } else {
                        "SYSTEM_OIDCREQUESTURI is not set (not an Azure Pipelines job)"
                    };
                    return self.missing(KIND, description, why);
                };
                if let Err(reason) =
                    self.endpoint_var("SYSTEM_OIDCREQUESTURI", EndpointKind::ServiceWithQuery)
                {
                    return self.broken(KIND, description, reason);
                }
                let connection = given(service_connection_id)
                    .or_else(|| self.var("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"));
                let Some(connection) = connection else {
                    return self.missing(KIND, description, "no service connection: give `service_connection_id`, or run dsops in an AzureCLI@2 task, which sets AZURESUBSCRIPTION_SERVICE_CONNECTION_ID");
                };
                let assertion = federated::Assertion::Pipelines(ci::PipelinesToken {
                    http: self.http.clone(),
                    request_uri,
                    access_token: SecretString::from(access_token),
                    service_connection_id: connection.clone(),
                });
                let client = given(client_id)
                    .or_else(|| self.var("AZURESUBSCRIPTION_CLIENT_ID"))
                    .or_else(|| self.client_id(&None));
                let tenant = given(tenant_id)
                    .or_else(|| self.var("AZURESUBSCRIPTION_TENANT_ID"))
                    .or_else(|| self.tenant(&None));
                (
                    format!("Azure Pipelines OIDC federation, service connection {connection}"),
                    assertion,
                    client,
                    tenant,
                )
            }
            CiPreset::Gitlab { token_env } | CiPreset::GenericEnv { token_env } => {
                let gitlab = matches!(preset, CiPreset::Gitlab { .. });
                let what = if gitlab { "GitLab CI" } else { "CI" };
                let description = format!("{what} OIDC federation, token in {}", token_env.value);
                if self.var(&token_env.value).is_none() {
                    let why = if gitlab {
                        format!(
                            "{} is not set (not a GitLab CI job that declares it under `id_tokens:`)",
                            token_env.value
                        )
                    } else {
                        format!("{} is not set", token_env.value)
                    };
                    return self.missing(KIND, &description, why);
                }
                let assertion = federated::Assertion::Variable(ci::TokenVariable {
                    name: token_env.value.clone(),
                    env: self.shared.clone(),
                });
                (
                    description,
                    assertion,
                    self.client_id(client_id),
                    self.tenant(tenant_id),
                )
            }
            CiPreset::GenericFile { token_file } => (
                format!("CI OIDC federation, token file {}", token_file.value),
                federated::Assertion::file(PathBuf::from(&token_file.value)),
                self.client_id(client_id),
                self.tenant(tenant_id),
            ),
        };
        let (Some(client), Some(tenant)) = (client, tenant) else {
            return self.missing(
                KIND,
                &description,
                "no client id or tenant id: give client_id and tenant_id in the store, or set AZURE_CLIENT_ID and AZURE_TENANT_ID",
            );
        };
        let authority = match authority {
            Ok(authority) => authority,
            Err(reason) => return self.broken(KIND, &description, reason),
        };
        match federated::Federated::ci(
            self.http,
            authority,
            &tenant,
            &client,
            assertion,
            &description,
        ) {
            Ok(source) => Box::new(source),
            Err(error) => self.broken(KIND, &description, chain_text(&error)),
        }
    }

    fn client_secret(
        &self,
        kind: &'static str,
        authority: &Result<Authority, String>,
        tenant: String,
        client_id: String,
        secret: SecretString,
    ) -> Box<dyn TokenSource> {
        let description = format!("service principal {client_id}");
        let authority = match authority {
            Ok(authority) => authority,
            Err(reason) => return self.broken(kind, &description, reason.clone()),
        };
        match client_secret::ClientSecret::new(
            kind, self.http, authority, &tenant, &client_id, secret,
        ) {
            Ok(source) => Box::new(source),
            Err(error) => self.broken(kind, &description, chain_text(&error)),
        }
    }
}
