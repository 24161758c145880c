//! The official Azure SDK for Python's `AzurePipelinesCredential`
//! (azure-identity, pinned in `tests/python/requirements.txt`) against the
//! emulator's Azure Pipelines OIDC endpoint: the SDK requests the job's
//! token for a service connection from `SYSTEM_OIDCREQUESTURI` with the
//! `System.AccessToken`, Entra ID accepts it through the app's federated
//! credential (`sc://ORG/PROJECT/CONNECTION`), and `SecretClient` reads a
//! secret. The SDK is in `target/python-sdk` (`scripts/install-python-sdk`).

use std::path::Path;
use std::time::Duration;

use crate::harness;

const CONNECTION_ID: &str = "5b1d1e8c-4f2a-4b7e-9c3d-2a1f0e9d8c7b";
const ACCESS_TOKEN: &str = "system-access-token-for-the-sdk";
const VALUE: &str = "pipelines-sdk-value";

const STATE: &str = r#"
tenants:
  - id: 72f988bf-86f1-41af-91ab-2d7cd011db47
identities:
  deploy:
    type: service_principal
    federated_credentials:
      - issuer: azure_pipelines
        subject: sc://contoso/web/production
role_assignments:
  - { principal: deploy, role: Key Vault Secrets User, scope: "vault:ci-vault" }
vaults:
  ci-vault:
    secrets:
      deploy-key: pipelines-sdk-value
ci:
  azure_pipelines:
    organization: contoso
    project: web
    service_connections: { production: 5b1d1e8c-4f2a-4b7e-9c3d-2a1f0e9d8c7b }
    access_token: system-access-token-for-the-sdk
"#;

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_azure_pipelines_credential_reads_a_secret() {
    let python = harness::venv_python();
    let emulator = harness::with_state(STATE).await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), emulator.ca_pem()).unwrap();
    let request_uri = emulator
        .azure_pipelines_environment()
        .into_iter()
        .find(|(k, _)| k == "SYSTEM_OIDCREQUESTURI")
        .map(|(_, v)| v)
        .unwrap();
    let output = tokio::process::Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/azure_pipelines_sdk.py"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SYSTEM_OIDCREQUESTURI", request_uri)
        .env("REQUESTS_CA_BUNDLE", ca.path())
        .env(
            "EMULATOR_HTTPS_PORT",
            emulator.https_addr().port().to_string(),
        )
        .env("EMULATOR_TENANT_ID", emulator.tenant_id())
        .env(
            "EMULATOR_CLIENT_ID",
            emulator.identity("deploy").unwrap().client_id,
        )
        .env("EMULATOR_SERVICE_CONNECTION_ID", CONNECTION_ID)
        .env("EMULATOR_ACCESS_TOKEN", ACCESS_TOKEN)
        .env("EMULATOR_VAULT", "ci-vault")
        .env("EMULATOR_SECRET", "deploy-key")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the script finishes within 120 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, VALUE.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        stdout.trim(),
        format!(r#"{{"name": "deploy-key", "value_sha256": "{hex}"}}"#)
    );
    assert!(!stdout.contains(VALUE) && !stderr.contains(VALUE));
    // The SDK's request, as the emulator logged it: the service connection's
    // subject, then the exchange and the read.
    let services: Vec<&str> = emulator
        .log()
        .entries()
        .into_iter()
        .map(|e| e.service)
        .filter(|s| *s != "keyvault")
        .collect();
    assert_eq!(services.first(), Some(&"azure_pipelines"), "{services:?}");
    assert!(services.contains(&"entra"), "{services:?}");
}

/// The Oidctoken endpoint's answers, as Azure DevOps gives them: a token
/// with the service connection's subject and the organization's issuer for
/// the right bearer; 401 without it; 400 without `api-version` or
/// `serviceConnectionId`; 404 for a service connection the job may not use;
/// 405 for a GET.
#[tokio::test(flavor = "multi_thread")]
async fn the_oidc_token_endpoint_answers_as_azure_devops() {
    let emulator = harness::with_state(STATE).await;
    let client = harness::client(&emulator, &[]);
    let uri = emulator
        .azure_pipelines_environment()
        .into_iter()
        .find(|(k, _)| k == "SYSTEM_OIDCREQUESTURI")
        .map(|(_, v)| v)
        .unwrap();
    let post = |query: &str, bearer: Option<&str>| {
        let mut request = client
            .post(format!("{uri}{query}"))
            .header("content-type", "application/json");
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    let ok = format!("?api-version=7.1&serviceConnectionId={CONNECTION_ID}");
    let response = post(&ok, Some(ACCESS_TOKEN)).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let token = body["oidcToken"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "sc://contoso/web/production");
    assert_eq!(claims["aud"], "api://AzureADTokenExchange");
    let issuer = claims["iss"].as_str().unwrap();
    assert!(
        issuer.starts_with("https://vstoken.dev.azure.com/") && issuer.len() == 30 + 36,
        "{issuer}"
    );

    assert_eq!(post(&ok, None).await.unwrap().status(), 401);
    assert_eq!(post(&ok, Some("wrong")).await.unwrap().status(), 401);
    let no_version = post(
        &format!("?serviceConnectionId={CONNECTION_ID}"),
        Some(ACCESS_TOKEN),
    )
    .await
    .unwrap();
    assert_eq!(no_version.status(), 400);
    assert_eq!(
        post("?api-version=7.1", Some(ACCESS_TOKEN))
            .await
            .unwrap()
            .status(),
        400
    );
    let unknown = post(
        "?api-version=7.1&serviceConnectionId=00000000-0000-0000-0000-000000000000",
        Some(ACCESS_TOKEN),
    )
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["typeKey"], "ServiceEndpointNotFoundException");
    let get = client
        .get(format!("{uri}{ok}"))
        .bearer_auth(ACCESS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
}
