//! The resolution engine: configuration and environment name → a plan of
//! distinct fetches → fetched in parallel under each store's concurrency
//! window (adaptive; `performance.max_concurrent` caps it) and Key Vault's
//! budget per vault, one token per scope → values in zeroizing types, and
//! every problem collected with its context and a hint.
//!
//! Every entry point (exec, render, get, the GitHub mode, the typed `Env`)
//! resolves through here; they differ only in what they do with the values.

mod account;
mod failure;
mod fetch;
mod field;
mod limit;
mod plan;
mod resolution;
mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dsops_config::Environment;
use dsops_config::model::Config;
use secrecy::SecretString;

use crate::azure::http::{Http, HttpOptions, Trace};
use crate::azure::identity::{
    AccessToken as Token, Attempt, Chain, ChainError, FederatedToken, Scope, Source, SourceError,
    chain_text,
};
use crate::azure::keyvault::{self, ProbeOutcome};
use dsops_config::model::KeyVaultObject;

pub use plan::{
    AccountValue, Fetch, FetchTarget, KeyVaultObjectKind, Plan, PlannedSource, PlannedVariable,
    SasSpec, SqlDialectKind,
};
pub use resolution::{Problem, Resolution};
pub use watch::{Round, Watcher};

/// Reports progress: fetches done, and in all.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// How the engine runs.
#[derive(Clone, Default)]
pub struct EngineOptions {
    /// Turn on every store's `debug` trace (the `--debug` flag).
    pub debug: bool,
    /// Called after each fetch.
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

/// Resolves environments of one configuration. Cheap to clone; the token
/// caches, chains and the secret cache are shared by clones.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config_dir", &self.inner.config_dir)
            .finish_non_exhaustive()
    }
}

