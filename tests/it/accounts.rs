//! Storage and Cosmos DB accounts through the engine and the emulator's
//! Resource Manager: keys, connection strings, resource-group discovery,
//! several subscriptions, and the errors of missing access.

use dsops::Resolution;
use dsops_emulator::StateFile;
use dsops_emulator::testing::{CosmosAccount, StateBuilder, StorageAccount};

use crate::support::in_process::InProcess;
use secrecy::ExposeSecret;

const ONE: &str = "11111111-0000-0000-0000-0000000000a1";
const TWO: &str = "22222222-0000-0000-0000-0000000000b2";
const KEY1: &str = "a2V5MS1vZi1kYXRhc3RvcmUtY2FuYXJ5LTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm";
const KEY2: &str = "a2V5Mi1vZi1kYXRhc3RvcmUtY2FuYXJ5LTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm";

/// `datastore` and `docs` in subscription `one`, `farstore` in `two`; `vm`
/// may list keys of all three, `reader` may only read subscription `one`.
fn state() -> StateFile {
    StateBuilder::new()
        .subscription("one", |s| {
            s.id(ONE)
                .resource_group("rg-a", |rg| {
                    rg.storage_account("datastore", StorageAccount::new().key1(KEY1).key2(KEY2))
                })
                .resource_group("rg-b", |rg| {
                    rg.cosmosdb_account(
                        "docs",
                        CosmosAccount::new()
                            .primary("pk")
                            .secondary("sk")
                            .primary_readonly("prk")
                            .secondary_readonly("srk"),
                    )
                })
        })
        .subscription("two", |s| {
            s.id(TWO).resource_group("rg-far", |rg| {
                rg.storage_account("farstore", StorageAccount::new())
            })
        })
        .system_identity("vm")
        .user_identity("reader", "33333333-3333-3333-3333-333333333333")
        .grant("vm", "Reader and Data Access", "subscription:one")
        .grant("vm", "Reader and Data Access", "subscription:two")
        .grant("vm", "DocumentDB Account Contributor", "cosmosdb:docs")
        .grant("reader", "Reader", "subscription:one")
        .build()
}

type Setup = InProcess;

async fn setup() -> Setup {
    InProcess::start(state()).await
}

trait Accounts {
    async fn resolve(&self, store_extra: &str, vars: &str) -> Resolution;
    fn arm_paths(&self) -> Vec<String>;
}

impl Accounts for Setup {
    async fn resolve(&self, store_extra: &str, vars: &str) -> Resolution {
        self.engine(store_extra, vars).resolve("dev").await.unwrap()
    }

    fn arm_paths(&self) -> Vec<String> {
        self.emulator
            .log()
            .entries()
            .iter()
            .filter(|e| e.service == "arm")
            .map(|e| format!("{} {}", e.method, e.path))
            .collect()
    }
}

