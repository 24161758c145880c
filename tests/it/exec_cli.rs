//! `dsops exec` as a real process against the in-process emulator: values
//! reach the child's environment only, nothing starts when a required
//! variable fails, exit codes and signals pass through.

use std::process::Stdio;
use std::time::{Duration, Instant};

use dsops_emulator::FaultSpec;

use crate::support::emulated::{API_KEY, DB_PASSWORD, Emulated, LITERAL, assert_reveals_nothing};
use crate::support::harness::{assert_contains, config_dir, dsops, run};

/// `sh -c SCRIPT` under `dsops exec --env ENV`.
fn exec_sh(setup: &Emulated, env: &str, script: &str) -> crate::support::harness::Run {
    setup.run(&["exec", "--env", env, "--", "sh", "-c", script])
}

fn read(setup: &Emulated, file: &str) -> String {
    std::fs::read_to_string(setup.path().join(file)).unwrap()
}

#[test]
fn values_go_to_the_child_only() {
    let setup = Emulated::start();
    let out = exec_sh(
        &setup,
        "production",
        r#"printf %s "$DATABASE_PASSWORD" > db.txt; printf %s "$API_KEY" > api.txt; printf %s "$GREETING" > greeting.txt"#,
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(read(&setup, "db.txt"), DB_PASSWORD);
    assert_eq!(read(&setup, "api.txt"), API_KEY);
    assert_eq!(read(&setup, "greeting.txt"), LITERAL);
    assert_reveals_nothing(&out);

    // Without `--`, options of the program stay the program's; the value
    // appears on stdout only because the child prints it.
    let out = setup.run(&["exec", "--env", "production", "printenv", "API_KEY"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{API_KEY}\n"));
    assert!(!out.stderr.contains(API_KEY), "{}", out.stderr);
    let out = setup.run(&["exec", "--env", "production", "ls", "-a", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stdout, &["dsops.yaml"]);
}

#[test]
fn allow_override_keeps_what_is_already_set() {
    let setup = Emulated::start();
    let script = r#"printf '%s|%s' "$DATABASE_PASSWORD" "$LOG_LEVEL" > seen.txt"#;
    let resolved = format!("{DB_PASSWORD}|info");
    for (flag, expected) in [
        ("--debug", resolved.as_str()),
        ("--allow-override", "from-parent|debug"),
    ] {
        let mut cmd = setup.command(&[
            "exec",
            "--env",
            "production",
            flag,
            "--",
            "sh",
            "-c",
            script,
        ]);
        cmd.env("DATABASE_PASSWORD", "from-parent")
            .env("LOG_LEVEL", "debug");
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(read(&setup, "seen.txt"), expected, "{flag}");
    }

    // Variables dsops does not set pass through either way.
    let script = r#"printf '%s|%s' "$UNRELATED" "$API_KEY" > seen.txt"#;
    let mut cmd = setup.command(&[
        "exec",
        "--env",
        "production",
        "--allow-override",
        "--",
        "sh",
        "-c",
        script,
    ]);
    cmd.env("UNRELATED", "kept");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(read(&setup, "seen.txt"), format!("kept|{API_KEY}"));
}

#[test]
fn the_exit_code_is_the_childs() {
    let setup = Emulated::start();
    assert_eq!(exec_sh(&setup, "production", "exit 42").code, 42);
    assert_eq!(exec_sh(&setup, "production", "exit 0").code, 0);
    // Killed by a signal: 128 + the signal, as shells report it.
    assert_eq!(exec_sh(&setup, "production", "kill -KILL $$").code, 137);
}

#[test]
fn missing_and_unrunnable_commands_exit_as_shells_do() {
    let dir = config_dir("version: 1\nenvs:\n  dev:\n    LOG_LEVEL: info\n");
    let out = run(dsops(dir.path()).args(["exec", "--env", "dev", "no-such-command-dsops"]));
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert_contains(&out.stderr, &["no-such-command-dsops: command not found"]);
    // A file that is not executable.
    let out = run(dsops(dir.path()).args(["exec", "--env", "dev", "./dsops.yaml"]));
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert_contains(&out.stderr, &["cannot run it"]);
    // No command at all is a usage error.
    let out = run(dsops(dir.path()).args(["exec", "--env", "dev"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
}

/// Starts `dsops exec` with `script` in the background, waits for the
/// script to write `ready`, sends `signal` to dsops (not the child) with the
/// `kill` command, and returns dsops's exit code.
fn signal_dsops(setup: &Emulated, script: &str, signal: &str) -> i32 {
    let mut cmd = setup.command(&["exec", "--env", "production", "--", "sh", "-c", script]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let ready = setup.path().join("ready");
    let started = Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(&ready);
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "dsops did not exit after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn signals_are_passed_on_to_the_child() {
    let setup = Emulated::start();
    for (signal, code) in [("TERM", 7), ("INT", 8), ("HUP", 9)] {
        // The background `sleep` is killed on the way out, not left behind.
        let script = format!(
            r#"trap 'kill $! 2>/dev/null; exit {code}' {signal}; sleep 30 & touch ready; wait"#
        );
        assert_eq!(signal_dsops(&setup, &script, signal), code, "SIG{signal}");
    }
    // A child that does not handle the signal dies of it: 128 + SIGTERM.
    let script = r#"touch ready; exec sleep 30"#;
    assert_eq!(signal_dsops(&setup, script, "TERM"), 128 + 15);
}

/// `exec` of an environment that fails: nothing started, exit 125 (dsops
/// failed, not the command), every problem on stderr.
fn exec_fails(setup: &Emulated, env: &str) -> crate::support::harness::Run {
    let out = exec_sh(setup, env, "touch started");
    assert_eq!(out.code, 125, "{}{}", out.stdout, out.stderr);
    assert!(
        !setup.path().join("started").exists(),
        "the command was started"
    );
    assert_contains(&out.stderr, &["the command was not started"]);
    assert_reveals_nothing(&out);
    out
}

#[test]
fn a_forbidden_secret_starts_nothing_and_names_the_role_to_grant() {
    let setup = Emulated::start();
    let out = exec_fails(&setup, "denied");
    let oid = setup.object_id("norole");
    assert_contains(
        &out.stderr,
        &[
            "error: DATABASE_PASSWORD (environment denied, store norole)",
            "403",
            "ForbiddenByRbac",
            &format!("grant 'Key Vault Secrets User' on vault dev-vault to object id {oid}"),
            "identity: managed identity",
            "1 of 2 variables of environment denied could not be resolved",
        ],
    );
}

#[test]
fn missing_and_disabled_secrets_start_nothing() {
    let setup = Emulated::start();
    let out = exec_fails(&setup, "missing");
    assert_contains(
        &out.stderr,
        &[
            "404",
            "SecretNotFound",
            "no secret `no-such-secret` in vault dev-vault",
        ],
    );
    let out = exec_fails(&setup, "disabled");
    assert_contains(&out.stderr, &["error: RETIRED", "disabled"]);
    // Every problem is listed, not only the first.
    let out = exec_fails(&setup, "partial");
    assert_contains(
        &out.stderr,
        &[
            "error: NOTHING",
            "1 of 2 variables of environment partial could not be resolved",
        ],
    );
}

#[test]
fn an_optional_failure_warns_and_the_command_runs() {
    let setup = Emulated::start();
    let out = exec_sh(
        &setup,
        "mixed",
        r#"printf '%s|%s' "$DATABASE_PASSWORD" "${EXTRA-unset}" > seen.txt"#,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(read(&setup, "seen.txt"), format!("{DB_PASSWORD}|unset"));
    assert_contains(&out.stderr, &["warning: EXTRA", "404"]);
    assert_reveals_nothing(&out);
}

#[test]
fn a_throttled_vault_is_waited_for() {
    let setup = Emulated::start();
    setup.keyvault_fault(FaultSpec {
        status: Some(429),
        retry_after: Some(1),
        times: Some(2),
        ..Default::default()
    });
    let out = exec_sh(
        &setup,
        "production",
        r#"printf %s "$DATABASE_PASSWORD" > db.txt"#,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(read(&setup, "db.txt"), DB_PASSWORD);
    let statuses = setup.keyvault_statuses();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    assert_reveals_nothing(&out);
}

#[test]
fn a_slow_vault_is_only_slower() {
    let setup = Emulated::start();
    setup.keyvault_fault(FaultSpec {
        latency_ms: Some(700),
        ..Default::default()
    });
    let started = Instant::now();
    let out = exec_sh(&setup, "production", r#"printf %s "$API_KEY" > api.txt"#);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(read(&setup, "api.txt"), API_KEY);
    // Not a terminal: no progress line.
    assert!(!out.stderr.contains("resolving"), "{}", out.stderr);
}

#[test]
fn a_slow_resolution_shows_progress_on_a_terminal() {
    // `script` (util-linux) gives dsops a terminal; without it, nothing to test.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` command to make a terminal");
        return;
    }
    let setup = Emulated::start();
    setup.keyvault_fault(FaultSpec {
        latency_ms: Some(1000),
        ..Default::default()
    });
    let line = format!(
        "'{}' exec --env production -- true",
        env!("CARGO_BIN_EXE_dsops")
    );
    let cmd = dsops(setup.path());
    // The same clean environment, with `script` running dsops in a terminal.
    let mut script = std::process::Command::new("script");
    script
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(setup.path())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            setup.emulator.http_url().unwrap(),
        );
    let out = run(&mut script);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Drawn in place, then erased with as many spaces.
    let erase = format!("\r{}\r", " ".repeat("resolving 0/2…".chars().count()));
    assert_contains(&out.stdout, &["\rresolving 0/2…", &erase]);
}

/// `sh -c SCRIPT` under `dsops exec --mask-output --env ENV`.
fn exec_masked(setup: &Emulated, env: &str, script: &str) -> crate::support::harness::Run {
    setup.run(&[
        "exec",
        "--env",
        env,
        "--mask-output",
        "--",
        "sh",
        "-c",
        script,
    ])
}

#[test]
fn mask_output_masks_values_in_the_commands_output() {
    let setup = Emulated::start();
    // The value, on stdout and stderr; a line written in two parts, the
    // value split between them; the value URL-encoded by hand (`-` is
    // unreserved: the same); and the exit code.
    let script = r#"
        printf 'api key: %s\n' "$API_KEY"
        printf 'db: %s\n' "$DATABASE_PASSWORD" >&2
        printf 'split: %.10s' "$API_KEY"; sleep 0.3; printf '%s end\n' "${API_KEY#??????????}"
        printf 'greeting=%s&x=1\n' "$GREETING"
        echo done
        exit 3
    "#;
    let out = exec_masked(&setup, "production", script);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    // GREETING is written in dsops.yaml: not a secret, not masked.
    assert_eq!(
        out.stdout,
        format!("api key: ***\nsplit: *** end\ngreeting={LITERAL}&x=1\ndone\n")
    );
    assert_contains(&out.stderr, &["db: ***\n"]);
    for value in [API_KEY, DB_PASSWORD] {
        assert!(
            !out.stdout.contains(value) && !out.stderr.contains(value),
            "{value}"
        );
    }
    // Without the flag, the output is the command's own.
    let out = exec_sh(&setup, "production", r#"printf '%s\n' "$API_KEY""#);
    assert_eq!(out.stdout, format!("{API_KEY}\n"));
}

#[test]
fn mask_output_masks_json_escaped_and_multi_line_values() {
    let setup = Emulated::start();
    // H0 has quotes and backslashes: JSON-escaped by `sed`. H1 has three
    // lines; its second line (`second line\r`) is printed on its own.
    let script = r#"
        printf '{"h0":"%s"}\n' "$(printf %s "$H0" | sed 's/\\/\\\\/g; s/"/\\"/g')"
        printf 'raw: %s|\n' "$H0"
        printf 'pem: %s|\n' "$H1"
        printf '%s\n' "$H1" | sed -n 2p
        printf 'empty: [%s]\n' "$EMPTY"
    "#;
    let out = exec_masked(&setup, "hostile", script);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "{\"h0\":\"***\"}\nraw: ***|\npem: ***|\n***\r\nempty: []\n"
    );
    assert_reveals_nothing(&out);
    assert!(!out.stdout.contains("second line"), "{}", out.stdout);
    // An empty value is nothing to warn about.
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn mask_output_leaves_values_written_in_the_file_alone() {
    // Literals are not secrets: masking `xyzzy-value` (or `info`) would only
    // ruin the output, and a short one is nothing to warn about.
    let dir = config_dir("version: 1\nenvs:\n  dev:\n    SHORT: xy\n    LONGER: xyzzy-value\n");
    let out = run(dsops(dir.path()).args([
        "exec",
        "--env",
        "dev",
        "--mask-output",
        "--",
        "sh",
        "-c",
        r#"echo "$SHORT $LONGER" >&2; exit 0"#,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "xy xyzzy-value\n");
}

/// Windows: a `.cmd` on `PATH` is found by its bare name (as `npm` is
/// `npm.cmd`), and exit codes above 255 pass through whole.
#[cfg(windows)]
#[test]
fn windows_finds_cmd_scripts_and_passes_whole_exit_codes() {
    let dir = config_dir("version: 1\nenvs:\n  dev:\n    LOG_LEVEL: info\n");
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(
        bin.path().join("dsops-probe.cmd"),
        "@echo off\r\necho level=%LOG_LEVEL%\r\nexit /b 1000\r\n",
    )
    .unwrap();
    let path = std::env::join_paths(std::iter::once(bin.path().to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = run(dsops(dir.path()).env("PATH", path).args([
        "exec",
        "--env",
        "dev",
        "--",
        "dsops-probe",
    ]));
    assert_eq!(out.code, 1000, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stdout, &["level=info"]);
    // 0xC0000005 (an access violation's NTSTATUS), as cmd.exe writes it.
    let out = run(dsops(dir.path()).args([
        "exec",
        "--env",
        "dev",
        "--",
        "cmd",
        "/c",
        "exit -1073741819",
    ]));
    assert_eq!(out.code, -1_073_741_819, "{}", out.stderr);
    let out = run(dsops(dir.path()).args(["exec", "--env", "dev", "--", "no-such-command-dsops"]));
    assert_eq!(out.code, 127);
    assert_contains(&out.stderr, &["PATHEXT"]);
}

#[test]
fn dsops_failing_exits_125_and_the_childs_own_1_stays_1() {
    let setup = Emulated::start();
    // The child's own failure.
    assert_eq!(exec_sh(&setup, "production", "exit 1").code, 1);
    assert_eq!(exec_sh(&setup, "production", "exit 125").code, 125);
    // Resolution (a denied identity), configuration, an unknown environment.
    assert_eq!(exec_sh(&setup, "denied", "touch started").code, 125);
    let out = exec_sh(&setup, "no-such-env", "touch started");
    assert_eq!(out.code, 125, "{}", out.stderr);
    let dir = config_dir("version: 1\nenvs:\n  dev:\n    X: { from: { store: nowhere } }\n");
    let out = run(dsops(dir.path()).args(["exec", "--env", "dev", "--", "touch", "started"]));
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(!dir.path().join("started").exists());
    assert!(!setup.path().join("started").exists());
}

#[test]
fn output_is_masked_by_default_when_ci_is_set() {
    let setup = Emulated::start();
    let script = r#"printf 'key: %s\n' "$API_KEY""#;
    let exec = |extra: &[&str], ci: Option<&str>| {
        let mut args = vec!["exec", "--env", "production"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "sh", "-c", script]);
        let mut cmd = setup.command(&args);
        if let Some(ci) = ci {
            cmd.env("CI", ci);
        }
        run(&mut cmd).stdout
    };
    let masked = "key: ***\n".to_owned();
    let clear = format!("key: {API_KEY}\n");
    assert_eq!(exec(&[], Some("true")), masked);
    assert_eq!(exec(&[], Some("1")), masked);
    assert_eq!(exec(&["--no-mask-output"], Some("true")), clear);
    assert_eq!(exec(&[], Some("false")), clear);
    assert_eq!(exec(&[], None), clear);
    assert_eq!(exec(&["--mask-output"], None), masked);
    // Of the two flags, the last wins.
    assert_eq!(
        exec(&["--no-mask-output", "--mask-output"], Some("true")),
        masked
    );
    assert_eq!(exec(&["--mask-output", "--no-mask-output"], None), clear);
}

#[test]
fn files_hands_each_value_over_in_a_private_directory_removed_after() {
    let setup = Emulated::start();
    // The parent of the private directory: a runtime directory of the test's
    // own, never a system path.
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = setup.command(&[
        "exec", "--env", "production", "--files", "--", "sh", "-c",
        r#"d="$DSOPS_FILES"; [ "$1" = "$d/API_KEY" ] || exit 9; printf '%s' "$d" > dir.txt; cat "$1" > api.txt; ls -ld "$d" "$d/DATABASE_PASSWORD" | cut -c1-10 > modes.txt; ls "$d" > names.txt; printf '%s' "${API_KEY-unset}" > env.txt"#,
        "sh", "{}/API_KEY",
    ]);
    cmd.env("XDG_RUNTIME_DIR", runtime.path());
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_reveals_nothing(&out);
    let dir = read(&setup, "dir.txt");
    assert!(
        dir.starts_with(&runtime.path().display().to_string()),
        "{dir}"
    );
    assert_eq!(read(&setup, "api.txt"), API_KEY);
    // `ls -l`'s modes (GNU and BSD alike; `stat` differs between them).
    assert_eq!(read(&setup, "modes.txt"), "drwx------\n-rw-------\n");
    assert_eq!(
        read(&setup, "names.txt"),
        "API_KEY\nDATABASE_PASSWORD\nGREETING\nLOG_LEVEL\n"
    );
    // Files instead of the environment.
    assert_eq!(read(&setup, "env.txt"), "unset");
    assert!(!std::path::Path::new(&dir).exists(), "{dir} is left behind");

    // Multi-line values byte for byte; the directory goes when the child
    // fails, and when dsops is sent a signal that it passes on.
    let mut cmd = setup.command(&[
        "exec",
        "--env",
        "hostile",
        "--files",
        "--",
        "sh",
        "-c",
        r#"printf '%s' "$DSOPS_FILES" > dir.txt; cat "$DSOPS_FILES/H7" > pem.txt; exit 4"#,
    ]);
    cmd.env("XDG_RUNTIME_DIR", runtime.path());
    let out = run(&mut cmd);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(
        read(&setup, "pem.txt"),
        crate::support::emulated::HOSTILE[7]
    );
    assert!(!std::path::Path::new(&read(&setup, "dir.txt")).exists());

    let mut cmd = setup.command(&[
        "exec",
        "--env",
        "production",
        "--files",
        "--",
        "sh",
        "-c",
        r#"printf '%s' "$DSOPS_FILES" > dir.txt; touch ready; exec sleep 30"#,
    ]);
    cmd.env("XDG_RUNTIME_DIR", runtime.path());
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !setup.path().join("ready").exists() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15));
    assert!(!std::path::Path::new(&read(&setup, "dir.txt")).exists());
    assert_eq!(std::fs::read_dir(runtime.path()).unwrap().count(), 0);

    // --allow-override means nothing without the environment: refused.
    let out = setup.run(&[
        "exec",
        "--env",
        "production",
        "--files",
        "--allow-override",
        "--",
        "true",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}
