//! Loading dsops.yaml for the commands that use its values (`doctor`,
//! `exec`, `render`, `get`, `plan`): an unset `${NAME}` is an error, only
//! the problems of the environment asked for count, and configuration
//! errors are reported exactly as `dsops check` reports them.

use std::path::{Path, PathBuf};

use dsops::config::model::Config;
use dsops::config::report::{self as config_report, Style};
use dsops::config::{
    Code, Diagnostic, LoadOptions, Loaded, ProcessEnvironment, ReadError, Source, load_file,
};
use serde_json::Value;

use crate::output;

/// A configuration whose part for the environment asked for is whole.
#[derive(Debug)]
pub(crate) struct Usable {
    loaded: Loaded,
    /// The model: `loaded`'s, or, when errors elsewhere in the file left it
    /// without one, the model of the file loaded as `check` loads it.
    config: Config,
    /// The diagnostics that concern the environment (warnings only).
    diagnostics: Vec<Diagnostic>,
    path: PathBuf,
}

impl Usable {
    /// The file as loaded (for its source and sensitive spans).
    pub(crate) fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// The model. Its environments other than the one asked for may be
    /// incomplete when the file has errors elsewhere.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The warnings that concern the environment.
    pub(crate) fn diagnostics(&self) -> Vec<&Diagnostic> {
        self.diagnostics.iter().collect()
    }

    /// The directory relative paths of the file (`cloud.ca_bundle`) are read from.
    pub(crate) fn config_dir(&self) -> &Path {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The file could not be read at all.
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// Why.
        error: ReadError,
    },
    /// It has errors (the environment's, or the whole file's), or the
    /// environment is not in it.
    Invalid {
        /// The file.
        loaded: Box<Loaded>,
        /// What `dsops check` would show for it: errors, and the warnings
        /// beside them.
        diagnostics: Vec<Diagnostic>,
    },
}

/// Where a report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Writes `text`, inert already, as it is.
    fn write(self, text: &str) {
        match self {
            Stream::Stdout => output::stdout(text),
            Stream::Stderr => output::stderr_exact(text),
        }
    }
}

impl LoadError {
    /// The configuration report of `dsops check --format json` for it.
    pub(crate) fn config_json(&self) -> Value {
        match self {
            LoadError::Unreadable { path, error } => {
                let diagnostic = Diagnostic::error_without_span(Code::Unreadable, causes(error))
                    .with_hint(unreadable_hint(error));
                config_report::json(&Source::new(path, ""), &[&diagnostic])
            }
            LoadError::Invalid {
                loaded,
                diagnostics,
            } => {
                let shown: Vec<&Diagnostic> = diagnostics.iter().collect();
                config_report::json(loaded.source(), &shown)
            }
        }
    }

    /// One line for JSON reports: "dsops.yaml: 2 errors" or "cannot read ...".
    pub(crate) fn summary(&self) -> String {
        match self {
            LoadError::Unreadable { error, .. } => causes(error),
            LoadError::Invalid {
                loaded,
                diagnostics,
            } => {
                let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                format!(
                    "{}: {errors} configuration {}",
                    loaded.source().path().display(),
                    if errors == 1 { "error" } else { "errors" }
                )
            }
        }
    }

    /// Prints it as `dsops check` does: the diagnostics with their snippets
    /// (secret values masked) and a summary line; an unreadable file as an
    /// error with a hint, on stderr.
    pub(crate) fn print_human(&self, stream: Stream) {
        match self {
            LoadError::Unreadable { error, .. } => {
                output::error(error, Some(unreadable_hint(error)));
            }
            LoadError::Invalid {
                loaded,
                diagnostics,
            } => {
                let shown: Vec<&Diagnostic> = diagnostics.iter().collect();
                let errors = shown.iter().filter(|d| d.is_error()).count();
                let mut text = config_report::human(
                    loaded.source(),
                    loaded.sensitive_spans(),
                    &shown,
                    Style::Colored,
                );
                text.push_str(&config_report::neutralize(&format!(
                    "{}: {} {}: fix the configuration first (`dsops check` shows the same)\n",
                    loaded.source().path().display(),
                    errors,
                    if errors == 1 { "error" } else { "errors" },
                )));
                // The report is inert already (file text and messages made
                // so by `human`) and keeps its colours, which anstream
                // strips where the stream is not a terminal.
                stream.write(&text);
            }
        }
    }
}