/// Reads of accounts by (store, account id, action).
type AccountReads = HashMap<(String, String, &'static str), account::Shared<account::Read>>;

/// What the fetches of one resolution share: each read of an account
/// (keys and connection strings by store, account id and action), made
/// once whichever variables need it.
#[derive(Default)]
struct Run {
    account_reads: Mutex<AccountReads>,
}

impl Run {
    /// The shared result of one read of an account (`listKeys`...).
    fn account_read(
        &self,
        store: &str,
        id: &str,
        action: &'static str,
    ) -> account::Shared<account::Read> {
        let mut map = self
            .account_reads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((store.to_owned(), id.to_ascii_lowercase(), action))
            .or_default()
            .clone()
    }
}

struct Inner {
    config: Config,
    config_dir: PathBuf,
    env: Arc<dyn Environment + Send + Sync>,
    options: EngineOptions,
    stores: Mutex<HashMap<String, Arc<StoreRuntime>>>,
    /// Subscriptions each store's identity sees, listed once.
    subscriptions: Mutex<HashMap<String, account::Shared<Vec<String>>>>,
    /// Account listings by (store, subscription, kind), one per run.
    listings: Mutex<HashMap<(String, String, crate::azure::arm::AccountKind), account::Listing>>,
    /// `secret_cache`: values by (store, target), with when they were fetched.
    secrets: Mutex<HashMap<(String, FetchTarget), (SecretString, Instant)>>,
    /// Key Vault's request budget per vault, whichever store asks.
    budget: limit::Budget,
    /// Pinned versions of Key Vault objects, which never change: read once.
    pinned: Mutex<HashMap<(String, FetchTarget), SecretString>>,
}

/// What a store needs at run time: its HTTP client, its chain, its
/// concurrency window.
struct StoreRuntime {
    http: Http,
    chain: Chain,
    limit: limit::Window,
}

impl Engine {
    /// Whether `other` is this engine (a clone of it), for tests.
    #[cfg(test)]
    pub(crate) fn same_as(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// An engine for `config`, read from a file in `config_dir` (relative
    /// paths such as `cloud.ca_bundle` are resolved there), with `env` as
    /// the environment identity sources read.
    pub fn new(
        config: Config,
        config_dir: impl Into<PathBuf>,
        env: Arc<dyn Environment + Send + Sync>,
        options: EngineOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                config_dir: config_dir.into(),
                env,
                options,
                stores: Mutex::new(HashMap::new()),
                listings: Mutex::new(HashMap::new()),
                subscriptions: Mutex::new(HashMap::new()),
                secrets: Mutex::new(HashMap::new()),
                budget: limit::Budget::default(),
                pinned: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The plan of `env` (offline): what resolving it would fetch.
    pub fn plan(&self, env: &str) -> Result<Plan, EngineError> {
        plan::plan(&self.inner.config, env)
    }

    /// A store's client (built on first use, shared with resolution): its
    /// identity chain, and probes that read no value.
    pub fn store(&self, store: &str) -> Result<StoreClient, EngineError> {
        self.inner.runtime(store).map(StoreClient)
    }

    /// Resolves `env`: every fetch once, in parallel. A fetch that fails is
    /// a [`Problem`] of the [`Resolution`], not an error: only an unknown
    /// environment is.
    ///
    /// An engine kept for a process's life (the typed `Env`, a [`Watcher`])
    /// resolves again with what it learnt: its tokens while they are fresh
    /// (`token_cache`), values younger than `secret_cache.ttl` when that is
    /// on, pinned versions of Key Vault objects (which never change), and
    /// where each account lives. Everything else is read again: each call
    /// costs one request per object that may have changed.
    pub async fn resolve(&self, env: &str) -> Result<Resolution, EngineError> {
        let plan = self.plan(env)?;
        // Keys are read once per resolution, not per engine (they rotate),
        // and resolutions at the same time each have their own reads.
        let run = Arc::new(Run::default());
        let total = plan.fetches.len();
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, fetch) in plan.fetches.iter().enumerate() {
            let inner = self.inner.clone();
            let run = run.clone();
            let fetch = fetch.clone();
            let done = done.clone();
            tasks.spawn(async move {
                let result = fetch::fetch(&inner, &run, &fetch).await;
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if let Some(progress) = &inner.options.progress {
                    progress(finished, total);
                }
                (index, result)
            });
        }
        let mut results: Vec<Option<Result<fetch::Fetched, failure::Failure>>> =
            (0..total).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, result)) = joined
                && let Some(slot) = results.get_mut(index)
            {
                *slot = Some(result);
            }
        }
        Ok(assemble(&plan, results))
    }
}

/// One store of an [`Engine`], for inspection: its credential chain (which
/// source gives a token, and why the others do not) and probes of Key Vault
/// objects that read no value. What `dsops plan --online` and `dsops doctor`
/// use. Cheap to clone; shares the engine's token cache.
#[derive(Clone)]
pub struct StoreClient(Arc<StoreRuntime>);

impl std::fmt::Debug for StoreClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StoreClient")
            .field(&self.0.chain.store())
            .finish()
    }
}

impl StoreClient {
    /// The store's name.
    pub fn name(&self) -> &str {
        self.0.chain.store()
    }

    /// The sources of the store's chain, in the order they are tried.
    pub fn sources(&self) -> Vec<Source> {
        self.0
            .chain
            .sources()
            .map(|s| Source {
                kind: s.kind(),
                description: s.describe(),
            })
            .collect()
    }

    /// Tries every source for `scope`, in order, until one gives a token:
    /// what happened to each, and the winner's index and token.
    pub async fn walk(&self, scope: &Scope) -> (Vec<Attempt>, Option<(usize, Token)>) {
        self.0.chain.walk(scope).await
    }

    /// For the federated source at `index` of [`StoreClient::sources`]
    /// (workload identity, GitHub OIDC, another CI), the issuer, subject and
    /// audiences of the token it presents to Entra ID, fetched anew and read
    /// without verifying it: what a federated credential must name. `None`
    /// for other sources; `Err` (the cause chain on one line) when the token
    /// cannot be had.
    pub async fn federated_token(&self, index: usize) -> Option<Result<FederatedToken, String>> {
        let source = self.0.chain.sources().nth(index)?;
        Some(
            source
                .federated_token()
                .await?
                .map_err(|error| match error {
                    SourceError::Unavailable(why) => why,
                    SourceError::Failed(error) => chain_text(&error),
                }),
        )
    }

