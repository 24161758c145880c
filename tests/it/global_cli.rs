//! What every command shares, as a real process against the in-process
//! emulator: `DSOPS_ENV` for `--env`, the configuration found from the
//! working directory up to the repository root (`dsops.yml` too), shell
//! completions, the man page, and `--version`.

use crate::support::emulated::{API_KEY, DB_PASSWORD, Emulated, assert_reveals_nothing};
use crate::support::harness::{assert_contains, dsops, run};

#[test]
fn dsops_env_stands_for_env_on_every_command() {
    let setup = Emulated::start();
    let with_env = |args: &[&str]| {
        let mut cmd = setup.command(args);
        cmd.env("DSOPS_ENV", "production");
        run(&mut cmd)
    };
    let out = with_env(&["get", "API_KEY"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{API_KEY}\n"));
    let out = with_env(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf %s \"$DATABASE_PASSWORD\" > db.txt",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(setup.path().join("db.txt")).unwrap(),
        DB_PASSWORD
    );
    let out = with_env(&["render", "--out", "-"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stdout, &["GREETING="]);
    let out = with_env(&["plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stdout, &["production"]);
    assert_reveals_nothing(&out);
    let out = with_env(&["doctor", "--format", "json"]);
    assert_contains(&out.stdout, &["\"env\": \"production\""]);
    // --env wins over DSOPS_ENV.
    let out = with_env(&["get", "--env", "denied", "LOG_LEVEL"]);
    assert_eq!(out.stdout, "info\n");
    // Neither: the usage error names both.
    let out = setup.run(&["get", "API_KEY"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, &["--env <ENV>"]);
}

#[test]
fn the_configuration_is_found_up_to_the_repository_root() {
    let setup = Emulated::start();
    let root = setup.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    let deep = root.join("services/api");
    std::fs::create_dir_all(&deep).unwrap();
    let get = |dir: &std::path::Path, debug: bool| {
        let mut cmd = dsops(dir);
        cmd.args(["get", "--env", "production", "API_KEY"]).env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            setup.emulator.http_url().unwrap(),
        );
        if debug {
            cmd.arg("--debug");
        }
        run(&mut cmd)
    };
    let out = get(&deep, true);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{API_KEY}\n"));
    assert_contains(
        &out.stderr,
        &["debug: configuration: ../../dsops.yaml (found from the working directory up)"],
    );

    // dsops.yml is accepted; the nearest file wins.
    let text = std::fs::read_to_string(root.join("dsops.yaml")).unwrap();
    let broken = text.replace("envs:\n", "envs:\n  oops: 1\n");
    std::fs::write(root.join("services/dsops.yml"), broken).unwrap();
    let out = get(&deep, false);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // The error names the file chosen.
    assert_contains(&out.stderr, &["../dsops.yml:"]);
    std::fs::remove_file(root.join("services/dsops.yml")).unwrap();

    // Not above the repository root.
    std::fs::remove_dir(root.join(".git")).unwrap();
    std::fs::create_dir(root.join("services/.git")).unwrap();
    let out = get(&deep, false);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(&out.stderr, &["dsops.yaml", "up to the repository root"]);
    // --config (and DSOPS_CONFIG) win.
    let out = run(dsops(&deep)
        .args([
            "get",
            "--env",
            "production",
            "API_KEY",
            "--config",
            "../../dsops.yaml",
        ])
        .env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            setup.emulator.http_url().unwrap(),
        ));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn completions_man_page_and_version() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _dsops"),
        ("zsh", "#compdef dsops"),
        ("fish", "complete -c dsops"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = run(dsops(dir.path()).args(["completions", shell]));
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert_contains(&out.stdout, &[marker, "render", "no-mask-output"]);
    }
    // The bash script is valid bash.
    let out = run(dsops(dir.path()).args(["completions", "bash"]));
    std::fs::write(dir.path().join("c.bash"), &out.stdout).unwrap();
    let status = std::process::Command::new("bash")
        .args(["-n", "c.bash"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());

    let out = run(dsops(dir.path()).args(["man"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stdout, &[".TH dsops 1", "completions", "render"]);

    let out = run(dsops(dir.path()).args(["--version"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(
        &out.stdout,
        &[
            &format!("dsops {}\n", env!("CARGO_PKG_VERSION")),
            "\ncommit: ",
            "\ntarget: ",
            "\nfeatures: emulator",
        ],
    );
    assert!(!out.stdout.contains("commit: unknown"), "{}", out.stdout);
}
