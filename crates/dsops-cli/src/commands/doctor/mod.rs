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
mod needs;
mod present;
mod report;
mod vault;

use std::path::Path;

use std::sync::Arc;

use clap::{Args, ValueEnum};
use dsops::config::ProcessEnvironment;
use dsops::config::report as config_report;
use dsops::{Engine, EngineOptions};
use serde_json::json;

use self::check::check_store;
use self::needs::needs;
use self::report::Report;
use crate::exit;
use crate::load::{self, LoadError, Stream};
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Check what this environment needs (default: every store).
    #[arg(long, env = "DSOPS_ENV", value_name = "ENV")]
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
    let usable = match load::load(config, args.env.as_deref()) {
        Ok(usable) => usable,
        Err(error) => return config_errors(&error, args),
    };
    let model = usable.config();
    let diagnostics = usable.diagnostics();
    let needs_of_stores = needs(model, args.env.as_deref());
    let config_dir = usable.config_dir();
    let engine = Engine::new(
        model.clone(),
        config_dir,
        Arc::new(ProcessEnvironment),
        EngineOptions {
            debug: args.debug,
            progress: None,
        },
    );
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
    for needs in &needs_of_stores {
        stores.push(runtime.block_on(check_store(&engine, needs, config_dir, &mut fixes)));
    }
    let loaded = usable.loaded();
    let report = Report {
        file: loaded.source().path().display().to_string(),
        env: args.env.clone(),
        warnings: diagnostics.iter().filter(|d| !d.is_error()).count(),
        config_json: config_report::json(loaded.source(), &diagnostics),
        stores,
        fixes,
    };
    match args.format {
        Format::Json => output::stdout(&format!("{:#}\n", report.json())),
        Format::Human => output::stdout(&report.human()),
    }
    if report.ok() { exit::OK } else { exit::FAILED }
}

/// Configuration errors (or an unreadable file), reported as `dsops check`
/// reports them.
fn config_errors(error: &LoadError, args: &DoctorArgs) -> u8 {
    match args.format {
        Format::Json => {
            let report = match error {
                LoadError::Unreadable { .. } => json!({
                    "ok": false,
                    "config": error.config_json(),
                    "stores": [],
                    "fixes": [],
                }),
                LoadError::Invalid { .. } => json!({
                    "ok": false,
                    "env": args.env,
                    "config": error.config_json(),
                    "stores": [],
                    "fixes": [],
                }),
            };
            output::stdout(&format!("{report:#}\n"));
        }
        Format::Human => error.print_human(Stream::Stdout),
    }
    exit::FAILED
}
