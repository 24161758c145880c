//! `secretStores:` entries.

use std::time::Duration;

use super::{Decoder, Fields, Part};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Scope};
use crate::model::{
    Cache, Cloud, CloudEndpoints, CloudName, CredentialSource, DebugSettings, Identity,
    Performance, Resource, ResourceType, ServicePrincipal, Spanned, Store, StoreKind,
    TRUSTED_AUTHORITY_VARIABLE, Text, UserAssignedId, is_named_authority, normalise_origin,
    trusted_authorities,
};
use crate::names::{self, ResourceIdProblem};
use crate::source::Span;
use crate::suggest::one_of;
use crate::yaml::{Entry, Node, NodeKind};

pub(crate) const STORE_TYPES: &[&str] = &["azure.managed_identity", "azure.keyvault"];
pub(crate) const COMMON_KEYS: &[&str] = &[
    "type",
    "tenant_id",
    "cloud",
    "default_subscription",
    "resources",
    "cache",
    "performance",
    "preferred_regions",
    "debug",
];
pub(crate) const MANAGED_IDENTITY_ONLY: &[&str] = &["identity", "fallback"];
pub(crate) const KEYVAULT_ONLY: &[&str] = &["vault_name", "auth"];
pub(crate) const IDENTITY_KEYS: &[&str] = &["type", "client_id", "object_id", "resource_id"];
pub(crate) const IDENTITY_TYPES: &[&str] = &["system_assigned", "user_assigned"];
pub(crate) const AUTH_KEYS: &[&str] = &["client_id", "client_secret", "tenant_id"];
pub(crate) const FALLBACK_TYPES: &[&str] = &[
    "managed_identity",
    "azure_cli",
    "service_principal",
    "environment",
    "workload_identity",
    "github_oidc",
];
pub(crate) const CLOUD_NAMES: &[&str] = &["public", "china", "us_government"];
pub(crate) const CLOUD_KEYS: &[&str] = &[
    "base",
    "authority_host",
    "resource_manager",
    "keyvault_dns_suffix",
    "storage_dns_suffix",
    "sql_dns_suffix",
    "cosmos_dns_suffix",
    "ca_bundle",
];
pub(crate) const RESOURCE_KEYS: &[&str] = &["type", "name", "subscription", "resource_group"];
pub(crate) const RESOURCE_TYPES: &[&str] = &["keyvault", "storage", "sql", "cosmosdb"];
pub(crate) const CACHE_KEYS: &[&str] = &["token_cache", "secret_cache"];
pub(crate) const TOKEN_CACHE_KEYS: &[&str] = &["enabled", "buffer"];
pub(crate) const SECRET_CACHE_KEYS: &[&str] = &["enabled", "ttl"];
pub(crate) const PERFORMANCE_KEYS: &[&str] = &["max_concurrent", "batch_size"];
pub(crate) const DEBUG_KEYS: &[&str] = &["enabled", "log_tokens", "log_requests", "trace_identity"];

/// Keys of each `fallback:` entry type.
pub(crate) fn fallback_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "azure_cli" => &["type", "tenant_id"],
        "service_principal" => &["type", "client_id", "client_secret", "tenant_id"],
        "environment" => &[
            "type",
            "client_id_env",
            "client_secret_env",
            "tenant_id_env",
        ],
        "workload_identity" => &["type", "client_id", "tenant_id", "token_file"],
        "github_oidc" => &["type", "client_id", "tenant_id", "audience"],
        _ => &["type"],
    }
}

/// All keys a store may have, whatever its type.
pub(crate) fn all_store_keys() -> Vec<&'static str> {
    [COMMON_KEYS, MANAGED_IDENTITY_ONLY, KEYVAULT_ONLY].concat()
}

