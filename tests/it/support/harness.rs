//! Shared test helpers: running the binary, writing configs, loading fixtures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dsops::config::{LoadOptions, Loaded, Source, load};

/// What a `dsops` run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for "never printed anywhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The `dsops` binary with a clean, deterministic environment: no colour, no
/// inherited `DSOPS_*` or `AZURE_*` variables, working directory `dir`.
pub fn dsops(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dsops"));
    cmd.current_dir(dir);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("NO_COLOR", "1");
    // Should a test reach the default identity chain by mistake, IMDS is a
    // closed loopback port, never 169.254.169.254. Tests that want IMDS set
    // their own.
    cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
    cmd
}

/// Runs a prepared command to completion. When it is `dsops`, the leak
/// sweep ([`sweep`]) checks the run.
pub fn run(cmd: &mut Command) -> Run {
    let before = cmd.get_current_dir().map(files_in).unwrap_or_default();
    let output = cmd.output().expect("dsops runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if Path::new(cmd.get_program()) == Path::new(env!("CARGO_BIN_EXE_dsops")) {
        sweep(cmd, &before, &run);
    }
    run
}

/// What every canary value in the tests contains: the emulator states and
/// fixtures give every secret, key and client secret a value with it.
pub const CANARY: &str = "CANARY";

/// The leak sweep, on for every run of `dsops` through [`run`]: no canary
/// value and no token (`eyJ…`, a JWT) may appear anywhere but where the
/// command puts values on purpose:
///
/// - stderr, always (a panic's message included), except under `exec`,
///   whose child writes to it;
/// - stdout, except for `get` and `exec` (values are their output) and the
///   workflow commands of `github` (`::add-mask::`, `##vso[...]`);
/// - every file created or changed under the working directory, except the
///   file `render --out` names and the `GITHUB_ENV` / `GITHUB_OUTPUT`
///   files; not checked under `exec`, whose child may write files.
#[track_caller]
pub fn sweep(cmd: &Command, before: &HashMap<PathBuf, std::time::SystemTime>, run: &Run) {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The subcommand: the first word that is not a global option or its value.
    let mut words = args.iter();
    let mut command = String::new();
    while let Some(word) = words.next() {
        if word == "--config" || word == "--color" {
            words.next();
        } else if !word.starts_with('-') {
            command = word.clone();
            break;
        }
    }
    let leaks = |text: &str| text.contains(CANARY) || text.contains("eyJ");
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if command != "exec" {
        assert!(
            !leaks(&run.stderr),
            "leak sweep: `dsops {}` shows a value or token on stderr:\n{}",
            args.join(" "),
            run.stderr
        );
    }
    let stdout_is_output = matches!(command.as_str(), "get" | "exec")
        || (command == "render" && value_of("--out").as_deref() == Some("-"));
    if !stdout_is_output {
        let commands = command == "github" || command == "ci";
        for line in run.stdout.lines() {
            let workflow_command = line.starts_with("::add-mask::") || line.starts_with("##vso[");
            assert!(
                (commands && workflow_command) || !leaks(line),
                "leak sweep: `dsops {}` shows a value or token on stdout: {line}",
                args.join(" ")
            );
        }
    }
    if command == "exec" {
        return;
    }
    let Some(dir) = cmd.get_current_dir() else {
        return;
    };
    let mut allowed: Vec<PathBuf> = Vec::new();
    if let Some(out) = value_of("--out") {
        allowed.push(dir.join(out));
    }
    for (key, value) in cmd.get_envs() {
        if matches!(key.to_str(), Some("GITHUB_ENV" | "GITHUB_OUTPUT"))
            && let Some(value) = value
        {
            allowed.push(dir.join(value));
        }
    }
    for (path, modified) in files_in(dir) {
        if before.get(&path) == Some(&modified) || allowed.contains(&path) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        assert!(
            !leaks(&String::from_utf8_lossy(&bytes)),
            "leak sweep: `dsops {}` left a value or token in {}",
            args.join(" "),
            path.display()
        );
    }
}

/// Every file under `dir` (not following links, at most 4 levels deep),
/// with its modification time.
fn files_in(dir: &Path) -> HashMap<PathBuf, std::time::SystemTime> {
    fn walk(dir: &Path, depth: usize, out: &mut HashMap<PathBuf, std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() && depth < 4 {
                walk(&entry.path(), depth + 1, out);
            } else if meta.is_file() {
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                out.insert(entry.path(), modified);
            }
        }
    }
    let mut out = HashMap::new();
    walk(dir, 0, &mut out);
    out
}

/// A temporary directory holding `dsops.yaml` with `text`.
pub fn config_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("dsops.yaml"), text).expect("write dsops.yaml");
    dir
}

/// `dsops check` (plus `args`) on `text`, with `env` as the environment.
pub fn check(text: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = config_dir(text);
    let mut cmd = dsops(dir.path());
    cmd.arg("check").args(args).envs(env.iter().copied());
    run(&mut cmd)
}

/// The repository's root: these tests belong to `crates/dsops-cli`, whose
/// binary they drive, but live at the top of the repository.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's `tests/fixtures` directory.
pub fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// Loads `text` through the library, as `dsops check` does, with `env` as
/// the only environment variables.
pub fn load_check(name: &str, text: &str, env: &[(&str, &str)]) -> Loaded {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    load(Source::new(name, text), &env, LoadOptions::check())
}

/// `(severity, code, line, column)` of every diagnostic, in file order.
pub fn summary(loaded: &Loaded) -> Vec<(String, String, usize, usize)> {
    loaded
        .diagnostics()
        .iter()
        .map(|d| {
            let (line, column) = d.span.map_or((0, 0), |s| {
                let p = loaded.source().position(s.start);
                (p.line, p.column)
            });
            (
                d.severity.as_str().to_owned(),
                d.code.to_string(),
                line,
                column,
            )
        })
        .collect()
}

/// Fails unless `text` contains every one of `needles`, showing `text`.
#[track_caller]
pub fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
}

#[test]
#[should_panic(expected = "leak sweep: `dsops check` shows a value or token on stderr")]
fn the_sweep_catches_a_value_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dsops(dir.path());
    cmd.arg("check");
    let run = Run {
        code: 1,
        stdout: String::new(),
        stderr: "error: CANARY-shown\n".to_owned(),
    };
    sweep(&cmd, &files_in(dir.path()), &run);
}

#[test]
#[should_panic(expected = "left a value or token in")]
fn the_sweep_catches_a_value_left_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dsops(dir.path());
    cmd.args(["render", "--env", "x", "--out", "values.env"]);
    let before = files_in(dir.path());
    std::fs::write(dir.path().join("values.env"), "A='CANARY-1'\n").unwrap();
    std::fs::write(dir.path().join("values.env.tmp"), "A='CANARY-1'\n").unwrap();
    let run = Run {
        code: 0,
        stdout: String::new(),
        stderr: String::new(),
    };
    sweep(&cmd, &before, &run);
}

#[test]
fn the_sweep_allows_workflow_commands_and_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dsops(dir.path());
    cmd.args(["github", "--env", "x"]).env("GITHUB_ENV", "env");
    let before = files_in(dir.path());
    std::fs::write(dir.path().join("env"), "A<<d\nCANARY-1\nd\n").unwrap();
    let run = Run {
        code: 0,
        stdout: "::add-mask::CANARY-1\n##vso[task.setsecret]CANARY-1\n".to_owned(),
        stderr: String::new(),
    };
    sweep(&cmd, &before, &run);
}
