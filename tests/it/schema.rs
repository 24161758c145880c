//! The JSON Schema that `dsops schema` prints, for editors: it accepts what
//! the decoder accepts, and rejects what the decoder rejects, on the seed
//! page's examples and on small documents made for the purpose.

use jsonschema::Validator;
use serde_json::Value;

use crate::support::harness::{self, load_check};
use crate::support::seed_page::{as_config, yaml_blocks};
use dsops::config::schema::JSON_SCHEMA;

fn schema() -> Value {
    serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON")
}

fn validator() -> Validator {
    jsonschema::draft7::new(&schema()).expect("the schema compiles")
}

/// YAML as the JSON an editor validates.
fn json_of(yaml: &str) -> Value {
    serde_saphyr::from_str::<Value>(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

/// The schema's complaints about `yaml`, one line each.
fn schema_errors(validator: &Validator, yaml: &str) -> Vec<String> {
    let instance = json_of(yaml);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The decoder's error codes for `yaml`, as `dsops check` loads it.
fn decoder_errors(yaml: &str) -> Vec<String> {
    load_check("dsops.yaml", yaml, &[])
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

const STORE: &str = "secretStores:\n  azure:\n    type: azure.managed_identity\n";

/// A file with the page's `azure` store and one variable `VAR` whose `from` is `from`.
fn with_from(from: &str) -> String {
    format!("{STORE}envs:\n  production:\n    VAR:\n      from: {from}\n")
}

/// A file with one store of body `store` (indented under `azure:`) that one variable uses.
fn with_store(store: &str) -> String {
    let store: String = store.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "secretStores:\n  azure:\n{store}envs:\n  production:\n    VAR:\n      from: {{ store: azure, vault: my-vault, secret: s }}\n"
    )
}

#[test]
fn the_schema_is_a_valid_draft_07_schema() {
    let schema = schema();
    if let Err(e) = jsonschema::draft7::meta::validate(&schema) {
        panic!("{}: {e}", e.instance_path());
    }
    validator();
}

#[test]
fn dsops_schema_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = harness::run(harness::dsops(dir.path()).arg("schema"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, JSON_SCHEMA);
    assert_eq!(run.stderr, "");
}

#[test]
fn every_seed_example_is_valid() {
    let validator = validator();
    let mut checked = 0;
    for example in yaml_blocks() {
        let Some(config) = as_config(&example) else {
            continue;
        };
        let errors = schema_errors(&validator, &config);
        assert!(
            errors.is_empty(),
            "{}:\n{}\n{config}",
            example.heading,
            errors.join("\n")
        );
        checked += 1;
    }
    assert_eq!(checked, 23, "every dsops example on the page");
}

/// Files the decoder accepts, exercising every key: the schema accepts them too.
const VALID: &[(&str, &str)] = &[
    (
        "every store knob",
        "version: 1
secretStores:
  azure:
    type: azure.managed_identity
    tenant_id: contoso.onmicrosoft.com
    identity:
      type: user_assigned
      client_id: ${CLIENT_ID}
    cloud:
      base: AzureCloud
      authority_host: http://127.0.0.1:8080
      resource_manager: https://management.azure.com/
      keyvault_dns_suffix: vault.localhost:8443
      storage_dns_suffix: .core.windows.net
      sql_dns_suffix: database.windows.net
      cosmos_dns_suffix: documents.azure.com
      ca_bundle: ./ca.pem
    default_subscription: 12345678-1234-1234-1234-123456789012
    resources:
      - type: storage
        name: mystorageaccount
        subscription: ${SUB:-12345678-1234-1234-1234-123456789012}
        resource_group: my-rg.(prod)
      - type: cosmosdb
        name: my-cosmos
    cache:
      token_cache: { enabled: true, buffer: 5m }
      secret_cache: { enabled: false, ttl: \"600\" }
    performance: { max_concurrent: 256 }
    debug: { enabled: true, log_tokens: false, log_requests: true, trace_identity: false }
    fallback:
      - type: managed_identity
      - type: azure_cli
        tenant_id: 12345678-1234-1234-1234-123456789012
      - type: service_principal
        client_id: ${AZURE_CLIENT_ID}
        client_secret: ${AZURE_CLIENT_SECRET}
        tenant_id: ${AZURE_TENANT_ID}
      - type: environment
        client_id_env: MY_ID
      - type: workload_identity
        token_file: /var/run/token
      - type: github_oidc
        audience: api://AzureADTokenExchange
envs:
  production:
    VAR:
      from: { store: azure, vault: my-vault, secret: s }
",
    ),
    (
        "every from form and literal",
        "secretStores:
  azure:
    type: azure.managed_identity
envs:
  production:
    PORT: 8080
    DEBUG: false
    NAME: plain text
    KV:
      optional: true
      from: { store: azure, vault: https://my-vault.vault.azure.net/, secret: 0x1F, version: 0123456789abcdef0123456789ABCDEF, type: key }
    KV_URL_VAR:
      from: { store: azure, vault: \"${VAULT_URL}\", secret: \"${SECRET_NAME}\" }
    STORAGE:
      from: { store: azure, resource_type: storage, account: abc123, key: key2, resource_group: rg, subscription: 12345678-1234-1234-1234-123456789012 }
    SAS:
      from:
        store: azure
        resource_type: storage
        account: abc123
        operation: generate_sas
        permissions: rwdl
        expiry: 1h30m
        start: -15m
        services: bf
        resource_types: sco
        ip: 203.0.113.0-203.0.113.255
        protocol: https,http
    SAS_SECONDS:
      from: { store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r, expiry: 3600, start: -900 }
    SQL:
      from: { store: azure, resource_type: sql, server: \"tcp:myserver.database.windows.net,1433\", database: my db, dialect: jdbc }
    COSMOS:
      from: { store: azure, resource_type: cosmosdb, account: my-cosmos, key: secondary_readonly, format: connection_string }
    TOKEN:
      from: { store: azure, operation: get_token, resource: api://my-app }
    TOKEN_DEFAULT:
      from: { store: azure, operation: get_token, resource: https://graph.microsoft.com/.default }
",
    ),
    (
        "a key vault store takes its tenant and vault from the store",
        "secretStores:
  sp:
    type: azure.keyvault
    tenant_id: 12345678-1234-1234-1234-123456789012
    vault_name: mykeyvault
    auth:
      client_id: ${AZURE_CLIENT_ID}
      client_secret: ${AZURE_CLIENT_SECRET}
envs:
  production:
    VAR:
      from: { store: sp, secret: s }
",
    ),
    (
        "empty sections",
        "secretStores:
  azure:
    type: azure.managed_identity
    identity:
    cloud:
    cache:
      token_cache:
    performance:
    debug:
    resources:
envs:
  production:
    VAR:
      from: { store: azure, vault: my-vault, secret: s }
  staging:
",
    ),
    (
        "a named cloud",
        "secretStores:\n  azure:\n    type: azure.managed_identity\n    cloud: us_government\nenvs:\n  production:\n    VAR:\n      from: { store: azure, vault: my-vault, secret: s }\n",
    ),
    (
        "an identity named by its resource id",
        "secretStores:\n  azure:\n    type: azure.managed_identity\n    identity:\n      resource_id: /subscriptions/12345678-1234-1234-1234-123456789012/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id\nenvs:\n  production:\n    VAR:\n      from: { store: azure, vault: my-vault, secret: s }\n",
    ),
    (
        "a service principal using the store's tenant, and an explicit Key Vault resource type",
        "secretStores:\n  azure:\n    type: azure.managed_identity\n    tenant_id: contoso.onmicrosoft.com\n    fallback:\n      - type: service_principal\n        client_id: ${ID}\n        client_secret: ${SECRET}\nenvs:\n  production:\n    VAR:\n      from: { store: azure, resource_type: keyvault, vault: my-vault, secret: s }\n",
    ),
];

#[test]
fn files_the_decoder_accepts_are_valid() {
    let validator = validator();
    for (name, yaml) in VALID {
        let decoder = decoder_errors(yaml);
        assert!(decoder.is_empty(), "{name}: the decoder says {decoder:?}");
        let errors = schema_errors(&validator, yaml);
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
    }
}

/// Files the decoder rejects: the schema rejects them too.
fn invalid() -> Vec<(&'static str, String)> {
    vec![
        (
            "unknown key in from",
            with_from("{ store: azure, vault: my-vault, secret: s, secrte: t }"),
        ),
        (
            "a key of another form",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, key: key1, type: secret }",
            ),
        ),
        (
            "log_tokens: true",
            with_store("type: azure.managed_identity\ndebug:\n  log_tokens: true"),
        ),
        (
            "identity in a key vault store",
            with_store(
                "type: azure.keyvault\nidentity:\n  type: system_assigned\nauth:\n  client_id: ${ID}\n  client_secret: ${SECRET}\n  tenant_id: ${TENANT}",
            ),
        ),
        (
            "auth in a managed identity store",
            with_store(
                "type: azure.managed_identity\nauth:\n  client_id: ${ID}\n  client_secret: ${SECRET}\n  tenant_id: ${TENANT}",
            ),
        ),
        (
            "a key vault store without auth",
            with_store("type: azure.keyvault"),
        ),
        (
            "auth without a tenant anywhere",
            with_store(
                "type: azure.keyvault\nauth:\n  client_id: ${ID}\n  client_secret: ${SECRET}",
            ),
        ),
        (
            "an unknown store type",
            with_store("type: aws.secretsmanager"),
        ),
        (
            "a store without type",
            with_store("tenant_id: contoso.onmicrosoft.com"),
        ),
        (
            "a system-assigned identity with an id",
            with_store(
                "type: azure.managed_identity\nidentity:\n  type: system_assigned\n  client_id: 12345678-1234-1234-1234-123456789012",
            ),
        ),
        (
            "a user-assigned identity without an id",
            with_store("type: azure.managed_identity\nidentity:\n  type: user_assigned"),
        ),
        (
            "a client id that is not a GUID",
            with_store("type: azure.managed_identity\nidentity:\n  client_id: my-app"),
        ),
        (
            "an empty fallback",
            with_store("type: azure.managed_identity\nfallback: []"),
        ),
        (
            "a service principal fallback without tenant",
            with_store(
                "type: azure.managed_identity\nfallback:\n  - type: service_principal\n    client_id: ${ID}\n    client_secret: ${SECRET}",
            ),
        ),
        (
            "a fallback key of another type",
            with_store(
                "type: azure.managed_identity\nfallback:\n  - type: azure_cli\n    client_id: ${ID}",
            ),
        ),
        (
            "an interpolated variable name",
            with_store(
                "type: azure.managed_identity\nfallback:\n  - type: environment\n    client_id_env: ${AZURE_CLIENT_ID}",
            ),
        ),
        (
            "max_concurrent 0",
            with_store("type: azure.managed_identity\nperformance:\n  max_concurrent: 0"),
        ),
        (
            "max_concurrent 257",
            with_store("type: azure.managed_identity\nperformance:\n  max_concurrent: 257"),
        ),
        (
            "an unknown cloud",
            with_store("type: azure.managed_identity\ncloud: mars"),
        ),
        (
            "plain http to a remote endpoint",
            with_store(
                "type: azure.managed_identity\ncloud:\n  authority_host: http://login.example.com",
            ),
        ),
        (
            "a region with capitals",
            with_store("type: azure.managed_identity\npreferred_regions: [East US]"),
        ),
        (
            "version 2",
            format!(
                "version: 2\n{}",
                with_from("{ store: azure, vault: my-vault, secret: s }")
            ),
        ),
        (
            "an unknown top-level key",
            format!(
                "secretstores: {{}}\n{}",
                with_from("{ store: azure, vault: my-vault, secret: s }")
            ),
        ),
        (
            "a variable name with a hyphen",
            format!("{STORE}envs:\n  production:\n    MY-VAR: x\n"),
        ),
        (
            "a variable with optional but no from",
            format!("{STORE}envs:\n  production:\n    VAR:\n      optional: true\n"),
        ),
        (
            "a variable that is a list",
            format!("{STORE}envs:\n  production:\n    VAR: [a, b]\n"),
        ),
        (
            "a Key Vault reference without secret",
            with_from("{ store: azure, vault: my-vault }"),
        ),
        (
            "a bad secret name",
            with_from("{ store: azure, vault: my-vault, secret: my_secret }"),
        ),
        (
            "a bad vault name",
            with_from("{ store: azure, vault: my--vault, secret: s }"),
        ),
        (
            "an unknown object type",
            with_from("{ store: azure, vault: my-vault, secret: s, type: blob }"),
        ),
        (
            "generate_sas without resource_type",
            with_from(
                "{ store: azure, account: abc123, operation: generate_sas, permissions: r, expiry: 1h }",
            ),
        ),
        (
            "get_token with resource_type",
            with_from(
                "{ store: azure, resource_type: storage, operation: get_token, resource: https://vault.azure.net }",
            ),
        ),
        (
            "a token for plain http",
            with_from("{ store: azure, operation: get_token, resource: http://example.com }"),
        ),
        (
            "a storage reference without key",
            with_from("{ store: azure, resource_type: storage, account: abc123 }"),
        ),
        (
            "a Cosmos DB key on a storage account",
            with_from("{ store: azure, resource_type: storage, account: abc123, key: primary }"),
        ),
        (
            "a storage account with capitals",
            with_from("{ store: azure, resource_type: storage, account: MyAccount, key: key1 }"),
        ),
        (
            "a SAS without expiry",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r }",
            ),
        ),
        (
            "a SAS that expires at once",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r, expiry: 0m }",
            ),
        ),
        (
            "a SAS start in the future",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r, expiry: 1h, start: 15m }",
            ),
        ),
        (
            "a SAS permission letter that does not exist",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: rz, expiry: 1h }",
            ),
        ),
        (
            "a SAS protocol that does not exist",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r, expiry: 1h, protocol: http }",
            ),
        ),
        (
            "a SAS for an IP that is not one",
            with_from(
                "{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r, expiry: 1h, ip: 300.1.1.1 }",
            ),
        ),
        (
            "a SQL reference without database",
            with_from("{ store: azure, resource_type: sql, server: s.database.windows.net }"),
        ),
        (
            "a SQL dialect that does not exist",
            with_from(
                "{ store: azure, resource_type: sql, server: s.database.windows.net, database: d, dialect: oledb }",
            ),
        ),
        (
            "a Cosmos DB reference with neither key nor format",
            with_from("{ store: azure, resource_type: cosmosdb, account: my-cosmos }"),
        ),
        (
            "a from without store",
            with_from("{ vault: my-vault, secret: s }"),
        ),
    ]
}

