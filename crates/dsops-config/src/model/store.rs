//! `secretStores`: an identity in a cloud, how to obtain its tokens, and the
//! knobs that tune fetching.

use std::time::Duration;

use super::{Cloud, SecretText, Spanned, Text};
use crate::source::Span;

/// One entry of `secretStores`.
#[derive(Debug, Clone)]
pub struct Store {
    /// Its name, used by `from.store`.
    pub name: Text,
    /// `type:`.
    pub kind: StoreKind,
    /// The managed identity to use (`identity:`); system-assigned when not given.
    pub identity: Identity,
    /// `tenant_id:`, for the credential sources that need a tenant.
    pub tenant_id: Option<Text>,
    /// `cloud:`.
    pub cloud: Cloud,
    /// `vault_name:` of an `azure.keyvault` store: the vault of references that name none.
    pub default_vault: Option<Text>,
    /// `auth:` of an `azure.keyvault` store.
    pub auth: Option<ServicePrincipal>,
    /// `default_subscription:`, for ARM references that name none.
    pub default_subscription: Option<Text>,
    /// `resources:`, which pin resources to subscriptions and resource groups.
    pub resources: Vec<Resource>,
    /// `fallback:`: credential sources tried in order. `None` means the default chain.
    pub fallback: Option<Vec<Spanned<CredentialSource>>>,
    /// `cache:`.
    pub cache: Cache,
    /// `performance:`.
    pub performance: Performance,
    /// `preferred_regions:` (accepted; `check` warns that it has no effect).
    pub preferred_regions: Vec<Text>,
    /// `debug:`.
    pub debug: DebugSettings,
}

impl Store {
    /// The `resources:` entry for a resource of `kind` called `name`.
    pub fn resource(&self, kind: ResourceType, name: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.name.value.eq_ignore_ascii_case(name))
    }
}

/// `type:` of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// `azure.managed_identity`: no stored credential.
    ManagedIdentity,
    /// `azure.keyvault`: one vault, reached with a service principal (`auth:`).
    KeyVault,
}

impl StoreKind {
    /// The spelling in `type:`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::ManagedIdentity => "azure.managed_identity",
            StoreKind::KeyVault => "azure.keyvault",
        }
    }
}

/// Which managed identity a store uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Identity {
    /// The resource's own identity.
    #[default]
    SystemAssigned,
    /// A user-assigned identity attached to the resource.
    UserAssigned(UserAssignedId),
}

/// How a user-assigned identity is named. When the file gives several,
/// `client_id` wins over `object_id`, which wins over `resource_id`
/// (the identity endpoints accept only one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAssignedId {
    /// The application (client) id.
    ClientId(Text),
    /// The service principal's object (principal) id.
    ObjectId(Text),
    /// The ARM resource id of the identity.
    ResourceId(Text),
}

/// A service principal with a client secret.
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    /// Application (client) id.
    pub client_id: Text,
    /// Client secret (usually `${AZURE_CLIENT_SECRET}`).
    pub client_secret: SecretText,
    /// Directory (tenant) id or domain.
    pub tenant_id: Text,
}

/// One entry of `fallback:`.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// The platform's managed identity (IMDS, App Service, Arc, Cloud Shell), as the store's `identity:` says.
    ManagedIdentity,
    /// `az account get-access-token`.
    AzureCli {
        /// `--tenant` to pass, if any.
        tenant_id: Option<Text>,
    },
    /// A client secret given in the file (usually through `${VAR}`).
    ServicePrincipal(ServicePrincipal),
    /// A service principal whose id, secret and tenant are read from the named variables at run time.
    Environment {
        /// Variable holding the client id (default `AZURE_CLIENT_ID`).
        client_id_env: Text,
        /// Variable holding the client secret (default `AZURE_CLIENT_SECRET`).
        client_secret_env: Text,
        /// Variable holding the tenant id (default `AZURE_TENANT_ID`).
        tenant_id_env: Text,
    },
    /// Workload identity federation with a projected token file (AKS).
    WorkloadIdentity {
        /// Client id; `AZURE_CLIENT_ID` when absent.
        client_id: Option<Text>,
        /// Tenant id; `AZURE_TENANT_ID` when absent.
        tenant_id: Option<Text>,
        /// Token file; `AZURE_FEDERATED_TOKEN_FILE` when absent.
        token_file: Option<Text>,
    },
    /// Workload identity federation with a GitHub Actions OIDC token.
    GithubOidc {
        /// Client id of the app registration or user-assigned identity; `AZURE_CLIENT_ID` when absent.
        client_id: Option<Text>,
        /// Tenant id; `AZURE_TENANT_ID` when absent.
        tenant_id: Option<Text>,
        /// Audience of the GitHub token (default `api://AzureADTokenExchange`).
        audience: Text,
    },
    /// Workload identity federation with another CI system's OIDC token
    /// (`type: ci_federation`), one preset per CI.
    CiFederation {
        /// Where the token comes from.
        preset: CiPreset,
        /// Client id of the app registration or user-assigned identity that
        /// trusts the token; when absent, the preset's variable
        /// (`AZURESUBSCRIPTION_CLIENT_ID` in Azure Pipelines), then `AZURE_CLIENT_ID`.
        client_id: Option<Text>,
        /// Tenant id; when absent, the preset's variable
        /// (`AZURESUBSCRIPTION_TENANT_ID` in Azure Pipelines), then `AZURE_TENANT_ID`.
        tenant_id: Option<Text>,
    },
}

