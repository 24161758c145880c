//! Every example of the seed page's "Azure Storage", "Azure SQL Database",
//! "Azure Cosmos DB", "Cross-Service Access" and "Cross-Subscription Access"
//! sections resolves against the emulator, through the engine, with the
//! page's own names: only the cloud is pointed at the emulator.

use dsops_emulator::testing::seed;
use secrecy::ExposeSecret;

use crate::support::in_process::InProcess;
use crate::support::seed_page::{as_config, yaml_blocks};

/// The main vault's name in these sections of the page.
const VAULT: &str = "mykeyvault";

const SECTIONS: &[&str] = &[
    "Azure Storage",
    "Azure SQL Database",
    "Azure Cosmos DB",
    "Cross-Service Access",
    "Cross-Subscription Access",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_service_examples_resolve_against_the_emulator() {
    let mut setup = InProcess::start(seed::forms(VAULT)).await;
    setup.env.insert(
        "PRIMARY_SUBSCRIPTION_ID".to_owned(),
        seed::PRIMARY_SUBSCRIPTION.to_owned(),
    );
    setup.env.insert(
        "SHARED_SUBSCRIPTION_ID".to_owned(),
        seed::SHARED_SUBSCRIPTION.to_owned(),
    );
    let store_lines = setup.store_lines();
    let mut resolved = 0;
    for example in yaml_blocks()
        .iter()
        .filter(|b| SECTIONS.contains(&b.heading.as_str()))
    {
        // The page's own names; only the cloud (and IMDS) is the emulator.
        let config = as_config(example)
            .unwrap()
            .replace("    type: azure.managed_identity\n", &store_lines);
        let engine = setup.engine_of(&config);
        let resolution = engine.resolve("production").await.unwrap();
        let problems: Vec<String> = resolution
            .problems
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            example.heading,
            problems.join("\n")
        );
        for (name, value) in &resolution.values {
            let value = value.expose_secret();
            match name.as_str() {
                "STORAGE_KEY" => assert_eq!(value, seed::STORAGE_KEY1),
                "STORAGE_SAS" => {
                    assert!(value.contains("sp=rl") && value.contains("sig="), "{name}")
                }
                "SQL_CONNECTION" => {
                    assert!(
                        value.contains("myserver.database.windows.net") && value.contains("mydb"),
                        "{value}"
                    );
                    assert!(
                        value.contains("Active Directory Managed Identity"),
                        "{value}"
                    );
                }
                "COSMOS_KEY" => assert!(!value.is_empty()),
                "COSMOS_CONNECTION" => assert!(
                    value.starts_with("AccountEndpoint=https://mycosmosaccount."),
                    "{name}"
                ),
                "API_KEY" => assert_eq!(value, seed::API_KEY),
                "SHARED_SECRET" => assert_eq!(value, seed::SHARED_API_KEY),
                other => panic!("unexpected variable {other} in {}", example.heading),
            }
            resolved += 1;
        }
    }
    // Storage 2, SQL 1, Cosmos 2, cross-service 3, cross-subscription 1.
    assert_eq!(resolved, 9);
}
