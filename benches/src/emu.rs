//! The emulator every section runs against, and what each contender is told
//! about it: a state with three vaults of the same secrets, `dsops.yaml` for
//! a case, a task file for the SDK scripts, and the environment of a child.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dsops_emulator::testing::StateBuilder;
use dsops_emulator::{Emulator, FaultSpec, LogEntry, Options, StateFile};

use crate::log_text::Rng;

/// The vaults; secret `secret-I` has the same value in each.
pub(crate) const VAULTS: [&str; 3] = ["bench-0", "bench-1", "bench-2"];

/// The Python thread pool's size (dsops's window adapts: its
/// `performance.max_concurrent` is not written unless a case says so).
pub(crate) const CONCURRENCY: usize = 16;

/// The values of `secret-0` .. `secret-{count-1}`: 20 to 40 letters and
/// digits (no YAML or regex quoting needed, and long enough to be masked).
pub(crate) fn values(count: usize) -> Vec<String> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = Rng(0x5eed_d509_5eed_d509);
    (0..count)
        .map(|_| {
            let len = 20 + rng.below(21);
            (0..len)
                .map(|_| char::from(CHARS[rng.below(CHARS.len())]))
                .collect()
        })
        .collect()
}

/// The emulator's state: the host's system-assigned identity `vm`, Key
/// Vault Secrets User on each vault, each holding `count` secrets.
pub(crate) fn state(count: usize) -> StateFile {
    let values = values(count);
    let mut state = StateBuilder::new().system_identity("vm");
    for vault in VAULTS {
        state = state.grant("vm", "Key Vault Secrets User", format!("vault:{vault}"));
    }
    for vault in VAULTS {
        state = state.vault(vault, |mut kv| {
            for (i, value) in values.iter().enumerate() {
                kv = kv.secret(format!("secret-{i}"), value.as_str());
            }
            kv
        });
    }
    state.build()
}

/// Starts the emulator with `count` secrets in each vault.
pub(crate) fn start(count: usize) -> Emulator {
    start_with(count, true)
}

/// Starts the emulator with `count` secrets in each vault; `http2`: whether
/// its TLS listener offers HTTP/2 (as Key Vault does) or HTTP/1.1 only.
pub(crate) fn start_with(count: usize, http2: bool) -> Emulator {
    Emulator::start_in_background(Options {
        state: state(count),
        log_capacity: 20_000,
        http2,
        ..Options::default()
    })
    .expect("the emulator starts")
}

/// Adds `ms` to every Key Vault and managed identity request (none for 0).
pub(crate) fn set_latency(emulator: &Emulator, ms: u64) {
    emulator.faults().clear();
    if ms == 0 {
        return;
    }
    for service in ["keyvault", "app_service", "imds"] {
        emulator.faults().add(FaultSpec {
            service: Some(service.to_owned()),
            latency_ms: Some(ms),
            ..FaultSpec::default()
        });
    }
}

/// Secret `i` of a case read from `vaults` vaults: from vault `i % vaults`.
pub(crate) fn secrets(n: usize, vaults: usize) -> Vec<(&'static str, String)> {
    (0..n)
        .map(|i| (VAULTS[i % vaults], format!("secret-{i}")))
        .collect()
}

