//! Workload identity federation from CI systems other than GitHub Actions
//! (`type: ci_federation`), end to end: the emulator issues each CI's
//! token with that CI's issuer and subject, `dsops get` exchanges it at
//! Entra ID for a Key Vault token and reads a secret; `dsops doctor` prints
//! the federated credential a job's untrusted token needs.

use std::process::Command;

use dsops_emulator::testing::{Ci, Identity, StateBuilder};
use dsops_emulator::{Emulator, Options};

use crate::support::emulated::{dir_with_ca, emulator_cloud};
use crate::support::harness::{Run, dsops, run};

const VALUE: &str = "CANARY-ci-federated-9d41";
const APP: &str = "deploy-app";
const CONNECTION_ID: &str = "5b1d1e8c-4f2a-4b7e-9c3d-2a1f0e9d8c7b";
const ACCESS_TOKEN: &str = "CANARY-system-access-token-61";
const CIRCLE_ORG: &str = "c3f0a4d2-9b8e-4f7a-a6d5-1e2f3a4b5c6d";
const BUILDKITE_PIPELINE: &str = "2f1e0d9c-8b7a-4c6d-5e4f-3a2b1c0d9e8f";

/// An app that trusts one token of each CI, may read `ci-vault`, and an
/// app (`untrusting-app`) that trusts none.
fn emulator() -> Emulator {
    let state = StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .azure_pipelines("contoso", "web")
        .azure_pipelines_connection("production", CONNECTION_ID)
        .azure_pipelines_access_token(ACCESS_TOKEN)
        .ci_claim(Ci::Gitlab, "project_path", "platform/api")
        .ci_claim(Ci::Gitlab, "ref", "main")
        .ci_claim(Ci::Circleci, "oidc.circleci.com/org-id", CIRCLE_ORG)
        .identity(
            APP,
            Identity::service_principal()
                .federated_credential("azure_pipelines", "sc://contoso/web/production")
                .federated_credential("gitlab", "project_path:platform/api:ref_type:branch:ref:main")
                .federated_credential_for(
                    "circleci",
                    format!(
                        "org/{CIRCLE_ORG}/project/6b2d5a43-2b2d-4e58-9d5a-2b7e7a1d0a5c/user/0f6f8e5e-3c4e-4c1d-9d1e-5a2b7c9e8d01"
                    ),
                    [CIRCLE_ORG],
                )
                .federated_credential("buildkite", BUILDKITE_PIPELINE),
        )
        .identity("untrusting-app", Identity::service_principal())
        .grant(APP, "Key Vault Secrets User", "vault:ci-vault")
        .vault("ci-vault", |v| v.secret("deploy-key", VALUE))
        .build();
    Emulator::start_in_background(Options {
        state,
        ..Default::default()
    })
    .unwrap()
}

/// A directory with `dsops.yaml`: one store whose only source is `source`
/// (a `ci_federation` entry), as app `app`.
fn project(emulator: &Emulator, app: &str, source: &str) -> tempfile::TempDir {
    let dir = dir_with_ca(emulator);
    let client = emulator.identity(app).unwrap().client_id;
    let tenant = emulator.tenant_id();
    let config = format!(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    tenant_id: {tenant}\n{cloud}    fallback:\n      - type: ci_federation\n        client_id: {client}\n{source}\nenvs:\n  ci:\n    DEPLOY_KEY: {{ from: {{ store: azure, vault: ci-vault, secret: deploy-key }} }}\n",
        cloud = emulator_cloud(emulator),
    );
    std::fs::write(dir.path().join("dsops.yaml"), config).unwrap();
    dir
}

/// `dsops` in `dir`, the job confirming the emulator's Entra ID
/// (`DSOPS_TRUSTED_AUTHORITY`: dsops.yaml alone cannot).
fn job(dir: &tempfile::TempDir, emulator: &Emulator) -> Command {
    let mut command: Command = dsops(dir.path());
    command.env("DSOPS_TRUSTED_AUTHORITY", emulator.https_url());
    command
}

fn get(dir: &tempfile::TempDir, emulator: &Emulator, env: &[(String, String)]) -> Run {
    let mut command = job(dir, emulator);
    command.args(["get", "--env", "ci", "DEPLOY_KEY"]);
    for (name, value) in env {
        command.env(name, value);
    }
    run(&mut command)
}

