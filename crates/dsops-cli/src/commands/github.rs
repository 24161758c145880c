//! `dsops github`: what the GitHub Action runs (and, with `TF_BUILD` set,
//! an Azure Pipelines step).
//!
//! It resolves an environment (by GitHub OIDC federation when a client id
//! is given) and then, in this order: prints the mask commands and flushes
//! them, exports the values (`GITHUB_ENV` / `GITHUB_OUTPUT`, or
//! `##vso[task.setvariable]`), writes the step summary, and runs `--run`
//! with the values in its environment and its output masked. Every input
//! also comes from a `DSOPS_*` variable, so that the action passes its
//! inputs through `env:` and never through a script.
//!
//! Nothing is exported when a required variable fails or any value would
//! be refused: the whole set of writes is prepared and checked first.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use clap::Args;
use dsops::ci::azure_pipelines::Percents;
use dsops::ci::export::{self, Ci, ExportTo, Variable, Writes};
use dsops::ci::github::{escape_data, escape_property};
use dsops::ci::summary::{self, Row, Status};
use dsops::config::model::{Config, CredentialSource, Spanned, Text};
use dsops::config::suggest::did_you_mean;
use dsops::config::{Diagnostic, Source};
use dsops::{PlannedSource, Problem, Resolution};
use secrecy::ExposeSecret;

use crate::child;
use crate::exit;
use crate::inline;
use crate::load::{self, Stream};
use crate::output;
use crate::resolve;

#[derive(Debug, Args)]
pub(crate) struct GithubArgs {
    /// The environment (a key of `envs:` in dsops.yaml). Not with
    /// `--keyvault`.
    #[arg(long, env = "DSOPS_ENV", value_name = "ENV")]
    env: Option<String>,

    /// Without a dsops.yaml, as `Azure/get-keyvault-secrets` took it: the
    /// vault (a name, or a URL for other clouds) whose `--secrets` to
    /// export, each as its name with `-` turned into `_`.
    #[arg(long, env = "DSOPS_KEYVAULT", value_name = "VAULT")]
    keyvault: Option<String>,

    /// With `--keyvault`: the secrets (separated by commas, spaces or
    /// lines), or `*` for every secret of the vault that can be read.
    #[arg(long, env = "DSOPS_SECRETS", value_name = "NAMES")]
    secrets: Option<String>,

    /// Authenticate by GitHub OIDC federation as this app registration or
    /// user-assigned identity (instead of each store's own credentials).
    #[arg(long, env = "DSOPS_CLIENT_ID", value_name = "ID")]
    client_id: Option<String>,

    /// The Entra ID tenant (for `--client-id`, where a store names none).
    #[arg(long, env = "DSOPS_TENANT_ID", value_name = "ID")]
    tenant_id: Option<String>,

    /// The subscription of storage and Cosmos DB accounts, where a store
    /// names none.
    #[arg(long, env = "DSOPS_SUBSCRIPTION_ID", value_name = "ID")]
    subscription_id: Option<String>,

    /// Where values go: `env` (later steps of the job), `outputs` (this
    /// step's outputs), `both` or `none`. Default: `env`, or `none` with
    /// `--run`.
    #[arg(long, env = "DSOPS_EXPORT", value_name = "WHERE")]
    export: Option<String>,

    /// Only these variables (separated by commas, spaces or lines).
    #[arg(long, env = "DSOPS_VARIABLES", value_name = "NAMES")]
    variables: Option<String>,

    /// Names allowed into the job's environment although they change how
    /// later steps or programs start (`PATH`, `LD_PRELOAD`, `BASH_ENV`,
    /// `JAVA_TOOL_OPTIONS`...) or are the runner's own (`GITHUB_*`,
    /// `RUNNER_*`, `ACTIONS_*`); separated by commas, spaces or lines. Each
    /// such name is refused otherwise.
    #[arg(long = "allow-name", env = "DSOPS_ALLOW_NAMES", value_name = "NAMES")]
    allow_names: Vec<String>,

