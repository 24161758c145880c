//! The corpus of bad configurations, `tests/fixtures/bad/NNN-short-name.yaml`.
//!
//! Each fixture starts with comment lines that say what `dsops check` must
//! report for it:
//!
//! ```text
//! # expect: error unknown-key 7:9     severity, code, line:column of the primary span
//! # env: VAULT_NAME=prod-keyvault     a process variable for `${VAULT_NAME}`
//! ```
//!
//! The `# expect:` lines list every diagnostic the file produces, warnings
//! too, in the order they are reported (file order; `0:0` is a diagnostic
//! about the whole file, which comes first). Lines and columns are 1-based and
//! count characters, and include the header lines themselves.
//!
//! Every fixture is loaded as `dsops check` loads it, its diagnostics are
//! compared with the header exactly, and its plain human rendering is a
//! snapshot (`snapshots/it__bad_corpus__human@NNN-short-name.yaml.snap`):
//! review the caret, label and hint of a new snapshot before accepting it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use dsops::config::report::{Style, human};
use dsops::config::{Diagnostic, LoadOptions, MAX_CONFIG_BYTES, Source, load, load_file};

use crate::support::harness::{self, load_check, summary};

/// Every diagnostic code the library reports when it loads a file. Keep it
/// in step with `crates/dsops-config/src`: each code must be covered by a
/// fixture, or by one of the tests below for the two that a text fixture
/// cannot produce.
const CODES: &[&str] = &[
    "bad-interpolation",
    "conflicting-keys",
    "credential-in-file",
    "credential-literal",
    "default-on-required",
    "dangerous-variable",
    "duplicate-fallback",
    "duplicate-key",
    "duplicate-resource",
    "empty-config",
    "empty-env",
    "empty-fallback",
    "file-too-large",
    "identity-conflict",
    "identity-ignored-id",
    "invalid-duration",
    "invalid-endpoint",
    "untrusted-authority",
    "invalid-id",
    "invalid-name",
    "invalid-resource",
    "invalid-resource-id",
    "invalid-sas",
    "invalid-variable-name",
    "invalid-vault",
    "invalid-version",
    "invalid-field",
    "log-tokens-refused",
    "missing-key",
    "missing-value",
    "no-effect",
    "no-envs",
    "not-utf8",
    "nul-in-value",
    "out-of-range",
    "placeholder-id",
    "token-buffer-too-long",
    "unknown-key",
    "unknown-store",
    "unknown-value",
    "unset-variable",
    "unsupported-version",
    "unused-store",
    "variable-case-clash",
    "vault-host-mismatch",
    "wrong-form-key",
    "wrong-store-key",
    "wrong-type",
    "yaml-limit",
    "yaml-syntax",
];

/// Codes no fixture can produce: bytes that are not UTF-8 (fixtures are
/// text) and a file over the size limit. Each has its own test below.
const CODES_WITHOUT_FIXTURE: &[&str] = &["not-utf8", "file-too-large"];

/// `(severity, code, line, column)`, as [`harness::summary`] gives them.
type Expected = (String, String, usize, usize);

#[derive(Debug)]
struct Fixture {
    /// `NNN-short-name.yaml`.
    file: String,
    text: String,
    expected: Vec<Expected>,
    env: Vec<(String, String)>,
}

fn corpus_dir() -> PathBuf {
    harness::fixtures().join("bad")
}

/// Reads a fixture and its header; panics with the file name on a malformed header.
fn fixture(path: &Path) -> Fixture {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let mut expected = Vec::new();
    let mut env = Vec::new();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let [severity, code, position] = fields.as_slice() else {
                panic!("{file}: `# expect:` needs `SEVERITY CODE LINE:COLUMN`: {line}");
            };
            let (l, c) = position
                .split_once(':')
                .unwrap_or_else(|| panic!("{file}: bad position in: {line}"));
            expected.push((
                (*severity).to_owned(),
                (*code).to_owned(),
                l.parse()
                    .unwrap_or_else(|_| panic!("{file}: bad line in: {line}")),
                c.parse()
                    .unwrap_or_else(|_| panic!("{file}: bad column in: {line}")),
            ));
        } else if let Some(rest) = line.strip_prefix("# env: ") {
            let (name, value) = rest
                .split_once('=')
                .unwrap_or_else(|| panic!("{file}: `# env:` needs `NAME=value`: {line}"));
            env.push((name.to_owned(), value.to_owned()));
        }
    }
    Fixture {
        file,
        text,
        expected,
        env,
    }
}

/// Every fixture, in file name order.
fn corpus() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| fixture(p)).collect()
}

fn render(loaded: &dsops::config::Loaded) -> String {
    let diagnostics: Vec<&Diagnostic> = loaded.diagnostics().iter().collect();
    human(
        loaded.source(),
        loaded.sensitive_spans(),
        &diagnostics,
        Style::Plain,
    )
}

