//! The running directory: tenants, principals, subscriptions with their
//! accounts, and role assignments, with ids filled in and references checked.

use std::collections::{BTreeMap, BTreeSet};

use crate::EmulatorError;
use crate::crypto::{b64, guid_from, sha256};
use crate::roles::{self, Action};
use crate::state::{CosmosApi, IdentityKind, LockLevel, PagingSpec, PermissionModel, StateFile};

/// A tenant.
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) domains: Vec<String>,
}

/// A principal: a managed identity or a service principal.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) name: String,
    pub(crate) kind: IdentityKind,
    pub(crate) client_id: String,
    pub(crate) object_id: String,
    pub(crate) resource_id: Option<String>,
    pub(crate) tenant_id: String,
    pub(crate) assigned: bool,
    pub(crate) client_secrets: Vec<String>,
    pub(crate) federated: Vec<Federated>,
}

/// A federated identity credential.
#[derive(Debug, Clone)]
pub(crate) struct Federated {
    /// An issuer URL, or the name of an issuer the emulator hosts.
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) audiences: Vec<String>,
}

/// A role assignment.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub(crate) object_id: String,
    pub(crate) role: &'static str,
    pub(crate) actions: &'static [Action],
    /// Lower-case ARM id without a trailing slash.
    pub(crate) scope: String,
}

/// A subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) tenant_id: String,
    pub(crate) groups: Vec<ResourceGroup>,
}

/// A resource group.
#[derive(Debug, Clone)]
pub(crate) struct ResourceGroup {
    pub(crate) name: String,
    /// Its location (`westeurope` unless the state names one).
    pub(crate) location: String,
    pub(crate) storage: Vec<StorageAccount>,
    pub(crate) cosmos: Vec<CosmosAccount>,
}

/// A storage account.
#[derive(Debug, Clone)]
pub(crate) struct StorageAccount {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) key1: String,
    pub(crate) key2: String,
}

/// A Cosmos DB account.
#[derive(Debug, Clone)]
pub(crate) struct CosmosAccount {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) primary: String,
    pub(crate) secondary: String,
    pub(crate) primary_readonly: String,
    pub(crate) secondary_readonly: String,
    pub(crate) api: CosmosApi,
}

/// Where a vault lives.
#[derive(Debug, Clone)]
pub(crate) struct VaultPlace {
    pub(crate) resource_id: String,
    pub(crate) tenant_id: String,
    /// The `resource` its 401 challenges name instead of its own domain.
    pub(crate) challenge_resource: Option<String>,
    pub(crate) permission_model: PermissionModel,
    /// Access policies: object id, then (kind, permission) pairs, lower-case.
    pub(crate) access_policies: Vec<(String, Vec<(String, String)>)>,
    pub(crate) paging: PagingSpec,
    /// Whether the firewall refuses the emulator's (loopback) clients.
    pub(crate) firewall_denies: bool,
}

/// A management lock.
#[derive(Debug, Clone)]
pub(crate) struct Lock {
    pub(crate) name: String,
    /// Lower-case ARM id without a trailing slash.
    pub(crate) scope: String,
    /// The scope as ARM writes it in messages.
    pub(crate) original_scope: String,
    pub(crate) level: LockLevel,
}

/// The directory.
#[derive(Debug)]
pub(crate) struct Directory {
    pub(crate) tenants: Vec<Tenant>,
    pub(crate) principals: Vec<Principal>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) vaults: BTreeMap<String, VaultPlace>,
    pub(crate) locks: Vec<Lock>,
    /// Items per page of ARM lists.
    pub(crate) arm_page_size: Option<usize>,
}

