//! What a Key Vault probe of one object says, and what to change when it
//! failed.

use dsops::config::model::{KeyVaultObject, Store};
use dsops::identity::TokenClaims;
use dsops::keyvault::{ProbeOutcome, Unreachable};

use super::fixes::{Fix, add_fix, object_word, reader_role, vault_scope_argument};
use super::needs::VaultNeed;
use super::report::VaultCheck;

pub(super) fn vault_check(
    store: &Store,
    need: &VaultNeed,
    outcome: ProbeOutcome,
    claims: &TokenClaims,
    winner: &str,
    fixes: &mut Vec<Fix>,
) -> VaultCheck {
    let principal_type = if winner == "azure_cli" {
        "User"
    } else {
        "ServicePrincipal"
    };
    let word = object_word(need.object);
    let vault = &need.vault_name;
    let name = &need.name;
    let store_name = store.name.value.clone();
    let object_id = claims
        .object_id
        .clone()
        .unwrap_or_else(|| "<object-id>".to_owned());
    let mut check = VaultCheck {
        need: need.clone(),
        ok: false,
        summary: String::new(),
        result: "error",
        status: None,
        versions: None,
        code: None,
        inner_code: None,
        message: None,
        fix: None,
    };
    // A fix of the vault (a role, the network) or of this one object.
    let mut fix = |problem: String, text: String, command: Option<String>, whole_vault: bool| {
        Some(add_fix(
            fixes,
            Fix {
                store: store_name.clone(),
                check: "vault",
                subject: if whole_vault {
                    format!("vault {vault}")
                } else {
                    format!("{word} {name} in {vault}")
                },
                problem,
                fix: text,
                command,
            },
        ))
    };
    let not_found = |summary: String| {
        let create = match need.object {
            KeyVaultObject::Secret => {
                format!("az keyvault secret set --vault-name {vault} --name {name} --file <file>")
            }
            KeyVaultObject::Certificate => format!(
                "az keyvault certificate create --vault-name {vault} --name {name} --policy \"$(az keyvault certificate get-default-policy)\""
            ),
            KeyVaultObject::Key => {
                format!("az keyvault key create --vault-name {vault} --name {name}")
            }
        };
        let text = format!(
            "check `secret: {name}` of {} in dsops.yaml (`az keyvault {word} list --vault-name {vault} --query \"[].name\" -o tsv` lists the names), or create it",
            need.variables.join(", ")
        );
        (summary, text, create)
    };
    match outcome {
        ProbeOutcome::Exists { versions } => {
            check.ok = true;
            check.result = "exists";
            check.status = Some(200);
            check.versions = Some(versions);
            check.summary = format!(
                "reachable, {name} exists ({versions} version{} listed)",
                if versions == 1 { "" } else { "s" }
            );
        }
        ProbeOutcome::NoVersions => {
            check.result = "not_found";
            check.status = Some(200);
            check.versions = Some(0);
            let (summary, text, create) =
                not_found(format!("no {word} {name} in {vault} (no versions listed)"));
            check.fix = fix(summary.clone(), text, Some(create), false);
            check.summary = summary;
        }
        ProbeOutcome::NotFound(error) => {
            check.result = "not_found";
            check.status = Some(404);
            if error.code.as_deref() == Some("VaultNotFound") {
                check.summary = format!("no vault {vault}: {}", first_line(&error.message));
                check.fix = fix(
                    check.summary.clone(),
                    format!(
                        "check `vault:` of {} in dsops.yaml",
                        need.variables.join(", ")
                    ),
                    Some("az keyvault list --query \"[].name\" -o tsv".to_owned()),
                    true,
                );
            } else {
                let (summary, text, create) = not_found(format!("no {word} {name} in {vault}"));
                check.fix = fix(summary.clone(), text, Some(create), false);
                check.summary = summary;
            }
            check.code = error.code;
            check.inner_code = error.inner_code;
            check.message = Some(error.message);
        }
        ProbeOutcome::Forbidden(error) => {
            check.result = "forbidden";
            check.status = Some(403);
            let kind = error
                .inner_code
                .as_deref()
                .or(error.code.as_deref())
                .unwrap_or("Forbidden");
            check.summary = format!("403 {kind}: {}", first_line(&error.message));
            let message = error.message.to_ascii_lowercase();
            // Access-policy vaults answer `AccessDenied` ("does not have
            // secrets get permission"); RBAC vaults `ForbiddenByRbac`.
            check.fix = if kind == "AccessDenied"
                || kind == "ForbiddenByPolicy"
                || message.contains("access polic")
            {
                let permissions = match need.object {
                    KeyVaultObject::Secret => "--secret-permissions get list",
                    KeyVaultObject::Certificate => {
                        "--certificate-permissions get list --secret-permissions get"
                    }
                    KeyVaultObject::Key => "--key-permissions get list",
                };
                fix(
                    check.summary.clone(),
                    format!(
                        "vault {vault} uses access policies: give object id {object_id} a policy that reads {word}s"
                    ),
                    Some(format!(
                        "az keyvault set-policy --name {vault} --object-id {object_id} {permissions}"
                    )),
                    true,
                )
            } else if kind == "ForbiddenByFirewall" || message.contains("client address") {
                fix(
                    check.summary.clone(),
                    format!(
                        "the firewall of vault {vault} does not admit this host: add its public address to the vault's network rules, or reach the vault through a private endpoint"
                    ),
                    Some(format!(
                        "az keyvault network-rule add --name {vault} --ip-address <this-host's-address>"
                    )),
                    true,
                )
            } else if kind.ends_with("Disabled") {
                fix(
                    check.summary.clone(),
                    format!("{word} {name} is disabled: enable it"),
                    Some(format!(
                        "az keyvault {word} set-attributes --vault-name {vault} --name {name} --enabled true"
                    )),
                    false,
                )
            } else {
                let role = reader_role(need.object);
                fix(
                    check.summary.clone(),
                    format!("grant '{role}' on vault {vault} to object id {object_id}"),
                    Some(format!(
                        "az role assignment create --role \"{role}\" --assignee-object-id {object_id} --assignee-principal-type {principal_type} --scope {}",
                        vault_scope_argument(store, vault)
                    )),
                    true,
                )
            };
            check.code = error.code;
            check.inner_code = error.inner_code;
            check.message = Some(error.message);
        }
        ProbeOutcome::Unauthorized {
            error,
            resource,
            authority,
        } => {
            check.result = "unauthorized";
            check.status = Some(401);
            let audience = claims
                .audience
                .clone()
                .unwrap_or_else(|| "(unknown)".to_owned());
            let token_tenant = claims
                .tenant_id
                .clone()
                .unwrap_or_else(|| "(unknown)".to_owned());
            let vault_tenant = authority.as_deref().map(|a| {
                a.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or(a)
                    .to_owned()
            });
            let code = error.code.as_deref().unwrap_or("Unauthorized");
            let akv = akv_code(&error.message);
            let audience_differs = resource.as_deref().is_some_and(|r| {
                !r.trim_end_matches('/')
                    .eq_ignore_ascii_case(audience.trim_end_matches('/'))
            });
            let tenant_differs = vault_tenant
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case(&token_tenant));
            let foreign = resource
                .as_deref()
                .filter(|r| !dsops::keyvault::challenge_resource_matches(&need.url, r));
            let (explanation, text, command) = if let Some(foreign) = foreign {
                (
                    format!(
                        "the vault's challenge asks for a token for `{foreign}`, outside its own domain: dsops refuses to get one"
                    ),
                    format!(
                        "this host may not be Key Vault (a look-alike name, a proxy or a DNS entry that sends {} elsewhere): check the vault's URL and how it resolves here",
                        need.url
                    ),
                    None,
                )
            } else if akv == Some("AKV10022") || (audience_differs && akv != Some("AKV10032")) {
                let expected = resource.as_deref().unwrap_or("(not said)");
                (
                    format!("the token is for {audience}, the vault wants tokens for {expected}"),
                    format!(
                        "make `cloud:` of store {} match the vault: its keyvault_dns_suffix ({}) must be the vault's host without its name",
                        store.name.value, store.cloud.endpoints.keyvault_dns_suffix
                    ),
                    None,
                )
            } else if akv == Some("AKV10032") || tenant_differs {
                let expected = vault_tenant.as_deref().unwrap_or("(not said)");
                let explanation = format!(
                    "the vault is in tenant {expected}, the token is from tenant {token_tenant}"
                );
                match winner {
                    "azure_cli" => (
                        explanation,
                        format!(
                            "sign in to the vault's tenant (or set `tenant_id: {expected}` on store {})",
                            store.name.value
                        ),
                        Some(format!("az login --tenant {expected}")),
                    ),
                    "managed_identity" => (
                        explanation,
                        format!(
                            "a managed identity gets tokens of its own tenant only: read a vault of tenant {token_tenant}, or give store {} an identity of tenant {expected} (a service principal or federated credential in `fallback:`)",
                            store.name.value
                        ),
                        None,
                    ),
                    _ => (
                        explanation,
                        format!(
                            "set `tenant_id: {expected}` on store {} (the application must exist in that tenant)",
                            store.name.value
                        ),
                        None,
                    ),
                }
            } else {
                (
                    format!(
                        "{} (token audience {audience}, tenant {token_tenant})",
                        first_line(&error.message)
                    ),
                    format!(
                        "check that `tenant_id` and `cloud:` of store {} are the vault's",
                        store.name.value
                    ),
                    None,
                )
            };
            check.summary = format!("401 {}: {explanation}", akv.unwrap_or(code));
            check.fix = fix(check.summary.clone(), text, command, true);
            check.code = error.code;
            check.inner_code = error.inner_code;
            check.message = Some(error.message);
        }
        ProbeOutcome::Status { status, error } => {
            check.status = Some(status);
            let code = error.code.as_deref().unwrap_or("error");
            check.summary = format!("{status} {code}: {}", first_line(&error.message));
            let text = if status == 429 || status >= 500 {
                format!(
                    "Key Vault is throttling or failing ({status} after retries): try again later"
                )
            } else {
                format!("see Key Vault's answer: {}", first_line(&error.message))
            };
            check.fix = fix(check.summary.clone(), text, None, false);
            check.code = error.code;
            check.inner_code = error.inner_code;
            check.message = Some(error.message);
        }
        ProbeOutcome::Unreachable { kind, detail } => {
            check.result = "unreachable";
            let host = need
                .url
                .split_once("://")
                .map_or(need.url.as_str(), |(_, h)| h);
            let host = host.split('/').next().unwrap_or(host);
            let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
            let (what, text, command) = match kind {
                Unreachable::Dns => (
                    format!("DNS: {bare} does not resolve ({detail})"),
                    "check the vault's name; a vault with a private endpoint needs its privatelink.vaultcore.azure.net DNS zone linked to this network".to_owned(),
                    Some(format!("nslookup {bare}")),
                ),
                Unreachable::Tls => (
                    format!("TLS: {detail}"),
                    format!(
                        "trust the CA that signed the vault's certificate: set `cloud.ca_bundle` of store {} to a PEM file of it (relative to dsops.yaml), or point SSL_CERT_FILE at it (the CA of a TLS-inspecting proxy, for instance)",
                        store.name.value
                    ),
                    None,
                ),
                Unreachable::Connection => (
                    format!("connection failed ({detail})"),
                    format!("check that this host can open HTTPS connections to {host} (firewall, HTTPS_PROXY / NO_PROXY, the vault's network rules or private endpoint)"),
                    None,
                ),
                Unreachable::Timeout => (
                    format!("no answer ({detail})"),
                    format!("check that this host can open HTTPS connections to {host} (firewall, HTTPS_PROXY / NO_PROXY, the vault's network rules or private endpoint)"),
                    None,
                ),
                Unreachable::Other => (
                    detail.clone(),
                    format!("check that this host can reach {host}"),
                    None,
                ),
            };
            check.summary = format!("cannot reach {}: {what}", need.url);
            check.message = Some(detail);
            check.fix = fix(check.summary.clone(), text, command, true);
        }
    }
    check
}

/// Key Vault's `AKV10032`-style code at the start of a message.
fn akv_code(message: &str) -> Option<&str> {
    let code = message.trim_start().get(..8)?;
    (code.starts_with("AKV")
        && code
            .get(3..)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit())))
    .then_some(code)
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}
