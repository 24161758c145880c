//! `dsops get`: the value of one variable, resolving only what it needs.

use std::path::Path;

use clap::{Args, ValueEnum};
use dsops::config::suggest;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::exit;
use crate::load::{self, Stream};
use crate::output;
use crate::resolve::{self, EnvArgs};

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    common: EnvArgs,

    /// The variable.
    #[arg(value_name = "VARIABLE")]
    variable: String,

    /// Print the value without a newline after it.
    #[arg(long)]
    raw: bool,

    /// Output format: the value alone, or `{"name": ..., "value": ...}`.
    /// In JSON, errors are an object on stdout too, without any value.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub(crate) fn run(config: &Path, args: &GetArgs) -> u8 {
    let env = &args.common.env;
    resolve::debug_config(args.common.debug);
    let usable = match load::load(config, Some(env)) {
        Ok(usable) => usable,
        Err(error) => {
            return match args.format {
                Format::Text => {
                    error.print_human(Stream::Stderr);
                    exit::FAILED
                }
                Format::Json => json_error(&error.summary(), None, &[], Some(error.config_json())),
            };
        }
    };
    // Only this variable: the others are neither fetched nor able to fail it.
    let mut config = usable.config().clone();
    let Some(environment) = config.envs.iter_mut().find(|e| e.name.value == *env) else {
        return resolve::unknown_env(env);
    };
    if environment.variable(&args.variable).is_none() {
        let names: Vec<&str> = environment
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        let message = format!("environment {env} has no variable `{}`", args.variable);
        let hint = match suggest::did_you_mean(&args.variable, names.iter().copied()) {
            Some(name) => format!("did you mean `{name}`?"),
            None if names.is_empty() => format!("environment {env} has no variables"),
            None => format!("its variables: {}", names.join(", ")),
        };
        return match args.format {
            Format::Text => {
                output::problem(&message, Some(&hint));
                exit::FAILED
            }
            Format::Json => json_error(&message, Some(&hint), &[], None),
        };
    }
    environment
        .variables
        .retain(|v| v.name.value == args.variable);

    let runtime = match resolve::runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let resolved = runtime.block_on(resolve::resolve(
        config,
        usable.config_dir(),
        env,
        args.common.debug,
    ));
    let Some(resolution) = resolved else {
        return resolve::unknown_env(env);
    };
    let problems: Vec<_> = resolution
        .problems
        .iter()
        .filter(|p| p.variable == args.variable)
        .cloned()
        .collect();
    let Some(value) = resolution.value(&args.variable) else {
        let message = format!(
            "{} of environment {env} could not be resolved",
            args.variable
        );
        return match args.format {
            Format::Text => {
                // A variable asked for by name is required, `optional:` or not.
                let required: Vec<_> = problems
                    .into_iter()
                    .map(|p| dsops::Problem {
                        optional: false,
                        ..p
                    })
                    .collect();
                resolve::print_problems(&required);
                output::problem(&message, None);
                exit::FAILED
            }
            Format::Json => json_error(&message, None, &problems, None),
        };
    };
    // An optional variable that failed and took its `default:`: the
    // warning still says why.
    if args.format == Format::Text {
        resolve::print_problems(&problems);
    }
    match args.format {
        Format::Text => {
            let mut bytes = value.expose_secret().as_bytes().to_vec();
            if !args.raw {
                bytes.push(b'\n');
            }
            output::stdout_raw(&bytes);
            secrecy::zeroize::Zeroize::zeroize(&mut bytes);
        }
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&json!({
                "name": args.variable,
                "value": value.expose_secret(),
            }))
            .unwrap_or_default();
            text.push('\n');
            output::stdout_raw(text.as_bytes());
            secrecy::zeroize::Zeroize::zeroize(&mut text);
        }
    }
    exit::OK
}

/// `{"error": ..., "hint": ..., "problems": [...]}` on stdout; exit 1.
fn json_error(
    message: &str,
    hint: Option<&str>,
    problems: &[dsops::Problem],
    config: Option<Value>,
) -> u8 {
    let mut report = json!({
        "error": message,
        "problems": problems.iter().map(resolve::problem_json).collect::<Vec<_>>(),
    });
    if let Some(object) = report.as_object_mut() {
        if let Some(hint) = hint {
            object.insert("hint".to_owned(), Value::from(hint));
        }
        if let Some(config) = config {
            object.insert("config".to_owned(), config);
        }
    }
    output::stdout(&format!("{report:#}\n"));
    exit::FAILED
}
