//! GitHub Actions workflow commands: masking secrets in the job log
//! (`::add-mask::`) and passing values to later steps through the
//! `GITHUB_ENV` and `GITHUB_OUTPUT` files.
//!
//! Everything here follows what the runner and `@actions/core` do, read from
//! their sources:
//!
//! - `::add-mask::` data is escaped as `@actions/core`'s `escapeData`
//!   (`packages/core/src/command.ts`) and unescaped as the runner's
//!   `ActionCommand.UnescapeData` (`src/Runner.Common/ActionCommand.cs`).
//!   The runner's `AddMaskCommandExtension`
//!   (`src/Runner.Worker/ActionCommandManager.cs`) registers the value whole
//!   and, since runner 2.286 (actions/runner#1521), also each line split on
//!   `\r`/`\n`, trimmed, non-empty. Older runners (and GHES) register only
//!   the whole value, so [`add_mask_lines`] sends the lines itself.
//! - File command entries are written as `@actions/core`'s
//!   `prepareKeyValueMessage` + `issueFileCommand`
//!   (`packages/core/src/file-command.ts`) and parsed as the runner's
//!   `EnvFileKeyValuePairs` (`src/Runner.Worker/FileCommandManager.cs`).

use std::collections::HashSet;
use std::fmt;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The shortest value (in characters) masked on its own. A shorter value
/// gives no `::add-mask::` line (see [`too_short_to_mask`]); a shorter line
/// or JSON leaf of a longer value is not masked separately, so the `{` line
/// of a JSON secret does not turn every brace in later logs into `***`.
pub const MIN_MASK_LEN: usize = 4;

/// True when `value` is too short (fewer than [`MIN_MASK_LEN`] characters)
/// or blank to be masked: [`add_mask_lines`] gives no line for it, and the
/// caller should warn that it will show in logs. The runner itself refuses
/// to mask an empty or whitespace-only value.
pub fn too_short_to_mask(value: &str) -> bool {
    value.trim().is_empty() || value.chars().count() < MIN_MASK_LEN
}

/// The `::add-mask::` workflow command lines (without line terminators) that
/// mask one secret in the job log.
///
/// The first line masks the whole value, exactly as `@actions/core`'s
/// `setSecret(value)` writes it. Then, without repeats:
/// - for a multi-line value, each line (split on `\r` and `\n`, trimmed) of
///   at least [`MIN_MASK_LEN`] characters: programs log secrets line by line,
///   and runners older than 2.286 do not split the value themselves;
/// - for a value that is a JSON object or array, each leaf string or number
///   of at least [`MIN_MASK_LEN`] characters (and its lines), since programs
///   log fields of a JSON secret.
///
/// A value for which [`too_short_to_mask`] is true gives no lines.
pub fn add_mask_lines(value: &str) -> Vec<String> {
    if too_short_to_mask(value) {
        return Vec::new();
    }
    let mut parts = MaskParts::default();
    parts.push(value);
    parts.push_lines(value);
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(value)
        && (json.is_object() || json.is_array())
    {
        parts.push_json_leaves(&json, value);
    }
    parts
        .0
        .iter()
        .map(|part| format!("::add-mask::{}", escape_data(part)))
        .collect()
}

/// The distinct values to mask, in order.
#[derive(Default)]
struct MaskParts(Vec<String>, HashSet<String>);

impl MaskParts {
    fn push(&mut self, part: &str) {
        if !too_short_to_mask(part) && !self.1.contains(part) {
            self.1.insert(part.to_owned());
            self.0.push(part.to_owned());
        }
    }

    /// Each line of a multi-line `text`, split and trimmed as the runner does.
    fn push_lines(&mut self, text: &str) {
        if text.contains(['\r', '\n']) {
            for line in text.split(['\r', '\n']) {
                self.push(line.trim());
            }
        }
    }

    /// Leaves of `json`, parsed from `source`. A number is masked as
    /// written in `source` only: serde_json re-formats a large or exotic
    /// number (`4433…3` becomes `4.4333e63`), which would mask nothing.
    fn push_json_leaves(&mut self, json: &serde_json::Value, source: &str) {
        match json {
            serde_json::Value::String(s) => {
                self.push(s);
                self.push_lines(s);
            }
            serde_json::Value::Number(n) => {
                let text = n.to_string();
                if source.contains(&text) {
                    self.push(&text);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.push_json_leaves(item, source);
                }
            }
            serde_json::Value::Object(fields) => {
                for item in fields.values() {
                    self.push_json_leaves(item, source);
                }
            }
            serde_json::Value::Null | serde_json::Value::Bool(_) => {}
        }
    }
}

