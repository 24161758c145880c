//! What users download: `scripts/package-release` archives hold the
//! binary with `dsops emulator` and `dsops demo` (which the README tells
//! users to run), the README, the changelog and both license texts; Windows
//! gets a `.zip`; the checksums file covers every archive; a binary built
//! without the emulator is refused. Needs bash, tar and unzip (CI skips
//! this module on Windows runners).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DOCS: [&str; 4] = ["CHANGELOG.md", "LICENSE-APACHE", "LICENSE-MIT", "README.md"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn package_release(args: &[&str]) -> Output {
    Command::new(repo_root().join("scripts/package-release"))
        .args(args)
        .output()
        .unwrap()
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files an archive lists (directories left out).
fn listing(mut command: Command) -> Vec<String> {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut names: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches("./").to_owned())
        .filter(|l| !l.is_empty() && !l.ends_with('/'))
        .collect();
    names.sort();
    names
}

/// What every archive holds besides the binary: the texts, and the
/// completions and man page the binary generates.
fn expected_files(exe: &str) -> Vec<String> {
    let mut expected: Vec<String> = DOCS.iter().map(|d| (*d).to_owned()).collect();
    for generated in [
        "completions/_dsops",
        "completions/_dsops.ps1",
        "completions/dsops.bash",
        "completions/dsops.fish",
        "man/dsops.1",
    ] {
        expected.push(generated.to_owned());
    }
    expected.push(exe.to_owned());
    expected.sort();
    expected
}

/// The files of the archive hold the repository's texts, and its binary
/// runs `dsops emulator` and `dsops demo --help`.
fn check_unpacked(dir: &Path, exe: &str) {
    for doc in DOCS {
        assert_eq!(
            std::fs::read(dir.join(doc)).unwrap(),
            std::fs::read(repo_root().join(doc)).unwrap(),
            "{doc}"
        );
    }
    let license = std::fs::read_to_string(dir.join("LICENSE-APACHE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));
    let mit = std::fs::read_to_string(dir.join("LICENSE-MIT")).unwrap();
    assert!(mit.contains("MIT License") && mit.contains("Permission is hereby granted"));
    let binary = dir.join(exe);
    let example = Command::new(&binary)
        .args(["emulator", "--print-example"])
        .output()
        .unwrap();
    assert!(example.status.success(), "{example:?}");
    assert!(String::from_utf8_lossy(&example.stdout).contains("identities:"));
    let demo = Command::new(&binary)
        .args(["demo", "--help"])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
}

#[test]
fn archives_hold_the_licenses_and_a_binary_with_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dist");
    let out_str = out.to_str().unwrap();
    let version = "9.8.7";
    let binary = env!("CARGO_BIN_EXE_dsops");
    for target in ["x86_64-unknown-linux-musl", "x86_64-pc-windows-msvc"] {
        let packed = package_release(&["pack", binary, target, version, out_str]);
        assert!(packed.status.success(), "{target}: {packed:?}");
    }
    let packed = package_release(&["sums", version, out_str]);
    assert!(packed.status.success(), "{packed:?}");

    let tarball = out.join(format!("dsops-{version}-x86_64-unknown-linux-musl.tar.gz"));
    let zip = out.join(format!("dsops-{version}-x86_64-pc-windows-msvc.zip"));
    assert!(
        !out.join(format!("dsops-{version}-x86_64-pc-windows-msvc.tar.gz"))
            .exists(),
        "Windows gets a zip only"
    );

    let mut tar_list = Command::new("tar");
    tar_list.arg("-tzf").arg(&tarball);
    assert_eq!(listing(tar_list), expected_files("dsops"));

    let mut zip_list = Command::new("unzip");
    zip_list.arg("-Z1").arg(&zip);
    assert_eq!(listing(zip_list), expected_files("dsops.exe"));

    let unpacked = dir.path().join("tar");
    std::fs::create_dir(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    check_unpacked(&unpacked, "dsops");

    let unzipped = dir.path().join("zip");
    let status = Command::new("unzip")
        .arg("-q")
        .arg(&zip)
        .arg("-d")
        .arg(&unzipped)
        .status()
        .unwrap();
    assert!(status.success());
    for doc in DOCS {
        assert_eq!(
            std::fs::read(unzipped.join(doc)).unwrap(),
            std::fs::read(repo_root().join(doc)).unwrap(),
            "{doc}"
        );
    }

    let sums =
        std::fs::read_to_string(out.join(format!("dsops-{version}-sha256sums.txt"))).unwrap();
    let expected = format!(
        "{}  {}\n{}  {}\n",
        sha256(&zip),
        zip.file_name().unwrap().to_str().unwrap(),
        sha256(&tarball),
        tarball.file_name().unwrap().to_str().unwrap(),
    );
    assert_eq!(sums, expected);
}

#[test]
fn a_binary_without_the_emulator_is_not_packed() {
    let dir = tempfile::tempdir().unwrap();
    // What `cargo build --no-default-features` makes: `emulator` is not a
    // subcommand (clap exits 2).
    let fake = dir.path().join("dsops");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"error: unrecognized subcommand '$1'\" >&2\nexit 2\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = dir.path().join("dist");
    let packed = package_release(&[
        "pack",
        fake.to_str().unwrap(),
        "x86_64-unknown-linux-musl",
        "1.0.0",
        out.to_str().unwrap(),
    ]);
    assert!(!packed.status.success());
    let stderr = String::from_utf8_lossy(&packed.stderr);
    assert!(stderr.contains("has no `dsops emulator`"), "{stderr}");
    assert!(
        !out.join("dsops-1.0.0-x86_64-unknown-linux-musl.tar.gz")
            .exists()
    );
}

/// `cargo binstall dsops-cli` downloads what `package-release` names: the
/// metadata's URL templates, filled in, are the archives' names.
#[test]
fn binstall_metadata_names_the_release_archives() {
    let manifest =
        std::fs::read_to_string(repo_root().join("crates/dsops-cli/Cargo.toml")).unwrap();
    let urls: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("pkg-url = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(urls.len(), 2, "{manifest}");
    let fill = |template: &str, target: &str| {
        template
            .replace("{ repo }", "https://github.com/dsops/dsops")
            .replace("{ version }", "1.2.3")
            .replace("{ target }", target)
    };
    let base = "https://github.com/dsops/dsops/releases/download/v1.2.3/";
    assert_eq!(
        fill(urls[0], "aarch64-apple-darwin"),
        format!("{base}dsops-1.2.3-aarch64-apple-darwin.tar.gz")
    );
    assert_eq!(
        fill(urls[1], "x86_64-pc-windows-msvc"),
        format!("{base}dsops-1.2.3-x86_64-pc-windows-msvc.zip")
    );
    assert!(manifest.contains("[package.metadata.binstall.overrides.x86_64-pc-windows-msvc]"));
    assert!(manifest.contains("repository.workspace = true"));
}
