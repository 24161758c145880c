//! Values from storage and Cosmos DB accounts, through Resource Manager: the
//! account's subscription and resource group (given, or found by listing the
//! accounts of the subscriptions the identity can see, once per run), then
//! its keys, a SAS signed with its key, or a connection string.

use std::sync::Arc;
use std::time::SystemTime;

use secrecy::SecretString;
use tokio::sync::OnceCell;

use super::Inner;
use super::failure::Failure;
use super::plan::{AccountValue, SasSpec};
use crate::azure::arm::{Account, AccountKind, Arm, ArmError};
use crate::azure::identity::AccessToken;
use crate::azure::{cosmos, storage};
use dsops_config::model::CosmosApi;

/// What one read of an account (`listKeys`, `listConnectionStrings`...)
/// gave, shared by every fetch of a run that needs it.
#[derive(Clone)]
pub(super) enum Read {
    /// Keys by name (`key1`, `primaryMasterKey`...).
    Keys(Vec<(String, SecretString)>),
    /// Cosmos DB's connection strings.
    ConnectionStrings(Vec<cosmos::ConnectionString>),
}

impl Read {
    fn keys(self) -> Vec<(String, SecretString)> {
        match self {
            Read::Keys(keys) => keys,
            Read::ConnectionStrings(_) => Vec::new(),
        }
    }
}

/// A listing of one subscription's accounts of one kind, shared by every
/// fetch of a run.
pub(super) type Listing = Shared<Vec<Account>>;

/// A result computed once per run and shared by every fetch that needs it.
pub(super) type Shared<T> = Arc<OnceCell<Result<T, Failure>>>;

/// What an account fetch needs.
pub(super) struct AccountFetch<'a> {
    /// The resolution it is part of (its reads of accounts).
    pub(super) run: &'a super::Run,
    pub(super) store: &'a str,
    pub(super) kind: AccountKind,
    pub(super) account: &'a str,
    pub(super) subscription: Option<&'a str>,
    pub(super) resource_group: Option<&'a str>,
    pub(super) value: &'a AccountValue,
}

pub(super) async fn fetch(
    inner: &Inner,
    arm: Arm<'_>,
    token: &AccessToken,
    request: &AccountFetch<'_>,
) -> Result<SecretString, Failure> {
    let id = account_id(inner, arm, token, request).await?;
    let object_id = token
        .claims
        .object_id
        .clone()
        .unwrap_or_else(|| "<object id>".to_owned());
    let failure = |error: ArmError, role: &'static str| {
        let (id, object_id) = (id.clone(), object_id.clone());
        async move {
            // A lock: name it, if the identity may read the locks.
            let locks = match crate::azure::arm::locked_scope(&error) {
                Some(scope) => arm.locks(&scope).await.ok().map(|l| (scope, l)),
                None => None,
            };
            arm_failure(&error, role, &id, &object_id, locks)
        }
    };
    let pick = |values: Vec<(String, SecretString)>, wanted: &str| {
        values
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, v)| v)
            .ok_or_else(|| Failure::plain(format!("Resource Manager returned no {wanted}"), None))
    };
    // Each read of an account is made once per run, whichever variables need it.
    let read = |action: &'static str| request.run.account_read(request.store, &id, action);
    let storage_keys = || async {
        read("listKeys")
            .get_or_init(|| async {
                match storage::list_keys(&arm, &id).await {
                    Ok(keys) => Ok(Read::Keys(keys)),
                    Err(e) => Err(failure(e, storage::KEYS_ROLE).await),
                }
            })
            .await
            .clone()
            .map(Read::keys)
    };
    match request.value {
        AccountValue::StorageKey(n) => pick(storage_keys().await?, &format!("key{n}")),
        AccountValue::Sas(spec) => {
            let key = pick(storage_keys().await?, "key1")?;
            sign(request.account, &key, spec)
        }
        AccountValue::CosmosKey(key) => {
            let read_only = key.ends_with("_readonly");
            let (action, role) = if read_only {
                ("listReadOnlyKeys", cosmos::READ_ONLY_ROLE)
            } else {
                ("listKeys", cosmos::KEYS_ROLE)
            };
            let keys = read(action)
                .get_or_init(|| async {
                    match cosmos::list_keys(&arm, &id, read_only).await {
                        Ok(keys) => Ok(Read::Keys(keys)),
                        Err(e) => Err(failure(e, role).await),
                    }
                })
                .await
                .clone()?;
            pick(keys.keys(), cosmos::key_field(key))
        }
        AccountValue::CosmosConnection { key, api } => {
            let read = read("listConnectionStrings")
                .get_or_init(|| async {
                    match cosmos::list_connection_strings(&arm, &id).await {
                        Ok(strings) => Ok(Read::ConnectionStrings(strings)),
                        Err(e) => Err(failure(e, cosmos::KEYS_ROLE).await),
                    }
                })
                .await
                .clone()?;
            let Read::ConnectionStrings(strings) = read else {
                return Err(Failure::plain(
                    "Resource Manager returned no connection strings".to_owned(),
                    None,
                ));
            };
            // `primary_readonly` → `PrimaryReadonly`, as `keyKind` names it.
            let kind: String = key
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect();
            cosmos::choose(&strings, &kind, *api).map_err(|message| {
                let hint = if *api == CosmosApi::Sql {
                    "if the account speaks another API, say which on the reference: `api: mongodb` (or `table`, `cassandra`, `gremlin`)".to_owned()
                } else {
                    format!(
                        "the reference asks for `api: {}`: check the account's API (`az cosmosdb show --name {} --query kind`)",
                        api.keyword(),
                        request.account
                    )
                };
                Failure::plain(format!("{message} ({})", request.account), Some(hint))
            })
        }
    }
}

