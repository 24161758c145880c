//! Every `from:` form of the seed page through `#[dsops::env]`: the code
//! compiles with the right field types, the test constructor and `from_env`
//! work offline, and `resolve_with` fetches every value from the emulator,
//! in this process, through managed identity (IMDS). Nothing leaves
//! loopback: every endpoint of the configuration is the emulator's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use dsops::{AccessToken, Certificate, ErrorKind, Jwk, ResolveOptions, Sas};
use dsops::{ExposeSecret, SecretString};
use dsops_emulator::testing::seed;
use dsops_emulator::{Emulator, Options};

/// Every form of the seed page.
#[dsops::env("production", path = "tests/fixtures/forms.yaml")]
#[derive(Clone)]
pub struct Forms;

/// The main vault's name in tests/fixtures/forms.yaml.
const VAULT: &str = "my-keyvault";

/// The field types, checked by the compiler.
fn types(forms: &Forms) {
    let _: &SecretString = &forms.api_key;
    let _: &Certificate = &forms.tls_cert;
    let _: &Jwk = &forms.encryption_key;
    let _: &SecretString = &forms.storage_key;
    let _: &Sas = &forms.storage_sas;
    let _: &SecretString = &forms.sql_connection;
    let _: &SecretString = &forms.cosmos_key;
    let _: &SecretString = &forms.cosmos_connection;
    let _: &SecretString = &forms.shared_secret;
    let _: &AccessToken = &forms.aad_token;
    let _: &AccessToken = &forms.custom_api_token;
    let _: &AccessToken = &forms.graph_token;
    let _: &Option<SecretString> = &forms.feature_flags;
    let _: &Option<Certificate> = &forms.optional_cert;
    let _: &String = &forms.log_level;
    let _: &String = &forms.r#type;
}

#[test]
fn the_test_constructor_fills_what_is_not_given() {
    let forms = Forms::for_tests([("API_KEY", "given"), ("LOG_LEVEL", "debug")]).unwrap();
    types(&forms);
    assert_eq!(forms.api_key.expose_secret(), "given");
    assert_eq!(forms.log_level, "debug");
    assert_eq!(forms.storage_key.expose_secret(), "dsops-test-STORAGE_KEY");
    assert_eq!(forms.r#type, "batch", "as written in the file");
    assert_eq!(forms.tls_cert.chain().len(), 1);
    assert_eq!(
        forms.encryption_key.kid(),
        Some("dsops-test-ENCRYPTION_KEY")
    );
    assert_eq!(forms.graph_token.expires_on(), None);
    assert_eq!(
        forms.storage_sas.expires_on(),
        None,
        "a stand-in has no `se`"
    );
    assert!(forms.feature_flags.is_none());
    assert!(forms.optional_cert.is_none());
    assert_eq!(Forms::ENVIRONMENT, "production");

    let err = Forms::for_tests([("API_KEYS", "typo")]).unwrap_err();
    assert!(err.to_string().contains("did you mean `API_KEY`?"), "{err}");
    let err = Forms::for_tests([("TLS_CERT", "not pem"), ("ENCRYPTION_KEY", "{}")]).unwrap_err();
    assert_eq!(err.fields().len(), 2, "{err}");
}

#[test]
fn debug_redacts_every_value() {
    let forms = Forms::for_tests([
        ("API_KEY", "canary-api-key"),
        ("LOG_LEVEL", "canary-literal"),
        ("FEATURE_FLAGS", "canary-flags"),
        ("GRAPH_TOKEN", "canary-token"),
        (
            "STORAGE_SAS",
            "sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00%3A00%3A00Z&spr=https&sig=canary-sig",
        ),
    ])
    .unwrap();
    let debug = format!("{forms:?}");
    assert!(!debug.contains("canary"), "{debug}");
    assert!(
        debug.contains("storage_sas: Sas { token: [redacted], expires_on: Some("),
        "{debug}"
    );
    // The expiry is the token's own `se`.
    assert_eq!(
        forms.storage_sas.expires_on(),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000))
    );
    assert!(!forms.storage_sas.is_expired());
    assert!(
        debug.starts_with("Forms { api_key: [redacted], tls_cert: Certificate {"),
        "{debug}"
    );
    assert!(debug.contains("feature_flags: Some([redacted])"), "{debug}");
    assert!(debug.contains("optional_cert: None"), "{debug}");
    assert!(debug.contains("type: [redacted]"), "{debug}");
    // `#[derive(Clone)]` on the struct is kept.
    let copy = forms.clone();
    assert_eq!(copy.api_key.expose_secret(), "canary-api-key");
}

#[test]
fn from_env_lists_every_missing_variable() {
    let required = [
        "API_KEY",
        "TLS_CERT",
        "ENCRYPTION_KEY",
        "STORAGE_KEY",
        "STORAGE_SAS",
        "SQL_CONNECTION",
        "COSMOS_KEY",
        "COSMOS_CONNECTION",
        "SHARED_SECRET",
        "AAD_TOKEN",
        "CUSTOM_API_TOKEN",
        "GRAPH_TOKEN",
        "LOG_LEVEL",
        "TYPE",
    ];
    // Those of them the test process has not (likely all).
    let unset: Vec<&str> = required
        .into_iter()
        .filter(|name| std::env::var_os(name).is_none())
        .collect();
    let err = Forms::from_env().unwrap_err();
    let ErrorKind::Fields(fields) = err.kind() else {
        panic!("{err}")
    };
    // Every missing required field, and no optional one.
    let missing: Vec<&str> = fields
        .iter()
        .filter(|f| f.message.contains("is not set"))
        .map(|f| f.variable)
        .collect();
    assert_eq!(missing, unset, "{err}");
    assert!(!err.to_string().contains("feature_flags"), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "Forms: {} of 16 fields of environment `production` failed:",
            fields.len()
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_blocking_refuses_to_run_inside_a_runtime() {
    let err = Forms::resolve_blocking().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InsideAsyncRuntime), "{err}");
    assert!(err.to_string().contains("Forms::resolve().await"), "{err}");
}

