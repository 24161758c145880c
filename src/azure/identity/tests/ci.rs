//! `ci_federation` inside one process: a CI's token is read again at every
//! exchange, from a variable of the live environment (as from a file), so
//! a token the CI refreshes in place is the one presented next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dsops_config::Environment;
use dsops_emulator::testing::{Identity, StateBuilder};

use crate::azure::http::Trace;
use crate::azure::identity::{AttemptOutcome, Chain, Scope};
use crate::azure::testing::{emulator, http, store};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "99999999-8888-7777-6666-555555555555";
const SUBJECT: &str = "project_path:group/project:ref_type:branch:ref:main";

/// An environment whose variables can change under the chain, as a
/// process's own can.
#[derive(Debug, Clone, Default)]
struct Live(Arc<Mutex<HashMap<String, String>>>);

impl Environment for Live {
    fn var(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }
}

impl Live {
    fn set(&self, name: &str, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_variable_is_read_again_at_every_exchange() {
    let emulator = emulator(
        StateBuilder::new()
            .tenant(TENANT)
            .identity(
                "app",
                Identity::service_principal()
                    .client_id(CLIENT_ID)
                    .federated_credential("gitlab", SUBJECT),
            )
            .build(),
    )
    .await;
    let mint = |sub: &str| {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".to_owned(), sub.into());
        emulator
            .mint_oidc_token("gitlab", "api://AzureADTokenExchange", &claims)
            .unwrap()
    };
    let live = Live::default();
    live.set("CI_TOKEN", &mint(SUBJECT));
    // The job confirms the emulator's Entra ID (dsops.yaml alone cannot).
    live.set("DSOPS_TRUSTED_AUTHORITY", &emulator.https_url());
    let yaml = format!(
        "    tenant_id: {TENANT}\n    cloud: {{ authority_host: \"{}\" }}\n    fallback:\n      - {{ type: ci_federation, preset: generic, token_env: CI_TOKEN, client_id: {CLIENT_ID} }}",
        emulator.https_url()
    );
    let chain = Chain::for_store(
        &store(&yaml, &HashMap::new()),
        &live,
        &http(&emulator, Trace::off()),
    );
    chain
        .token(&Scope::for_resource("https://vault.azure.net"))
        .await
        .expect("the trusted token is exchanged");

    // The CI replaces the token: the next exchange (another scope) presents it.
    live.set(
        "CI_TOKEN",
        &mint("project_path:group/project:ref_type:branch:ref:other"),
    );
    let error = chain
        .token(&Scope::for_resource("https://management.azure.com"))
        .await
        .expect_err("the new token's subject is not trusted");
    let why = match &error.attempts[0].outcome {
        AttemptOutcome::Failed(why) => why.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        why.contains("AADSTS70021") && why.contains("ref:other"),
        "{why}"
    );
    assert!(!error.to_string().contains("eyJ"), "{error}");
}
