//! Templates (`dsops render --template`): a text file whose `{{ NAME }}`
//! placeholders are filled with the values of an environment, as `op
//! inject` fills its references.
//!
//! The syntax, whole:
//!
//! - `{{ NAME }}` is the value of variable `NAME`, exactly as resolved (no
//!   quoting or escaping is added: the template decides). Spaces and tabs
//!   inside the braces are optional (`{{NAME}}` is the same). `NAME` is an
//!   environment variable name: letters, digits and `_`, not starting with
//!   a digit.
//! - `{{ "TEXT" }}` writes `TEXT` as it is: the way to write a literal
//!   `{{` (`{{ "{{" }}`) or `}}`. `TEXT` cannot hold `"`.
//! - Everything else, single braces and a lone `}}` included, is copied as
//!   it is. A placeholder does not span lines.
//!
//! Every placeholder is checked before anything is fetched, and every one
//! must have a value before anything is written; an error names the
//! template's line and column (1-based, in characters).

use secrecy::{ExposeSecret, SecretString};

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    /// Copied as it is.
    Text(String),
    /// A variable's value.
    Value(Placeholder),
}

/// A `{{ NAME }}` of a template, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The variable.
    pub name: String,
    /// The line of its `{{` (1-based).
    pub line: usize,
    /// The column of its `{{` (1-based, in characters).
    pub column: usize,
}

