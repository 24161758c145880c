//! Account SAS: the query string of a shared access signature over a whole
//! storage account, signed with one of its keys.
//!
//! As described in "Create an account SAS" (Storage REST reference): for a
//! signed version of 2020-12-06 or later the string-to-sign is
//!
//! ```text
//! accountname \n signedpermissions \n signedservice \n signedresourcetype \n
//! signedstart \n signedexpiry \n signedIP \n signedProtocol \n signedversion \n
//! signedEncryptionScope \n
//! ```
//!
//! (each field followed by a newline; optional fields empty, their newline
//! kept; dsops sets no encryption scope), and `sig` is the Base64 HMAC-SHA256
//! of it under the Base64-decoded account key.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret as _, SecretSlice, SecretString};

pub(crate) use dsops_config::model::SasProtocol;
use dsops_config::model::StorageSasRef;

use crate::azure::utc;

/// The signed version (`sv`) of every SAS dsops makes.
///
/// 2022-11-02: not before 2020-12-06, so the string-to-sign is the current
/// one (with the encryption-scope line); recent enough for every permission
/// letter dsops accepts; long served by Azure Storage; and among the versions
/// Azurite 3.x accepts for Blob, Queue and Table. When no `x-ms-version`
/// header is sent (a plain URL in a browser or `curl`), the service runs the
/// request at this version.
pub(super) const SIGNED_VERSION: &str = "2022-11-02";

/// Account SAS permission letters, in the order Azure requires them in `sp`:
/// read, write, delete, delete version, permanent delete, list, add, create,
/// update, process, tag, filter, set immutability policy.
pub(super) const PERMISSIONS: &str = "rwdxylacuptfi";

/// Service letters (`ss`), in order: blob, file, queue, table.
pub(super) const SERVICES: &str = "bfqt";

/// Resource type letters (`srt`), in order: service, container, object.
pub(super) const RESOURCE_TYPES: &str = "sco";

/// `ss` when [`AccountSas::services`] is `None`: Blob only.
const DEFAULT_SERVICES: &str = "b";

/// `srt` when [`AccountSas::resource_types`] is `None`: containers and objects.
const DEFAULT_RESOURCE_TYPES: &str = "co";

/// The last second ISO 8601's four-digit year can write: 9999-12-31T23:59:59Z.
const MAX_SECONDS: u64 = 253_402_300_799;

/// What to sign: the fields of an `operation: generate_sas` reference
/// without the account; `AccountSas::from(&StorageSasRef)` takes them from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountSas {
    /// Permission letters of [`PERMISSIONS`], in any order, each at most once.
    pub permissions: String,
    /// How long the token is valid from issue (`se` = now + expiry).
    pub expiry: Duration,
    /// How long before issue the token becomes valid (`st` = now - this);
    /// no `st` when `None`, so the token is valid from when it is made.
    pub start_before: Option<Duration>,
    /// Service letters of [`SERVICES`]; `b` when `None`.
    pub services: Option<String>,
    /// Resource type letters of [`RESOURCE_TYPES`]; `co` when `None`.
    pub resource_types: Option<String>,
    /// `sip`: an IPv4 address or an inclusive range `a.b.c.d-e.f.g.h`.
    pub ip: Option<String>,
    /// `spr`.
    pub protocol: SasProtocol,
}

impl From<&StorageSasRef> for AccountSas {
    fn from(r: &StorageSasRef) -> Self {
        AccountSas {
            permissions: r.permissions.value.clone(),
            expiry: r.expiry.value,
            start_before: r.start_before.as_ref().map(|s| s.value),
            services: r.services.as_ref().map(|t| t.value.clone()),
            resource_types: r.resource_types.as_ref().map(|t| t.value.clone()),
            ip: r.ip.as_ref().map(|t| t.value.clone()),
            protocol: r.protocol,
        }
    }
}

