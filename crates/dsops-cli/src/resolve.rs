//! What the commands that resolve values share: the `--env` and `--debug`
//! arguments, an engine for the configuration, the progress line, and how
//! problems are printed.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clap::Args;
use dsops::config::ProcessEnvironment;
use dsops::config::model::Config;
use dsops::{Engine, EngineOptions, Problem, Progress, Resolution};
use serde_json::{Value, json};

use crate::exit;
use crate::load::{self, Stream};
use crate::output;

/// `--env` and `--debug`.
#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// The environment (a key of `envs:` in dsops.yaml).
    #[arg(long, env = "DSOPS_ENV", value_name = "ENV")]
    pub(crate) env: String,

    /// Trace every store's requests and identity sources on stderr (never a
    /// value or a token).
    #[arg(long)]
    pub(crate) debug: bool,
}

/// With `--debug`, names the configuration file on stderr.
pub(crate) fn debug_config(debug: bool) {
    if debug && let Some(line) = crate::locate::debug_line() {
        output::stderr(&line);
    }
}

/// A single-threaded runtime, or exit 1 with why not.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            output::error(&err, Some("dsops could not start its async runtime"));
            exit::FAILED
        })
}

/// Loads dsops.yaml for `--env` and resolves that environment, with the
/// runtime it ran on. A configuration error is printed on stderr as `dsops
/// check` prints it; `Err` is then the exit code.
pub(crate) fn load_and_resolve(
    config: &Path,
    args: &EnvArgs,
) -> Result<(tokio::runtime::Runtime, Resolution), u8> {
    let usable = load_for(config, args)?;
    resolve_loaded(&usable, args)
}

/// Loads dsops.yaml for `--env` (naming the file with `--debug`); a
/// configuration error is printed on stderr as `dsops check` prints it,
/// and `Err` is then the exit code.
pub(crate) fn load_for(config: &Path, args: &EnvArgs) -> Result<load::Usable, u8> {
    debug_config(args.debug);
    load::load(config, Some(&args.env)).map_err(|error| {
        error.print_human(Stream::Stderr);
        exit::FAILED
    })
}

/// Resolves `--env` of a loaded configuration, with the runtime it ran on.
pub(crate) fn resolve_loaded(
    usable: &load::Usable,
    args: &EnvArgs,
) -> Result<(tokio::runtime::Runtime, Resolution), u8> {
    let runtime = runtime()?;
    let resolved = runtime.block_on(resolve(
        usable.config().clone(),
        usable.config_dir(),
        &args.env,
        args.debug,
    ));
    let resolution = resolved.ok_or_else(|| unknown_env(&args.env))?;
    Ok((runtime, resolution))
}

/// An engine for `config`, with `--debug` and, when stderr is a terminal
/// that no trace writes to, a progress line.
pub(crate) fn engine(config: Config, config_dir: &Path, debug: bool) -> (Engine, Ticker) {
    warm_up_random();
    let traced = debug || config.stores.iter().any(|s| s.debug.enabled);
    let ticker = Ticker::new(!traced && output::stderr_is_terminal());
    let options = EngineOptions {
        debug,
        progress: ticker.callback(),
    };
    let engine = Engine::new(config, config_dir, Arc::new(ProcessEnvironment), options);
    (engine, ticker)
}

/// Starts aws-lc's random generator on a thread of its own, so that the
/// first TLS handshake does not wait for it. Its first use in a process
/// gathers CPU jitter entropy: some 30 ms of CPU (aws/aws-lc-rs#1140), a
/// one-time cost that then overlaps loading the platform's CA certificates
/// and the token request instead of following them. The thread is not
/// waited for: a handshake that comes first waits on the same
/// initialisation, as it would without this.
fn warm_up_random() {
    let _ = std::thread::Builder::new()
        .name("dsops-rng".to_owned())
        .spawn(|| {
            let mut byte = [0_u8; 1];
            let _ = aws_lc_rs::rand::fill(&mut byte);
        });
}

/// Resolves `env` of `config`, with the progress line.
pub(crate) async fn resolve(
    config: Config,
    config_dir: &Path,
    env: &str,
    debug: bool,
) -> Option<Resolution> {
    let (engine, ticker) = engine(config, config_dir, debug);
    let total = engine.plan(env).map_or(0, |plan| plan.fetches.len());
    ticker.set_total(total);
    ticker.around(engine.resolve(env)).await.ok()
}

