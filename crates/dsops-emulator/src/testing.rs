//! A typed builder of [`StateFile`], for tests that run code against the
//! emulator (feature `testing`, off by default).
//!
//! A test that starts an emulator describes its state here instead of in
//! YAML text: names and values are Rust expressions (constants, canaries,
//! values with quotes or line breaks need no escaping), a state can be
//! built up in a loop or extended by another test, and a state that tests of
//! several crates share has one named constructor ([`seed::forms`]).
//!
//! The builder makes exactly what the state file says, field for field: it
//! has no feature the YAML format lacks, and the YAML format (documented in
//! `docs/emulator.md`, parsed by [`StateFile::parse`]) stays the way users
//! describe a state. Methods follow the file's keys: containers
//! (subscriptions, resource groups, vaults) take a closure that fills them;
//! what they hold (identities, secrets, certificates, keys, accounts) is a
//! small value ([`Identity`], [`Secret`], [`Certificate`], [`Key`],
//! [`StorageAccount`], [`CosmosAccount`], [`Issuer`]), with shorthands for
//! the common forms. Nothing is checked here: the emulator checks the state
//! when it starts, as it checks a file.
//!
//! ```
//! use dsops_emulator::testing::{Certificate, Key, Secret, StateBuilder, StorageAccount};
//!
//! const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
//!
//! let state = StateBuilder::new()
//!     .system_identity("vm")
//!     .user_identity("worker", CLIENT_ID)
//!     .vault("dev-vault", |v| {
//!         v.secret("database-password", "CANARY-db-password")
//!             .secret_with("retired", Secret::new("CANARY-retired").disabled())
//!             .certificate("tls", Certificate::new().subject("app.contoso.com").pem())
//!             .key("signing", Key::ec())
//!     })
//!     .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
//!     .subscription("Development", |s| {
//!         s.resource_group("rg-app", |rg| {
//!             rg.storage_account("devstorage", StorageAccount::new())
//!         })
//!     })
//!     .build();
//!
//! assert_eq!(state.vaults["dev-vault"].secrets.len(), 2);
//! assert_eq!(state.role_assignments.len(), 1);
//! // The same state as YAML, key for key.
//! let yaml = dsops_emulator::StateFile::parse(
//!     r#"
//! identities:
//!   vm: { type: system_assigned }
//!   worker: { type: user_assigned, client_id: 11111111-2222-3333-4444-555555555555 }
//! role_assignments:
//!   - { principal: vm, role: Key Vault Secrets User, scope: "vault:dev-vault" }
//! vaults:
//!   dev-vault:
//!     secrets:
//!       database-password: CANARY-db-password
//!       retired: { value: CANARY-retired, enabled: false }
//!     certificates:
//!       tls: { subject: app.contoso.com, format: pem }
//!     keys:
//!       signing: { kty: EC }
//! subscriptions:
//!   - name: Development
//!     resource_groups: { rg-app: { storage_accounts: { devstorage: {} } } }
//! "#,
//! )?;
//! assert_eq!(state, yaml);
//! # Ok::<(), dsops_emulator::EmulatorError>(())
//! ```

use crate::faults::FaultSpec;
use crate::state::{
    AccessPolicySpec, CertificateFormat, CertificateSpec, CosmosAccountSpec,
    FederatedCredentialSpec, IdentityKind, IdentitySpec, IssuerSpec, KeySpec, KeyType, LockSpec,
    NetworkAclsSpec, NetworkAction, PagingSpec, ResourceGroupSpec, RoleAssignmentSpec, SecretSpec,
    SecretVersionSpec, StateFile, StorageAccountSpec, SubscriptionSpec, TenantSpec, VaultSpec,
};
pub use crate::state::{CosmosApi, LockLevel, PermissionModel};

/// Builds a [`StateFile`]: `StateBuilder::new()`, the parts, then
/// [`build`](Self::build).
#[derive(Debug, Default)]
#[must_use]
pub struct StateBuilder {
    state: StateFile,
}

impl StateBuilder {
    /// An empty state (as an empty file: a tenant is made up at start).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tenant (`tenants:`); the first one added is the default.
    pub fn tenant(self, id: impl Into<String>) -> Self {
        self.tenant_with_domains(id, Vec::<String>::new())
    }

