//! How fast a store's fetches go out: a concurrency window that adapts to
//! throttling, and Key Vault's documented request budget per vault.
//!
//! The window (requests in flight at once) starts at
//! [`DEFAULT_WINDOW`], grows by one after a window's worth of fetches
//! that met no `429` (additive increase) up to [`MAX_WINDOW`], and halves,
//! down to one, when the transport has seen a `429 Too Many Requests` since
//! it last shrank (multiplicative decrease). `performance.max_concurrent`,
//! when written, is where the window starts and a ceiling it never passes.
//!
//! The budget: Key Vault allows 4,000 transactions on secrets (and on
//! software keys' other operations) per vault per region in any 10 seconds
//! (<https://learn.microsoft.com/azure/key-vault/general/service-limits>).
//! dsops starts at most that many requests to one vault in 10 seconds: a
//! bucket of 4,000 that refills at 400 a second, so a run of up to 4,000
//! values never waits on it and a longer one (or a long-lived resolver)
//! never asks for more than Key Vault serves.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{AcquireError, Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Where the window starts when `performance.max_concurrent` is not
/// written. Measured (BENCHMARKS.md, section 1, *Choosing the window*):
/// with every request to a vault multiplexed over one HTTP/2 connection,
/// 16, 64, 128 and 256 in flight took 222, 87, 71 and 68 ms for 100 reads
/// at +20 ms, and 791, 267, 226 and 168 ms for 500; a window this wide
/// sends 100 reads in one round trip (what the server's stream limit
/// allows beyond that waits for a stream), well inside the per-vault
/// budget.
pub(super) const DEFAULT_WINDOW: usize = 256;
/// The widest the window grows when `performance.max_concurrent` is not
/// written (the largest value it accepts).
pub(super) const MAX_WINDOW: usize = 256;

/// Key Vault's budget: requests per vault in [`BUDGET_PERIOD`].
const BUDGET: f64 = 4_000.0;
/// The period of Key Vault's budget.
const BUDGET_PERIOD: Duration = Duration::from_secs(10);

/// A store's concurrency window.
#[derive(Debug)]
pub(super) struct Window {
    semaphore: Semaphore,
    max: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The window: permits held and available, less those to retire.
    size: usize,
    /// Fetches done without a `429` since the window last changed.
    credit: usize,
    /// Permits to retire as they come back (the window shrank while they
    /// were held).
    debt: usize,
    /// The transport's count of `429` answers when the window last shrank.
    throttles_seen: u64,
}

impl Window {
    /// A window of `initial`, never wider than `max`.
    pub(super) fn new(initial: usize, max: usize) -> Self {
        let max = max.max(1);
        let initial = initial.clamp(1, max);
        Self {
            semaphore: Semaphore::new(initial),
            max,
            state: Mutex::new(State {
                size: initial,
                credit: 0,
                debt: 0,
                throttles_seen: 0,
            }),
        }
    }

    /// The window for `max_concurrent` as written (or not).
    pub(super) fn for_setting(max_concurrent: Option<u32>) -> Self {
        match max_concurrent.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Self::new(n, n),
            None => Self::new(DEFAULT_WINDOW, MAX_WINDOW),
        }
    }

    /// The window's size now.
    #[cfg(test)]
    fn size(&self) -> usize {
        self.lock().size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for room in the window.
    pub(super) async fn acquire(&self) -> Result<Slot<'_>, AcquireError> {
        let permit = self.semaphore.acquire().await?;
        Ok(Slot {
            window: self,
            permit: Some(permit),
        })
    }

    /// Gives a slot back: `throttles` is the transport's count of `429`
    /// answers now (`None`: the fetch ended without an outcome to learn from).
    fn release(&self, permit: SemaphorePermit<'_>, throttles: Option<u64>) {
        let mut state = self.lock();
        let mut grow = false;
        match throttles {
            Some(count) if count > state.throttles_seen => {
                state.throttles_seen = count;
                let target = (state.size / 2).max(1);
                let cut = state.size - target;
                state.size = target;
                state.credit = 0;
                let retired = self.semaphore.forget_permits(cut);
                state.debt += cut - retired;
            }
            Some(_) => {
                state.credit += 1;
                if state.credit >= state.size && state.size < self.max {
                    state.credit = 0;
                    state.size += 1;
                    grow = true;
                }
            }
            None => {}
        }
        if state.debt > 0 {
            state.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
        if grow {
            if state.debt > 0 {
                state.debt -= 1;
            } else {
                self.semaphore.add_permits(1);
            }
        }
    }
}

