//! The official Azure SDK for Rust against the emulator: `azure_identity`'s
//! `ClientSecretCredential` and `ManagedIdentityCredential` with
//! `azure_security_keyvault_secrets`'s `SecretClient`, over real TLS to
//! `https://dev-vault.vault.azure.net:PORT`. The SDK's transport is a reqwest
//! client that trusts only the emulator's CA and resolves the vault's name to
//! it, behind a guard that lets requests reach loopback only.
//!
//! `ManagedIdentityCredential` takes its endpoint from the process
//! environment alone, and tests may not set variables (`set_var` is unsafe),
//! so its cases run in a child: the parent starts the emulator, runs this test
//! binary again for [`managed_identity_child`] with the emulator's variables,
//! and then reads the emulator's request log.
//!
//! What `azure_identity` 1.0 does with the environment (its source):
//! `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` select App Service at that URL;
//! without them it uses IMDS at the fixed `http://169.254.169.254`, and reads
//! no `AZURE_POD_IDENTITY_AUTHORITY_HOST` (nor `IMDS_ENDPOINT` except to
//! detect Azure Arc, which it refuses, like Cloud Shell, Azure ML and Service
//! Fabric). The IMDS case therefore rewrites that address to the emulator's
//! plain listener in the transport, before the loopback check.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::error::{ErrorKind, ErrorResponse};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use dsops_emulator::{Emulator, Options, StateFile};

use crate::harness;

const VAULT_HOST: &str = "dev-vault.vault.azure.net";
/// The resource Key Vault's challenge names for `*.vault.azure.net` reached
/// on `port` (the port is part of it unless it is 443).
fn key_vault(port: u16) -> String {
    format!("https://vault.azure.net:{port}")
}
/// The address `azure_identity` hard-codes for IMDS; never contacted.
const IMDS_HOST: &str = "169.254.169.254"; // never contacted: the transport rewrites it to loopback
/// The Key Vault API version the SDK sends.
const API_VERSION: &str = "api-version=2025-07-01";

/// Tells the child test which managed identity source to use; its absence
/// makes the child a no-op (e.g. under `cargo test -- --include-ignored`).
const CHILD_SOURCE: &str = "DSOPS_RUST_SDK_CHILD_SOURCE";
const CHILD_HTTPS: &str = "DSOPS_RUST_SDK_CHILD_HTTPS_ADDR";
const CHILD_HTTP: &str = "DSOPS_RUST_SDK_CHILD_HTTP_ADDR";
const CHILD_WORKER_CLIENT_ID: &str = "DSOPS_RUST_SDK_CHILD_WORKER_CLIENT_ID";
const CHILD_WORKER_RESOURCE_ID: &str = "DSOPS_RUST_SDK_CHILD_WORKER_RESOURCE_ID";
const CHILD_OUTSIDER_CLIENT_ID: &str = "DSOPS_RUST_SDK_CHILD_OUTSIDER_CLIENT_ID";
const CHILD_OUTSIDER_OBJECT_ID: &str = "DSOPS_RUST_SDK_CHILD_OUTSIDER_OBJECT_ID";
/// Printed by the child when every case passed, so that a child which ran no
/// test (a renamed test, a filter that matched nothing) cannot pass.
const CHILD_DONE: &str = "rust_sdk managed identity child: all cases passed";
/// Variables that steer `ManagedIdentityCredential`'s choice of source;
/// removed from the child's environment before the emulator's are set.
const MANAGED_IDENTITY_VARS: &[&str] = &[
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

/// The SDK's transport: a reqwest client (the caller's), behind a guard that
/// refuses any request not bound for loopback or for a name the client
/// resolves to the emulator. With `imds` set, requests for IMDS's fixed
/// address go to that address instead. Records every request as the SDK made
/// it (before the rewrite).
#[derive(Debug)]
struct LoopbackOnly {
    client: reqwest::Client,
    resolved: Vec<String>,
    imds: Option<SocketAddr>,
    sent: Mutex<Vec<String>>,
}

impl LoopbackOnly {
    fn new(client: reqwest::Client, resolved: &[&str], imds: Option<SocketAddr>) -> Arc<Self> {
        Arc::new(Self {
            client,
            resolved: resolved.iter().map(|h| (*h).to_owned()).collect(),
            imds,
            sent: Mutex::new(Vec::new()),
        })
    }

    /// Client options with this transport.
    fn options(self: &Arc<Self>) -> ClientOptions {
        ClientOptions {
            transport: Some(Transport::new(self.clone())),
            ..ClientOptions::default()
        }
    }

    /// `METHOD URL` of each request, in order.
    fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("lock").clone()
    }

    fn route(&self, request: &mut Request) -> azure_core::Result<()> {
        self.sent
            .lock()
            .expect("lock")
            .push(format!("{} {}", request.method(), request.url()));
        let url = request.url_mut();
        if let (Some(IMDS_HOST), Some(imds)) = (url.host_str(), self.imds) {
            url.set_ip_host(imds.ip())
                .expect("http URLs take an IP host");
            url.set_port(Some(imds.port()))
                .expect("http URLs take a port");
        }
        let host = url.host_str().unwrap_or_default();
        let loopback = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        if loopback || self.resolved.iter().any(|r| r == host) {
            Ok(())
        } else {
            Err(azure_core::Error::with_message(
                ErrorKind::Connection,
                format!("test transport: refused to send to {url}: not the emulator"),
            ))
        }
    }
}

