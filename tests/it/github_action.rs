//! `action.yml` run the way the runner runs a composite action: each step's
//! `env:` evaluated (inputs with their defaults, earlier steps' outputs),
//! its `run:` written to a file and run by `bash --noprofile --norc -e -o
//! pipefail`, fresh `GITHUB_ENV` / `GITHUB_OUTPUT` / `GITHUB_PATH` /
//! `GITHUB_STEP_SUMMARY` files per step, read back with the runner's rules
//! afterwards, workflow commands on stdout acted on in order (`add-mask`
//! registers a mask, as the runner does, before later lines are logged).
//!
//! dsops is installed by the action's own install script from a release
//! directory laid out by `scripts/package-release` and served on loopback;
//! GitHub's OIDC endpoint, Entra ID and Key Vault are the emulator.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use dsops::ci::github::{parse_file_commands, unescape_data};
use dsops_emulator::testing::{Identity, Secret, StateBuilder};
use dsops_emulator::{Emulator, Options, StateFile};

use crate::support::emulated::emulator_cloud;
use serde_json::Value;

const DB: &str = "CANARY-gha-db-password-51f0";
const API: &str = "CANARY-gha-api-key-9e2b";
const JSON: &str =
    "{\n  \"user\": \"CANARY-gha-json-user\",\n  \"password\": \"CANARY-gha-json-pw-77\"\n}";
const MULTI: &str =
    "-----BEGIN KEY-----\nCANARY-gha-multi-line-aa\nCANARY-gha-multi-line-bb\n-----END KEY-----";
const EVIL: &str =
    "CANARY-gha-evil\nghadelimiter_00000000-0000-4000-8000-000000000000\nEVIL_INJECTED=1";
const RETIRED: &str = "CANARY-gha-retired-disabled-0d";
const CLIENT_ID: &str = "99999999-8888-7777-6666-555555555555";

fn secrets() -> Vec<&'static str> {
    vec![DB, API, JSON, MULTI, EVIL]
}

/// The application `ci` federated with the workflow run's subject, and a
/// vault of its secrets: the canaries, as they are, and a short value.
fn state() -> StateFile {
    StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .subscription("Development", |s| {
            s.id("00000000-0000-0000-0000-00000000c0de")
        })
        .identity(
            "ci",
            Identity::service_principal()
                .client_id(CLIENT_ID)
                .federated_credential("github", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        )
        .grant("ci", "Key Vault Secrets User", "vault:ci-vault")
        .vault("ci-vault", |v| {
            v.subscription("Development")
                .secret("db-password", DB)
                .secret("api-key", API)
                .secret("json-secret", JSON)
                .secret("multi-line", MULTI)
                .secret("evil", EVIL)
                .secret("pin", "123")
        })
        // For the `keyvault` and `secrets` inputs: a vault to migrate from
        // Azure/get-keyvault-secrets, with a disabled secret `*` skips.
        .grant("ci", "Key Vault Secrets User", "vault:migrate-vault")
        .vault("migrate-vault", |v| {
            v.subscription("Development")
                .secret("db-password", DB)
                .secret("api-key", API)
                .secret_with("retired", Secret::new(RETIRED).disabled())
        })
        .github_claim("repository", "octo-org/octo-repo")
        .github_claim("ref", "refs/heads/main")
        .build()
}

fn config(emulator: &Emulator) -> String {
    let kv =
        |secret: &str| format!("{{ from: {{ store: azure, vault: ci-vault, secret: {secret} }} }}");
    format!(
        r#"version: 1
secretStores:
  azure:
    type: azure.managed_identity
{}envs:
  production:
    DATABASE_PASSWORD: {}
    API_KEY: {}
    JSON_SECRET: {}
    MULTI_LINE: {}
    LOG_LEVEL: info
  short:
    PIN: {}
  evil:
    DATABASE_PASSWORD: {}
    EVIL: {}
  broken:
    DATABASE_PASSWORD: {}
    MISSING: {}
"#,
        emulator_cloud(emulator),
        kv("db-password"),
        kv("api-key"),
        kv("json-secret"),
        kv("multi-line"),
        kv("pin"),
        kv("db-password"),
        kv("evil"),
        kv("db-password"),
        kv("no-such-secret"),
    )
}

/// A directory served over HTTP on loopback (GET only, 404 otherwise).
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let (status, body) = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => ("200 OK", body),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

fn repo_root() -> PathBuf {
    crate::support::harness::repo_root()
}

/// A release directory (`vVERSION/` with the archive and checksums) of the
/// test's dsops binary for Linux x64.
fn release_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    let out = dir.path().join(format!("v{version}"));
    let script = repo_root().join("scripts/package-release");
    for args in [
        vec![
            "pack",
            env!("CARGO_BIN_EXE_dsops"),
            "x86_64-unknown-linux-musl",
            version,
            out.to_str().unwrap(),
        ],
        vec!["sums", version, out.to_str().unwrap()],
    ] {
        let status = Command::new(&script).args(&args).status().unwrap();
        assert!(status.success(), "package-release {args:?}");
    }
    dir
}

