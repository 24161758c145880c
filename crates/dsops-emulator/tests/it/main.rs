//! Integration tests of the emulator: real HTTP over loopback, and the
//! official Azure SDKs against it.

mod harness;

mod load;
mod protocols;
mod python_sdk;
mod rust_sdk;
