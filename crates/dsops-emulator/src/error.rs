//! Errors of starting and configuring the emulator.

use std::path::PathBuf;

/// Why the emulator could not start, or a state change was refused.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The state file could not be read.
    #[error("cannot read the state file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not valid.
    #[error("invalid emulator state{}: {message}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    State {
        /// The file, if the state came from one.
        path: Option<PathBuf>,
        /// What is wrong, with its line and column when known.
        message: String,
    },
    /// Binding or serving failed.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file (the CA bundle) failed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Certificate generation or TLS setup failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A cryptographic primitive failed.
    #[error("cryptography failed: {0}")]
    Crypto(&'static str),
}
