//! The Key Vault data plane: secrets, certificates and keys of any number of
//! vaults, chosen by the host name (`NAME.vault.azure.net`,
//! `NAME.vault.localhost`...), with Key Vault's challenge, RBAC and errors.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api_versions::Api;
use crate::app::App;
use crate::crypto::b64;
use crate::directory::{Directory, VaultPlace};
use crate::http::{Request, Response};
use crate::roles::Action;
use crate::state::{PermissionModel, SecretVersionSpec};
use crate::tokens::Caller;
use crate::vault::{HasVersion, SecretVersion, VaultContents, Versions, valid_object_name, x5t};

/// Key Vault's application id, also a valid audience.
const KEY_VAULT_APP_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";

fn kv_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}

fn kv_error_inner(status: u16, code: &str, message: &str, inner: &str) -> Response {
    Response::json(
        status,
        &json!({ "error": { "code": code, "message": message, "innererror": { "code": inner } } }),
    )
}

/// The vault a request is for, with its DNS suffix (`vault.azure.net`).
struct Target<'a> {
    name: String,
    place: &'a VaultPlace,
    /// The DNS suffix (`vault.azure.net`), without a port.
    suffix: String,
    /// The suffix with the port the client used, when it is not 443
    /// (`vault.localhost:8443`): the resource of the challenge, so that
    /// clients that check the challenge against the vault URL accept it.
    resource_host: String,
    base: String,
}

fn target<'a>(app: &'a App, req: &Request) -> Result<Target<'a>, Response> {
    let Some((name, suffix)) = req.host.split_once('.') else {
        return Err(kv_error(
            400,
            "BadParameter",
            &format!(
                "The host `{}` names no vault: address a vault as https://NAME.vault.localhost:PORT (or NAME.vault.azure.net resolved to the emulator).",
                req.host
            ),
        ));
    };
    let Some(place) = app.directory.vaults.get(name) else {
        return Err(kv_error(
            404,
            "VaultNotFound",
            &format!(
                "The vault `{name}` does not exist in the emulator's state (in Azure this name would not resolve)."
            ),
        ));
    };
    let port = req.explicit_port();
    Ok(Target {
        name: name.to_owned(),
        place,
        suffix: suffix.to_owned(),
        resource_host: match port {
            Some(p) => format!("{suffix}:{p}"),
            None => suffix.to_owned(),
        },
        base: format!("https://{}", req.authority),
    })
}

/// Routes the data plane.
pub(super) fn handle(app: &App, req: &Request) -> Response {
    let target = match target(app, req) {
        Ok(t) => t,
        Err(response) => return response,
    };
    if let Err(response) = check_api_version(req) {
        return response;
    }
    let caller = match authenticate(app, req, &target) {
        Ok(c) => c,
        Err(response) => return response,
    };
    // The firewall, after the token (its refusal names the caller).
    if target.place.firewall_denies {
        return kv_error_inner(
            403,
            "Forbidden",
            &format!(
                "Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1\r\nCaller: appid={};oid={};iid={}\r\nVault: {};location=westeurope",
                caller.client_id, caller.object_id, caller.tenant_id, target.name
            ),
            "ForbiddenByFirewall",
        );
    }
    let who = app
        .directory
        .by_object_id(&caller.object_id)
        .map_or_else(|| caller.object_id.clone(), |p| p.name.clone());
    let parts = req.parts();
    let response = match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["secrets"]) => list_secrets(app, req, &caller, &target),
        ("GET", ["secrets", name, "versions"]) => list_versions(app, req, &caller, &target, name),
        ("GET", ["certificates", name, "versions"]) => {
            list_object_versions(app, req, &caller, &target, "certificates", name)
        }
        ("GET", ["keys", name, "versions"]) => {
            list_object_versions(app, req, &caller, &target, "keys", name)
        }
        ("GET", ["secrets", name]) => get_secret(app, &caller, &target, name, None),
        ("GET", ["secrets", name, version]) => {
            get_secret(app, &caller, &target, name, Some(version))
        }
        ("PUT", ["secrets", name]) => set_secret(app, req, &caller, &target, name),
        ("GET", ["certificates"]) => list_objects(app, req, &caller, &target, "certificates"),
        ("GET", ["certificates", name]) => get_certificate(app, &caller, &target, name, None),
        ("GET", ["certificates", name, version]) => {
            get_certificate(app, &caller, &target, name, Some(version))
        }
        ("GET", ["keys"]) => list_objects(app, req, &caller, &target, "keys"),
        ("GET", ["keys", name]) => get_key(app, &caller, &target, name, None),
        ("GET", ["keys", name, version]) => get_key(app, &caller, &target, name, Some(version)),
        (_, ["secrets" | "certificates" | "keys", ..]) => super::method_not_allowed(req),
        _ => super::not_found(req),
    };
    response.by(Some(who))
}

