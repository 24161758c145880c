//! One fetch: room in its store's window (and, for Key Vault, in the
//! vault's budget), a token for its scope, the request, and a failure
//! turned into a message with the identity used and a hint.

use std::time::SystemTime;

use secrecy::SecretString;

use dsops_config::model::{Identity, SqlDialect, UserAssignedId};

use super::failure::Failure;
use super::plan::{FetchTarget, KeyVaultObjectKind, SqlDialectKind};
use super::{Inner, StoreRuntime};
use crate::azure::arm::Arm;
use crate::azure::identity::{AccessToken, ManagedHost, TokenSource};
use crate::azure::keyvault::{self, KeyVaultError};

/// A fetched value, with when it stops working (an access token, a SAS).
pub(super) struct Fetched {
    pub(super) value: SecretString,
    pub(super) expires: Option<SystemTime>,
}

pub(super) async fn fetch(
    inner: &Inner,
    run: &super::Run,
    fetch: &super::Fetch,
) -> Result<Fetched, Failure> {
    if let FetchTarget::Unsupported { kind } = &fetch.target {
        return Err(Failure::plain(format!("dsops cannot fetch {kind}"), None));
    }
    let store = inner
        .config
        .store(&fetch.store)
        .ok_or_else(|| Failure::plain(format!("no store `{}`", fetch.store), None))?;
    let runtime = inner
        .runtime(&fetch.store)
        .map_err(|why| Failure::plain(why.to_string(), None))?;
    // A pinned version never changes: read once per engine.
    if let Some(value) = inner.pinned(&fetch.store, &fetch.target) {
        return Ok(Fetched {
            value,
            expires: None,
        });
    }
    // `secret_cache` holds values that do not expire; tokens have their own
    // cache, and a SAS is signed anew (no request) each time.
    let cacheable = store.cache.secret_cache && !fetch.target.expires();
    let ttl = store.cache.secret_ttl;
    if cacheable && let Some(value) = inner.cached(&fetch.store, &fetch.target, ttl) {
        return Ok(Fetched {
            value,
            expires: None,
        });
    }
    let slot = runtime
        .limit
        .acquire()
        .await
        .map_err(|_| Failure::plain("the engine is shutting down", None))?;
    if let FetchTarget::KeyVault { vault_url, .. } = &fetch.target {
        inner.budget.take(vault_url).await;
    }
    let fetched = match &fetch.target {
        FetchTarget::Sql {
            server,
            database,
            dialect,
        } => sql(&runtime, store, server, database, *dialect)
            .await
            .map(|value| Fetched {
                value,
                expires: None,
            }),
        target => {
            let Some(scope) = target.scope(store) else {
                return Err(Failure::plain("nothing to fetch", None));
            };
            let token = token(&runtime, &scope).await?;
            let credential = Some(credential(runtime.chain.winner(), &token));
            let expires = match target {
                FetchTarget::Token { .. } => Some(token.expires_on),
                FetchTarget::Account {
                    value: super::plan::AccountValue::Sas(spec),
                    ..
                } => SystemTime::now().checked_add(spec.expiry),
                _ => None,
            };
            with_token(inner, run, &runtime, store, &fetch.store, target, &token)
                .await
                .map(|value| Fetched { value, expires })
                .map_err(|failure| Failure {
                    credential,
                    ..failure
                })
        }
    };
    slot.done(runtime.http.throttled());
    let fetched = fetched?;
    if cacheable {
        inner.remember(&fetch.store, &fetch.target, &fetched.value);
    }
    if matches!(
        &fetch.target,
        FetchTarget::KeyVault {
            version: Some(_),
            ..
        }
    ) {
        inner.pin(&fetch.store, &fetch.target, &fetched.value);
    }
    Ok(fetched)
}

async fn token(
    runtime: &StoreRuntime,
    scope: &crate::azure::identity::Scope,
) -> Result<AccessToken, Failure> {
    runtime.chain.token(scope).await.map_err(|error| {
        Failure::plain(
            error.to_string(),
            Some("`dsops doctor` shows each identity source and how to fix it".to_owned()),
        )
    })
}

