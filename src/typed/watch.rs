//! `Env::watch(interval)`: the struct, resolved again on an interval by the
//! process's resolver, published when a value changed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::__private::{Spec, Values, unknown_env, values_of};
use super::ResolveOptions;
use super::error::Error;
use crate::engine::{Round, Watcher};

/// A generated `Env` kept up to date: made by `Env::watch(interval)`.
///
/// Every `interval` (±10 %, so that replicas do not poll together) the
/// process's resolver reads the environment again, at a cost of one request
/// per object that may have changed (a pinned version is read once, a token
/// comes from the token cache, and with `secret_cache` on a value is read
/// at most once per `ttl`). When a value changed, a new `Env` is published
/// with the fields that changed ([`Watch::changed`]), so that a service can
/// rebuild a connection pool. Token fields refresh themselves
/// ([`AccessToken::get`](crate::AccessToken::get)); a new token is not a
/// change.
///
/// A round that fails (the vault unreachable, a secret deleted) publishes
/// nothing: the last good `Env` stays current, [`Watch::last_failure`] says
/// why, and the next rounds back off (2, 4, then 8 intervals). Requests
/// that are throttled wait for `Retry-After`, as every request of dsops.
///
/// The watch runs on the Tokio runtime it was started on, until the
/// `Watch` is dropped.
pub struct Watch<T> {
    receiver: tokio::sync::watch::Receiver<Update<T>>,
    failure: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl<T> std::fmt::Debug for Watch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let update = self.receiver.borrow();
        f.debug_struct("Watch")
            .field("generation", &update.generation)
            .field("changed", &update.changed)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Watch<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One published `Env`.
pub struct Update<T> {
    /// The struct.
    pub env: Arc<T>,
    /// The fields whose value changed since the previous one (empty for the
    /// first), in declaration order.
    pub changed: Vec<&'static str>,
    /// 0 for the first, then one more for each update.
    pub generation: u64,
}

impl<T> Clone for Update<T> {
    fn clone(&self) -> Self {
        Self {
            env: self.env.clone(),
            changed: self.changed.clone(),
            generation: self.generation,
        }
    }
}

impl<T> std::fmt::Debug for Update<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Update")
            .field("changed", &self.changed)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl<T> Watch<T> {
    /// The current struct.
    pub fn current(&self) -> Arc<T> {
        self.receiver.borrow().env.clone()
    }

    /// Waits for the next update, and returns it; `None` if the watch has
    /// stopped (its runtime is shutting down).
    pub async fn changed(&mut self) -> Option<Update<T>> {
        self.receiver.changed().await.ok()?;
        Some(self.receiver.borrow_and_update().clone())
    }

    /// A receiver of the updates, for a `select!` loop or another task. It
    /// sees no more updates once this `Watch` is dropped.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Update<T>> {
        self.receiver.clone()
    }

    /// Why the last round failed, if it did (every field that failed, with
    /// its store and a hint; never a value). `None` after a good round.
    pub fn last_failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

pub(crate) async fn start<T: Send + Sync + 'static>(
    spec: &'static Spec,
    options: ResolveOptions,
    interval: Duration,
    build: fn(Values) -> Result<T, Error>,
) -> Result<Watch<T>, Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(spec.error(super::ErrorKind::OutsideTokio));
    }
    let engine = super::runtime::engine(spec, &options)?;
    let mut watcher = Watcher::new(engine.clone(), spec.env, interval).tokens_refresh_themselves();
    let Ok(first) = watcher.start().await else {
        return Err(unknown_env(spec));
    };
    let env = build(values_of(spec, &engine, &first)?)?;
    drop(first);
    let (sender, receiver) = tokio::sync::watch::channel(Update {
        env: Arc::new(env),
        changed: Vec::new(),
        generation: 0,
    });
    let failure = Arc::new(Mutex::new(None));
    let task = tokio::spawn({
        let failure = failure.clone();
        async move {
            let set_failure = |why: Option<String>| {
                *failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = why;
            };
            let mut generation = 0;
            loop {
                tokio::time::sleep_until(watcher.next_round().into()).await;
                match watcher.round().await {
                    Ok(Round::Unchanged) => set_failure(None),
                    Ok(Round::Changed {
                        resolution,
                        changed,
                    }) => match values_of(spec, &engine, &resolution).and_then(build) {
                        Ok(env) => {
                            generation += 1;
                            let changed = spec
                                .fields
                                .iter()
                                .filter(|f| changed.iter().any(|v| v == f.variable))
                                .map(|f| f.field)
                                .collect();
                            sender.send_replace(Update {
                                env: Arc::new(env),
                                changed,
                                generation,
                            });
                            set_failure(None);
                        }
                        Err(error) => set_failure(Some(error.to_string())),
                    },
                    Ok(Round::Failed(resolution)) => {
                        let why = values_of(spec, &engine, &resolution)
                            .err()
                            .map_or_else(|| "a round failed".to_owned(), |e| e.to_string());
                        set_failure(Some(why));
                    }
                    Err(error) => set_failure(Some(error.to_string())),
                }
            }
        }
    });
    Ok(Watch {
        receiver,
        failure,
        task,
    })
}