/// A step's outcome.
#[derive(Debug, Default)]
struct StepRun {
    id: String,
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

/// One job on a simulated runner.
struct Runner {
    root: tempfile::TempDir,
    workspace: PathBuf,
    /// The job's environment (GITHUB_ENV entries of earlier steps included).
    env: BTreeMap<String, String>,
    /// Extra PATH entries from GITHUB_PATH.
    path: Vec<String>,
    /// Registered masks, in order.
    masks: Vec<String>,
    /// The job log as the runner would show it (masked).
    log: Vec<String>,
    steps: Vec<StepRun>,
}

impl Runner {
    fn new(emulator: &Emulator, release_url: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        let workspace = root.path().join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(workspace.join("dsops.yaml"), config(emulator)).unwrap();
        std::fs::write(workspace.join("ca.pem"), emulator.ca_pem()).unwrap();
        for dir in ["tool-cache", "temp"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        let mut env = BTreeMap::new();
        let p = |dir: &str| root.path().join(dir).to_str().unwrap().to_owned();
        for (key, value) in [
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("CI", "true".to_owned()),
            ("RUNNER_OS", "Linux".to_owned()),
            ("RUNNER_ARCH", "X64".to_owned()),
            ("RUNNER_TOOL_CACHE", p("tool-cache")),
            ("RUNNER_TEMP", p("temp")),
            ("GITHUB_WORKSPACE", workspace.to_str().unwrap().to_owned()),
            (
                "GITHUB_ACTION_PATH",
                repo_root().to_str().unwrap().to_owned(),
            ),
            ("GITHUB_ACTION_REPOSITORY", "dsops/dsops".to_owned()),
            ("DSOPS_RELEASE_BASE_URL", release_url.to_owned()),
            ("HOME", p("temp")),
            ("NO_COLOR", "1".to_owned()),
            // Never the real IMDS, should anything reach for it.
            (
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                "http://127.0.0.1:9".to_owned(),
            ),
        ] {
            env.insert(key.to_owned(), value);
        }
        for (key, value) in emulator.environment() {
            // The job confirms the emulator's Entra ID (dsops.yaml cannot).
            if key.starts_with("ACTIONS_ID_TOKEN_REQUEST_") || key == "DSOPS_TRUSTED_AUTHORITY" {
                env.insert(key, value);
            }
        }
        Self {
            root,
            workspace,
            env,
            path: Vec::new(),
            masks: Vec::new(),
            log: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Runs `action.yml` with `inputs`; the action's outputs, or `None`
    /// when a step failed (later steps do not run).
    fn run_action(&mut self, inputs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        let text = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
        let action: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(action["runs"]["using"], "composite");
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        for (name, input) in action["inputs"].as_object().unwrap() {
            let default = input.get("default").and_then(Value::as_str).unwrap_or("");
            given.insert(name.clone(), default.to_owned());
        }
        for (name, value) in inputs {
            assert!(given.contains_key(*name), "action.yml has no input {name}");
            given.insert((*name).to_owned(), (*value).to_owned());
        }
        let first = self.steps.len();
        for step in action["runs"]["steps"].as_array().unwrap() {
            let script = step["run"].as_str().expect("every step is a script");
            assert!(
                !script.contains("${{"),
                "an expression inside a script: {script}"
            );
            assert_eq!(step["shell"], "bash");
            let mut env = BTreeMap::new();
            if let Some(map) = step.get("env").and_then(Value::as_object) {
                for (key, value) in map {
                    let value = self.evaluate(value.as_str().unwrap(), &given, first);
                    env.insert(key.clone(), value);
                }
            }
            let id = step["id"].as_str().unwrap_or_default().to_owned();
            let run = self.step(&id, script, &env);
            let failed = run.code != 0;
            self.steps.push(run);
            if failed {
                return None;
            }
        }
        let mut outputs = BTreeMap::new();
        for (name, output) in action["outputs"].as_object().unwrap() {
            let value = self.evaluate(output["value"].as_str().unwrap(), &given, first);
            outputs.insert(name.clone(), value);
        }
        Some(outputs)
    }

    /// The expressions action.yml may use: `inputs.X` and
    /// `steps.ID.outputs.X`, each a whole value.
    fn evaluate(&self, text: &str, inputs: &BTreeMap<String, String>, first: usize) -> String {
        let Some(expression) = text
            .trim()
            .strip_prefix("${{")
            .and_then(|t| t.strip_suffix("}}"))
        else {
            assert!(!text.contains("${{"), "an expression inside text: {text}");
            return text.to_owned();
        };
        let parts: Vec<&str> = expression.trim().split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => inputs[*name].clone(),
            ["steps", id, "outputs", name] => self.steps[first..]
                .iter()
                .find(|s| s.id == *id)
                .and_then(|s| s.outputs.get(*name).cloned())
                .unwrap_or_default(),
            _ => panic!("the simulation does not know the expression {text}"),
        }
    }

    /// One `run:` step, as the runner runs it.
    fn step(&mut self, id: &str, script: &str, step_env: &BTreeMap<String, String>) -> StepRun {
        let temp = self.root.path().join("temp");
        let n = self.steps.len();
        let file = |name: &str| {
            let path = temp.join(format!("{name}_{n}"));
            std::fs::write(&path, "").unwrap();
            path
        };
        let (env_file, output_file, path_file, summary_file) =
            (file("env"), file("output"), file("path"), file("summary"));
        let script_file = temp.join(format!("step_{n}.sh"));
        std::fs::write(&script_file, script).unwrap();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
            .arg(&script_file)
            .current_dir(&self.workspace)
            .env_clear()
            .envs(&self.env)
            .envs(step_env)
            .env("GITHUB_ENV", &env_file)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file);
        let mut path: Vec<String> = self.path.iter().rev().cloned().collect();
        path.push(std::env::var("PATH").unwrap());
        command.env("PATH", path.join(":"));
        let output = command.output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        self.process_stdout(&stdout);
        for line in stderr.lines() {
            for secret in secrets() {
                for part in parts(secret) {
                    assert!(!line.contains(part), "stderr shows a secret: {line}");
                }
            }
            self.log.push(self.masked(line));
        }
        // The runner reads the files after the step, whatever its outcome.
        let read = |path: &Path| {
            let text = std::fs::read_to_string(path).unwrap();
            parse_file_commands(&text).unwrap()
        };
        for (name, value) in read(&env_file) {
            self.env.insert(name, value);
        }
        let outputs: BTreeMap<String, String> = read(&output_file).into_iter().collect();
        for line in std::fs::read_to_string(&path_file).unwrap().lines() {
            self.path.push(line.to_owned());
        }
        StepRun {
            id: id.to_owned(),
            code: output.status.code().unwrap_or(-1),
            stdout,
            stderr,
            outputs,
            summary: std::fs::read_to_string(&summary_file).unwrap(),
        }
    }

    /// Acts on workflow commands line by line, as the runner does; any
    /// other line is logged, and must not show a secret that is not
    /// masked yet.
    fn process_stdout(&mut self, stdout: &str) {
        for line in stdout.lines() {
            if let Some(data) = line.strip_prefix("::add-mask::") {
                let value = unescape_data(data);
                // Runner 2.286+: the value whole, and each line of it.
                self.masks.push(value.clone());
                for part in value.split(['\r', '\n']).map(str::trim) {
                    if !part.is_empty() {
                        self.masks.push(part.to_owned());
                    }
                }
                continue;
            }
            for secret in secrets() {
                for part in parts(secret) {
                    if line.contains(part) {
                        assert!(
                            self.masks.iter().any(|m| m.contains(part)),
                            "{part:?} is logged before its mask: {line}"
                        );
                    }
                }
            }
            self.log.push(self.masked(line));
        }
    }

    fn masked(&self, line: &str) -> String {
        let mut masks = self.masks.clone();
        masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
        masks.iter().fold(line.to_owned(), |line, mask| {
            line.replace(mask.as_str(), "***")
        })
    }

    fn step_named(&self, id: &str) -> &StepRun {
        self.steps.iter().rev().find(|s| s.id == id).unwrap()
    }

    fn tool_cache(&self) -> PathBuf {
        self.root
            .path()
            .join("tool-cache/dsops")
            .join(env!("CARGO_PKG_VERSION"))
            .join("x64")
    }
}

/// The parts of a secret a log line could show: the value and its lines.
fn parts(secret: &str) -> Vec<&str> {
    let mut parts = vec![secret];
    parts.extend(
        secret
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("CANARY")),
    );
    parts
}

struct Setup {
    emulator: Emulator,
    url: String,
}

/// The release directory and its URL, made once for every test.
fn release() -> &'static (tempfile::TempDir, String) {
    static RELEASE: std::sync::OnceLock<(tempfile::TempDir, String)> = std::sync::OnceLock::new();
    RELEASE.get_or_init(|| {
        let dir = release_dir();
        let url = serve(dir.path().to_owned());
        (dir, url)
    })
}

