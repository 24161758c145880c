//! The `dsops` command line: argument parsing and dispatch, thin over the
//! `dsops` library. Each subcommand lives in its own module under
//! `commands/`; what several share (loading the configuration, resolving,
//! running a child, writing output) sits beside this file.

mod child;
mod commands;
mod files;
mod hygiene;
mod inline;
mod load;
mod locate;
mod output;
mod private_fs;
mod program;
mod resolve;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[cfg(all(feature = "emulator", unix))]
use crate::commands::demo;
#[cfg(feature = "emulator")]
use crate::commands::emulator;
use crate::commands::{check, completions, doctor, exec, get, github, plan, render, schema};

/// `dsops --version`: the version, the commit it was built from, the
/// target and the features built in (build.rs works them out).
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("DSOPS_BUILD_COMMIT"),
    "\ntarget: ",
    env!("DSOPS_BUILD_TARGET"),
    "\nfeatures: ",
    env!("DSOPS_BUILD_FEATURES"),
);

/// Secrets for programs, without a stored credential.
#[derive(Debug, Parser)]
#[command(name = "dsops", version, long_version = LONG_VERSION, about, long_about = None)]
struct Cli {
    /// The configuration file (default: dsops.yaml or dsops.yml, in the
    /// working directory or the nearest parent up to the repository root).
    #[arg(long, global = true, env = "DSOPS_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    color: ColorWhen,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate dsops.yaml offline and report every problem at once.
    Check(check::CheckArgs),
    /// Find out why secrets can or cannot be had here: which identity
    /// wins, whose tokens it gets, and whether each Key Vault object can be
    /// read; one fix per failure.
    Doctor(doctor::DoctorArgs),
    /// Run a program with an environment's variables (resolved values go
    /// only into its environment). Exits with the program's code.
    Exec(exec::ExecArgs),
    /// Write an environment's variables to a file (dotenv, JSON or YAML),
    /// whole or not at all; mode 0600 (on Windows, the directory's ACL).
    Render(render::RenderArgs),
    /// Print the value of one variable.
    Get(get::GetArgs),
    /// In a GitHub Actions (or Azure Pipelines) step: resolve an
    /// environment, mask every value in the job log, export the values to
    /// later steps or outputs, and write a step summary. What the dsops
    /// action runs.
    #[command(visible_alias = "ci")]
    Github(github::GithubArgs),
    /// Show what resolving an environment would fetch, from where, and with
    /// which identity; never a value.
    Plan(plan::PlanArgs),
    /// Print the JSON Schema of dsops.yaml, for editors.
    Schema,
    /// Print the completion script for a shell (bash, zsh, fish,
    /// powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff): `dsops man > dsops.1`.
    Man,
    /// Serve a local, offline Azure (managed identity, Entra ID, GitHub OIDC,
    /// Key Vault, ARM) on loopback, for development and tests.
    #[cfg(feature = "emulator")]
    Emulator(emulator::EmulatorArgs),
    /// Run the whole job on this machine with no Azure account: the emulator
    /// serves a managed identity and a vault, and `dsops exec` reads secrets
    /// into a program's environment.
    #[cfg(all(feature = "emulator", unix))]
    Demo(demo::DemoArgs),
}

/// Exit codes shared by every subcommand.
pub(crate) mod exit {
    /// Success.
    pub(crate) const OK: u8 = 0;
    /// The command ran and found problems (or failed).
    pub(crate) const FAILED: u8 = 1;
    /// The command line is wrong (clap uses it too).
    pub(crate) const USAGE: u8 = 2;
    /// `dsops exec`: dsops itself failed (configuration, identity,
    /// resolution) and the command was not run, as `env` and `timeout` use
    /// it, so that it cannot be taken for the command's own 1.
    pub(crate) const EXEC_FAILED: u8 = 125;
}

fn main() -> ExitCode {
    hygiene::no_core_dumps();
    // clap exits with 2 on usage errors.
    let cli = Cli::parse();
    match cli.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let located = locate::locate(cli.config.as_deref(), &cwd);
    locate::choose(located.clone());
    let config = located.path.as_path();
    let code = match cli.command {
        Command::Check(args) => check::run(config, &args),
        Command::Doctor(args) => doctor::run(config, &args),
        Command::Exec(args) => exec::run(config, &args),
        Command::Render(args) => render::run(config, &args),
        Command::Get(args) => get::run(config, &args),
        Command::Plan(args) => plan::run(config, &args),
        Command::Github(args) => github::run(config, &args),
        Command::Schema => schema::run(),
        Command::Completions(args) => completions::run::<Cli>(&args),
        Command::Man => completions::man::<Cli>(),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator::run(&args),
        #[cfg(all(feature = "emulator", unix))]
        Command::Demo(args) => demo::run(&args),
    };
    // A child's Windows exit code above 255, passed on whole now that the
    // command has dropped what it held.
    if let Some(whole) = child::whole_exit_code() {
        std::process::exit(whole);
    }
    ExitCode::from(code)
}
