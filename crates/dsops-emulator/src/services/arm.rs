//! Azure Resource Manager: subscriptions, storage accounts (list, get,
//! `listKeys`), Cosmos DB accounts (list, get, `listKeys`,
//! `listReadOnlyKeys`, `listConnectionStrings`) and vaults (get), with ARM's
//! `api-version` checks (each type's published list, [`Api`]) and its
//! authentication and authorization errors.

use serde_json::{Value, json};

use crate::api_versions::Api;
use crate::app::App;
use crate::directory::{CosmosAccount, ResourceGroup, StorageAccount, Subscription};
use crate::http::{Request, Response};
use crate::roles::Action;
use crate::state::CosmosApi;
use crate::tokens::{Caller, TokenProblem};

const STORAGE: &str = "Microsoft.Storage";
const COSMOS: &str = "Microsoft.DocumentDB";
const KEYVAULT: &str = "Microsoft.KeyVault";

pub(super) fn arm_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

/// ARM's audiences, with and without the trailing slash.
const AUDIENCES: &[&str] = &[
    "https://management.azure.com",
    "https://management.core.windows.net",
    "https://management.chinacloudapi.cn",
    "https://management.core.chinacloudapi.cn",
    "https://management.usgovcloudapi.net",
    "https://management.core.usgovcloudapi.net",
];

fn authenticate(app: &App, req: &Request) -> Result<Caller, Response> {
    let challenge = |code: &str, message: &str, description: &str| {
        arm_error(401, code, message).header(
            "www-authenticate",
            format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{description}\""
            ),
        )
    };
    let Some(token) = req.bearer() else {
        return Err(challenge(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            "The authentication failed because of missing 'Authorization' header.",
        ));
    };
    let caller = app
        .tokens
        .validate(token)
        .map_err(|problem| match problem {
            TokenProblem::Expired => challenge(
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
                "The access token has expired.",
            ),
            other => challenge(
                "InvalidAuthenticationToken",
                &format!("The access token is invalid: {other}."),
                "The access token is invalid.",
            ),
        })?;
    let aud = caller.audience.trim_end_matches('/');
    let own = [
        format!("https://{}", req.authority),
        format!("https://{}", req.host),
    ];
    if !AUDIENCES.contains(&aud) && !own.iter().any(|o| o == aud) {
        return Err(challenge(
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
                caller.audience
            ),
            "The access token has been obtained for wrong audience or resource.",
        ));
    }
    Ok(caller)
}

/// Routes `/subscriptions/...`.
pub(super) fn handle(app: &App, req: &Request) -> Response {
    // The api-version, present and published, before the token.
    let Some(version) = req.query("api-version").filter(|v| !v.is_empty()) else {
        return arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    };
    if let Err(response) = check_api_version(app, req, version) {
        return response;
    }
    let caller = match authenticate(app, req) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let who = app
        .directory
        .by_object_id(&caller.object_id)
        .map_or_else(|| caller.object_id.clone(), |p| p.name.clone());
    route(app, req, &caller).by(Some(who))
}

/// The list a path's `api-version` is checked against, with the resource
/// type it names: the last `providers/{namespace}/{type}` of the path that
/// the emulator serves, else `Microsoft.Resources`' subscriptions for
/// `/subscriptions` and `/subscriptions/{id}`. Paths of types the emulator
/// does not serve have none (they are answered 404).
fn api_of<'a>(parts: &[&'a str]) -> Option<(Api, &'a str)> {
    let provider = parts.windows(3).rev().find_map(|w| match w {
        [p, namespace, kind] if p.eq_ignore_ascii_case("providers") => {
            Api::of_provider(namespace, kind).map(|api| (api, *kind))
        }
        _ => None,
    });
    provider.or(match parts {
        ["subscriptions"] | ["subscriptions", _] => Some((Api::Subscriptions, "subscriptions")),
        _ => None,
    })
}

