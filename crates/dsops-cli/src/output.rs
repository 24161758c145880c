//! Writing to stdout and stderr without panicking on a closed pipe.

use std::io::Write;

/// Writes `text` to stdout (colours stripped unless the terminal wants them).
/// A closed pipe (`dsops check | head`) is not an error worth reporting.
pub(crate) fn stdout(text: &str) {
    let mut out = anstream::stdout();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes `text` to stderr.
pub(crate) fn stderr(text: &str) {
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
