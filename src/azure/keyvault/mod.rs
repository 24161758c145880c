//! Key Vault's data plane.
//!
//! - The URL of a vault as a store names it: [`vault_url`], [`vault_host_name`].
//! - Reading values, for the resolution engine ([`client`]): [`get_secret`],
//!   [`get_certificate_pem`] (the private key and the chain as one PEM),
//!   [`get_certificate_public_pem`], [`get_key_jwk`] (the public JWK); their
//!   errors are [`KeyVaultError`].
//! - For `dsops doctor`: [`probe`], which tells whether an object exists and
//!   may be read without reading its value.
//! - For the action's `secrets: '*'`: [`list_secret_names`], the names of
//!   the secrets that can be read, without their values.

pub(crate) mod client;
mod der;
mod error;
mod jwk;
mod pem;
#[cfg(feature = "pkcs12")]
mod pkcs12;
mod probe;
mod url;

#[cfg(test)]
mod tests;

pub(crate) use client::{get_certificate_pem, get_key_jwk, get_secret, list_secret_names};
#[cfg(test)]
pub(crate) use client::{parse_certificate, parse_key, parse_secret};
pub(crate) use error::KeyVaultError;
#[cfg(test)]
pub(crate) use error::ServiceError;
pub(crate) use probe::probe;
pub use probe::{ProbeOutcome, Unreachable};
#[cfg(test)]
pub(crate) use probe::{same_vault, versions_page};

/// Why the secrets of a vault could not be listed (the status and code Key
/// Vault answered, or why no answer came); never a value or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ListError {
    /// What went wrong, with Key Vault's status and code when it answered.
    pub message: String,
}
pub use url::{challenge_resource_matches, vault_host_name, vault_url};