fn value<'a>(resolution: &'a Resolution, name: &str) -> &'a str {
    resolution
        .value(name)
        .unwrap_or_else(|| panic!("{name}: {:?}", resolution.problems))
        .expose_secret()
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_found_by_account_name_across_subscriptions() {
    let setup = setup().await;
    let vars = "    K1: { from: { store: azure, resource_type: storage, account: datastore, key: key1 } }\n    K2: { from: { store: azure, resource_type: storage, account: datastore, key: key2 } }\n    FAR: { from: { store: azure, resource_type: storage, account: farstore, key: key1 } }\n";
    let resolution = setup.resolve("", vars).await;
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    assert_eq!(value(&resolution, "K1"), KEY1);
    assert_eq!(value(&resolution, "K2"), KEY2);
    assert!(
        !value(&resolution, "FAR").is_empty(),
        "found in the second subscription"
    );
    let paths = setup.arm_paths();
    let listings = paths
        .iter()
        .filter(|p| p.ends_with("/providers/Microsoft.Storage/storageAccounts"))
        .count();
    assert_eq!(
        listings, 2,
        "each subscription listed once for three references: {paths:?}"
    );
    let list_keys = paths.iter().filter(|p| p.ends_with("/listKeys")).count();
    assert_eq!(
        list_keys, 2,
        "one listKeys per account (K1 and K2 share): {paths:?}"
    );
    let subscription_lists = paths
        .iter()
        .filter(|p| p.as_str() == "GET /subscriptions")
        .count();
    assert_eq!(
        subscription_lists, 1,
        "subscriptions listed once: {paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_resource_group_or_resources_entry_needs_no_listing() {
    let setup = setup().await;
    let store = format!(
        "    resources:\n      - {{ type: storage, name: datastore, subscription: {ONE}, resource_group: rg-a }}\n"
    );
    let vars = "    K1: { from: { store: azure, resource_type: storage, account: datastore, key: key1 } }\n";
    let resolution = setup.resolve(&store, vars).await;
    assert_eq!(value(&resolution, "K1"), KEY1);
    assert_eq!(
        setup.arm_paths(),
        vec![format!(
            "POST /subscriptions/{ONE}/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/datastore/listKeys"
        )]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cosmos_keys_and_connection_strings() {
    let setup = setup().await;
    let vars = "    PK: { from: { store: azure, resource_type: cosmosdb, account: docs, key: primary } }\n    RO: { from: { store: azure, resource_type: cosmosdb, account: docs, key: secondary_readonly } }\n    CS: { from: { store: azure, resource_type: cosmosdb, account: docs, format: connection_string } }\n    CS_RO: { from: { store: azure, resource_type: cosmosdb, account: docs, key: primary_readonly, format: connection_string } }\n";
    let resolution = setup
        .resolve(&format!("    default_subscription: {ONE}\n"), vars)
        .await;
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    assert_eq!(value(&resolution, "PK"), "pk");
    assert_eq!(value(&resolution, "RO"), "srk");
    assert_eq!(
        value(&resolution, "CS"),
        "AccountEndpoint=https://docs.documents.azure.com:443/;AccountKey=pk;"
    );
    assert_eq!(
        value(&resolution, "CS_RO"),
        "AccountEndpoint=https://docs.documents.azure.com:443/;AccountKey=prk;"
    );
    let paths = setup.arm_paths();
    assert!(
        paths.iter().any(|p| p.ends_with("/listReadOnlyKeys")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with("/listConnectionStrings")),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_access_says_which_role_to_grant() {
    let setup = setup().await;
    let reader = setup.emulator.identity("reader").unwrap();
    let store =
        "    identity: { type: user_assigned, client_id: 33333333-3333-3333-3333-333333333333 }\n";
    // Reader on subscription one: it can list, but not read keys.
    let vars = "    K1: { from: { store: azure, resource_type: storage, account: datastore, key: key1 } }\n";
    let resolution = setup.resolve(store, vars).await;
    let problem = &resolution.problems[0];
    assert_eq!(
        (problem.status, problem.code.as_deref()),
        (Some(403), Some("AuthorizationFailed"))
    );
    let hint = problem.hint.as_deref().unwrap();
    assert!(
        hint.contains("Storage Account Key Operator Service Role")
            && hint.contains(&reader.object_id),
        "{hint}"
    );
    // No role at all in subscription two.
    let vars = format!(
        "    FAR: {{ from: {{ store: azure, resource_type: storage, account: farstore, key: key1, subscription: {TWO} }} }}\n"
    );
    let resolution = setup.resolve(store, &vars).await;
    let problem = &resolution.problems[0];
    assert!(
        problem.message.contains("cannot list")
            || problem.code.as_deref() == Some("SubscriptionNotFound"),
        "{problem}"
    );
    assert!(
        problem.hint.as_deref().unwrap().contains("Reader"),
        "{problem}"
    );
    let text = format!("{problem}");
    assert!(!text.contains(KEY1) && !text.contains("eyJ"), "{text}");
}