    /// A bash script to run with the values in its environment, its output
    /// masked; dsops exits with its code.
    #[arg(long, env = "DSOPS_RUN", value_name = "SCRIPT")]
    run: Option<String>,

    /// The CI system: `auto` (GitHub Actions, or Azure Pipelines when
    /// `TF_BUILD` is set and `GITHUB_ACTIONS` is not), `github` or
    /// `azure-pipelines`.
    #[arg(long, env = "DSOPS_CI", value_name = "CI")]
    ci: Option<String>,

    /// Trace every store's requests and identity sources on stderr (never a
    /// value or a token). On when the job runs with debug logging.
    #[arg(long)]
    debug: bool,
}

/// An input, or `None` when unset or blank (the action passes every input,
/// set or not).
fn given(input: &Option<String>) -> Option<&str> {
    input.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn run(config_path: &Path, args: &GithubArgs) -> u8 {
    let ci = match ci(args) {
        Ok(ci) => ci,
        Err(message) => return usage(&message),
    };
    let to = match export_to(args) {
        Ok(to) => to,
        Err(message) => return usage(&message),
    };
    if let Err(message) = check_files(ci, to) {
        return fail(
            ci,
            &message,
            "is this step running in a GitHub Actions job?",
        );
    }
    let inline = match given(&args.keyvault) {
        Some(keyvault) => {
            if given(&args.env).is_some() {
                return usage(
                    "give either an environment of dsops.yaml (env) or keyvault and secrets, not both",
                );
            }
            match inline::parse(keyvault, given(&args.secrets)) {
                Ok(parsed) => Some(parsed),
                Err(message) => return usage(&message),
            }
        }
        None if given(&args.secrets).is_some() => {
            return usage("secrets is given without keyvault: name the vault too");
        }
        None => None,
    };
    let env = match (&inline, given(&args.env)) {
        (Some(_), _) => inline::NAME,
        (None, Some(env)) => env,
        (None, None) => {
            return usage(
                "name the environment of dsops.yaml (--env, DSOPS_ENV, the action's `env`), or give keyvault and secrets",
            );
        }
    };
    let loaded = match &inline {
        Some((vault, secrets)) => match inline_configuration(args, vault, secrets) {
            Ok(text) => load::load_text(Path::new(inline::SOURCE), &text, env),
            Err(message) => {
                return fail(
                    ci,
                    &message,
                    "check the vault's name and that the identity may list and read its secrets (Key Vault Secrets User)",
                );
            }
        },
        None => load::load(config_path, Some(env)),
    };
    let usable = match loaded {
        Ok(usable) => usable,
        Err(error) => {
            error.print_human(Stream::Stderr);
            if let load::LoadError::Invalid {
                loaded,
                diagnostics,
            } = &error
            {
                annotate_config(ci, loaded.source(), diagnostics.iter());
            }
            let what = if inline.is_some() {
                inline::SOURCE.to_owned()
            } else {
                config_path.display().to_string()
            };
            return fail(
                ci,
                &format!("{what} is not usable"),
                "run `dsops check` on it",
            );
        }
    };
    annotate_config(
        ci,
        usable.loaded().source(),
        usable.diagnostics().into_iter(),
    );
    let mut config = usable.config().clone();
    if let Err(message) = keep_variables(&mut config, env, given(&args.variables)) {
        return fail(
            ci,
            &message,
            "list variables of the environment, separated by commas",
        );
    }
    override_identity(&mut config, args);
    let debug = args.debug || var("RUNNER_DEBUG").as_deref() == Some("1");
    let sources = sources(&config, env);
    let Ok(runtime) = resolve::runtime() else {
        return exit::FAILED;
    };
    // Until the masks are out, nothing reaches the log: not the debug
    // trace, not a server's error text.
    let held = output::hold_stderr();
    let resolution = runtime.block_on(resolve::resolve(config, usable.config_dir(), env, debug));
    let Some(resolution) = resolution else {
        return resolve::unknown_env(env);
    };
    if resolution.failed() {
        report_problems(ci, &resolution.problems);
        let verdict = resolve::failure_summary(&resolution);
        write_summary(
            ci,
            env,
            &format!("{verdict}: nothing was exported."),
            rows(&resolution, &sources, None),
        );
        output::problem(&format!("{verdict}: nothing was exported"), None);
        return exit::FAILED;
    }
    let allowed: Vec<&str> = args
        .allow_names
        .iter()
        .flat_map(|names| names.split([',', ' ', '\n', '\r', '\t']))
        .filter(|name| !name.is_empty())
        .collect();
    let variables: Vec<Variable<'_>> = resolution
        .values
        .iter()
        .map(|(name, value)| Variable {
            name,
            value,
            secret: !resolution.literals.contains(name),
            allowed: allowed.iter().any(|a| a.eq_ignore_ascii_case(name)),
        })
        .collect();
    let writes = match export::prepare(ci, &variables, to) {
        Ok(writes) => writes,
        Err(errors) => {
            for error in &errors {
                annotate(ci, "error", &format!("{error}\n  hint: {}", error.hint()));
            }
            write_summary(
                ci,
                env,
                "Refused: nothing was exported.",
                rows(&resolution, &sources, None),
            );
            output::problem(
                &format!(
                    "{} {} refused: nothing was exported",
                    errors.len(),
                    if errors.len() == 1 {
                        "value was"
                    } else {
                        "values were"
                    }
                ),
                None,
            );
            return exit::FAILED;
        }
    };
    drop(variables);
    // Masks first, flushed, before any other output and before any file
    // or child could make a value visible.
    output::stdout_raw(writes.masks.expose_secret().as_bytes());
    drop(held);
    output::stdout_raw(writes.commands.expose_secret().as_bytes());
    if let Err(message) = write_files(&writes) {
        return fail(
            ci,
            &message,
            "the runner's file commands could not be appended to",
        );
    }
    for name in &writes.unmasked {
        annotate(
            ci,
            "warning",
            &format!(
                "{name} is shorter than {} characters: it cannot be masked and will show in logs",
                dsops::ci::github::MIN_MASK_LEN
            ),
        );
    }
    resolve::print_problems(&resolution.problems);
    let verdict = verdict(&resolution, to, args.run.is_some());
    write_summary(
        ci,
        env,
        &verdict,
        rows(&resolution, &sources, Some((to, &writes))),
    );
    output::stderr(&format!("dsops: {verdict}\n"));
    match given(&args.run) {
        Some(script) => run_script(&runtime, script, &resolution),
        None => exit::OK,
    }
}

fn usage(message: &str) -> u8 {
    output::problem(message, None);
    exit::USAGE
}

/// Reports a failure as an annotation and on stderr; exit 1.
fn fail(ci: Ci, message: &str, hint: &str) -> u8 {
    annotate(ci, "error", message);
    output::problem(message, Some(hint));
    exit::FAILED
}

fn ci(args: &GithubArgs) -> Result<Ci, String> {
    let azure = || Ci::AzurePipelines(Percents::from_setting(var("DECODE_PERCENTS").as_deref()));
    match given(&args.ci) {
        None | Some("auto") => Ok(
            if var("TF_BUILD").is_some() && var("GITHUB_ACTIONS").is_none() {
                azure()
            } else {
                Ci::GitHub
            },
        ),
        Some("github") => Ok(Ci::GitHub),
        Some("azure-pipelines") => Ok(azure()),
        Some(other) => Err(format!(
            "--ci {other:?}: expected auto, github or azure-pipelines"
        )),
    }
}

fn export_to(args: &GithubArgs) -> Result<ExportTo, String> {
    let default = if given(&args.run).is_some() {
        "none"
    } else {
        "env"
    };
    match given(&args.export).unwrap_or(default) {
        "env" => Ok(ExportTo {
            env: true,
            outputs: false,
        }),
        "outputs" | "output" => Ok(ExportTo {
            env: false,
            outputs: true,
        }),
        "both" => Ok(ExportTo {
            env: true,
            outputs: true,
        }),
        "none" => Ok(ExportTo::default()),
        other => Err(format!(
            "--export {other:?}: expected env, outputs, both or none"
        )),
    }
}

/// The files an export needs exist as variables (before anything is resolved).
fn check_files(ci: Ci, to: ExportTo) -> Result<(), String> {
    if ci != Ci::GitHub {
        return Ok(());
    }
    for (wanted, name) in [(to.env, "GITHUB_ENV"), (to.outputs, "GITHUB_OUTPUT")] {
        if wanted && var(name).is_none() {
            return Err(format!(
                "{name} is not set, so values cannot be exported there"
            ));
        }
    }
    Ok(())
}

/// Keeps only the `--variables` of `env`; an unknown name is an error.
fn keep_variables(config: &mut Config, env: &str, wanted: Option<&str>) -> Result<(), String> {
    let Some(wanted) = wanted else {
        return Ok(());
    };
    let Some(environment) = config.envs.iter_mut().find(|e| e.name.value == env) else {
        return Ok(());
    };
    let names: Vec<&str> = wanted
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .collect();
    for name in &names {
        if environment.variable(name).is_none() {
            let known = environment.variables.iter().map(|v| v.name.value.as_str());
            let suggestion = did_you_mean(name, known)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(format!(
                "variable {name} is not in environment {env}{suggestion}"
            ));
        }
    }
    environment
        .variables
        .retain(|v| names.contains(&v.name.value.as_str()));
    Ok(())
}

/// The configuration the `keyvault` and `secrets` inputs stand for; for
/// `*`, the vault's secrets are listed first (with the identity the
/// inputs give), without reading a value.
fn inline_configuration(
    args: &GithubArgs,
    vault: &str,
    secrets: &inline::Secrets,
) -> Result<String, String> {
    let names = match secrets {
        inline::Secrets::Named(names) => return Ok(inline::configuration(vault, names)),
        inline::Secrets::All => list_secrets(args, vault)?,
    };
    if names.is_empty() {
        return Err(format!(
            "vault {vault} lists no secret that can be read (enabled and valid)"
        ));
    }
    Ok(inline::configuration(vault, &names))
}

/// The names of the vault's readable secrets whose variable name is valid.
fn list_secrets(args: &GithubArgs, vault: &str) -> Result<Vec<String>, String> {
    use std::sync::Arc;

    let text = inline::store_only(vault);
    let loaded = dsops::config::load(
        Source::new(inline::SOURCE, text),
        &dsops::config::ProcessEnvironment,
        dsops::config::LoadOptions::resolve(),
    );
    let Some(config) = loaded.config() else {
        let why: Vec<String> = loaded
            .diagnostics()
            .iter()
            .map(|d| d.message.clone())
            .collect();
        return Err(format!("keyvault {vault}: {}", why.join("; ")));
    };
    let mut config = config.clone();
    override_identity(&mut config, args);
    let Some(store) = config.store(inline::NAME).cloned() else {
        return Err("the keyvault input gave no store".to_owned());
    };
    let url = dsops::keyvault::vault_url(
        &dsops::config::model::Vault::parse(Text {
            value: vault.to_owned(),
            span: Default::default(),
        }),
        &store,
    );
    let debug = args.debug || var("RUNNER_DEBUG").as_deref() == Some("1");
    let engine = dsops::Engine::new(
        config,
        ".",
        Arc::new(dsops::config::ProcessEnvironment),
        dsops::EngineOptions {
            debug,
            progress: None,
        },
    );
    let runtime = resolve::runtime().map_err(|_| "no async runtime".to_owned())?;
    let listed = runtime.block_on(async {
        let client = engine.store(inline::NAME).map_err(|e| e.to_string())?;
        let scope = dsops::identity::Scope::keyvault(&store);
        let token = client
            .token(&scope)
            .await
            .map_err(|e| format!("no token for Key Vault: {}", load::causes(&e)))?;
        client
            .list_secrets(&url, &token)
            .await
            .map_err(|e| format!("cannot list the secrets of {url}: {e}"))
    })?;
    let mut names = Vec::new();
    for name in listed {
        if inline::parse(vault, Some(&name)).is_ok() {
            names.push(name);
        } else {
            output::stderr(&format!(
                "warning: secret {} is skipped: its name is no environment variable name\n",
                name.escape_default()
            ));
        }
    }
    Ok(names)
}

/// `--client-id`: every store authenticates by GitHub OIDC federation as
/// that client; `--tenant-id` and `--subscription-id` fill in what a store
/// does not say.
fn override_identity(config: &mut Config, args: &GithubArgs) {
    let text = |value: &str| Text {
        value: value.to_owned(),
        span: Default::default(),
    };
    for store in &mut config.stores {
        if let Some(tenant) = given(&args.tenant_id)
            && store.tenant_id.is_none()
        {
            store.tenant_id = Some(text(tenant));
        }
        if let Some(subscription) = given(&args.subscription_id)
            && store.default_subscription.is_none()
        {
            store.default_subscription = Some(text(subscription));
        }
        if let Some(client) = given(&args.client_id) {
            store.fallback = Some(vec![Spanned {
                value: CredentialSource::GithubOidc {
                    client_id: Some(text(client)),
                    tenant_id: None,
                    audience: text(dsops::identity::GITHUB_AUDIENCE),
                },
                span: Default::default(),
            }]);
        }
    }
}

/// Where each variable comes from, for the summary.
fn sources(config: &Config, env: &str) -> Vec<(String, String)> {
    let Ok(plan) = dsops::Plan::new(config, env) else {
        return Vec::new();
    };
    plan.variables
        .iter()
        .map(|variable| {
            let source = match &variable.source {
                PlannedSource::Literal(_) => "dsops.yaml".to_owned(),
                PlannedSource::Fetch(index) => plan
                    .fetches
                    .get(*index)
                    .map(|fetch| format!("{} (store {})", fetch.target.describe(), fetch.store))
                    .unwrap_or_default(),
            };
            (variable.name.clone(), source)
        })
        .collect()
}

/// The summary's rows: every variable of the plan, with what became of it.
fn rows(
    resolution: &Resolution,
    sources: &[(String, String)],
    done: Option<(ExportTo, &Writes)>,
) -> Vec<Row> {
    let destination = match done {
        Some((to, _)) => match (to.env, to.outputs) {
            (true, true) => "job environment and step outputs",
            (true, false) => "job environment",
            (false, true) => "step outputs",
            (false, false) => "resolved",
        },
        None => "resolved, not exported",
    };
    sources
        .iter()
        .map(|(name, source)| {
            let problem = resolution.problems.iter().find(|p| &p.variable == name);
            let status = match problem {
                Some(problem) if problem.optional => {
                    Status::Skipped(format!("optional, not set: {}", reason(problem)))
                }
                Some(problem) => Status::Failed(reason(problem)),
                None if done.is_some_and(|(_, writes)| writes.unmasked.contains(name)) => {
                    Status::Warning(format!("{destination}; not masked (too short)"))
                }
                None => Status::Ok(destination.to_owned()),
            };
            Row {
                variable: name.clone(),
                source: source.clone(),
                status,
            }
        })
        .collect()
}

/// "404 SecretNotFound: ..." for a summary cell.
fn reason(problem: &Problem) -> String {
    let mut text = String::new();
    if let Some(status) = problem.status {
        text.push_str(&format!("{status} "));
    }
    if let Some(code) = &problem.code {
        text.push_str(&format!("{code}: "));
    }
    text.push_str(&problem.message);
    text
}

fn verdict(resolution: &Resolution, to: ExportTo, run: bool) -> String {
    let count = resolution.values.len();
    let noun = if count == 1 { "variable" } else { "variables" };
    let place = match (to.env, to.outputs) {
        (true, true) => "exported to the job environment and the step outputs",
        (true, false) => "exported to the job environment",
        (false, true) => "exported to the step outputs",
        (false, false) if run => "passed to the script only",
        (false, false) => "masked, not exported",
    };
    format!(
        "{count} {noun} of environment {} resolved and {place}",
        resolution.env
    )
}

/// Problems as annotations (shown on the run's page) on GitHub, as
/// `logissue` on Azure Pipelines.
fn report_problems(ci: Ci, problems: &[Problem]) {
    for problem in problems {
        annotate(
            ci,
            if problem.optional { "warning" } else { "error" },
            &problem.to_string(),
        );
    }
}

/// One annotation: `::error::text` or `##vso[task.logissue type=error]text`.
fn annotate(ci: Ci, level: &str, text: &str) {
    // Server text in it is data: no escape sequence or workflow command.
    let text = &*dsops::config::report::neutralize(text);
    let line = match ci {
        Ci::GitHub => format!("::{level} title=dsops::{}\n", escape_data(text)),
        Ci::AzurePipelines(_) => format!(
            "##vso[task.logissue type={level}]{}\n",
            text.replace('\r', "").replace('\n', " ")
        ),
    };
    output::stdout_raw(line.as_bytes());
}

/// Configuration diagnostics as annotations on the lines of dsops.yaml
/// they concern (GitHub shows them on the file in pull requests).
fn annotate_config<'a>(ci: Ci, source: &Source, diagnostics: impl Iterator<Item = &'a Diagnostic>) {
    for diagnostic in diagnostics {
        let level = if diagnostic.is_error() {
            "error"
        } else {
            "warning"
        };
        let message = format!(
            "{}[{}]: {}",
            diagnostic.severity.as_str(),
            diagnostic.code,
            diagnostic.message
        );
        let line = match (ci, diagnostic.span) {
            (Ci::GitHub, Some(span)) => {
                let position = source.position(span.start);
                format!(
                    "::{level} file={},line={},col={},title=dsops check::{}\n",
                    escape_property(&source.path().display().to_string()),
                    position.line,
                    position.column,
                    escape_data(&message)
                )
            }
            (Ci::GitHub, None) => {
                format!("::{level} title=dsops check::{}\n", escape_data(&message))
            }
            (Ci::AzurePipelines(_), _) => {
                format!(
                    "##vso[task.logissue type={level}]{}\n",
                    message.replace(['\r', '\n'], " ")
                )
            }
        };
        output::stdout_raw(line.as_bytes());
    }
}

