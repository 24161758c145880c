//! The fast path of [`super::parse`]: the same tree, built straight from
//! granit-parser's events.
//!
//! serde-saphyr reads the same events, then hands every node through serde as
//! a `Spanned<Raw>`: a buffer and a replay for each map key, a visitor per
//! value, and each value moved up the stack as it is built. Building the
//! [`Node`]s from the events directly does the same work for a fraction of
//! the time. The rules below are serde-saphyr 2.2's for an untyped value with
//! dsops's options, step for step:
//!
//! - scalars: plain `~`, `null`, `Null`, `NULL` and the empty scalar are null;
//!   then the six YAML 1.2 booleans; integers (`0x`, `0o`, `0b`, `_` between
//!   digits, no leading zeros), an unsigned one above `i64::MAX` being a
//!   number; then floats; quoted, block and `!!str`/`!`-tagged scalars are
//!   strings;
//! - aliases replay the anchored events, and every node they produce is
//!   placed at the alias (serde-saphyr's "referenced" location), while a
//!   number's or boolean's text is taken where it is defined (the anchored
//!   scalar, serde-saphyr's "defined" location), as `convert` takes it;
//! - merge keys (`<<`) are applied: their entries follow the explicit ones,
//!   skipping keys already present, and are placed at the merge value (or at
//!   the alias that gives it);
//! - duplicate keys are passed through;
//! - the limits (nesting, aliases, alias replay, events, nodes, scalar bytes,
//!   anchors, merge keys, anchor recording, documents, the alias/anchor
//!   ratio) are counted as serde-saphyr counts them (the bytes of anchor
//!   copies a little more strictly), with the same values (set in `yaml.rs`
//!   for both paths).
//!
//! Anything else (other tags, a non-finite float, an error of any kind, a
//! limit reached, merges of keys that are not plain strings) returns `None`,
//! and the caller parses the text again with serde-saphyr, which stays the
//! reference and reports the error in its own words. `yaml::equivalence`
//! checks that both give the same tree on every YAML file of the repository.

use std::borrow::Cow;
use std::collections::HashSet;
use std::rc::Rc;

use granit_parser::{Event, Parser, ScalarStyle, StrInput, Tag};

use super::{
    Entry, FLOW_NESTING_LIMIT, Key, MAX_ALIAS_REPLAY, MAX_ALIASES, MAX_ANCHORS, MAX_DEPTH,
    MAX_EVENTS, MAX_MERGE_KEYS, MAX_NODES, MAX_RECORDED_ANCHOR_BYTES, MAX_RECORDED_ANCHOR_EVENTS,
    MAX_SCALAR_BYTES, Node, NodeKind, RATIO_ALIASES_PER_ANCHOR, RATIO_MIN_ALIASES,
    SIMPLE_KEY_MAX_LOOKAHEAD, Typed,
};
use crate::source::{Source, Span};

/// The tree of `source`, or `None` when serde-saphyr must decide.
pub(super) fn parse(source: &Source) -> Option<Node> {
    let text = source.text();
    // The parser options serde-saphyr derives from the same budget
    // (`Budget::parser_options`), without its `comments` feature.
    let mut options = granit_parser::Options::default();
    options.simple_key_max_lookahead = SIMPLE_KEY_MAX_LOOKAHEAD;
    options.flow_nesting_limit = FLOW_NESTING_LIMIT;
    options.block_nesting_limit = options.block_nesting_limit.max(MAX_DEPTH + 1);
    options.emit_comments = false;
    options.strict_indentation = false;
    options.bom_inside_document_as_content = false;
    let parser = Parser::with_options(StrInput::new(text), options);
    let mut reader = Reader {
        builder: Builder {
            source,
            stack: Vec::new(),
            items: Vec::new(),
            entries: Vec::new(),
            root: None,
        },
        recording: Vec::new(),
        anchors: Vec::new(),
        counts: Counts::default(),
        documents: 0,
    };
    let mut end = None;
    for item in parser {
        let (event, span) = item.ok()?;
        let span = byte_span(&span)?;
        reader.counts.events += 1;
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => end = Some(span),
            Event::DocumentStart(..) => {
                reader.documents += 1;
                if reader.documents > 1 {
                    return None;
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag_len = match tag.as_deref() {
                    None => 0,
                    Some(tag) if forces_string(tag) => tag_display_len(tag).max(1),
                    Some(_) => return None,
                };
                reader.counts.nodes += 1;
                reader.counts.scalar_bytes += value.len() + tag_len;
                let ev = Ev {
                    kind: EvKind::Scalar {
                        value,
                        style,
                        tag_len,
                    },
                    span,
                };
                reader.parsed(ev, anchor)?;
            }
            // A tag on a collection either changes nothing or is an error: serde-saphyr decides.
            Event::SequenceStart(_, anchor, None) => {
                reader.counts.nodes += 1;
                let kind = EvKind::SeqStart;
                reader.parsed(Ev { kind, span }, anchor)?;
            }
            Event::MappingStart(_, anchor, None) => {
                reader.counts.nodes += 1;
                let kind = EvKind::MapStart;
                reader.parsed(Ev { kind, span }, anchor)?;
            }
            Event::SequenceEnd => reader.parsed(
                Ev {
                    kind: EvKind::SeqEnd,
                    span,
                },
                0,
            )?,
            Event::MappingEnd => reader.parsed(
                Ev {
                    kind: EvKind::MapEnd,
                    span,
                },
                0,
            )?,
            Event::Alias(id) => reader.alias(id, span)?,
            _ => return None,
        }
        if !reader.counts.within_limits() {
            return None;
        }
    }
    reader.finish(end)
}

