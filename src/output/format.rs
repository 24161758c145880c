//! The file formats resolved values are written in (`dsops render`):
//! dotenv, JSON and YAML. Each encoder quotes every value so that the
//! format's readers give back exactly the value: POSIX shell single quotes
//! for dotenv (which dotenv parsers read too), JSON strings, YAML
//! double-quoted scalars. The text is returned in a zeroizing string.

use secrecy::{ExposeSecret, SecretString};

/// A file format for resolved values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `NAME='value'` lines (POSIX shell quoting, which dotenv parsers read too).
    Dotenv,
    /// An object of strings, in file order.
    Json,
    /// A mapping of double-quoted strings, in file order.
    Yaml,
}

/// The file's text, kept in a zeroizing string.
pub fn encode(format: Format, values: &[(String, SecretString)]) -> SecretString {
    let mut text = String::new();
    match format {
        Format::Dotenv => {
            for (name, value) in values {
                text.push_str(name);
                text.push('=');
                dotenv_quote(value.expose_secret(), &mut text);
                text.push('\n');
            }
        }
        Format::Json => {
            if values.is_empty() {
                text.push_str("{}\n");
            } else {
                text.push_str("{\n");
                for (index, (name, value)) in values.iter().enumerate() {
                    text.push_str("  ");
                    json_string(name, &mut text);
                    text.push_str(": ");
                    json_string(value.expose_secret(), &mut text);
                    text.push_str(if index + 1 < values.len() {
                        ",\n"
                    } else {
                        "\n"
                    });
                }
                text.push_str("}\n");
            }
        }
        Format::Yaml => {
            if values.is_empty() {
                text.push_str("{}\n");
            }
            for (name, value) in values {
                // Keys are quoted too: `NO`, `ON` or `NULL` are not strings to
                // every YAML reader.
                yaml_string(name, &mut text);
                text.push_str(": ");
                yaml_string(value.expose_secret(), &mut text);
                text.push('\n');
            }
        }
    }
    SecretString::from(text)
}

/// Quotes `value` for a dotenv file, as POSIX `sh` quotes: runs of ordinary
/// characters (newlines included) inside single quotes, and each `'` and `\`
/// outside them as `\'` and `\\`. No character is special inside single
/// quotes, so `$`, `#`, `"`, spaces and newlines need nothing; keeping `\`
/// out of the quotes is for dotenvy, whose line reader takes `\'` inside
/// single quotes as an escaped quote. The empty value is `''`.
pub(crate) fn dotenv_quote(value: &str, out: &mut String) {
    if value.is_empty() {
        out.push_str("''");
        return;
    }
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '\'' | '\\' => {
                if quoted {
                    out.push('\'');
                    quoted = false;
                }
                out.push('\\');
                out.push(c);
            }
            _ => {
                if !quoted {
                    out.push('\'');
                    quoted = true;
                }
                out.push(c);
            }
        }
    }
    if quoted {
        out.push('\'');
    }
}

/// Appends `value` as a JSON string.
pub(crate) fn json_string(value: &str, out: &mut String) {
    // Serialising a `str` cannot fail; the fallback keeps the lints happy.
    match serde_json::to_string(value) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("\"\""),
    }
}

