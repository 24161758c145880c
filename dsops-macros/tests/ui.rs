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
    cases.compile_fail("tests/ui/*.rs");
}
