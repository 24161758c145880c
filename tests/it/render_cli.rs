//! `dsops render` as a real process against the in-process emulator: the
//! file is 0600, parses back to the exact values (dotenv through dotenvy and
//! `sh`, JSON, YAML), and a failure writes nothing and leaves nothing.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::emulated::{
    API_KEY, DB_PASSWORD, Emulated, HOSTILE, LITERAL, assert_reveals_nothing,
};
use crate::support::harness::assert_contains;

/// The hostile environment's variables and values, in file order.
fn hostile_values() -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("H{i}"), (*v).to_owned()))
        .collect();
    values.push(("EMPTY".to_owned(), String::new()));
    values
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn dotenv_is_private_and_round_trips_through_dotenvy_and_sh() {
    let setup = Emulated::start();
    let out = setup.run(&["render", "--env", "hostile", "--out", ".env"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_reveals_nothing(&out);
    let path = setup.path().join(".env");
    assert_eq!(mode(&path), 0o600);

    let parsed: Vec<(String, String)> = dotenvy::from_path_iter(&path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(parsed, hostile_values());

    // The same file is POSIX shell: sourcing it runs nothing and gives the
    // same values.
    for (name, value) in hostile_values() {
        let shell = std::process::Command::new("sh")
            .current_dir(setup.path())
            .args(["-c", &format!(". ./.env; printf %s \"${name}\"")])
            .output()
            .unwrap();
        assert!(shell.status.success());
        assert_eq!(String::from_utf8(shell.stdout).unwrap(), value, "{name}");
    }
    assert!(!setup.path().join("pwned").exists());
}

#[test]
fn json_and_yaml_parse_back_in_file_order() {
    let setup = Emulated::start();
    let out = setup.run(&["render", "--env", "hostile", "--out", "values.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = setup.path().join("values.json");
    assert_eq!(mode(&path), 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let object = doc.as_object().unwrap();
    assert_eq!(object.len(), hostile_values().len());
    for (name, value) in hostile_values() {
        assert_eq!(object[&name], value.as_str(), "{name}");
    }
    // File order: H0, H1, ... EMPTY.
    let positions: Vec<usize> = hostile_values()
        .iter()
        .map(|(name, _)| text.find(&format!("\"{name}\"")).unwrap())
        .collect();
    assert!(positions.is_sorted(), "{text}");

    for file in ["values.yaml", "values.yml"] {
        let out = setup.run(&["render", "--env", "hostile", "--out", file]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let path = setup.path().join(file);
        assert_eq!(mode(&path), 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: std::collections::BTreeMap<String, String> =
            serde_saphyr::from_str(&text).unwrap();
        for (name, value) in hostile_values() {
            assert_eq!(doc[&name], value, "{name}");
        }
    }

    // --format wins over the extension; an unknown extension needs it.
    let out = setup.run(&["render", "--env", "production", "--out", "out.txt"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, &["--format"]);
    assert!(!setup.path().join("out.txt").exists());
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--out",
        "out.txt",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.path().join("out.txt")).unwrap())
            .unwrap();
    assert_eq!(doc["DATABASE_PASSWORD"], DB_PASSWORD);
    assert_eq!(doc["GREETING"], LITERAL);
}

#[test]
fn an_existing_file_is_replaced_whole_and_made_private() {
    let setup = Emulated::start();
    let path = setup.path().join("prod.env");
    std::fs::write(&path, "OLD=1\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = setup.run(&["render", "--env", "production", "--out", "prod.env"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(mode(&path), 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("OLD"), "{text}");
    assert!(
        text.contains(&format!("DATABASE_PASSWORD='{DB_PASSWORD}'")),
        "{text}"
    );
}

#[test]
fn a_failure_writes_nothing_and_leaves_no_temporary_file() {
    let setup = Emulated::start();
    let before = entries(setup.path());

    // Resolution fails: no file.
    let out = setup.run(&["render", "--env", "denied", "--out", "denied.env"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &["ForbiddenByRbac", "denied.env was not written"],
    );
    assert_reveals_nothing(&out);
    assert_eq!(entries(setup.path()), before);

    // Resolution fails: an existing file is left as it was.
    std::fs::write(setup.path().join("kept.env"), "KEPT=1\n").unwrap();
    let before = entries(setup.path());
    let out = setup.run(&["render", "--env", "missing", "--out", "kept.env"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(setup.path().join("kept.env")).unwrap(),
        "KEPT=1\n"
    );
    assert_eq!(entries(setup.path()), before);

    // The rename fails (the destination is a directory): the temporary file
    // is removed.
    std::fs::create_dir(setup.path().join("taken.env")).unwrap();
    std::fs::write(setup.path().join("taken.env/inside"), "x").unwrap();
    let before = entries(setup.path());
    let out = setup.run(&["render", "--env", "production", "--out", "taken.env"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(&out.stderr, &["cannot write taken.env"]);
    assert_reveals_nothing(&out);
    assert_eq!(entries(setup.path()), before);

    // The directory does not exist.
    let out = setup.run(&["render", "--env", "production", "--out", "nowhere/x.env"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(entries(setup.path()), before);
}

/// `dsops ARGS` in the directory, its stdout going to `stdout`, without the
/// leak sweep (the values reach stdout on purpose, through a path the
/// sweep does not know as stdout); stderr is checked here instead.
fn run_to(setup: &Emulated, args: &[&str], stdout: std::process::Stdio) -> (i32, String) {
    let output = setup
        .command(args)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("CANARY"), "a value on stderr: {stderr}");
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn out_dash_writes_to_stdout_and_no_file() {
    let setup = Emulated::start();
    let out = setup.run(&["render", "--env", "production", "--out", "-"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(
        &out.stdout,
        &[
            &format!("DATABASE_PASSWORD='{DB_PASSWORD}'"),
            "LOG_LEVEL='info'",
        ],
    );
    assert!(
        !setup.path().join("-").exists(),
        "a file named `-` was written"
    );
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--out",
        "-",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["DATABASE_PASSWORD"], DB_PASSWORD);
}

/// `/dev/stdout` as a container has it: a link to `/proc/self/fd/1`. The
/// test makes its own link in a temporary directory (never the machine's
/// `/dev/stdout`): what it leads to (a pipe, a FIFO, a regular file) is
/// written through, and the link is never replaced by a file of secrets.
#[test]
fn a_link_to_stdout_or_a_fifo_is_written_through_never_replaced() {
    let setup = Emulated::start();
    let link = setup.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();

    // dsops's stdout is a pipe.
    let output = setup
        .command(&["render", "--env", "production", "--out", "stdout"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_contains(&stdout, &[&format!("API_KEY='{API_KEY}'")]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("CANARY"));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // dsops's stdout is a regular file (`> file`), outside the directory:
    // still written through the link (appended), and the link stays.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("captured");
    std::fs::write(&file, "before\n").unwrap();
    let (code, stderr) = run_to(
        &setup,
        &["render", "--env", "production", "--out", "stdout"],
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap()
            .into(),
    );
    assert_eq!(code, 0, "{stderr}");
    let captured = std::fs::read_to_string(&file).unwrap();
    assert!(captured.starts_with("before\n"), "{captured}");
    assert_contains(&captured, &[&format!("DATABASE_PASSWORD='{DB_PASSWORD}'")]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // dsops's stdout is a socket (as under systemd, whose journal takes a
    // service's stdout over one), which cannot be opened again by path:
    // written through dsops's own handle.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut &ours, &mut text).unwrap();
        text
    });
    let (code, stderr) = run_to(
        &setup,
        &["render", "--env", "production", "--out", "stdout"],
        std::os::fd::OwnedFd::from(theirs).into(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_contains(&reader.join().unwrap(), &[&format!("API_KEY='{API_KEY}'")]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // A FIFO, named directly and through a link: streamed to its reader.
    let fifo = setup.path().join("values.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("values.fifo", setup.path().join("to-fifo")).unwrap();
    for name in ["values.fifo", "to-fifo"] {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let (code, stderr) = run_to(
            &setup,
            &[
                "render",
                "--env",
                "production",
                "--out",
                name,
                "--format",
                "json",
            ],
            std::process::Stdio::null(),
        );
        assert_eq!(code, 0, "{name}: {stderr}");
        let doc: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
        assert_eq!(doc["API_KEY"], API_KEY, "{name}");
        let kind = std::fs::symlink_metadata(setup.path().join(name))
            .unwrap()
            .file_type();
        assert!(!kind.is_file(), "{name} was replaced by a file");
    }

    // A directory is refused with why; nothing is written.
    std::fs::create_dir(setup.path().join("adir")).unwrap();
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--out",
        "adir",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(&out.stderr, &["cannot write adir", "directory"]);
    assert_reveals_nothing(&out);
}

#[test]
fn a_link_to_a_regular_file_is_replaced_not_followed() {
    let setup = Emulated::start();
    let target = setup.path().join("elsewhere.env");
    std::fs::write(&target, "OLD=1\n").unwrap();
    std::os::unix::fs::symlink("elsewhere.env", setup.path().join("link.env")).unwrap();
    let out = setup.run(&["render", "--env", "production", "--out", "link.env"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let link = setup.path().join("link.env");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_file()
    );
    assert_eq!(mode(&link), 0o600);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "OLD=1\n");
}

#[test]
fn a_template_is_filled_privately_and_atomically() {
    let setup = Emulated::start();
    std::fs::write(
        setup.path().join("app.conf.tpl"),
        "[db]\npassword = \"{{ DATABASE_PASSWORD }}\"\nkey={{API_KEY}}\nlevel = {{\tLOG_LEVEL }}\nliteral = {{ \"{{\" }} not a placeholder }}\n",
    )
    .unwrap();
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--template",
        "app.conf.tpl",
        "--out",
        "app.conf",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_reveals_nothing(&out);
    let path = setup.path().join("app.conf");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "[db]\npassword = \"{DB_PASSWORD}\"\nkey={API_KEY}\nlevel = info\nliteral = {{{{ not a placeholder }}}}\n"
        )
    );
    // To stdout too.
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--template",
        "app.conf.tpl",
        "--out",
        "-",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stdout, &[&format!("key={API_KEY}\n")]);
}

#[test]
fn a_template_error_names_its_line_and_column_and_writes_nothing() {
    let setup = Emulated::start();
    let before = entries(setup.path());
    // An unknown name: found before anything is fetched.
    std::fs::write(
        setup.path().join("t1.tpl"),
        "a={{ API_KEY }}\n  b={{ NO_SUCH }}\n",
    )
    .unwrap();
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--template",
        "t1.tpl",
        "--out",
        "o",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &[
            "t1.tpl:2:5: environment production has no variable `NO_SUCH`",
            "o was not written",
        ],
    );
    assert!(
        setup.keyvault_secrets().is_empty(),
        "{:?}",
        setup.keyvault_secrets()
    );
    // An optional variable that failed.
    std::fs::write(
        setup.path().join("t2.tpl"),
        "{{DATABASE_PASSWORD}}\n{{ EXTRA }}\n",
    )
    .unwrap();
    let out = setup.run(&[
        "render",
        "--env",
        "mixed",
        "--template",
        "t2.tpl",
        "--out",
        "o",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        &["warning: EXTRA", "t2.tpl:2:1: `EXTRA` has no value"],
    );
    // A broken placeholder.
    std::fs::write(setup.path().join("t3.tpl"), "x {{ not a name }}\n").unwrap();
    let out = setup.run(&[
        "render",
        "--env",
        "production",
        "--template",
        "t3.tpl",
        "--out",
        "o",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_contains(&out.stderr, &["t3.tpl:1:3:", "is not a placeholder"]);
    let mut after = entries(setup.path());
    for t in ["t1.tpl", "t2.tpl", "t3.tpl"] {
        after.remove(t);
    }
    assert_eq!(after, before, "something was written");
    assert_reveals_nothing(&out);
}
