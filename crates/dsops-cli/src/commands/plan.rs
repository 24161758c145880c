//! `dsops plan`: what resolving an environment would fetch, from where, and
//! with which identity; never a value.
//!
//! Offline (the default), the identity is the first source of each store's
//! chain that the environment variables do not rule out; nothing is asked
//! of the network. `--online` walks each chain as resolution would and names
//! the source that got a token (no value is fetched, and the token is not
//! shown).

use std::path::Path;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use dsops::AccountKind;
use dsops::config::model::{CiPreset, CredentialSource, Identity, Store, UserAssignedId};
use dsops::config::{Environment, ProcessEnvironment};
use dsops::identity::{AttemptOutcome, Scope, TokenClaims};
use dsops::{
    AccountValue, Engine, EngineOptions, FetchTarget, KeyVaultObjectKind, Plan, PlannedSource,
    StoreClient,
};
use serde_json::{Value, json};

use crate::exit;
use crate::load::{self, Stream};
use crate::output;
use crate::resolve::{self, EnvArgs};

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    common: EnvArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Ask each store's identity chain for a token, and show which source
    /// gives it (the token is never shown, no value is fetched).
    #[arg(long)]
    online: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// The identity of one store, as far as `plan` can tell.
#[derive(Debug)]
struct StoreIdentity {
    store: String,
    /// The scope walked (`--online`) or that the first fetch needs.
    scope: String,
    outcome: IdentityOutcome,
    /// `--online`: every source, with what happened.
    attempts: Vec<Value>,
}

#[derive(Debug)]
enum IdentityOutcome {
    /// Offline: the first source not ruled out.
    Likely {
        kind: &'static str,
        description: String,
    },
    /// Online: the source that gave a token, and whose token it is.
    Won {
        kind: &'static str,
        description: String,
        claims: TokenClaims,
    },
    /// No source can (offline: every one is ruled out) or did give a token.
    None { why: Vec<String> },
    /// The store's HTTP client or chain cannot be set up.
    Broken(String),
}

impl StoreIdentity {
    fn ok(&self) -> bool {
        matches!(
            self.outcome,
            IdentityOutcome::Likely { .. } | IdentityOutcome::Won { .. }
        )
    }

    fn kind(&self) -> &'static str {
        match &self.outcome {
            IdentityOutcome::Likely { kind, .. } | IdentityOutcome::Won { kind, .. } => kind,
            IdentityOutcome::None { .. } | IdentityOutcome::Broken(_) => "none",
        }
    }

    /// One line: "managed_identity: managed identity via IMDS at ... (not probed)".
    fn describe(&self) -> String {
        match &self.outcome {
            IdentityOutcome::Likely { kind, description } => {
                format!("{kind}: {description} (not probed)")
            }
            IdentityOutcome::Won {
                kind,
                description,
                claims,
            } => {
                let ids: Vec<String> = [
                    claims.object_id.as_ref().map(|v| format!("object id {v}")),
                    claims.client_id.as_ref().map(|v| format!("app id {v}")),
                    claims.tenant_id.as_ref().map(|v| format!("tenant {v}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                if ids.is_empty() {
                    format!("{kind}: {description}")
                } else {
                    format!("{kind}: {description} ({})", ids.join(", "))
                }
            }
            IdentityOutcome::None { why } => {
                let mut text = "no identity can get a token here".to_owned();
                for line in why {
                    text.push_str("\n      - ");
                    text.push_str(line);
                }
                text
            }
            IdentityOutcome::Broken(why) => format!("cannot be set up: {why}"),
        }
    }

    fn json(&self) -> Value {
        let identity = match &self.outcome {
            IdentityOutcome::Likely { kind, description } => json!({
                "kind": kind, "description": description, "probed": false,
            }),
            IdentityOutcome::Won {
                kind,
                description,
                claims,
            } => json!({
                "kind": kind, "description": description, "probed": true,
                "object_id": claims.object_id, "client_id": claims.client_id,
                "tenant_id": claims.tenant_id,
            }),
            IdentityOutcome::None { .. } | IdentityOutcome::Broken(_) => Value::Null,
        };
        let error = match &self.outcome {
            IdentityOutcome::None { why } => Some(why.join("; ")),
            IdentityOutcome::Broken(why) => Some(why.clone()),
            _ => None,
        };
        json!({
            "store": self.store,
            "scope": self.scope,
            "ok": self.ok(),
            "identity": identity,
            "error": error,
            "sources": self.attempts,
        })
    }
}

pub(crate) fn run(config: &Path, args: &PlanArgs) -> u8 {
    let env = &args.common.env;
    resolve::debug_config(args.common.debug);
    let usable = match load::load(config, Some(env)) {
        Ok(usable) => usable,
        Err(error) => {
            match args.format {
                Format::Human => error.print_human(Stream::Stdout),
                Format::Json => {
                    let report = json!({
                        "error": error.summary(),
                        "config": error.config_json(),
                    });
                    output::stdout(&format!("{report:#}\n"));
                }
            }
            return exit::FAILED;
        }
    };
    let engine = Engine::new(
        usable.config().clone(),
        usable.config_dir(),
        Arc::new(ProcessEnvironment),
        EngineOptions {
            debug: args.common.debug,
            progress: None,
        },
    );
    let Ok(plan) = engine.plan(env) else {
        return resolve::unknown_env(env);
    };
    let identities = if args.online {
        let runtime = match resolve::runtime() {
            Ok(runtime) => runtime,
            Err(code) => return code,
        };
        runtime.block_on(online(&engine, &plan))
    } else {
        offline(&engine, &plan)
    };
    match args.format {
        Format::Human => output::stdout(&human(&plan, &identities, args.online)),
        Format::Json => output::stdout(&format!(
            "{:#}\n",
            report_json(&plan, &identities, args.online)
        )),
    }
    if identities.iter().all(StoreIdentity::ok) {
        exit::OK
    } else {
        exit::FAILED
    }
}

/// The stores of the plan's fetches, in first-use order.
fn stores<'a>(engine: &'a Engine, plan: &Plan) -> Vec<&'a Store> {
    let mut stores: Vec<&Store> = Vec::new();
    for fetch in &plan.fetches {
        if let Some(store) = engine.config().store(&fetch.store)
            && !stores.iter().any(|s| s.name.value == store.name.value)
        {
            stores.push(store);
        }
    }
    stores
}

