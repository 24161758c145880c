//! A storage account's keys, read through Resource Manager (`listKeys`).

use secrecy::SecretString;
use serde_json::Value;

use crate::azure::arm::{AccountKind, Arm, ArmError, protocol};

/// The built-in role that may read a storage account's keys.
pub(crate) const KEYS_ROLE: &str = "Storage Account Key Operator Service Role";

/// `key1` and `key2` of the storage account `account_id` (its ARM id).
pub(crate) async fn list_keys(
    arm: &Arm<'_>,
    account_id: &str,
) -> Result<Vec<(String, SecretString)>, ArmError> {
    let body = arm
        .post_action(account_id, "listKeys", AccountKind::Storage.api_version())
        .await?;
    keys_of(&body)
}

/// `(keyName lower-cased, value)` of a `listKeys` answer.
pub(crate) fn keys_of(body: &Value) -> Result<Vec<(String, SecretString)>, ArmError> {
    let keys = body
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| protocol("no `keys`"))?;
    Ok(keys
        .iter()
        .filter_map(|k| {
            let name = k.get("keyName")?.as_str()?;
            let value = k.get("value")?.as_str()?;
            Some((
                name.to_ascii_lowercase(),
                SecretString::from(value.to_owned()),
            ))
        })
        .collect())
}
