//! The Azure CLI (`az`, azure-cli from PyPI, versions pinned in
//! `tests/python/azure-cli-requirements.txt`, installed at `target/azure-cli`
//! by `scripts/install-azure-cli`, which `scripts/test` runs first; without
//! it this test fails) against the emulator, as a user points it at a cloud
//! of their own:
//!
//! - `az cloud register --endpoint-resource-manager URL` reads the emulator's
//!   cloud metadata (`/metadata/endpoints?api-version=2022-09-01`) and takes
//!   Entra ID, ARM's audience and Key Vault's DNS suffix from it;
//! - `az login --identity` gets an ARM token through App Service's managed
//!   identity endpoint and lists the subscriptions;
//! - `az keyvault secret show` reads secrets over Key Vault's challenge;
//! - `az storage account keys list` posts `listKeys` to ARM.
//!
//! Each `az` runs with a fresh config dir, only the variables it needs, and
//! `tests/python/loopback_only/sitecustomize.py`, which resolves localhost
//! names only (RFC 6761): a request for any other name fails on the machine,
//! and the test asserts that none was even tried.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use dsops_emulator::Emulator;
use serde_json::Value;

use crate::harness::{self, EXAMPLE_SECRET_VALUES, env_var, repo_root};

/// The cloud's name in the CLI's config.
const CLOUD: &str = "DsopsEmulator";

fn az() -> PathBuf {
    let az = repo_root().join("target/azure-cli/bin/az");
    assert!(
        az.is_file(),
        "{} does not exist: run scripts/install-azure-cli (from the repository root) to install \
         the Azure CLI this test drives; scripts/test does so before cargo test",
        az.display()
    );
    az
}

/// One CLI user: a config dir, the CA, the record of refused names.
struct Cli {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    fn new(emulator: &Emulator) -> Self {
        let home = tempfile::tempdir().expect("temporary home");
        let ca = home.path().join("emulator-ca.pem");
        std::fs::write(&ca, emulator.ca_pem()).expect("CA written");
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let env = vec![
            ("HOME".into(), path(home.path())),
            ("AZURE_CONFIG_DIR".into(), path(&home.path().join("azure"))),
            ("REQUESTS_CA_BUNDLE".into(), path(&ca)),
            (
                "IDENTITY_ENDPOINT".into(),
                env_var(emulator, "IDENTITY_ENDPOINT"),
            ),
            (
                "IDENTITY_HEADER".into(),
                env_var(emulator, "IDENTITY_HEADER"),
            ),
            (
                "PYTHONPATH".into(),
                path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/loopback_only")),
            ),
            (
                "DSOPS_REFUSED_NAMES_FILE".into(),
                path(&home.path().join("refused-names")),
            ),
            // No bytecode written next to sitecustomize.py in the source tree.
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            // No telemetry, survey or colour; JSON out.
            ("AZURE_CORE_COLLECT_TELEMETRY".into(), "false".into()),
            ("AZURE_CORE_SURVEY_MESSAGE".into(), "false".into()),
            ("AZURE_CORE_NO_COLOR".into(), "true".into()),
            ("AZURE_CORE_OUTPUT".into(), "json".into()),
        ];
        Self { home, env }
    }

