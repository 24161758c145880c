//! With every trace on (`--debug` and the stores' `debug: { enabled: true }`),
//! no command prints a secret value or a token on its own stdout or stderr.

use crate::support::emulated::{Emulated, assert_reveals_nothing};
use crate::support::harness::{Run, assert_contains};

#[test]
fn traces_show_requests_but_no_value_or_token() {
    let setup = Emulated::start();
    let with = |args: &[&str]| -> Run {
        let mut all = vec!["--config", "debug.yaml"];
        all.extend_from_slice(args);
        setup.run(&all)
    };

    // exec: the child writes the values to a file, so whatever dsops's
    // stdout and stderr hold is dsops's own.
    let out = with(&[
        "exec",
        "--env",
        "production",
        "--debug",
        "--",
        "sh",
        "-c",
        r#"printf %s "$DATABASE_PASSWORD$API_KEY$GREETING" > values.txt"#,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.is_empty(), "no trace at all");
    assert_contains(&out.stderr, &["identity:", "dev-vault"]);
    assert_reveals_nothing(&out);
    assert!(
        std::fs::read_to_string(setup.path().join("values.txt"))
            .unwrap()
            .contains("CANARY")
    );

    // exec of an environment that fails, and of one with an optional failure.
    for env in ["denied", "missing", "disabled", "mixed"] {
        let out = with(&["exec", "--env", env, "--debug", "--", "true"]);
        assert_reveals_nothing(&out);
    }

    for (env, file) in [
        ("hostile", "h.env"),
        ("production", "p.json"),
        ("hostile", "h.yaml"),
    ] {
        let out = with(&["render", "--env", env, "--out", file, "--debug"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_reveals_nothing(&out);
    }
    let out = with(&["render", "--env", "denied", "--out", "d.env", "--debug"]);
    assert_eq!(out.code, 1);
    assert_reveals_nothing(&out);

    for line in [
        "get --env denied DATABASE_PASSWORD --format json --debug",
        "get --env disabled RETIRED --format json --debug",
        "get --env partial NOTHING --debug",
    ] {
        let mut words = vec!["--config", "debug.yaml"];
        words.extend(line.split_whitespace());
        let out = setup.run(&words);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_reveals_nothing(&out);
    }

    for env in ["production", "denied"] {
        let out = with(&["plan", "--env", env, "--online", "--debug"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_contains(&out.stderr, &["identity:"]);
        assert_reveals_nothing(&out);
    }

    for env in ["production", "hostile", "denied"] {
        let out = with(&["doctor", "--env", env, "--debug"]);
        assert_reveals_nothing(&out);
    }
}
