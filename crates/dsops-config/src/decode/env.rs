//! `envs:`: environments, their variables, and each variable's `from:`.

use super::store::{check_sql_server, no_effect_subscription, resource_type};
use super::{Decoder, EnvOutline, Fields, Part};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Scope};
use crate::interpolate::is_variable_name;
use crate::model::{
    CosmosApi, CosmosConnectionRef, CosmosKey, CosmosKeyRef, Environment, Field, KeyVaultObject,
    KeyVaultRef, Reference, ResourceType, SasProtocol, SecretText, Spanned, SqlDialect, SqlRef,
    StorageKey, StorageKeyRef, StorageSasRef, Target, Text, TokenRef, ValueSource, Variable, Vault,
};
use crate::names;
use crate::source::Span;
use crate::suggest::{did_you_mean, one_of};
use crate::yaml::{Entry, NodeKind};

pub(crate) const VARIABLE_KEYS: &[&str] = &["from", "optional", "default"];
pub(crate) const COMMON_FROM_KEYS: &[&str] = &["store", "subscription"];
pub(crate) const KEYVAULT_KEYS: &[&str] = &[
    "vault",
    "secret",
    "version",
    "type",
    "field",
    "resource_type",
];
pub(crate) const STORAGE_KEY_KEYS: &[&str] = &["resource_type", "account", "key", "resource_group"];
pub(crate) const SAS_KEYS: &[&str] = &[
    "resource_type",
    "account",
    "operation",
    "permissions",
    "expiry",
    "start",
    "services",
    "resource_types",
    "ip",
    "protocol",
    "resource_group",
];
pub(crate) const SQL_KEYS: &[&str] = &["resource_type", "server", "database", "format", "dialect"];
pub(crate) const COSMOS_KEYS: &[&str] = &[
    "resource_type",
    "account",
    "key",
    "format",
    "api",
    "resource_group",
];
pub(crate) const TOKEN_KEYS: &[&str] = &["operation", "resource"];
pub(crate) const OPERATIONS: &[&str] = &["generate_sas", "get_token"];
pub(crate) const REFERENCE_RESOURCE_TYPES: &[&str] = &["keyvault", "storage", "sql", "cosmosdb"];
pub(crate) const KEYVAULT_OBJECTS: &[&str] = &["secret", "certificate", "key"];
pub(crate) const STORAGE_KEYS: &[&str] = &["key1", "key2"];
pub(crate) const COSMOS_KEY_NAMES: &[&str] = &[
    "primary",
    "secondary",
    "primary_readonly",
    "secondary_readonly",
];
pub(crate) const FORMATS: &[&str] = &["connection_string"];
pub(crate) const COSMOS_APIS: &[&str] = &["sql", "mongodb", "table", "cassandra", "gremlin"];
pub(crate) const SQL_DIALECTS: &[&str] = &["ado_net", "jdbc", "odbc"];
pub(crate) const SAS_PERMISSIONS: &str = "rwdxylacuptfi";
pub(crate) const SAS_SERVICES: &str = "bfqt";
pub(crate) const SAS_RESOURCE_TYPES: &str = "sco";
pub(crate) const SAS_PROTOCOLS: &[&str] = &["https", "https,http"];

/// Every key a `from:` may have, whatever its form.
pub(crate) fn all_from_keys() -> &'static [&'static str] {
    static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut keys: Vec<&str> = [
            COMMON_FROM_KEYS,
            KEYVAULT_KEYS,
            SAS_KEYS,
            SQL_KEYS,
            COSMOS_KEYS,
            TOKEN_KEYS,
        ]
        .concat();
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(*k));
        keys
    });
    &KEYS
}

/// Which kind of reference a `from:` is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    KeyVault,
    StorageKey,
    StorageSas,
    Sql,
    Cosmos,
    Token,
}

impl Form {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Form::KeyVault => KEYVAULT_KEYS,
            Form::StorageKey => STORAGE_KEY_KEYS,
            Form::StorageSas => SAS_KEYS,
            Form::Sql => SQL_KEYS,
            Form::Cosmos => COSMOS_KEYS,
            Form::Token => TOKEN_KEYS,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Form::KeyVault => "a Key Vault reference",
            Form::StorageKey => "a storage account key reference",
            Form::StorageSas => "a storage SAS reference",
            Form::Sql => "an Azure SQL reference",
            Form::Cosmos => "a Cosmos DB reference",
            Form::Token => "a `get_token` reference",
        }
    }

    /// The forms that use `key`, for "belongs to ..." hints.
    fn users_of(key: &str) -> Vec<Form> {
        [
            Form::KeyVault,
            Form::StorageKey,
            Form::StorageSas,
            Form::Sql,
            Form::Cosmos,
            Form::Token,
        ]
        .into_iter()
        .filter(|f| f.keys().contains(&key))
        .collect()
    }
}

