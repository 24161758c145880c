//! `env-macro-example`: resolves the job's secrets and reports what it got
//! (never a value). `--from-env` reads them from the environment instead, as
//! in a program started by `dsops exec --env production -- env-macro-example --from-env`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use env_macro_example::{Env, report};

fn main() -> ExitCode {
    let from_env = std::env::args().skip(1).any(|a| a == "--from-env");
    let env = if from_env {
        Env::from_env()
    } else {
        Env::resolve_blocking()
    };
    match env {
        Ok(env) => {
            println!("{}", report(&env));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
