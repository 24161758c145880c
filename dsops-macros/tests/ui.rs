//! Compile-fail tests of `#[dsops::env]`: each `ui/*.rs` must fail to
//! compile with exactly the messages of its `.stderr` file.
//!
//! trybuild compiles the cases in a project of its own, whose package
//! directory (`CARGO_MANIFEST_DIR`, where the macro looks for dsops.yaml) is
//! `<target>/tests/trybuild/dsops-macros`: the configurations the cases name
//! (`ui/*.yaml`) are copied there first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn ui() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory");
    let project = target.join("tests/trybuild/dsops-macros");
    let ui = project.join("ui");
    std::fs::create_dir_all(&ui).unwrap();
    // A dsops.yaml left over from an earlier run would change `missing-file`.
    let _ = std::fs::remove_file(project.join("dsops.yaml"));
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    for entry in std::fs::read_dir(&here).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, ui.join(path.file_name().unwrap())).unwrap();
        }
    }
    let cases = trybuild::TestCases::new();
    // trybuild writes the workspace's own path as `$WORKSPACE` and no other:
    // with a target directory elsewhere (`CARGO_TARGET_DIR=/tmp/...`), the
    // two messages that name the path looked at cannot match their
    // `.stderr` files. They are skipped then, by name, and the rest run.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    if target.starts_with(workspace) {
        cases.compile_fail("tests/ui/*.rs");
        return;
    }
    for entry in std::fs::read_dir(&here).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        if PATH_IN_MESSAGE.contains(&name.as_str()) {
            eprintln!(
                "skipped ui case {name}: its message names a path under the target \
                 directory, which is outside the workspace ({})",
                target.display()
            );
            continue;
        }
        cases.compile_fail(format!("tests/ui/{name}.rs"));
    }
}

/// The cases whose expected message names a path in the target directory.
const PATH_IN_MESSAGE: &[&str] = &["missing-file", "missing-path"];
