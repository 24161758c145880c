//! One environment of a configuration, cut out as a small document that
//! `load` reads again: what a program built with `#[dsops::env]` carries.
//!
//! The document keeps `version`, the stores the environment uses and the
//! environment itself, and nothing else: no comment, no other environment,
//! no store it does not use. Strings stay as written, `${NAME}` included,
//! so they are interpolated when the document is loaded (at run time, from
//! the process environment), not when it is cut out (at build time).
//!
//! It is written in YAML's flow style, which for an ordinary file is plain
//! JSON: mappings and strings as JSON writes them. Numbers and booleans keep
//! their source text unquoted (`0x1F` stays `0x1F`), so every scalar means
//! the same when read again.

use std::fmt::Write as _;

use crate::Loaded;
use crate::interpolate::{Environment, interpolate};
use crate::model::ValueSource;
use crate::yaml::{self, Entry, Node, NodeKind};

/// An environment's part of a configuration, ready to embed.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvDocument {
    /// The document: `{"version":1,"secretStores":{...},"envs":{"ENV":{...}}}`.
    pub text: String,
    /// Names of the environment variables its strings read (`${NAME}`), sorted,
    /// each once.
    pub variables: Vec<String>,
    /// Names of the stores it keeps, in file order.
    pub stores: Vec<String>,
}

impl std::fmt::Debug for EnvDocument {
    // The text holds the literal values of the environment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvDocument")
            .field("len", &self.text.len())
            .field("variables", &self.variables)
            .field("stores", &self.stores)
            .finish_non_exhaustive()
    }
}

impl Loaded {
    /// The part of this configuration that environment `env` needs, or `None`
    /// when the configuration has errors or no such environment.
    pub fn env_document(&self, env: &str) -> Option<EnvDocument> {
        let config = self.config()?;
        let environment = config.env(env)?;
        let mut used: Vec<&str> = Vec::new();
        for variable in &environment.variables {
            if let ValueSource::Reference(reference) = &variable.value
                && !used.contains(&reference.store.as_str())
            {
                used.push(reference.store.as_str());
            }
        }
        let root = yaml::parse(self.source()).ok()?;
        let NodeKind::Map(top) = &root.kind else {
            return None;
        };
        let mut text = String::from("{");
        let mut first = true;
        if let Some(version) = field(top, "version") {
            member(&mut text, &mut first, "version");
            write_node(&mut text, &version.value);
        }
        member(&mut text, &mut first, "secretStores");
        text.push('{');
        let mut stores = Vec::new();
        if let Some(entries) = field(top, "secretStores").and_then(|e| mapping(&e.value)) {
            let mut first_store = true;
            for entry in entries
                .iter()
                .filter(|e| used.contains(&e.key.text.as_str()))
            {
                member(&mut text, &mut first_store, &entry.key.text);
                write_node(&mut text, &entry.value);
                stores.push(entry.key.text.clone());
            }
        }
        text.push('}');
        member(&mut text, &mut first, "envs");
        text.push('{');
        let env_entry = field(top, "envs")
            .and_then(|e| mapping(&e.value))
            .and_then(|entries| field(entries, env))?;
        let mut first_env = true;
        member(&mut text, &mut first_env, &env_entry.key.text);
        write_node(&mut text, &env_entry.value);
        text.push_str("}}");
        let mut variables = Vec::new();
        collect_variables(&root_of(top, &used, env), &[], &mut variables);
        variables.sort();
        variables.dedup();
        Some(EnvDocument {
            text,
            variables,
            stores,
        })
    }
}

impl Loaded {
    /// The environment variables whose values can change what the file
    /// means, or whether it is valid: every `${NAME}` in any part of it,
    /// sorted, each once, except those in secret text (literal values,
    /// client secrets). Nothing checks a secret's value, and a build system
    /// watching a variable records its value, which must not happen to a
    /// secret. Empty when the file is not YAML.
    pub fn variables_to_watch(&self) -> Vec<String> {
        let Ok(root) = yaml::parse(self.source()) else {
            return Vec::new();
        };
        let mut variables = Vec::new();
        collect_variables(&[&root], self.sensitive_spans(), &mut variables);
        variables.sort();
        variables.dedup();
        variables
    }
}

