//! `dsops get` as a real process against the in-process emulator.

use serde_json::Value;

use crate::support::emulated::{API_KEY, DB_PASSWORD, Emulated, HOSTILE, assert_reveals_nothing};
use crate::support::harness::assert_contains;

#[test]
fn prints_the_value_with_or_without_a_newline() {
    let setup = Emulated::start();
    let out = setup.run(&["get", "--env", "production", "DATABASE_PASSWORD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{DB_PASSWORD}\n"));
    assert_eq!(out.stderr, "");

    let out = setup.run(&["get", "--env", "production", "API_KEY", "--raw"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, API_KEY);

    // Bytes as they are, newlines and quotes included.
    let out = setup.run(&["get", "--env", "hostile", "H1", "--raw"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, HOSTILE[1]);

    // Only what the variable needs is fetched.
    assert_eq!(
        setup.keyvault_secrets(),
        ["database-password", "api-key", "hostile-1"]
    );
}

#[test]
fn json_has_the_name_and_the_value() {
    let setup = Emulated::start();
    let out = setup.run(&["get", "--env", "hostile", "H0", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["name"], "H0");
    assert_eq!(doc["value"], HOSTILE[0]);
}

#[test]
fn another_variable_failing_does_not_fail_get() {
    let setup = Emulated::start();
    // `partial` has NOTHING, which is not in the vault.
    let out = setup.run(&["get", "--env", "partial", "DATABASE_PASSWORD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{DB_PASSWORD}\n"));
    assert_eq!(out.stderr, "");
}

#[test]
fn a_failing_variable_is_an_error_without_any_value() {
    let setup = Emulated::start();
    let out = setup.run(&["get", "--env", "denied", "DATABASE_PASSWORD"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_contains(
        &out.stderr,
        &["ForbiddenByRbac", "grant 'Key Vault Secrets User'"],
    );
    assert_reveals_nothing(&out);

    // An optional variable asked for by name is required.
    let out = setup.run(&["get", "--env", "mixed", "EXTRA"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(&out.stderr, &["error: EXTRA"]);

    let out = setup.run_words("get --env denied DATABASE_PASSWORD --format json");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_reveals_nothing(&out);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(doc.get("value").is_none(), "{doc:#}");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("DATABASE_PASSWORD of environment denied could not be resolved")
    );
    let problem = &doc["problems"][0];
    assert_eq!(problem["variable"], "DATABASE_PASSWORD");
    assert_eq!(problem["status"], 403);
    assert_eq!(problem["store"], "norole");
    assert!(
        problem["hint"]
            .as_str()
            .unwrap()
            .contains(&setup.object_id("norole"))
    );
}

#[test]
fn an_unknown_variable_gets_a_suggestion() {
    let setup = Emulated::start();
    let out = setup.run(&["get", "--env", "production", "DATABASE_PASWORD"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_contains(
        &out.stderr,
        &[
            "environment production has no variable `DATABASE_PASWORD`",
            "did you mean `DATABASE_PASSWORD`?",
        ],
    );

    let out = setup.run_words("get --env production database_password --format json");
    assert_eq!(out.code, 1);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["hint"], "did you mean `DATABASE_PASSWORD`?");
    assert_eq!(doc["problems"], Value::Array(Vec::new()));
    // Nothing was asked of Azure.
    assert!(setup.services().is_empty(), "{:?}", setup.services());

    // An unknown environment is reported as `check` reports it.
    let out = setup.run(&["get", "--env", "prod", "DATABASE_PASSWORD"]);
    assert_eq!(out.code, 1);
    assert_contains(
        &out.stderr,
        &["no environment called `prod`", "did you mean `production`?"],
    );
}

#[test]
fn a_configuration_error_keeps_its_colours_on_a_terminal() {
    // The report's colours reach a terminal as colours, not as the text of
    // their escape sequences (which is what server text gets).
    let dir = crate::support::harness::config_dir(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\nenvs:\n  prod:\n    A: { from: { store: nope, vault: vlt, secret: s } }\n",
    );
    let mut cmd = crate::support::harness::dsops(dir.path());
    cmd.args(["get", "--env", "prod", "A"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1");
    let out = crate::support::harness::run(&mut cmd);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("\u{1b}[1m") && out.stderr.contains("error[unknown-store]"),
        "{:?}",
        out.stderr
    );
    assert!(!out.stderr.contains("\\u{1b}"), "{:?}", out.stderr);
}
