//! `from:`: where one variable's value is fetched.

use std::time::Duration;

use super::{Spanned, Text};
use crate::source::Span;

/// A `from:` block.
#[derive(Debug, Clone)]
pub struct Reference {
    /// `store:`.
    pub store: Text,
    /// What to fetch.
    pub target: Target,
    /// `subscription:` (for ARM-backed targets).
    pub subscription: Option<Text>,
    /// The whole `from:` mapping.
    pub span: Span,
}

/// What a reference fetches.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Key Vault secret, certificate or key.
    KeyVault(KeyVaultRef),
    /// A storage account access key (ARM `listKeys`).
    StorageKey(StorageKeyRef),
    /// A storage SAS token, signed locally.
    StorageSas(StorageSasRef),
    /// An Azure SQL connection string that authenticates with managed identity.
    Sql(SqlRef),
    /// A Cosmos DB key (ARM `listKeys` / `listReadOnlyKeys`).
    CosmosKey(CosmosKeyRef),
    /// A Cosmos DB connection string (ARM `listConnectionStrings`).
    CosmosConnection(CosmosConnectionRef),
    /// An Entra ID access token.
    Token(TokenRef),
}

impl Target {
    /// A short description for messages and `plan`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Target::KeyVault(kv) => match kv.object {
                KeyVaultObject::Secret => "Key Vault secret",
                KeyVaultObject::Certificate => "Key Vault certificate",
                KeyVaultObject::Key => "Key Vault key",
            },
            Target::StorageKey(_) => "storage account key",
            Target::StorageSas(_) => "storage SAS token",
            Target::Sql(_) => "Azure SQL connection string",
            Target::CosmosKey(_) => "Cosmos DB key",
            Target::CosmosConnection(_) => "Cosmos DB connection string",
            Target::Token(_) => "access token",
        }
    }
}

/// A vault, by name or by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vault {
    /// `my-vault`: `https://my-vault.<cloud's Key Vault suffix>`.
    Name(Text),
    /// `https://my-vault.vault.azure.net`.
    Url(Text),
}

impl Vault {
    /// A vault written as `text`: a URL if it has a scheme, else a name.
    pub fn parse(text: Text) -> Self {
        if text.value.contains("://") {
            Vault::Url(text)
        } else {
            Vault::Name(text)
        }
    }

    /// The text as written (after interpolation).
    pub fn text(&self) -> &Text {
        match self {
            Vault::Name(t) | Vault::Url(t) => t,
        }
    }
}

/// `type:` of a Key Vault reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVaultObject {
    /// A secret's value.
    Secret,
    /// A certificate with its private key, as PEM.
    Certificate,
    /// A key's public part, as JWK JSON.
    Key,
}

/// A Key Vault reference.
#[derive(Debug, Clone)]
pub struct KeyVaultRef {
    /// `vault:`; when absent the store's `vault_name:` is used (see [`KeyVaultRef::vault_in`]).
    pub vault: Option<Vault>,
    /// `secret:`: the name of the secret, certificate or key.
    pub name: Text,
    /// `version:` (32 hex digits); latest when absent.
    pub version: Option<Text>,
    /// `type:`.
    pub object: KeyVaultObject,
    /// `field:`: one field of the secret's value, read as JSON.
    pub field: Option<Field>,
}

/// `field:` of a Key Vault secret reference: a path into the secret's
/// value read as JSON (`a.b` is member `b` of member `a`; a segment of
/// digits also indexes an array; `\.` is a dot inside a name, `\\` a
/// backslash). The leaf must be a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// As written.
    pub text: Text,
    /// The names along the path.
    pub path: Vec<String>,
}

impl Field {
    /// The names of path `text`, or why it is not one.
    pub fn parse_path(text: &str) -> Result<Vec<String>, String> {
        let mut path = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped @ ('.' | '\\')) => current.push(escaped),
                    Some(other) => {
                        return Err(format!(
                            "`\\{other}` is not an escape: write `\\.` for a dot in a name, `\\\\` for a backslash"
                        ));
                    }
                    None => return Err("it ends with a lone `\\`".to_owned()),
                },
                '.' => {
                    if current.is_empty() {
                        return Err(
                            "it has an empty name (two dots in a row, or a dot at an end)"
                                .to_owned(),
                        );
                    }
                    path.push(std::mem::take(&mut current));
                }
                c => current.push(c),
            }
        }
        if current.is_empty() {
            return Err("it has an empty name (two dots in a row, or a dot at an end)".to_owned());
        }
        path.push(current);
        Ok(path)
    }
}

impl KeyVaultRef {
    /// The vault this reference reads: its own, or the store's `vault_name`.
    /// A valid configuration always has one.
    pub fn vault_in(&self, store: &super::Store) -> Option<Vault> {
        self.vault
            .clone()
            .or_else(|| store.default_vault.clone().map(Vault::parse))
    }
}