/// Room for one fetch in a [`Window`]; [`Slot::done`] says how it went.
#[derive(Debug)]
pub(super) struct Slot<'a> {
    window: &'a Window,
    permit: Option<SemaphorePermit<'a>>,
}

impl Slot<'_> {
    /// The fetch is over; `throttles` is the transport's count of `429`
    /// answers now.
    pub(super) fn done(mut self, throttles: u64) {
        if let Some(permit) = self.permit.take() {
            self.window.release(permit, Some(throttles));
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.window.release(permit, None);
        }
    }
}

/// Key Vault's request budget, per vault.
#[derive(Debug, Default)]
pub(super) struct Budget {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Budget {
    /// Waits until one more request to `vault` stays within the budget,
    /// and counts it.
    pub(super) async fn take(&self, vault: &str) {
        let rate = BUDGET / BUDGET_PERIOD.as_secs_f64();
        loop {
            let wait = {
                let mut buckets = self
                    .buckets
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let now = Instant::now();
                let bucket = buckets.entry(vault.to_ascii_lowercase()).or_insert(Bucket {
                    tokens: BUDGET,
                    at: now,
                });
                let refilled = now.duration_since(bucket.at).as_secs_f64() * rate;
                bucket.tokens = (bucket.tokens + refilled).min(BUDGET);
                bucket.at = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - bucket.tokens) / rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_throttle_halves_the_window_and_successes_grow_it_by_one() {
        let window = Window::new(8, 16);
        // Eight fetches in flight; the first to finish saw a 429.
        let mut slots = Vec::new();
        for _ in 0..8 {
            slots.push(window.acquire().await.unwrap());
        }
        assert_eq!(window.semaphore.available_permits(), 0);
        slots.pop().unwrap().done(1);
        assert_eq!(window.size(), 4);
        // The same 429 seen again does not shrink it twice.
        slots.pop().unwrap().done(1);
        assert_eq!(window.size(), 4);
        // The six still held come back unfinished: two are retired, four
        // are free.
        slots.clear();
        assert_eq!(window.semaphore.available_permits(), 4);
        // A window's worth of clean fetches (four, the one above included)
        // adds one.
        for _ in 0..4 {
            window.acquire().await.unwrap().done(1);
        }
        assert_eq!(window.size(), 5);
        assert_eq!(window.semaphore.available_permits(), 5);
        // A new 429, down to two; never below one.
        window.acquire().await.unwrap().done(2);
        assert_eq!(window.size(), 2);
        window.acquire().await.unwrap().done(3);
        window.acquire().await.unwrap().done(4);
        assert_eq!(window.size(), 1);
        assert_eq!(window.semaphore.available_permits(), 1);
    }

    #[tokio::test]
    async fn the_window_never_passes_its_ceiling() {
        let written = Window::for_setting(Some(3));
        for _ in 0..100 {
            written.acquire().await.unwrap().done(0);
        }
        assert_eq!(written.size(), 3);
        assert_eq!(written.semaphore.available_permits(), 3);
        let adaptive = Window::for_setting(None);
        assert_eq!(adaptive.size(), DEFAULT_WINDOW);
        for _ in 0..(MAX_WINDOW * MAX_WINDOW) {
            adaptive.acquire().await.unwrap().done(0);
        }
        assert_eq!(adaptive.size(), MAX_WINDOW);
    }

    #[tokio::test]
    async fn a_slot_dropped_unfinished_is_given_back() {
        let window = Window::new(2, 2);
        drop(window.acquire().await.unwrap());
        assert_eq!(window.semaphore.available_permits(), 2);
        assert_eq!(window.size(), 2);
    }

    #[tokio::test]
    async fn no_more_than_four_thousand_requests_to_a_vault_in_ten_seconds() {
        let budget = Budget::default();
        let started = Instant::now();
        for _ in 0..4_000 {
            budget.take("https://a.vault.azure.net").await;
        }
        // Another vault has a budget of its own.
        budget.take("https://b.vault.azure.net").await;
        let at_once = started.elapsed();
        assert!(at_once < Duration::from_secs(2), "{at_once:?}");
        // Then 400 a second: 4,040 requests take at least a tenth of a
        // second, however fast the first 4,000 went.
        for _ in 0..40 {
            budget.take("https://A.vault.azure.net").await;
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(99) && elapsed < at_once + Duration::from_secs(2),
            "{elapsed:?}"
        );
    }
}
