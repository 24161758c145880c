//! A directory with dsops.yaml, the emulator's CA and an in-process emulator
//! behind it: for the commands that resolve values (`exec`, `render`, `get`,
//! `plan`).
//!
//! The emulator has a VM with a system-assigned identity that may read
//! `dev-vault`, a user-assigned identity `norole` without any role, and a
//! vault whose secrets are canaries: values that must never be printed by
//! dsops itself (the `hostile-N` ones need quoting in every output format).

use std::path::Path;
use std::process::Command;

use dsops_emulator::testing::{Identity, Secret, StateBuilder};
use dsops_emulator::{Emulator, FaultSpec, Options, StateFile};

use crate::support::harness::{Run, dsops, run};

/// `database-password`.
pub const DB_PASSWORD: &str = "CANARY-db-password-7f3a91";
/// `api-key`.
pub const API_KEY: &str = "CANARY-api-key-c0ffee";
/// A literal of environment `production`.
pub const LITERAL: &str = "CANARY-literal-5eed";
/// `retired`, a disabled secret.
pub const RETIRED: &str = "CANARY-retired-d15ab1ed";

/// Values that quoting must get right, each a canary (`hostile-N`, read by
/// variable `HN` of environment `hostile`).
pub const HOSTILE: &[&str] = &[
    "CANARY-h0 it's \"quoted\" 'twice' $HOME ${PATH} \\ \\' #not-a-comment a=b",
    "CANARY-h1\nsecond line\r\nthird line\n",
    "CANARY-h2 $(touch pwned) `touch pwned` ; exit 1 & | < > * ?",
    "CANARY-h3 \u{e9}\u{20ac}\u{1f600}\ttab  trailing spaces  ",
    "CANARY-h4 ends with a backslash\\",
    "'CANARY-h5'",
    "\"CANARY-h6\"",
    "-----BEGIN PRIVATE KEY-----\nCANARY-h7\n-----END PRIVATE KEY-----\n",
];

/// Every canary value: none may appear in dsops's own output.
pub fn canaries() -> Vec<&'static str> {
    let mut all = vec![DB_PASSWORD, API_KEY, LITERAL, RETIRED];
    all.extend(HOSTILE);
    all
}

/// Fails if `run` printed a canary value or a token.
pub fn assert_reveals_nothing(run: &Run) {
    let all = run.all_output();
    assert!(!all.contains("eyJ"), "a token is printed:\n{all}");
    assert!(!all.contains("CANARY"), "a value is printed:\n{all}");
    for canary in canaries() {
        // Hostile values printed in part (after a line break, say) too.
        for line in canary.lines().filter(|l| l.len() > 12) {
            assert!(!all.contains(line), "a value is printed:\n{all}");
        }
    }
}

/// The tenant and the subscription of the example state, `vm` that may
/// read `dev-vault`, `norole` that may not, and the canaries in the vault.
fn state() -> StateFile {
    StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .subscription("Development", |s| {
            s.id("00000000-0000-0000-0000-00000000c0de")
        })
        .system_identity("vm")
        .identity("norole", Identity::user_assigned())
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            let v = v
                .subscription("Development")
                .secret("database-password", DB_PASSWORD)
                .secret("api-key", API_KEY)
                .secret_with("retired", Secret::new(RETIRED).disabled());
            HOSTILE
                .iter()
                .enumerate()
                .fold(v, |v, (i, value)| v.secret(format!("hostile-{i}"), *value))
        })
        .build()
}

/// An emulator with `state` on free ports, and a new directory holding its
/// CA as `ca.pem` (for a dsops.yaml whose cloud names `ca_bundle: ./ca.pem`).
pub fn emulator_with_dir(state: StateFile) -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start_in_background(Options {
        state,
        ..Default::default()
    })
    .unwrap();
    let dir = dir_with_ca(&emulator);
    (emulator, dir)
}

/// A new directory holding `emulator`'s CA as `ca.pem`.
pub fn dir_with_ca(emulator: &Emulator) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), emulator.ca_pem()).unwrap();
    dir
}

/// An emulator and a directory with `dsops.yaml` (and `debug.yaml`, the same
/// with every store's `debug: { enabled: true }`) and `ca.pem`.
pub struct Emulated {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
}

impl Emulated {
    pub fn start() -> Self {
        Self::start_with_token_lifetime(None)
    }