/// The nodes the document keeps, for collecting the variables they read.
fn root_of<'a>(top: &'a [Entry], used: &[&str], env: &str) -> Vec<&'a Node> {
    let mut nodes = Vec::new();
    if let Some(entries) = field(top, "secretStores").and_then(|e| mapping(&e.value)) {
        nodes.extend(
            entries
                .iter()
                .filter(|e| used.contains(&e.key.text.as_str()))
                .map(|e| &e.value),
        );
    }
    if let Some(entry) = field(top, "envs")
        .and_then(|e| mapping(&e.value))
        .and_then(|entries| field(entries, env))
    {
        nodes.push(&entry.value);
    }
    nodes
}

/// The `${NAME}`s of the strings under `nodes`, except those at `skip`.
fn collect_variables(nodes: &[&Node], skip: &[crate::Span], out: &mut Vec<String>) {
    struct Nothing;
    impl Environment for Nothing {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }
    let mut stack: Vec<&Node> = nodes.to_vec();
    while let Some(node) = stack.pop() {
        match &node.kind {
            NodeKind::Scalar { text, .. } if text.contains("${") && !skip.contains(&node.span) => {
                out.extend(interpolate(text, &Nothing).variables);
            }
            NodeKind::Seq(items) => stack.extend(items.iter()),
            NodeKind::Map(entries) => stack.extend(entries.iter().map(|e| &e.value)),
            NodeKind::Null | NodeKind::Scalar { .. } => {}
        }
    }
}

fn field<'a>(entries: &'a [Entry], key: &str) -> Option<&'a Entry> {
    entries
        .iter()
        .find(|e| e.key.is_scalar && e.key.text == key)
}

fn mapping(node: &Node) -> Option<&[Entry]> {
    match &node.kind {
        NodeKind::Map(entries) => Some(entries),
        _ => None,
    }
}

fn member(text: &mut String, first: &mut bool, key: &str) {
    if !*first {
        text.push(',');
    }
    *first = false;
    write_string(text, key);
    text.push(':');
}

fn write_node(text: &mut String, node: &Node) {
    match &node.kind {
        NodeKind::Null => text.push_str("null"),
        NodeKind::Scalar {
            text: value,
            typed: yaml::Typed::Str,
        } => write_string(text, value),
        // Numbers and booleans: their source text, which a plain scalar reads back the same.
        NodeKind::Scalar { text: value, .. } => text.push_str(value.trim()),
        NodeKind::Seq(items) => {
            text.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                write_node(text, item);
            }
            text.push(']');
        }
        NodeKind::Map(entries) => {
            text.push('{');
            let mut first = true;
            for entry in entries {
                member(text, &mut first, &entry.key.text);
                write_node(text, &entry.value);
            }
            text.push('}');
        }
    }
}

/// A JSON string, which is also a YAML double-quoted scalar of the same text.
fn write_string(text: &mut String, value: &str) {
    text.push('"');
    for c in value.chars() {
        match c {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            // Other control characters, and the characters YAML treats as line
            // breaks or does not allow in a document, escaped.
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{feff}' => {
                let _ = write!(text, "\\u{:04x}", u32::from(c));
            }
            c => text.push(c),
        }
    }
    text.push('"');
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{LoadOptions, Source, load};

    const FILE: &str = r#"# canary comment: do-not-embed
version: 1
secretStores:
  azure:
    type: azure.managed_identity
    identity: { type: user_assigned, client_id: "${APP_ID:-12345678-1234-1234-1234-123456789012}" }
    cache: { token_cache: { enabled: true, buffer: 0x12C } }
  unused:
    type: azure.managed_identity
  other:
    type: azure.managed_identity
envs:
  production:
    API_KEY:
      from: { store: azure, vault: "${VAULT}", secret: 0x1F }
    QUOTED: "tab\there \"quoted\" \\ done"
    PORT: 8080
    FLAG:
      from: { store: azure, vault: v-1, secret: s }
      optional: true
  staging:
    OTHER:
      from: { store: other, vault: secret-staging-vault, secret: s }
