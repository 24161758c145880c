//! A long-running program on the typed `Env` (the `service` binary) against
//! the emulator, with access tokens that live 4 seconds: it sees a rotated
//! secret within one watch interval, never holds an expired token, and its
//! watch costs at most one request per object per interval.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dsops_emulator::testing::{Certificate, Key, StateBuilder};
use dsops_emulator::{Emulator, Options};

const INTERVAL_MS: u64 = 2000;
const RUN_FOR_MS: u64 = 14_000;
const ROTATED: &str = "rotated-db-password-0123456789";

#[tokio::test(flavor = "multi_thread")]
async fn a_service_sees_rotations_and_never_holds_an_expired_token() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let state = StateBuilder::new()
        .system_identity("vm")
        .grant("vm", "Key Vault Secrets User", "vault:job-vault")
        .grant("vm", "Key Vault Certificate User", "vault:job-vault")
        .grant("vm", "Key Vault Crypto User", "vault:job-vault")
        .vault("job-vault", |v| {
            v.secret("database-password", "emulated-db-password")
                .certificate("report-signing", Certificate::new())
                .key("archive-key", Key::rsa())
        })
        .token_lifetime(4)
        .build();
    let emulator = Emulator::start(Options {
        state,
        ca_file: Some(ca.clone()),
        ..Options::default()
    })
    .await
    .unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_service"));
    cmd.env_clear()
        .args([INTERVAL_MS.to_string(), RUN_FOR_MS.to_string()])
        .env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            emulator.http_url().unwrap(),
        )
        .env("SSL_CERT_FILE", &ca)
        .env("JOB_AUTHORITY_HOST", emulator.https_url())
        .env("JOB_RESOURCE_MANAGER", emulator.https_url())
        .env(
            "JOB_KEYVAULT_DNS_SUFFIX",
            format!("vault.localhost:{}", emulator.https_addr().port()),
        )
        .env("JOB_VAULT", "job-vault")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let next = move |timeout: Duration| received.recv_timeout(timeout);

    let (_, first) = tokio::task::block_in_place(|| next(Duration::from_secs(60))).unwrap();
    assert_eq!(first, "started: database_password 20 characters");
    // Let a few token lifetimes pass before the rotation.
    tokio::time::sleep(Duration::from_secs(3)).await;
    emulator
        .set_secret("job-vault", "database-password", ROTATED)
        .unwrap();
    let rotated = Instant::now();
    let (seen, update) = tokio::task::block_in_place(|| next(Duration::from_secs(30))).unwrap();
    assert!(
        update.starts_with("update 1 at ")
            && update
                .ends_with(r#"changed ["database_password"]: database_password 30 characters"#),
        "{update}"
    );
    // Within one interval (+10 % jitter), and the round's own requests on a
    // busy machine.
    let took = seen.duration_since(rotated);
    assert!(
        took <= Duration::from_millis(INTERVAL_MS * 11 / 10 + 1500),
        "the rotation took {took:?} to be seen"
    );
    let (_, summary) = tokio::task::block_in_place(|| next(Duration::from_secs(60))).unwrap();
    let output = tokio::task::block_in_place(|| child.wait_with_output()).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Tokens, refreshed again and again (they last 4 s), none expired, none
    // missing; no new token was announced as a change.
    let numbers: Vec<u32> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [checks, distinct, expired, failed] = numbers[..] else {
        panic!("{summary}")
    };
    assert!(checks >= 40, "{summary}");
    assert!(distinct >= 4, "tokens were not refreshed: {summary}");
    assert_eq!((expired, failed), (0, 0), "{summary}\n{stderr}");
    assert!(!stderr.contains("emulated-db-password") && !stderr.contains(ROTATED));
    assert!(!stderr.contains("eyJ"), "{stderr}");

    // The cost: each of the 4 objects (the optional one is missing) at most
    // once per round, and at most one round per 0.9 interval.
    let reads = emulator
        .log()
        .entries()
        .iter()
        .filter(|e| e.service == "keyvault" && e.status != 401)
        .count();
    let rounds = RUN_FOR_MS / (INTERVAL_MS * 9 / 10) + 1;
    assert!(
        reads <= 4 * usize::try_from(rounds).unwrap(),
        "{reads} Key Vault requests in {rounds} rounds"
    );
}
