//! The `api-version`s Azure publishes for each service the emulator serves,
//! as Azure's REST API specifications (Azure/azure-rest-api-specs) list
//! them: a request with any other version is refused, as Azure refuses it.
//!
//! Each list is one service's or resource provider's, newest first, read
//! from the specification's AutoRest configuration (`readme.md`, one tag per
//! version, stable and preview) or its TypeSpec `Versions` enum, at the
//! commit its comment names. Only the resource types the emulator serves
//! matter: a version whose files do not describe that type (Cosmos DB's
//! `2019-08-01-preview`, private endpoints only) is not on its list.
//!
//! Public so that the tests of the clients (dsops's own requests among them)
//! can check the versions they send against the same lists.

/// A service, or an ARM resource provider's resource type, whose requests
/// carry an `api-version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The Key Vault data plane (secrets, certificates, keys).
    KeyVault,
    /// `Microsoft.Resources` subscriptions (list, get).
    Subscriptions,
    /// `Microsoft.Storage/storageAccounts`.
    Storage,
    /// `Microsoft.DocumentDB/databaseAccounts`.
    CosmosDb,
    /// `Microsoft.Authorization/locks`.
    Locks,
    /// `Microsoft.KeyVault/vaults` (the management plane).
    Vaults,
}

/// The Key Vault data plane.
///
/// From `7.5` on, the TypeSpec `Versions` enum of
/// `specification/keyvault/data-plane/Secrets/main.tsp` at commit
/// `0a92e086a07f55ad39f4942a978cb87de9be3d07` (the `Keys` and `Certificates`
/// enums list subsets of it); before, the tags of
/// `specification/keyvault/data-plane/Legacy/readme.md` at commit
/// `2e81ca268ff282953b5322cb93179d8f7f55f58b`, whose `preview/7.0` and
/// `preview/7.1` folders carry the versions `7.0-preview` and `7.1-preview`
/// (their examples' `api-version`).
const KEY_VAULT: &[&str] = &[
    "2026-07-01-preview",
    "2026-05-01-preview",
    "2026-04-01",
    "2026-03-01-preview",
    "2026-01-01-preview",
    "2025-07-01",
    "2025-06-01-preview",
    "7.6",
    "7.6-preview.2",
    "7.6-preview.1",
    "7.5",
    "7.5-preview.1",
    "7.4",
    "7.4-preview.1",
    "7.3",
    "7.3-preview",
    "7.2",
    "7.2-preview",
    "7.1",
    "7.1-preview",
    "7.0",
    "7.0-preview",
    "2016-10-01",
    "2015-06-01",
];

/// `Microsoft.Resources` subscriptions: the tags of
/// `specification/resources/resource-manager/Microsoft.Resources/subscriptions/readme.md`
/// at commit `1311a1c78a628ebfe9d54eabb538587fcaaa3d90` (its `stable`
/// folders; it has no preview).
const SUBSCRIPTIONS: &[&str] = &[
    "2022-12-01",
    "2021-01-01",
    "2020-01-01",
    "2019-11-01",
    "2019-06-01",
    "2018-06-01",
    "2016-06-01",
    "2015-11-01",
];

/// `Microsoft.Storage`: the tags of
/// `specification/storage/resource-manager/Microsoft.Storage/Storage/readme.md`
/// at commit `0940ebf92ff46596a59a628deb6e44c0a00d0829`.
const STORAGE: &[&str] = &[
    "2026-09-01",
    "2026-06-01",
    "2026-04-01",
    "2025-08-01",
    "2025-06-01",
    "2025-01-01",
    "2024-01-01",
    "2023-05-01",
    "2023-04-01",
    "2023-01-01",
    "2022-09-01",
    "2022-05-01",
    "2021-09-01",
    "2021-08-01",
    "2021-06-01",
    "2021-04-01",
    "2021-02-01",
    "2021-01-01",
    "2020-08-01-preview",
    "2019-06-01",
    "2019-04-01",
    "2018-11-01",
    "2018-07-01",
    "2018-03-01-preview",
    "2018-02-01",
    "2017-10-01",
    "2017-06-01",
    "2016-12-01",
    "2016-05-01",
    "2016-01-01",
    "2015-06-15",
    "2015-05-01-preview",
];

