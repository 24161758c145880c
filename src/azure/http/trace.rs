//! The `debug` trace: which identity source was tried and why, and each HTTP
//! request (method, URL without its query, status, time). Never a header, a
//! body, a token, a secret or an assertion.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

/// Where trace lines go, and which ones are wanted.
#[derive(Clone, Default)]
pub(crate) struct Trace {
    /// Log each request.
    pub log_requests: bool,
    /// Log each identity source tried and its outcome.
    pub trace_identity: bool,
    sink: Option<Arc<Mutex<Vec<String>>>>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace")
            .field("log_requests", &self.log_requests)
            .field("trace_identity", &self.trace_identity)
            .finish_non_exhaustive()
    }
}

impl Trace {
    /// Nothing is traced.
    pub(crate) fn off() -> Self {
        Self::default()
    }

    /// Lines go to stderr.
    pub(crate) fn stderr(log_requests: bool, trace_identity: bool) -> Self {
        Self {
            log_requests,
            trace_identity,
            sink: None,
        }
    }

    /// Lines are kept in memory (for tests), and the buffer is returned.
    #[cfg(test)]
    pub(crate) fn capture() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                log_requests: true,
                trace_identity: true,
                sink: Some(lines.clone()),
            },
            lines,
        )
    }

    fn emit(&self, line: String) {
        match &self.sink {
            Some(lines) => lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(line),
            None => {
                // URLs and outcomes may hold a server's text: made inert.
                let line = dsops_config::report::neutralize(&line);
                let _ = writeln!(std::io::stderr().lock(), "dsops: {line}");
            }
        }
    }

    /// A request and its outcome.
    pub(crate) fn request(&self, method: &str, url: &str, outcome: &str, millis: u128) {
        if self.log_requests {
            self.emit(format!(
                "{method} {} -> {outcome} ({millis} ms)",
                without_query(url)
            ));
        }
    }

    /// An identity source's outcome.
    pub(crate) fn identity(&self, line: impl FnOnce() -> String) {
        if self.trace_identity {
            self.emit(format!("identity: {}", line()));
        }
    }
}

/// A URL without its query string or fragment.
pub(crate) fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}
