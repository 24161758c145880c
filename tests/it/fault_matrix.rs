//! The fault matrix: every endpoint dsops calls (IMDS, App Service, Entra
//! ID, GitHub OIDC, Key Vault, Resource Manager) × every fault the emulator
//! injects, plus a TLS certificate for another host. Each cell runs the
//! real binary the way CI does (`dsops github --export env --run 'touch
//! started'`, `DSOPS_TIMEOUT=4s`, `DSOPS_REQUEST_TIMEOUT=1s`) and checks:
//!
//! - the outcome is the one expected: recovered (exit 0, the value in
//!   `GITHUB_ENV`, the script started) or a clear error (exit 1);
//! - on an error, no script started, no `GITHUB_ENV` or `GITHUB_OUTPUT`
//!   line written, and a message that names the endpoint's service;
//! - nothing hangs: every cell ends within the deadline plus a margin;
//! - no value, token or client secret appears in stdout or stderr.
//!
//! The table of results is docs/fault-matrix.md; the test fails when the
//! table changes (`DSOPS_BLESS=1` rewrites it).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dsops_emulator::testing::{Identity, StateBuilder, StorageAccount};
use dsops_emulator::{FaultSpec, StateFile};

use crate::support::emulated::emulator_with_dir;
use crate::support::harness::{dsops, run};

const DB: &str = "CANARY-fault-db-password-0d1e";
const SP_SECRET: &str = "CANARY-fault-sp-secret-77aa";
const KEY1: &str = "CANARY-fault-storage-key1-c4fe";
const CLIENT_ID: &str = "99999999-8888-7777-6666-555555555555";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// `DSOPS_TIMEOUT` of every cell, and how much longer a cell may take.
const DEADLINE: Duration = Duration::from_secs(4);
const MARGIN: Duration = Duration::from_secs(6);

/// `vm` (IMDS, App Service) and the application `ci` (client secret,
/// GitHub OIDC) may read the vault; `vm` the storage account's keys too.
fn state() -> StateFile {
    StateBuilder::new()
        .tenant(TENANT)
        .subscription("Development", |s| {
            s.id("00000000-0000-0000-0000-00000000c0de")
                .resource_group("rg-app", |rg| {
                    rg.storage_account(
                        "faultstore",
                        StorageAccount::new()
                            .key1(KEY1)
                            .key2("CANARY-fault-key2-0000"),
                    )
                })
        })
        .system_identity("vm")
        .identity(
            "ci",
            Identity::service_principal()
                .client_id(CLIENT_ID)
                .client_secret(SP_SECRET)
                .federated_credential("github", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        )
        .grant("vm", "Key Vault Secrets User", "vault:fault-vault")
        .grant("ci", "Key Vault Secrets User", "vault:fault-vault")
        .grant("vm", "Reader and Data Access", "subscription:Development")
        .vault("fault-vault", |v| {
            v.subscription("Development").secret("db", DB)
        })
        .github_claim("repository", "octo-org/octo-repo")
        .github_claim("ref", "refs/heads/main")
        .build()
}

/// An endpoint dsops calls, and the emulator's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Imds,
    AppService,
    Entra,
    GitHub,
    KeyVault,
    Arm,
}

impl Endpoint {
    const ALL: [Endpoint; 6] = [
        Endpoint::Imds,
        Endpoint::AppService,
        Endpoint::Entra,
        Endpoint::GitHub,
        Endpoint::KeyVault,
        Endpoint::Arm,
    ];

    fn service(self) -> &'static str {
        match self {
            Endpoint::Imds => "imds",
            Endpoint::AppService => "app_service",
            Endpoint::Entra => "entra",
            Endpoint::GitHub => "github",
            Endpoint::KeyVault => "keyvault",
            Endpoint::Arm => "arm",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Endpoint::Imds => "IMDS",
            Endpoint::AppService => "App Service",
            Endpoint::Entra => "Entra ID",
            Endpoint::GitHub => "GitHub OIDC",
            Endpoint::KeyVault => "Key Vault",
            Endpoint::Arm => "Resource Manager",
        }
    }

    /// Plain HTTP in Azure too: no TLS to get wrong.
    fn plain_http(self) -> bool {
        matches!(self, Endpoint::Imds | Endpoint::AppService)
    }
}

/// A fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Latency,
    TooManyWithRetryAfter,
    TooManyWithoutRetryAfter,
    ServerError,
    Unavailable,
    Gone,
    Reset,
    Truncated,
    InvalidJson,
    EndlessBody,
    AlwaysUnavailable,
    WrongHostCertificate,
}

