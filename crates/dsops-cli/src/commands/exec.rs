//! `dsops exec`: resolves an environment and runs a program with its
//! variables.
//!
//! The values go only into the child's environment, never on a command
//! line. Nothing is started when a required variable fails. The child
//! inherits stdin, stdout and stderr (with `--mask-output`, its stdout and
//! stderr go through a [`RedactingWriter`] each instead); SIGINT, SIGTERM and SIGHUP sent to
//! dsops are passed on to it; dsops exits with the child's code, or
//! 128 + the signal that killed it.

use std::ffi::OsString;
use std::path::Path;

use clap::Args;
use secrecy::ExposeSecret;

use crate::child;
use crate::exit;
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
    /// forms) with `***` in the command's stdout and stderr.
    #[arg(long)]
    mask_output: bool,

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
        Err(code) => return code,
    };
    if resolution.failed() {
        return resolve::failed(&resolution, "the command was not started");
    }
    resolve::print_problems(&resolution.problems);
    // No environment variable can hold a NUL: say which value has one,
    // rather than fail to start the program as if it could not be run.
    let with_nul: Vec<&str> = resolution
        .values
        .iter()
        .filter(|(_, value)| value.expose_secret().contains('\0'))
        .map(|(name, _)| name.as_str())
        .collect();
    if !with_nul.is_empty() {
        crate::output::problem(
            &format!(
                "the value of {} contains a NUL character, which no environment variable can hold: the command was not started",
                with_nul.join(", ")
            ),
            Some(
                "store the value in another form (base64, say), or read it with `dsops render` or `dsops get`",
            ),
        );
        return exit::FAILED;
    }
    let Some((program, arguments)) = args.command.split_first() else {
        return exit::USAGE;
    };
    let redactor = if args.mask_output {
        match child::redactor(&resolution) {
            Some(redactor) => Some(redactor),
            None => return exit::FAILED,
        }
    } else {
        None
    };
    let mut command = tokio::process::Command::new(program);
    command.args(arguments);
    for (name, value) in &resolution.values {
        if args.allow_override && std::env::var_os(name).is_some() {
            continue;
        }
        command.env(name, value.expose_secret());
    }
    drop(resolution);
    child::run(&runtime, command, program, redactor)
}
