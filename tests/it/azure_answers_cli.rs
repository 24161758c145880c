//! Azure as it really answers (the emulator's models of Azure behaviours our
//! clients once got wrong), through the real `dsops` binary: Key Vault's
//! empty first pages and `:443` nextLinks under `doctor`, access-policy
//! vaults, ReadOnly locks, Cosmos DB accounts of each API and Cosmos DB's
//! errors without the `error` wrapper. Each test fails without its fix.

use dsops_emulator::testing::{
    Certificate, CosmosAccount, CosmosApi, Identity, LockLevel, PermissionModel, StateBuilder,
    StorageAccount,
};
use dsops_emulator::{Emulator, StateFile};

use crate::support::emulated::{emulator_cloud, emulator_with_dir};
use crate::support::harness::{Run, assert_contains, dsops, run};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUBSCRIPTION: &str = "00000000-0000-0000-0000-00000000c0de";
const CANARY: &str = "CANARY-azure-answers-5e1f0a";

/// An emulator with `state`, and a directory with its CA and a dsops.yaml
/// whose `production` environment is `vars` (indented 4), read by the VM's
/// system-assigned identity.
struct Setup {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(state: StateFile, vars: &str) -> Self {
        let (emulator, dir) = emulator_with_dir(state);
        let config = format!(
            "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    default_subscription: {SUBSCRIPTION}\n{}envs:\n  production:\n{vars}",
            emulator_cloud(&emulator)
        );
        std::fs::write(dir.path().join("dsops.yaml"), config).unwrap();
        Self { emulator, dir }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = dsops(self.dir.path());
        cmd.args(args).env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            self.emulator.http_url().unwrap(),
        );
        run(&mut cmd)
    }

    fn get(&self, var: &str) -> Run {
        self.run(&["get", "--env", "production", var])
    }

    fn vm(&self) -> String {
        self.emulator.identity("vm").unwrap().object_id
    }

    fn paths(&self, service: &str) -> Vec<String> {
        self.emulator
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.service == service)
            .map(|e| format!("{} {} {}", e.method, e.path, e.status))
            .collect()
    }
}

fn base() -> StateBuilder {
    StateBuilder::new()
        .tenant(TENANT)
        .subscription("Development", |s| s.id(SUBSCRIPTION))
        .system_identity("vm")
}

const SECRET_VAR: &str =
    "    DB_PASSWORD: { from: { store: azure, vault: dev-vault, secret: database-password } }\n";

#[test]
fn doctor_finds_a_secret_behind_empty_first_pages() {
    // Key Vault may answer a versions list with empty pages, each with a
    // nextLink naming the port, before the page that lists the version.
    let state = base()
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
                .paging(Some(1), 2)
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let out = setup.run(&["doctor", "--env", "production"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stdout,
        &["database-password exists (1 version listed)"],
    );
    assert!(!out.all_output().contains(CANARY));
    // Three pages: two empty, then the version.
    let listed = setup.paths("keyvault");
    assert!(
        listed
            .iter()
            .filter(|p| p.starts_with("GET /secrets/database-password/versions"))
            .count()
            >= 3,
        "{listed:?}"
    );
}

#[test]
fn an_access_policy_vault_gets_the_set_policy_command() {
    // The VM has a Key Vault role, which an access-policy vault ignores;
    // the policy is for someone else (an object id outside the state).
    let state = base()
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
                .permission_model(PermissionModel::AccessPolicy)
                .access_policy(
                    "0a1b2c3d-0000-4000-8000-00000000abcd",
                    &["get", "list"],
                    &[],
                    &[],
                )
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let oid = setup.vm();

    let out = setup.get("DB_PASSWORD");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stderr,
        &[
            "AccessDenied",
            "does not have secrets get permission",
            &format!(
                "az keyvault set-policy --name dev-vault --object-id {oid} --secret-permissions get"
            ),
        ],
    );
    assert!(
        !out.stderr.contains("az role assignment create"),
        "{}",
        out.stderr
    );

    let out = setup.run(&["doctor", "--env", "production"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stdout,
        &[
            "403 AccessDenied",
            &format!(
                "az keyvault set-policy --name dev-vault --object-id {oid} --secret-permissions get list"
            ),
        ],
    );
    assert!(
        !out.stdout.contains("az role assignment create"),
        "{}",
        out.stdout
    );
    assert!(!out.all_output().contains(CANARY));
}

#[test]
fn an_access_policy_that_grants_reads_reads() {
    let state = base()
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
                .permission_model(PermissionModel::AccessPolicy)
                .access_policy("vm", &["get", "list"], &[], &[])
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let out = setup.get("DB_PASSWORD");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{CANARY}\n"));
}

fn cosmos(api: CosmosApi) -> StateFile {
    cosmos_state(api).build()
}

fn cosmos_state(api: CosmosApi) -> StateBuilder {
    base()
        .subscription("Development", |s| {
            s.resource_group("rg-app", |rg| {
                rg.cosmosdb_account(
                    "docs",
                    CosmosAccount::new()
                        .primary("PRIMARY-KEY-canary")
                        .primary_readonly("READONLY-KEY-canary")
                        .api(api),
                )
            })
        })
        .grant("vm", "DocumentDB Account Contributor", "cosmosdb:docs")
        .grant("vm", "Reader", "subscription:Development")
}

#[test]
fn a_cosmos_connection_string_is_the_sql_one_unless_the_reference_names_an_api() {
    // A Table account lists its Table strings first, then the SQL ones.
    let vars = "    SQL: { from: { store: azure, resource_type: cosmosdb, account: docs, format: connection_string } }\n    TABLE: { from: { store: azure, resource_type: cosmosdb, account: docs, format: connection_string, api: table } }\n";
    let setup = Setup::new(cosmos(CosmosApi::Table), vars);
    let out = setup.get("SQL");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "AccountEndpoint=https://docs.documents.azure.com:443/;AccountKey=PRIMARY-KEY-canary;"
        ),
        "{}",
        out.stdout
    );
    let out = setup.get("TABLE");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("DefaultEndpointsProtocol=https;AccountName=docs;AccountKey=PRIMARY-KEY-canary;TableEndpoint="),
        "{}",
        out.stdout
    );
}

