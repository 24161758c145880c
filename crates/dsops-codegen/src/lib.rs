//! The code generator behind `#[dsops::env("production")]` and the
//! build-script [`Builder`]: from one environment of `dsops.yaml`, a struct
//! with one typed field per variable and the functions that fill it.
//!
//! Both entry points call [`generate`], which loads the file with
//! `dsops-config` (the validation `dsops check` does) and turns every
//! problem into an [`Error`] with a span: the proc macro makes compile errors
//! of them, the builder messages.
//!
//! In a build script:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), dsops_codegen::BuildError> {
//!     dsops_codegen::Builder::new("production").config("dsops.yaml").generate()?;
//!     Ok(())
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs
//! include!(concat!(env!("OUT_DIR"), "/dsops_env.rs"));
//! ```
//!
//! The [`Builder`] (and the formatting of its output with `prettyplease`)
//! is the `builder` feature, on by default; the proc macro turns it off, so
//! an application using `#[dsops::env]` does not compile it.
//!
//! The generated code names only `::dsops::…` paths (or the crate path it is
//! given), so it compiles in any crate that depends on `dsops`.

#[cfg(feature = "builder")]
mod builder;
mod describe;
mod emit;
pub mod locate;
pub mod names;

use std::path::PathBuf;

use dsops_config::model::ValueSource;
use dsops_config::{Diagnostic, LoadOptions, Loaded, ProcessEnvironment};
use proc_macro2::{Span, TokenStream};

#[cfg(feature = "builder")]
pub use builder::{BuildError, Builder, Rendered, Written};
pub use locate::Located;

/// What to generate.
#[derive(Clone)]
pub struct Input {
    /// The environment (`"production"`).
    pub env: String,
    /// Where the environment's name is written (errors about it point there).
    pub env_span: Span,
    /// The configuration file as written (`path = "..."`), relative to
    /// `manifest_dir`; `None` to look for `dsops.yaml` (see [`locate::locate`]).
    pub path: Option<String>,
    /// Where `path` is written.
    pub path_span: Option<Span>,
    /// The package directory (`CARGO_MANIFEST_DIR`).
    pub manifest_dir: PathBuf,
    /// The struct's outer attributes (doc comments, derives).
    pub attrs: Vec<syn::Attribute>,
    /// The struct's visibility.
    pub vis: syn::Visibility,
    /// The struct's name.
    pub ident: syn::Ident,
    /// The path of the `dsops` crate (`::dsops`).
    pub krate: syn::Path,
    /// Whether the code tracks the file and the variables it reads itself
    /// (`include_bytes!`, `option_env!`), so that editing them rebuilds the
    /// crate: what a proc macro needs. A build script prints `rerun-if-*`
    /// lines instead.
    pub track: bool,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use quote::ToTokens as _;
        f.debug_struct("Input")
            .field("env", &self.env)
            .field("path", &self.path)
            .field("manifest_dir", &self.manifest_dir)
            .field("ident", &self.ident.to_string())
            .field("krate", &self.krate.to_token_stream().to_string())
            .field("track", &self.track)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// An input for `env` of the package in `manifest_dir`: `pub struct Env`,
    /// `::dsops`, no tracking.
    pub fn new(env: impl Into<String>, manifest_dir: impl Into<PathBuf>) -> Self {
        Self {
            env: env.into(),
            env_span: Span::call_site(),
            path: None,
            path_span: None,
            manifest_dir: manifest_dir.into(),
            attrs: Vec::new(),
            vis: syn::parse_quote!(pub),
            ident: syn::Ident::new("Env", Span::call_site()),
            krate: syn::parse_quote!(::dsops),
            track: false,
        }
    }
}

/// What [`generate`] made.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The struct, its `impl` and its `Debug`.
    pub tokens: TokenStream,
    /// The file it was made from.
    pub config: Located,
    /// The environment variables the file reads (`${NAME}`) outside secret
    /// text, sorted: a change to any of them may change what the file means,
    /// or whether it is valid (see `dsops_config::Loaded::variables_to_watch`).
    pub variables: Vec<String>,
    /// The fields, in file order: (variable, field).
    pub fields: Vec<(String, String)>,
}

/// One problem, with where it belongs in the attribute.
#[derive(Debug, Clone)]
pub struct Error {
    /// Where the compile error points.
    pub span: Span,
    /// What is wrong (may span several lines).
    pub message: String,
}

/// Every problem found.
#[derive(Debug, Clone)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    fn one(span: Span, message: impl Into<String>) -> Self {
        Self(vec![Error {
            span,
            message: message.into(),
        }])
    }

    /// The problems as `compile_error!` invocations.
    pub fn to_compile_error(&self) -> TokenStream {
        self.0
            .iter()
            .map(|e| syn::Error::new(e.span, &e.message).to_compile_error())
            .collect()
    }

    /// The messages.
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(|e| e.message.clone()).collect()
    }
}

impl std::fmt::Display for Errors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Literal,
    Secret,
    Certificate,
    Key,
    Token,
    Sas,
}

/// One field to generate.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) variable: String,
    pub(crate) name: String,
    pub(crate) ident: proc_macro2::Ident,
    pub(crate) kind: Kind,
    pub(crate) optional: bool,
    pub(crate) doc: String,
}