    /// Adds a tenant with domain names that may stand for its id in token URLs.
    pub fn tenant_with_domains(
        mut self,
        id: impl Into<String>,
        domains: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.state.tenants.push(TenantSpec {
            id: id.into(),
            domains: domains.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Adds the subscription with display name `name` (`subscriptions:`), or
    /// goes on filling it when it is there already; `fill` sets its id,
    /// tenant and resource groups.
    pub fn subscription(
        mut self,
        name: impl Into<String>,
        fill: impl FnOnce(SubscriptionBuilder) -> SubscriptionBuilder,
    ) -> Self {
        let name = name.into();
        let subscriptions = &mut self.state.subscriptions;
        // In place: the first subscription is the default one.
        match subscriptions.iter_mut().find(|s| s.name == name) {
            Some(spec) => {
                let filled = fill(SubscriptionBuilder(spec.clone())).0;
                *spec = filled;
            }
            None => subscriptions.push(
                fill(SubscriptionBuilder(SubscriptionSpec {
                    id: None,
                    name,
                    tenant: None,
                    resource_groups: Default::default(),
                }))
                .0,
            ),
        }
        self
    }

    /// Adds the host's system-assigned managed identity, named `name` in
    /// role assignments and logs (ids derived from the name).
    pub fn system_identity(self, name: impl Into<String>) -> Self {
        self.identity(name, Identity::system_assigned())
    }

    /// Adds a user-assigned managed identity of the host with this client id.
    pub fn user_identity(self, name: impl Into<String>, client_id: impl Into<String>) -> Self {
        self.identity(name, Identity::user_assigned().client_id(client_id))
    }

    /// Adds (or replaces) the identity `name` (`identities:`).
    pub fn identity(mut self, name: impl Into<String>, identity: Identity) -> Self {
        self.state.identities.insert(name.into(), identity.0);
        self
    }

    /// Adds a role assignment (`role_assignments:`): `principal` is an
    /// identity's name or an object id, `role` a built-in role name (`Key
    /// Vault Secrets User`), `scope` an ARM id or a shorthand (`vault:NAME`,
    /// `vault:NAME/secrets/SECRET`, `subscription:NAME`, `resource_group:RG`,
    /// `storage:NAME`, `cosmosdb:NAME`).
    pub fn grant(
        mut self,
        principal: impl Into<String>,
        role: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        self.state.role_assignments.push(RoleAssignmentSpec {
            principal: principal.into(),
            role: role.into(),
            scope: scope.into(),
        });
        self
    }

    /// Adds the Key Vault `name` (`vaults:`), or goes on filling it when it
    /// is there already; `fill` sets where it is and what it holds.
    pub fn vault(
        mut self,
        name: impl Into<String>,
        fill: impl FnOnce(VaultBuilder) -> VaultBuilder,
    ) -> Self {
        let name = name.into();
        let spec = self.state.vaults.remove(&name).unwrap_or_default();
        self.state.vaults.insert(name, fill(VaultBuilder(spec)).0);
        self
    }

    /// A claim of the GitHub Actions workflow run (`github.claims`), e.g.
    /// `repository`, `ref`, `environment`, `sub`.
    pub fn github_claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.state.github.claims.insert(name.into(), value.into());
        self
    }

    /// The GitHub issuer's `iss` (`github.issuer`; default: the emulator's
    /// own `/github` URL).
    pub fn github_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.state.github.issuer = Some(issuer.into());
        self
    }

    /// The lifetime of GitHub's tokens, in seconds (`github.lifetime`).
    pub fn github_lifetime(mut self, seconds: u64) -> Self {
        self.state.github.lifetime = Some(seconds);
        self
    }

    /// The `ACTIONS_ID_TOKEN_REQUEST_TOKEN` GitHub's endpoint accepts
    /// (`github.request_token`; default: random).
    pub fn github_request_token(mut self, token: impl Into<String>) -> Self {
        self.state.github.request_token = Some(token.into());
        self
    }

    /// The Azure Pipelines organization and project (`ci.azure_pipelines`);
    /// tokens name them in their subject `sc://ORG/PROJECT/CONNECTION`.
    pub fn azure_pipelines(
        mut self,
        organization: impl Into<String>,
        project: impl Into<String>,
    ) -> Self {
        let spec = &mut self.state.ci.azure_pipelines;
        spec.organization = Some(organization.into());
        spec.project = Some(project.into());
        self
    }

    /// An Azure Pipelines service connection with workload identity
    /// federation (`ci.azure_pipelines.service_connections`).
    pub fn azure_pipelines_connection(
        mut self,
        name: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        self.state
            .ci
            .azure_pipelines
            .service_connections
            .insert(name.into(), id.into());
        self
    }

    /// The `System.AccessToken` the Azure Pipelines OIDC endpoint accepts
    /// (`ci.azure_pipelines.access_token`; default: random).
    pub fn azure_pipelines_access_token(mut self, token: impl Into<String>) -> Self {
        self.state.ci.azure_pipelines.access_token = Some(token.into());
        self
    }

    /// A claim of a CI's job (`ci.gitlab.claims`, `ci.circleci.claims`,
    /// `ci.buildkite.claims`), e.g. GitLab's `project_path` or `ref`; `sub`
    /// is made from them unless given.
    pub fn ci_claim(mut self, ci: Ci, name: impl Into<String>, value: impl Into<String>) -> Self {
        let spec = match ci {
            Ci::Gitlab => &mut self.state.ci.gitlab,
            Ci::Circleci => &mut self.state.ci.circleci,
            Ci::Buildkite => &mut self.state.ci.buildkite,
        };
        spec.claims.insert(name.into(), value.into());
        self
    }

    /// Adds a further OIDC issuer the emulator hosts (`issuers:`), e.g. an
    /// AKS cluster whose tokens [`crate::Emulator::mint_oidc_token`] mints.
    pub fn issuer(mut self, name: impl Into<String>, issuer: Issuer) -> Self {
        self.state.issuers.insert(name.into(), issuer.0);
        self
    }

    /// The `IDENTITY_HEADER` App Service expects
    /// (`managed_identity.identity_header`; default: random).
    pub fn identity_header(mut self, header: impl Into<String>) -> Self {
        self.state.managed_identity.identity_header = Some(header.into());
        self
    }

    /// Where Azure Arc writes its challenge key files
    /// (`managed_identity.arc_key_dir`).
    pub fn arc_key_dir(mut self, dir: impl Into<String>) -> Self {
        self.state.managed_identity.arc_key_dir = Some(dir.into());
        self
    }

    /// The lifetime of access tokens, in seconds (`token_lifetime`).
    pub fn token_lifetime(mut self, seconds: u64) -> Self {
        self.state.token_lifetime = Some(seconds);
        self
    }

    /// Adds a fault active from the start (`faults:`).
    pub fn fault(mut self, fault: FaultSpec) -> Self {
        self.state.faults.push(fault);
        self
    }

    /// Pages Resource Manager's lists, `page_size` items a page (`arm.page_size`).
    pub fn arm_page_size(mut self, page_size: usize) -> Self {
        self.state.arm.page_size = Some(page_size);
        self
    }

    /// Adds a management lock (`locks:`) named `name` on `scope` (as role
    /// assignments write scopes).
    pub fn lock(
        mut self,
        name: impl Into<String>,
        scope: impl Into<String>,
        level: LockLevel,
    ) -> Self {
        self.state.locks.push(LockSpec {
            name: name.into(),
            scope: scope.into(),
            level,
        });
        self
    }

    /// The state, for [`crate::Options::state`].
    pub fn build(self) -> StateFile {
        self.state
    }
}

/// Fills a subscription; see [`StateBuilder::subscription`].
#[derive(Debug)]
#[must_use]
pub struct SubscriptionBuilder(SubscriptionSpec);

impl SubscriptionBuilder {
    /// The subscription id (default: derived from the name).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.0.id = Some(id.into());
        self
    }

