//! Azure Cosmos DB accounts, through Resource Manager: their keys
//! (`listKeys`, `listReadOnlyKeys`) and connection strings
//! (`listConnectionStrings`), for `resource_type: cosmosdb`.

use secrecy::SecretString;
use serde_json::Value;

use crate::azure::arm::{AccountKind, Arm, ArmError, protocol};

/// The built-in role that may read every key and connection string.
pub(crate) const KEYS_ROLE: &str = "DocumentDB Account Contributor";
/// The built-in role that may read the read-only keys.
pub(crate) const READ_ONLY_ROLE: &str = "Cosmos DB Account Reader Role";

/// The field of `listKeys` that holds `key` (`primary_readonly` →
/// `primaryReadonlyMasterKey`).
pub(crate) fn key_field(key: &str) -> &'static str {
    match key {
        "secondary" => "secondaryMasterKey",
        "primary_readonly" => "primaryReadonlyMasterKey",
        "secondary_readonly" => "secondaryReadonlyMasterKey",
        _ => "primaryMasterKey",
    }
}

/// The keys of the account `account_id`: all four (`listKeys`) or the
/// read-only two (`listReadOnlyKeys`).
pub(crate) async fn list_keys(
    arm: &Arm<'_>,
    account_id: &str,
    read_only: bool,
) -> Result<Vec<(String, SecretString)>, ArmError> {
    let action = if read_only {
        "listReadOnlyKeys"
    } else {
        "listKeys"
    };
    let body = arm
        .post_action(account_id, action, AccountKind::Cosmos.api_version())
        .await?;
    let map = body.as_object().ok_or_else(|| protocol("not an object"))?;
    Ok(map
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), SecretString::from(v.as_str()?.to_owned()))))
        .collect())
}

/// The connection strings of the account `account_id`, by key kind
/// (`Primary`, `SecondaryReadonly`...).
pub(crate) async fn list_connection_strings(
    arm: &Arm<'_>,
    account_id: &str,
) -> Result<Vec<(String, SecretString)>, ArmError> {
    let body = arm
        .post_action(
            account_id,
            "listConnectionStrings",
            AccountKind::Cosmos.api_version(),
        )
        .await?;
    let list = body
        .get("connectionStrings")
        .and_then(Value::as_array)
        .ok_or_else(|| protocol("no `connectionStrings`"))?;
    Ok(list
        .iter()
        .filter_map(|c| {
            let value = c.get("connectionString")?.as_str()?;
            let kind = c
                .get("keyKind")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    c.get("description")
                        .and_then(Value::as_str)
                        .map(kind_from_description)
                })?;
            Some((kind, SecretString::from(value.to_owned())))
        })
        .collect())
}

/// Older API versions have no `keyKind`: "Primary Read-Only SQL Connection String".
fn kind_from_description(description: &str) -> String {
    let d = description.to_ascii_lowercase();
    let primary = d.starts_with("primary");
    let read_only = d.contains("read-only") || d.contains("readonly");
    match (primary, read_only) {
        (true, false) => "Primary",
        (false, false) => "Secondary",
        (true, true) => "PrimaryReadonly",
        (false, true) => "SecondaryReadonly",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_descriptions() {
        assert_eq!(
            kind_from_description("Primary Read-Only SQL Connection String"),
            "PrimaryReadonly"
        );
        assert_eq!(
            kind_from_description("Secondary SQL Connection String"),
            "Secondary"
        );
    }
}
