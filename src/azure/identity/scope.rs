//! Scopes (`https://vault.azure.net/.default`) and the resources they name.

use std::fmt;

/// An Entra ID scope for client credentials: a resource with `/.default`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    /// The scope of a resource (`https://vault.azure.net` gives
    /// `https://vault.azure.net/.default`); a scope is kept as it is.
    pub fn for_resource(resource: &str) -> Self {
        if resource.ends_with("/.default") {
            Self(resource.to_owned())
        } else {
            Self(format!("{resource}/.default"))
        }
    }

    /// Key Vault's scope in a store's cloud: `https://<keyvault_dns_suffix>/.default`
    /// (a custom suffix keeps its port).
    pub fn keyvault(store: &dsops_config::model::Store) -> Self {
        Self::for_resource(&format!(
            "https://{}",
            store.cloud.endpoints.keyvault_dns_suffix
        ))
    }

    /// Resource Manager's scope in a store's cloud: `<resource_manager>/.default`.
    pub fn resource_manager(store: &dsops_config::model::Store) -> Self {
        Self::for_resource(store.cloud.endpoints.resource_manager.trim_end_matches('/'))
    }

    /// The scope as sent to Entra ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The resource, as managed identity endpoints take it (`/.default` removed).
    pub fn resource(&self) -> &str {
        self.0.strip_suffix("/.default").unwrap_or(&self.0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_resources() {
        let s = Scope::for_resource("https://vault.azure.net");
        assert_eq!(s.as_str(), "https://vault.azure.net/.default");
        assert_eq!(s.resource(), "https://vault.azure.net");
        assert_eq!(
            Scope::for_resource("https://management.azure.com/").as_str(),
            "https://management.azure.com//.default"
        );
        assert_eq!(
            Scope::for_resource("api://x/.default").resource(),
            "api://x"
        );
    }
}
