//! `dsops check` on generated configurations of 10, 1,000 and 10,000
//! variables: parse + validate in-process, and the whole `dsops check`
//! process (start, read, validate, render, exit).
//!
//! Run with `cargo bench --bench check` (optionally `-- --runs 50`).
//! The budget from the issue tracker: 1,000 variables in under 50 ms.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use dsops::config::{LoadOptions, Source, load};

/// A configuration with `n` variables spread over every reference form, two
/// stores and four environments: what a large real project looks like.
fn generate(n: usize) -> String {
    let mut out = String::from(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    identity:\n      type: user_assigned\n      client_id: 12345678-1234-1234-1234-123456789012\n    default_subscription: 12345678-1234-1234-1234-123456789012\n    cache:\n      token_cache: { enabled: true, buffer: 300 }\n    performance:\n      max_concurrent: 16\n  local:\n    type: azure.managed_identity\n    fallback:\n      - type: managed_identity\n      - type: azure_cli\nenvs:\n",
    );
    let envs = ["production", "staging", "development", "test"];
    let per_env = n.div_ceil(envs.len());
    let mut written = 0;
    for env in envs {
        let _ = writeln!(out, "  {env}:");
        for i in 0..per_env {
            if written == n {
                break;
            }
            let name = format!("VAR_{written:05}");
            let store = if i % 2 == 0 { "azure" } else { "local" };
            let from = match i % 8 {
                0..=2 => format!(
                    "{{ store: {store}, vault: {env}-kv-{}, secret: secret-{i} }}",
                    i % 3
                ),
                3 => format!(
                    "{{ store: {store}, vault: {env}-kv-0, secret: cert-{i}, type: certificate }}"
                ),
                4 => format!(
                    "{{ store: {store}, resource_type: storage, account: acct{}, key: key1 }}",
                    i % 7
                ),
                5 => format!(
                    "{{ store: {store}, resource_type: storage, account: acct{}, operation: generate_sas, permissions: rl, expiry: 24h }}",
                    i % 7
                ),
                6 => format!(
                    "{{ store: {store}, resource_type: sql, server: srv{}.database.windows.net, database: db{i}, format: connection_string }}",
                    i % 5
                ),
                _ => format!(
                    "{{ store: {store}, operation: get_token, resource: https://vault.azure.net }}"
                ),
            };
            let _ = writeln!(out, "    {name}:\n      from: {from}");
            written += 1;
        }
    }
    out
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
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
            let status = Command::new(env!("CARGO_BIN_EXE_dsops"))
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