/// Refuses an `api-version` the resource type's specification does not
/// publish, as ARM does: `InvalidApiVersionParameter` for
/// `Microsoft.Resources` (subscriptions), `NoRegisteredProviderFound` for a
/// resource provider's type, naming the location (the resource group's,
/// `global` without one), the type and the supported versions.
fn check_api_version(app: &App, req: &Request, version: &str) -> Result<(), Response> {
    let parts = req.parts();
    let Some((api, kind)) = api_of(&parts) else {
        return Ok(());
    };
    if api.accepts(version) {
        return Ok(());
    }
    if api == Api::Subscriptions {
        return Err(arm_error(
            400,
            "InvalidApiVersionParameter",
            &format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'.",
                api.versions().join(",")
            ),
        ));
    }
    let subscriptions = &app.directory.subscriptions;
    let location = match parts.as_slice() {
        ["subscriptions", id, rg, name, ..] if rg.eq_ignore_ascii_case("resourceGroups") => {
            subscriptions
                .iter()
                .filter(|s| s.id.eq_ignore_ascii_case(id))
                .flat_map(|s| &s.groups)
                .find(|g| g.name.eq_ignore_ascii_case(name))
                .map_or("global", |g| g.location.as_str())
        }
        _ => "global",
    };
    let mut locations: Vec<&str> = subscriptions
        .iter()
        .flat_map(|s| &s.groups)
        .map(|g| g.location.as_str())
        .collect();
    locations.sort_unstable();
    locations.dedup();
    Err(arm_error(
        400,
        "NoRegisteredProviderFound",
        &format!(
            "No registered resource provider found for location '{location}' and API version '{version}' for type '{kind}'. The supported api-versions are '{}'. The supported locations are '{}'.",
            api.versions().join(", "),
            locations.join(", ")
        ),
    ))
}

fn route(app: &App, req: &Request, caller: &Caller) -> Response {
    let parts = req.parts();
    let get = req.method == "GET";
    let post = req.method == "POST";
    if parts.as_slice() == ["subscriptions"] && get {
        return list_subscriptions(app, req, caller);
    }
    let Some(sub_id) = parts.get(1) else {
        return super::not_found(req);
    };
    let subscription = match subscription(app, caller, sub_id) {
        Ok(s) => s,
        Err(response) => return response,
    };
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if let [scope @ .., "providers", provider, "locks"] = parts.as_slice()
        && get
        && eq(provider, "Microsoft.Authorization")
    {
        return list_locks(app, caller, &format!("/{}", scope.join("/")));
    }
    match parts.get(2..).unwrap_or_default() {
        [] if get => Response::json(200, &subscription_json(subscription)),
        ["providers", provider, kind]
            if get && eq(provider, STORAGE) && eq(kind, "storageAccounts") =>
        {
            list(app, req, caller, subscription, None, STORAGE)
        }
        ["providers", provider, kind]
            if get && eq(provider, COSMOS) && eq(kind, "databaseAccounts") =>
        {
            list(app, req, caller, subscription, None, COSMOS)
        }
        ["resourceGroups", rg, "providers", provider, kind, rest @ ..]
            if eq(kind, "storageAccounts") && eq(provider, STORAGE) =>
        {
            let group = match group(subscription, rg) {
                Ok(g) => g,
                Err(response) => return response,
            };
            match rest {
                [] if get => list(app, req, caller, subscription, Some(group), STORAGE),
                [name] if get => with_account(
                    app,
                    post,
                    caller,
                    &format!("/subscriptions/{}", subscription.id),
                    &group.name,
                    &group.storage,
                    name,
                    (Action::ArmRead, "read"),
                    storage_json,
                ),
                [name, op] if post && eq(op, "listKeys") => with_account(
                    app,
                    post,
                    caller,
                    &format!("/subscriptions/{}", subscription.id),
                    &group.name,
                    &group.storage,
                    name,
                    (Action::StorageListKeys, "listkeys/action"),
                    storage_keys,
                ),
                _ => super::method_not_allowed(req),
            }
        }
        ["resourceGroups", rg, "providers", provider, kind, rest @ ..]
            if eq(kind, "databaseAccounts") && eq(provider, COSMOS) =>
        {
            let group = match group(subscription, rg) {
                Ok(g) => g,
                Err(response) => return response,
            };
            match rest {
                [] if get => list(app, req, caller, subscription, Some(group), COSMOS),
                [name] if get => with_account(
                    app,
                    post,
                    caller,
                    &format!("/subscriptions/{}", subscription.id),
                    &group.name,
                    &group.cosmos,
                    name,
                    (Action::ArmRead, "read"),
                    cosmos_json,
                ),
                [name, op] if post && eq(op, "listKeys") => with_account(
                    app,
                    post,
                    caller,
                    &format!("/subscriptions/{}", subscription.id),
                    &group.name,
                    &group.cosmos,
                    name,
                    (Action::CosmosListKeys, "listKeys/action"),
                    cosmos_keys,
                ),
                [name, op]
                    if (post || get) && eq(op, "readonlykeys")
                        || post && eq(op, "listReadOnlyKeys") =>
                {
                    with_account(
                        app,
                        post,
                        caller,
                        &format!("/subscriptions/{}", subscription.id),
                        &group.name,
                        &group.cosmos,
                        name,
                        (Action::CosmosListReadOnlyKeys, "readonlykeys/action"),
                        cosmos_readonly_keys,
                    )
                }
                [name, op] if post && eq(op, "listConnectionStrings") => with_account(
                    app,
                    post,
                    caller,
                    &format!("/subscriptions/{}", subscription.id),
                    &group.name,
                    &group.cosmos,
                    name,
                    (
                        Action::CosmosListConnectionStrings,
                        "listConnectionStrings/action",
                    ),
                    cosmos_connection_strings,
                ),
                _ => super::method_not_allowed(req),
            }
        }
        ["resourceGroups", rg, "providers", provider, kind, name]
            if get && eq(provider, KEYVAULT) && eq(kind, "vaults") =>
        {
            get_vault(app, caller, subscription, rg, name)
        }
        _ => super::not_found(req),
    }
}

