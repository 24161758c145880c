//! Masks secret values in a stream of output, as CI logs mask them.
//!
//! A [`Redactor`] is built from secret values; it replaces every occurrence
//! of each value with [`MASK`], and so its re-encodings, when these differ
//! from the value: JSON-escaped (as `serde_json` writes it inside a string,
//! without the quotes, and with every character beyond ASCII as `\uXXXX`
//! in lower or upper case, as Python's `json.dumps` writes it),
//! percent-encoded (every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`, upper or
//! lower case) and form-encoded (the same with a space as `+`). Each line of
//! a multi-line value (without its `\r\n` or `\n`), each leaf string or
//! number of a value that is a JSON object or array, and the signature
//! (`sig=`) of a SAS token or connection string (as written and
//! percent-decoded) are patterns of their own too, with their forms, since
//! programs print one line of a key, one field of a JSON secret, or a
//! signed URL.
//!
//! When patterns overlap, the match that starts first wins, and of those the
//! longest (leftmost-longest): a secret that contains another is masked
//! whole.
//!
//! Values shorter than [`MIN_SECRET_LEN`] bytes are not masked on their
//! own: masking every `1` or `on` would destroy the output and reveal
//! little. [`Redactor::skipped`] lists them so that callers can warn.
//!
//! A [`RedactingWriter`] masks a stream written in arbitrary chunks: a
//! secret split between two writes is masked all the same. It holds back at
//! most the longest pattern's length minus one byte, writes the held bytes
//! out as soon as no secret can start among them (at the end of a line, on
//! [`flush`](Write::flush)), and everything on [`RedactingWriter::finish`].
//! Its output equals [`Redactor::redact`] of everything written, however the
//! input was split.
//!
//! Neither type shows a pattern in `Debug`, in an error or in a panic.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, Match, MatchKind};
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// What a secret is replaced with.
pub const MASK: &[u8] = b"***";

/// Values (and lines of multi-line values) shorter than this many bytes are
/// not masked on their own.
pub const MIN_SECRET_LEN: usize = 4;

/// Above this many pattern bytes the automaton is left to aho-corasick's
/// choice instead of a DFA: a DFA's memory grows with the patterns'
/// total length (about 4 bytes × byte classes per pattern byte).
const DFA_MAX_PATTERN_BYTES: usize = 256 * 1024;

/// The automaton could not be built (too many or too long patterns).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the automaton that masks secrets: {0}")]
pub struct RedactError(aho_corasick::BuildError);

/// Replaces secret values (and their escaped forms) with [`MASK`].
///
/// Cheap to clone: the automaton is shared.
#[derive(Clone)]
pub struct Redactor {
    inner: Arc<Inner>,
}

