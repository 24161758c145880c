//! Fixes: one concrete change for each failed check, with an `az` command
//! when there is one.

use dsops::config::model::{Identity, KeyVaultObject, ResourceType, Store, UserAssignedId};
use dsops::config::report::one_line;
use dsops::identity::{Attempt, AttemptOutcome, FederatedToken, Scope};

/// One thing to change.
#[derive(Debug)]
pub(super) struct Fix {
    pub(super) store: String,
    pub(super) check: &'static str,
    pub(super) subject: String,
    pub(super) problem: String,
    pub(super) fix: String,
    pub(super) command: Option<String>,
}

/// Adds `fix`, or names its subject in an equal one (one role assignment
/// fixes every secret of a vault).
pub(super) fn add_fix(fixes: &mut Vec<Fix>, fix: Fix) -> usize {
    let same = fixes.iter().position(|f| {
        f.store == fix.store && f.check == fix.check && f.fix == fix.fix && f.command == fix.command
    });
    match same.and_then(|i| fixes.get_mut(i).map(|f| (i, f))) {
        Some((index, existing)) => {
            if !existing.subject.split(", ").any(|s| s == fix.subject) {
                existing.subject.push_str(", ");
                existing.subject.push_str(&fix.subject);
            }
            index
        }
        None => {
            fixes.push(fix);
            fixes.len() - 1
        }
    }
}

/// The fix when no source gave a token. `federated` is what the token of
/// the first failed source says about itself, when it is a federated one.
pub(super) fn identity_fix(
    store: &Store,
    attempts: &[Attempt],
    federated: Option<&FederatedToken>,
) -> Fix {
    let name = store.name.value.clone();
    let failed = attempts.iter().find_map(|a| match &a.outcome {
        AttemptOutcome::Failed(why) => Some((a, why)),
        _ => None,
    });
    if let Some((attempt, why)) = failed {
        let (fix, command) = match federated {
            Some(token) if untrusted_token(why) => {
                // "...: client ID in tenant ..." (a service connection's id may come first).
                let client = attempt
                    .description
                    .split("client ")
                    .skip(1)
                    .find_map(find_guid)
                    .or_else(|| find_guid(&attempt.description))
                    .unwrap_or("<client-id>");
                federated_credential_fix(client, token)
            }
            _ => source_fix(store, attempt.kind, &attempt.description, why),
        };
        return Fix {
            store: name,
            check: "identity",
            subject: attempt.kind.to_owned(),
            problem: format!("{} failed: {why}", attempt.kind),
            fix,
            command,
        };
    }
    let login = login_command(store);
    let (problem, fix) = if store.fallback.is_none()
        || attempts.iter().any(|a| a.kind == "azure_cli")
    {
        (
            "no credential source is available here: every one was skipped".to_owned(),
            "run `az login`, or use this on an Azure host with a managed identity".to_owned(),
        )
    } else {
        (
            "none of the store's `fallback:` sources is available here".to_owned(),
            format!(
                "run this where one of them is (an Azure host with a managed identity, an AKS pod with workload identity, a GitHub Actions job), or add `{{ type: azure_cli }}` to `fallback:` of store {name} and run `az login`"
            ),
        )
    };
    Fix {
        store: name,
        check: "identity",
        subject: "credential chain".to_owned(),
        problem,
        fix,
        command: Some(login),
    }
}

/// Whether Entra ID refused a federated token for want of a federated
/// credential that matches its issuer, subject or audience (AADSTS70021,
/// 700211, 700212).
pub(super) fn untrusted_token(why: &str) -> bool {
    ["AADSTS70021", "AADSTS700211", "AADSTS700212"]
        .iter()
        .any(|code| why.contains(code))
}