/// Why a template cannot be filled. The text shown of the template is
/// escaped (it is file content) and never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{{` without a `}}` on its line.
    #[error("{line}:{column}: `{{{{` is not closed by `}}}}` on its line")]
    Unclosed {
        /// Where the `{{` is.
        line: usize,
        /// Its column.
        column: usize,
    },
    /// What is between the braces is neither a name nor a quoted text.
    #[error(
        "{line}:{column}: `{{{{ {text} }}}}` is not a placeholder: write `{{{{ NAME }}}}` for a variable, or `{{{{ \"{{{{\" }}}}` for a literal `{{{{`"
    )]
    NotAPlaceholder {
        /// Where its `{{` is.
        line: usize,
        /// Its column.
        column: usize,
        /// What is written between the braces (escaped, shortened).
        text: String,
    },
    /// A placeholder names a variable the environment does not have.
    #[error("{line}:{column}: environment {env} has no variable `{name}`")]
    UnknownVariable {
        /// The name.
        name: String,
        /// The environment.
        env: String,
        /// Where the placeholder is.
        line: usize,
        /// Its column.
        column: usize,
    },
    /// A placeholder's variable has no value (an optional one that failed).
    #[error("{line}:{column}: `{name}` has no value (it could not be resolved)")]
    Unresolved {
        /// The name.
        name: String,
        /// Where the placeholder is.
        line: usize,
        /// Its column.
        column: usize,
    },
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        for (index, line) in text.split_inclusive('\n').enumerate() {
            let mut rest = line;
            // Characters of `line` before `rest`.
            let mut consumed = 0;
            while let Some(open) = rest.find("{{") {
                let (before, after_open) = rest.split_at(open);
                literal.push_str(before);
                let column = consumed + before.chars().count() + 1;
                let position = || (index + 1, column);
                let inner_and_rest = after_open.get(2..).unwrap_or_default();
                let Some(close) = inner_and_rest.find("}}") else {
                    let (line, column) = position();
                    return Err(TemplateError::Unclosed { line, column });
                };
                let inner = inner_and_rest.get(..close).unwrap_or_default();
                let trimmed = inner.trim_matches([' ', '\t']);
                if let Some(quoted) = trimmed
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .filter(|t| !t.contains('"'))
                {
                    literal.push_str(quoted);
                } else if is_name(trimmed) {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    let (line, column) = position();
                    pieces.push(Piece::Value(Placeholder {
                        name: trimmed.to_owned(),
                        line,
                        column,
                    }));
                } else {
                    let (line, column) = position();
                    return Err(TemplateError::NotAPlaceholder {
                        line,
                        column,
                        text: shown(trimmed),
                    });
                }
                let taken = open + 2 + close + 2;
                consumed += rest.get(..taken).map_or(0, |t| t.chars().count());
                rest = rest.get(taken..).unwrap_or_default();
            }
            literal.push_str(rest);
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Self { pieces })
    }

    /// Its placeholders, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Value(placeholder) => Some(placeholder),
            Piece::Text(_) => None,
        })
    }

    /// Checks that every placeholder names a variable of `env`, whose
    /// variables are `names`: the first one that does not, as an error.
    pub fn check_names(
        &self,
        env: &str,
        mut names: impl FnMut(&str) -> bool,
    ) -> Result<(), TemplateError> {
        match self.placeholders().find(|p| !names(&p.name)) {
            Some(p) => Err(TemplateError::UnknownVariable {
                name: p.name.clone(),
                env: env.to_owned(),
                line: p.line,
                column: p.column,
            }),
            None => Ok(()),
        }
    }

    /// The template filled with the values `value` gives; the first
    /// placeholder without one, as an error.
    pub fn fill<'v>(
        &self,
        mut value: impl FnMut(&str) -> Option<&'v SecretString>,
    ) -> Result<SecretString, TemplateError> {
        // Every value is looked up first, so that the text is written once
        // into a buffer of its final size: a growing one would leave copies
        // of the values written so far in the memory it frees.
        let mut values = Vec::new();
        for piece in &self.pieces {
            if let Piece::Value(p) = piece {
                match value(&p.name) {
                    Some(v) => values.push(v),
                    None => {
                        return Err(TemplateError::Unresolved {
                            name: p.name.clone(),
                            line: p.line,
                            column: p.column,
                        });
                    }
                }
            }
        }
        let size = self
            .pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.len(),
                Piece::Value(_) => 0,
            })
            .chain(values.iter().map(|v| v.expose_secret().len()))
            .sum();
        let mut out = String::with_capacity(size);
        let mut values = values.into_iter();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Value(_) => {
                    if let Some(v) = values.next() {
                        out.push_str(v.expose_secret());
                    }
                }
            }
        }
        Ok(SecretString::from(out))
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Template text for a message: escaped, at most 40 characters.
fn shown(text: &str) -> String {
    let escaped: String = text.escape_default().collect();
    if escaped.chars().count() > 40 {
        let head: String = escaped.chars().take(40).collect();
        format!("{head}…")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(text: &str) -> Result<String, TemplateError> {
        let a = SecretString::from("va");
        let b = SecretString::from("v{{b}}");
        Template::parse(text)?
            .fill(|name| match name {
                "A" => Some(&a),
                "B_2" => Some(&b),
                _ => None,
            })
            .map(|s| s.expose_secret().to_owned())
    }

    #[test]
    fn placeholders_are_filled_and_the_rest_is_copied() {
        assert_eq!(
            fill("x={{ A }};y={{B_2}}\n{ } }} {\"a\"}").unwrap(),
            "x=va;y=v{{b}}\n{ } }} {\"a\"}"
        );
        assert_eq!(fill("{{\tA  }}").unwrap(), "va");
        // A value is never parsed as a template.
        assert_eq!(fill("{{B_2}}{{A}}").unwrap(), "v{{b}}va");
        assert_eq!(fill("{{ \"{{\" }} A }}").unwrap(), "{{ A }}");
        assert_eq!(fill("").unwrap(), "");
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            fill("ok\n  é {{ A").unwrap_err(),
            TemplateError::Unclosed { line: 2, column: 5 }
        );
        assert_eq!(
            fill("a\nb {{ A }} {{ C }}").unwrap_err(),
            TemplateError::Unresolved {
                name: "C".into(),
                line: 2,
                column: 11
            }
        );
        assert!(matches!(
            fill("{{ a-b }}").unwrap_err(),
            TemplateError::NotAPlaceholder {
                line: 1,
                column: 1,
                ..
            }
        ));
        // A placeholder does not span lines.
        assert!(matches!(
            fill("{{ A\n}}").unwrap_err(),
            TemplateError::Unclosed { .. }
        ));
        let t = Template::parse("{{ A }}\n{{ Z }}").unwrap();
        assert_eq!(
            t.check_names("prod", |n| n == "A").unwrap_err().to_string(),
            "2:1: environment prod has no variable `Z`"
        );
    }
}