fn setup() -> Setup {
    let emulator = Emulator::start_in_background(Options {
        state: state(),
        ..Default::default()
    })
    .unwrap();
    Setup {
        emulator,
        url: release().1.clone(),
    }
}

fn federation(env: &str) -> Vec<(&'static str, String)> {
    vec![
        ("env", env.to_owned()),
        ("client-id", CLIENT_ID.to_owned()),
        (
            "tenant-id",
            "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
        ),
    ]
}

fn inputs<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn exports_to_the_job_environment_with_masks_first() {
    let setup = setup();
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    let given = federation("production");
    let outputs = runner
        .run_action(&inputs(&given))
        .expect("the action succeeds");

    // Installed from the release, checksum verified, into the tool cache.
    let install = runner.step_named("install");
    assert!(install.stderr.contains("SHA-256"), "{}", install.stderr);
    assert!(runner.tool_cache().join("dsops").is_file());
    assert!(runner.tool_cache().with_file_name("x64.complete").is_file());
    assert_eq!(runner.path, [runner.tool_cache().to_str().unwrap()]);
    assert_eq!(
        outputs["path"],
        runner.tool_cache().join("dsops").to_str().unwrap()
    );

    // Exactly the environment's variables reach the job's environment.
    for (name, value) in [
        ("DATABASE_PASSWORD", DB),
        ("API_KEY", API),
        ("JSON_SECRET", JSON),
        ("MULTI_LINE", MULTI),
        ("LOG_LEVEL", "info"),
    ] {
        assert_eq!(
            runner.env.get(name).map(String::as_str),
            Some(value),
            "{name}"
        );
    }
    assert!(!runner.env.contains_key("PIN"));
    // Masks: each secret whole, its lines, JSON leaves; not the literal,
    // and not the `{` line of the JSON secret.
    for mask in [
        DB,
        API,
        JSON,
        MULTI,
        "CANARY-gha-json-pw-77",
        "CANARY-gha-multi-line-aa",
    ] {
        assert!(runner.masks.iter().any(|m| m == mask), "{mask} is masked");
    }
    // dsops itself sends no mask for the literal or the `{` line (the
    // runner splits the JSON value into lines on its own).
    let sent: Vec<String> = runner
        .step_named("dsops")
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .map(unescape_data)
        .collect();
    assert!(!sent.iter().any(|m| m == "info" || m == "{"), "{sent:?}");
    // The mask lines come before anything else the step printed.
    let dsops = runner.step_named("dsops");
    let first_other = dsops
        .stdout
        .lines()
        .position(|l| !l.starts_with("::add-mask::"))
        .unwrap_or(usize::MAX);
    let last_mask = dsops
        .stdout
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("::add-mask::"))
        .map(|(i, _)| i)
        .last()
        .unwrap();
    assert!(last_mask < first_other, "{}", dsops.stdout);
    // No outputs but the action's own, no values in the summary.
    assert_eq!(outputs["values"], "");
    assert_eq!(outputs["count"], "5");
    assert!(
        dsops.summary.contains(
            "| `DATABASE_PASSWORD` | secret db-password in https://ci-vault.vault.localhost:"
        ),
        "{}",
        dsops.summary
    );
    assert!(dsops.summary.contains("✅ job environment"));
    for secret in secrets() {
        for part in parts(secret) {
            assert!(!dsops.summary.contains(part));
            assert!(
                !dsops
                    .stdout
                    .lines()
                    .any(|l| !l.starts_with("::add-mask::") && l.contains(part))
            );
        }
    }
    assert!(
        !runner.log.join("\n").contains("eyJ"),
        "no token in the log"
    );

    // A second job on the same runner takes dsops from the tool cache,
    // without asking the release server.
    runner
        .env
        .insert("DSOPS_RELEASE_BASE_URL".into(), "http://127.0.0.1:9".into());
    runner
        .run_action(&inputs(&given))
        .expect("the tool cache serves");
    assert!(
        runner
            .step_named("install")
            .stderr
            .contains("from the tool cache")
    );
}

