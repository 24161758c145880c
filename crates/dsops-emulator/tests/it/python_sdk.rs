//! The official Azure SDK for Python (`azure-identity`, `azure-keyvault-secrets`,
//! versions pinned in `tests/python/requirements.txt`) against the emulator:
//! `ManagedIdentityCredential` through App Service's endpoint and
//! `ClientSecretCredential` through the Entra ID v2 endpoints, each reading
//! secrets with `SecretClient` over HTTPS trusting only the emulator's CA,
//! with Key Vault's challenge-resource verification on. The SDK lives in the
//! virtualenv `target/python-sdk` that `scripts/install-python-sdk` makes
//! (`scripts/test` runs it first); without it this test fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dsops_emulator::{Emulator, LogEntry};
use serde_json::Value;

use crate::harness::{
    self, EXAMPLE_SECRET_VALUES as SECRET_VALUES, env_var, repo_root, sha256_hex, venv_python,
};

/// The vault of the example state, and the host the script addresses it by.
const VAULT: &str = "dev-vault";
const VAULT_HOST: &str = "dev-vault.vault.azure.net";
/// The `ci` application's client secret in the example state.
const CI_CLIENT_SECRET: &str = "dev-only-client-secret";

/// What a case of the script must report.
#[derive(Debug)]
enum Want {
    /// The secret, with this value (compared by its SHA-256) and content type.
    Secret(&'static str, Option<&'static str>),
    /// This exception, with this status, Key Vault error code and inner code.
    Error(&'static str, u16, &'static str, Option<&'static str>),
}
use Want::{Error, Secret};

const RBAC: Want = Error(
    "HttpResponseError",
    403,
    "Forbidden",
    Some("ForbiddenByRbac"),
);
const DISABLED: Want = Error(
    "HttpResponseError",
    403,
    "Forbidden",
    Some("SecretDisabled"),
);
const NOT_FOUND: Want = Error("ResourceNotFoundError", 404, "SecretNotFound", None);

/// The script's cases in order: case, secret name, outcome.
const CASES: &[(&str, &str, Want)] = &[
    // The system-assigned identity `vm` (Secrets User on the vault).
    (
        "managed_identity",
        "database-password",
        Secret("dev-db-password", None),
    ),
    (
        "managed_identity",
        "api-key",
        Secret("current-api-key", Some("text/plain")),
    ),
    // `worker`, by client id (Secrets User on database-password only).
    (
        "managed_identity_worker",
        "database-password",
        Secret("dev-db-password", None),
    ),
    ("managed_identity_worker_out_of_scope", "api-key", RBAC),
    // `outsider`, by client id (no role).
    ("managed_identity_no_role", "database-password", RBAC),
    // The application `ci` with its client secret (Secrets Officer).
    (
        "client_secret",
        "database-password",
        Secret("dev-db-password", None),
    ),
    (
        "client_secret",
        "api-key",
        Secret("current-api-key", Some("text/plain")),
    ),
    ("client_secret_missing", "no-such-secret", NOT_FOUND),
    ("client_secret_disabled", "retired-token", DISABLED),
];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/keyvault_sdk.py")
}

