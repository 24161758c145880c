//! The resolution engine in-process against the emulator: deduplication,
//! one token per scope, concurrency limits, collected problems, the secret
//! cache, and each value form.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dsops_emulator::FaultSpec;
use dsops_emulator::testing::{Certificate, Key, StateBuilder};

use crate::support::in_process::InProcess;
use secrecy::ExposeSecret;

/// `vm` may read secrets, certificates and keys of `kv-one`, and nothing
/// of `kv-locked`.
fn state() -> StateBuilder {
    StateBuilder::new()
        .system_identity("vm")
        .grant("vm", "Key Vault Secrets User", "vault:kv-one")
        .grant("vm", "Key Vault Certificate User", "vault:kv-one")
        .grant("vm", "Key Vault Crypto User", "vault:kv-one")
        .vault("kv-one", |v| {
            v.secret("shared", "shared-canary-value-0a")
                .secret("other", "other-canary-value-1b")
                .certificate("tls", Certificate::new().subject("app.example.com").pem())
                .key("signing", Key::ec())
        })
        .vault("kv-locked", |v| {
            v.secret("hidden", "hidden-canary-value-2c")
        })
}

type Setup = InProcess;

async fn setup(state: StateBuilder) -> Setup {
    InProcess::start(state.build()).await
}

