//! Every `api-version` dsops sends is one that Azure publishes for that
//! service: on the emulator's lists (`dsops_emulator::api_versions`, read
//! from Azure's REST API specifications). The emulator refuses any other,
//! so the tests against it would fail too; this says which constant and
//! why, and catches a new constant that no list covers.

use dsops_emulator::api_versions::Api;

const KEYVAULT_URL: (&str, &str) = (
    "src/azure/keyvault/url.rs",
    include_str!("../../src/azure/keyvault/url.rs"),
);
const ARM: (&str, &str) = ("src/azure/arm.rs", include_str!("../../src/azure/arm.rs"));

/// dsops's version constants: the file, the constant, the service it is
/// sent to.
const SENT: &[((&str, &str), &str, Api)] = &[
    (KEYVAULT_URL, "API_VERSION", Api::KeyVault),
    (ARM, "SUBSCRIPTIONS_API", Api::Subscriptions),
    (ARM, "STORAGE_API", Api::Storage),
    (ARM, "COSMOS_API", Api::CosmosDb),
    (ARM, "LOCKS_API", Api::Locks),
];

/// The value of `const NAME: &str = "..."` in `source`.
fn constant<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let (_, rest) = source.split_once(&format!("const {name}: &str = \""))?;
    rest.split_once('"').map(|(value, _)| value)
}

/// The names of the `const ...: &str` in `source` that hold an API version
/// (`API_VERSION`, `*_API`).
fn version_constants(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| line.split_once("const ")?.1.split_once(": &str = \""))
        .map(|(name, _)| name)
        .filter(|name| *name == "API_VERSION" || name.ends_with("_API"))
        .collect()
}

#[test]
fn every_api_version_dsops_sends_is_published_for_its_service() {
    for ((file, source), name, api) in SENT {
        let version = constant(source, name)
            .unwrap_or_else(|| panic!("{file} has no `const {name}: &str`: update this test"));
        assert!(
            api.accepts(version),
            "{file}: {name} = {version:?} is not an api-version Azure publishes for {api:?} ({:?})",
            api.versions()
        );
    }
}

#[test]
fn every_api_version_constant_of_dsops_is_checked() {
    for (file, source) in [KEYVAULT_URL, ARM] {
        for name in version_constants(source) {
            assert!(
                SENT.iter().any(|((f, _), n, _)| *f == file && *n == name),
                "{file}: `{name}` is an api-version this test does not check: add it to SENT"
            );
        }
    }
}