/// A YAML double-quoted scalar: `"` and `\` escaped, and every character
/// YAML does not allow as is (controls, DEL, C1 controls, U+FEFF, U+FFFE,
/// U+FFFF) or that YAML 1.1 readers take as a line break (NEL, U+2028,
/// U+2029) as an escape.
pub(crate) fn yaml_string(value: &str, out: &mut String) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            _ => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    /// A small deterministic generator (xorshift64*), so failures repeat.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// A value made mostly of the characters quoting must get right.
        fn value(&mut self) -> String {
            const HOSTILE: &[char] = &[
                '\'', '"', '\\', '$', '`', '#', ' ', '\t', '\n', '\r', '=', '{', '}', '(', ')',
                '!', '*', '?', ';', '&', '|', '<', '>', '~', 'a', 'Z', '0', 'é', '€', '😀',
                '\u{0}', '\u{7f}', '\u{85}', '\u{2028}', '\u{feff}',
            ];
            let len = self.below(24);
            (0..len)
                .map(|_| match self.below(4) {
                    0 => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('x'),
                    _ => HOSTILE[self.below(HOSTILE.len())],
                })
                .collect()
        }
    }

    fn parse_dotenv(text: &str) -> Vec<(String, String)> {
        dotenvy::from_read_iter(text.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("dotenvy rejects {text:?}: {e}"))
    }

    fn values(list: &[(&str, &str)]) -> Vec<(String, SecretString)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), SecretString::from((*v).to_owned())))
            .collect()
    }

    #[test]
    fn dotenv_quoting_is_posix_single_quotes() {
        let cases = [
            ("", "''"),
            ("plain", "'plain'"),
            ("it's", "'it'\\''s'"),
            ("a\\b", "'a'\\\\'b'"),
            ("\\", "\\\\"),
            ("'", "\\'"),
            ("$HOME #x", "'$HOME #x'"),
            ("two\nlines", "'two\nlines'"),
        ];
        for (value, quoted) in cases {
            let mut out = String::new();
            dotenv_quote(value, &mut out);
            assert_eq!(out, quoted, "{value:?}");
        }
    }

    #[test]
    fn hostile_values_round_trip_through_dotenvy() {
        let hostile = [
            "",
            " ",
            "  leading and trailing  ",
            "'",
            "''",
            "\"",
            "\"\"",
            "\\",
            "\\\\",
            "\\'",
            "'\\",
            "ends with backslash\\",
            "$",
            "$HOME",
            "${HOME}",
            "\\$HOME",
            "#",
            "# not a comment",
            "a #b",
            "=",
            "a=b=c",
            "\n",
            "\r\n",
            "line1\nline2\n",
            "\nstarts with a newline",
            "tab\there",
            "`touch /tmp/pwned`",
            "$(touch /tmp/pwned)",
            "export X=1",
            "é€😀 unicode",
            "x\u{0}y",
            "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
        ];
        let list: Vec<(String, SecretString)> = hostile
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("V{i}"), SecretString::from((*v).to_owned())))
            .collect();
        let text = encode(Format::Dotenv, &list);
        let parsed = parse_dotenv(text.expose_secret());
        let expected: Vec<(String, String)> = hostile
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("V{i}"), (*v).to_owned()))
            .collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn random_values_round_trip_through_dotenvy() {
        let mut random = Random(0x9E37_79B9_7F4A_7C15);
        for round in 0..2000 {
            let count = 1 + random.below(4);
            let list: Vec<(String, String)> = (0..count)
                .map(|i| (format!("VAR_{i}"), random.value()))
                .collect();
            let secret: Vec<(String, SecretString)> = list
                .iter()
                .map(|(n, v)| (n.clone(), SecretString::from(v.clone())))
                .collect();
            let text = encode(Format::Dotenv, &secret);
            assert_eq!(
                parse_dotenv(text.expose_secret()),
                list,
                "round {round}: {:?}",
                text.expose_secret()
            );
        }
    }

    #[test]
    fn json_and_yaml_parse_back_in_order() {
        let mut random = Random(42);
        for _ in 0..500 {
            let list: Vec<(String, String)> =
                (0..3).map(|i| (format!("Z_{i}"), random.value())).collect();
            let secret: Vec<(String, SecretString)> = list
                .iter()
                .map(|(n, v)| (n.clone(), SecretString::from(v.clone())))
                .collect();
            let json = encode(Format::Json, &secret);
            let doc: serde_json::Value = serde_json::from_str(json.expose_secret()).unwrap();
            let object = doc.as_object().unwrap();
            for (name, value) in &list {
                assert_eq!(object[name], value.as_str());
            }
            let yaml = encode(Format::Yaml, &secret);
            let doc: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(yaml.expose_secret())
                    .unwrap_or_else(|e| panic!("{e}: {:?}", yaml.expose_secret()));
            for (name, value) in &list {
                assert_eq!(&doc[name], value, "{:?}", yaml.expose_secret());
            }
        }
        // File order, and keys YAML would read as booleans or null.
        let list = values(&[("ZED", "1"), ("NO", "2"), ("NULL", "3"), ("A", "4")]);
        let json = encode(Format::Json, &list);
        let names: Vec<&str> = json
            .expose_secret()
            .lines()
            .filter_map(|l| l.trim().split('"').nth(1))
            .collect();
        assert_eq!(names, ["ZED", "NO", "NULL", "A"]);
        let yaml = encode(Format::Yaml, &list);
        assert_eq!(
            yaml.expose_secret(),
            "\"ZED\": \"1\"\n\"NO\": \"2\"\n\"NULL\": \"3\"\n\"A\": \"4\"\n"
        );
        assert_eq!(encode(Format::Json, &[]).expose_secret(), "{}\n");
        assert_eq!(encode(Format::Yaml, &[]).expose_secret(), "{}\n");
    }
}
