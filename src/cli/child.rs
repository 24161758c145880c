//! Running a program with resolved values: what `dsops exec` and the `run`
//! of `dsops github` share.
//!
//! The child inherits stdin, stdout and stderr, or, with a [`Redactor`],
//! its stdout and stderr are piped through a [`RedactingWriter`] each;
//! SIGINT, SIGTERM and SIGHUP sent to dsops are passed on to it; the exit
//! code is the child's, or 128 + the signal that killed it.

use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};

use dsops::engine::Resolution;
use dsops::redact::{MIN_SECRET_LEN, RedactingWriter, Redactor};
use secrecy::SecretString;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::exit;
use super::output;

/// A shell's code for a command that does not exist.
const NOT_FOUND: u8 = 127;
/// A shell's code for a command that exists but cannot be run.
const CANNOT_RUN: u8 = 126;

/// Starts `command` (its environment already set) and waits for it, its
/// output masked by `redactor` when there is one; the exit code to exit with.
pub(crate) fn run(
    runtime: &tokio::runtime::Runtime,
    mut command: tokio::process::Command,
    program: &OsStr,
    redactor: Option<Redactor>,
) -> u8 {
    if redactor.is_some() {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    runtime.block_on(async {
        // Handlers first: a signal between the start and the handlers would
        // otherwise end dsops and orphan the child.
        let forward = Forwarder::install();
        let child = command.spawn();
        // The command holds copies of the values; the child has its own now.
        drop(command);
        let mut child = match child {
            Ok(child) => child,
            Err(error) => return cannot_start(program, &error),
        };
        let pumps = redactor.map(|redactor| {
            let stdout = child.stdout.take().map(|from| {
                tokio::spawn(pump(from, redactor.writer(Vec::new()), tokio::io::stdout()))
            });
            let stderr = child.stderr.take().map(|from| {
                tokio::spawn(pump(from, redactor.writer(Vec::new()), tokio::io::stderr()))
            });
            [stdout, stderr]
        });
        let status = forward.wait(&mut child).await;
        // Until both pipes end: the output of the command's own children too.
        for pump in pumps.into_iter().flatten().flatten() {
            let _ = pump.await;
        }
        match status {
            Ok(status) => exit_code(status),
            Err(error) => {
                output::error(&error, Some("dsops lost track of the command it started"));
                exit::FAILED
            }
        }
    })
}

/// The redactor for the values fetched from Azure, after a warning for each
/// value too short to be masked; `None` (after an error) when it cannot be
/// built.
pub(crate) fn redactor(resolution: &Resolution) -> Option<Redactor> {
    // Values written in dsops.yaml are not secrets: masking `info` would
    // ruin the output.
    let secrets: Vec<(&str, &SecretString)> = resolution.fetched().collect();
    let redactor = match Redactor::new(secrets.iter().map(|(_, value)| *value)) {
        Ok(redactor) => redactor,
        Err(error) => {
            output::error(&error, Some("run the command without masking its output"));
            return None;
        }
    };
    for name in redactor
        .skipped()
        .iter()
        .filter_map(|&index| secrets.get(index))
        .map(|(name, _)| name)
    {
        output::stderr(&format!(
            "warning: {name} is shorter than {MIN_SECRET_LEN} bytes: it is not masked in the command's output\n"
        ));
    }
    Some(redactor)
}

/// Copies `from` to `to` through `masked`, a chunk at a time, until `from`
/// ends or `to` fails (then the command's next write to the pipe fails, as
/// it would have on `to`).
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut masked: RedactingWriter<Vec<u8>>,
    mut to: impl AsyncWrite + Unpin,
) {
    use std::io::Write as _;
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let read = match from.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        // Into a `Vec`: cannot fail. `flush` writes all but a possible
        // start of a secret, so that a prompt without a newline shows.
        let _ = masked
            .write_all(chunk.get(..read).unwrap_or_default())
            .and_then(|()| masked.flush());
        if send(&mut masked, &mut to).await.is_err() {
            return;
        }
    }
    let _ = masked.finish();
    let _ = send(&mut masked, &mut to).await;
}

/// Writes out what `masked` has written so far.
async fn send(
    masked: &mut RedactingWriter<Vec<u8>>,
    to: &mut (impl AsyncWrite + Unpin),
) -> std::io::Result<()> {
    let mut bytes = std::mem::take(masked.get_mut());
    let sent = async {
        if !bytes.is_empty() {
            to.write_all(&bytes).await?;
            to.flush().await?;
        }
        Ok(())
    }
    .await;
    bytes.clear();
    *masked.get_mut() = bytes;
    sent
}

/// 127 for a program that is not there, 126 for one that cannot be run,
/// as shells have it.
fn cannot_start(program: &OsStr, error: &std::io::Error) -> u8 {
    let name = program.to_string_lossy();
    if error.kind() == std::io::ErrorKind::NotFound {
        output::stderr(&format!(
            "error: {name}: command not found\n  hint: check the name, or give its path; PATH is searched as a shell searches it\n"
        ));
        NOT_FOUND
    } else {
        output::stderr(&format!(
            "error: {name}: cannot run it: {error}\n  hint: is it an executable file (`chmod +x`) with a valid `#!` line?\n"
        ));
        CANNOT_RUN
    }
}

/// The child's exit code, or 128 + the signal that ended it.
fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        // Exit codes are 0-255 on Unix; elsewhere keep "failed" for the rest.
        return u8::try_from(code).unwrap_or(exit::FAILED);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + signal).unwrap_or(exit::FAILED);
        }
    }
    exit::FAILED
}

/// Passes SIGINT, SIGTERM and SIGHUP on to the child.
#[cfg(unix)]
struct Forwarder {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
    hangup: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Forwarder {
    fn install() -> Self {
        use tokio::signal::unix::SignalKind;
        Self {
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
            hangup: listen(SignalKind::hangup(), "SIGHUP"),
        }
    }

    /// Waits for the child, passing signals on meanwhile.
    async fn wait(mut self, child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
        use nix::sys::signal::Signal;
        loop {
            let signal = tokio::select! {
                status = child.wait() => return status,
                () = next(&mut self.interrupt) => Signal::SIGINT,
                () = next(&mut self.terminate) => Signal::SIGTERM,
                () = next(&mut self.hangup) => Signal::SIGHUP,
            };
            if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
                // The child may be exiting already: nothing to do then.
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
            }
        }
    }
}

/// Handles `kind` from now on (instead of dying of it), or warns why not.
#[cfg(unix)]
fn listen(
    kind: tokio::signal::unix::SignalKind,
    name: &str,
) -> Option<tokio::signal::unix::Signal> {
    match tokio::signal::unix::signal(kind) {
        Ok(stream) => Some(stream),
        Err(error) => {
            output::stderr(&format!(
                "warning: dsops cannot pass {name} on to the command: {error}\n"
            ));
            None
        }
    }
}

/// The next delivery of a signal; never, for one not handled.
#[cfg(unix)]
async fn next(stream: &mut Option<tokio::signal::unix::Signal>) {
    match stream {
        Some(signals) => {
            if signals.recv().await.is_none() {
                // The driver is gone: stop listening rather than spin.
                *stream = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
struct Forwarder;

#[cfg(not(unix))]
impl Forwarder {
    fn install() -> Self {
        Forwarder
    }

    async fn wait(self, child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
        child.wait().await
    }
}