impl Decoder<'_> {
    pub(super) fn decode_envs(
        &mut self,
        entry: &Entry,
        outline: &mut Vec<EnvOutline>,
    ) -> Option<Part<Environment>> {
        let entries = self.mapping(&entry.value, "`envs`")?;
        self.check_duplicates(entries);
        let mut envs = Part::empty();
        for entry in entries {
            if !self.plain_key(entry) {
                envs.complete = false;
                continue;
            }
            self.set_scope(Scope::Env(entry.key.text.clone()));
            let mut env_outline = EnvOutline {
                name: entry.key.text.clone(),
                stores: Vec::new(),
            };
            match self.decode_env(entry, &mut env_outline) {
                Some((env, complete)) => {
                    envs.items.push(env);
                    envs.complete &= complete;
                }
                None => envs.complete = false,
            }
            outline.push(env_outline);
        }
        self.set_scope(Scope::Global);
        Some(envs)
    }

    /// The environment with the variables that decoded, and whether that is all of them.
    fn decode_env(
        &mut self,
        entry: &Entry,
        outline: &mut EnvOutline,
    ) -> Option<(Environment, bool)> {
        let name = self.entry_name(entry, "environment");
        let entries = self.mapping(&entry.value, &format!("environment `{}`", name.value))?;
        if entries.is_empty() {
            self.push(
                Diagnostic::warning(
                    Code::EmptyEnv,
                    name.span,
                    format!("environment `{}` has no variables", name.value),
                )
                .with_hint("add variables under it, each with a literal value or a `from:`"),
            );
        }
        self.check_duplicates(entries);
        let mut variables = Vec::new();
        let mut ok = true;
        for entry in entries {
            if !self.plain_key(entry) {
                ok = false;
                continue;
            }
            match self.decode_variable(entry, outline) {
                Some(v) => variables.push(v),
                None => ok = false,
            }
        }
        Some((Environment { name, variables }, ok))
    }

    fn decode_variable(&mut self, entry: &Entry, outline: &mut EnvOutline) -> Option<Variable> {
        let name = Text {
            value: entry.key.text.clone(),
            span: entry.key.span,
        };
        let ok = self.check_variable_name(&name);
        let (value, optional, default) = match &entry.value.kind {
            NodeKind::Scalar { .. } => (self.literal(entry).map(ValueSource::Literal), false, None),
            NodeKind::Null => {
                self.push(
                    Diagnostic::error(Code::MissingValue, name.span, format!("variable `{}` has no value", name.value))
                        .with_hint("give a literal value (`NAME: value`) or a source (`NAME: { from: { store: ..., vault: ..., secret: ... } }`)"),
                );
                (None, false, None)
            }
            NodeKind::Seq(_) => {
                self.push(Diagnostic::error(
                    Code::WrongType,
                    entry.value.span,
                    format!(
                        "variable `{}` must be a value or a mapping with `from:`, found a list",
                        name.value
                    ),
                ));
                (None, false, None)
            }
            NodeKind::Map(entries) => {
                // Keys of a source written straight under the variable, without
                // `from:`, are explained by the missing `from` below.
                let has_from = entries
                    .iter()
                    .any(|e| e.key.is_scalar && e.key.text == "from");
                let from_keys = all_from_keys();
                let misplaced = |e: &Entry| {
                    !has_from && e.key.is_scalar && from_keys.contains(&e.key.text.as_str())
                };
                let own: Vec<Entry>;
                let checked = if entries.iter().any(misplaced) {
                    own = entries.iter().filter(|e| !misplaced(e)).cloned().collect();
                    own.as_slice()
                } else {
                    entries.as_slice()
                };
                let fields = self.fields(
                    checked,
                    VARIABLE_KEYS,
                    &format!("in variable `{}`", name.value),
                );
                let optional_entry = fields.get("optional");
                let optional = match optional_entry {
                    Some(e) => self.boolean(e).unwrap_or(false),
                    None => false,
                };
                let default = fields
                    .get("default")
                    .and_then(|e| self.default_value(e, &name, optional, optional_entry));
                let value = match fields.get("from") {
                    Some(from) => self
                        .decode_from(from, outline)
                        .map(|r| ValueSource::Reference(Box::new(r))),
                    None if fields.is_misspelled("from") => None,
                    None => {
                        let mut d = Diagnostic::error(
                            Code::MissingKey,
                            name.span,
                            format!("variable `{}` needs `from`", name.value),
                        )
                        .with_label("`from` is missing here");
                        if entries.iter().any(misplaced) {
                            d = d.with_hint(
                                "the source's keys go under `from:`, indented one level more",
                            );
                            for entry in entries.iter().filter(|e| misplaced(e)) {
                                d = d.with_note(entry.key.span, "belongs under `from:`");
                            }
                        }
                        self.push(d);
                        None
                    }
                };
                (value, optional, default)
            }
        };
        let value = value?;
        ok.then_some(Variable {
            name,
            value,
            optional,
            default,
        })
    }

    /// `default:` of variable `name`: a value written in the file, allowed
    /// on an optional variable only.
    fn default_value(
        &mut self,
        entry: &Entry,
        name: &Text,
        optional: bool,
        optional_entry: Option<&Entry>,
    ) -> Option<SecretText> {
        let value = match &entry.value.kind {
            // `default: ""` is an empty value, not a missing one.
            NodeKind::Scalar { .. } => self.literal(entry)?,
            _ => {
                self.scalar(entry);
                return None;
            }
        };
        if !optional {
            let mut d = Diagnostic::error(
                Code::DefaultOnRequired,
                entry.key.span,
                format!("variable `{}` has a `default` but is not optional", name.value),
            )
            .with_label("used only when an optional variable cannot be resolved")
            .with_hint("add `optional: true` if the program can run with the default; otherwise remove `default` so that a failure stops it");
            if let Some(o) = optional_entry {
                d = d.with_note(o.value.span, "`optional` is false here");
            }
            self.push(d);
            return None;
        }
        Some(value)
    }

    fn check_variable_name(&mut self, name: &Text) -> bool {
        if !is_variable_name(&name.value) {
            let suggestion: String = name
                .value
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            let mut d = Diagnostic::error(
                Code::InvalidVariableName,
                name.span,
                format!("`{}` is not a valid environment variable name", name.value),
            )
            .with_hint("names are letters, digits and `_`, not starting with a digit");
            // Non-ASCII letters have no good replacement (`ÉCLAIR` is not `_CLAIR`).
            if is_variable_name(&suggestion) && name.value.is_ascii() {
                d = d.with_label(format!("try `{suggestion}`"));
            }
            self.push(d);
            return false;
        }
        if let Some(why) = crate::names::startup_variable(&name.value) {
            self.push(
                Diagnostic::warning(
                    Code::DangerousVariable,
                    name.span,
                    format!(
                        "setting `{}` from a secrets file is risky: {why}",
                        name.value
                    ),
                )
                .with_hint("rename the variable unless you mean to override it; `dsops github` exports it to a CI job only with `--allow-name NAME`"),
            );
        } else if crate::names::ci_reserved(&name.value) {
            self.push(
                Diagnostic::warning(
                    Code::DangerousVariable,
                    name.span,
                    format!(
                        "`{}` is in a namespace that GitHub Actions reserves",
                        name.value
                    ),
                )
                .with_hint("the runner sets and trusts these variables; choose another prefix (`dsops github` exports it to a CI job only with `--allow-name NAME`)"),
            );
        }
        true
    }

    /// A literal value: a secret as far as output is concerned.
    fn literal(&mut self, entry: &Entry) -> Option<SecretText> {
        let raw = match &entry.value.kind {
            NodeKind::Scalar { text, .. } => text.clone(),
            _ => return None,
        };
        let value = self.secret_text(entry)?;
        if raw.contains('\0') {
            self.push(Diagnostic::error(
                Code::NulInValue,
                entry.value.span,
                "the value contains a NUL character, which no environment variable can hold",
            ));
            return None;
        }
        if let Some(what) = looks_like_credential(&raw) {
            self.push(
                Diagnostic::warning(Code::CredentialLiteral, entry.value.span, format!("this literal looks like {what}"))
                    .with_label("written in the file")
                    .with_hint("keep credentials out of the file: put the value in Key Vault and use `from:`, or for Azure SQL use `resource_type: sql` with `format: connection_string`, which needs no password"),
            );
        }
        Some(value)
    }

    fn decode_from(&mut self, entry: &Entry, outline: &mut EnvOutline) -> Option<Reference> {
        let entries = self.mapping(&entry.value, "`from`")?;
        let span = entry.key.span;
        let raw = Fields::raw(entries);
        let operation = match raw.get("operation") {
            Some(e) => Some(self.keyword(e, OPERATIONS, "operation")?),
            None => None,
        };
        let resource_type = match raw.get("resource_type") {
            Some(e) => Some(
                self.keyword(e, REFERENCE_RESOURCE_TYPES, "resource type")
                    .map(resource_type)?,
            ),
            None => None,
        };
        let form = match (operation, resource_type) {
            (Some("get_token"), None) => Form::Token,
            (Some("get_token"), Some(_)) => {
                self.push(
                    Diagnostic::error(Code::ConflictingKeys, span, "`operation: get_token` takes no `resource_type`")
                        .with_hint("a token is named by `resource:` alone, such as `resource: https://vault.azure.net`"),
                );
                return None;
            }
            (Some(_), Some(ResourceType::Storage)) => Form::StorageSas,
            (Some(_), _) => {
                self.push(
                    Diagnostic::error(Code::ConflictingKeys, span, "`operation: generate_sas` needs `resource_type: storage`")
                        .with_hint("a SAS is signed with a storage account key: add `resource_type: storage` and `account:`"),
                );
                return None;
            }
            (None, None | Some(ResourceType::KeyVault)) => Form::KeyVault,
            (None, Some(ResourceType::Storage)) => Form::StorageKey,
            (None, Some(ResourceType::Sql)) => Form::Sql,
            (None, Some(ResourceType::CosmosDb)) => Form::Cosmos,
        };
        let fields = self.reference_fields(entries, form);
        let store = self.required_text(&fields, "store", span, "`from`");
        // The outline only answers "does this environment use that store":
        // a name seen lately is not copied again (a file has a few stores and
        // thousands of variables; checking only the last few keeps this O(1)).
        if let Some(store) = &store
            && !outline
                .stores
                .iter()
                .rev()
                .take(4)
                .any(|s| *s == store.value)
        {
            outline.stores.push(store.value.clone());
        }
        let subscription = self.opt_text(fields.get("subscription"));
        if let Some(sub) = &subscription {
            self.check_uuid(sub, "subscription", "a subscription id looks like `12345678-1234-1234-1234-123456789012` (`az account show --query id`)");
            match form {
                Form::KeyVault => self.push(no_effect_subscription(sub.span, "Key Vault")),
                Form::Sql => self.push(no_effect_subscription(sub.span, "sql")),
                Form::Token => self.push(no_effect_subscription(sub.span, "token")),
                _ => {}
            }
        }
        let target = match form {
            Form::KeyVault => self.keyvault_target(&fields, span),
            Form::StorageKey => self.storage_key_target(&fields, span),
            Form::StorageSas => self.sas_target(&fields, span),
            Form::Sql => self.sql_target(&fields, span),
            Form::Cosmos => self.cosmos_target(&fields, span),
            Form::Token => self.token_target(&fields, span),
        };
        Some(Reference {
            store: store?,
            target: target?,
            subscription,
            span,
        })
    }

    /// Checks a `from:`'s keys against its form, explaining keys of other forms.
    fn reference_fields<'n>(&mut self, entries: &'n [Entry], form: Form) -> Fields<'n> {
        self.check_duplicates(entries);
        let mut fields = Fields::raw(entries);
        for entry in entries {
            if !self.plain_key(entry) {
                continue;
            }
            let key = entry.key.text.as_str();
            if COMMON_FROM_KEYS.contains(&key) || form.keys().contains(&key) {
                continue;
            }
            let allowed = [COMMON_FROM_KEYS, form.keys()].concat();
            let users = Form::users_of(key);
            if let Some(owner) = users.first() {
                self.push(
                    Diagnostic::error(
                        Code::WrongFormKey,
                        entry.key.span,
                        format!("`{key}` is not used by {}", form.name()),
                    )
                    .with_label(format!("belongs to {}", owner.name()))
                    .with_hint(form_hint(*owner)),
                );
            } else {
                let all = all_from_keys();
                let mut d = Diagnostic::error(
                    Code::UnknownKey,
                    entry.key.span,
                    format!("unknown key `{key}` in `from`"),
                );
                let own = did_you_mean(key, allowed.iter().copied());
                fields.misspelled.extend(own);
                d = match own.or_else(|| did_you_mean(key, all.iter().copied())) {
                    Some(s) => d.with_label(format!("did you mean `{s}`?")),
                    None => d.with_label("not a dsops key"),
                };
                self.push(d.with_hint(format!(
                    "keys allowed in {}: {}",
                    form.name(),
                    one_of(&allowed)
                )));
            }
        }
        fields
    }

    fn keyvault_target(&mut self, fields: &Fields<'_>, span: Span) -> Option<Target> {
        let vault = self.opt_text(fields.get("vault"));
        if let Some(v) = &vault {
            self.check_vault(v);
        }
        let name = self.required_text(fields, "secret", span, "a Key Vault reference");
        if let Some(n) = &name {
            self.check_shape(n, Code::InvalidName, "secret name", names::check_secret_name, "Key Vault names have only letters, digits and hyphens; `az keyvault secret list --vault-name VAULT -o table` lists them");
        }
        let version = self.opt_text(fields.get("version"));
        if let Some(v) = &version {
            self.check_shape(v, Code::InvalidVersion, "version", names::check_version, "");
        }
        let object = match fields.get("type") {
            Some(t) => match self.keyword(t, KEYVAULT_OBJECTS, "Key Vault object type")? {
                "certificate" => KeyVaultObject::Certificate,
                "key" => KeyVaultObject::Key,
                _ => KeyVaultObject::Secret,
            },
            None => KeyVaultObject::Secret,
        };
        let field = match fields.get("field") {
            Some(entry) => Some(self.field(entry, object)?),
            None => None,
        };
        // A `vault` that is there but unusable, or misspelled, is reported already.
        if vault.is_none() && (fields.get("vault").is_some() || fields.is_misspelled("vault")) {
            return None;
        }
        // A missing vault is the store's `vault_name` (checked in lint).
        Some(Target::KeyVault(KeyVaultRef {
            vault: vault.map(Vault::parse),
            name: name?,
            version,
            object,
            field,
        }))
    }

    /// `field:` of a Key Vault reference: a path, on a secret.
    fn field(&mut self, entry: &Entry, object: KeyVaultObject) -> Option<Field> {
        let text = self.text(entry)?;
        if object != KeyVaultObject::Secret {
            self.push(
                Diagnostic::error(
                    Code::InvalidField,
                    entry.key.span,
                    "`field` selects from a secret's JSON value; a certificate or key has none",
                )
                .with_hint("remove `field`, or read a secret (`type: secret`, the default)"),
            );
            return None;
        }
        match Field::parse_path(&text.value) {
            Ok(path) => Some(Field { text, path }),
            Err(why) => {
                self.push(
                    Diagnostic::error(
                        Code::InvalidField,
                        text.span,
                        format!("`field` is not a path: {why}"),
                    )
                    .with_hint("names separated by dots (`database.password`); `\\.` is a dot inside a name"),
                );
                None
            }
        }
    }

    fn account(
        &mut self,
        fields: &Fields<'_>,
        span: Span,
        kind: ResourceType,
        what: &str,
    ) -> Option<Text> {
        let account = self.required_text(fields, "account", span, what)?;
        self.check_resource_name(kind, &account);
        Some(account)
    }

    fn resource_group(&mut self, fields: &Fields<'_>) -> Option<Text> {
        let group = self.opt_text(fields.get("resource_group"))?;
        self.check_shape(
            &group,
            Code::InvalidName,
            "resource group",
            names::check_resource_group,
            "",
        );
        Some(group)
    }

    fn storage_key_target(&mut self, fields: &Fields<'_>, span: Span) -> Option<Target> {
        let what = "a storage account key reference";
        let account = self.account(fields, span, ResourceType::Storage, what);
        let resource_group = self.resource_group(fields);
        let key = match fields.get("key") {
            Some(k) => self.keyword(k, STORAGE_KEYS, "storage key").map(|k| {
                if k == "key2" {
                    StorageKey::Key2
                } else {
                    StorageKey::Key1
                }
            }),
            None if fields.is_misspelled("key") => None,
            None => {
                self.push(
                    Diagnostic::error(Code::MissingKey, span, "a storage reference needs `key: key1` (or `key2`), or `operation: generate_sas`")
                        .with_hint("prefer a SAS: it expires and carries only the permissions you list, where an account key grants everything"),
                );
                None
            }
        };
        Some(Target::StorageKey(StorageKeyRef {
            account: account?,
            key: key?,
            resource_group,
        }))
    }

    fn sas_target(&mut self, fields: &Fields<'_>, span: Span) -> Option<Target> {
        let what = "a storage SAS reference";
        let account = self.account(fields, span, ResourceType::Storage, what);
        let resource_group = self.resource_group(fields);
        let permissions = self.required_text(fields, "permissions", span, what);
        let mut ok = true;
        if let Some(p) = &permissions {
            ok &= self.check_shape(p, Code::InvalidSas, "permissions", |s| check_letters(s, SAS_PERMISSIONS, "permission"), "account SAS permissions: r read, w write, d delete, x delete version, y permanent delete, l list, a add, c create, u update, p process, t tag, f filter, i set immutability policy");
        }
        let expiry = match fields.get("expiry") {
            Some(e) => self.duration(e),
            None => {
                if !fields.is_misspelled("expiry") {
                    self.missing(span, "expiry", what);
                }
                None
            }
        };
        if let Some(e) = &expiry
            && e.value.is_zero()
        {
            self.push(Diagnostic::error(
                Code::InvalidDuration,
                e.span,
                "`expiry` must be longer than zero",
            ));
            ok = false;
        }
        let start_before = match fields.get("start") {
            Some(e) => Some(self.sas_start(e)?),
            None => None,
        };
        let services = self.opt_text(fields.get("services"));
        if let Some(s) = &services {
            ok &= self.check_shape(
                s,
                Code::InvalidSas,
                "services",
                |s| check_letters(s, SAS_SERVICES, "service"),
                "b blob, f file, q queue, t table",
            );
        }
        let resource_types = self.opt_text(fields.get("resource_types"));
        if let Some(s) = &resource_types {
            ok &= self.check_shape(
                s,
                Code::InvalidSas,
                "resource types",
                |s| check_letters(s, SAS_RESOURCE_TYPES, "resource type"),
                "s service, c container, o object",
            );
        }
        let ip = self.opt_text(fields.get("ip"));
        if let Some(ip) = &ip {
            ok &= self.check_shape(
                ip,
                Code::InvalidSas,
                "IP range",
                check_ip_range,
                "an address (`203.0.113.7`) or a range (`203.0.113.0-203.0.113.255`)",
            );
        }
        let protocol = match fields.get("protocol") {
            Some(p) => match self.keyword(p, SAS_PROTOCOLS, "SAS protocol")? {
                "https,http" => SasProtocol::HttpsAndHttp,
                _ => SasProtocol::Https,
            },
            None => SasProtocol::Https,
        };
        if !ok {
            return None;
        }
        Some(Target::StorageSas(StorageSasRef {
            account: account?,
            permissions: permissions?,
            expiry: expiry?,
            start_before,
            services,
            resource_types,
            ip,
            protocol,
            resource_group,
        }))
    }

    /// `start: -15m`: how long before issue the SAS becomes valid.
    fn sas_start(&mut self, entry: &Entry) -> Option<Spanned<std::time::Duration>> {
        let text = self.scalar(entry)?;
        let parsed = match text.strip_prefix('-') {
            Some(rest) => crate::duration::parse_duration(rest).map_err(|e| e.to_string()),
            None => Err("must be a negative offset from the time of issue, such as `-15m`".into()),
        };
        match parsed {
            Ok(value) => Some(Spanned {
                value,
                span: entry.value.span,
            }),
            Err(why) => {
                self.push(
                    Diagnostic::error(Code::InvalidDuration, entry.value.span, format!("invalid `start`: {why}"))
                        .with_hint("`start: -15m` makes the token valid from 15 minutes before it is issued, for clocks that run behind"),
                );
                None
            }
        }
    }

    fn sql_target(&mut self, fields: &Fields<'_>, span: Span) -> Option<Target> {
        let what = "an Azure SQL reference";
        let server = self.required_text(fields, "server", span, what);
        if let Some(s) = &server {
            self.check_shape(s, Code::InvalidName, "SQL server", check_sql_server, "");
        }
        let database = self.required_text(fields, "database", span, what);
        if let Some(db) = &database {
            self.check_shape(db, Code::InvalidName, "database name", check_database, "");
        }
        if let Some(f) = fields.get("format") {
            self.keyword(f, FORMATS, "format")?;
        }
        let dialect = match fields.get("dialect") {
            Some(d) => match self.keyword(d, SQL_DIALECTS, "SQL connection string dialect")? {
                "jdbc" => SqlDialect::Jdbc,
                "odbc" => SqlDialect::Odbc,
                _ => SqlDialect::AdoNet,
            },
            None => SqlDialect::AdoNet,
        };
        Some(Target::Sql(SqlRef {
            server: server?,
            database: database?,
            dialect,
        }))
    }

    fn cosmos_target(&mut self, fields: &Fields<'_>, span: Span) -> Option<Target> {
        let what = "a Cosmos DB reference";
        let account = self.account(fields, span, ResourceType::CosmosDb, what);
        let resource_group = self.resource_group(fields);
        let key = match fields.get("key") {
            Some(k) => Some(match self.keyword(k, COSMOS_KEY_NAMES, "Cosmos DB key")? {
                "secondary" => CosmosKey::Secondary,
                "primary_readonly" => CosmosKey::PrimaryReadonly,
                "secondary_readonly" => CosmosKey::SecondaryReadonly,
                _ => CosmosKey::Primary,
            }),
            None => None,
        };
        let format = match fields.get("format") {
            Some(f) => Some(self.keyword(f, FORMATS, "format")?),
            None => None,
        };
        let api = match fields.get("api") {
            Some(a) => Some(
                match self.keyword(
                    a,
                    COSMOS_APIS,
                    "Cosmos DB API (`sql`, `mongodb`, `table`, `cassandra`, `gremlin`)",
                )? {
                    "mongodb" => CosmosApi::MongoDb,
                    "table" => CosmosApi::Table,
                    "cassandra" => CosmosApi::Cassandra,
                    "gremlin" => CosmosApi::Gremlin,
                    _ => CosmosApi::Sql,
                },
            ),
            None => None,
        };
        if let (Some(_), None, Some(a)) = (&key, &format, fields.get("api")) {
            self.push(
                Diagnostic::error(
                    Code::ConflictingKeys,
                    a.key.span,
                    "`api` chooses a connection string; a Cosmos DB key is the same for every API",
                )
                .with_hint("add `format: connection_string`, or remove `api`"),
            );
            return None;
        }
        match (key, format) {
            (None, None) if fields.is_misspelled("key") || fields.is_misspelled("format") => None,
            (None, None) => {
                self.push(
                    Diagnostic::error(Code::MissingKey, span, "a Cosmos DB reference needs `key:` or `format: connection_string`")
                        .with_hint("`key: primary_readonly` gives a read-only key; `format: connection_string` gives a whole connection string"),
                );
                None
            }
            (Some(key), None) => Some(Target::CosmosKey(CosmosKeyRef {
                account: account?,
                key,
                resource_group,
            })),
            (key, Some(_)) => Some(Target::CosmosConnection(CosmosConnectionRef {
                account: account?,
                key: key.unwrap_or(CosmosKey::Primary),
                api: api.unwrap_or_default(),
                resource_group,
            })),
        }
    }

    fn token_target(&mut self, fields: &Fields<'_>, span: Span) -> Option<Target> {
        let resource = self.required_text(fields, "resource", span, "a `get_token` reference")?;
        self.check_shape(&resource, Code::InvalidResource, "resource", check_token_resource, "a resource is an https URL (`https://graph.microsoft.com`), an `api://` application id URI, or an application id");
        Some(Target::Token(TokenRef { resource }))
    }
}

