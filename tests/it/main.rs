//! The integration tests of the whole product: one binary (`cargo test -p
//! dsops-cli --test it`), owned by `crates/dsops-cli` because most of it
//! drives the real `dsops` binary (`CARGO_BIN_EXE_dsops`); the rest uses
//! only the library's public API, as an application would.
//!
//! Which test goes where:
//!
//! - **A command of the CLI** (its output, exit codes, files, the leak
//!   sweep): `<command>_cli.rs`, through `support::harness::run`.
//! - **Azure's behaviours the emulator models** (paging, access policies,
//!   locks, Cosmos DB APIs, IMDS selection...), each through the binary:
//!   `azure_answers_cli.rs`.
//! - **The library's public API against the emulator** (the `Engine`,
//!   storage and Cosmos DB accounts): `engine.rs`, `accounts.rs`, through
//!   `support::in_process`; the api-versions dsops sends, each one Azure
//!   publishes for its service: `api_versions.rs`.
//! - **The configuration format** (the bad-config corpus and its snapshots,
//!   secrets written in the file, the JSON Schema, the seed page's
//!   examples): `bad_corpus.rs`, `secrets.rs`, `schema.rs`, `seed*.rs`.
//! - **CI**: `github_action.rs` (action.yml run as the runner runs it),
//!   `github_commands.rs` (differential against `@actions/core`),
//!   `ci_federation.rs` (other CIs' OIDC tokens, each issued by the emulator
//!   with its CI's claims).
//! - **The release**: `release.rs` (`scripts/package-release`'s archives).
//! - **Cross-cutting promises** (faults, token safety, no leaks, process
//!   hygiene): `fault_matrix.rs`, `token_safety.rs`, `no_leaks_cli.rs`,
//!   `hygiene.rs`; what an adversarial review broke, one test per finding:
//!   `adversarial.rs`.
//! - **Not here**: a test of one room of the library that needs its
//!   internals is a unit test beside it (`src/azure/identity/tests/`,
//!   `src/azure/keyvault/tests.rs`...); the emulator's own protocol tests
//!   are in `crates/dsops-emulator/tests`; the generated `Env` is tested in
//!   `crates/dsops-codegen/tests` and `dsops-macros/tests`.
//!
//! Shared helpers live in `support/` (see its `mod.rs`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    unreachable_pub
)]

mod support;

// Findings of the adversarial review (SECURITY.md names each test).
mod adversarial;

// Commands of the CLI.
mod azure_answers_cli;
mod check_cli;
mod doctor_cli;
mod emulator_cli;
mod exec_cli;
mod exec_watch_cli;
mod get_cli;
mod global_cli;
mod plan_cli;
mod reference_cli;
mod render_cli;

// The library's public API against the emulator.
mod accounts;
mod engine;

// The api-versions dsops sends, against the ones Azure publishes.
mod api_versions;

// The configuration format.
mod bad_corpus;
mod schema;
mod secrets;
mod seed;
mod seed_resolves;

// CI.
mod ci_federation;
mod github_action;
mod github_commands;

// What users download.
mod release;

// Cross-cutting promises.
mod fault_matrix;
// Core dumps, /proc and file modes: Unix only.
#[cfg(unix)]
mod hygiene;
mod no_leaks_cli;
mod token_safety;
