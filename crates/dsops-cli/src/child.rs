//! Running a program with resolved values: what `dsops exec` and the `run`
//! of `dsops github` share.
//!
//! The child inherits stdin, stdout and stderr, or, with a [`Redactor`],
//! its stdout and stderr are piped through a
//! [`RedactingWriter`](dsops::redact::RedactingWriter) each, on a thread each;
//! SIGINT, SIGTERM and SIGHUP sent to dsops are passed on to it; the exit
//! code is the child's, or 128 + the signal that killed it.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::process::{ExitStatus, Stdio};

use dsops::Resolution;
use dsops::redact::{MIN_SECRET_LEN, Redactor};
use secrecy::SecretString;

use crate::exit;
use crate::output;
use crate::program;

/// A shell's code for a command that does not exist.
const NOT_FOUND: u8 = 127;
/// A shell's code for a command that exists but cannot be run.
const CANNOT_RUN: u8 = 126;

/// Starts `command` (its environment already set) and waits for it, its
/// output masked by `redactor` when there is one; the exit code to exit with.
pub(crate) fn run(
    runtime: &tokio::runtime::Runtime,
    command: tokio::process::Command,
    program: &OsStr,
    redactor: Option<Redactor>,
) -> u8 {
    runtime.block_on(async {
        // Handlers first: a signal between the start and the handlers would
        // otherwise end dsops and orphan the child.
        let forward = Forwarder::install();
        let mut running = match start(command, program, redactor.as_ref()) {
            Ok(running) => running,
            Err(code) => return code,
        };
        let status = forward.wait(&mut running.child).await;
        running.drain().await;
        match status {
            Ok(status) => exit_code(status),
            Err(error) => lost(&error),
        }
    })
}

/// A child started, with the threads that mask its output.
pub(crate) struct Running {
    pub(crate) child: tokio::process::Child,
    pumps: Vec<tokio::sync::oneshot::Receiver<()>>,
}

/// Starts `command` (its environment already set; dropped once started,
/// as it holds copies of the values), its output masked by `redactor` when
/// there is one; the exit code to exit with when it cannot start.
pub(crate) fn start(
    mut command: tokio::process::Command,
    program: &OsStr,
    redactor: Option<&Redactor>,
) -> Result<Running, u8> {
    if redactor.is_some() {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let child = command.spawn();
    // The command holds copies of the values; the child has its own now.
    drop(command);
    let mut child = child.map_err(|error| cannot_start(program, &error))?;
    let mut pumps = Vec::new();
    if let Some(redactor) = redactor {
        let stdout = child
            .stdout
            .take()
            .and_then(|from| spawn_pump(blocking_file!(from), redactor, Stream::Stdout));
        let stderr = child
            .stderr
            .take()
            .and_then(|from| spawn_pump(blocking_file!(from), redactor, Stream::Stderr));
        pumps.extend(stdout);
        pumps.extend(stderr);
    }
    Ok(Running { child, pumps })
}

impl Running {
    /// Waits until both pipes end: the output of the command's own children too.
    pub(crate) async fn drain(self) {
        for pump in self.pumps {
            let _ = pump.await;
        }
    }
}

/// The exit code when waiting for the child failed.
pub(crate) fn lost(error: &std::io::Error) -> u8 {
    output::error(error, Some("dsops lost track of the command it started"));
    exit::FAILED
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

/// The child's stdout or stderr pipe as a blocking file (`None` if it
/// cannot be had).
macro_rules! blocking_file {
    ($pipe:expr) => {{
        #[cfg(unix)]
        let owned = $pipe.into_owned_fd();
        #[cfg(windows)]
        let owned = $pipe.into_owned_handle();
        owned.ok().map(std::fs::File::from)
    }};
}
use blocking_file;

/// Where a pump writes.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Starts a thread that copies the child's pipe `from` (as a blocking file)
/// to dsops's own stdout or stderr through `redactor`; the receiver
/// resolves when it is done. Blocking reads and writes on a thread of their
/// own, as `cat` does them: no hand-off to the async runtime or to a
/// blocking pool for every chunk (that cost more than the masking). `None`
/// when the thread cannot start or the pipe cannot be made blocking: the
/// pipe is then closed, and the command's writes to it fail.
fn spawn_pump(
    from: Option<std::fs::File>,
    redactor: &Redactor,
    to: Stream,
) -> Option<tokio::sync::oneshot::Receiver<()>> {
    let from = from?;
    let redactor = redactor.clone();
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("dsops-mask".to_owned())
        .spawn(move || {
            widen_pipe(&from);
            // Straight to the file descriptor when it can be had: `Stdout`
            // would pass every chunk through its lock and its line buffer.
            match (to, own_descriptor(to)) {
                (_, Some(file)) => pump(from, &redactor, file),
                (Stream::Stdout, None) => pump(from, &redactor, std::io::stdout()),
                (Stream::Stderr, None) => pump(from, &redactor, std::io::stderr()),
            }
            let _ = done.send(());
        })
        .ok()?;
    Some(finished)
}

/// Copies `from` to `to` masked, a chunk at a time, until `from` ends or
/// `to` fails (then `from` is closed, and the command's next write to the
/// pipe fails, as it would have on `to`). Each chunk goes out as soon as it
/// is read, but for a possible start of a secret, so that a prompt without
/// a newline shows.
fn pump(mut from: impl Read, redactor: &Redactor, to: impl Write) {
    let mut masked = redactor.writer(std::io::BufWriter::with_capacity(CHUNK, to));
    let mut chunk = vec![0; CHUNK];
    loop {
        let read = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let written = masked
            .write_all(chunk.get(..read).unwrap_or_default())
            .and_then(|()| masked.flush());
        if written.is_err() {
            return;
        }
    }
    let _ = masked.finish();
}

/// What one read of the child's pipe takes at most: the whole buffer of a
/// pipe widened by [`widen_pipe`].
const CHUNK: usize = 1024 * 1024;

/// A copy of dsops's own stdout or stderr descriptor, as a file.
fn own_descriptor(to: Stream) -> Option<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let owned = match to {
            Stream::Stdout => std::io::stdout().as_fd().try_clone_to_owned(),
            Stream::Stderr => std::io::stderr().as_fd().try_clone_to_owned(),
        };
        owned.ok().map(std::fs::File::from)
    }
    #[cfg(not(unix))]
    {
        let _ = to;
        None
    }
}