/// The progress line: `resolving 12/100…` on stderr, updated in place,
/// shown only when resolving takes longer than [`Ticker::DELAY`], and
/// cleared when done.
#[derive(Debug)]
pub(crate) struct Ticker {
    state: Option<Arc<TickState>>,
}

#[derive(Debug, Default)]
struct TickState {
    done: AtomicUsize,
    total: AtomicUsize,
    /// The width of the line on screen, to clear it.
    shown: AtomicUsize,
    finished: AtomicBool,
}

impl Ticker {
    /// How long resolving runs before the line appears.
    const DELAY: Duration = Duration::from_millis(300);
    /// How often it is redrawn.
    const EVERY: Duration = Duration::from_millis(100);

    fn new(enabled: bool) -> Self {
        Self {
            state: enabled.then(|| Arc::new(TickState::default())),
        }
    }

    fn callback(&self) -> Option<Progress> {
        let state = self.state.clone()?;
        let progress: Progress = Arc::new(move |done, total| {
            state.done.store(done, Ordering::Relaxed);
            state.total.store(total, Ordering::Relaxed);
        });
        Some(progress)
    }

    fn set_total(&self, total: usize) {
        if let Some(state) = &self.state {
            state.total.store(total, Ordering::Relaxed);
        }
    }

    /// Runs `work`, drawing the line while it runs.
    pub(crate) async fn around<F: Future>(&self, work: F) -> F::Output {
        let Some(state) = self.state.clone() else {
            return work.await;
        };
        let drawer = state.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Self::DELAY).await;
            let mut drawn = String::new();
            while !drawer.finished.load(Ordering::Relaxed) {
                let line = format!(
                    "resolving {}/{}…",
                    drawer.done.load(Ordering::Relaxed),
                    drawer.total.load(Ordering::Relaxed)
                );
                if line != drawn {
                    let width = line.chars().count();
                    let previous = drawer.shown.swap(width, Ordering::Relaxed);
                    let pad = " ".repeat(previous.saturating_sub(width));
                    output::stderr_exact(&format!("\r{line}{pad}"));
                    drawn = line;
                }
                tokio::time::sleep(Self::EVERY).await;
            }
        });
        let result = work.await;
        state.finished.store(true, Ordering::Relaxed);
        task.abort();
        let _ = task.await;
        let width = state.shown.swap(0, Ordering::Relaxed);
        if width > 0 {
            output::stderr_exact(&format!("\r{}\r", " ".repeat(width)));
        }
        result
    }
}

/// Prints every problem on stderr: `error:` for required variables,
/// `warning:` for optional ones.
pub(crate) fn print_problems(problems: &[Problem]) {
    let mut text = String::new();
    for problem in problems {
        let level = if problem.optional { "warning" } else { "error" };
        text.push_str(&format!("{level}: {problem}\n"));
    }
    output::stderr(&text);
}

/// "2 of 5 variables of environment production could not be resolved".
pub(crate) fn failure_summary(resolution: &Resolution) -> String {
    let failed = resolution.problems.iter().filter(|p| !p.optional).count();
    let total = resolution.values.len() + resolution.problems.len();
    format!(
        "{failed} of {total} {} of environment {} could not be resolved",
        if total == 1 { "variable" } else { "variables" },
        resolution.env
    )
}

/// Prints the problems of a failed resolution and `summary`; exit 1.
pub(crate) fn failed(resolution: &Resolution, consequence: &str) -> u8 {
    print_problems(&resolution.problems);
    output::problem(
        &format!("{}: {consequence}", failure_summary(resolution)),
        None,
    );
    exit::FAILED
}

/// A problem as JSON: its fields and its text, never a value or a token.
pub(crate) fn problem_json(problem: &Problem) -> Value {
    json!({
        "variable": problem.variable,
        "optional": problem.optional,
        "env": problem.env,
        "store": problem.store,
        "target": problem.target,
        "identity": problem.credential,
        "status": problem.status,
        "code": problem.code,
        "message": problem.message,
        "hint": problem.hint,
        "text": problem.to_string(),
    })
}

/// An environment the engine does not know (the configuration was checked
/// before, so this does not happen): exit 1.
pub(crate) fn unknown_env(env: &str) -> u8 {
    output::problem(&format!("there is no environment called `{env}`"), None);
    exit::FAILED
}
