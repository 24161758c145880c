//! Checks that need the whole file: references to stores, vaults that must
//! come from the store, unused stores, variables that clash.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Decoder, Partial};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Scope};
use crate::model::{Store, StoreKind, Target, ValueSource, Vault};
use crate::names;
use crate::suggest::did_you_mean;

pub(super) fn check(d: &mut Decoder<'_>, partial: &Partial) {
    let config = &partial.config;
    // By the index of the store in `config.stores`: no hashing per variable.
    let mut used = vec![false; config.stores.len()];
    for env in &config.envs {
        d.set_scope(Scope::Env(env.name.value.clone()));
        let mut seen_upper: HashMap<Cow<'_, str>, &crate::model::Text> =
            HashMap::with_capacity(env.variables.len());
        for variable in &env.variables {
            // Most names are upper case already: no copy for those.
            let name = variable.name.value.as_str();
            let upper = if name.bytes().any(|b| b.is_ascii_lowercase()) {
                Cow::Owned(name.to_ascii_uppercase())
            } else {
                Cow::Borrowed(name)
            };
            if let Some(first) = seen_upper.insert(upper, &variable.name)
                // The same name twice is a `duplicate-key` already.
                && first.value != variable.name.value
            {
                d.push(
                    Diagnostic::warning(
                        Code::VariableCaseClash,
                        variable.name.span,
                        format!("`{}` and `{}` differ only in case", first.value, variable.name.value),
                    )
                    .with_note(first.span, "the other one")
                    .with_hint("Windows treats environment variable names case-insensitively, so one would overwrite the other"),
                );
            }
            let ValueSource::Reference(reference) = &variable.value else {
                continue;
            };
            if !d.resolved(&reference.store) {
                continue;
            }
            let found = config
                .stores
                .iter()
                .position(|s| s.name.value == reference.store.value);
            let Some((index, store)) = found.and_then(|i| Some((i, config.stores.get(i)?))) else {
                // A store with errors of its own, or no usable `secretStores`:
                // nothing more to say here.
                let Some(names) = &partial.store_names else {
                    continue;
                };
                if names.contains(&reference.store.value) {
                    continue;
                }
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let mut diagnostic = Diagnostic::error(
                    Code::UnknownStore,
                    reference.store.span,
                    format!(
                        "there is no store {}",
                        d.quote(&reference.store, "").trim_end()
                    ),
                );
                diagnostic = match did_you_mean(&reference.store.value, names.iter().copied()) {
                    Some(s) => diagnostic.with_label(format!("did you mean `{s}`?")),
                    None => diagnostic.with_label("not defined in `secretStores`"),
                };
                diagnostic = if names.is_empty() {
                    diagnostic.with_hint(format!(
                        "define it:\n    secretStores:\n      {}:\n        type: azure.managed_identity",
                        reference.store.value
                    ))
                } else {
                    diagnostic.with_hint(format!(
                        "stores defined: {}",
                        crate::suggest::one_of(&names)
                    ))
                };
                d.push(diagnostic);
                continue;
            };
            // Every store of that name (a repeated name is a `duplicate-key` already).
            for (used, other) in used.iter_mut().zip(&config.stores).skip(index) {
                *used |= other.name.value == store.name.value;
            }
            if let Target::KeyVault(kv) = &reference.target {
                check_vault_of(d, store, kv.vault.as_ref(), reference.span);
            }
        }
    }
    d.set_scope(Scope::Global);
    for (store, used) in config.stores.iter().zip(&used) {
        if !used && !config.envs.is_empty() && partial.envs_complete {
            d.set_scope(Scope::Store(store.name.value.clone()));
            d.push(
                Diagnostic::warning(
                    Code::UnusedStore,
                    store.name.span,
                    format!("store `{}` is not used by any variable", store.name.value),
                )
                .with_hint("remove it, or reference it with `from: { store: ... }`"),
            );
        }
    }
    d.set_scope(Scope::Global);
}

/// A Key Vault reference needs a vault (its own or the store's `vault_name`),
/// and a vault URL must be a Key Vault host of the store's cloud: a token for
/// Key Vault is never sent anywhere else.
fn check_vault_of(
    d: &mut Decoder<'_>,
    store: &Store,
    vault: Option<&Vault>,
    at: crate::source::Span,
) {
    let effective = match vault {
        Some(vault) => vault.text(),
        None => match &store.default_vault {
            Some(default) => default,
            None => {
                let hint = match store.kind {
                    StoreKind::ManagedIdentity => "add `vault: NAME` to this `from:`",
                    StoreKind::KeyVault => {
                        "add `vault: NAME` to this `from:`, or `vault_name:` to the store"
                    }
                };
                d.push(
                    Diagnostic::error(Code::MissingKey, at, "a Key Vault reference needs `vault`")
                        .with_label("`vault` is missing here")
                        .with_hint(hint),
                );
                return;
            }
        },
    };
    // A URL of the wrong shape is reported already (`invalid-vault`).
    if !d.resolved(effective) || names::check_vault_url(&effective.value).is_err() {
        return;
    }
    let Some(host) = names::url_host(&effective.value) else {
        return;
    };
    let suffix = &store.cloud.endpoints.keyvault_dns_suffix;
    let suffix_host = suffix
        .split(':')
        .next()
        .unwrap_or(suffix)
        .to_ascii_lowercase();
    // The port too: the cloud's suffix names it (`vault.localhost:8443`),
    // and a named cloud's vaults answer on 443 only.
    let port_of = |authority: &str| -> Option<String> {
        authority
            .rsplit_once(':')
            .map(|(_, port)| port.to_owned())
            .filter(|port| port != "443")
    };
    let url_authority = effective
        .value
        .trim_start_matches("https://")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let port_matches = port_of(url_authority) == port_of(suffix);
    if !host.ends_with(&format!(".{suffix_host}")) || !port_matches {
        d.push(
            Diagnostic::error(
                Code::VaultHostMismatch,
                effective.span,
                format!(
                    "vault URL {} is not a Key Vault host of the `{}` cloud (`*.{suffix}`)",
                    d.quote(effective, "").trim_end(),
                    store.cloud.name.as_str()
                ),
            )
            .with_label("a Key Vault token would be sent here")
            .with_hint("check the URL; for Azure Stack, a private cloud or `dsops emulator`, set the store's `cloud:` with `keyvault_dns_suffix`"),
        );
    }
}