impl Fault {
    const ALL: [Fault; 12] = [
        Fault::Latency,
        Fault::TooManyWithRetryAfter,
        Fault::TooManyWithoutRetryAfter,
        Fault::ServerError,
        Fault::Unavailable,
        Fault::Gone,
        Fault::Reset,
        Fault::Truncated,
        Fault::InvalidJson,
        Fault::EndlessBody,
        Fault::AlwaysUnavailable,
        Fault::WrongHostCertificate,
    ];

    fn title(self) -> &'static str {
        match self {
            Fault::Latency => "+300 ms latency",
            Fault::TooManyWithRetryAfter => "429, Retry-After: 1 (once)",
            Fault::TooManyWithoutRetryAfter => "429, no Retry-After (once)",
            Fault::ServerError => "500 (once)",
            Fault::Unavailable => "503 (once)",
            Fault::Gone => "410 (once)",
            Fault::Reset => "connection reset (once)",
            Fault::Truncated => "truncated body (once)",
            Fault::InvalidJson => "invalid JSON (once)",
            Fault::EndlessBody => "body never ends (once)",
            Fault::AlwaysUnavailable => "503, every time",
            Fault::WrongHostCertificate => "TLS certificate for another host",
        }
    }

    fn spec(self, service: &str) -> Option<FaultSpec> {
        let once = Some(1);
        let base = FaultSpec {
            service: Some(service.to_owned()),
            ..Default::default()
        };
        Some(match self {
            Fault::Latency => FaultSpec {
                latency_ms: Some(300),
                ..base
            },
            Fault::TooManyWithRetryAfter => FaultSpec {
                status: Some(429),
                retry_after: Some(1),
                times: once,
                ..base
            },
            Fault::TooManyWithoutRetryAfter => FaultSpec {
                status: Some(429),
                times: once,
                ..base
            },
            Fault::ServerError => FaultSpec {
                status: Some(500),
                times: once,
                ..base
            },
            Fault::Unavailable => FaultSpec {
                status: Some(503),
                times: once,
                ..base
            },
            Fault::Gone => FaultSpec {
                status: Some(410),
                times: once,
                ..base
            },
            Fault::Reset => FaultSpec {
                drop: true,
                times: once,
                ..base
            },
            Fault::Truncated => FaultSpec {
                truncate: true,
                times: once,
                ..base
            },
            Fault::InvalidJson => FaultSpec {
                invalid_json: true,
                times: once,
                ..base
            },
            Fault::EndlessBody => FaultSpec {
                hang: true,
                times: once,
                ..base
            },
            Fault::AlwaysUnavailable => FaultSpec {
                status: Some(503),
                ..base
            },
            Fault::WrongHostCertificate => return None,
        })
    }
}

/// What a cell did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    endpoint: Endpoint,
    fault: Fault,
    /// `recovered` or `error: <what the message names>`, or `n/a`.
    outcome: String,
    /// Requests the endpoint answered (or refused), from the emulator's log.
    attempts: usize,
    elapsed: Duration,
}

/// The store's `fallback:` and the process environment that make dsops
/// call `endpoint`.
fn store_for(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Imds | Endpoint::AppService | Endpoint::KeyVault | Endpoint::Arm => {
            "      - type: managed_identity"
        }
        Endpoint::Entra => {
            "      - type: service_principal\n        client_id: 99999999-8888-7777-6666-555555555555\n        client_secret: ${SP_SECRET}"
        }
        Endpoint::GitHub => {
            "      - type: github_oidc\n        client_id: 99999999-8888-7777-6666-555555555555"
        }
    }
}

