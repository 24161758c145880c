//! Checking a store: the credential chain, a token for every scope, and a
//! probe of every Key Vault object.

use std::path::Path;

use dsops::identity::{AttemptOutcome, ChainError, Scope, Token};
use dsops::keyvault::{ProbeOutcome, Unreachable};
use dsops::{Engine, EngineError, StoreClient};

use super::fixes::{Fix, add_fix, identity_fix, token_fix};
use super::needs::{StoreNeeds, VaultNeed};
use super::report::{StoreReport, TokenCheck, TokenOutcome, VaultCheck};
use super::vault::vault_check;

pub(super) async fn check_store(
    engine: &Engine,
    needs: &StoreNeeds<'_>,
    config_dir: &Path,
    fixes: &mut Vec<Fix>,
) -> StoreReport {
    let store = needs.store;
    let name = store.name.value.clone();
    let walk_scope = needs.walk_scope();
    let mut report = StoreReport {
        name: name.clone(),
        setup: None,
        scope: walk_scope.to_string(),
        sources: Vec::new(),
        identity_fix: None,
        identity_warning: None,
        tokens: Vec::new(),
        vaults: Vec::new(),
    };
    let client = match engine.store(&name) {
        Ok(client) => client,
        Err(error) => {
            let problem = match error {
                EngineError::StoreSetup { reason, .. } => reason,
                other => other.to_string(),
            };
            let bundle = store.cloud.ca_bundle.clone().unwrap_or_default();
            let index = add_fix(
                fixes,
                Fix {
                    store: name.clone(),
                    check: "setup",
                    subject: format!("cloud.ca_bundle {bundle}"),
                    problem: problem.clone(),
                    fix: format!(
                        "make `cloud.ca_bundle` of store {name} name a readable PEM file of CA certificates (relative to {})",
                        config_dir.display()
                    ),
                    command: None,
                },
            );
            report.setup = Some((problem, index));
            return report;
        }
    };
    let (attempts, found) = client.walk(&walk_scope).await;
    let winner = attempts
        .iter()
        .find(|a| a.outcome == AttemptOutcome::Succeeded)
        .map(|a| a.kind);
    report.sources = attempts;
    if found.is_none() {
        // A federated source refused by Entra ID: what its token says about
        // itself makes the exact federated credential to add.
        let failed = report
            .sources
            .iter()
            .position(|a| matches!(a.outcome, AttemptOutcome::Failed(_)));
        let federated = match failed {
            Some(index) => match client.federated_token(index).await {
                Some(Ok(token)) => Some(token),
                _ => None,
            },
            None => None,
        };
        let fix = identity_fix(store, &report.sources, federated.as_ref());
        report.identity_fix = Some(add_fix(fixes, fix));
    }

    // Tokens for every scope needed (the walk's scope at least).
    let mut scopes = needs.scopes.clone();
    if scopes.is_empty() {
        scopes.push((walk_scope.clone(), vec!["identity check".to_owned()]));
    }
    let kv_scope = Scope::keyvault(store);
    let mut kv_token: Option<Token> = None;
    let mut kv_fix = report.identity_fix;
    for (scope, purposes) in scopes {
        let (outcome, fix) = match winner {
            Some(kind) => match client.token(&scope).await {
                Ok(token) => {
                    let outcome = TokenOutcome::Got {
                        expires_on: token.expires_on,
                        claims: token.claims.clone(),
                    };
                    if scope == kv_scope {
                        kv_token = Some(token);
                    }
                    (outcome, None)
                }
                Err(error) => {
                    let why = chain_reason(&error);
                    let kind = failed_kind(&error, kind);
                    let fix = add_fix(fixes, token_fix(store, kind, &scope, &purposes, &why));
                    if scope == kv_scope {
                        kv_fix = Some(fix);
                    }
                    (TokenOutcome::Failed(why), Some(fix))
                }
            },
            None => (TokenOutcome::NoIdentity, report.identity_fix),
        };
        report.tokens.push(TokenCheck {
            scope: scope.to_string(),
            purposes,
            outcome,
            fix,
        });
    }

    // `system_assigned` (the default) answered with a user-assigned
    // identity's token: IMDS does so when the VM has no system-assigned
    // identity and exactly one user-assigned one.
    if matches!(
        store.identity,
        dsops::config::model::Identity::SystemAssigned
    ) {
        // A system-assigned identity's token may carry `xms_mirid` too,
        // naming the VM or app itself: only a user-assigned identity's id
        // warns.
        let user_assigned = report.tokens.iter().find_map(|t| match &t.outcome {
            // A claim is server text: no control character reaches the terminal.
            TokenOutcome::Got { claims, .. } => claims
                .resource_id
                .as_deref()
                .filter(|id| {
                    id.to_ascii_lowercase()
                        .contains("/providers/microsoft.managedidentity/userassignedidentities/")
                })
                .map(|id| dsops::config::report::one_line(id).into_owned()),
            _ => None,
        });
        if let Some(resource_id) = user_assigned {
            report.identity_warning = Some(format!(
                "store {name} asks for the system-assigned identity, but the token is of the user-assigned identity {resource_id} (IMDS gives a VM's only user-assigned identity when it has no system-assigned one): name it (`identity: {{ type: user_assigned, resource_id: {resource_id} }}`), or enable the system-assigned identity, so that adding a second identity does not break this host"
            ));
        }
    }

    // One request per Key Vault object, with the Key Vault token.
    let outcomes = match &kv_token {
        Some(token) => {
            // Probes are few: 16 at a time unless the store says otherwise.
            let written = store.performance.max_concurrent.unwrap_or(16);
            let limit = usize::try_from(written).unwrap_or(1);
            probe_all(&client, token, &needs.vaults, limit).await
        }
        None => Vec::new(),
    };
    let mut outcomes = outcomes.into_iter();
    for need in &needs.vaults {
        let check = match (&kv_token, outcomes.next()) {
            (Some(token), Some(outcome)) => vault_check(
                store,
                need,
                outcome,
                &token.claims,
                winner.unwrap_or_default(),
                fixes,
            ),
            _ => VaultCheck {
                need: need.clone(),
                ok: false,
                summary: "not checked: no token for Key Vault".to_owned(),
                result: "no_token",
                status: None,
                versions: None,
                code: None,
                inner_code: None,
                message: None,
                fix: kv_fix,
            },
        };
        report.vaults.push(check);
    }
    report
}

