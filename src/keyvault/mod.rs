//! Key Vault's data plane.
//!
//! - The URL of a vault as a store names it: [`vault_url`], [`vault_host_name`].
//! - Reading values, for the resolution engine ([`client`]): [`get_secret`],
//!   [`get_certificate_pem`] (the private key and the chain as one PEM),
//!   [`get_certificate_public_pem`], [`get_key_jwk`] (the public JWK); their
//!   errors are [`KeyVaultError`].
//! - For `dsops doctor`: [`probe`], which tells whether an object exists and
//!   may be read without reading its value.

pub mod client;
mod error;
mod jwk;
mod pem;
mod probe;
mod url;

pub use client::{
    CertificatePem, PEM_CONTENT_TYPE, PKCS12_CONTENT_TYPE, SecretBundle, get_certificate_pem,
    get_certificate_public_pem, get_key_jwk, get_secret,
};
pub use error::{KeyVaultError, ServiceError};
pub use probe::{ProbeOutcome, Unreachable, probe};
pub use url::{challenge_resource_matches, vault_host_name, vault_url};