impl Decoder<'_> {
    /// The stores that decoded, and the names of all of them.
    pub(super) fn decode_stores(&mut self, entry: &Entry) -> Option<(Part<Store>, Vec<String>)> {
        let entries = self.mapping(&entry.value, "`secretStores`")?;
        self.check_duplicates(entries);
        let mut stores = Part::empty();
        for entry in entries {
            if !self.plain_key(entry) {
                stores.complete = false;
                continue;
            }
            self.set_scope(Scope::Store(entry.key.text.clone()));
            match self.decode_store(entry) {
                Some(store) => stores.items.push(store),
                None => stores.complete = false,
            }
        }
        self.set_scope(Scope::Global);
        let names = entries
            .iter()
            .filter(|e| e.key.is_scalar)
            .map(|e| e.key.text.clone())
            .collect();
        Some((stores, names))
    }

    fn decode_store(&mut self, entry: &Entry) -> Option<Store> {
        let name = self.entry_name(entry, "store");
        let entries = self.mapping(&entry.value, &format!("store `{}`", name.value))?;
        let type_entry = Fields::raw(entries).get("type");
        let kind = type_entry.and_then(|t| {
            self.keyword(t, STORE_TYPES, "store type").map(|k| match k {
                "azure.keyvault" => StoreKind::KeyVault,
                _ => StoreKind::ManagedIdentity,
            })
        });
        let context = format!("in store `{}`", name.value);
        let fields = match kind {
            Some(kind) => self.store_fields(entries, kind, &context),
            None => self.fields(entries, &all_store_keys(), &context),
        };
        if type_entry.is_none() && !fields.is_misspelled("type") {
            self.push(
                Diagnostic::error(Code::MissingKey, entry.key.span, format!("store `{}` needs `type`", name.value))
                    .with_label("`type` is missing here")
                    .with_hint("write `type: azure.managed_identity` (or `azure.keyvault` for a service principal)"),
            );
        }
        let store_span = entry.key.span;
        let tenant_id = self.opt_text(fields.get("tenant_id"));
        if let Some(tenant) = &tenant_id {
            self.check_shape(tenant, Code::InvalidId, "tenant", names::check_tenant, "");
        }
        let identity = match fields.get("identity") {
            Some(e) => self.decode_identity(e),
            None => Some(Identity::SystemAssigned),
        };
        let cloud = match fields.get("cloud") {
            Some(e) => self.decode_cloud(e),
            None => Some(Cloud::default()),
        };
        let default_vault = self.opt_text(fields.get("vault_name"));
        if let Some(vault) = &default_vault {
            self.check_vault(vault);
        }
        let auth = match fields.get("auth") {
            Some(e) => self.decode_service_principal(e, "`auth`", tenant_id.as_ref()),
            None => None,
        };
        if kind == Some(StoreKind::KeyVault)
            && fields.get("auth").is_none()
            && !fields.is_misspelled("auth")
        {
            self.push(
                Diagnostic::error(Code::MissingKey, store_span, format!("store `{}` of type `azure.keyvault` needs `auth`", name.value))
                    .with_hint("give `auth: { client_id, client_secret, tenant_id }`, or switch to `type: azure.managed_identity`, which needs no credential"),
            );
        }
        let default_subscription = self.opt_text(fields.get("default_subscription"));
        if let Some(sub) = &default_subscription {
            self.check_uuid(sub, "subscription", "a subscription id looks like `12345678-1234-1234-1234-123456789012` (`az account show --query id`)");
        }
        let resources = match fields.get("resources") {
            Some(e) => self.decode_resources(e),
            None => Some(Vec::new()),
        };
        let fallback = match fields.get("fallback") {
            Some(e) => self.decode_fallback(e, tenant_id.as_ref()).map(Some),
            None => Some(None),
        };
        let cache = match fields.get("cache") {
            Some(e) => self.decode_cache(e),
            None => Some(Cache::default()),
        };
        let performance = match fields.get("performance") {
            Some(e) => self.decode_performance(e),
            None => Some(Performance::default()),
        };
        let preferred_regions = match fields.get("preferred_regions") {
            Some(e) => self.decode_regions(e),
            None => Some(Vec::new()),
        };
        let debug = match fields.get("debug") {
            Some(e) => self.decode_debug(e),
            None => Some(DebugSettings::default()),
        };
        Some(Store {
            name,
            kind: kind?,
            identity: identity?,
            tenant_id,
            cloud: cloud?,
            default_vault,
            auth,
            default_subscription,
            resources: resources?,
            fallback: fallback?,
            cache: cache?,
            performance: performance?,
            preferred_regions: preferred_regions?,
            debug: debug?,
        })
    }

    /// Checks a store's keys, explaining keys that belong to the other store type.
    fn store_fields<'n>(
        &mut self,
        entries: &'n [Entry],
        kind: StoreKind,
        context: &str,
    ) -> Fields<'n> {
        let (own, other): (&[&str], &[&str]) = match kind {
            StoreKind::ManagedIdentity => (MANAGED_IDENTITY_ONLY, KEYVAULT_ONLY),
            StoreKind::KeyVault => (KEYVAULT_ONLY, MANAGED_IDENTITY_ONLY),
        };
        let allowed = [COMMON_KEYS, own].concat();
        let (misplaced, rest): (Vec<&Entry>, Vec<&Entry>) = entries
            .iter()
            .partition(|e| other.contains(&e.key.text.as_str()));
        for entry in misplaced {
            let owner = match kind {
                StoreKind::ManagedIdentity => "azure.keyvault",
                StoreKind::KeyVault => "azure.managed_identity",
            };
            self.push(
                Diagnostic::error(
                    Code::WrongStoreKey,
                    entry.key.span,
                    format!("`{}` belongs to `{owner}` stores, not `{}`", entry.key.text, kind.as_str()),
                )
                .with_hint(match kind {
                    StoreKind::ManagedIdentity => "a managed identity store names the vault in each `from:`, and needs no `auth`",
                    StoreKind::KeyVault => "an `azure.keyvault` store authenticates with `auth:`; use `type: azure.managed_identity` for `identity` and `fallback`",
                }),
            );
        }
        // Check the remaining keys (duplicates are checked on all of them).
        self.check_duplicates(entries);
        let mut fields = Fields::raw(entries);
        for entry in rest {
            if self.plain_key(entry) && !allowed.contains(&entry.key.text.as_str()) {
                fields
                    .misspelled
                    .extend(self.unknown_key(entry, &allowed, context));
            }
        }
        fields
    }

    fn decode_identity(&mut self, entry: &Entry) -> Option<Identity> {
        let entries = self.mapping(&entry.value, "`identity`")?;
        let fields = self.fields(entries, IDENTITY_KEYS, "in `identity`");
        // An unknown type is reported; the ids are still checked.
        let (kind, kind_ok) = match fields.get("type") {
            Some(t) => {
                let kind = self.keyword(t, IDENTITY_TYPES, "identity type");
                (kind, kind.is_some())
            }
            None => (None, true),
        };
        let client_id = self.opt_text(fields.get("client_id"));
        let object_id = self.opt_text(fields.get("object_id"));
        let resource_id = self.opt_text(fields.get("resource_id"));
        if let Some(id) = &client_id {
            self.check_uuid(id, "client id", "the client id of a user-assigned identity: `az identity show -g GROUP -n NAME --query clientId`");
        }
        if let Some(id) = &object_id {
            self.check_uuid(id, "object id", "the principal id of a user-assigned identity: `az identity show -g GROUP -n NAME --query principalId`");
        }
        if let Some(id) = &resource_id {
            self.check_identity_resource_id(id);
        }
        if !kind_ok {
            return None;
        }
        let ids: Vec<(&str, &Text)> = [
            ("client_id", client_id.as_ref()),
            ("object_id", object_id.as_ref()),
            ("resource_id", resource_id.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        if kind == Some("system_assigned") {
            if let Some((key, id)) = ids.first() {
                self.push(
                    Diagnostic::error(
                        Code::IdentityConflict,
                        id.span,
                        format!("a system-assigned identity takes no `{key}`"),
                    )
                    .with_hint("write `type: user_assigned` to use this identity, or remove the id to use the resource's own identity"),
                );
                return None;
            }
            return Some(Identity::SystemAssigned);
        }
        let Some(((chosen_key, _), ignored)) = ids.split_first() else {
            let misspelled = ["client_id", "object_id", "resource_id"]
                .iter()
                .any(|k| fields.is_misspelled(k));
            if kind == Some("user_assigned") && !misspelled {
                self.push(
                    Diagnostic::error(
                        Code::MissingKey,
                        entry.key.span,
                        "a user-assigned identity needs `client_id`, `object_id` or `resource_id`",
                    )
                    .with_hint(
                        "`client_id` works on every platform that has user-assigned identities",
                    ),
                );
                return None;
            }
            return Some(Identity::SystemAssigned);
        };
        for (key, id) in ignored {
            self.push(
                Diagnostic::warning(
                    Code::IdentityIgnoredId,
                    id.span,
                    format!("`{key}` is not used: `{chosen_key}` already names the identity"),
                )
                .with_label("ignored")
                .with_hint(format!(
                    "the identity endpoints accept one id per request, so dsops uses `{chosen_key}`; remove `{key}`, or remove `{chosen_key}` if `{key}` names the identity you meant"
                )),
            );
        }
        Some(Identity::UserAssigned(
            match (client_id, object_id, resource_id) {
                (Some(id), _, _) => UserAssignedId::ClientId(id),
                (None, Some(id), _) => UserAssignedId::ObjectId(id),
                (None, None, Some(id)) => UserAssignedId::ResourceId(id),
                (None, None, None) => return Some(Identity::SystemAssigned),
            },
        ))
    }

    fn check_identity_resource_id(&mut self, id: &Text) {
        if !self.resolved(id) {
            return;
        }
        match names::check_identity_resource_id(&id.value) {
            Ok(()) => {}
            Err(ResourceIdProblem::Shape(why)) => self.push(
                Diagnostic::error(
                    Code::InvalidResourceId,
                    id.span,
                    format!("resource id {why}"),
                )
                .with_hint(format!(
                    "the resource id of a user-assigned identity looks like `{}`",
                    names::IDENTITY_RESOURCE_ID_SHAPE
                )),
            ),
            Err(ResourceIdProblem::SubscriptionNotGuid(sub)) => self.push(
                Diagnostic::warning(
                    Code::PlaceholderId,
                    self.subscription_segment(id, &sub),
                    format!("the subscription `{sub}` in this resource id is not a GUID"),
                )
                .with_label("a placeholder?")
                .with_hint(
                    "`az identity show -g GROUP -n NAME --query id` prints the real resource id",
                ),
            ),
        }
    }

    /// Where the subscription segment of a resource id is written: the part
    /// after `/subscriptions/`, or the whole id if it is not spelled out verbatim.
    fn subscription_segment(&self, id: &Text, sub: &str) -> Span {
        let start = id.value.match_indices('/').nth(1).map(|(i, _)| i + 1);
        match (self.text_offset(&id.value, id.span), start) {
            (Some(base), Some(start)) => Span::new(base + start, base + start + sub.len()),
            _ => id.span,
        }
    }

    pub(super) fn check_vault(&mut self, vault: &Text) {
        let hint = "a vault is a name such as `prod-keyvault` or a URL such as `https://prod-keyvault.vault.azure.net`";
        if vault.value.contains("://") {
            self.check_shape(
                vault,
                Code::InvalidVault,
                "vault URL",
                names::check_vault_url,
                hint,
            );
        } else {
            self.check_shape(
                vault,
                Code::InvalidVault,
                "vault name",
                names::check_vault_name,
                hint,
            );
        }
    }

    /// A custom authority receives client secrets and federated assertions
    /// only when the environment confirms it; in CI this file is repository
    /// content that a pull request can change, so it cannot confirm itself.
    fn check_authority_trusted(&mut self, url: &Text) {
        let origin = normalise_origin(url.value.trim());
        let confirmed = self
            .env
            .var(TRUSTED_AUTHORITY_VARIABLE)
            .map(|value| trusted_authorities(&value))
            .unwrap_or_default();
        if origin.is_empty() || is_named_authority(&origin) || confirmed.contains(&origin) {
            return;
        }
        self.push(
            Diagnostic::warning(
                Code::UntrustedAuthority,
                url.span,
                format!("dsops will send no client secret or federated assertion to the authority `{origin}`"),
            )
            .with_label("not a named cloud's Entra ID")
            .with_hint(format!(
                "credentials go only to a named cloud's Entra ID unless the job confirms another: set {TRUSTED_AUTHORITY_VARIABLE}={origin} in the environment of the job (not in dsops.yaml); managed identity is not affected"
            )),
        );
    }

    fn decode_cloud(&mut self, entry: &Entry) -> Option<Cloud> {
        let span = Some(entry.value.span);
        if let NodeKind::Scalar { .. } = entry.value.kind {
            let name = match self.keyword(entry, &[CLOUD_NAMES, CLOUD_ALIASES].concat(), "cloud")? {
                "public" | "AzureCloud" => CloudName::Public,
                "china" | "AzureChinaCloud" => CloudName::China,
                _ => CloudName::UsGovernment,
            };
            return Some(Cloud {
                name,
                endpoints: CloudEndpoints::of(name),
                ca_bundle: None,
                span,
            });
        }
        let entries = self.mapping(&entry.value, "`cloud`")?;
        let fields = self.fields(entries, CLOUD_KEYS, "in `cloud`");
        let base = match fields.get("base") {
            Some(b) => match self.keyword(b, &[CLOUD_NAMES, CLOUD_ALIASES].concat(), "cloud")? {
                "china" | "AzureChinaCloud" => CloudName::China,
                "us_government" | "AzureUSGovernment" => CloudName::UsGovernment,
                _ => CloudName::Public,
            },
            None => CloudName::Public,
        };
        let mut endpoints = CloudEndpoints::of(base);
        let mut ok = true;
        for (key, slot) in [
            ("authority_host", &mut endpoints.authority_host),
            ("resource_manager", &mut endpoints.resource_manager),
        ] {
            if let Some(e) = fields.get(key) {
                match self.text(e) {
                    Some(url) => {
                        let shaped = self.check_shape(&url, Code::InvalidEndpoint, &format!("`{key}`"), names::check_endpoint_url, "custom endpoints are `https://host[:port]`; plain http is allowed only for loopback addresses");
                        if shaped && key == "authority_host" {
                            self.check_authority_trusted(&url);
                        }
                        ok &= shaped;
                        *slot = url.value.trim_end_matches('/').to_owned();
                    }
                    None => ok = false,
                }
            }
        }
        for (key, slot) in [
            ("keyvault_dns_suffix", &mut endpoints.keyvault_dns_suffix),
            ("storage_dns_suffix", &mut endpoints.storage_dns_suffix),
            ("sql_dns_suffix", &mut endpoints.sql_dns_suffix),
            ("cosmos_dns_suffix", &mut endpoints.cosmos_dns_suffix),
        ] {
            if let Some(e) = fields.get(key) {
                match self.text(e) {
                    Some(suffix) => {
                        ok &= self.check_shape(&suffix, Code::InvalidEndpoint, &format!("`{key}`"), check_dns_suffix, "a DNS suffix such as `vault.azure.net`, optionally with a port (`vault.localhost:8443`)");
                        *slot = suffix.value.trim_start_matches('.').to_owned();
                    }
                    None => ok = false,
                }
            }
        }
        let ca_bundle = self.opt_text(fields.get("ca_bundle")).map(|t| t.value);
        // A mapping that changes nothing is just its base cloud.
        let custom = entries.iter().any(|e| {
            e.key.is_scalar && e.key.text != "base" && CLOUD_KEYS.contains(&e.key.text.as_str())
        });
        ok.then_some(Cloud {
            name: if custom { CloudName::Custom } else { base },
            endpoints,
            ca_bundle,
            span,
        })
    }

    /// `auth:` of a key vault store, or a `service_principal` fallback.
    fn decode_service_principal(
        &mut self,
        entry: &Entry,
        what: &str,
        store_tenant: Option<&Text>,
    ) -> Option<ServicePrincipal> {
        let entries = self.mapping(&entry.value, what)?;
        let fields = self.fields(entries, AUTH_KEYS, &format!("in {what}"));
        self.service_principal_fields(&fields, entry.key.span, what, store_tenant)
    }

    fn service_principal_fields(
        &mut self,
        fields: &Fields<'_>,
        at: Span,
        what: &str,
        store_tenant: Option<&Text>,
    ) -> Option<ServicePrincipal> {
        let client_id = self.required_text(fields, "client_id", at, what);
        if let Some(id) = &client_id {
            self.check_uuid(
                id,
                "client id",
                "the application (client) id of the app registration",
            );
        }
        let client_secret = match fields.get("client_secret") {
            Some(e) => {
                let secret = self.secret_text(e);
                if let NodeKind::Scalar { text, .. } = &e.value.kind
                    && !text.contains("${")
                {
                    self.push(
                        Diagnostic::warning(Code::CredentialInFile, e.value.span, "a client secret is written in the file")
                            .with_label("anyone who can read the file has it")
                            .with_hint("read it from the environment with `${AZURE_CLIENT_SECRET}`, or better, use a managed identity or federation and store no secret"),
                    );
                }
                secret
            }
            None => {
                if !fields.is_misspelled("client_secret") {
                    self.missing(at, "client_secret", what);
                }
                None
            }
        };
        let tenant_id = match (fields.get("tenant_id"), store_tenant) {
            (Some(e), _) => self.text(e),
            (None, Some(t)) => Some(t.clone()),
            (None, None) => {
                if !fields.is_misspelled("tenant_id") {
                    self.push(
                        Diagnostic::error(Code::MissingKey, at, format!("{what} needs `tenant_id`"))
                            .with_label("`tenant_id` is missing here")
                            .with_hint("give `tenant_id` here, or once on the store for every source that needs it"),
                    );
                }
                None
            }
        };
        if let Some(t) = &tenant_id {
            self.check_shape(t, Code::InvalidId, "tenant", names::check_tenant, "");
        }
        Some(ServicePrincipal {
            client_id: client_id?,
            client_secret: client_secret?,
            tenant_id: tenant_id?,
        })
    }

    /// `fallback:`; sources that need a tenant and give none use the store's `tenant_id`.
    fn decode_fallback(
        &mut self,
        entry: &Entry,
        store_tenant: Option<&Text>,
    ) -> Option<Vec<Spanned<CredentialSource>>> {
        let items = self.sequence(entry)?;
        if items.is_empty() {
            self.push(
                Diagnostic::error(Code::EmptyFallback, self.value_span(entry), "`fallback` is empty, so no credential could ever be found")
                    .with_hint("remove `fallback` to use the default chain, or list at least one source such as `- type: managed_identity`"),
            );
            return None;
        }
        let mut sources = Vec::new();
        let mut ok = true;
        // Sources that would ask for exactly the same token as an earlier one.
        let mut seen: Vec<(String, Span)> = Vec::new();
        for item in items {
            match self.decode_credential_source(item, store_tenant) {
                Some(source) => {
                    let kind = source.value.type_name();
                    let same_as = match &source.value {
                        CredentialSource::ManagedIdentity => Some(kind.to_owned()),
                        CredentialSource::AzureCli { tenant_id } => Some(format!(
                            "{kind}:{}",
                            tenant_id.as_ref().map_or("", |t| t.as_str())
                        )),
                        _ => None,
                    };
                    if let Some(signature) = same_as {
                        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == signature) {
                            self.push(
                                Diagnostic::warning(Code::DuplicateFallback, source.span, format!("`{kind}` is already in the list, so this entry is never reached"))
                                    .with_note(*first, "first listed here"),
                            );
                        }
                        seen.push((signature, source.span));
                    }
                    sources.push(source);
                }
                None => ok = false,
            }
        }
        ok.then_some(sources)
    }

    fn decode_credential_source(
        &mut self,
        item: &Node,
        store_tenant: Option<&Text>,
    ) -> Option<Spanned<CredentialSource>> {
        let entries = self.mapping(item, "a `fallback` entry")?;
        let span = entries.first().map_or(item.span, |e| e.key.span);
        let raw = Fields::raw(entries);
        let Some(type_entry) = raw.get("type") else {
            self.push(
                Diagnostic::error(Code::MissingKey, span, "a `fallback` entry needs `type`")
                    .with_hint(format!("one of {}", one_of(FALLBACK_TYPES))),
            );
            return None;
        };
        let kind = self.keyword(type_entry, FALLBACK_TYPES, "credential source")?;
        let what = format!("`{kind}`");
        let fields = self.fields(
            entries,
            fallback_keys(kind),
            &format!("in a `type: {kind}` fallback"),
        );
        let source = match kind {
            "managed_identity" => CredentialSource::ManagedIdentity,
            "azure_cli" => {
                let tenant_id = self.opt_text(fields.get("tenant_id"));
                if let Some(t) = &tenant_id {
                    self.check_shape(t, Code::InvalidId, "tenant", names::check_tenant, "");
                }
                CredentialSource::AzureCli {
                    tenant_id: tenant_id.or_else(|| store_tenant.cloned()),
                }
            }
            "service_principal" => CredentialSource::ServicePrincipal(
                self.service_principal_fields(&fields, span, &what, store_tenant)?,
            ),
            "environment" => {
                let mut names = Vec::new();
                for (key, default) in [
                    ("client_id_env", "AZURE_CLIENT_ID"),
                    ("client_secret_env", "AZURE_CLIENT_SECRET"),
                    ("tenant_id_env", "AZURE_TENANT_ID"),
                ] {
                    let name = match fields.get(key) {
                        // These name variables, so they are not interpolated: `${X}`
                        // here would put X's value (a secret) where a name belongs.
                        Some(e) => {
                            let raw = self.scalar(e)?;
                            if !crate::interpolate::is_variable_name(raw) {
                                let message = if raw.contains('$') {
                                    format!("`{key}` takes a variable name, not `${{...}}`")
                                } else {
                                    format!("`{raw}` is not an environment variable name")
                                };
                                self.push(
                                    Diagnostic::error(Code::InvalidName, e.value.span, message)
                                        .with_hint(format!("`{key}` names the variable dsops reads at run time, such as `{default}`")),
                                );
                                return None;
                            }
                            Text {
                                value: raw.to_owned(),
                                span: e.value.span,
                            }
                        }
                        None => Text {
                            value: default.to_owned(),
                            span,
                        },
                    };
                    names.push(name);
                }
                let [client_id_env, client_secret_env, tenant_id_env]: [Text; 3] =
                    names.try_into().ok()?;
                CredentialSource::Environment {
                    client_id_env,
                    client_secret_env,
                    tenant_id_env,
                }
            }
            "workload_identity" => {
                let (client_id, tenant_id) = self.federation_ids(&fields, store_tenant);
                CredentialSource::WorkloadIdentity {
                    client_id,
                    tenant_id,
                    token_file: self.opt_text(fields.get("token_file")),
                }
            }
            _ => {
                let (client_id, tenant_id) = self.federation_ids(&fields, store_tenant);
                let audience = self
                    .opt_text(fields.get("audience"))
                    .unwrap_or_else(|| Text {
                        value: "api://AzureADTokenExchange".to_owned(),
                        span,
                    });
                CredentialSource::GithubOidc {
                    client_id,
                    tenant_id,
                    audience,
                }
            }
        };
        Some(Spanned {
            value: source,
            span,
        })
    }

    fn federation_ids(
        &mut self,
        fields: &Fields<'_>,
        store_tenant: Option<&Text>,
    ) -> (Option<Text>, Option<Text>) {
        let client_id = self.opt_text(fields.get("client_id"));
        if let Some(id) = &client_id {
            self.check_uuid(id, "client id", "the client id of the app registration or user-assigned identity that trusts this token");
        }
        let tenant_id = self.opt_text(fields.get("tenant_id"));
        if let Some(t) = &tenant_id {
            self.check_shape(t, Code::InvalidId, "tenant", names::check_tenant, "");
        }
        (client_id, tenant_id.or_else(|| store_tenant.cloned()))
    }

    fn decode_resources(&mut self, entry: &Entry) -> Option<Vec<Resource>> {
        let items = self.sequence(entry)?;
        let mut resources: Vec<Resource> = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(resource) = self.decode_resource(item) else {
                ok = false;
                continue;
            };
            if let Some(first) = resources.iter().find(|r| {
                r.kind == resource.kind && r.name.value.eq_ignore_ascii_case(&resource.name.value)
            }) {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateResource,
                        resource.span,
                        format!(
                            "{} `{}` is listed twice",
                            resource.kind.as_str(),
                            resource.name.value
                        ),
                    )
                    .with_note(first.span, "first listed here"),
                );
                ok = false;
            }
            resources.push(resource);
        }
        ok.then_some(resources)
    }

    fn decode_resource(&mut self, item: &Node) -> Option<Resource> {
        let entries = self.mapping(item, "a `resources` entry")?;
        let span = entries.first().map_or(item.span, |e| e.key.span);
        let fields = self.fields(entries, RESOURCE_KEYS, "in a `resources` entry");
        let kind = match fields.get("type") {
            Some(t) => self
                .keyword(t, RESOURCE_TYPES, "resource type")
                .map(resource_type),
            None => {
                if !fields.is_misspelled("type") {
                    self.missing(span, "type", "a `resources` entry");
                }
                None
            }
        };
        let name = self.required_text(&fields, "name", span, "a `resources` entry");
        let subscription = self.opt_text(fields.get("subscription"));
        let resource_group = self.opt_text(fields.get("resource_group"));
        if let (Some(kind), Some(name)) = (kind, &name) {
            self.check_resource_name(kind, name);
        }
        if let Some(sub) = &subscription {
            self.check_uuid(sub, "subscription", "");
            if kind == Some(ResourceType::KeyVault) || kind == Some(ResourceType::Sql) {
                self.push(no_effect_subscription(
                    sub.span,
                    if kind == Some(ResourceType::Sql) {
                        "sql"
                    } else {
                        "Key Vault"
                    },
                ));
            }
        }
        if let Some(group) = &resource_group {
            self.check_shape(
                group,
                Code::InvalidName,
                "resource group",
                names::check_resource_group,
                "",
            );
        }
        Some(Resource {
            kind: kind?,
            name: name?,
            subscription,
            resource_group,
            span,
        })
    }

    pub(super) fn check_resource_name(&mut self, kind: ResourceType, name: &Text) {
        match kind {
            ResourceType::KeyVault => self.check_vault(name),
            ResourceType::Storage => {
                self.check_shape(
                    name,
                    Code::InvalidName,
                    "storage account name",
                    names::check_storage_account,
                    "",
                );
            }
            ResourceType::CosmosDb => {
                self.check_shape(
                    name,
                    Code::InvalidName,
                    "Cosmos DB account name",
                    names::check_cosmos_account,
                    "",
                );
            }
            ResourceType::Sql => {
                self.check_shape(name, Code::InvalidName, "SQL server", check_sql_server, "");
            }
        }
    }

    fn decode_cache(&mut self, entry: &Entry) -> Option<Cache> {
        let entries = self.mapping(&entry.value, "`cache`")?;
        let fields = self.fields(entries, CACHE_KEYS, "in `cache`");
        let mut cache = Cache::default();
        let mut ok = true;
        if let Some(e) = fields.get("token_cache") {
            let entries = self.mapping(&e.value, "`token_cache`");
            ok &= entries.is_some();
            let tc = self.fields(
                entries.unwrap_or_default(),
                TOKEN_CACHE_KEYS,
                "in `token_cache`",
            );
            if let Some(v) = tc.get("enabled") {
                match self.boolean(v) {
                    Some(b) => cache.token_cache = b,
                    None => ok = false,
                }
            }
            if let Some(v) = tc.get("buffer") {
                match self.duration(v) {
                    Some(d) => {
                        if d.value >= Duration::from_secs(3600) {
                            self.push(
                                Diagnostic::warning(Code::TokenBufferTooLong, d.span, "a buffer of an hour or more outlives Entra ID tokens, so every request fetches a new one")
                                    .with_hint("tokens from Entra ID live 60–90 minutes (managed identity tokens up to 24 h); the default buffer is 300 seconds"),
                            );
                        }
                        cache.token_buffer = d.value;
                    }
                    None => ok = false,
                }
            }
        }
        if let Some(e) = fields.get("secret_cache") {
            let entries = self.mapping(&e.value, "`secret_cache`");
            ok &= entries.is_some();
            let sc = self.fields(
                entries.unwrap_or_default(),
                SECRET_CACHE_KEYS,
                "in `secret_cache`",
            );
            if let Some(v) = sc.get("enabled") {
                match self.boolean(v) {
                    Some(b) => {
                        if b {
                            self.push(
                                Diagnostic::warning(Code::NoEffect, v.value.span, "`secret_cache` only helps a process that resolves more than once (a program on the typed `Env`, `dsops exec --watch`): `dsops exec`, `render`, `get` and `github` resolve once, and it does nothing there")
                                    .with_hint("where it helps, a value is read again at most once per `ttl`, so a rotation is seen up to `ttl` late; tokens have their own cache (`token_cache`), and a SAS is never cached"),
                            );
                        }
                        cache.secret_cache = b;
                    }
                    None => ok = false,
                }
            }
            if let Some(v) = sc.get("ttl") {
                match self.duration(v) {
                    Some(d) => cache.secret_ttl = d.value,
                    None => ok = false,
                }
            }
        }
        ok.then_some(cache)
    }

    fn decode_performance(&mut self, entry: &Entry) -> Option<Performance> {
        let entries = self.mapping(&entry.value, "`performance`")?;
        let fields = self.fields(entries, PERFORMANCE_KEYS, "in `performance`");
        let mut performance = Performance::default();
        let mut ok = true;
        if let Some(v) = fields.get("max_concurrent") {
            let max = u64::from(crate::model::MAX_MAX_CONCURRENT);
            match self.integer(v, 1, max).and_then(|n| u32::try_from(n).ok()) {
                Some(n) => performance.max_concurrent = n,
                None => ok = false,
            }
        }
        if let Some(v) = fields.get("batch_size") {
            match self.integer(v, 1, 1000) {
                Some(n) => {
                    performance.batch_size = u32::try_from(n).ok();
                    self.push(
                        Diagnostic::warning(Code::NoEffect, v.key.span, "`batch_size` has no effect: Key Vault has no API that reads several secrets in one request")
                            .with_hint("dsops sends one request per secret, `max_concurrent` at a time, over one reused connection; set `max_concurrent` to tune throughput"),
                    );
                }
                None => ok = false,
            }
        }
        ok.then_some(performance)
    }

    fn decode_regions(&mut self, entry: &Entry) -> Option<Vec<Text>> {
        let items = self.sequence(entry)?;
        let mut regions = Vec::new();
        for item in items {
            let fake = Entry {
                key: entry.key.clone(),
                value: item.clone(),
            };
            if let Some(region) = self.text(&fake) {
                self.check_shape(&region, Code::InvalidName, "region", check_region, "region names are like `eastus` or `westeurope` (`az account list-locations -o table`)");
                regions.push(region);
            }
        }
        self.push(
            Diagnostic::warning(Code::NoEffect, entry.key.span, "`preferred_regions` has no effect on what dsops fetches")
                .with_hint("a Key Vault, storage account or database lives in one region and is reached by its own DNS name, and Entra ID and Resource Manager are global; there is no regional endpoint to prefer. Place the vault near the workload instead"),
        );
        Some(regions)
    }

    fn decode_debug(&mut self, entry: &Entry) -> Option<DebugSettings> {
        let entries = self.mapping(&entry.value, "`debug`")?;
        let fields = self.fields(entries, DEBUG_KEYS, "in `debug`");
        let mut debug = DebugSettings::default();
        let mut ok = true;
        let mut flag = |d: &mut Self, key: &str| -> Option<bool> {
            let v = fields.get(key)?;
            let b = d.boolean(v);
            if b.is_none() {
                ok = false;
            }
            b
        };
        debug.enabled = flag(self, "enabled").unwrap_or(false);
        let log_requests = flag(self, "log_requests");
        let trace_identity = flag(self, "trace_identity");
        let log_tokens = flag(self, "log_tokens");
        debug.log_requests = log_requests.unwrap_or(debug.enabled);
        debug.trace_identity = trace_identity.unwrap_or(debug.enabled);
        if log_tokens == Some(true)
            && let Some(v) = fields.get("log_tokens")
        {
            self.push(
                Diagnostic::error(Code::LogTokensRefused, v.value.span, "dsops never logs tokens")
                    .with_label("refused")
                    .with_hint("a logged token is a credential anyone with the log can use until it expires; write `log_tokens: false` or remove it. `trace_identity: true` shows which identity was used and its claims, without the token"),
            );
            ok = false;
        }
        if !debug.enabled {
            for (key, value) in [
                ("log_requests", log_requests),
                ("trace_identity", trace_identity),
            ] {
                if value == Some(true)
                    && let Some(v) = fields.get(key)
                {
                    self.push(
                        Diagnostic::warning(
                            Code::NoEffect,
                            v.key.span,
                            format!("`{key}` has no effect while `debug.enabled` is false"),
                        )
                        .with_hint("set `enabled: true` (or run with `--debug`)"),
                    );
                }
            }
        }
        ok.then_some(debug)
    }
}

