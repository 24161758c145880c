//! `dsops render`: resolves an environment into a file (dotenv, JSON or
//! YAML, or a `--template` filled in), written whole or not at all,
//! readable by its owner only; or onto stdout (`--out -`).
//!
//! A file is first written to a new temporary file in the same directory,
//! created with mode 0600, flushed to disk, and then renamed over the
//! destination: a reader sees the old file or the new one, never half of
//! one. When resolution or any step fails, nothing is written and no
//! temporary file is left.
//!
//! What `--out` names decides how it is written ([`Destination`]):
//!
//! - `-`, or a link that leads to `/proc/self/fd/1` or `/dev/fd/1` (what
//!   `/dev/stdout` is): dsops's own stdout, written through its handle.
//! - Nothing yet, a regular file, or a link to a regular file (or a
//!   dangling link): replaced atomically as above. A link is replaced, not
//!   followed: the file it pointed at is left as it was.
//! - A FIFO, a terminal or another device, a link to one, or a link into
//!   `/proc/*/fd/` or `/dev/fd/` (`/dev/stdout`, `/dev/stderr`, whatever
//!   they lead to): written through as a stream, appended, never replaced.
//!   Replacing one would break it for everyone (`/dev/stdout` of a
//!   container run as root, say). Mode 0600 does not apply: the stream is
//!   whatever it is.
//! - A directory, or a socket: refused, with why.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use dsops::template::{Template, TemplateError};
use secrecy::{ExposeSecret, SecretString};

use crate::exit;
use crate::output;
use crate::private_fs;
use crate::resolve::{self, EnvArgs};

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    common: EnvArgs,

    /// The file to write (replaced whole, mode 0600), or `-` for stdout. A
    /// FIFO, a device or a link to one (`/dev/stdout`) is written through,
    /// never replaced.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,

    /// The file's format (default: from the extension: `.env`, `.dotenv` or
    /// none for dotenv, `.json`, `.yaml` or `.yml`; dotenv for `-`).
    #[arg(long, value_enum, conflicts_with = "template")]
    format: Option<FileFormat>,

    /// Fill this template's `{{ NAME }}` placeholders instead of writing a
    /// format (`{{ "{{" }}` is a literal `{{`; see docs/commands.md).
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
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

/// What is rendered: a format, or a template.
enum Shape {
    Format(FileFormat),
    Template { path: PathBuf, template: Template },
}

