//! Watching: what a watch costs and how fast a rotation reaches a program.
//!
//! 1. Requests per interval for 100 watched secrets (one vault): the
//!    requests each round of a `Watcher` makes, with the defaults, with
//!    `secret_cache` (ttl 10 min), and with every version pinned; and how
//!    the rounds of many processes spread (the jitter).
//! 2. Rotation to restarted child: `dsops exec --watch` (the binary of this
//!    profile, `target/release/dsops`: build it first with `cargo build
//!    --release -p dsops-cli`) runs a child that records the value it
//!    started with; the time from a rotation in the emulator to the
//!    restarted child having the new value, at intervals of 1 s and 5 s.
//!
//! Run with `cargo bench -p dsops-bench --bench watch` (`-- --rotations N`).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsops::config::{LoadOptions, Source, load};
use dsops::{Engine, EngineOptions, Round, Watcher};
use dsops_emulator::testing::StateBuilder;
use dsops_emulator::{Emulator, Options, StateFile};

const SECRETS: usize = 100;
const VAULT: &str = "bench-watch";

fn state() -> StateFile {
    StateBuilder::new()
        .system_identity("vm")
        .grant("vm", "Key Vault Secrets User", format!("vault:{VAULT}"))
        .vault(VAULT, |mut kv| {
            for i in 0..SECRETS {
                kv = kv.secret(format!("secret-{i}"), format!("value-{i}"));
            }
            kv
        })
        .build()
}

/// 100 secrets; `store_extra` under the store; `versions` pins each.
fn config(emulator: &Emulator, store_extra: &str, versions: Option<&[String]>) -> String {
    let port = emulator.https_addr().port();
    let mut text = format!(
        "secretStores:\n  azure:\n    type: azure.managed_identity\n    fallback: [{{ type: managed_identity }}]\n{store_extra}    cloud:\n      authority_host: {}\n      keyvault_dns_suffix: \"vault.localhost:{port}\"\n      ca_bundle: ca.pem\nenvs:\n  bench:\n",
        emulator.https_url()
    );
    for i in 0..SECRETS {
        let version = versions.map_or_else(String::new, |v| format!(", version: {}", v[i]));
        writeln!(
            text,
            "    SECRET_{i}: {{ from: {{ store: azure, vault: {VAULT}, secret: secret-{i}{version} }} }}"
        )
        .unwrap();
    }
    text
}

fn engine(text: &str, dir: &std::path::Path, env: &HashMap<String, String>) -> Engine {
    let loaded = load(Source::new("dsops.yaml", text), env, LoadOptions::resolve());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics());
    Engine::new(
        loaded.config().unwrap().clone(),
        dir,
        Arc::new(env.clone()),
        EngineOptions::default(),
    )
}

/// Key Vault and token requests of each of `rounds` rounds after the first.
fn per_round(
    runtime: &tokio::runtime::Runtime,
    emulator: &Emulator,
    engine: Engine,
    rounds: usize,
) -> (Vec<usize>, Vec<usize>, Vec<Duration>) {
    let mut watcher = Watcher::new(engine, "bench", Duration::from_secs(1));
    let first = runtime.block_on(watcher.start()).unwrap();
    assert!(!first.failed(), "{:?}", first.problems);
    let (mut reads, mut tokens, mut times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        emulator.log().clear();
        let started = Instant::now();
        let round = runtime.block_on(watcher.round()).unwrap();
        times.push(started.elapsed());
        assert!(matches!(round, Round::Unchanged), "{round:?}");
        let log = emulator.log().entries();
        reads.push(log.iter().filter(|e| e.service == "keyvault").count());
        tokens.push(log.iter().filter(|e| e.token_for.is_some()).count());
    }
    (reads, tokens, times)
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort_unstable();
    values[values.len() / 2]
}

