//! Secret text in dsops.yaml (literal values, client secrets, interpolated
//! secrets) never reaches `dsops check` output, JSON or `Debug`, even when the
//! problem reported is on the very line that holds it.

use crate::support::harness::{check, load_check};

const LITERAL: &str = "CANARY-literal-7f3a9c";
const CLIENT_SECRET: &str = "CANARY-client-secret-51be";
const FROM_ENV: &str = "CANARY-from-env-c0ffee";

fn config() -> String {
    format!(
        r#"version: 1
secretStores:
  azure:
    type: azure.managed_identity
    fallback:
      - type: service_principal
        client_id: not-a-guid
        client_secret: {CLIENT_SECRET}
        tenant_id: 66666666-6666-6666-6666-666666666666
      - type: service_principal
        client_id: 55555555-5555-5555-5555-555555555555
        client_secret: ${{SECRET_FROM_ENV}}
        tenant_id: ${{SECRET_FROM_ENV}}
envs:
  production:
    DB: "Server=tcp:x;Password={LITERAL}"
    bad-name: "{LITERAL}"
    PLAIN: {LITERAL}
    BROKEN: {{ from: {{ store: azure, vault: x, secret: db-password }} }}
"#
    )
}

fn assert_no_canary(what: &str, text: &str) {
    for canary in [LITERAL, CLIENT_SECRET, FROM_ENV] {
        assert!(!text.contains(canary), "{what} leaks {canary}:\n{text}");
    }
}

#[test]
fn check_output_masks_secret_text() {
    let env = [("SECRET_FROM_ENV", FROM_ENV)];
    for format in ["human", "json"] {
        let run = check(&config(), &["--format", format], &env);
        assert_eq!(run.code, 1, "the config has errors:\n{}", run.stdout);
        // The problems are reported, on the lines that hold the secrets ...
        assert!(
            run.stdout.contains("`${SECRET_FROM_ENV}`"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("credential-literal"), "{}", run.stdout);
        assert!(
            run.stdout.contains("invalid-variable-name"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("credential-in-file"), "{}", run.stdout);
        // ... without the secrets.
        assert_no_canary(format, &run.all_output());
    }
}

#[test]
fn human_output_shows_masked_lines() {
    let run = check(&config(), &[], &[("SECRET_FROM_ENV", FROM_ENV)]);
    assert!(run.stdout.contains("    DB: *****"), "{}", run.stdout);
    assert!(run.stdout.contains("    bad-name: *****"), "{}", run.stdout);
}

#[test]
fn yaml_errors_hide_the_value_on_the_broken_line() {
    let text = format!("envs:\n  production:\n    PASSWORD: \"{LITERAL}\n");
    let run = check(&text, &[], &[]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("yaml-syntax"), "{}", run.stdout);
    assert_no_canary("yaml error", &run.all_output());
}

#[test]
fn debug_of_the_model_redacts_secrets() {
    let text = format!(
        "secretStores:\n  azure:\n    type: azure.keyvault\n    vault_name: my-vault\n    auth:\n      client_id: 55555555-5555-5555-5555-555555555555\n      client_secret: ${{S}}\n      tenant_id: 66666666-6666-6666-6666-666666666666\nenvs:\n  production:\n    PLAIN: {LITERAL}\n    A: {{ from: {{ store: azure, secret: a }} }}\n"
    );
    let loaded = load_check("dsops.yaml", &text, &[("S", CLIENT_SECRET)]);
    let config = loaded.config().expect("valid");
    assert_no_canary("Debug of Config", &format!("{config:?} {config:#?}"));
    assert_no_canary("Debug of Loaded", &format!("{loaded:?}"));
}
