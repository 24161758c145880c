//! From a configuration and an environment name to what must be fetched:
//! each variable's source, and each distinct object once however many
//! variables use it.

use dsops_config::model::{
    Config, CosmosApi, CosmosKey, KeyVaultObject, Reference, ResourceType, SasProtocol, SqlDialect,
    StorageKey, Store, Target, Text, ValueSource,
};
use secrecy::SecretString;

use crate::azure::arm::AccountKind;
use crate::azure::identity::Scope;
use crate::azure::keyvault;

use super::EngineError;

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
    /// Text of the file that `${NAME}` supplied (some of): the literal, or
    /// the `default:` of a reference. Such a value comes from the process
    /// environment, and is masked and exported as a secret like a fetched
    /// one.
    pub interpolated: bool,
    /// `field:`: the path of the value in the fetched secret read as JSON
    /// (the fetch is the whole secret, shared by every variable of it).
    pub field: Option<Vec<String>>,
    /// `default:`: the value of an optional variable whose source fails.
    pub default: Option<SecretString>,
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
    /// A value read from a storage or Cosmos DB account through Resource Manager.
    Account {
        /// Storage or Cosmos DB.
        kind: AccountKind,
        /// The account name (lower-case).
        account: String,
        /// Its subscription, when the configuration gives it.
        subscription: Option<String>,
        /// Its resource group, when the configuration gives it.
        resource_group: Option<String>,
        /// What to read from it.
        value: AccountValue,
    },
    /// An Azure SQL connection string (nothing is fetched but, for a
    /// user-assigned identity named by object or resource id, its client id).
    Sql {
        /// The server, as written.
        server: String,
        /// The database.
        database: String,
        /// The driver family.
        dialect: SqlDialectKind,
    },
    /// A form this version of dsops does not fetch.
    Unsupported {
        /// What it is.
        kind: &'static str,
    },
}

impl FetchTarget {
    /// Whether the value stops working at a time: an access token, a SAS.
    pub fn expires(&self) -> bool {
        matches!(
            self,
            FetchTarget::Token { .. }
                | FetchTarget::Account {
                    value: AccountValue::Sas(_),
                    ..
                }
        )
    }
}

/// What is read from an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountValue {
    /// `key1` or `key2` of a storage account.
    StorageKey(u8),
    /// An account SAS signed with `key1`.
    Sas(SasSpec),
    /// A Cosmos DB key: `primary`, `secondary`, `primary_readonly`, `secondary_readonly`.
    CosmosKey(&'static str),
    /// A Cosmos DB connection string carrying that key, of that API
    /// (`sql` unless the reference says `api:`).
    CosmosConnection {
        /// `primary`, `secondary`, `primary_readonly`, `secondary_readonly`.
        key: &'static str,
        /// Which API's connection string.
        api: CosmosApi,
    },
}

/// The SAS a reference asks for (hashable, so equal ones are signed once).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SasSpec {
    /// `permissions`.
    pub permissions: String,
    /// `expiry`, from now.
    pub expiry: std::time::Duration,
    /// `start`, before now.
    pub start_before: Option<std::time::Duration>,
    /// `services` (default `b`).
    pub services: Option<String>,
    /// `resource_types` (default `co`).
    pub resource_types: Option<String>,
    /// `ip`.
    pub ip: Option<String>,
    /// `protocol: https` (the default) or `https,http`.
    pub https_only: bool,
}

/// [`dsops_config::model::SqlDialect`], hashable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlDialectKind {
    /// Microsoft.Data.SqlClient.
    AdoNet,
    /// mssql-jdbc.
    Jdbc,
    /// ODBC Driver 18 for SQL Server.
    Odbc,
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
            FetchTarget::KeyVault { .. } => Some(Scope::keyvault(store)),
            FetchTarget::Token { scope } => Some(scope.clone()),
            FetchTarget::Account { .. } => Some(Scope::resource_manager(store)),
            FetchTarget::Sql { .. } | FetchTarget::Unsupported { .. } => None,
        }
    }

    /// For messages: "secret database-password in `https://v.vault.azure.net`".
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
            FetchTarget::Account {
                kind,
                account,
                value,
                ..
            } => {
                let what = match value {
                    AccountValue::StorageKey(n) => format!("key{n}"),
                    AccountValue::Sas(sas) => format!("a SAS ({})", sas.permissions),
                    AccountValue::CosmosKey(key) => format!("the {key} key"),
                    AccountValue::CosmosConnection {
                        key,
                        api: CosmosApi::Sql,
                    } => format!("the {key} connection string"),
                    AccountValue::CosmosConnection { key, api } => {
                        format!("the {key} {} connection string", api.azure_type())
                    }
                };
                format!("{what} of {} {account}", kind.noun())
            }
            FetchTarget::Sql {
                server, database, ..
            } => {
                format!("a connection string for database {database} on {server}")
            }
            FetchTarget::Unsupported { kind } => (*kind).to_owned(),
        }
    }
}

