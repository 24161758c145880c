//! Azure Resource Manager: the few operations dsops needs: subscriptions,
//! storage and Cosmos DB accounts (to find an account's resource group from
//! its name), and their keys and connection strings.

use secrecy::SecretString;
use serde_json::Value;

use crate::identity::{Http, IdentityError};

const SUBSCRIPTIONS_API: &str = "2022-12-01";
const STORAGE_API: &str = "2023-05-01";
const COSMOS_API: &str = "2024-05-15";
/// Pages followed at most when listing (1,000 accounts per page).
const MAX_PAGES: usize = 50;

/// Why an ARM call failed. No message holds a key.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// ARM answered with an error.
    #[error("Resource Manager answered {status}{}: {message}", code.as_ref().map(|c| format!(" {c}")).unwrap_or_default())]
    Status {
        /// The HTTP status.
        status: u16,
        /// ARM's error code (`AuthorizationFailed`, `ResourceNotFound`...).
        code: Option<String>,
        /// ARM's message.
        message: String,
    },
    /// The request failed or timed out.
    #[error(transparent)]
    Transport(#[from] IdentityError),
    /// The answer was not what ARM sends.
    #[error("Resource Manager answered with an unexpected body: {0}")]
    Protocol(String),
}

impl ArmError {
    /// The HTTP status, when ARM answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// ARM's error code.
    pub fn code(&self) -> Option<&str> {
        match self {
            ArmError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// Which kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// `Microsoft.Storage/storageAccounts`.
    Storage,
    /// `Microsoft.DocumentDB/databaseAccounts`.
    Cosmos,
}

impl AccountKind {
    fn provider_path(self) -> &'static str {
        match self {
            AccountKind::Storage => "Microsoft.Storage/storageAccounts",
            AccountKind::Cosmos => "Microsoft.DocumentDB/databaseAccounts",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            AccountKind::Storage => STORAGE_API,
            AccountKind::Cosmos => COSMOS_API,
        }
    }

    /// "storage account", "Cosmos DB account".
    pub fn noun(self) -> &'static str {
        match self {
            AccountKind::Storage => "storage account",
            AccountKind::Cosmos => "Cosmos DB account",
        }
    }
}

/// An account found by listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its ARM id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A client for one Resource Manager endpoint with one token.
#[derive(Debug, Clone, Copy)]
pub struct Arm<'a> {
    http: &'a Http,
    token: &'a SecretString,
    base: &'a str,
}

