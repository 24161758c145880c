//! Azure Pipelines logging commands: masking secrets in the job log
//! (`##vso[task.setsecret]`) and passing them to later steps as secret
//! variables (`##vso[task.setvariable variable=NAME;issecret=true]`).
//!
//! The agent (microsoft/azure-pipelines-agent, `Command.TryParse`) reads
//! `##vso[area.event k=v;k=v]data` from a step's stdout, and un-escapes both
//! property values and data: `%3B` → `;`, `%0D` → `\r`, `%0A` → `\n`,
//! `%5D` → `]`, and, unless the pipeline sets `DECODE_PERCENTS=false`,
//! `%AZP25` → `%` (the agent's default since March 2021; the task library
//! `azure-pipelines-task-lib` always writes `%` as `%AZP25`).
//!
//! With `DECODE_PERCENTS=false` a `%` cannot be written at all, so a value
//! in which the agent would decode a sequence is refused rather than
//! handed on changed.

use crate::output::ci::github::{MIN_MASK_LEN, too_short_to_mask};

/// Whether the agent un-escapes `%AZP25` (the `DECODE_PERCENTS` variable,
/// which the agent also passes to steps as an environment variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Percents {
    /// `%` is written as `%AZP25` (the agent's default).
    Decoded,
    /// `DECODE_PERCENTS=false`: `%` is written as it is.
    Literal,
}

impl Percents {
    /// From the value of `DECODE_PERCENTS`: only `false` (any case) opts out.
    pub fn from_setting(setting: Option<&str>) -> Self {
        match setting {
            Some(value) if value.trim().eq_ignore_ascii_case("false") => Percents::Literal,
            _ => Percents::Decoded,
        }
    }
}

/// A value the agent would not read back as written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    /// The name is not a variable name the agent maps to an environment variable.
    #[error(
        "{0:?} is not a valid Azure Pipelines variable name (letters, digits, `_`, `.`, `-`; not starting with a digit)"
    )]
    InvalidName(String),
    /// With `DECODE_PERCENTS=false`, a sequence such as `%0A` in the value
    /// would be decoded by the agent.
    #[error(
        "the value of {0} contains a %-sequence the agent would decode (`%0A`, `%3B`, `%5D` or `%0D`), and DECODE_PERCENTS=false leaves no way to escape it"
    )]
    Undecodable(String),
}

/// Escapes the data of a command for `percents`, as the task library's
/// `escapedata` does (`;` and `]` end nothing in the data).
fn escape(text: &str, percents: Percents) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' if percents == Percents::Decoded => out.push_str("%AZP25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// What the agent makes of an escaped text (for tests and for checking that
/// a value survives).
pub fn unescape(escaped: &str, percents: Percents) -> String {
    let mut text = escaped
        .replace("%3B", ";")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%5D", "]");
    if percents == Percents::Decoded {
        text = text.replace("%AZP25", "%");
    }
    text
}

/// Checks that `value` reads back unchanged.
fn check_value(name: &str, value: &str, percents: Percents) -> Result<(), CommandError> {
    if unescape(&escape(value, percents), percents) == value {
        Ok(())
    } else {
        Err(CommandError::Undecodable(name.to_owned()))
    }
}

/// The `##vso[task.setsecret]` lines that mask one secret: the whole value,
/// then each line of a multi-line value of at least [`MIN_MASK_LEN`]
/// characters (the agent masks only what it is given). A value too short
/// to mask gives no line.
pub fn set_secret_lines(value: &str, percents: Percents) -> Vec<String> {
    if too_short_to_mask(value) {
        return Vec::new();
    }
    let mut parts: Vec<&str> = vec![value];
    if value.contains(['\r', '\n']) {
        for line in value.split(['\r', '\n']).map(str::trim) {
            if line.chars().count() >= MIN_MASK_LEN && !parts.contains(&line) {
                parts.push(line);
            }
        }
    }
    parts
        .into_iter()
        // A part the agent would read back changed masks nothing useful;
        // the variable itself is refused by `set_variable`.
        .filter(|part| unescape(&escape(part, percents), percents) == *part)
        .map(|part| format!("##vso[task.setsecret]{}", escape(part, percents)))
        .collect()
}

/// Whether `name` is a name the agent accepts and maps to an environment
/// variable of later steps (`.` and `-` become `_` there).
pub fn check_name(name: &str) -> Result<(), CommandError> {
    let mut chars = name.chars();
    let first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        Ok(())
    } else {
        Err(CommandError::InvalidName(name.to_owned()))
    }
}

/// The `##vso[task.setvariable …;issecret=true]` line that passes a secret
/// to later steps (and, with `is_output`, to later jobs as an output
/// variable of this step).
pub fn set_variable_line(
    name: &str,
    value: &str,
    is_output: bool,
    percents: Percents,
) -> Result<String, CommandError> {
    check_name(name)?;
    check_value(name, value, percents)?;
    let output = if is_output { ";isoutput=true" } else { "" };
    Ok(format!(
        "##vso[task.setvariable variable={name};issecret=true{output}]{}",
        escape(value, percents)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn escapes_what_the_agent_decodes() {
        let value = "a;b]c\r\nd%e%0Af";
        let line = set_variable_line("DB", value, false, Percents::Decoded).unwrap();
        assert_eq!(
            line,
            "##vso[task.setvariable variable=DB;issecret=true]a;b]c%0D%0Ad%AZP25e%AZP250Af"
        );
        let data = line.split_once(']').unwrap().1;
        assert_eq!(unescape(data, Percents::Decoded), value);
    }

    #[test]
    fn without_percent_decoding_ambiguous_values_are_refused() {
        assert_eq!(
            set_variable_line("DB", "50%", false, Percents::Literal).unwrap(),
            "##vso[task.setvariable variable=DB;issecret=true]50%"
        );
        for value in ["x%0Ay", "x%3By", "x%0D", "x%5D"] {
            assert_eq!(
                set_variable_line("DB", value, false, Percents::Literal),
                Err(CommandError::Undecodable("DB".into())),
                "{value}"
            );
            assert!(set_variable_line("DB", value, false, Percents::Decoded).is_ok());
        }
    }

    #[test]
    fn setting_decides_percents() {
        assert_eq!(Percents::from_setting(None), Percents::Decoded);
        assert_eq!(Percents::from_setting(Some("true")), Percents::Decoded);
        assert_eq!(Percents::from_setting(Some("False")), Percents::Literal);
    }

    #[test]
    fn output_variables_and_names() {
        assert_eq!(
            set_variable_line("a.b-c", "value", true, Percents::Decoded).unwrap(),
            "##vso[task.setvariable variable=a.b-c;issecret=true;isoutput=true]value"
        );
        for bad in ["", "1A", "A;B", "A]B", "A B", "A=B"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_masked_whole_and_by_line() {
        assert!(set_secret_lines("abc", Percents::Decoded).is_empty());
        assert_eq!(
            set_secret_lines("line one\n{\nline two", Percents::Decoded),
            [
                "##vso[task.setsecret]line one%0A{%0Aline two",
                "##vso[task.setsecret]line one",
                "##vso[task.setsecret]line two",
            ]
        );
    }
}