    /// A token for `scope`, from the source that gave the last one (or the
    /// first that gives one), through the store's token cache.
    pub async fn token(&self, scope: &Scope) -> Result<Token, ChainError> {
        self.0.chain.token(scope).await
    }

    /// The names of the secrets of `vault_url` that can be read now
    /// (enabled, valid; not those behind certificates), without reading a
    /// value: what the action's `secrets: '*'` resolves.
    pub async fn list_secrets(
        &self,
        vault_url: &str,
        token: &Token,
    ) -> Result<Vec<String>, keyvault::ListError> {
        keyvault::list_secret_names(&self.0.http, &token.secret, vault_url)
            .await
            .map_err(|error| keyvault::ListError {
                message: crate::azure::identity::chain_text(&error),
            })
    }

    /// Whether object `name` of `vault_url` exists and `token` may read it,
    /// without reading its value (one request for its list of versions).
    pub async fn probe_keyvault(
        &self,
        vault_url: &str,
        object: KeyVaultObject,
        name: &str,
        token: &Token,
    ) -> ProbeOutcome {
        keyvault::probe(&self.0.http, vault_url, object, name, token).await
    }
}

/// Why an [`Engine`] cannot do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The configuration has no such environment.
    #[error("no environment `{env}` in the configuration")]
    UnknownEnv {
        /// The name asked for.
        env: String,
        /// The environments there are, in file order.
        known: Vec<String>,
    },
    /// The configuration has no such store.
    #[error("no store `{store}`")]
    UnknownStore {
        /// The name asked for.
        store: String,
    },
    /// The store's HTTP client cannot be set up: its `cloud.ca_bundle`
    /// cannot be read or is not PEM, or `DSOPS_TIMEOUT` /
    /// `DSOPS_REQUEST_TIMEOUT` is not a duration.
    #[error("{reason}")]
    StoreSetup {
        /// The store.
        store: String,
        /// Why, with its causes, on one line.
        reason: String,
    },
}

impl Inner {
    fn runtime(&self, store_name: &str) -> Result<Arc<StoreRuntime>, EngineError> {
        let mut stores = self
            .stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(runtime) = stores.get(store_name) {
            return Ok(runtime.clone());
        }
        let store = self
            .config
            .store(store_name)
            .ok_or_else(|| EngineError::UnknownStore {
                store: store_name.to_owned(),
            })?;
        let setup = |error: &dyn std::error::Error| EngineError::StoreSetup {
            store: store_name.to_owned(),
            reason: crate::azure::identity::chain_text(error),
        };
        let mut options = HttpOptions::for_store(store, &self.config_dir).map_err(|e| setup(&e))?;
        options.apply_timeouts(&*self.env).map_err(|e| setup(&e))?;
        if self.options.debug {
            options.trace = Trace::stderr(true, true);
        }
        let http = Http::new(options).map_err(|e| setup(&e))?;
        let chain = Chain::for_store(store, &self.env, &http);
        let runtime = Arc::new(StoreRuntime {
            http,
            chain,
            limit: limit::Window::for_setting(store.performance.max_concurrent),
        });
        stores.insert(store_name.to_owned(), runtime.clone());
        Ok(runtime)
    }

    /// The shared list of a store's subscriptions.
    fn subscription_list(&self, store: &str) -> account::Shared<Vec<String>> {
        let mut map = self
            .subscriptions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(store.to_owned()).or_default().clone()
    }

    /// The shared listing of a subscription's accounts of a kind.
    fn listing(
        &self,
        store: &str,
        subscription: &str,
        kind: crate::azure::arm::AccountKind,
    ) -> account::Listing {
        let mut listings = self
            .listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        listings
            .entry((store.to_owned(), subscription.to_ascii_lowercase(), kind))
            .or_default()
            .clone()
    }