/// Loads `path` for environment `env` (or for every environment).
pub(crate) fn load(path: &Path, env: Option<&str>) -> Result<Usable, LoadError> {
    let loaded = match load_file(path, &ProcessEnvironment, LoadOptions::resolve()) {
        Ok(loaded) => loaded,
        Err(error) => {
            return Err(LoadError::Unreadable {
                path: path.to_owned(),
                error,
            });
        }
    };
    usable(loaded, path, env, || {
        load_file(path, &ProcessEnvironment, LoadOptions::check()).ok()
    })
}

/// Loads a configuration written by dsops itself (the action's `keyvault`
/// and `secrets` inputs), named `name` in messages, for `env`.
pub(crate) fn load_text(name: &Path, text: &str, env: &str) -> Result<Usable, LoadError> {
    let source = || Source::new(name, text);
    let loaded = dsops::config::load(source(), &ProcessEnvironment, LoadOptions::resolve());
    usable(loaded, name, Some(env), || {
        Some(dsops::config::load(
            source(),
            &ProcessEnvironment,
            LoadOptions::check(),
        ))
    })
}

/// The part of `loaded` for `env` (or all of it), when it is whole;
/// `as_checked` loads it again as `check` does.
fn usable(
    loaded: Loaded,
    path: &Path,
    env: Option<&str>,
    as_checked: impl FnOnce() -> Option<Loaded>,
) -> Result<Usable, LoadError> {
    let (relevant, unknown_env) = relevant_diagnostics(&loaded, env);
    let mut shown: Vec<Diagnostic> = unknown_env.into_iter().collect();
    shown.extend(relevant);
    if shown.iter().any(Diagnostic::is_error) {
        return Err(LoadError::Invalid {
            loaded: Box::new(loaded),
            diagnostics: shown,
        });
    }
    // Errors elsewhere in the file (say an unset `${NAME}` of another
    // environment) leave no model; this environment's part is whole, and
    // loading as `check` does gives it.
    let config = match (loaded.config(), env) {
        (Some(config), _) => Some(config.clone()),
        (None, Some(_)) => as_checked().and_then(|fallback| fallback.config().cloned()),
        (None, None) => None,
    };
    match config {
        Some(config) => Ok(Usable {
            loaded,
            config,
            diagnostics: shown,
            path: path.to_owned(),
        }),
        None => {
            let all = loaded.diagnostics().to_vec();
            Err(LoadError::Invalid {
                loaded: Box::new(loaded),
                diagnostics: all,
            })
        }
    }
}

/// The diagnostics of `env` (or of the whole file), and the diagnostic for
/// an unknown `env`.
fn relevant_diagnostics(
    loaded: &Loaded,
    env: Option<&str>,
) -> (Vec<Diagnostic>, Option<Diagnostic>) {
    match env {
        None => (loaded.diagnostics().to_vec(), None),
        Some(env) => match loaded.diagnostics_for_env(env) {
            Ok(diagnostics) => (diagnostics.into_iter().cloned().collect(), None),
            Err(unknown) => {
                // Problems of the file as a whole (such as broken YAML) may be why.
                let global = loaded
                    .diagnostics()
                    .iter()
                    .filter(|d| d.is_error() && d.scope == dsops::config::Scope::Global)
                    .cloned()
                    .collect();
                (global, Some(*unknown))
            }
        },
    }
}

/// What to do about a file that cannot be read.
pub(crate) fn unreadable_hint(error: &ReadError) -> &'static str {
    match error {
        ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "no dsops.yaml or dsops.yml in the working directory or its parents up to the repository root: run dsops where it is, or give its path with --config PATH (or DSOPS_CONFIG)"
        }
        ReadError::Io { .. } => "check the path and its permissions",
        ReadError::TooLarge { .. } => {
            "a dsops.yaml with 10,000 variables is about 2 MB: is this the right file?"
        }
    }
}

/// An error and its causes on one line.
pub(crate) fn causes(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // A message that already says its cause is not told twice.
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}
