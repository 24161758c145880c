//! Why a token could not be had.

use crate::azure::http::HttpError;

/// A failure to get a token from one source, or of one request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IdentityError {
    /// The transport failed: no answer, no answer in time, or a URL dsops
    /// will not send a token to.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The endpoint answered with an error.
    #[error("{endpoint} answered {status}{}: {message}", code.as_ref().map(|c| format!(" {c}")).unwrap_or_default())]
    Status {
        /// The URL without its query.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The service's error code (`invalid_request`, `AADSTS7000215`...).
        code: Option<String>,
        /// The service's message.
        message: String,
    },
    /// The answer was not what the protocol says.
    #[error("{endpoint} answered with an unexpected body: {problem}")]
    Protocol {
        /// The URL without its query.
        endpoint: String,
        /// What was wrong with it.
        problem: String,
    },
    /// The platform does not support what the configuration asks.
    #[error("{0}")]
    Unsupported(String),
    /// Configuration needed for this source is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// Reading a file (a federated token, an Arc key) failed.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The Azure CLI failed.
    #[error("`az account get-access-token` failed: {0}")]
    AzureCli(String),
}

/// A source's verdict.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SourceError {
    /// The source does not exist here (no variables, no endpoint): skipped.
    #[error("not available: {0}")]
    Unavailable(String),
    /// The source was tried and failed.
    #[error(transparent)]
    Failed(#[from] IdentityError),
}

impl From<HttpError> for SourceError {
    fn from(error: HttpError) -> Self {
        SourceError::Failed(IdentityError::Http(error))
    }
}
