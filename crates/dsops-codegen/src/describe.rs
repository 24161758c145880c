//! The doc comment of each field: where its value comes from.

use dsops_config::Loaded;
use dsops_config::model::{
    Config, CosmosKey, KeyVaultObject, StorageKey, Target, Text, ValueSource, Variable, Vault,
};

use crate::Kind;
use crate::locate::Located;

/// The field type a `from:` gives.
pub(crate) fn kind(target: &Target) -> Kind {
    match target {
        Target::KeyVault(kv) => match kv.object {
            KeyVaultObject::Secret => Kind::Secret,
            KeyVaultObject::Certificate => Kind::Certificate,
            KeyVaultObject::Key => Kind::Key,
        },
        Target::Token(_) => Kind::Token,
        Target::StorageSas(_) => Kind::Sas,
        Target::StorageKey(_)
        | Target::Sql(_)
        | Target::CosmosKey(_)
        | Target::CosmosConnection(_) => Kind::Secret,
    }
}

/// A string as written in the file when it reads `${NAME}` (its value at
/// build time says nothing about run time), else its value.
fn written(loaded: &Loaded, text: &Text) -> String {
    let raw = loaded.source().slice(text.span).trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| raw.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)))
        .unwrap_or(raw);
    if unquoted.contains("${") {
        unquoted.to_owned()
    } else {
        text.value.clone()
    }
}

/// The doc comment of a variable's field (Markdown, one paragraph per line).
pub(crate) fn doc(
    loaded: &Loaded,
    located: &Located,
    config: &Config,
    variable: &Variable,
) -> String {
    let line = loaded.source().position(variable.name.span.start).line;
    let name = &variable.name.value;
    let at = format!("{}, line {line}", located.display);
    let mut doc = match &variable.value {
        ValueSource::Literal(_) => {
            format!("`{name}`: a value written in {at}.")
        }
        ValueSource::Reference(reference) => {
            let store_name = reference.store.as_str();
            let w = |t: &Text| written(loaded, t);
            let what = match &reference.target {
                Target::KeyVault(kv) => {
                    let vault = config
                        .store(store_name)
                        .and_then(|store| kv.vault_in(store))
                        .map(|vault| match vault {
                            Vault::Name(t) => format!("vault `{}`", w(&t)),
                            Vault::Url(t) => format!("vault <{}>", w(&t)),
                        })
                        .unwrap_or_else(|| "the store's vault".to_owned());
                    let version = kv
                        .version
                        .as_ref()
                        .map(|v| format!(", version `{}`", w(v)))
                        .unwrap_or_default();
                    let name = w(&kv.name);
                    match kv.object {
                        KeyVaultObject::Secret => {
                            format!("Key Vault secret `{name}`{version} in {vault}")
                        }
                        KeyVaultObject::Certificate => format!(
                            "Key Vault certificate `{name}`{version} in {vault}, with its private key"
                        ),
                        KeyVaultObject::Key => {
                            format!(
                                "public key (JWK) of Key Vault key `{name}`{version} in {vault}"
                            )
                        }
                    }
                }
                Target::StorageKey(s) => format!(
                    "access key `{}` of storage account `{}`",
                    match s.key {
                        StorageKey::Key1 => "key1",
                        StorageKey::Key2 => "key2",
                    },
                    w(&s.account)
                ),
                Target::StorageSas(s) => format!(
                    "account SAS token for storage account `{}` (permissions `{}`, valid for {})",
                    w(&s.account),
                    w(&s.permissions),
                    loaded.source().slice(s.expiry.span).trim()
                ),
                Target::Sql(s) => format!(
                    "connection string for Azure SQL database `{}` on server `{}` (signs in with the managed identity)",
                    w(&s.database),
                    w(&s.server)
                ),
                Target::CosmosKey(c) => format!(
                    "{} key of Cosmos DB account `{}`",
                    cosmos_key(c.key),
                    w(&c.account)
                ),
                Target::CosmosConnection(c) => format!(
                    "connection string of Cosmos DB account `{}` (with its {} key)",
                    w(&c.account),
                    cosmos_key(c.key)
                ),
                Target::Token(t) => format!("access token for `{}`", w(&t.resource)),
            };
            let subscription = reference
                .subscription
                .as_ref()
                .map(|s| format!(", subscription `{}`", w(s)))
                .unwrap_or_default();
            format!("`{name}`: {what}{subscription}; store `{store_name}` ({at}).")
        }
    };
    if variable.optional {
        doc.push_str("\n\nOptional: `None` when it cannot be resolved.");
    }
    doc
}

fn cosmos_key(key: CosmosKey) -> &'static str {
    match key {
        CosmosKey::Primary => "primary",
        CosmosKey::Secondary => "secondary",
        CosmosKey::PrimaryReadonly => "primary read-only",
        CosmosKey::SecondaryReadonly => "secondary read-only",
    }
}