    /// The tenant id (default: the first tenant).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.0.tenant = Some(tenant.into());
        self
    }

    /// Adds the resource group `name`, or goes on filling it.
    pub fn resource_group(
        mut self,
        name: impl Into<String>,
        fill: impl FnOnce(ResourceGroupBuilder) -> ResourceGroupBuilder,
    ) -> Self {
        let name = name.into();
        let spec = self.0.resource_groups.remove(&name).unwrap_or_default();
        self.0
            .resource_groups
            .insert(name, fill(ResourceGroupBuilder(spec)).0);
        self
    }
}

/// Fills a resource group; see [`SubscriptionBuilder::resource_group`].
#[derive(Debug)]
#[must_use]
pub struct ResourceGroupBuilder(ResourceGroupSpec);

impl ResourceGroupBuilder {
    /// The region (default `westeurope`).
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.0.location = Some(location.into());
        self
    }

    /// Adds a storage account.
    pub fn storage_account(mut self, name: impl Into<String>, account: StorageAccount) -> Self {
        self.0.storage_accounts.insert(name.into(), account.0);
        self
    }

    /// Adds a Cosmos DB account.
    pub fn cosmosdb_account(mut self, name: impl Into<String>, account: CosmosAccount) -> Self {
        self.0.cosmosdb_accounts.insert(name.into(), account.0);
        self
    }
}

/// A storage account: keys are generated unless given.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct StorageAccount(StorageAccountSpec);

impl StorageAccount {
    /// An account with generated keys, in its resource group's region.
    pub fn new() -> Self {
        Self::default()
    }

    /// `key1` (base64).
    pub fn key1(mut self, key: impl Into<String>) -> Self {
        self.0.key1 = Some(key.into());
        self
    }

    /// `key2` (base64).
    pub fn key2(mut self, key: impl Into<String>) -> Self {
        self.0.key2 = Some(key.into());
        self
    }

    /// The region (default: the resource group's).
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.0.location = Some(location.into());
        self
    }
}