/// The `api-version`: one the data-plane specification publishes
/// ([`Api::KeyVault`]), else Key Vault's `400 BadParameter` naming the
/// newest stable one.
fn check_api_version(req: &Request) -> Result<(), Response> {
    match req.query("api-version") {
        None | Some("") => Err(kv_error(
            400,
            "BadParameter",
            "The 'api-version' query parameter is missing.",
        )),
        Some(v) if Api::KeyVault.accepts(v) => Ok(()),
        Some(v) => Err(kv_error(
            400,
            "BadParameter",
            &format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version ({}).",
                Api::KeyVault.latest_stable()
            ),
        )),
    }
}

/// The challenge Key Vault sends with every 401.
fn challenge(app: &App, target: &Target<'_>, message: &str) -> Response {
    let authority = match target.suffix.as_str() {
        "vault.azure.net" => "https://login.microsoftonline.com".to_owned(),
        "vault.azure.cn" => "https://login.chinacloudapi.cn".to_owned(),
        "vault.usgovcloudapi.net" => "https://login.microsoftonline.us".to_owned(),
        _ => app.https_origin.clone(),
    };
    kv_error(401, "Unauthorized", message).header(
        "www-authenticate",
        format!(
            "Bearer authorization=\"{authority}/{}\", resource=\"{}\"",
            target.place.tenant_id,
            target
                .place
                .challenge_resource
                .clone()
                .unwrap_or_else(|| format!("https://{}", target.resource_host))
        ),
    )
}

fn authenticate(app: &App, req: &Request, target: &Target<'_>) -> Result<Caller, Response> {
    let Some(token) = req.bearer() else {
        return Err(challenge(
            app,
            target,
            "AKV10000: Request is missing a Bearer or PoP token.",
        ));
    };
    let caller = app.tokens.validate(token).map_err(|problem| {
        challenge(app, target, &format!("AKV10013: Invalid token: {problem}."))
    })?;
    let aud = caller.audience.trim_end_matches('/');
    let suffix_host = target.suffix.split(':').next().unwrap_or_default();
    let accepted = [
        format!("https://{}", target.resource_host),
        format!("https://{suffix_host}"),
        "https://vault.azure.net".to_owned(),
        KEY_VAULT_APP_ID.to_owned(),
    ];
    if !accepted.iter().any(|a| a == aud) {
        return Err(challenge(
            app,
            target,
            &format!(
                "AKV10022: Invalid audience. Expected https://{suffix_host}, found: {}.",
                caller.audience
            ),
        ));
    }
    if !caller
        .tenant_id
        .eq_ignore_ascii_case(&target.place.tenant_id)
    {
        return Err(challenge(
            app,
            target,
            &format!(
                "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/, found https://sts.windows.net/{}/.",
                target.place.tenant_id, caller.tenant_id
            ),
        ));
    }
    Ok(caller)
}

fn authorize(
    app: &App,
    caller: &Caller,
    target: &Target<'_>,
    action: Action,
    object: &str,
) -> Result<(), Response> {
    if target.place.permission_model == PermissionModel::AccessPolicy {
        return access_policy(caller, target, action, object);
    }
    let resource = format!("{}{object}", target.place.resource_id);
    if app.directory.allowed(&caller.object_id, action, &resource) {
        return Ok(());
    }
    Err(forbidden(caller, target, action, &resource))
}