    /// A value `secret_cache` still holds.
    fn cached(&self, store: &str, target: &FetchTarget, ttl: Duration) -> Option<SecretString> {
        let secrets = self
            .secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (value, at) = secrets.get(&(store.to_owned(), target.clone()))?;
        (at.elapsed() < ttl).then(|| value.clone())
    }

    /// The value of a pinned version read before.
    fn pinned(&self, store: &str, target: &FetchTarget) -> Option<SecretString> {
        let pinned = self
            .pinned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pinned.get(&(store.to_owned(), target.clone())).cloned()
    }

    fn pin(&self, store: &str, target: &FetchTarget, value: &SecretString) {
        let mut pinned = self
            .pinned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pinned.insert((store.to_owned(), target.clone()), value.clone());
    }

    fn remember(&self, store: &str, target: &FetchTarget, value: &SecretString) {
        let mut secrets = self
            .secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        secrets.insert(
            (store.to_owned(), target.clone()),
            (value.clone(), Instant::now()),
        );
    }
}

/// Values in file order, problems for every variable whose fetch failed
/// (or whose `field` is not in the value); an optional variable with a
/// `default` that failed gets the default, and its problem stays a warning.
fn assemble(
    plan: &Plan,
    results: Vec<Option<Result<fetch::Fetched, failure::Failure>>>,
) -> Resolution {
    let mut values = Vec::new();
    let mut expires = Vec::new();
    let mut problems = Vec::new();
    let mut literals: Vec<String> = plan
        .variables
        .iter()
        // A literal `${NAME}` supplied is a value from the environment: it
        // is masked and exported as a secret, as a fetched one.
        .filter(|v| matches!(v.source, PlannedSource::Literal(_)) && !v.interpolated)
        .map(|v| v.name.clone())
        .collect();
    for variable in &plan.variables {
        let index = match &variable.source {
            PlannedSource::Literal(value) => {
                values.push((variable.name.clone(), value.clone()));
                continue;
            }
            PlannedSource::Fetch(index) => *index,
        };
        let fetch = plan.fetches.get(index);
        let mut target = fetch.map(|f| f.target.describe()).unwrap_or_default();
        if let Some(path) = &variable.field {
            target.push_str(&format!(", field {}", field::display(path)));
        }
        let outcome = match results.get(index).and_then(Option::as_ref) {
            Some(Ok(fetched)) => {
                if let Some(at) = fetched.expires {
                    expires.push((variable.name.clone(), at));
                }
                match &variable.field {
                    None => Ok(fetched.value.clone()),
                    Some(path) => field::select(&fetched.value, path),
                }
            }
            Some(Err(failure)) => Err(failure.clone()),
            None => Err(failure::Failure::plain("the fetch did not finish", None)),
        };
        match outcome {
            Ok(value) => values.push((variable.name.clone(), value)),
            Err(failure) => {
                if variable.optional
                    && let Some(default) = &variable.default
                {
                    values.push((variable.name.clone(), default.clone()));
                    // Written in the file: not a secret, not masked; one
                    // that `${NAME}` supplied is a secret.
                    if !variable.interpolated {
                        literals.push(variable.name.clone());
                    }
                }
                problems.push(Problem {
                    variable: variable.name.clone(),
                    optional: variable.optional,
                    env: plan.env.clone(),
                    store: fetch.map(|f| f.store.clone()).unwrap_or_default(),
                    target,
                    credential: failure.credential,
                    status: failure.status,
                    code: failure.code,
                    message: match (&variable.default, variable.optional) {
                        (Some(_), true) => format!("{}; its default is used", failure.message),
                        _ => failure.message,
                    },
                    hint: failure.hint,
                });
            }
        }
    }
    Resolution {
        env: plan.env.clone(),
        values,
        problems,
        literals,
        expires,
    }
}
