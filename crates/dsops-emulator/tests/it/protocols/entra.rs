//! Entra ID client credentials (secret and federated assertion) and the
//! GitHub Actions OIDC issuer.

use dsops_emulator::Emulator;
use serde_json::{Value, json};

use super::claims;
use crate::harness;

const CI_SECRET: &str = "dev-only-client-secret";
const EXCHANGE: &str = "api://AzureADTokenExchange";

async fn token_request(emulator: &Emulator, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let client = harness::client(emulator, &[]);
    let response = client
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/token",
            emulator.https_url()
        ))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn aadsts(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_gives_a_token_for_the_scope_resource() {
    let emulator = harness::example().await;
    let ci = emulator.identity("ci").unwrap();
    let tenant = emulator.tenant_id().to_owned();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", ci.client_id.as_str()),
        ("client_secret", CI_SECRET),
        ("scope", "https://vault.azure.net/.default"),
    ];
    let (status, body) = token_request(&emulator, &tenant, &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["expires_in"].is_u64(), "v2 sends numbers: {body}");
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(token["aud"], "https://vault.azure.net");
    assert_eq!(token["appid"], ci.client_id.as_str());
    assert_eq!(token["oid"], ci.object_id.as_str());

    // The tenant's domain name works as well as its id.
    let (status, _) = token_request(&emulator, "contoso.onmicrosoft.com", &form).await;
    assert_eq!(status, 200);

    let mut wrong = form;
    wrong[2] = ("client_secret", "not-it");
    let (status, body) = token_request(&emulator, &tenant, &wrong).await;
    assert_eq!((status, aadsts(&body)), (401, 7000215), "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert!(
        !body.to_string().contains("not-it"),
        "the secret is not echoed"
    );

    let mut no_default = form;
    no_default[3] = ("scope", "https://vault.azure.net");
    let (status, body) = token_request(&emulator, &tenant, &no_default).await;
    assert_eq!((status, aadsts(&body)), (400, 1002012), "{body}");

    let (status, body) =
        token_request(&emulator, "00000000-0000-0000-0000-000000000000", &form).await;
    assert_eq!((status, aadsts(&body)), (400, 90002), "{body}");

    let mut stranger = form;
    stranger[1] = ("client_id", "00000000-0000-0000-0000-000000000001");
    let (status, body) = token_request(&emulator, &tenant, &stranger).await;
    assert_eq!((status, aadsts(&body)), (400, 700016), "{body}");

    // Managed identities have no secrets.
    let vm = emulator.identity("vm").unwrap();
    let mut managed = form;
    managed[1] = ("client_id", vm.client_id.as_str());
    let (status, body) = token_request(&emulator, &tenant, &managed).await;
    assert_eq!((status, aadsts(&body)), (401, 7000215), "{body}");

    let log = serde_json::to_string(&emulator.log().entries()).unwrap();
    assert!(!log.contains(CI_SECRET) && !log.contains("eyJ"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_documents_point_back_at_the_emulator() {
    let emulator = harness::example().await;
    let client = harness::client(&emulator, &[]);
    let tenant = emulator.tenant_id();
    let config: Value = client
        .get(format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            emulator.https_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        config["token_endpoint"],
        format!("{}/{tenant}/oauth2/v2.0/token", emulator.https_url())
    );
    let jwks: Value = client
        .get(config["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
}

async fn github_token(emulator: &Emulator, audience: &str, bearer: Option<&str>) -> (u16, Value) {
    let client = harness::client(emulator, &[]);
    let mut request = client.get(format!(
        "{}/github/idtoken?api-version=2.0&audience={audience}",
        emulator.https_url()
    ));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn assertion_form<'a>(client_id: &'a str, assertion: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", "https://vault.azure.net/.default"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_github_token_is_exchanged_for_an_access_token() {
    let emulator = harness::example().await;
    let (status, _) = github_token(&emulator, EXCHANGE, None).await;
    assert_eq!(status, 401);
    let (status, _) = github_token(&emulator, EXCHANGE, Some("wrong")).await;
    assert_eq!(status, 401);
    let request_token = emulator.github_request_token().to_owned();
    let (status, body) = github_token(&emulator, EXCHANGE, Some(&request_token)).await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["value"].as_str().unwrap().to_owned();
    let github = claims(&jwt);
    assert_eq!(github["aud"], EXCHANGE);
    assert_eq!(github["iss"], emulator.github_issuer());
    assert_eq!(github["sub"], "repo:octo-org/octo-repo:ref:refs/heads/main");
    assert_eq!(
        github["exp"].as_i64().unwrap() - github["iat"].as_i64().unwrap(),
        300
    );

    let ci = emulator.identity("ci").unwrap();
    let (status, body) = token_request(
        &emulator,
        emulator.tenant_id(),
        &assertion_form(&ci.client_id, &jwt),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["oid"],
        ci.object_id.as_str()
    );

    // The issuer's discovery and keys are served where `iss` says.
    let client = harness::client(&emulator, &[]);
    let discovery: Value = client
        .get(format!(
            "{}/.well-known/openid-configuration",
            emulator.github_issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], emulator.github_issuer());
    let jwks: Value = client
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
}

#[tokio::test(flavor = "multi_thread")]
async fn assertions_that_match_no_federated_credential_are_refused() {
    let emulator = harness::example().await;
    let ci = emulator.identity("ci").unwrap();
    let tenant = emulator.tenant_id().to_owned();
    let mint = |audience: &str, claims: Value| {
        emulator
            .mint_oidc_token("github", audience, claims.as_object().unwrap())
            .expect("github issuer")
    };

    let other_branch = mint(
        EXCHANGE,
        json!({ "sub": "repo:octo-org/octo-repo:ref:refs/heads/evil" }),
    );
    let (status, body) = token_request(
        &emulator,
        &tenant,
        &assertion_form(&ci.client_id, &other_branch),
    )
    .await;
    assert_eq!((status, aadsts(&body)), (400, 70021), "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("refs/heads/evil")
    );

    let wrong_audience = mint("api://something-else", json!({}));
    let (status, body) = token_request(
        &emulator,
        &tenant,
        &assertion_form(&ci.client_id, &wrong_audience),
    )
    .await;
    assert_eq!((status, aadsts(&body)), (400, 700212), "{body}");

    let expired = mint(
        EXCHANGE,
        json!({ "exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000 }),
    );
    let (status, body) =
        token_request(&emulator, &tenant, &assertion_form(&ci.client_id, &expired)).await;
    assert_eq!((status, aadsts(&body)), (400, 700024), "{body}");

    let good = mint(EXCHANGE, json!({}));
    let mut tampered: Vec<&str> = good.split('.').collect();
    let forged_claims = {
        use base64::Engine as _;
        let mut c = claims(&good);
        c["repository"] = json!("evil/repo");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string())
    };
    tampered[1] = &forged_claims;
    let tampered = tampered.join(".");
    let (status, body) = token_request(
        &emulator,
        &tenant,
        &assertion_form(&ci.client_id, &tampered),
    )
    .await;
    assert_eq!((status, aadsts(&body)), (400, 5002738), "{body}");

    let (status, body) = token_request(
        &emulator,
        &tenant,
        &assertion_form(&ci.client_id, "not-a-jwt"),
    )
    .await;
    assert_eq!((status, aadsts(&body)), (400, 50027), "{body}");

    // A workload-identity issuer of the state (an AKS cluster, say).
    let aks = harness::with_state(
        r#"
issuers:
  aks: {}
identities:
  api:
    type: user_assigned
    federated_credentials:
      - { issuer: aks, subject: "system:serviceaccount:default:api" }
"#,
    )
    .await;
    let api = aks.identity("api").unwrap();
    let token = aks
        .mint_oidc_token(
            "aks",
            EXCHANGE,
            json!({ "sub": "system:serviceaccount:default:api" })
                .as_object()
                .unwrap(),
        )
        .unwrap();
    let (status, body) = token_request(
        &aks,
        aks.tenant_id(),
        &assertion_form(&api.client_id, &token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