// `HttpClient` is an `async_trait`; this is its expansion, written out.
impl HttpClient for LoopbackOnly {
    fn execute_request<'s, 'r, 'f>(
        &'s self,
        request: &'r Request,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AsyncRawResponse>> + Send + 'f>>
    where
        's: 'f,
        'r: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let mut request = request.clone();
            self.route(&mut request)?;
            self.client.execute_request(&request).await
        })
    }
}

#[tokio::test]
async fn the_test_transport_refuses_anything_but_the_emulator() {
    let guard = LoopbackOnly::new(reqwest::Client::new(), &[VAULT_HOST], None);
    for url in [
        "http://169.254.169.254/metadata/identity/oauth2/token",
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "https://other-vault.vault.azure.net/secrets/x",
    ] {
        let request = Request::new(url.parse().expect("URL"), azure_core::http::Method::Get);
        let error = guard
            .execute_request(&request)
            .await
            .expect_err("refused before sending");
        assert!(matches!(error.kind(), ErrorKind::Connection), "{error:?}");
        assert!(error.to_string().contains("not the emulator"), "{error}");
    }
}

/// `https://dev-vault.vault.azure.net:PORT/`.
fn vault_endpoint(port: u16) -> String {
    format!("https://{VAULT_HOST}:{port}/")
}

fn secret_client(
    port: u16,
    credential: Arc<dyn TokenCredential>,
    transport: &Arc<LoopbackOnly>,
) -> SecretClient {
    SecretClient::new(
        &vault_endpoint(port),
        credential,
        Some(SecretClientOptions {
            client_options: transport.options(),
            ..SecretClientOptions::default()
        }),
    )
    .expect("SecretClient accepts the vault URL")
}

/// A `ClientSecretCredential` whose authority host is the emulator.
fn client_secret_credential(
    emulator: &Emulator,
    client_id: &str,
    secret: &str,
    transport: &Arc<LoopbackOnly>,
) -> Arc<ClientSecretCredential> {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = emulator.https_url();
    ClientSecretCredential::new(
        emulator.tenant_id(),
        client_id.to_owned(),
        Secret::new(secret.to_owned()),
        Some(ClientSecretCredentialOptions {
            client_options: ClientOptions {
                cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
                ..transport.options()
            },
        }),
    )
    .expect("credential")
}

/// Reads a secret's value through the SDK.
async fn value(client: &SecretClient, name: &str) -> String {
    client
        .get_secret(name, None)
        .await
        .unwrap_or_else(|e| panic!("get_secret({name}): {e:?}"))
        .into_model()
        .expect("the SDK parses the secret bundle")
        .value
        .expect("the bundle has a value")
}

/// What an SDK error says about the HTTP response behind it.
#[derive(Debug, PartialEq, Eq)]
struct HttpFailure {
    /// The HTTP status.
    status: u16,
    /// The SDK's `ErrorKind::HttpResponse::error_code`.
    sdk_code: Option<String>,
    /// `error.code` of the body, as `azure_core`'s `ErrorResponse` reads it.
    code: Option<String>,
    /// `error.innererror.code` of the body.
    inner: Option<String>,
}

