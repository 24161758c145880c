//! YAML text to a tree of spanned nodes.
//!
//! We parse into a generic spanned tree rather than straight into the model so
//! that the decoder can report every problem at once, with its location,
//! instead of stopping at the first one as a serde derive would.
//!
//! Two paths build the same tree. The fast one ([`fast`]) reads the events of
//! granit-parser, the YAML parser serde-saphyr is built on, and builds the
//! nodes directly. The reference one deserializes into `Spanned<Raw>` with
//! `serde-saphyr` (a maintained, panic-free serde YAML deserializer;
//! `serde_yaml` is deprecated upstream) and converts that. The fast path
//! handles what a configuration holds (mappings, lists, scalars of every
//! style, anchors and aliases, merge keys, `!!str`) and gives up on anything
//! else, on every error and at every limit: the text is then parsed again by
//! serde-saphyr, so that what is accepted, the tree and every error message
//! are serde-saphyr's. The unit tests check that both paths give the same
//! tree, spans included, on every YAML file of the repository.
//!
//! Hostile input is bounded here: the text size, nesting depth, node and event
//! counts and alias expansion all have limits, and breaking one is a clear error.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{Source, Span};

/// Largest configuration accepted, in bytes. A 10,000-variable file is about 2 MB.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting accepted; a valid configuration is at most 6 levels deep.
/// Each level costs serde-saphyr about 36 KB of stack in an unoptimised build,
/// so 32 levels stay within the 2 MB of a spawned thread (64 did not).
pub(crate) const MAX_DEPTH: usize = 32;
/// Most alias (`*name`) uses accepted in one file.
pub(crate) const MAX_ALIASES: usize = 10_000;
/// Most events an alias may replay in total (what stops "billion laughs").
pub(crate) const MAX_ALIAS_REPLAY: usize = 200_000;
/// Most parser events (alias replays included).
const MAX_EVENTS: usize = 4_000_000;
/// Most nodes: scalars, lists and mappings (alias replays included).
const MAX_NODES: usize = 2_000_000;
/// Most bytes of scalar text in total (alias replays included).
const MAX_SCALAR_BYTES: usize = MAX_CONFIG_BYTES * 2;

// The rest of the budget, at serde-saphyr 2.2's defaults, written out because
// the fast path counts them too: a new default upstream must not make the
// two paths disagree.
/// Most anchors (`&name`).
const MAX_ANCHORS: usize = 50_000;
/// Most merge keys (`<<`).
const MAX_MERGE_KEYS: usize = 10_000;
/// Most event copies kept for anchors (one per open anchor an event is in).
const MAX_RECORDED_ANCHOR_EVENTS: usize = 1_000_000;
/// Most bytes of text in those copies.
const MAX_RECORDED_ANCHOR_BYTES: usize = 64 * 1024 * 1024;
/// With at least this many aliases...
const RATIO_MIN_ALIASES: usize = 100;
/// ...more than this many per anchor is refused (or any, without anchors).
const RATIO_ALIASES_PER_ANCHOR: usize = 10;
/// Longest simple key the scanner looks ahead for, in characters.
const SIMPLE_KEY_MAX_LOOKAHEAD: usize = 1024;
/// Most flow collections (`[`, `{`) open at once, for the parser.
const FLOW_NESTING_LIMIT: usize = 255;

#[cfg(test)]
mod equivalence;
mod fast;

/// A YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Null,
    /// A scalar: `text` is the string value for strings and the source text for
    /// numbers and booleans (so `secret: 0x1F` means the secret named `0x1F`).
    Scalar {
        text: String,
        typed: Typed,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// What YAML resolved a scalar to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Typed {
    Str,
    Bool(bool),
    Int(i64),
    Float,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: Key,
    pub(crate) value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub(crate) text: String,
    pub(crate) span: Span,
    /// False for keys that are not scalars (`? [a, b]: x`).
    pub(crate) is_scalar: bool,
}

impl Node {
    /// A short noun for messages: "a mapping", "a list", "a string", ...
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "nothing",
            NodeKind::Scalar { typed, .. } => match typed {
                Typed::Str => "a string",
                Typed::Bool(_) => "a boolean",
                Typed::Int(_) => "an integer",
                Typed::Float => "a number",
            },
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// Parses `source` into a tree, or the one diagnostic that says why it cannot.
pub(crate) fn parse(source: &Source) -> Result<Node, Box<Diagnostic>> {
    let text = source.text();
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Box::new(
            Diagnostic::error_without_span(
                Code::FileTooLarge,
                format!(
                    "the configuration is {} bytes; the limit is {} bytes",
                    text.len(),
                    MAX_CONFIG_BYTES
                ),
            )
            .with_hint("a dsops.yaml with 10,000 variables is about 2 MB: is this the right file?"),
        ));
    }
    if text.trim().is_empty() {
        return Ok(Node {
            kind: NodeKind::Null,
            span: Span::point(0),
        });
    }
    match fast::parse(source) {
        Some(root) => Ok(root),
        None => parse_with_serde_saphyr(source),
    }
}