/// Key Vault's access policy permissions, lower case: the `SecretPermissions`,
/// `CertificatePermissions` and `KeyPermissions` enums of the Key Vault
/// management specification (Microsoft.KeyVault, `keyvault.json`).
const SECRET_PERMISSIONS: &[&str] = &[
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];
const CERTIFICATE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
];
const KEY_PERMISSIONS: &[&str] = &[
    "all",
    "encrypt",
    "decrypt",
    "wrapkey",
    "unwrapkey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
];

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a vault's firewall stops the emulator's clients, which all come
/// from loopback and are judged as `127.0.0.1`: `default_action: Deny` and
/// no `ip_rules` entry (an IPv4 address or CIDR range) that holds it.
fn firewall_denies_loopback(
    vault: &str,
    acls: &crate::state::NetworkAclsSpec,
) -> Result<bool, EmulatorError> {
    if acls.default_action != crate::state::NetworkAction::Deny {
        return Ok(false);
    }
    let client = u32::from(std::net::Ipv4Addr::LOCALHOST);
    for rule in &acls.ip_rules {
        let (address, prefix) = rule.split_once('/').unwrap_or((rule, "32"));
        let (Ok(address), Ok(prefix)) =
            (address.parse::<std::net::Ipv4Addr>(), prefix.parse::<u32>())
        else {
            return Err(invalid(format!(
                "vault `{vault}`: ip rule `{rule}` is not an IPv4 address or CIDR range"
            )));
        };
        if prefix > 32 {
            return Err(invalid(format!(
                "vault `{vault}`: ip rule `{rule}` has a prefix above 32"
            )));
        }
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        if u32::from(address) & mask == client & mask {
            return Ok(false);
        }
    }
    Ok(true)
}

fn invalid(message: impl Into<String>) -> EmulatorError {
    EmulatorError::State {
        path: None,
        message: message.into(),
    }
}

/// A key derived from a seed: stable across restarts, 64 bytes in base64.
fn derived_key(seed: &str) -> String {
    let mut bytes = sha256(format!("{seed}/a").as_bytes());
    bytes.extend(sha256(format!("{seed}/b").as_bytes()));
    b64(&bytes)
}

