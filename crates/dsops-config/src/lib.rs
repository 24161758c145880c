//! The `dsops.yaml` configuration model.
//!
//! This crate turns the text of a configuration file into a validated
//! [`Config`], or into a list of [`Diagnostic`]s that say what is wrong, where,
//! and what to do. It is shared by the `dsops` CLI, the `#[dsops::env]` macro
//! and the build-script generator, so it does no I/O beyond reading the file
//! and pulls in no async runtime or HTTP client.
//!
//! ```
//! use dsops_config::{LoadOptions, Source, load};
//! use std::collections::HashMap;
//!
//! let text = "secretStores:\n  azure:\n    type: azure.managed_identity\n\
//!             envs:\n  production:\n    API_KEY:\n      from: { store: azure, vault: my-keyvault, secret: api-key }\n";
//! let loaded = load(Source::new("dsops.yaml", text), &HashMap::new(), LoadOptions::resolve());
//! let config = loaded.config().expect("valid");
//! assert_eq!(config.env("production").unwrap().variables.len(), 1);
//! ```

pub mod code;
mod decode;
pub mod diagnostic;
pub mod duration;
pub mod embed;
mod interpolate;
pub mod model;
pub mod names;
pub mod report;
pub mod schema;
mod source;
pub mod suggest;
mod yaml;

use std::io::Read;
use std::path::Path;

pub use code::Code;
pub use diagnostic::{Diagnostic, Scope, Severity};
pub use interpolate::{Environment, ProcessEnvironment, is_variable_name};
pub use model::Config;
pub use source::{Position, Source, Span};
pub use yaml::MAX_CONFIG_BYTES;

/// How strict loading is about things that only matter at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Severity of a `${NAME}` whose variable is unset.
    pub unset_variables: Severity,
}

impl LoadOptions {
    /// For `dsops check`: an unset `${NAME}` is a warning, since the file may
    /// be checked where the variables are not set (a laptop, a CI lint job).
    pub fn check() -> Self {
        Self {
            unset_variables: Severity::Warning,
        }
    }

    /// For commands that resolve values: an unset `${NAME}` is an error.
    pub fn resolve() -> Self {
        Self {
            unset_variables: Severity::Error,
        }
    }
}

/// A configuration file after loading: the model if it is valid, and every diagnostic.
#[derive(Debug)]
pub struct Loaded {
    source: Source,
    config: Option<Config>,
    diagnostics: Vec<Diagnostic>,
    sensitive: Vec<Span>,
    outline: Vec<decode::EnvOutline>,
}

impl Loaded {
    /// The file.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The configuration, if it has no errors.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// Every diagnostic, in file order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Spans of text a snippet must not show (every scalar that may be a
    /// value: literals, client secrets, values under unknown keys or in lists),
    /// which renderers mask.
    pub fn sensitive_spans(&self) -> &[Span] {
        &self.sensitive
    }

    /// Names of the environments in `envs`, even when the file has errors.
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.outline.iter().map(|e| e.name.as_str())
    }

    /// The diagnostics that concern environment `env`: its own, those of the
    /// stores it uses, and those about the file as a whole. An unknown `env` is
    /// itself a diagnostic (with a "did you mean").
    pub fn diagnostics_for_env(&self, env: &str) -> Result<Vec<&Diagnostic>, Box<Diagnostic>> {
        let Some(outline) = self.outline.iter().find(|e| e.name == env) else {
            return Err(Box::new(self.unknown_env(env)));
        };
        Ok(self
            .diagnostics
            .iter()
            .filter(|d| match &d.scope {
                Scope::Global => true,
                Scope::Env(name) => name == env,
                Scope::Store(name) => outline.stores.contains(name) && d.code != Code::UnusedStore,
            })
            .collect())
    }

    /// The diagnostic for an environment name that is not in the file.
    pub fn unknown_env(&self, env: &str) -> Diagnostic {
        let names: Vec<&str> = self.env_names().collect();
        let mut diagnostic = Diagnostic::error_without_span(
            Code::UnknownEnv,
            format!("there is no environment called `{env}`"),
        );
        if let Some(s) = suggest::did_you_mean(env, names.iter().copied()) {
            diagnostic = diagnostic.with_hint(format!("did you mean `{s}`?"));
        }
        if names.is_empty() {
            diagnostic.with_hint("the file defines no environments under `envs:`")
        } else {
            diagnostic.with_hint(format!("environments defined: {}", suggest::one_of(&names)))
        }
    }
}

/// Loads a configuration from text.
pub fn load(source: Source, env: &dyn Environment, options: LoadOptions) -> Loaded {
    match yaml::parse(&source) {
        Ok(root) => {
            let decoded = decode::decode(&source, &root, env, options.unset_variables);
            let mut sensitive = decoded.sensitive;
            sensitive.extend(decode::shown::hidden_scalars(&root));
            Loaded {
                source,
                config: decoded.config,
                diagnostics: decoded.diagnostics,
                sensitive,
                outline: decoded.outline,
            }
        }
        Err(diagnostic) => {
            let sensitive = diagnostic
                .span
                .map(|span| values_on_line(&source, span))
                .into_iter()
                .collect();
            Loaded {
                source,
                config: None,
                diagnostics: vec![*diagnostic],
                sensitive,
                outline: Vec::new(),
            }
        }
    }
}

/// When the YAML does not parse we cannot tell secret values from the rest,
/// so the snippet of the offending line keeps its key and hides its value
/// (or the whole line when it has no `key: `).
fn values_on_line(source: &Source, span: Span) -> Span {
    let line = source.line_span(source.line_index(span.start));
    let text = source.slice(line);
    let indent = text.len() - text.trim_start().len();
    match text.find(": ") {
        Some(colon) => Span::new(line.start + colon + 2, line.end),
        // `KEY:` alone on its line has no value to hide.
        None if text.trim_end().ends_with(':') => Span::point(line.end),
        None => Span::new(line.start + indent, line.end),
    }
}

/// Why a configuration file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("{path} is larger than {limit} bytes, the most dsops reads")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: usize,
    },
}

/// Reads and loads a configuration file. Text that is not UTF-8 is reported as
/// a diagnostic at the first bad byte.
pub fn load_file(
    path: &Path,
    env: &dyn Environment,
    options: LoadOptions,
) -> Result<Loaded, ReadError> {
    let display = path.display().to_string();
    let io = |source| ReadError::Io {
        path: display.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let limit = MAX_CONFIG_BYTES as u64;
    // Room for the whole file at once (one more byte tells a file over the
    // limit), rather than doubling a buffer up to it.
    let expected = file.metadata().map_or(0, |m| m.len()).min(limit) + 1;
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: display,
            limit: MAX_CONFIG_BYTES,
        });
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(load(Source::new(path, text), env, options)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let source = Source::new(path, text);
            // Offsets before the bad byte are the same in the lossy text.
            let diagnostic = Diagnostic::error(
                Code::NotUtf8,
                Span::new(valid, valid + char::REPLACEMENT_CHARACTER.len_utf8()),
                "the file is not valid UTF-8",
            )
            .with_hint("save dsops.yaml as UTF-8");
            // As for a YAML error, the snippet must not show a value of that line.
            let sensitive = vec![values_on_line(&source, Span::point(valid))];
            Ok(Loaded {
                source,
                config: None,
                diagnostics: vec![diagnostic],
                sensitive,
                outline: Vec::new(),
            })
        }
    }
}
