//! `dsops doctor`: can dsops get this environment's secrets from here, and
//! if not, what to change.
//!
//! For each store the environment uses it walks the credential chain (every
//! source, in order, with why it was skipped or failed), gets a token for
//! every scope the references need (printing whose token it is and when it
//! expires, never the token), and asks each Key Vault whether each object
//! exists and may be read, without reading a value. Every failure comes with
//! one concrete fix.

mod check;
mod fixes;
mod plan;
mod render;
mod report;
mod vault;

use std::path::Path;

use clap::{Args, ValueEnum};
use dsops::config::render::{self as config_render, Style};
use dsops::config::{
    Diagnostic, LoadOptions, Loaded, ProcessEnvironment, ReadError, Source, load_file,
};
use serde_json::json;

use self::check::check_store;
use self::plan::plan;
use self::report::Report;
use super::exit;
use super::output;

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Check what this environment needs (default: every store).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Trace each identity source tried and each request on stderr.
    #[arg(long)]
    debug: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

pub(crate) fn run(config: &Path, args: &DoctorArgs) -> u8 {
    let loaded = match load_file(config, &ProcessEnvironment, LoadOptions::resolve()) {
        Ok(loaded) => loaded,
        Err(err) => return unreadable(config, &err, args.format),
    };
    let (diagnostics, unknown_env) = relevant_diagnostics(&loaded, args.env.as_deref());
    let mut shown: Vec<&Diagnostic> = unknown_env.iter().collect();
    shown.extend(diagnostics.iter().copied());
    if shown.iter().any(|d| d.is_error()) {
        return config_errors(&loaded, &shown, args);
    }
    // Errors elsewhere in the file (say an unset `${NAME}` of another
    // environment) leave no model; this environment's part is whole, and
    // loading as `check` does gives it.
    let fallback;
    let model = match (loaded.config(), &args.env) {
        (Some(config), _) => Some(config),
        (None, Some(_)) => {
            fallback = load_file(config, &ProcessEnvironment, LoadOptions::check()).ok();
            fallback.as_ref().and_then(Loaded::config)
        }
        (None, None) => None,
    };
    let Some(model) = model else {
        let all: Vec<&Diagnostic> = loaded.diagnostics().iter().collect();
        return config_errors(&loaded, &all, args);
    };
    let plans = plan(model, args.env.as_deref());
    let config_dir = match config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            output::error(&err, Some("dsops could not start its async runtime"));
            return exit::FAILED;
        }
    };
    let mut fixes = Vec::new();
    let mut stores = Vec::new();
    for plan in &plans {
        stores.push(runtime.block_on(check_store(plan, config_dir, args.debug, &mut fixes)));
    }
    let report = Report {
        file: loaded.source().path().display().to_string(),
        env: args.env.clone(),
        warnings: diagnostics.iter().filter(|d| !d.is_error()).count(),
        config_json: config_render::json(loaded.source(), &diagnostics),
        stores,
        fixes,
    };
    match args.format {
        Format::Json => output::stdout(&format!("{:#}\n", report.json())),
        Format::Human => output::stdout(&report.human()),
    }
    if report.ok() { exit::OK } else { exit::FAILED }
}

/// The diagnostics of `env` (or of the whole file), and the diagnostic for
/// an unknown `env`.
fn relevant_diagnostics<'a>(
    loaded: &'a Loaded,
    env: Option<&str>,
) -> (Vec<&'a Diagnostic>, Option<Diagnostic>) {
    match env {
        None => (loaded.diagnostics().iter().collect(), None),
        Some(env) => match loaded.diagnostics_for_env(env) {
            Ok(diagnostics) => (diagnostics, None),
            Err(unknown) => {
                // Problems of the file as a whole (such as broken YAML) may be why.
                let global = loaded
                    .diagnostics()
                    .iter()
                    .filter(|d| d.is_error() && d.scope == dsops::config::Scope::Global)
                    .collect();
                (global, Some(*unknown))
            }
        },
    }
}

/// Configuration errors, printed as `dsops check` prints them.
fn config_errors(loaded: &Loaded, diagnostics: &[&Diagnostic], args: &DoctorArgs) -> u8 {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    match args.format {
        Format::Json => {
            let report = json!({
                "ok": false,
                "env": args.env,
                "config": config_render::json(loaded.source(), diagnostics),
                "stores": [],
                "fixes": [],
            });
            output::stdout(&format!("{report:#}\n"));
        }
        Format::Human => {
            let text = config_render::human(
                loaded.source(),
                loaded.sensitive_spans(),
                diagnostics,
                Style::Colored,
            );
            output::stdout(&text);
            output::stdout(&format!(
                "{}: {} {}: fix the configuration first (`dsops check` shows the same)\n",
                loaded.source().path().display(),
                errors,
                if errors == 1 { "error" } else { "errors" },
            ));
        }
    }
    exit::FAILED
}

fn unreadable(config: &Path, err: &ReadError, format: Format) -> u8 {
    let hint = match err {
        ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "run dsops where dsops.yaml is, or give its path with --config PATH (or DSOPS_CONFIG)"
        }
        ReadError::Io { .. } => "check the path and its permissions",
        ReadError::TooLarge { .. } => {
            "a dsops.yaml with 10,000 variables is about 2 MB: is this the right file?"
        }
    };
    match format {
        Format::Json => {
            let diagnostic =
                Diagnostic::error_without_span("unreadable", causes(err)).with_hint(hint);
            let report = json!({
                "ok": false,
                "config": config_render::json(&Source::new(config, ""), &[&diagnostic]),
                "stores": [],
                "fixes": [],
            });
            output::stdout(&format!("{report:#}\n"));
        }
        Format::Human => output::error(err, Some(hint)),
    }
    exit::FAILED
}

/// An error and its causes on one line.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        next = cause.source();
    }
    text
}