struct Inner {
    searcher: AhoCorasick,
    /// Every pattern, sorted and without duplicates: the ones a suffix of
    /// held bytes is a prefix of are a range of it.
    patterns: Vec<SecretSlice<u8>>,
    max_len: usize,
    skipped: Vec<usize>,
    /// When every pattern is long: a faster way to skip text without any.
    filter: Option<GramFilter>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.inner.patterns.len())
            .field("max_len", &self.inner.max_len)
            .field("skipped", &self.inner.skipped)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A redactor for `secrets`. Values shorter than [`MIN_SECRET_LEN`]
    /// bytes are left out (see [`skipped`](Self::skipped)).
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a SecretString>,
    ) -> Result<Self, RedactError> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut skipped = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let value = secret.expose_secret();
            if value.is_empty() {
                // Nothing to reveal, nothing to warn about.
                continue;
            }
            if value.len() < MIN_SECRET_LEN {
                skipped.push(index);
                continue;
            }
            add_forms(&mut patterns, value);
            let mut parts = parts_of(value);
            parts.push(value.to_owned());
            for part in &parts {
                if part.len() >= MIN_SECRET_LEN && part != value {
                    add_forms(&mut patterns, part);
                }
                if part.contains('\n') {
                    for line in part.lines().filter(|l| l.len() >= MIN_SECRET_LEN) {
                        add_forms(&mut patterns, line);
                    }
                }
            }
            parts.iter_mut().for_each(|p| p.zeroize());
        }
        patterns.sort_unstable();
        patterns.dedup();
        let max_len = patterns.iter().map(Vec::len).max().unwrap_or(0);
        let total: usize = patterns.iter().map(Vec::len).sum();
        let kind = (total <= DFA_MAX_PATTERN_BYTES).then_some(AhoCorasickKind::DFA);
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(kind)
            .build(&patterns)
            .map_err(RedactError)?;
        let filter = GramFilter::new(&patterns);
        let patterns = patterns.into_iter().map(SecretSlice::from).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                searcher,
                patterns,
                max_len,
                skipped,
                filter,
            }),
        })
    }

    /// The positions, in the list given to [`new`](Self::new), of the
    /// non-empty values that are too short to be masked.
    pub fn skipped(&self) -> &[usize] {
        &self.inner.skipped
    }

    /// Whether nothing is masked at all.
    pub fn is_empty(&self) -> bool {
        self.inner.patterns.is_empty()
    }

    /// The longest pattern, in bytes: a [`RedactingWriter`] holds back at
    /// most one byte less.
    pub fn max_pattern_len(&self) -> usize {
        self.inner.max_len
    }

    /// `input` with every secret masked, in one go.
    pub fn redact(&self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        self.inner
            .searcher
            .replace_all_with_bytes(input, &mut out, |_, _, out| {
                out.extend_from_slice(MASK);
                true
            });
        out
    }

    /// A writer that masks what is written to it and writes that to `inner`.
    pub fn writer<W: Write>(&self, inner: W) -> RedactingWriter<W> {
        RedactingWriter::new(self.clone(), inner)
    }
}

/// Adds `value`, its JSON-escaped and its URL-encoded forms.
fn add_forms(patterns: &mut Vec<Vec<u8>>, value: &str) {
    patterns.push(value.as_bytes().to_vec());
    let json = json_escaped(value);
    if !value.is_ascii() {
        // Python's `json.dumps` (and `ensure_ascii` writers): `\u00e9`.
        for hex in [HEX_LOWER, HEX_UPPER] {
            patterns.push(json_ascii_escaped(&json, hex));
        }
    }
    patterns.push(json);
    for hex in [HEX_UPPER, HEX_LOWER] {
        patterns.push(url_encoded(value, hex, false));
        if value.contains(' ') {
            // `application/x-www-form-urlencoded`: a space is `+`.
            patterns.push(url_encoded(value, hex, true));
        }
    }
}

/// The parts of `value` that are secrets of their own: each leaf string or
/// number of a JSON object or array (programs log fields of a JSON secret),
/// and the signature (`sig=`) of a SAS token or connection string, with its
/// percent-decoded form (the rest of a SAS is not secret and is logged).
fn parts_of(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let trimmed = value.trim_start();
    if trimmed.starts_with(['{', '['])
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(value)
    {
        json_leaves(&json, value, &mut parts);
    }
    let mut rest = value;
    while let Some(at) = rest.find("sig=") {
        let starts_parameter = at == 0
            || rest
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| matches!(b, b'?' | b'&' | b';'));
        let after = rest.get(at + 4..).unwrap_or("");
        let end = after
            .find(['&', ';', '"', '\'', ' '])
            .unwrap_or(after.len());
        let sig = after.get(..end).unwrap_or("");
        if starts_parameter && !sig.is_empty() {
            parts.push(sig.to_owned());
            if let Some(decoded) = percent_decoded(sig) {
                parts.push(decoded);
            }
        }
        rest = after;
    }
    parts
}

