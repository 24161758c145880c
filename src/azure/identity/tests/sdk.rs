//! The Entra ID sources (once backed by the Azure SDK, hence the file's
//! name) through the production code path
//! (`Chain::for_store` on a loaded dsops.yaml) against the emulator: a
//! service principal's secret (`service_principal`, `environment`), workload
//! identity federation with a token file, GitHub Actions OIDC, and the Azure
//! CLI (a fake `az` on the `PATH` of the environment given). Every request
//! goes through dsops' `Http` (its trace sees the token requests, its
//! retries are the only ones), and no secret, request token, assertion or
//! access token reaches the trace, an error or `Debug`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::azure::http::{Http, HttpOptions, Trace};
use crate::azure::identity::{AccessToken, AttemptOutcome, Chain, ChainError, Scope};
use dsops_config::{LoadOptions, Source, load};
use dsops_emulator::testing::{Identity, Issuer, StateBuilder};
use dsops_emulator::{Emulator, FaultSpec, LogEntry, Options, StateFile};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "99999999-8888-7777-6666-555555555555";
const SP_SECRET: &str = "CANARY-sp-secret-3c1d9e";
const WRONG_SECRET: &str = "CANARY-wrong-secret-77ab";
const WRONG_REQUEST_TOKEN: &str = "CANARY-wrong-request-token-e41f";
const GITHUB_SUBJECT: &str = "repo:octo-org/octo-repo:ref:refs/heads/main";
const AKS_SUBJECT: &str = "system:serviceaccount:default:app";
const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// One application with a secret and two federated credentials (GitHub's
/// default subject, and an AKS service account).
fn state() -> StateFile {
    StateBuilder::new()
        .tenant(TENANT)
        .identity(
            "app",
            Identity::service_principal()
                .client_id(CLIENT_ID)
                .client_secret(SP_SECRET)
                .federated_credential("github", GITHUB_SUBJECT)
                .federated_credential("aks", AKS_SUBJECT),
        )
        .issuer("aks", Issuer::new())
        .build()
}

async fn emulator() -> Emulator {
    Emulator::start(Options {
        state: state(),
        ..Options::default()
    })
    .await
    .expect("emulator starts")
}

/// The store `azure` of a dsops.yaml whose cloud's authority is the
/// emulator and whose `fallback:` is `fallback` (YAML list items, indented
/// by six spaces), loaded as commands that resolve values load it.
fn store(
    emulator: &Emulator,
    fallback: &str,
    env: &HashMap<String, String>,
) -> dsops_config::model::Store {
    store_with(emulator, "", fallback, env)
}