/// The reference parse: serde-saphyr into `Spanned<Raw>`, then [`convert`].
/// It decides whatever the fast path leaves, and words every error.
fn parse_with_serde_saphyr(source: &Source) -> Result<Node, Box<Diagnostic>> {
    let text = source.text();
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: MAX_ALIASES,
            max_documents: 1,
            max_events: MAX_EVENTS,
            max_nodes: MAX_NODES,
            max_total_scalar_bytes: MAX_SCALAR_BYTES,
            max_anchors: MAX_ANCHORS,
            max_merge_keys: MAX_MERGE_KEYS,
            max_recorded_anchor_events: MAX_RECORDED_ANCHOR_EVENTS,
            max_recorded_anchor_bytes: MAX_RECORDED_ANCHOR_BYTES,
            enforce_alias_anchor_ratio: true,
            alias_anchor_min_aliases: RATIO_MIN_ALIASES,
            alias_anchor_ratio_multiplier: RATIO_ALIASES_PER_ANCHOR,
            simple_key_max_lookahead: SIMPLE_KEY_MAX_LOOKAHEAD,
            flow_nesting_limit: FLOW_NESTING_LIMIT,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_REPLAY,
            max_replay_stack_depth: 16,
        },
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        strict_booleans: true,
        // The defaults, written out: the fast path reads YAML this way.
        merge_keys: serde_saphyr::MergeKeyPolicy::Merge,
        legacy_octal_numbers: false,
        leading_zero_numbers_as_strings: false,
        underscored_numbers_as_strings: false,
        null_as_string: false,
        no_schema: false,
        angle_conversions: false,
        reject_unsupported_tags: false,
        strict_indentation: false,
        bom_inside_document_as_content: false,
        require_indent: serde_saphyr::RequireIndent::Unchecked,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::Reject,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(text, options) {
        Ok(raw) => Ok(convert(source, raw)),
        Err(err) => Err(Box::new(syntax_error(source, &err))),
    }
}

fn syntax_error(source: &Source, err: &serde_saphyr::Error) -> Diagnostic {
    let plain = err.without_snippet().to_string();
    // The message may end with its own "at line L, column C": we show the location ourselves.
    let message = match plain.find(" at line ") {
        Some(i) => plain.get(..i).unwrap_or(&plain).to_string(),
        None => plain.lines().next().unwrap_or("invalid YAML").to_string(),
    };
    let message = limit_message(err).unwrap_or(message);
    let (code, hint) = if message.contains("budget") || message.contains("limit") {
        (
            Code::YamlLimit,
            "dsops bounds nesting, aliases and size so that a hostile file cannot exhaust memory; \
             a real dsops.yaml stays far below these limits",
        )
    } else if message.contains("more than one YAML document") {
        (
            Code::YamlSyntax,
            "dsops.yaml is one document: remove the `---` line and what follows, or merge it into the first",
        )
    } else if message.contains("flow mapping") || message.contains("flow sequence") {
        (
            Code::YamlSyntax,
            "check that each `{` and `[` is closed; inside `{ ... }` and `[ ... ]`, values \
             containing `{`, `}`, `[`, `]` or `,` need quotes, `${NAME}` too: `vault: \"${VAULT}\"`",
        )
    } else {
        (
            Code::YamlSyntax,
            "check the indentation and quoting around this spot; \
             values containing `: ` or starting with `*`, `&`, `!`, `{` or `[` need quotes",
        )
    };
    let span = err
        .location()
        .filter(|loc| loc.line() > 0)
        .map(|loc| Span::point(source.offset_of(loc.line() as usize, loc.column() as usize)));
    let diagnostic = match span {
        Some(span) => Diagnostic::error(code, span, format!("invalid YAML: {message}")),
        None => Diagnostic::error_without_span(code, format!("invalid YAML: {message}")),
    };
    diagnostic.with_hint(hint)
}

