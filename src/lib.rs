//! dsops: secrets for programs, without a stored credential.
//!
//! A project describes in `dsops.yaml` which variables each environment
//! needs and where each one lives (Azure Key Vault, a storage account,
//! Azure SQL, Cosmos DB, or an Entra ID token). dsops gets an identity from
//! the platform it runs on (managed identity on Azure, workload identity
//! federation in AKS and CI, the Azure CLI on a laptop) and fetches every
//! value in parallel.
//!
//! # A typed `Env`
//!
//! What most applications want: `#[dsops::env]` reads `dsops.yaml` at
//! compile time (an invalid file is a compile error) and generates a struct
//! with one typed field per variable.
//!
//! ```no_run
//! # // The doctest has no dsops.yaml of its own: point it at the example's.
//! #[dsops::env("production", path = "examples/env-macro/dsops.yaml")]
//! pub struct Env;
//!
//! # async fn run() -> Result<(), dsops::Error> {
//! use dsops::ExposeSecret;
//!
//! let env = Env::resolve().await?; // every value, through managed identity
//! let password: &dsops::SecretString = &env.database_password;
//! assert!(!password.expose_secret().is_empty());
//! println!("{env:?}"); // every value redacted
//! # Ok(())
//! # }
//! ```
//!
//! See [`env`] and `docs/env-macro.md` for the fields' types,
//! `resolve_blocking`, `from_env` and `for_tests`.
//!
//! # The engine
//!
//! For a program that picks its environment at run time, or resolves
//! several: load the configuration with [`config`], then [`Engine`].
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use dsops::config::{LoadOptions, ProcessEnvironment, Source, load};
//! use dsops::{Engine, EngineOptions, ExposeSecret};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let text = std::fs::read_to_string("dsops.yaml")?;
//! let loaded = load(Source::new("dsops.yaml", text), &ProcessEnvironment, LoadOptions::resolve());
//! let Some(config) = loaded.config() else {
//!     return Err("dsops.yaml is not valid: run `dsops check`".into());
//! };
//! let engine = Engine::new(config.clone(), ".", Arc::new(ProcessEnvironment), EngineOptions::default());
//! let resolution = engine.resolve("production").await?;
//! for problem in &resolution.problems {
//!     eprintln!("{problem}"); // never a value
//! }
//! if let Some(password) = resolution.value("DATABASE_PASSWORD") {
//!     let _ = password.expose_secret().len();
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What is public, and why
//!
//! This file is the whole public API; every module below it is private.
//!
//! - [`env`], the value types ([`SecretString`], [`AccessToken`],
//!   [`Certificate`], [`Jwk`]) and [`ResolveOptions`] / [`Error`]: what a
//!   typed `Env` is made of; [`Watch`] keeps one up to date, and
//!   [`Credential`] lends its identity to other clients (an `azure_core`
//!   `TokenCredential` with the feature `azure_core`).
//! - [`Engine`] and the [`Plan`] / [`Resolution`] it gives: resolving an
//!   environment chosen at run time ([`Watcher`]: again on an interval),
//!   and saying what would be fetched
//!   (`dsops plan`); [`StoreClient`] and the [`identity`] and [`keyvault`]
//!   modules: checking an identity and a vault without reading a value
//!   (`dsops doctor`).
//! - [`format`](mod@format), [`template`], [`redact`] and [`ci`]: what values become on their way out
//!   (files, masked output, CI workflow commands), for programs that hand
//!   values on as the `dsops` command does.
//! - [`config`]: the configuration model (the `dsops-config` crate).
//!
//! The `dsops` command line (crate `dsops-cli`) uses nothing else.
//!
//! # Cargo features
//!
//! - `pkcs12` (on by default): certificates whose Key Vault backing secret
//!   is PKCS#12 (`application/x-pkcs12`, Key Vault's default), opened with
//!   the empty password whatever protects them: triple DES or RC2 (PBES1),
//!   AES (PBES2), or no encryption, with the MAC verified. It adds the small
//!   RustCrypto `des`, `rc2` and `cbc` crates. Without it, such a certificate
//!   is an error that names the feature; certificates kept as PEM
//!   (`application/x-pem-file`) work either way.

#![warn(missing_docs)]

mod azure;
mod engine;
mod output;
mod typed;

/// The configuration model: `dsops.yaml` parsed with spans, validated, and
/// diagnosed (the `dsops-config` crate, which the macro and build scripts
/// use too).
pub use dsops_config as config;