/// `Microsoft.DocumentDB` (Cosmos DB): the tags of
/// `specification/cosmos-db/resource-manager/Microsoft.DocumentDB/DocumentDB/readme.md`
/// at commit `0f206b211decdec930afd67d1538789f57992e9a` whose files describe
/// database accounts (not `2019-08-01-preview`: private endpoints only).
const COSMOS_DB: &[&str] = &[
    "2026-07-15",
    "2026-04-01-preview",
    "2026-03-15",
    "2025-11-01-preview",
    "2025-10-15",
    "2025-05-01-preview",
    "2025-04-15",
    "2024-12-01-preview",
    "2024-11-15",
    "2024-09-01-preview",
    "2024-08-15",
    "2024-05-15-preview",
    "2024-05-15",
    "2024-02-15-preview",
    "2023-11-15-preview",
    "2023-11-15",
    "2023-09-15-preview",
    "2023-09-15",
    "2023-04-15",
    "2023-03-15-preview",
    "2023-03-15",
    "2023-03-01-preview",
    "2022-11-15-preview",
    "2022-11-15",
    "2022-08-15-preview",
    "2022-08-15",
    "2022-05-15-preview",
    "2022-05-15",
    "2022-02-15-preview",
    "2021-11-15-preview",
    "2021-10-15-preview",
    "2021-10-15",
    "2021-07-01-preview",
    "2021-06-15",
    "2021-05-15",
    "2021-04-15",
    "2021-04-01-preview",
    "2021-03-15",
    "2021-03-01-preview",
    "2021-01-15",
    "2020-09-01",
    "2020-06-01-preview",
    "2020-04-01",
    "2020-03-01",
    "2019-12-12",
    "2019-08-01",
    "2016-03-31",
    "2016-03-19",
    "2015-11-06",
    "2015-04-08",
    "2014-04-01",
];

/// `Microsoft.Authorization/locks`: the tags of
/// `specification/resources/resource-manager/Microsoft.Authorization/locks/readme.md`
/// at commit `11f0c127f56356ee518aff18803d7e277afbdabb`.
const LOCKS: &[&str] = &["2020-05-01", "2017-04-01", "2016-09-01", "2015-01-01"];

/// `Microsoft.KeyVault` (vaults): the tags of
/// `specification/keyvault/resource-manager/Microsoft.KeyVault/KeyVault/readme.md`
/// at commit `07de5c4a7e99ce23b17f008f8209255d87640ab6`.
const VAULTS: &[&str] = &[
    "2026-03-01-preview",
    "2026-02-01",
    "2025-05-01",
    "2024-12-01-preview",
    "2024-11-01",
    "2024-04-01-preview",
    "2023-07-01",
    "2023-02-01",
    "2022-11-01",
    "2022-07-01",
    "2022-02-01-preview",
    "2021-11-01-preview",
    "2021-10-01",
    "2021-06-01-preview",
    "2021-04-01-preview",
    "2020-04-01-preview",
    "2019-09-01",
    "2018-02-14-preview",
    "2018-02-14",
    "2016-10-01",
    "2015-06-01",
];

impl Api {
    /// Every service, for tests that walk them all.
    pub const ALL: [Api; 6] = [
        Api::KeyVault,
        Api::Subscriptions,
        Api::Storage,
        Api::CosmosDb,
        Api::Locks,
        Api::Vaults,
    ];

    /// The published versions, newest first.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Api::KeyVault => KEY_VAULT,
            Api::Subscriptions => SUBSCRIPTIONS,
            Api::Storage => STORAGE,
            Api::CosmosDb => COSMOS_DB,
            Api::Locks => LOCKS,
            Api::Vaults => VAULTS,
        }
    }

    /// Whether `version` is published (letter case aside).
    pub fn accepts(self, version: &str) -> bool {
        self.versions()
            .iter()
            .any(|v| v.eq_ignore_ascii_case(version))
    }

    /// The newest version that is not a preview.
    pub fn latest_stable(self) -> &'static str {
        self.versions()
            .iter()
            .find(|v| !v.contains("preview"))
            .copied()
            .unwrap_or_default()
    }

    /// The ARM resource type an `{namespace}/{kind}` path names, if the
    /// emulator serves it.
    pub fn of_provider(namespace: &str, kind: &str) -> Option<Api> {
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        [
            ("Microsoft.Storage", "storageAccounts", Api::Storage),
            ("Microsoft.DocumentDB", "databaseAccounts", Api::CosmosDb),
            ("Microsoft.Authorization", "locks", Api::Locks),
            ("Microsoft.KeyVault", "vaults", Api::Vaults),
        ]
        .into_iter()
        .find(|(n, k, _)| is(n, namespace) && is(k, kind))
        .map(|(_, _, api)| api)
    }
}