fn sign(account: &str, key: &SecretString, spec: &SasSpec) -> Result<SecretString, Failure> {
    let params = crate::azure::storage::AccountSas {
        permissions: spec.permissions.clone(),
        expiry: spec.expiry,
        start_before: spec.start_before,
        services: spec.services.clone(),
        resource_types: spec.resource_types.clone(),
        ip: spec.ip.clone(),
        protocol: if spec.https_only {
            dsops_config::model::SasProtocol::Https
        } else {
            dsops_config::model::SasProtocol::HttpsAndHttp
        },
    };
    crate::azure::storage::account_sas(account, key, &params, SystemTime::now())
        .map_err(|e| Failure::plain(format!("cannot sign the SAS: {e}"), None))
}

/// The account's ARM id: from the given resource group, or found by name.
async fn account_id(
    inner: &Inner,
    arm: Arm<'_>,
    token: &AccessToken,
    request: &AccountFetch<'_>,
) -> Result<String, Failure> {
    let noun = request.kind.noun();
    let subscriptions: Vec<String> = match request.subscription {
        Some(s) => vec![s.to_owned()],
        None => {
            let visible = inner
                .subscription_list(request.store)
                .get_or_init(|| async {
                    arm.subscriptions().await.map(|list| list.into_iter().map(|(id, _)| id).collect()).map_err(|e| {
                        Failure::from_arm(&e, Some("the identity cannot list subscriptions: give `default_subscription` on the store or `subscription` on the reference".to_owned()))
                    })
                })
                .await
                .clone()?;
            if visible.is_empty() {
                let oid = token
                    .claims
                    .object_id
                    .clone()
                    .unwrap_or_else(|| "<object id>".to_owned());
                return Err(Failure::plain(
                    format!(
                        "no subscription is known for {noun} {}: the identity sees none",
                        request.account
                    ),
                    Some(format!(
                        "give `default_subscription` on the store, a `resources:` entry with `subscription`, or `subscription` on the reference; and grant the identity (object id {oid}) a role in that subscription"
                    )),
                ));
            }
            visible
        }
    };
    if let Some(rg) = request.resource_group {
        let subscription = subscriptions
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        return Ok(arm.account_id(subscription, rg, request.kind, request.account));
    }
    for subscription in &subscriptions {
        let listing = inner.listing(request.store, subscription, request.kind);
        let accounts = listing
            .get_or_init(|| async {
                arm.accounts(subscription, request.kind)
                    .await
                    .map_err(|e| Failure::from_arm(&e, None))
            })
            .await;
        match accounts {
            Ok(accounts) => {
                if let Some(found) = accounts
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(request.account))
                {
                    return Ok(found.id.clone());
                }
            }
            Err(listing_failed) if subscriptions.len() == 1 => {
                let oid = token
                    .claims
                    .object_id
                    .clone()
                    .unwrap_or_else(|| "<object id>".to_owned());
                return Err(Failure {
                    message: format!(
                        "cannot list the {noun}s of subscription {subscription} to find {}: {}",
                        request.account, listing_failed.message
                    ),
                    hint: Some(format!(
                        "name the resource group (`resource_group:` on the reference or a `resources:` entry), or grant 'Reader' on the subscription to object id {oid}"
                    )),
                    ..listing_failed.clone()
                });
            }
            Err(_) => {}
        }
    }
    Err(Failure::plain(
        format!(
            "no {noun} named {} in subscription{} {}",
            request.account,
            if subscriptions.len() == 1 { "" } else { "s" },
            subscriptions.join(", ")
        ),
        Some("check the name, or give its `subscription` and `resource_group`".to_owned()),
    ))
}

fn arm_failure(
    error: &ArmError,
    role: &str,
    account_id: &str,
    object_id: &str,
    locks: Option<(String, Vec<(String, String)>)>,
) -> Failure {
    let hint = match error.status() {
        Some(409) if error.code() == Some("ScopeLocked") => {
            let (scope, named) = match &locks {
                Some((scope, list)) => {
                    let names: Vec<String> = list
                        .iter()
                        .filter(|(_, level)| level.eq_ignore_ascii_case("ReadOnly"))
                        .map(|(name, _)| format!("'{name}'"))
                        .collect();
                    let named = if names.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", names.join(", "))
                    };
                    (scope.clone(), named)
                }
                None => (
                    crate::azure::arm::locked_scope(error).unwrap_or_else(|| account_id.to_owned()),
                    String::new(),
                ),
            };
            let despite = if account_id.contains("/Microsoft.DocumentDB/") {
                "the read-only keys stay readable under the lock (`key: primary_readonly` or `secondary_readonly`: dsops reads them with a GET, which the lock allows)"
            } else {
                "no key can be listed under it (listKeys is a POST): read the data with Microsoft Entra ID (a data role such as 'Storage Blob Data Reader') instead of a key"
            };
            Some(format!(
                "a ReadOnly lock{named} on {scope} refuses listing keys; {despite}; or ask an owner to remove it: az lock list --scope {scope}"
            ))
        }
        Some(403) => Some(format!(
            "grant '{role}' on the account to object id {object_id}: az role assignment create --role \"{role}\" --assignee-object-id {object_id} --assignee-principal-type ServicePrincipal --scope \"{account_id}\""
        )),
        Some(404) if error.code() == Some("SubscriptionNotFound") => Some(format!(
            "the identity (object id {object_id}) has no role in that subscription, or it does not exist: grant '{role}' on the account, or 'Reader' on the subscription"
        )),
        Some(404) => Some("check the account's name, subscription and resource group".to_owned()),
        Some(401) => Some("Resource Manager refused the token: check the store's `tenant_id` and `cloud.resource_manager`".to_owned()),
        _ => None,
    };
    Failure::from_arm(error, hint)
}