fn subscription<'a>(app: &'a App, caller: &Caller, id: &str) -> Result<&'a Subscription, Response> {
    let not_found = || {
        arm_error(
            404,
            "SubscriptionNotFound",
            &format!("The subscription '{id}' could not be found."),
        )
    };
    let subscription = app
        .directory
        .subscriptions
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
        .ok_or_else(not_found)?;
    if !caller
        .tenant_id
        .eq_ignore_ascii_case(&subscription.tenant_id)
    {
        return Err(arm_error(
            401,
            "InvalidAuthenticationTokenTenant",
            &format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{}' to get the token.",
                caller.tenant_id, subscription.tenant_id, subscription.tenant_id
            ),
        ));
    }
    if !app
        .directory
        .sees_subscription(&caller.object_id, &subscription.id)
    {
        return Err(not_found());
    }
    Ok(subscription)
}

fn group<'a>(subscription: &'a Subscription, rg: &str) -> Result<&'a ResourceGroup, Response> {
    subscription
        .groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(rg))
        .ok_or_else(|| {
            arm_error(
                404,
                "ResourceGroupNotFound",
                &format!("Resource group '{rg}' could not be found."),
            )
        })
}

fn forbidden(caller: &Caller, action: &str, scope: &str) -> Response {
    arm_error(
        403,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.object_id, caller.object_id
        ),
    )
}

/// `GET {scope}/providers/Microsoft.Authorization/locks`: the locks at the
/// scope and below it (`ManagementLocks_ListAt...Level`), for a caller who
/// may read the scope.
fn list_locks(app: &App, caller: &Caller, scope: &str) -> Response {
    if !app
        .directory
        .allowed(&caller.object_id, Action::ArmRead, scope)
    {
        return forbidden(caller, "Microsoft.Authorization/locks/read", scope);
    }
    let prefix = scope.trim_end_matches('/').to_ascii_lowercase();
    let value: Vec<Value> = app
        .directory
        .locks
        .iter()
        .filter(|l| l.scope == prefix || l.scope.starts_with(&format!("{prefix}/")))
        .map(|l| {
            json!({
                "id": format!("{}/providers/Microsoft.Authorization/locks/{}", l.original_scope, l.name),
                "type": "Microsoft.Authorization/locks",
                "name": l.name,
                "properties": { "level": match l.level { crate::state::LockLevel::ReadOnly => "ReadOnly", crate::state::LockLevel::CanNotDelete => "CanNotDelete" }, "notes": "" },
            })
        })
        .collect();
    Response::json(200, &json!({ "value": value }))
}