fn form_hint(owner: Form) -> &'static str {
    match owner {
        Form::KeyVault => {
            "a Key Vault reference has `vault`, `secret`, and optionally `version`, `type` and `field`"
        }
        Form::StorageKey => {
            "a storage account key needs `resource_type: storage`, `account` and `key`"
        }
        Form::StorageSas => {
            "a SAS needs `resource_type: storage`, `account`, `operation: generate_sas`, `permissions` and `expiry`"
        }
        Form::Sql => {
            "an Azure SQL connection string needs `resource_type: sql`, `server`, `database` and `format: connection_string`"
        }
        Form::Cosmos => {
            "a Cosmos DB reference needs `resource_type: cosmosdb`, `account`, and `key` or `format`"
        }
        Form::Token => "a token needs `operation: get_token` and `resource`",
    }
}

fn check_letters(s: &str, allowed: &str, what: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    let mut seen = String::new();
    for c in s.chars() {
        if !allowed.contains(c) {
            return Err(format!(
                "has `{}`, which is not a {what} letter (`{allowed}`)",
                c.escape_default()
            ));
        }
        if seen.contains(c) {
            return Err(format!("has `{c}` twice"));
        }
        seen.push(c);
    }
    Ok(())
}

fn check_ip_range(s: &str) -> Result<(), String> {
    let ok = match s.split_once('-') {
        Some((a, b)) => match (
            a.parse::<std::net::Ipv4Addr>(),
            b.parse::<std::net::Ipv4Addr>(),
        ) {
            (Ok(a), Ok(b)) => a <= b,
            _ => false,
        },
        None => names::is_ipv4(s),
    };
    if ok {
        Ok(())
    } else {
        Err("is not an IPv4 address or range".into())
    }
}