/// The services the emulator answered, in order, without the admin API.
fn services(emulator: &Emulator) -> Vec<&'static str> {
    emulator
        .log()
        .entries()
        .into_iter()
        .map(|e| e.service)
        .filter(|s| *s != "admin")
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn azure_pipelines_service_connection_token_reads_a_secret() {
    let emulator = emulator();
    let dir = project(&emulator, APP, "        preset: azure_pipelines");
    // What an AzureCLI@2 step with `env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken) }` sees.
    let env = emulator.azure_pipelines_environment();
    assert!(
        env.iter()
            .any(|(k, v)| k == "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID" && v == CONNECTION_ID),
        "{env:?}"
    );
    let result = get(&dir, &emulator, &env);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout.trim_end(), VALUE);
    assert_eq!(
        services(&emulator),
        ["azure_pipelines", "entra", "keyvault"],
        "the OIDC token, its exchange, the secret"
    );
    let issuer = emulator.issuer_url("azure_pipelines").unwrap();
    let organization_id = issuer
        .strip_prefix("https://vstoken.dev.azure.com/")
        .unwrap_or_else(|| panic!("{issuer}"));
    assert_eq!(organization_id.len(), 36, "a GUID: {issuer}");
}

#[test]
fn azure_pipelines_refuses_a_wrong_access_token_without_showing_it() {
    let emulator = emulator();
    let dir = project(&emulator, APP, "        preset: azure_pipelines");
    let env: Vec<(String, String)> = emulator
        .azure_pipelines_environment()
        .into_iter()
        .map(|(k, v)| {
            if k == "SYSTEM_ACCESSTOKEN" {
                (k, "CANARY-wrong-access-token".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let result = get(&dir, &emulator, &env);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(result.stderr.contains("401"), "{}", result.stderr);
    assert!(!result.all_output().contains("CANARY"), "{}", result.stderr);
}

#[test]
fn azure_pipelines_without_the_access_token_says_how_to_map_it() {
    let emulator = emulator();
    let dir = project(&emulator, APP, "        preset: azure_pipelines");
    let env: Vec<(String, String)> = emulator
        .azure_pipelines_environment()
        .into_iter()
        .filter(|(k, _)| k != "SYSTEM_ACCESSTOKEN")
        .collect();
    let result = get(&dir, &emulator, &env);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("$(System.AccessToken)"),
        "{}",
        result.stderr
    );
}

#[test]
fn gitlab_id_token_reads_a_secret() {
    let emulator = emulator();
    let dir = project(&emulator, APP, "        preset: gitlab");
    // The runner puts the token of `id_tokens: { GITLAB_OIDC_TOKEN: { aud: api://AzureADTokenExchange } }`.
    let token = emulator
        .mint_oidc_token("gitlab", "api://AzureADTokenExchange", &Default::default())
        .unwrap();
    assert_eq!(emulator.issuer_url("gitlab"), Some("https://gitlab.com"));
    let result = get(&dir, &emulator, &owned(&[("GITLAB_OIDC_TOKEN", &token)]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout.trim_end(), VALUE);
    assert_eq!(services(&emulator), ["entra", "keyvault"]);
}

#[test]
fn gitlab_without_its_variable_is_skipped_with_the_reason() {
    let emulator = emulator();
    let dir = project(
        &emulator,
        APP,
        "        preset: gitlab\n        token_env: AZURE_ID_TOKEN",
    );
    let result = get(&dir, &emulator, &[]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("AZURE_ID_TOKEN is not set") && result.stderr.contains("id_tokens"),
        "{}",
        result.stderr
    );
}

#[test]
fn generic_variable_circleci_token_with_its_own_audience_reads_a_secret() {
    let emulator = emulator();
    let dir = project(
        &emulator,
        APP,
        "        preset: generic\n        token_env: CIRCLE_OIDC_TOKEN",
    );
    // CircleCI's default token: audience the organization id.
    let token = emulator
        .mint_oidc_token("circleci", CIRCLE_ORG, &Default::default())
        .unwrap();
    assert_eq!(
        emulator.issuer_url("circleci").unwrap(),
        format!("https://oidc.circleci.com/org/{CIRCLE_ORG}")
    );
    let result = get(&dir, &emulator, &owned(&[("CIRCLE_OIDC_TOKEN", &token)]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout.trim_end(), VALUE);
}

#[test]
fn generic_file_buildkite_token_reads_a_secret_and_is_read_again() {
    let emulator = emulator();
    let dir = project(
        &emulator,
        APP,
        "        preset: generic\n        token_file: ./oidc-token",
    );
    // `buildkite-agent oidc request-token --audience api://AzureADTokenExchange
    // --subject-claim pipeline_id > oidc-token`: the subject is the pipeline's id.
    let mint = |sub: &str| {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".to_owned(), sub.into());
        emulator
            .mint_oidc_token("buildkite", "api://AzureADTokenExchange", &claims)
            .unwrap()
    };
    let file = dir.path().join("oidc-token");
    // A token the app does not trust first: the file is read at the exchange.
    std::fs::write(&file, mint("organization:acme-inc:pipeline:deploy")).unwrap();
    let refused = get(&dir, &emulator, &[]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("AADSTS70021"), "{}", refused.stderr);
    std::fs::write(&file, format!("{}\n", mint(BUILDKITE_PIPELINE))).unwrap();
    let result = get(&dir, &emulator, &[]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout.trim_end(), VALUE);
}

#[test]
fn doctor_prints_the_federated_credential_each_ci_needs() {
    let emulator = emulator();
    let gitlab = emulator
        .mint_oidc_token("gitlab", "api://AzureADTokenExchange", &Default::default())
        .unwrap();
    let circleci = emulator
        .mint_oidc_token("circleci", CIRCLE_ORG, &Default::default())
        .unwrap();
    let aad = "api://AzureADTokenExchange";
    // The source, the job's environment, and the token's issuer, subject and audience.
    type Case<'a> = (&'a str, Vec<(String, String)>, String, String, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "        preset: azure_pipelines",
            emulator.azure_pipelines_environment(),
            emulator.issuer_url("azure_pipelines").unwrap().to_owned(),
            "sc://contoso/web/production".to_owned(),
            aad,
        ),
        (
            "        preset: gitlab",
            owned(&[("GITLAB_OIDC_TOKEN", &gitlab)]),
            "https://gitlab.com".to_owned(),
            "project_path:platform/api:ref_type:branch:ref:main".to_owned(),
            aad,
        ),
        (
            "        preset: generic\n        token_env: CIRCLE_OIDC_TOKEN",
            owned(&[("CIRCLE_OIDC_TOKEN", &circleci)]),
            format!("https://oidc.circleci.com/org/{CIRCLE_ORG}"),
            format!(
                "org/{CIRCLE_ORG}/project/6b2d5a43-2b2d-4e58-9d5a-2b7e7a1d0a5c/user/0f6f8e5e-3c4e-4c1d-9d1e-5a2b7c9e8d01"
            ),
            CIRCLE_ORG,
        ),
    ];
    let client = emulator.identity("untrusting-app").unwrap().client_id;
    for (source, env, issuer, subject, audience) in cases {
        let dir = project(&emulator, "untrusting-app", source);
        let mut command = job(&dir, &emulator);
        command.args(["doctor", "--env", "ci"]);
        for (name, value) in &env {
            command.env(name, value);
        }
        let result = run(&mut command);
        assert_eq!(result.code, 1, "{}", result.stdout);
        let expected = format!(
            r#"az ad app federated-credential create --id {client} --parameters '{{"audiences":["{audience}"],"issuer":"{issuer}","name":"dsops-{host}","subject":"{subject}"}}'"#,
            host = issuer
                .trim_start_matches("https://")
                .split('/')
                .next()
                .unwrap()
                .replace('.', "-"),
        );
        assert!(
            result.stdout.contains(&expected),
            "{source}: expected\n{expected}\nin\n{}",
            result.stdout
        );
    }
}

#[test]
fn ci_mode_client_id_in_azure_pipelines_uses_the_service_connection() {
    let emulator = emulator();
    // The store names no fallback: `--client-id` replaces its credentials.
    let dir = dir_with_ca(&emulator);
    let config = format!(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n{cloud}envs:\n  ci:\n    DEPLOY_KEY: {{ from: {{ store: azure, vault: ci-vault, secret: deploy-key }} }}\n",
        cloud = emulator_cloud(&emulator),
    );
    std::fs::write(dir.path().join("dsops.yaml"), config).unwrap();
    let mut command = job(&dir, &emulator);
    command
        .args(["ci", "--env", "ci", "--export", "env"])
        .env("TF_BUILD", "True")
        .env("DSOPS_CLIENT_ID", emulator.identity(APP).unwrap().client_id)
        .env("DSOPS_TENANT_ID", emulator.tenant_id());
    for (name, value) in emulator.azure_pipelines_environment() {
        command.env(name, value);
    }
    let result = run(&mut command);
    assert_eq!(result.code, 0, "{}{}", result.stdout, result.stderr);
    assert!(
        result
            .stdout
            .starts_with(&format!("##vso[task.setsecret]{VALUE}")),
        "{}",
        result.stdout
    );
    assert_eq!(
        services(&emulator),
        ["azure_pipelines", "entra", "keyvault"]
    );
}
