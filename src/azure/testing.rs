//! What the tests of the Azure rooms share: an emulator, a store loaded
//! as `exec` loads it, and a transport that trusts the emulator's CA.

use std::collections::HashMap;
use std::time::Duration;

use dsops_config::{LoadOptions, Source, load};
use dsops_emulator::{Emulator, Options, StateFile};

use crate::azure::http::{Http, HttpOptions, Trace};

pub(crate) async fn emulator(state: StateFile) -> Emulator {
    Emulator::start(Options {
        state,
        ..Options::default()
    })
    .await
    .unwrap()
}

/// The store `azure` of a dsops.yaml with `store_yaml` (indented under the
/// store), loaded as `exec` will load it.
pub(crate) fn store(store_yaml: &str, env: &HashMap<String, String>) -> dsops_config::model::Store {
    let text = format!(
        "secretStores:\n  azure:\n    type: azure.managed_identity\n{store_yaml}\nenvs:\n  dev:\n    X: {{ from: {{ store: azure, vault: dev-vault, secret: database-password }} }}\n"
    );
    let loaded = load(
        Source::new("dsops.yaml", &text),
        env,
        LoadOptions::resolve(),
    );
    assert!(!loaded.has_errors(), "{:?}\n{text}", loaded.diagnostics());
    loaded.config().unwrap().store("azure").unwrap().clone()
}

pub(crate) fn http(emulator: &Emulator, trace: Trace) -> Http {
    Http::new(HttpOptions {
        ca_pem: Some(emulator.ca_pem().as_bytes().to_vec()),
        deadline: Duration::from_secs(20),
        trace,
        ..HttpOptions::default()
    })
    .unwrap()
}