impl Directory {
    /// Builds the directory from a state file, checking every reference.
    pub(crate) fn build(state: &StateFile) -> Result<Self, EmulatorError> {
        let mut tenants: Vec<Tenant> = state
            .tenants
            .iter()
            .map(|t| Tenant {
                id: t.id.to_ascii_lowercase(),
                domains: t.domains.clone(),
            })
            .collect();
        if tenants.is_empty() {
            tenants.push(Tenant {
                id: guid_from("dsops-emulator/tenant"),
                domains: vec![],
            });
        }
        let default_tenant = tenants.first().map(|t| t.id.clone()).unwrap_or_default();
        let tenant_of = |given: &Option<String>, what: &str| -> Result<String, EmulatorError> {
            match given {
                None => Ok(default_tenant.clone()),
                Some(t) => tenants
                    .iter()
                    .find(|x| {
                        x.id.eq_ignore_ascii_case(t)
                            || x.domains.iter().any(|d| d.eq_ignore_ascii_case(t))
                    })
                    .map(|x| x.id.clone())
                    .ok_or_else(|| invalid(format!("{what}: tenant `{t}` is not in `tenants`"))),
            }
        };

        let mut subscriptions = Vec::new();
        for spec in &state.subscriptions {
            let id = spec
                .id
                .clone()
                .unwrap_or_else(|| guid_from(&format!("subscription/{}", spec.name)))
                .to_ascii_lowercase();
            let tenant_id = tenant_of(&spec.tenant, &format!("subscription `{}`", spec.name))?;
            let mut groups = Vec::new();
            for (rg, group) in &spec.resource_groups {
                let location = group
                    .location
                    .clone()
                    .unwrap_or_else(|| "westeurope".to_owned());
                let base = format!("/subscriptions/{id}/resourceGroups/{rg}/providers");
                let storage = group
                    .storage_accounts
                    .iter()
                    .map(|(name, a)| StorageAccount {
                        id: format!("{base}/Microsoft.Storage/storageAccounts/{name}"),
                        name: name.clone(),
                        location: a.location.clone().unwrap_or_else(|| location.clone()),
                        key1: a
                            .key1
                            .clone()
                            .unwrap_or_else(|| derived_key(&format!("storage/{name}/key1"))),
                        key2: a
                            .key2
                            .clone()
                            .unwrap_or_else(|| derived_key(&format!("storage/{name}/key2"))),
                    })
                    .collect();
                let cosmos = group
                    .cosmosdb_accounts
                    .iter()
                    .map(|(name, a)| {
                        let key = |given: &Option<String>, which: &str| {
                            given
                                .clone()
                                .unwrap_or_else(|| derived_key(&format!("cosmos/{name}/{which}")))
                        };
                        CosmosAccount {
                            id: format!("{base}/Microsoft.DocumentDB/databaseAccounts/{name}"),
                            name: name.clone(),
                            location: a.location.clone().unwrap_or_else(|| location.clone()),
                            primary: key(&a.primary, "primary"),
                            secondary: key(&a.secondary, "secondary"),
                            primary_readonly: key(&a.primary_readonly, "primary_readonly"),
                            secondary_readonly: key(&a.secondary_readonly, "secondary_readonly"),
                            api: a.api,
                        }
                    })
                    .collect();
                groups.push(ResourceGroup {
                    name: rg.clone(),
                    location,
                    storage,
                    cosmos,
                });
            }
            subscriptions.push(Subscription {
                id,
                name: spec.name.clone(),
                tenant_id,
                groups,
            });
        }
        if subscriptions.is_empty() {
            subscriptions.push(Subscription {
                id: guid_from("subscription/Emulated"),
                name: "Emulated".to_owned(),
                tenant_id: default_tenant.clone(),
                groups: Vec::new(),
            });
        }
        check_unique(
            subscriptions.iter().map(|s| s.id.clone()),
            "subscription id",
        )?;
        check_unique(
            subscriptions.iter().flat_map(|s| {
                s.groups
                    .iter()
                    .flat_map(|g| g.storage.iter().map(|a| a.name.to_ascii_lowercase()))
            }),
            "storage account name",
        )?;
        check_unique(
            subscriptions.iter().flat_map(|s| {
                s.groups
                    .iter()
                    .flat_map(|g| g.cosmos.iter().map(|a| a.name.to_ascii_lowercase()))
            }),
            "Cosmos DB account name",
        )?;

        let mut vaults = BTreeMap::new();
        for (name, spec) in &state.vaults {
            let subscription = match &spec.subscription {
                None => subscriptions.first(),
                Some(s) => subscriptions
                    .iter()
                    .find(|x| x.id.eq_ignore_ascii_case(s) || x.name == *s),
            }
            .ok_or_else(|| {
                invalid(format!(
                    "vault `{name}`: subscription is not in `subscriptions`"
                ))
            })?;
            let rg = spec
                .resource_group
                .clone()
                .unwrap_or_else(|| "rg-vaults".to_owned());
            let tenant_id = match &spec.tenant {
                Some(_) => tenant_of(&spec.tenant, &format!("vault `{name}`"))?,
                None => subscription.tenant_id.clone(),
            };
            let valid = (3..=24).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
            if !valid {
                return Err(invalid(format!(
                    "vault `{name}`: a vault name is 3-24 letters, digits and hyphens, starting with a letter"
                )));
            }
            let resource_id = format!(
                "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}",
                subscription.id
            );
            if vaults
                .insert(
                    name.to_ascii_lowercase(),
                    VaultPlace {
                        resource_id,
                        tenant_id,
                        challenge_resource: spec.challenge_resource.clone(),
                        permission_model: spec.permission_model,
                        access_policies: Vec::new(),
                        paging: spec.paging.clone(),
                        firewall_denies: firewall_denies_loopback(name, &spec.network_acls)?,
                    },
                )
                .is_some()
            {
                return Err(invalid(format!("vault `{name}` is listed twice")));
            }
        }

        let first_subscription = subscriptions
            .first()
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let mut principals = Vec::new();
        for (name, spec) in &state.identities {
            let tenant_id = tenant_of(&spec.tenant, &format!("identity `{name}`"))?;
            let resource_id = match spec.kind {
                IdentityKind::UserAssigned => Some(spec.resource_id.clone().unwrap_or_else(|| {
                    format!(
                        "/subscriptions/{first_subscription}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
                    )
                })),
                _ => spec.resource_id.clone(),
            };
            if spec.kind != IdentityKind::ServicePrincipal && !spec.client_secrets.is_empty() {
                return Err(invalid(format!(
                    "identity `{name}`: only a service_principal has client_secrets (managed identities have no secret)"
                )));
            }
            if spec.kind == IdentityKind::SystemAssigned && !spec.federated_credentials.is_empty() {
                return Err(invalid(format!(
                    "identity `{name}`: federated credentials belong to user-assigned identities and applications"
                )));
            }
            principals.push(Principal {
                name: name.clone(),
                kind: spec.kind,
                client_id: spec
                    .client_id
                    .clone()
                    .unwrap_or_else(|| guid_from(&format!("client/{name}")))
                    .to_ascii_lowercase(),
                object_id: spec
                    .object_id
                    .clone()
                    .unwrap_or_else(|| guid_from(&format!("object/{name}")))
                    .to_ascii_lowercase(),
                resource_id,
                tenant_id,
                assigned: spec.assigned,
                client_secrets: spec.client_secrets.clone(),
                federated: spec
                    .federated_credentials
                    .iter()
                    .map(|f| Federated {
                        issuer: f.issuer.clone(),
                        subject: f.subject.clone(),
                        audiences: if f.audiences.is_empty() {
                            vec!["api://AzureADTokenExchange".to_owned()]
                        } else {
                            f.audiences.clone()
                        },
                    })
                    .collect(),
            });
        }
        if principals
            .iter()
            .filter(|p| p.kind == IdentityKind::SystemAssigned)
            .count()
            > 1
        {
            return Err(invalid("a host has at most one system_assigned identity"));
        }
        check_unique(principals.iter().map(|p| p.client_id.clone()), "client_id")?;
        check_unique(principals.iter().map(|p| p.object_id.clone()), "object_id")?;

        let mut directory = Directory {
            tenants,
            principals,
            assignments: Vec::new(),
            subscriptions,
            vaults,
            locks: Vec::new(),
            arm_page_size: state.arm.page_size.filter(|n| *n > 0),
        };
        for spec in &state.role_assignments {
            let (role, actions) = roles::lookup(&spec.role).ok_or_else(|| {
                let names: Vec<&str> = roles::ROLES.iter().map(|(n, _)| *n).collect();
                let hint = crate::suggest(&spec.role, &names)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                invalid(format!(
                    "role assignment: unknown role `{}`{hint}",
                    spec.role
                ))
            })?;
            let principal = directory
                .principals
                .iter()
                .find(|p| {
                    p.name == spec.principal || p.object_id.eq_ignore_ascii_case(&spec.principal)
                })
                .ok_or_else(|| {
                    invalid(format!(
                        "role assignment: principal `{}` is not in `identities`",
                        spec.principal
                    ))
                })?;
            let object_id = principal.object_id.clone();
            let scope = directory.expand_scope(&spec.scope)?;
            directory.assignments.push(Assignment {
                object_id,
                role,
                actions,
                scope,
            });
        }
        for (name, spec) in &state.vaults {
            if spec.permission_model == crate::state::PermissionModel::Rbac
                && !spec.access_policies.is_empty()
            {
                return Err(invalid(format!(
                    "vault `{name}`: access_policies apply to `permission_model: access_policy` only (this vault uses RBAC)"
                )));
            }
            let mut policies = Vec::new();
            for policy in &spec.access_policies {
                let object_id = match directory.principals.iter().find(|p| {
                    p.name == policy.principal
                        || p.object_id.eq_ignore_ascii_case(&policy.principal)
                }) {
                    Some(principal) => principal.object_id.clone(),
                    // An object id from outside the state (a user, a group).
                    None if is_guid(&policy.principal) => policy.principal.to_ascii_lowercase(),
                    None => {
                        return Err(invalid(format!(
                            "vault `{name}`: access policy principal `{}` is not in `identities` (nor an object id)",
                            policy.principal
                        )));
                    }
                };
                let mut permissions = Vec::new();
                for (kind, list, known) in [
                    ("secrets", &policy.secrets, SECRET_PERMISSIONS),
                    (
                        "certificates",
                        &policy.certificates,
                        CERTIFICATE_PERMISSIONS,
                    ),
                    ("keys", &policy.keys, KEY_PERMISSIONS),
                ] {
                    for permission in list {
                        let permission = permission.to_ascii_lowercase();
                        if !known.contains(&permission.as_str()) {
                            return Err(invalid(format!(
                                "vault `{name}`: `{permission}` is not a Key Vault {kind} permission ({})",
                                known.join(", ")
                            )));
                        }
                        permissions.push((kind.to_owned(), permission));
                    }
                }
                policies.push((object_id, permissions));
            }
            if let Some(place) = directory.vaults.get_mut(&name.to_ascii_lowercase()) {
                place.access_policies = policies;
            }
        }
        for spec in &state.locks {
            let original_scope = directory.expand_scope_as_written(&spec.scope)?;
            directory.locks.push(Lock {
                name: spec.name.clone(),
                scope: normalize_scope(&original_scope),
                original_scope,
                level: spec.level,
            });
        }
        Ok(directory)
    }