/// The federated credential that makes `token` acceptable for application
/// `client`: the exact `az ad app federated-credential create`, its issuer,
/// subject and audiences those of the token. The parameters are JSON (which
/// escapes control characters) in single quotes for the shell.
pub(super) fn federated_credential_fix(
    client: &str,
    token: &FederatedToken,
) -> (String, Option<String>) {
    let host = token
        .issuer
        .split("://")
        .nth(1)
        .unwrap_or(&token.issuer)
        .split('/')
        .next()
        .unwrap_or_default();
    let name: String = format!("dsops-{host}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(120)
        .collect();
    let audiences = if token.audiences.is_empty() {
        vec!["api://AzureADTokenExchange".to_owned()]
    } else {
        token.audiences.clone()
    };
    let parameters = serde_json::json!({
        "name": name,
        "issuer": token.issuer,
        "subject": token.subject,
        "audiences": audiences,
    })
    .to_string()
    .replace('\'', "'\\''");
    (
        format!(
            "trust this job's token: add a federated credential to application {client} with issuer {}, subject {} and audience {}",
            one_line(&token.issuer),
            one_line(&token.subject),
            one_line(&audiences.join(", "))
        ),
        Some(format!(
            "az ad app federated-credential create --id {client} --parameters '{parameters}'"
        )),
    )
}

fn login_command(store: &Store) -> String {
    match &store.tenant_id {
        Some(tenant) => format!("az login --tenant {}", tenant.value),
        None => "az login".to_owned(),
    }
}

/// What to do about a source that failed, and a command when there is one.
fn source_fix(store: &Store, kind: &str, description: &str, why: &str) -> (String, Option<String>) {
    let client = find_guid(description)
        .or_else(|| find_guid(why))
        .unwrap_or("<client-id>")
        .to_owned();
    match kind {
        "managed_identity" => {
            if why.contains("IMDS has no") {
                let identities = match &store.identity {
                    Identity::SystemAssigned => String::new(),
                    Identity::UserAssigned(UserAssignedId::ResourceId(id)) => {
                        format!(" --identities {}", id.value)
                    }
                    Identity::UserAssigned(_) => " --identities <identity-resource-id>".to_owned(),
                };
                (
                    "IMDS has no such identity: assign it to this VM (`az vmss identity assign` for a scale set)".to_owned(),
                    Some(format!("az vm identity assign --name <vm> --resource-group <rg>{identities}")),
                )
            } else if description.contains("App Service") {
                (
                    format!("turn the identity on for this app (App Service said: {why})"),
                    Some("az webapp identity assign --name <app> --resource-group <rg>".to_owned()),
                )
            } else if description.contains("Azure Arc") {
                (
                    format!(
                        "run dsops as root or as a member of the `himds` group, so that it can read Azure Arc's challenge key ({why})"
                    ),
                    None,
                )
            } else if why.contains("Service Fabric") {
                (
                    "use a service principal or workload identity: list it in `fallback:`"
                        .to_owned(),
                    None,
                )
            } else {
                (format!("make the managed identity answer: {why}"), None)
            }
        }
        "service_principal" | "environment" => {
            if why.contains("AADSTS7000215") || why.contains("AADSTS7000222") {
                (
                    "the client secret is wrong or expired: make a new one and give it to dsops"
                        .to_owned(),
                    Some(format!("az ad app credential reset --id {client} --append")),
                )
            } else if why.contains("AADSTS700016") {
                (
                    "the tenant has no application with this client id: check client_id and tenant_id".to_owned(),
                    Some(format!("az ad sp show --id {client}")),
                )
            } else if why.contains("AADSTS90002") {
                (
                    "the tenant does not exist: check tenant_id".to_owned(),
                    None,
                )
            } else {
                (
                    format!("check the service principal's client id, secret and tenant ({why})"),
                    None,
                )
            }
        }
        "workload_identity" | "github_oidc" | "ci_federation" => {
            if why.contains("AADSTS70021") {
                (
                    "the application has no federated credential for this token: add one with the issuer and subject the error names".to_owned(),
                    Some(format!("az ad app federated-credential create --id {client} --parameters credential.json")),
                )
            } else if kind == "ci_federation" {
                (
                    format!(
                        "check the CI's token reaches dsops (the variables the source names) and the app's federated credential ({why})"
                    ),
                    None,
                )
            } else if kind == "github_oidc" {
                (
                    format!(
                        "give the job `permissions: id-token: write` and check the app's federated credential ({why})"
                    ),
                    None,
                )
            } else {
                (
                    format!(
                        "check the pod's service account has the `azure.workload.identity/client-id` annotation and the pod the `azure.workload.identity/use: \"true\"` label ({why})"
                    ),
                    None,
                )
            }
        }
        "azure_cli" => (
            "sign in to the Azure CLI".to_owned(),
            Some(login_command(store)),
        ),
        _ => (format!("fix what the error says: {why}"), None),
    }
}

pub(super) fn token_fix(
    store: &Store,
    kind: &str,
    scope: &Scope,
    purposes: &[String],
    why: &str,
) -> Fix {
    let problem = format!("{kind} gave no token for {scope}: {why}");
    let (fix, command) = if why.contains("AADSTS500011") {
        (
            format!(
                "the tenant has no resource {}: check `resource:` of {}",
                scope.resource(),
                purposes.join(", ")
            ),
            None,
        )
    } else {
        source_fix(store, kind, "", why)
    };
    Fix {
        store: store.name.value.clone(),
        check: "token",
        subject: scope.to_string(),
        problem,
        fix,
        command,
    }
}

pub(super) fn object_word(object: KeyVaultObject) -> &'static str {
    match object {
        KeyVaultObject::Secret => "secret",
        KeyVaultObject::Certificate => "certificate",
        KeyVaultObject::Key => "key",
    }
}