/// The scope a store's chain is asked for: that of its first fetch, else Key Vault's.
fn scope_of(store: &Store, plan: &Plan) -> Scope {
    plan.fetches
        .iter()
        .filter(|f| f.store == store.name.value)
        .find_map(|f| f.target.scope(store))
        .unwrap_or_else(|| Scope::keyvault(store))
}

fn offline(engine: &Engine, plan: &Plan) -> Vec<StoreIdentity> {
    stores(engine, plan)
        .into_iter()
        .map(|store| {
            let scope = scope_of(store, plan).to_string();
            let outcome = match engine.store(&store.name.value) {
                Ok(client) => likely(store, &client, &ProcessEnvironment),
                Err(why) => IdentityOutcome::Broken(why.to_string()),
            };
            StoreIdentity {
                store: store.name.value.clone(),
                scope,
                outcome,
                attempts: Vec::new(),
            }
        })
        .collect()
}

async fn online(engine: &Engine, plan: &Plan) -> Vec<StoreIdentity> {
    let mut identities = Vec::new();
    for store in stores(engine, plan) {
        let scope = scope_of(store, plan);
        let client = match engine.store(&store.name.value) {
            Ok(client) => client,
            Err(why) => {
                identities.push(StoreIdentity {
                    store: store.name.value.clone(),
                    scope: scope.to_string(),
                    outcome: IdentityOutcome::Broken(why.to_string()),
                    attempts: Vec::new(),
                });
                continue;
            }
        };
        let (attempts, found) = client.walk(&scope).await;
        let outcome = match &found {
            Some((index, token)) => {
                let source = attempts.get(*index);
                IdentityOutcome::Won {
                    kind: source.map_or("unknown", |s| s.kind),
                    description: source.map(|s| s.description.clone()).unwrap_or_default(),
                    claims: token.claims.clone(),
                }
            }
            None => IdentityOutcome::None {
                why: attempts
                    .iter()
                    .filter_map(|a| match &a.outcome {
                        AttemptOutcome::Skipped(why) => Some(format!("{}: skipped: {why}", a.kind)),
                        AttemptOutcome::Failed(why) => Some(format!("{}: failed: {why}", a.kind)),
                        AttemptOutcome::Succeeded | AttemptOutcome::NotTried => None,
                    })
                    .collect(),
            },
        };
        drop(found);
        let attempts = attempts
            .iter()
            .map(|a| {
                let (outcome, reason) = match &a.outcome {
                    AttemptOutcome::Succeeded => ("won", None),
                    AttemptOutcome::Skipped(why) => ("skipped", Some(why.clone())),
                    AttemptOutcome::Failed(why) => ("failed", Some(why.clone())),
                    AttemptOutcome::NotTried => ("not_tried", None),
                };
                json!({
                    "kind": a.kind,
                    "description": a.description,
                    "outcome": outcome,
                    "reason": reason,
                })
            })
            .collect();
        identities.push(StoreIdentity {
            store: store.name.value.clone(),
            scope: scope.to_string(),
            outcome,
            attempts,
        });
    }
    identities
}

