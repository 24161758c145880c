//! The configuration text, byte spans into it, and line/column lookup.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// A byte range into the configuration text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (swapped if given backwards).
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start: start.min(end),
            end: start.max(end),
        }
    }

    /// An empty span at `offset`.
    pub fn point(offset: usize) -> Self {
        Self::new(offset, offset)
    }

    /// The byte range, for slicing.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether `other` lies within this span.
    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// A 1-based line and column (columns count characters, as editors and rustc do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// A configuration file: its name as the user gave it and its text.
///
/// `Debug` shows the path and size only: the text may hold secret literals.
#[derive(Clone)]
pub struct Source {
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .field("len", &self.text.len())
            .finish_non_exhaustive()
    }
}

impl Source {
    /// Wraps `text`, read from `path` (used only for display).
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The path the text was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text under `span` (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// 0-based index of the line holding byte `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The line and column of byte `offset`.
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |prefix| prefix.chars().count());
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    /// Byte range of the 0-based line `index`, without its line break.
    pub fn line_span(&self, index: usize) -> Span {
        let start = self
            .line_starts
            .get(index)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next.saturating_sub(1));
        let line = self.text.get(start..end).unwrap_or("");
        Span::new(start, start + line.trim_end_matches('\r').len())
    }

    /// Byte offset of a 1-based line and character column (clamped to the text).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let span = self.line_span(line.saturating_sub(1));
        let text = self.slice(span);
        let within = text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(text.len(), |(i, _)| i);
        span.start + within
    }
}

impl Span {
    /// The span clamped to `0..len`.
    pub(crate) fn clamp_to(self, len: usize) -> Span {
        Span::new(self.start.min(len), self.end.min(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let src = Source::new("x.yaml", "a: 1\nbé: 2\r\nc: 3");
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        assert_eq!(src.position(5), Position { line: 2, column: 1 });
        // "bé: " is 5 bytes but 4 characters.
        assert_eq!(src.position(10), Position { line: 2, column: 5 });
        assert_eq!(src.slice(src.line_span(1)), "bé: 2");
        assert_eq!(
            src.position(src.text().len()),
            Position { line: 3, column: 5 }
        );
        assert_eq!(src.offset_of(2, 5), 10);
    }
}
