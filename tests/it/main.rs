//! The one integration-test binary: every test drives the real `dsops`
//! binary or the public library API. Shared helpers live in `harness`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    unreachable_pub
)]

mod accounts;
mod bad_corpus;
mod check_cli;
mod doctor_cli;
mod emulated;
mod emulator_cli;
mod engine;
mod exec_cli;
mod fault_matrix;
mod get_cli;
mod github_action;
mod github_commands;
mod harness;
mod hygiene;
mod in_process;
mod no_leaks_cli;
mod plan_cli;
mod render_cli;
mod schema;
mod secrets;
mod seed;
mod seed_resolves;
mod token_safety;