#[cfg(test)]
mod tests {
    use super::Api;

    #[test]
    fn each_list_has_no_duplicate_and_arm_lists_are_newest_first() {
        for api in Api::ALL {
            let versions = api.versions();
            assert!(!versions.is_empty(), "{api:?}");
            for (i, v) in versions.iter().enumerate() {
                assert!(
                    !versions.iter().skip(i + 1).any(|w| w == v),
                    "{api:?} lists {v} twice"
                );
            }
            // Dated versions sort as text; Key Vault's `7.x` do not.
            if api != Api::KeyVault {
                assert!(
                    versions.windows(2).all(|w| w[0] > w[1]),
                    "{api:?} is not newest first"
                );
            }
        }
    }

    #[test]
    fn published_versions_are_accepted_and_others_are_not() {
        assert!(Api::KeyVault.accepts("7.5"));
        assert!(Api::KeyVault.accepts("2026-04-01"));
        assert!(Api::KeyVault.accepts("7.6-PREVIEW.2"), "letter case aside");
        for unlisted in ["7.7", "7.9", "8.0", "2025-01-01", "2026-04-02", "7.5 ", ""] {
            assert!(!Api::KeyVault.accepts(unlisted), "{unlisted:?}");
        }
        assert!(Api::Storage.accepts("2023-05-01"));
        assert!(!Api::Storage.accepts("2023-05-02"));
        assert!(
            !Api::Storage.accepts("2024-05-15"),
            "Cosmos DB's, not storage's"
        );
        assert!(Api::CosmosDb.accepts("2024-05-15"));
        assert!(!Api::CosmosDb.accepts("2019-08-01-preview"));
        assert!(Api::Subscriptions.accepts("2022-12-01"));
        assert!(!Api::Subscriptions.accepts("2024-11-01"));
        assert!(Api::Locks.accepts("2016-09-01"));
        assert!(Api::Vaults.accepts("2023-07-01"));
    }

    #[test]
    fn the_latest_stable_version_skips_previews() {
        assert_eq!(Api::KeyVault.latest_stable(), "2026-04-01");
        assert_eq!(Api::Storage.latest_stable(), "2026-09-01");
        assert_eq!(Api::CosmosDb.latest_stable(), "2026-07-15");
        assert_eq!(Api::Vaults.latest_stable(), "2026-02-01");
        assert_eq!(Api::Subscriptions.latest_stable(), "2022-12-01");
    }

    #[test]
    fn provider_paths_map_to_their_lists() {
        assert_eq!(
            Api::of_provider("microsoft.storage", "StorageAccounts"),
            Some(Api::Storage)
        );
        assert_eq!(
            Api::of_provider("Microsoft.DocumentDB", "databaseAccounts"),
            Some(Api::CosmosDb)
        );
        assert_eq!(
            Api::of_provider("Microsoft.Authorization", "locks"),
            Some(Api::Locks)
        );
        assert_eq!(
            Api::of_provider("Microsoft.KeyVault", "vaults"),
            Some(Api::Vaults)
        );
        assert_eq!(
            Api::of_provider("Microsoft.Compute", "virtualMachines"),
            None
        );
    }

    /// The versions the clients that are tested against the emulator send
    /// (each read from the client's source or package, as named).
    #[test]
    fn the_clients_tested_against_the_emulator_send_published_versions() {
        let sent = [
            // azure-keyvault-secrets 4.12.0 (Python) and
            // @azure/keyvault-secrets 4.12.0 (JavaScript): their default.
            (Api::KeyVault, "2026-04-01"),
            // azure_security_keyvault_secrets 1.0.1 (Rust): its default.
            (Api::KeyVault, "2025-07-01"),
            // Azure CLI 2.91.0: `az keyvault secret show` and certificates
            // pin 7.4, keys 7.6-preview.2; azure-mgmt-storage 25.0.0's
            // default; the CLI profile's subscriptions and locks; Cosmos DB
            // (azure-mgmt-cosmosdb 10.0.0) and Key Vault management
            // (azure-mgmt-keyvault 14.0.1) defaults.
            (Api::KeyVault, "7.4"),
            (Api::KeyVault, "7.6-preview.2"),
            (Api::Storage, "2025-08-01"),
            (Api::Subscriptions, "2022-12-01"),
            (Api::Locks, "2016-09-01"),
            (Api::CosmosDb, "2026-03-15"),
            (Api::Vaults, "2026-02-01"),
        ];
        for (api, version) in sent {
            assert!(api.accepts(version), "{api:?} {version}");
        }
    }
}