/// Runs the script with only the variables it needs; returns its stdout
/// lines as JSON and its whole output (stdout and stderr) as text.
async fn run_script(emulator: &Emulator) -> (Vec<Value>, String) {
    let python = venv_python();
    let ca = tempfile::NamedTempFile::new().expect("temporary CA file");
    std::fs::write(ca.path(), emulator.ca_pem()).expect("CA written");
    let client_id = |name: &str| {
        emulator
            .identity(name)
            .unwrap_or_else(|| panic!("identity `{name}` in the example state"))
            .client_id
    };
    let identity_endpoint = env_var(emulator, "IDENTITY_ENDPOINT");
    assert!(
        identity_endpoint.starts_with("http://127.0.0.1:"),
        "App Service's endpoint is plain http on loopback: {identity_endpoint}"
    );

    let mut command = tokio::process::Command::new(&python);
    command
        .arg(script())
        .current_dir(repo_root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("IDENTITY_ENDPOINT", identity_endpoint)
        .env("IDENTITY_HEADER", env_var(emulator, "IDENTITY_HEADER"))
        .env("REQUESTS_CA_BUNDLE", ca.path())
        .env(
            "EMULATOR_HTTPS_PORT",
            emulator.https_addr().port().to_string(),
        )
        .env("EMULATOR_TENANT_ID", emulator.tenant_id())
        .env("EMULATOR_VAULT", VAULT)
        .env("EMULATOR_CI_CLIENT_ID", client_id("ci"))
        .env("EMULATOR_CI_CLIENT_SECRET", CI_CLIENT_SECRET)
        .env("EMULATOR_WORKER_CLIENT_ID", client_id("worker"))
        .env("EMULATOR_OUTSIDER_CLIENT_ID", client_id("outsider"))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the Python SDK script finishes within 120 s")
        .unwrap_or_else(|e| panic!("{} runs: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "keyvault_sdk.py failed ({}):\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
    let records = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n--- stderr\n{stderr}"))
        })
        .collect();
    (records, format!("{stdout}{stderr}"))
}

/// A log entry in one line: `service METHOD host/path -> status [by who] [for audience]`.
fn describe(entry: &LogEntry) -> String {
    // The SDK asks for `/secrets/NAME/` (an empty version): the slash is noise.
    let path = entry.path.trim_end_matches('/');
    let mut line = format!(
        "{} {} {}{path} -> {}",
        entry.service, entry.method, entry.host, entry.status
    );
    if let Some(who) = &entry.identity {
        line.push_str(&format!(" by {who}"));
    }
    if let Some(audience) = &entry.token_for {
        line.push_str(&format!(" for {audience}"));
    }
    if let Some(fault) = &entry.fault {
        line.push_str(&format!(" fault {fault}"));
    }
    line
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_reads_secrets_with_managed_identity_and_client_secret() {
    let emulator = harness::example().await;
    let (records, output) = run_script(&emulator).await;

    // What the script saw, case by case: values as hashes of the seeded ones.
    assert_eq!(
        records.len(),
        CASES.len(),
        "one JSON line per case:\n{output}"
    );
    for (record, (case, name, want)) in records.iter().zip(CASES) {
        let mut expected = serde_json::json!({ "case": case, "name": name });
        let fields = expected.as_object_mut().expect("an object");
        match *want {
            Secret(value, content_type) => {
                fields.insert("outcome".into(), "ok".into());
                fields.insert("secret_name".into(), (*name).into());
                fields.insert("value_sha256".into(), sha256_hex(value).into());
                fields.insert("content_type".into(), content_type.into());
                fields.insert("enabled".into(), true.into());
            }
            Error(exception, status, code, inner) => {
                fields.insert("outcome".into(), "error".into());
                fields.insert("exception".into(), exception.into());
                fields.insert("status".into(), status.into());
                fields.insert("code".into(), code.into());
                fields.insert("inner_code".into(), inner.into());
            }
        }
        for (key, value) in fields.iter() {
            assert_eq!(
                record.get(key),
                Some(value),
                "`{key}` of case {case}: {record}"
            );
        }
        if let Secret(..) = want {
            // The id names the vault by its real host, and a version.
            let id = record["id"].as_str().expect("an id");
            let prefix = format!("https://{VAULT_HOST}/secrets/{name}/");
            let version = id
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("id {id} starts {prefix}"));
            assert!(
                !version.is_empty() && record["version"] == version,
                "version of {record}"
            );
        }
    }
    for value in SECRET_VALUES.iter().chain([&CI_CLIENT_SECRET]) {
        assert!(
            !output.contains(value),
            "the script's output shows the secret `{value}`:\n{output}"
        );
    }

    // What the emulator saw: for each credential, Key Vault's challenge (401
    // without a token), a token for the challenge's resource from the right
    // endpoint, then the reads with that token.
    let tenant = emulator.tenant_id();
    let kv = |name: &str, status: u16, who: Option<&str>| {
        let mut line = format!("keyvault GET {VAULT_HOST}/secrets/{name} -> {status}");
        if let Some(who) = who {
            line.push_str(&format!(" by {who}"));
        }
        line
    };
    let app_service = |who: &str| {
        format!("app_service GET 127.0.0.1/msi/token -> 200 by {who} for https://vault.azure.net")
    };
    let expected_log = vec![
        kv("database-password", 401, None),
        app_service("vm"),
        kv("database-password", 200, Some("vm")),
        kv("api-key", 200, Some("vm")),
        kv("database-password", 401, None),
        app_service("worker"),
        kv("database-password", 200, Some("worker")),
        kv("api-key", 403, Some("worker")),
        kv("database-password", 401, None),
        app_service("outsider"),
        kv("database-password", 403, Some("outsider")),
        kv("database-password", 401, None),
        format!("entra GET 127.0.0.1/{tenant}/v2.0/.well-known/openid-configuration -> 200"),
        format!(
            "entra POST 127.0.0.1/{tenant}/oauth2/v2.0/token -> 200 by ci for https://vault.azure.net"
        ),
        kv("database-password", 200, Some("ci")),
        kv("api-key", 200, Some("ci")),
        kv("no-such-secret", 404, Some("ci")),
        kv("retired-token", 403, Some("ci")),
    ];
    let entries = emulator.log().entries();
    let seen: Vec<String> = entries.iter().map(describe).collect();
    assert_eq!(seen, expected_log, "the requests the emulator served");

    // The log keeps no secret: neither values nor credentials.
    let identity_header = emulator.identity_header().to_owned();
    for entry in &entries {
        let logged = serde_json::to_string(entry).expect("a log entry serializes");
        for secret in SECRET_VALUES
            .iter()
            .copied()
            .chain([CI_CLIENT_SECRET, identity_header.as_str()])
        {
            assert!(
                !logged.contains(secret),
                "log entry {logged} contains a secret"
            );
        }
    }
}
