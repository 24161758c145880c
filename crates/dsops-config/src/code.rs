//! The code of every diagnostic, in one list.

use std::fmt;

/// Declares [`Code`] from one list, so that the variants, [`Code::as_str`]
/// and [`Code::ALL`] cannot disagree.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $text:literal,)*) => {
        /// What kind of problem a [`Diagnostic`](crate::Diagnostic) is.
        ///
        /// The kebab-case text of each code ([`Code::as_str`], also its
        /// [`Display`](fmt::Display)) is a stable interface: it appears in
        /// `dsops check --format json`, in `error[CODE]` lines, in CI
        /// annotations and in the documentation, and tools match on it. A code
        /// may be added; the text of an existing one never changes.
        /// `docs/configuration.md` lists every code, and a test holds that list
        /// to this enum.
        ///
        /// The severity a code is given is part of its meaning but not fixed
        /// by the type: read [`Diagnostic::severity`](crate::Diagnostic::severity).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in the order of the documentation's table: reading
            /// the file, then its structure, stores, environments, references,
            /// and the checks across the whole file.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The kebab-case text, such as `"unknown-key"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    // ----- reading the file ---------------------------------------------------

    /// Error: the file could not be read (it does not exist, cannot be opened,
    /// or is over the size limit). Reported by the dsops CLI for a
    /// [`ReadError`](crate::ReadError), not by [`load`](crate::load).
    Unreadable => "unreadable",
    /// Error: the file is not valid UTF-8.
    NotUtf8 => "not-utf8",
    /// Error: the text is larger than [`MAX_CONFIG_BYTES`](crate::MAX_CONFIG_BYTES).
    FileTooLarge => "file-too-large",
    /// Error: the file is not valid YAML, or holds more than one document.
    YamlSyntax => "yaml-syntax",
    /// Error: the YAML breaks a limit on nesting, aliases or size that keeps a
    /// hostile file from exhausting memory.
    YamlLimit => "yaml-limit",

    // ----- structure, anywhere in the file ------------------------------------

    /// Error: the file has no content (empty, only comments, or `null`).
    EmptyConfig => "empty-config",
    /// Error: `version` is not a number, or not a version this dsops reads.
    UnsupportedVersion => "unsupported-version",
    /// Warning: the file has no `envs`, so there is nothing to resolve.
    NoEnvs => "no-envs",
    /// Error: a value or key has the wrong YAML type (a list where a mapping
    /// belongs, text where a boolean or number belongs, a list used as a key).
    WrongType => "wrong-type",
    /// Error: a key that dsops does not know in that place.
    UnknownKey => "unknown-key",
    /// Error: a key given twice in the same mapping.
    DuplicateKey => "duplicate-key",
    /// Error: a required key is absent (a store's `type`, a variable's `from`,
    /// a reference's `secret` or `vault`, a `tenant_id`, ...).
    MissingKey => "missing-key",
    /// Error: a key or variable has no value.
    MissingValue => "missing-value",
    /// Error: a keyword (`type`, `operation`, `format`, ...) is not one of the
    /// values it accepts.
    UnknownValue => "unknown-value",
    /// Error: a number is outside its allowed range.
    OutOfRange => "out-of-range",
    /// Error: a duration does not parse, is read from the environment, or is
    /// zero or positive where it must not be.
    InvalidDuration => "invalid-duration",
    /// Error: a `${...}` is not closed or does not name an environment variable.
    BadInterpolation => "bad-interpolation",
    /// Warning under `dsops check`, error for the commands that resolve
    /// values: a `${NAME}` without a default reads a variable that is not set.
    UnsetVariable => "unset-variable",
    /// Error: a name of the wrong shape (a store or environment, a secret, a
    /// storage or Cosmos DB account, a resource group, a region, a SQL server
    /// or database, a variable named by an `environment` fallback).
    InvalidName => "invalid-name",

    // ----- secretStores ------------------------------------------------------

    /// Error: a store key that belongs to the other store type.
    WrongStoreKey => "wrong-store-key",
    /// Error: a tenant, client, object or subscription id that is not a GUID
    /// (or, for a tenant, a domain).
    InvalidId => "invalid-id",
    /// Error: a system-assigned identity is given an id.
    IdentityConflict => "identity-conflict",
    /// Warning: an identity names more than one id; only the first is used.
    IdentityIgnoredId => "identity-ignored-id",
    /// Error: the resource id of a user-assigned identity does not have the
    /// shape of one.
    InvalidResourceId => "invalid-resource-id",
    /// Warning: the subscription in an identity's resource id is not a GUID,
    /// so the id is likely a placeholder.
    PlaceholderId => "placeholder-id",
    /// Error: a vault name or vault URL of the wrong shape.
    InvalidVault => "invalid-vault",
    /// Error: an endpoint URL or DNS suffix of a custom cloud is not valid.
    InvalidEndpoint => "invalid-endpoint",
    /// Warning: a custom `authority_host` that is not a named cloud's Entra
    /// ID and that `DSOPS_TRUSTED_AUTHORITY` does not confirm: dsops sends
    /// no client secret or federated assertion there.
    UntrustedAuthority => "untrusted-authority",
    /// Warning: a client secret is written in the file rather than read from
    /// the environment.
    CredentialInFile => "credential-in-file",
    /// Error: `fallback` is an empty list, so no credential could be found.
    EmptyFallback => "empty-fallback",
    /// Warning: a `fallback` source repeats an earlier one and is never reached.
    DuplicateFallback => "duplicate-fallback",
    /// Error: a resource is listed twice in a store's `resources`.
    DuplicateResource => "duplicate-resource",
    /// Warning: a token cache buffer of an hour or more, which outlives the
    /// tokens it is meant to keep.
    TokenBufferTooLong => "token-buffer-too-long",
    /// Warning: a setting that dsops accepts but that cannot do what it says
    /// (`batch_size`, `preferred_regions`, a `subscription` that is not used,
    /// debug settings while debug is off).
    NoEffect => "no-effect",
    /// Error: `debug.log_tokens: true`, which dsops refuses.
    LogTokensRefused => "log-tokens-refused",

    // ----- envs --------------------------------------------------------------

    /// Warning: an environment has no variables.
    EmptyEnv => "empty-env",
    /// Error: a variable name that is not a valid environment variable name.
    InvalidVariableName => "invalid-variable-name",
    /// Warning: a variable that overrides something risky (such as `PATH` or
    /// `LD_PRELOAD`) or is in a namespace GitHub Actions reserves.
    DangerousVariable => "dangerous-variable",
    /// Error: a literal value contains a NUL character, which no environment
    /// variable can hold.
    NulInValue => "nul-in-value",
    /// Warning: a literal value looks like a credential written in the file.
    CredentialLiteral => "credential-literal",
    /// Error: `default:` on a variable that is not `optional: true` (a
    /// required variable that fails stops the program; a default would hide
    /// that).
    DefaultOnRequired => "default-on-required",

    // ----- from: -------------------------------------------------------------

    /// Error: `operation` and `resource_type` of a `from:` do not go together.
    ConflictingKeys => "conflicting-keys",
    /// Error: a `from:` key that belongs to another form of reference.
    WrongFormKey => "wrong-form-key",
    /// Error: a Key Vault `version` that is not 32 hexadecimal digits.
    InvalidVersion => "invalid-version",
    /// Error: a `field:` that is not a path of names separated by dots, or
    /// on a Key Vault certificate or key (it selects from a secret's JSON).
    InvalidField => "invalid-field",
    /// Error: SAS permissions, services, resource types or IP range of the
    /// wrong shape.
    InvalidSas => "invalid-sas",
    /// Error: the `resource` of a `get_token` reference is not an https URL,
    /// an `api://` URI or an application id.
    InvalidResource => "invalid-resource",

    // ----- across the whole file ---------------------------------------------

    /// Error: a `from:` names a store that `secretStores` does not define.
    UnknownStore => "unknown-store",
    /// Warning: a store that no variable uses.
    UnusedStore => "unused-store",
    /// Error: a vault URL that is not a Key Vault host of the store's cloud, so
    /// a Key Vault token would be sent elsewhere.
    VaultHostMismatch => "vault-host-mismatch",
    /// Warning: two variables of an environment differ only in case.
    VariableCaseClash => "variable-case-clash",
    /// Error: an environment asked for (`--env`) that the file does not define.
    UnknownEnv => "unknown-env",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use std::collections::HashSet;

    #[test]
    fn texts_are_unique_and_kebab_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "`{text}` is the text of two codes");
            assert!(
                !text.is_empty()
                    && text.split('-').all(|word| {
                        !word.is_empty()
                            && word
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    })
                    && text.starts_with(|c: char| c.is_ascii_lowercase()),
                "`{text}` is not kebab-case"
            );
        }
    }

    #[test]
    fn all_lists_each_code_once() {
        let set: HashSet<Code> = Code::ALL.iter().copied().collect();
        assert_eq!(set.len(), Code::ALL.len());
    }

    #[test]
    fn display_and_comparisons_use_the_text() {
        assert_eq!(Code::UnknownKey.to_string(), "unknown-key");
        assert_eq!(Code::VaultHostMismatch, "vault-host-mismatch");
        assert!(Code::UnusedStore == *"unused-store");
        assert!(Code::UnusedStore != "unknown-store");
    }
}