fn run_cell(endpoint: Endpoint, fault: Fault) -> Cell {
    let (emulator, dir) = emulator_with_dir(state());
    let port = emulator.https_addr().port();
    let https = emulator.https_url();
    let http = emulator.http_url().unwrap();
    // A name that resolves to the emulator (dsops sends *.localhost to
    // loopback) but that its certificate does not cover.
    let wrong = format!("https://a.wrong.localhost:{port}");
    let tls_wrong = fault == Fault::WrongHostCertificate;
    let pick = |good: &str, is: Endpoint| {
        if tls_wrong && endpoint == is {
            wrong.clone()
        } else {
            good.to_owned()
        }
    };
    let authority = pick(&https, Endpoint::Entra);
    let arm = pick(&https, Endpoint::Arm);
    let suffix = if tls_wrong && endpoint == Endpoint::KeyVault {
        format!("wrong.localhost:{port}")
    } else {
        format!("vault.localhost:{port}")
    };
    let value = if endpoint == Endpoint::Arm {
        "{ from: { store: azure, resource_type: storage, account: faultstore, key: key1 } }"
    } else {
        "{ from: { store: azure, vault: fault-vault, secret: db } }"
    };
    let config = format!(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    tenant_id: {TENANT}\n    cloud:\n      base: public\n      authority_host: {authority}\n      resource_manager: {arm}\n      keyvault_dns_suffix: \"{suffix}\"\n      ca_bundle: ./ca.pem\n    fallback:\n{}\nenvs:\n  test:\n    VALUE: {value}\n",
        store_for(endpoint)
    );
    std::fs::write(dir.path().join("dsops.yaml"), config).unwrap();
    let env_file = dir.path().join("github_env");
    let output_file = dir.path().join("github_output");
    std::fs::write(&env_file, "").unwrap();
    std::fs::write(&output_file, "").unwrap();

    let mut command = dsops(dir.path());
    command
        .args([
            "github",
            "--env",
            "test",
            "--export",
            "env",
            "--run",
            "touch started",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ENV", &env_file)
        .env("GITHUB_OUTPUT", &output_file)
        .env("DSOPS_TIMEOUT", format!("{}s", DEADLINE.as_secs()))
        .env("DSOPS_REQUEST_TIMEOUT", "1s")
        .env("SP_SECRET", SP_SECRET)
        // The job confirms the emulator's Entra ID (dsops.yaml cannot).
        .env("DSOPS_TRUSTED_AUTHORITY", &authority);
    match endpoint {
        Endpoint::Imds | Endpoint::KeyVault | Endpoint::Arm | Endpoint::Entra => {
            command.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &http);
        }
        Endpoint::AppService => {
            command
                .env("IDENTITY_ENDPOINT", format!("{http}/msi/token"))
                .env("IDENTITY_HEADER", emulator.identity_header());
        }
        Endpoint::GitHub => {
            for (key, value) in emulator.environment() {
                if key.starts_with("ACTIONS_ID_TOKEN_REQUEST_") {
                    let value = if key.ends_with("URL") && tls_wrong {
                        value.replace(&https, &wrong)
                    } else {
                        value
                    };
                    command.env(key, value);
                }
            }
        }
    }
    if endpoint.plain_http() && tls_wrong {
        return Cell {
            endpoint,
            fault,
            outcome: "n/a (plain http in Azure too)".to_owned(),
            attempts: 0,
            elapsed: Duration::ZERO,
        };
    }
    if fault == Fault::Gone && endpoint != Endpoint::Imds {
        return Cell {
            endpoint,
            fault,
            outcome: "n/a (IMDS only)".to_owned(),
            attempts: 0,
            elapsed: Duration::ZERO,
        };
    }
    if let Some(spec) = fault.spec(endpoint.service()) {
        // IMDS gets the probe and the first token request at once; a
        // one-time fault meets both, so that the run does not depend on
        // which arrives first.
        let spec = if endpoint == Endpoint::Imds && spec.times == Some(1) {
            FaultSpec {
                times: Some(2),
                ..spec
            }
        } else {
            spec
        };
        emulator.faults().add(spec);
    }

    let started = Instant::now();
    let out = run(&mut command);
    let elapsed = started.elapsed();
    let attempts = emulator
        .log()
        .entries()
        .iter()
        .filter(|e| e.service == endpoint.service())
        .count();

    // Never a value, a token or the client secret, whatever happened.
    for secret in [DB, SP_SECRET, KEY1] {
        let shown = format!("{}{}", out.stdout, out.stderr)
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .any(|l| l.contains(secret));
        assert!(
            !shown,
            "{endpoint:?}/{fault:?} shows a secret:\n{}",
            out.all_output()
        );
    }
    assert!(
        !out.all_output().contains("eyJ"),
        "{endpoint:?}/{fault:?} shows a token"
    );
    assert!(
        elapsed < DEADLINE + MARGIN,
        "{endpoint:?}/{fault:?} took {elapsed:?}"
    );
    let started_file = dir.path().join("started").exists();
    let env_text = std::fs::read_to_string(&env_file).unwrap();
    let outcome = if out.code == 0 {
        assert!(
            started_file,
            "{endpoint:?}/{fault:?}: the script did not run"
        );
        assert!(env_text.starts_with("VALUE<<ghadelimiter_"), "{env_text}");
        "recovered".to_owned()
    } else {
        assert_eq!(out.code, 1, "{endpoint:?}/{fault:?}:\n{}", out.stderr);
        assert!(!started_file, "{endpoint:?}/{fault:?}: the script ran");
        assert_eq!(env_text, "", "{endpoint:?}/{fault:?}: GITHUB_ENV written");
        assert_eq!(
            std::fs::read_to_string(&output_file).unwrap(),
            "",
            "{endpoint:?}/{fault:?}: GITHUB_OUTPUT written"
        );
        if std::env::var_os("DSOPS_FAULT_SHOW").is_some() {
            eprintln!("=== {endpoint:?}/{fault:?}\n{}", out.all_output());
        }
        format!("error: {}", classify(&out.all_output()))
    };
    Cell {
        endpoint,
        fault,
        outcome,
        attempts,
        elapsed,
    }
}

/// Whether `text` holds `number` as a number of its own, not inside a
/// longer one (the emulator's random ports, such as 35031, must not count).
fn has_number(text: &str, number: &str) -> bool {
    text.match_indices(number).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + number.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// What the error message says went wrong, in a few words.
fn classify(output: &str) -> &'static str {
    let text = output.to_ascii_lowercase();
    if text.contains("invalid peer certificate") {
        "TLS certificate refused, not retried"
    } else if text.contains("no answer within") || text.contains("timed out") {
        "timed out"
    } else if has_number(&text, "503") {
        "still 503 at the deadline"
    } else if text.contains("json")
        || text.contains("unexpected body")
        || text.contains("expected value at line")
    {
        "the answer is not JSON, not retried"
    } else {
        "other"
    }
}

/// The attempts column: exact where the run fixes it, a range where
/// timing decides (asserted here).
fn attempts(cell: &Cell) -> String {
    if cell.outcome.starts_with("n/a") {
        String::new()
    } else if cell.fault == Fault::AlwaysUnavailable {
        assert!(cell.attempts >= 3, "{cell:?}: retried");
        "3 or more, until the deadline".to_owned()
    } else {
        cell.attempts.to_string()
    }
}

fn markdown(cells: &[Cell]) -> String {
    let mut text = String::from(
        "# The fault matrix\n\n\
         Generated by `tests/it/fault_matrix.rs` (run by `.ci/run`; `DSOPS_BLESS=1` rewrites\n\
         this file). Each cell is the real `dsops github --export env --run 'touch started'`\n\
         against the emulator with one fault on one endpoint, `DSOPS_TIMEOUT=4s` and\n\
         `DSOPS_REQUEST_TIMEOUT=1s`. In every cell: no value, token or client secret on\n\
         stdout or stderr, and an end within 10 s. In every error cell: exit 1, a message,\n\
         no script started, nothing written to `GITHUB_ENV` or `GITHUB_OUTPUT`.\n\n\
         *attempts* counts the requests the faulty endpoint received. IMDS gets\n\
         its probe and the first token request at once, so there a one-time fault\n\
         meets both. A fault on every request is retried with jittered backoff\n\
         until the deadline, so that count varies from run to run.\n\n",
    );
    let mut by_endpoint: BTreeMap<Endpoint, Vec<&Cell>> = BTreeMap::new();
    for cell in cells {
        by_endpoint.entry(cell.endpoint).or_default().push(cell);
    }
    for (endpoint, cells) in by_endpoint {
        text.push_str(&format!(
            "## {} (`{}`)\n\n| fault | outcome | attempts |\n|---|---|---|\n",
            endpoint.title(),
            endpoint.service()
        ));
        for cell in cells {
            text.push_str(&format!(
                "| {} | {} | {} |\n",
                cell.fault.title(),
                cell.outcome,
                attempts(cell)
            ));
        }
        text.push('\n');
    }
    let run = cells
        .iter()
        .filter(|c| !c.outcome.starts_with("n/a"))
        .count();
    text.push_str(&format!("{run} cells run.\n"));
    text
}

#[test]
fn every_endpoint_survives_or_fails_cleanly_under_every_fault() {
    let mut jobs: Vec<(Endpoint, Fault)> = Vec::new();
    for endpoint in Endpoint::ALL {
        for fault in Fault::ALL {
            jobs.push((endpoint, fault));
        }
    }
    let mut cells: Vec<Cell> = Vec::new();
    for chunk in jobs.chunks(6) {
        let results: Vec<Cell> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|&(endpoint, fault)| scope.spawn(move || run_cell(endpoint, fault)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        cells.extend(results);
    }
    let table = markdown(&cells);
    let path = crate::support::harness::repo_root().join("docs/fault-matrix.md");
    if std::env::var_os("DSOPS_BLESS").is_some() {
        std::fs::write(&path, &table).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let differ: Vec<String> = committed
        .lines()
        .zip(table.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("  committed: {a}\n  this run:  {b}"))
        .collect();
    assert!(
        differ.is_empty() && committed.lines().count() == table.lines().count(),
        "docs/fault-matrix.md differs from this run (DSOPS_BLESS=1 rewrites it):\n{}",
        differ.join("\n")
    );
}
