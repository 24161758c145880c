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
        source: TransportError,
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

/// Why a request got no answer: hyper-util's client (connecting, sending,
/// the answer's head), hyper reading the body, or a request that cannot be
/// made. Shown as its cause is: the chain below it says the rest
/// (`tcp connect error`, `invalid peer certificate: …`, `dns error`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    /// Connecting (DNS, TCP, proxy, TLS), sending the request or reading
    /// the answer's head.
    #[error(transparent)]
    Client(#[from] hyper_util::client::legacy::Error),
    /// Reading the answer's body.
    #[error(transparent)]
    Body(hyper::Error),
    /// The request cannot be made as asked: a URL that does not parse,
    /// too many redirects (the message says which, without the URL).
    #[error("{0}")]
    Request(String),
}

impl TransportError {
    /// No connection: DNS, TCP, the proxy or the TLS handshake failed.
    pub(crate) fn is_connect(&self) -> bool {
        matches!(self, TransportError::Client(e) if e.is_connect())
    }

    /// The body broke off (reset, truncated, not as long as it said).
    pub(crate) fn is_body(&self) -> bool {
        matches!(self, TransportError::Body(_))
    }

    /// Something timed out below the attempt's own timeout (the connect
    /// timeout, the operating system's).
    pub(crate) fn is_timeout(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::TimedOut
            {
                return true;
            }
            if let Some(hyper) = e.downcast_ref::<hyper::Error>()
                && hyper.is_timeout()
            {
                return true;
            }
            source = e.source();
        }
        false
    }
}