/// The built-in role that reads this kind of object.
pub(super) fn reader_role(object: KeyVaultObject) -> &'static str {
    match object {
        KeyVaultObject::Secret => "Key Vault Secrets User",
        KeyVaultObject::Certificate => "Key Vault Certificate User",
        KeyVaultObject::Key => "Key Vault Crypto User",
    }
}

/// `--scope` of a role assignment on the vault: its ARM id when the store's
/// `resources:` place it, else looked up by `az`.
pub(super) fn vault_scope_argument(store: &Store, vault_name: &str) -> String {
    if let Some(resource) = store.resource(ResourceType::KeyVault, vault_name) {
        let subscription = resource
            .subscription
            .as_ref()
            .or(store.default_subscription.as_ref());
        if let (Some(subscription), Some(group)) = (subscription, &resource.resource_group)
            && is_guid(&subscription.value)
        {
            return format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{vault_name}",
                subscription.value, group.value
            );
        }
    }
    format!("\"$(az keyvault show --name {vault_name} --query id -o tsv)\"")
}

fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// The first GUID in `text`.
fn find_guid(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find(|word| is_guid(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_federated_credential_command_names_the_tokens_claims_quoted_for_the_shell() {
        let token = FederatedToken {
            issuer: "https://gitlab.com".to_owned(),
            subject: "project_path:g/it's:ref_type:branch:ref:a\u{1b}[31m".to_owned(),
            audiences: vec!["api://AzureADTokenExchange".to_owned()],
        };
        let (fix, command) = federated_credential_fix("c", &token);
        let command = command.unwrap();
        assert_eq!(
            command,
            r#"az ad app federated-credential create --id c --parameters '{"audiences":["api://AzureADTokenExchange"],"issuer":"https://gitlab.com","name":"dsops-gitlab-com","subject":"project_path:g/it'\''s:ref_type:branch:ref:a\u001b[31m"}'"#
        );
        assert!(
            !fix.contains('\u{1b}') && !command.contains('\u{1b}'),
            "{fix}"
        );
    }

    #[test]
    fn guids() {
        assert_eq!(
            find_guid("service principal 12345678-1234-1234-1234-123456789012"),
            Some("12345678-1234-1234-1234-123456789012")
        );
        assert_eq!(find_guid("no id here"), None);
    }
}
