//! Requests per second the emulator serves on loopback: `cargo bench -p
//! dsops-bench --bench emulator_load`. Clients run in the same process (2 worker
//! threads for the emulator, 2 for the clients), over keep-alive connections.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::Instant;

use dsops_emulator::{EXAMPLE_STATE, Emulator, Options, StateFile};

const CLIENTS: usize = 8;

fn client(emulator: &Emulator, host: &str) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).unwrap();
    let address: SocketAddr = emulator.https_addr();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .resolve(host, address)
        .build()
        .unwrap()
}

async fn round(emulator: &Emulator, total: usize, token: Option<&str>) -> f64 {
    let host = "dev-vault.vault.azure.net";
    let vault = format!(
        "https://{host}:{}/secrets/database-password?api-version=7.5",
        emulator.https_addr().port()
    );
    let imds = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
        emulator.http_url().unwrap()
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let client = client(emulator, host);
        let (vault, imds, token) = (vault.clone(), imds.clone(), token.map(str::to_owned));
        tasks.push(tokio::spawn(async move {
            for _ in 0..total / CLIENTS {
                let request = match &token {
                    Some(t) => client.get(&vault).bearer_auth(t),
                    None => client.get(&imds).header("Metadata", "true"),
                };
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (total / CLIENTS * CLIENTS) as f64 / started.elapsed().as_secs_f64()
}

/// Resident memory of this process, in KiB (0 where /proc is missing).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let state = StateFile::parse(EXAMPLE_STATE).unwrap();
    let emulator = Emulator::start_in_background(Options {
        state,
        log_capacity: 1_000,
        ..Options::default()
    })
    .unwrap();
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    clients.block_on(async {
        let body: serde_json::Value = client(&emulator, "x")
            .get(format!(
                "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
                emulator.http_url().unwrap()
            ))
            .header("Metadata", "true")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        round(&emulator, 1_000, Some(&token)).await;
        let before = rss_kib();
        for (name, token) in [("Key Vault GET over HTTPS", Some(token.as_str())), ("IMDS token over HTTP", None)] {
            let mut rates: Vec<f64> = Vec::new();
            for _ in 0..5 {
                rates.push(round(&emulator, 5_000, token).await);
            }
            rates.sort_by(f64::total_cmp);
            println!("{name:<28} {CLIENTS} clients: median {:>8.0} requests/s (min {:.0}, max {:.0})", rates[2], rates[0], rates[4]);
        }
        let after = rss_kib();
        println!("resident memory (emulator and clients) across 50,000 requests: {before} KiB -> {after} KiB");
    });
}
