//! What every request handler shares: the directory, the vaults, the token
//! signers, faults and the log.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use crate::EmulatorError;
use crate::crypto::random_b64;
use crate::directory::Directory;
use crate::faults::Faults;
use crate::log::RequestLog;
use crate::state::StateFile;
use crate::tokens::{AccessTokens, Issuer};
use crate::vault::VaultContents;

/// Arc challenge keys kept (a client reads its file right after the challenge).
const ARC_KEYS_KEPT: usize = 64;

/// Shared state of a running emulator.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) directory: Directory,
    /// Vault contents by lower-case vault name.
    pub(crate) vaults: RwLock<BTreeMap<String, VaultContents>>,
    pub(crate) tokens: AccessTokens,
    pub(crate) github: Issuer,
    pub(crate) issuers: BTreeMap<String, Issuer>,
    /// Azure Pipelines' OIDC token endpoint (the CI issuers are in `issuers`).
    pub(crate) pipelines: crate::ci::Pipelines,
    /// The secret App Service passes in `IDENTITY_HEADER`.
    pub(crate) identity_header: String,
    /// Where Arc challenge key files go.
    pub(crate) arc_key_dir: PathBuf,
    /// Contents and paths of the Arc key files handed out, newest last.
    pub(crate) arc_keys: Mutex<VecDeque<(String, PathBuf)>>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) log: Arc<RequestLog>,
    /// `https://127.0.0.1:PORT`.
    pub(crate) https_origin: String,
}

impl App {
    /// Builds the running state. `https_origin` is where the emulator
    /// listens, for the URLs it hands out.
    pub(crate) fn build(
        state: &StateFile,
        https_origin: String,
        arc_key_dir: PathBuf,
        log_capacity: usize,
    ) -> Result<Self, EmulatorError> {
        let directory = Directory::build(state)?;
        let mut vaults = BTreeMap::new();
        for (name, spec) in &state.vaults {
            vaults.insert(name.to_ascii_lowercase(), VaultContents::build(name, spec)?);
        }
        let github = Issuer::github(&state.github, &https_origin)?;
        let mut issuers = BTreeMap::new();
        for (name, spec) in &state.issuers {
            if name == "github" {
                return Err(EmulatorError::State {
                    path: None,
                    message: "issuers: `github` is configured under `github:`".to_owned(),
                });
            }
            if crate::ci::NAMES.contains(&name.as_str()) {
                return Err(EmulatorError::State {
                    path: None,
                    message: format!("issuers: `{name}` is a CI configured under `ci:`"),
                });
            }
            issuers.insert(name.clone(), Issuer::other(name, spec, &https_origin)?);
        }
        let (ci_issuers, pipelines) = crate::ci::build(&state.ci)?;
        for issuer in ci_issuers {
            issuers.insert(issuer.name.clone(), issuer);
        }
        let faults = Faults::default();
        for f in &state.faults {
            faults.add(f.clone());
        }
        Ok(Self {
            directory,
            vaults: RwLock::new(vaults),
            tokens: AccessTokens::new(state.token_lifetime)?,
            github,
            issuers,
            pipelines,
            identity_header: match &state.managed_identity.identity_header {
                Some(h) => h.clone(),
                None => random_b64(24)?,
            },
            arc_key_dir,
            arc_keys: Mutex::new(VecDeque::new()),
            faults: Arc::new(faults),
            log: Arc::new(RequestLog::new(log_capacity)),
            https_origin,
        })
    }

    /// An issuer by name (`github` or a key of `issuers`).
    pub(crate) fn issuer(&self, name: &str) -> Option<&Issuer> {
        if name == "github" {
            Some(&self.github)
        } else {
            self.issuers.get(name)
        }
    }

    /// The issuer whose `iss` is `url`.
    pub(crate) fn issuer_by_url(&self, url: &str) -> Option<&Issuer> {
        std::iter::once(&self.github)
            .chain(self.issuers.values())
            .find(|i| i.url == url)
    }

    /// Remembers an Arc key handed out; the oldest beyond `ARC_KEYS_KEPT`
    /// is forgotten and its file removed.
    pub(crate) fn remember_arc_key(&self, key: String, path: PathBuf) {
        let mut keys = self
            .arc_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() == ARC_KEYS_KEPT
            && let Some((_, old)) = keys.pop_front()
        {
            let _ = std::fs::remove_file(old);
        }
        keys.push_back((key, path));
    }

    /// Adds a new version of secret `name` of vault `vault` holding `value`
    /// (what Key Vault's Set Secret does), for rotations driven by the admin
    /// API and by tests; its version id. A certificate's backing secret is
    /// refused, as Key Vault refuses it.
    pub(crate) fn rotate_secret(
        &self,
        vault: &str,
        name: &str,
        value: String,
    ) -> Result<String, EmulatorError> {
        let refuse = |message: String| EmulatorError::State {
            path: None,
            message,
        };
        if !crate::vault::valid_object_name(name) {
            return Err(refuse(format!(
                "secret `{name}`: a name is 1-127 letters, digits and hyphens"
            )));
        }
        // The vaults are those of the state file: a typo makes no vault
        // that no request could reach.
        if !self
            .directory
            .vaults
            .contains_key(&vault.to_ascii_lowercase())
        {
            return Err(refuse(format!("no vault `{vault}` in `vaults`")));
        }
        let version = crate::crypto::hex(&crate::crypto::random_bytes(16)?);
        let mut vaults = self
            .vaults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let contents = vaults.entry(vault.to_ascii_lowercase()).or_default();
        if contents
            .secrets
            .get(&name.to_ascii_lowercase())
            .is_some_and(|s| s.versions.iter().any(|v| v.managed_by.is_some()))
        {
            return Err(refuse(format!(
                "secret `{name}` is managed by a certificate and cannot be set"
            )));
        }
        contents.push_secret(
            name,
            version.clone(),
            &crate::state::SecretVersionSpec::of(value),
            None,
        );
        Ok(version)
    }

    /// Whether `key` is an Arc key handed out.
    pub(crate) fn knows_arc_key(&self, key: &str) -> bool {
        let keys = self
            .arc_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.iter().any(|(k, _)| crate::crypto::same_secret(k, key))
    }
}

/// Arc key files end so (clients check it).
pub(crate) const ARC_KEY_SUFFIX: &str = ".key";