/// Probes every object, in `needs` order: a vault at a time, its first
/// object alone (a vault that cannot be reached is not tried again for the
/// others), then the rest `limit` at a time.
async fn probe_all(
    client: &StoreClient,
    token: &Token,
    needs: &[VaultNeed],
    limit: usize,
) -> Vec<ProbeOutcome> {
    let mut outcomes: Vec<Option<ProbeOutcome>> = vec![None; needs.len()];
    let mut urls: Vec<&str> = Vec::new();
    for need in needs {
        if !urls.contains(&need.url.as_str()) {
            urls.push(&need.url);
        }
    }
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    for url in urls {
        let indices: Vec<usize> = (0..needs.len())
            .filter(|&i| needs.get(i).is_some_and(|n| n.url == url))
            .collect();
        let Some((&first, rest)) = indices.split_first() else {
            continue;
        };
        let Some(need) = needs.get(first) else {
            continue;
        };
        let outcome = client
            .probe_keyvault(&need.url, need.object, &need.name, token)
            .await;
        if matches!(outcome, ProbeOutcome::Unreachable { .. }) {
            for &i in rest {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(outcome.clone());
                }
            }
        } else {
            let mut tasks = tokio::task::JoinSet::new();
            for &i in rest {
                let Some(need) = needs.get(i).cloned() else {
                    continue;
                };
                let (client, token, semaphore) = (client.clone(), token.clone(), semaphore.clone());
                tasks.spawn(async move {
                    let _permit = semaphore.acquire_owned().await;
                    let outcome = client
                        .probe_keyvault(&need.url, need.object, &need.name, &token)
                        .await;
                    (i, outcome)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                if let Ok((i, outcome)) = joined
                    && let Some(slot) = outcomes.get_mut(i)
                {
                    *slot = Some(outcome);
                }
            }
        }
        if let Some(slot) = outcomes.get_mut(first) {
            *slot = Some(outcome);
        }
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or(ProbeOutcome::Unreachable {
                kind: Unreachable::Other,
                detail: "the check did not finish".to_owned(),
            })
        })
        .collect()
}

/// Why a chain gave no token, one line: the sources that failed, else why
/// each was skipped.
fn chain_reason(error: &ChainError) -> String {
    let failed: Vec<(&str, &str)> = error
        .attempts
        .iter()
        .filter_map(|a| match &a.outcome {
            AttemptOutcome::Failed(why) => Some((a.kind, why.as_str())),
            _ => None,
        })
        .collect();
    let reasons = if failed.is_empty() {
        error
            .attempts
            .iter()
            .filter_map(|a| match &a.outcome {
                AttemptOutcome::Skipped(why) => Some((a.kind, why.as_str())),
                _ => None,
            })
            .collect()
    } else {
        failed
    };
    match reasons.as_slice() {
        [] => error.to_string(),
        [(_, why)] => (*why).to_owned(),
        many => many
            .iter()
            .map(|(kind, why)| format!("{kind}: {why}"))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The source a chain error is about: the first that failed, else `winner`.
fn failed_kind<'a>(error: &'a ChainError, winner: &'a str) -> &'a str {
    error
        .attempts
        .iter()
        .find(|a| matches!(a.outcome, AttemptOutcome::Failed(_)))
        .map_or(winner, |a| a.kind)
}