/// The first HTTP failure in an error's chain (credentials wrap theirs).
fn http_failure(error: &azure_core::Error) -> HttpFailure {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(azure) = e.downcast_ref::<azure_core::Error>()
            && let ErrorKind::HttpResponse {
                status,
                error_code,
                raw_response,
            } = azure.kind()
        {
            let body = raw_response
                .as_ref()
                .and_then(|raw| serde_json::from_slice::<ErrorResponse>(raw.body()).ok())
                .and_then(|body| body.error);
            let code = body.as_ref().and_then(|b| b.code.clone());
            let inner = body.and_then(|b| b.inner_error?.code);
            return HttpFailure {
                status: u16::from(*status),
                sdk_code: error_code.clone(),
                code,
                inner,
            };
        }
        current = e.source();
    }
    panic!("no HTTP response behind the error: {error:?}")
}

fn failure(status: u16, sdk_code: &str, code: Option<&str>, inner: Option<&str>) -> HttpFailure {
    HttpFailure {
        status,
        sdk_code: Some(sdk_code.to_owned()),
        code: code.map(str::to_owned),
        inner: inner.map(str::to_owned),
    }
}

/// Key Vault's 404 for a missing secret, as the SDK reports it.
fn secret_not_found() -> HttpFailure {
    failure(404, "SecretNotFound", Some("SecretNotFound"), None)
}

/// Key Vault's 403 for a caller without a role, as the SDK reports it. The
/// SDK's own code is "403", not "Forbidden": `azure_core` 1.1's
/// `check_success` reads `error.code` and `error.message` as borrowed `&str`,
/// which fails on a message with JSON escapes, and Key Vault's RBAC message
/// has `\r\n` in it; it then falls back to the status.
fn forbidden_by_rbac() -> HttpFailure {
    failure(403, "403", Some("Forbidden"), Some("ForbiddenByRbac"))
}

/// The messages of an error and its sources, joined.
fn messages(error: &azure_core::Error) -> String {
    let mut all = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        all.push(e.to_string());
        current = e.source();
    }
    all.join(" <- ")
}

/// The emulator's log, one line per request:
/// `SERVICE METHOD HOST PATH STATUS by=IDENTITY for=AUDIENCE`.
fn log_lines(emulator: &Emulator) -> Vec<String> {
    emulator
        .log()
        .entries()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}{} {} by={} for={}",
                e.service,
                e.method,
                e.host,
                e.path,
                e.status,
                e.identity.as_deref().unwrap_or("-"),
                e.token_for.as_deref().unwrap_or("-"),
            )
        })
        .collect()
}

/// The three requests of a secret client's first call: the challenge, a
/// token from `token` (e.g. `entra POST 127.0.0.1/TENANT/oauth2/v2.0/token`)
/// for `identity`, and the retry with the token answered `status`.
fn first_call(port: u16, token: &str, identity: &str, secret: &str, status: u16) -> Vec<String> {
    vec![
        format!("keyvault GET {VAULT_HOST}/secrets/{secret}/ 401 by=- for=-"),
        format!("{token} 200 by={identity} for={}", key_vault(port)),
        kv(identity, secret, status),
    ]
}

fn kv(identity: &str, secret: &str, status: u16) -> String {
    format!("keyvault GET {VAULT_HOST}/secrets/{secret}/ {status} by={identity} for=-")
}

#[tokio::test]
async fn client_secret_credential_reads_a_secret_and_gets_404_for_a_missing_one() {
    let emulator = harness::example().await;
    let port = emulator.https_addr().port();
    let transport = LoopbackOnly::new(
        harness::client(&emulator, &[VAULT_HOST]),
        &[VAULT_HOST],
        None,
    );
    let ci = emulator.identity("ci").expect("ci");
    let credential = client_secret_credential(
        &emulator,
        &ci.client_id,
        "dev-only-client-secret",
        &transport,
    );
    let secrets = secret_client(port, credential, &transport);

    let secret = secrets
        .get_secret("database-password", None)
        .await
        .expect("ci reads database-password")
        .into_model()
        .expect("the SDK parses the secret bundle");
    assert_eq!(secret.value.as_deref(), Some("dev-db-password"));
    let id = secret.id.expect("the bundle has an id");
    assert!(
        id.starts_with(&format!(
            "https://{VAULT_HOST}:{port}/secrets/database-password/"
        )),
        "{id}"
    );

    let missing = secrets
        .get_secret("no-such-secret", None)
        .await
        .expect_err("a missing secret is an error");
    assert_eq!(http_failure(&missing), secret_not_found());

    let tenant = emulator.tenant_id();
    let token = format!("entra POST 127.0.0.1/{tenant}/oauth2/v2.0/token");
    let mut expected = first_call(
        emulator.https_addr().port(),
        &token,
        "ci",
        "database-password",
        200,
    );
    expected.push(kv("ci", "no-such-secret", 404));
    assert_eq!(log_lines(&emulator), expected);

    let https = emulator.https_url();
    assert_eq!(
        transport.sent(),
        vec![
            format!("GET {}database-password/?{API_VERSION}", secrets_url(port)),
            format!("POST {https}/{tenant}/oauth2/v2.0/token"),
            format!("GET {}database-password/?{API_VERSION}", secrets_url(port)),
            format!("GET {}no-such-secret/?{API_VERSION}", secrets_url(port)),
        ]
    );
}