    /// The first `ReadOnly` lock on `resource_id` or a scope above it.
    pub(crate) fn read_only_lock(&self, resource_id: &str) -> Option<&Lock> {
        let resource = normalize_scope(resource_id);
        self.locks.iter().find(|l| {
            l.level == LockLevel::ReadOnly
                && (resource == l.scope
                    || resource
                        .strip_prefix(l.scope.as_str())
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    }

    /// Whether the vault's access policies give `object_id` `permission`
    /// (`get`, `list`...) on `kind` (`secrets`, `certificates`, `keys`).
    pub(crate) fn policy_allows(
        place: &VaultPlace,
        object_id: &str,
        kind: &str,
        permission: &str,
    ) -> bool {
        place.access_policies.iter().any(|(oid, permissions)| {
            oid.eq_ignore_ascii_case(object_id)
                && permissions
                    .iter()
                    .any(|(k, p)| k == kind && (p == permission || p == "all"))
        })
    }

    fn expand_scope(&self, scope: &str) -> Result<String, EmulatorError> {
        Ok(normalize_scope(&self.expand_scope_as_written(scope)?))
    }

    /// A scope shorthand as a full ARM id, in the case of its names.
    fn expand_scope_as_written(&self, scope: &str) -> Result<String, EmulatorError> {
        let unknown = |what: &str| {
            invalid(format!(
                "role assignment scope `{scope}`: no {what} of that name"
            ))
        };
        let expanded = if scope.starts_with('/') {
            scope.to_owned()
        } else if let Some(rest) = scope.strip_prefix("vault:") {
            let (name, tail) = rest.split_once('/').map_or((rest, ""), |(n, t)| (n, t));
            let place = self
                .vaults
                .get(&name.to_ascii_lowercase())
                .ok_or_else(|| unknown("vault"))?;
            if tail.is_empty() {
                place.resource_id.clone()
            } else {
                format!("{}/{tail}", place.resource_id)
            }
        } else if let Some(s) = scope.strip_prefix("subscription:") {
            let sub = self
                .find_subscription(s)
                .ok_or_else(|| unknown("subscription"))?;
            format!("/subscriptions/{}", sub.id)
        } else if let Some(rest) = scope.strip_prefix("resource_group:") {
            let (sub, rg) = match rest.split_once('/') {
                Some((s, rg)) => (
                    self.find_subscription(s)
                        .ok_or_else(|| unknown("subscription"))?,
                    rg,
                ),
                None => (
                    self.subscriptions
                        .first()
                        .ok_or_else(|| unknown("subscription"))?,
                    rest,
                ),
            };
            format!("/subscriptions/{}/resourceGroups/{rg}", sub.id)
        } else if let Some(name) = scope.strip_prefix("storage:") {
            self.storage_account(name)
                .map(|(_, _, a)| a.id.clone())
                .ok_or_else(|| unknown("storage account"))?
        } else if let Some(name) = scope.strip_prefix("cosmosdb:") {
            self.cosmos_account(name)
                .map(|(_, _, a)| a.id.clone())
                .ok_or_else(|| unknown("Cosmos DB account"))?
        } else {
            return Err(invalid(format!(
                "role assignment scope `{scope}`: give an ARM id (`/subscriptions/...`) or `vault:`, `subscription:`, `resource_group:`, `storage:` or `cosmosdb:` followed by a name"
            )));
        };
        Ok(expanded.trim_end_matches('/').to_owned())
    }

    /// A tenant by id or domain.
    pub(crate) fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(id_or_domain)
                || t.domains
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(id_or_domain))
        })
    }

    /// A principal by object id.
    pub(crate) fn by_object_id(&self, object_id: &str) -> Option<&Principal> {
        self.principals
            .iter()
            .find(|p| p.object_id.eq_ignore_ascii_case(object_id))
    }

    /// A principal by client id.
    pub(crate) fn by_client_id(&self, client_id: &str) -> Option<&Principal> {
        self.principals
            .iter()
            .find(|p| p.client_id.eq_ignore_ascii_case(client_id))
    }

    /// A managed identity the host has, chosen the way the managed identity
    /// endpoints choose: by client id, object id or resource id, else the
    /// system-assigned one.
    pub(crate) fn host_identity(&self, selector: &IdentitySelector<'_>) -> Option<&Principal> {
        let managed = self.principals.iter().filter(|p| {
            p.assigned
                && matches!(
                    p.kind,
                    IdentityKind::SystemAssigned | IdentityKind::UserAssigned
                )
        });
        let mut managed = managed;
        match selector {
            IdentitySelector::System => managed.find(|p| p.kind == IdentityKind::SystemAssigned),
            IdentitySelector::ClientId(id) => {
                managed.find(|p| p.client_id.eq_ignore_ascii_case(id))
            }
            IdentitySelector::ObjectId(id) => {
                managed.find(|p| p.object_id.eq_ignore_ascii_case(id))
            }
            IdentitySelector::ResourceId(id) => managed.find(|p| {
                p.resource_id
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(id))
            }),
        }
    }

    /// The user-assigned identities the host has.
    pub(crate) fn host_user_assigned(&self) -> Vec<&Principal> {
        self.principals
            .iter()
            .filter(|p| p.assigned && p.kind == IdentityKind::UserAssigned)
            .collect()
    }

    /// A subscription by id or display name.
    pub(crate) fn find_subscription(&self, id_or_name: &str) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id_or_name) || s.name == id_or_name)
    }

    /// A storage account by name, with its subscription and group.
    pub(crate) fn storage_account(
        &self,
        name: &str,
    ) -> Option<(&Subscription, &ResourceGroup, &StorageAccount)> {
        self.subscriptions.iter().find_map(|s| {
            s.groups.iter().find_map(|g| {
                g.storage
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(name))
                    .map(|a| (s, g, a))
            })
        })
    }

    /// A Cosmos DB account by name, with its subscription and group.
    pub(crate) fn cosmos_account(
        &self,
        name: &str,
    ) -> Option<(&Subscription, &ResourceGroup, &CosmosAccount)> {
        self.subscriptions.iter().find_map(|s| {
            s.groups.iter().find_map(|g| {
                g.cosmos
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(name))
                    .map(|a| (s, g, a))
            })
        })
    }

    /// Whether `object_id` may do `action` on the resource `resource_id`:
    /// some assignment of a role granting it, at the resource or above.
    pub(crate) fn allowed(&self, object_id: &str, action: Action, resource_id: &str) -> bool {
        let resource = normalize_scope(resource_id);
        self.assignments.iter().any(|a| {
            a.object_id.eq_ignore_ascii_case(object_id)
                && a.actions.contains(&action)
                && (a.scope.is_empty()
                    || resource == a.scope
                    || resource
                        .strip_prefix(a.scope.as_str())
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    }

    /// Whether `object_id` has any role assignment inside a subscription (which
    /// makes the subscription visible to it).
    pub(crate) fn sees_subscription(&self, object_id: &str, subscription_id: &str) -> bool {
        let prefix = format!("/subscriptions/{}", subscription_id.to_ascii_lowercase());
        self.assignments.iter().any(|a| {
            a.object_id.eq_ignore_ascii_case(object_id)
                && (a.scope.is_empty()
                    || a.scope == prefix
                    || a.scope.starts_with(&format!("{prefix}/")))
        })
    }
}

/// How a managed identity request names the identity.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdentitySelector<'a> {
    System,
    ClientId(&'a str),
    ObjectId(&'a str),
    ResourceId(&'a str),
}

fn normalize_scope(scope: &str) -> String {
    scope.trim_end_matches('/').to_ascii_lowercase()
}

fn check_unique(values: impl Iterator<Item = String>, what: &str) -> Result<(), EmulatorError> {
    let mut seen = BTreeSet::new();
    for v in values {
        if !seen.insert(v.clone()) {
            return Err(invalid(format!("{what} `{v}` is used twice")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(yaml: &str) -> Result<Directory, EmulatorError> {
        Directory::build(&StateFile::parse(yaml)?)
    }

    #[test]
    fn scopes_inherit_downwards_only() {
        let d = directory(
            r#"
identities:
  app: { type: user_assigned }
vaults:
  kv-one: {}
  kv-two: {}
role_assignments:
  - { principal: app, role: key vault secrets user, scope: "vault:kv-one" }
"#,
        )
        .unwrap();
        let oid = d.principals[0].object_id.clone();
        let one = d.vaults["kv-one"].resource_id.clone();
        let two = d.vaults["kv-two"].resource_id.clone();
        assert!(d.allowed(&oid, Action::SecretGet, &format!("{one}/secrets/x")));
        assert!(!d.allowed(&oid, Action::SecretGet, &format!("{two}/secrets/x")));
        assert!(!d.allowed(&oid, Action::SecretSet, &format!("{one}/secrets/x")));
        // kv-one is not a prefix match of kv-one2.
        assert!(!d.allowed(&oid, Action::SecretGet, &format!("{one}2/secrets/x")));
    }

    #[test]
    fn firewall_rules_are_addresses_and_ranges() {
        let denies = |rules: &str| {
            directory(&format!(
                "vaults: {{ kv-one: {{ network_acls: {{ default_action: Deny, ip_rules: {rules} }} }} }}"
            ))
            .map(|d| d.vaults["kv-one"].firewall_denies)
        };
        assert!(denies("[]").unwrap());
        assert!(denies("['10.0.0.0/8', 127.0.0.2]").unwrap());
        assert!(!denies("[127.0.0.1]").unwrap());
        assert!(!denies("['127.0.0.0/24']").unwrap());
        assert!(!denies("['0.0.0.0/0']").unwrap());
        assert!(!denies("['127.0.0.1/32']").unwrap());
        let e = denies("['127.0.0.1/33']").unwrap_err().to_string();
        assert!(e.contains("prefix above 32"), "{e}");
        let e = denies("[localhost]").unwrap_err().to_string();
        assert!(e.contains("not an IPv4 address or CIDR range"), "{e}");
    }

    #[test]
    fn access_policies_name_known_principals_and_permissions() {
        let build = |vault: &str| {
            directory(&format!(
                "identities: {{ app: {{ type: user_assigned }} }}\nvaults: {{ kv-one: {vault} }}"
            ))
        };
        let ok = build(
            "{ permission_model: access_policy, access_policies: [{ principal: app, secrets: [Get, list] }, { principal: 0a1b2c3d-0000-4000-8000-00000000abcd, keys: [unwrapKey] }] }",
        )
        .unwrap();
        assert_eq!(ok.vaults["kv-one"].access_policies.len(), 2);
        let e = build("{ permission_model: access_policy, access_policies: [{ principal: ap, secrets: [get] }] }")
            .unwrap_err()
            .to_string();
        assert!(e.contains("principal `ap` is not in `identities`"), "{e}");
        let e = build("{ permission_model: access_policy, access_policies: [{ principal: app, secrets: [gett] }] }")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`gett` is not a Key Vault secrets permission"),
            "{e}"
        );
        let e = build("{ access_policies: [{ principal: app, secrets: [get] }] }")
            .unwrap_err()
            .to_string();
        assert!(e.contains("this vault uses RBAC"), "{e}");
    }

    #[test]
    fn bad_references_are_reported() {
        let e = directory(
            "role_assignments: [{ principal: nobody, role: Reader, scope: /subscriptions/x }]",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("principal `nobody`"), "{e}");
        let e = directory(
            "identities: { a: { type: user_assigned } }\nrole_assignments: [{ principal: a, role: Key Vault Secret User, scope: /x }]",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("did you mean `Key Vault Secrets User`"), "{e}");
        let e = directory("vaults: { 'a.b': {} }").unwrap_err().to_string();
        assert!(e.contains("3-24 letters"), "{e}");
    }
}