async fn with_token(
    inner: &Inner,
    run: &super::Run,
    runtime: &StoreRuntime,
    store: &dsops_config::model::Store,
    store_name: &str,
    target: &FetchTarget,
    token: &AccessToken,
) -> Result<SecretString, Failure> {
    match target {
        FetchTarget::Token { .. } => Ok(token.secret.clone()),
        FetchTarget::KeyVault {
            vault_url,
            object,
            name,
            version,
        } => key_vault(runtime, token, vault_url, *object, name, version.as_deref())
            .await
            .map_err(|error| key_vault_failure(&error, vault_url, *object, name, token)),
        FetchTarget::Account {
            kind,
            account,
            subscription,
            resource_group,
            value,
        } => {
            let arm = Arm::new(
                &runtime.http,
                &token.secret,
                &store.cloud.endpoints.resource_manager,
            );
            let request = super::account::AccountFetch {
                run,
                store: store_name,
                kind: *kind,
                account,
                subscription: subscription.as_deref(),
                resource_group: resource_group.as_deref(),
                value,
            };
            super::account::fetch(inner, arm, token, &request).await
        }
        FetchTarget::Sql { .. } | FetchTarget::Unsupported { .. } => {
            Err(Failure::plain("nothing to fetch", None))
        }
    }
}

/// A connection string that signs in with the identity. Only a user-assigned
/// identity named by object or resource id costs a request: its client id
/// is read from a token.
async fn sql(
    runtime: &StoreRuntime,
    store: &dsops_config::model::Store,
    server: &str,
    database: &str,
    dialect: SqlDialectKind,
) -> Result<SecretString, Failure> {
    let suffix = &store.cloud.endpoints.sql_dns_suffix;
    // ODBC's driver sends `UID` to IMDS and Azure Arc as the identity's
    // object id, to App Service as its client id.
    let by_object_id = dialect == SqlDialectKind::Odbc
        && matches!(
            runtime.chain.managed_host(),
            Some(ManagedHost::Imds | ManagedHost::Arc)
        );
    if by_object_id && let Identity::UserAssigned(id) = &store.identity {
        let object_id = match id {
            UserAssignedId::ObjectId(id) => id.value.clone(),
            _ => {
                let scope =
                    crate::azure::identity::Scope::for_resource(&format!("https://{suffix}"));
                let token = token(runtime, &scope).await?;
                token.claims.object_id.ok_or_else(|| {
                    Failure::plain(
                        "the identity's token names no object id, which ODBC's UID needs on this host",
                        Some("give the user-assigned identity by `object_id`".to_owned()),
                    )
                })?
            }
        };
        return crate::azure::sql::connection_string(
            server,
            database,
            SqlDialect::Odbc,
            suffix,
            Some(&object_id),
        )
        .map(SecretString::from)
        .map_err(|e| Failure::plain(e.to_string(), None));
    }
    let client_id = match &store.identity {
        Identity::SystemAssigned => None,
        Identity::UserAssigned(UserAssignedId::ClientId(id)) => Some(id.value.clone()),
        Identity::UserAssigned(_) => {
            let scope = crate::azure::identity::Scope::for_resource(&format!("https://{suffix}"));
            let token = token(runtime, &scope).await?;
            Some(token.claims.client_id.ok_or_else(|| {
                Failure::plain(
                    "the identity's token names no client id",
                    Some("give the user-assigned identity by `client_id`".to_owned()),
                )
            })?)
        }
    };
    let dialect = match dialect {
        SqlDialectKind::AdoNet => SqlDialect::AdoNet,
        SqlDialectKind::Jdbc => SqlDialect::Jdbc,
        SqlDialectKind::Odbc => SqlDialect::Odbc,
    };
    crate::azure::sql::connection_string(server, database, dialect, suffix, client_id.as_deref())
        .map(SecretString::from)
        .map_err(|e| Failure::plain(e.to_string(), None))
}