fn secrets_url(port: u16) -> String {
    format!("{}secrets/", vault_endpoint(port))
}

#[tokio::test]
async fn client_secret_credential_with_a_wrong_secret_fails_with_entras_401() {
    let emulator = harness::example().await;
    let port = emulator.https_addr().port();
    let transport = LoopbackOnly::new(
        harness::client(&emulator, &[VAULT_HOST]),
        &[VAULT_HOST],
        None,
    );
    let ci = emulator.identity("ci").expect("ci");
    let credential = client_secret_credential(&emulator, &ci.client_id, "not-it", &transport);
    let secrets = secret_client(port, credential, &transport);

    let error = secrets
        .get_secret("database-password", None)
        .await
        .expect_err("a wrong client secret is an error");
    assert!(matches!(error.kind(), ErrorKind::Credential), "{error:?}");
    assert!(
        messages(&error).contains("AADSTS7000215: Invalid client secret provided."),
        "the SDK passes Entra's description on: {}",
        messages(&error)
    );
    // The SDK's error code for Entra failures is the `error_codes` list.
    assert_eq!(http_failure(&error), failure(401, "7000215", None, None));

    let tenant = emulator.tenant_id();
    assert_eq!(
        log_lines(&emulator),
        vec![
            format!("keyvault GET {VAULT_HOST}/secrets/database-password/ 401 by=- for=-"),
            format!("entra POST 127.0.0.1/{tenant}/oauth2/v2.0/token 401 by=ci for=-"),
        ]
    );
}

/// A state with an application that has no role on the vault.
const NO_ROLE_STATE: &str = r#"
tenants:
  - id: 72f988bf-86f1-41af-91ab-2d7cd011db47
identities:
  auditor:
    type: service_principal
    client_secrets: [auditor-secret]
vaults:
  dev-vault:
    secrets:
      database-password: dev-db-password
"#;

#[tokio::test]
async fn client_secret_credential_without_a_role_gets_403_forbidden_by_rbac() {
    let emulator = harness::with_state(NO_ROLE_STATE).await;
    let port = emulator.https_addr().port();
    let transport = LoopbackOnly::new(
        harness::client(&emulator, &[VAULT_HOST]),
        &[VAULT_HOST],
        None,
    );
    let auditor = emulator.identity("auditor").expect("auditor");
    let credential =
        client_secret_credential(&emulator, &auditor.client_id, "auditor-secret", &transport);
    let secrets = secret_client(port, credential, &transport);

    let error = secrets
        .get_secret("database-password", None)
        .await
        .expect_err("no role, no secret");
    assert!(
        messages(&error).contains("Caller is not authorized to perform action on resource."),
        "the SDK passes Key Vault's message on: {}",
        messages(&error)
    );
    assert_eq!(http_failure(&error), forbidden_by_rbac());

    let token = format!(
        "entra POST 127.0.0.1/{}/oauth2/v2.0/token",
        emulator.tenant_id()
    );
    assert_eq!(
        log_lines(&emulator),
        first_call(
            emulator.https_addr().port(),
            &token,
            "auditor",
            "database-password",
            403
        )
    );
}

/// Starts the example state with its CA written to `dir`, so that
/// `environment()` has `SSL_CERT_FILE` as `dsops emulator` prints it.
async fn example_with_ca_file(dir: &std::path::Path) -> Emulator {
    Emulator::start(Options {
        state: StateFile::example().expect("example state"),
        ca_file: Some(dir.join("emulator-ca.pem")),
        ..Options::default()
    })
    .await
    .expect("emulator starts")
}

