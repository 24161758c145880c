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
use secrecy::ExposeSecret;

use crate::exit;
use crate::output;
use crate::resolve::{self, EnvArgs};

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
            output::problem(
                &format!(
                    "cannot tell the format of {} from its extension",
                    args.out.display()
                ),
                Some("give it with --format dotenv, --format json or --format yaml"),
            );
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
    let text = dsops::format::encode(format.into(), &resolution.values);
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
impl From<FileFormat> for dsops::format::Format {
    fn from(format: FileFormat) -> Self {
        match format {
            FileFormat::Dotenv => Self::Dotenv,
            FileFormat::Json => Self::Json,
            FileFormat::Yaml => Self::Yaml,
        }
    }
}

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
