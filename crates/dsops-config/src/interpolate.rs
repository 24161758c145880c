//! `${NAME}` interpolation from the process environment.
//!
//! Supported forms, in any string value that names something (not in keys and
//! not in keywords such as `type:`):
//!
//! | form              | meaning                                              |
//! |-------------------|------------------------------------------------------|
//! | `${NAME}`         | the value of `NAME`; an error if `NAME` is unset     |
//! | `${NAME:-default}`| the value of `NAME`, or `default` if unset or empty  |
//! | `$$`              | a literal `$`                                        |
//!
//! A `$` not followed by `{` or `$` is kept as is, so `pa$word` needs no escape.
//! Defaults are literal text (no nesting) and end at the first `}`.

use std::collections::HashMap;

use secrecy::zeroize::Zeroizing;

/// Where `${NAME}` values come from.
pub trait Environment {
    /// The value of `name`, or `None` if it is unset (or not valid Unicode).
    fn var(&self, name: &str) -> Option<String>;
}

/// The environment of the current process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<E: Environment + ?Sized> Environment for &E {
    fn var(&self, name: &str) -> Option<String> {
        (**self).var(name)
    }
}

impl<E: Environment + ?Sized> Environment for std::sync::Arc<E> {
    fn var(&self, name: &str) -> Option<String> {
        (**self).var(name)
    }
}

/// A problem in one `${...}`; offsets are byte offsets into the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// `${` with no closing `}`.
    Unterminated { start: usize },
    /// `${...}` whose name is not `[A-Za-z_][A-Za-z0-9_]*`.
    BadName { start: usize, end: usize },
    /// `${NAME}` with `NAME` unset and no default.
    Unset {
        name: String,
        start: usize,
        end: usize,
    },
}

/// The result of interpolating one string.
#[derive(Debug)]
pub(crate) struct Interpolated {
    /// The string with every resolvable reference replaced.
    pub(crate) value: String,
    /// Names of the variables read.
    pub(crate) variables: Vec<String>,
    /// What went wrong; when non-empty, `value` still has the unresolved `${...}` text.
    pub(crate) problems: Vec<Problem>,
}

enum Piece<'a> {
    Text(&'a str),
    Value(Zeroizing<String>),
}

/// Replaces `${NAME}` references in `raw` with values from `env`.
pub(crate) fn interpolate(raw: &str, env: &dyn Environment) -> Interpolated {
    if !raw.contains('$') {
        return Interpolated {
            value: raw.to_owned(),
            variables: Vec::new(),
            problems: Vec::new(),
        };
    }
    let mut pieces = Vec::new();
    let mut variables = Vec::new();
    let mut problems = Vec::new();
    let mut rest = raw;
    let mut offset = 0;
    while let Some(dollar) = rest.find('$') {
        let (before, from_dollar) = rest.split_at(dollar);
        pieces.push(Piece::Text(before));
        let start = offset + dollar;
        let consumed = if from_dollar.starts_with("$$") {
            pieces.push(Piece::Text("$"));
            2
        } else if let Some(body) = from_dollar.strip_prefix("${") {
            match body.find('}') {
                None => {
                    problems.push(Problem::Unterminated { start });
                    pieces.push(Piece::Text(from_dollar));
                    from_dollar.len()
                }
                Some(close) => {
                    let inner = body.get(..close).unwrap_or("");
                    let end = start + 2 + close + 1;
                    let (name, default) = match inner.split_once(":-") {
                        Some((name, default)) => (name, Some(default)),
                        None => (inner, None),
                    };
                    let whole = from_dollar.get(..2 + close + 1).unwrap_or(from_dollar);
                    if !is_variable_name(name) {
                        problems.push(Problem::BadName { start, end });
                        pieces.push(Piece::Text(whole));
                    } else {
                        variables.push(name.to_owned());
                        match (env.var(name).map(Zeroizing::new), default) {
                            (Some(value), Some(default)) if value.is_empty() => {
                                pieces.push(Piece::Text(default));
                            }
                            (Some(value), _) => pieces.push(Piece::Value(value)),
                            (None, Some(default)) => pieces.push(Piece::Text(default)),
                            (None, None) => {
                                problems.push(Problem::Unset {
                                    name: name.to_owned(),
                                    start,
                                    end,
                                });
                                pieces.push(Piece::Text(whole));
                            }
                        }
                    }
                    2 + close + 1
                }
            }
        } else {
            pieces.push(Piece::Text("$"));
            1
        };
        rest = from_dollar.get(consumed..).unwrap_or("");
        offset = start + consumed;
    }
    pieces.push(Piece::Text(rest));
    // Size the result once so that secret values are not left behind in freed buffers.
    let len = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.len(),
            Piece::Value(v) => v.len(),
        })
        .sum();
    let mut value = String::with_capacity(len);
    for piece in &pieces {
        match piece {
            Piece::Text(t) => value.push_str(t),
            Piece::Value(v) => value.push_str(v),
        }
    }
    Interpolated {
        value,
        variables,
        problems,
    }
}

/// Whether `name` is a portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        HashMap::from([
            ("A".to_owned(), "alpha".to_owned()),
            ("EMPTY".to_owned(), String::new()),
        ])
    }

    fn run(raw: &str) -> (String, Vec<Problem>) {
        let out = interpolate(raw, &env());
        (out.value, out.problems)
    }

    #[test]
    fn replaces_set_variables_and_keeps_the_rest() {
        assert_eq!(run("x-${A}-y"), ("x-alpha-y".into(), vec![]));
        assert_eq!(run("pa$word"), ("pa$word".into(), vec![]));
        assert_eq!(run("cost: $$5"), ("cost: $5".into(), vec![]));
        assert_eq!(run("$$${A}"), ("$alpha".into(), vec![]));
        assert_eq!(run("end$"), ("end$".into(), vec![]));
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(run("${B:-beta}"), ("beta".into(), vec![]));
        assert_eq!(run("${EMPTY:-e}"), ("e".into(), vec![]));
        assert_eq!(run("${A:-zzz}"), ("alpha".into(), vec![]));
        assert_eq!(run("${B:-}"), ("".into(), vec![]));
        assert_eq!(run("${EMPTY}"), ("".into(), vec![]));
    }

    #[test]
    fn reports_problems_with_offsets() {
        assert_eq!(
            run("ab${NOPE}"),
            (
                "ab${NOPE}".into(),
                vec![Problem::Unset {
                    name: "NOPE".into(),
                    start: 2,
                    end: 9
                }]
            )
        );
        assert_eq!(
            run("x${A"),
            ("x${A".into(), vec![Problem::Unterminated { start: 1 }])
        );
        assert_eq!(
            run("${1X}"),
            ("${1X}".into(), vec![Problem::BadName { start: 0, end: 5 }])
        );
        assert_eq!(run("${}").1, vec![Problem::BadName { start: 0, end: 3 }]);
    }

    #[test]
    fn records_which_variables_were_read() {
        let out = interpolate("${A}${B:-x}", &env());
        assert_eq!(out.variables, ["A", "B"]);
    }

    #[test]
    fn variable_names() {
        assert!(is_variable_name("AZURE_CLIENT_ID"));
        assert!(is_variable_name("_x1"));
        assert!(!is_variable_name("1X"));
        assert!(!is_variable_name("A-B"));
        assert!(!is_variable_name(""));
    }
}