/// Runs [`managed_identity_child`] for `source` (`app_service` or `imds`)
/// against an emulator of this process, and returns the emulator's log.
async fn run_managed_identity_child(source: &str) -> (Emulator, Vec<String>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let emulator = example_with_ca_file(dir.path()).await;
    let worker = emulator.identity("worker").expect("worker");
    let outsider = emulator.identity("outsider").expect("outsider");
    let http = emulator.http_url().expect("plain listener");

    let mut child = tokio::process::Command::new(std::env::current_exe().expect("test binary"));
    child
        .args([
            "rust_sdk::managed_identity_child",
            "--exact",
            "--nocapture",
            "--include-ignored",
            "--test-threads=1",
        ])
        .kill_on_drop(true);
    for var in MANAGED_IDENTITY_VARS {
        child.env_remove(var);
    }
    for (name, value) in emulator.environment() {
        if source == "imds" && name.starts_with("IDENTITY_") {
            continue;
        }
        child.env(name, value);
    }
    child
        .env(CHILD_SOURCE, source)
        .env(CHILD_HTTPS, emulator.https_addr().to_string())
        .env(CHILD_HTTP, http.strip_prefix("http://").expect("http URL"))
        .env(CHILD_WORKER_CLIENT_ID, &worker.client_id)
        .env(
            CHILD_WORKER_RESOURCE_ID,
            worker.resource_id.as_deref().expect("worker's ARM id"),
        )
        .env(CHILD_OUTSIDER_CLIENT_ID, &outsider.client_id)
        .env(CHILD_OUTSIDER_OBJECT_ID, &outsider.object_id);

    let output = tokio::time::timeout(Duration::from_secs(120), child.output())
        .await
        .expect("the child finishes within 2 minutes")
        .expect("the child starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(CHILD_DONE),
        "child ({source}) failed: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- emulator log\n{}",
        output.status,
        log_lines(&emulator).join("\n")
    );
    let log = log_lines(&emulator);
    (emulator, log)
}

/// The log of the child's cases, with `token` the token request line
/// (service, method, host and path).
fn managed_identity_log(port: u16, token: &str) -> Vec<String> {
    let mut expected = first_call(port, token, "vm", "database-password", 200);
    expected.push(kv("vm", "no-such-secret", 404));
    expected.extend(first_call(port, token, "worker", "database-password", 200));
    expected.push(kv("worker", "api-key", 403));
    expected.extend(first_call(
        port,
        token,
        "outsider",
        "database-password",
        403,
    ));
    expected
}

#[tokio::test]
async fn managed_identity_credential_uses_app_service_endpoint_from_environment() {
    let (emulator, log) = run_managed_identity_child("app_service").await;
    let port = emulator.https_addr().port();
    assert_eq!(
        log,
        managed_identity_log(port, "app_service GET 127.0.0.1/msi/token")
    );
}

#[tokio::test]
async fn managed_identity_credential_speaks_imds_redirected_to_the_emulator() {
    let (emulator, log) = run_managed_identity_child("imds").await;
    let port = emulator.https_addr().port();
    assert_eq!(
        log,
        managed_identity_log(port, "imds GET 127.0.0.1/metadata/identity/oauth2/token")
    );
}

fn child_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("the parent sets {name}"))
}

fn loopback_addr(name: &str) -> SocketAddr {
    let addr: SocketAddr = child_var(name).parse().expect("an address");
    assert!(addr.ip().is_loopback(), "{name}={addr} is not loopback");
    addr
}