#[test]
fn files_the_decoder_rejects_are_invalid() {
    let validator = validator();
    for (name, yaml) in invalid() {
        assert!(
            !decoder_errors(&yaml).is_empty(),
            "{name}: the decoder accepts it\n{yaml}"
        );
        assert!(
            !schema_errors(&validator, &yaml).is_empty(),
            "{name}: the schema accepts it\n{yaml}"
        );
    }
}

#[test]
fn durations_are_read_as_the_decoder_reads_them() {
    let validator = validator();
    let cases = [
        "300", "\"300\"", "90s", "15m", "24h", "7d", "1h30m", "1d2h3m4s", "\" 5m \"", "0", "\"\"",
        "h", "24x", "1m1h", "1h1h", "-5", "-5m", "1.5h", "1.5", "true",
    ];
    for duration in cases {
        let yaml = with_store(&format!(
            "type: azure.managed_identity\ncache:\n  secret_cache:\n    ttl: {duration}"
        ));
        let decoder_ok = decoder_errors(&yaml).is_empty();
        let schema_ok = schema_errors(&validator, &yaml).is_empty();
        assert_eq!(
            schema_ok, decoder_ok,
            "`ttl: {duration}`: the schema says {schema_ok}, the decoder {decoder_ok}"
        );
    }
    for start in ["-15m", "-900", "\"-1h30m\"", "15m", "900", "-1.5", "-x"] {
        let yaml = with_from(&format!(
            "{{ store: azure, resource_type: storage, account: abc123, operation: generate_sas, permissions: r, expiry: 1h, start: {start} }}"
        ));
        let decoder_ok = decoder_errors(&yaml).is_empty();
        let schema_ok = schema_errors(&validator, &yaml).is_empty();
        assert_eq!(
            schema_ok, decoder_ok,
            "`start: {start}`: the schema says {schema_ok}, the decoder {decoder_ok}"
        );
    }
}