fn show(expected: &[Expected]) -> String {
    expected
        .iter()
        .map(|(s, c, l, col)| format!("# expect: {s} {c} {l}:{col}\n"))
        .collect()
}

#[test]
fn every_fixture_reports_exactly_what_it_expects() {
    let mut failures = Vec::new();
    insta::glob!("../fixtures/bad", "*.yaml", |path| {
        let fixture = fixture(path);
        let env: Vec<(&str, &str)> = fixture
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let name = format!("bad/{}", fixture.file);
        let loaded = load_check(&name, &fixture.text, &env);
        let actual = summary(&loaded);
        if actual != fixture.expected {
            failures.push(format!(
                "{}: expected\n{}found\n{}",
                fixture.file,
                show(&fixture.expected),
                show(&actual)
            ));
        }
        insta::assert_snapshot!("human", render(&loaded));
    });
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ from their header:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_is_large_and_covers_every_code() {
    let corpus = corpus();
    assert!(
        corpus.len() >= 40,
        "the corpus has {} fixtures",
        corpus.len()
    );
    for fixture in &corpus {
        let number = fixture.file.split('-').next().unwrap_or("");
        assert!(
            number.len() == 3 && number.bytes().all(|b| b.is_ascii_digit()),
            "{}: fixtures are named NNN-short-name.yaml",
            fixture.file
        );
        assert!(
            !fixture.expected.is_empty(),
            "{}: a bad fixture expects at least one diagnostic",
            fixture.file
        );
    }
    let covered: BTreeSet<&str> = corpus
        .iter()
        .flat_map(|f| f.expected.iter().map(|(_, code, _, _)| code.as_str()))
        .collect();
    let missing: Vec<&str> = CODES
        .iter()
        .copied()
        .filter(|c| !covered.contains(c) && !CODES_WITHOUT_FIXTURE.contains(c))
        .collect();
    assert!(missing.is_empty(), "no fixture covers {missing:?}");
    let unlisted: Vec<&str> = covered
        .iter()
        .copied()
        .filter(|c| !CODES.contains(c))
        .collect();
    assert!(
        unlisted.is_empty(),
        "fixtures expect codes missing from CODES: {unlisted:?}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_reported_at_the_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dsops.yaml");
    std::fs::write(
        &path,
        b"version: 1\nenvs:\n  production:\n    PASSWORD: s3cr\xe9t-CANARY\n",
    )
    .unwrap();
    let loaded = load_file(
        &path,
        &HashMap::<String, String>::new(),
        LoadOptions::check(),
    )
    .unwrap();
    assert_eq!(
        summary(&loaded),
        [("error".to_owned(), "not-utf8".to_owned(), 4, 19)]
    );
    assert!(loaded.config().is_none());
    let text = render(&loaded);
    assert!(text.contains("the file is not valid UTF-8"), "{text}");
    assert!(text.contains("save dsops.yaml as UTF-8"), "{text}");
    // The line is shown with its key and without the value it holds.
    assert!(text.contains("    PASSWORD: *"), "{text}");
    assert!(!text.contains("CANARY") && !text.contains("s3cr"), "{text}");
}

#[test]
fn text_over_the_size_limit_is_refused() {
    let mut text = String::from("version: 1\nenvs:\n  production:\n    X: ");
    text.push_str(&"x".repeat(MAX_CONFIG_BYTES));
    text.push('\n');
    let loaded = load(
        Source::new("bad/too-large.yaml", text),
        &HashMap::<String, String>::new(),
        LoadOptions::check(),
    );
    assert_eq!(
        summary(&loaded),
        [("error".to_owned(), "file-too-large".to_owned(), 0, 0)]
    );
    let rendered = render(&loaded);
    assert!(
        rendered.contains("the limit is 16777216 bytes"),
        "{rendered}"
    );
    // The size is checked before anything is parsed or printed.
    assert!(!rendered.contains("xxxx"), "{rendered}");
}

#[test]
fn a_file_over_the_size_limit_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dsops.yaml");
    std::fs::write(&path, vec![b'#'; MAX_CONFIG_BYTES + 1]).unwrap();
    let err = load_file(
        &path,
        &HashMap::<String, String>::new(),
        LoadOptions::check(),
    )
    .unwrap_err();
    assert!(
        matches!(err, dsops::config::ReadError::TooLarge { limit, .. } if limit == MAX_CONFIG_BYTES),
        "{err:?}"
    );
}

#[test]
fn an_unknown_environment_is_a_diagnostic_with_a_suggestion() {
    let text = std::fs::read_to_string(corpus_dir().join("044-unused-store.yaml")).unwrap();
    let loaded = load_check("bad/044-unused-store.yaml", &text, &[]);
    let diagnostic = loaded.diagnostics_for_env("prodution").unwrap_err();
    assert_eq!(diagnostic.code, "unknown-env");
    assert!(diagnostic.span.is_none());
    assert_eq!(
        diagnostic.hint.as_deref(),
        Some("did you mean `production`?\nenvironments defined: `production`")
    );
}
