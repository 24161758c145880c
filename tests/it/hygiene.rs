//! Secret hygiene of the process: dsops is not dumpable while it holds
//! values (no core file, no `/proc/PID/mem` or `environ` for other
//! processes of the user), its child is; and values reach the child only
//! through its environment, never a command line. (`render` leaving no
//! temporary file is in render_cli.rs.)

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::emulated::{DB_PASSWORD, Emulated};
use crate::support::harness::run;

/// `sh -c SCRIPT` under `dsops exec --env production`.
fn exec_sh(emulated: &Emulated, script: &str) -> crate::support::harness::Run {
    let mut cmd = emulated.command(&["exec", "--env", "production", "--", "sh", "-c", script]);
    run(&mut cmd)
}

#[cfg(target_os = "linux")]
#[test]
fn dsops_is_not_dumpable_and_its_child_is() {
    // Ownership of /proc/PID shows dumpability only to a user that is not
    // root: run dsops as `nobody`.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !is_root || !setpriv.exists() {
        eprintln!("skipped: needs root and setpriv to run dsops as another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.path().join("dsops.yaml"),
        "version: 1\nsecretStores:\n  azure: { type: azure.managed_identity }\nenvs:\n  dev:\n    GREETING: hello\n",
    )
    .unwrap();
    let out = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_dsops"))
        .args(["exec", "--env", "dev", "--", "sh", "-c"])
        .arg("stat -c %u /proc/$PPID/environ /proc/self/environ")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // dsops's /proc files belong to root (not dumpable); the child's to
    // the user again.
    assert_eq!(stdout, "0\n65534\n");
}

#[test]
fn values_reach_the_child_only_through_its_environment() {
    let emulated = Emulated::start();
    let out = exec_sh(
        &emulated,
        r#"tr '\0' ' ' < /proc/$PPID/cmdline; echo; tr '\0' ' ' < /proc/self/cmdline; echo; printf '%s\n' "$DATABASE_PASSWORD""#,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].contains("exec --env production"), "{}", lines[0]);
    assert!(!lines[0].contains(DB_PASSWORD), "in dsops's command line");
    assert!(
        !lines[1].contains(DB_PASSWORD),
        "in the child's command line"
    );
    assert_eq!(lines[2], DB_PASSWORD, "in the child's environment");
}
