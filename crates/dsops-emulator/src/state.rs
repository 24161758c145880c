//! The emulator's state file: tenants, identities, role assignments, vaults
//! and ARM accounts, as a user writes them. [`crate::directory`] turns it into
//! the running model (generated ids, keys and certificates).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::EmulatorError;
use crate::faults::FaultSpec;

/// The example state served when no file is given (also in the README).
pub const EXAMPLE: &str = include_str!("../examples/emulator-state.yaml");

/// The whole state file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StateFile {
    /// Tenants; the first is the default. One is made up when none is given.
    pub tenants: Vec<TenantSpec>,
    /// Subscriptions with their resource groups and accounts.
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Managed identities and service principals, by a name used in logs and
    /// role assignments.
    pub identities: BTreeMap<String, IdentitySpec>,
    /// Who may do what where.
    pub role_assignments: Vec<RoleAssignmentSpec>,
    /// Key Vaults by name.
    pub vaults: BTreeMap<String, VaultSpec>,
    /// The GitHub Actions OIDC issuer.
    pub github: GithubSpec,
    /// Further OIDC issuers (an AKS cluster, say) whose tokens the admin API mints.
    pub issuers: BTreeMap<String, IssuerSpec>,
    /// The OIDC issuers of other CI systems (Azure Pipelines, GitLab, CircleCI, Buildkite).
    pub ci: crate::ci::CiSpec,
    /// Settings of the managed identity endpoints.
    pub managed_identity: ManagedIdentitySpec,
    /// Lifetime of access tokens, in seconds (default 3600... as Entra: 3599 to 5399).
    pub token_lifetime: Option<u64>,
    /// Faults active from the start.
    pub faults: Vec<FaultSpec>,
    /// Management locks (ARM's `Microsoft.Authorization/locks`).
    pub locks: Vec<LockSpec>,
    /// Settings of Resource Manager.
    pub arm: ArmSpec,
}

/// Settings of Resource Manager.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ArmSpec {
    /// Items per page of its lists (subscriptions, accounts); further pages
    /// are reached by a `nextLink` with a `$skiptoken` (default: one page).
    pub page_size: Option<usize>,
}

/// A management lock on a scope and everything below it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LockSpec {
    /// The lock's name.
    pub name: String,
    /// A scope as role assignments write it (`storage:NAME`,
    /// `cosmosdb:NAME`, `resource_group:RG`, `subscription:NAME`, an ARM id).
    pub scope: String,
    /// `ReadOnly` or `CanNotDelete`.
    pub level: LockLevel,
}

/// What a lock forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum LockLevel {
    /// Reads only: every write and every POST action (`listKeys`...) is
    /// refused with `409 ScopeLocked`.
    ReadOnly,
    /// No deletion.
    CanNotDelete,
}

impl StateFile {
    /// Parses a state file's text.
    pub fn parse(text: &str) -> Result<Self, EmulatorError> {
        serde_saphyr::from_str(text).map_err(|e| EmulatorError::State {
            path: None,
            message: e.to_string(),
        })
    }

    /// Reads and parses a state file.
    pub fn load(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Read {
            path: path.to_owned(),
            source,
        })?;
        serde_saphyr::from_str(&text).map_err(|e| EmulatorError::State {
            path: Some(path.to_owned()),
            message: e.to_string(),
        })
    }

    /// The built-in example state.
    pub fn example() -> Result<Self, EmulatorError> {
        Self::parse(EXAMPLE)
    }
}

/// An Entra ID tenant.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    /// The tenant id (a GUID).
    pub id: String,
    /// Domain names that may stand for the id in token URLs.
    #[serde(default)]
    pub domains: Vec<String>,
}

/// A subscription.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// The subscription id; derived from `name` when absent.
    pub id: Option<String>,
    /// The display name.
    pub name: String,
    /// The tenant id (default: the first tenant).
    pub tenant: Option<String>,
    /// Resource groups by name.
    #[serde(default)]
    pub resource_groups: BTreeMap<String, ResourceGroupSpec>,
}

/// A resource group.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceGroupSpec {
    /// The region (default `westeurope`).
    pub location: Option<String>,
    /// Storage accounts by name.
    pub storage_accounts: BTreeMap<String, StorageAccountSpec>,
    /// Cosmos DB accounts by name.
    pub cosmosdb_accounts: BTreeMap<String, CosmosAccountSpec>,
}

/// A storage account; keys are generated when absent.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageAccountSpec {
    /// The region (default: the resource group's).
    pub location: Option<String>,
    /// `key1` (base64, 64 bytes when generated).
    pub key1: Option<String>,
    /// `key2`.
    pub key2: Option<String>,
}

/// A Cosmos DB account; keys are generated when absent.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CosmosAccountSpec {
    /// The region (default: the resource group's).
    pub location: Option<String>,
    /// Primary master key.
    pub primary: Option<String>,
    /// Secondary master key.
    pub secondary: Option<String>,
    /// Primary read-only key.
    pub primary_readonly: Option<String>,
    /// Secondary read-only key.
    pub secondary_readonly: Option<String>,
    /// The API the account speaks (`sql`, the default, `mongodb`, `table`,
    /// `cassandra`, `gremlin`): its `kind`, capabilities and the connection
    /// strings it lists.
    pub api: CosmosApi,
}

