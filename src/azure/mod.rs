//! Azure: one room per service, above one HTTP transport.
//!
//! | room | what it holds |
//! |---|---|
//! | [`http`] | the transport: retries with backoff honouring `Retry-After`, timeouts and a deadline, CA bundles, `*.localhost`, the `debug` trace; [`http::HttpError`] |
//! | [`identity`] | every way of getting a token (managed identity, workload identity federation, GitHub OIDC, service principals, the Azure CLI), the credential chain and the token cache |
//! | [`keyvault`] | Key Vault's data plane: secrets, certificates (PEM, PKCS#12), keys (JWK), and probes that read no value |
//! | [`arm`] | Resource Manager: subscriptions, listing accounts, actions on them |
//! | [`storage`] | storage account keys and account SAS |
//! | [`cosmos`] | Cosmos DB keys and connection strings |
//! | [`sql`] | Azure SQL connection strings that sign in with managed identity |
//! | [`utc`] | UTC times as Azure writes them in text (a SAS's `se`, dates in messages) |
//!
//! The rooms above `http` use it and nothing of each other's insides: each
//! room's `mod.rs` (or file) says what it offers the rest of the crate.
//! Nothing here is public API; `lib.rs` re-exports the few types
//! applications see.

pub(crate) mod arm;
#[cfg(test)]
mod conformance;
pub(crate) mod cosmos;
pub(crate) mod http;
pub(crate) mod identity;
pub(crate) mod keyvault;
pub(crate) mod sql;
pub(crate) mod storage;
#[cfg(test)]
mod testing;
pub(crate) mod utc;