/// Escapes the data of a workflow command as `@actions/core`'s `escapeData`:
/// `%` → `%25`, `\r` → `%0D`, `\n` → `%0A`.
pub fn escape_data(data: &str) -> String {
    let mut out = String::with_capacity(data.len());
    for c in data.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow command property value (`file=`, `title=`) as
/// `@actions/core`'s `escapeProperty` does: [`escape_data`] plus `:` and `,`.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

/// Unescapes the data of a workflow command as the runner's
/// `ActionCommand.UnescapeData`: `%0D`, then `%0A`, then `%25`.
pub fn unescape_data(escaped: &str) -> String {
    escaped
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

/// Which file command an entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `GITHUB_ENV`: environment variables for later steps. Names are
    /// `[A-Za-z_][A-Za-z0-9_]*`; the runner refuses `NODE_OPTIONS`.
    Env,
    /// `GITHUB_OUTPUT`: step outputs. Names are `[A-Za-z_][A-Za-z0-9_-]*`.
    Output,
}

impl FileKind {
    /// The environment variable holding the file's path.
    pub fn env_var(self) -> &'static str {
        match self {
            FileKind::Env => "GITHUB_ENV",
            FileKind::Output => "GITHUB_OUTPUT",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.env_var())
    }
}

/// The operating system of the runner reading a file command. Only line
/// endings differ: on Windows the runner ends a line at `\r\n` or `\n`,
/// elsewhere at `\n` only (a `\r` before it belongs to the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerOs {
    /// Linux and macOS runners.
    Unix,
    /// Windows runners.
    Windows,
}

impl RunnerOs {
    /// The system this program runs on (the runner's, in a job step).
    pub const HOST: RunnerOs = if cfg!(windows) {
        RunnerOs::Windows
    } else {
        RunnerOs::Unix
    };

    /// The line terminator `@actions/core` writes there (`os.EOL`).
    pub fn eol(self) -> &'static str {
        match self {
            RunnerOs::Unix => "\n",
            RunnerOs::Windows => "\r\n",
        }
    }
}

/// Why a file command entry was not written. No variant holds the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileCommandError {
    /// The name is empty.
    #[error("{kind}: the name is empty")]
    EmptyName {
        /// The file.
        kind: FileKind,
    },
    /// The name has a character the file format or the kind does not allow.
    #[error("{kind}: {name:?} is not a valid name (allowed: {allowed})")]
    InvalidName {
        /// The file.
        kind: FileKind,
        /// The refused name.
        name: String,
        /// The allowed names, as a pattern.
        allowed: &'static str,
    },
    /// The runner refuses to set this variable through `GITHUB_ENV`.
    #[error("{kind}: the runner refuses to set {name}")]
    BlockedName {
        /// The file.
        kind: FileKind,
        /// The refused name.
        name: String,
    },
    /// The delimiter is empty or not a single line.
    #[error("the heredoc delimiter is empty or has a line break")]
    InvalidDelimiter,
    /// The name contains the delimiter: writing it could inject entries.
    #[error("{kind}: the name {name:?} contains the heredoc delimiter")]
    DelimiterInName {
        /// The file.
        kind: FileKind,
        /// The refused name.
        name: String,
    },
    /// The value contains the delimiter: writing it could inject entries.
    #[error("{kind}: the value of {name} contains the heredoc delimiter")]
    DelimiterInValue {
        /// The file.
        kind: FileKind,
        /// The name whose value was refused.
        name: String,
    },
    /// A NUL character in an environment variable's value: no process can
    /// be started with it.
    #[error("{kind}: the value of {name} contains a NUL character")]
    NulInValue {
        /// The file.
        kind: FileKind,
        /// The name whose value was refused.
        name: String,
    },
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// A fresh heredoc delimiter, as `@actions/core` makes one:
/// `ghadelimiter_` and a random UUID v4.
pub fn new_delimiter() -> Result<String, FileCommandError> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| FileCommandError::Random)?;
    let [
        b0,
        b1,
        b2,
        b3,
        b4,
        b5,
        b6,
        b7,
        b8,
        b9,
        b10,
        b11,
        b12,
        b13,
        b14,
        b15,
    ] = b;
    let version = (b6 & 0x0f) | 0x40;
    let variant = (b8 & 0x3f) | 0x80;
    Ok(format!(
        "ghadelimiter_{b0:02x}{b1:02x}{b2:02x}{b3:02x}-{b4:02x}{b5:02x}-{version:02x}{b7:02x}-\
         {variant:02x}{b9:02x}-{b10:02x}{b11:02x}{b12:02x}{b13:02x}{b14:02x}{b15:02x}"
    ))
}

