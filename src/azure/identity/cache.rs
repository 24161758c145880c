//! One token per scope, refreshed `buffer` before it expires, fetched once
//! however many callers ask at the same time (single flight).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::{AccessToken, Scope};

#[derive(Debug)]
struct Entry {
    token: AccessToken,
    fetched: SystemTime,
}

/// The cache of one credential.
#[derive(Debug)]
pub(crate) struct TokenCache {
    enabled: bool,
    buffer: Duration,
    slots: Mutex<HashMap<Scope, Arc<tokio::sync::Mutex<Option<Entry>>>>>,
}

impl TokenCache {
    /// A cache refreshing `buffer` before expiry; `enabled: false` fetches
    /// every time (concurrent callers still share one fetch).
    pub(crate) fn new(enabled: bool, buffer: Duration) -> Self {
        Self {
            enabled,
            buffer,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The cached token for `scope` if it is fresh, else the one `fetch`
    /// gets. Callers asking for the same scope meanwhile wait for that fetch.
    pub(crate) async fn get_or_fetch<E, F, Fut>(
        &self,
        scope: &Scope,
        fetch: F,
    ) -> Result<AccessToken, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, E>>,
    {
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            slots.entry(scope.clone()).or_default().clone()
        };
        let started = SystemTime::now();
        let mut entry = slot.lock().await;
        if let Some(cached) = entry.as_ref() {
            // A caller that waited for this fetch takes its result even when
            // caching is off: that is the single flight.
            let shared = cached.fetched >= started;
            if shared || (self.enabled && self.fresh(cached)) {
                return Ok(cached.token.clone());
            }
        }
        let token = fetch().await?;
        *entry = Some(Entry {
            token: token.clone(),
            fetched: SystemTime::now(),
        });
        Ok(token)
    }

    /// Fresh: more than `buffer` left, or for a token that lives less than
    /// twice the buffer, more than half its life.
    fn fresh(&self, entry: &Entry) -> bool {
        let lifetime = entry
            .token
            .expires_on
            .duration_since(entry.fetched)
            .unwrap_or_default();
        let buffer = self.buffer.min(lifetime / 2);
        SystemTime::now() + buffer < entry.token.expires_on
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use secrecy::SecretString;

    use super::*;

    fn token(lifetime: Duration) -> AccessToken {
        AccessToken::new(SecretString::from("t"), SystemTime::now() + lifetime)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::new(true, Duration::from_secs(300)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let scope = Scope::for_resource("https://vault.azure.net");
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let (cache, fetches, scope) = (cache.clone(), fetches.clone(), scope.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(&scope, || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, ()>(token(Duration::from_secs(3600)))
                    })
                    .await
            }));
        }
        for task in tasks {
            assert!(task.await.unwrap().is_ok());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn refreshes_inside_the_buffer_and_when_disabled() {
        let scope = Scope::for_resource("x");
        let count = AtomicUsize::new(0);
        let fetch = || async {
            count.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(token(Duration::from_secs(3600)))
        };
        let cache = TokenCache::new(true, Duration::from_secs(300));
        cache.get_or_fetch(&scope, fetch).await.unwrap();
        cache.get_or_fetch(&scope, fetch).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let short = TokenCache::new(true, Duration::from_secs(3590));
        short.get_or_fetch(&scope, fetch).await.unwrap();
        short.get_or_fetch(&scope, fetch).await.unwrap();
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "a buffer longer than half the life is halved"
        );

        let off = TokenCache::new(false, Duration::from_secs(300));
        off.get_or_fetch(&scope, fetch).await.unwrap();
        off.get_or_fetch(&scope, fetch).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 4);
        let failing = TokenCache::new(true, Duration::from_secs(300));
        assert!(
            failing
                .get_or_fetch(&scope, || async { Err::<AccessToken, _>("no") })
                .await
                .is_err()
        );
    }
}
