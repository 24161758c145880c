//! dsops's GitHub Actions workflow commands (`dsops::ci::github`) against
//! `@actions/core`, the toolkit JavaScript actions use: for a corpus of nasty
//! values, `tests/node/actions_core.js` runs `core.setSecret`,
//! `core.exportVariable` and `core.setOutput`, and this test checks that
//! dsops writes the same `::add-mask::` line and `GITHUB_ENV` /
//! `GITHUB_OUTPUT` entries that mean the same to the runner (as
//! `parse_file_commands` reads them; the delimiters are random, so the bytes
//! differ).
//!
//! `@actions/core` lives in `target/actions-core`, installed by
//! `scripts/install-actions-core` (`scripts/test` runs it first); without it,
//! or without Node.js, this test fails.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use dsops::ci::github::{
    FileCommandError, FileKind, add_mask_lines, escape_data, file_command_entry, new_delimiter,
    parse_file_commands, too_short_to_mask, unescape_data,
};
use serde_json::json;

const INSTALL: &str = "run scripts/install-actions-core (from the repository root) to install \
    Node.js's @actions/core, which this test compares dsops's workflow commands with; \
    scripts/test does so before cargo test";

/// What `@actions/core` wrote for one value.
#[derive(Debug, serde::Deserialize)]
struct Written {
    mask: String,
    env: String,
    output: String,
    error: Option<String>,
}

fn actions_core() -> PathBuf {
    let path =
        crate::support::harness::repo_root().join("target/actions-core/node_modules/@actions/core");
    assert!(
        path.join("package.json").is_file(),
        "{} does not exist: {INSTALL}",
        path.display()
    );
    path
}

/// Runs `tests/node/actions_core.js` on `(name, value)` cases.
fn run_actions_core(cases: &[(String, String)]) -> Vec<Written> {
    let core = actions_core();
    let script = crate::support::harness::repo_root().join("tests/node/actions_core.js");
    let corpus: Vec<_> = cases
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    let mut child = Command::new("node")
        .arg(&script)
        .arg(&core)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {INSTALL}"));
    let input = serde_json::to_vec(&corpus).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{} failed ({}): {}\n{INSTALL}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<Written> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(written.len(), cases.len());
    written
}

/// A value of 1 MiB: many lines, `%`, `\r\n`, multi-byte characters.
fn one_mebibyte() -> String {
    let mut value = String::with_capacity(1 << 20);
    let mut i = 0u32;
    while value.len() < (1 << 20) {
        value.push_str(&format!("line {i}: 100% sécrèt 🔑 %0A"));
        value.push_str(if i.is_multiple_of(3) { "\r\n" } else { "\n" });
        i += 1;
    }
    value
}

fn corpus() -> Vec<String> {
    [
        "hunter2-secret",
        "line one\nline two\nline three",
        "trailing newline\n",
        "\nleading newline",
        "\n\n",
        "100% %0A %25 %0D %% literal",
        "crlf\r\nvalue\r\n",
        "lone\rcarriage\rreturn",
        "\r",
        "pässwörd — 秘密 — 🔑🙂👍🏽 — مرحبا بالعالم — \u{202e}override\u{202c} — \u{200f}rtl",
        "::set-output name=x::y",
        "::stop-commands::endtoken",
        "::add-mask::nested",
        "%0A::set-env name=PATH::/evil",
        "ghadelimiter_",
        "x\nghadelimiter_00000000-0000-4000-8000-000000000000\nEVIL=1\n",
        "NAME=value\nOTHER<<EOF\nx\nEOF",
        "a=b<<c",
        "\u{feff}byte order mark",
        "{\n  \"user\": \"admin\",\n  \"password\": \"p@ss%word\"\n}",
        "",
        "abc",
        "    ",
    ]
    .into_iter()
    .map(String::from)
    .chain([one_mebibyte()])
    .collect()
}

fn map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