/// Checks `name` for a file of `kind`.
pub fn check_name(kind: FileKind, name: &str) -> Result<(), FileCommandError> {
    if name.is_empty() {
        return Err(FileCommandError::EmptyName { kind });
    }
    let (allowed, dash) = match kind {
        FileKind::Env => ("[A-Za-z_][A-Za-z0-9_]*", false),
        FileKind::Output => ("[A-Za-z_][A-Za-z0-9_-]*", true),
    };
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (dash && c == '-'));
    if !first_ok || !rest_ok {
        return Err(FileCommandError::InvalidName {
            kind,
            name: name.to_owned(),
            allowed,
        });
    }
    // `SetEnvFileCommand._setEnvBlockList`, compared ignoring case.
    if kind == FileKind::Env && name.eq_ignore_ascii_case("NODE_OPTIONS") {
        return Err(FileCommandError::BlockedName {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// One `GITHUB_ENV` or `GITHUB_OUTPUT` entry, `NAME<<DELIM⏎VALUE⏎DELIM⏎`
/// with this system's line terminator, as `@actions/core`'s
/// `exportVariable`/`setOutput` append it. Append it to the file named by
/// [`FileKind::env_var`]; use a fresh [`new_delimiter`] for each entry.
///
/// Refused (nothing to write) when the name is not valid for `kind` (see
/// [`check_name`]), when the name or the value contains the delimiter (the
/// value could end the heredoc early and add entries of its own), or when
/// an environment variable's value contains NUL.
pub fn file_command_entry(
    kind: FileKind,
    name: &str,
    value: &str,
    delimiter: &str,
) -> Result<String, FileCommandError> {
    file_command_entry_for(RunnerOs::HOST, kind, name, value, delimiter)
}

/// [`file_command_entry`] with the line terminator of the runner `os`.
pub fn file_command_entry_for(
    os: RunnerOs,
    kind: FileKind,
    name: &str,
    value: &str,
    delimiter: &str,
) -> Result<String, FileCommandError> {
    if delimiter.is_empty() || delimiter.contains(['\r', '\n', '\0']) {
        return Err(FileCommandError::InvalidDelimiter);
    }
    check_name(kind, name)?;
    if name.contains(delimiter) {
        return Err(FileCommandError::DelimiterInName {
            kind,
            name: name.to_owned(),
        });
    }
    if value.contains(delimiter) {
        return Err(FileCommandError::DelimiterInValue {
            kind,
            name: name.to_owned(),
        });
    }
    if kind == FileKind::Env && value.contains('\0') {
        return Err(FileCommandError::NulInValue {
            kind,
            name: name.to_owned(),
        });
    }
    let eol = os.eol();
    Ok(format!(
        "{name}<<{delimiter}{eol}{value}{eol}{delimiter}{eol}"
    ))
}

/// Why a file command file could not be read. Messages hold line numbers
/// and delimiters, never a line's text (it may hold a secret).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// A line that is neither `NAME=VALUE` nor `NAME<<DELIM`.
    #[error("line {line}: neither NAME=VALUE nor NAME<<DELIMITER")]
    InvalidFormat {
        /// 1-based line number.
        line: usize,
    },
    /// `NAME<<DELIM` with an empty name or delimiter.
    #[error("line {line}: the name and the heredoc delimiter must not be empty")]
    EmptyHeredocPart {
        /// 1-based line number.
        line: usize,
    },
    /// The heredoc starting on `line` never ends.
    #[error("line {line}: matching delimiter not found {delimiter:?}")]
    DelimiterNotFound {
        /// 1-based line number of the `NAME<<DELIM` line.
        line: usize,
        /// The delimiter looked for.
        delimiter: String,
    },
    /// The file ends inside a heredoc, without a line terminator.
    #[error("line {line}: the file ends inside a heredoc without a line break")]
    MissingNewline {
        /// 1-based line number of the last line.
        line: usize,
    },
}

/// Parses a `GITHUB_ENV`/`GITHUB_OUTPUT` (or `GITHUB_STATE`) file as the
/// runner on this system does: [`parse_file_commands_for`] with
/// [`RunnerOs::HOST`].
pub fn parse_file_commands(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    parse_file_commands_for(RunnerOs::HOST, text)
}

/// Parses a file command file as the runner's `EnvFileKeyValuePairs` does
/// on `os`, giving the `(name, value)` pairs in file order (a later pair
/// wins when the runner applies them). The rules:
///
/// - a leading UTF-8 byte order mark is dropped (`File.ReadAllText`);
/// - lines end at `\n`, and on Windows also at `\r\n`; empty lines are
///   skipped;
/// - a line whose first `=` comes before its first `<<` is `NAME=VALUE`,
///   split at that `=` (the runner does not refuse an empty name there, nor
///   does this);
/// - a line whose first `<<` comes first is `NAME<<DELIM`; neither may be
///   empty. The value is the text of the following lines up to the first
///   line equal to `DELIM`, without the line terminator before it (empty
///   when `DELIM` follows at once). Every value line must end with a line
///   terminator; the closing `DELIM` line need not;
/// - any other line is an error.
///
/// The runner validates no names here.
pub fn parse_file_commands_for(
    os: RunnerOs,
    text: &str,
) -> Result<Vec<(String, String)>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pairs = Vec::new();
    let mut index = 0;
    let mut line_number = 0;
    while let Some((line, _)) = read_line(os, text, &mut index) {
        line_number += 1;
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let (name, value) = line.split_at(e);
                let value = value.strip_prefix('=').unwrap_or(value);
                pairs.push((name.to_owned(), value.to_owned()));
            }
            (_, Some(h)) => {
                let header = line_number;
                let (name, delimiter) = line.split_at(h);
                let delimiter = delimiter.strip_prefix("<<").unwrap_or(delimiter);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(ParseError::EmptyHeredocPart { line: header });
                }
                let start = index;
                let mut end = index;
                loop {
                    let Some((value_line, newline)) = read_line(os, text, &mut index) else {
                        return Err(ParseError::DelimiterNotFound {
                            line: header,
                            delimiter: delimiter.to_owned(),
                        });
                    };
                    line_number += 1;
                    if value_line == delimiter {
                        break;
                    }
                    let Some(newline) = newline else {
                        return Err(ParseError::MissingNewline { line: line_number });
                    };
                    end = index - newline.len();
                }
                let value = if end > start {
                    text.get(start..end).unwrap_or_default()
                } else {
                    ""
                };
                pairs.push((name.to_owned(), value.to_owned()));
            }
            (_, None) => return Err(ParseError::InvalidFormat { line: line_number }),
        }
    }
    Ok(pairs)
}