/// A Cosmos DB account: keys are generated unless given.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CosmosAccount(CosmosAccountSpec);

impl CosmosAccount {
    /// An account with generated keys, in its resource group's region.
    pub fn new() -> Self {
        Self::default()
    }

    /// The primary master key.
    pub fn primary(mut self, key: impl Into<String>) -> Self {
        self.0.primary = Some(key.into());
        self
    }

    /// The secondary master key.
    pub fn secondary(mut self, key: impl Into<String>) -> Self {
        self.0.secondary = Some(key.into());
        self
    }

    /// The primary read-only key.
    pub fn primary_readonly(mut self, key: impl Into<String>) -> Self {
        self.0.primary_readonly = Some(key.into());
        self
    }

    /// The secondary read-only key.
    pub fn secondary_readonly(mut self, key: impl Into<String>) -> Self {
        self.0.secondary_readonly = Some(key.into());
        self
    }

    /// The region (default: the resource group's).
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.0.location = Some(location.into());
        self
    }

    /// The API the account speaks (default SQL).
    pub fn api(mut self, api: CosmosApi) -> Self {
        self.0.api = api;
        self
    }
}

/// A principal: a managed identity or an application's service principal.
/// Ids not given are derived from its name, the same on every start.
#[derive(Debug, Clone)]
#[must_use]
pub struct Identity(IdentitySpec);

impl Identity {
    fn of(kind: IdentityKind) -> Self {
        Self(IdentitySpec {
            kind,
            client_id: None,
            object_id: None,
            resource_id: None,
            tenant: None,
            assigned: true,
            client_secrets: Vec::new(),
            federated_credentials: Vec::new(),
        })
    }

    /// The host's system-assigned managed identity (at most one per state).
    pub fn system_assigned() -> Self {
        Self::of(IdentityKind::SystemAssigned)
    }

    /// A user-assigned managed identity, assigned to the host.
    pub fn user_assigned() -> Self {
        Self::of(IdentityKind::UserAssigned)
    }

    /// An application's service principal (client secrets, federated
    /// credentials).
    pub fn service_principal() -> Self {
        Self::of(IdentityKind::ServicePrincipal)
    }

    /// The application (client) id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.0.client_id = Some(id.into());
        self
    }

    /// The object (principal) id.
    pub fn object_id(mut self, id: impl Into<String>) -> Self {
        self.0.object_id = Some(id.into());
        self
    }

    /// The ARM id of a user-assigned identity.
    pub fn resource_id(mut self, id: impl Into<String>) -> Self {
        self.0.resource_id = Some(id.into());
        self
    }

    /// The tenant id (default: the first tenant).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.0.tenant = Some(tenant.into());
        self
    }

    /// A managed identity the host does not have (`assigned: false`): IMDS
    /// answers "Identity not found".
    pub fn unassigned(mut self) -> Self {
        self.0.assigned = false;
        self
    }

    /// Adds a client secret the token endpoint accepts.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.0.client_secrets.push(secret.into());
        self
    }

    /// Adds a federated credential: tokens of `issuer` (a URL, `github`, or
    /// the name of an [`Issuer`] of the state) with this exact `sub`, for
    /// the default audience `api://AzureADTokenExchange`.
    pub fn federated_credential(
        self,
        issuer: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        self.federated_credential_for(issuer, subject, Vec::<String>::new())
    }

    /// Adds a federated credential that accepts these audiences.
    pub fn federated_credential_for(
        mut self,
        issuer: impl Into<String>,
        subject: impl Into<String>,
        audiences: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.0.federated_credentials.push(FederatedCredentialSpec {
            issuer: issuer.into(),
            subject: subject.into(),
            audiences: audiences.into_iter().map(Into::into).collect(),
        });
        self
    }
}

/// A CI whose runner hands the job its OIDC token; see [`StateBuilder::ci_claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    /// GitLab CI (`ci.gitlab`).
    Gitlab,
    /// CircleCI (`ci.circleci`).
    Circleci,
    /// Buildkite (`ci.buildkite`).
    Buildkite,
}

/// Fills a Key Vault; see [`StateBuilder::vault`].
#[derive(Debug)]
#[must_use]
pub struct VaultBuilder(VaultSpec);

impl VaultBuilder {
    /// The subscription, by id or name (default: the first).
    pub fn subscription(mut self, subscription: impl Into<String>) -> Self {
        self.0.subscription = Some(subscription.into());
        self
    }

    /// The resource group (default `rg-vaults`).
    pub fn resource_group(mut self, group: impl Into<String>) -> Self {
        self.0.resource_group = Some(group.into());
        self
    }