/// The first source of `chain` that the environment variables do not rule
/// out. The chain's sources are those of `fallback:`, of `auth:`, or the
/// default order.
fn likely(store: &Store, client: &StoreClient, env: &dyn Environment) -> IdentityOutcome {
    let configured: Vec<&CredentialSource> = match &store.fallback {
        Some(list) => list.iter().map(|s| &s.value).collect(),
        None => Vec::new(),
    };
    let mut why = Vec::new();
    for (index, source) in client.sources().into_iter().enumerate() {
        let kind = source.kind;
        match ruled_out(kind, configured.get(index).copied(), store, env) {
            Some(reason) => why.push(format!("{kind}: {reason}")),
            None => {
                return IdentityOutcome::Likely {
                    kind,
                    description: source.description,
                };
            }
        }
    }
    IdentityOutcome::None { why }
}

/// Why the environment rules a source out, if it does. Managed identity,
/// the Azure CLI and configured service principals cannot be ruled out
/// without asking.
fn ruled_out(
    kind: &str,
    configured: Option<&CredentialSource>,
    store: &Store,
    env: &dyn Environment,
) -> Option<String> {
    let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
    let unset = |names: &[&str]| -> Option<String> {
        let missing: Vec<&str> = names.iter().copied().filter(|n| var(n).is_none()).collect();
        (!missing.is_empty()).then(|| format!("{} not set", missing.join(", ")))
    };
    let client_id = |given: Option<&str>| {
        let identity = match &store.identity {
            Identity::UserAssigned(UserAssignedId::ClientId(id)) => Some(id.value.clone()),
            _ => None,
        };
        given
            .map(str::to_owned)
            .or(identity)
            .or_else(|| var("AZURE_CLIENT_ID"))
    };
    let tenant_id = |given: Option<&str>| {
        given
            .map(str::to_owned)
            .or_else(|| store.tenant_id.as_ref().map(|t| t.value.clone()))
            .or_else(|| var("AZURE_TENANT_ID"))
    };
    let no_ids = |client: Option<&str>, tenant: Option<&str>| {
        (client_id(client).is_none() || tenant_id(tenant).is_none())
            .then(|| "no client id or tenant id (AZURE_CLIENT_ID, AZURE_TENANT_ID)".to_owned())
    };
    match (kind, configured) {
        (
            "environment",
            Some(CredentialSource::Environment {
                client_id_env,
                client_secret_env,
                tenant_id_env,
            }),
        ) => unset(&[
            client_id_env.as_str(),
            client_secret_env.as_str(),
            tenant_id_env.as_str(),
        ]),
        ("environment", _) => unset(&["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"]),
        ("workload_identity", configured) => {
            let (client, tenant, file) = match configured {
                Some(CredentialSource::WorkloadIdentity {
                    client_id,
                    tenant_id,
                    token_file,
                }) => (
                    client_id.as_ref().map(|t| t.as_str()),
                    tenant_id.as_ref().map(|t| t.as_str()),
                    token_file.as_ref().map(|t| t.value.clone()),
                ),
                _ => (None, None, None),
            };
            match file.or_else(|| var("AZURE_FEDERATED_TOKEN_FILE")) {
                None => Some("AZURE_FEDERATED_TOKEN_FILE not set".to_owned()),
                Some(_) => no_ids(client, tenant),
            }
        }
        ("github_oidc", configured) => {
            let (client, tenant) = match configured {
                Some(CredentialSource::GithubOidc {
                    client_id,
                    tenant_id,
                    ..
                }) => (
                    client_id.as_ref().map(|t| t.as_str()),
                    tenant_id.as_ref().map(|t| t.as_str()),
                ),
                _ => (None, None),
            };
            unset(&[
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            ])
            .or_else(|| no_ids(client, tenant))
        }
        ("ci_federation", Some(CredentialSource::CiFederation { preset, .. })) => match preset {
            CiPreset::AzurePipelines { .. } => {
                unset(&["SYSTEM_OIDCREQUESTURI", "SYSTEM_ACCESSTOKEN"])
            }
            CiPreset::Gitlab { token_env } | CiPreset::GenericEnv { token_env } => {
                unset(&[token_env.as_str()])
            }
            CiPreset::GenericFile { .. } => None,
        },
        _ => None,
    }
}

