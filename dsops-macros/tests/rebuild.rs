//! Editing dsops.yaml, or a variable it reads, rebuilds a crate that uses
//! `#[dsops::env]` (tracked through `include_bytes!` and `option_env!`, on
//! stable Rust) and a crate that uses the build-script generator (through
//! `cargo::rerun-if-*`).
//!
//! A tiny crate is written into the target's temporary directory (always the
//! same one, so that its builds replace each other) and built with Cargo,
//! offline, into this workspace's target directory (so that dsops and its
//! dependencies are built once for every run); it prints the fields of the
//! struct each way generates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .to_path_buf()
}

/// The tiny crate's files.
fn write_crate(dir: &Path) {
    let workspace = workspace();
    let manifest = format!(
        r#"[package]
name = "dsops-rebuild-probe"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
dsops = {{ path = {root:?} }}

[build-dependencies]
dsops-codegen = {{ path = {codegen:?} }}

[workspace]

# As in the dsops workspace, so that its builds are reused.
[profile.dev.package.aws-lc-sys]
opt-level = 3
[profile.dev.package.insta]
opt-level = 3
[profile.dev.package.similar]
opt-level = 3
"#,
        root = workspace.display().to_string(),
        codegen = workspace.join("crates/dsops-codegen").display().to_string(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock file: the same versions, nothing to download.
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    dsops_codegen::Builder::new(\"production\")\n        .struct_name(\"BuiltEnv\")\n        .generate()\n        .unwrap();\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"#[dsops::env("production")]
struct MacroEnv;

include!(concat!(env!("OUT_DIR"), "/dsops_env.rs"));

fn main() {
    let none: [(&str, &str); 0] = [];
    println!("{:?}", MacroEnv::for_tests(none).unwrap());
    println!("{:?}", BuiltEnv::for_tests(none).unwrap());
}
"#,
    )
    .unwrap();
}

const CONFIG: &str = "secretStores:
  azure:
    type: azure.managed_identity
    identity: { type: user_assigned, client_id: \"${PROBE_CLIENT_ID:-12345678-1234-1234-1234-123456789012}\" }
envs:
  production:
    FIRST:
      from: { store: azure, vault: probe-vault, secret: first }
";

fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(dir)
        .args(args)
        .arg("--offline")
        .arg("--quiet")
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("PROBE_CLIENT_ID")
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

/// Builds and runs the probe; its output, or the build's errors.
fn run(dir: &Path, env: &[(&str, &str)]) -> Result<String, String> {
    let output = cargo(dir, &["run"], env);
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn editing_the_file_or_a_variable_it_reads_rebuilds() {
    let dir = &Path::new(env!("CARGO_TARGET_TMPDIR")).join("dsops-rebuild-probe");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    write_crate(dir);
    std::fs::write(dir.join("dsops.yaml"), CONFIG).unwrap();

    let first = run(dir, &[]).unwrap();
    assert_eq!(
        first,
        "MacroEnv { first: [redacted] }\nBuiltEnv { first: [redacted] }\n"
    );

    // A new variable: both structs have the new field after a plain rebuild.
    std::fs::write(
        dir.join("dsops.yaml"),
        format!("{CONFIG}    SECOND_VALUE: added\n"),
    )
    .unwrap();
    let second = run(dir, &[]).unwrap();
    assert_eq!(
        second,
        "MacroEnv { first: [redacted], second_value: [redacted] }\nBuiltEnv { first: [redacted], second_value: [redacted] }\n"
    );

    // A variable the file reads: set to a value `dsops check` refuses, the
    // crate must be checked again, and fail to build, naming the place.
    let err = run(dir, &[("PROBE_CLIENT_ID", "not-a-guid")]).unwrap_err();
    assert!(err.contains("dsops.yaml:4:"), "{err}");
    assert!(err.contains("PROBE_CLIENT_ID"), "{err}");
    // And unset again, it builds again.
    assert_eq!(run(dir, &[]).unwrap(), second);
}
