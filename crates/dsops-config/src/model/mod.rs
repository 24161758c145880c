//! The validated configuration: what `dsops.yaml` says, with every string
//! interpolated and every name checked. Each part keeps its span so that later
//! errors (a 403 from Key Vault, say) can point back into the file.

mod cloud;
mod reference;
mod store;

pub use cloud::{
    Cloud, CloudEndpoints, CloudName, TRUSTED_AUTHORITY_VARIABLE, is_named_authority,
    normalise_origin, trusted_authorities,
};
pub use reference::{
    CosmosApi, CosmosConnectionRef, CosmosKey, CosmosKeyRef, Field, KeyVaultObject, KeyVaultRef,
    Reference, SasProtocol, SqlDialect, SqlRef, StorageKey, StorageKeyRef, StorageSasRef, Target,
    TokenRef, Vault,
};
pub use store::{
    Cache, CiPreset, CredentialSource, DebugSettings, Identity, MAX_MAX_CONCURRENT, Performance,
    Resource, ResourceType, ServicePrincipal, Store, StoreKind, UserAssignedId,
};

use secrecy::SecretString;

use crate::source::Span;

/// The configuration format version this dsops reads.
pub const SUPPORTED_VERSIONS: &[u32] = &[1];

/// A string from the file, after `${NAME}` interpolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The value.
    pub value: String,
    /// Where it is written.
    pub span: Span,
}

impl Text {
    /// The value as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.value)
    }
}

/// A secret string from the file (a literal value or a client secret); `Debug` redacts it.
#[derive(Debug, Clone)]
pub struct SecretText {
    /// The value, zeroized on drop.
    pub value: SecretString,
    /// Where it is written.
    pub span: Span,
    /// Whether `${NAME}` supplied some of it: then it is a value from the
    /// process environment, masked and exported as a secret, not text of
    /// the file.
    pub interpolated: bool,
}

/// A value and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub span: Span,
}

/// A whole, valid configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The format version (always 1 today).
    pub version: u32,
    /// `secretStores`, in file order.
    pub stores: Vec<Store>,
    /// `envs`, in file order.
    pub envs: Vec<Environment>,
}

impl Config {
    /// The store called `name`.
    pub fn store(&self, name: &str) -> Option<&Store> {
        self.stores.iter().find(|s| s.name.value == name)
    }

    /// The environment called `name`.
    pub fn env(&self, name: &str) -> Option<&Environment> {
        self.envs.iter().find(|e| e.name.value == name)
    }

    /// Names of all environments, in file order.
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.envs.iter().map(|e| e.name.as_str())
    }
}

/// One entry of `envs`: the variables a program gets in that environment.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Its name (`production`).
    pub name: Text,
    /// Its variables, in file order.
    pub variables: Vec<Variable>,
}

impl Environment {
    /// The variable called `name`.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name.value == name)
    }
}

/// One variable of an environment.
#[derive(Debug, Clone)]
pub struct Variable {
    /// The environment variable name (`DATABASE_PASSWORD`).
    pub name: Text,
    /// Where its value comes from.
    pub value: ValueSource,
    /// If true, a failure to resolve it is a warning and the variable is
    /// left unset, or set to `default`.
    pub optional: bool,
    /// `default:`: the value of an optional variable that cannot be
    /// resolved (written in the file, so not a secret: not masked, unless
    /// `${NAME}` supplied it).
    pub default: Option<SecretText>,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone)]
pub enum ValueSource {
    /// A value written in the file.
    Literal(SecretText),
    /// A value fetched from Azure.
    Reference(Box<Reference>),
}
