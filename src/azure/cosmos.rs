//! Azure Cosmos DB accounts, through Resource Manager: their keys
//! (`listKeys`, `listReadOnlyKeys`) and connection strings
//! (`listConnectionStrings`), for `resource_type: cosmosdb`.

use secrecy::SecretString;
use serde_json::Value;

use dsops_config::model::CosmosApi;

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
    let body = match arm
        .post_action(account_id, action, AccountKind::Cosmos.api_version())
        .await
    {
        // A ReadOnly lock refuses every POST; the read-only keys are also
        // served by a GET (`DatabaseAccounts_GetReadOnlyKeys`), which it
        // does not refuse.
        Err(error) if read_only && error.code() == Some("ScopeLocked") => {
            match arm
                .get_under(
                    account_id,
                    "readonlykeys",
                    AccountKind::Cosmos.api_version(),
                )
                .await
            {
                Ok(body) => body,
                Err(_) => return Err(error),
            }
        }
        other => other?,
    };
    keys_of(&body)
}

/// The keys of a `listKeys` or `listReadOnlyKeys` answer, by field name.
pub(crate) fn keys_of(body: &Value) -> Result<Vec<(String, SecretString)>, ArmError> {
    let map = body.as_object().ok_or_else(|| protocol("not an object"))?;
    Ok(map
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), SecretString::from(v.as_str()?.to_owned()))))
        .collect())
}

/// One of the connection strings `listConnectionStrings` lists. `Debug`
/// never shows the value.
#[derive(Clone)]
pub(crate) struct ConnectionString {
    /// `keyKind` (`Primary`, `SecondaryReadonly`...), or read from the
    /// description when an API version has none.
    pub kind: String,
    /// `type` (`Sql`, `MongoDB`, `Table`...), when the API version has it.
    pub api: Option<String>,
    /// `description` ("Primary SQL Connection String").
    pub description: String,
    /// The connection string.
    pub value: SecretString,
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionString")
            .field("kind", &self.kind)
            .field("api", &self.api)
            .field("description", &self.description)
            .field("value", &"[redacted]")
            .finish()
    }
}

impl ConnectionString {
    /// Whether this is a connection string of `api`: its `type`, or, without
    /// one, the API its description names ("Primary MongoDB Connection
    /// String").
    fn is_for(&self, api: CosmosApi) -> bool {
        match &self.api {
            Some(t) => t.eq_ignore_ascii_case(api.azure_type()),
            None => {
                let word = match api {
                    CosmosApi::Sql => "sql",
                    other => other.keyword(),
                };
                self.description
                    .to_ascii_lowercase()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w == word)
            }
        }
    }

    /// The API, as the answer names it.
    fn api_name(&self) -> String {
        self.api.clone().unwrap_or_else(|| {
            ["SQL", "MongoDB", "Table", "Cassandra", "Gremlin"]
                .into_iter()
                .find(|w| {
                    self.description
                        .to_ascii_lowercase()
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .any(|d| d == w.to_ascii_lowercase())
                })
                .unwrap_or("unnamed")
                .to_owned()
        })
    }
}

/// The connection strings of the account `account_id`.
pub(crate) async fn list_connection_strings(
    arm: &Arm<'_>,
    account_id: &str,
) -> Result<Vec<ConnectionString>, ArmError> {
    let body = arm
        .post_action(
            account_id,
            "listConnectionStrings",
            AccountKind::Cosmos.api_version(),
        )
        .await?;
    connection_strings_of(&body)
}

/// The entries of a `listConnectionStrings` answer that have a value.
pub(crate) fn connection_strings_of(body: &Value) -> Result<Vec<ConnectionString>, ArmError> {
    let list = body
        .get("connectionStrings")
        .and_then(Value::as_array)
        .ok_or_else(|| protocol("no `connectionStrings`"))?;
    Ok(list
        .iter()
        .filter_map(|c| {
            let value = c.get("connectionString")?.as_str()?;
            let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
            let description = text("description").unwrap_or_default();
            let kind = text("keyKind").unwrap_or_else(|| kind_from_description(&description));
            Some(ConnectionString {
                kind,
                api: text("type"),
                description,
                value: SecretString::from(value.to_owned()),
            })
        })
        .collect())
}

/// The connection string of `api` carrying the key `kind` (`Primary`,
/// `SecondaryReadonly`...), or a sentence saying which ones the account has.
pub(crate) fn choose(
    strings: &[ConnectionString],
    kind: &str,
    api: CosmosApi,
) -> Result<SecretString, String> {
    if let Some(found) = strings
        .iter()
        .find(|c| c.is_for(api) && c.kind.eq_ignore_ascii_case(kind))
    {
        return Ok(found.value.clone());
    }
    let mut listed: Vec<String> = Vec::new();
    for c in strings {
        let name = c.api_name();
        if !listed.contains(&name) {
            listed.push(name);
        }
    }
    Err(if strings.iter().any(|c| c.is_for(api)) {
        format!(
            "the account lists no {} connection string with the {kind} key",
            api.azure_type()
        )
    } else if listed.is_empty() {
        "the account lists no connection string".to_owned()
    } else {
        format!(
            "the account lists no {} connection string, only {} ones: it is an account of another API",
            api.azure_type(),
            listed.join(", ")
        )
    })
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

    fn listed(json: &str) -> Vec<ConnectionString> {
        connection_strings_of(&serde_json::from_str(json).unwrap()).unwrap()
    }

    #[test]
    fn the_api_chooses_among_the_listed_strings() {
        use secrecy::ExposeSecret;
        // A Table account lists its Table strings and the SQL ones.
        let table = listed(
            r#"{"connectionStrings":[
            {"connectionString":"T1","description":"Primary Table Connection String","keyKind":"Primary","type":"Table"},
            {"connectionString":"S1","description":"Primary SQL Connection String","keyKind":"Primary","type":"Sql"}]}"#,
        );
        assert_eq!(
            choose(&table, "Primary", CosmosApi::Sql)
                .unwrap()
                .expose_secret(),
            "S1"
        );
        assert_eq!(
            choose(&table, "Primary", CosmosApi::Table)
                .unwrap()
                .expose_secret(),
            "T1"
        );
        // Without `type`, the description names the API.
        let mongo = listed(
            r#"{"connectionStrings":[{"connectionString":"M1","description":"Primary MongoDB Connection String"}]}"#,
        );
        assert_eq!(
            choose(&mongo, "Primary", CosmosApi::MongoDb)
                .unwrap()
                .expose_secret(),
            "M1"
        );
        let refused = choose(&mongo, "Primary", CosmosApi::Sql).unwrap_err();
        assert!(refused.contains("only MongoDB ones"), "{refused}");
        assert!(!format!("{mongo:?}").contains("M1"));
    }
}
