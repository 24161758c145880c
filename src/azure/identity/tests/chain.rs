//! The chain as a whole: failures are collected, the first source that works
//! wins and is kept, and the final error lists every source and why.

use std::collections::HashMap;

use crate::azure::http::Trace;
use crate::azure::identity::{AttemptOutcome, Chain, Scope};

use dsops_emulator::StateFile;
use dsops_emulator::testing::Identity;

use super::managed::{emulator, http, store};

/// [`managed::state`](super::managed::state) and the application `ci`,
/// with a client secret and GitHub federation.
fn state() -> StateFile {
    super::managed::state()
        .identity(
            "ci",
            Identity::service_principal()
                .client_id("99999999-8888-7777-6666-555555555555")
                .client_secret("right-secret-canary-77")
                .federated_credential("github", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        )
        .build()
}

fn fallback(emulator: &dsops_emulator::Emulator, imds: &str) -> String {
    format!(
        "    tenant_id: {}\n    cloud: {{ authority_host: \"{}\" }}\n    fallback:\n      - {{ type: service_principal, client_id: 99999999-8888-7777-6666-555555555555, client_secret: \"${{SP_SECRET}}\" }}\n      - {{ type: github_oidc, client_id: 99999999-8888-7777-6666-555555555555 }}\n      - {{ type: managed_identity }}\n{imds}",
        emulator.tenant_id(),
        emulator.https_url()
    )
}

fn env(emulator: &dsops_emulator::Emulator, imds_host: String) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = emulator.environment().into_iter().collect();
    for name in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
    ] {
        env.remove(name);
    }
    env.insert("AZURE_POD_IDENTITY_AUTHORITY_HOST".into(), imds_host);
    env.insert(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
        "wrong-request-token-canary-31".into(),
    );
    env.insert("SP_SECRET".into(), "wrong-secret-canary-12".into());
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sources_fail_and_the_third_gives_the_token() {
    let emulator = emulator(state()).await;
    let env = env(&emulator, emulator.http_url().unwrap());
    let chain = Chain::for_store(
        &store(&fallback(&emulator, ""), &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let scope = Scope::for_resource("https://vault.azure.net");
    let (attempts, found) = chain.walk(&scope).await;
    let outcomes: Vec<&AttemptOutcome> = attempts.iter().map(|a| &a.outcome).collect();
    assert!(
        matches!(outcomes[0], AttemptOutcome::Failed(why) if why.contains("AADSTS7000215")),
        "{attempts:?}"
    );
    assert!(
        matches!(outcomes[1], AttemptOutcome::Failed(why) if why.contains("401")),
        "{attempts:?}"
    );
    assert_eq!(outcomes[2], &AttemptOutcome::Succeeded);
    let (index, token) = found.unwrap();
    assert_eq!(index, 2);
    assert_eq!(
        token.claims.object_id,
        emulator.identity("vm").map(|v| v.object_id)
    );

    // `token` walks once, then keeps the winner for every other scope.
    chain.token(&scope).await.unwrap();
    emulator.log().clear();
    chain
        .token(&Scope::for_resource("https://management.azure.com"))
        .await
        .unwrap();
    let services: Vec<&str> = emulator.log().entries().iter().map(|e| e.service).collect();
    assert_eq!(services, vec!["imds"], "only the winner is asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn when_every_source_fails_the_error_lists_each_and_why() {
    let emulator = emulator(state()).await;
    // Nothing listens on port 9 of loopback: IMDS is absent.
    let env = env(&emulator, "http://127.0.0.1:9".to_owned());
    let chain = Chain::for_store(
        &store(&fallback(&emulator, ""), &env),
        &env,
        &http(&emulator, Trace::off()),
    );
    let error = chain
        .token(&Scope::for_resource("https://vault.azure.net"))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(
            "no identity of store `azure` could get a token for https://vault.azure.net/.default"
        ),
        "{text}"
    );
    for expected in [
        "service_principal",
        "AADSTS7000215",
        "github_oidc",
        "401",
        "managed_identity",
        "no IMDS",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    for canary in [
        "wrong-secret-canary-12",
        "wrong-request-token-canary-31",
        "right-secret-canary-77",
    ] {
        assert!(!text.contains(canary), "{canary} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_that_cannot_be_set_up_fails_rather_than_hides() {
    let emulator = emulator(state()).await;
    let env = env(&emulator, "http://127.0.0.1:9".to_owned());
    // Plain http is allowed for loopback endpoints, but Entra ID's client
    // requires https (as azure_identity did): the source is misconfigured,
    // not absent.
    let yaml = format!(
        "    tenant_id: {}\n    cloud: {{ authority_host: \"{}\" }}\n    fallback:\n      - {{ type: service_principal, client_id: 99999999-8888-7777-6666-555555555555, client_secret: \"${{SP_SECRET}}\" }}\n",
        emulator.tenant_id(),
        emulator.http_url().unwrap()
    );
    let chain = Chain::for_store(&store(&yaml, &env), &env, &http(&emulator, Trace::off()));
    let error = chain
        .token(&Scope::for_resource("https://vault.azure.net"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error.attempts[0].outcome, AttemptOutcome::Failed(why) if why.contains("HTTPS")),
        "{error}"
    );
}
