//! The Key Vault data plane: challenge, RBAC, versions, certificates, keys.

use dsops_emulator::Emulator;
use serde_json::{Value, json};

use super::{ci_vault_token, imds_token};
use crate::harness;

const HOST: &str = "dev-vault.vault.azure.net";

async fn kv(
    emulator: &Emulator,
    token: Option<&str>,
    path: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let client = harness::client(emulator, &[HOST, "dev-vault.vault.localhost"]);
    let separator = if path.contains('?') { '&' } else { '?' };
    let url = if path.starts_with("https://") {
        format!("{path}{separator}api-version=2025-07-01")
    } else {
        harness::url(
            emulator,
            HOST,
            &format!("{path}{separator}api-version=2025-07-01"),
        )
    };
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

async fn vault_token(emulator: &Emulator, query: &str) -> String {
    imds_token(emulator, "https://vault.azure.net", query).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unauthenticated_request_gets_the_challenge() {
    let emulator = harness::example().await;
    let (status, body, headers) = kv(&emulator, None, "/secrets/database-password").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "Unauthorized");
    // Real Key Vault's challenge; the resource carries the port the client
    // used when it is not 443, as clients check it against the vault URL.
    assert_eq!(
        headers["www-authenticate"],
        format!(
            "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"https://vault.azure.net:{}\"",
            emulator.tenant_id(),
            emulator.https_addr().port()
        )
        .as_str()
    );
    // A custom suffix names its own resource, and the emulator as authority.
    let url = format!(
        "{}/secrets/database-password",
        emulator.vault_url("dev-vault")
    );
    let (status, _, headers) = kv(&emulator, None, &url).await;
    assert_eq!(status, 401);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    let resource = format!(
        "resource=\"https://vault.localhost:{}\"",
        emulator.https_addr().port()
    );
    assert!(challenge.contains(&resource), "{challenge}");
    assert!(
        challenge.contains(&format!("authorization=\"{}/", emulator.https_url())),
        "{challenge}"
    );

    let (status, body, _) = kv(&emulator, None, "/secrets/x?api-version=").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("BadParameter"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_for_another_audience_or_tenant_are_refused() {
    let emulator = harness::example().await;
    let arm = imds_token(&emulator, "https://management.azure.com/", "").await;
    let (status, body, _) = kv(&emulator, Some(&arm), "/secrets/database-password").await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("AKV10022"),
        "{body}"
    );

    let (status, _, _) = kv(&emulator, Some("a.b.c"), "/secrets/database-password").await;
    assert_eq!(status, 401);

    // A vault in another tenant.
    let two = harness::with_state(
        r#"
tenants: [{ id: 11111111-1111-1111-1111-111111111111 }, { id: 22222222-2222-2222-2222-222222222222 }]
identities: { vm: { type: system_assigned } }
vaults: { dev-vault: { tenant: 22222222-2222-2222-2222-222222222222 } }
role_assignments: [{ principal: vm, role: Key Vault Secrets User, scope: "vault:dev-vault" }]
"#,
    )
    .await;
    let token = vault_token(&two, "").await;
    let (status, body, headers) = kv(&two, Some(&token), "/secrets/anything").await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("AKV10032"),
        "{body}"
    );
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("22222222-2222-2222-2222-222222222222")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_with_versions_and_rbac() {
    let emulator = harness::example().await;
    let vm = vault_token(&emulator, "").await;

    let (status, body, _) = kv(&emulator, Some(&vm), "/secrets/database-password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"], "dev-db-password");
    assert_eq!(body["attributes"]["enabled"], true);
    let id = body["id"].as_str().unwrap();
    assert!(
        id.starts_with(&format!("https://{HOST}:")) && id.contains("/secrets/database-password/"),
        "{id}"
    );

    // The current version is the last; older ones by id; names are case-insensitive.
    let (_, current, _) = kv(&emulator, Some(&vm), "/secrets/API-KEY").await;
    assert_eq!(current["value"], "current-api-key");
    assert_eq!(current["contentType"], "text/plain");
    let (status, versions, _) = kv(&emulator, Some(&vm), "/secrets/api-key/versions").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = versions["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    let old_version = ids[0].rsplit('/').next().unwrap();
    let (status, old, _) = kv(
        &emulator,
        Some(&vm),
        &format!("/secrets/api-key/{old_version}"),
    )
    .await;
    assert_eq!((status, old["value"].as_str()), (200, Some("old-api-key")));
    let (status, body, _) = kv(
        &emulator,
        Some(&vm),
        "/secrets/api-key/0123456789abcdef0123456789abcdef",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SecretNotFound"))
    );

    let (status, body, _) = kv(&emulator, Some(&vm), "/secrets/missing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "SecretNotFound");

    let (status, body, _) = kv(&emulator, Some(&vm), "/secrets/retired-token").await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["innererror"]["code"], "SecretDisabled");
    assert!(!body.to_string().contains("no-longer-used"));

    // `worker` is granted one secret only.
    let worker_id = emulator.identity("worker").unwrap();
    let worker = vault_token(&emulator, &format!("&client_id={}", worker_id.client_id)).await;
    let (status, _, _) = kv(&emulator, Some(&worker), "/secrets/database-password").await;
    assert_eq!(status, 200);
    let (status, body, _) = kv(&emulator, Some(&worker), "/secrets/api-key").await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["innererror"]["code"], "ForbiddenByRbac");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("oid={}", worker_id.object_id)),
        "{message}"
    );
    assert!(
        message.contains("Microsoft.KeyVault/vaults/secrets/getSecret/action"),
        "{message}"
    );
    // Without access, a missing secret is 403 too: RBAC comes first.
    let (status, _, _) = kv(&emulator, Some(&worker), "/secrets/missing").await;
    assert_eq!(status, 403);

    let (status, list, _) = kv(&emulator, Some(&vm), "/secrets").await;
    assert_eq!(status, 200);
    assert!(
        list["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("value").is_none()),
        "lists carry no values"
    );

    let log = serde_json::to_string(&emulator.log().entries()).unwrap();
    for canary in ["dev-db-password", "current-api-key", "old-api-key", "eyJ"] {
        assert!(!log.contains(canary), "{canary} in the log");
    }
    let unknown = format!(
        "https://nope.vault.localhost:{}/secrets/x",
        emulator.https_addr().port()
    );
    let client = harness::client(&emulator, &["nope.vault.localhost"]);
    let response = client
        .get(format!("{unknown}?api-version=7.5"))
        .bearer_auth(&vm)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn setting_a_secret_needs_the_officer_role_and_adds_a_version() {
    let emulator = harness::example().await;
    let client = harness::client(&emulator, &[HOST]);
    let url = harness::url(&emulator, HOST, "/secrets/rotated?api-version=7.5");
    let vm = vault_token(&emulator, "").await;
    let denied = client
        .put(&url)
        .bearer_auth(&vm)
        .json(&json!({ "value": "v1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);

    let officer = &ci_vault_token(&emulator).await;
    for value in ["v1", "v2"] {
        let response = client
            .put(&url)
            .bearer_auth(officer)
            .json(&json!({ "value": value, "contentType": "text/plain", "tags": { "by": "test" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let (status, body, _) = kv(&emulator, Some(&vm), "/secrets/rotated").await;
    assert_eq!((status, body["value"].as_str()), (200, Some("v2")));
    assert_eq!(body["tags"]["by"], "test");
}

fn b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_have_a_backing_secret_and_key() {
    let emulator = harness::example().await;
    let token = &ci_vault_token(&emulator).await;

    let (status, cert, _) = kv(&emulator, Some(token), "/certificates/tls-cert").await;
    assert_eq!(status, 200, "{cert}");
    let der = b64(cert["cer"].as_str().unwrap());
    assert_eq!(der[0], 0x30, "DER");
    let version = cert["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        cert["sid"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/secrets/tls-cert/{version}"))
    );

    let (status, secret, _) = kv(
        &emulator,
        Some(token),
        &format!("/secrets/tls-cert/{version}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(secret["contentType"], "application/x-pem-file");
    assert_eq!(secret["managed"], true);
    let pem = secret["value"].as_str().unwrap();
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n")
            && pem.contains("-----BEGIN CERTIFICATE-----")
    );

    let (status, pfx, _) = kv(&emulator, Some(token), "/secrets/signing-cert").await;
    assert_eq!(status, 200);
    assert_eq!(pfx["contentType"], "application/x-pkcs12");
    let pfx_bytes = b64(pfx["value"].as_str().unwrap());
    assert_eq!(pfx_bytes[0], 0x30);
    check_pkcs12_with_openssl(&pfx_bytes);

    let (status, key, _) = kv(&emulator, Some(token), "/keys/tls-cert").await;
    assert_eq!(status, 200);
    assert_eq!(key["key"]["kty"], "RSA");
    assert_eq!(key["managed"], true);
    let (_, ec, _) = kv(&emulator, Some(token), "/keys/ec-key").await;
    assert_eq!(
        (ec["key"]["kty"].as_str(), ec["key"]["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert!(ec["key"].get("d").is_none(), "never the private part");
    let (status, body, _) = kv(&emulator, Some(token), "/keys/none").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("KeyNotFound"))
    );
    let (status, body, _) = kv(&emulator, Some(token), "/certificates/none").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("CertificateNotFound"))
    );

    // Secrets User alone cannot read certificates.
    let vm = vault_token(&emulator, "").await;
    let (status, _, _) = kv(&emulator, Some(&vm), "/certificates/tls-cert").await;
    assert_eq!(status, 403);
}

/// OpenSSL, the reference PKCS#12 reader, opens the PFX with the empty
/// password, verifies its MAC and finds the key and the certificate.
fn check_pkcs12_with_openssl(pfx: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cert.pfx");
    std::fs::write(&path, pfx).unwrap();
    let output = std::process::Command::new("openssl")
        .args(["pkcs12", "-in"])
        .arg(&path)
        .args(["-passin", "pass:", "-nodes"])
        .output()
        .expect("openssl is installed");
    let text = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openssl: {errors}");
    assert!(!errors.contains("MAC"), "MAC: {errors}");
    assert!(
        text.contains("BEGIN PRIVATE KEY") && text.contains("BEGIN CERTIFICATE"),
        "{text}"
    );
    assert!(text.contains("signer.contoso.com"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_of_keys_and_certificates_are_listed_without_material() {
    let emulator = harness::example().await;
    let token = &ci_vault_token(&emulator).await;
    let (status, keys, _) = kv(&emulator, Some(token), "/keys/ec-key/versions?maxresults=1").await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys["value"].as_array().unwrap().len(), 1);
    assert!(
        keys["value"][0]["kid"]
            .as_str()
            .unwrap()
            .contains("/keys/ec-key/")
    );
    assert!(
        keys["value"][0].get("key").is_none(),
        "no key material in a listing"
    );
    let (status, certs, _) = kv(&emulator, Some(token), "/certificates/tls-cert/versions").await;
    assert_eq!(status, 200, "{certs}");
    assert!(certs["value"][0].get("cer").is_none());
    let (status, body, _) = kv(&emulator, Some(token), "/keys/none/versions").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("KeyNotFound"))
    );
    let (status, versions, _) = kv(
        &emulator,
        Some(token),
        "/secrets/api-key/versions?maxresults=1",
    )
    .await;
    assert_eq!(
        (status, versions["value"].as_array().unwrap().len()),
        (200, 1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_rotates_a_secret_into_a_new_current_version() {
    let emulator = harness::example().await;
    let vm = vault_token(&emulator, "").await;
    let (_, before, _) = kv(&emulator, Some(&vm), "/secrets/database-password").await;
    let client = harness::client(&emulator, &[]);
    let admin = format!(
        "{}/_emulator/vaults/dev-vault/secrets",
        emulator.https_url()
    );
    let response = client
        .post(format!("{admin}/database-password"))
        .json(&json!({ "value": "rotated-by-admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let version = answer["version"].as_str().unwrap().to_owned();
    assert!(answer.get("value").is_none(), "{answer}");
    // A read without a version gets the new one; the old stays readable by id.
    let (_, after, _) = kv(&emulator, Some(&vm), "/secrets/database-password").await;
    assert_eq!(after["value"], "rotated-by-admin");
    assert!(after["id"].as_str().unwrap().ends_with(&version));
    let old = before["id"].as_str().unwrap();
    let (_, old, _) = kv(&emulator, Some(&vm), old).await;
    assert_eq!(old["value"], "dev-db-password");
    // In process, the same.
    emulator
        .set_secret("dev-vault", "database-password", "rotated-in-process")
        .unwrap();
    let (_, now, _) = kv(&emulator, Some(&vm), "/secrets/database-password").await;
    assert_eq!(now["value"], "rotated-in-process");
    // A body without a value is refused.
    let bad = client
        .post(format!("{admin}/database-password"))
        .json(&json!({ "valeu": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // So is a vault the state file does not have: nothing could read it.
    let typo = client
        .post(format!(
            "{}/_emulator/vaults/dev-valut/secrets/database-password",
            emulator.https_url()
        ))
        .json(&json!({ "value": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(typo.status(), 400);
    let text = typo.text().await.unwrap();
    assert!(text.contains("no vault `dev-valut`"), "{text}");
    assert!(
        emulator
            .set_secret("dev-valut", "database-password", "x")
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_may_live_a_few_seconds() {
    let state = format!("{}\ntoken_lifetime: 2\n", dsops_emulator::EXAMPLE_STATE);
    let emulator = harness::with_state(&state).await;
    let token = vault_token(&emulator, "").await;
    let (status, _, _) = kv(&emulator, Some(&token), "/secrets/anything").await;
    assert_ne!(status, 401, "fresh");
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (status, body, _) = kv(&emulator, Some(&token), "/secrets/anything").await;
    assert_eq!(status, 401, "{body}");
}

/// The data plane takes the versions its specification publishes
/// (`dsops_emulator::api_versions::Api::KeyVault`, `2015-06-01` to the
/// dated ones) and refuses any other as Key Vault does, `400 BadParameter`
/// naming the newest stable version, before the token is looked at.
#[tokio::test(flavor = "multi_thread")]
async fn api_versions_the_data_plane_does_not_publish_are_refused() {
    use dsops_emulator::api_versions::Api;

    let emulator = harness::example().await;
    let token = vault_token(&emulator, "").await;
    let latest = Api::KeyVault.latest_stable();
    assert_eq!(latest, "2026-04-01");
    // `7.9` has the shape of a version but was never published; nor was a
    // date between two published ones.
    for version in ["7.9", "2025-01-01", "2026-04-02", "v7.5"] {
        for token in [Some(token.as_str()), None] {
            let (status, body, _) = kv(
                &emulator,
                token,
                &format!("/secrets/database-password?api-version={version}"),
            )
            .await;
            assert_eq!(status, 400, "{version}: {body}");
            assert_eq!(
                body,
                json!({ "error": {
                    "code": "BadParameter",
                    "message": format!("The specified version ({version}) is not recognized. Consider using the latest supported version ({latest})."),
                }})
            );
        }
    }
    // Published ones, old and new, stable and preview, are taken.
    for version in ["7.0", "7.4", "7.6-preview.2", "2025-07-01", "2026-04-01"] {
        let (status, body, _) = kv(
            &emulator,
            Some(&token),
            &format!("/secrets/database-password?api-version={version}"),
        )
        .await;
        assert_eq!(status, 200, "{version}: {body}");
    }
}