impl Plan {
    /// The plan of environment `env` of `config`, offline: each variable's
    /// source, and each distinct object to fetch once.
    pub fn new(config: &Config, env: &str) -> Result<Plan, EngineError> {
        plan(config, env)
    }
}

pub(crate) fn plan(config: &Config, env: &str) -> Result<Plan, EngineError> {
    let environment = config.env(env).ok_or_else(|| EngineError::UnknownEnv {
        env: env.to_owned(),
        known: config.envs.iter().map(|e| e.name.value.clone()).collect(),
    })?;
    let mut fetches: Vec<Fetch> = Vec::new();
    let mut variables = Vec::new();
    for variable in &environment.variables {
        let name = variable.name.value.clone();
        let source = match &variable.value {
            ValueSource::Literal(text) => PlannedSource::Literal(text.value.clone()),
            ValueSource::Reference(reference) => {
                let store_name = reference.store.value.clone();
                let target = match config.store(&store_name) {
                    Some(store) => target_of(reference, store),
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
        let interpolated = match &variable.value {
            ValueSource::Literal(text) => text.interpolated,
            ValueSource::Reference(_) => variable.default.as_ref().is_some_and(|d| d.interpolated),
        };
        let field = match &variable.value {
            ValueSource::Reference(reference) => match &reference.target {
                Target::KeyVault(kv) => kv.field.as_ref().map(|f| f.path.clone()),
                _ => None,
            },
            ValueSource::Literal(_) => None,
        };
        variables.push(PlannedVariable {
            name,
            optional: variable.optional,
            source,
            interpolated,
            field,
            default: variable.default.as_ref().map(|d| d.value.clone()),
        });
    }
    Ok(Plan {
        env: environment.name.value.clone(),
        variables,
        fetches,
    })
}

fn target_of(reference: &Reference, store: &Store) -> FetchTarget {
    match &reference.target {
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
        Target::StorageKey(r) => {
            let key = match r.key {
                StorageKey::Key1 => 1,
                StorageKey::Key2 => 2,
            };
            account(
                store,
                reference,
                AccountKind::Storage,
                &r.account,
                &r.resource_group,
                AccountValue::StorageKey(key),
            )
        }
        Target::StorageSas(r) => account(
            store,
            reference,
            AccountKind::Storage,
            &r.account,
            &r.resource_group,
            AccountValue::Sas(SasSpec {
                permissions: r.permissions.value.clone(),
                expiry: r.expiry.value,
                start_before: r.start_before.as_ref().map(|d| d.value),
                services: r.services.as_ref().map(|t| t.value.clone()),
                resource_types: r.resource_types.as_ref().map(|t| t.value.clone()),
                ip: r.ip.as_ref().map(|t| t.value.clone()),
                https_only: r.protocol == SasProtocol::Https,
            }),
        ),
        Target::Sql(r) => FetchTarget::Sql {
            server: r.server.value.clone(),
            database: r.database.value.clone(),
            dialect: match r.dialect {
                SqlDialect::AdoNet => SqlDialectKind::AdoNet,
                SqlDialect::Jdbc => SqlDialectKind::Jdbc,
                SqlDialect::Odbc => SqlDialectKind::Odbc,
            },
        },
        Target::CosmosKey(r) => {
            let value = AccountValue::CosmosKey(cosmos_key(r.key));
            account(
                store,
                reference,
                AccountKind::Cosmos,
                &r.account,
                &r.resource_group,
                value,
            )
        }
        Target::CosmosConnection(r) => {
            let value = AccountValue::CosmosConnection {
                key: cosmos_key(r.key),
                api: r.api,
            };
            account(
                store,
                reference,
                AccountKind::Cosmos,
                &r.account,
                &r.resource_group,
                value,
            )
        }
    }
}

fn cosmos_key(key: CosmosKey) -> &'static str {
    match key {
        CosmosKey::Primary => "primary",
        CosmosKey::Secondary => "secondary",
        CosmosKey::PrimaryReadonly => "primary_readonly",
        CosmosKey::SecondaryReadonly => "secondary_readonly",
    }
}

/// An account target: its subscription and resource group from the
/// reference, else from the store's `resources:` entry, else (subscription
/// only) the store's `default_subscription`; what is still unknown is found
/// at run time.
fn account(
    store: &Store,
    reference: &Reference,
    kind: AccountKind,
    name: &Text,
    resource_group: &Option<Text>,
    value: AccountValue,
) -> FetchTarget {
    let resource_type = match kind {
        AccountKind::Storage => ResourceType::Storage,
        AccountKind::Cosmos => ResourceType::CosmosDb,
    };
    let entry = store.resource(resource_type, &name.value);
    let subscription = reference
        .subscription
        .as_ref()
        .or_else(|| entry.and_then(|e| e.subscription.as_ref()))
        .or(store.default_subscription.as_ref())
        .map(|t| t.value.clone());
    let resource_group = resource_group
        .as_ref()
        .or_else(|| entry.and_then(|e| e.resource_group.as_ref()))
        .map(|t| t.value.clone());
    FetchTarget::Account {
        kind,
        account: name.value.to_ascii_lowercase(),
        subscription,
        resource_group,
        value,
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
