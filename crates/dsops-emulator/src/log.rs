//! The request log: method, path, identity and status of every request, never
//! a token or a secret value. Bounded, so memory stays flat under load.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// One request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Which emulated service answered (`imds`, `app_service`, `arc`,
    /// `cloud_shell`, `entra`, `github`, `oidc`, `keyvault`, `arm`, `arm_metadata`, `admin`,
    /// or `unknown`).
    pub service: &'static str,
    /// HTTP method.
    pub method: String,
    /// Host header, without the port.
    pub host: String,
    /// Path, without the query string.
    pub path: String,
    /// The caller's identity: its name in the state file, or its object id,
    /// when the request carried a valid token or credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// For token requests: the resource (audience) a token was issued for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_for: Option<String>,
    /// Response status (0 when the connection was dropped).
    pub status: u16,
    /// The fault applied, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Time to the response head, in milliseconds.
    pub millis: u64,
}

/// The log: the last `capacity` entries plus a total count.
#[derive(Debug)]
pub struct RequestLog {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<LogEntry>,
    total: u64,
}

impl RequestLog {
    /// A log keeping the last `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends an entry, numbering it.
    pub(crate) fn push(&self, mut entry: LogEntry) {
        let mut inner = self.lock();
        inner.total += 1;
        entry.seq = inner.total;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Requests seen since start (or since the last `clear`).
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    /// Forgets every entry and resets the count.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.total = 0;
    }

    /// How many kept entries are of `service`.
    pub fn count(&self, service: &str) -> usize {
        self.lock()
            .entries
            .iter()
            .filter(|e| e.service == service)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogEntry {
        LogEntry {
            seq: 0,
            service: "keyvault",
            method: "GET".into(),
            host: "v.vault.localhost".into(),
            path: "/secrets/x".into(),
            identity: None,
            token_for: None,
            status: 200,
            fault: None,
            millis: 0,
        }
    }

    #[test]
    fn keeps_the_last_entries_and_counts_all() {
        let log = RequestLog::new(2);
        for _ in 0..5 {
            log.push(entry());
        }
        assert_eq!(log.total(), 5);
        let kept: Vec<u64> = log.entries().iter().map(|e| e.seq).collect();
        assert_eq!(kept, vec![4, 5]);
        log.clear();
        assert_eq!(log.total(), 0);
    }
}
