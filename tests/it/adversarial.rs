//! Regression tests for what an adversarial review of the binary broke.
//! Each test drives the real `dsops` binary; hostile servers listen on
//! loopback only. SECURITY.md names the test that keeps each promise.

use std::time::{Duration, Instant};

use crate::support::harness::{self, check, config_dir, dsops, run};

// ---- 2. Bounded time on hostile configurations -------------------------

/// 20,000 lines with a problem each: every command that prints diagnostics
/// draws a bounded number of them and counts the rest, in bounded time (the
/// renderer used to pass the whole file once per diagnostic: 27.7 s in a
/// release build).
#[test]
fn twenty_thousand_bad_lines_are_capped_and_counted() {
    let mut text = String::from("version: 1\nenvs:\n  prod:\n");
    for i in 0..20_000 {
        text.push_str(&format!("    A{i}: {{ bad: 1 }}\n"));
    }
    for args in [&["check"][..], &["plan", "--env", "prod"][..]] {
        let dir = config_dir(&text);
        let mut cmd = dsops(dir.path());
        cmd.args(args);
        let started = Instant::now();
        let out = run(&mut cmd);
        let took = started.elapsed();
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        let all = out.all_output();
        let shown = all.matches("error[").count();
        assert_eq!(
            shown,
            dsops::config::report::MAX_SHOWN,
            "{args:?} shows {shown} diagnostics"
        );
        assert!(
            all.contains("more diagnostics") && all.contains("not shown"),
            "{args:?}: no count of the rest:\n{}",
            &all[all.len().saturating_sub(600)..]
        );
        // Not a benchmark (BENCHMARKS.md has the release figure): a guard
        // against going quadratic again, generous for a debug build on a
        // busy machine.
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
    }
}

// ---- 5. `check` never shows a scalar that may be a value ---------------

#[test]
fn check_snippets_hide_values_under_unknown_keys_in_lists_and_in_other_files() {
    // The leak sweep fails the run if `CANARY` reaches any output.
    let text = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
    passwrd: CANARY-under-unknown-store-key
envs:
  prod:
    A: { bad: CANARY-under-unknown-key }
    B: [ CANARY-in-a-sequence ]
    C: { from: { store: azure, vault: v, secret: s }, extra: [CANARY-nested] }
";
    let out = check(text, &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("bad: *"), "{}", out.stdout);

    // A file that is not a dsops configuration at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DB_PASSWORD=CANARY-dotenv-one\nAPI_KEY: CANARY-dotenv-two\n",
    )
    .unwrap();
    for command in ["check", "plan"] {
        let mut cmd = dsops(dir.path());
        cmd.args(["--config", ".env", command]);
        let out = run(&mut cmd);
        assert_ne!(out.code, 0, "{}", out.all_output());
    }
    let _ = harness::CANARY;
}