/// The byte range of a parser span, as serde-saphyr's `Location` carries it
/// (a string input always has byte offsets).
fn byte_span(span: &granit_parser::Span) -> Option<Span> {
    let start = span.start.byte_offset()?;
    let end = span.end.byte_offset()?;
    Some(Span::new(start, start + end.saturating_sub(start)))
}

/// `!!str` and `!`: the tags that make a scalar a string (and that dsops
/// handles here; any other tag goes to serde-saphyr).
fn forces_string(tag: &Tag) -> bool {
    tag.core_suffix() == Some("str")
        || matches!(tag.suffix_in_namespace("!").as_deref(), Some("" | "!"))
}

fn tag_display_len(tag: &Tag) -> usize {
    let (handle, suffix) = tag.parts();
    handle.len() + suffix.len()
}

/// A node or collection end, as serde-saphyr's event layer yields it.
#[derive(Clone, Debug)]
struct Ev<'a> {
    kind: EvKind<'a>,
    /// Where the event is in the text (for a replayed event: where it was defined).
    span: Span,
}

#[derive(Clone, Debug)]
enum EvKind<'a> {
    Scalar {
        value: Cow<'a, str>,
        style: ScalarStyle,
        /// The length of a `!!str` or `!` tag's spelling; 0 when untagged.
        tag_len: usize,
    },
    SeqStart,
    SeqEnd,
    MapStart,
    MapEnd,
}

impl Ev<'_> {
    /// Bytes a copy of this event may allocate (serde-saphyr counts owned
    /// text; this counts all of it, which only makes the limit stricter).
    fn payload(&self) -> usize {
        match &self.kind {
            EvKind::Scalar { value, tag_len, .. } => value.len() + tag_len,
            _ => 0,
        }
    }
}

/// What serde-saphyr's budget and alias limits count.
#[derive(Debug, Default)]
struct Counts {
    events: usize,
    nodes: usize,
    scalar_bytes: usize,
    aliases: usize,
    anchors: usize,
    merge_keys: usize,
    replayed: usize,
    recorded_events: usize,
    recorded_bytes: usize,
}

impl Counts {
    /// Every counter only grows, so a total within its limit was within it all along.
    fn within_limits(&self) -> bool {
        self.events <= MAX_EVENTS
            && self.nodes <= MAX_NODES
            && self.scalar_bytes <= MAX_SCALAR_BYTES
            && self.aliases <= MAX_ALIASES
            && self.anchors <= MAX_ANCHORS
            && self.merge_keys <= MAX_MERGE_KEYS
            && self.replayed <= MAX_ALIAS_REPLAY
            && self.recorded_events <= MAX_RECORDED_ANCHOR_EVENTS
            && self.recorded_bytes <= MAX_RECORDED_ANCHOR_BYTES
    }
}

/// The events of an anchored collection, recorded until it ends.
#[derive(Debug)]
struct Recording<'a> {
    id: usize,
    /// Open collections, its own included.
    depth: usize,
    events: Vec<Ev<'a>>,
}

/// The event layer: records anchored nodes and replays them at their aliases.
#[derive(Debug)]
struct Reader<'a> {
    builder: Builder<'a>,
    recording: Vec<Recording<'a>>,
    /// The events of each finished anchor, by the parser's anchor id.
    anchors: Vec<Option<Rc<[Ev<'a>]>>>,
    counts: Counts,
    documents: usize,
}