/// Why a SAS could not be made. No variant carries the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum SasError {
    /// The account name is not 3 to 24 lower-case letters and digits.
    #[error("`{0}` is not a storage account name (3 to 24 lower-case letters and digits)")]
    AccountName(String),
    /// The key is not Base64, or decodes to nothing.
    #[error("the key of storage account `{0}` is not a Base64 storage account key")]
    Key(String),
    /// A list of letters is empty.
    #[error("SAS {field} are empty: give at least one of `{allowed}`")]
    Empty {
        /// `permissions`, `services` or `resource types`.
        field: &'static str,
        /// The letters it may contain.
        allowed: &'static str,
    },
    /// A letter outside the set.
    #[error("SAS {field} `{value}` have `{letter}`, which is not one of `{allowed}`")]
    UnknownLetter {
        /// `permissions`, `services` or `resource types`.
        field: &'static str,
        /// As given.
        value: String,
        /// The first letter not in `allowed`.
        letter: char,
        /// The letters it may contain.
        allowed: &'static str,
    },
    /// A letter given twice.
    #[error("SAS {field} `{value}` have `{letter}` twice")]
    DuplicateLetter {
        /// `permissions`, `services` or `resource types`.
        field: &'static str,
        /// As given.
        value: String,
        /// The repeated letter.
        letter: char,
    },
    /// `ip` is not an IPv4 address or an ordered range.
    #[error(
        "SAS ip `{0}` is not an IPv4 address (`203.0.113.7`) or a range whose start is not after its end (`203.0.113.0-203.0.113.255`)"
    )]
    Ip(String),
    /// A zero `expiry`.
    #[error("SAS expiry must be longer than zero")]
    ZeroExpiry,
    /// `st` or `se` before 1970 or after 9999.
    #[error("the SAS {0} time falls outside 1970-01-01 to 9999-12-31")]
    TimeOutOfRange(&'static str),
}

/// The query string of an account SAS (no leading `?`): `sv`, `ss`, `srt`,
/// `sp`, `st` (when `start_before` is set), `se`, `sip` (when `ip` is set),
/// `spr` and `sig`, URL-encoded. Letters are put in Azure's order
/// (`sp=lr` is signed as `rl`); unknown or repeated letters are errors.
///
/// `now` is the time of issue; `st` and `se` are whole seconds (UTC,
/// `YYYY-MM-DDTHH:MM:SSZ`), rounded down.
pub(crate) fn account_sas(
    account: &str,
    key_base64: &SecretString,
    params: &AccountSas,
    now: SystemTime,
) -> Result<SecretString, SasError> {
    if !(3..=24).contains(&account.len())
        || !account
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(SasError::AccountName(account.to_owned()));
    }
    let permissions = canonical("permissions", &params.permissions, PERMISSIONS)?;
    let services = canonical(
        "services",
        params.services.as_deref().unwrap_or(DEFAULT_SERVICES),
        SERVICES,
    )?;
    let resource_types = canonical(
        "resource types",
        params
            .resource_types
            .as_deref()
            .unwrap_or(DEFAULT_RESOURCE_TYPES),
        RESOURCE_TYPES,
    )?;
    if let Some(ip) = &params.ip
        && !is_ip_range(ip)
    {
        return Err(SasError::Ip(ip.clone()));
    }
    if params.expiry.is_zero() {
        return Err(SasError::ZeroExpiry);
    }
    let expiry = now
        .checked_add(params.expiry)
        .ok_or(SasError::TimeOutOfRange("expiry"))
        .and_then(|t| format_time(t, "expiry"))?;
    let start = match params.start_before {
        Some(before) => Some(
            now.checked_sub(before)
                .ok_or(SasError::TimeOutOfRange("start"))
                .and_then(|t| format_time(t, "start"))?,
        ),
        None => None,
    };
    let protocol = match params.protocol {
        SasProtocol::Https => "https",
        SasProtocol::HttpsAndHttp => "https,http",
    };
    let ip = params.ip.as_deref().unwrap_or("");

    let key: SecretSlice<u8> = STANDARD
        .decode(key_base64.expose_secret().trim())
        .map_err(|_| SasError::Key(account.to_owned()))?
        .into();
    if key.expose_secret().is_empty() {
        return Err(SasError::Key(account.to_owned()));
    }
    let string_to_sign = [
        account,
        &permissions,
        &services,
        &resource_types,
        start.as_deref().unwrap_or(""),
        &expiry,
        ip,
        protocol,
        SIGNED_VERSION,
        "", // signedEncryptionScope
    ]
    .iter()
    .fold(String::new(), |mut s, field| {
        s.push_str(field);
        s.push('\n');
        s
    });
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key.expose_secret()),
        string_to_sign.as_bytes(),
    );
    let signature = STANDARD.encode(tag.as_ref());

    let mut query = String::new();
    let mut push = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    };
    push("sv", SIGNED_VERSION);
    push("ss", &services);
    push("srt", &resource_types);
    push("sp", &permissions);
    if let Some(start) = &start {
        push("st", start);
    }
    push("se", &expiry);
    if !ip.is_empty() {
        push("sip", ip);
    }
    push("spr", protocol);
    push("sig", &signature);
    Ok(SecretString::from(query))
}

