//! Which scalars a snippet may show.
//!
//! A snippet of `dsops check` must never show a value. Rather than mask the
//! values we recognise (literals, client secrets) and show the rest, every
//! scalar is hidden unless it sits where the format puts a name, a keyword
//! or a setting: a value under an unknown key, in a list, or in a file that
//! is not a dsops configuration at all (`--config .env`) stays hidden.

use super::TOP_KEYS;
use super::env::{VARIABLE_KEYS, all_from_keys};
use super::store::{
    CACHE_KEYS, CLOUD_KEYS, COMMON_KEYS, DEBUG_KEYS, IDENTITY_KEYS, KEYVAULT_ONLY,
    MANAGED_IDENTITY_ONLY, PERFORMANCE_KEYS, RESOURCE_KEYS, SECRET_CACHE_KEYS, TOKEN_CACHE_KEYS,
    fallback_keys,
};
use crate::source::Span;
use crate::yaml::{Entry, Node, NodeKind};

/// Spans of every scalar that is not known to be a name, keyword or setting.
pub(crate) fn hidden_scalars(root: &Node) -> Vec<Span> {
    let mut hidden = Vec::new();
    match &root.kind {
        NodeKind::Map(entries) => {
            for entry in entries {
                match entry.key.text.as_str() {
                    "version" if is_known(entry, TOP_KEYS) => {
                        scalar_only(&entry.value, &mut hidden)
                    }
                    "secretStores" => each_value(&entry.value, &mut hidden, store),
                    "envs" => each_value(&entry.value, &mut hidden, |env, hidden| {
                        each_value(env, hidden, variable)
                    }),
                    _ => hide(&entry.value, &mut hidden),
                }
            }
        }
        _ => hide(root, &mut hidden),
    }
    hidden
}

fn is_known(entry: &Entry, keys: &[&str]) -> bool {
    entry.key.is_scalar && keys.contains(&entry.key.text.as_str())
}

/// Every scalar under `node`.
fn hide(node: &Node, hidden: &mut Vec<Span>) {
    match &node.kind {
        NodeKind::Null => {}
        NodeKind::Scalar { .. } => hidden.push(node.span),
        NodeKind::Seq(items) => items.iter().for_each(|item| hide(item, hidden)),
        NodeKind::Map(entries) => entries.iter().for_each(|e| hide(&e.value, hidden)),
    }
}

/// A scalar is shown; anything nested under it is not.
fn scalar_only(node: &Node, hidden: &mut Vec<Span>) {
    if !matches!(node.kind, NodeKind::Scalar { .. } | NodeKind::Null) {
        hide(node, hidden);
    }
}

/// `f` on each value of a mapping (anything else is hidden).
fn each_value(node: &Node, hidden: &mut Vec<Span>, mut f: impl FnMut(&Node, &mut Vec<Span>)) {
    match &node.kind {
        NodeKind::Map(entries) => entries.iter().for_each(|e| f(&e.value, hidden)),
        _ => hide(node, hidden),
    }
}

/// A mapping whose scalars under `keys` are shown.
fn settings(node: &Node, hidden: &mut Vec<Span>, keys: &[&str]) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for entry in entries {
                if is_known(entry, keys) {
                    scalar_only(&entry.value, hidden);
                } else {
                    hide(&entry.value, hidden);
                }
            }
        }
        _ => hide(node, hidden),
    }
}