/// The API of a Cosmos DB account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CosmosApi {
    /// NoSQL (`kind: GlobalDocumentDB`).
    #[default]
    Sql,
    /// MongoDB (`kind: MongoDB`).
    MongoDb,
    /// Table (`GlobalDocumentDB` with the `EnableTable` capability).
    Table,
    /// Cassandra (`EnableCassandra`).
    Cassandra,
    /// Gremlin (`EnableGremlin`).
    Gremlin,
}

/// What kind of principal an identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// The host's system-assigned managed identity (at most one).
    SystemAssigned,
    /// A user-assigned managed identity.
    UserAssigned,
    /// An application's service principal (client secrets, federated credentials).
    ServicePrincipal,
}

/// A principal.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IdentitySpec {
    /// The kind of principal.
    #[serde(rename = "type")]
    pub kind: IdentityKind,
    /// Application (client) id; derived from the name when absent.
    pub client_id: Option<String>,
    /// Object (principal) id; derived from the name when absent.
    pub object_id: Option<String>,
    /// ARM id of a user-assigned identity; derived when absent.
    pub resource_id: Option<String>,
    /// Tenant id (default: the first tenant).
    pub tenant: Option<String>,
    /// For managed identities: whether the emulated host has it (default true).
    /// An identity that is not assigned gets IMDS's "Identity not found".
    #[serde(default = "yes")]
    pub assigned: bool,
    /// Client secrets accepted by the token endpoint.
    #[serde(default)]
    pub client_secrets: Vec<String>,
    /// Federated identity credentials (workload identity, GitHub OIDC).
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredentialSpec>,
}

fn yes() -> bool {
    true
}

/// A federated identity credential: which external tokens the token endpoint
/// accepts as a client assertion for this identity.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredentialSpec {
    /// The issuer URL, or the name of an issuer the emulator hosts (`github`,
    /// or a key of `issuers`).
    pub issuer: String,
    /// The exact `sub` claim, e.g. `repo:org/repo:environment:production`.
    pub subject: String,
    /// Accepted `aud` values (default `api://AzureADTokenExchange`).
    #[serde(default)]
    pub audiences: Vec<String>,
}

/// A role assignment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignmentSpec {
    /// An identity's name, or an object id.
    pub principal: String,
    /// A built-in role name, e.g. `Key Vault Secrets User`.
    pub role: String,
    /// An ARM id, or a shorthand: `vault:NAME`, `vault:NAME/secrets/SECRET`,
    /// `subscription:ID-OR-NAME`, `resource_group:RG` (in the first
    /// subscription) or `resource_group:SUBSCRIPTION/RG`, `storage:NAME`,
    /// `cosmosdb:NAME`.
    pub scope: String,
}

/// A Key Vault.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VaultSpec {
    /// Subscription id or name (default: the first).
    pub subscription: Option<String>,
    /// Resource group (default `rg-vaults`).
    pub resource_group: Option<String>,
    /// Tenant id (default: the subscription's).
    pub tenant: Option<String>,
    /// Secrets by name: a value, a version, or a list of versions (oldest first).
    pub secrets: BTreeMap<String, SecretSpec>,
    /// Certificates by name, generated at start.
    pub certificates: BTreeMap<String, CertificateSpec>,
    /// Keys by name, generated at start.
    pub keys: BTreeMap<String, KeySpec>,
    /// The `resource` its 401 challenges name (default: the vault's own
    /// domain). Another value emulates a host that asks for a token it
    /// should not get, which clients must refuse.
    pub challenge_resource: Option<String>,
    /// `rbac` (the default: Azure RBAC) or `access_policy` (the vault's
    /// access policies decide; role assignments on data are ignored).
    pub permission_model: PermissionModel,
    /// Access policies, for `permission_model: access_policy`.
    pub access_policies: Vec<AccessPolicySpec>,
    /// How lists (`/secrets`, `/secrets/NAME/versions`...) are paged.
    pub paging: PagingSpec,
    /// The vault's firewall (`networkAcls`).
    pub network_acls: NetworkAclsSpec,
}

/// A vault's firewall: with `default_action: Deny`, only the addresses of
/// `ip_rules` get through. The emulator's clients all come from loopback
/// (it listens there only), and it judges them as `127.0.0.1`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkAclsSpec {
    /// `Allow` (the default) or `Deny`.
    pub default_action: NetworkAction,
    /// Addresses or CIDR ranges let through when the default is `Deny`.
    pub ip_rules: Vec<String>,
}

/// A firewall's default action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum NetworkAction {
    /// Everyone gets through.
    #[default]
    Allow,
    /// Only the `ip_rules` get through.
    Deny,
}

