//! `dsops check`: offline validation of dsops.yaml.

use std::path::Path;

use clap::{Args, ValueEnum};
use dsops::config::report::{self, Style};
use dsops::config::{
    Code, Diagnostic, LoadOptions, Loaded, ProcessEnvironment, ReadError, Source, load_file,
};

use crate::exit;
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Check only this environment (and the stores it uses).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

pub(crate) fn run(config: &Path, args: &CheckArgs) -> u8 {
    let loaded = match load_file(config, &ProcessEnvironment, LoadOptions::check()) {
        Ok(loaded) => loaded,
        Err(err) => return unreadable(config, &err, args.format),
    };
    let unknown_env;
    let diagnostics: Vec<&Diagnostic> = match &args.env {
        None => loaded.diagnostics().iter().collect(),
        Some(env) => match loaded.diagnostics_for_env(env) {
            Ok(diagnostics) => diagnostics,
            Err(diagnostic) => {
                unknown_env = *diagnostic;
                let mut all: Vec<&Diagnostic> = vec![&unknown_env];
                // Problems of the file as a whole (such as broken YAML) may be why.
                all.extend(
                    loaded
                        .diagnostics()
                        .iter()
                        .filter(|d| d.is_error() && d.scope == dsops::config::Scope::Global),
                );
                all
            }
        },
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    match args.format {
        Format::Json => {
            let report = report::json(loaded.source(), &diagnostics);
            output::stdout(&format!("{report:#}\n"));
        }
        Format::Human => {
            let text = report::human(
                loaded.source(),
                loaded.sensitive_spans(),
                &diagnostics,
                Style::Colored,
            );
            output::stdout(&text);
            output::stdout(&summary(&loaded, args.env.as_deref(), errors, warnings));
        }
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn summary(loaded: &Loaded, env: Option<&str>, errors: usize, warnings: usize) -> String {
    let path = loaded.source().path().display();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors > 0 {
        return format!(
            "{path}: {}, {}\n",
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    let what = match loaded.config() {
        Some(config) => {
            let envs: Vec<_> = config
                .envs
                .iter()
                .filter(|e| env.is_none_or(|name| e.name.value == name))
                .collect();
            let variables: usize = envs.iter().map(|e| e.variables.len()).sum();
            format!(
                "{}, {}, {}",
                plural(envs.len(), "environment"),
                plural(variables, "variable"),
                plural(config.stores.len(), "store")
            )
        }
        None => String::new(),
    };
    let warned = if warnings > 0 {
        format!(" ({})", plural(warnings, "warning"))
    } else {
        String::new()
    };
    format!("{path}: ok: {what}{warned}\n")
}

fn unreadable(config: &Path, err: &ReadError, format: Format) -> u8 {
    let hint = crate::load::unreadable_hint(err);
    match format {
        Format::Json => {
            let mut chain = vec![err.to_string()];
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                chain.push(cause.to_string());
                source = cause.source();
            }
            // The same report shape as every other check result.
            let diagnostic =
                Diagnostic::error_without_span(Code::Unreadable, chain.join(": ")).with_hint(hint);
            let report = report::json(&Source::new(config, ""), &[&diagnostic]);
            output::stdout(&format!("{report:#}\n"));
        }
        Format::Human => output::error(err, Some(hint)),
    }
    exit::FAILED
}
