//! From a configuration and an environment name to what must be fetched:
//! each variable's source, and each distinct object once however many
//! variables use it.

use dsops_config::model::{Config, KeyVaultObject, Store, Target, ValueSource};
use secrecy::SecretString;

use crate::identity::Scope;
use crate::keyvault;

/// What resolving one environment takes.
#[derive(Debug)]
pub struct Plan {
    /// The environment.
    pub env: String,
    /// Its variables, in file order.
    pub variables: Vec<PlannedVariable>,
    /// The distinct fetches, in first-use order.
    pub fetches: Vec<Fetch>,
}

/// One variable.
#[derive(Debug)]
pub struct PlannedVariable {
    /// Its name.
    pub name: String,
    /// Whether a failure only warns.
    pub optional: bool,
    /// Where its value comes from.
    pub source: PlannedSource,
}

/// Where a variable's value comes from.
#[derive(Debug)]
pub enum PlannedSource {
    /// Written in the file.
    Literal(SecretString),
    /// The fetch of this index in [`Plan::fetches`].
    Fetch(usize),
}

/// One object to fetch.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// The store whose identity fetches it.
    pub store: String,
    /// What to fetch.
    pub target: FetchTarget,
    /// The variables that use it.
    pub variables: Vec<String>,
}

/// What to fetch. Equal targets of one store are fetched once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchTarget {
    /// A Key Vault secret, certificate or key.
    KeyVault {
        /// `https://NAME.vault.azure.net` (lower-case host).
        vault_url: String,
        /// Secret, certificate or key.
        object: KeyVaultObjectKind,
        /// Its name, as written.
        name: String,
        /// A pinned version.
        version: Option<String>,
    },
    /// An access token.
    Token {
        /// The scope asked for.
        scope: Scope,
    },
    /// A form this version of dsops does not fetch yet.
    Unsupported {
        /// What it is ("storage account key").
        kind: &'static str,
    },
}

/// [`KeyVaultObject`], hashable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyVaultObjectKind {
    /// A secret's value.
    Secret,
    /// A certificate with its private key, PEM.
    Certificate,
    /// A key's public JWK.
    Key,
}

impl From<KeyVaultObject> for KeyVaultObjectKind {
    fn from(object: KeyVaultObject) -> Self {
        match object {
            KeyVaultObject::Secret => Self::Secret,
            KeyVaultObject::Certificate => Self::Certificate,
            KeyVaultObject::Key => Self::Key,
        }
    }
}

impl FetchTarget {
    /// The scope of the token this fetch needs.
    pub fn scope(&self, store: &Store) -> Option<Scope> {
        match self {
            FetchTarget::KeyVault { .. } => Some(keyvault_scope(store)),
            FetchTarget::Token { scope } => Some(scope.clone()),
            FetchTarget::Unsupported { .. } => None,
        }
    }

    /// For messages: "secret database-password in https://v.vault.azure.net".
    pub fn describe(&self) -> String {
        match self {
            FetchTarget::KeyVault {
                vault_url,
                object,
                name,
                version,
            } => {
                let what = match object {
                    KeyVaultObjectKind::Secret => "secret",
                    KeyVaultObjectKind::Certificate => "certificate",
                    KeyVaultObjectKind::Key => "key",
                };
                let version = version
                    .as_ref()
                    .map(|v| format!(" version {v}"))
                    .unwrap_or_default();
                format!("{what} {name}{version} in {vault_url}")
            }
            FetchTarget::Token { scope } => format!("an access token for {}", scope.resource()),
            FetchTarget::Unsupported { kind } => (*kind).to_owned(),
        }
    }
}

/// `https://<keyvault_dns_suffix>/.default` (a custom suffix keeps its port).
pub fn keyvault_scope(store: &Store) -> Scope {
    Scope::for_resource(&format!(
        "https://{}",
        store.cloud.endpoints.keyvault_dns_suffix
    ))
}

/// `<resource_manager>/.default`.
pub fn arm_scope(store: &Store) -> Scope {
    Scope::for_resource(store.cloud.endpoints.resource_manager.trim_end_matches('/'))
}

/// The plan of `env`, or `None` when the configuration has no such environment.
pub fn plan(config: &Config, env: &str) -> Option<Plan> {
    let environment = config.env(env)?;
    let mut fetches: Vec<Fetch> = Vec::new();
    let mut variables = Vec::new();
    for variable in &environment.variables {
        let name = variable.name.value.clone();
        let source = match &variable.value {
            ValueSource::Literal(text) => PlannedSource::Literal(text.value.clone()),
            ValueSource::Reference(reference) => {
                let store_name = reference.store.value.clone();
                let target = match config.store(&store_name) {
                    Some(store) => target_of(&reference.target, store),
                    None => FetchTarget::Unsupported {
                        kind: "a reference to an unknown store",
                    },
                };
                let index = match fetches
                    .iter()
                    .position(|f| f.store == store_name && f.target == target)
                {
                    Some(index) => index,
                    None => {
                        fetches.push(Fetch {
                            store: store_name,
                            target,
                            variables: Vec::new(),
                        });
                        fetches.len() - 1
                    }
                };
                if let Some(fetch) = fetches.get_mut(index) {
                    fetch.variables.push(name.clone());
                }
                PlannedSource::Fetch(index)
            }
        };
        variables.push(PlannedVariable {
            name,
            optional: variable.optional,
            source,
        });
    }
    Some(Plan {
        env: environment.name.value.clone(),
        variables,
        fetches,
    })
}

fn target_of(target: &Target, store: &Store) -> FetchTarget {
    match target {
        Target::KeyVault(kv) => match kv.vault_in(store) {
            Some(vault) => FetchTarget::KeyVault {
                vault_url: normalize_url(&keyvault::vault_url(&vault, store)),
                object: kv.object.into(),
                // Key Vault names are case-insensitive: one object, one fetch.
                name: kv.name.value.to_ascii_lowercase(),
                version: kv.version.as_ref().map(|v| v.value.to_ascii_lowercase()),
            },
            None => FetchTarget::Unsupported {
                kind: "a Key Vault reference without a vault",
            },
        },
        Target::Token(token) => FetchTarget::Token {
            scope: Scope::for_resource(&token.resource.value),
        },
        Target::StorageKey(_) => FetchTarget::Unsupported {
            kind: "a storage account key",
        },
        Target::StorageSas(_) => FetchTarget::Unsupported {
            kind: "a storage SAS token",
        },
        Target::Sql(_) => FetchTarget::Unsupported {
            kind: "an Azure SQL connection string",
        },
        Target::CosmosKey(_) => FetchTarget::Unsupported {
            kind: "a Cosmos DB key",
        },
        Target::CosmosConnection(_) => FetchTarget::Unsupported {
            kind: "a Cosmos DB connection string",
        },
    }
}

/// Lower-case scheme and host, no trailing slash: so `https://KV.vault.azure.net/`
/// and `https://kv.vault.azure.net` are one vault.
fn normalize_url(url: &str) -> String {
    let url = url.trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            let path = if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            };
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => url.to_owned(),
    }
}
