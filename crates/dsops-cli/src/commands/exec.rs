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
use std::time::Duration;

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

    /// Resolve the environment again every DURATION (`30s`, `5m`; ±10 %),
    /// and restart the command when a value changes or shortly before a
    /// token or SAS it has expires. A failed refresh keeps the command
    /// running. Each round costs one request per object that may have
    /// changed.
    #[arg(long, value_name = "DURATION", value_parser = interval)]
    watch: Option<Duration>,

    /// With `--watch`: the signal that asks the command to stop before a
    /// restart (a name such as TERM, HUP, USR1, or a number).
    #[cfg(unix)]
    #[arg(long, value_name = "SIGNAL", default_value = "TERM", value_parser = crate::watch::parse_signal, requires = "watch")]
    restart_signal: nix::sys::signal::Signal,

    /// With `--watch`: how long the command has to exit after the restart
    /// signal before it is killed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = grace, requires = "watch")]
    grace_period: Duration,

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
        Err(code) => return code,
    };
    if resolution.failed() {
        return resolve::failed(&resolution, "the command was not started");
    }
    resolve::print_problems(&resolution.problems);
    let Some(program) = args.command.first() else {
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
    let command = command(args, &resolution);
    drop(resolution);
    child::run(&runtime, command, program, redactor)
}

/// The command with the resolved values in its environment.
fn command(args: &ExecArgs, resolution: &dsops::Resolution) -> tokio::process::Command {
    let mut parts = args.command.iter();
    let mut command =
        tokio::process::Command::new(parts.next().map_or_else(OsString::new, Clone::clone));
    command.args(parts);
    for (name, value) in &resolution.values {
        if args.allow_override && std::env::var_os(name).is_some() {
            continue;
        }
        command.env(name, value.expose_secret());
    }
    command
}

/// `--watch`: the first resolution as without it (nothing starts when a
/// required variable fails), then the child under a watcher.
fn run_watched(config: &Path, args: &ExecArgs, interval: Duration) -> u8 {
    let usable = match crate::load::load(config, Some(&args.common.env)) {
        Ok(usable) => usable,
        Err(error) => {
            error.print_human(crate::load::Stream::Stderr);
            return exit::FAILED;
        }
    };
    let runtime = match resolve::runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let Some(program) = args.command.first() else {
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
            return resolve::unknown_env(&args.common.env);
        };
        if first.failed() {
            return resolve::failed(&first, "the command was not started");
        }
        resolve::print_problems(&first.problems);
        let make = |resolution: &dsops::Resolution| command(args, resolution);
        crate::watch::run(watcher, first, &make, program, args.mask_output, restart).await
    })
}