/// What a variable's value comes from, without the value (with its
/// `field`, written as in dsops.yaml).
fn source_text(
    plan: &Plan,
    variable: &dsops::PlannedVariable,
) -> (String, &'static str, Option<String>) {
    let (mut text, kind, store) = fetch_text(plan, &variable.source);
    if let Some(path) = &variable.field {
        let names: Vec<String> = path
            .iter()
            .map(|name| name.replace('\\', "\\\\").replace('.', "\\."))
            .collect();
        // Control characters escaped: the names come from the file.
        let joined = names.join(".");
        let shown = dsops::config::report::one_line(&joined);
        text.push_str(&format!(", field {shown}"));
    }
    (text, kind, store)
}

/// What a source fetches.
fn fetch_text(plan: &Plan, source: &PlannedSource) -> (String, &'static str, Option<String>) {
    match source {
        PlannedSource::Literal(_) => ("(literal)".to_owned(), "literal", None),
        PlannedSource::Fetch(index) => match plan.fetches.get(*index) {
            Some(fetch) => {
                let (text, kind) = match &fetch.target {
                    FetchTarget::KeyVault { object, .. } => (
                        fetch.target.describe(),
                        match object {
                            KeyVaultObjectKind::Secret => "secret",
                            KeyVaultObjectKind::Certificate => "certificate",
                            KeyVaultObjectKind::Key => "key",
                        },
                    ),
                    FetchTarget::Token { scope } => {
                        (format!("access token for {}", scope.resource()), "token")
                    }
                    FetchTarget::Account { kind, value, .. } => (
                        fetch.target.describe(),
                        match (kind, value) {
                            (_, AccountValue::Sas(_)) => "storage_sas",
                            (AccountKind::Storage, _) => "storage_key",
                            (AccountKind::Cosmos, AccountValue::CosmosConnection { .. }) => {
                                "cosmosdb_connection_string"
                            }
                            (AccountKind::Cosmos, _) => "cosmosdb_key",
                        },
                    ),
                    FetchTarget::Sql { .. } => (fetch.target.describe(), "sql_connection_string"),
                    FetchTarget::Unsupported { kind } => ((*kind).to_owned(), "unsupported"),
                };
                (text, kind, Some(fetch.store.clone()))
            }
            None => ("(unknown)".to_owned(), "unsupported", None),
        },
    }
}

fn human(plan: &Plan, identities: &[StoreIdentity], online: bool) -> String {
    let identity_of = |store: &Option<String>| {
        store
            .as_ref()
            .and_then(|s| identities.iter().find(|i| i.store == *s))
            .map_or("-", StoreIdentity::kind)
    };
    let mut rows: Vec<[String; 5]> = vec![[
        "VARIABLE".to_owned(),
        "SOURCE".to_owned(),
        "STORE".to_owned(),
        "OPTIONAL".to_owned(),
        "IDENTITY".to_owned(),
    ]];
    for variable in &plan.variables {
        let (source, _, store) = source_text(plan, variable);
        rows.push([
            variable.name.clone(),
            source,
            store.clone().unwrap_or_else(|| "-".to_owned()),
            if variable.optional { "yes" } else { "no" }.to_owned(),
            identity_of(&store).to_owned(),
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = format!(
        "environment {}: {} {}, {} {}\n\n",
        plan.env,
        plan.variables.len(),
        if plan.variables.len() == 1 {
            "variable"
        } else {
            "variables"
        },
        plan.fetches.len(),
        if plan.fetches.len() == 1 {
            "fetch"
        } else {
            "fetches"
        },
    );
    for row in &rows {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if index + 1 < row.len() {
                line.push_str(&" ".repeat(width - cell.chars().count() + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    if !identities.is_empty() {
        text.push_str(if online {
            "\nidentities (--online: each store's chain was asked for a token, not shown):\n"
        } else {
            "\nidentities (offline guess from the environment variables; `--online` asks for a token):\n"
        });
        for identity in identities {
            text.push_str(&format!("  {}: {}\n", identity.store, identity.describe()));
        }
    }
    text
}

fn report_json(plan: &Plan, identities: &[StoreIdentity], online: bool) -> Value {
    let variables: Vec<Value> = plan
        .variables
        .iter()
        .map(|variable| {
            let (source, kind, store) = source_text(plan, variable);
            let identity = store
                .as_ref()
                .and_then(|s| identities.iter().find(|i| i.store == *s))
                .map(StoreIdentity::kind);
            json!({
                "name": variable.name,
                "source": source,
                "kind": kind,
                "store": store,
                "optional": variable.optional,
                "identity": identity,
            })
        })
        .collect();
    json!({
        "env": plan.env,
        "online": online,
        "ok": identities.iter().all(StoreIdentity::ok),
        "variables": variables,
        "stores": identities.iter().map(StoreIdentity::json).collect::<Vec<_>>(),
    })
}