/// Appends the file entries, each file in one write.
fn write_files(writes: &Writes) -> Result<(), String> {
    for (name, text) in [
        ("GITHUB_ENV", &writes.env_file),
        ("GITHUB_OUTPUT", &writes.output_file),
    ] {
        let text = text.expose_secret();
        if text.is_empty() {
            continue;
        }
        // `check_files` made sure the files asked for are there; `count`
        // alone is not worth failing for.
        let Some(path) = var(name) else {
            continue;
        };
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(|error| format!("cannot append to {name} ({path}): {error}"))?;
    }
    Ok(())
}

/// Appends the summary to `GITHUB_STEP_SUMMARY` (GitHub only; a failure to
/// write it is a warning: the values are already where they belong).
fn write_summary(ci: Ci, env: &str, verdict: &str, rows: Vec<Row>) {
    if ci != Ci::GitHub {
        return;
    }
    let Some(path) = var("GITHUB_STEP_SUMMARY") else {
        return;
    };
    let text = summary::markdown(&format!("dsops: {env}"), verdict, &rows);
    let written = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    if let Err(error) = written {
        output::stderr(&format!(
            "warning: cannot write the step summary ({path}): {error}\n"
        ));
    }
}

/// Runs `script` with bash (as a `run:` step with `shell: bash` does), the
/// values in its environment and its output masked.
fn run_script(runtime: &tokio::runtime::Runtime, script: &str, resolution: &Resolution) -> u8 {
    let Some(redactor) = child::redactor(resolution) else {
        return exit::FAILED;
    };
    let program = std::ffi::OsStr::new("bash");
    let mut command = tokio::process::Command::new(program);
    command.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script]);
    for (name, value) in &resolution.values {
        command.env(name, value.expose_secret());
    }
    child::run(runtime, command, program, Some(redactor))
}