#[test]
fn interpolation_is_never_refused_by_a_shape() {
    let validator = validator();
    // Every field with a shape, given `${NAME}` where the decoder interpolates.
    let yaml = "secretStores:
  azure:
    type: azure.managed_identity
    tenant_id: ${TENANT}
    default_subscription: ${SUB}
    identity:
      client_id: ${CLIENT}
      object_id: ${OBJECT}
      resource_id: ${RESOURCE_ID}
    cloud:
      authority_host: ${AUTHORITY}
      keyvault_dns_suffix: ${KV_SUFFIX}
    resources:
      - { type: keyvault, name: \"${VAULT}\" }
      - { type: storage, name: \"${ACCOUNT}\", resource_group: \"${RG}\" }
      - { type: sql, name: \"${SERVER}\" }
      - { type: cosmosdb, name: \"${COSMOS}\" }
    preferred_regions: [\"${REGION}\"]
envs:
  production:
    KV:
      from: { store: \"${STORE}\", vault: \"${VAULT}\", secret: \"${SECRET}\", version: \"${VERSION}\" }
    SAS:
      from: { store: azure, resource_type: storage, account: \"${ACCOUNT}\", operation: generate_sas, permissions: \"${PERMS}\", expiry: 1h, services: \"${S}\", resource_types: \"${RT}\", ip: \"${IP}\" }
    SQL:
      from: { store: azure, resource_type: sql, server: \"${SERVER}\", database: \"${DB}\" }
    COSMOS:
      from: { store: azure, resource_type: cosmosdb, account: \"${COSMOS}\", key: primary }
    TOKEN:
      from: { store: azure, operation: get_token, resource: \"${RESOURCE}\" }
";
    let errors = schema_errors(&validator, yaml);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