/// The runner's `ReadLine`: the line starting at `index` and the terminator
/// that ended it (`None` at the end of the text), advancing `index` past it.
fn read_line<'a>(
    os: RunnerOs,
    text: &'a str,
    index: &mut usize,
) -> Option<(&'a str, Option<&'static str>)> {
    let rest = text.get(*index..).filter(|rest| !rest.is_empty())?;
    let Some(lf) = rest.find('\n') else {
        *index = text.len();
        return Some((rest, None));
    };
    let line = rest.get(..lf).unwrap_or_default();
    *index += lf + 1;
    if os == RunnerOs::Windows
        && let Some(line) = line.strip_suffix('\r')
    {
        return Some((line, Some("\r\n")));
    }
    Some((line, Some("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn escapes_percent_first() {
        assert_eq!(escape_data("%0A\r\n%"), "%250A%0D%0A%25");
        assert_eq!(unescape_data(&escape_data("%0A\r\n%25%")), "%0A\r\n%25%");
    }

    #[test]
    fn json_numbers_are_masked_only_as_written() {
        let value = "[[[\n4433333333333333333333333333333333333333333333333333333333333333]]]";
        assert_eq!(
            add_mask_lines(value).len(),
            2,
            "the whole value and its line"
        );
        let lines = add_mask_lines("{\"port\": 54321}");
        assert_eq!(lines.last().unwrap(), "::add-mask::54321");
    }

    #[test]
    fn short_and_blank_values_are_not_masked() {
        for value in ["", "a", "abc", "    ", "\n\n\n\n", "é€😀"] {
            assert!(too_short_to_mask(value), "{value:?}");
            assert!(add_mask_lines(value).is_empty(), "{value:?}");
        }
        assert!(!too_short_to_mask("abcd"));
        assert!(!too_short_to_mask("😀😀😀😀"));
        assert_eq!(add_mask_lines("abcd"), ["::add-mask::abcd"]);
    }

    #[test]
    fn multi_line_values_mask_each_long_line() {
        let lines = add_mask_lines("first line\r\n  ab  \nsecond\r\rfirst line\n");
        assert_eq!(
            lines,
            [
                "::add-mask::first line%0D%0A  ab  %0Asecond%0D%0Dfirst line%0A",
                "::add-mask::first line",
                "::add-mask::second",
            ]
        );
    }

    #[test]
    fn json_values_mask_long_leaves_but_not_braces() {
        let value = "{\n  \"user\": \"admin\",\n  \"password\": \"hunter22\",\n  \"port\": 54321,\n  \"n\": 7,\n  \"ok\": true,\n  \"list\": [\"abc\", \"line1\\nline two\"]\n}";
        let lines = add_mask_lines(value);
        let masked: Vec<String> = lines
            .iter()
            .map(|l| unescape_data(l.strip_prefix("::add-mask::").unwrap()))
            .collect();
        assert_eq!(masked[0], value);
        for part in [
            "\"password\": \"hunter22\",",
            "admin",
            "hunter22",
            "54321",
            "line1\nline two",
            "line1",
            "line two",
        ] {
            assert!(masked.iter().any(|m| m == part), "{part} not masked");
        }
        for part in ["{", "}", "7", "abc", "true"] {
            assert!(!masked.iter().any(|m| m == part), "{part} masked");
        }
        let unique: std::collections::HashSet<_> = masked.iter().collect();
        assert_eq!(unique.len(), masked.len(), "repeats: {masked:?}");
    }

    #[test]
    fn json_scalars_are_plain_values() {
        assert_eq!(add_mask_lines("\"abcdef\""), ["::add-mask::\"abcdef\""]);
        assert_eq!(add_mask_lines("123456"), ["::add-mask::123456"]);
        assert_eq!(add_mask_lines("[\"ab\"]"), ["::add-mask::[\"ab\"]"]);
    }

    #[test]
    fn delimiters_are_uuid_v4() {
        let a = new_delimiter().unwrap();
        let b = new_delimiter().unwrap();
        assert_ne!(a, b);
        let uuid = a.strip_prefix("ghadelimiter_").unwrap();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(
            uuid.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert!(groups[2].starts_with('4'));
        assert!(groups[3].starts_with(['8', '9', 'a', 'b']));
    }

    #[test]
    fn entries_are_heredocs() {
        for os in [RunnerOs::Unix, RunnerOs::Windows] {
            let eol = os.eol();
            let entry =
                file_command_entry_for(os, FileKind::Env, "A_1", "x\ny", "ghadelimiter_d").unwrap();
            assert_eq!(
                entry,
                format!("A_1<<ghadelimiter_d{eol}x\ny{eol}ghadelimiter_d{eol}")
            );
            for value in [
                "",
                "\n",
                "\r",
                "a\r",
                "\r\n",
                "a\r\nb\r\n",
                "x=y<<z",
                "ghadelimiter",
            ] {
                let entry = file_command_entry_for(os, FileKind::Output, "o-1", value, "D")
                    .unwrap_or_else(|e| panic!("{value:?}: {e}"));
                assert_eq!(
                    parse_file_commands_for(os, &entry).unwrap(),
                    pairs(&[("o-1", value)]),
                    "{os:?} {value:?}"
                );
            }
        }
    }

    #[test]
    fn names_are_checked() {
        let ok = |kind, name| file_command_entry(kind, name, "v", "ghadelimiter_x").is_ok();
        assert!(ok(FileKind::Env, "_a1"));
        assert!(ok(FileKind::Output, "a-b"));
        assert!(!ok(FileKind::Env, "a-b"));
        for name in [
            "", "1a", "a=b", "a\nb", "a\rb", "a\0b", "a b", "a<<b", "é", "-a",
        ] {
            assert!(!ok(FileKind::Env, name), "{name:?}");
            assert!(!ok(FileKind::Output, name), "{name:?}");
        }
        assert_eq!(
            file_command_entry(FileKind::Env, "", "v", "D"),
            Err(FileCommandError::EmptyName {
                kind: FileKind::Env
            })
        );
        assert!(matches!(
            file_command_entry(FileKind::Env, "node_options", "v", "D"),
            Err(FileCommandError::BlockedName { .. })
        ));
        assert!(ok(FileKind::Output, "NODE_OPTIONS"));
    }

    #[test]
    fn injections_are_refused() {
        let d = "ghadelimiter_0000";
        let value = format!("x\n{d}\nEVIL=1\nY<<{d}\nz");
        let err = file_command_entry(FileKind::Env, "A", &value, d).unwrap_err();
        assert_eq!(
            err,
            FileCommandError::DelimiterInValue {
                kind: FileKind::Env,
                name: "A".into()
            }
        );
        assert!(!err.to_string().contains("EVIL"));
        assert!(matches!(
            file_command_entry(FileKind::Output, "A", d, d),
            Err(FileCommandError::DelimiterInValue { .. })
        ));
        assert!(matches!(
            file_command_entry(FileKind::Env, "DD", "v", "D"),
            Err(FileCommandError::DelimiterInName { .. })
        ));
        for bad in ["", "a\nb", "a\r", "\0"] {
            assert_eq!(
                file_command_entry(FileKind::Env, "A", "v", bad),
                Err(FileCommandError::InvalidDelimiter)
            );
        }
        assert!(matches!(
            file_command_entry(FileKind::Env, "A", "a\0b", d),
            Err(FileCommandError::NulInValue { .. })
        ));
        assert!(file_command_entry(FileKind::Output, "A", "a\0b", d).is_ok());
    }

    #[test]
    fn parses_single_line_and_heredoc_entries() {
        let text = "\u{feff}A=1\n\nB==x<<y\nC<<EOF\nl1\n\nl3=<<\nEOF\nD<<E=F\nE=F\nE=\n=v\nF<<G\nG";
        assert_eq!(
            parse_file_commands_for(RunnerOs::Unix, text).unwrap(),
            pairs(&[
                ("A", "1"),
                ("B", "=x<<y"),
                ("C", "l1\n\nl3=<<"),
                ("D", ""),
                ("E", ""),
                ("", "v"),
                ("F", ""),
            ])
        );
    }

    #[test]
    fn carriage_returns_depend_on_the_os() {
        let text = "A=1\r\nB<<EOF\r\nx\r\ny\r\nEOF\r\n";
        assert_eq!(
            parse_file_commands_for(RunnerOs::Windows, text).unwrap(),
            pairs(&[("A", "1"), ("B", "x\r\ny")])
        );
        // On Linux and macOS the `\r` stays in the line, the delimiter's too.
        assert_eq!(
            parse_file_commands_for(RunnerOs::Unix, text).unwrap(),
            pairs(&[("A", "1\r"), ("B", "x\r\ny\r")])
        );
        assert_eq!(
            parse_file_commands_for(RunnerOs::Unix, "B<<EOF\nx\r\nEOF\r\n"),
            Err(ParseError::DelimiterNotFound {
                line: 1,
                delimiter: "EOF".into()
            })
        );
        assert_eq!(
            parse_file_commands_for(RunnerOs::Unix, "A=1\r\nB<<EOF\nx\r\nEOF\n").unwrap(),
            pairs(&[("A", "1\r"), ("B", "x\r")])
        );
        // A lone `\r` never ends a line.
        assert_eq!(
            parse_file_commands_for(RunnerOs::Windows, "A=1\rB=2\n").unwrap(),
            pairs(&[("A", "1\rB=2")])
        );
    }

    #[test]
    fn parse_errors_name_lines_not_values() {
        let parse = |t| parse_file_commands_for(RunnerOs::Unix, t);
        assert_eq!(
            parse("A=1\nsecret-value\n"),
            Err(ParseError::InvalidFormat { line: 2 })
        );
        assert!(
            !ParseError::InvalidFormat { line: 2 }
                .to_string()
                .contains("secret")
        );
        assert_eq!(
            parse("<<EOF\nx\nEOF\n"),
            Err(ParseError::EmptyHeredocPart { line: 1 })
        );
        assert_eq!(
            parse("A<<\nx\n"),
            Err(ParseError::EmptyHeredocPart { line: 1 })
        );
        assert_eq!(
            parse("A<<EOF\nx\nEOF2\n"),
            Err(ParseError::DelimiterNotFound {
                line: 1,
                delimiter: "EOF".into()
            })
        );
        assert_eq!(
            parse("A<<EOF\nx"),
            Err(ParseError::MissingNewline { line: 2 })
        );
        assert_eq!(parse(""), Ok(vec![]));
    }
}
