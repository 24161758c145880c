//! A loopback load: several clients, thousands of requests, no errors, and
//! memory that stops growing once the request log is full.

use std::time::{Duration, Instant};

use dsops_emulator::{Emulator, Options, StateFile};

const CLIENTS: usize = 8;
const REQUESTS: usize = 5_000;

/// Resident memory of this process, in KiB.
#[cfg(target_os = "linux")]
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `total` requests from `CLIENTS` clients: a token from IMDS, then
/// secrets over HTTPS with it. Returns the number of failures.
async fn run(emulator: &Emulator, token: &str, total: usize) -> usize {
    let host = "dev-vault.vault.azure.net";
    let url = crate::harness::url(emulator, host, "/secrets/database-password?api-version=7.5");
    let mut tasks = Vec::new();
    for client_index in 0..CLIENTS {
        let client = crate::harness::client(emulator, &[host]);
        let url = url.clone();
        let token = token.to_owned();
        let imds = format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
            emulator.http_url().unwrap()
        );
        let share = total / CLIENTS + usize::from(client_index < total % CLIENTS);
        tasks.push(tokio::spawn(async move {
            let mut failures = 0;
            for i in 0..share {
                let request = if i % 10 == 0 {
                    client.get(&imds).header("Metadata", "true")
                } else {
                    client.get(&url).bearer_auth(&token)
                };
                match request.send().await {
                    Ok(r) if r.status() == 200 => {
                        if r.bytes().await.is_err() {
                            failures += 1;
                        }
                    }
                    _ => failures += 1,
                }
            }
            failures
        }));
    }
    let mut failures = 0;
    for task in tasks {
        failures += task.await.unwrap();
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_requests_without_error_in_flat_memory() {
    let state = StateFile::parse(dsops_emulator::EXAMPLE_STATE).unwrap();
    let emulator = Emulator::start(Options {
        state,
        log_capacity: 500,
        ..Options::default()
    })
    .await
    .unwrap();
    let token = crate::protocols::imds_token(&emulator, "https://vault.azure.net", "").await;

    // Warm up: connections, TLS sessions, allocator arenas, a full request log.
    assert_eq!(run(&emulator, &token, 1_000).await, 0);
    #[cfg(target_os = "linux")]
    let before = rss_kib();

    let started = Instant::now();
    let failures = run(&emulator, &token, REQUESTS).await;
    let elapsed = started.elapsed();
    assert_eq!(failures, 0);
    assert!(
        elapsed < Duration::from_secs(60),
        "{REQUESTS} requests took {elapsed:?}"
    );
    assert_eq!(emulator.log().total(), 1 + 1_000 + REQUESTS as u64);
    assert_eq!(emulator.log().entries().len(), 500, "the log is bounded");

    // A second round as large: memory must not keep growing.
    assert_eq!(run(&emulator, &token, REQUESTS).await, 0);
    #[cfg(target_os = "linux")]
    {
        let after = rss_kib();
        let growth = after.saturating_sub(before);
        assert!(
            growth < 8 * 1024,
            "memory grew by {growth} KiB over {} requests ({before} -> {after} KiB)",
            2 * REQUESTS
        );
    }
}