impl<'a> Reader<'a> {
    /// An event from the parser.
    fn parsed(&mut self, ev: Ev<'a>, anchor: usize) -> Option<()> {
        if anchor != 0 {
            self.counts.anchors += 1;
            if self.counts.anchors > MAX_ANCHORS {
                return None;
            }
        }
        match ev.kind {
            EvKind::SeqStart | EvKind::MapStart => {
                for recording in &mut self.recording {
                    recording.depth += 1;
                }
                self.record(&ev);
                if anchor != 0 {
                    self.count_recorded(&ev);
                    self.recording.push(Recording {
                        id: anchor,
                        depth: 1,
                        events: vec![ev.clone()],
                    });
                }
            }
            EvKind::SeqEnd | EvKind::MapEnd => {
                self.record(&ev);
                for recording in &mut self.recording {
                    recording.depth = recording.depth.checked_sub(1)?;
                }
                while self.recording.last().is_some_and(|r| r.depth == 0) {
                    let done = self.recording.pop()?;
                    self.store(done.id, done.events.into());
                }
            }
            EvKind::Scalar { .. } => {
                self.record(&ev);
                if anchor != 0 {
                    self.count_recorded(&ev);
                    self.store(anchor, Rc::from([ev.clone()]));
                }
            }
        }
        self.builder.event(ev, None, &mut self.counts)
    }

    /// `*name`: the anchored events again, each placed at the alias.
    fn alias(&mut self, id: usize, at: Span) -> Option<()> {
        self.counts.aliases += 1;
        if self.counts.aliases > MAX_ALIASES {
            return None;
        }
        // An alias inside its own anchor (recursion), or to no anchor.
        if self.recording.iter().any(|r| r.id == id) {
            return None;
        }
        let events = self.anchors.get(id)?.clone()?;
        for ev in events.iter() {
            self.counts.replayed += 1;
            self.counts.events += 1;
            match &ev.kind {
                EvKind::Scalar { value, .. } => {
                    self.counts.nodes += 1;
                    self.counts.scalar_bytes += value.len();
                }
                EvKind::SeqStart | EvKind::MapStart => self.counts.nodes += 1,
                EvKind::SeqEnd | EvKind::MapEnd => {}
            }
            if !self.counts.within_limits() {
                return None;
            }
            self.record(ev);
            self.builder.event(ev.clone(), Some(at), &mut self.counts)?;
        }
        Some(())
    }

    /// A copy of `ev` in every open anchor.
    fn record(&mut self, ev: &Ev<'a>) {
        for recording in &mut self.recording {
            self.counts.recorded_events += 1;
            self.counts.recorded_bytes += ev.payload();
            recording.events.push(ev.clone());
        }
    }

    fn count_recorded(&mut self, ev: &Ev<'a>) {
        self.counts.recorded_events += 1;
        self.counts.recorded_bytes += ev.payload();
    }

    fn store(&mut self, id: usize, events: Rc<[Ev<'a>]>) {
        if self.anchors.len() <= id {
            self.anchors.resize_with(id + 1, || None);
        }
        if let Some(slot) = self.anchors.get_mut(id) {
            *slot = Some(events);
        }
    }

    /// The root once the stream has ended.
    fn finish(self, end: Option<Span>) -> Option<Node> {
        let counts = &self.counts;
        if counts.aliases >= RATIO_MIN_ALIASES
            && (counts.anchors == 0
                || counts.aliases > RATIO_ALIASES_PER_ANCHOR.saturating_mul(counts.anchors))
        {
            return None;
        }
        if !self.builder.stack.is_empty() {
            return None;
        }
        match self.builder.root {
            Some(root) => Some(root),
            // No document at all (comments only): serde-saphyr reads a null at the end of the stream.
            None => Some(Node {
                kind: NodeKind::Null,
                span: self.builder.finish_span(end?, false),
            }),
        }
    }
}

/// Where a node is in its parent, which decides how it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Root,
    Item,
    Key,
    Value,
    /// The value of a `<<` key.
    MergeValue,
    /// An item of a list that is (or is in) the value of a `<<` key.
    MergeItem,
}

#[derive(Debug)]
struct Frame {
    /// Where the collection is placed (before the final clamp).
    span: Span,
    /// Where the direct children of a merged mapping are placed: serde-saphyr
    /// replays a merge value's entries at the merge value.
    merge_at: Option<Span>,
    kind: FrameKind,
}

