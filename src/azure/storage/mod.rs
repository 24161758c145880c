//! Azure Storage.
//!
//! - [`list_keys`]: a storage account's keys, through Resource Manager.
//! - [`account_sas`]: an account shared access signature (SAS), signed
//!   locally with a storage account key, for `operation: generate_sas`
//!   ([`AccountSas`] mirrors [`StorageSasRef`](dsops_config::model::StorageSasRef));
//!   its errors are [`SasError`].
//!
//! A user delegation SAS is not offered: see `docs/configuration.md`
//! ("What `generate_sas` makes").

#[cfg(test)]
mod azurite;
mod keys;
mod sas;

#[cfg(test)]
pub(crate) use keys::keys_of;
pub(crate) use keys::{KEYS_ROLE, list_keys};
pub(crate) use sas::{AccountSas, account_sas, signed_expiry};