fn check_database(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(1..=128).contains(&len) {
        return Err(format!(
            "is {len} characters long; database names have 1 to 128"
        ));
    }
    if s.contains([';', '=', '{', '}', '\'', '"']) {
        return Err("contains characters that would change the connection string".into());
    }
    Ok(())
}

fn check_token_resource(s: &str) -> Result<(), String> {
    if s.contains(char::is_whitespace) {
        return Err("contains whitespace".into());
    }
    if names::is_uuid(s) || s.starts_with("api://") && s.len() > "api://".len() {
        return Ok(());
    }
    if let Some(host) = names::url_host(s)
        && s.starts_with("https://")
        && names::is_hostname(&host)
    {
        return Ok(());
    }
    Err("is not an https URL, `api://` URI or application id".into())
}

/// What a literal that is a credential looks like; `None` if it does not.
pub(crate) fn looks_like_credential(value: &str) -> Option<&'static str> {
    let lower = value.to_ascii_lowercase();
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    if ["password=", "pwd="].iter().any(|k| compact.contains(k)) {
        return Some("a connection string with a password");
    }
    if ["accountkey=", "sharedaccesskey=", "sharedaccesssignature="]
        .iter()
        .any(|k| compact.contains(k))
    {
        return Some("a connection string with an access key");
    }
    if compact.contains("sig=") && compact.contains("sv=") {
        return Some("a SAS token");
    }
    if compact.contains("-----beginprivatekey-----") || compact.contains("privatekey-----") {
        return Some("a private key");
    }
    if is_jwt(value.trim()) {
        return Some("a token (JWT)");
    }
    None
}

