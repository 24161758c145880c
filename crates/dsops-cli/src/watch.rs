//! `dsops exec --watch`: the child runs with the values of the last good
//! resolution, and is restarted when they change.
//!
//! A [`Watcher`] of the library resolves the environment again every
//! interval (±10 %), and sooner when a token or SAS the child has is about
//! to expire. When a round finds a change, the child gets the restart
//! signal (SIGTERM unless `--restart-signal` says otherwise), has the grace
//! period to exit, is killed (SIGKILL) if it has not, and is started again
//! with the new values. A round that fails changes nothing: the child keeps
//! running, and the failure is reported (no value). The child ending on its
//! own ends dsops with its exit code, and signals sent to dsops are passed
//! on, as without `--watch`.

use std::ffi::OsStr;
use std::time::Duration;

use dsops::{Resolution, Round, Watcher};

use crate::child::{self, Forwarder, Running};
use crate::output;
use crate::resolve;

/// How the child is restarted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Restart {
    /// Sent to ask the child to stop.
    #[cfg(unix)]
    pub(crate) signal: nix::sys::signal::Signal,
    /// How long it has before SIGKILL.
    pub(crate) grace: Duration,
}

/// Parses `--restart-signal`: `TERM`, `SIGTERM`, `hup`, `15`...
#[cfg(unix)]
pub(crate) fn parse_signal(text: &str) -> Result<nix::sys::signal::Signal, String> {
    use std::str::FromStr;
    let upper = text.trim().to_ascii_uppercase();
    let signal = if let Ok(number) = upper.parse::<i32>() {
        nix::sys::signal::Signal::try_from(number).ok()
    } else {
        let name = if upper.starts_with("SIG") {
            upper
        } else {
            format!("SIG{upper}")
        };
        nix::sys::signal::Signal::from_str(&name).ok()
    };
    match signal {
        Some(nix::sys::signal::Signal::SIGKILL | nix::sys::signal::Signal::SIGSTOP) | None => Err(
            "not a signal a program can handle (TERM, INT, HUP, QUIT, USR1, USR2, or a number)"
                .to_owned(),
        ),
        Some(signal) => Ok(signal),
    }
}

/// Builds the child's command from a resolution (the values go into its
/// environment only).
pub(crate) type MakeCommand<'a> = dyn Fn(&Resolution) -> tokio::process::Command + 'a;

/// Runs the child under `watcher` (already started: `first` is its first
/// resolution, with no required variable failed) until it ends on its own;
/// the exit code.
pub(crate) async fn run(
    mut watcher: Watcher,
    first: Resolution,
    make: &MakeCommand<'_>,
    program: &OsStr,
    mask: bool,
    restart: Restart,
) -> u8 {
    let mut forward = Forwarder::install();
    let mut resolution = first;
    loop {
        let redactor = if mask {
            match child::redactor(&resolution) {
                Some(redactor) => Some(redactor),
                None => return crate::exit::EXEC_FAILED,
            }
        } else {
            None
        };
        let command = make(&resolution);
        drop(resolution);
        let mut running = match child::start(command, program, redactor.as_ref()) {
            Ok(running) => running,
            Err(code) => return code,
        };
        // Until a round finds new values, or the child ends.
        let next = loop {
            let due = tokio::time::Instant::from_std(watcher.next_round());
            if let Some(status) = forward.wait_until(&mut running.child, Some(due)).await {
                running.drain().await;
                return match status {
                    Ok(status) => child::exit_code(status),
                    Err(error) => child::lost(&error),
                };
            }
            match watcher.round().await {
                Ok(Round::Unchanged) => {}
                Ok(Round::Failed(failed)) => {
                    resolve::print_problems(&failed.problems);
                    output::stderr(&format!(
                        "warning: {}: the command keeps running with the values it has; dsops tries again later\n",
                        resolve::failure_summary(&failed)
                    ));
                }
                Ok(Round::Changed {
                    resolution,
                    changed,
                }) => {
                    resolve::print_problems(&resolution.problems);
                    if child::refuse_nul(
                        &resolution,
                        "the command keeps running with the values it has",
                    ) {
                        continue;
                    }
                    output::stderr(&format!(
                        "dsops: {} changed: restarting the command\n",
                        changed.join(", ")
                    ));
                    break resolution;
                }
                Err(error) => {
                    output::error(&error, None);
                }
            }
        };
        if let Some(code) = stop(&mut forward, running, restart).await {
            return code;
        }
        resolution = next;
    }
}

/// Stops the child for a restart: the restart signal, the grace period,
/// then SIGKILL. `Some(code)` when dsops must exit instead (waiting failed).
async fn stop(forward: &mut Forwarder, mut running: Running, restart: Restart) -> Option<u8> {
    #[cfg(unix)]
    child::send(&running.child, restart.signal);
    #[cfg(not(unix))]
    let _ = running.child.start_kill();
    let deadline = tokio::time::Instant::now() + restart.grace;
    let status = match forward.wait_until(&mut running.child, Some(deadline)).await {
        Some(status) => status,
        None => {
            output::stderr(&format!(
                "dsops: the command did not exit within {} s: killing it\n",
                restart.grace.as_secs_f32()
            ));
            let _ = running.child.start_kill();
            running.child.wait().await
        }
    };
    running.drain().await;
    match status {
        Ok(_) => None,
        Err(error) => Some(child::lost(&error)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("TERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("sighup"), Ok(Signal::SIGHUP));
        assert_eq!(parse_signal("USR1"), Ok(Signal::SIGUSR1));
        assert_eq!(parse_signal("2"), Ok(Signal::SIGINT));
        assert!(parse_signal("KILL").is_err());
        assert!(parse_signal("NOPE").is_err());
    }
}