fn secret(var: &str, vault: &str, name: &str) -> String {
    format!("    {var}: {{ from: {{ store: azure, vault: {vault}, secret: {name} }} }}\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_object_is_fetched_once_and_one_token_serves_all() {
    let setup = setup(state()).await;
    let vars = [
        secret("A", "kv-one", "shared"),
        secret("B", "kv-one", "SHARED"),
        secret("C", "kv-one", "shared"),
        secret("D", "kv-one", "other"),
        "    LITERAL: plain\n".to_owned(),
    ]
    .concat();
    let engine = setup.engine("", &vars);
    let resolution = engine.resolve("dev").await.unwrap();
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    let names: Vec<&str> = resolution.values.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["A", "B", "C", "D", "LITERAL"], "file order");
    assert_eq!(
        resolution.value("B").unwrap().expose_secret(),
        "shared-canary-value-0a"
    );
    assert_eq!(
        resolution.value("LITERAL").unwrap().expose_secret(),
        "plain"
    );
    assert_eq!(setup.requests("keyvault"), 2, "shared once, other once");
    assert_eq!(setup.tokens(), 1);
    assert!(
        !format!("{resolution:?}").contains("canary"),
        "Debug shows no value"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_concurrent_bounds_the_requests_in_flight() {
    let mut state = state().grant("vm", "Key Vault Secrets User", "vault:kv-many");
    let mut vars = String::new();
    for i in 0..8 {
        state = state.vault("kv-many", |v| v.secret(format!("s{i}"), format!("v{i}")));
        vars.push_str(&secret(&format!("S{i}"), "kv-many", &format!("s{i}")));
    }
    let setup = setup(state).await;
    setup.emulator.faults().add(FaultSpec {
        service: Some("keyvault".into()),
        latency_ms: Some(150),
        ..FaultSpec::default()
    });
    let engine = setup.engine("    performance: { max_concurrent: 2 }\n", &vars);
    let started = Instant::now();
    let resolution = engine.resolve("dev").await.unwrap();
    let elapsed = started.elapsed();
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    // 8 requests, 2 at a time, 150 ms each: at least 4 rounds.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2_000), "{elapsed:?}");
}

/// 300 secrets, more than the adaptive window's start (256): a storm of
/// 200 `429` answers without `Retry-After` shrinks the window and backs
/// off, and every value still arrives, each read sent once more per 429
/// (over the one HTTP/2 connection the emulator offers by default; that
/// reads share it is tested in `azure::http`).
#[tokio::test(flavor = "multi_thread")]
async fn a_storm_of_429_is_ridden_out() {
    let mut state = state().grant("vm", "Key Vault Secrets User", "vault:kv-many");
    let mut vars = String::new();
    for i in 0..300 {
        state = state.vault("kv-many", |v| v.secret(format!("s{i}"), format!("v{i}")));
        vars.push_str(&secret(&format!("S{i}"), "kv-many", &format!("s{i}")));
    }
    let setup = setup(state).await;
    setup.emulator.faults().add(FaultSpec {
        service: Some("keyvault".into()),
        status: Some(429),
        times: Some(200),
        ..FaultSpec::default()
    });
    let engine = setup.engine("", &vars);
    let resolution = engine.resolve("dev").await.unwrap();
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    assert_eq!(resolution.values.len(), 300);
    for (i, (name, value)) in resolution.values.iter().enumerate() {
        assert_eq!(name, &format!("S{i}"));
        assert_eq!(value.expose_secret(), format!("v{i}"));
    }
    assert_eq!(setup.tokens(), 1);
    assert_eq!(setup.requests("keyvault"), 300 + 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_problem_is_collected_with_its_context() {
    let setup = setup(state()).await;
    let vars = [
        secret("GOOD", "kv-one", "shared"),
        secret("MISSING", "kv-one", "nope"),
        secret("LOCKED", "kv-locked", "hidden"),
        "    MAYBE: { from: { store: azure, vault: kv-one, secret: also-nope }, optional: true }\n".to_owned(),
        "    ACCOUNT_KEY: { from: { store: azure, resource_type: storage, account: acct, key: key1 } }\n".to_owned(),
    ]
    .concat();
    let resolution = setup.engine("", &vars).resolve("dev").await.unwrap();
    assert!(resolution.failed());
    assert_eq!(resolution.values.len(), 1, "only GOOD");
    let by_name: HashMap<&str, &dsops::Problem> = resolution
        .problems
        .iter()
        .map(|p| (p.variable.as_str(), p))
        .collect();
    let missing = by_name["MISSING"];
    assert_eq!(
        (missing.status, missing.code.as_deref()),
        (Some(404), Some("SecretNotFound"))
    );
    assert!(
        missing
            .target
            .contains("secret nope in https://kv-one.vault.localhost:"),
        "{}",
        missing.target
    );
    let locked = by_name["LOCKED"];
    assert_eq!(locked.status, Some(403));
    let vm = setup.emulator.identity("vm").unwrap();
    let hint = locked.hint.as_deref().unwrap();
    assert!(
        hint.contains("Key Vault Secrets User") && hint.contains(&vm.object_id),
        "{hint}"
    );
    assert!(
        locked.credential.as_deref().unwrap().contains("IMDS"),
        "{locked:?}"
    );
    assert!(by_name["MAYBE"].optional);
    // The identity may not list the subscription's accounts: it is told
    // what to name or which role to grant.
    let account = by_name["ACCOUNT_KEY"];
    assert_eq!(account.status, Some(403), "{account}");
    assert!(account.message.contains("to find acct"), "{account}");
    assert!(
        account.hint.as_deref().unwrap().contains("grant 'Reader'"),
        "{account}"
    );
    let text: String = resolution
        .problems
        .iter()
        .map(|p| format!("{p}\n"))
        .collect();
    assert!(
        text.contains("LOCKED (environment dev, store azure)"),
        "{text}"
    );
    assert!(!text.contains("canary") && !text.contains("eyJ"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_secret_cache_serves_repeat_resolutions_within_its_ttl() {
    let setup = setup(state()).await;
    let vars = secret("A", "kv-one", "shared");
    let cached = setup.engine(
        "    cache: { secret_cache: { enabled: true, ttl: 10m } }\n",
        &vars,
    );
    for _ in 0..3 {
        assert!(!cached.resolve("dev").await.unwrap().failed());
    }
    assert_eq!(setup.requests("keyvault"), 1);
    let uncached = setup.engine("", &vars);
    for _ in 0..2 {
        assert!(!uncached.resolve("dev").await.unwrap().failed());
    }
    assert_eq!(
        setup.requests("keyvault"),
        3,
        "no secret_cache: fetched each time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_secret_cache_never_holds_a_token_and_pinned_versions_are_read_once() {
    // Tokens last 2 s; the secret cache would keep a value 10 minutes.
    let setup = setup(state().token_lifetime(2)).await;
    let vars = format!(
        "{}    GRAPH: {{ from: {{ store: azure, operation: get_token, resource: https://graph.microsoft.com }} }}\n",
        "    PINNED: { from: { store: azure, vault: kv-one, secret: shared, version: PINNED_VERSION } }\n"
    );
    // A rotation whose version is then pinned.
    let version = setup
        .emulator
        .set_secret("kv-one", "shared", "shared-canary-value-0b")
        .unwrap();
    let engine = setup.engine(
        "    cache: { secret_cache: { enabled: true, ttl: 10m } }\n",
        &vars.replace("PINNED_VERSION", &version),
    );
    let first = engine.resolve("dev").await.unwrap();
    assert!(!first.failed(), "{:?}", first.problems);
    let reads = setup.requests("keyvault");
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let second = engine.resolve("dev").await.unwrap();
    assert!(!second.failed(), "{:?}", second.problems);
    // A new token (the first expired), never the cached one.
    assert_ne!(
        first.value("GRAPH").unwrap().expose_secret(),
        second.value("GRAPH").unwrap().expose_secret()
    );
    assert!(second.expires("GRAPH").unwrap() > std::time::SystemTime::now());
    assert_eq!(setup.requests("keyvault"), reads, "secret_cache");
    // Without secret_cache, a pinned version is still read once per engine.
    let engine = setup.engine("", &vars.replace("PINNED_VERSION", &version));
    for _ in 0..3 {
        assert!(!engine.resolve("dev").await.unwrap().failed());
    }
    assert_eq!(setup.requests("keyvault"), reads + 1, "pinned: read once");
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_keys_and_tokens() {
    let setup = setup(state()).await;
    let vars = "    TLS: { from: { store: azure, vault: kv-one, secret: tls, type: certificate } }\n    JWK: { from: { store: azure, vault: kv-one, secret: signing, type: key } }\n    GRAPH: { from: { store: azure, operation: get_token, resource: https://graph.microsoft.com } }\n";
    let resolution = setup.engine("", vars).resolve("dev").await.unwrap();
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    let pem = resolution.value("TLS").unwrap().expose_secret().to_owned();
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----")
            && pem.contains("-----BEGIN CERTIFICATE-----")
    );
    let jwk: serde_json::Value =
        serde_json::from_str(resolution.value("JWK").unwrap().expose_secret()).unwrap();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert!(jwk.get("d").is_none());
    let token = dsops::identity::TokenClaims::read(resolution.value("GRAPH").unwrap());
    assert_eq!(
        token.audience.as_deref(),
        Some("https://graph.microsoft.com")
    );
    assert_eq!(setup.tokens(), 2, "one per scope: Key Vault and Graph");
}