#[test]
fn a_mongodb_account_has_no_sql_connection_string() {
    let vars = "    SQL: { from: { store: azure, resource_type: cosmosdb, account: docs, format: connection_string } }\n    MONGO: { from: { store: azure, resource_type: cosmosdb, account: docs, format: connection_string, api: mongodb } }\n";
    let setup = Setup::new(cosmos(CosmosApi::MongoDb), vars);
    let out = setup.get("SQL");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert_contains(
        &out.stderr,
        &[
            "no Sql connection string, only MongoDB ones",
            "api: mongodb",
        ],
    );
    assert!(!out.stderr.contains("PRIMARY-KEY-canary"), "{}", out.stderr);
    let out = setup.get("MONGO");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("mongodb://docs:PRIMARY-KEY-canary@"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_validates_the_cosmos_api() {
    let setup = Setup::new(
        cosmos(CosmosApi::Sql),
        "    A: { from: { store: azure, resource_type: cosmosdb, account: docs, format: connection_string, api: mongo } }\n    B: { from: { store: azure, resource_type: cosmosdb, account: docs, key: primary, api: table } }\n",
    );
    let out = setup.run(&["check"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let all = out.all_output();
    assert_contains(
        &all,
        &[
            "`mongo` is not a valid Cosmos DB API",
            "did you mean `mongodb`?",
            "`api` chooses a connection string",
        ],
    );
}

#[test]
fn a_read_only_lock_is_named_and_read_only_keys_are_still_read() {
    let state = cosmos_state(CosmosApi::Sql)
        .lock("freeze", "resource_group:rg-app", LockLevel::ReadOnly)
        .build();
    let vars = "    FULL: { from: { store: azure, resource_type: cosmosdb, account: docs, key: primary } }\n    READ: { from: { store: azure, resource_type: cosmosdb, account: docs, key: primary_readonly } }\n";
    let setup = Setup::new(state, vars);
    let out = setup.get("FULL");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stderr,
        &[
            "ScopeLocked",
            "a ReadOnly lock ('freeze') on /subscriptions/",
            "az lock list --scope /subscriptions/",
            "key: primary_readonly",
        ],
    );
    assert!(!out.all_output().contains("PRIMARY-KEY-canary"));
    // listReadOnlyKeys is a POST too; the GET that Azure also serves is not
    // refused by the lock.
    let out = setup.get("READ");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "READONLY-KEY-canary\n");
    let arm = setup.paths("arm");
    assert!(
        arm.iter().any(|p| p.ends_with("/listReadOnlyKeys 409")),
        "{arm:?}"
    );
    assert!(
        arm.iter().any(|p| p.ends_with("/readonlykeys 200")),
        "{arm:?}"
    );
}

#[test]
fn cosmos_errors_without_the_error_wrapper_are_read() {
    // The account is not in the resource group: Cosmos DB's resource
    // provider answers `{"code","message"}` at the top level.
    let vars = "    K: { from: { store: azure, resource_type: cosmosdb, account: nodocs, resource_group: rg-app, key: primary } }\n";
    // A role on the resource group: ARM lets the request through to the
    // resource provider.
    let state = cosmos_state(CosmosApi::Sql)
        .grant(
            "vm",
            "DocumentDB Account Contributor",
            "resource_group:rg-app",
        )
        .build();
    let setup = Setup::new(state, vars);
    let out = setup.get("K");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stderr,
        &["NotFound", "Database account 'nodocs' was not found"],
    );
    assert!(!out.stderr.contains("HTTP 404"), "{}", out.stderr);
}

#[test]
fn certificates_carry_their_validity_and_expired_ones_are_refused() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let day = 86_400;
    let state = base()
        .grant("vm", "Key Vault Certificate User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .certificate("current", Certificate::new().pem())
                .certificate(
                    "expired",
                    Certificate::new()
                        .pem()
                        .validity(now - 400 * day, now - 30 * day),
                )
                .certificate(
                    "future",
                    Certificate::new()
                        .pem()
                        .validity(now + 30 * day, now + 400 * day),
                )
        })
        .build();
    let cert = |name: &str| {
        format!(
            "    {}: {{ from: {{ store: azure, vault: dev-vault, secret: {name}, type: certificate }} }}\n",
            name.to_uppercase()
        )
    };
    let vars = format!("{}{}{}", cert("current"), cert("expired"), cert("future"));
    let setup = Setup::new(state, &vars);
    let out = setup.get("CURRENT");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("-----BEGIN CERTIFICATE-----"),
        "{}",
        out.stdout
    );
    let out = setup.get("EXPIRED");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert_contains(&out.stderr, &["it expired at"]);
    let out = setup.get("FUTURE");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stderr, &["it is not valid before"]);
    assert!(!out.all_output().contains("PRIVATE KEY"));
}

