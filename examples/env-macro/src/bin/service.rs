//! `service`: a long-running program on the same typed `Env`. It watches the
//! environment (`Env::watch`), reports each update (which fields changed,
//! never a value), and every 200 ms takes the Graph token as a request
//! would (`graph_token.get()`), checking that it has not expired.
//!
//! `service INTERVAL_MS RUN_FOR_MS`: it stops after `RUN_FOR_MS` with a
//! summary line.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use dsops::{AccessToken, ExposeSecret};
use env_macro_example::Env;

fn millis(arg: Option<String>, default: u64) -> Duration {
    Duration::from_millis(arg.and_then(|a| a.parse().ok()).unwrap_or(default))
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let interval = millis(args.next(), 30_000);
    let run_for = millis(args.next(), 60_000);
    let mut watch = match Env::watch(interval).await {
        Ok(watch) => watch,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    println!(
        "started: database_password {} characters",
        watch.current().database_password.expose_secret().len()
    );
    let deadline = tokio::time::Instant::now() + run_for;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let (mut checks, mut expired, mut failed, mut distinct) = (0_u32, 0_u32, 0_u32, 0_u32);
    let mut last_token = String::new();
    loop {
        tokio::select! {
            update = watch.changed() => {
                let Some(update) = update else { break };
                println!(
                    "update {} at {} ms: changed {:?}: database_password {} characters",
                    update.generation,
                    started.elapsed().as_millis(),
                    update.changed,
                    update.env.database_password.expose_secret().len()
                );
            }
            _ = tick.tick() => {
                let env = watch.current();
                match env.graph_token.get().await {
                    Ok(token) => {
                        checks += 1;
                        // Read the expiry from the token itself, not the handle.
                        let exp = AccessToken::from_token(token.clone()).expires_on();
                        if exp.is_none_or(|at| at <= SystemTime::now()) {
                            expired += 1;
                        }
                        if token.expose_secret() != last_token {
                            distinct += 1;
                            last_token = token.expose_secret().to_owned();
                        }
                    }
                    Err(error) => {
                        failed += 1;
                        eprintln!("token: {error}");
                    }
                }
                if let Some(why) = watch.last_failure() {
                    eprintln!("watch: {why}");
                }
            }
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    println!("tokens: {checks} checks, {distinct} distinct, {expired} expired, {failed} failed");
    ExitCode::SUCCESS
}