/// `value`'s letters in the order of `allowed`; each must be in `allowed`, once.
fn canonical(field: &'static str, value: &str, allowed: &'static str) -> Result<String, SasError> {
    if value.is_empty() {
        return Err(SasError::Empty { field, allowed });
    }
    let mut seen = String::new();
    for letter in value.chars() {
        if !allowed.contains(letter) {
            return Err(SasError::UnknownLetter {
                field,
                value: value.to_owned(),
                letter,
                allowed,
            });
        }
        if seen.contains(letter) {
            return Err(SasError::DuplicateLetter {
                field,
                value: value.to_owned(),
                letter,
            });
        }
        seen.push(letter);
    }
    Ok(allowed.chars().filter(|c| seen.contains(*c)).collect())
}

/// An IPv4 address, or `a-b` with `a <= b`.
fn is_ip_range(s: &str) -> bool {
    match s.split_once('-') {
        Some((a, b)) => match (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
            (Ok(a), Ok(b)) => a <= b,
            _ => false,
        },
        None => s.parse::<Ipv4Addr>().is_ok(),
    }
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds rounded down).
fn format_time(t: SystemTime, what: &'static str) -> Result<String, SasError> {
    let seconds = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SasError::TimeOutOfRange(what))?
        .as_secs();
    if seconds > MAX_SECONDS {
        return Err(SasError::TimeOutOfRange(what));
    }
    Ok(utc::format(t))
}