"#;

    fn env() -> HashMap<String, String> {
        HashMap::from([("VAULT".to_owned(), "my-vault".to_owned())])
    }

    #[test]
    fn keeps_the_environment_and_its_stores_only() {
        let loaded = load(
            Source::new("dsops.yaml", FILE),
            &env(),
            LoadOptions::check(),
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics());
        let doc = loaded.env_document("production").unwrap();
        for absent in [
            "canary",
            "staging",
            "secret-staging-vault",
            "unused",
            "other",
        ] {
            assert!(!doc.text.contains(absent), "{absent} in {}", doc.text);
        }
        assert!(doc.text.contains("${VAULT}"), "{}", doc.text);
        assert!(doc.text.contains(":0x1F"), "{}", doc.text);
        assert_eq!(doc.variables, ["APP_ID", "VAULT"]);
        assert_eq!(loaded.variables_to_watch(), ["APP_ID", "VAULT"]);
        assert_eq!(doc.stores, ["azure"]);
        // It is JSON when the file has no hexadecimal number.
        let json = doc.text.replace("0x1F", "31").replace("0x12C", "300");
        serde_json::from_str::<serde_json::Value>(&json).unwrap();
    }

    #[test]
    fn reads_back_to_the_same_environment() {
        let loaded = load(
            Source::new("dsops.yaml", FILE),
            &env(),
            LoadOptions::check(),
        );
        let doc = loaded.env_document("production").unwrap();
        let again = load(
            Source::new("embedded", doc.text.clone()),
            &env(),
            LoadOptions::resolve(),
        );
        assert!(!again.has_errors(), "{:?}", again.diagnostics());
        let config = again.config().unwrap();
        let original = loaded.config().unwrap().env("production").unwrap();
        let copy = config.env("production").unwrap();
        let names = |e: &crate::model::Environment| {
            e.variables
                .iter()
                .map(|v| (v.name.value.clone(), v.optional))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(original), names(copy));
        let Some(ValueSource::Reference(reference)) =
            copy.variable("API_KEY").map(|v| v.value.clone())
        else {
            panic!("not a reference")
        };
        let crate::model::Target::KeyVault(kv) = &reference.target else {
            panic!("not key vault")
        };
        assert_eq!(kv.name.value, "0x1F");
        assert_eq!(kv.vault.as_ref().unwrap().text().value, "my-vault");
        let store = config.store("azure").unwrap();
        assert_eq!(store.cache.token_buffer.as_secs(), 300);
        use secrecy::ExposeSecret;
        let literal = |name: &str| match &copy.variable(name).unwrap().value {
            ValueSource::Literal(s) => s.value.expose_secret().to_owned(),
            ValueSource::Reference(_) => panic!("not a literal"),
        };
        assert_eq!(literal("QUOTED"), "tab\there \"quoted\" \\ done");
        assert_eq!(literal("PORT"), "8080");
        assert_eq!(config.envs.len(), 1);
        assert_eq!(config.stores.len(), 1);
    }

    #[test]
    fn unusual_characters_survive() {
        let value = "a\u{1}b\u{2028}c\u{85}é🦀";
        let file = format!(
            "envs:\n  e:\n    X: \"{}\"\n",
            value
                .replace('\u{1}', "\\x01")
                .replace('\u{2028}', "\\L")
                .replace('\u{85}', "\\N")
        );
        let loaded = load(
            Source::new("dsops.yaml", file),
            &HashMap::new(),
            LoadOptions::check(),
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics());
        let doc = loaded.env_document("e").unwrap();
        let again = load(
            Source::new("embedded", doc.text.clone()),
            &HashMap::new(),
            LoadOptions::resolve(),
        );
        let config = again.config().unwrap();
        use secrecy::ExposeSecret;
        let ValueSource::Literal(s) = &config.env("e").unwrap().variables[0].value else {
            panic!("not a literal")
        };
        assert_eq!(s.value.expose_secret(), value);
    }

    #[test]
    fn secrets_are_not_watched() {
        let text = "secretStores:\n  azure:\n    type: azure.managed_identity\n    fallback:\n      - type: service_principal\n        client_id: ${CLIENT_ID:-55555555-5555-5555-5555-555555555555}\n        client_secret: ${CLIENT_SECRET}\n        tenant_id: 66666666-6666-6666-6666-666666666666\nenvs:\n  e:\n    PASSWORD: ${DB_PASSWORD}\n    X: { from: { store: azure, vault: v-1, secret: s } }\n";
        let loaded = load(
            Source::new("dsops.yaml", text),
            &HashMap::new(),
            LoadOptions::check(),
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics());
        assert_eq!(loaded.variables_to_watch(), ["CLIENT_ID"]);
        let doc = loaded.env_document("e").unwrap();
        assert_eq!(doc.variables, ["CLIENT_ID", "CLIENT_SECRET", "DB_PASSWORD"]);
    }

    #[test]
    fn nothing_for_an_unknown_environment_or_an_invalid_file() {
        let loaded = load(
            Source::new("dsops.yaml", FILE),
            &env(),
            LoadOptions::check(),
        );
        assert!(loaded.env_document("nope").is_none());
        let bad = load(
            Source::new("dsops.yaml", "envs:\n  e:\n    X: { from: 1 }\n"),
            &HashMap::new(),
            LoadOptions::check(),
        );
        assert!(bad.env_document("e").is_none());
    }
}
