//! Each emulated service over real HTTP: success paths, the error bodies
//! Azure sends, and what the request log records.

mod arm;
mod entra;
mod faults;
mod keyvault;
mod managed_identity;

use dsops_emulator::Emulator;
use serde_json::Value;

/// GET on the plain HTTP listener.
pub(crate) async fn http_get(
    emulator: &Emulator,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let url = format!("{}{path}", emulator.http_url().expect("http listener"));
    let mut request = reqwest::Client::new().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A managed identity token from IMDS for `resource`, as `query` selects.
pub(crate) async fn imds_token(emulator: &Emulator, resource: &str, query: &str) -> String {
    let (status, body) = http_get(
        emulator,
        &format!(
            "/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}{query}"
        ),
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("token").to_owned()
}

/// Decodes a JWT's claims without verifying it.
pub(crate) fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// A Key Vault token for the example state's `ci` application (client secret).
pub(crate) async fn ci_vault_token(emulator: &Emulator) -> String {
    let ci = emulator.identity("ci").expect("ci");
    let body: Value = crate::harness::client(emulator, &[])
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            emulator.https_url(),
            emulator.tenant_id()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", ci.client_id.as_str()),
            ("client_secret", "dev-only-client-secret"),
            ("scope", "https://vault.azure.net/.default"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("JSON");
    body["access_token"].as_str().expect("a token").to_owned()
}
