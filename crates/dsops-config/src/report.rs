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
    // File text is data: a control character (the start of an ANSI or OSC
    // escape sequence) is shown as `?`, one per byte so that spans still
    // point at the same text, and `##vso[` loses its bracket.
    let set = |bytes: &mut Vec<u8>, at: usize, to: u8| {
        if let Some(b) = bytes.get_mut(at) {
            *b = to;
        }
    };
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let c1 = b == 0xC2 && bytes.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n));
        if (b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t') || b == 0x7F {
            set(&mut bytes, i, b'?');
        } else if c1 {
            set(&mut bytes, i, b'?');
            set(&mut bytes, i + 1, b'?');
            i += 1;
        } else if bytes.get(i..i + 6) == Some(b"##vso[") {
            set(&mut bytes, i + 5, b'(');
        }
        i += 1;
    }
    // Masking whole spans replaces whole characters, so this is still UTF-8;
    // fall back to a lossy copy rather than fail if a span was misaligned.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Most diagnostics [`human`] draws; the rest are counted in one line
/// (`--format json` lists them all). A hostile file with a problem on each
/// of its lines would otherwise print megabytes into a log.
pub const MAX_SHOWN: usize = 200;

/// Renders diagnostics the way rustc does (at most [`MAX_SHOWN`], then a
/// line counting the rest), followed by nothing else.
///
/// Each snippet is cut from the lines its spans touch, not from the whole
/// file, so the time is linear in the number of diagnostics.
pub fn human(
    source: &Source,
    sensitive: &[Span],
    diagnostics: &[&Diagnostic],
    style: Style,
) -> String {
    // Nothing to show: no masked copy of the whole text (a valid 10,000-variable
    // file is 1 MB, and masking it was 3% of `dsops check`).
    if diagnostics.is_empty() {
        return String::new();
    }
    let text = masked_text(source, sensitive);
    let path = source.path().display().to_string();
    let renderer = match style {
        Style::Plain => Renderer::plain(),
        Style::Colored => Renderer::styled(),
    }
    .decor_style(DecorStyle::Ascii);
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(MAX_SHOWN) {
        let level = match diagnostic.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        // Messages quote file text: made inert as the snippets are.
        let message = neutralize(&diagnostic.message);
        let label = diagnostic.label.as_deref().map(neutralize);
        let hint = diagnostic.hint.as_deref().map(neutralize);
        let notes: Vec<_> = diagnostic
            .notes
            .iter()
            .map(|n| neutralize(&n.message))
            .collect();
        let title = level
            .primary_title(message.as_ref())
            .id(diagnostic.code.as_str());
        let mut group = match diagnostic.span {
            Some(span) => {
                let primary_span = widen(&text, span);
                let mut primary = Excerpt::around(source, &text, primary_span);
                // Notes near the primary span share its snippet; a far one
                // gets its own, so no snippet spans the whole file.
                let mut separate = Vec::new();
                for (note, note_message) in diagnostic.notes.iter().zip(&notes) {
                    let note_span = widen(&text, note.span);
                    if !primary.absorb(source, note_span, note_message.as_ref()) {
                        let mut excerpt = Excerpt::around(source, &text, note_span);
                        excerpt.context.push((note_span, note_message.as_ref()));
                        separate.push(excerpt);
                    }
                }
                let mut snippet = primary.snippet(&path);
                let mut annotation = AnnotationKind::Primary.span(primary.local(primary_span));
                if let Some(label) = &label {
                    annotation = annotation.label(label.as_ref());
                }
                snippet = snippet.annotation(annotation);
                let mut group = title.element(primary.with_context(snippet));
                for excerpt in &separate {
                    group = group.element(excerpt.with_context(excerpt.snippet(&path)));
                }
                group
            }
            None => Group::with_title(title),
        };
        if diagnostic.span.is_none() {
            group = group.element(Level::NOTE.message(format!("in {path}")));
        }
        if let Some(hint) = &hint {
            group = group.element(Level::HELP.message(hint.as_ref()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    if let Some(rest) = diagnostics.len().checked_sub(MAX_SHOWN).filter(|n| *n > 0) {
        let errors = diagnostics
            .iter()
            .skip(MAX_SHOWN)
            .filter(|d| d.is_error())
            .count();
        out.push_str(&format!(
            "... and {rest} more {} ({errors} {}) not shown; `--format json` lists every one\n\n",
            if rest == 1 {
                "diagnostic"
            } else {
                "diagnostics"
            },
            if errors == 1 { "error" } else { "errors" },
        ));
    }
    out
}

/// Lines a snippet may cover before a note gets a snippet of its own.
const MAX_EXCERPT_LINES: usize = 40;

/// Whole lines of the masked text around some spans.
struct Excerpt<'t, 'm> {
    /// Byte range of the lines in the text.
    start: usize,
    end: usize,
    /// 0-based index of the first line.
    first_line: usize,
    last_line: usize,
    text: &'t str,
    context: Vec<(Span, &'m str)>,
}

impl<'t, 'm> Excerpt<'t, 'm> {
    fn around(source: &Source, text: &'t str, span: Span) -> Self {
        let first_line = source.line_index(span.start);
        let last_line = source.line_index(span.end.max(span.start));
        let mut excerpt = Excerpt {
            start: 0,
            end: 0,
            first_line,
            last_line,
            text,
            context: Vec::new(),
        };
        excerpt.set_range(source);
        excerpt
    }

    fn set_range(&mut self, source: &Source) {
        self.start = source.line_span(self.first_line).start;
        // Up to and including the last line's break, when it has one.
        let end = source.line_span(self.last_line).end;
        let rest = self.text.get(end..).unwrap_or("");
        let newline = if rest.starts_with("\r\n") {
            2
        } else {
            usize::from(rest.starts_with('\n'))
        };
        self.end = (end + newline).min(self.text.len());
    }

    /// Takes `span` into this excerpt when that keeps it short.
    fn absorb(&mut self, source: &Source, span: Span, message: &'m str) -> bool {
        let first = self.first_line.min(source.line_index(span.start));
        let last = self
            .last_line
            .max(source.line_index(span.end.max(span.start)));
        if last - first > MAX_EXCERPT_LINES {
            return false;
        }
        self.first_line = first;
        self.last_line = last;
        self.set_range(source);
        self.context.push((span, message));
        true
    }

    /// `span` relative to this excerpt (clamped into it).
    fn local(&self, span: Span) -> std::ops::Range<usize> {
        let len = self.end - self.start;
        let start = span.start.saturating_sub(self.start).min(len);
        let end = span.end.saturating_sub(self.start).clamp(start, len);
        start..end
    }

    fn snippet<'a>(&self, path: &'a str) -> Snippet<'a, annotate_snippets::Annotation<'a>>
    where
        't: 'a,
    {
        Snippet::source(self.text.get(self.start..self.end).unwrap_or(""))
            .path(path)
            .line_start(self.first_line + 1)
            .fold(true)
    }

    fn with_context<'a>(
        &self,
        mut snippet: Snippet<'a, annotate_snippets::Annotation<'a>>,
    ) -> Snippet<'a, annotate_snippets::Annotation<'a>>
    where
        'm: 'a,
    {
        for (span, message) in &self.context {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(self.local(*span))
                    .label(*message),
            );
        }
        snippet
    }
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

/// Text from a file or a server for one line of a message (a name, a claim,
/// a path): every control character, line breaks and tabs included, written
/// as `\u{..}`, so that it can neither start a new line nor an escape
/// sequence. A whole message is then made inert by [`neutralize`].
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Text from a file or a server made safe for a terminal or a CI log:
/// control characters (ANSI and OSC escape sequences start with one) are
/// written as `\u{1b}`, except line breaks and tabs; a line that would
/// start with `::` (a GitHub Actions workflow command, `::stop-commands::`
/// or `::add-mask::` among them) starts with `: :` instead; and `##vso[`
/// (an Azure Pipelines logging command, recognised anywhere in a line) is
/// written `## vso[`. The runner then reads it as text.
///
/// Callers pass dsops's own text with it: none of dsops's messages starts a
/// line with `::` or holds `##vso[`; dsops's workflow commands are written
/// another way.
pub fn neutralize(text: &str) -> std::borrow::Cow<'_, str> {
    let clean = !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
        && !text.contains("::")
        && !text.contains("##vso[");
    if clean {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut line_out = String::with_capacity(line.len());
        for c in line.chars() {
            if c.is_control() && c != '\t' {
                line_out.push_str(&c.escape_unicode().to_string());
            } else {
                line_out.push(c);
            }
        }
        let line_out = line_out.replace("##vso[", "## vso[");
        let indent = line_out.len() - line_out.trim_start().len();
        if line_out
            .get(indent..)
            .is_some_and(|rest| rest.starts_with("::"))
        {
            out.push_str(line_out.get(..indent).unwrap_or(""));
            out.push_str(": :");
            out.push_str(line_out.get(indent + 2..).unwrap_or(""));
        } else {
            out.push_str(&line_out);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod neutralize_tests {
    use super::{neutralize, one_line};

    #[test]
    fn one_line_escapes_every_control_character() {
        assert!(matches!(
            one_line("repo:o/r"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(one_line("a\nb\tc\u{1b}[31m"), "a\\u{a}b\\u{9}c\\u{1b}[31m");
    }

    #[test]
    fn workflow_commands_and_escapes_become_text() {
        assert_eq!(neutralize("plain: text\n"), "plain: text\n");
        assert_eq!(
            neutralize("error: bad\n::stop-commands::TOKEN\n  ::add-mask::x"),
            "error: bad\n: :stop-commands::TOKEN\n  : :add-mask::x"
        );
        assert_eq!(
            neutralize("x ##vso[task.setvariable variable=A]1"),
            "x ## vso[task.setvariable variable=A]1"
        );
        assert_eq!(
            neutralize("red \u{1b}[31m osc \u{1b}]8;;http://e\u{7}x\r"),
            "red \\u{1b}[31m osc \\u{1b}]8;;http://e\\u{7}x\\u{d}"
        );
        assert_eq!(neutralize("c1 \u{9b}2J"), "c1 \\u{9b}2J");
    }
}
