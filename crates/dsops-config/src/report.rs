//! Diagnostics for people (rustc-style snippets) and for tools (JSON).
//!
//! Secret text in the file (literal values, client secrets) is masked with `*`
//! in every snippet, so a `dsops check` log never shows it.

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Position, Source, Span};

/// How to draw human-readable diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No colour (files, pipes, snapshots).
    Plain,
    /// ANSI colours (terminals).
    Colored,
}

/// The source text with every sensitive span replaced by `*`, byte for byte,
/// so every other span still points at the same text.
pub fn masked_text(source: &Source, sensitive: &[Span]) -> String {
    let mut bytes = source.text().as_bytes().to_vec();
    for span in sensitive {
        let end = span.end.min(bytes.len());
        for b in bytes
            .get_mut(span.start.min(end)..end)
            .into_iter()
            .flatten()
        {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
    // Masking whole spans replaces whole characters, so this is still UTF-8;
    // fall back to a lossy copy rather than fail if a span was misaligned.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Renders diagnostics the way rustc does, followed by nothing else.
pub fn human(
    source: &Source,
    sensitive: &[Span],
    diagnostics: &[&Diagnostic],
    style: Style,
) -> String {
    let text = masked_text(source, sensitive);
    let path = source.path().display().to_string();
    let renderer = match style {
        Style::Plain => Renderer::plain(),
        Style::Colored => Renderer::styled(),
    }
    .decor_style(DecorStyle::Ascii);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let level = match diagnostic.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.code.as_str());
        let mut group = match diagnostic.span {
            Some(span) => {
                let span = widen(&text, span);
                let mut snippet = Snippet::source(text.as_str())
                    .path(path.as_str())
                    .fold(true);
                let mut primary = AnnotationKind::Primary.span(span.range());
                if let Some(label) = &diagnostic.label {
                    primary = primary.label(label.as_str());
                }
                snippet = snippet.annotation(primary);
                for note in &diagnostic.notes {
                    snippet = snippet.annotation(
                        AnnotationKind::Context
                            .span(widen(&text, note.span).range())
                            .label(note.message.as_str()),
                    );
                }
                title.element(snippet)
            }
            None => Group::with_title(title),
        };
        if diagnostic.span.is_none() {
            group = group.element(Level::NOTE.message(format!("in {path}")));
        }
        if let Some(hint) = &diagnostic.hint {
            group = group.element(Level::HELP.message(hint.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}

/// An empty span is shown as one caret on the character it sits before.
fn widen(text: &str, span: Span) -> Span {
    if span.start != span.end {
        return span;
    }
    let next = text
        .get(span.start..)
        .and_then(|rest| rest.chars().next())
        .filter(|c| *c != '\n' && *c != '\r')
        .map_or(0, char::len_utf8);
    Span::new(span.start, span.start + next)
}

/// `dsops.yaml:12:9: error[unknown-key]: unknown key ...` — one line, for
/// compiler errors and logs.
pub fn short(source: &Source, diagnostic: &Diagnostic) -> String {
    let location = match diagnostic.span {
        Some(span) => {
            let Position { line, column } = source.position(span.start);
            format!("{}:{line}:{column}", source.path().display())
        }
        None => source.path().display().to_string(),
    };
    let mut line = format!(
        "{location}: {}[{}]: {}",
        diagnostic.severity.as_str(),
        diagnostic.code,
        diagnostic.message
    );
    if let Some(label) = &diagnostic.label {
        line.push_str(&format!(" ({label})"));
    }
    line
}

/// One diagnostic as a JSON object.
pub fn json_diagnostic(source: &Source, diagnostic: &Diagnostic) -> Value {
    let position = |span: Span| {
        let start = source.position(span.start);
        let end = source.position(span.end);
        json!({
            "line": start.line,
            "column": start.column,
            "end_line": end.line,
            "end_column": end.column,
            "offset": span.start,
            "length": span.end - span.start,
        })
    };
    let mut value = json!({
        "severity": diagnostic.severity.as_str(),
        "code": diagnostic.code.as_str(),
        "message": diagnostic.message,
        "file": source.path().display().to_string(),
        "label": diagnostic.label,
        "hint": diagnostic.hint,
        "notes": diagnostic.notes.iter().map(|n| {
            let mut note = position(n.span);
            if let Some(object) = note.as_object_mut() {
                object.insert("message".into(), json!(n.message));
            }
            note
        }).collect::<Vec<_>>(),
    });
    if let (Some(span), Some(object)) = (diagnostic.span, value.as_object_mut())
        && let Value::Object(pos) = position(span)
    {
        object.extend(pos);
    }
    value
}

/// A whole report: `{"file", "diagnostics": [...], "errors", "warnings"}`.
pub fn json(source: &Source, diagnostics: &[&Diagnostic]) -> Value {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    json!({
        "file": source.path().display().to_string(),
        "diagnostics": diagnostics.iter().map(|d| json_diagnostic(source, d)).collect::<Vec<_>>(),
        "errors": errors,
        "warnings": diagnostics.len() - errors,
    })
}