#[test]
fn imds_uses_the_only_user_assigned_identity_and_doctor_warns() {
    // No system-assigned identity, one user-assigned: IMDS answers for it.
    let state = StateBuilder::new()
        .tenant(TENANT)
        .subscription("Development", |s| s.id(SUBSCRIPTION))
        .user_identity("worker", "11111111-2222-3333-4444-555555555555")
        .grant("worker", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let out = setup.get("DB_PASSWORD");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{CANARY}\n"));
    let out = setup.run(&["doctor", "--env", "production"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stdout,
        &[
            "warning: store azure asks for the system-assigned identity, but the token is of the user-assigned identity /subscriptions/",
            "userAssignedIdentities/worker",
        ],
    );
    let json = setup.run(&["doctor", "--env", "production", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        doc["stores"][0]["identity_warning"]
            .as_str()
            .is_some_and(|w| w.contains("userAssignedIdentities/worker")),
        "{}",
        json.stdout
    );
    assert!(!out.all_output().contains(CANARY));
}

#[test]
fn doctor_does_not_warn_when_the_system_assigned_token_names_its_vm() {
    // A system-assigned identity's token carries the VM's own resource id in
    // `xms_mirid`: that is no user-assigned identity.
    let vm_id = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm"
    );
    let state = StateBuilder::new()
        .tenant(TENANT)
        .subscription("Development", |s| s.id(SUBSCRIPTION))
        .identity("vm", Identity::system_assigned().resource_id(vm_id))
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let out = setup.run(&["doctor", "--env", "production"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("warning:"), "{}", out.stdout);
    assert!(!out.all_output().contains(CANARY));
}

#[test]
fn imds_refuses_to_choose_among_several_user_assigned_identities() {
    let state = StateBuilder::new()
        .tenant(TENANT)
        .subscription("Development", |s| s.id(SUBSCRIPTION))
        .user_identity("worker", "11111111-2222-3333-4444-555555555555")
        .user_identity("other", "66666666-2222-3333-4444-555555555555")
        .grant("worker", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let out = setup.get("DB_PASSWORD");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stderr, &["Multiple user assigned identities exist"]);
}

#[test]
fn arm_refuses_before_it_says_an_account_is_missing() {
    // No role on the resource group: a misspelt account is 403, not 404,
    // as ARM authorizes the request before it looks the resource up.
    let state = base()
        .subscription("Development", |s| {
            s.resource_group("rg-app", |rg| {
                rg.cosmosdb_account("docs", CosmosAccount::new())
            })
        })
        .grant("vm", "DocumentDB Account Contributor", "cosmosdb:docs")
        .build();
    let vars = "    K: { from: { store: azure, resource_type: cosmosdb, account: doks, resource_group: rg-app, key: primary } }\n";
    let setup = Setup::new(state, vars);
    let out = setup.get("K");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stderr,
        &["403", "AuthorizationFailed", "databaseAccounts/doks"],
    );
    assert!(!out.stderr.contains("NotFound"), "{}", out.stderr);
}

#[test]
fn arm_lists_are_followed_through_their_skiptoken_pages() {
    // One item a page: the account is on the third page of the second
    // subscription, which is on the second page of the subscriptions.
    let state = StateBuilder::new()
        .tenant(TENANT)
        .subscription("First", |s| s.id("00000000-0000-0000-0000-0000000000f1"))
        .subscription("Second", |s| {
            s.id("00000000-0000-0000-0000-0000000000f2")
                .resource_group("rg-data", |rg| {
                    rg.storage_account("alpha", StorageAccount::new())
                        .storage_account("beta", StorageAccount::new())
                        .storage_account("gamma", StorageAccount::new().key1("GAMMA-KEY-canary"))
                })
        })
        .system_identity("vm")
        .grant("vm", "Reader", "subscription:First")
        .grant("vm", "Reader and Data Access", "subscription:Second")
        .arm_page_size(1)
        .build();
    let (emulator, dir) = emulator_with_dir(state);
    std::fs::write(
        dir.path().join("dsops.yaml"),
        format!(
            "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n{}envs:\n  production:\n    KEY: {{ from: {{ store: azure, resource_type: storage, account: gamma, key: key1 }} }}\n",
            emulator_cloud(&emulator)
        ),
    )
    .unwrap();
    let mut cmd = dsops(dir.path());
    cmd.args(["get", "--env", "production", "KEY"]).env(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        emulator.http_url().unwrap(),
    );
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "GAMMA-KEY-canary\n");
    let listed = emulator
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.service == "arm" && e.method == "GET")
        .count();
    // 2 pages of subscriptions, 1 (empty) of the first's accounts, 3 of the second's.
    assert!(listed >= 6, "{listed} lists");
}