    /// The tenant id (default: the subscription's).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.0.tenant = Some(tenant.into());
        self
    }

    /// The `resource` its 401 challenges name (default: the vault's own
    /// domain); another value emulates a host that asks for a token it
    /// should not get.
    pub fn challenge_resource(mut self, resource: impl Into<String>) -> Self {
        self.0.challenge_resource = Some(resource.into());
        self
    }

    /// Adds a secret with one plain, enabled version.
    pub fn secret(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0
            .secrets
            .insert(name.into(), SecretSpec::Value(value.into()));
        self
    }

    /// Adds a secret with one version that has attributes.
    pub fn secret_with(mut self, name: impl Into<String>, version: Secret) -> Self {
        self.0
            .secrets
            .insert(name.into(), SecretSpec::Version(version.0));
        self
    }

    /// Adds a secret with several versions, oldest first: the last is the
    /// current one.
    pub fn secret_versions(
        mut self,
        name: impl Into<String>,
        versions: impl IntoIterator<Item = Secret>,
    ) -> Self {
        let versions = versions.into_iter().map(|v| v.0).collect();
        self.0
            .secrets
            .insert(name.into(), SecretSpec::Versions(versions));
        self
    }

    /// Adds a certificate, generated self-signed at start.
    pub fn certificate(mut self, name: impl Into<String>, certificate: Certificate) -> Self {
        self.0.certificates.insert(name.into(), certificate.0);
        self
    }

    /// Adds a key, generated at start.
    pub fn key(mut self, name: impl Into<String>, key: Key) -> Self {
        self.0.keys.insert(name.into(), key.0);
        self
    }

    /// Who decides access to the vault's data (default: Azure RBAC).
    pub fn permission_model(mut self, model: PermissionModel) -> Self {
        self.0.permission_model = model;
        self
    }

    /// Adds an access policy: `principal` (an identity's name or an object
    /// id) gets these secret, certificate and key permissions.
    pub fn access_policy(
        mut self,
        principal: impl Into<String>,
        secrets: &[&str],
        certificates: &[&str],
        keys: &[&str],
    ) -> Self {
        let owned = |list: &[&str]| list.iter().map(|p| (*p).to_owned()).collect();
        self.0.access_policies.push(AccessPolicySpec {
            principal: principal.into(),
            secrets: owned(secrets),
            certificates: owned(certificates),
            keys: owned(keys),
        });
        self
    }

    /// Its firewall denies by default and lets `ip_rules` through (the
    /// emulator's clients count as `127.0.0.1`).
    pub fn firewall(mut self, ip_rules: &[&str]) -> Self {
        self.0.network_acls = NetworkAclsSpec {
            default_action: NetworkAction::Deny,
            ip_rules: ip_rules.iter().map(|r| (*r).to_owned()).collect(),
        };
        self
    }

    /// Pages its lists: at most `page_size` items a page, after
    /// `empty_pages` empty pages.
    pub fn paging(mut self, page_size: Option<usize>, empty_pages: usize) -> Self {
        self.0.paging = PagingSpec {
            page_size,
            empty_pages,
        };
        self
    }
}

/// One version of a secret, with its attributes.
#[derive(Debug, Clone)]
#[must_use]
pub struct Secret(SecretVersionSpec);

impl Secret {
    /// An enabled version with this value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretVersionSpec::of(value.into()))
    }

    /// The version id (32 hex digits; default: derived).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.0.version = Some(version.into());
        self
    }

    /// The content type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.0.content_type = Some(content_type.into());
        self
    }

    /// Disabled: reads fail as Key Vault's do (`enabled: false`).
    pub fn disabled(mut self) -> Self {
        self.0.enabled = false;
        self
    }

    /// Expiry, in epoch seconds.
    pub fn expires(mut self, epoch_seconds: i64) -> Self {
        self.0.expires = Some(epoch_seconds);
        self
    }

    /// Not-before, in epoch seconds.
    pub fn not_before(mut self, epoch_seconds: i64) -> Self {
        self.0.not_before = Some(epoch_seconds);
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.tags.insert(name.into(), value.into());
        self
    }
}

/// A certificate, generated self-signed at start: an RSA key, its backing
/// secret PKCS#12, unless said otherwise.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Certificate(CertificateSpec);

impl Certificate {
    /// A certificate whose subject is its name.
    pub fn new() -> Self {
        Self::default()
    }

    /// The subject's common name.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.0.subject = Some(subject.into());
        self
    }

    /// Adds a DNS name to the SAN extension.
    pub fn dns_name(mut self, name: impl Into<String>) -> Self {
        self.0.dns_names.push(name.into());
        self
    }

    /// The backing secret is PEM (`application/x-pem-file`), not PKCS#12.
    pub fn pem(mut self) -> Self {
        self.0.format = CertificateFormat::Pem;
        self
    }

    /// An EC P-256 key instead of RSA 2048.
    pub fn ec(mut self) -> Self {
        self.0.key_type = KeyType::Ec;
        self
    }

    /// Disabled, with its secret and its key.
    pub fn disabled(mut self) -> Self {
        self.0.disabled = true;
        self
    }

    /// Its validity, epoch seconds (whole days): `nbf` and `exp` of the
    /// certificate, its backing secret and its key (default: today, for a
    /// year).
    pub fn validity(mut self, not_before: i64, expires: i64) -> Self {
        self.0.not_before = Some(not_before);
        self.0.expires = Some(expires);
        self
    }
}