fn is_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && s.starts_with("eyJ")
        && parts.iter().take(2).all(|p| p.len() >= 4)
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_shapes() {
        assert!(looks_like_credential("Server=tcp:x;Password=pass").is_some());
        assert!(
            looks_like_credential("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==")
                .is_some()
        );
        assert!(looks_like_credential("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc").is_some());
        assert!(looks_like_credential("sv=2022-11-02&ss=b&sig=abc").is_some());
        assert!(looks_like_credential("-----BEGIN PRIVATE KEY-----\nMII...").is_some());
        assert!(looks_like_credential("https://example.com").is_none());
        assert!(looks_like_credential("8080").is_none());
    }

    #[test]
    fn letters() {
        assert!(check_letters("rl", SAS_PERMISSIONS, "permission").is_ok());
        assert!(check_letters("rr", SAS_PERMISSIONS, "permission").is_err());
        assert!(check_letters("rz", SAS_PERMISSIONS, "permission").is_err());
        assert!(check_letters("", SAS_PERMISSIONS, "permission").is_err());
    }

    #[test]
    fn token_resources() {
        assert!(check_token_resource("https://vault.azure.net").is_ok());
        assert!(check_token_resource("https://graph.microsoft.com/.default").is_ok());
        assert!(check_token_resource("api://my-app").is_ok());
        assert!(check_token_resource("12345678-1234-1234-1234-123456789012").is_ok());
        assert!(check_token_resource("http://example.com").is_err());
        assert!(check_token_resource("vault").is_err());
    }
}