fn store(node: &Node, hidden: &mut Vec<Span>) {
    let NodeKind::Map(entries) = &node.kind else {
        return hide(node, hidden);
    };
    for entry in entries {
        let value = &entry.value;
        match entry.key.text.as_str() {
            _ if !entry.key.is_scalar => hide(value, hidden),
            "identity" => settings(value, hidden, IDENTITY_KEYS),
            "auth" => settings(value, hidden, AUTH_KEYS_SHOWN),
            "cloud" => match &value.kind {
                NodeKind::Map(_) => settings(value, hidden, CLOUD_KEYS),
                _ => scalar_only(value, hidden),
            },
            "resources" => each_item(value, hidden, |item, hidden| {
                settings(item, hidden, RESOURCE_KEYS)
            }),
            "cache" => match &value.kind {
                NodeKind::Map(entries) => {
                    for e in entries {
                        match e.key.text.as_str() {
                            "token_cache" if is_known(e, CACHE_KEYS) => {
                                settings(&e.value, hidden, TOKEN_CACHE_KEYS)
                            }
                            "secret_cache" if is_known(e, CACHE_KEYS) => {
                                settings(&e.value, hidden, SECRET_CACHE_KEYS)
                            }
                            _ => hide(&e.value, hidden),
                        }
                    }
                }
                _ => hide(value, hidden),
            },
            "performance" => settings(value, hidden, PERFORMANCE_KEYS),
            "debug" => settings(value, hidden, DEBUG_KEYS),
            "preferred_regions" => match &value.kind {
                NodeKind::Seq(items) => items.iter().for_each(|i| scalar_only(i, hidden)),
                _ => scalar_only(value, hidden),
            },
            "fallback" => each_item(value, hidden, fallback),
            key if COMMON_KEYS.contains(&key)
                || KEYVAULT_ONLY.contains(&key)
                || MANAGED_IDENTITY_ONLY.contains(&key) =>
            {
                scalar_only(value, hidden)
            }
            _ => hide(value, hidden),
        }
    }
}

/// `auth:` keys but the secret.
const AUTH_KEYS_SHOWN: &[&str] = &["client_id", "tenant_id"];

fn each_item(node: &Node, hidden: &mut Vec<Span>, f: impl Fn(&Node, &mut Vec<Span>)) {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().for_each(|i| f(i, hidden)),
        _ => hide(node, hidden),
    }
}

fn fallback(node: &Node, hidden: &mut Vec<Span>) {
    let NodeKind::Map(entries) = &node.kind else {
        return scalar_only(node, hidden);
    };
    let kind = entries
        .iter()
        .find(|e| e.key.text == "type")
        .and_then(|e| match &e.value.kind {
            NodeKind::Scalar { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .unwrap_or("");
    let keys: Vec<&str> = fallback_keys(kind)
        .iter()
        .copied()
        .filter(|k| *k != "client_secret")
        .collect();
    settings(node, hidden, &keys);
}

fn variable(node: &Node, hidden: &mut Vec<Span>) {
    let NodeKind::Map(entries) = &node.kind else {
        // A literal value.
        return hide(node, hidden);
    };
    let from_keys = all_from_keys();
    for entry in entries {
        match entry.key.text.as_str() {
            "from" if is_known(entry, VARIABLE_KEYS) => settings(&entry.value, hidden, from_keys),
            "optional" => scalar_only(&entry.value, hidden),
            _ => hide(&entry.value, hidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn shown(text: &str) -> String {
        let source = Source::new("t.yaml", text);
        let root = crate::yaml::parse(&source).expect("parses");
        crate::report::masked_text(&source, &hidden_scalars(&root))
    }

    #[test]
    fn names_and_settings_show_values_do_not() {
        let text = "version: 1\nsecretStores:\n  kv:\n    type: azure.keyvault\n    vault_name: v\n    auth: { client_id: c, client_secret: s3cr3t, tenant_id: t }\n    fallback: [ { type: service_principal, client_id: c, client_secret: fb5ecret } ]\nenvs:\n  prod:\n    A: literal1\n    B: { from: { store: kv, secret: name }, extra: hidden2 }\n    C: [ inlist3 ]\n    D: { bad: 1 }\nunknown: top4\n";
        let out = shown(text);
        for value in [
            "s3cr3t", "fb5ecret", "literal1", "hidden2", "inlist3", "top4",
        ] {
            assert!(!out.contains(value), "{value} shown in {out}");
        }
        assert!(out.contains("D: { bad: * }"), "{out}");
        for name in [
            "azure.keyvault",
            "vault_name: v",
            "store: kv",
            "secret: name",
            "version: 1",
        ] {
            assert!(out.contains(name), "{name} hidden in {out}");
        }
    }

    #[test]
    fn a_file_that_is_not_a_configuration_shows_nothing() {
        let out = shown("PASSWORD=hunter2\nTOKEN=abc\n");
        assert!(!out.contains("hunter2") && !out.contains("abc"), "{out}");
    }
}
