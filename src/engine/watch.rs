//! Watching an environment: the same engine resolves it again on an
//! interval, and a round says whether what the holder (a typed `Env`, the
//! child of `dsops exec --watch`) has must be replaced.
//!
//! - A value that does not expire (a secret, a key, a connection string) is
//!   replaced when it changed.
//! - A value that expires (an access token, a SAS) is replaced shortly
//!   before it expires: `token_cache.buffer` before, or half its life for
//!   one that lives less than twice that. A new token at every round (as
//!   with `token_cache.enabled: false`) is not a change.
//! - A round where a required variable failed changes nothing: the holder
//!   keeps its values, and the next round comes later (backing off).
//!
//! The cost of a round is the engine's: one request per object that may
//! have changed (pinned versions are read once, tokens come from the token
//! cache, values younger than `secret_cache.ttl` from that cache when it is
//! on). Rounds are spread by ±10 % of the interval, so that processes
//! started together do not poll together.

use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use super::{Engine, EngineError, Resolution};

/// What a round found.
#[derive(Debug)]
pub enum Round {
    /// Nothing the holder has needs replacing.
    Unchanged,
    /// The holder should take these values: `changed` names the variables
    /// whose value changed (or was about to expire), in file order.
    Changed {
        /// Every value, as resolved now.
        resolution: Resolution,
        /// The variables that changed.
        changed: Vec<String>,
    },
    /// A required variable failed, or one the holder has a value for (even
    /// an optional one): keep what is held. The resolution has the problems.
    Failed(Resolution),
}

/// Resolves one environment again and again, and compares each resolution
/// with what the holder has.
#[derive(Debug)]
pub struct Watcher {
    engine: Engine,
    env: String,
    interval: Duration,
    held: Vec<Held>,
    last_round: Instant,
    failures: u32,
    tokens_refresh_themselves: bool,
}

/// One value the holder has.
struct Held {
    name: String,
    value: Option<SecretString>,
    /// When it expires, and when it was obtained.
    expires: Option<(SystemTime, SystemTime)>,
    buffer: Duration,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("name", &self.name)
            .field("expires", &self.expires.map(|(at, _)| at))
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// The longest interval between rounds: a year. Longer ones are taken
    /// as this (a round in eight years, after failures, is still a time the
    /// clock can name).
    pub const MAX_INTERVAL: Duration = Duration::from_secs(365 * 24 * 3600);

    /// A watcher of `env` that resolves it every `interval` (at least one
    /// second, at most [`Watcher::MAX_INTERVAL`]) through `engine` (keep the engine:
    /// its caches make a round cheap).
    pub fn new(engine: Engine, env: &str, interval: Duration) -> Self {
        Self {
            engine,
            env: env.to_owned(),
            interval: interval.clamp(Duration::from_secs(1), Self::MAX_INTERVAL),
            held: Vec::new(),
            last_round: Instant::now(),
            failures: 0,
            tokens_refresh_themselves: false,
        }
    }

    /// For a holder whose access tokens refresh themselves (the typed
    /// `Env`'s [`AccessToken`](crate::AccessToken)): a new token is never a
    /// change, and tokens do not bring rounds forward.
    #[must_use]
    pub fn tokens_refresh_themselves(mut self) -> Self {
        self.tokens_refresh_themselves = true;
        self
    }