/// Loads the configuration `input` names, checks it as `dsops check` does,
/// and generates the struct of `input.env`.
pub fn generate(input: &Input) -> Result<Generated, Errors> {
    let file_span = input.path_span.unwrap_or(input.env_span);
    let located = locate::locate(&input.manifest_dir, input.path.as_deref())
        .map_err(|message| Errors::one(file_span, message))?;
    let loaded = dsops_config::load_file(&located.path, &ProcessEnvironment, LoadOptions::check())
        .map_err(|e| {
            let why = match &e {
                dsops_config::ReadError::Io { source, .. } => source.to_string(),
                dsops_config::ReadError::TooLarge { .. } => e.to_string(),
            };
            Errors::one(
                file_span,
                format!(
                    "cannot read {} ({}): {why}",
                    located.display,
                    located.path.display()
                ),
            )
        })?;

    let names: Vec<&str> = loaded.env_names().collect();
    // A file too broken to list its environments is reported as it is.
    let unlisted = names.is_empty() && loaded.has_errors();
    if !names.contains(&input.env.as_str()) && !unlisted {
        let diagnostic = loaded.unknown_env(&input.env);
        let mut message = format!("{}: {}", located.display, diagnostic.message);
        if let Some(hint) = &diagnostic.hint {
            for line in hint.lines() {
                message.push_str(&format!("\n  = help: {line}"));
            }
        }
        return Err(Errors::one(input.env_span, message));
    }

    let errors: Vec<Error> = loaded
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| Error {
            span: file_span,
            message: located_message(&loaded, &located, d),
        })
        .collect();
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    let (Some(config), Some(document)) = (loaded.config(), loaded.env_document(&input.env)) else {
        return Err(Errors::one(
            file_span,
            format!("{}: the configuration could not be read", located.display),
        ));
    };
    let Some(environment) = config.env(&input.env) else {
        return Err(Errors::one(
            input.env_span,
            format!(
                "{}: there is no environment called `{}`",
                located.display, input.env
            ),
        ));
    };

    let mut fields: Vec<Field> = Vec::with_capacity(environment.variables.len());
    let mut problems = Vec::new();
    for variable in &environment.variables {
        let name = names::snake_case(&variable.name.value);
        let at = position(&loaded, &located, variable.name.span);
        if let Some(first) = fields.iter().find(|f| f.name == name) {
            let first_line = environment
                .variable(&first.variable)
                .map(|v| loaded.source().position(v.name.span.start).line)
                .unwrap_or_default();
            let line = loaded.source().position(variable.name.span.start).line;
            problems.push(Error {
                span: input.env_span,
                message: format!(
                    "{at}: variables `{}` (line {first_line}) and `{}` (line {line}) would both be the field `{name}`; rename one of them in {}",
                    first.variable, variable.name.value, located.display
                ),
            });
            continue;
        }
        let ident = match names::field_ident(&name) {
            Ok(ident) => ident,
            Err(why) => {
                problems.push(Error {
                    span: input.env_span,
                    message: format!(
                        "{at}: variable `{}` would be the field `{name}`: {why}; rename it in {}",
                        variable.name.value, located.display
                    ),
                });
                continue;
            }
        };
        let kind = match &variable.value {
            ValueSource::Literal(_) => Kind::Literal,
            ValueSource::Reference(reference) => describe::kind(&reference.target),
        };
        let doc = describe::doc(&loaded, &located, config, variable);
        fields.push(Field {
            variable: variable.name.value.clone(),
            name,
            ident,
            kind,
            optional: variable.optional,
            doc,
        });
    }
    problems.extend(check_attrs(&input.attrs));
    if !problems.is_empty() {
        return Err(Errors(problems));
    }

    let variables = loaded.variables_to_watch();
    let tokens = emit::emit(input, &located, &document.text, &fields, &variables);
    Ok(Generated {
        tokens,
        config: located,
        variables,
        fields: fields.into_iter().map(|f| (f.variable, f.name)).collect(),
    })
}

/// `dsops.yaml:12:9`.
fn position(loaded: &Loaded, located: &Located, span: dsops_config::Span) -> String {
    let p = loaded.source().position(span.start);
    format!("{}:{}:{}", located.display, p.line, p.column)
}

/// `dsops.yaml:12:9: message (label)` and the hint, for a compile error.
fn located_message(loaded: &Loaded, located: &Located, diagnostic: &Diagnostic) -> String {
    let at = match diagnostic.span {
        Some(span) => position(loaded, located, span),
        None => located.display.clone(),
    };
    let mut message = format!("{at}: {}", diagnostic.message);
    if let Some(label) = &diagnostic.label {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(hint) = &diagnostic.hint {
        for line in hint.lines() {
            message.push_str(&format!("\n  = help: {line}"));
        }
    }
    message
}

/// The generated struct implements `Debug` itself, redacting every value.
fn check_attrs(attrs: &[syn::Attribute]) -> Vec<Error> {
    let mut errors = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let derived = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        );
        for path in derived.into_iter().flatten() {
            if path.segments.last().is_some_and(|s| s.ident == "Debug") {
                errors.push(Error {
                    span: syn::spanned::Spanned::span(&path),
                    message: "the generated struct implements `Debug` itself, with every value redacted; remove `Debug` from this derive".to_owned(),
                });
            }
        }
    }
    errors
}
