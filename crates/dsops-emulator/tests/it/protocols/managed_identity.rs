//! IMDS, App Service, Azure Arc and Cloud Shell.

use super::{claims, http_get};
use crate::harness;

const VAULT: &str = "https://vault.azure.net";

#[tokio::test(flavor = "multi_thread")]
async fn imds_requires_the_metadata_header_and_parameters() {
    let emulator = harness::example().await;
    let path =
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net";
    let (status, body) = http_get(&emulator, path, &[]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "Required metadata header not specified"
    );

    let (status, body) = http_get(
        &emulator,
        "/metadata/identity/oauth2/token?resource=x",
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("api-version was not specified"),
        "{body}"
    );

    let (status, body) = http_get(
        &emulator,
        "/metadata/identity/oauth2/token?api-version=2018-02-01",
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "Required audience parameter not specified"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn imds_issues_tokens_for_the_system_and_user_assigned_identities() {
    let emulator = harness::example().await;
    let vm = emulator.identity("vm").unwrap();
    let worker = emulator.identity("worker").unwrap();
    let base =
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net";

    let (status, body) = http_get(&emulator, base, &[("Metadata", "true")]).await;
    assert_eq!(status, 200, "{body}");
    // Every field is a string, as IMDS sends them (the Rust SDK rejects numbers).
    for field in [
        "access_token",
        "client_id",
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
    ] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    assert_eq!(body["client_id"], vm.client_id.as_str());
    assert_eq!(body["resource"], VAULT);
    let expires_on: i64 = body["expires_on"].as_str().unwrap().parse().unwrap();
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(token["oid"], vm.object_id.as_str());
    assert_eq!(token["aud"], VAULT);
    assert_eq!(token["tid"], emulator.tenant_id());
    assert_eq!(token["exp"], expires_on);

    for selector in [
        format!("&client_id={}", worker.client_id),
        format!("&object_id={}", worker.object_id),
        format!("&msi_res_id={}", worker.resource_id.clone().unwrap()),
    ] {
        let (status, body) = http_get(
            &emulator,
            &format!("{base}{selector}"),
            &[("Metadata", "true")],
        )
        .await;
        assert_eq!(status, 200, "{selector}: {body}");
        assert_eq!(
            claims(body["access_token"].as_str().unwrap())["oid"],
            worker.object_id.as_str()
        );
    }

    let (status, body) = http_get(
        &emulator,
        &format!("{base}&client_id=00000000-0000-0000-0000-000000000000"),
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error_description"], "Identity not found");

    let (status, _) = http_get(
        &emulator,
        &format!(
            "{base}&client_id={}&object_id={}",
            worker.client_id, worker.object_id
        ),
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 400);

    let logged: Vec<_> = emulator
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.status == 200)
        .collect();
    assert_eq!(logged.len(), 4);
    assert_eq!(logged[0].identity.as_deref(), Some("vm"));
    assert_eq!(logged[0].token_for.as_deref(), Some(VAULT));
    assert_eq!(logged[1].identity.as_deref(), Some("worker"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_identity_the_host_does_not_have_is_not_found() {
    let emulator =
        harness::with_state("identities:\n  detached: { type: user_assigned, assigned: false }\n")
            .await;
    let detached = emulator.identity("detached").unwrap();
    let path = format!(
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id={}",
        detached.client_id
    );
    let (status, body) = http_get(&emulator, &path, &[("Metadata", "true")]).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Identity not found"))
    );
    // No system-assigned identity either.
    let (status, _) = http_get(
        &emulator,
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn app_service_checks_the_identity_header() {
    let emulator = harness::example().await;
    let header = emulator.identity_header().to_owned();
    let path = "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net";
    let (status, body) = http_get(&emulator, path, &[]).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = http_get(&emulator, path, &[("X-IDENTITY-HEADER", "wrong")]).await;
    assert_eq!(status, 401);
    let (status, body) = http_get(&emulator, path, &[("X-IDENTITY-HEADER", &header)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(body["token_type"], "Bearer");

    let worker = emulator.identity("worker").unwrap();
    let (status, body) = http_get(
        &emulator,
        &format!("{path}&principal_id={}", worker.object_id),
        &[("X-IDENTITY-HEADER", &header)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], worker.client_id.as_str());

    let (status, _) = http_get(
        &emulator,
        "/msi/token?api-version=2017-09-01&resource=x",
        &[("X-IDENTITY-HEADER", &header)],
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn arc_challenges_with_a_key_file_and_accepts_its_content() {
    let emulator = harness::example().await;
    let path = "/arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net";
    let url = format!("{}{path}", emulator.http_url().unwrap());
    let client = reqwest::Client::new();
    let challenge = client
        .get(&url)
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), 401);
    let realm = challenge.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let key_file = realm
        .strip_prefix("Basic realm=")
        .expect("Basic realm=<path>");
    assert!(key_file.ends_with(".key"), "{key_file}");
    let key = std::fs::read_to_string(key_file).unwrap();

    let response = client
        .get(&url)
        .header("Metadata", "true")
        .header("Authorization", format!("Basic {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["client_id"],
        emulator.identity("vm").unwrap().client_id.as_str()
    );

    let wrong = client
        .get(&url)
        .header("Metadata", "true")
        .header("Authorization", "Basic not-the-key")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let (status, body) = http_get(
        &emulator,
        &format!("{path}&client_id=x"),
        &[("Metadata", "true")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("not supported"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cloud_shell_takes_a_posted_form() {
    let emulator = harness::example().await;
    let url = format!("{}/cloudshell/oauth2/token", emulator.http_url().unwrap());
    let client = reqwest::Client::new();
    let response = client
        .post(&url)
        .header("Metadata", "true")
        .form(&[("resource", "https://management.azure.com/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["aud"],
        "https://management.azure.com/"
    );

    let no_header = client
        .post(&url)
        .form(&[("resource", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_header.status(), 400);
    let user_assigned = client
        .post(&url)
        .header("Metadata", "true")
        .form(&[("resource", "x"), ("client_id", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(user_assigned.status(), 400);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn arc_key_files_do_not_pile_up() {
    let emulator = harness::example().await;
    let url = format!(
        "{}/arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=x",
        emulator.http_url().unwrap()
    );
    let client = reqwest::Client::new();
    let mut directory = None;
    for _ in 0..100 {
        let challenge = client
            .get(&url)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(challenge.status(), 401, "{:?}", challenge.text().await);
        let realm = challenge.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        let file = std::path::PathBuf::from(realm.strip_prefix("Basic realm=").unwrap());
        directory = file.parent().map(std::path::Path::to_path_buf);
    }
    let files = std::fs::read_dir(directory.unwrap()).unwrap().count();
    assert!(files <= 64, "{files} key files kept");
}