/// The leaves of `json` (parsed from `source`). A number is kept as written
/// in `source` only: serde_json re-formats an exotic one.
fn json_leaves(json: &serde_json::Value, source: &str, out: &mut Vec<String>) {
    match json {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Number(n) => {
            let text = n.to_string();
            if source.contains(&text) {
                out.push(text);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_leaves(i, source, out)),
        serde_json::Value::Object(fields) => {
            fields.values().for_each(|i| json_leaves(i, source, out));
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) => {}
    }
}

/// `%XX` sequences decoded (`+` is left alone: base64 uses it); `None` when
/// there is none or the result is not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// `value` as `serde_json` writes it inside a string, without the quotes.
fn json_escaped(value: &str) -> Vec<u8> {
    let mut quoted = serde_json::to_vec(value).unwrap_or_default();
    // Always `"…"`; strip the quotes.
    quoted.pop();
    if !quoted.is_empty() {
        quoted.remove(0);
    }
    quoted
}

/// A JSON-escaped string (from [`json_escaped`]) with every character
/// beyond ASCII written as `\uXXXX` (UTF-16, so a surrogate pair for one
/// beyond the BMP), as Python's `json.dumps` and other ASCII-only writers
/// do, in the given hex case.
fn json_ascii_escaped(json: &[u8], hex: &[u8; 16]) -> Vec<u8> {
    let text = String::from_utf8_lossy(json);
    let mut out = Vec::with_capacity(json.len() * 2);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c as u8);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.extend(hex.get(usize::from((*unit >> shift) & 0xf)));
            }
        }
    }
    out
}

/// `value` with every byte but the unreserved ones (RFC 3986:
/// `A-Z a-z 0-9 - . _ ~`) percent-encoded in the given hex case; with
/// `plus`, a space is `+` (form encoding).
fn url_encoded(value: &str, hex: &[u8; 16], plus: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte);
        } else if plus && byte == b' ' {
            out.push(b'+');
        } else {
            out.push(b'%');
            for nibble in [byte >> 4, byte & 0xf] {
                out.extend(hex.get(usize::from(nibble)));
            }
        }
    }
    out
}

impl Inner {
    /// Whether `bytes` is the start of a pattern (or a whole one).
    fn is_pattern_prefix(&self, bytes: &[u8]) -> bool {
        let at = self.patterns.partition_point(|p| p.expose_secret() < bytes);
        self.patterns
            .get(at)
            .is_some_and(|p| p.expose_secret().starts_with(bytes))
    }

    /// Where the first suffix of `held` that a pattern starts with begins:
    /// every byte before it is final.
    fn live_from(&self, held: &[u8]) -> usize {
        (0..held.len())
            .find(|&at| held.get(at..).is_some_and(|s| self.is_pattern_prefix(s)))
            .unwrap_or(held.len())
    }

    /// The leftmost-longest match in `data` that starts at `from` or later.
    fn next_match(&self, data: &[u8], from: usize) -> Option<Match> {
        let Some(filter) = &self.filter else {
            return self.searcher.find(Input::new(data).range(from..));
        };
        // A pattern that starts at `i` has a gram of its first
        // `min_len` bytes at the first checked point at or after `i`.
        let mut point = from;
        while let Some(gram) = gram_at(data, point) {
            if filter.contains(gram) {
                let start = point.saturating_sub(filter.reach).max(from);
                let end = data.len().min(point.saturating_add(self.max_len));
                let found = self.searcher.find(Input::new(data).range(start..end));
                // One that starts later may be cut short by `end`, or a
                // longer one start before it: only the next points tell.
                if let Some(found) = found.filter(|m| m.start() <= point) {
                    return Some(found);
                }
            }
            point += filter.step;
        }
        None
    }

