//! Why a request got no answer worth reading: the transport's own errors.
//! What a service answered (an error status, an unexpected body) is each
//! service's business and its own error type.

use std::time::Duration;

/// A request that could not be made, or got no answer in time.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The request could not be sent or got no answer.
    #[error("{method} {endpoint} failed")]
    Transport {
        /// `GET`, `POST`.
        method: &'static str,
        /// The URL without its query.
        endpoint: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the time allowed.
    #[error("{method} {endpoint}: no answer within {} ms", .after.as_millis())]
    Timeout {
        /// `GET`, `POST`.
        method: &'static str,
        /// The URL without its query.
        endpoint: String,
        /// How long dsops waited.
        after: Duration,
    },
    /// dsops would not send a token there: plain `http` to a host that is
    /// not loopback, user information in the URL, or a host the token is
    /// not for.
    #[error("refusing to send a token to {endpoint}: {reason}")]
    Refused {
        /// The URL without its query.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The clients cannot be built (a CA bundle that is not PEM, TLS).
    #[error("{0}")]
    Setup(String),
    /// The CA bundle a store names cannot be read.
    #[error("cannot read {path}")]
    CaBundle {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `DSOPS_TIMEOUT` or `DSOPS_REQUEST_TIMEOUT` is not a duration.
    #[error("{name}={value:?} is not a duration such as `30s` or `500ms`")]
    BadTimeout {
        /// The variable.
        name: &'static str,
        /// What it holds.
        value: String,
    },
}