fn subscription_json(s: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.id),
        "subscriptionId": s.id,
        "tenantId": s.tenant_id,
        "displayName": s.name,
        "state": "Enabled",
        "subscriptionPolicies": { "locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off" },
        "authorizationSource": "RoleBased",
    })
}

/// One page of an ARM list: the items from the request's `$skiptoken` on,
/// `arm.page_size` of them, with a `nextLink` to the rest (ARM writes the
/// `$` of `$skiptoken` as `%24`).
fn page(app: &App, req: &Request, items: Vec<Value>, extra: Option<(&str, Value)>) -> Response {
    let start = req
        .query("$skiptoken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let size = app.directory.arm_page_size.unwrap_or(usize::MAX);
    let end = start.saturating_add(size).min(items.len());
    let value: Vec<Value> = items
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut body = json!({ "value": value });
    if let (Some((key, v)), Some(map)) = (extra, body.as_object_mut()) {
        map.insert(key.to_owned(), v);
    }
    if end < items.len()
        && let Some(map) = body.as_object_mut()
    {
        let version = req.query("api-version").unwrap_or_default();
        map.insert(
            "nextLink".to_owned(),
            format!(
                "https://{}{}?api-version={version}&%24skiptoken={end}",
                req.authority, req.path
            )
            .into(),
        );
    }
    Response::json(200, &body)
}

fn list_subscriptions(app: &App, req: &Request, caller: &Caller) -> Response {
    let value: Vec<Value> = app
        .directory
        .subscriptions
        .iter()
        .filter(|s| {
            s.tenant_id.eq_ignore_ascii_case(&caller.tenant_id)
                && app.directory.sees_subscription(&caller.object_id, &s.id)
        })
        .map(subscription_json)
        .collect();
    let count = json!({ "type": "Total", "value": value.len() });
    page(app, req, value, Some(("count", count)))
}

fn list(
    app: &App,
    req: &Request,
    caller: &Caller,
    subscription: &Subscription,
    group: Option<&ResourceGroup>,
    provider: &str,
) -> Response {
    let read = if provider == STORAGE {
        "Microsoft.Storage/storageAccounts/read"
    } else {
        "Microsoft.DocumentDB/databaseAccounts/read"
    };
    let scope = match group {
        Some(g) => format!(
            "/subscriptions/{}/resourceGroups/{}",
            subscription.id, g.name
        ),
        None => format!("/subscriptions/{}", subscription.id),
    };
    if !app
        .directory
        .allowed(&caller.object_id, Action::ArmRead, &scope)
    {
        return forbidden(caller, read, &scope);
    }
    let groups: Vec<&ResourceGroup> = match group {
        Some(g) => vec![g],
        None => subscription.groups.iter().collect(),
    };
    let value: Vec<Value> = groups
        .iter()
        .flat_map(|g| -> Vec<Value> {
            if provider == STORAGE {
                g.storage.iter().map(storage_json).collect()
            } else {
                g.cosmos.iter().map(cosmos_json).collect()
            }
        })
        .collect();
    page(app, req, value, None)
}

/// Storage and Cosmos DB accounts, as the ARM handlers see them.
trait ArmAccount {
    /// `Microsoft.Storage/storageAccounts`...
    const TYPE: &'static str;
    fn id(&self) -> &str;
    fn name(&self) -> &str;
}

impl ArmAccount for StorageAccount {
    const TYPE: &'static str = "Microsoft.Storage/storageAccounts";
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl ArmAccount for CosmosAccount {
    const TYPE: &'static str = "Microsoft.DocumentDB/databaseAccounts";
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// An account of `group` by name, the permission (`action`, and the `verb`
/// ARM names it by) checked, rendered by `render`.
#[allow(clippy::too_many_arguments)]
fn with_account<A: ArmAccount>(
    app: &App,
    post: bool,
    caller: &Caller,
    subscription_scope: &str,
    group: &str,
    accounts: &[A],
    name: &str,
    (action, verb): (Action, &str),
    render: fn(&A) -> Value,
) -> Response {
    // ARM authorizes the request's scope before it looks for the resource:
    // without the permission, a missing account is 403 too.
    let requested = format!(
        "{}/resourceGroups/{group}/providers/{}/{name}",
        subscription_scope,
        A::TYPE
    );
    if !app.directory.allowed(&caller.object_id, action, &requested) {
        return forbidden(caller, &format!("{}/{verb}", A::TYPE), &requested);
    }
    let Some(account) = accounts
        .iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))
    else {
        if A::TYPE == CosmosAccount::TYPE {
            // Cosmos DB's resource provider answers its own errors without
            // ARM's `error` wrapper (the spec's `ErrorResponse`).
            return Response::json(
                404,
                &json!({
                    "code": "NotFound",
                    "message": format!("Database account '{name}' was not found in resource group '{group}'."),
                }),
            );
        }
        return arm_error(
            404,
            "ResourceNotFound",
            &format!(
                "The Resource '{}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                A::TYPE
            ),
        );
    };
    if !app
        .directory
        .allowed(&caller.object_id, action, account.id())
    {
        return forbidden(caller, &format!("{}/{verb}", A::TYPE), account.id());
    }
    // A ReadOnly lock refuses every POST action, `listKeys` included.
    if post && let Some(lock) = app.directory.read_only_lock(account.id()) {
        return arm_error(
            409,
            "ScopeLocked",
            &format!(
                "The scope '{}' cannot perform write operation because following scope(s) are locked: '{}'. Please remove the lock and try again.",
                account.id(),
                lock.original_scope
            ),
        );
    }
    Response::json(200, &render(account))
}

fn storage_json(a: &StorageAccount) -> Value {
    let endpoint = |service: &str| format!("https://{}.{service}.core.windows.net/", a.name);
    json!({
        "id": a.id,
        "name": a.name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": a.location,
        "kind": "StorageV2",
        "sku": { "name": "Standard_LRS", "tier": "Standard" },
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "primaryLocation": a.location,
            "statusOfPrimary": "available",
            "supportsHttpsTrafficOnly": true,
            "allowSharedKeyAccess": true,
            "minimumTlsVersion": "TLS1_2",
            "primaryEndpoints": {
                "blob": endpoint("blob"),
                "queue": endpoint("queue"),
                "table": endpoint("table"),
                "file": endpoint("file"),
                "dfs": endpoint("dfs"),
                "web": format!("https://{}.z6.web.core.windows.net/", a.name),
            },
        },
    })
}

