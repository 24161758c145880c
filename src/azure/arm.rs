//! Azure Resource Manager: the few operations dsops needs: subscriptions,
//! storage and Cosmos DB accounts (to find an account's resource group from
//! its name), and actions on them (`listKeys`...), whose answers the
//! services' own rooms read ([`crate::azure::storage`], [`crate::azure::cosmos`]).

use secrecy::SecretString;
use serde_json::Value;

use crate::azure::http::{Http, HttpError};

const SUBSCRIPTIONS_API: &str = "2022-12-01";
const STORAGE_API: &str = "2023-05-01";
const COSMOS_API: &str = "2024-05-15";
/// Pages followed at most when listing (1,000 accounts per page).
const MAX_PAGES: usize = 50;

/// Why an ARM call failed. No message holds a key.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArmError {
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
    Transport(#[from] HttpError),
    /// The answer was not what ARM sends.
    #[error("Resource Manager answered with an unexpected body: {0}")]
    Protocol(String),
}

impl ArmError {
    /// The HTTP status, when ARM answered.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ArmError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// ARM's error code.
    pub(crate) fn code(&self) -> Option<&str> {
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

    /// The resource provider's API version dsops asks for.
    pub(crate) fn api_version(self) -> &'static str {
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
pub(crate) struct Account {
    /// Its ARM id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A client for one Resource Manager endpoint with one token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arm<'a> {
    http: &'a Http,
    token: &'a SecretString,
    base: &'a str,
}

impl<'a> Arm<'a> {
    /// `base` is the cloud's `resource_manager` (`https://management.azure.com`).
    pub(crate) fn new(http: &'a Http, token: &'a SecretString, base: &'a str) -> Self {
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
    pub(crate) async fn subscriptions(&self) -> Result<Vec<(String, String)>, ArmError> {
        let url = format!(
            "{}/subscriptions?api-version={SUBSCRIPTIONS_API}",
            self.base
        );
        Ok(subscriptions_of(&self.list(&url).await?))
    }

    /// The accounts of a kind in a subscription (every page).
    pub(crate) async fn accounts(
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
        Ok(accounts_of(&self.list(&url).await?))
    }

    /// `value` of every page, following `nextLink` (on the same host only).
    async fn list(&self, first: &str) -> Result<Vec<Value>, ArmError> {
        let mut items = Vec::new();
        let mut next = Some(first.to_owned());
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let page = self.get_json(&url).await?;
            items.extend(page_items(&page));
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
    pub(crate) fn account_id(
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

    /// POSTs `action` (`listKeys`, `listConnectionStrings`...) on the
    /// resource `id` (as Resource Manager gave it), with `api_version`: the
    /// answer's JSON.
    pub(crate) async fn post_action(
        &self,
        id: &str,
        action: &str,
        api_version: &str,
    ) -> Result<Value, ArmError> {
        check_resource_id(id)?;
        let url = format!("{}{id}/{action}?api-version={api_version}", self.base);
        self.post_json(&url).await
    }
}

/// The API version of `Microsoft.Authorization/locks`.
const LOCKS_API: &str = "2016-09-01";

impl Arm<'_> {
    /// The names and levels of the management locks at `scope` (an ARM id,
    /// as a `ScopeLocked` message names it) and below it.
    pub(crate) async fn locks(&self, scope: &str) -> Result<Vec<(String, String)>, ArmError> {
        check_resource_id(scope)?;
        let url = format!(
            "{}{scope}/providers/Microsoft.Authorization/locks?api-version={LOCKS_API}",
            self.base
        );
        Ok(self
            .list(&url)
            .await?
            .iter()
            .filter_map(|lock| {
                let name = lock.get("name")?.as_str()?.to_owned();
                let level = lock
                    .pointer("/properties/level")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Some((name, level))
            })
            .collect())
    }

    /// GETs `{id}/{path}` (`readonlykeys`...): a read, which a ReadOnly
    /// lock does not refuse.
    pub(crate) async fn get_under(
        &self,
        id: &str,
        path: &str,
        api_version: &str,
    ) -> Result<Value, ArmError> {
        check_resource_id(id)?;
        let url = format!("{}{id}/{path}?api-version={api_version}", self.base);
        self.get_json(&url).await
    }
}

/// The scope a `409 ScopeLocked` message says is locked:
/// "... because following scope(s) are locked: '/subscriptions/...'".
pub(crate) fn locked_scope(error: &ArmError) -> Option<String> {
    let ArmError::Status { message, .. } = error else {
        return None;
    };
    let (_, after) = message.split_once("locked: '")?;
    let scope = after.split('\'').next()?;
    scope
        .starts_with("/subscriptions/")
        .then(|| scope.to_owned())
}

/// `(subscriptionId, displayName)` of the items of a subscriptions list.
pub(crate) fn subscriptions_of(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|item| {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            Some((
                text("subscriptionId")?,
                text("displayName").unwrap_or_default(),
            ))
        })
        .collect()
}

/// The accounts (`id`, `name`) of the items of an accounts list.
pub(crate) fn accounts_of(items: &[Value]) -> Vec<Account> {
    items
        .iter()
        .filter_map(|item| {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(Account {
                id: text("id")?,
                name: text("name")?,
            })
        })
        .collect()
}

/// The items of a list page (`value`), which may be absent or `null`.
pub(crate) fn page_items(page: &Value) -> Vec<Value> {
    page.get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The error ARM answered with `status` and `body`, in either shape.
#[cfg(test)]
pub(crate) fn error_of(status: u16, body: &[u8]) -> ArmError {
    match json_or_error(status, body) {
        Err(e) => e,
        Ok(_) => protocol("a success"),
    }
}

pub(crate) fn protocol(problem: &str) -> ArmError {
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
    // ARM's `{"error": {"code", "message"}}`, or the top-level
    // `{"code", "message"}` some resource providers (Cosmos DB's
    // `ErrorResponse`) answer with.
    let error = value
        .get("error")
        .filter(|e| e.is_object())
        .or_else(|| value.get("code").is_some().then_some(&value));
    let text = |k: &str| {
        error
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
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
        let locked = json_or_error(409, br#"{"error":{"code":"ScopeLocked","message":"The scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a' cannot perform write operation because following scope(s) are locked: '/subscriptions/s/resourceGroups/rg'. Please remove the lock and try again."}}"#).unwrap_err();
        assert_eq!(
            locked_scope(&locked).as_deref(),
            Some("/subscriptions/s/resourceGroups/rg")
        );
        // Cosmos DB's resource provider: no `error` wrapper.
        let top = json_or_error(400, br#"{"code":"BadRequest","message":"bad"}"#).unwrap_err();
        assert_eq!(
            (top.code(), top.to_string().ends_with(": bad")),
            (Some("BadRequest"), true)
        );
        assert_eq!(encode("rg 1/x"), "rg%201%2Fx");
    }
}
