//! `dsops doctor` as a real process against the in-process emulator: the
//! identity that wins, whose token it gets, what Key Vault says, one fix per
//! failure, and never a token or a secret value in the output.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dsops_emulator::testing::StateBuilder;
use dsops_emulator::{Emulator, StateFile};
use serde_json::Value;

use crate::support::emulated::emulator_with_dir;
use crate::support::harness::{Run, dsops, run};

/// A secret value that must never be printed.
const CANARY: &str = "CANARY-doctor-value-4be1d2";

/// The emulator's state: a VM with a system-assigned identity and a vault
/// with one secret; no role assignment.
fn no_role() -> StateBuilder {
    StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .subscription("Development", |s| {
            s.id("00000000-0000-0000-0000-00000000c0de")
        })
        .system_identity("vm")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
        })
}

/// The same, the VM a Key Vault Secrets User of the vault.
fn secrets_user() -> StateBuilder {
    no_role().grant("vm", "Key Vault Secrets User", "vault:dev-vault")
}

/// An emulator and a directory with dsops.yaml and the emulator's CA.
struct Setup {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Setup {
    /// `secret` is the secret the environment reads from `dev-vault`.
    fn new(state: StateBuilder, secret: &str) -> Self {
        Self::with_state(state.build(), "dev-vault", secret)
    }

    fn with_state(state: StateFile, vault: &str, secret: &str) -> Self {
        let (emulator, dir) = emulator_with_dir(state);
        let https = emulator.https_url();
        let port = emulator.https_addr().port();
        let config = format!(
            r#"version: 1
secretStores:
  azure:
    type: azure.managed_identity
    cloud:
      base: public
      authority_host: {https}
      resource_manager: {https}
      keyvault_dns_suffix: "vault.localhost:{port}"
      ca_bundle: ./ca.pem
envs:
  production:
    DB_PASSWORD:
      from: {{ store: azure, vault: {vault}, secret: {secret} }}
    LOG_LEVEL: info
"#
        );
        std::fs::write(dir.path().join("dsops.yaml"), config).unwrap();
        Self { emulator, dir }
    }

    fn doctor(&self, args: &[&str]) -> Run {
        let mut cmd = dsops(self.dir.path());
        cmd.arg("doctor")
            .args(["--env", "production"])
            .args(args)
            .env(
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                self.emulator.http_url().unwrap(),
            );
        run(&mut cmd)
    }

