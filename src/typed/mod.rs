//! The typed `Env`: what `#[dsops::env("production")]` and the build-script
//! generator (`dsops-codegen`) generate code against.
//!
//! ```ignore
//! #[dsops::env("production")]
//! pub struct Env;
//!
//! let env = Env::resolve().await?;            // managed identity, or the chain in dsops.yaml
//! let password: &dsops::SecretString = &env.database_password;
//! ```
//!
//! The generated struct has one public field per variable of the
//! environment, named in snake case, typed by what the variable holds:
//!
//! | `from:` | field type |
//! |---|---|
//! | a Key Vault secret, a storage key, a Cosmos DB key, a connection string | [`SecretString`] |
//! | `operation: generate_sas` | [`Sas`] (the token and its expiry) |
//! | `type: certificate` | [`Certificate`] (the private key and the chain, as PEM) |
//! | `type: key` | [`Jwk`] (the public key) |
//! | `operation: get_token` | [`AccessToken`] (a handle: [`AccessToken::get`] refreshes) |
//! | a value written in the file | `String` |
//! | any of these with `optional: true` | `Option<…>` |
//!
//! and these associated functions:
//!
//! - `resolve()` (async) and `resolve_with(ResolveOptions)`: fetch every value
//!   in parallel, as `dsops exec` would;
//! - `resolve_blocking()`: the same on the process's runtime for blocking
//!   callers (an error, not a hang, when called inside an async runtime);
//! - `watch(interval)` (async) and `watch_with`: resolve, then again every
//!   `interval`, publishing a new struct when a value changed ([`Watch`]);
//! - `from_env()`: read the variables from the process environment, with no
//!   network, for a program started by `dsops exec` or the GitHub Action;
//! - `for_tests(vars)`: a value for tests, from `(variable, value)` pairs;
//!   the rest get the values written in dsops.yaml (literals) or stand-ins.
//!
//! Every call goes through one resolver per struct and options, kept for
//! the life of the process (its token cache, secret cache and connections).
//!
//! Every error lists every field that failed ([`Error`]). `Debug` of the
//! struct redacts every value; nothing implements `Display` or `Serialize`.
//!
//! See `docs/env-macro.md` for the whole story.

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
#[cfg(feature = "azure_core")]
mod azure_core;
mod error;
mod runtime;
mod values;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;

use dsops_config::Environment;

pub use error::{Error, ErrorKind, FieldError};
pub use values::{AccessToken, Certificate, Credential, InvalidValue, Jwk, Sas, TokenError};
pub use watch::{Update, Watch};

/// How a generated struct's `resolve_with` resolves.
#[derive(Clone, Default)]
pub struct ResolveOptions {
    environment: Option<Arc<dyn Environment + Send + Sync>>,
    /// Shared by the clones of options given an `environment`: the process's
    /// resolver for them lives while one of them does (see `runtime.rs`).
    holders: Option<Arc<()>>,
    config_dir: Option<PathBuf>,
    debug: bool,
}

impl std::fmt::Debug for ResolveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolveOptions")
            .field("environment", &self.environment.as_ref().map(|_| "custom"))
            .field("config_dir", &self.config_dir)
            .field("debug", &self.debug)
            .finish()
    }
}

impl ResolveOptions {
    /// The defaults: the process environment, relative paths from the current
    /// directory, no trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `${NAME}`s of the configuration and the identity sources'
    /// variables (`AZURE_CLIENT_ID`, `IDENTITY_ENDPOINT`, ...) are read,
    /// instead of the process environment. A `HashMap<String, String>` will do.
    #[must_use]
    pub fn environment(mut self, environment: impl Environment + Send + Sync + 'static) -> Self {
        self.environment = Some(Arc::new(environment));
        self.holders = Some(Arc::new(()));
        self
    }

    /// The directory relative paths of the configuration (`cloud.ca_bundle`)
    /// are read from; the current directory by default. (The program does not
    /// carry dsops.yaml, so the directory it was in at build time is no guide.)
    #[must_use]
    pub fn config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config_dir = Some(dir.into());
        self
    }

    /// Trace every store's requests and identity sources on stderr, as
    /// `--debug` does (never a value or a token).
    #[must_use]
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    fn environment_or_process(&self) -> Arc<dyn Environment + Send + Sync> {
        self.environment
            .clone()
            .unwrap_or_else(__private::process_environment)
    }

    fn config_dir_or_current(&self) -> PathBuf {
        self.config_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    }
}