/// When the SAS `sas` (a query string, with or without its `?`) expires:
/// its `se` parameter, percent-decoded. `None` when it has none that
/// parses (see [`utc::parse`]).
pub(crate) fn signed_expiry(sas: &str) -> Option<SystemTime> {
    let query = sas.rsplit_once('?').map_or(sas, |(_, query)| query);
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "se")
        .and_then(|(_, value)| utc::parse(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Azurite's well-known development account and its published key.
    const ACCOUNT: &str = "devstoreaccount1";
    const KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    /// 2024-02-29T12:34:56Z (Python: `calendar.timegm((2024, 2, 29, 12, 34, 56))`).
    const NOW: u64 = 1_709_210_096;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn key() -> SecretString {
        SecretString::from(KEY)
    }

    fn params(permissions: &str) -> AccountSas {
        AccountSas {
            permissions: permissions.to_owned(),
            expiry: Duration::from_secs(24 * 3600),
            start_before: None,
            services: None,
            resource_types: None,
            ip: None,
            protocol: SasProtocol::Https,
        }
    }

    fn sign(p: &AccountSas) -> Result<String, SasError> {
        account_sas(ACCOUNT, &key(), p, at(NOW)).map(|s| s.expose_secret().to_owned())
    }

    // The expected signatures below were computed independently, once, with
    // Python's standard library, and pasted here:
    //
    //     key = base64.b64decode(KEY)
    //     s = "\n".join([account, sp, ss, srt, st, se, sip, spr, "2022-11-02", ""]) + "\n"
    //     base64.b64encode(hmac.new(key, s.encode(), hashlib.sha256).digest())
    //
    // and cross-checked with Azurite 3.37.0's own verifier
    // (`generateAccountSASSignature` in
    // dist/src/common/authentication/IAccountSASSignatureValues.js), which
    // gives the same two values.

    #[test]
    fn every_field_gives_the_precomputed_signature() {
        let p = AccountSas {
            permissions: "lwr".into(),
            start_before: Some(Duration::from_secs(15 * 60)),
            services: Some("tb".into()),
            resource_types: Some("oc".into()),
            ip: Some("168.1.5.60-168.1.5.70".into()),
            ..params("")
        };
        // Python: sig over ["devstoreaccount1", "rwl", "bt", "co",
        // "2024-02-29T12:19:56Z", "2024-03-01T12:34:56Z",
        // "168.1.5.60-168.1.5.70", "https", "2022-11-02", ""].
        assert_eq!(
            sign(&p).unwrap(),
            "sv=2022-11-02&ss=bt&srt=co&sp=rwl\
             &st=2024-02-29T12%3A19%3A56Z&se=2024-03-01T12%3A34%3A56Z\
             &sip=168.1.5.60-168.1.5.70&spr=https\
             &sig=WXmnlLrl0S9sHGVH%2F2%2FKrvTRoBCCkz08gKdZHoj9ihk%3D"
        );
    }

    #[test]
    fn defaults_give_the_precomputed_signature() {
        let p = AccountSas {
            protocol: SasProtocol::HttpsAndHttp,
            ..params("r")
        };
        // Python: sig over ["devstoreaccount1", "r", "b", "co", "",
        // "2024-03-01T12:34:56Z", "", "https,http", "2022-11-02", ""].
        assert_eq!(
            sign(&p).unwrap(),
            "sv=2022-11-02&ss=b&srt=co&sp=r&se=2024-03-01T12%3A34%3A56Z\
             &spr=https%2Chttp&sig=MIxzniF4TvcmCpmqm7wRn8NmFr8Ga9sGYnQGWhidVuc%3D"
        );
    }

    #[test]
    fn sub_seconds_are_dropped() {
        let p = params("r");
        let exact = account_sas(ACCOUNT, &key(), &p, at(NOW)).unwrap();
        let later = account_sas(ACCOUNT, &key(), &p, at(NOW) + Duration::from_millis(999)).unwrap();
        assert_eq!(exact.expose_secret(), later.expose_secret());
    }

    #[test]
    fn permissions_are_put_in_azure_order() {
        assert_eq!(
            canonical("permissions", "ifptucalyxdwr", PERMISSIONS).unwrap(),
            "rwdxylacuptfi"
        );
        assert_eq!(canonical("permissions", "lr", PERMISSIONS).unwrap(), "rl");
        assert_eq!(canonical("permissions", "cwa", PERMISSIONS).unwrap(), "wac");
        assert_eq!(canonical("permissions", "yx", PERMISSIONS).unwrap(), "xy");
        assert_eq!(canonical("services", "tqfb", SERVICES).unwrap(), "bfqt");
        assert_eq!(
            canonical("resource types", "os", RESOURCE_TYPES).unwrap(),
            "so"
        );
        // And the signed `sp` is the ordered one.
        assert!(sign(&params("ldr")).unwrap().contains("&sp=rdl&"));
    }

    #[test]
    fn letters_are_checked() {
        assert_eq!(
            sign(&params("rq")),
            Err(SasError::UnknownLetter {
                field: "permissions",
                value: "rq".into(),
                letter: 'q',
                allowed: PERMISSIONS,
            })
        );
        // Upper case is not accepted: the letters are case-sensitive.
        assert!(matches!(
            sign(&params("R")),
            Err(SasError::UnknownLetter { letter: 'R', .. })
        ));
        assert_eq!(
            sign(&params("rwr")),
            Err(SasError::DuplicateLetter {
                field: "permissions",
                value: "rwr".into(),
                letter: 'r',
            })
        );
        assert_eq!(
            sign(&params("")),
            Err(SasError::Empty {
                field: "permissions",
                allowed: PERMISSIONS,
            })
        );
        let services = AccountSas {
            services: Some("bx".into()),
            ..params("r")
        };
        assert!(matches!(
            sign(&services),
            Err(SasError::UnknownLetter {
                field: "services",
                letter: 'x',
                ..
            })
        ));
        let types = AccountSas {
            resource_types: Some("cc".into()),
            ..params("r")
        };
        assert!(matches!(
            sign(&types),
            Err(SasError::DuplicateLetter {
                field: "resource types",
                letter: 'c',
                ..
            })
        ));
        let empty = AccountSas {
            services: Some(String::new()),
            ..params("r")
        };
        assert!(matches!(
            sign(&empty),
            Err(SasError::Empty {
                field: "services",
                ..
            })
        ));
    }

    #[test]
    fn error_messages_name_the_letters() {
        assert_eq!(
            sign(&params("rq")).unwrap_err().to_string(),
            "SAS permissions `rq` have `q`, which is not one of `rwdxylacuptfi`"
        );
        assert_eq!(
            sign(&params("rwr")).unwrap_err().to_string(),
            "SAS permissions `rwr` have `r` twice"
        );
    }

    #[test]
    fn ip_is_an_address_or_an_ordered_range() {
        for good in ["203.0.113.7", "10.0.0.0-10.0.0.255", "1.2.3.4-1.2.3.4"] {
            let p = AccountSas {
                ip: Some(good.into()),
                ..params("r")
            };
            assert!(
                sign(&p).unwrap().contains(&format!("&sip={good}&")),
                "{good}"
            );
        }
        for bad in [
            "",
            "10.0.0.9-10.0.0.1",
            "10.0.0.256",
            "::1",
            "10.0.0.0/24",
            "10.0.0.1-",
            "a-b",
        ] {
            let p = AccountSas {
                ip: Some(bad.into()),
                ..params("r")
            };
            assert_eq!(sign(&p), Err(SasError::Ip(bad.into())), "{bad}");
        }
    }

    #[test]
    fn account_and_key_are_checked() {
        for bad in [
            "ab",
            "Devstore",
            "dev-store",
            "a234567890123456789012345",
            "",
        ] {
            assert_eq!(
                account_sas(bad, &key(), &params("r"), at(NOW)).map(|_| ()),
                Err(SasError::AccountName(bad.into())),
                "{bad}"
            );
        }
        for bad in ["not base64!", "", "===="] {
            let err = account_sas(ACCOUNT, &SecretString::from(bad), &params("r"), at(NOW))
                .map(|_| ())
                .unwrap_err();
            assert_eq!(err, SasError::Key(ACCOUNT.into()));
            assert_eq!(
                err.to_string(),
                "the key of storage account `devstoreaccount1` is not a Base64 storage account key"
            );
        }
    }

    #[test]
    fn times_are_checked() {
        let zero = AccountSas {
            expiry: Duration::ZERO,
            ..params("r")
        };
        assert_eq!(sign(&zero), Err(SasError::ZeroExpiry));
        let too_early = AccountSas {
            start_before: Some(Duration::from_secs(NOW + 1)),
            ..params("r")
        };
        assert_eq!(sign(&too_early), Err(SasError::TimeOutOfRange("start")));
        let too_late = AccountSas {
            expiry: Duration::from_secs(MAX_SECONDS - NOW + 1),
            ..params("r")
        };
        assert_eq!(sign(&too_late), Err(SasError::TimeOutOfRange("expiry")));
        let last = AccountSas {
            expiry: Duration::from_secs(MAX_SECONDS - NOW),
            ..params("r")
        };
        assert!(
            sign(&last)
                .unwrap()
                .contains("&se=9999-12-31T23%3A59%3A59Z&")
        );
        // Issued before 1970 (a clock gone wrong), with an expiry still before it.
        let short = AccountSas {
            expiry: Duration::from_secs(1),
            ..params("r")
        };
        assert_eq!(
            account_sas(ACCOUNT, &key(), &short, UNIX_EPOCH - Duration::from_secs(2)).map(|_| ()),
            Err(SasError::TimeOutOfRange("expiry"))
        );
    }

    #[test]
    fn the_expiry_is_read_back_from_the_token() {
        let token = sign(&params("r")).unwrap();
        assert_eq!(
            signed_expiry(&token),
            Some(UNIX_EPOCH + Duration::from_secs(NOW) + params("r").expiry)
        );
        let url = format!("https://acct.blob.core.windows.net/c?{token}");
        assert_eq!(signed_expiry(&url), signed_expiry(&token));
        assert_eq!(signed_expiry("sv=2022-11-02&sig=abc"), None);
        assert_eq!(signed_expiry("se=tomorrow&sig=abc"), None);
        assert_eq!(
            signed_expiry("se=2030-01-01&sig=abc"),
            crate::azure::utc::parse("2030-01-01T00:00:00Z")
        );
    }

    #[test]
    fn converts_from_a_configuration_reference() {
        use dsops_config::model::{Target, ValueSource};
        use dsops_config::{LoadOptions, Source, load};

        let text = "secretStores:\n  azure:\n    type: azure.managed_identity\n\
            envs:\n  dev:\n    SAS:\n      from: { store: azure, resource_type: storage, \
            account: devstoreaccount1, operation: generate_sas, permissions: lr, expiry: 2h, \
            start: -15m, services: bq, resource_types: sco, ip: 10.0.0.1, protocol: 'https,http' }\n";
        let loaded = load(
            Source::new("dsops.yaml", text),
            &std::collections::HashMap::new(),
            LoadOptions::resolve(),
        );
        let config = loaded.config().expect("valid");
        let variable = &config.env("dev").unwrap().variables[0];
        let ValueSource::Reference(reference) = &variable.value else {
            panic!("not a reference: {variable:?}");
        };
        let Target::StorageSas(sas) = &reference.target else {
            panic!("not a SAS: {reference:?}");
        };
        assert_eq!(
            AccountSas::from(sas),
            AccountSas {
                permissions: "lr".into(),
                expiry: Duration::from_secs(2 * 3600),
                start_before: Some(Duration::from_secs(15 * 60)),
                services: Some("bq".into()),
                resource_types: Some("sco".into()),
                ip: Some("10.0.0.1".into()),
                protocol: SasProtocol::HttpsAndHttp,
            }
        );
        assert!(account_sas(&sas.account.value, &key(), &AccountSas::from(sas), at(NOW)).is_ok());
    }
}