/// A directory with `dsops.yaml` (environment `bench`, one variable per
/// secret, `SECRET_I`), the emulator's CA as `ca.pem`, and the task file
/// `task.json` of the SDK contenders.
pub(crate) fn case_dir(
    emulator: &Emulator,
    dir: &Path,
    secrets: &[(&'static str, String)],
) -> PathBuf {
    case_dir_with(emulator, dir, secrets, None)
}

/// [`case_dir`], with `performance.max_concurrent` written when
/// `max_concurrent` is given (otherwise dsops's window adapts).
pub(crate) fn case_dir_with(
    emulator: &Emulator,
    dir: &Path,
    secrets: &[(&'static str, String)],
    max_concurrent: Option<usize>,
) -> PathBuf {
    std::fs::create_dir_all(dir).expect("case directory");
    std::fs::write(dir.join("ca.pem"), emulator.ca_pem()).expect("CA written");
    let port = emulator.https_addr().port();
    let performance = max_concurrent
        .map(|n| format!("    performance: {{ max_concurrent: {n} }}\n"))
        .unwrap_or_default();
    let mut config = format!(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    fallback: [{{ type: managed_identity }}]\n{performance}    cloud:\n      authority_host: {}\n      keyvault_dns_suffix: \"vault.localhost:{port}\"\n      ca_bundle: ca.pem\nenvs:\n  bench:\n",
        emulator.https_url()
    );
    for (i, (vault, secret)) in secrets.iter().enumerate() {
        let _ = writeln!(
            config,
            "    SECRET_{i}: {{ from: {{ store: azure, vault: {vault}, secret: {secret} }} }}"
        );
    }
    std::fs::write(dir.join("dsops.yaml"), config).expect("dsops.yaml written");
    let task = serde_json::json!({ "secrets": secrets });
    std::fs::write(dir.join("task.json"), task.to_string()).expect("task written");
    dir.to_owned()
}

/// SHA-256 (hex) of the values of `secrets`, joined by newlines: what the
/// SDK contenders print instead of the values.
pub(crate) fn digest(secrets: &[(&'static str, String)], all: &[String]) -> String {
    let joined = secrets
        .iter()
        .map(|(_, name)| {
            let i: usize = name
                .trim_start_matches("secret-")
                .parse()
                .expect("secret-I");
            all[i].as_str()
        })
        .collect::<Vec<_>>()
        .join("\n");
    sha256_hex(joined.as_bytes())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The environment a contender gets: nothing of ours but `PATH`, and App
/// Service's managed identity endpoint of the emulator (plain http on
/// loopback), its CA and HTTPS port. Proxies point at a closed loopback
/// port, so that a request the emulator does not serve fails at once.
pub(crate) fn command(
    emulator: &Emulator,
    program: impl AsRef<std::ffi::OsStr>,
    ca: &Path,
) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for name in ["PATH", "HOME", "LANG", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let http = emulator.http_url().expect("the emulator's plain listener");
    command
        .env("IDENTITY_ENDPOINT", format!("{http}/msi/token"))
        .env("IDENTITY_HEADER", emulator.identity_header())
        .env("REQUESTS_CA_BUNDLE", ca)
        .env("SSL_CERT_FILE", ca)
        .env(
            "EMULATOR_HTTPS_PORT",
            emulator.https_addr().port().to_string(),
        )
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env(
            "NO_PROXY",
            "127.0.0.1,localhost,.localhost,.vault.azure.net",
        );
    command
}

/// Requests of one run, from the emulator's log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Requests {
    /// Token requests (every managed identity or Entra endpoint).
    pub(crate) tokens: usize,
    /// Key Vault requests, challenges included.
    pub(crate) keyvault: usize,
    /// Of those, answered 401 (Key Vault's challenge to a request without a token).
    pub(crate) challenges: usize,
}

impl Requests {
    pub(crate) fn of(entries: &[LogEntry]) -> Self {
        let mut requests = Self::default();
        for entry in entries {
            match entry.service {
                "app_service" | "imds" | "entra" | "arc" | "cloud_shell" => requests.tokens += 1,
                "keyvault" => {
                    requests.keyvault += 1;
                    if entry.status == 401 {
                        requests.challenges += 1;
                    }
                }
                _ => {}
            }
        }
        requests
    }

    /// `1 + 100` or `1 + 103 (3 × 401)`.
    pub(crate) fn describe(&self) -> String {
        if self.challenges == 0 {
            format!("{} + {}", self.tokens, self.keyvault)
        } else {
            format!(
                "{} + {} ({} × 401)",
                self.tokens, self.keyvault, self.challenges
            )
        }
    }
}

/// Round trips as they are now (with whatever latency is set): a token
/// request to the App Service endpoint and a Key Vault read (`secret-0` of
/// the first vault), each the median of `samples` on a kept-alive
/// connection, after one that opens it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundTrips {
    pub(crate) token: Duration,
    pub(crate) keyvault: Duration,
}

pub(crate) fn round_trips(emulator: &Emulator, samples: usize) -> RoundTrips {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).expect("CA parses");
    let port = emulator.https_addr().port();
    let host = format!("{}.vault.localhost", VAULTS[0]);
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .resolve(&host, emulator.https_addr())
        .build()
        .expect("client");
    let http = emulator.http_url().expect("the emulator's plain listener");
    let token_url = format!(
        "{http}/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.localhost%3A{port}"
    );
    let secret_url = format!("https://{host}:{port}/secrets/secret-0?api-version=7.4");
    runtime.block_on(async {
        let get_token = || async {
            let response = client
                .get(&token_url)
                .header("X-IDENTITY-HEADER", emulator.identity_header())
                .send()
                .await
                .expect("a token");
            assert!(response.status().is_success(), "{}", response.status());
            let token: serde_json::Value = response.json().await.expect("a token as JSON");
            token["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned()
        };
        let mut times = Vec::new();
        let mut token = String::new();
        for _ in 0..=samples {
            let started = std::time::Instant::now();
            token = get_token().await;
            times.push(started.elapsed());
        }
        // The first includes the connection.
        times.remove(0);
        let token_trip = crate::run::median(&mut times);
        times.clear();
        for _ in 0..=samples {
            let started = std::time::Instant::now();
            let response = client
                .get(&secret_url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("Key Vault answers");
            assert!(response.status().is_success(), "{}", response.status());
            let _ = response.bytes().await;
            times.push(started.elapsed());
        }
        times.remove(0);
        RoundTrips {
            token: token_trip,
            keyvault: crate::run::median(&mut times),
        }
    })
}
