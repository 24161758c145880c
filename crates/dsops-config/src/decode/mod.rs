//! From the YAML tree to the model, collecting every problem on the way.
//!
//! Each `decode_*` function checks its part of the file, pushes diagnostics,
//! and returns `None` where a part is unusable; decoding carries on so that one
//! run reports everything. Cross-references (store names, unused stores) are
//! checked afterwards in [`lint`].

pub(crate) mod env;
mod lint;
pub(crate) mod shown;
pub(crate) mod store;

use std::collections::{HashMap, HashSet, hash_map};
use std::time::Duration;

use secrecy::SecretString;

use crate::code::Code;
use crate::diagnostic::{Diagnostic, Scope, Severity};
use crate::duration::parse_duration;
use crate::interpolate::{Environment, Problem, interpolate};
use crate::model::{Config, SUPPORTED_VERSIONS, SecretText, Spanned, Text};
use crate::source::{Source, Span};
use crate::suggest::{did_you_mean, one_of};
use crate::yaml::{Entry, Node, NodeKind, Typed};

/// The top-level keys.
pub(crate) const TOP_KEYS: &[&str] = &["version", "secretStores", "envs"];

/// What decoding produced.
pub(crate) struct Decoded {
    pub(crate) config: Option<Config>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) sensitive: Vec<Span>,
    pub(crate) outline: Vec<EnvOutline>,
}

/// Which stores an environment uses, known even when the file has errors.
#[derive(Debug, Clone)]
pub(crate) struct EnvOutline {
    pub(crate) name: String,
    pub(crate) stores: Vec<String>,
}

pub(crate) struct Decoder<'a> {
    source: &'a Source,
    env: &'a dyn Environment,
    unset_severity: Severity,
    scope: Scope,
    diagnostics: Vec<Diagnostic>,
    /// Spans of secret text (literal values, client secrets): masked when rendering.
    sensitive: Vec<Span>,
    /// Spans of strings whose `${NAME}` could not be resolved: shape checks skip them.
    unresolved: HashSet<Span>,
    /// Spans of strings that read `${NAME}`: messages name the variable, not its value.
    interpolated: HashMap<Span, String>,
    /// Names of the process variables read, with the span of the first use.
    variables_read: HashMap<String, Span>,
    /// For each unset variable, the index of its diagnostic (later uses become notes).
    unset_reported: HashMap<String, usize>,
}

pub(crate) fn decode(
    source: &Source,
    root: &Node,
    env: &dyn Environment,
    unset_severity: Severity,
) -> Decoded {
    let mut d = Decoder {
        source,
        env,
        unset_severity,
        scope: Scope::Global,
        diagnostics: Vec::new(),
        sensitive: Vec::new(),
        unresolved: HashSet::new(),
        interpolated: HashMap::new(),
        variables_read: HashMap::new(),
        unset_reported: HashMap::new(),
    };
    let mut outline = Vec::new();
    let partial = d.decode_root(root, &mut outline);
    // The whole-file checks also run on what decoded of a file with errors,
    // so that one run reports everything.
    if let Some(partial) = &partial {
        lint::check(&mut d, partial);
    }
    let config = partial.filter(|p| p.complete).map(|p| p.config);
    let has_errors = d.diagnostics.iter().any(Diagnostic::is_error);
    let mut diagnostics = d.diagnostics;
    diagnostics.sort_by_key(|diag| diag.span.map(|s| (s.start, s.end)));
    Decoded {
        config: if has_errors { None } else { config },
        diagnostics,
        sensitive: d.sensitive,
        outline,
    }
}

/// What decoded of a file, errors or not: the stores that decoded, and each
/// environment with the variables that decoded.
pub(crate) struct Partial {
    pub(crate) config: Config,
    /// Whether nothing was left out.
    pub(crate) complete: bool,
    /// Every store name written in the file, even of stores with errors;
    /// `None` when `secretStores` itself is unusable or misspelled.
    pub(crate) store_names: Option<Vec<String>>,
    /// Whether every variable decoded, so that a store no variable uses is known.
    pub(crate) envs_complete: bool,
}

/// Parts of a section that decoded, and whether that is all of them.
pub(crate) struct Part<T> {
    pub(crate) items: Vec<T>,
    pub(crate) complete: bool,
}

impl<T> Part<T> {
    fn empty() -> Self {
        Self {
            items: Vec::new(),
            complete: true,
        }
    }
}

