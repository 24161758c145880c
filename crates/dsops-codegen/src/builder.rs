//! The build-script entry point: the same code as `#[dsops::env]`, written
//! into `OUT_DIR` as a formatted file.

use std::fmt;
use std::path::{Path, PathBuf};

use proc_macro2::Span;

use crate::{Input, generate};

/// Generates the typed struct of one environment from a build script.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), dsops_codegen::BuildError> {
///     dsops_codegen::Builder::new("production")
///         .config("dsops.yaml")
///         .struct_name("Env")
///         .generate()?;
///     Ok(())
/// }
/// ```
///
/// and `include!(concat!(env!("OUT_DIR"), "/dsops_env.rs"));` where the
/// struct belongs. [`Builder::generate`] prints `cargo::rerun-if-changed` for
/// the configuration file and `cargo::rerun-if-env-changed` for every
/// variable it reads, and nothing else, so the script runs again exactly
/// when one of them changes (or the script itself).
#[derive(Debug, Clone)]
pub struct Builder {
    env: String,
    config: Option<String>,
    struct_name: String,
    visibility: String,
    crate_path: String,
    attributes: Vec<String>,
    file_name: String,
}

/// What [`Builder::generate_in`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file written.
    pub file: PathBuf,
    /// The configuration file read.
    pub config: PathBuf,
    /// The `cargo::` lines a build script prints.
    pub cargo_lines: Vec<String>,
    /// The fields, in file order: (variable, field).
    pub fields: Vec<(String, String)>,
}

/// Why the builder could not generate: every problem, each on its own line
/// (`dsops.yaml:12:9: ...`). `Debug` shows the same text, so that a build
/// script's `main` returning it prints the messages.
pub struct BuildError {
    messages: Vec<String>,
}

impl BuildError {
    fn one(message: impl Into<String>) -> Self {
        Self {
            messages: vec![message.into()],
        }
    }

    /// The problems.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages.join("\n"))
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dsops could not generate the typed Env:\n{self}")
    }
}

impl std::error::Error for BuildError {}

impl Builder {
    /// A builder for environment `env`: `pub struct Env` in `dsops_env.rs`,
    /// from the `dsops.yaml` found as `#[dsops::env]` finds it.
    pub fn new(env: impl Into<String>) -> Self {
        Self {
            env: env.into(),
            config: None,
            struct_name: "Env".to_owned(),
            visibility: "pub".to_owned(),
            crate_path: "::dsops".to_owned(),
            attributes: Vec::new(),
            file_name: "dsops_env.rs".to_owned(),
        }
    }

    /// The configuration file, relative to the package directory.
    #[must_use]
    pub fn config(mut self, path: impl Into<String>) -> Self {
        self.config = Some(path.into());
        self
    }

    /// The struct's name (default `Env`).
    #[must_use]
    pub fn struct_name(mut self, name: impl Into<String>) -> Self {
        self.struct_name = name.into();
        self
    }

    /// The struct's visibility (default `pub`; `pub(crate)`, or `""` for private).
    #[must_use]
    pub fn visibility(mut self, visibility: impl Into<String>) -> Self {
        self.visibility = visibility.into();
        self
    }

    /// The path of the `dsops` crate in generated code (default `::dsops`),
    /// for crates that re-export it.
    #[must_use]
    pub fn crate_path(mut self, path: impl Into<String>) -> Self {
        self.crate_path = path.into();
        self
    }

    /// An outer attribute for the struct, such as `#[derive(Clone)]` or a
    /// `///` comment.
    #[must_use]
    pub fn attribute(mut self, attribute: impl Into<String>) -> Self {
        self.attributes.push(attribute.into());
        self
    }

