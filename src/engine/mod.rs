//! The resolution engine: configuration and environment name → a plan of
//! distinct fetches → fetched in parallel under each store's
//! `performance.max_concurrent`, one token per scope → values in zeroizing
//! types, and every problem collected with its context and a hint.
//!
//! Every entry point (exec, render, get, the GitHub mode, the typed `Env`)
//! resolves through here; they differ only in what they do with the values.

mod account;
mod fetch;
mod plan;
mod resolution;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dsops_config::Environment;
use dsops_config::model::Config;
use secrecy::SecretString;
use tokio::sync::Semaphore;

use crate::identity::{Chain, Http};

pub use plan::{
    AccountValue, Fetch, FetchTarget, KeyVaultObjectKind, Plan, PlannedSource, PlannedVariable,
    SasSpec, SqlDialectKind, arm_scope, keyvault_scope, plan,
};
pub use resolution::{Problem, Resolution};

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
type AccountReads =
    HashMap<(String, String, &'static str), account::Shared<Vec<(String, SecretString)>>>;

struct Inner {
    config: Config,
    config_dir: PathBuf,
    env: Arc<dyn Environment + Send + Sync>,
    options: EngineOptions,
    stores: Mutex<HashMap<String, Arc<StoreRuntime>>>,
    /// Subscriptions each store's identity sees, listed once.
    subscriptions: Mutex<HashMap<String, account::Shared<Vec<String>>>>,
    /// Keys and connection strings by (store, account id, action), read once.
    account_reads: Mutex<AccountReads>,
    /// Account listings by (store, subscription, kind), one per run.
    listings: Mutex<HashMap<(String, String, crate::arm::AccountKind), account::Listing>>,
    /// `secret_cache`: values by (store, target), with when they were fetched.
    secrets: Mutex<HashMap<(String, FetchTarget), (SecretString, Instant)>>,
}

/// What a store needs at run time: its HTTP client, its chain, its limit.
struct StoreRuntime {
    http: Http,
    chain: Chain,
    limit: Semaphore,
}

impl Engine {
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
                account_reads: Mutex::new(HashMap::new()),
                secrets: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The plan of `env` (offline), or `None` for an unknown environment.
    pub fn plan(&self, env: &str) -> Option<Plan> {
        plan::plan(&self.inner.config, env)
    }

    /// The identity chain of a store (built on first use, shared with
    /// resolution), or why it cannot be set up.
    pub fn store_chain(&self, store: &str) -> Result<StoreChain, String> {
        self.inner.runtime(store).map(StoreChain)
    }

    /// Resolves `env`: every fetch once, in parallel. `None` for an unknown
    /// environment.
    pub async fn resolve(&self, env: &str) -> Option<Resolution> {
        let plan = self.plan(env)?;
        let total = plan.fetches.len();
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, fetch) in plan.fetches.iter().enumerate() {
            let inner = self.inner.clone();
            let fetch = fetch.clone();
            let done = done.clone();
            tasks.spawn(async move {
                let result = fetch::fetch(&inner, &fetch).await;
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if let Some(progress) = &inner.options.progress {
                    progress(finished, total);
                }
                (index, result)
            });
        }
        let mut results: Vec<Option<Result<SecretString, fetch::Failure>>> =
            (0..total).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, result)) = joined
                && let Some(slot) = results.get_mut(index)
            {
                *slot = Some(result);
            }
        }
        Some(assemble(&plan, results))
    }
}

/// A store's identity chain, shared with the engine (for `plan --online`).
#[derive(Clone)]
pub struct StoreChain(Arc<StoreRuntime>);

impl std::fmt::Debug for StoreChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StoreChain")
            .field(&self.0.chain.store())
            .finish()
    }
}

impl StoreChain {
    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.0.chain
    }
}

impl Inner {
    fn runtime(&self, store_name: &str) -> Result<Arc<StoreRuntime>, String> {
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
            .ok_or_else(|| format!("no store `{store_name}`"))?;
        let mut options = crate::identity::http_options_for_store(store, &self.config_dir)
            .map_err(|e| crate::identity::chain_text(&e))?;
        crate::identity::apply_timeouts(&mut options, &*self.env)?;
        if self.options.debug {
            options.trace = crate::identity::Trace::stderr(true, true);
        }
        let http = Http::new(options).map_err(|e| crate::identity::chain_text(&e))?;
        let chain = Chain::for_store(store, &*self.env, &http);
        let limit = usize::try_from(store.performance.max_concurrent)
            .unwrap_or(16)
            .max(1);
        let runtime = Arc::new(StoreRuntime {
            http,
            chain,
            limit: Semaphore::new(limit),
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

    /// The shared result of one read of an account (`listKeys`...).
    fn account_read(
        &self,
        store: &str,
        id: &str,
        action: &'static str,
    ) -> account::Shared<Vec<(String, SecretString)>> {
        let mut map = self
            .account_reads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((store.to_owned(), id.to_ascii_lowercase(), action))
            .or_default()
            .clone()
    }

    /// The shared listing of a subscription's accounts of a kind.
    fn listing(
        &self,
        store: &str,
        subscription: &str,
        kind: crate::arm::AccountKind,
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

/// Values in file order, problems for every variable whose fetch failed.
fn assemble(plan: &Plan, results: Vec<Option<Result<SecretString, fetch::Failure>>>) -> Resolution {
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for variable in &plan.variables {
        match &variable.source {
            PlannedSource::Literal(value) => values.push((variable.name.clone(), value.clone())),
            PlannedSource::Fetch(index) => {
                let fetch = plan.fetches.get(*index);
                match results.get(*index).and_then(Option::as_ref) {
                    Some(Ok(value)) => values.push((variable.name.clone(), value.clone())),
                    Some(Err(failure)) => problems.push(Problem {
                        variable: variable.name.clone(),
                        optional: variable.optional,
                        env: plan.env.clone(),
                        store: fetch.map(|f| f.store.clone()).unwrap_or_default(),
                        target: fetch.map(|f| f.target.describe()).unwrap_or_default(),
                        credential: failure.credential.clone(),
                        status: failure.status,
                        code: failure.code.clone(),
                        message: failure.message.clone(),
                        hint: failure.hint.clone(),
                    }),
                    None => problems.push(Problem {
                        variable: variable.name.clone(),
                        optional: variable.optional,
                        env: plan.env.clone(),
                        store: fetch.map(|f| f.store.clone()).unwrap_or_default(),
                        target: fetch.map(|f| f.target.describe()).unwrap_or_default(),
                        credential: None,
                        status: None,
                        code: None,
                        message: "the fetch did not finish".to_owned(),
                        hint: None,
                    }),
                }
            }
        }
    }
    let literals = plan
        .variables
        .iter()
        .filter(|v| matches!(v.source, PlannedSource::Literal(_)))
        .map(|v| v.name.clone())
        .collect();
    Resolution {
        env: plan.env.clone(),
        values,
        problems,
        literals,
    }
}