impl Decoder<'_> {
    fn decode_root(&mut self, root: &Node, outline: &mut Vec<EnvOutline>) -> Option<Partial> {
        if matches!(root.kind, NodeKind::Null) {
            self.push(
                Diagnostic::error(
                    Code::EmptyConfig,
                    Span::point(0),
                    "the configuration is empty",
                )
                .with_hint(MINIMAL_EXAMPLE),
            );
            return None;
        }
        let entries = self.mapping(root, "the configuration")?;
        let fields = self.fields(entries, TOP_KEYS, "at the top level");
        let version = match fields.get("version") {
            None => 1,
            Some(entry) => self.decode_version(entry)?,
        };
        let (stores, store_names) = match fields.get("secretStores") {
            Some(entry) => match self.decode_stores(entry) {
                Some((stores, names)) => (Some(stores), Some(names)),
                None => (None, None),
            },
            None if fields.is_misspelled("secretStores") => (Some(Part::empty()), None),
            None => (Some(Part::empty()), Some(Vec::new())),
        };
        let envs = match fields.get("envs") {
            Some(entry) => self.decode_envs(entry, outline),
            // The misspelled key is reported already.
            None if fields.is_misspelled("envs") => None,
            None => {
                self.push(
                    Diagnostic::warning_without_span(
                        Code::NoEnvs,
                        "the configuration has no `envs`, so there is nothing to resolve",
                    )
                    .with_hint("add `envs:` with at least one environment and its variables"),
                );
                Some(Part::empty())
            }
        };
        let envs_complete = envs.as_ref().is_some_and(|e| e.complete);
        let complete = envs_complete && stores.as_ref().is_some_and(|s| s.complete);
        Some(Partial {
            config: Config {
                version,
                stores: stores.map(|s| s.items).unwrap_or_default(),
                envs: envs.map(|e| e.items).unwrap_or_default(),
            },
            complete,
            store_names,
            envs_complete,
        })
    }

    fn decode_version(&mut self, entry: &Entry) -> Option<u32> {
        let supported = SUPPORTED_VERSIONS
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match &entry.value.kind {
            NodeKind::Scalar {
                typed: Typed::Int(n),
                ..
            } => match u32::try_from(*n)
                .ok()
                .filter(|n| SUPPORTED_VERSIONS.contains(n))
            {
                Some(n) => Some(n),
                None => {
                    self.push(
                        Diagnostic::error(
                            Code::UnsupportedVersion,
                            entry.value.span,
                            format!("configuration version {n} is not supported"),
                        )
                        .with_label(format!("this dsops reads version {supported}"))
                        .with_hint(format!(
                            "write `version: 1`; versions that exist: {supported}"
                        )),
                    );
                    None
                }
            },
            _ => {
                self.push(
                    Diagnostic::error(
                        Code::UnsupportedVersion,
                        self.value_span(entry),
                        format!(
                            "`version` must be a number, found {}",
                            entry.value.describe()
                        ),
                    )
                    .with_hint(format!(
                        "write `version: 1`; versions that exist: {supported}"
                    )),
                );
                None
            }
        }
    }

    // ----- diagnostics -------------------------------------------------------

    pub(crate) fn push(&mut self, mut diagnostic: Diagnostic) {
        diagnostic.scope = self.scope.clone();
        self.diagnostics.push(diagnostic);
    }

    fn set_scope(&mut self, scope: Scope) {
        self.scope = scope;
    }

    /// Where a value is, or just after its key when the value is empty.
    fn value_span(&self, entry: &Entry) -> Span {
        match entry.value.kind {
            NodeKind::Null if entry.value.span.start <= entry.key.span.end => entry.key.span,
            NodeKind::Map(_) | NodeKind::Seq(_)
                if entry.value.span.start == entry.value.span.end =>
            {
                entry.key.span
            }
            _ => entry.value.span,
        }
    }

    // ----- structure ---------------------------------------------------------

    /// The entries of a mapping, or an error saying what was found instead.
    fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Entry]> {
        match &node.kind {
            NodeKind::Map(entries) => Some(entries),
            NodeKind::Null => Some(&[]),
            _ => {
                self.push(
                    Diagnostic::error(
                        Code::WrongType,
                        node.span,
                        format!("{what} must be a mapping, found {}", node.describe()),
                    )
                    .with_label("expected `key: value` lines here"),
                );
                None
            }
        }
    }

    /// Checks the keys of a mapping against `allowed` (reporting unknown and
    /// duplicate keys) and gives access to the known ones.
    fn fields<'n>(
        &mut self,
        entries: &'n [Entry],
        allowed: &[&'static str],
        context: &str,
    ) -> Fields<'n> {
        self.check_duplicates(entries);
        let mut fields = Fields::raw(entries);
        for entry in entries {
            if !self.plain_key(entry) {
                continue;
            }
            if !allowed.contains(&entry.key.text.as_str()) {
                fields
                    .misspelled
                    .extend(self.unknown_key(entry, allowed, context));
            }
        }
        fields
    }

    /// Whether an entry's key is a scalar; reports a list or mapping used as a key.
    pub(crate) fn plain_key(&mut self, entry: &Entry) -> bool {
        if !entry.key.is_scalar {
            self.push(
                Diagnostic::error(Code::WrongType, entry.key.span, "keys must be plain words")
                    .with_label("a list or mapping used as a key")
                    .with_hint("write `key: value`; dsops has no complex keys (`? ...`)"),
            );
        }
        entry.key.is_scalar
    }

    /// Reports an unknown key; returns the allowed key it is likely a typo of.
    pub(crate) fn unknown_key(
        &mut self,
        entry: &Entry,
        allowed: &[&'static str],
        context: &str,
    ) -> Option<&'static str> {
        let key = &entry.key.text;
        let mut diagnostic = Diagnostic::error(
            Code::UnknownKey,
            entry.key.span,
            format!("unknown key `{key}` {context}"),
        );
        let suggestion = did_you_mean(key, allowed.iter().copied());
        match suggestion {
            Some(suggestion) => {
                diagnostic = diagnostic.with_label(format!("did you mean `{suggestion}`?"));
            }
            None => {
                diagnostic = diagnostic.with_label("not a dsops key");
            }
        }
        let diagnostic = diagnostic.with_hint(format!("keys allowed here: {}", one_of(allowed)));
        self.push(diagnostic);
        suggestion
    }

    /// Reports keys given twice; YAML forbids it and the second would silently win.
    fn check_duplicates(&mut self, entries: &[Entry]) {
        // Most mappings have a handful of keys: a scan beats hashing them.
        const SCAN_BELOW: usize = 16;
        let mut seen: HashMap<&str, Span> = if entries.len() < SCAN_BELOW {
            HashMap::new()
        } else {
            HashMap::with_capacity(entries.len())
        };
        for (i, entry) in entries.iter().enumerate().filter(|(_, e)| e.key.is_scalar) {
            let first = if entries.len() < SCAN_BELOW {
                entries
                    .get(..i)
                    .unwrap_or_default()
                    .iter()
                    .find(|e| e.key.is_scalar && e.key.text == entry.key.text)
                    .map(|e| e.key.span)
            } else {
                // One hash per key: the first span stays, a repeat finds it.
                match seen.entry(entry.key.text.as_str()) {
                    hash_map::Entry::Occupied(first) => Some(*first.get()),
                    hash_map::Entry::Vacant(slot) => {
                        slot.insert(entry.key.span);
                        None
                    }
                }
            };
            if let Some(first) = first {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateKey,
                        entry.key.span,
                        format!("`{}` is given twice", entry.key.text),
                    )
                    .with_label("second definition")
                    .with_note(first, "first defined here")
                    .with_hint("remove one of them: YAML keys must be unique"),
                );
            }
        }
    }

    /// The name of a store or environment (a key), checked.
    fn entry_name(&mut self, entry: &Entry, what: &str) -> Text {
        if let Err(why) = crate::names::check_entry_name(&entry.key.text) {
            self.push(Diagnostic::error(
                Code::InvalidName,
                entry.key.span,
                format!("{what} name `{}` {why}", entry.key.text),
            ));
        }
        Text {
            value: entry.key.text.clone(),
            span: entry.key.span,
        }
    }

    // ----- scalars -----------------------------------------------------------

    /// A string value, with `${NAME}` interpolated.
    fn text(&mut self, entry: &Entry) -> Option<Text> {
        let raw = self.scalar(entry)?;
        Some(self.interpolated(raw, entry.value.span))
    }

    /// Like [`Self::text`] for a field that may be absent.
    fn opt_text(&mut self, entry: Option<&Entry>) -> Option<Text> {
        entry.and_then(|e| self.text(e))
    }

    /// A required string field; reports it missing at `parent`.
    fn required_text(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        parent: Span,
        what: &str,
    ) -> Option<Text> {
        match fields.get(key) {
            Some(entry) => self.text(entry),
            None => {
                if !fields.is_misspelled(key) {
                    self.missing(parent, key, what);
                }
                None
            }
        }
    }

    pub(crate) fn missing(&mut self, parent: Span, key: &str, what: &str) {
        self.push(
            Diagnostic::error(Code::MissingKey, parent, format!("{what} needs `{key}`"))
                .with_label(format!("`{key}` is missing here")),
        );
    }

    /// A secret string: like [`Self::text`], and its span is masked in output.
    fn secret_text(&mut self, entry: &Entry) -> Option<SecretText> {
        let raw = self.scalar(entry)?;
        self.sensitive.push(entry.value.span);
        let text = self.interpolated(raw, entry.value.span);
        Some(SecretText {
            value: SecretString::from(text.value),
            span: text.span,
            interpolated: self.interpolated.contains_key(&entry.value.span),
        })
    }

    /// The text of a scalar value; an error for lists, mappings and empty values.
    fn scalar<'n>(&mut self, entry: &'n Entry) -> Option<&'n str> {
        match &entry.value.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            NodeKind::Null => {
                self.push(
                    Diagnostic::error(
                        Code::MissingValue,
                        self.value_span(entry),
                        format!("`{}` has no value", entry.key.text),
                    )
                    .with_label("a value is expected after the colon"),
                );
                None
            }
            _ => {
                self.push(Diagnostic::error(
                    Code::WrongType,
                    self.value_span(entry),
                    format!(
                        "`{}` must be a single value, found {}",
                        entry.key.text,
                        entry.value.describe()
                    ),
                ));
                None
            }
        }
    }

    fn interpolated(&mut self, raw: &str, span: Span) -> Text {
        let result = interpolate(raw, self.env);
        if !result.variables.is_empty() {
            let names: Vec<String> = result
                .variables
                .iter()
                .map(|n| format!("${{{n}}}"))
                .collect();
            self.interpolated.insert(span, names.join(""));
        }
        for name in result.variables {
            self.variables_read.entry(name).or_insert(span);
        }
        if !result.problems.is_empty() {
            self.unresolved.insert(span);
        }
        let base = if result.problems.is_empty() {
            None
        } else {
            self.text_offset(raw, span)
        };
        for problem in result.problems {
            let at = |start: usize, end: usize| match base {
                Some(base) => Span::new(base + start, base + end),
                None => span,
            };
            let diagnostic = match problem {
                Problem::Unterminated { start } => Diagnostic::error(
                    Code::BadInterpolation,
                    at(start, start + 2),
                    "`${` is not closed with `}`",
                )
                .with_hint("write `${NAME}`, or `$${` for a literal `${`"),
                Problem::BadName { start, end } => Diagnostic::error(
                    Code::BadInterpolation,
                    at(start, end),
                    "`${...}` needs an environment variable name (letters, digits and `_`, not starting with a digit)",
                )
                .with_hint("write `${NAME}` or `${NAME:-default}`; `$$` is a literal `$`"),
                Problem::Unset { name, start, end } => {
                    if let Some(&index) = self.unset_reported.get(&name)
                        && let Some(first) = self.diagnostics.get_mut(index)
                    {
                        first.notes.push(crate::diagnostic::Note {
                            span: at(start, end),
                            message: "also read here".into(),
                        });
                        continue;
                    }
                    self.unset_reported.insert(name.clone(), self.diagnostics.len());
                    let diagnostic = Diagnostic::error(
                        Code::UnsetVariable,
                        at(start, end),
                        format!("environment variable `{name}` is not set"),
                    )
                    .with_severity(self.unset_severity)
                    .with_label("read here");
                    if self.unset_severity == Severity::Warning {
                        diagnostic.with_hint(format!(
                            "dsops will refuse to run unless `{name}` is set; give a default with `${{{name}:-value}}` if it may be absent"
                        ))
                    } else {
                        diagnostic.with_hint(format!(
                            "set `{name}` in the environment, or give a default with `${{{name}:-value}}`"
                        ))
                    }
                }
            };
            self.push(diagnostic);
        }
        Text {
            value: result.value,
            span,
        }
    }

    /// Byte offset in the source where the scalar's text starts, when the
    /// source spells it out verbatim (plain or simply quoted).
    fn text_offset(&self, text: &str, span: Span) -> Option<usize> {
        let written = self.source.slice(span);
        if written == text {
            Some(span.start)
        } else if written.len() == text.len() + 2
            && (written.starts_with('"') || written.starts_with('\''))
            && written.get(1..written.len() - 1) == Some(text)
        {
            Some(span.start + 1)
        } else {
            None
        }
    }

    /// Whether a text's `${NAME}`s all resolved, so its shape can be checked.
    pub(crate) fn resolved(&self, text: &Text) -> bool {
        !self.unresolved.contains(&text.span)
    }

    /// A keyword (`type: secret`): one of `choices`, never interpolated.
    fn keyword<'c>(&mut self, entry: &Entry, choices: &[&'c str], what: &str) -> Option<&'c str> {
        let text = self.scalar(entry)?;
        if let Some(choice) = choices.iter().find(|c| **c == text) {
            return Some(choice);
        }
        let mut diagnostic = Diagnostic::error(
            Code::UnknownValue,
            entry.value.span,
            format!("`{text}` is not a valid {what}"),
        );
        if text.contains("${") {
            diagnostic = diagnostic
                .with_label("keywords are not interpolated")
                .with_hint(format!(
                    "`{}` selects what dsops does, so it is fixed in the file: write one of {}",
                    entry.key.text,
                    one_of(choices)
                ));
        } else {
            if let Some(suggestion) = did_you_mean(text, choices.iter().copied()) {
                diagnostic = diagnostic.with_label(format!("did you mean `{suggestion}`?"));
            }
            diagnostic = diagnostic.with_hint(format!("expected {}", one_of(choices)));
        }
        self.push(diagnostic);
        None
    }

    fn boolean(&mut self, entry: &Entry) -> Option<bool> {
        match &entry.value.kind {
            NodeKind::Scalar {
                typed: Typed::Bool(b),
                ..
            } => Some(*b),
            _ => {
                self.push(
                    Diagnostic::error(
                        Code::WrongType,
                        self.value_span(entry),
                        format!(
                            "`{}` must be `true` or `false`, found {}",
                            entry.key.text,
                            entry.value.describe()
                        ),
                    )
                    .with_hint(
                        "YAML 1.2 booleans are `true` and `false` (not `yes`, `no`, `on`, `off`)",
                    ),
                );
                None
            }
        }
    }

    fn integer(&mut self, entry: &Entry, min: u64, max: u64) -> Option<u64> {
        match &entry.value.kind {
            NodeKind::Scalar {
                typed: Typed::Int(n),
                ..
            } => match u64::try_from(*n).ok().filter(|n| (min..=max).contains(n)) {
                Some(n) => Some(n),
                None => {
                    self.push(Diagnostic::error(
                        Code::OutOfRange,
                        entry.value.span,
                        format!(
                            "`{}` must be between {min} and {max}, found {n}",
                            entry.key.text
                        ),
                    ));
                    None
                }
            },
            _ => {
                self.push(Diagnostic::error(
                    Code::WrongType,
                    self.value_span(entry),
                    format!(
                        "`{}` must be a whole number, found {}",
                        entry.key.text,
                        entry.value.describe()
                    ),
                ));
                None
            }
        }
    }

    /// A duration: whole seconds (`300`) or with units (`24h`, `1h30m`).
    fn duration(&mut self, entry: &Entry) -> Option<Spanned<Duration>> {
        let parsed = match &entry.value.kind {
            NodeKind::Scalar {
                typed: Typed::Int(n),
                ..
            } => u64::try_from(*n)
                .map(Duration::from_secs)
                .map_err(|_| format!("`{n}` is negative")),
            NodeKind::Scalar {
                typed: Typed::Str,
                text,
            } if text.contains("${") => Err(
                "durations are not read from the environment (`${...}`): they are fixed in the file, like other quantities"
                    .to_owned(),
            ),
            NodeKind::Scalar {
                typed: Typed::Str,
                text,
            } => parse_duration(text).map_err(|e| e.to_string()),
            _ => {
                let text = self.scalar(entry)?;
                Err(format!("`{text}` is not a duration"))
            }
        };
        match parsed {
            Ok(value) => Some(Spanned {
                value,
                span: entry.value.span,
            }),
            Err(why) => {
                self.push(
                    Diagnostic::error(Code::InvalidDuration, entry.value.span, format!("invalid `{}`: {why}", entry.key.text))
                        .with_hint("write seconds (`300`) or a duration with units: `90s`, `15m`, `24h`, `7d`, `1h30m`"),
                );
                None
            }
        }
    }

    /// A list, or an error.
    fn sequence<'n>(&mut self, entry: &'n Entry) -> Option<&'n [Node]> {
        match &entry.value.kind {
            NodeKind::Seq(items) => Some(items),
            NodeKind::Null => Some(&[]),
            _ => {
                self.push(
                    Diagnostic::error(
                        Code::WrongType,
                        self.value_span(entry),
                        format!(
                            "`{}` must be a list, found {}",
                            entry.key.text,
                            entry.value.describe()
                        ),
                    )
                    .with_hint("write one item per line, each starting with `- `"),
                );
                None
            }
        }
    }

    /// Runs a shape check on a resolved text; reports `code` at its span on failure.
    fn check_shape(
        &mut self,
        text: &Text,
        code: Code,
        what: &str,
        check: impl FnOnce(&str) -> Result<(), String>,
        hint: &str,
    ) -> bool {
        if !self.resolved(text) {
            return true;
        }
        match check(&text.value) {
            Ok(()) => true,
            Err(why) => {
                let mut diagnostic = Diagnostic::error(
                    code,
                    text.span,
                    format!("{what} {}", self.quote(text, &why)),
                );
                if !hint.is_empty() {
                    diagnostic = diagnostic.with_hint(hint);
                }
                self.push(diagnostic);
                false
            }
        }
    }

    /// "`value` why", or for interpolated text, which may be sensitive,
    /// "from `${NAME}` why" with the value's own words removed from `why`.
    pub(crate) fn quote(&self, text: &Text, why: &str) -> String {
        match self.interpolated.get(&text.span) {
            // An empty value is in every text: there is nothing to remove.
            Some(names) if text.value.is_empty() => format!("from `{names}` (empty) {why}"),
            Some(names) => format!("from `{names}` {}", why.replace(text.value.as_str(), "…")),
            None if text.value.is_empty() => why.to_owned(),
            None => format!("`{}` {why}", text.value),
        }
    }

    fn check_uuid(&mut self, text: &Text, what: &str, hint: &str) -> bool {
        self.check_shape(
            text,
            Code::InvalidId,
            what,
            |s| {
                if crate::names::is_uuid(s) {
                    Ok(())
                } else {
                    Err("is not a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`)".into())
                }
            },
            hint,
        )
    }
}

