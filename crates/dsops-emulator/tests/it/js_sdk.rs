//! The official Azure SDK for JavaScript (`@azure/identity` 4.14.1,
//! `@azure/keyvault-secrets` 4.12.0, installed at `target/azure-js-sdk` by
//! `scripts/install-azure-js-sdk`, which `scripts/test` runs first; without
//! it this test fails) against the emulator: `ManagedIdentityCredential`
//! through App Service's endpoint and through IMDS, `SecretClient.getSecret`
//! over HTTPS trusting only the emulator's CA, with the SDK's check of Key
//! Vault's challenge resource.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dsops_emulator::Emulator;
use serde_json::Value;

use crate::harness::{self, repo_root, sha256_hex};

fn modules() -> PathBuf {
    let modules = repo_root().join("target/azure-js-sdk");
    assert!(
        modules
            .join("node_modules/@azure/identity/package.json")
            .is_file(),
        "{} has no @azure/identity: run scripts/install-azure-js-sdk (from the repository root) to \
         install the Azure SDK for JavaScript this test drives; scripts/test does so before cargo test",
        modules.display()
    );
    modules
}

/// Runs the script with the managed identity variables `identity` names;
/// its stdout lines as JSON, and all its output.
async fn run(
    emulator: &Emulator,
    identity: &[(&str, String)],
    secrets: &[&str],
) -> (Vec<Value>, String) {
    let modules = modules();
    let ca = tempfile::NamedTempFile::new().expect("temporary CA file");
    std::fs::write(ca.path(), emulator.ca_pem()).expect("CA written");
    let vault = format!(
        "https://dev-vault.vault.localhost:{}",
        emulator.https_addr().port()
    );
    let mut command = tokio::process::Command::new("node");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/azure_sdk.js"))
        .arg(&modules)
        .arg(&vault)
        .args(secrets)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NODE_EXTRA_CA_CERTS", ca.path())
        .kill_on_drop(true);
    for (k, v) in identity {
        command.env(k, v);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the JavaScript SDK script finishes within 120 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stdout}{stderr}");
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (lines, format!("{stdout}{stderr}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_javascript_sdk_reads_secrets_through_app_service_and_imds() {
    let emulator = harness::example().await;
    let http = emulator.http_url().expect("http listener");
    let app_service = [
        ("IDENTITY_ENDPOINT", format!("{http}/msi/token")),
        ("IDENTITY_HEADER", emulator.identity_header().to_owned()),
    ];
    let imds = [("AZURE_POD_IDENTITY_AUTHORITY_HOST", http.clone())];
    for (how, identity) in [("App Service", &app_service[..]), ("IMDS", &imds[..])] {
        emulator.log().clear();
        let (lines, all) = run(
            &emulator,
            identity,
            &["database-password", "no-such-secret"],
        )
        .await;
        assert_eq!(lines.len(), 2, "{how}: {all}");
        assert_eq!(
            lines[0]["sha256"],
            sha256_hex("dev-db-password"),
            "{how}: {all}"
        );
        assert_eq!(lines[1]["status"], 404, "{how}: {all}");
        assert_eq!(lines[1]["code"], "SecretNotFound", "{how}: {all}");
        assert!(
            !all.contains("dev-db-password"),
            "{how}: a value is printed"
        );
        let services: Vec<String> = emulator
            .log()
            .entries()
            .into_iter()
            .map(|e| e.service.to_string())
            .collect();
        let wanted = if how == "IMDS" { "imds" } else { "app_service" };
        assert!(services.iter().any(|s| s == wanted), "{how}: {services:?}");
        assert!(
            services.iter().any(|s| s == "keyvault"),
            "{how}: {services:?}"
        );
    }
}
