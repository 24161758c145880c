//! `dsops render` as a real process against the in-process emulator: the
//! file is 0600, parses back to the exact values (dotenv through dotenvy and
//! `sh`, JSON, YAML), and a failure writes nothing and leaves nothing.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::emulated::{DB_PASSWORD, Emulated, HOSTILE, LITERAL, assert_reveals_nothing};
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

fn assert_private(path: &Path) {
    // On Unix the file is 0600. On Windows it takes its directory's
    // inherited ACL (docs/commands.md): there is nothing of dsops's to check.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    #[cfg(not(unix))]
    let _ = path;
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
    assert_private(&path);

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
    assert_private(&path);
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
        assert_private(&path);
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
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = setup.run(&["render", "--env", "production", "--out", "prod.env"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_private(&path);
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