/// A vault on the access-policy permission model: the policy of the
/// caller's object id must hold the permission (`secrets get`, `secrets
/// list`...); role assignments on data do not count. Azure's refusal is
/// `403 Forbidden` with inner code `AccessDenied`.
fn access_policy(
    caller: &Caller,
    target: &Target<'_>,
    action: Action,
    object: &str,
) -> Result<(), Response> {
    // Listing a collection, or an object's versions, is `list`.
    let listing = object.is_empty() || object.ends_with("/versions");
    let (kind, permission) = match action {
        Action::SecretGet | Action::CertificateSecretGet => ("secrets", "get"),
        Action::SecretSet => ("secrets", "set"),
        Action::SecretList => ("secrets", "list"),
        Action::CertificateRead if listing => ("certificates", "list"),
        Action::CertificateRead => ("certificates", "get"),
        Action::KeyRead if listing => ("keys", "list"),
        Action::KeyRead => ("keys", "get"),
        _ => ("secrets", "get"),
    };
    if Directory::policy_allows(target.place, &caller.object_id, kind, permission) {
        return Ok(());
    }
    Err(kv_error_inner(
        403,
        "Forbidden",
        &format!(
            "The user, group or application 'appid={};oid={};iss=https://sts.windows.net/{}/' does not have {kind} {permission} permission on key vault '{};location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            caller.client_id, caller.object_id, caller.tenant_id, target.name
        ),
        "AccessDenied",
    ))
}

/// One page of a Key Vault list: the items from the request's
/// `$skiptoken` on, at most `maxresults` (and the vault's `paging.page_size`),
/// after the vault's `paging.empty_pages` empty pages; `nextLink` names the
/// port, `:443` included, as Key Vault writes it.
fn page(req: &Request, target: &Target<'_>, items: Vec<Value>) -> Response {
    let paging = &target.place.paging;
    let size = paging
        .page_size
        .map_or(max_results(req), |p| p.clamp(1, 25).min(max_results(req)));
    // `$skiptoken` is "E.O": empty pages already served, items already served.
    let (empties, offset) = req
        .query("$skiptoken")
        .and_then(|t| t.split_once('.'))
        .and_then(|(e, o)| Some((e.parse::<usize>().ok()?, o.parse::<usize>().ok()?)))
        .unwrap_or((0, 0));
    let (value, next) = if empties < paging.empty_pages && offset == 0 && !items.is_empty() {
        (Vec::new(), Some((empties + 1, 0)))
    } else {
        let end = (offset + size).min(items.len());
        let page: Vec<Value> = items
            .get(offset..end)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        (page, (end < items.len()).then_some((empties, end)))
    };
    let next_link = next.map(|(e, o)| {
        let authority = if target.resource_host.contains(':') {
            req.authority.clone()
        } else {
            format!("{}:443", req.host)
        };
        let version = req.query("api-version").unwrap_or("7.5");
        Value::from(format!(
            "https://{authority}{}?api-version={version}&$skiptoken={e}.{o}&maxresults={size}",
            req.path
        ))
    });
    Response::json(
        200,
        &json!({ "value": value, "nextLink": next_link.unwrap_or(Value::Null) }),
    )
}

fn forbidden(caller: &Caller, target: &Target<'_>, action: Action, resource: &str) -> Response {
    kv_error_inner(
        403,
        "Forbidden",
        &format!(
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid={};oid={};iid={}\r\nAction: '{}'\r\nResource: '{}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: {};location=westeurope\r\n",
            caller.client_id,
            caller.object_id,
            caller.tenant_id,
            action.azure_name(),
            resource.to_ascii_lowercase(),
            target.name
        ),
        "ForbiddenByRbac",
    )
}