impl<'a> Arm<'a> {
    /// `base` is the cloud's `resource_manager` (`https://management.azure.com`).
    pub fn new(http: &'a Http, token: &'a SecretString, base: &'a str) -> Self {
        Self {
            http,
            token,
            base: base.trim_end_matches('/'),
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value, ArmError> {
        let response = self.http.get_with_bearer(url, self.token).await?;
        json_or_error(response.status.as_u16(), &response.body)
    }

    async fn post_json(&self, url: &str) -> Result<Value, ArmError> {
        let response = self.http.post_with_bearer(url, self.token).await?;
        json_or_error(response.status.as_u16(), &response.body)
    }

    /// The subscriptions the identity can see: `(id, display name)`.
    pub async fn subscriptions(&self) -> Result<Vec<(String, String)>, ArmError> {
        let url = format!(
            "{}/subscriptions?api-version={SUBSCRIPTIONS_API}",
            self.base
        );
        let mut out = Vec::new();
        for item in self.list(&url).await? {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            if let Some(id) = text("subscriptionId") {
                out.push((id, text("displayName").unwrap_or_default()));
            }
        }
        Ok(out)
    }

    /// The accounts of a kind in a subscription (every page).
    pub async fn accounts(
        &self,
        subscription: &str,
        kind: AccountKind,
    ) -> Result<Vec<Account>, ArmError> {
        let url = format!(
            "{}/subscriptions/{}/providers/{}?api-version={}",
            self.base,
            encode(subscription),
            kind.provider_path(),
            kind.api_version()
        );
        let mut out = Vec::new();
        for item in self.list(&url).await? {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            if let (Some(id), Some(name)) = (text("id"), text("name")) {
                out.push(Account { id, name });
            }
        }
        Ok(out)
    }

    /// `value` of every page, following `nextLink` (on the same host only).
    async fn list(&self, first: &str) -> Result<Vec<Value>, ArmError> {
        let mut items = Vec::new();
        let mut next = Some(first.to_owned());
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let page = self.get_json(&url).await?;
            if let Some(values) = page.get("value").and_then(Value::as_array) {
                items.extend(values.iter().cloned());
            }
            // Only a link under this endpoint's own path: `base` followed by
            // `/`, so `https://management.azure.com.evil.com/...` and
            // `https://management.azure.com@evil.com/...` are not followed.
            next = page
                .get("nextLink")
                .and_then(Value::as_str)
                .filter(|link| is_under(link, self.base))
                .map(str::to_owned);
        }
        Ok(items)
    }

    /// The ARM id of an account in a known resource group.
    pub fn account_id(
        &self,
        subscription: &str,
        resource_group: &str,
        kind: AccountKind,
        name: &str,
    ) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}",
            encode(subscription),
            encode(resource_group),
            kind.provider_path(),
            encode(name)
        )
    }

    /// `key1` and `key2` of a storage account.
    pub async fn storage_keys(
        &self,
        account_id: &str,
    ) -> Result<Vec<(String, SecretString)>, ArmError> {
        check_resource_id(account_id)?;
        let url = format!(
            "{}{account_id}/listKeys?api-version={STORAGE_API}",
            self.base
        );
        let body = self.post_json(&url).await?;
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

    /// Cosmos DB keys: all four (`listKeys`) or the read-only two (`listReadOnlyKeys`).
    pub async fn cosmos_keys(
        &self,
        account_id: &str,
        read_only: bool,
    ) -> Result<Vec<(String, SecretString)>, ArmError> {
        let action = if read_only {
            "listReadOnlyKeys"
        } else {
            "listKeys"
        };
        check_resource_id(account_id)?;
        let url = format!(
            "{}{account_id}/{action}?api-version={COSMOS_API}",
            self.base
        );
        let body = self.post_json(&url).await?;
        let map = body.as_object().ok_or_else(|| protocol("not an object"))?;
        Ok(map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), SecretString::from(v.as_str()?.to_owned()))))
            .collect())
    }

    /// Cosmos DB connection strings by key kind (`Primary`, `SecondaryReadonly`...).
    pub async fn cosmos_connection_strings(
        &self,
        account_id: &str,
    ) -> Result<Vec<(String, SecretString)>, ArmError> {
        check_resource_id(account_id)?;
        let url = format!(
            "{}{account_id}/listConnectionStrings?api-version={COSMOS_API}",
            self.base
        );
        let body = self.post_json(&url).await?;
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

fn protocol(problem: &str) -> ArmError {
    ArmError::Protocol(problem.to_owned())
}

fn json_or_error(status: u16, body: &[u8]) -> Result<Value, ArmError> {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return if value.is_null() {
            Err(protocol("not JSON"))
        } else {
            Ok(value)
        };
    }
    let error = value.get("error");
    let text = |k: &str| {
        error
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Err(ArmError::Status {
        status,
        code: text("code"),
        message: text("message").unwrap_or_else(|| format!("HTTP {status}")),
    })
}

/// Whether `link` is a URL under `base`: `base` itself followed by `/` or
/// `?`, so that no other host can hide behind `base`'s text.
fn is_under(link: &str, base: &str) -> bool {
    link.strip_prefix(base)
        .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
}

/// An ARM resource id as Resource Manager answers it
/// (`/subscriptions/…/providers/…`), before it becomes part of a URL that
/// carries the token: a path, nothing that could change the host (`@`,
/// `\`), the query or the path's meaning (`?`, `#`, `..`, whitespace).
fn check_resource_id(id: &str) -> Result<(), ArmError> {
    let well_formed = id.starts_with("/subscriptions/")
        && !id.contains("..")
        && !id.contains("//")
        && id.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '(' | ')' | '%')
        });
    if well_formed {
        Ok(())
    } else {
        Err(protocol(
            "an account id that is not a Resource Manager id (`/subscriptions/...`): refusing to build a URL from it",
        ))
    }
}

/// Percent-encodes a path segment.
fn encode(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_ids_cannot_lead_elsewhere() {
        let base = "https://management.azure.com";
        assert!(is_under(
            "https://management.azure.com/subscriptions?x=1",
            base
        ));
        assert!(is_under("https://management.azure.com?x", base));
        for link in [
            "https://management.azure.com.evil.com/subscriptions",
            "https://management.azure.com@evil.com/subscriptions",
            "https://management.azure.com:444/subscriptions",
            "https://evil.com/https://management.azure.com/",
        ] {
            assert!(!is_under(link, base), "{link}");
        }
        assert!(check_resource_id("/subscriptions/0000/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/dev(1)").is_ok());
        for id in [
            "@evil.com/subscriptions/x",
            ".evil.com/subscriptions/x",
            "/subscriptions/x/../../y",
            "/subscriptions/x?y",
            "/subscriptions/x#y",
            "/subscriptions/x y",
            "/subscriptions/x\\y",
            "//evil.com/subscriptions/x",
            "subscriptions/x",
        ] {
            assert!(check_resource_id(id).is_err(), "{id}");
        }
    }

    #[test]
    fn errors_and_kinds() {
        let error = json_or_error(
            403,
            br#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (error.status(), error.code()),
            (Some(403), Some("AuthorizationFailed"))
        );
        assert!(json_or_error(200, b"not json").is_err());
        assert_eq!(
            kind_from_description("Primary Read-Only SQL Connection String"),
            "PrimaryReadonly"
        );
        assert_eq!(
            kind_from_description("Secondary SQL Connection String"),
            "Secondary"
        );
        assert_eq!(encode("rg 1/x"), "rg%201%2Fx");
    }
}
