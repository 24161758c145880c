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

/// Runs a prepared command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().expect("dsops runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
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

/// The repository's `tests/fixtures` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
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
                d.code.to_owned(),
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
