//! Procedural macros of dsops.
//!
//! `#[dsops::env("production")]` lands here: it will read `dsops.yaml` through
//! `dsops-config` (the same validation as `dsops check`) and generate a typed
//! `Env`. Until then this crate exports nothing, so no code can depend on a
//! macro that does not work yet.