pub(crate) fn run(config: &Path, args: &RenderArgs) -> u8 {
    let shape = match shape(args) {
        Ok(shape) => shape,
        Err(code) => return code,
    };
    let usable = match resolve::load_for(config, &args.common) {
        Ok(usable) => usable,
        Err(code) => return code,
    };
    // Every placeholder names a variable, before anything is fetched.
    if let Shape::Template { path, template } = &shape {
        let env = &args.common.env;
        let known = usable.config().env(env);
        let checked = template.check_names(env, |name| {
            known.is_some_and(|environment| environment.variable(name).is_some())
        });
        if let Err(error) = checked {
            return template_error(path, &error, &args.out);
        }
    }
    let resolution = match resolve::resolve_loaded(&usable, &args.common) {
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
    let text: SecretString = match &shape {
        Shape::Format(format) => dsops::format::encode((*format).into(), &resolution.values),
        Shape::Template { path, template } => match template.fill(|name| resolution.value(name)) {
            Ok(text) => text,
            Err(error) => return template_error(path, &error, &args.out),
        },
    };
    drop(resolution);
    match write_out(&args.out, text.expose_secret().as_bytes()) {
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

/// The format or the template, or the exit code after an error.
fn shape(args: &RenderArgs) -> Result<Shape, u8> {
    if let Some(path) = &args.template {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                output::error(
                    &ReadTemplate {
                        path: path.display().to_string(),
                        source: error,
                    },
                    Some("--template names a UTF-8 text file"),
                );
                return Err(exit::FAILED);
            }
        };
        return match Template::parse(&text) {
            Ok(template) => Ok(Shape::Template {
                path: path.clone(),
                template,
            }),
            Err(error) => Err(template_error(path, &error, &args.out)),
        };
    }
    let format = if args.out.as_os_str() == "-" {
        Some(args.format.unwrap_or(FileFormat::Dotenv))
    } else {
        args.format.or_else(|| format_of(&args.out))
    };
    match format {
        Some(format) => Ok(Shape::Format(format)),
        None => {
            output::problem(
                &format!(
                    "cannot tell the format of {} from its extension",
                    args.out.display()
                ),
                Some("give it with --format dotenv, --format json or --format yaml"),
            );
            Err(exit::USAGE)
        }
    }
}

/// A template that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the template {path}")]
struct ReadTemplate {
    path: String,
    #[source]
    source: std::io::Error,
}

/// "error: app.conf.tpl:3:7: ...; OUT was not written"; exit 1.
fn template_error(path: &Path, error: &TemplateError, out: &Path) -> u8 {
    let hint = match error {
        TemplateError::UnknownVariable { .. } => {
            "a placeholder names a variable of the environment (`dsops plan --env ENV` lists them)"
        }
        TemplateError::Unresolved { .. } => {
            "the variable is optional and failed (see the warning above); make it required, give it a `default:`, or fix its source"
        }
        _ => "placeholders are `{{ NAME }}`; a literal `{{` is `{{ \"{{\" }}`",
    };
    output::problem(
        &format!(
            "{}:{error}; {} was not written",
            path.display(),
            out.display()
        ),
        Some(hint),
    );
    exit::FAILED
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

/// How `--out` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    /// `-`.
    Stdout,
    /// Written through, appended: a FIFO, a terminal, a device, or a link
    /// to one, or a link into `/proc/*/fd/` or `/dev/fd/`.
    Stream,
    /// Replaced atomically: nothing there, a regular file, or a link to
    /// one (the link is replaced, not followed), or a dangling link.
    File,
}

/// What `path` is, for [`write_out`]; an error for a directory or a socket.
fn destination(path: &Path) -> std::io::Result<Destination> {
    use std::io::{Error, ErrorKind};
    if path.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    let own = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Destination::File),
        Err(error) => return Err(error),
    };
    if own.file_type().is_symlink()
        && let Some(descriptor) = leads_to_a_descriptor(path)
    {
        // dsops's own stdout (`/dev/stdout`): written through the handle it
        // already has, which works whatever it is (a socket too, which
        // cannot be opened again by path) and keeps its offset.
        let own_stdout = [Path::new("/proc/self/fd/1"), Path::new("/dev/fd/1")];
        return Ok(if own_stdout.contains(&descriptor.as_path()) {
            Destination::Stdout
        } else {
            Destination::Stream
        });
    }
    let target = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // A dangling link: replaced, as a missing file is created.
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(Destination::File),
        Err(error) => return Err(error),
    };
    let kind = target.file_type();
    if kind.is_file() {
        return Ok(Destination::File);
    }
    if kind.is_dir() {
        return Err(Error::new(ErrorKind::IsADirectory, "it is a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_socket() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "it is a socket, which cannot be written as a file",
            ));
        }
    }
    // A FIFO, a character or block device.
    Ok(Destination::Stream)
}

/// The descriptor path (`/proc/self/fd/1`) a link, or a link it leads to,
/// points to, when it points into `/proc/*/fd/` or `/dev/fd/`: a process's
/// open file (what `/dev/stdout` is), to be written through even when it
/// is a regular file, never replaced.
fn leads_to_a_descriptor(path: &Path) -> Option<PathBuf> {
    let mut current = path.to_path_buf();
    // As many hops as the kernel follows.
    for _ in 0..40 {
        let target = std::fs::read_link(&current).ok()?;
        let target = match current.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
        let text = target.to_string_lossy();
        let in_proc = text.starts_with("/proc/")
            && target
                .components()
                .nth(3)
                .is_some_and(|c| c.as_os_str() == "fd");
        if in_proc || text.starts_with("/dev/fd/") {
            return Some(target);
        }
        current = target;
    }
    None
}

/// Writes `bytes` where `path` says: stdout, through a stream, or
/// replacing a file atomically.
fn write_out(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let error = |what: &'static str| {
        let path = path.display().to_string();
        move |source| WriteError { path, what, source }
    };
    match destination(path).map_err(error("it is neither a file nor a stream"))? {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(error("cannot write to stdout"))
        }
        Destination::Stream => {
            let mut stream = OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(error("cannot open it for writing"))?;
            stream
                .write_all(bytes)
                .and_then(|()| stream.flush())
                .map_err(error("cannot write to it"))
        }
        Destination::File => write_atomically(path, bytes),
    }
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
    private_fs::create_unique(
        |tag| dir.join(format!(".{name}.dsops-{tag}.tmp")),
        |temp| private_fs::file_options().open(temp),
    )
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
