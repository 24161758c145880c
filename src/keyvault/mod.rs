//! Key Vault's data plane.
//!
//! For now only what `dsops doctor` needs: the URL of a vault as a store
//! names it, and a probe that tells whether an object exists and may be read
//! without reading its value.

mod probe;

pub use probe::{KeyVaultError, ProbeOutcome, Unreachable, probe, vault_host_name, vault_url};