/// A key, generated at start.
#[derive(Debug, Clone)]
#[must_use]
pub struct Key(KeySpec);

impl Key {
    /// An RSA 2048 key.
    pub fn rsa() -> Self {
        Self(KeySpec {
            kty: KeyType::Rsa,
            disabled: false,
        })
    }

    /// An EC P-256 key.
    pub fn ec() -> Self {
        Self(KeySpec {
            kty: KeyType::Ec,
            disabled: false,
        })
    }

    /// Disabled.
    pub fn disabled(mut self) -> Self {
        self.0.disabled = true;
        self
    }
}

/// A further OIDC issuer the emulator hosts; see [`StateBuilder::issuer`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Issuer(IssuerSpec);

impl Issuer {
    /// An issuer at the emulator's own `/oidc/NAME` URL, tokens lasting an hour.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `iss` claim.
    pub fn url(mut self, issuer: impl Into<String>) -> Self {
        self.0.issuer = Some(issuer.into());
        self
    }

    /// Token lifetime in seconds.
    pub fn lifetime(mut self, seconds: u64) -> Self {
        self.0.lifetime = Some(seconds);
        self
    }
}

pub mod seed {
    //! The state against which every `from:` form of the seed page (the
    //! page dsops was designed from, `tests/fixtures/seed-azure-managed-identity.md`)
    //! resolves, with the page's own names: the engine's test of the page
    //! (`tests/it/seed_resolves.rs`) and the typed `Env`'s
    //! (`crates/dsops-codegen/tests/forms.rs`) both use it.

    use super::{Certificate, CosmosAccount, Key, StateBuilder, StorageAccount};
    use crate::StateFile;

    /// The subscription `primary` (`PRIMARY_SUBSCRIPTION_ID`), which holds
    /// the storage and Cosmos DB accounts and the main vault.
    pub const PRIMARY_SUBSCRIPTION: &str = "11111111-0000-0000-0000-00000000a001";
    /// The subscription `shared` (`SHARED_SUBSCRIPTION_ID`), which holds
    /// `shared-keyvault`.
    pub const SHARED_SUBSCRIPTION: &str = "22222222-0000-0000-0000-00000000b002";
    /// `key1` of `mystorageaccount`.
    pub const STORAGE_KEY1: &str =
        "c2VlZC1zdG9yYWdlLWtleS0xLWNhbmFyeS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
    /// Secret `api-key` of the main vault (a canary).
    pub const API_KEY: &str = "seed-api-key-canary";
    /// Secret `shared-api-key` of `shared-keyvault` (a canary).
    pub const SHARED_API_KEY: &str = "seed-shared-canary";