/// `preset:` of a `ci_federation` source: where the CI's OIDC token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiPreset {
    /// Azure Pipelines: `POST $SYSTEM_OIDCREQUESTURI` for the service
    /// connection, with `$SYSTEM_ACCESSTOKEN`, as the AzureCLI task asks.
    AzurePipelines {
        /// The service connection's id; `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID` when absent.
        service_connection_id: Option<Text>,
    },
    /// GitLab CI: the ID token the job declares under `id_tokens:`.
    Gitlab {
        /// The variable named under `id_tokens:` (default `GITLAB_OIDC_TOKEN`).
        token_env: Text,
    },
    /// Any other CI (Bitbucket, CircleCI, Buildkite...): a token in an
    /// environment variable, read again on every exchange.
    GenericEnv {
        /// The variable's name.
        token_env: Text,
    },
    /// Any other CI: a token in a file, read again on every exchange.
    GenericFile {
        /// The file's path.
        token_file: Text,
    },
}

impl CiPreset {
    /// The spelling in `preset:`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CiPreset::AzurePipelines { .. } => "azure_pipelines",
            CiPreset::Gitlab { .. } => "gitlab",
            CiPreset::GenericEnv { .. } | CiPreset::GenericFile { .. } => "generic",
        }
    }
}

impl CredentialSource {
    /// The spelling in `type:`.
    pub fn type_name(&self) -> &'static str {
        match self {
            CredentialSource::ManagedIdentity => "managed_identity",
            CredentialSource::AzureCli { .. } => "azure_cli",
            CredentialSource::ServicePrincipal(_) => "service_principal",
            CredentialSource::Environment { .. } => "environment",
            CredentialSource::WorkloadIdentity { .. } => "workload_identity",
            CredentialSource::GithubOidc { .. } => "github_oidc",
            CredentialSource::CiFederation { .. } => "ci_federation",
        }
    }
}

/// `resources:` entry: where an ARM resource lives.
#[derive(Debug, Clone)]
pub struct Resource {
    /// `type:`.
    pub kind: ResourceType,
    /// `name:`.
    pub name: Text,
    /// `subscription:`.
    pub subscription: Option<Text>,
    /// `resource_group:`.
    pub resource_group: Option<Text>,
    /// The whole entry.
    pub span: Span,
}

/// The kinds of resource a `resources:` entry can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// A Key Vault.
    KeyVault,
    /// A storage account.
    Storage,
    /// An Azure SQL logical server.
    Sql,
    /// A Cosmos DB account.
    CosmosDb,
}

impl ResourceType {
    /// The spelling in `type:` / `resource_type:`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::KeyVault => "keyvault",
            ResourceType::Storage => "storage",
            ResourceType::Sql => "sql",
            ResourceType::CosmosDb => "cosmosdb",
        }
    }
}

/// `cache:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// `token_cache.enabled` (default true): reuse a token for every request to the same scope.
    pub token_cache: bool,
    /// `token_cache.buffer` (default 300 s): refresh a token this long before it expires.
    pub token_buffer: Duration,
    /// `secret_cache.enabled` (default false): keep fetched values in memory for `ttl`.
    pub secret_cache: bool,
    /// `secret_cache.ttl` (default 600 s).
    pub secret_ttl: Duration,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            token_cache: true,
            token_buffer: Duration::from_secs(300),
            secret_cache: false,
            secret_ttl: Duration::from_secs(600),
        }
    }
}

/// `performance:`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Performance {
    /// `max_concurrent`: requests in flight at once, as written. `None`:
    /// dsops adapts (it starts wide and halves on `429`); when written, the
    /// window starts there and never passes it.
    pub max_concurrent: Option<u32>,
    /// `batch_size` (accepted; `check` warns that Key Vault has no batch read).
    pub batch_size: Option<u32>,
}

/// Largest `performance.max_concurrent` accepted.
pub const MAX_MAX_CONCURRENT: u32 = 256;

/// `debug:`. Tokens and values are never logged, whatever is set here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DebugSettings {
    /// `enabled`: print debug output to stderr.
    pub enabled: bool,
    /// `log_requests`: log each HTTP request's method, URL and status (never headers or bodies).
    pub log_requests: bool,
    /// `trace_identity`: log each credential source tried, and why it was chosen or skipped.
    pub trace_identity: bool,
}
