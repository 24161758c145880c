//! What to check: the stores the environment uses, and for each the
//! token scopes and Key Vault objects its references need.

use dsops::config::model::{Config, KeyVaultObject, Store, Target, ValueSource, Vault};
use dsops::identity::Scope;
use dsops::keyvault;

/// What one store must do for the environment.
#[derive(Debug)]
pub(super) struct StoreNeeds<'a> {
    pub(super) store: &'a Store,
    /// Scopes needed, in first-use order, with what needs them.
    pub(super) scopes: Vec<(Scope, Vec<String>)>,
    /// Key Vault objects read, once each.
    pub(super) vaults: Vec<VaultNeed>,
}

/// One Key Vault object the environment reads.
#[derive(Debug, Clone)]
pub(super) struct VaultNeed {
    pub(super) url: String,
    pub(super) vault_name: String,
    pub(super) object: KeyVaultObject,
    pub(super) name: String,
    pub(super) variables: Vec<String>,
}

impl StoreNeeds<'_> {
    fn need_scope(&mut self, scope: Scope, purpose: String) {
        match self.scopes.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, purposes)) => {
                if !purposes.contains(&purpose) {
                    purposes.push(purpose);
                }
            }
            None => self.scopes.push((scope, vec![purpose])),
        }
    }

    /// The scope the chain is walked for: the first one needed, else Key Vault's.
    pub(super) fn walk_scope(&self) -> Scope {
        self.scopes
            .first()
            .map_or_else(|| Scope::keyvault(self.store), |(s, _)| s.clone())
    }
}

/// `https://<keyvault_dns_suffix>/.default` (the suffix keeps its port).
/// The stores to check (those `env` uses, or all) and what each must do.
pub(super) fn needs<'a>(config: &'a Config, env: Option<&str>) -> Vec<StoreNeeds<'a>> {
    let mut plans: Vec<StoreNeeds<'a>> = match env {
        Some(_) => Vec::new(),
        None => config
            .stores
            .iter()
            .map(|store| StoreNeeds {
                store,
                scopes: Vec::new(),
                vaults: Vec::new(),
            })
            .collect(),
    };
    let envs = config
        .envs
        .iter()
        .filter(|e| env.is_none_or(|name| e.name.value == name));
    for environment in envs {
        for variable in &environment.variables {
            let ValueSource::Reference(reference) = &variable.value else {
                continue;
            };
            let Some(store) = config.store(&reference.store.value) else {
                continue;
            };
            let index = match plans
                .iter()
                .position(|p| p.store.name.value == store.name.value)
            {
                Some(index) => index,
                None => {
                    plans.push(StoreNeeds {
                        store,
                        scopes: Vec::new(),
                        vaults: Vec::new(),
                    });
                    plans.len() - 1
                }
            };
            let Some(plan) = plans.get_mut(index) else {
                continue;
            };
            let label = match env {
                Some(_) => variable.name.value.clone(),
                None => format!("{}.{}", environment.name.value, variable.name.value),
            };
            add_target(plan, &reference.target, label);
        }
    }
    plans
}

fn add_target(plan: &mut StoreNeeds<'_>, target: &Target, variable: String) {
    let store = plan.store;
    match target {
        Target::KeyVault(kv) => {
            plan.need_scope(Scope::keyvault(store), "Key Vault".to_owned());
            let Some(vault) = kv.vault_in(store) else {
                return;
            };
            let url = keyvault::vault_url(&vault, store);
            let vault_name = match &vault {
                Vault::Name(name) => name.value.to_ascii_lowercase(),
                Vault::Url(url) => keyvault::vault_host_name(&url.value).to_ascii_lowercase(),
            };
            let existing = plan.vaults.iter_mut().find(|v| {
                v.url.eq_ignore_ascii_case(&url)
                    && v.object == kv.object
                    && v.name.eq_ignore_ascii_case(&kv.name.value)
            });
            match existing {
                Some(need) => need.variables.push(variable),
                None => plan.vaults.push(VaultNeed {
                    url,
                    vault_name,
                    object: kv.object,
                    name: kv.name.value.clone(),
                    variables: vec![variable],
                }),
            }
        }
        Target::StorageKey(_)
        | Target::StorageSas(_)
        | Target::CosmosKey(_)
        | Target::CosmosConnection(_) => {
            plan.need_scope(
                Scope::resource_manager(store),
                "Resource Manager".to_owned(),
            );
        }
        Target::Token(token) => {
            plan.need_scope(
                Scope::for_resource(&token.resource.value),
                format!("get_token {variable}"),
            );
        }
        // The program signs in to SQL itself; dsops fetches nothing.
        Target::Sql(_) => {}
    }
}
