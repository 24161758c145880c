//! `dsops render`: resolves an environment into a file (dotenv, JSON or
//! YAML), written whole or not at all, readable by its owner only.
//!
//! The file is first written to a new temporary file in the same directory,
//! created with mode 0600, flushed to disk, and then renamed over the
//! destination: a reader sees the old file or the new one, never half of
//! one. When resolution or any step fails, nothing is written and no
//! temporary file is left.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::exit;
use super::output;
use super::resolve::{self, EnvArgs};

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    common: EnvArgs,

    /// The file to write (replaced whole).
    #[arg(long, value_name = "PATH")]
    out: PathBuf,

    /// The file's format (default: from the extension: `.env`, `.dotenv` or
    /// none for dotenv, `.json`, `.yaml` or `.yml`).
    #[arg(long, value_enum)]
    format: Option<FileFormat>,
}

/// What `render` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FileFormat {
    /// `NAME='value'` lines (POSIX shell quoting, which dotenv parsers read too).
    Dotenv,
    /// An object of strings, in file order.
    Json,
    /// A mapping of double-quoted strings, in file order.
    Yaml,
}

pub(crate) fn run(config: &Path, args: &RenderArgs) -> u8 {
    let format = match args.format.or_else(|| format_of(&args.out)) {
        Some(format) => format,
        None => {
            output::stderr(&format!(
                "error: cannot tell the format of {} from its extension\n  hint: give it with --format dotenv, --format json or --format yaml\n",
                args.out.display()
            ));
            return exit::USAGE;
        }
    };
    let resolution = match resolve::load_and_resolve(config, &args.common) {
        Ok((_, resolution)) => resolution,
        Err(code) => return code,
    };
    if resolution.failed() {
        return resolve::failed(
            &resolution,
            &format!("{} was not written", args.out.display()),
        );
    }
    resolve::print_problems(&resolution.problems);
    let text = encode(format, &resolution.values);
    drop(resolution);
    match write_atomically(&args.out, text.expose_secret().as_bytes()) {
        Ok(()) => exit::OK,
        Err(error) => {
            output::error(
                &error,
                Some("nothing was written; check the directory exists and may be written to"),
            );
            exit::FAILED
        }
    }
}

/// The format an output path implies.
fn format_of(path: &Path) -> Option<FileFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    // `.env` is a file name with no extension to `Path`.
    if name == ".env" || name == ".dotenv" {
        return Some(FileFormat::Dotenv);
    }
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
    {
        None => Some(FileFormat::Dotenv),
        Some(ext) => match ext.as_str() {
            "env" | "dotenv" => Some(FileFormat::Dotenv),
            "json" => Some(FileFormat::Json),
            "yaml" | "yml" => Some(FileFormat::Yaml),
            _ => None,
        },
    }
}

/// The file's text, kept in a zeroizing string.
pub(crate) fn encode(format: FileFormat, values: &[(String, SecretString)]) -> SecretString {
    let mut text = String::new();
    match format {
        FileFormat::Dotenv => {
            for (name, value) in values {
                text.push_str(name);
                text.push('=');
                dotenv_quote(value.expose_secret(), &mut text);
                text.push('\n');
            }
        }
        FileFormat::Json => {
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
        FileFormat::Yaml => {
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

/// A JSON string.
fn json_string(value: &str, out: &mut String) {
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

/// Why the file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {what}")]
pub(crate) struct WriteError {
    path: String,
    what: &'static str,
    #[source]
    source: std::io::Error,
}

/// Writes `bytes` to `path` through a new 0600 file in the same directory,
/// flushed and renamed over `path`. On failure the temporary file is removed
/// and `path` is as it was.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let error = |what: &'static str| {
        let path = path.display().to_string();
        move |source| WriteError { path, what, source }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))
        .map_err(error("it names no file"))?;
    let (temp, mut file) =
        create_temp(dir, &name).map_err(error("cannot create a temporary file beside it"))?;
    let written = file
        .write_all(bytes)
        .map_err(error("cannot write the temporary file"))
        .and_then(|()| {
            file.sync_all()
                .map_err(error("cannot flush the temporary file to disk"))
        })
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temp, path).map_err(error("cannot rename the temporary file over it"))
        });
    if let Err(failure) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(failure);
    }
    // The rename is durable once the directory is; not every platform can
    // open a directory, and the file is complete either way.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A new file `.NAME.dsops-PID-N.tmp` in `dir`, mode 0600, that did not exist.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp = dir.join(format!(".{name}.dsops-{pid}-{nanos:x}{attempt}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

#[cfg(test)]
mod tests {
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
        let text = encode(FileFormat::Dotenv, &list);
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
            let text = encode(FileFormat::Dotenv, &secret);
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
            let json = encode(FileFormat::Json, &secret);
            let doc: serde_json::Value = serde_json::from_str(json.expose_secret()).unwrap();
            let object = doc.as_object().unwrap();
            for (name, value) in &list {
                assert_eq!(object[name], value.as_str());
            }
            let yaml = encode(FileFormat::Yaml, &secret);
            let doc: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(yaml.expose_secret())
                    .unwrap_or_else(|e| panic!("{e}: {:?}", yaml.expose_secret()));
            for (name, value) in &list {
                assert_eq!(&doc[name], value, "{:?}", yaml.expose_secret());
            }
        }
        // File order, and keys YAML would read as booleans or null.
        let list = values(&[("ZED", "1"), ("NO", "2"), ("NULL", "3"), ("A", "4")]);
        let json = encode(FileFormat::Json, &list);
        let names: Vec<&str> = json
            .expose_secret()
            .lines()
            .filter_map(|l| l.trim().split('"').nth(1))
            .collect();
        assert_eq!(names, ["ZED", "NO", "NULL", "A"]);
        let yaml = encode(FileFormat::Yaml, &list);
        assert_eq!(
            yaml.expose_secret(),
            "\"ZED\": \"1\"\n\"NO\": \"2\"\n\"NULL\": \"3\"\n\"A\": \"4\"\n"
        );
        assert_eq!(encode(FileFormat::Json, &[]).expose_secret(), "{}\n");
        assert_eq!(encode(FileFormat::Yaml, &[]).expose_secret(), "{}\n");
    }

    #[test]
    fn formats_come_from_extensions() {
        let of = |p: &str| format_of(Path::new(p));
        assert_eq!(of(".env"), Some(FileFormat::Dotenv));
        assert_eq!(of("dir/.env"), Some(FileFormat::Dotenv));
        assert_eq!(of("prod.env"), Some(FileFormat::Dotenv));
        assert_eq!(of("x.dotenv"), Some(FileFormat::Dotenv));
        assert_eq!(of("secrets"), Some(FileFormat::Dotenv));
        assert_eq!(of("a.JSON"), Some(FileFormat::Json));
        assert_eq!(of("a.yaml"), Some(FileFormat::Yaml));
        assert_eq!(of("a.yml"), Some(FileFormat::Yaml));
        assert_eq!(of("a.toml"), None);
    }
}
