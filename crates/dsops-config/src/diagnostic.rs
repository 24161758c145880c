//! Problems found in a configuration: what, where, and what to do about it.

use crate::code::Code;
use crate::source::Span;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The configuration cannot be used.
    Error,
    /// The configuration works, but something in it does not do what it seems to.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The part of the file a diagnostic belongs to, so `check --env E` can keep
/// only what concerns `E`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The file as a whole (`version`, YAML syntax, ...).
    Global,
    /// One entry of `secretStores`.
    Store(String),
    /// One entry of `envs`.
    Env(String),
}

/// A secondary location, such as "first defined here".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Where.
    pub span: Span,
    /// What it is.
    pub message: String,
}

/// One problem in a configuration file.
///
/// Messages never quote a secret value: diagnostics go to terminals and CI logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What kind of problem it is; its text (`unknown-key`, `invalid-vault`,
    /// ...) is stable.
    pub code: Code,
    /// One sentence saying what is wrong.
    pub message: String,
    /// Where; `None` for problems with no location (an unreadable file).
    pub span: Option<Span>,
    /// A short text printed under the caret.
    pub label: Option<String>,
    /// Other places worth looking at.
    pub notes: Vec<Note>,
    /// What to do about it.
    pub hint: Option<String>,
    /// Which store or environment it concerns.
    pub scope: Scope,
}

impl Diagnostic {
    fn new(severity: Severity, code: Code, span: Option<Span>, message: String) -> Self {
        Self {
            severity,
            code,
            message,
            span,
            label: None,
            notes: Vec::new(),
            hint: None,
            scope: Scope::Global,
        }
    }

    /// An error at `span`.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, Some(span), message.into())
    }

    /// A warning at `span`.
    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, Some(span), message.into())
    }

    /// A warning about the file as a whole.
    pub fn warning_without_span(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, None, message.into())
    }

    /// An error about the file as a whole.
    pub fn error_without_span(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, None, message.into())
    }

    /// Sets the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Adds the text under the caret.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a secondary location.
    #[must_use]
    pub fn with_note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a hint; an existing hint is kept and the new one appended.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        self.hint = Some(match self.hint.take() {
            Some(old) => format!("{old}\n{hint}"),
            None => hint,
        });
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
