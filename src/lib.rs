//! dsops: secrets for programs without a stored credential.
//!
//! The configuration model lives in [`config`] (the `dsops-config` crate,
//! shared with the `#[dsops::env]` macro and build scripts).

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
