//! `dsops check` on generated configurations of 10, 1,000 and 10,000
//! variables: parse + validate in-process, and the whole `dsops check`
//! process (start, read, validate, render, exit).
//!
//! Run with `cargo bench -p dsops-bench --bench check` (optionally `-- --runs
//! 50`). The process column times the `dsops` binary next to this bench's
//! own executable (`target/release/dsops`): build it first with `cargo build
//! --release -p dsops-cli` (`scripts/bench micro` does both).
//! The budget from the issue tracker: 1,000 variables in under 50 ms.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use dsops::config::{LoadOptions, Source, load};

#[path = "../support/check_config.rs"]
mod check_config;
use check_config::generate;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The `dsops` binary of the profile this bench was built with:
/// `target/release/deps/check-HASH` → `target/release/dsops`.
fn dsops_binary() -> std::path::PathBuf {
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let env: HashMap<String, String> = HashMap::new();
    let dsops = dsops_binary();
    let dir = std::env::temp_dir().join(format!("dsops-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    println!("dsops check: median of {runs} runs (min in parentheses)\n");
    println!("| variables | file size | parse + validate (in process) | `dsops check` process |");
    println!("|---:|---:|---:|---:|");
    for n in [10, 1_000, 10_000] {
        let text = generate(n);
        let check = load(
            Source::new("dsops.yaml", text.as_str()),
            &env,
            LoadOptions::check(),
        );
        assert!(
            !check.has_errors(),
            "generated config must be valid: {:?}",
            check.diagnostics().first()
        );

        let mut in_process = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let loaded = load(
                Source::new("dsops.yaml", text.as_str()),
                &env,
                LoadOptions::check(),
            );
            std::hint::black_box(&loaded);
            in_process.push(start.elapsed());
        }

        let path = dir.join(format!("dsops-{n}.yaml"));
        std::fs::write(&path, &text).unwrap();
        let mut process = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let status = Command::new(&dsops)
                .args(["check", "--config"])
                .arg(&path)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            process.push(start.elapsed());
            assert!(status.success());
        }
        let min_in = *in_process.iter().min().unwrap();
        let min_proc = *process.iter().min().unwrap();
        println!(
            "| {n} | {} KiB | {} ({}) | {} ({}) |",
            text.len() / 1024,
            ms(median(&mut in_process)),
            ms(min_in),
            ms(median(&mut process)),
            ms(min_proc),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