    /// [`Emulated::start`] with access tokens that last `seconds`.
    pub fn start_with_token_lifetime(seconds: Option<u64>) -> Self {
        let mut state = state();
        state.token_lifetime = seconds;
        let (emulator, dir) = emulator_with_dir(state);
        let norole = emulator.identity("norole").unwrap().client_id;
        for (file, debug) in [("dsops.yaml", false), ("debug.yaml", true)] {
            let text = config(&emulator, &norole, debug);
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        Self { emulator, dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `dsops ARGS` in the directory, with IMDS at the emulator.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = dsops(self.path());
        cmd.args(args).env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            self.emulator.http_url().unwrap(),
        );
        cmd
    }

    /// Runs `dsops ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    /// Runs `dsops` with the words of `line` as its arguments.
    pub fn run_words(&self, line: &str) -> Run {
        self.run(&line.split_whitespace().collect::<Vec<_>>())
    }

    /// Adds a fault rule for Key Vault requests.
    pub fn keyvault_fault(&self, spec: FaultSpec) {
        self.emulator.faults().add(FaultSpec {
            service: Some("keyvault".to_owned()),
            ..spec
        });
    }

    /// The object id of an emulator identity.
    pub fn object_id(&self, name: &str) -> String {
        self.emulator.identity(name).unwrap().object_id
    }

    /// How many Key Vault requests the emulator answered, with these statuses.
    pub fn keyvault_statuses(&self) -> Vec<u16> {
        self.emulator
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.service == "keyvault")
            .map(|e| e.status)
            .collect()
    }

    /// The secrets Key Vault was asked for, in order, once each.
    pub fn keyvault_secrets(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for entry in self.emulator.log().entries() {
            let name = entry
                .path
                .trim_start_matches("/secrets/")
                .trim_end_matches('/');
            if entry.service == "keyvault" && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        names
    }

    /// The services the emulator was asked for, in order.
    pub fn services(&self) -> Vec<String> {
        self.emulator
            .log()
            .entries()
            .into_iter()
            .map(|e| e.service.to_owned())
            .collect()
    }
}

/// The `cloud:` of a store (indented for `secretStores.NAME`) that points
/// every endpoint at `emulator` and trusts its CA from `./ca.pem`.
pub fn emulator_cloud(emulator: &Emulator) -> String {
    let https = emulator.https_url();
    let port = emulator.https_addr().port();
    format!(
        "    cloud:\n      base: public\n      authority_host: {https}\n      resource_manager: {https}\n      keyvault_dns_suffix: \"vault.localhost:{port}\"\n      ca_bundle: ./ca.pem\n"
    )
}

fn config(emulator: &Emulator, norole_client_id: &str, debug: bool) -> String {
    let https = emulator.https_url();
    let port = emulator.https_addr().port();
    let debug = if debug {
        "\n    debug: { enabled: true }"
    } else {
        ""
    };
    let cloud = format!(
        r#"    cloud:
      base: public
      authority_host: {https}
      resource_manager: {https}
      keyvault_dns_suffix: "vault.localhost:{port}"
      ca_bundle: ./ca.pem{debug}"#
    );
    let kv = |store: &str, secret: &str| {
        format!("{{ from: {{ store: {store}, vault: dev-vault, secret: {secret} }} }}")
    };
    let hostile: String = (0..HOSTILE.len())
        .map(|i| format!("    H{i}: {}\n", kv("azure", &format!("hostile-{i}"))))
        .collect();
    format!(
        r#"version: 1
secretStores:
  azure:
    type: azure.managed_identity
{cloud}
  norole:
    type: azure.managed_identity
    identity: {{ type: user_assigned, client_id: {norole_client_id} }}
{cloud}
envs:
  production:
    DATABASE_PASSWORD: {db}
    API_KEY: {api}
    GREETING: {LITERAL}
    LOG_LEVEL: info
  hostile:
{hostile}    EMPTY: ""
  denied:
    LOG_LEVEL: info
    DATABASE_PASSWORD: {denied}
  missing:
    NOTHING: {missing}
  disabled:
    RETIRED: {retired}
  partial:
    DATABASE_PASSWORD: {db}
    NOTHING: {missing}
  mixed:
    DATABASE_PASSWORD: {db}
    EXTRA: {{ from: {{ store: azure, vault: dev-vault, secret: no-such-secret }}, optional: true }}
"#,
        db = kv("azure", "database-password"),
        api = kv("azure", "api-key"),
        denied = kv("norole", "database-password"),
        missing = kv("azure", "no-such-secret"),
        retired = kv("azure", "retired"),
    )
}
