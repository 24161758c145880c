//! The action's `keyvault` and `secrets` inputs (`dsops github --keyvault
//! VAULT --secrets a,b`), as the deprecated `Azure/get-keyvault-secrets`
//! took them: a configuration written here instead of a dsops.yaml, one
//! store (`keyvault`) and one environment (`keyvault`) whose variables are
//! the secrets, each named after its secret with `-` turned into `_`.
//!
//! The vault is a name (`my-vault`, in the public cloud) or a URL
//! (`https://my-vault.vault.azure.cn`, any cloud or a private endpoint;
//! its host gives the store's Key Vault DNS suffix, with the Entra ID
//! authority from `AZURE_AUTHORITY_HOST` when set). `secrets: '*'` is
//! every secret the vault lists that can be read now (enabled, valid;
//! not those behind certificates).

/// The store and environment of the written configuration.
pub(crate) const NAME: &str = "keyvault";

/// How messages name the configuration.
pub(crate) const SOURCE: &str = "the keyvault and secrets inputs";

/// What the inputs ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Secrets {
    /// These secrets.
    Named(Vec<String>),
    /// `*`: every secret of the vault.
    All,
}

/// The vault and the secrets of the inputs, or why they are unusable.
pub(crate) fn parse(keyvault: &str, secrets: Option<&str>) -> Result<(String, Secrets), String> {
    let vault = keyvault.trim();
    let usable = |c: char| c.is_ascii_alphanumeric() || "-.:/".contains(c);
    if vault.is_empty() || !vault.chars().all(usable) {
        return Err(format!(
            "keyvault {:?}: expected a vault name (`my-vault`) or URL (`https://my-vault.vault.azure.net`)",
            vault.escape_default().to_string()
        ));
    }
    if vault.contains("://") && !vault.starts_with("https://") {
        return Err(format!("keyvault {vault}: a vault URL is https"));
    }
    let Some(list) = secrets.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err("keyvault is given without secrets: name them (`secrets: db-password,api-key`) or take every one (`secrets: '*'`)".to_owned());
    };
    if list == "*" {
        return Ok((vault.to_owned(), Secrets::All));
    }
    let names: Vec<String> = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    for name in &names {
        check_secret_name(name)?;
    }
    Ok((vault.to_owned(), Secrets::Named(names)))
}

/// A Key Vault secret name whose variable name is valid.
fn check_secret_name(name: &str) -> Result<(), String> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "secrets: {:?} is not a Key Vault secret name (letters, digits and `-`)",
            name.escape_default().to_string()
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "secrets: {name} starts with a digit, which no environment variable name may: use a dsops.yaml to name its variable"
        ));
    }
    Ok(())
}

/// The variable a secret is exported as: `db-password` → `db_password`.
pub(crate) fn variable(secret: &str) -> String {
    secret.replace('-', "_")
}

/// The configuration of the store alone (for listing the vault's secrets
/// before the environment can be written).
pub(crate) fn store_only(vault: &str) -> String {
    configuration(vault, &[])
}

/// The configuration: one store and environment `keyvault` with a
/// variable per secret. `secrets` are checked names.
pub(crate) fn configuration(vault: &str, secrets: &[String]) -> String {
    let mut text =
        format!("version: 1\nsecretStores:\n  {NAME}:\n    type: azure.managed_identity\n");
    if let Some(host) = vault.strip_prefix("https://") {
        let host = host.trim_end_matches('/');
        let suffix = host.split_once('.').map_or(host, |(_, suffix)| suffix);
        text.push_str(&format!(
            "    cloud:\n      base: public\n      keyvault_dns_suffix: \"{suffix}\"\n"
        ));
        if let Ok(authority) = std::env::var("AZURE_AUTHORITY_HOST")
            && authority.starts_with("https://")
            && !authority.contains(['"', '\\', '\n'])
        {
            text.push_str(&format!("      authority_host: \"{authority}\"\n"));
        }
    }
    text.push_str(&format!("envs:\n  {NAME}:\n"));
    for secret in secrets {
        text.push_str(&format!(
            "    {}: {{ from: {{ store: {NAME}, vault: \"{vault}\", secret: {secret} }} }}\n",
            variable(secret)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_and_named() {
        assert_eq!(
            parse("my-vault", Some("db-password, api-key\nx")).unwrap(),
            (
                "my-vault".to_owned(),
                Secrets::Named(vec!["db-password".into(), "api-key".into(), "x".into()])
            )
        );
        assert_eq!(parse("v", Some(" * ")).unwrap().1, Secrets::All);
        assert!(parse("my vault", Some("a")).is_err());
        assert!(parse("http://v.vault.azure.net", Some("a")).is_err());
        assert!(parse("v", None).is_err());
        assert!(parse("v", Some("a_b")).is_err());
        assert!(parse("v", Some("1st")).is_err());
        assert_eq!(variable("db-password"), "db_password");
    }
}
