//! `dsops check` as a user runs it: exit codes, formats, `--env`, the config
//! path, and what it prints.

use crate::support::harness::{self, check, config_dir, dsops, run};

const VALID: &str = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
envs:
  production:
    DATABASE_PASSWORD:
      from: { store: azure, vault: prod-keyvault, secret: database-password }
  staging:
    DATABASE_PASSWORD:
      from: { store: azure, vault: staging-keyvault, secret: database-password }
";

/// Valid except for one typo in `staging`.
const TYPO_IN_STAGING: &str = "secretStores:
  azure:
    type: azure.managed_identity
envs:
  production:
    DATABASE_PASSWORD:
      from: { store: azure, vault: prod-keyvault, secret: database-password }
  staging:
    DATABASE_PASSWORD:
      from: { store: azure, vault: staging-keyvault, secrt: database-password }
";

#[test]
fn a_valid_file_exits_0_with_a_summary() {
    let run = check(VALID, &[], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "dsops.yaml: ok: 2 environments, 2 variables, 1 store\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn problems_exit_1_and_point_at_the_spot() {
    let run = check(TYPO_IN_STAGING, &[], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("error[unknown-key]: unknown key `secrt` in `from`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> dsops.yaml:10:54"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did you mean `secret`?"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("dsops.yaml: 1 error, 0 warnings\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["--format", "xml"][..], &["--no-such-flag"][..]] {
        let run = check(VALID, args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    let dir = config_dir(VALID);
    assert_eq!(run(dsops(dir.path()).arg("no-such-command")).code, 2);
}

#[test]
fn env_limits_the_check_to_one_environment() {
    assert_eq!(
        check(TYPO_IN_STAGING, &["--env", "production"], &[]).code,
        0
    );
    assert_eq!(check(TYPO_IN_STAGING, &["--env", "staging"], &[]).code, 1);
    let run = check(TYPO_IN_STAGING, &["--env", "prod"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("there is no environment called `prod`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did you mean `production`?"),
        "{}",
        run.stdout
    );
}

#[test]
fn json_output_is_machine_readable() {
    let run = check(TYPO_IN_STAGING, &["--format", "json"], &[]);
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(report["errors"], 1);
    assert_eq!(report["warnings"], 0);
    let first = &report["diagnostics"][0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "unknown-key");
    assert_eq!(first["file"], "dsops.yaml");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(10), Some(54))
    );
    assert_eq!(first["label"], "did you mean `secret`?");
    assert!(first["hint"].as_str().unwrap().contains("`secret`"));

    let clean = check(VALID, &["--format", "json"], &[]);
    let report: serde_json::Value = serde_json::from_str(&clean.stdout).unwrap();
    assert_eq!(report["diagnostics"], serde_json::json!([]));
}

#[test]
fn the_config_path_comes_from_the_flag_or_dsops_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    std::fs::write(dir.path().join("conf/app.yaml"), VALID).unwrap();
    let by_flag = run(dsops(dir.path()).args(["check", "--config", "conf/app.yaml"]));
    assert_eq!(by_flag.code, 0, "{}", by_flag.stderr);
    assert!(
        by_flag.stdout.starts_with("conf/app.yaml: ok"),
        "{}",
        by_flag.stdout
    );
    let by_env = run(dsops(dir.path())
        .arg("check")
        .env("DSOPS_CONFIG", "conf/app.yaml"));
    assert_eq!(by_env.code, 0, "{}", by_env.stderr);
}

#[test]
fn a_missing_file_says_how_to_name_one() {
    let dir = tempfile::tempdir().unwrap();
    let human = run(dsops(dir.path()).arg("check"));
    assert_eq!(human.code, 1);
    assert!(
        human.stderr.contains("error: cannot read dsops.yaml"),
        "{}",
        human.stderr
    );
    assert!(human.stderr.contains("caused by:"), "{}", human.stderr);
    assert!(human.stderr.contains("--config PATH"), "{}", human.stderr);
    let json = run(dsops(dir.path()).args(["check", "--format", "json"]));
    assert_eq!(json.code, 1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["diagnostics"][0]["code"], "unreadable");
}

#[test]
fn warnings_pass_unless_denied() {
    let with_warning = VALID.replace(
        "    type: azure.managed_identity\n",
        "    type: azure.managed_identity\n    preferred_regions: [eastus]\n",
    );
    let run = check(&with_warning, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("warning[no-effect]"), "{}", run.stdout);
    assert!(run.stdout.ends_with("(1 warning)\n"), "{}", run.stdout);
    assert_eq!(check(&with_warning, &["--deny-warnings"], &[]).code, 1);
}

#[test]
fn unset_variables_warn_in_check_and_vanish_once_set() {
    let text = VALID.replace(
        "    type: azure.managed_identity\n",
        "    type: azure.managed_identity\n    identity: { client_id: \"${APP_ID}\" }\n",
    );
    let unset = check(&text, &[], &[]);
    assert_eq!(unset.code, 0);
    assert!(
        unset
            .stdout
            .contains("warning[unset-variable]: environment variable `APP_ID` is not set"),
        "{}",
        unset.stdout
    );
    let set = check(
        &text,
        &[],
        &[("APP_ID", "12345678-1234-1234-1234-123456789012")],
    );
    assert_eq!(
        set.stdout,
        "dsops.yaml: ok: 2 environments, 2 variables, 1 store\n"
    );
    let bad = check(&text, &[], &[("APP_ID", "not-a-guid")]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stdout
            .contains("client id from `${APP_ID}` is not a GUID"),
        "{}",
        bad.stdout
    );
    assert!(
        !bad.stdout.contains("not-a-guid"),
        "values read from the environment are not echoed:\n{}",
        bad.stdout
    );
}

#[test]
fn color_follows_the_flag() {
    let dir = config_dir(TYPO_IN_STAGING);
    let plain = run(dsops(dir.path()).args(["check", "--color", "never"]));
    assert!(!plain.stdout.contains('\u{1b}'));
    let colored = run(dsops(dir.path())
        .args(["check", "--color", "always"])
        .env_remove("NO_COLOR"));
    assert!(colored.stdout.contains('\u{1b}'), "{}", colored.stdout);
}

#[test]
fn the_example_in_the_repository_is_valid() {
    let run =
        run(dsops(&harness::fixtures()).args(["check", "--config", "../../examples/dsops.yaml"]));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn store_level_settings_reach_the_sources_that_need_them() {
    use dsops::config::model::{CloudName, CredentialSource, Target, ValueSource};
    let text = "secretStores:
  azure:
    type: azure.managed_identity
    tenant_id: contoso.onmicrosoft.com
    cloud: {}
    fallback:
      - type: service_principal
        client_id: 55555555-5555-5555-5555-555555555555
        client_secret: ${SECRET}
      - type: azure_cli
      - type: github_oidc
      - type: workload_identity
        tenant_id: fabrikam.onmicrosoft.com
envs:
  production:
    VAR:
      from: { store: azure, resource_type: keyvault, vault: my-vault, secret: s }
";
    let loaded = harness::load_check("dsops.yaml", text, &[("SECRET", "x")]);
    assert!(
        loaded.diagnostics().is_empty(),
        "{:?}",
        harness::summary(&loaded)
    );
    let config = loaded.config().unwrap();
    let store = config.store("azure").unwrap();
    assert_eq!(
        store.cloud.name,
        CloudName::Public,
        "an empty `cloud:` mapping changes nothing"
    );
    let tenants: Vec<Option<&str>> = store
        .fallback
        .as_ref()
        .unwrap()
        .iter()
        .map(|source| match &source.value {
            CredentialSource::ServicePrincipal(sp) => Some(sp.tenant_id.as_str()),
            CredentialSource::AzureCli { tenant_id }
            | CredentialSource::GithubOidc { tenant_id, .. }
            | CredentialSource::WorkloadIdentity { tenant_id, .. } => {
                tenant_id.as_ref().map(|t| t.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        tenants,
        [
            Some("contoso.onmicrosoft.com"),
            Some("contoso.onmicrosoft.com"),
            Some("contoso.onmicrosoft.com"),
            Some("fabrikam.onmicrosoft.com"),
        ]
    );
    let ValueSource::Reference(reference) = &config.env("production").unwrap().variables[0].value
    else {
        panic!("a reference")
    };
    assert!(matches!(reference.target, Target::KeyVault(_)));
}

#[test]
fn durations_are_not_interpolated() {
    let text = VALID.replace(
        "    type: azure.managed_identity\n",
        "    type: azure.managed_identity\n    cache: { secret_cache: { enabled: true, ttl: \"${TTL}\" } }\n",
    );
    let run = check(&text, &[], &[("TTL", "600")]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("durations are not read from the environment"),
        "{}",
        run.stdout
    );
}

#[test]
fn references_without_a_vault_use_the_stores_vault_name() {
    use dsops::config::model::{Target, ValueSource, Vault};
    let text = "secretStores:
  legacy:
    type: azure.keyvault
    vault_name: https://legacy-kv.vault.azure.net
    auth: { client_id: 55555555-5555-5555-5555-555555555555, client_secret: \"${S}\", tenant_id: contoso.onmicrosoft.com }
envs:
  production:
    A: { from: { store: legacy, secret: a } }
    B: { from: { store: legacy, vault: other-kv, secret: b } }
";
    let loaded = harness::load_check("dsops.yaml", text, &[("S", "x")]);
    let config = loaded.config().expect("valid");
    let store = config.store("legacy").unwrap();
    let vaults: Vec<Vault> = config
        .env("production")
        .unwrap()
        .variables
        .iter()
        .map(|v| {
            let ValueSource::Reference(r) = &v.value else {
                panic!("a reference")
            };
            let Target::KeyVault(kv) = &r.target else {
                panic!("Key Vault")
            };
            kv.vault_in(store).unwrap()
        })
        .collect();
    assert!(
        matches!(&vaults[0], Vault::Url(t) if t.as_str() == "https://legacy-kv.vault.azure.net")
    );
    assert!(matches!(&vaults[1], Vault::Name(t) if t.as_str() == "other-kv"));
}