/// The known entries of a mapping.
pub(crate) struct Fields<'n> {
    entries: &'n [Entry],
    /// Allowed keys that an unknown key was reported as a likely typo of
    /// ("did you mean"): they are not reported missing as well.
    misspelled: Vec<&'static str>,
}

impl<'n> Fields<'n> {
    /// The entries, with no key checked.
    pub(crate) fn raw(entries: &'n [Entry]) -> Self {
        Self {
            entries,
            misspelled: Vec::new(),
        }
    }

    /// Whether `key` is absent because it was misspelled (already reported).
    pub(crate) fn is_misspelled(&self, key: &str) -> bool {
        self.misspelled.contains(&key)
    }

    /// The first entry with `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&'n Entry> {
        self.entries
            .iter()
            .find(|e| e.key.is_scalar && e.key.text == key)
    }
}

const MINIMAL_EXAMPLE: &str = "a minimal configuration:
    version: 1
    secretStores:
      azure:
        type: azure.managed_identity
    envs:
      production:
        DATABASE_PASSWORD:
          from: { store: azure, vault: prod-keyvault, secret: database-password }";

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::{LoadOptions, Source, load};

    /// A large mapping (hashed, not scanned): every repeat points at the first definition.
    #[test]
    fn repeats_in_a_large_mapping_point_at_the_first() {
        let mut text = String::from(
            "version: 1\nsecretStores:\n  s:\n    type: azure.managed_identity\nenvs:\n  prod:\n",
        );
        for i in 0..20 {
            text.push_str(&format!("    V{i}: x\n"));
            if i % 7 == 3 {
                text.push_str("    TWICE: y\n");
            }
        }
        let first = text.find("TWICE").unwrap();
        let loaded = load(
            Source::new("t.yaml", text.as_str()),
            &HashMap::new(),
            LoadOptions::check(),
        );
        let repeats: Vec<_> = loaded
            .diagnostics()
            .iter()
            .filter(|d| d.code == "duplicate-key")
            .collect();
        assert_eq!(repeats.len(), 2, "{repeats:?}");
        for d in repeats {
            assert_eq!(d.notes.first().map(|n| n.span.start), Some(first), "{d:?}");
        }
    }
}