    /// The host's system-assigned identity `vm`, which may read all of it:
    /// subscription `primary` with `mystorageaccount` and `mycosmosaccount`
    /// (resource group `rg-data`) and the vault `vault` (secret `api-key`,
    /// certificate `app-certificate`, EC key `data-key`); subscription
    /// `shared` with `shared-keyvault` (secret `shared-api-key`).
    ///
    /// `vault` is the main vault's name: the page calls it `mykeyvault` in
    /// some sections and `my-keyvault` in others.
    pub fn forms(vault: &str) -> StateFile {
        let scope = format!("vault:{vault}");
        StateBuilder::new()
            .subscription("primary", |s| {
                s.id(PRIMARY_SUBSCRIPTION).resource_group("rg-data", |rg| {
                    rg.storage_account("mystorageaccount", StorageAccount::new().key1(STORAGE_KEY1))
                        .cosmosdb_account("mycosmosaccount", CosmosAccount::new())
                })
            })
            .subscription("shared", |s| s.id(SHARED_SUBSCRIPTION))
            .system_identity("vm")
            .grant("vm", "Reader and Data Access", "subscription:primary")
            .grant(
                "vm",
                "DocumentDB Account Contributor",
                "cosmosdb:mycosmosaccount",
            )
            .grant("vm", "Key Vault Secrets User", &scope)
            .grant("vm", "Key Vault Certificate User", &scope)
            .grant("vm", "Key Vault Crypto User", &scope)
            .grant("vm", "Key Vault Secrets User", "vault:shared-keyvault")
            .vault(vault, |v| {
                v.subscription("primary")
                    .secret("api-key", API_KEY)
                    .certificate(
                        "app-certificate",
                        Certificate::new().subject("app.contoso.com"),
                    )
                    .key("data-key", Key::ec())
            })
            .vault("shared-keyvault", |v| {
                v.subscription("shared")
                    .secret("shared-api-key", SHARED_API_KEY)
            })
            .build()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// The example state, built: every key of it has its method.
    fn example() -> StateFile {
        StateBuilder::new()
            .tenant_with_domains(
                "72f988bf-86f1-41af-91ab-2d7cd011db47",
                ["contoso.onmicrosoft.com"],
            )
            .subscription("Development", |s| {
                s.id("00000000-0000-0000-0000-00000000c0de")
                    .resource_group("rg-app", |rg| {
                        rg.location("westeurope")
                            .storage_account("devstorage", StorageAccount::new())
                            .cosmosdb_account("devcosmos", CosmosAccount::new())
                    })
            })
            .system_identity("vm")
            .user_identity("worker", "11111111-2222-3333-4444-555555555555")
            .identity(
                "ci",
                Identity::service_principal()
                    .client_id("99999999-8888-7777-6666-555555555555")
                    .client_secret("dev-only-client-secret")
                    .federated_credential("github", "repo:octo-org/octo-repo:ref:refs/heads/main")
                    .federated_credential("azure_pipelines", "sc://contoso/web/production"),
            )
            .identity("outsider", Identity::user_assigned())
            .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
            .grant(
                "worker",
                "Key Vault Secrets User",
                "vault:dev-vault/secrets/database-password",
            )
            .grant("ci", "Key Vault Secrets Officer", "vault:dev-vault")
            .grant("ci", "Key Vault Certificate User", "vault:dev-vault")
            .grant("vm", "Reader and Data Access", "subscription:Development")
            .grant("vm", "DocumentDB Account Contributor", "cosmosdb:devcosmos")
            .vault("dev-vault", |v| {
                v.subscription("Development")
                    .resource_group("rg-app")
                    .secret("database-password", "dev-db-password")
                    .secret_versions(
                        "api-key",
                        [
                            Secret::new("old-api-key"),
                            Secret::new("current-api-key").content_type("text/plain"),
                        ],
                    )
                    .secret_with("retired-token", Secret::new("no-longer-used").disabled())
                    .certificate(
                        "tls-cert",
                        Certificate::new()
                            .subject("app.contoso.com")
                            .dns_name("app.contoso.com")
                            .pem(),
                    )
                    .certificate(
                        "signing-cert",
                        Certificate::new().subject("signer.contoso.com"),
                    )
                    .key("signing-key", Key::rsa())
                    .key("ec-key", Key::ec())
            })
            .github_claim("repository", "octo-org/octo-repo")
            .github_claim("ref", "refs/heads/main")
            .azure_pipelines("contoso", "web")
            .azure_pipelines_connection("production", "5b1d1e8c-4f2a-4b7e-9c3d-2a1f0e9d8c7b")
            .build()
    }

    #[test]
    fn the_example_state_built_is_the_example_file() {
        assert_eq!(example(), StateFile::example().unwrap());
    }

    #[test]
    fn every_other_key_of_the_format_has_its_method() {
        let built = StateBuilder::new()
            .tenant("11111111-1111-1111-1111-111111111111")
            .tenant("22222222-2222-2222-2222-222222222222")
            .subscription("Far", |s| {
                s.tenant("22222222-2222-2222-2222-222222222222")
                    .resource_group("rg", |rg| {
                        rg.storage_account(
                            "store",
                            StorageAccount::new()
                                .key1("k1")
                                .key2("k2")
                                .location("northeurope"),
                        )
                        .cosmosdb_account(
                            "docs",
                            CosmosAccount::new()
                                .primary("p")
                                .secondary("s")
                                .primary_readonly("pr")
                                .secondary_readonly("sr")
                                .location("northeurope")
                                .api(CosmosApi::MongoDb),
                        )
                    })
            })
            .identity(
                "app",
                Identity::user_assigned()
                    .object_id("33333333-3333-3333-3333-333333333333")
                    .resource_id("/subscriptions/x/app")
                    .tenant("22222222-2222-2222-2222-222222222222")
                    .unassigned()
                    .federated_credential_for(
                        "aks",
                        "system:serviceaccount:default:app",
                        ["a", "b"],
                    ),
            )
            .vault("far-vault", |v| {
                v.tenant("22222222-2222-2222-2222-222222222222")
                    .challenge_resource("https://evil.localhost")
                    .secret_with(
                        "s",
                        Secret::new("v")
                            .version("0123456789abcdef0123456789abcdef")
                            .expires(4102444800)
                            .not_before(1000000000)
                            .tag("owner", "team"),
                    )
                    .certificate(
                        "off",
                        Certificate::new()
                            .ec()
                            .disabled()
                            .validity(1_700_000_000, 1_800_000_000),
                    )
                    .key("off", Key::rsa().disabled())
                    .permission_model(PermissionModel::AccessPolicy)
                    .access_policy("app", &["get", "list"], &["get"], &[])
                    .paging(Some(1), 2)
                    .firewall(&["203.0.113.7"])
            })
            .github_issuer("https://token.actions.githubusercontent.com")
            .github_lifetime(60)
            .github_request_token("request-token")
            .issuer("aks", Issuer::new())
            .issuer(
                "other",
                Issuer::new().url("https://oidc.example").lifetime(10),
            )
            .identity_header("header")
            .arc_key_dir("/tmp/arc")
            .token_lifetime(4000)
            .fault(FaultSpec {
                service: Some("keyvault".to_owned()),
                status: Some(429),
                retry_after: Some(3),
                ..FaultSpec::default()
            })
            .lock("no-writes", "cosmosdb:docs", LockLevel::ReadOnly)
            .arm_page_size(2)
            .build();
        let parsed = StateFile::parse(
            r#"
tenants:
  - id: 11111111-1111-1111-1111-111111111111
  - id: 22222222-2222-2222-2222-222222222222
subscriptions:
  - name: Far
    tenant: 22222222-2222-2222-2222-222222222222
    resource_groups:
      rg:
        storage_accounts: { store: { key1: k1, key2: k2, location: northeurope } }
        cosmosdb_accounts:
          docs: { primary: p, secondary: s, primary_readonly: pr, secondary_readonly: sr, location: northeurope, api: mongodb }
identities:
  app:
    type: user_assigned
    object_id: 33333333-3333-3333-3333-333333333333
    resource_id: /subscriptions/x/app
    tenant: 22222222-2222-2222-2222-222222222222
    assigned: false
    federated_credentials:
      - { issuer: aks, subject: "system:serviceaccount:default:app", audiences: [a, b] }
vaults:
  far-vault:
    tenant: 22222222-2222-2222-2222-222222222222
    challenge_resource: https://evil.localhost
    secrets:
      s: { value: v, version: 0123456789abcdef0123456789abcdef, expires: 4102444800, not_before: 1000000000, tags: { owner: team } }
    certificates:
      off: { key_type: EC, disabled: true, not_before: 1700000000, expires: 1800000000 }
    keys:
      off: { kty: RSA, disabled: true }
    permission_model: access_policy
    access_policies:
      - { principal: app, secrets: [get, list], certificates: [get] }
    paging: { page_size: 1, empty_pages: 2 }
    network_acls: { default_action: Deny, ip_rules: [203.0.113.7] }
github:
  issuer: https://token.actions.githubusercontent.com
  lifetime: 60
  request_token: request-token
issuers:
  aks: {}
  other: { issuer: "https://oidc.example", lifetime: 10 }
managed_identity:
  identity_header: header
  arc_key_dir: /tmp/arc
token_lifetime: 4000
faults:
  - { service: keyvault, status: 429, retry_after: 3 }
locks:
  - { name: no-writes, scope: "cosmosdb:docs", level: ReadOnly }
arm: { page_size: 2 }
"#,
        )
        .unwrap();
        assert_eq!(built, parsed);
    }

    #[test]
    fn a_vault_subscription_or_resource_group_named_again_is_filled_further() {
        let state = StateBuilder::new()
            .vault("kv", |v| v.secret("a", "1"))
            .subscription("Dev", |s| s.resource_group("rg", |rg| rg.location("here")))
            .vault("kv", |v| v.secret("b", "2"))
            .subscription("Dev", |s| {
                s.id("00000000-0000-0000-0000-000000000001")
                    .resource_group("rg", |rg| rg.storage_account("st", StorageAccount::new()))
            })
            .build();
        assert_eq!(state.vaults.len(), 1);
        assert_eq!(state.vaults["kv"].secrets.len(), 2);
        assert_eq!(state.subscriptions.len(), 1);
        let group = &state.subscriptions[0].resource_groups["rg"];
        assert_eq!(group.location.as_deref(), Some("here"));
        assert_eq!(group.storage_accounts.len(), 1);
    }

    #[test]
    fn the_seed_state_serves_both_spellings_of_the_main_vault() {
        for vault in ["mykeyvault", "my-keyvault"] {
            let state = seed::forms(vault);
            assert_eq!(state.vaults.len(), 2);
            assert!(state.vaults.contains_key(vault));
            let scope = format!("vault:{vault}");
            assert_eq!(
                state
                    .role_assignments
                    .iter()
                    .filter(|r| r.scope == scope)
                    .count(),
                3
            );
        }
    }
}
