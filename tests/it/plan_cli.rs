//! `dsops plan` as a real process: what would be fetched and with which
//! identity, offline (a guess from environment variables, no request) and
//! `--online` (the chain asked for a token, never shown). Never a value.

use serde_json::Value;

use crate::support::emulated::{Emulated, assert_reveals_nothing};
use crate::support::harness::{assert_contains, run};

#[test]
fn offline_lists_sources_and_guesses_the_identity_without_a_request() {
    let setup = Emulated::start();
    let port = setup.emulator.https_addr().port();
    let out = setup.run(&["plan", "--env", "production"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_reveals_nothing(&out);
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}:\n{}", out.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("DATABASE_PASSWORD"),
        format!(
            "DATABASE_PASSWORD secret database-password in https://dev-vault.vault.localhost:{port} azure no managed_identity"
        )
    );
    assert_eq!(line("GREETING"), "GREETING (literal) - no -");
    assert_eq!(line("LOG_LEVEL"), "LOG_LEVEL (literal) - no -");
    let imds = setup.emulator.http_url().unwrap();
    assert_contains(
        &out.stdout,
        &[&format!(
            "azure: managed_identity: managed identity via IMDS at {imds} (system-assigned) (not probed)"
        )],
    );
    assert!(setup.services().is_empty(), "{:?}", setup.services());

    // With a service principal in the environment, that comes first.
    let mut cmd = setup.command(&["plan", "--env", "production", "--format", "json"]);
    cmd.env("AZURE_CLIENT_ID", "00000000-0000-0000-0000-0000000000a1")
        .env("AZURE_CLIENT_SECRET", "CANARY-client-secret")
        .env("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_reveals_nothing(&out);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["online"], false);
    let store = &doc["stores"][0];
    assert_eq!(store["store"], "azure");
    assert_eq!(store["identity"]["kind"], "environment");
    assert_eq!(store["identity"]["probed"], false);
    assert_eq!(doc["variables"][0]["name"], "DATABASE_PASSWORD");
    assert_eq!(doc["variables"][0]["kind"], "secret");
    assert_eq!(doc["variables"][0]["identity"], "environment");
    assert_eq!(doc["variables"][2]["source"], "(literal)");
    assert!(setup.services().is_empty(), "{:?}", setup.services());
}

#[test]
fn online_names_the_identity_that_got_a_token() {
    let setup = Emulated::start();
    let out = setup.run(&["plan", "--env", "production", "--online"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_reveals_nothing(&out);
    let vm = setup.object_id("vm");
    assert_contains(
        &out.stdout,
        &["azure: managed_identity: managed identity via IMDS"],
    );
    assert_contains(&out.stdout, &[&format!("object id {vm}")]);
    // A token was asked for; no value was read.
    assert!(
        setup.services().iter().any(|s| s == "imds"),
        "{:?}",
        setup.services()
    );
    assert!(setup.keyvault_statuses().is_empty());

    let out = setup.run(&["plan", "--env", "denied", "--online", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_reveals_nothing(&out);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let store = &doc["stores"][0];
    assert_eq!(store["store"], "norole");
    assert_eq!(store["identity"]["kind"], "managed_identity");
    assert_eq!(store["identity"]["probed"], true);
    assert_eq!(store["identity"]["object_id"], setup.object_id("norole"));
    let outcomes: Vec<&Value> = store["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["outcome"])
        .collect();
    // Environment, workload identity and GitHub are not here; IMDS answers.
    assert_eq!(
        outcomes,
        ["skipped", "skipped", "skipped", "won", "not_tried"]
    );
}

#[test]
fn online_without_an_identity_fails_with_every_reason() {
    let setup = Emulated::start();
    let mut cmd = setup.command(&["plan", "--env", "production", "--online"]);
    // IMDS on a closed port; no Azure CLI on PATH.
    cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
        .env("PATH", "/nonexistent");
    let out = run(&mut cmd);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stdout,
        &[
            "no identity can get a token here",
            "managed_identity: skipped",
            "azure_cli: skipped",
        ],
    );
}