    /// Writes `data` masked to `out`, except from `safe_end` on, where a
    /// pattern may begin that continues beyond `data`: matches that start
    /// before `safe_end` are final, and so are the other bytes before it.
    /// Returns where the unwritten part begins (at or after `safe_end`).
    fn emit(&self, data: &[u8], safe_end: usize, out: &mut impl Write) -> io::Result<usize> {
        let mut at = 0;
        if safe_end == 0 {
            return Ok(0);
        }
        while let Some(found) = self.next_match(data, at) {
            if found.start() >= safe_end {
                break;
            }
            out.write_all(data.get(at..found.start()).unwrap_or_default())?;
            out.write_all(MASK)?;
            at = found.end();
        }
        if at < safe_end {
            out.write_all(data.get(at..safe_end).unwrap_or_default())?;
            at = safe_end;
        }
        Ok(at)
    }
}

/// Bytes per gram of [`GramFilter`].
const GRAM: usize = 4;
/// log2 of the bits of [`GramFilter`]: 128 KiB.
const GRAM_BITS_LOG2: u32 = 20;
/// The shortest pattern for which [`GramFilter`] is used: the step between
/// checked points is this minus [`GRAM`] plus one.
const GRAM_MIN_LEN: usize = 12;

/// A prefilter for long patterns (a sampling q-gram filter): every pattern
/// is at least `min_len` long, so each occurrence covers a checked point
/// (one in `step = min_len - GRAM + 1` bytes) with a gram of its first
/// `min_len` bytes there. Those grams are bits of a hashed set; only around
/// a point whose gram is in it is the automaton run.
struct GramFilter {
    bits: Vec<u64>,
    step: usize,
    /// How far before a point a pattern with a gram there can start.
    reach: usize,
}

impl GramFilter {
    fn new(patterns: &[Vec<u8>]) -> Option<Self> {
        let min_len = patterns.iter().map(Vec::len).min()?;
        if min_len < GRAM_MIN_LEN {
            return None;
        }
        let mut filter = Self {
            bits: vec![0; (1 << GRAM_BITS_LOG2) / 64],
            step: min_len - GRAM + 1,
            reach: min_len - GRAM,
        };
        for pattern in patterns {
            let head = pattern.get(..min_len).unwrap_or_default();
            for at in 0..=filter.reach {
                if let Some(gram) = gram_at(head, at) {
                    let bit = gram_hash(gram);
                    if let Some(word) = filter.bits.get_mut(bit / 64) {
                        *word |= 1 << (bit % 64);
                    }
                }
            }
        }
        Some(filter)
    }

    #[inline]
    fn contains(&self, gram: u32) -> bool {
        let bit = gram_hash(gram);
        self.bits
            .get(bit / 64)
            .is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }
}

#[inline]
fn gram_at(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(GRAM)?)?;
    <[u8; GRAM]>::try_from(bytes).ok().map(u32::from_le_bytes)
}

#[inline]
fn gram_hash(gram: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> (32 - GRAM_BITS_LOG2)) as usize
}

/// A [`Write`] that masks secrets on their way to another.
///
/// Wrap `inner` in a [`BufWriter`](io::BufWriter) when it is unbuffered and
/// writes are small: each secret splits the output into separate writes.
///
/// [`flush`](Write::flush) writes every held byte that cannot be the start
/// of a secret, then flushes `inner`; a secret split by a flush is still
/// masked. [`finish`](Self::finish) ends the stream: everything held is
/// written. Dropping the writer finishes it, ignoring errors. After an error
/// of `inner` the output may be incomplete.
pub struct RedactingWriter<W: Write> {
    redactor: Redactor,
    inner: W,
    /// Bytes written to us but not yet out: at most `max_len - 1`.
    held: Vec<u8>,
    /// `held` and the start of the next chunk.
    scratch: Vec<u8>,
}