fn storage_keys(a: &StorageAccount) -> Value {
    let key = |name: &str, value: &str| json!({ "creationTime": "2026-01-01T00:00:00.0000000Z", "keyName": name, "value": value, "permissions": "FULL" });
    json!({ "keys": [key("key1", &a.key1), key("key2", &a.key2)] })
}

fn cosmos_json(a: &CosmosAccount) -> Value {
    let (kind, capabilities): (&str, &[&str]) = match a.api {
        CosmosApi::Sql => ("GlobalDocumentDB", &[]),
        CosmosApi::MongoDb => ("MongoDB", &["EnableMongo"]),
        CosmosApi::Table => ("GlobalDocumentDB", &["EnableTable"]),
        CosmosApi::Cassandra => ("GlobalDocumentDB", &["EnableCassandra"]),
        CosmosApi::Gremlin => ("GlobalDocumentDB", &["EnableGremlin"]),
    };
    let capabilities: Vec<Value> = capabilities.iter().map(|c| json!({ "name": c })).collect();
    json!({
        "id": a.id,
        "name": a.name,
        "type": "Microsoft.DocumentDB/databaseAccounts",
        "location": a.location,
        "kind": kind,
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "documentEndpoint": format!("https://{}.documents.azure.com:443/", a.name),
            "databaseAccountOfferType": "Standard",
            "disableLocalAuth": false,
            "capabilities": capabilities,
        },
    })
}

fn cosmos_keys(a: &CosmosAccount) -> Value {
    json!({
        "primaryMasterKey": a.primary,
        "secondaryMasterKey": a.secondary,
        "primaryReadonlyMasterKey": a.primary_readonly,
        "secondaryReadonlyMasterKey": a.secondary_readonly,
    })
}

