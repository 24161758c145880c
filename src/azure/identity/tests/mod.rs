//! The identity sources and the chain through the production code path
//! (`Chain::for_store` on a loaded dsops.yaml) against `dsops emulator`.

mod chain;
mod ci;
pub(crate) mod managed;
mod sdk;