impl<W: Write> fmt::Debug for RedactingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactingWriter")
            .field("redactor", &self.redactor)
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> RedactingWriter<W> {
    /// Masks what is written with `redactor`'s secrets, into `inner`.
    pub fn new(redactor: Redactor, inner: W) -> Self {
        let max_len = redactor.inner.max_len;
        Self {
            redactor,
            inner,
            held: Vec::with_capacity(max_len),
            scratch: Vec::with_capacity(2 * max_len),
        }
    }

    /// The writer the output goes to.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The writer the output goes to. Writing to it directly puts those
    /// bytes before the ones held back.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// How many bytes are held back.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Ends the stream: writes every held byte (masked) and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let written = self.redactor.inner.emit(&held, held.len(), &mut self.inner);
        self.held = held;
        self.held.clear();
        written?;
        self.inner.flush()
    }

    /// Writes what is held up to the first byte where a secret may start.
    fn release(&mut self) -> io::Result<()> {
        let inner = &*self.redactor.inner;
        let safe_end = inner.live_from(&self.held);
        let at = inner.emit(&self.held, safe_end, &mut self.inner)?;
        self.held.drain(..at);
        Ok(())
    }

    /// Masks and writes out what is final of `data` (a whole chunk, after
    /// nothing held), holding the rest back.
    fn process(&mut self, data: &[u8]) -> io::Result<()> {
        let inner = &*self.redactor.inner;
        let safe_end = data.len().saturating_sub(inner.max_len.saturating_sub(1));
        let at = inner.emit(data, safe_end, &mut self.inner)?;
        self.held
            .extend_from_slice(data.get(at..).unwrap_or_default());
        Ok(())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let max_len = self.redactor.inner.max_len;
        if max_len == 0 {
            return self.inner.write(buf);
        }
        if self.held.is_empty() {
            self.process(buf)?;
        } else {
            // The held bytes and as much of `buf` as a pattern that starts
            // among them can reach, in one buffer; then the rest of `buf` in
            // place, without a copy.
            let head_len = buf.len().min(max_len);
            let head = buf.get(..head_len).unwrap_or_default();
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            scratch.append(&mut self.held);
            let held_len = scratch.len();
            scratch.extend_from_slice(head);
            let result = if head_len == buf.len() {
                self.process(&scratch)
            } else {
                // `buf` goes on after `head`, which is `max_len` long: the
                // final part of `scratch` begins after the held bytes, and
                // the rest of `buf` is masked in place.
                let inner = &*self.redactor.inner;
                let safe_end = scratch.len() - (max_len - 1);
                inner
                    .emit(&scratch, safe_end, &mut self.inner)
                    .and_then(|at| {
                        let from = at.saturating_sub(held_len);
                        self.process(buf.get(from..).unwrap_or_default())
                    })
            };
            self.scratch = scratch;
            result?;
        }
        if memchr_newline(&self.held) {
            self.release()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.release()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        if !self.held.is_empty() {
            let _ = self.finish();
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> bool {
    bytes.contains(&b'\n')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secrets(values: &[&str]) -> Vec<SecretString> {
        values.iter().map(|v| SecretString::from(*v)).collect()
    }

    fn redactor(values: &[&str]) -> Redactor {
        Redactor::new(&secrets(values)).unwrap()
    }

    /// Leftmost-longest by hand: at each byte, the longest pattern there.
    fn naive(redactor: &Redactor, input: &[u8]) -> Vec<u8> {
        let patterns: Vec<&[u8]> = redactor
            .inner
            .patterns
            .iter()
            .map(|p| p.expose_secret())
            .collect();
        let mut out = Vec::new();
        let mut at = 0;
        while at < input.len() {
            let longest = patterns
                .iter()
                .filter(|p| input[at..].starts_with(p))
                .map(|p| p.len())
                .max();
            match longest {
                Some(len) => {
                    out.extend_from_slice(MASK);
                    at += len;
                }
                None => {
                    out.push(input[at]);
                    at += 1;
                }
            }
        }
        out
    }

    /// Writes `chunks` one by one, flushing after those marked, and finishes.
    fn stream(redactor: &Redactor, chunks: &[(&[u8], bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = redactor.writer(&mut out);
        let limit = redactor.max_pattern_len().saturating_sub(1);
        for (chunk, flush) in chunks {
            writer.write_all(chunk).unwrap();
            if *flush {
                writer.flush().unwrap();
            }
            assert!(writer.held() <= limit, "held {} > {limit}", writer.held());
        }
        writer.finish().unwrap();
        drop(writer);
        out
    }

    fn whole(redactor: &Redactor, input: &str) -> String {
        String::from_utf8(redactor.redact(input.as_bytes())).unwrap()
    }

    #[test]
    fn plain_json_and_url_forms_are_masked() {
        let r = redactor(&["p@ss \"w/rd\\"]);
        assert_eq!(whole(&r, "a p@ss \"w/rd\\ b"), "a *** b");
        assert_eq!(
            whole(&r, r#"{"password":"p@ss \"w/rd\\"}"#),
            r#"{"password":"***"}"#
        );
        assert_eq!(
            whole(&r, "https://x/?p=p%40ss%20%22w%2Frd%5C&q=1"),
            "https://x/?p=***&q=1"
        );
        // Non-ASCII: serde_json keeps it, URL encoding is per byte.
        let r = redactor(&["h\u{e9}llo\u{1f600}"]);
        assert_eq!(whole(&r, "[h\u{e9}llo\u{1f600}]"), "[***]");
        assert_eq!(whole(&r, "h%C3%A9llo%F0%9F%98%80"), "***");
        // A control character, JSON-escaped.
        let r = redactor(&["tab\there"]);
        assert_eq!(whole(&r, r#""tab\there""#), "\"***\"");
    }

    #[test]
    fn short_values_are_skipped_and_reported() {
        let r = redactor(&["abc", "", "long-enough", "x", "abcd"]);
        assert_eq!(r.skipped(), &[0, 3]);
        assert_eq!(whole(&r, "abc x long-enough abcd"), "abc x *** ***");
        let r = redactor(&["ab", ""]);
        assert!(r.is_empty());
        assert_eq!(stream(&r, &[(b"ab\nab", false)]), b"ab\nab");
    }

    #[test]
    fn lines_of_multi_line_values_are_masked() {
        let pem = "-----BEGIN KEY-----\r\nMIIBsecretline\nab\n-----END KEY-----\n";
        let r = redactor(&[pem]);
        assert_eq!(whole(&r, &format!("key: {pem}.")), "key: ***.");
        assert_eq!(whole(&r, "line MIIBsecretline\n"), "line ***\n");
        // A short line is not a pattern of its own.
        assert_eq!(whole(&r, "ab\n"), "ab\n");
        // The JSON form keeps the line breaks escaped.
        let json = serde_json::to_string(pem).unwrap();
        assert_eq!(whole(&r, &json), "\"***\"");
    }

    #[test]
    fn the_longer_of_overlapping_secrets_wins() {
        let r = redactor(&["abcd", "abcdef", "cdefgh"]);
        assert_eq!(whole(&r, "xabcdefgh"), "x***gh");
        assert_eq!(whole(&r, "xabcdxcdefgh"), "x***x***");
    }

    #[test]
    fn a_secret_split_between_writes_is_masked() {
        let r = redactor(&["supersecret"]);
        let out = stream(
            &r,
            &[(b"a super", false), (b"sec", true), (b"ret b\n", false)],
        );
        assert_eq!(out, b"a *** b\n");
        for split in 0..=20 {
            let input = b"xx supersecret yy";
            let (a, b) = input.split_at(split.min(input.len()));
            assert_eq!(stream(&r, &[(a, true), (b, false)]), b"xx *** yy");
        }
    }

    #[test]
    fn lines_are_written_at_once() {
        let r = redactor(&["supersecret", "two\nlines"]);
        let mut out = Vec::new();
        let mut writer = r.writer(&mut out);
        writer.write_all(b"hello supersecret world\n").unwrap();
        assert_eq!(writer.held(), 0);
        writer.write_all(b"no newline yet").unwrap();
        assert!(writer.held() > 0);
        writer.write_all(b" done\n").unwrap();
        assert_eq!(writer.held(), 0);
        // A line that may go on as a multi-line secret is held.
        writer.write_all(b"x two\n").unwrap();
        assert_eq!(writer.held(), 4);
        writer.write_all(b"lines\n").unwrap();
        assert_eq!(writer.held(), 0);
        drop(writer);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "hello *** world\nno newline yet done\nx ***\n"
        );
    }

    #[test]
    fn flush_writes_what_cannot_be_a_secret() {
        let r = redactor(&["supersecret"]);
        let mut out = Vec::new();
        let mut writer = r.writer(&mut out);
        writer.write_all(b"password: supers").unwrap();
        writer.flush().unwrap();
        assert_eq!(writer.get_ref().as_slice(), b"password: ");
        writer.write_all(b"ecret?").unwrap();
        writer.flush().unwrap();
        assert_eq!(writer.get_ref().as_slice(), b"password: ***?");
        assert_eq!(writer.held(), 0);
        // Dropped without `finish`: what is held still goes out.
        writer.write_all(b" super").unwrap();
        drop(writer);
        assert_eq!(out, b"password: ***? super");
    }

    #[test]
    fn debug_shows_no_value() {
        let r = redactor(&["supersecret", "abc"]);
        let mut writer = r.writer(Vec::new());
        writer.write_all(b"x supersec").unwrap();
        let shown = format!("{r:?} {writer:?}");
        assert!(!shown.contains("super"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
        writer.finish().unwrap();
    }

    #[test]
    fn re_encodings_json_leaves_and_sas_signatures_are_masked() {
        let r = redactor(&[
            "pässwörd 1",
            "{\"user\": \"admin\", \"password\": \"hunter2-json-leaf\", \"port\": 54321}",
            "sv=2022-11-02&ss=b&sig=AbC%2Bdef%2FghI%3D&se=2030-01-01",
        ]);
        let cases: &[(&str, &str)] = &[
            // Python's json.dumps.
            ("{\"p\": \"p\\u00e4ssw\\u00f6rd 1\"}", "{\"p\": \"***\"}"),
            ("p\\u00E4ssw\\u00F6rd 1", "***"),
            // Form encoding and lower-case percent-encoding.
            ("q=p%C3%A4ssw%C3%B6rd+1&x", "q=***&x"),
            ("q=p%c3%a4ssw%c3%b6rd%201&x", "q=***&x"),
            // A leaf of a JSON secret, alone.
            ("login with hunter2-json-leaf now", "login with *** now"),
            ("port 54321", "port ***"),
            // The signature of a SAS, encoded and decoded; the rest is not secret.
            (
                "GET /c?sv=2022-11-02&sig=AbC%2Bdef%2FghI%3D",
                "GET /c?sv=2022-11-02&sig=***",
            ),
            ("signature AbC+def/ghI=", "signature ***"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                String::from_utf8(r.redact(input.as_bytes())).unwrap(),
                *expected,
                "{input}"
            );
        }
    }

    /// Secrets from a small alphabet, so that they share prefixes, overlap
    /// and occur by chance; with newlines, quotes, `%` and non-ASCII.
    const ALPHABET: &[&str] = &["a", "b", "c", "\n", "\"", "\\", "%", " ", "é", "€"];

    fn text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(ALPHABET), 0..max).prop_map(|v| v.concat())
    }

    /// Secrets, sharing a prefix or not; with `long`, each at least
    /// `GRAM_MIN_LEN` characters, so that the gram filter is used when no
    /// line of one is shorter.
    fn secret_list(long: bool) -> impl Strategy<Value = Vec<String>> {
        let min = if long { GRAM_MIN_LEN } else { 0 };
        let secret = (
            any::<bool>(),
            text(10),
            prop::collection::vec(prop::sample::select(ALPHABET), min..=min),
        );
        (text(8), prop::collection::vec(secret, 1..6)).prop_map(|(prefix, secrets)| {
            secrets
                .into_iter()
                .map(|(shared, tail, pad)| {
                    let pad = pad.concat();
                    if shared {
                        format!("{prefix}{pad}{tail}")
                    } else {
                        format!("{pad}{tail}")
                    }
                })
                .collect()
        })
    }

    /// Every form of `secret` the redactor masks: as it is, JSON-escaped
    /// (as serde_json writes it, and with `\\uXXXX` beyond ASCII in either
    /// case, as Python writes it), percent-encoded in either case, and
    /// form-encoded (a space as `+`) in either case.
    fn every_form(secret: &str) -> Vec<Vec<u8>> {
        let json = json_escaped(secret);
        vec![
            secret.as_bytes().to_vec(),
            json_ascii_escaped(&json, HEX_LOWER),
            json_ascii_escaped(&json, HEX_UPPER),
            json,
            url_encoded(secret, HEX_UPPER, false),
            url_encoded(secret, HEX_LOWER, false),
            url_encoded(secret, HEX_UPPER, true),
            url_encoded(secret, HEX_LOWER, true),
        ]
    }

    /// The input: random text with secrets (in any of [`every_form`]) at
    /// random places.
    fn input(secrets: Vec<String>) -> impl Strategy<Value = (Vec<String>, Vec<u8>)> {
        let count = secrets.len();
        prop::collection::vec((text(12), 0..count, 0..8u8), 0..12).prop_map(move |pieces| {
            let mut input = String::new();
            for (filler, which, form) in pieces {
                input.push_str(&filler);
                let secret = &secrets[which];
                let forms = every_form(secret);
                let form = &forms[usize::from(form) % forms.len()];
                input.push_str(&String::from_utf8(form.clone()).unwrap());
            }
            (secrets.clone(), input.into_bytes())
        })
    }

    fn case(long: bool) -> impl Strategy<Value = (Vec<String>, Vec<u8>, Vec<(usize, bool)>)> {
        secret_list(long)
            .prop_flat_map(input)
            .prop_flat_map(|(secrets, input)| {
                let len = input.len();
                let cuts = prop::collection::vec((0..=len, any::<bool>()), 0..8);
                (Just(secrets), Just(input), cuts)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            // A failure prints its case; no regression file in the tree.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn streaming_equals_masking_at_once((secrets, input, cuts) in case(false)) {
            check(&secrets, &input, cuts, false)?;
        }

        #[test]
        fn streaming_equals_masking_at_once_with_long_secrets(
            (secrets, input, cuts) in case(true)
        ) {
            check(&secrets, &input, cuts, true)?;
        }
    }

    fn check(
        secrets: &[String],
        input: &[u8],
        mut cuts: Vec<(usize, bool)>,
        long: bool,
    ) -> Result<(), TestCaseError> {
        let values: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let r = redactor(&values);
        let expected = r.redact(input);
        prop_assert_eq!(&expected, &naive(&r, input));
        // The gram filter is what the long secrets are for.
        if long && secrets.iter().all(|s| !s.contains('\n')) {
            prop_assert!(r.inner.filter.is_some());
        }

        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut at = 0;
        for (cut, flush) in cuts {
            chunks.push((&input[at..cut], flush));
            at = cut;
        }
        chunks.push((&input[at..], false));
        let out = stream(&r, &chunks);
        prop_assert_eq!(&out, &expected);

        // No secret long enough survives, in any form, nor a line of one.
        for secret in secrets {
            let mut forms = vec![secret.as_str().to_owned()];
            forms.extend(secret.lines().map(str::to_owned));
            for form in forms.iter().filter(|f| f.len() >= MIN_SECRET_LEN) {
                for bytes in every_form(form) {
                    prop_assert!(
                        !out.windows(bytes.len()).any(|w| w == bytes.as_slice()),
                        "a secret survived"
                    );
                }
            }
        }
        Ok(())
    }
}