    /// The file's name in `OUT_DIR` (default `dsops_env.rs`).
    #[must_use]
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }

    /// From a build script: writes the file into `OUT_DIR` and prints the
    /// `cargo::rerun-if-*` lines.
    pub fn generate(self) -> Result<Written, BuildError> {
        let var = |name: &str| {
            std::env::var_os(name).map(PathBuf::from).ok_or_else(|| {
                BuildError::one(format!(
                    "{name} is not set: dsops_codegen::Builder::generate runs in a build script (build.rs)"
                ))
            })
        };
        let manifest_dir = var("CARGO_MANIFEST_DIR")?;
        let out_dir = var("OUT_DIR")?;
        let generated = self.generate_in(&manifest_dir, &out_dir)?;
        let mut stdout = std::io::stdout().lock();
        for line in &generated.cargo_lines {
            use std::io::Write as _;
            writeln!(stdout, "{line}").map_err(|e| BuildError::one(e.to_string()))?;
        }
        Ok(generated)
    }

    /// Writes the file into `out_dir` for the package in `manifest_dir`, and
    /// returns the `cargo::` lines without printing them.
    pub fn generate_in(self, manifest_dir: &Path, out_dir: &Path) -> Result<Written, BuildError> {
        let source = self.render(manifest_dir)?;
        let file = out_dir.join(&self.file_name);
        write_if_changed(&file, &source.text)?;
        Ok(Written {
            file,
            config: source.config,
            cargo_lines: source.cargo_lines,
            fields: source.fields,
        })
    }

    /// The formatted source without writing it.
    pub fn render(&self, manifest_dir: &Path) -> Result<Rendered, BuildError> {
        let parse_error = |what: &str, text: &str, e: syn::Error| {
            BuildError::one(format!("invalid {what} `{text}`: {e}"))
        };
        let ident: syn::Ident = syn::parse_str(&self.struct_name)
            .map_err(|e| parse_error("struct name", &self.struct_name, e))?;
        let vis: syn::Visibility = syn::parse_str(&self.visibility)
            .map_err(|e| parse_error("visibility", &self.visibility, e))?;
        let krate: syn::Path = syn::parse_str(&self.crate_path)
            .map_err(|e| parse_error("crate path", &self.crate_path, e))?;
        let mut attrs = Vec::new();
        for text in &self.attributes {
            let parsed = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, text)
                .map_err(|e| parse_error("attribute", text, e))?;
            attrs.extend(parsed);
        }
        let input = Input {
            env: self.env.clone(),
            env_span: Span::call_site(),
            path: self.config.clone(),
            path_span: None,
            manifest_dir: manifest_dir.to_path_buf(),
            attrs,
            vis,
            ident,
            krate,
            track: false,
        };
        let generated = generate(&input).map_err(|errors| BuildError {
            messages: errors.messages(),
        })?;
        let file: syn::File = syn::parse2(generated.tokens).map_err(|e| {
            BuildError::one(format!(
                "internal error: the generated code does not parse: {e}"
            ))
        })?;
        let header = format!(
            "// @generated by dsops-codegen from environment `{}` of {}. Do not edit:\n\
             // edit dsops.yaml, and the build script generates it again.\n\n",
            self.env, generated.config.display
        );
        let text = format!("{header}{}", prettyplease::unparse(&file));
        let mut cargo_lines = vec![format!(
            "cargo::rerun-if-changed={}",
            generated.config.path.display()
        )];
        cargo_lines.extend(
            generated
                .variables
                .iter()
                .map(|v| format!("cargo::rerun-if-env-changed={v}")),
        );
        Ok(Rendered {
            text,
            config: generated.config.path,
            cargo_lines,
            fields: generated.fields,
        })
    }
}

/// The generated source of a [`Builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The formatted file.
    pub text: String,
    /// The configuration file read.
    pub config: PathBuf,
    /// The `cargo::` lines a build script prints.
    pub cargo_lines: Vec<String>,
    /// The fields, in file order: (variable, field).
    pub fields: Vec<(String, String)>,
}

/// Writes `text` unless the file has it already, so that an unchanged file
/// keeps its time and what includes it is not rebuilt.
fn write_if_changed(path: &Path, text: &str) -> Result<(), BuildError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
        .map_err(|e| BuildError::one(format!("cannot write {}: {e}", path.display())))
}