#[test]
fn dsops_writes_what_actions_core_writes() {
    let values = corpus();
    let cases: Vec<(String, String)> = values
        .iter()
        .enumerate()
        .map(|(i, value)| (format!("DSOPS_V{i}"), value.clone()))
        .collect();
    let written = run_actions_core(&cases);

    for ((name, value), core) in cases.iter().zip(&written) {
        let case = format!(
            "{name} ({} bytes, {:?}…)",
            value.len(),
            value.chars().take(40).collect::<String>()
        );
        assert_eq!(core.error, None, "{case}: @actions/core threw");

        // (a) The whole value's add-mask line is setSecret's.
        let core_line = core
            .mask
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("{case}: setSecret wrote no line: {:?}", core.mask));
        assert_eq!(
            core_line,
            format!("::add-mask::{}", escape_data(value)),
            "{case}"
        );
        let ours = add_mask_lines(value);
        if too_short_to_mask(value) {
            assert!(ours.is_empty(), "{case}: {ours:?}");
        } else {
            assert_eq!(ours.first().map(String::as_str), Some(core_line), "{case}");
            for line in &ours {
                let data = line.strip_prefix("::add-mask::").unwrap();
                assert!(!data.contains(['\r', '\n']), "{case}: {line:?}");
                // Every part masked is part of the value (checked for the
                // short values: the long one has thousands of lines).
                if value.len() < 4096 {
                    assert!(
                        value.contains(unescape_data(data).as_str()),
                        "{case}: {line:?}"
                    );
                }
            }
            assert_eq!(
                unescape_data(&core_line["::add-mask::".len()..]),
                *value,
                "{case}"
            );
        }

        // (b) Our entries mean what @actions/core's mean.
        let expected = BTreeMap::from([(name.clone(), value.clone())]);
        for (kind, core_file) in [(FileKind::Env, &core.env), (FileKind::Output, &core.output)] {
            let theirs = map(parse_file_commands(core_file)
                .unwrap_or_else(|e| panic!("{case}: @actions/core's {kind}: {e}")));
            assert_eq!(theirs, expected, "{case}: @actions/core's {kind}");
            let delimiter = new_delimiter().unwrap();
            let entry = file_command_entry(kind, name, value, &delimiter)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            let ours =
                map(parse_file_commands(&entry)
                    .unwrap_or_else(|e| panic!("{case}: our {kind}: {e}")));
            assert_eq!(ours, theirs, "{case}: {kind}");
        }
    }
}

/// Entries for several values in one file, as a step appends them, read
/// back as one map, alongside @actions/core's.
#[test]
fn appended_entries_read_back_together() {
    let values = corpus();
    let cases: Vec<(String, String)> = values
        .iter()
        .enumerate()
        .map(|(i, value)| (format!("out-{i}"), value.clone()))
        .collect();
    let mut file = String::new();
    for (name, value) in &cases {
        file.push_str(
            &file_command_entry(FileKind::Output, name, value, &new_delimiter().unwrap()).unwrap(),
        );
    }
    let expected: BTreeMap<_, _> = cases.iter().cloned().collect();
    assert_eq!(map(parse_file_commands(&file).unwrap()), expected);

    let written = run_actions_core(&cases);
    let core_file: String = written.iter().map(|w| w.output.as_str()).collect();
    assert_eq!(map(parse_file_commands(&core_file).unwrap()), expected);
}

/// (c) A value holding our delimiter could end the heredoc early and set
/// variables of its own: it is refused, for both files.
#[test]
fn values_holding_the_delimiter_are_refused() {
    let delimiter = new_delimiter().unwrap();
    let value = format!("harmless\n{delimiter}\nLD_PRELOAD=/tmp/evil.so\nX<<{delimiter}\n");

    // What writing it anyway would do: the runner would set LD_PRELOAD.
    let naive = format!("A<<{delimiter}\n{value}\n{delimiter}\n");
    let injected = map(parse_file_commands(&naive).unwrap());
    assert_eq!(
        injected.get("LD_PRELOAD").map(String::as_str),
        Some("/tmp/evil.so")
    );

    for kind in [FileKind::Env, FileKind::Output] {
        let err = file_command_entry(kind, "A", &value, &delimiter).unwrap_err();
        assert_eq!(
            err,
            FileCommandError::DelimiterInValue {
                kind,
                name: "A".into()
            }
        );
        assert!(!err.to_string().contains("evil"), "{err}");
        for value in [
            delimiter.clone(),
            format!("x{delimiter}"),
            format!("{delimiter}\r\n"),
        ] {
            assert!(file_command_entry(kind, "A", &value, &delimiter).is_err());
        }
    }
}
