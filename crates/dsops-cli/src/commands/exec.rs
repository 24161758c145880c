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
//!
//! With `--watch DURATION`, the environment is resolved again on that
//! interval and the child restarted when a value changes (see
//! [`crate::watch`]).

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

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

    /// Resolve the environment again every DURATION (`30s`, `5m`; ±10 %),
    /// and restart the command when a value changes or shortly before a
    /// token or SAS it has expires. A failed refresh keeps the command
    /// running. Each round costs one request per object that may have
    /// changed.
    #[arg(long, value_name = "DURATION", value_parser = interval, conflicts_with = "files")]
    watch: Option<Duration>,

    /// With `--watch`: the signal that asks the command to stop before a
    /// restart (a name such as TERM, HUP, USR1, or a number).
    #[cfg(unix)]
    #[arg(long, value_name = "SIGNAL", default_value = "TERM", value_parser = crate::watch::parse_signal, requires = "watch")]
    restart_signal: nix::sys::signal::Signal,

    /// With `--watch`: how long the command has to exit after the restart
    /// signal before it is killed. On Windows, which has no such signal,
    /// the command is killed at once and this is how long dsops waits for it.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = grace, requires = "watch")]
    grace_period: Duration,

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

fn interval(text: &str) -> Result<Duration, String> {
    let interval = dsops::config::duration::parse_duration(text).map_err(|e| e.to_string())?;
    if interval < Duration::from_secs(1) {
        return Err("the interval is at least 1s".to_owned());
    }
    if interval > dsops::Watcher::MAX_INTERVAL {
        return Err("the interval is at most 365d".to_owned());
    }
    Ok(interval)
}

fn grace(text: &str) -> Result<Duration, String> {
    dsops::config::duration::parse_duration(text).map_err(|e| e.to_string())
}

pub(crate) fn run(config: &Path, args: &ExecArgs) -> u8 {
    if let Some(interval) = args.watch {
        return run_watched(config, args, interval);
    }
    let (runtime, resolution) = match resolve::load_and_resolve(config, &args.common) {
        Ok(resolved) => resolved,
        Err(_) => return exit::EXEC_FAILED,
    };
    if resolution.failed() {
        resolve::failed(&resolution, "the command was not started");
        return exit::EXEC_FAILED;
    }
    resolve::print_problems(&resolution.problems);
    // With --files the values are files, which can hold a NUL.
    if !args.files && child::refuse_nul(&resolution, "the command was not started") {
        return exit::EXEC_FAILED;
    }
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
    let mut command = tokio::process::Command::new(crate::program::locate(program));
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
        set_values(&mut command, args, &resolution);
    }
    drop(resolution);
    let code = child::run(&runtime, command, program, redactor);
    drop(files);
    code
}

/// Puts the resolved values into the command's environment.
fn set_values(
    command: &mut tokio::process::Command,
    args: &ExecArgs,
    resolution: &dsops::Resolution,
) {
    for (name, value) in &resolution.values {
        if args.allow_override && std::env::var_os(name).is_some() {
            continue;
        }
        command.env(name, value.expose_secret());
    }
}

/// `--watch`: the first resolution as without it (nothing starts when a
/// required variable fails), then the child under a watcher.
fn run_watched(config: &Path, args: &ExecArgs, interval: Duration) -> u8 {
    let Ok(usable) = resolve::load_for(config, &args.common) else {
        return exit::EXEC_FAILED;
    };
    let Ok(runtime) = resolve::runtime() else {
        return exit::EXEC_FAILED;
    };
    let Some((program, arguments)) = args.command.split_first() else {
        return exit::USAGE;
    };
    let restart = crate::watch::Restart {
        #[cfg(unix)]
        signal: args.restart_signal,
        grace: args.grace_period,
    };
    runtime.block_on(async {
        let (engine, ticker) = resolve::engine(
            usable.config().clone(),
            usable.config_dir(),
            args.common.debug,
        );
        let mut watcher = dsops::Watcher::new(engine, &args.common.env, interval);
        let Ok(first) = ticker.around(watcher.start()).await else {
            resolve::unknown_env(&args.common.env);
            return exit::EXEC_FAILED;
        };
        if first.failed() {
            resolve::failed(&first, "the command was not started");
            return exit::EXEC_FAILED;
        }
        resolve::print_problems(&first.problems);
        if child::refuse_nul(&first, "the command was not started") {
            return exit::EXEC_FAILED;
        }
        let make = |resolution: &dsops::Resolution| {
            let mut command = tokio::process::Command::new(crate::program::locate(program));
            command.args(arguments);
            set_values(&mut command, args, resolution);
            command
        };
        crate::watch::run(watcher, first, &make, program, masks(args), restart).await
    })
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
