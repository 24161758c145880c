//! Key Vault URLs: a vault's URL as a store names it, and the URLs of the
//! objects in it, shared by the probe and the client.

use dsops_config::model::{KeyVaultObject, Store, Vault};

use crate::azure::http::Address;

/// The data plane's API version.
pub(crate) const API_VERSION: &str = "7.5";

/// The URL of `vault` as `store` reads it: `https://NAME.<keyvault_dns_suffix>`
/// (the suffix may carry a port), or the URL given, without a trailing `/`.
pub fn vault_url(vault: &Vault, store: &Store) -> String {
    match vault {
        Vault::Name(name) => format!(
            "https://{}.{}",
            name.value.to_ascii_lowercase(),
            store.cloud.endpoints.keyvault_dns_suffix
        ),
        Vault::Url(url) => url.value.trim_end_matches('/').to_owned(),
    }
}

/// The vault's name: the first label of its URL's host.
pub fn vault_host_name(vault_url: &str) -> &str {
    let rest = vault_url
        .split_once("://")
        .map_or(vault_url, |(_, rest)| rest);
    let host = rest.split(['/', ':', '?', '#']).next().unwrap_or(rest);
    host.split('.').next().unwrap_or(host)
}

/// The path segment of a kind of object.
pub(crate) fn collection(object: KeyVaultObject) -> &'static str {
    match object {
        KeyVaultObject::Secret => "secrets",
        KeyVaultObject::Certificate => "certificates",
        KeyVaultObject::Key => "keys",
    }
}

/// Path-segment encoding (object names are letters, digits and hyphens;
/// anything else is escaped rather than trusted).
pub(crate) fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `{vault}/{collection}/{name}/versions?maxresults=1`: the probe's URL.
pub(crate) fn versions_url(vault_url: &str, object: KeyVaultObject, name: &str) -> String {
    format!(
        "{}/{}/{}/versions?maxresults=1&api-version={API_VERSION}",
        vault_url.trim_end_matches('/'),
        collection(object),
        segment(name)
    )
}

/// `{vault}/{collection}/{name}/{version}`, the current version when
/// `version` is `None` or empty (`/{name}/`, as the Azure SDKs send it).
pub(crate) fn object_url(
    vault_url: &str,
    object: KeyVaultObject,
    name: &str,
    version: Option<&str>,
) -> String {
    format!(
        "{}/{}/{}/{}?api-version={API_VERSION}",
        vault_url.trim_end_matches('/'),
        collection(object),
        segment(name),
        segment(version.unwrap_or_default())
    )
}

/// Whether a 401 challenge's `resource` may get a token for a request to
/// `vault_url`, by the Azure SDKs' rule: the vault's host is the
/// resource's host or a subdomain of it (`v.vault.azure.net` for
/// `https://vault.azure.net`), on the same port.
pub fn challenge_resource_matches(vault_url: &str, resource: &str) -> bool {
    let (Some(vault), Some(resource)) = (Address::parse(vault_url), Address::parse(resource))
    else {
        return false;
    };
    // Both hosts are lowercase.
    let (vault_host, resource_host) = (vault.host(), resource.host());
    let same_domain =
        vault_host == resource_host || vault_host.ends_with(&format!(".{resource_host}"));
    same_domain
        && resource.scheme() == "https"
        && vault.port_or_known_default() == resource.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_must_name_the_vaults_domain() {
        let vault = "https://myvault.vault.azure.net";
        assert!(challenge_resource_matches(vault, "https://vault.azure.net"));
        assert!(challenge_resource_matches(
            vault,
            "https://myvault.vault.azure.net/"
        ));
        assert!(challenge_resource_matches(
            "https://v.vault.localhost:8443",
            "https://vault.localhost:8443"
        ));
        for resource in [
            "https://vault.azure.net.evil.com",
            "https://evil.com",
            "https://azure.net.vault",
            "https://ault.azure.net",
            "http://vault.azure.net",
            "https://vault.azure.net:444",
            "not a url",
        ] {
            assert!(!challenge_resource_matches(vault, resource), "{resource}");
        }
        assert!(!challenge_resource_matches(
            "https://v.vault.localhost:8443",
            "https://vault.localhost:9443"
        ));
    }

    #[test]
    fn urls() {
        assert_eq!(
            versions_url(
                "https://v.vault.localhost:8443/",
                KeyVaultObject::Secret,
                "db-pass"
            ),
            "https://v.vault.localhost:8443/secrets/db-pass/versions?maxresults=1&api-version=7.5"
        );
        assert_eq!(
            versions_url("https://v.vault.azure.net", KeyVaultObject::Key, "a/b"),
            "https://v.vault.azure.net/keys/a%2Fb/versions?maxresults=1&api-version=7.5"
        );
        assert_eq!(
            object_url(
                "https://v.vault.azure.net/",
                KeyVaultObject::Secret,
                "db",
                None
            ),
            "https://v.vault.azure.net/secrets/db/?api-version=7.5"
        );
        assert_eq!(
            object_url(
                "https://v.vault.azure.net",
                KeyVaultObject::Certificate,
                "tls cert",
                Some("0a?b")
            ),
            "https://v.vault.azure.net/certificates/tls%20cert/0a%3Fb?api-version=7.5"
        );
        assert_eq!(
            vault_host_name("https://dev-vault.vault.localhost:8443"),
            "dev-vault"
        );
        assert_eq!(vault_host_name("https://x.vault.azure.net/"), "x");
    }
}