    /// Runs `az ARGS`; its output, whatever the exit status.
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = tokio::process::Command::new(az());
        command
            .args(args)
            .current_dir(self.home.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(120), command.output())
            .await
            .unwrap_or_else(|_| panic!("az {} finishes within 120 s", args.join(" ")))
            .unwrap_or_else(|e| panic!("az runs: {e}"))
    }

    /// Runs `az ARGS`, which must succeed; its stdout as JSON (`null` when
    /// it printed nothing).
    async fn ok(&self, args: &[&str]) -> Value {
        let output = self.run(args).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "az {} failed ({}):\n--- stdout\n{stdout}--- stderr\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        if stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("az {} printed no JSON ({e}): {stdout}", args.join(" ")))
    }

    /// Runs `az ARGS`, which must fail; its stderr.
    async fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !output.status.success(),
            "az {} succeeded where it must fail:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout)
        );
        stderr
    }

    /// `az keyvault secret show` of the example vault's secret `name`.
    fn show_secret(name: &str) -> [&str; 7] {
        [
            "keyvault",
            "secret",
            "show",
            "--vault-name",
            "dev-vault",
            "--name",
            name,
        ]
    }

    /// The names the process tried to resolve and was refused.
    fn refused_names(&self) -> String {
        std::fs::read_to_string(self.home.path().join("refused-names")).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn azure_cli_registers_the_emulator_logs_in_with_managed_identity_and_reads() {
    let emulator = harness::example().await;
    let port = emulator.https_addr().port();
    let arm = format!("https://localhost:{port}");
    let cli = Cli::new(&emulator);

    // The cloud, from the emulator's metadata alone.
    cli.ok(&[
        "cloud",
        "register",
        "--name",
        CLOUD,
        "--endpoint-resource-manager",
        &arm,
    ])
    .await;
    cli.ok(&["cloud", "set", "--name", CLOUD]).await;
    let cloud = cli.ok(&["cloud", "show", "--name", CLOUD]).await;
    assert_eq!(cloud["endpoints"]["resourceManager"], arm);
    assert_eq!(cloud["endpoints"]["activeDirectory"], arm);
    assert_eq!(
        cloud["endpoints"]["activeDirectoryResourceId"],
        "https://management.core.windows.net/"
    );
    assert_eq!(
        cloud["suffixes"]["keyvaultDns"],
        format!(".vault.localhost:{port}")
    );

    // The host's system-assigned identity (`vm`), through App Service's
    // endpoint: the subscriptions it can see.
    let accounts = cli.ok(&["login", "--identity"]).await;
    let (subscription_name, subscription_id) = emulator
        .subscriptions()
        .into_iter()
        .next()
        .expect("the example state has a subscription");
    assert_eq!(accounts[0]["id"], subscription_id.as_str(), "{accounts}");
    assert_eq!(accounts[0]["name"], subscription_name.as_str());
    assert_eq!(accounts[0]["tenantId"], emulator.tenant_id());
    assert_eq!(accounts[0]["user"]["assignedIdentityInfo"], "MSI");

    // Key Vault, by name under the cloud's suffix.
    let secret = cli.ok(&Cli::show_secret("database-password")).await;
    assert_eq!(secret["value"], "dev-db-password");
    let id = secret["id"].as_str().unwrap_or_default();
    let version = id
        .strip_prefix(&format!(
            "https://dev-vault.vault.localhost:{port}/secrets/database-password/"
        ))
        .unwrap_or_default();
    assert!(
        !version.is_empty() && !version.contains('/'),
        "the secret's id names its vault and version: {secret}"
    );
    let api_key = cli.ok(&Cli::show_secret("api-key")).await;
    assert_eq!(api_key["value"], "current-api-key");
    assert_eq!(api_key["contentType"], "text/plain");

    // Key Vault's refusals, as the CLI words them.
    let disabled = cli.fails(&Cli::show_secret("retired-token")).await;
    assert!(disabled.contains("disabled"), "{disabled}");
    let missing = cli.fails(&Cli::show_secret("no-such-secret")).await;
    assert!(
        missing.contains("SecretNotFound") || missing.contains("not found"),
        "{missing}"
    );
    for value in EXAMPLE_SECRET_VALUES {
        assert!(!disabled.contains(value) && !missing.contains(value));
    }

    // ARM's listKeys on a storage account (`vm` is Reader and Data Access on
    // the subscription).
    let keys = cli
        .ok(&[
            "storage",
            "account",
            "keys",
            "list",
            "--resource-group",
            "rg-app",
            "--account-name",
            "devstorage",
        ])
        .await;
    let names: Vec<&str> = keys
        .as_array()
        .expect("a list of keys")
        .iter()
        .filter_map(|k| k["keyName"].as_str())
        .collect();
    assert_eq!(names, ["key1", "key2"], "{keys}");
    for key in keys.as_array().into_iter().flatten() {
        assert_eq!(key["permissions"], "FULL", "{key}");
        assert!(
            key["value"].as_str().is_some_and(|v| v.len() >= 40),
            "{key}"
        );
    }

    // A user-assigned identity by client id (`worker`, Secrets User on
    // database-password only): its own scope reads, the rest is refused with
    // Key Vault's RBAC answer.
    let worker = emulator
        .identity("worker")
        .expect("`worker` in the example state")
        .client_id;
    let accounts = cli
        .ok(&["login", "--identity", "--client-id", &worker])
        .await;
    assert_eq!(
        accounts[0]["user"]["assignedIdentityInfo"],
        format!("MSIClient-{worker}"),
        "{accounts}"
    );
    let secret = cli.ok(&Cli::show_secret("database-password")).await;
    assert_eq!(secret["value"], "dev-db-password");
    let refused = cli.fails(&Cli::show_secret("api-key")).await;
    assert!(refused.contains("ForbiddenByRbac"), "{refused}");
    assert!(!refused.contains("current-api-key"), "{refused}");

    // Every request went to a service the emulator serves, and Key Vault and
    // ARM saw the identity `vm`.
    let log = emulator.log().entries();
    let seen: Vec<String> = log
        .iter()
        .map(|e| format!("{} {} {} -> {}", e.service, e.method, e.path, e.status))
        .collect();
    assert!(
        log.iter().all(|e| e.service != "unknown"),
        "a request no service serves:\n{}",
        seen.join("\n")
    );
    assert!(
        log.iter()
            .any(|e| e.service == "arm_metadata" && e.status == 200),
        "{}",
        seen.join("\n")
    );
    assert!(
        log.iter().any(|e| e.service == "app_service"
            && e.status == 200
            && e.token_for.as_deref() == Some("https://management.core.windows.net/")),
        "an ARM token through App Service:\n{}",
        seen.join("\n")
    );
    assert!(
        log.iter().any(|e| e.service == "arm"
            && e.method == "POST"
            && e.path.ends_with("/listKeys")
            && e.status == 200
            && e.identity.as_deref() == Some("vm")),
        "{}",
        seen.join("\n")
    );
    assert!(
        log.iter().any(|e| e.service == "keyvault"
            && e.status == 200
            && e.identity.as_deref() == Some("vm")),
        "{}",
        seen.join("\n")
    );

    // Nothing of Azure's tried to leave loopback (no IMDS, no Entra ID, no
    // ARM): the one name refused is the CLI's own version check, which a
    // fresh config dir runs (azure-cli-core `util.handle_version_update`,
    // from `https://azcliprod.blob.core.windows.net/cli`).
    let refused = cli.refused_names();
    let other: Vec<&str> = refused
        .lines()
        .filter(|l| *l != "azcliprod.blob.core.windows.net:443")
        .collect();
    assert!(
        other.is_empty(),
        "names the CLI tried to resolve: {other:?}"
    );
}