/// `key:` of a storage account reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKey {
    /// `key1`.
    Key1,
    /// `key2`.
    Key2,
}

/// A storage account key reference.
#[derive(Debug, Clone)]
pub struct StorageKeyRef {
    /// `account:`.
    pub account: Text,
    /// `key:`.
    pub key: StorageKey,
    /// `resource_group:`; found by listing the subscription when absent.
    pub resource_group: Option<Text>,
}

/// `protocol:` of a SAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SasProtocol {
    /// `https` (default).
    Https,
    /// `https,http`.
    HttpsAndHttp,
}

/// An account SAS to sign.
#[derive(Debug, Clone)]
pub struct StorageSasRef {
    /// `account:`.
    pub account: Text,
    /// `permissions:` letters, in the order written (each letter at most once).
    pub permissions: Text,
    /// `expiry:`: how long the token is valid from issue.
    pub expiry: Spanned<Duration>,
    /// `start:`: how long before issue the token becomes valid (clock skew); none when absent.
    pub start_before: Option<Spanned<Duration>>,
    /// `services:` letters from `bfqt` (default `b`).
    pub services: Option<Text>,
    /// `resource_types:` letters from `sco` (default `co`).
    pub resource_types: Option<Text>,
    /// `ip:` an address or range `a.b.c.d-e.f.g.h`.
    pub ip: Option<Text>,
    /// `protocol:`.
    pub protocol: SasProtocol,
    /// `resource_group:`.
    pub resource_group: Option<Text>,
}

/// Connection string flavour for SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlDialect {
    /// ADO.NET / Microsoft.Data.SqlClient (default).
    AdoNet,
    /// Microsoft JDBC Driver for SQL Server.
    Jdbc,
    /// ODBC Driver 18 for SQL Server.
    Odbc,
}

/// An Azure SQL connection string reference.
#[derive(Debug, Clone)]
pub struct SqlRef {
    /// `server:` as written: a full host name or a server name.
    pub server: Text,
    /// `database:`.
    pub database: Text,
    /// `dialect:`.
    pub dialect: SqlDialect,
}

/// `key:` of a Cosmos DB reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CosmosKey {
    /// `primary`.
    Primary,
    /// `secondary`.
    Secondary,
    /// `primary_readonly`.
    PrimaryReadonly,
    /// `secondary_readonly`.
    SecondaryReadonly,
}

/// A Cosmos DB key reference.
#[derive(Debug, Clone)]
pub struct CosmosKeyRef {
    /// `account:`.
    pub account: Text,
    /// `key:`.
    pub key: CosmosKey,
    /// `resource_group:`.
    pub resource_group: Option<Text>,
}

/// `api:` of a Cosmos DB connection string reference: which of the
/// connection strings Azure lists for the account (`listConnectionStrings`
/// answers one set per API the account speaks, with `type` `Sql`,
/// `MongoDB`, `Table`, `Cassandra` or `Gremlin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CosmosApi {
    /// `sql` (the default): the NoSQL API's `AccountEndpoint=...;AccountKey=...;`,
    /// which every account kind lists.
    #[default]
    Sql,
    /// `mongodb`: `mongodb://...`, on accounts of kind `MongoDB`.
    MongoDb,
    /// `table`: `DefaultEndpointsProtocol=https;...TableEndpoint=...`, on Table accounts.
    Table,
    /// `cassandra`, on Cassandra accounts.
    Cassandra,
    /// `gremlin`, on Gremlin (graph) accounts.
    Gremlin,
}

impl CosmosApi {
    /// The word written in `dsops.yaml`.
    pub fn keyword(self) -> &'static str {
        match self {
            CosmosApi::Sql => "sql",
            CosmosApi::MongoDb => "mongodb",
            CosmosApi::Table => "table",
            CosmosApi::Cassandra => "cassandra",
            CosmosApi::Gremlin => "gremlin",
        }
    }

    /// The connection string's `type` in `listConnectionStrings`
    /// (`ConnectionStringType` in the spec).
    pub fn azure_type(self) -> &'static str {
        match self {
            CosmosApi::Sql => "Sql",
            CosmosApi::MongoDb => "MongoDB",
            CosmosApi::Table => "Table",
            CosmosApi::Cassandra => "Cassandra",
            CosmosApi::Gremlin => "Gremlin",
        }
    }
}

/// A Cosmos DB connection string reference.
#[derive(Debug, Clone)]
pub struct CosmosConnectionRef {
    /// `account:`.
    pub account: Text,
    /// Which key the connection string carries (`key:`, default primary).
    pub key: CosmosKey,
    /// Which API's connection string (`api:`, default `sql`).
    pub api: CosmosApi,
    /// `resource_group:`.
    pub resource_group: Option<Text>,
}

/// An access token reference.
#[derive(Debug, Clone)]
pub struct TokenRef {
    /// `resource:`: an https URL, an `api://` URI or an application id; a trailing `/.default` is allowed.
    pub resource: Text,
}