/// Asks Linux for a pipe buffer of [`CHUNK`] bytes (64 KiB by default), so
/// that a busy command fills it in fewer, larger writes and dsops empties
/// it in fewer reads. Nothing changes where that is refused.
fn widen_pipe(pipe: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        let size = i32::try_from(CHUNK).unwrap_or(i32::MAX);
        let _ = nix::fcntl::fcntl(pipe, nix::fcntl::FcntlArg::F_SETPIPE_SZ(size));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = pipe;
}

/// 127 for a program that is not there, 126 for one that cannot be run,
/// as shells have it; the hints are the platform's ([`program`]).
fn cannot_start(program: &OsStr, error: &std::io::Error) -> u8 {
    let name = program.to_string_lossy();
    if error.kind() == std::io::ErrorKind::NotFound {
        output::problem(
            &format!("{name}: command not found"),
            Some(program::not_found_hint()),
        );
        NOT_FOUND
    } else {
        output::problem(
            &format!("{name}: cannot run it: {error}"),
            Some(program::cannot_run_hint()),
        );
        CANNOT_RUN
    }
}

/// Whether a value of `resolution` holds a NUL character, which no
/// environment variable can: if so, says which (and `then`: what happens
/// instead), rather than fail to start the program as if it could not be
/// run.
pub(crate) fn refuse_nul(resolution: &Resolution, then: &str) -> bool {
    let with_nul: Vec<&str> = resolution
        .values
        .iter()
        .filter(|(_, value)| secrecy::ExposeSecret::expose_secret(value).contains('\0'))
        .map(|(name, _)| name.as_str())
        .collect();
    if with_nul.is_empty() {
        return false;
    }
    output::problem(
        &format!(
            "the value of {} contains a NUL character, which no environment variable can hold: {then}",
            with_nul.join(", ")
        ),
        Some(
            "pass values as files (`--files`), store the value in another form (base64, say), or read it with `dsops render` or `dsops get`",
        ),
    );
    true
}

/// A child's exit code that does not fit in a `u8`, kept for `main` to
/// exit with (see [`exit_code`]).
static WHOLE_EXIT_CODE: std::sync::Mutex<Option<i32>> = std::sync::Mutex::new(None);

/// The child's exit code, or 128 + the signal that ended it.
///
/// Exit codes are 0-255 on Unix. Windows' are 32 bits (an NTSTATUS such as
/// 0xC0000005, or any number a program chooses): one that does not fit is
/// kept, and `main` exits with it whole ([`whole_exit_code`]) once the
/// command has returned: after what it held (the `--files` directory) is
/// dropped, which exiting here would skip.
pub(crate) fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code).unwrap_or_else(|_| {
            *WHOLE_EXIT_CODE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(code);
            exit::FAILED
        });
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

/// The last child's exit code that a `u8` cannot hold, if there was one.
pub(crate) fn whole_exit_code() -> Option<i32> {
    *WHOLE_EXIT_CODE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Passes SIGINT, SIGTERM and SIGHUP on to the child.
#[cfg(unix)]
pub(crate) struct Forwarder {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
    hangup: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Forwarder {
    pub(crate) fn install() -> Self {
        use tokio::signal::unix::SignalKind;
        Self {
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
            hangup: listen(SignalKind::hangup(), "SIGHUP"),
        }
    }

    /// Waits for the child, passing signals on meanwhile.
    async fn wait(mut self, child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.wait_until(child, None).await {
                return status;
            }
        }
    }

    /// Waits for the child until `until` (for ever with `None`), passing
    /// signals on meanwhile; `None` when `until` came first.
    pub(crate) async fn wait_until(
        &mut self,
        child: &mut tokio::process::Child,
        until: Option<tokio::time::Instant>,
    ) -> Option<std::io::Result<ExitStatus>> {
        use nix::sys::signal::Signal;
        let deadline = async {
            match until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::pin!(deadline);
        loop {
            let signal = tokio::select! {
                status = child.wait() => return Some(status),
                () = &mut deadline => return None,
                () = next(&mut self.interrupt) => Signal::SIGINT,
                () = next(&mut self.terminate) => Signal::SIGTERM,
                () = next(&mut self.hangup) => Signal::SIGHUP,
            };
            send(child, signal);
        }
    }
}

/// Sends `signal` to the child (if it is still there).
#[cfg(unix)]
pub(crate) fn send(child: &tokio::process::Child, signal: nix::sys::signal::Signal) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        // The child may be exiting already: nothing to do then.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
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
pub(crate) struct Forwarder;

#[cfg(not(unix))]
impl Forwarder {
    pub(crate) fn install() -> Self {
        Forwarder
    }

    async fn wait(self, child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
        child.wait().await
    }

    pub(crate) async fn wait_until(
        &mut self,
        child: &mut tokio::process::Child,
        until: Option<tokio::time::Instant>,
    ) -> Option<std::io::Result<ExitStatus>> {
        match until {
            Some(at) => tokio::select! {
                status = child.wait() => Some(status),
                () = tokio::time::sleep_until(at) => None,
            },
            None => Some(child.wait().await),
        }
    }
}
