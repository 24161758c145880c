//! The documentation's codes are the real ones: the table of
//! docs/configuration.md lists exactly [`Code::ALL`], in its order, and every
//! code that README.md and docs/*.md cite as `error[CODE]`, `warning[CODE]`
//! or `"code": "CODE"` exists.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dsops_config::Code;

const TABLE_HEADING: &str = "## Diagnostic codes";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_code(text: &str) -> bool {
    Code::ALL.iter().any(|c| *c == text)
}

/// Kebab-case: lowercase words of letters and digits joined by `-`.
fn is_kebab(text: &str) -> bool {
    text.split('-').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// The code of each row of the table under [`TABLE_HEADING`], in order.
fn table(text: &str) -> Vec<String> {
    let start = text
        .find(TABLE_HEADING)
        .unwrap_or_else(|| panic!("docs/configuration.md has no `{TABLE_HEADING}` section"));
    let section = text.get(start + TABLE_HEADING.len()..).unwrap_or_default();
    let section = section
        .find("\n#")
        .and_then(|end| section.get(..end))
        .unwrap_or(section);
    let mut codes = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [code, severity, meaning] = cells.as_slice() else {
            panic!("a row of the codes table has three cells: {line}");
        };
        if *code == "code" || code.starts_with("---") {
            continue;
        }
        let code = code
            .strip_prefix('`')
            .and_then(|c| c.strip_suffix('`'))
            .unwrap_or_else(|| panic!("the code of a row is in backticks: {line}"));
        assert!(
            severity.contains("error") || severity.contains("warning"),
            "`{code}`: the severity says neither error nor warning: {line}"
        );
        assert!(!meaning.is_empty(), "`{code}` has no meaning: {line}");
        codes.push(code.to_owned());
    }
    codes
}

#[test]
fn the_table_lists_exactly_the_codes_in_their_order() {
    let listed = table(&read(&root().join("docs/configuration.md")));
    let documented: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    let real: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let unknown: Vec<&&str> = documented.difference(&real).collect();
    assert!(
        unknown.is_empty(),
        "docs/configuration.md lists codes that do not exist: {unknown:?}"
    );
    let missing: Vec<&&str> = real.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not list the codes {missing:?}"
    );
    assert_eq!(
        listed.len(),
        documented.len(),
        "docs/configuration.md lists a code twice"
    );
    let order: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        listed, order,
        "the table of docs/configuration.md is in the order of `Code::ALL`"
    );
}

/// The kebab-case texts of `text` that follow `open` and end at `close`:
/// what a diagnostic position holds.
fn cited<'t>(text: &'t str, open: &str, close: char) -> Vec<&'t str> {
    text.match_indices(open)
        .filter_map(|(i, _)| {
            let rest = text.get(i + open.len()..)?;
            rest.get(..rest.find(close)?)
        })
        .filter(|c| is_kebab(c))
        .collect()
}

/// Every code cited in a diagnostic position of `text`.
fn citations(text: &str) -> Vec<&str> {
    let mut codes = cited(text, "error[", ']');
    codes.extend(cited(text, "warning[", ']'));
    // JSON output; Key Vault's own codes (`"code": "Forbidden"`) are not kebab-case.
    codes.extend(cited(text, "\"code\": \"", '"'));
    codes
}

#[test]
fn every_code_the_docs_cite_exists() {
    let docs = root().join("docs");
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(&docs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    assert!(files.len() > 2, "no docs found under {}", docs.display());
    let mut cited = 0;
    let mut bad = Vec::new();
    for file in &files {
        let text = read(file);
        for code in citations(&text) {
            cited += 1;
            if !is_code(code) {
                let name = file.strip_prefix(root()).unwrap_or(file);
                bad.push(format!("{}: `{code}`", name.display()));
            }
        }
    }
    // README.md shows `error[unknown-key]`: if nothing is found, the search is broken.
    assert!(cited > 0, "the docs cite no code at all");
    assert!(
        bad.is_empty(),
        "the docs cite codes that do not exist:\n{}",
        bad.join("\n")
    );
}

#[test]
fn a_citation_of_a_code_that_does_not_exist_is_found() {
    let text = "error[invalid-vault-name]: ...\nwarning[unused-store]: ...\n\
                {\"code\": \"Forbidden\"} {\"code\": \"yaml-syntax\"} error[E0308]";
    assert_eq!(
        citations(text),
        ["invalid-vault-name", "unused-store", "yaml-syntax"]
    );
    assert!(!is_code("invalid-vault-name"));
    assert!(is_code("unused-store") && is_code("yaml-syntax"));
}
