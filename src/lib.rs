//! dsops: secrets for programs without a stored credential.
//!
//! The configuration model lives in [`config`] (the `dsops-config` crate,
//! shared with the `#[dsops::env]` macro and build scripts).
//!
//! [`env`] (`#[dsops::env("production")]`) generates a typed struct of an
//! environment's variables; [`typed`] has the types its fields use.

pub use dsops_config as config;

pub mod arm;
pub mod ci;
pub mod engine;
pub mod format;
pub mod identity;
pub mod keyvault;
pub mod redact;
pub mod sql;
pub mod storage;
pub mod typed;

pub use dsops_macros::env;
pub use typed::{ExposeSecret, SecretString};

/// What generated code calls; not a public API.
#[doc(hidden)]
pub use typed::__private;