    fn vm_object_id(&self) -> String {
        self.emulator.identity("vm").unwrap().object_id
    }
}

fn assert_reveals_nothing(run: &Run) {
    let all = run.all_output();
    assert!(!all.contains("eyJ"), "a token is printed:\n{all}");
    assert!(!all.contains(CANARY), "the secret value is printed:\n{all}");
}

#[test]
fn all_good_names_the_winner_the_identity_and_the_secret() {
    let setup = Setup::new(secrets_user(), "database-password");
    let out = setup.doctor(&[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("=> managed_identity gives the tokens: managed identity via IMDS"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&setup.vm_object_id()), "{}", out.stdout);
    assert!(out.stdout.contains("expires in"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("reachable, database-password exists (1 version listed)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("all 3 checks passed"), "{}", out.stdout);
    // Sources before the winner are listed as skipped, after it as not tried.
    assert!(out.stdout.contains("environment"), "{}", out.stdout);
    assert!(out.stdout.contains("not tried"), "{}", out.stdout);
    assert_reveals_nothing(&out);

    // The trace shows requests, still no token or value.
    let traced = setup.doctor(&["--debug"]);
    assert_eq!(traced.code, 0, "{}{}", traced.stdout, traced.stderr);
    assert!(traced.stderr.contains("identity:"), "{}", traced.stderr);
    assert_reveals_nothing(&traced);

    // Exactly one Key Vault request, and it lists versions: no value read.
    let kv: Vec<_> = setup
        .emulator
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.service == "keyvault")
        .collect();
    assert_eq!(kv.len(), 2, "one per run: {kv:?}");
    assert!(
        kv.iter()
            .all(|e| e.path == "/secrets/database-password/versions"),
        "{kv:?}"
    );
}

#[test]
fn no_role_gives_the_object_id_and_the_role_assignment_command() {
    let setup = Setup::new(no_role(), "database-password");
    let out = setup.doctor(&[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let oid = setup.vm_object_id();
    assert!(out.stdout.contains("403 ForbiddenByRbac"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "grant 'Key Vault Secrets User' on vault dev-vault to object id {oid}"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "az role assignment create --role \"Key Vault Secrets User\" --assignee-object-id {oid} --assignee-principal-type ServicePrincipal --scope \"$(az keyvault show --name dev-vault --query id -o tsv)\""
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 of 3 checks failed"),
        "{}",
        out.stdout
    );
    assert_reveals_nothing(&out);
}

#[test]
fn a_vault_of_another_tenant_is_explained() {
    const FOREIGN: &str = "22222222-0000-0000-0000-000000000002";
    let state = StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .tenant(FOREIGN)
        .subscription("Foreign", |s| {
            s.id("00000000-0000-0000-0000-0000000000f2").tenant(FOREIGN)
        })
        .system_identity("vm")
        .vault("foreign-vault", |v| {
            v.subscription("Foreign")
                .secret("database-password", CANARY)
        })
        .build();
    let setup = Setup::with_state(state, "foreign-vault", "database-password");
    let out = setup.doctor(&[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "401 AKV10032: the vault is in tenant 22222222-0000-0000-0000-000000000002, the token is from tenant 72f988bf-86f1-41af-91ab-2d7cd011db47"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("a managed identity gets tokens of its own tenant only"),
        "{}",
        out.stdout
    );
    assert_reveals_nothing(&out);
}

#[test]
fn missing_secret_says_so() {
    let setup = Setup::new(secrets_user(), "no-such-secret");
    let out = setup.doctor(&[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("no secret no-such-secret in dev-vault"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("az keyvault secret set --vault-name dev-vault --name no-such-secret"),
        "{}",
        out.stdout
    );
    assert_reveals_nothing(&out);
}

/// A loopback port that accepts connections and never answers, until dropped.
struct Silent {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Silent {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn no_managed_identity_is_concluded_quickly_with_every_source_skipped() {
    let imds = Silent::start();
    // Every endpoint on loopback; nothing answers there but the silent IMDS.
    let dir = crate::support::harness::config_dir(
        r#"version: 1
secretStores:
  azure:
    type: azure.managed_identity
    cloud:
      base: public
      authority_host: https://127.0.0.1:9
      resource_manager: https://127.0.0.1:9
      keyvault_dns_suffix: "vault.localhost:9"
envs:
  production:
    DB_PASSWORD:
      from: { store: azure, vault: dev-vault, secret: database-password }
"#,
    );
    let mut cmd = dsops(dir.path());
    cmd.args(["doctor", "--env", "production"]).env(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        format!("http://127.0.0.1:{}", imds.port),
    );
    let started = Instant::now();
    let out = run(&mut cmd);
    let elapsed = started.elapsed();
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    for kind in dsops::identity::DEFAULT_ORDER {
        let line = out
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{kind} ")))
            .unwrap_or_else(|| panic!("no line for {kind}:\n{}", out.stdout));
        let reason = line
            .split_once("skipped")
            .unwrap_or_else(|| panic!("{kind} is not skipped: {line}"))
            .1;
        assert!(
            reason.trim().len() > 3,
            "{kind} has no reason: {line}\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("no IMDS answered"), "{}", out.stdout);
    assert!(
        out.stdout.contains("no source gave a token"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("run `az login`, or use this on an Azure host with a managed identity"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("not checked: no token for Key Vault"),
        "{}",
        out.stdout
    );
}

#[test]
fn json_has_sources_tokens_vaults_and_fixes() {
    let setup = Setup::new(secrets_user(), "database-password");
    let out = setup.doctor(&["--format", "json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_reveals_nothing(&out);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["env"], "production");
    assert_eq!(doc["fixes"], Value::Array(Vec::new()));
    let store = &doc["stores"][0];
    assert_eq!(store["store"], "azure");
    assert_eq!(store["winner"]["kind"], "managed_identity");
    let sources = store["sources"].as_array().unwrap();
    let kinds: Vec<&str> = sources
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, dsops::identity::DEFAULT_ORDER);
    let outcomes: Vec<&str> = sources
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["skipped", "skipped", "skipped", "won", "not_tried"]
    );
    assert!(sources[0]["reason"].as_str().unwrap().contains("not set"));

    let vm = setup.emulator.identity("vm").unwrap();
    let token = &store["tokens"][0];
    let port = setup.emulator.https_addr().port();
    assert_eq!(
        token["scope"],
        format!("https://vault.localhost:{port}/.default")
    );
    assert_eq!(token["ok"], true);
    assert!(token["expires_on"].as_u64().unwrap() > 1_700_000_000);
    let left = token["expires_in_seconds"].as_u64().unwrap();
    assert!((3000..=3600).contains(&left), "{left}");
    assert_eq!(token["object_id"], vm.object_id.as_str());
    assert_eq!(token["client_id"], vm.client_id.as_str());
    assert_eq!(token["tenant_id"], vm.tenant_id.as_str());
    assert_eq!(token["audience"], format!("https://vault.localhost:{port}"));

    let vault = &store["vaults"][0];
    assert_eq!(vault["ok"], true);
    assert_eq!(vault["result"], "exists");
    assert_eq!(vault["status"], 200);
    assert_eq!(vault["type"], "secret");
    assert_eq!(vault["name"], "database-password");
    assert_eq!(vault["variables"][0], "DB_PASSWORD");
    assert_eq!(
        vault["vault"],
        format!("https://dev-vault.vault.localhost:{port}")
    );

    // A failure carries its fix, with the command.
    let denied = Setup::new(no_role(), "database-password").doctor(&["--format", "json"]);
    assert_eq!(denied.code, 1);
    let doc: Value = serde_json::from_str(&denied.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    let vault = &doc["stores"][0]["vaults"][0];
    assert_eq!(vault["result"], "forbidden");
    assert_eq!(vault["inner_code"], "ForbiddenByRbac");
    assert_eq!(vault["fix"], 1);
    let fix = &doc["fixes"][0];
    assert_eq!(fix["check"], "vault");
    assert!(
        fix["command"]
            .as_str()
            .unwrap()
            .starts_with("az role assignment create --role \"Key Vault Secrets User\"")
    );
}

#[test]
fn config_errors_are_reported_as_check_reports_them() {
    let dir = crate::support::harness::config_dir(
        r#"version: 1
secretStores:
  azure:
    type: azure.managed_identity
envs:
  production:
    DB_PASSWORD:
      from: { store: azure, vault: dev-vault, secret: "${UNSET_NAME}" }
"#,
    );
    let mut cmd = dsops(dir.path());
    // No request may leave: IMDS would be the first, and it points nowhere.
    cmd.args(["doctor", "--env", "production"])
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
    let out = run(&mut cmd);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("UNSET_NAME"), "{}", out.stdout);
    assert!(out.stdout.contains("1 error"), "{}", out.stdout);

    let mut cmd = dsops(dir.path());
    cmd.args(["doctor", "--env", "staging"])
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
    let out = run(&mut cmd);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("no environment called `staging`"),
        "{}",
        out.stdout
    );
}
