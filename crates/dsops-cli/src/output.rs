//! Writing to stdout and stderr without panicking on a closed pipe.

use std::io::Write;

/// Writes `text` to stdout (colours stripped unless the terminal wants them).
/// A closed pipe (`dsops check | head`) is not an error worth reporting.
pub(crate) fn stdout(text: &str) {
    let mut out = anstream::stdout();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes `text` to stderr. Text from servers and files is data: control
/// characters and workflow commands in it are made inert
/// (`dsops::config::report::neutralize`), so that an error body holding
/// `::stop-commands::` or an escape sequence reaches a CI log or a terminal
/// as text.
pub(crate) fn stderr(text: &str) {
    stderr_exact(&dsops::config::report::neutralize(text));
}

/// Writes `text`, dsops's own (the progress line with its `\r`), to stderr.
pub(crate) fn stderr_exact(text: &str) {
    let mut err = anstream::stderr();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Prints an error with its cause chain and a hint, the way every command reports failure.
pub(crate) fn error(error: &dyn std::error::Error, hint: Option<&str>) {
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    stderr(&error_text(&error.to_string(), &causes, hint));
}

/// Prints a failure dsops found itself (there is no error value to show),
/// with a hint, the way [`error`] prints one.
pub(crate) fn problem(message: &str, hint: Option<&str>) {
    stderr(&error_text(message, &[], hint));
}

/// The one shape of every error dsops prints on stderr:
///
/// ```text
/// error: MESSAGE
///   caused by: CAUSE
///   hint: HINT
/// ```
fn error_text(message: &str, causes: &[String], hint: Option<&str>) -> String {
    let mut text = format!("error: {message}\n");
    for cause in causes {
        text.push_str(&format!("  caused by: {cause}\n"));
    }
    if let Some(hint) = hint {
        text.push_str(&format!("  hint: {hint}\n"));
    }
    text
}

/// Writes `bytes` to stdout exactly as they are: for values (`dsops get`),
/// which must reach the reader unchanged, escape sequences and all. A closed
/// pipe is not an error worth reporting.
pub(crate) fn stdout_raw(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Whether stderr is a terminal (for the progress line).
pub(crate) fn stderr_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}

/// Everything written to stderr (by dsops, the `debug` trace, the HTTP
/// stack) while it is alive is held in an unnamed temporary file, and
/// written out, made inert, when it is dropped: `dsops github` holds
/// stderr while it resolves, so that its masks are the first lines any
/// value could follow, in every mode, `--debug` included.
pub(crate) struct HeldStderr {
    #[cfg(unix)]
    held: Option<(std::os::fd::OwnedFd, std::fs::File)>,
}

/// Starts holding stderr (where that cannot be done, nothing is held).
pub(crate) fn hold_stderr() -> HeldStderr {
    #[cfg(unix)]
    {
        let held = (|| {
            let file = unnamed_file()?;
            let _ = std::io::stderr().flush();
            let saved = nix::unistd::dup(std::io::stderr()).ok()?;
            nix::unistd::dup2_stderr(&file).ok()?;
            Some((saved, file))
        })();
        HeldStderr { held }
    }
    #[cfg(not(unix))]
    HeldStderr {}
}

impl Drop for HeldStderr {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some((saved, mut file)) = self.held.take() {
            use std::io::{Read, Seek};
            let _ = std::io::stderr().flush();
            let _ = nix::unistd::dup2_stderr(&saved);
            let mut text = Vec::new();
            if file.rewind().is_ok() && file.read_to_end(&mut text).is_ok() && !text.is_empty() {
                stderr(&String::from_utf8_lossy(&text));
            }
        }
    }
}

/// A new file of this user only (0600), unlinked at once: it has no name
/// any other process could open.
#[cfg(unix)]
fn unnamed_file() -> Option<std::fs::File> {
    let temp = std::env::temp_dir();
    let (path, file) = crate::private_fs::create_unique(
        |tag| temp.join(format!(".dsops-stderr-{tag}")),
        |path| crate::private_fs::file_options().read(true).open(path),
    )
    .ok()?;
    std::fs::remove_file(&path).ok()?;
    Some(file)
}