fn cosmos_readonly_keys(a: &CosmosAccount) -> Value {
    json!({ "primaryReadonlyMasterKey": a.primary_readonly, "secondaryReadonlyMasterKey": a.secondary_readonly })
}

/// The connection strings Azure lists for an account: a MongoDB account's
/// are MongoDB ones only; a Table, Cassandra or Gremlin account lists its
/// API's strings, then the SQL ones every other account lists.
fn cosmos_connection_strings(a: &CosmosAccount) -> Value {
    let name = &a.name;
    let keys = [
        (&a.primary, "Primary", "Primary", ""),
        (&a.secondary, "Secondary", "Secondary", ""),
        (
            &a.primary_readonly,
            "PrimaryReadonly",
            "Primary Read-Only",
            "&readonly",
        ),
        (
            &a.secondary_readonly,
            "SecondaryReadonly",
            "Secondary Read-Only",
            "&readonly",
        ),
    ];
    let set = |api: &str, label: &str, text: &dyn Fn(&str) -> String| -> Vec<Value> {
        keys.iter()
            .map(|(key, kind, words, _)| {
                json!({
                    "connectionString": text(key),
                    "description": format!("{words} {label} Connection String"),
                    "keyKind": kind,
                    "type": api,
                })
            })
            .collect()
    };
    let sql = set("Sql", "SQL", &|key| {
        format!("AccountEndpoint=https://{name}.documents.azure.com:443/;AccountKey={key};")
    });
    let own = match a.api {
        CosmosApi::Sql => Vec::new(),
        CosmosApi::MongoDb => {
            let mongo = set("MongoDB", "MongoDB", &|key| {
                format!(
                    "mongodb://{name}:{key}@{name}.mongo.cosmos.azure.com:10255/?ssl=true&replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000&appName=@{name}@"
                )
            });
            return json!({ "connectionStrings": mongo });
        }
        CosmosApi::Table => set("Table", "Table", &|key| {
            format!(
                "DefaultEndpointsProtocol=https;AccountName={name};AccountKey={key};TableEndpoint=https://{name}.table.cosmos.azure.com:443/;"
            )
        }),
        CosmosApi::Cassandra => set("Cassandra", "Cassandra", &|key| {
            format!(
                "HostName={name}.cassandra.cosmos.azure.com;Username={name};Password={key};Port=10350"
            )
        }),
        CosmosApi::Gremlin => set("Gremlin", "Gremlin", &|key| {
            format!(
                "AccountEndpoint=https://{name}.documents.azure.com:443/;AccountKey={key};ApiKind=Gremlin;"
            )
        }),
    };
    json!({ "connectionStrings": own.into_iter().chain(sql).collect::<Vec<Value>>() })
}

fn get_vault(
    app: &App,
    caller: &Caller,
    subscription: &Subscription,
    rg: &str,
    name: &str,
) -> Response {
    let place = app
        .directory
        .vaults
        .get(&name.to_ascii_lowercase())
        .filter(|p| {
            p.resource_id.to_ascii_lowercase().starts_with(&format!(
                "/subscriptions/{}/resourcegroups/{}/",
                subscription.id,
                rg.to_ascii_lowercase()
            ))
        });
    let Some(place) = place else {
        return arm_error(
            404,
            "ResourceNotFound",
            &format!(
                "The Resource 'Microsoft.KeyVault/vaults/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        );
    };
    if !app
        .directory
        .allowed(&caller.object_id, Action::ArmRead, &place.resource_id)
    {
        return forbidden(caller, "Microsoft.KeyVault/vaults/read", &place.resource_id);
    }
    Response::json(
        200,
        &json!({
            "id": place.resource_id,
            "name": name,
            "type": "Microsoft.KeyVault/vaults",
            "location": "westeurope",
            "properties": {
                "tenantId": place.tenant_id,
                "vaultUri": format!("https://{name}.vault.azure.net/"),
                "enableRbacAuthorization": true,
                "sku": { "family": "A", "name": "standard" },
            },
        }),
    )
}