/// [`store`] with further store keys (`extra`, indented by four spaces).
fn store_with(
    emulator: &Emulator,
    extra: &str,
    fallback: &str,
    env: &HashMap<String, String>,
) -> dsops_config::model::Store {
    let text = format!(
        "version: 1
secretStores:
  azure:
    type: azure.managed_identity
    tenant_id: {TENANT}
    cloud: {{ authority_host: \"{}\" }}
{extra}
    fallback:
{fallback}
envs:
  dev:
    X: {{ from: {{ store: azure, vault: dev-vault, secret: x }} }}
",
        emulator.https_url()
    );
    let loaded = load(
        Source::new("dsops.yaml", &text),
        env,
        LoadOptions::resolve(),
    );
    assert!(!loaded.has_errors(), "{:?}\n{text}", loaded.diagnostics());
    loaded
        .config()
        .expect("config")
        .store("azure")
        .expect("store azure")
        .clone()
}

/// `Http` trusting the emulator, with the trace captured.
fn http(emulator: &Emulator) -> (Http, Arc<Mutex<Vec<String>>>) {
    let (trace, lines) = Trace::capture();
    let http = Http::new(HttpOptions {
        ca_pem: Some(emulator.ca_pem().as_bytes().to_vec()),
        deadline: Duration::from_secs(20),
        trace,
        ..HttpOptions::default()
    })
    .expect("Http builds");
    (http, lines)
}

/// `env` with the emulator's authority confirmed (`DSOPS_TRUSTED_AUTHORITY`),
/// as `dsops emulator` prints it: credentials go only to a named cloud's
/// Entra ID or to an authority the environment confirms.
fn trusting(emulator: &Emulator, env: &HashMap<String, String>) -> HashMap<String, String> {
    let mut env = env.clone();
    env.insert("DSOPS_TRUSTED_AUTHORITY".into(), emulator.https_url());
    env
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn scope(resource: &str) -> Scope {
    Scope::for_resource(resource)
}

const VAULT: &str = "https://vault.azure.net";
const ARM: &str = "https://management.azure.com";
const STORAGE: &str = "https://storage.azure.com";
const GRAPH: &str = "https://graph.microsoft.com";

/// `SERVICE METHOD PATH STATUS by=IDENTITY for=AUDIENCE` of each request of
/// `services`.
fn log(emulator: &Emulator, services: &[&str]) -> Vec<String> {
    emulator
        .log()
        .entries()
        .iter()
        .filter(|e: &&LogEntry| services.contains(&e.service))
        .map(|e| {
            format!(
                "{} {} {} {} by={} for={}",
                e.service,
                e.method,
                e.path,
                e.status,
                e.identity.as_deref().unwrap_or("-"),
                e.token_for.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn entra(status: u16, by: &str, resource: &str) -> String {
    format!("entra POST /{TENANT}/oauth2/v2.0/token {status} by={by} for={resource}")
}

fn github(audience: &str) -> String {
    format!("github GET /github/idtoken 200 by={GITHUB_SUBJECT} for={audience}")
}

/// The one attempt of a failed single-source chain: (skipped?, why).
fn only_attempt(error: &ChainError) -> (&'static str, String) {
    assert_eq!(error.attempts.len(), 1, "{error}");
    match &error.attempts[0].outcome {
        AttemptOutcome::Skipped(why) => ("skipped", why.clone()),
        AttemptOutcome::Failed(why) => ("failed", why.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Texts that must hold none of `canaries`, nor any JWT (`eyJ` starts the
/// base64 of `{"`: every assertion and access token).
struct Canaries {
    canaries: Vec<String>,
    texts: Vec<(String, String)>,
}

impl Canaries {
    fn new(canaries: &[&str]) -> Self {
        Self {
            canaries: canaries.iter().map(|c| (*c).to_owned()).collect(),
            texts: Vec::new(),
        }
    }

    /// A token the code handled: it must not appear anywhere.
    fn token(&mut self, token: &AccessToken) {
        let secret = token.secret.expose_secret();
        assert!(secret.starts_with("eyJ"), "the emulator's tokens are JWTs");
        self.canaries.push(secret.to_owned());
    }

    fn text(&mut self, what: &str, text: impl Into<String>) {
        self.texts.push((what.to_owned(), text.into()));
    }

    fn trace(&mut self, lines: &Arc<Mutex<Vec<String>>>) {
        let lines = lines.lock().expect("trace lock").join("\n");
        self.text("trace", lines);
    }

    fn check(&self) {
        assert!(!self.texts.is_empty(), "nothing to check");
        for (what, text) in &self.texts {
            assert!(!text.contains("eyJ"), "{what} holds a JWT:\n{text}");
            for canary in &self.canaries {
                assert!(
                    !text.contains(canary.as_str()),
                    "{what} leaks {canary}:\n{text}"
                );
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn assert_fresh(token: &AccessToken, resource: &str) {
    assert_eq!(
        token.claims.client_id.as_deref(),
        Some(CLIENT_ID),
        "{token:?}"
    );
    assert_eq!(token.claims.tenant_id.as_deref(), Some(TENANT), "{token:?}");
    assert_eq!(
        token.claims.audience.as_deref(),
        Some(resource),
        "{token:?}"
    );
    let left = token
        .expires_on
        .duration_since(SystemTime::now())
        .expect("not expired");
    assert!(
        left > Duration::from_secs(50 * 60) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
}

const SERVICE_PRINCIPAL: &str = "      - type: service_principal
        client_id: 99999999-8888-7777-6666-555555555555
        client_secret: ${SP_SECRET}";

#[tokio::test(flavor = "multi_thread")]
async fn service_principal_gets_a_token_through_dsops_http() {
    let emulator = emulator().await;
    let env = env(&[("SP_SECRET", SP_SECRET)]);
    let (http, lines) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, SERVICE_PRINCIPAL, &env),
        &trusting(&emulator, &env),
        &http,
    );

    let token = chain.token(&scope(VAULT)).await.expect("a token");
    assert_fresh(&token, VAULT);
    assert_eq!(log(&emulator, &["entra"]), vec![entra(200, "app", VAULT)]);

    let description = chain.sources().next().expect("one source").describe();
    assert_eq!(
        description,
        format!(
            "service principal {CLIENT_ID} in tenant {TENANT} at {}",
            emulator.https_url()
        )
    );
    // The token request went through dsops' Http: its trace has it.
    let trace = lines.lock().unwrap().clone();
    let request = format!(
        "POST {}/{TENANT}/oauth2/v2.0/token -> 200",
        emulator.https_url()
    );
    assert!(trace.iter().any(|l| l.starts_with(&request)), "{trace:#?}");
    assert!(
        trace.iter().any(|l| l.starts_with("identity: ")
            && l.contains(&description)
            && l.contains(" gave a token")),
        "{trace:#?}"
    );

    let mut canaries = Canaries::new(&[SP_SECRET]);
    canaries.token(&token);
    canaries.trace(&lines);
    canaries.text("chain Debug", format!("{chain:?}"));
    canaries.text("token Debug", format!("{token:?}"));
    canaries.check();
}

#[tokio::test(flavor = "multi_thread")]
async fn service_principal_with_a_wrong_secret_fails_with_aadsts7000215() {
    let emulator = emulator().await;
    let env = env(&[("SP_SECRET", WRONG_SECRET)]);
    let (http, lines) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, SERVICE_PRINCIPAL, &env),
        &trusting(&emulator, &env),
        &http,
    );

    let error = chain
        .token(&scope(VAULT))
        .await
        .expect_err("a wrong secret fails");
    let (verdict, why) = only_attempt(&error);
    assert_eq!(verdict, "failed");
    let expected = format!(
        "{}/{TENANT}/oauth2/v2.0/token answered 401 AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{CLIENT_ID}'.",
        emulator.https_url()
    );
    assert_eq!(why, expected);
    let text = error.to_string();
    assert!(text.contains("AADSTS7000215"), "{text}");
    for noise in [
        "Trace ID",
        "Correlation ID",
        "Timestamp",
        "troubleshoot",
        "ClientSecretCredential",
    ] {
        assert!(!text.contains(noise), "{noise} in {text}");
    }
    // One request: nothing retries besides Http, and a 401 is not worth a retry.
    assert_eq!(log(&emulator, &["entra"]), vec![entra(401, "app", "-")]);

    let mut canaries = Canaries::new(&[WRONG_SECRET, SP_SECRET]);
    canaries.text("error", text);
    canaries.trace(&lines);
    canaries.text("error Debug", format!("{error:?}"));
    canaries.check();
}

#[tokio::test(flavor = "multi_thread")]
async fn entra_throttling_is_retried_by_dsops_and_a_non_json_error_keeps_its_status() {
    let emulator = emulator().await;
    let env = env(&[("SP_SECRET", SP_SECRET)]);
    let (http, lines) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, SERVICE_PRINCIPAL, &env),
        &trusting(&emulator, &env),
        &http,
    );

    emulator.faults().add(FaultSpec {
        service: Some("entra".into()),
        status: Some(503),
        retry_after: Some(1),
        times: Some(2),
        ..FaultSpec::default()
    });
    let started = std::time::Instant::now();
    let token = chain
        .token(&scope(VAULT))
        .await
        .expect("a token after two 503s");
    assert_fresh(&token, VAULT);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured: {:?}",
        started.elapsed()
    );
    let statuses: Vec<u16> = emulator.log().entries().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![503, 503, 200]);
    let trace = lines.lock().unwrap().clone();
    let outcomes: Vec<&str> = trace
        .iter()
        .filter(|l| l.starts_with("POST "))
        .filter_map(|l| l.split(" -> ").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(outcomes, vec!["503", "503", "200"], "{trace:#?}");

    // An error answer that is not JSON (a proxy's page) keeps its status.
    emulator.faults().add(FaultSpec {
        service: Some("entra".into()),
        status: Some(400),
        invalid_json: true,
        ..FaultSpec::default()
    });
    let error = chain.token(&scope(ARM)).await.expect_err("400");
    let (_, why) = only_attempt(&error);
    assert_eq!(
        why,
        format!(
            "{}/{TENANT}/oauth2/v2.0/token answered 400: Bad Request (the body is not JSON)",
            emulator.https_url()
        )
    );
}

/// With `token_cache: { enabled: false }` every request is an exchange: the
/// sources keep no cache of their own behind the chain's.
#[tokio::test(flavor = "multi_thread")]
async fn the_stores_token_cache_setting_is_the_only_cache() {
    let emulator = emulator().await;
    let (http, _) = http(&emulator);
    let mut env = github_env(&emulator, None, None);
    env.insert("SP_SECRET".into(), SP_SECRET.into());
    let no_cache = "    cache: { token_cache: { enabled: false } }";
    for fallback in [SERVICE_PRINCIPAL, GITHUB_OIDC] {
        let chain = Chain::for_store(
            &store_with(&emulator, no_cache, fallback, &env),
            &trusting(&emulator, &env),
            &http,
        );
        for _ in 0..2 {
            chain.token(&scope(VAULT)).await.expect("a token");
        }
    }
    assert_eq!(
        log(&emulator, &["github", "entra"]),
        vec![
            entra(200, "app", VAULT),
            entra(200, "app", VAULT),
            github(EXCHANGE_AUDIENCE),
            entra(200, "app", VAULT),
            github(EXCHANGE_AUDIENCE),
            entra(200, "app", VAULT),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_source_reads_the_variables_of_the_environment_given() {
    let emulator = emulator().await;
    let (http, lines) = http(&emulator);
    let full = env(&[
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", SP_SECRET),
        ("AZURE_TENANT_ID", TENANT),
    ]);
    let chain = Chain::for_store(
        &store(&emulator, "      - type: environment", &full),
        &trusting(&emulator, &full),
        &http,
    );
    let token = chain.token(&scope(VAULT)).await.expect("a token");
    assert_fresh(&token, VAULT);
    let source = chain.sources().next().expect("one source");
    assert_eq!(source.kind(), "environment");
    assert!(
        source.describe().contains(CLIENT_ID),
        "{}",
        source.describe()
    );
    assert_eq!(log(&emulator, &["entra"]), vec![entra(200, "app", VAULT)]);

    let partial = env(&[("AZURE_CLIENT_ID", CLIENT_ID), ("AZURE_TENANT_ID", TENANT)]);
    let chain = Chain::for_store(
        &store(&emulator, "      - type: environment", &partial),
        &trusting(&emulator, &partial),
        &http,
    );
    let error = chain.token(&scope(VAULT)).await.expect_err("no secret");
    assert_eq!(
        only_attempt(&error),
        ("skipped", "AZURE_CLIENT_SECRET not set".to_owned())
    );
    assert_eq!(
        emulator.log().entries().len(),
        1,
        "nothing sent without a secret"
    );

    let mut canaries = Canaries::new(&[SP_SECRET]);
    canaries.token(&token);
    canaries.trace(&lines);
    canaries.text("error", error.to_string());
    canaries.check();
}

/// An AKS service-account token from the emulator's `aks` issuer.
fn aks_token(emulator: &Emulator, claims: Value) -> String {
    let Value::Object(claims) = claims else {
        panic!("claims are an object")
    };
    emulator
        .mint_oidc_token("aks", EXCHANGE_AUDIENCE, &claims)
        .expect("aks issues tokens")
}

fn subject(sub: &str) -> Value {
    json!({ "sub": sub })
}

#[tokio::test(flavor = "multi_thread")]
async fn workload_identity_rereads_the_token_file_at_every_exchange() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    let file_text = file.display().to_string();
    let env = env(&[
        ("AZURE_FEDERATED_TOKEN_FILE", &file_text),
        ("AZURE_CLIENT_ID", CLIENT_ID),
    ]);
    let (http, lines) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, "      - type: workload_identity", &env),
        &trusting(&emulator, &env),
        &http,
    );
    let description = chain.sources().next().unwrap().describe();
    assert!(
        description.contains(CLIENT_ID) && description.contains(&file_text),
        "{description}"
    );
    let mut canaries = Canaries::new(&[]);

    // A valid token (with a trailing newline, as files have).
    let valid = aks_token(&emulator, subject(AKS_SUBJECT));
    std::fs::write(&file, format!("{valid}\n")).unwrap();
    let token = chain.token(&scope(VAULT)).await.expect("a token");
    assert_fresh(&token, VAULT);
    canaries.token(&token);

    // Rotated to a token of a subject with no federated credential: the
    // next exchange presents it (the file is read again, not cached).
    let intruder = aks_token(&emulator, subject("system:serviceaccount:default:intruder"));
    std::fs::write(&file, &intruder).unwrap();
    let error = chain
        .token(&scope(ARM))
        .await
        .expect_err("no federated credential");
    let (verdict, why) = only_attempt(&error);
    assert_eq!(verdict, "failed");
    assert!(
        why.contains("answered 400 AADSTS70021: No matching federated identity record found"),
        "{why}"
    );
    assert!(
        why.contains("Assertion Subject: 'system:serviceaccount:default:intruder'"),
        "{why}"
    );
    canaries.text("AADSTS70021 error", error.to_string());

    // An expired assertion.
    let past = now() - 7200;
    let expired = aks_token(
        &emulator,
        json!({ "sub": AKS_SUBJECT, "iat": past, "nbf": past, "exp": past + 600 }),
    );
    std::fs::write(&file, &expired).unwrap();
    let error = chain.token(&scope(STORAGE)).await.expect_err("expired");
    let (_, why) = only_attempt(&error);
    assert!(
        why.contains(
            "answered 400 AADSTS700024: Client assertion is not within its valid time range."
        ),
        "{why}"
    );
    canaries.text("AADSTS700024 error", error.to_string());

    // A fresh token again: the next exchange works.
    let renewed = aks_token(&emulator, subject(AKS_SUBJECT));
    std::fs::write(&file, &renewed).unwrap();
    let token = chain
        .token(&scope(GRAPH))
        .await
        .expect("a token after rotation");
    assert_fresh(&token, GRAPH);
    canaries.token(&token);

    // The file gone: a failure naming it, with nothing sent.
    std::fs::remove_file(&file).unwrap();
    let error = chain
        .token(&scope("https://database.windows.net"))
        .await
        .expect_err("no file");
    let (verdict, why) = only_attempt(&error);
    assert_eq!(verdict, "failed");
    assert!(
        why.starts_with(&format!(
            "cannot read the federated token file {file_text}: "
        )),
        "{why}"
    );
    canaries.text("missing file error", error.to_string());

    assert_eq!(
        log(&emulator, &["entra"]),
        vec![
            entra(200, "app", VAULT),
            entra(400, "app", "-"),
            entra(400, "app", "-"),
            entra(200, "app", GRAPH),
        ]
    );
    for assertion in [valid, intruder, expired, renewed] {
        canaries.canaries.push(assertion);
    }
    canaries.trace(&lines);
    canaries.text("chain Debug", format!("{chain:?}"));
    canaries.check();
}

const GITHUB_OIDC: &str = "      - type: github_oidc
        client_id: 99999999-8888-7777-6666-555555555555";

/// The emulator's GitHub variables, with the request URL replaced when given.
fn github_env(
    emulator: &Emulator,
    url: Option<String>,
    request_token: Option<&str>,
) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = emulator
        .environment()
        .into_iter()
        .filter(|(k, _)| k.starts_with("ACTIONS_ID_TOKEN_REQUEST_"))
        .collect();
    assert_eq!(env.len(), 2, "{env:?}");
    if let Some(url) = url {
        env.insert("ACTIONS_ID_TOKEN_REQUEST_URL".into(), url);
    }
    if let Some(token) = request_token {
        env.insert("ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(), token.into());
    }
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn github_oidc_requests_a_fresh_github_token_for_every_exchange() {
    let emulator = emulator().await;
    let env = github_env(&emulator, None, None);
    assert!(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"].contains('?'),
        "the emulator's URL has a query"
    );
    let (http, lines) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, GITHUB_OIDC, &env),
        &trusting(&emulator, &env),
        &http,
    );

    let vault = chain.token(&scope(VAULT)).await.expect("a vault token");
    assert_fresh(&vault, VAULT);
    let arm = chain.token(&scope(ARM)).await.expect("an ARM token");
    assert_fresh(&arm, ARM);
    // Cached by the chain: no further request.
    let again = chain.token(&scope(VAULT)).await.expect("cached");
    assert_eq!(again.secret.expose_secret(), vault.secret.expose_secret());
    assert_eq!(
        log(&emulator, &["github", "entra"]),
        vec![
            github(EXCHANGE_AUDIENCE),
            entra(200, "app", VAULT),
            github(EXCHANGE_AUDIENCE),
            entra(200, "app", ARM),
        ]
    );

    let mut canaries = Canaries::new(&[emulator.github_request_token()]);
    canaries.token(&vault);
    canaries.token(&arm);
    canaries.trace(&lines);
    canaries.text("chain Debug", format!("{chain:?}"));
    canaries.check();
}

#[tokio::test(flavor = "multi_thread")]
async fn github_oidc_adds_the_audience_to_a_url_without_a_query() {
    let emulator = emulator().await;
    let url = format!("{}/github/idtoken", emulator.https_url());
    let env = github_env(&emulator, Some(url), None);
    let (http, _) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, GITHUB_OIDC, &env),
        &trusting(&emulator, &env),
        &http,
    );
    let token = chain.token(&scope(VAULT)).await.expect("a token");
    assert_fresh(&token, VAULT);

    // Another audience: GitHub is asked for it, and Entra refuses it, since
    // the federated credential names the default one.
    let custom = format!("{GITHUB_OIDC}\n        audience: api://custom-audience");
    let chain = Chain::for_store(
        &store(&emulator, &custom, &env),
        &trusting(&emulator, &env),
        &http,
    );
    let error = chain
        .token(&scope(VAULT))
        .await
        .expect_err("wrong audience");
    let (_, why) = only_attempt(&error);
    assert!(
        why.contains("AADSTS700212") && why.contains("'api://custom-audience'"),
        "{why}"
    );
    assert_eq!(
        log(&emulator, &["github", "entra"]),
        vec![
            github(EXCHANGE_AUDIENCE),
            entra(200, "app", VAULT),
            github("api://custom-audience"),
            entra(400, "app", "-"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_oidc_with_a_wrong_request_token_fails_with_401() {
    let emulator = emulator().await;
    let env = github_env(&emulator, None, Some(WRONG_REQUEST_TOKEN));
    let (http, lines) = http(&emulator);
    let chain = Chain::for_store(
        &store(&emulator, GITHUB_OIDC, &env),
        &trusting(&emulator, &env),
        &http,
    );
    let error = chain.token(&scope(VAULT)).await.expect_err("401");
    let (verdict, why) = only_attempt(&error);
    assert_eq!(verdict, "failed");
    assert_eq!(
        why,
        format!(
            "{}/github/idtoken answered 401: The request token is invalid or expired.",
            emulator.https_url()
        )
    );
    // Nothing reached Entra, and GitHub was asked once (a 401 is final).
    assert_eq!(
        log(&emulator, &["github", "entra"]),
        vec!["github GET /github/idtoken 401 by=- for=-"]
    );

    let mut canaries = Canaries::new(&[WRONG_REQUEST_TOKEN, emulator.github_request_token()]);
    canaries.text("error", error.to_string());
    canaries.text("error Debug", format!("{error:?}"));
    canaries.trace(&lines);
    canaries.text("chain Debug", format!("{chain:?}"));
    canaries.check();
}

#[cfg(unix)]
mod azure_cli {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    /// A fake `az` in `dir` running `body` after recording its arguments
    /// (one a line) in `dir/args` and its `PATH` in `dir/path`.
    fn fake_az(dir: &Path, body: &str) {
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{dir}/args'\nprintf '%s' \"$PATH\" > '{dir}/path'\n{body}\n",
            dir = dir.display()
        );
        let az = dir.join("az");
        std::fs::write(&az, script).unwrap();
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A process another test forked while the file was open for writing
        // holds that descriptor until it execs; running the script before
        // then fails with ETXTBSY. Such children exec within microseconds.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    fn path_with(dir: &Path) -> String {
        format!("{}:/usr/bin:/bin", dir.display())
    }

    const AZURE_CLI: &str = "      - type: azure_cli";

    #[tokio::test(flavor = "multi_thread")]
    async fn azure_cli_runs_az_from_the_path_given_and_reads_its_token() {
        let emulator = emulator().await;
        let (http, lines) = http(&emulator);
        // A real token of the emulator, as `az` would print one.
        let sp_env = env(&[("SP_SECRET", SP_SECRET)]);
        let issued = Chain::for_store(
            &store(&emulator, SERVICE_PRINCIPAL, &sp_env),
            &trusting(&emulator, &sp_env),
            &http,
        )
        .token(&scope(VAULT))
        .await
        .expect("a token to hand out");
        let expires_on = now() + 1800;
        let dir = tempfile::tempdir().unwrap();
        let output = json!({
            "accessToken": issued.secret.expose_secret(),
            "expiresOn": "2030-01-01 00:00:00.000000",
            "expires_on": expires_on,
            "subscription": "00000000-0000-0000-0000-00000000c0de",
            "tenant": TENANT,
            "tokenType": "Bearer",
        });
        fake_az(dir.path(), &format!("cat <<'EOF'\n{output}\nEOF"));
        let path = path_with(dir.path());
        let env = env(&[("PATH", &path)]);
        let with_tenant = format!("{AZURE_CLI}\n        tenant_id: contoso.onmicrosoft.com");
        let chain = Chain::for_store(
            &store(&emulator, &with_tenant, &env),
            &trusting(&emulator, &env),
            &http,
        );
        assert_eq!(
            chain.sources().next().unwrap().describe(),
            "Azure CLI (tenant contoso.onmicrosoft.com)"
        );

        let token = chain.token(&scope(VAULT)).await.expect("az's token");
        assert_eq!(token.secret.expose_secret(), issued.secret.expose_secret());
        assert_eq!(
            token.expires_on,
            UNIX_EPOCH + Duration::from_secs(expires_on)
        );
        assert_eq!(token.claims.client_id.as_deref(), Some(CLIENT_ID));
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            [
                "account",
                "get-access-token",
                "--output",
                "json",
                "--scope",
                "https://vault.azure.net/.default",
                "--tenant",
                "contoso.onmicrosoft.com"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("path")).unwrap(),
            path
        );

        let mut canaries = Canaries::new(&[SP_SECRET]);
        canaries.token(&token);
        canaries.trace(&lines);
        canaries.text("chain Debug", format!("{chain:?}"));
        canaries.check();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn azure_cli_not_signed_in_is_skipped_with_an_az_login_hint() {
        let emulator = emulator().await;
        let (http, _) = http(&emulator);
        let dir = tempfile::tempdir().unwrap();
        fake_az(
            dir.path(),
            "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
        );
        let env = env(&[("PATH", &path_with(dir.path()))]);
        let chain = Chain::for_store(
            &store(&emulator, AZURE_CLI, &env),
            &trusting(&emulator, &env),
            &http,
        );
        let error = chain.token(&scope(VAULT)).await.expect_err("not signed in");
        assert_eq!(
            only_attempt(&error),
            (
                "skipped",
                format!(
                    "the Azure CLI is not signed in (Please run 'az login' to setup account.): run `az login --tenant {TENANT}`"
                )
            )
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn azure_cli_not_on_the_path_is_skipped_as_not_installed() {
        let emulator = emulator().await;
        let (http, _) = http(&emulator);
        let empty = tempfile::tempdir().unwrap();
        // A directory with a non-executable `az`, and one with none.
        std::fs::write(empty.path().join("az"), "#!/bin/sh\nexit 0\n").unwrap();
        for env in [
            env(&[("PATH", &empty.path().display().to_string())]),
            env(&[]),
        ] {
            let chain = Chain::for_store(
                &store(&emulator, AZURE_CLI, &env),
                &trusting(&emulator, &env),
                &http,
            );
            let error = chain.token(&scope(VAULT)).await.expect_err("no az");
            assert_eq!(
                only_attempt(&error),
                (
                    "skipped",
                    "the Azure CLI (az) is not installed: no `az` on PATH".to_owned()
                )
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn azure_cli_failure_shows_its_error_output_never_its_standard_output() {
        let emulator = emulator().await;
        let (http, _) = http(&emulator);
        let dir = tempfile::tempdir().unwrap();
        fake_az(
            dir.path(),
            "echo 'CANARY-stdout-token-9d2e'\necho 'ERROR: AADSTS50173: The provided grant has expired.' >&2\necho 'ERROR: Interactive authentication is needed.' >&2\nexit 1",
        );
        let env = env(&[("PATH", &path_with(dir.path()))]);
        let chain = Chain::for_store(
            &store(&emulator, AZURE_CLI, &env),
            &trusting(&emulator, &env),
            &http,
        );
        let error = chain.token(&scope(VAULT)).await.expect_err("az fails");
        assert_eq!(
            only_attempt(&error),
            (
                "failed",
                "`az account get-access-token` failed: AADSTS50173: The provided grant has expired. Interactive authentication is needed.".to_owned()
            )
        );
        let mut canaries = Canaries::new(&["CANARY-stdout-token-9d2e"]);
        canaries.text("error", error.to_string());
        canaries.check();

        // Output that is not az's JSON is a failure that shows none of it.
        fake_az(dir.path(), "echo 'CANARY-stdout-token-9d2e'");
        let chain = Chain::for_store(
            &store(&emulator, AZURE_CLI, &env),
            &trusting(&emulator, &env),
            &http,
        );
        let error = chain.token(&scope(VAULT)).await.expect_err("not JSON");
        assert_eq!(
            only_attempt(&error),
            (
                "failed",
                "`az account get-access-token` failed: its output is not the JSON of `az account get-access-token`"
                    .to_owned()
            )
        );
    }
}

/// Every source, failing and succeeding, in one process: the trace, the
/// errors and `Debug` hold no client secret, request token, assertion or
/// access token.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_request_token_assertion_or_token_reaches_the_trace_or_errors() {
    let emulator = emulator().await;
    let (http, lines) = http(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let assertion = aks_token(&emulator, subject(AKS_SUBJECT));
    std::fs::write(&file, &assertion).unwrap();
    let request_token = emulator.github_request_token().to_owned();
    let mut canaries = Canaries::new(&[
        SP_SECRET,
        WRONG_SECRET,
        WRONG_REQUEST_TOKEN,
        &request_token,
        &assertion,
    ]);

    // A chain trying a wrong secret, a GitHub token with a wrong request
    // token, then the token file: the third gives the token.
    let mut env = github_env(&emulator, None, Some(WRONG_REQUEST_TOKEN));
    env.insert("SP_SECRET".into(), WRONG_SECRET.into());
    env.insert(
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        file.display().to_string(),
    );
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    let fallback = format!("{SERVICE_PRINCIPAL}\n{GITHUB_OIDC}\n      - type: workload_identity");
    let chain = Chain::for_store(
        &store(&emulator, &fallback, &env),
        &trusting(&emulator, &env),
        &http,
    );
    let (attempts, found) = chain.walk(&scope(VAULT)).await;
    let verdicts: Vec<(&str, bool)> = attempts
        .iter()
        .map(|a| (a.kind, matches!(a.outcome, AttemptOutcome::Failed(_))))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("service_principal", true),
            ("github_oidc", true),
            ("workload_identity", false)
        ]
    );
    let (_, token) = found.expect("the token file works");
    canaries.token(&token);
    canaries.text("attempts", format!("{attempts:?}"));

    // The right secret and request token, then failures after success.
    let mut env = github_env(&emulator, None, None);
    env.insert("SP_SECRET".into(), SP_SECRET.into());
    for fallback in [SERVICE_PRINCIPAL, GITHUB_OIDC] {
        let chain = Chain::for_store(
            &store(&emulator, fallback, &env),
            &trusting(&emulator, &env),
            &http,
        );
        let token = chain.token(&scope(ARM)).await.expect("a token");
        canaries.token(&token);
        canaries.text("chain Debug", format!("{chain:?}"));
    }
    emulator.faults().add(FaultSpec {
        service: Some("entra".into()),
        status: Some(403),
        ..FaultSpec::default()
    });
    for fallback in [SERVICE_PRINCIPAL, GITHUB_OIDC] {
        let chain = Chain::for_store(
            &store(&emulator, fallback, &env),
            &trusting(&emulator, &env),
            &http,
        );
        let error = chain.token(&scope(STORAGE)).await.expect_err("403");
        let (_, why) = only_attempt(&error);
        assert!(why.contains("answered 403 InjectedFault"), "{why}");
        canaries.text("error", error.to_string());
    }

    let trace = lines.lock().unwrap().clone();
    assert!(
        trace
            .iter()
            .any(|l| l.starts_with("GET ") && l.contains("/github/idtoken -> 401")),
        "{trace:#?}"
    );
    assert!(
        trace
            .iter()
            .any(|l| l.starts_with("POST ") && l.contains("-> 401")),
        "{trace:#?}"
    );
    assert!(
        trace.iter().any(|l| l.starts_with("identity: ")),
        "{trace:#?}"
    );
    canaries.trace(&lines);
    canaries.check();
}
