//! A token goes only where it belongs: a Key Vault challenge naming another
//! domain is refused (no token is fetched for it, nothing is retried), and
//! a vault reference that tries to escape its host is rejected by `check`
//! before anything runs. (Resource Manager links and ids that could lead
//! elsewhere, and plain-http or `user@host` URLs, are refused by unit tests
//! in `src/azure/arm.rs` and `src/azure/http/mod.rs`.)

use dsops_emulator::StateFile;

use crate::support::emulated::{emulator_cloud, emulator_with_dir};
use crate::support::harness::{check, dsops, run};

const STATE: &str = r#"
tenants:
  - id: 72f988bf-86f1-41af-91ab-2d7cd011db47
  - id: 33333333-3333-3333-3333-333333333333
subscriptions:
  - id: 00000000-0000-0000-0000-00000000c0de
    name: Development
identities:
  vm: { type: system_assigned }
role_assignments:
  - { principal: vm, role: Key Vault Secrets User, scope: "vault:impostor" }
vaults:
  impostor:
    subscription: Development
    # Another tenant: the token is refused with a 401 and a challenge.
    tenant: 33333333-3333-3333-3333-333333333333
    challenge_resource: https://evil.localhost
    secrets:
      db: CANARY-token-safety-db
"#;

#[test]
fn a_challenge_for_another_domain_is_refused_and_gets_no_token() {
    let (emulator, dir) = emulator_with_dir(StateFile::parse(STATE).unwrap());
    std::fs::write(
        dir.path().join("dsops.yaml"),
        format!(
            "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n{}envs:\n  dev:\n    DB: {{ from: {{ store: azure, vault: impostor, secret: db }} }}\n",
            emulator_cloud(&emulator)
        ),
    )
    .unwrap();
    let out = run(dsops(dir.path())
        .args(["exec", "--env", "dev", "--", "true"])
        .env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            emulator.http_url().unwrap(),
        ));
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("challenge asks for a token for `https://evil.localhost`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("refused"), "{}", out.stderr);
    let log = emulator.log().entries();
    let vault_requests = log.iter().filter(|e| e.service == "keyvault").count();
    assert_eq!(vault_requests, 1, "refused once, not retried");
    assert!(
        !log.iter()
            .any(|e| e.token_for.as_deref().is_some_and(|a| a.contains("evil"))),
        "no token was asked for the challenge's resource"
    );
    assert!(!out.all_output().contains("CANARY"));

    // `doctor` says the same, and why.
    let doctor = run(dsops(dir.path()).args(["doctor", "--env", "dev"]).env(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        emulator.http_url().unwrap(),
    ));
    assert_eq!(doctor.code, 1, "{}", doctor.stdout);
    assert!(
        doctor
            .stdout
            .contains("outside its own domain: dsops refuses to get one"),
        "{}",
        doctor.stdout
    );
    assert!(
        doctor.stdout.contains("this host may not be Key Vault"),
        "{}",
        doctor.stdout
    );
}

#[test]
fn vault_references_cannot_escape_their_host() {
    for vault in [
        "evil.com/",
        "a.b",
        "v%2evault",
        "\"https://user@v.vault.azure.net\"",
        "\"https://v.vault.azure.net:443@evil.com\"",
        "\"https://v.vault.azure.net/../x\"",
        "\"https://v.vault.azure.net.evil.com\"",
        "\"https://evil.com/v.vault.azure.net\"",
        "\"http://v.vault.azure.net\"",
        "\"https://v.vault.azure.net:99999\"",
    ] {
        let text = format!(
            "version: 1\nsecretStores:\n  azure: {{ type: azure.managed_identity }}\nenvs:\n  dev:\n    DB: {{ from: {{ store: azure, vault: {vault}, secret: db }} }}\n"
        );
        let out = check(&text, &[], &[]);
        assert_eq!(out.code, 1, "{vault} is accepted:\n{}", out.stdout);
    }
}