/// The managed identity cases, run only as a child of the tests above (with
/// the emulator's environment); the emulator runs in the parent.
#[tokio::test]
#[ignore = "a child process of managed_identity_credential_*: needs the emulator's environment"]
async fn managed_identity_child() {
    let Ok(source) = std::env::var(CHILD_SOURCE) else {
        eprintln!("{CHILD_SOURCE} is not set: nothing to do outside the parent test");
        return;
    };
    let https = loopback_addr(CHILD_HTTPS);
    let http = loopback_addr(CHILD_HTTP);
    // Guards: the credential must find the emulator, never a real endpoint.
    let endpoint = std::env::var("IDENTITY_ENDPOINT").ok();
    let imds = match source.as_str() {
        "app_service" => {
            assert_eq!(
                endpoint.as_deref(),
                Some(format!("http://{http}/msi/token").as_str())
            );
            assert!(std::env::var("IDENTITY_HEADER").is_ok_and(|h| !h.is_empty()));
            None
        }
        "imds" => {
            assert_eq!(endpoint, None);
            assert!(std::env::var("MSI_ENDPOINT").is_err());
            Some(http)
        }
        other => panic!("unknown source {other}"),
    };
    let ca = std::fs::read_to_string(child_var("SSL_CERT_FILE")).expect("the CA file");
    let ca = reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA parses");
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .resolve(VAULT_HOST, https)
        .build()
        .expect("client builds");
    let transport = LoopbackOnly::new(client, &[VAULT_HOST], imds);
    let secrets_as = |id: Option<UserAssignedId>| {
        let credential = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id: id,
            client_options: transport.options(),
        }))
        .expect("credential");
        secret_client(https.port(), credential, &transport)
    };
    let worker_client_id = child_var(CHILD_WORKER_CLIENT_ID);
    let worker_resource_id = child_var(CHILD_WORKER_RESOURCE_ID);
    let outsider_client_id = child_var(CHILD_OUTSIDER_CLIENT_ID);
    let outsider_object_id = child_var(CHILD_OUTSIDER_OBJECT_ID);

    // The host's system-assigned identity (`vm`): Secrets User on the vault.
    let vm = secrets_as(None);
    assert_eq!(value(&vm, "database-password").await, "dev-db-password");
    let missing = vm
        .get_secret("no-such-secret", None)
        .await
        .expect_err("missing");
    assert_eq!(http_failure(&missing), secret_not_found());

    // `worker`: Secrets User on database-password only. App Service takes no
    // resource id in this crate (it refuses one before sending anything), so
    // it is named by client id there and by ARM id on IMDS.
    let (worker_id, worker_query) = if imds.is_some() {
        (
            UserAssignedId::ResourceId(worker_resource_id.clone()),
            format!("msi_res_id={}", form(&worker_resource_id)),
        )
    } else {
        (
            UserAssignedId::ClientId(worker_client_id.clone()),
            format!("client_id={worker_client_id}"),
        )
    };
    let worker = secrets_as(Some(worker_id));
    assert_eq!(value(&worker, "database-password").await, "dev-db-password");
    let denied = worker
        .get_secret("api-key", None)
        .await
        .expect_err("worker may read database-password only");
    assert_eq!(http_failure(&denied), forbidden_by_rbac());

    // `outsider`: a user-assigned identity of the host with no role anywhere.
    let (outsider_id, outsider_query) = if imds.is_some() {
        (
            UserAssignedId::ClientId(outsider_client_id.clone()),
            format!("client_id={outsider_client_id}"),
        )
    } else {
        (
            UserAssignedId::ObjectId(outsider_object_id.clone()),
            format!("object_id={outsider_object_id}"),
        )
    };
    let outsider = secrets_as(Some(outsider_id));
    let denied = outsider
        .get_secret("database-password", None)
        .await
        .expect_err("outsider has no role");
    assert_eq!(http_failure(&denied), forbidden_by_rbac());

    if imds.is_none() {
        let refused = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id: Some(UserAssignedId::ResourceId(worker_resource_id)),
            client_options: transport.options(),
        }))
        .expect_err("azure_identity 1.0 refuses resource ids for App Service");
        assert!(
            refused
                .to_string()
                .contains("resource IDs aren't supported"),
            "{refused}"
        );
    }

    // The requests as the SDK made them (IMDS's before the rewrite).
    let token = match imds {
        Some(_) => format!("GET http://{IMDS_HOST}/metadata/identity/oauth2/token"),
        None => format!("GET http://{http}/msi/token"),
    };
    let token = |id: Option<&str>| {
        let resource = form(&key_vault(https.port()));
        match id {
            None => format!("{token}?api-version=2019-08-01&resource={resource}"),
            Some(id) => format!("{token}?api-version=2019-08-01&resource={resource}&{id}"),
        }
    };
    let kv = |name: &str| format!("GET {}{name}/?{API_VERSION}", secrets_url(https.port()));
    assert_eq!(
        transport.sent(),
        vec![
            kv("database-password"),
            token(None),
            kv("database-password"),
            kv("no-such-secret"),
            kv("database-password"),
            token(Some(&worker_query)),
            kv("database-password"),
            kv("api-key"),
            kv("database-password"),
            token(Some(&outsider_query)),
            kv("database-password"),
        ]
    );
    println!("{CHILD_DONE}");
}

/// `application/x-www-form-urlencoded` encoding of a query value.
fn form(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