fn not_found(kind: &str, code: &str, name: &str, version: Option<&str>) -> Response {
    let id = match version {
        Some(v) => format!("{name}/{v}"),
        None => name.to_owned(),
    };
    kv_error(
        404,
        code,
        &format!(
            "A {kind} with (name/id) {id} was not found in this key vault. If you recently deleted this {kind} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

fn read_vault<R>(app: &App, target: &Target<'_>, f: impl FnOnce(&VaultContents) -> R) -> R {
    let vaults = app
        .vaults
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match vaults.get(&target.name) {
        Some(contents) => f(contents),
        None => f(&VaultContents::default()),
    }
}

fn secret_bundle(target: &Target<'_>, name: &str, v: &SecretVersion, with_value: bool) -> Value {
    let mut bundle = Map::new();
    if with_value {
        bundle.insert("value".into(), v.value.clone().into());
    }
    bundle.insert(
        "id".into(),
        format!("{}/secrets/{name}/{}", target.base, v.version).into(),
    );
    if let Some(ct) = &v.content_type {
        bundle.insert("contentType".into(), ct.clone().into());
    }
    bundle.insert("attributes".into(), v.attributes.json());
    bundle.insert("tags".into(), json!(v.tags));
    if v.managed_by.is_some() {
        bundle.insert(
            "kid".into(),
            format!("{}/keys/{name}/{}", target.base, v.version).into(),
        );
        bundle.insert("managed".into(), true.into());
    }
    Value::Object(bundle)
}

fn get_secret(
    app: &App,
    caller: &Caller,
    target: &Target<'_>,
    name: &str,
    version: Option<&str>,
) -> Response {
    let allowed_plain = authorize(
        app,
        caller,
        target,
        Action::SecretGet,
        &format!("/secrets/{name}"),
    );
    read_vault(app, target, |vault| {
        let key = name.to_ascii_lowercase();
        let found = vault
            .secrets
            .get(&key)
            .map(|s| (s.name.as_str(), s.get(version)));
        // A certificate's backing secret is also readable with Certificate User.
        let managed = matches!(found, Some((_, Some(v))) if v.managed_by.is_some());
        if let Err(denied) = allowed_plain
            && !(managed
                && target.place.permission_model == PermissionModel::Rbac
                && app.directory.allowed(
                    &caller.object_id,
                    Action::CertificateSecretGet,
                    &format!("{}/certificates/{name}", target.place.resource_id),
                ))
        {
            return denied;
        }
        match found {
            Some((real_name, Some(v))) => {
                if !v.attributes.enabled {
                    return kv_error_inner(
                        403,
                        "Forbidden",
                        "Operation get is not allowed on a disabled secret.",
                        "SecretDisabled",
                    );
                }
                Response::json(200, &secret_bundle(target, real_name, v, true))
            }
            _ => not_found("secret", "SecretNotFound", name, version),
        }
    })
}

fn list_secrets(app: &App, req: &Request, caller: &Caller, target: &Target<'_>) -> Response {
    if let Err(denied) = authorize(app, caller, target, Action::SecretList, "") {
        return denied;
    }
    read_vault(app, target, |vault| {
        let items: Vec<Value> = vault
            .secrets
            .values()
            .filter_map(|s| {
                let current = s.versions.last()?;
                let mut item = secret_bundle(target, &s.name, current, false);
                if let Some(map) = item.as_object_mut() {
                    map.insert(
                        "id".into(),
                        format!("{}/secrets/{}", target.base, s.name).into(),
                    );
                }
                Some(item)
            })
            .collect();
        page(req, target, items)
    })
}

/// `maxresults` (1 to 25 in Key Vault), default 25.
fn max_results(req: &Request) -> usize {
    req.query("maxresults")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 25)
}

fn list_versions(
    app: &App,
    req: &Request,
    caller: &Caller,
    target: &Target<'_>,
    name: &str,
) -> Response {
    if let Err(denied) = authorize(
        app,
        caller,
        target,
        Action::SecretList,
        &format!("/secrets/{name}/versions"),
    ) {
        return denied;
    }
    read_vault(app, target, |vault| {
        match vault.secrets.get(&name.to_ascii_lowercase()) {
            Some(s) => {
                let items: Vec<Value> = s
                    .versions
                    .iter()
                    .map(|v| secret_bundle(target, &s.name, v, false))
                    .collect();
                page(req, target, items)
            }
            None => not_found("secret", "SecretNotFound", name, None),
        }
    })
}

fn set_secret(
    app: &App,
    req: &Request,
    caller: &Caller,
    target: &Target<'_>,
    name: &str,
) -> Response {
    if let Err(denied) = authorize(
        app,
        caller,
        target,
        Action::SecretSet,
        &format!("/secrets/{name}"),
    ) {
        return denied;
    }
    if !valid_object_name(name) {
        return kv_error(
            400,
            "BadParameter",
            "Secret name is invalid: use 1-127 letters, digits and hyphens.",
        );
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => return kv_error(400, "BadParameter", "The request body is not valid JSON."),
    };
    let Some(value) = body.get("value").and_then(Value::as_str) else {
        return kv_error(400, "BadParameter", "The secret value is required.");
    };
    let attributes = body.get("attributes");
    let attribute = |k: &str| attributes.and_then(|a| a.get(k));
    let spec = SecretVersionSpec {
        content_type: body
            .get("contentType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        enabled: attribute("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        expires: attribute("exp").and_then(Value::as_i64),
        not_before: attribute("nbf").and_then(Value::as_i64),
        tags: body
            .get("tags")
            .and_then(Value::as_object)
            .map(|t| {
                t.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default(),
        ..SecretVersionSpec::of(value.to_owned())
    };
    let version = match crate::crypto::random_bytes(16) {
        Ok(bytes) => crate::crypto::hex(&bytes),
        Err(e) => return kv_error(500, "InternalError", &e.to_string()),
    };
    let mut vaults = app
        .vaults
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let vault = vaults.entry(target.name.clone()).or_default();
    if vault
        .secrets
        .get(&name.to_ascii_lowercase())
        .is_some_and(|s| s.versions.iter().any(|v| v.managed_by.is_some()))
    {
        return kv_error(
            403,
            "Forbidden",
            "The secret is managed by a certificate and cannot be set.",
        );
    }
    vault.push_secret(name, version, &spec, None);
    match vault.secrets.get(&name.to_ascii_lowercase()) {
        Some(s) => match s.versions.last() {
            Some(v) => Response::json(200, &secret_bundle(target, &s.name, v, true)),
            None => kv_error(500, "InternalError", "The secret vanished."),
        },
        None => kv_error(500, "InternalError", "The secret vanished."),
    }
}

/// `GET /keys/{name}/versions`, `GET /certificates/{name}/versions`.
fn list_object_versions(
    app: &App,
    req: &Request,
    caller: &Caller,
    target: &Target<'_>,
    kind: &str,
    name: &str,
) -> Response {
    let action = if kind == "keys" {
        Action::KeyRead
    } else {
        Action::CertificateRead
    };
    if let Err(denied) = authorize(
        app,
        caller,
        target,
        action,
        &format!("/{kind}/{name}/versions"),
    ) {
        return denied;
    }
    read_vault(app, target, |vault| {
        let key = name.to_ascii_lowercase();
        let items: Option<Vec<Value>> = if kind == "keys" {
            vault.keys.get(&key).map(|k| {
                k.versions
                    .iter()
                    .map(|v| {
                        json!({ "kid": format!("{}/keys/{}/{}", target.base, k.name, v.version), "attributes": v.attributes.json(), "managed": v.managed })
                    })
                    .collect()
            })
        } else {
            vault.certificates.get(&key).map(|c| {
                c.versions
                    .iter()
                    .map(|v| {
                        json!({ "id": format!("{}/certificates/{}/{}", target.base, c.name, v.version), "x5t": x5t(&v.der), "attributes": v.attributes.json() })
                    })
                    .collect()
            })
        };
        match items {
            Some(items) => page(req, target, items),
            None if kind == "keys" => not_found("key", "KeyNotFound", name, None),
            None => not_found("certificate", "CertificateNotFound", name, None),
        }
    })
}

fn list_objects(
    app: &App,
    req: &Request,
    caller: &Caller,
    target: &Target<'_>,
    kind: &str,
) -> Response {
    let action = if kind == "keys" {
        Action::KeyRead
    } else {
        Action::CertificateRead
    };
    if let Err(denied) = authorize(app, caller, target, action, "") {
        return denied;
    }
    read_vault(app, target, |vault| {
        fn items<T: HasVersion>(
            map: &std::collections::BTreeMap<String, Versions<T>>,
            f: impl Fn(&str, &T) -> Value,
        ) -> Vec<Value> {
            map.values()
                .filter_map(|o| o.versions.last().map(|v| f(&o.name, v)))
                .collect()
        }
        let list = if kind == "keys" {
            items(
                &vault.keys,
                |name, v| json!({ "kid": format!("{}/keys/{name}", target.base), "attributes": v.attributes.json(), "managed": v.managed }),
            )
        } else {
            items(
                &vault.certificates,
                |name, v| json!({ "id": format!("{}/certificates/{name}", target.base), "x5t": x5t(&v.der), "attributes": v.attributes.json() }),
            )
        };
        page(req, target, list)
    })
}

/// `GET /certificates/{name}/{version}` and `GET /keys/{name}/{version}`:
/// the permission, then the object (`collection` picks certificates or
/// keys), rendered by `render` with the object's name as written, or
/// Key Vault's 404.
#[allow(clippy::too_many_arguments)]
fn get_object<T: HasVersion>(
    app: &App,
    caller: &Caller,
    target: &Target<'_>,
    (kind, action): (&str, Action),
    name: &str,
    version: Option<&str>,
    collection: fn(&VaultContents) -> &BTreeMap<String, Versions<T>>,
    render: impl FnOnce(&str, &T) -> Value,
) -> Response {
    if let Err(denied) = authorize(app, caller, target, action, &format!("/{kind}s/{name}")) {
        return denied;
    }
    read_vault(app, target, |vault| {
        match collection(vault)
            .get(&name.to_ascii_lowercase())
            .map(|o| (o.name.as_str(), o.get(version)))
        {
            Some((real, Some(v))) => Response::json(200, &render(real, v)),
            _ => {
                let code = if kind == "key" {
                    "KeyNotFound"
                } else {
                    "CertificateNotFound"
                };
                not_found(kind, code, name, version)
            }
        }
    })
}

fn get_certificate(
    app: &App,
    caller: &Caller,
    target: &Target<'_>,
    name: &str,
    version: Option<&str>,
) -> Response {
    let base = &target.base;
    get_object(
        app,
        caller,
        target,
        ("certificate", Action::CertificateRead),
        name,
        version,
        |vault| &vault.certificates,
        |real, v: &crate::vault::CertificateVersion| {
            json!({
                "id": format!("{base}/certificates/{real}/{}", v.version),
                "kid": format!("{base}/keys/{real}/{}", v.version),
                "sid": format!("{base}/secrets/{real}/{}", v.version),
                "x5t": x5t(&v.der),
                "cer": b64(&v.der),
                "attributes": v.attributes.json(),
                "policy": {
                    "id": format!("{base}/certificates/{real}/policy"),
                    "key_props": { "exportable": true, "reuse_key": false },
                    "secret_props": { "contentType": v.content_type },
                    "issuer": { "name": "Self" },
                },
                "tags": {},
            })
        },
    )
}

fn get_key(
    app: &App,
    caller: &Caller,
    target: &Target<'_>,
    name: &str,
    version: Option<&str>,
) -> Response {
    let base = &target.base;
    get_object(
        app,
        caller,
        target,
        ("key", Action::KeyRead),
        name,
        version,
        |vault| &vault.keys,
        |real, v: &crate::vault::KeyVersion| {
            let mut key = v.jwk.clone();
            if let Some(map) = key.as_object_mut() {
                map.insert(
                    "kid".into(),
                    format!("{base}/keys/{real}/{}", v.version).into(),
                );
            }
            let mut body = json!({ "key": key, "attributes": v.attributes.json(), "tags": {} });
            if v.managed
                && let Some(map) = body.as_object_mut()
            {
                map.insert("managed".into(), true.into());
            }
            body
        },
    )
}