struct Setup {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Self {
        let emulator = Emulator::start(Options {
            state: seed::forms(VAULT),
            ..Options::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), emulator.ca_pem()).unwrap();
        Self { emulator, dir }
    }

    /// The environment the configuration and the identity read: IMDS and
    /// every endpoint are the emulator.
    fn environment(&self) -> HashMap<String, String> {
        HashMap::from([
            (
                "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
                self.emulator.http_url().unwrap(),
            ),
            ("EMULATOR_HTTPS".to_owned(), self.emulator.https_url()),
            (
                "EMULATOR_VAULT_SUFFIX".to_owned(),
                format!("vault.localhost:{}", self.emulator.https_addr().port()),
            ),
        ])
    }

    fn options(&self) -> ResolveOptions {
        ResolveOptions::new()
            .environment(self.environment())
            .config_dir(self.dir.path())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_form_resolves_from_the_emulator_through_imds() {
    let setup = Setup::start().await;
    let forms = Forms::resolve_with(setup.options()).await.unwrap();
    types(&forms);
    assert_eq!(forms.api_key.expose_secret(), seed::API_KEY);
    assert_eq!(forms.shared_secret.expose_secret(), seed::SHARED_API_KEY);
    assert_eq!(forms.storage_key.expose_secret(), seed::STORAGE_KEY1);
    let sas = forms.storage_sas.expose_secret();
    assert!(sas.contains("sp=rl") && sas.contains("sig="), "SAS");
    // `expiry: 24h` from now, as signed.
    let expires = forms
        .storage_sas
        .expires_on()
        .expect("a SAS carries its expiry");
    let day = SystemTime::now() + Duration::from_secs(24 * 3600);
    assert!(
        expires <= day && expires + Duration::from_secs(120) > day,
        "{expires:?}"
    );
    assert!(
        forms
            .storage_sas
            .expires_within(Duration::from_secs(25 * 3600))
    );
    assert!(
        !forms
            .storage_sas
            .expires_within(Duration::from_secs(23 * 3600))
    );
    let sql = forms.sql_connection.expose_secret();
    assert!(sql.contains("mydb") && sql.contains("Active Directory Managed Identity"));
    assert!(!forms.cosmos_key.expose_secret().is_empty());
    assert!(
        forms
            .cosmos_connection
            .expose_secret()
            .starts_with("AccountEndpoint=https://mycosmosaccount.")
    );
    assert!(!forms.tls_cert.chain().is_empty());
    assert!(
        forms
            .tls_cert
            .leaf_pem()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        forms
            .tls_cert
            .private_key_pem()
            .expose_secret()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert_eq!(forms.encryption_key.kty(), "EC");
    assert!(
        forms
            .encryption_key
            .kid()
            .unwrap()
            .contains("/keys/data-key/")
    );
    for token in [
        &forms.aad_token,
        &forms.custom_api_token,
        &forms.graph_token,
    ] {
        let expires = token
            .expires_on()
            .expect("an Entra ID token is a JWT with `exp`");
        assert!(expires > SystemTime::now() + Duration::from_secs(60));
        assert!(!token.is_expired());
    }
    assert!(forms.feature_flags.is_none(), "optional and absent: None");
    assert!(forms.optional_cert.is_some());
    assert_eq!(forms.log_level, "info");
    assert_eq!(forms.r#type, "batch");
    assert!(
        setup
            .emulator
            .log()
            .entries()
            .iter()
            .any(|e| e.service == "imds"),
        "tokens come from IMDS"
    );
    assert!(!format!("{forms:?}").contains("canary"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failed_field_is_listed() {
    let setup = Setup::start().await;
    // Subscriptions the emulator does not have.
    let mut environment = setup.environment();
    environment.insert(
        "SHARED_SUBSCRIPTION_ID".to_owned(),
        "33333333-0000-0000-0000-00000000c003".to_owned(),
    );
    environment.insert(
        "PRIMARY_SUBSCRIPTION_ID".to_owned(),
        "44444444-0000-0000-0000-00000000d004".to_owned(),
    );
    let options = ResolveOptions::new()
        .environment(environment)
        .config_dir(setup.dir.path());
    let err = Forms::resolve_with(options).await.unwrap_err();
    let names: Vec<&str> = err.fields().iter().map(|f| f.field).collect();
    // The storage and Cosmos DB accounts are looked for in a subscription that
    // does not exist: every one of them fails, and is listed.
    for field in [
        "storage_key",
        "storage_sas",
        "cosmos_key",
        "cosmos_connection",
    ] {
        assert!(names.contains(&field), "{field} in {names:?}\n{err}");
    }
    assert!(!names.contains(&"api_key"), "{err}");
    assert!(!err.to_string().contains("canary"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unset_variable_at_run_time_is_a_configuration_error() {
    #[dsops::env("production", path = "tests/fixtures/unset.yaml")]
    struct NeedsVault;
    let err = NeedsVault::resolve_with(
        ResolveOptions::new().environment(HashMap::<String, String>::new()),
    )
    .await
    .unwrap_err();
    let ErrorKind::Config(problems) = err.kind() else {
        panic!("{err}")
    };
    assert!(problems[0].contains("`APP_VAULT_NAME` is not set"), "{err}");
}

#[test]
fn the_future_of_resolve_is_send() {
    fn send<T: Send>(_: &T) {}
    send(&Forms::resolve());
}