#[derive(Debug)]
enum FrameKind {
    Seq {
        /// Where its items start in [`Builder::items`].
        start: usize,
        /// The items of a merge value, and whether all their keys are plain strings.
        merge: bool,
        simple_keys: bool,
    },
    Map(MapFrame),
}

#[derive(Debug)]
struct MapFrame {
    /// Where its entries start in [`Builder::entries`].
    start: usize,
    key: Option<Pending>,
    /// Entries of `<<` values, in order, to add at the end.
    merged: Vec<Entry>,
    /// Whether every key (and every merged key) is a string that serde-saphyr
    /// compares by its text (see [`simple_key`]).
    simple_keys: bool,
}

#[derive(Debug)]
enum Pending {
    Key(Key),
    Merge,
}

/// The tree builder: serde-saphyr's `deserialize_any` into `Spanned<Raw>`, and `convert`.
#[derive(Debug)]
struct Builder<'a> {
    source: &'a Source,
    stack: Vec<Frame>,
    /// The items of the open lists, innermost last: each list's items are
    /// moved into a vector of their exact size when it ends (growing one
    /// vector per collection took half the memory of the tree).
    items: Vec<Node>,
    /// The entries of the open mappings, the same way.
    entries: Vec<Entry>,
    root: Option<Node>,
}

