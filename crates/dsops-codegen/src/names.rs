//! Field names: the snake case of a variable's name, as a Rust identifier.

use proc_macro2::{Ident, Span};

/// Words Rust reserves in any edition this crate may be used from: they
/// become raw identifiers (`r#type`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Words that cannot be identifiers, not even raw ones.
const FORBIDDEN: &[&str] = &["_", "crate", "self", "Self", "super"];

/// The snake case of a variable name (`[A-Za-z_][A-Za-z0-9_]*`).
///
/// `DATABASE_PASSWORD` is `database_password`: a name without a lowercase
/// letter is only lowercased. A name with lowercase letters is split into
/// words at case changes as well: `apiKey` and `ApiKey` are `api_key`,
/// `HTTPServer` is `http_server`. Underscores, leading ones too, are kept.
pub fn snake_case(name: &str) -> String {
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return name.to_ascii_lowercase();
    }
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j));
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(char::is_ascii_lowercase),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The identifier of a field name: raw for keywords; an error for the words
/// that cannot be identifiers at all.
pub fn field_ident(field: &str) -> Result<Ident, String> {
    if FORBIDDEN.contains(&field) {
        return Err(format!(
            "`{field}` cannot be a field name in Rust, not even as a raw identifier"
        ));
    }
    let starts_well = field
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
    if !starts_well || !field.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return Err(format!("`{field}` is not a Rust identifier"));
    }
    if KEYWORDS.contains(&field) {
        Ok(Ident::new_raw(field, Span::call_site()))
    } else {
        Ok(Ident::new(field, Span::call_site()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        for (name, field) in [
            ("DATABASE_PASSWORD", "database_password"),
            ("X509_CERT", "x509_cert"),
            ("OAUTH2TOKEN", "oauth2token"),
            ("apiKey", "api_key"),
            ("ApiKey", "api_key"),
            ("APIKey", "api_key"),
            ("HTTPServer", "http_server"),
            ("api2Key", "api2_key"),
            ("already_snake", "already_snake"),
            ("Mixed_Case", "mixed_case"),
            ("_PRIVATE", "_private"),
            ("__X", "__x"),
            ("TYPE", "type"),
        ] {
            assert_eq!(snake_case(name), field, "{name}");
        }
    }

    #[test]
    fn identifiers() {
        assert_eq!(
            field_ident("database_url").unwrap().to_string(),
            "database_url"
        );
        assert_eq!(field_ident("type").unwrap().to_string(), "r#type");
        assert_eq!(field_ident("gen").unwrap().to_string(), "r#gen");
        assert_eq!(field_ident("async").unwrap().to_string(), "r#async");
        assert!(
            field_ident("self")
                .unwrap_err()
                .contains("not even as a raw")
        );
        assert!(field_ident("_").is_err());
        assert!(field_ident("9x").is_err());
    }
}