#[test]
fn odbc_names_the_identity_by_object_id_on_imds_and_by_client_id_on_app_service() {
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
    let state = StateBuilder::new()
        .tenant(TENANT)
        .subscription("Development", |s| s.id(SUBSCRIPTION))
        .user_identity("worker", CLIENT)
        .build();
    let (emulator, dir) = emulator_with_dir(state);
    let object_id = emulator.identity("worker").unwrap().object_id;
    std::fs::write(
        dir.path().join("dsops.yaml"),
        format!(
            "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    identity: {{ type: user_assigned, client_id: {CLIENT} }}\n{}envs:\n  production:\n    ODBC: {{ from: {{ store: azure, resource_type: sql, server: myserver, database: orders, format: connection_string, dialect: odbc }} }}\n    JDBC: {{ from: {{ store: azure, resource_type: sql, server: myserver, database: orders, format: connection_string, dialect: jdbc }} }}\n",
            emulator_cloud(&emulator)
        ),
    )
    .unwrap();
    let get = |var: &str, env: &[(&str, String)]| {
        let mut cmd = dsops(dir.path());
        cmd.args(["get", "--env", "production", var]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd)
    };
    // IMDS: ODBC's UID is the object id (read from the token's oid).
    let imds = [(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        emulator.http_url().unwrap(),
    )];
    let out = get("ODBC", &imds);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.ends_with(&format!("UID={object_id};\n")),
        "{}",
        out.stdout
    );
    // JDBC keeps the client id.
    let out = get("JDBC", &imds);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.ends_with(&format!("msiClientId={CLIENT}\n")),
        "{}",
        out.stdout
    );
    // App Service: the client id.
    let app_service = [
        (
            "IDENTITY_ENDPOINT",
            format!("{}/msi/token", emulator.http_url().unwrap()),
        ),
        ("IDENTITY_HEADER", emulator.identity_header().to_owned()),
    ];
    let out = get("ODBC", &app_service);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.ends_with(&format!("UID={CLIENT};\n")),
        "{}",
        out.stdout
    );
}

#[test]
fn a_firewalled_vault_gets_the_network_rule_hint() {
    let state = base()
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("database-password", CANARY)
                .firewall(&["203.0.113.7"])
        })
        .build();
    let setup = Setup::new(state, SECRET_VAR);
    let out = setup.get("DB_PASSWORD");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stderr,
        &[
            "ForbiddenByFirewall",
            "Client address is not authorized",
            "az keyvault network-rule add --name dev-vault",
        ],
    );
    assert!(
        !out.stderr.contains("az role assignment create"),
        "{}",
        out.stderr
    );
    let out = setup.run(&["doctor", "--env", "production"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_contains(
        &out.stdout,
        &[
            "403 ForbiddenByFirewall",
            "az keyvault network-rule add --name dev-vault",
        ],
    );
    assert!(!out.all_output().contains(CANARY));
}