fn requests_per_interval(
    runtime: &tokio::runtime::Runtime,
    emulator: &Emulator,
    dir: &std::path::Path,
    env: &HashMap<String, String>,
) {
    const ROUNDS: usize = 10;
    println!("### Requests per interval, {SECRETS} watched secrets\n");
    println!(
        "Each row: a `Watcher` (what `Env::watch` and `exec --watch` run) after its first resolution, {ROUNDS} rounds; medians per round.\n"
    );
    println!(
        "| configuration | Key Vault requests per round | token requests per round | round wall time |"
    );
    println!("|---|---:|---:|---:|");
    // Pinned versions: what each secret's current version is.
    let versions: Vec<String> = (0..SECRETS)
        .map(|i| {
            emulator
                .set_secret(VAULT, &format!("secret-{i}"), format!("value-{i}"))
                .unwrap()
        })
        .collect();
    for (name, text) in [
        ("defaults", config(emulator, "", None)),
        (
            "`secret_cache: { enabled: true, ttl: 10m }`",
            config(
                emulator,
                "    cache: { secret_cache: { enabled: true, ttl: 10m } }\n",
                None,
            ),
        ),
        (
            "every version pinned",
            config(emulator, "", Some(&versions)),
        ),
    ] {
        let (reads, tokens, times) = per_round(runtime, emulator, engine(&text, dir, env), ROUNDS);
        println!(
            "| {name} | {} | {} | {:.1} ms |",
            median(reads),
            median(tokens),
            median(times).as_secs_f64() * 1000.0
        );
    }

    // The spread of the rounds of many processes started together.
    let watcher = Watcher::new(
        engine(&config(emulator, "", None), dir, env),
        "bench",
        Duration::from_secs(30),
    );
    let now = Instant::now();
    let mut offsets: Vec<f64> = (0..1000)
        .map(|_| watcher.next_round().duration_since(now).as_secs_f64())
        .collect();
    offsets.sort_by(f64::total_cmp);
    println!(
        "\nJitter: 1,000 draws of the next round at `--watch 30s` fall between {:.1} s and {:.1} s (median {:.1} s).\n",
        offsets[0],
        offsets[offsets.len() - 1],
        offsets[offsets.len() / 2]
    );
}

/// The `dsops` binary: `DSOPS_BIN` (what `scripts/bench` built, in its
/// profile), else the one of this profile: `target/release/deps/watch-HASH`
/// → `target/release/dsops`.
fn dsops_binary() -> std::path::PathBuf {
    if let Some(given) = std::env::var_os("DSOPS_BIN") {
        return std::path::PathBuf::from(given);
    }
    let exe = std::env::current_exe().unwrap();
    let dsops = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join(format!("dsops{}", std::env::consts::EXE_SUFFIX));
    assert!(
        dsops.is_file(),
        "{} is missing: build it first with `cargo build --release -p dsops-cli`",
        dsops.display()
    );
    dsops
}

fn rotation_to_restart(emulator: &Emulator, dir: &std::path::Path, rotations: usize) {
    println!("### Rotation to restarted child\n");
    println!(
        "`dsops exec --env bench --watch I -- sh -c …` with {SECRETS} secrets; the child appends the value of `SECRET_0` to a file when it starts and exits on SIGTERM. Each rotation sets a new version of `secret-0` in the emulator, then waits until the file has the new value. {rotations} rotations per interval, each 0–1 s (at random) after the previous restart: at `5s`, most of the wait is the rest of the interval.\n"
    );
    println!("| interval | median | p90 | max | min |");
    println!("|---|---:|---:|---:|---:|");
    std::fs::write(dir.join("dsops.yaml"), config(emulator, "", None)).unwrap();
    let script = r#"printf '%s\n' "$SECRET_0" >> starts.txt; trap 'kill $! 2>/dev/null; exit 0' TERM; sleep 600 & wait"#;
    for interval in ["1s", "5s"] {
        let starts = dir.join("starts.txt");
        let _ = std::fs::remove_file(&starts);
        let mut child = std::process::Command::new(dsops_binary())
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env(
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                emulator.http_url().unwrap(),
            )
            .args([
                "exec", "--env", "bench", "--watch", interval, "--", "sh", "-c", script,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = |n: usize| loop {
            let text = std::fs::read_to_string(&starts).unwrap_or_default();
            if text.lines().count() >= n {
                return text.lines().last().unwrap_or_default().to_owned();
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        lines(1);
        let mut times = Vec::new();
        for r in 0..rotations {
            // 0 to 1 s after the previous restart, at random.
            let mut byte = [0_u8; 1];
            aws_lc_rs::rand::fill(&mut byte).unwrap();
            std::thread::sleep(Duration::from_millis(u64::from(byte[0]) * 4));
            let value = format!("rotated-{interval}-{r}");
            emulator.set_secret(VAULT, "secret-0", &value).unwrap();
            let rotated = Instant::now();
            assert_eq!(lines(r + 2), value);
            times.push(rotated.elapsed());
        }
        let _ = std::process::Command::new("kill")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| {interval} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 9 / 10]),
            ms(times[times.len() - 1]),
            ms(times[0])
        );
    }
    println!();
}

fn main() {
    let rotations: usize = std::env::args()
        .skip_while(|a| a != "--rotations")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let emulator = Emulator::start_in_background(Options {
        state: state(),
        ..Options::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), emulator.ca_pem()).unwrap();
    let env: HashMap<String, String> = [(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
        emulator.http_url().unwrap(),
    )]
    .into();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Load average (1, 5, 15 min) before: {}\n",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    requests_per_interval(&runtime, &emulator, dir.path(), &env);
    rotation_to_restart(&emulator, dir.path(), rotations);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Load average (1, 5, 15 min) after: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