pub(crate) const CLOUD_ALIASES: &[&str] = &["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"];

pub(crate) fn resource_type(name: &str) -> ResourceType {
    match name {
        "keyvault" => ResourceType::KeyVault,
        "storage" => ResourceType::Storage,
        "sql" => ResourceType::Sql,
        _ => ResourceType::CosmosDb,
    }
}

pub(crate) fn no_effect_subscription(span: Span, kind: &str) -> Diagnostic {
    Diagnostic::warning(Code::NoEffect, span, format!("`subscription` has no effect for {}", match kind { "sql" => "Azure SQL", "token" => "an access token", other => other }))
        .with_hint(match kind {
            "sql" => "an Azure SQL connection string names the server and database only; no Resource Manager call is made",
            "token" => "an access token is issued by the tenant, not a subscription",
            _ => "Key Vault is reached by the vault's DNS name, which is unique across subscriptions; a subscription is only needed for storage and Cosmos DB keys",
        })
}

fn check_dns_suffix(s: &str) -> Result<(), String> {
    let s = s.trim_start_matches('.');
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return Err("has an invalid port".into());
    }
    if names::is_hostname(host) {
        Ok(())
    } else {
        Err("is not a DNS suffix".into())
    }
}

fn check_region(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err("is not a region name".into())
    }
}

pub(crate) fn check_sql_server(s: &str) -> Result<(), String> {
    if s.contains([';', '=', '{', '}']) || s.contains(char::is_whitespace) {
        return Err("contains characters that would change the connection string".into());
    }
    let host = s.strip_prefix("tcp:").unwrap_or(s);
    let host = host.rsplit_once(',').map_or(host, |(h, _)| h);
    if names::is_hostname(host) {
        Ok(())
    } else {
        Err("is not a host name such as `myserver.database.windows.net`".into())
    }
}
