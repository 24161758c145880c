//! ARM: subscriptions, storage and Cosmos DB keys, access checks.

use dsops_emulator::Emulator;
use serde_json::Value;

use super::imds_token;
use crate::harness;

const ARM: &str = "management.azure.com";
const SUB: &str = "00000000-0000-0000-0000-00000000c0de";

async fn arm(emulator: &Emulator, method: &str, token: Option<&str>, path: &str) -> (u16, Value) {
    let client = harness::client(emulator, &[ARM]);
    let url = harness::url(emulator, ARM, path);
    let mut request = client.request(method.parse().unwrap(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_accounts_are_listed_and_their_keys_read() {
    let emulator = harness::example().await;
    let token = imds_token(&emulator, "https://management.azure.com/", "").await;

    let (status, subs) = arm(
        &emulator,
        "GET",
        Some(&token),
        "/subscriptions?api-version=2022-12-01",
    )
    .await;
    assert_eq!(status, 200, "{subs}");
    assert_eq!(subs["value"][0]["subscriptionId"], SUB);

    let (status, list) = arm(
        &emulator,
        "GET",
        Some(&token),
        &format!("/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let id = list["value"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        id,
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/devstorage"
        )
    );

    let (status, keys) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("{id}/listKeys?api-version=2023-05-01&$expand=kerb"),
    )
    .await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys["keys"][0]["keyName"], "key1");
    assert_eq!(keys["keys"][1]["keyName"], "key2");
    assert_eq!(
        keys["keys"][0]["value"].as_str().unwrap().len(),
        88,
        "64 bytes in base64"
    );

    let (status, body) = arm(&emulator, "POST", Some(&token), &format!("{id}/listKeys")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("MissingApiVersionParameter"))
    );
    let (status, body) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/nope/listKeys?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (status, body) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("/subscriptions/{SUB}/resourceGroups/rg-nope/providers/Microsoft.Storage/storageAccounts/x/listKeys?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cosmos_keys_and_connection_strings() {
    let emulator = harness::example().await;
    let token = imds_token(&emulator, "https://management.azure.com", "").await;
    let account = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.DocumentDB/databaseAccounts/devcosmos"
    );
    let (status, keys) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("{account}/listKeys?api-version=2024-05-15"),
    )
    .await;
    assert_eq!(status, 200, "{keys}");
    for k in [
        "primaryMasterKey",
        "secondaryMasterKey",
        "primaryReadonlyMasterKey",
        "secondaryReadonlyMasterKey",
    ] {
        assert!(keys[k].is_string(), "{k}");
    }
    let (status, ro) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("{account}/listReadOnlyKeys?api-version=2024-05-15"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        ro["primaryReadonlyMasterKey"],
        keys["primaryReadonlyMasterKey"]
    );
    assert!(ro.get("primaryMasterKey").is_none());
    let (status, strings) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("{account}/listConnectionStrings?api-version=2024-05-15"),
    )
    .await;
    assert_eq!(status, 200);
    let first = strings["connectionStrings"][0]["connectionString"]
        .as_str()
        .unwrap();
    assert_eq!(
        first,
        format!(
            "AccountEndpoint=https://devcosmos.documents.azure.com:443/;AccountKey={};",
            keys["primaryMasterKey"].as_str().unwrap()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn access_is_checked_per_subscription_and_action() {
    let emulator = harness::example().await;
    let list = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"
    );

    let (status, body) = arm(&emulator, "GET", None, &list).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("AuthenticationFailed"))
    );

    let vault_token = imds_token(&emulator, "https://vault.azure.net", "").await;
    let (status, body) = arm(&emulator, "GET", Some(&vault_token), &list).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationTokenAudience"))
    );

    // `outsider` has no role anywhere: the subscription is invisible to it.
    let outsider = emulator.identity("outsider").unwrap();
    let token = imds_token(
        &emulator,
        "https://management.azure.com/",
        &format!("&client_id={}", outsider.client_id),
    )
    .await;
    let (status, body) = arm(&emulator, "GET", Some(&token), &list).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SubscriptionNotFound"))
    );
    let (status, subs) = arm(
        &emulator,
        "GET",
        Some(&token),
        "/subscriptions?api-version=2022-12-01",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(subs["value"].as_array().unwrap().len(), 0);

    // `vm` lists Cosmos DB accounts through its subscription-wide
    // Reader and Data Access role.
    let vm = imds_token(&emulator, "https://management.azure.com/", "").await;
    let (status, _) = arm(
        &emulator,
        "GET",
        Some(&vm),
        &format!("/subscriptions/{SUB}/providers/Microsoft.DocumentDB/databaseAccounts?api-version=2024-05-15"),
    )
    .await;
    assert_eq!(status, 200, "Reader and Data Access includes read");

    // A state where the identity may read but not list keys.
    let reader = harness::with_state(
        r#"
subscriptions:
  - name: Prod
    resource_groups: { rg: { storage_accounts: { prodstore: {} } } }
identities: { vm: { type: system_assigned } }
role_assignments: [{ principal: vm, role: Reader, scope: "subscription:Prod" }]
"#,
    )
    .await;
    let token = imds_token(&reader, "https://management.azure.com/", "").await;
    let (status, subs) = arm(
        &reader,
        "GET",
        Some(&token),
        "/subscriptions?api-version=2022-12-01",
    )
    .await;
    assert_eq!(status, 200);
    let sub_id = subs["value"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = arm(
        &reader,
        "POST",
        Some(&token),
        &format!("/subscriptions/{sub_id}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/prodstore/listKeys?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "AuthorizationFailed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Storage/storageAccounts/listkeys/action")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_subscription_shows_only_to_identities_with_a_role_in_it() {
    let emulator = harness::with_state(
        r#"
subscriptions:
  - name: Dev
    resource_groups: { rg-dev: { storage_accounts: { devstore: {} } } }
  - name: Prod
    resource_groups:
      rg-a: { storage_accounts: { proda: {} } }
      rg-b: { storage_accounts: { prodb: {} }, cosmosdb_accounts: { prodcosmos: {} } }
identities:
  vm: { type: system_assigned }
role_assignments:
  - { principal: vm, role: Reader and Data Access, scope: "subscription:Prod" }
"#,
    )
    .await;
    let token = imds_token(&emulator, "https://management.azure.com/", "").await;
    let (_, subs) = arm(
        &emulator,
        "GET",
        Some(&token),
        "/subscriptions?api-version=2022-12-01",
    )
    .await;
    let names: Vec<&str> = subs["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Prod"]);
    let prod = subs["value"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, list) = arm(
        &emulator,
        "GET",
        Some(&token),
        &format!("/subscriptions/{prod}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(status, 200);
    let accounts: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        accounts,
        vec!["proda", "prodb"],
        "accounts of every resource group"
    );
    let (status, _) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("/subscriptions/{prod}/resourceGroups/rg-b/providers/Microsoft.Storage/storageAccounts/prodb/listKeys?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(status, 200);
    // Listing keys is not listing Cosmos keys.
    let (status, body) = arm(
        &emulator,
        "POST",
        Some(&token),
        &format!("/subscriptions/{prod}/resourceGroups/rg-b/providers/Microsoft.DocumentDB/databaseAccounts/prodcosmos/listKeys?api-version=2024-05-15"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );

    let dev = emulator
        .subscriptions()
        .into_iter()
        .find(|(name, _)| name == "Dev")
        .unwrap()
        .1;
    let dev = format!("/subscriptions/{dev}");
    let (status, body) = arm(
        &emulator,
        "GET",
        Some(&token),
        &format!("{dev}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("SubscriptionNotFound"))
    );
}

/// Each resource type takes the `api-version`s its specification publishes
/// (`dsops_emulator::api_versions`) and no other, as ARM answers: a
/// provider's type `NoRegisteredProviderFound` naming the location, the
/// type and the supported versions; `Microsoft.Resources` (subscriptions)
/// `InvalidApiVersionParameter`. The version is judged before the token, as
/// a missing one is.
#[tokio::test(flavor = "multi_thread")]
async fn api_versions_the_type_does_not_publish_are_refused() {
    use dsops_emulator::api_versions::Api;

    let emulator = harness::example().await;
    let token = imds_token(&emulator, "https://management.azure.com/", "").await;
    let group = format!("/subscriptions/{SUB}/resourceGroups/rg-app/providers");
    let storage_keys = format!("{group}/Microsoft.Storage/storageAccounts/devstorage/listKeys");
    let storage_versions = Api::Storage.versions().join(", ");

    // Cosmos DB's version is not one of storage's, with a token or without.
    for token in [Some(token.as_str()), None] {
        let (status, body) = arm(
            &emulator,
            "POST",
            token,
            &format!("{storage_keys}?api-version=2024-05-15"),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "NoRegisteredProviderFound");
        assert_eq!(
            body["error"]["message"],
            format!(
                "No registered resource provider found for location 'westeurope' and API version '2024-05-15' for type 'storageAccounts'. The supported api-versions are '{storage_versions}'. The supported locations are 'westeurope'."
            )
        );
    }
    assert!(storage_versions.starts_with("2026-09-01, 2026-06-01, "));

    // Without a resource group the location is `global`.
    let (status, body) = arm(
        &emulator,
        "GET",
        Some(&token),
        &format!("/subscriptions/{SUB}/providers/Microsoft.DocumentDB/databaseAccounts?api-version=2023-05-01"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("No registered resource provider found for location 'global' and API version '2023-05-01' for type 'databaseAccounts'. The supported api-versions are '2026-07-15, "),
        "{message}"
    );

    // Locks and vaults have their own lists; the last provider of the path
    // is the one that answers.
    for (path, kind) in [
        (
            format!(
                "{group}/Microsoft.Storage/storageAccounts/devstorage/providers/Microsoft.Authorization/locks?api-version=2023-05-01"
            ),
            "locks",
        ),
        (
            format!("{group}/Microsoft.KeyVault/vaults/dev-vault?api-version=2023-05-01"),
            "vaults",
        ),
    ] {
        let (status, body) = arm(&emulator, "GET", Some(&token), &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "NoRegisteredProviderFound");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("for type '{kind}'")),
            "{body}"
        );
    }

    // Subscriptions: a version of Microsoft.Resources' resources API is not
    // one of its subscriptions API.
    for path in ["/subscriptions", &format!("/subscriptions/{SUB}")] {
        let (status, body) = arm(
            &emulator,
            "GET",
            Some(&token),
            &format!("{path}?api-version=2024-11-01"),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "InvalidApiVersionParameter");
        assert_eq!(
            body["error"]["message"],
            "The api-version '2024-11-01' is invalid. The supported versions are '2022-12-01,2021-01-01,2020-01-01,2019-11-01,2019-06-01,2018-06-01,2016-06-01,2015-11-01'."
        );
    }

    // Other published versions than dsops's are taken (the Azure CLI's,
    // older ones), in any letter case.
    for path in [
        format!("{storage_keys}?api-version=2025-08-01"),
        format!(
            "{group}/Microsoft.DocumentDB/databaseAccounts/devcosmos/listKeys?api-version=2026-03-15"
        ),
        format!(
            "{group}/Microsoft.DocumentDB/databaseAccounts/devcosmos/listKeys?api-version=2021-04-01-PREVIEW"
        ),
    ] {
        let (status, body) = arm(&emulator, "POST", Some(&token), &path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    for path in [
        "/subscriptions?api-version=2016-06-01".to_owned(),
        format!("{group}/Microsoft.Storage/storageAccounts?api-version=2015-06-15"),
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/locks?api-version=2020-05-01"
        ),
    ] {
        let (status, body) = arm(&emulator, "GET", Some(&token), &path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}
