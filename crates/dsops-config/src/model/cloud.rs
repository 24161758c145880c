//! Which Azure cloud a store talks to, and that cloud's endpoints.

use crate::source::Span;

/// A named Azure cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudName {
    /// Azure (global).
    Public,
    /// Azure operated by 21Vianet (China).
    China,
    /// Azure Government (US).
    UsGovernment,
    /// Endpoints given in the file: Azure Stack Hub, private setups, `dsops emulator`.
    Custom,
}

impl CloudName {
    /// The spelling used in `cloud:`.
    pub fn as_str(self) -> &'static str {
        match self {
            CloudName::Public => "public",
            CloudName::China => "china",
            CloudName::UsGovernment => "us_government",
            CloudName::Custom => "custom",
        }
    }
}

/// The endpoints dsops talks to in one cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEndpoints {
    /// Entra ID authority, e.g. `https://login.microsoftonline.com`.
    pub authority_host: String,
    /// Azure Resource Manager, e.g. `https://management.azure.com`.
    pub resource_manager: String,
    /// Key Vault DNS suffix, e.g. `vault.azure.net` (a vault is `https://NAME.SUFFIX`).
    pub keyvault_dns_suffix: String,
    /// Storage DNS suffix, e.g. `core.windows.net`.
    pub storage_dns_suffix: String,
    /// Azure SQL DNS suffix, e.g. `database.windows.net`.
    pub sql_dns_suffix: String,
    /// Cosmos DB DNS suffix, e.g. `documents.azure.com`.
    pub cosmos_dns_suffix: String,
}

impl CloudEndpoints {
    fn known(
        authority_host: &str,
        resource_manager: &str,
        keyvault: &str,
        storage: &str,
        sql: &str,
        cosmos: &str,
    ) -> Self {
        Self {
            authority_host: authority_host.to_owned(),
            resource_manager: resource_manager.to_owned(),
            keyvault_dns_suffix: keyvault.to_owned(),
            storage_dns_suffix: storage.to_owned(),
            sql_dns_suffix: sql.to_owned(),
            cosmos_dns_suffix: cosmos.to_owned(),
        }
    }

    /// The endpoints of a named cloud (`Custom` starts from the public cloud's).
    pub fn of(name: CloudName) -> Self {
        match name {
            CloudName::Public | CloudName::Custom => Self::known(
                "https://login.microsoftonline.com",
                "https://management.azure.com",
                "vault.azure.net",
                "core.windows.net",
                "database.windows.net",
                "documents.azure.com",
            ),
            CloudName::China => Self::known(
                "https://login.chinacloudapi.cn",
                "https://management.chinacloudapi.cn",
                "vault.azure.cn",
                "core.chinacloudapi.cn",
                "database.chinacloudapi.cn",
                "documents.azure.cn",
            ),
            CloudName::UsGovernment => Self::known(
                "https://login.microsoftonline.us",
                "https://management.usgovcloudapi.net",
                "vault.usgovcloudapi.net",
                "core.usgovcloudapi.net",
                "database.usgovcloudapi.net",
                "documents.azure.us",
            ),
        }
    }
}

/// A store's cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// Which cloud.
    pub name: CloudName,
    /// Its endpoints.
    pub endpoints: CloudEndpoints,
    /// A PEM file of extra CA certificates to trust (custom clouds only), resolved
    /// relative to the configuration file's directory.
    pub ca_bundle: Option<String>,
    /// Where `cloud:` is written, if it is.
    pub span: Option<Span>,
}

impl Default for Cloud {
    fn default() -> Self {
        Self {
            name: CloudName::Public,
            endpoints: CloudEndpoints::of(CloudName::Public),
            ca_bundle: None,
            span: None,
        }
    }
}

/// The environment variable a CI job (or a person) sets to confirm an Entra
/// ID authority that is not a named cloud's: its value lists the authorities
/// (`https://host[:port]`, separated by commas or spaces) that may receive
/// client secrets and federated assertions. It is read from the process
/// environment only, never from `dsops.yaml`: in CI the configuration is
/// repository content that a pull request can change.
pub const TRUSTED_AUTHORITY_VARIABLE: &str = "DSOPS_TRUSTED_AUTHORITY";

/// Whether `origin` (`https://host[:port]`, lowercase, no default port, no
/// trailing slash) is the Entra ID authority of a named cloud.
pub fn is_named_authority(origin: &str) -> bool {
    [CloudName::Public, CloudName::China, CloudName::UsGovernment]
        .into_iter()
        .any(|name| CloudEndpoints::of(name).authority_host == origin)
}

/// The authorities `value` (of [`TRUSTED_AUTHORITY_VARIABLE`]) confirms, each
/// as `scheme://host[:port]` in lowercase without a trailing slash or the
/// default port.
pub fn trusted_authorities(value: &str) -> Vec<String> {
    value
        .split([',', ' ', '\t', '\n'])
        .map(|item| normalise_origin(item.trim()))
        .filter(|item| !item.is_empty())
        .collect()
}

/// `scheme://host[:port]` of a URL, lowercase, without `:443` after https
/// and without a path; empty for text that is not such a URL.
pub fn normalise_origin(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return String::new();
    }
    let scheme = scheme.to_ascii_lowercase();
    let mut authority = authority.to_ascii_lowercase();
    if scheme == "https" && authority.ends_with(":443") {
        authority.truncate(authority.len() - 4);
    }
    format!("{scheme}://{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_authorities_and_confirmed_ones() {
        assert!(is_named_authority("https://login.microsoftonline.com"));
        assert!(is_named_authority("https://login.chinacloudapi.cn"));
        assert!(is_named_authority("https://login.microsoftonline.us"));
        assert!(!is_named_authority("https://attacker.example"));
        assert_eq!(
            trusted_authorities("https://Login.Example:443/, https://127.0.0.1:8443 x"),
            ["https://login.example", "https://127.0.0.1:8443"]
        );
        assert!(trusted_authorities("https://u:p@h").is_empty());
    }
}
