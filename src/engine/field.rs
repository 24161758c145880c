//! `field:`: one field of a secret whose value is JSON (a very common Key
//! Vault pattern: one secret holding a service's whole configuration).
//! Errors say what is wrong with the path, never a value: not "expected a
//! string, found 42", but "is a number, not a string".

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::failure::Failure;

/// The string at `path` of `value` read as JSON.
pub(super) fn select(value: &SecretString, path: &[String]) -> Result<SecretString, Failure> {
    let fail = |message: String| {
        Failure::plain(
            message,
            Some(
                "`az keyvault secret show --vault-name VAULT --name NAME --query value -o tsv` shows the secret (in a private terminal); field names are case-sensitive".to_owned(),
            ),
        )
    };
    // The parsed document holds copies of the value's parts; it is dropped
    // before this returns (serde_json's strings are not zeroized).
    let document: Value = serde_json::from_str(value.expose_secret()).map_err(|error| {
        fail(format!(
            "the secret's value is not JSON (line {}, column {}), so `field` {} cannot be read from it",
            error.line(),
            error.column(),
            display(path)
        ))
    })?;
    let mut node = &document;
    for (depth, name) in path.iter().enumerate() {
        let here = display(path.get(..depth).unwrap_or_default());
        let next = match node {
            Value::Object(members) => members.get(name),
            Value::Array(items) => name.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        node = match next {
            Some(next) => next,
            None => {
                let container = if depth == 0 {
                    "the secret's JSON".to_owned()
                } else {
                    format!("`{here}`")
                };
                return Err(fail(match node {
                    Value::Object(_) => format!("{container} has no member `{}`", escape(name)),
                    Value::Array(items) => format!(
                        "{container} is a list of {} items: `{}` is not an index of it",
                        items.len(),
                        escape(name)
                    ),
                    other => format!(
                        "{container} is {}, which has no member `{}`",
                        kind(other),
                        escape(name)
                    ),
                }));
            }
        };
    }
    match node {
        Value::String(text) => Ok(SecretString::from(text.clone())),
        other => Err(fail(format!(
            "`{}` is {}, not a string: `field` selects a string",
            display(path),
            kind(other)
        ))),
    }
}

/// What a JSON node is, without its value.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A path as written: names joined by dots, dots and backslashes in a name
/// escaped; control characters escaped (the names come from the file).
pub(super) fn display(path: &[String]) -> String {
    path.iter()
        .map(|name| escape(&name.replace('\\', "\\\\").replace('.', "\\.")))
        .collect::<Vec<_>>()
        .join(".")
}

fn escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn path(p: &str) -> Vec<String> {
        dsops_config::model::Field::parse_path(p).unwrap()
    }

    fn pick(json: &str, p: &str) -> Result<String, String> {
        select(&SecretString::from(json.to_owned()), &path(p))
            .map(|v| v.expose_secret().to_owned())
            .map_err(|f| f.message)
    }

    #[test]
    fn selects_nested_strings_and_never_shows_a_value() {
        let doc =
            r#"{"db":{"password":"CANARY-pw","port":5432},"a.b":{"c":"dotted"},"list":["x","y"]}"#;
        assert_eq!(pick(doc, "db.password").unwrap(), "CANARY-pw");
        assert_eq!(pick(doc, "a\\.b.c").unwrap(), "dotted");
        assert_eq!(pick(doc, "list.1").unwrap(), "y");
        for (p, expected) in [
            ("db.port", "`db.port` is a number, not a string"),
            ("db", "`db` is an object, not a string"),
            ("db.user", "`db` has no member `user`"),
            ("nothing", "the secret's JSON has no member `nothing`"),
            (
                "list.9",
                "`list` is a list of 2 items: `9` is not an index of it",
            ),
            (
                "db.password.x",
                "`db.password` is a string, which has no member `x`",
            ),
        ] {
            let message = pick(doc, p).unwrap_err();
            assert!(message.starts_with(expected), "{message}");
            assert!(!message.contains("CANARY"));
        }
        let message = pick("CANARY not json", "a").unwrap_err();
        assert!(
            message.starts_with("the secret's value is not JSON"),
            "{message}"
        );
        assert!(!message.contains("CANARY"), "{message}");
    }
}