impl Builder<'_> {
    fn role(&self) -> Option<Role> {
        Some(match self.stack.last() {
            None if self.root.is_some() => return None,
            None => Role::Root,
            Some(Frame {
                kind: FrameKind::Seq { merge, .. },
                ..
            }) => {
                if *merge {
                    Role::MergeItem
                } else {
                    Role::Item
                }
            }
            Some(Frame {
                kind: FrameKind::Map(map),
                ..
            }) => match map.key {
                None => Role::Key,
                Some(Pending::Key(_)) => Role::Value,
                Some(Pending::Merge) => Role::MergeValue,
            },
        })
    }

    /// The placement of direct children of the innermost collection.
    fn merge_at(&self) -> Option<Span> {
        self.stack.last().and_then(|frame| frame.merge_at)
    }

    /// One event; `alias` is where it was referenced when it is replayed.
    fn event(&mut self, ev: Ev<'_>, alias: Option<Span>, counts: &mut Counts) -> Option<()> {
        match ev.kind {
            EvKind::Scalar {
                value,
                style,
                tag_len,
            } => {
                let role = self.role()?;
                if role == Role::Key && tag_len == 0 && style == ScalarStyle::Plain && value == "<<"
                {
                    counts.merge_keys += 1;
                    if let Some(Frame {
                        kind: FrameKind::Map(map),
                        ..
                    }) = self.stack.last_mut()
                    {
                        map.key = Some(Pending::Merge);
                    }
                    return Some(());
                }
                let at = alias.or(self.merge_at()).unwrap_or(ev.span);
                let node = self.scalar(value, style, tag_len > 0, at, ev.span)?;
                self.deliver(node, true)
            }
            EvKind::SeqStart | EvKind::MapStart => {
                if self.stack.len() >= MAX_DEPTH {
                    return None;
                }
                let role = self.role()?;
                let outer = self.merge_at();
                let span = alias.or(outer).unwrap_or(ev.span);
                let is_map = matches!(ev.kind, EvKind::MapStart);
                // A merge value's entries are placed at it: at the mapping, or at each item of a list.
                let merge_at = match (alias, role) {
                    (None, Role::MergeValue) if is_map => outer.or(Some(ev.span)),
                    (None, Role::MergeItem) => outer.or(Some(ev.span)),
                    _ => outer,
                };
                let kind = if is_map {
                    FrameKind::Map(MapFrame {
                        start: self.entries.len(),
                        key: None,
                        merged: Vec::new(),
                        simple_keys: true,
                    })
                } else {
                    FrameKind::Seq {
                        start: self.items.len(),
                        merge: role == Role::MergeValue,
                        simple_keys: true,
                    }
                };
                self.stack.push(Frame {
                    span,
                    merge_at,
                    kind,
                });
                Some(())
            }
            EvKind::SeqEnd | EvKind::MapEnd => {
                let frame = self.stack.pop()?;
                let span = self.finish_span(frame.span, false);
                let (kind, simple) = match (frame.kind, ev.kind) {
                    (
                        FrameKind::Seq {
                            start, simple_keys, ..
                        },
                        EvKind::SeqEnd,
                    ) => {
                        let items = self.items.drain(start.min(self.items.len())..).collect();
                        (NodeKind::Seq(items), simple_keys)
                    }
                    (FrameKind::Map(map), EvKind::MapEnd) => {
                        let simple = map.simple_keys;
                        (NodeKind::Map(self.close_map(map)?), simple)
                    }
                    _ => return None,
                };
                self.deliver(Node { kind, span }, simple)
            }
        }
    }

    /// A finished node to its parent. `simple`: whether every key in it is a
    /// plain string (what merging needs).
    fn deliver(&mut self, node: Node, simple: bool) -> Option<()> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Some(());
        };
        match &mut frame.kind {
            FrameKind::Seq { simple_keys, .. } => {
                self.items.push(node);
                *simple_keys &= simple;
            }
            FrameKind::Map(map) => match map.key.take() {
                None => {
                    let key = key_of(node);
                    map.simple_keys &= simple_key(&key);
                    map.key = Some(Pending::Key(key.0));
                }
                Some(Pending::Key(key)) => self.entries.push(Entry { key, value: node }),
                Some(Pending::Merge) => {
                    merge_entries(node, &mut map.merged)?;
                    map.simple_keys &= simple;
                }
            },
        }
        Some(())
    }

    /// The entries of a finished mapping: its own, then the merged ones whose
    /// key it does not have yet.
    fn close_map(&mut self, map: MapFrame) -> Option<Vec<Entry>> {
        let MapFrame {
            start,
            key,
            merged,
            simple_keys,
        } = map;
        if key.is_some() {
            return None;
        }
        let own = self.entries.drain(start.min(self.entries.len())..);
        if merged.is_empty() {
            return Some(own.collect());
        }
        if !simple_keys {
            return None;
        }
        let mut entries: Vec<Entry> = own.collect();
        let mut seen: HashSet<String> = entries.iter().map(|e| e.key.text.clone()).collect();
        for entry in merged {
            if seen.insert(entry.key.text.clone()) {
                entries.push(entry);
            }
        }
        Some(entries)
    }

    /// A scalar as serde-saphyr's `deserialize_any` types it, then as `convert` places it.
    fn scalar(
        &self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        tagged: bool,
        at: Span,
        defined: Span,
    ) -> Option<Node> {
        let typed = if tagged || style != ScalarStyle::Plain {
            Resolved::Str
        } else {
            resolve_plain(&value)?
        };
        let node = match typed {
            Resolved::Null => Node {
                kind: NodeKind::Null,
                span: self.finish_span(at, false),
            },
            Resolved::Str => Node {
                kind: NodeKind::Scalar {
                    text: value.into_owned(),
                    typed: Typed::Str,
                },
                span: self.finish_span(at, true),
            },
            // As written where it is defined: the anchored scalar, for an
            // alias or a merge.
            Resolved::Typed(typed) => Node {
                kind: NodeKind::Scalar {
                    text: self
                        .source
                        .slice(self.finish_span(defined, false))
                        .to_owned(),
                    typed,
                },
                span: self.finish_span(at, false),
            },
        };
        Some(node)
    }

    /// `convert`'s span: clamped to the text, and a string's without the
    /// blank lines a block scalar runs on to.
    fn finish_span(&self, at: Span, string: bool) -> Span {
        let span = at.clamp_to(self.source.text().len());
        if string {
            let written = self.source.slice(span).trim_end();
            if !written.is_empty() {
                return Span::new(span.start, span.start + written.len());
            }
        }
        span
    }
}

/// A key and whether it is a plain string (see [`simple_key`]).
fn key_of(node: Node) -> (Key, bool) {
    let (text, is_scalar, string) = match node.kind {
        NodeKind::Scalar { text, typed } => (text, true, typed == Typed::Str),
        NodeKind::Null => (String::new(), true, false),
        NodeKind::Seq(_) | NodeKind::Map(_) => (String::new(), false, false),
    };
    (
        Key {
            text,
            span: node.span,
            is_scalar,
        },
        string,
    )
}

/// Whether serde-saphyr tells this key from others by its text alone: a
/// string (not null, not a number, not a list or mapping) that no integer
/// reading could take (those start with a digit or a sign).
fn simple_key(key: &(Key, bool)) -> bool {
    key.1
        && !key
            .0
            .text
            .starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-')
}