    /// The first resolution. When no required variable failed, its values
    /// are what the holder has from now on.
    pub async fn start(&mut self) -> Result<Resolution, EngineError> {
        let resolution = self.engine.resolve(&self.env).await?;
        self.last_round = Instant::now();
        if !resolution.failed() {
            self.hold(&resolution);
        }
        Ok(resolution)
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// When the next round is due: an interval (±10 %) after the last one,
    /// later after failures (2, 4, then 8 intervals), sooner when a held
    /// token or SAS must be replaced before then.
    pub fn next_round(&self) -> Instant {
        let backoff = 1_u32 << self.failures.min(3);
        let base = self.interval.saturating_mul(backoff);
        let mut due = self.last_round + jitter(base);
        let now = SystemTime::now();
        for held in &self.held {
            if let Some((expires, obtained)) = held.expires {
                let refresh_at = expires
                    .checked_sub(margin(expires, obtained, held.buffer))
                    .unwrap_or(expires);
                let wait = refresh_at.duration_since(now).unwrap_or_default();
                // Never sooner than a second after the last round: a token
                // that cannot be replaced (no network) must not spin.
                let at = (Instant::now() + wait).max(self.last_round + Duration::from_secs(1));
                due = due.min(at);
            }
        }
        due
    }

    /// Resolves again (now) and compares with what is held; a change
    /// becomes what is held.
    pub async fn round(&mut self) -> Result<Round, EngineError> {
        let resolution = self.engine.resolve(&self.env).await?;
        self.last_round = Instant::now();
        // A value the holder has that could not be had now (even an
        // optional one) fails the round: never hand on partial values.
        let lost = resolution.problems.iter().any(|p| {
            self.held
                .iter()
                .any(|h| h.name == p.variable && h.value.is_some())
        });
        if resolution.failed() || lost {
            self.failures = self.failures.saturating_add(1);
            return Ok(Round::Failed(resolution));
        }
        self.failures = 0;
        let changed = self.changes(&resolution);
        if changed.is_empty() {
            return Ok(Round::Unchanged);
        }
        self.hold(&resolution);
        Ok(Round::Changed {
            resolution,
            changed,
        })
    }

    /// The variables whose held value must be replaced by `resolution`'s.
    fn changes(&self, resolution: &Resolution) -> Vec<String> {
        let now = SystemTime::now();
        let mut changed = Vec::new();
        for held in &self.held {
            let new = resolution.value(&held.name);
            let differs = match (&held.value, new) {
                (Some(old), Some(new)) => old.expose_secret() != new.expose_secret(),
                (None, None) => false,
                _ => true,
            };
            if !differs {
                continue;
            }
            let replace = match held.expires {
                // An expiring value differs at every signing: replace it
                // only when it is about to expire.
                Some((expires, obtained)) if new.is_some() => {
                    now + margin(expires, obtained, held.buffer) >= expires
                }
                _ => true,
            };
            if replace {
                changed.push(held.name.clone());
            }
        }
        changed
    }

    fn hold(&mut self, resolution: &Resolution) {
        let now = SystemTime::now();
        let plan = self.engine.plan(&self.env).ok();
        let buffer_of = |name: &str| {
            plan.as_ref()
                .and_then(|plan| plan.variables.iter().find(|v| v.name == name))
                .and_then(|v| match v.source {
                    super::PlannedSource::Fetch(index) => plan
                        .as_ref()
                        .and_then(|p| p.fetches.get(index))
                        .and_then(|f| self.engine.config().store(&f.store))
                        .map(|s| s.cache.token_buffer),
                    super::PlannedSource::Literal(_) => None,
                })
                .unwrap_or(Duration::from_secs(300))
        };
        let is_token = |name: &str| {
            plan.as_ref()
                .and_then(|plan| {
                    let v = plan.variables.iter().find(|v| v.name == name)?;
                    match v.source {
                        super::PlannedSource::Fetch(index) => plan.fetches.get(index),
                        super::PlannedSource::Literal(_) => None,
                    }
                })
                .is_some_and(|f| matches!(f.target, super::FetchTarget::Token { .. }))
        };
        let previous = std::mem::take(&mut self.held);
        let names = plan.as_ref().map_or_else(
            || resolution.values.iter().map(|(n, _)| n.clone()).collect(),
            |p| {
                p.variables
                    .iter()
                    .map(|v| v.name.clone())
                    .collect::<Vec<_>>()
            },
        );
        let names = names
            .into_iter()
            .filter(|name| !(self.tokens_refresh_themselves && is_token(name)));
        for name in names {
            let value = resolution.value(&name).cloned();
            let expires = resolution.expires(&name).map(|at| {
                // A value kept (the same token from the cache) keeps when it
                // was obtained.
                let obtained = previous
                    .iter()
                    .find(|h| h.name == name)
                    .filter(|h| match (&h.value, &value) {
                        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
                        _ => false,
                    })
                    .and_then(|h| h.expires.map(|(_, obtained)| obtained))
                    .unwrap_or(now);
                (at, obtained)
            });
            let buffer = buffer_of(&name);
            self.held.push(Held {
                name,
                value,
                expires,
                buffer,
            });
        }
    }
}

/// How long before `expires` a value is replaced: `buffer`, or half its
/// life when that is shorter (the token cache's rule).
fn margin(expires: SystemTime, obtained: SystemTime, buffer: Duration) -> Duration {
    let life = expires.duration_since(obtained).unwrap_or_default();
    buffer.min(life / 2)
}

/// `base` ± 10 %, at random.
fn jitter(base: Duration) -> Duration {
    let mut byte = [0_u8; 2];
    let random = if aws_lc_rs::rand::fill(&mut byte).is_ok() {
        u16::from_le_bytes(byte)
    } else {
        u16::MAX / 2
    };
    // 0.9 to 1.1 of base.
    let fraction = 0.9 + 0.2 * f64::from(random) / f64::from(u16::MAX);
    base.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn any_interval_gives_a_next_round_the_clock_can_name() {
        // Only literals: a round needs no network.
        let text = "envs:\n  dev:\n    A: a\n";
        let env: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let loaded = dsops_config::load(
            dsops_config::Source::new("dsops.yaml", text),
            &env,
            dsops_config::LoadOptions::resolve(),
        );
        let config = loaded.config().expect("valid").clone();
        for interval in [Duration::ZERO, Duration::from_secs(30), Duration::MAX] {
            let engine = Engine::new(
                config.clone(),
                ".",
                std::sync::Arc::new(env.clone()),
                crate::engine::EngineOptions::default(),
            );
            let mut watcher = Watcher::new(engine, "dev", interval);
            watcher.start().await.expect("resolves");
            // Failures back off to eight intervals: still no overflow.
            watcher.failures = 3;
            let due = watcher.next_round();
            let wanted = interval.clamp(Duration::from_secs(1), Watcher::MAX_INTERVAL) * 8;
            let lead = due.saturating_duration_since(Instant::now());
            assert!(lead <= wanted.mul_f64(1.1), "{interval:?}: {lead:?}");
            assert!(lead >= wanted.mul_f64(0.89), "{interval:?}: {lead:?}");
        }
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let base = Duration::from_secs(100);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let d = jitter(base);
            assert!(
                d >= Duration::from_secs(90) && d <= Duration::from_secs(110),
                "{d:?}"
            );
            seen.insert(d.as_millis() / 1000);
        }
        assert!(seen.len() > 5, "not spread: {seen:?}");
    }

    #[test]
    fn a_short_lived_value_is_replaced_at_half_its_life() {
        let obtained = SystemTime::UNIX_EPOCH;
        let expires = obtained + Duration::from_secs(10);
        assert_eq!(
            margin(expires, obtained, Duration::from_secs(300)),
            Duration::from_secs(5)
        );
        let expires = obtained + Duration::from_secs(3600);
        assert_eq!(
            margin(expires, obtained, Duration::from_secs(300)),
            Duration::from_secs(300)
        );
    }
}