/// The limit a hostile file broke, in words (serde-saphyr shows some as `Debug`).
fn limit_message(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    let mut err = err;
    while let Error::WithSnippet { error, .. } | Error::AliasError { error, .. } = err {
        err = error;
    }
    match err {
        Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => Some(format!(
            "nesting limit exceeded: more than {MAX_DEPTH} levels deep"
        )),
        Error::Budget {
            breach: BudgetBreach::Aliases { .. },
            ..
        } => Some(format!(
            "alias limit exceeded: more than {MAX_ALIASES} aliases (`*name`)"
        )),
        Error::Budget {
            breach: BudgetBreach::Documents { .. },
            ..
        } => Some("the file holds more than one YAML document (`---`)".to_owned()),
        Error::Budget { .. } => {
            Some("size limit exceeded: more YAML nodes or text than dsops reads".to_owned())
        }
        Error::AliasReplayLimitExceeded { .. } => Some(format!(
            "alias limit exceeded: aliases (`*name`) expand to more than {MAX_ALIAS_REPLAY} YAML nodes"
        )),
        _ => None,
    }
}

/// Turns serde-saphyr's spanned values into our nodes, taking byte spans and
/// the source text of non-string scalars.
fn convert(source: &Source, raw: Spanned<Raw>) -> Node {
    let mut span = span_of(source, &raw.referenced);
    // A number or boolean is kept as written where it is defined: through
    // an alias (`*port`) or a merge, that is the anchored scalar, not the
    // alias's own text.
    let defined = span_of(source, &raw.defined);
    if let Raw::Str(_) = raw.value {
        // A block scalar's span runs on to the next key's indentation.
        let written = source.slice(span).trim_end();
        if !written.is_empty() {
            span = Span::new(span.start, span.start + written.len());
        }
    }
    let kind = match raw.value {
        Raw::Null => NodeKind::Null,
        Raw::Str(text) => NodeKind::Scalar {
            text,
            typed: Typed::Str,
        },
        Raw::Bool(b) => scalar_from_source(source, defined, Typed::Bool(b)),
        Raw::Int(i) => scalar_from_source(source, defined, Typed::Int(i)),
        Raw::Float => scalar_from_source(source, defined, Typed::Float),
        Raw::Seq(items) => NodeKind::Seq(items.into_iter().map(|n| convert(source, n)).collect()),
        Raw::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(key, value)| {
                    let key_node = convert(source, key);
                    let (text, is_scalar) = match &key_node.kind {
                        NodeKind::Scalar { text, .. } => (text.clone(), true),
                        NodeKind::Null => (String::new(), true),
                        _ => (String::new(), false),
                    };
                    Entry {
                        key: Key {
                            text,
                            span: key_node.span,
                            is_scalar,
                        },
                        value: convert(source, value),
                    }
                })
                .collect(),
        ),
    };
    Node { kind, span }
}

fn scalar_from_source(source: &Source, span: Span, typed: Typed) -> NodeKind {
    NodeKind::Scalar {
        text: source.slice(span).to_string(),
        typed,
    }
}

fn span_of(source: &Source, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => {
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            let len = usize::try_from(len).unwrap_or(0);
            Span::new(start, start.saturating_add(len)).clamp_to(source.text().len())
        }
        _ => Span::point(source.offset_of(location.line() as usize, location.column() as usize)),
    }
}

/// The generic tree serde-saphyr fills in.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float, Raw::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float, Raw::Int))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or(Raw::Float, Raw::Int))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Float)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Box<Diagnostic>> {
        parse(&Source::new("t.yaml", text))
    }

    #[test]
    fn keeps_the_source_text_of_non_string_scalars() {
        let node = parse_str("a: 0x1F\nb: \"q\"\nc: yes\n").unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!("not a map")
        };
        let texts: Vec<_> = entries
            .iter()
            .map(|e| match &e.value.kind {
                NodeKind::Scalar { text, typed } => (text.as_str(), *typed),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [
                ("0x1F", Typed::Int(31)),
                ("q", Typed::Str),
                ("yes", Typed::Str)
            ]
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_str(&text).unwrap_err();
        assert_eq!(err.code, "yaml-limit", "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        let err = parse_str(&text).unwrap_err();
        assert!(
            err.code == "yaml-limit" || err.code == "yaml-syntax",
            "{err:?}"
        );
    }

    #[test]
    fn balanced_deep_nesting_is_refused_within_a_small_stack() {
        // Test threads have 2 MB of stack; the limit must trip before it runs out.
        let n = MAX_DEPTH + 30;
        let text = format!("x: {}{}\n", "[".repeat(n), "]".repeat(n));
        let err = parse_str(&text).unwrap_err();
        assert_eq!(err.code, "yaml-limit", "{err:?}");
        assert!(err.message.contains("levels deep"), "{}", err.message);
    }

    #[test]
    fn block_scalars_end_with_their_text() {
        let text = "a: |\n  one\n  two\nb: x\n";
        let node = parse_str(text).unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!("not a map")
        };
        let span = entries[0].value.span;
        assert_eq!(&text[span.start..span.end], "one\n  two");
    }

    #[test]
    fn duplicate_keys_reach_the_decoder() {
        let node = parse_str("a: 1\na: 2\n").unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 2);
    }
}