/// `#[dsops::env("ENV")]`: a typed struct of environment `ENV`'s variables,
/// generated from `dsops.yaml` at compile time (crate `dsops-macros`).
///
/// Arguments: the environment's name; `path = "…"`, the configuration file
/// (default: `dsops.yaml` in the package directory or the nearest parent up
/// to the workspace root); `crate = path`, where `dsops` is when renamed.
/// The generated struct has one public field per variable and the
/// associated functions `resolve()`, `resolve_with(ResolveOptions)`,
/// `resolve_blocking()`, `from_env()` and `for_tests(pairs)`.
pub use dsops_macros::env;

// Values, and the typed `Env`.
pub use secrecy::{ExposeSecret, SecretString};
pub use typed::{
    AccessToken, Certificate, Credential, Error, ErrorKind, FieldError, InvalidValue, Jwk,
    ResolveOptions, Sas, TokenError, Update, Watch,
};

// The engine.
pub use azure::arm::AccountKind;
pub use engine::{
    AccountValue, Engine, EngineError, EngineOptions, Fetch, FetchTarget, KeyVaultObjectKind, Plan,
    PlannedSource, PlannedVariable, Problem, Progress, Resolution, Round, SasSpec, SqlDialectKind,
    StoreClient, Watcher,
};

/// Identities, as [`StoreClient`] reports them: which source of a store's
/// credential chain gave a token, why the others did not, and whose token
/// it is (never the token's text).
pub mod identity {
    pub use crate::azure::identity::{
        AccessToken as Token, Attempt, AttemptOutcome, ChainError, DEFAULT_ORDER, FederatedToken,
        GITHUB_AUDIENCE, Scope, Source, TokenClaims,
    };
}

/// Key Vault, as `dsops doctor` sees it: a vault's URL, and whether an
/// object exists and may be read ([`StoreClient::probe_keyvault`]), without
/// reading a value.
pub mod keyvault {
    pub use crate::azure::keyvault::{
        ListError, ProbeOutcome, Unreachable, challenge_resource_matches, vault_host_name,
        vault_url,
    };
}

/// The formats resolved values are written in (`dsops render`): dotenv,
/// JSON and YAML.
pub mod format {
    pub use crate::output::format::{Format, encode};
}

/// Filling a template's `{{ NAME }}` placeholders with values (`dsops
/// render --template`); the syntax is in [`Template`](template::Template)'s module.
pub mod template {
    pub use crate::output::template::{Placeholder, Template, TemplateError};
}

/// Masking values in a program's output: every secret and its escaped
/// forms, replaced as the text streams through.
pub mod redact {
    pub use crate::output::redact::{MASK, MIN_SECRET_LEN, RedactError, RedactingWriter, Redactor};
}

/// Talking to CI systems: the commands a job step writes so that the
/// runner masks values in its log and passes them to later steps.
pub mod ci {
    /// GitHub Actions: `::add-mask::` and the `GITHUB_ENV` / `GITHUB_OUTPUT`
    /// file commands, as the runner and `@actions/core` read and write them.
    pub mod github {
        pub use crate::output::ci::github::{
            FileCommandError, FileKind, MIN_MASK_LEN, ParseError, RunnerOs, add_mask_lines,
            check_name, escape_data, escape_property, file_command_entry, file_command_entry_for,
            new_delimiter, parse_file_commands, parse_file_commands_for, too_short_to_mask,
            unescape_data,
        };
    }

    /// Azure Pipelines logging commands: `##vso[task.setsecret]` and
    /// `##vso[task.setvariable]`, escaped as the agent reads them.
    pub mod azure_pipelines {
        pub use crate::output::ci::azure_pipelines::{
            CommandError, Percents, check_name, set_secret_lines, set_variable_line, unescape,
        };
    }

    /// Everything a step writes to hand values on, prepared (and refused)
    /// before anything is written.
    pub mod export {
        pub use crate::output::ci::export::{Ci, ExportError, ExportTo, Variable, Writes, prepare};
    }

    /// The step summary: a table of variable, source and status, with no
    /// way to put a value in it.
    pub mod summary {
        pub use crate::output::ci::summary::{Row, Status, markdown};
    }
}

/// What the code generated by `#[dsops::env]` and the build-script
/// generator calls. Not a public API: see `src/typed/private.rs`.
#[doc(hidden)]
pub use typed::__private;