async fn key_vault(
    runtime: &StoreRuntime,
    token: &AccessToken,
    vault_url: &str,
    object: KeyVaultObjectKind,
    name: &str,
    version: Option<&str>,
) -> Result<SecretString, KeyVaultError> {
    let http = &runtime.http;
    match object {
        KeyVaultObjectKind::Secret => {
            keyvault::get_secret(http, &token.secret, vault_url, name, version)
                .await
                .map(|bundle| bundle.value)
        }
        KeyVaultObjectKind::Certificate => {
            keyvault::get_certificate_pem(http, &token.secret, vault_url, name, version)
                .await
                .map(|c| c.pem)
        }
        KeyVaultObjectKind::Key => {
            keyvault::get_key_jwk(http, &token.secret, vault_url, name, version)
                .await
                .map(SecretString::from)
        }
    }
}

/// "managed identity via IMDS at ... (object id X, app id Y)".
fn credential(source: Option<&dyn TokenSource>, token: &AccessToken) -> String {
    let what = source.map_or_else(|| "an identity".to_owned(), |s| s.describe());
    match (&token.claims.object_id, &token.claims.client_id) {
        (Some(oid), Some(appid)) => format!("{what} (object id {oid}, app id {appid})"),
        (Some(oid), None) => format!("{what} (object id {oid})"),
        _ => what,
    }
}

fn key_vault_failure(
    error: &KeyVaultError,
    vault_url: &str,
    object: KeyVaultObjectKind,
    name: &str,
    token: &AccessToken,
) -> Failure {
    let vault = keyvault::vault_host_name(vault_url).to_owned();
    let object_id = token
        .claims
        .object_id
        .clone()
        .unwrap_or_else(|| "<object id>".to_owned());
    let (role, what) = match object {
        KeyVaultObjectKind::Secret => ("Key Vault Secrets User", "secret"),
        KeyVaultObjectKind::Certificate => ("Key Vault Certificate User", "certificate"),
        KeyVaultObjectKind::Key => ("Key Vault Crypto User", "key"),
    };
    let status = error.status();
    let code = error.code().map(str::to_owned);
    let hint = match error {
        KeyVaultError::Disabled => Some(format!("enable the {what}, or pin an enabled version")),
        KeyVaultError::Expired { .. } => Some(format!("set a new version of the {what}, or extend its expiry")),
        KeyVaultError::NotYetValid { .. } => Some(format!("the {what} is not valid yet: pin an older version")),
        KeyVaultError::Transport(_) => Some(format!(
            "cannot reach {vault_url}: check the network, DNS and `cloud.ca_bundle` (`dsops doctor` probes it)"
        )),
        _ => match status {
            Some(403) if error.code() == Some("AccessDenied") => {
                // An access-policy vault: role assignments do not apply.
                // A certificate's private key is read through its secret.
                let permissions = match object {
                    KeyVaultObjectKind::Key => "--key-permissions get",
                    _ => "--secret-permissions get",
                };
                Some(format!(
                    "vault {vault} uses access policies, not Azure RBAC: give object id {object_id} a policy that reads {what}s: az keyvault set-policy --name {vault} --object-id {object_id} {permissions}"
                ))
            }
            Some(403) if error.code() == Some("ForbiddenByFirewall") => Some(format!(
                "the firewall of vault {vault} does not admit this host: add its public address to the vault's network rules (az keyvault network-rule add --name {vault} --ip-address <address>), or reach the vault through a private endpoint"
            )),
            Some(403) => Some(format!(
                "grant '{role}' on vault {vault} to object id {object_id}: az role assignment create --role \"{role}\" --assignee-object-id {object_id} --assignee-principal-type ServicePrincipal --scope \"$(az keyvault show --name {vault} --query id -o tsv)\""
            )),
            Some(404) => Some(format!(
                "no {what} `{name}` in vault {vault}: check the name (`az keyvault {what} list --vault-name {vault}`)"
            )),
            Some(401) => Some(
                "the vault refused the token: its tenant or audience does not match; check the store's `tenant_id` and `cloud`"
                    .to_owned(),
            ),
            _ => None,
        },
    };
    // The status and code are fields of the problem: keep Key Vault's own
    // message for the text, not the error's summary that repeats them.
    let message = match error {
        KeyVaultError::Status { message, .. } => message.clone(),
        other => crate::azure::identity::chain_text(other),
    };
    Failure {
        credential: None,
        status,
        code,
        message,
        hint,
    }
}
