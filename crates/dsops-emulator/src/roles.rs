//! Built-in Azure roles and the actions the emulator checks, as Azure RBAC
//! grants them: management roles do not grant Key Vault data access.

/// An action the emulator authorizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `Microsoft.KeyVault/vaults/secrets/getSecret/action`.
    SecretGet,
    /// `Microsoft.KeyVault/vaults/secrets/setSecret/action`.
    SecretSet,
    /// `Microsoft.KeyVault/vaults/secrets/readMetadata/action`.
    SecretList,
    /// `Microsoft.KeyVault/vaults/certificates/read`.
    CertificateRead,
    /// Reading a certificate's private key through its backing secret, which
    /// `Key Vault Certificate User` grants without `getSecret` on other secrets.
    CertificateSecretGet,
    /// `Microsoft.KeyVault/vaults/keys/read`.
    KeyRead,
    /// `*/read` on ARM resources.
    ArmRead,
    /// `Microsoft.Storage/storageAccounts/listkeys/action`.
    StorageListKeys,
    /// `Microsoft.DocumentDB/databaseAccounts/listKeys/action`.
    CosmosListKeys,
    /// `Microsoft.DocumentDB/databaseAccounts/readonlykeys/action`.
    CosmosListReadOnlyKeys,
    /// `Microsoft.DocumentDB/databaseAccounts/listConnectionStrings/action`.
    CosmosListConnectionStrings,
}

impl Action {
    /// The Azure action name, as error messages quote it.
    pub(crate) fn azure_name(self) -> &'static str {
        match self {
            Action::SecretGet => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            Action::SecretSet => "Microsoft.KeyVault/vaults/secrets/setSecret/action",
            Action::SecretList => "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            Action::CertificateRead => "Microsoft.KeyVault/vaults/certificates/read",
            Action::CertificateSecretGet => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            Action::KeyRead => "Microsoft.KeyVault/vaults/keys/read",
            Action::ArmRead => "*/read",
            Action::StorageListKeys => "Microsoft.Storage/storageAccounts/listkeys/action",
            Action::CosmosListKeys => "Microsoft.DocumentDB/databaseAccounts/listKeys/action",
            Action::CosmosListReadOnlyKeys => {
                "Microsoft.DocumentDB/databaseAccounts/readonlykeys/action"
            }
            Action::CosmosListConnectionStrings => {
                "Microsoft.DocumentDB/databaseAccounts/listConnectionStrings/action"
            }
        }
    }
}

use Action::*;

/// Built-in roles the emulator knows, with the actions each grants.
pub(crate) const ROLES: &[(&str, &[Action])] = &[
    (
        "Owner",
        &[
            ArmRead,
            StorageListKeys,
            CosmosListKeys,
            CosmosListReadOnlyKeys,
            CosmosListConnectionStrings,
        ],
    ),
    (
        "Contributor",
        &[
            ArmRead,
            StorageListKeys,
            CosmosListKeys,
            CosmosListReadOnlyKeys,
            CosmosListConnectionStrings,
        ],
    ),
    ("Reader", &[ArmRead]),
    (
        "Key Vault Administrator",
        &[
            SecretGet,
            SecretSet,
            SecretList,
            CertificateRead,
            CertificateSecretGet,
            KeyRead,
        ],
    ),
    (
        "Key Vault Secrets Officer",
        &[SecretGet, SecretSet, SecretList],
    ),
    ("Key Vault Secrets User", &[SecretGet, SecretList]),
    (
        "Key Vault Certificates Officer",
        &[CertificateRead, SecretList],
    ),
    (
        "Key Vault Certificate User",
        &[CertificateRead, CertificateSecretGet, KeyRead],
    ),
    ("Key Vault Crypto Officer", &[KeyRead]),
    ("Key Vault Crypto User", &[KeyRead]),
    ("Key Vault Crypto Service Encryption User", &[KeyRead]),
    ("Key Vault Reader", &[SecretList, CertificateRead, KeyRead]),
    ("Storage Account Contributor", &[ArmRead, StorageListKeys]),
    (
        "Storage Account Key Operator Service Role",
        &[ArmRead, StorageListKeys],
    ),
    ("Reader and Data Access", &[ArmRead, StorageListKeys]),
    (
        "DocumentDB Account Contributor",
        &[
            ArmRead,
            CosmosListKeys,
            CosmosListReadOnlyKeys,
            CosmosListConnectionStrings,
        ],
    ),
    (
        "Cosmos DB Account Reader Role",
        &[ArmRead, CosmosListReadOnlyKeys],
    ),
    ("Cosmos DB Operator", &[ArmRead]),
];

/// The canonical name of a role, case-insensitively.
pub(crate) fn lookup(name: &str) -> Option<(&'static str, &'static [Action])> {
    ROLES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .copied()
}
