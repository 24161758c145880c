//! What the tests share; no test lives here but the harness's own.
//!
//! - `harness`: running the `dsops` binary in a clean environment, with the
//!   leak sweep on every run; configs in temporary directories; fixtures.
//! - `emulated`: a directory with dsops.yaml and the CA of an in-process
//!   `dsops emulator`, for the commands that resolve values.
//! - `in_process`: the library's `Engine` against an in-process emulator.
//! - `seed_page`: the YAML examples of the page dsops was designed from.

pub mod emulated;
pub mod harness;
pub mod in_process;
pub mod seed_page;