#[test]
fn exports_to_step_outputs_and_a_later_step_reads_them() {
    let setup = setup();
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    let mut given = federation("production");
    given.push(("export", "both".to_owned()));
    given.push((
        "variables",
        "DATABASE_PASSWORD, JSON_SECRET\nLOG_LEVEL".to_owned(),
    ));
    let outputs = runner.run_action(&inputs(&given)).unwrap();
    assert_eq!(outputs["count"], "3");
    let values: Value = serde_json::from_str(&outputs["values"]).unwrap();
    assert_eq!(values["DATABASE_PASSWORD"], DB);
    assert_eq!(values["JSON_SECRET"], JSON);
    assert_eq!(values.as_object().unwrap().len(), 3);
    assert!(
        !runner.env.contains_key("API_KEY"),
        "only the variables asked for"
    );
    assert_eq!(runner.env["DATABASE_PASSWORD"], DB);
    // A later step that prints a value shows it masked in the log.
    let printed = runner.step("print", r#"echo "db=$DATABASE_PASSWORD""#, &BTreeMap::new());
    assert_eq!(printed.code, 0);
    assert!(runner.log.iter().any(|l| l == "db=***"), "{:?}", runner.log);
}

#[test]
fn run_passes_values_to_the_script_only_and_masks_its_output() {
    let setup = setup();
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    let mut given = federation("production");
    given.push((
        "run",
        r#"echo "db=$DATABASE_PASSWORD"; printf '%s\n' "$MULTI_LINE"; echo "$JSON_SECRET" | tr -d ' '; exit 7"#
            .to_owned(),
    ));
    assert!(
        runner.run_action(&inputs(&given)).is_none(),
        "the script's code fails the step"
    );
    let dsops = runner.step_named("dsops");
    assert_eq!(dsops.code, 7);
    assert!(dsops.stdout.contains("db=***"), "{}", dsops.stdout);
    assert!(
        !runner.env.contains_key("DATABASE_PASSWORD"),
        "nothing exported"
    );
    for secret in secrets() {
        for part in parts(secret) {
            assert!(
                !dsops
                    .stdout
                    .lines()
                    .any(|l| !l.starts_with("::add-mask::") && l.contains(part)),
                "{part}"
            );
        }
    }
}

#[test]
fn an_injection_through_a_value_is_refused_and_nothing_written() {
    let setup = setup();
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    assert!(runner.run_action(&inputs(&federation("evil"))).is_none());
    let dsops = runner.step_named("dsops");
    assert_eq!(dsops.code, 1);
    assert!(
        dsops
            .stdout
            .contains("::error title=dsops::the value of EVIL contains `ghadelimiter_`"),
        "{}",
        dsops.stdout
    );
    assert!(!runner.env.contains_key("EVIL_INJECTED"));
    assert!(
        !runner.env.contains_key("DATABASE_PASSWORD"),
        "nothing is written"
    );
    assert!(dsops.outputs.is_empty());
}

#[test]
fn a_failed_resolution_writes_nothing() {
    let setup = setup();
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    let mut given = federation("broken");
    given.push(("export", "both".to_owned()));
    assert!(runner.run_action(&inputs(&given)).is_none());
    let dsops = runner.step_named("dsops");
    assert_eq!(dsops.code, 1);
    assert!(
        dsops.stdout.contains("::error title=dsops::MISSING"),
        "{}",
        dsops.stdout
    );
    assert!(!dsops.stdout.contains("::add-mask::"));
    assert!(!runner.env.contains_key("DATABASE_PASSWORD"));
    assert!(dsops.outputs.is_empty());
    assert!(dsops.summary.contains("❌"), "{}", dsops.summary);
    assert!(dsops.summary.contains("nothing was exported"));
}

#[test]
fn a_short_secret_is_refused_as_an_output_and_warned_about_in_env() {
    let setup = setup();
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    let mut given = federation("short");
    given.push(("export", "outputs".to_owned()));
    assert!(runner.run_action(&inputs(&given)).is_none());
    assert!(
        runner
            .step_named("dsops")
            .stdout
            .contains("PIN is a secret shorter than 4 characters")
    );
    let outputs = runner.run_action(&inputs(&federation("short"))).unwrap();
    assert_eq!(outputs["values"], "");
    assert_eq!(runner.env["PIN"], "123");
    let dsops = runner.step_named("dsops");
    assert!(
        dsops
            .stdout
            .contains("::warning title=dsops::PIN is shorter than 4 characters"),
        "{}",
        dsops.stdout
    );
    assert!(dsops.summary.contains("⚠️"));
}

#[test]
fn a_release_whose_checksum_does_not_match_is_not_run() {
    let setup = setup();
    let version = env!("CARGO_PKG_VERSION");
    // The real archive beside a checksums file that does not match it.
    let forged = tempfile::tempdir().unwrap();
    let from = release().0.path().join(format!("v{version}"));
    let to = forged.path().join(format!("v{version}"));
    std::fs::create_dir_all(&to).unwrap();
    let archive = format!("dsops-{version}-x86_64-unknown-linux-musl.tar.gz");
    std::fs::copy(from.join(&archive), to.join(&archive)).unwrap();
    let sums = format!("dsops-{version}-sha256sums.txt");
    let text = std::fs::read_to_string(from.join(&sums)).unwrap();
    std::fs::write(to.join(&sums), format!("{}{}", "0".repeat(64), &text[64..])).unwrap();
    let url = serve(forged.path().to_owned());
    let mut runner = Runner::new(&setup.emulator, &url);
    assert!(
        runner
            .run_action(&inputs(&federation("production")))
            .is_none()
    );
    let install = runner.step_named("install");
    assert_eq!(install.code, 1);
    assert!(
        install.stdout.contains("refusing to run it"),
        "{}",
        install.stdout
    );
    assert!(!runner.tool_cache().join("dsops").exists());
    assert_eq!(runner.steps.len(), 1, "dsops never ran");
}

#[test]
fn azure_pipelines_steps_get_setsecret_and_secret_variables() {
    let setup = setup();
    let runner = Runner::new(&setup.emulator, &setup.url);
    let mut command = crate::support::harness::dsops(&runner.workspace);
    command
        .args(["github", "--env", "production", "--client-id", CLIENT_ID])
        .args(["--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47"])
        .env("TF_BUILD", "True");
    for (key, value) in &runner.env {
        if key.starts_with("ACTIONS_ID_TOKEN_REQUEST_") || key == "DSOPS_TRUSTED_AUTHORITY" {
            command.env(key, value);
        }
    }
    let run = crate::support::harness::run(&mut command);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let first_variable = lines
        .iter()
        .position(|l| l.starts_with("##vso[task.setvariable"))
        .unwrap();
    assert!(
        lines[..first_variable]
            .iter()
            .all(|l| l.starts_with("##vso[task.setsecret]"))
    );
    assert!(lines.contains(&format!("##vso[task.setsecret]{DB}").as_str()));
    assert!(lines.contains(
        &format!("##vso[task.setvariable variable=DATABASE_PASSWORD;issecret=true]{DB}").as_str()
    ));
    assert!(lines.contains(&"##vso[task.setvariable variable=MULTI_LINE;issecret=true]-----BEGIN KEY-----%0ACANARY-gha-multi-line-aa%0ACANARY-gha-multi-line-bb%0A-----END KEY-----"));
    assert!(!run.stderr.contains("CANARY"));
    assert!(!run.stdout.contains("::add-mask::"));
}

#[test]
fn configuration_problems_are_annotations_on_their_lines() {
    let dir = crate::support::harness::config_dir(
        "version: 1\nsecretStores:\n  azure: { type: azure.managed_identity }\nenvs:\n  production:\n    DB: { from: { store: azrue, secret: db } }\n",
    );
    let env_file = dir.path().join("env");
    let run = crate::support::harness::run(
        crate::support::harness::dsops(dir.path())
            .args(["github", "--env", "production"])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ENV", &env_file),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("::error file=dsops.yaml,line=6,col="),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("title=dsops check::error["),
        "{}",
        run.stdout
    );
    assert!(!env_file.exists(), "nothing written");
}

/// The migration from `Azure/get-keyvault-secrets`: `keyvault` and
/// `secrets` with no dsops.yaml in the workspace. The vault is given by URL
/// (the emulator's host), Entra ID by `AZURE_AUTHORITY_HOST` and its CA by
/// `SSL_CERT_FILE`, the standard settings a private cloud uses.
fn without_config(setup: &Setup) -> Runner {
    let mut runner = Runner::new(&setup.emulator, &setup.url);
    std::fs::remove_file(runner.workspace.join("dsops.yaml")).unwrap();
    let ca = runner.workspace.join("ca.pem");
    runner
        .env
        .insert("SSL_CERT_FILE".into(), ca.to_str().unwrap().to_owned());
    runner
        .env
        .insert("AZURE_AUTHORITY_HOST".into(), setup.emulator.https_url());
    runner
}

fn keyvault_inputs(setup: &Setup, secrets: &str) -> Vec<(&'static str, String)> {
    let mut given = federation("");
    given.push(("keyvault", setup.emulator.vault_url("migrate-vault")));
    given.push(("secrets", secrets.to_owned()));
    given
}

#[test]
fn keyvault_and_secrets_need_no_dsops_yaml() {
    let setup = setup();
    let mut runner = without_config(&setup);
    let given = keyvault_inputs(&setup, "db-password, api-key");
    let outputs = runner
        .run_action(&inputs(&given))
        .expect("the action succeeds");
    assert_eq!(runner.env.get("db_password").map(String::as_str), Some(DB));
    assert_eq!(runner.env.get("api_key").map(String::as_str), Some(API));
    assert_eq!(outputs["count"], "2");
    for mask in [DB, API] {
        assert!(runner.masks.iter().any(|m| m == mask), "{mask} is masked");
    }
    let dsops = runner.step_named("dsops");
    for part in [DB, API, RETIRED] {
        assert!(!dsops.summary.contains(part));
        assert!(
            !dsops
                .stdout
                .lines()
                .any(|l| !l.starts_with("::add-mask::") && l.contains(part))
        );
        assert!(!dsops.stderr.contains(part));
    }

    // `*`: every secret that can be read; the disabled one is skipped.
    let mut runner = without_config(&setup);
    let given = keyvault_inputs(&setup, "*");
    let outputs = runner
        .run_action(&inputs(&given))
        .expect("the action succeeds");
    assert_eq!(outputs["count"], "2", "{:?}", runner.step_named("dsops"));
    assert_eq!(runner.env.get("db_password").map(String::as_str), Some(DB));
    assert!(!runner.env.contains_key("retired"));
    assert!(!runner.log.join("\n").contains(RETIRED));

    // A secret that is not there fails the step, nothing exported.
    let mut runner = without_config(&setup);
    let given = keyvault_inputs(&setup, "db-password,no-such-secret");
    assert!(runner.run_action(&inputs(&given)).is_none());
    let dsops = runner.step_named("dsops");
    assert!(
        dsops.stdout.contains("::error title=dsops::no_such_secret"),
        "{}",
        dsops.stdout
    );
    assert!(!runner.env.contains_key("db_password"));

    // keyvault with env, or without secrets, is a usage error.
    let mut runner = without_config(&setup);
    let mut given = keyvault_inputs(&setup, "");
    assert!(runner.run_action(&inputs(&given)).is_none());
    assert_eq!(runner.step_named("dsops").code, 2);
    given.retain(|(k, _)| *k != "secrets" && *k != "env");
    given.push(("secrets", "db-password".into()));
    given.push(("env", "production".into()));
    let mut runner = without_config(&setup);
    assert!(runner.run_action(&inputs(&given)).is_none());
    assert_eq!(runner.step_named("dsops").code, 2);
}
