//! `dsops exec`: resolves an environment and runs a program with its
//! variables.
//!
//! The values go only into the child's environment (or, with `--files`,
//! only into files of a private directory, see [`crate::files`]), never on
//! a command line. Nothing is started when a required variable fails. The
//! child inherits stdin, stdout and stderr (when masking, which is the
//! default when `CI` is set, its stdout and stderr go through a
//! [`RedactingWriter`](dsops::redact::RedactingWriter) each instead);
//! SIGINT, SIGTERM and SIGHUP sent to dsops are passed on to it; dsops
//! exits with the child's code, or 128 + the signal that killed it, or 125
//! ([`exit::EXEC_FAILED`]) when dsops itself fails before the child runs.

use std::ffi::OsString;
use std::path::Path;

use clap::Args;
use secrecy::ExposeSecret;

use crate::child;
use crate::exit;
use crate::files::{self, ValueFiles};
use crate::output;
use crate::resolve::{self, EnvArgs};

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    common: EnvArgs,

    /// Leave variables that are already set in dsops's environment as they
    /// are (by default the resolved values win).
    #[arg(long)]
    allow_override: bool,

    /// Replace the resolved values (and their JSON-escaped and URL-encoded
    /// forms) with `***` in the command's stdout and stderr. The default
    /// when the `CI` environment variable is set (to anything but `false`
    /// or `0`).
    #[arg(long, overrides_with = "no_mask_output")]
    mask_output: bool,

    /// Leave the command's output as it is, also when `CI` is set.
    #[arg(long)]
    no_mask_output: bool,

    /// Write each value to its own file (mode 0600, named after the
    /// variable) in a new private directory instead of the command's
    /// environment; the command gets the directory in `DSOPS_FILES`, and
    /// `{}` in its arguments is replaced by it. The directory is removed
    /// when the command exits.
    #[arg(long, conflicts_with = "allow_override")]
    files: bool,

    /// The program to run, and its arguments (after `--` if they start with `-`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<OsString>,
}

pub(crate) fn run(config: &Path, args: &ExecArgs) -> u8 {
    let (runtime, resolution) = match resolve::load_and_resolve(config, &args.common) {
        Ok(resolved) => resolved,
        Err(_) => return exit::EXEC_FAILED,
    };
    if resolution.failed() {
        resolve::failed(&resolution, "the command was not started");
        return exit::EXEC_FAILED;
    }
    resolve::print_problems(&resolution.problems);
    let Some((program, arguments)) = args.command.split_first() else {
        return exit::USAGE;
    };
    let redactor = if masks(args) {
        match child::redactor(&resolution) {
            Some(redactor) => Some(redactor),
            None => return exit::EXEC_FAILED,
        }
    } else {
        None
    };
    let mut command = tokio::process::Command::new(program);
    // Removed when this function returns, after the command has exited.
    let mut files = None;
    if args.files {
        let written = match ValueFiles::write(&resolution.values) {
            Ok(written) => written,
            Err(error) => {
                output::error(
                    &error,
                    Some("the command was not started; is the directory writable and not full?"),
                );
                return exit::EXEC_FAILED;
            }
        };
        command.args(files::substitute(arguments, written.path()));
        command.env(files::VARIABLE, written.path());
        files = Some(written);
    } else {
        command.args(arguments);
        for (name, value) in &resolution.values {
            if args.allow_override && std::env::var_os(name).is_some() {
                continue;
            }
            command.env(name, value.expose_secret());
        }
    }
    drop(resolution);
    let code = child::run(&runtime, command, program, redactor);
    drop(files);
    code
}

/// Whether the command's output is masked: `--mask-output`, or `CI` set
/// without `--no-mask-output` (of the two flags, the last one given wins).
fn masks(args: &ExecArgs) -> bool {
    args.mask_output || (!args.no_mask_output && in_ci())
}

/// `CI` is set, as every CI system sets it (GitHub Actions, GitLab, Azure
/// Pipelines' agents, CircleCI...), and is not `false` or `0`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| {
        let value = value.trim();
        !value.is_empty() && !value.eq_ignore_ascii_case("false") && value != "0"
    })
}
