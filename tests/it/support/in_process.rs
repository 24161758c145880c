//! The emulator and the engine in the test's own process: for tests of the
//! library's resolution (the CLI tests use `emulated`).

use std::collections::HashMap;
use std::sync::Arc;

use dsops::config::{LoadOptions, Source, load};
use dsops::{Engine, EngineOptions};
use dsops_emulator::{Emulator, Options, StateFile};

/// An emulator, a directory holding its CA, and an environment that points
/// IMDS at it.
pub(crate) struct InProcess {
    pub(crate) emulator: Emulator,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) env: HashMap<String, String>,
}

impl InProcess {
    pub(crate) async fn start(state: StateFile) -> Self {
        let emulator = Emulator::start(Options {
            state,
            ..Options::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), emulator.ca_pem()).unwrap();
        let env = [(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
            emulator.http_url().unwrap(),
        )]
        .into();
        Self { emulator, dir, env }
    }

    /// The lines of a store (indented 4) that use IMDS and the emulator as
    /// the whole cloud: Entra ID, Resource Manager, Key Vault, the CA.
    pub(crate) fn store_lines(&self) -> String {
        format!(
            "    type: azure.managed_identity\n    fallback: [{{ type: managed_identity }}]\n    cloud:\n      authority_host: {https}\n      resource_manager: {https}\n      keyvault_dns_suffix: \"vault.localhost:{port}\"\n      ca_bundle: ca.pem\n",
            https = self.emulator.https_url(),
            port = self.emulator.https_addr().port()
        )
    }

    /// A configuration with the store `azure` (plus `store_extra`) and the
    /// variables `vars` in environment `env`.
    pub(crate) fn config(&self, store_extra: &str, env: &str, vars: &str) -> String {
        format!(
            "secretStores:\n  azure:\n{}{store_extra}envs:\n  {env}:\n{vars}",
            self.store_lines()
        )
    }

    /// An engine for environment `dev` with `vars`, the store `azure`
    /// having `store_extra` too.
    pub(crate) fn engine(&self, store_extra: &str, vars: &str) -> Engine {
        self.engine_of(&self.config(store_extra, "dev", vars))
    }

    /// Requests the emulator answered for `service`.
    pub(crate) fn requests(&self, service: &str) -> usize {
        self.emulator
            .log()
            .entries()
            .iter()
            .filter(|e| e.service == service)
            .count()
    }

    /// Tokens the emulator issued.
    pub(crate) fn tokens(&self) -> usize {
        self.emulator
            .log()
            .entries()
            .iter()
            .filter(|e| e.token_for.is_some())
            .count()
    }

    /// The engine of a configuration text, which must load without errors.
    pub(crate) fn engine_of(&self, text: &str) -> Engine {
        let loaded = load(
            Source::new("dsops.yaml", text),
            &self.env,
            LoadOptions::resolve(),
        );
        assert!(!loaded.has_errors(), "{:?}\n{text}", loaded.diagnostics());
        Engine::new(
            loaded.config().unwrap().clone(),
            self.dir.path(),
            Arc::new(self.env.clone()),
            EngineOptions::default(),
        )
    }
}
