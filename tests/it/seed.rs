//! Every configuration example of the page dsops was designed from
//! (`tests/fixtures/seed-azure-managed-identity.md`) must be accepted.
//!
//! Blocks are classified by their top-level keys:
//! - whole configurations (`version`, `secretStores`, `envs` only) are checked as they are;
//! - blocks with `envs` but no `secretStores` get the page's `azure` store added;
//! - blocks whose top-level keys are variables are wrapped into an environment;
//! - "Before:/After:" blocks are two examples and are split at `# After:`;
//! - the one Kubernetes Pod manifest on the page is not a dsops file and is skipped.

use crate::support::harness;
use crate::support::harness::{load_check, summary};
use crate::support::seed_page::{Kind, as_config, classify, yaml_blocks};

#[test]
fn the_page_has_the_examples_we_expect() {
    let blocks = yaml_blocks();
    // 22 fenced blocks, two of which hold a before and an after.
    assert_eq!(
        blocks.len(),
        24,
        "{:#?}",
        blocks.iter().map(|b| &b.heading).collect::<Vec<_>>()
    );
    let manifests = blocks
        .iter()
        .filter(|b| matches!(classify(&b.text), Kind::KubernetesManifest))
        .count();
    assert_eq!(
        manifests, 1,
        "only the AKS Pod manifest is not a dsops file"
    );
}

#[test]
fn every_example_is_accepted_by_the_library() {
    for example in yaml_blocks() {
        let Some(config) = as_config(&example) else {
            continue;
        };
        let loaded = load_check("dsops.yaml", &config, &[]);
        let errors: Vec<_> = summary(&loaded)
            .into_iter()
            .filter(|d| d.0 == "error")
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {errors:?}\n{config}",
            example.heading
        );
    }
}

#[test]
fn every_example_passes_dsops_check() {
    for example in yaml_blocks() {
        let Some(config) = as_config(&example) else {
            continue;
        };
        let run = harness::check(&config, &[], &[]);
        assert_eq!(
            run.code, 0,
            "{}:\n{}\n{}",
            example.heading, run.stdout, run.stderr
        );
        assert!(
            run.stdout.contains(": ok: "),
            "{}: {}",
            example.heading,
            run.stdout
        );
    }
}

#[test]
fn examples_whose_knobs_do_nothing_are_warned_about() {
    let warnings_of = |heading: &str| -> Vec<String> {
        let example = yaml_blocks()
            .into_iter()
            .find(|b| b.heading == heading)
            .unwrap();
        let loaded = load_check("dsops.yaml", &as_config(&example).unwrap(), &[]);
        summary(&loaded)
            .into_iter()
            .filter(|d| d.0 == "warning")
            .map(|d| d.1)
            .collect()
    };
    assert!(warnings_of("Parallel Fetching").contains(&"no-effect".to_owned()));
    assert!(warnings_of("Regional Optimization").contains(&"no-effect".to_owned()));
    assert!(
        warnings_of("From Connection Strings (before)").contains(&"credential-literal".to_owned())
    );
    assert!(warnings_of("User-Assigned Identity").contains(&"identity-ignored-id".to_owned()));
    // `secret_cache` does nothing for a command that resolves once.
    assert!(warnings_of("Token Caching").contains(&"no-effect".to_owned()));
    assert!(warnings_of("Basic Configuration").is_empty());
    assert!(warnings_of("Multi-Environment Setup").is_empty());
}

#[test]
fn examples_resolve_cleanly_once_their_variables_are_set() {
    let env = [
        (
            "DATA_IDENTITY_CLIENT_ID",
            "11111111-1111-1111-1111-111111111111",
        ),
        (
            "APP_IDENTITY_CLIENT_ID",
            "22222222-2222-2222-2222-222222222222",
        ),
        (
            "PRIMARY_SUBSCRIPTION_ID",
            "33333333-3333-3333-3333-333333333333",
        ),
        (
            "SHARED_SUBSCRIPTION_ID",
            "44444444-4444-4444-4444-444444444444",
        ),
        ("AZURE_CLIENT_ID", "55555555-5555-5555-5555-555555555555"),
        ("AZURE_CLIENT_SECRET", "not-a-real-secret"),
        ("AZURE_TENANT_ID", "66666666-6666-6666-6666-666666666666"),
    ];
    for example in yaml_blocks() {
        let Some(config) = as_config(&example) else {
            continue;
        };
        let env_map: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let loaded = dsops::config::load(
            dsops::config::Source::new("dsops.yaml", config.as_str()),
            &env_map,
            dsops::config::LoadOptions::resolve(),
        );
        assert!(
            loaded.config().is_some(),
            "{}: {:?}",
            example.heading,
            summary(&loaded)
        );
    }
}
