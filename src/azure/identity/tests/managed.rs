//! Managed identity through the production code path (`Chain::for_store` on
//! a loaded dsops.yaml) against the emulator: IMDS, App Service, Azure Arc,
//! Cloud Shell; selectors, refusals, retries, a dead IMDS, the token cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::azure::http::Trace;
use crate::azure::identity::{AttemptOutcome, Chain, Scope};
pub(crate) use crate::azure::testing::{emulator, http, store};
use dsops_emulator::testing::{Identity, StateBuilder};
use dsops_emulator::{Emulator, FaultSpec, Options};
use secrecy::ExposeSecret;

/// The host has `vm` (a Key Vault Secrets User of `dev-vault`) and
/// `worker`; `detached` exists but is not assigned to it.
pub(crate) fn state() -> StateBuilder {
    StateBuilder::new()
        .system_identity("vm")
        .user_identity("worker", "11111111-2222-3333-4444-555555555555")
        .identity("detached", Identity::user_assigned().unassigned())
        .vault("dev-vault", |v| {
            v.secret("database-password", "canary-db-password-5f1e")
        })
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
}

fn env(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn imds_env(emulator: &Emulator) -> HashMap<String, String> {
    env(&[(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        emulator.http_url().unwrap(),
    )])
}

fn vault_scope() -> Scope {
    Scope::for_resource("https://vault.azure.net")
}

const MANAGED_ONLY: &str = "    fallback: [{ type: managed_identity }]";

#[tokio::test(flavor = "multi_thread")]
async fn imds_system_assigned_after_a_probe_without_the_metadata_header() {
    let emulator = emulator(state().build()).await;
    let env = imds_env(&emulator);
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let token = chain.token(&vault_scope()).await.unwrap();
    let vm = emulator.identity("vm").unwrap();
    assert_eq!(
        token.claims.object_id.as_deref(),
        Some(vm.object_id.as_str())
    );
    assert_eq!(
        token.claims.audience.as_deref(),
        Some("https://vault.azure.net")
    );
    assert!(token.expires_on > std::time::SystemTime::now() + Duration::from_secs(3000));
    // The probe (no header: IMDS's 400) and, sent with it, the token request.
    let mut statuses: Vec<u16> = emulator.log().entries().iter().map(|e| e.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 400]);
}