/// Who decides access to a vault's data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionModel {
    /// Azure RBAC (`enableRbacAuthorization: true`).
    #[default]
    Rbac,
    /// Vault access policies.
    AccessPolicy,
}

/// An access policy: a principal and its permissions per kind of object.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AccessPolicySpec {
    /// An identity's name, or an object id.
    pub principal: String,
    /// Secret permissions (`get`, `list`, `set`...).
    pub secrets: Vec<String>,
    /// Certificate permissions.
    pub certificates: Vec<String>,
    /// Key permissions.
    pub keys: Vec<String>,
}

/// Paging of Key Vault lists.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PagingSpec {
    /// Items per page at most (Key Vault: `maxresults`, 25 by default).
    pub page_size: Option<usize>,
    /// Empty pages, each with a `nextLink`, before the first item, as Key
    /// Vault answers at times.
    pub empty_pages: usize,
}

/// A secret: its value, one version, or its versions oldest first.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SecretSpec {
    /// One version with this value.
    Value(String),
    /// Several versions, oldest first; the last is the current one.
    Versions(Vec<SecretVersionSpec>),
    /// One version with attributes.
    Version(SecretVersionSpec),
}

impl SecretSpec {
    /// The versions, oldest first.
    pub fn versions(&self) -> Vec<SecretVersionSpec> {
        match self {
            SecretSpec::Value(value) => vec![SecretVersionSpec::of(value.clone())],
            SecretSpec::Versions(list) => list.clone(),
            SecretSpec::Version(one) => vec![one.clone()],
        }
    }
}

/// One version of a secret.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretVersionSpec {
    /// The value.
    pub value: String,
    /// The version id (32 hex digits); derived when absent.
    pub version: Option<String>,
    /// The content type.
    pub content_type: Option<String>,
    /// `false` makes reads fail as Key Vault does for a disabled secret.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Expiry, in epoch seconds (informational, as in Key Vault).
    pub expires: Option<i64>,
    /// Not-before, in epoch seconds.
    pub not_before: Option<i64>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl SecretVersionSpec {
    /// A plain, enabled version.
    pub fn of(value: String) -> Self {
        Self {
            value,
            version: None,
            content_type: None,
            enabled: true,
            expires: None,
            not_before: None,
            tags: BTreeMap::new(),
        }
    }
}

/// How a certificate's private key is exported through its backing secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateFormat {
    /// `application/x-pkcs12`: base64 of a PFX (Key Vault's default).
    #[default]
    Pkcs12,
    /// `application/x-pem-file`: the private key then the certificate, PEM.
    Pem,
}

/// Key types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum KeyType {
    /// RSA 2048.
    #[default]
    #[serde(rename = "RSA")]
    Rsa,
    /// EC P-256.
    #[serde(rename = "EC")]
    Ec,
}

/// A certificate, generated self-signed at start.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CertificateSpec {
    /// The subject's common name (default: the certificate's name).
    pub subject: Option<String>,
    /// DNS names for the SAN extension.
    pub dns_names: Vec<String>,
    /// The backing secret's format.
    pub format: CertificateFormat,
    /// The key type.
    pub key_type: KeyType,
    /// `false` disables the certificate, its secret and its key.
    pub disabled: bool,
    /// Start of its validity, epoch seconds, rounded down to the day
    /// (default: today, 00:00 UTC). Key Vault writes it as `nbf` on the
    /// certificate, its backing secret and its key.
    pub not_before: Option<i64>,
    /// End of its validity, epoch seconds, rounded down to the day
    /// (default: a year after `not_before`, Key Vault's 12 months); `exp`.
    pub expires: Option<i64>,
}

/// A key, generated at start.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KeySpec {
    /// `RSA` (2048 bits) or `EC` (P-256).
    pub kty: KeyType,
    /// `false`... `true` disables the key.
    pub disabled: bool,
}

/// The GitHub Actions OIDC issuer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GithubSpec {
    /// The `iss` claim (default: the emulator's own `/github` URL).
    pub issuer: Option<String>,
    /// Token lifetime in seconds (default 300, as GitHub).
    pub lifetime: Option<u64>,
    /// The `ACTIONS_ID_TOKEN_REQUEST_TOKEN` the endpoint accepts (default:
    /// random, printed at start).
    pub request_token: Option<String>,
    /// Claims of the workflow run (`sub`, `repository`, `ref`, `environment`...).
    pub claims: BTreeMap<String, String>,
}

/// A further OIDC issuer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IssuerSpec {
    /// The `iss` claim (default: the emulator's own `/oidc/NAME` URL).
    pub issuer: Option<String>,
    /// Token lifetime in seconds (default 3600).
    pub lifetime: Option<u64>,
}

/// Settings of the managed identity endpoints.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ManagedIdentitySpec {
    /// The `IDENTITY_HEADER` App Service expects (default: random, printed).
    pub identity_header: Option<String>,
    /// Where Azure Arc writes its challenge key files (default: a directory of
    /// the emulator's own).
    pub arc_key_dir: Option<String>,
}
