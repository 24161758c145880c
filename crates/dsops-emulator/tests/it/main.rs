//! Integration tests of the emulator: real HTTP over loopback, and the
//! official Azure SDKs against it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod harness;

mod azure_cli;
mod conformance;
mod js_sdk;
mod load;
mod pipelines_sdk;
mod protocols;
mod python_sdk;
mod rust_sdk;
