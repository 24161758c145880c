//! The job resolves its `Env` from the local emulator through managed
//! identity (IMDS), as it would on an Azure VM: the emulator runs in this
//! test's process, the job is the real binary, and it reaches the emulator
//! only through documented settings (the IMDS endpoint variable, a CA
//! bundle, and the `${...}` its dsops.yaml reads). Nothing leaves loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use dsops_emulator::testing::{Certificate, Key, StateBuilder};
use dsops_emulator::{Emulator, Options, StateFile};

/// The VM's identity may read every kind of object of `job-vault`.
fn state() -> StateFile {
    StateBuilder::new()
        .system_identity("vm")
        .grant("vm", "Key Vault Secrets User", "vault:job-vault")
        .grant("vm", "Key Vault Certificate User", "vault:job-vault")
        .grant("vm", "Key Vault Crypto User", "vault:job-vault")
        .vault("job-vault", |v| {
            v.secret("database-password", "emulated-db-password")
                .certificate(
                    "report-signing",
                    Certificate::new().subject("reports.contoso.com"),
                )
                .key("archive-key", Key::rsa())
        })
        .build()
}

/// The job binary with a clean environment pointed at the emulator.
fn job(emulator: &Emulator, ca: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_env-macro-example"));
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    let https = emulator.https_url();
    cmd.env(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        emulator.http_url().unwrap(),
    )
    .env("SSL_CERT_FILE", ca)
    .env("JOB_AUTHORITY_HOST", &https)
    .env("JOB_RESOURCE_MANAGER", &https)
    .env(
        "JOB_KEYVAULT_DNS_SUFFIX",
        format!("vault.localhost:{}", emulator.https_addr().port()),
    )
    .env("JOB_VAULT", "job-vault");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn the_job_resolves_its_env_through_managed_identity() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let emulator = Emulator::start(Options {
        state: state(),
        ca_file: Some(ca.clone()),
        ..Options::default()
    })
    .await
    .unwrap();

    let output = tokio::task::spawn_blocking({
        let mut cmd = job(&emulator, &ca);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for line in [
        "database_password: 20 characters",
        "report_signing_cert: 1 certificate(s) in the chain, private key present",
        "archive_key: RSA key https://job-vault.vault.localhost:",
        "graph_token: expires in ",
        "feature_flags: not set",
        "log_level: info",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("emulated-db-password"), "{stdout}");

    // Every token came from IMDS, and every value from the vault.
    let log = emulator.log().entries();
    assert!(log.iter().any(|e| e.service == "imds"), "{log:?}");
    assert_eq!(
        log.iter().filter(|e| e.service == "keyvault").count(),
        4,
        "{log:?}"
    );
}

#[test]
fn without_an_identity_every_field_is_reported() {
    let output = Command::new(env!("CARGO_BIN_EXE_env-macro-example"))
        .env_clear()
        // IMDS is a closed loopback port here, never 169.254.169.254.
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
        .env("JOB_VAULT", "job-vault")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    // Every required field, not just the first; the optional one is `None`.
    assert!(stderr.contains("4 of 6 fields"), "{stderr}");
    for field in [
        "database_password",
        "report_signing_cert",
        "archive_key",
        "graph_token",
    ] {
        assert!(stderr.contains(&format!("`{field}`")), "{field}: {stderr}");
    }
    assert!(!stderr.contains("`feature_flags`"), "{stderr}");
}

#[test]
fn from_env_reads_what_dsops_exec_gives() {
    let output = Command::new(env!("CARGO_BIN_EXE_env-macro-example"))
        .arg("--from-env")
        .env_clear()
        .env("DATABASE_PASSWORD", "from-exec")
        .env("REPORT_SIGNING_CERT", "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n")
        .env("ARCHIVE_KEY", r#"{"kid":"https://job-vault.vault.azure.net/keys/archive-key/1","kty":"RSA","n":"AQ","e":"AQAB"}"#)
        .env("GRAPH_TOKEN", "opaque-token")
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("database_password: 9 characters"),
        "{stdout}"
    );
    assert!(
        stdout.contains("graph_token: expires in unknown"),
        "{stdout}"
    );
    assert!(stdout.contains("log_level: warn"), "{stdout}");
}

/// The program carries the environment's part of dsops.yaml, and nothing
/// else of it: no comment, no other environment.
#[test]
fn the_binary_has_no_comment_and_no_other_environment() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_env-macro-example")).unwrap();
    // The standard library's search is optimised even in a debug build.
    let text = String::from_utf8_lossy(&binary);
    let has = |needle: &str| text.contains(needle);
    assert!(
        has("${JOB_VAULT:-contoso-jobs-kv}"),
        "the production part is embedded"
    );
    for absent in [
        "dsops-comment-canary-5f3e9a",
        "canary-staging-env",
        "canary-staging-kv",
        "yaml-language-server",
    ] {
        assert!(!has(absent), "the binary contains {absent:?}");
    }
}
