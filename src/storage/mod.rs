//! Azure Storage.
//!
//! - [`account_sas`]: an account shared access signature (SAS), signed
//!   locally with a storage account key, for `operation: generate_sas`
//!   ([`AccountSas`] mirrors [`StorageSasRef`](crate::config::model::StorageSasRef));
//!   its errors are [`SasError`].
//!
//! A user delegation SAS is not offered: see `docs/configuration.md`
//! ("What `generate_sas` makes").

mod sas;

pub use sas::{
    AccountSas, PERMISSIONS, RESOURCE_TYPES, SERVICES, SIGNED_VERSION, SasError, SasProtocol,
    account_sas,
};