#[tokio::test(flavor = "multi_thread")]
async fn imds_user_assigned_by_each_selector() {
    let emulator = emulator(state().build()).await;
    let env = imds_env(&emulator);
    let worker = emulator.identity("worker").unwrap();
    for selector in [
        format!("client_id: {}", worker.client_id),
        format!("object_id: {}", worker.object_id),
        format!("resource_id: {}", worker.resource_id.clone().unwrap()),
    ] {
        let yaml = format!("    identity: {{ type: user_assigned, {selector} }}\n{MANAGED_ONLY}");
        let chain = Chain::for_store(&store(&yaml, &env), &env, &http(&emulator, Trace::off()));
        let token = chain
            .token(&vault_scope())
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        assert_eq!(
            token.claims.object_id.as_deref(),
            Some(worker.object_id.as_str()),
            "{selector}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unassigned_identity_is_a_failure_that_says_what_to_do() {
    let emulator = emulator(state().build()).await;
    let env = imds_env(&emulator);
    let detached = emulator.identity("detached").unwrap();
    let yaml = format!(
        "    identity: {{ type: user_assigned, client_id: {} }}\n{MANAGED_ONLY}",
        detached.client_id
    );
    let chain = Chain::for_store(&store(&yaml, &env), &env, &http(&emulator, Trace::off()));
    let error = chain.token(&vault_scope()).await.unwrap_err();
    let AttemptOutcome::Failed(why) = &error.attempts[0].outcome else {
        panic!("{error}")
    };
    assert!(
        why.contains("no user-assigned") && why.contains(&detached.client_id),
        "{why}"
    );
    assert!(why.contains("az vm identity assign"), "{why}");
    assert_eq!(
        emulator.log().entries().len(),
        2,
        "400 Identity not found is not retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_imds_updates_are_retried_as_retry_after_says() {
    let emulator = emulator(state().build()).await;
    emulator.faults().add(FaultSpec {
        service: Some("imds".into()),
        status: Some(429),
        retry_after: Some(1),
        times: Some(2),
        ..FaultSpec::default()
    });
    let env = imds_env(&emulator);
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let started = Instant::now();
    chain.token(&vault_scope()).await.unwrap();
    // The probe took the first 429 (any answer proves IMDS is there); the
    // token request got one 429 and waited the second it asked for.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    let statuses: Vec<u16> = emulator.log().entries().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![429, 429, 200]);

    emulator.faults().add(FaultSpec {
        service: Some("imds".into()),
        status: Some(410),
        times: Some(1),
        ..FaultSpec::default()
    });
    chain
        .token(&Scope::for_resource("https://management.azure.com"))
        .await
        .unwrap();
    let statuses: Vec<u16> = emulator.log().entries().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![429, 429, 200, 410, 200]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_imds_is_skipped_within_about_a_second() {
    // Accepts connections and never answers: what a firewall black hole does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(8) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let emulator = emulator(state().build()).await;
    let env = env(&[
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            format!("http://{address}"),
        ),
        ("PATH", "/nonexistent".to_owned()),
    ]);
    let chain = Chain::for_store(&store("", &env), &env, &http(&emulator, Trace::off()));
    let started = Instant::now();
    let error = chain.token(&vault_scope()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    let kinds: Vec<&str> = error.attempts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, crate::azure::identity::DEFAULT_ORDER);
    assert!(
        error
            .attempts
            .iter()
            .all(|a| matches!(a.outcome, AttemptOutcome::Skipped(_))),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("no IMDS answered") && text.contains(&address.to_string()),
        "{text}"
    );
    assert!(
        text.contains("AZURE_FEDERATED_TOKEN_FILE"),
        "every source says why: {text}"
    );
    drop(keep);
}

#[tokio::test(flavor = "multi_thread")]
async fn app_service_with_every_selector_and_a_wrong_header() {
    let emulator = emulator(state().build()).await;
    let base = |header: &str| {
        env(&[
            (
                "IDENTITY_ENDPOINT",
                format!("{}/msi/token", emulator.http_url().unwrap()),
            ),
            ("IDENTITY_HEADER", header.to_owned()),
        ])
    };
    let env = base(emulator.identity_header());
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let token = chain.token(&vault_scope()).await.unwrap();
    assert_eq!(
        token.claims.object_id,
        emulator.identity("vm").map(|v| v.object_id)
    );

    let worker = emulator.identity("worker").unwrap();
    let yaml = format!(
        "    identity: {{ type: user_assigned, resource_id: {} }}\n{MANAGED_ONLY}",
        worker.resource_id.clone().unwrap()
    );
    let chain = Chain::for_store(&store(&yaml, &env), &env, &http(&emulator, Trace::off()));
    let token = chain.token(&vault_scope()).await.unwrap();
    assert_eq!(
        token.claims.object_id.as_deref(),
        Some(worker.object_id.as_str())
    );

    let wrong = base("not-the-header");
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &wrong),
        &wrong,
        &http(&emulator, Trace::off()),
    );
    let error = chain.token(&vault_scope()).await.unwrap_err().to_string();
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains(emulator.identity_header()), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn arc_reads_the_key_only_from_the_agents_directory() {
    let keys = tempfile::tempdir().unwrap();
    let state = state().build();
    let emulator = Emulator::start(Options {
        state,
        arc_key_dir: Some(keys.path().to_owned()),
        ..Options::default()
    })
    .await
    .unwrap();
    let http_url = emulator.http_url().unwrap();
    let mut env = env(&[
        (
            "IDENTITY_ENDPOINT",
            format!("{http_url}/arc/metadata/identity/oauth2/token"),
        ),
        ("IMDS_ENDPOINT", http_url.clone()),
    ]);
    // The agent's directory is elsewhere: the key file is refused.
    env.insert(
        crate::azure::identity::ARC_TOKEN_DIR_VARIABLE.to_owned(),
        "/nonexistent/azcmagent/tokens".to_owned(),
    );
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let error = chain.token(&vault_scope()).await.unwrap_err().to_string();
    assert!(
        error.contains("not in the Arc agent's token directory"),
        "{error}"
    );

    env.insert(
        crate::azure::identity::ARC_TOKEN_DIR_VARIABLE.to_owned(),
        keys.path().display().to_string(),
    );
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let token = chain.token(&vault_scope()).await.unwrap();
    assert_eq!(
        token.claims.object_id,
        emulator.identity("vm").map(|v| v.object_id)
    );
    // The emulator's key files are its owner's only, as the agent's are.
    #[cfg(unix)]
    for entry in std::fs::read_dir(keys.path()).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a key file is {mode:o}");
    }

    let yaml = format!(
        "    identity: {{ type: user_assigned, client_id: 11111111-2222-3333-4444-555555555555 }}\n{MANAGED_ONLY}"
    );
    let chain = Chain::for_store(&store(&yaml, &env), &env, &http(&emulator, Trace::off()));
    let error = chain.token(&vault_scope()).await.unwrap_err().to_string();
    assert!(
        error.contains("Azure Arc has only a system-assigned"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cloud_shell_posts_the_resource() {
    let emulator = emulator(state().build()).await;
    let env = env(&[(
        "MSI_ENDPOINT",
        format!("{}/cloudshell/oauth2/token", emulator.http_url().unwrap()),
    )]);
    let chain = Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let token = chain.token(&vault_scope()).await.unwrap();
    assert_eq!(
        token.claims.object_id,
        emulator.identity("vm").map(|v| v.object_id)
    );
    let entries = emulator.log().entries();
    assert_eq!(
        (entries[0].service, entries[0].method.as_str()),
        ("cloud_shell", "POST")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_requests_make_one_token_request() {
    let emulator = emulator(state().build()).await;
    emulator.faults().add(FaultSpec {
        service: Some("imds".into()),
        path: Some("/metadata".into()),
        latency_ms: Some(100),
        ..FaultSpec::default()
    });
    let env = imds_env(&emulator);
    let chain = Arc::new(Chain::for_store(
        &store(MANAGED_ONLY, &env),
        &env,
        &http(&emulator, Trace::off()),
    ));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let chain = chain.clone();
        tasks.push(tokio::spawn(async move {
            chain.token(&vault_scope()).await.map(|t| t.expires_on)
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let tokens = emulator
        .log()
        .entries()
        .iter()
        .filter(|e| e.token_for.is_some())
        .count();
    assert_eq!(tokens, 1, "{:?}", emulator.log().entries());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_debug_trace_names_requests_and_sources_but_no_secret() {
    let emulator = emulator(state().build()).await;
    let mut env = env(&[
        (
            "IDENTITY_ENDPOINT",
            format!("{}/msi/token", emulator.http_url().unwrap()),
        ),
        ("IDENTITY_HEADER", emulator.identity_header().to_owned()),
    ]);
    env.insert("PATH".to_owned(), "/nonexistent".to_owned());
    let (trace, lines) = Trace::capture();
    let chain = Chain::for_store(&store("", &env), &env, &http(&emulator, trace));
    let token = chain.token(&vault_scope()).await.unwrap();
    let lines = lines.lock().unwrap().join("\n");
    assert!(lines.contains("GET http://127.0.0.1:"), "{lines}");
    assert!(lines.contains("/msi/token -> 200"), "{lines}");
    assert!(
        lines.contains("environment") && lines.contains("skipped"),
        "{lines}"
    );
    assert!(lines.contains("gave a token"), "{lines}");
    for canary in [
        token.secret.expose_secret(),
        emulator.identity_header(),
        "api-version",
        "resource=",
    ] {
        assert!(!lines.contains(canary), "{canary} in the trace:\n{lines}");
    }
    assert!(
        !format!("{token:?}").contains(token.secret.expose_secret()),
        "Debug redacts"
    );
}