/// The entries a `<<` value brings: a mapping's, each mapping's of a list
/// (lists nest), nothing for null; anything else is an error.
fn merge_entries(node: Node, out: &mut Vec<Entry>) -> Option<()> {
    match node.kind {
        NodeKind::Null => {}
        NodeKind::Map(entries) => out.extend(entries),
        NodeKind::Seq(items) => {
            for item in items {
                merge_entries(item, out)?;
            }
        }
        NodeKind::Scalar { .. } => return None,
    }
    Some(())
}

enum Resolved {
    Null,
    Str,
    Typed(Typed),
}

/// A plain, untagged scalar, as serde-saphyr's `deserialize_any` reads it with
/// strict booleans. `None`: a non-finite float, which serde-saphyr refuses.
fn resolve_plain(value: &str) -> Option<Resolved> {
    if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Resolved::Null);
    }
    let t = yaml_trim(value);
    match t {
        "true" | "True" | "TRUE" => return Some(Resolved::Typed(Typed::Bool(true))),
        "false" | "False" | "FALSE" => return Some(Resolved::Typed(Typed::Bool(false))),
        _ => {}
    }
    // No number starts with a letter (the words Rust's float parser knows,
    // `inf` and `nan`, are strings to serde-saphyr): most values stop here.
    if !t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) && !t.is_empty()
    {
        return Some(Resolved::Str);
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]) || is_signed_nan(t) {
        return Some(Resolved::Str);
    }
    if t.starts_with('-') {
        if !leading_zero_decimal(t)
            && let Some(v) = parse_int_signed(t)
        {
            return Some(Resolved::Typed(Typed::Int(v)));
        }
    } else if let Some(v) = parse_int_unsigned(t) {
        return Some(Resolved::Typed(
            i64::try_from(v).map_or(Typed::Float, Typed::Int),
        ));
    }
    match parse_float(value) {
        Some(v) if v.is_finite() => Some(Resolved::Typed(Typed::Float)),
        Some(_) => None,
        None => Some(Resolved::Str),
    }
}

/// The ASCII padding serde-saphyr trims before reading a number or boolean
/// (a plain scalar hardly ever has any, so look at its ends first).
fn yaml_trim(s: &str) -> &str {
    let padding = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    if bytes.first().is_some_and(padding) || bytes.last().is_some_and(padding) {
        s.trim_matches([' ', '\t', '\r', '\n'])
    } else {
        s
    }
}

fn is_signed_nan(t: &str) -> bool {
    t.strip_prefix(['+', '-'])
        .is_some_and(|unsigned| matches!(unsigned, ".nan" | ".NaN" | ".NAN"))
}

fn leading_zero_decimal(t: &str) -> bool {
    let s = yaml_trim(t);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The radix a prefix gives, and the digits after it.
fn radix_and_digits(rest: &str) -> (u32, &str) {
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = rest.strip_prefix(prefix) {
            return (radix, digits);
        }
    }
    (10, rest)
}

/// Digits in `radix`, with `_` allowed between two digits.
fn parse_digits(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut saw = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let prev_ok = i > 0 && bytes.get(i - 1) != Some(&b'_');
            let next_ok = bytes.get(i + 1).is_some_and(|&n| n != b'_');
            if !prev_ok || !next_ok {
                return None;
            }
            continue;
        }
        let d = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'f' if radix > 10 => 10 + u32::from(b - b'a'),
            b'A'..=b'F' if radix > 10 => 10 + u32::from(b - b'A'),
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(value)
}

fn parse_int_unsigned(t: &str) -> Option<u64> {
    if t.starts_with('-') {
        return None;
    }
    let rest = t.strip_prefix('+').unwrap_or(t);
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    u64::try_from(parse_digits(digits, radix)?).ok()
}

fn parse_int_signed(t: &str) -> Option<i64> {
    let (negative, rest) = match t.strip_prefix('+') {
        Some(rest) => (false, rest),
        None => match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        },
    };
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    let magnitude = parse_digits(digits, radix)?;
    let value = if negative {
        if magnitude == i128::MAX as u128 + 1 {
            i128::MIN
        } else {
            i128::try_from(magnitude).ok()?.checked_neg()?
        }
    } else {
        i128::try_from(magnitude).ok()?
    };
    i64::try_from(value).ok()
}

/// serde-saphyr's `try_parse_float_incl_overflow` for an untagged scalar.
fn parse_float(value: &str) -> Option<f64> {
    let t = yaml_trim(value);
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        Ok(v) => {
            // An overflowing numeral (`1e999`) is infinite; `inf` and `nan` spelled out are strings.
            let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
            let numeral = unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit);
            (numeral && v.is_infinite()).then_some(v)
        }
        Err(_) => None,
    }
}
