//! `dsops exec --watch` as a real process against the in-process emulator:
//! one restart per change, with the new value; a failed refresh keeps the
//! child; nothing starts on a failed first resolution; the restart signal
//! and grace period; signals and exit codes as without `--watch`.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use dsops_emulator::FaultSpec;

use crate::support::emulated::{DB_PASSWORD, Emulated, assert_reveals_nothing};
use crate::support::harness::{Run, assert_contains};

const ROTATED: &str = "CANARY-rotated-db-password-2b9e";

/// Appends the password to `starts.txt` at each start; a HUP (the restart
/// signal of these tests) ends it with 0, a TERM (from the user) with 7.
const SCRIPT: &str = r#"printf '%s\n' "$DATABASE_PASSWORD" >> starts.txt; trap 'kill $! 2>/dev/null; exit 0' HUP; trap 'kill $! 2>/dev/null; exit 7' TERM; sleep 60 & wait"#;

fn start(setup: &Emulated, extra: &[&str], script: &str) -> Child {
    let mut args = vec!["exec", "--env", "production", "--watch", "1s"];
    args.extend(extra);
    args.extend(["--", "sh", "-c", script]);
    let mut cmd = setup.command(&args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn starts(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("starts.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until `starts.txt` has `n` lines.
fn wait_for_starts(dir: &Path, n: usize, within: Duration) -> Vec<String> {
    let started = Instant::now();
    loop {
        let lines = starts(dir);
        if lines.len() >= n {
            return lines;
        }
        assert!(
            started.elapsed() < within,
            "{} start(s) instead of {n} after {within:?}",
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `signal` to dsops and collects what it printed and its exit code.
fn stop(mut child: Child, signal: &str) -> Run {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    finish(&mut child)
}

fn finish(child: &mut Child) -> Run {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "dsops did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

#[test]
fn a_change_restarts_the_command_once_with_the_new_value() {
    let setup = Emulated::start();
    let child = start(&setup, &["--restart-signal", "HUP"], SCRIPT);
    assert_eq!(
        wait_for_starts(setup.path(), 1, Duration::from_secs(30)),
        [DB_PASSWORD]
    );
    // A few rounds without a change: no restart.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(starts(setup.path()).len(), 1);

    setup
        .emulator
        .set_secret("dev-vault", "database-password", ROTATED)
        .unwrap();
    let rotated = Instant::now();
    let lines = wait_for_starts(setup.path(), 2, Duration::from_secs(15));
    assert_eq!(lines, [DB_PASSWORD, ROTATED]);
    assert!(
        rotated.elapsed() < Duration::from_secs(5),
        "{:?}",
        rotated.elapsed()
    );
    // Once per change: later rounds find nothing new.
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(starts(setup.path()).len(), 2);

    // Signals and exit codes as without --watch: TERM to dsops reaches the
    // child, whose code (7) is dsops's.
    let out = stop(child, "TERM");
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &["dsops: DATABASE_PASSWORD changed: restarting the command"],
    );
    assert_eq!(
        out.stderr.matches("restarting").count(),
        1,
        "{}",
        out.stderr
    );
    assert_reveals_nothing(&out);
}

#[test]
fn an_unreachable_vault_keeps_the_command_running() {
    let setup = Emulated::start();
    let child = start(&setup, &["--restart-signal", "HUP"], SCRIPT);
    wait_for_starts(setup.path(), 1, Duration::from_secs(30));
    setup.keyvault_fault(FaultSpec {
        drop: true,
        ..FaultSpec::default()
    });
    setup
        .emulator
        .set_secret("dev-vault", "database-password", ROTATED)
        .unwrap();
    // Rounds fail (with retries): the child is neither restarted nor stopped.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(starts(setup.path()), [DB_PASSWORD]);
    // The vault is back: the rotation is seen (after the backoff).
    setup.emulator.faults().clear();
    let lines = wait_for_starts(setup.path(), 2, Duration::from_secs(30));
    assert_eq!(lines, [DB_PASSWORD, ROTATED]);

    let out = stop(child, "TERM");
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &[
            "error: DATABASE_PASSWORD (environment production, store azure)",
            "the command keeps running with the values it has",
        ],
    );
    assert_reveals_nothing(&out);
}

#[test]
fn a_command_that_ignores_the_restart_signal_is_killed_after_the_grace_period() {
    let setup = Emulated::start();
    // The shell ignores TERM and so does the `sleep` it becomes.
    let script = r#"trap '' TERM; printf '%s\n' "$DATABASE_PASSWORD" >> starts.txt; exec sleep 60"#;
    let child = start(&setup, &["--grace-period", "1s"], script);
    wait_for_starts(setup.path(), 1, Duration::from_secs(30));
    setup
        .emulator
        .set_secret("dev-vault", "database-password", ROTATED)
        .unwrap();
    let lines = wait_for_starts(setup.path(), 2, Duration::from_secs(15));
    assert_eq!(lines, [DB_PASSWORD, ROTATED]);
    // INT is not ignored: the child dies of it, dsops exits 128 + 2.
    let out = stop(child, "INT");
    assert_eq!(out.code, 128 + 2, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &["the command did not exit within 1 s: killing it"],
    );
    assert_reveals_nothing(&out);
}

#[test]
fn the_commands_own_exit_ends_dsops_with_its_code() {
    let setup = Emulated::start();
    let mut child = start(&setup, &[], "exit 3");
    let out = finish(&mut child);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_reveals_nothing(&out);
}

#[test]
fn nothing_starts_when_the_first_resolution_fails() {
    let setup = Emulated::start();
    let out = setup.run(&[
        "exec",
        "--env",
        "partial",
        "--watch",
        "1s",
        "--",
        "sh",
        "-c",
        "touch started",
    ]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(!setup.path().join("started").exists());
    assert_contains(&out.stderr, &["the command was not started"]);
    assert_reveals_nothing(&out);
}

#[test]
fn watch_flags_are_checked() {
    let setup = Emulated::start();
    for (args, message) in [
        (&["--watch", "0s"][..], "the interval is at least 1s"),
        (
            &["--watch", "18446744073709551615"][..],
            "the interval is at most 365d",
        ),
        (
            &["--watch", "soon"][..],
            "invalid value 'soon' for '--watch",
        ),
        (
            &["--watch", "5s", "--restart-signal", "KILL"][..],
            "not a signal a program can handle",
        ),
        (&["--restart-signal", "HUP"][..], "--watch <DURATION>"),
    ] {
        let mut all = vec!["exec", "--env", "production"];
        all.extend(args);
        all.extend(["--", "true"]);
        let out = setup.run(&all);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_contains(&out.stderr, &[message]);
    }
}

#[test]
fn the_command_is_restarted_before_its_token_expires() {
    // Tokens last 6 s: the child's is replaced at half its life, never
    // after it expired, and a new token in each round (the token cache is
    // off) is not a change.
    let setup = Emulated::start_with_token_lifetime(Some(6));
    let dsops_yaml = std::fs::read_to_string(setup.path().join("dsops.yaml")).unwrap();
    let with_token = dsops_yaml
        .replace(
            "    type: azure.managed_identity\n",
            "    type: azure.managed_identity\n    cache: { token_cache: { enabled: false } }\n",
        )
        .replace(
            "  production:\n",
            "  production:\n    GRAPH_TOKEN: { from: { store: azure, operation: get_token, resource: https://graph.microsoft.com } }\n",
        );
    std::fs::write(setup.path().join("token.yaml"), with_token).unwrap();
    // Each start records when its token expires (the `exp` claim).
    let script = r#"exp=$(printf '%s' "$GRAPH_TOKEN" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | sed 's/.*"exp":\([0-9]*\).*/\1/'); printf '%s %s\n' "$(date +%s)" "$exp" >> starts.txt; trap 'kill $! 2>/dev/null; exit 0' HUP; trap 'kill $! 2>/dev/null; exit 7' TERM; sleep 60 & wait"#;
    let mut cmd = setup.command(&[
        "--config",
        "token.yaml",
        "exec",
        "--env",
        "production",
        "--watch",
        "2s",
        "--restart-signal",
        "HUP",
        "--",
        "sh",
        "-c",
        script,
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let lines = wait_for_starts(setup.path(), 4, Duration::from_secs(30));
    let out = stop(child, "TERM");
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &["dsops: GRAPH_TOKEN changed: restarting the command"],
    );
    assert_reveals_nothing(&out);
    // Every child started with a token that had time left, and was replaced
    // before that token expired: each start comes before the previous token's
    // expiry.
    let times: Vec<(u64, u64)> = lines
        .iter()
        .map(|line| {
            let (at, exp) = line.split_once(' ').unwrap();
            (at.parse().unwrap(), exp.parse().unwrap_or(0))
        })
        .collect();
    for pair in times.windows(2) {
        let [(_, previous_exp), (next_start, next_exp)] = pair else {
            unreachable!()
        };
        assert!(*previous_exp > 0 && *next_exp > *next_start, "{lines:?}");
        assert!(
            next_start <= previous_exp,
            "a child held an expired token: {lines:?}"
        );
    }
}
