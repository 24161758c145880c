//! Reading values from Key Vault's data plane: a secret, a certificate with
//! its private key as PEM, a certificate's public part, a key's public JWK.
//!
//! Every function takes the [`Http`] to send with (its retries, deadline and
//! CA bundle), a bearer token the vault accepts (audience
//! `https://vault.azure.net`), the vault's URL ([`super::vault_url`])
//! and the object's name, with a version or `None` for the current one. It
//! sends one `GET` (retried on throttling and server errors as [`Http`]
//! does) with `api-version=7.5`.
//!
//! Key Vault serves expired objects and objects not yet valid; dsops refuses
//! them ([`KeyVaultError::Expired`], [`KeyVaultError::NotYetValid`]), as it
//! refuses disabled ones ([`KeyVaultError::Disabled`]).

use std::fmt;
use std::time::SystemTime;

use dsops_config::model::KeyVaultObject;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{KeyVaultError, from_epoch};
use super::url::object_url;
use super::{jwk, pem};
use crate::azure::http::Http;

/// `application/x-pem-file`: a backing secret in PEM.
pub(crate) const PEM_CONTENT_TYPE: &str = "application/x-pem-file";
/// `application/x-pkcs12`: a backing secret as base64 of a PFX.
pub(crate) const PKCS12_CONTENT_TYPE: &str = "application/x-pkcs12";

/// One version of a secret, with its value. `Debug` never shows the value.
#[derive(Clone)]
pub(crate) struct SecretBundle {
    /// The value.
    pub value: SecretString,
    /// `contentType`, as the secret's writer set it.
    pub content_type: Option<String>,
    /// The version's id: `https://NAME.vault.azure.net/secrets/NAME/VERSION`.
    pub id: String,
    /// The version (the last segment of the id).
    pub version: String,
    /// `attributes.enabled` (always true: a disabled secret is an error).
    pub enabled: bool,
    /// `attributes.exp` (always in the future: an expired secret is an error).
    pub expires: Option<SystemTime>,
    /// `attributes.nbf` (always past: a secret not yet valid is an error).
    pub not_before: Option<SystemTime>,
    /// Whether Key Vault manages it: a certificate's backing secret.
    pub managed: bool,
}

impl fmt::Debug for SecretBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBundle")
            .field("value", &"[redacted]")
            .field("content_type", &self.content_type)
            .field("id", &self.id)
            .field("version", &self.version)
            .field("enabled", &self.enabled)
            .field("expires", &self.expires)
            .field("not_before", &self.not_before)
            .field("managed", &self.managed)
            .finish()
    }
}

/// A certificate with its private key, as one PEM text.
#[derive(Clone)]
pub(crate) struct CertificatePem {
    /// The private key (PKCS#8 `PRIVATE KEY`; a SEC1 `EC PRIVATE KEY` with
    /// explicit curve parameters stays as it is), then the certificates,
    /// leaf first.
    pub pem: SecretString,
    /// The certificates only (`CERTIFICATE` blocks, leaf first): public.
    pub certificate_pem: String,
    /// The format the backing secret was in: [`PEM_CONTENT_TYPE`] or
    /// [`PKCS12_CONTENT_TYPE`].
    pub content_type: String,
    /// The version read.
    pub version: String,
}

impl fmt::Debug for CertificatePem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificatePem")
            .field("pem", &"[redacted]")
            .field(
                "certificates",
                &self.certificate_pem.matches("-----BEGIN ").count(),
            )
            .field("content_type", &self.content_type)
            .field("version", &self.version)
            .finish()
    }
}

/// `attributes` of a secret, certificate or key.
#[derive(Debug, Default, Deserialize)]
struct Attributes {
    enabled: Option<bool>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

impl Attributes {
    /// Refuses what is disabled, expired or not yet valid.
    fn check(&self, now: SystemTime) -> Result<(), KeyVaultError> {
        if self.enabled == Some(false) {
            return Err(KeyVaultError::Disabled);
        }
        if let Some(at) = self.exp.map(from_epoch)
            && at <= now
        {
            return Err(KeyVaultError::Expired { at });
        }
        if let Some(from) = self.nbf.map(from_epoch)
            && from > now
        {
            return Err(KeyVaultError::NotYetValid { from });
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct SecretAnswer {
    value: Option<String>,
    id: Option<String>,
    #[serde(rename = "contentType")]
    content_type: Option<String>,
    #[serde(default)]
    attributes: Attributes,
    #[serde(default)]
    managed: bool,
}

#[derive(Deserialize)]
struct CertificateAnswer {
    cer: Option<String>,
    #[serde(default)]
    attributes: Attributes,
}

#[derive(Deserialize)]
struct KeyAnswer {
    key: Option<Map<String, Value>>,
    #[serde(default)]
    attributes: Attributes,
}

/// A 401's challenge must name the vault's own domain; one that names
/// another is refused, whatever the status says.
fn check_challenge(url: &str, headers: &http::HeaderMap) -> Result<(), KeyVaultError> {
    let Some(challenge) = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    let Some(resource) = super::probe::challenge_parameter(challenge, "resource") else {
        return Ok(());
    };
    if super::url::challenge_resource_matches(url, &resource) {
        return Ok(());
    }
    let vault_host = crate::azure::http::Address::parse(url)
        .map(|a| a.host().to_owned())
        .unwrap_or_default();
    Err(KeyVaultError::ChallengeMismatch {
        resource,
        vault_host,
    })
}

/// `GET url` with the token; the body as `T`, or the error Key Vault answered.
async fn get_json<T: DeserializeOwned>(
    http: &Http,
    token: &SecretString,
    url: &str,
    what: &str,
) -> Result<T, KeyVaultError> {
    let response = http.get_with_bearer(url, token).await?;
    if response.status.as_u16() == 401 {
        check_challenge(url, &response.headers)?;
    }
    if !response.status.is_success() {
        return Err(KeyVaultError::from_status(
            response.status.as_u16(),
            response.status.canonical_reason().unwrap_or("error"),
            &response.body,
        ));
    }
    parse_json(&response.body, what)
}

/// A 200 answer's body as `T`, or what is wrong with it.
fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, KeyVaultError> {
    // serde's messages may quote what they could not read: only say where.
    serde_json::from_slice(body).map_err(|e| {
        let problem = if e.is_data() {
            format!("it is not {what}")
        } else {
            "it is not JSON".to_owned()
        };
        KeyVaultError::Protocol(format!(
            "{problem} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// The version in an object's id: `.../secrets/NAME/VERSION`.
fn version_of(id: &str) -> String {
    let path = id.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.rsplit('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some(version), Some(_name), Some("secrets" | "certificates" | "keys")) => {
            version.to_owned()
        }
        _ => String::new(),
    }
}

/// `GET {vault}/secrets/{name}/{version}`: one version of a secret, the
/// current one when `version` is `None`.
///
/// Errors: [`KeyVaultError::Status`] for Key Vault's refusals (`404
/// SecretNotFound`, `403 ForbiddenByRbac`, `401` for a token it does not
/// accept); [`KeyVaultError::Disabled`], [`KeyVaultError::Expired`],
/// [`KeyVaultError::NotYetValid`]; [`KeyVaultError::Transport`] when no
/// answer came.
pub(crate) async fn get_secret(
    http: &Http,
    token: &SecretString,
    vault_url: &str,
    name: &str,
    version: Option<&str>,
) -> Result<SecretBundle, KeyVaultError> {
    let url = object_url(vault_url, KeyVaultObject::Secret, name, version);
    let answer: SecretAnswer = get_json(http, token, &url, "a Key Vault secret").await?;
    secret_of(answer, SystemTime::now())
}

/// A secret's 200 answer (`SecretBundle` in the spec) as read at `now`.
#[cfg(test)]
pub(crate) fn parse_secret(body: &[u8], now: SystemTime) -> Result<SecretBundle, KeyVaultError> {
    secret_of(parse_json(body, "a Key Vault secret")?, now)
}

fn secret_of(answer: SecretAnswer, now: SystemTime) -> Result<SecretBundle, KeyVaultError> {
    answer.attributes.check(now)?;
    let Some(value) = answer.value else {
        return Err(KeyVaultError::Protocol(
            "the secret has no value".to_owned(),
        ));
    };
    let id = answer.id.unwrap_or_default();
    Ok(SecretBundle {
        value: SecretString::from(value),
        content_type: answer.content_type,
        version: version_of(&id),
        id,
        enabled: answer.attributes.enabled.unwrap_or(true),
        expires: answer.attributes.exp.map(from_epoch),
        not_before: answer.attributes.nbf.map(from_epoch),
        managed: answer.managed,
    })
}

/// One item of a list of secrets: no value, its id and attributes.
#[derive(Deserialize)]
struct SecretItem {
    id: Option<String>,
    #[serde(default)]
    attributes: Attributes,
    /// True for the secret behind a certificate.
    managed: Option<bool>,
}

/// A page of `GET {vault}/secrets`.
#[derive(Deserialize)]
struct SecretPage {
    #[serde(default)]
    value: Vec<SecretItem>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

/// The secret's name in an item `id` of `vault`'s list
/// (`https://myvault.vault.azure.net/secrets/NAME`): the vault is compared
/// as a URL (host case and port 443 as the vault was named or not), the
/// path must be `/secrets/NAME`.
fn secret_name<'a>(vault: &str, id: &'a str) -> Option<&'a str> {
    if !super::probe::same_vault(vault, id) {
        return None;
    }
    // After `scheme://authority`: the path, without query or fragment.
    let (_, after_scheme) = id.split_once("://")?;
    let path = after_scheme
        .find('/')
        .map_or("", |at| &after_scheme[at..])
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    path.strip_prefix("/secrets/")
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

/// How many pages of 25 are followed at most (2,500 secrets).
const MAX_PAGES: usize = 100;

/// `GET {vault}/secrets` (Get Secrets, `secrets/list`), page by page
/// through `nextLink`: the names of the secrets that can be read now
/// (enabled, not expired, valid already), in the vault's order, without
/// the secrets behind certificates (`managed`). Reads no value. A
/// `nextLink` outside the vault is refused: the token goes nowhere else.
pub(crate) async fn list_secret_names(
    http: &Http,
    token: &SecretString,
    vault_url: &str,
) -> Result<Vec<String>, KeyVaultError> {
    let base = vault_url.trim_end_matches('/');
    let mut url = format!(
        "{base}/secrets?maxresults=25&api-version={}",
        super::url::API_VERSION
    );
    let mut names = Vec::new();
    let now = SystemTime::now();
    for _ in 0..MAX_PAGES {
        let page: SecretPage = get_json(http, token, &url, "a Key Vault list of secrets").await?;
        for item in page.value {
            if item.managed == Some(true) || item.attributes.check(now).is_err() {
                continue;
            }
            if let Some(name) = item.id.as_deref().and_then(|id| secret_name(base, id)) {
                names.push(name.to_owned());
            }
        }
        match page.next_link.filter(|next| !next.is_empty()) {
            None => return Ok(names),
            // Compared as URLs: Key Vault's nextLinks name port 443.
            Some(next) if super::probe::same_vault(&url, &next) => url = next,
            Some(_) => {
                return Err(KeyVaultError::Protocol(
                    "the list's nextLink points outside the vault".to_owned(),
                ));
            }
        }
    }
    Err(KeyVaultError::Protocol(format!(
        "the vault lists more than {} secrets",
        MAX_PAGES * 25
    )))
}

/// A certificate with its private key, read from its backing secret
/// (`GET {vault}/secrets/{name}/{version}`), as one PEM text: the private key
/// as PKCS#8 `PRIVATE KEY`, then the certificate chain, leaf first.
///
/// The backing secret may be PEM ([`PEM_CONTENT_TYPE`]; blocks in any order,
/// PKCS#1 and SEC1 keys rewrapped as PKCS#8) or a PFX ([`PKCS12_CONTENT_TYPE`],
/// read with the empty password Key Vault uses; 3DES, RC2-40, AES-256 or no
/// encryption). Without a content type the value is taken as PEM if it holds
/// a `-----BEGIN` line, as a PFX otherwise.
///
/// Needs `secrets/get` on it (Key Vault Secrets User or Certificate User).
/// The backing secret carries the certificate's validity: an expired
/// certificate is [`KeyVaultError::Expired`]. A certificate whose key is not
/// exportable has no private key to give: [`KeyVaultError::Certificate`].
pub(crate) async fn get_certificate_pem(
    http: &Http,
    token: &SecretString,
    vault_url: &str,
    name: &str,
    version: Option<&str>,
) -> Result<CertificatePem, KeyVaultError> {
    use secrecy::ExposeSecret;

    let secret = get_secret(http, token, vault_url, name, version).await?;
    let value = secret.value.expose_secret();
    let content_type = match secret.content_type.as_deref().map(str::trim) {
        Some(t) if t.eq_ignore_ascii_case(PEM_CONTENT_TYPE) => PEM_CONTENT_TYPE,
        Some(t) if t.eq_ignore_ascii_case(PKCS12_CONTENT_TYPE) => PKCS12_CONTENT_TYPE,
        _ if value.contains("-----BEGIN ") => PEM_CONTENT_TYPE,
        _ => PKCS12_CONTENT_TYPE,
    };
    let normalised = if content_type == PEM_CONTENT_TYPE {
        pem::from_pem(value)?
    } else {
        pem::from_pkcs12(value)?
    };
    Ok(CertificatePem {
        pem: normalised.pem,
        certificate_pem: normalised.certificates,
        content_type: content_type.to_owned(),
        version: secret.version,
    })
}

/// A certificate's public part: `GET {vault}/certificates/{name}/{version}`,
/// its `cer` (DER) as one PEM `CERTIFICATE` block. Key Vault gives the leaf
/// only, without the chain.
///
/// Needs `certificates/get` (Key Vault Certificate User or Reader), not the
/// private key. Disabled, expired and not yet valid certificates are
/// refused as secrets are.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "resolution reads the backing secret; the certificate object's public part is read only by the Key Vault client's tests, kept for the certificate form that wants no private key"
    )
)]
pub(crate) async fn get_certificate_public_pem(
    http: &Http,
    token: &SecretString,
    vault_url: &str,
    name: &str,
    version: Option<&str>,
) -> Result<String, KeyVaultError> {
    let url = object_url(vault_url, KeyVaultObject::Certificate, name, version);
    let answer: CertificateAnswer = get_json(http, token, &url, "a Key Vault certificate").await?;
    certificate_of(answer, SystemTime::now())
}

/// A certificate's 200 answer (`CertificateBundle`): its `cer` as PEM.
#[cfg(test)]
pub(crate) fn parse_certificate(body: &[u8], now: SystemTime) -> Result<String, KeyVaultError> {
    certificate_of(parse_json(body, "a Key Vault certificate")?, now)
}

fn certificate_of(answer: CertificateAnswer, now: SystemTime) -> Result<String, KeyVaultError> {
    answer.attributes.check(now)?;
    answer
        .cer
        .as_deref()
        .and_then(pem::decode_base64)
        .and_then(|der| pem::certificate_pem(&der))
        .ok_or_else(|| {
            KeyVaultError::Protocol("the certificate's `cer` is not a DER certificate".to_owned())
        })
}

/// A key's public part: `GET {vault}/keys/{name}/{version}`, as a compact
/// JWK with `kid`, `kty`, `key_ops` and `n`, `e` (RSA) or `crv`, `x`, `y`
/// (EC). Any private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k`) is
/// dropped, even if a server sent one; `RSA-HSM` / `EC-HSM` are written `RSA`
/// / `EC`.
///
/// Needs `keys/read` (Key Vault Crypto User, Certificate User or Reader).
/// Disabled, expired and not yet valid keys are refused as secrets are.
pub(crate) async fn get_key_jwk(
    http: &Http,
    token: &SecretString,
    vault_url: &str,
    name: &str,
    version: Option<&str>,
) -> Result<String, KeyVaultError> {
    let url = object_url(vault_url, KeyVaultObject::Key, name, version);
    let answer: KeyAnswer = get_json(http, token, &url, "a Key Vault key").await?;
    key_of(answer, SystemTime::now())
}

/// A key's 200 answer (`KeyBundle`): its public JWK.
#[cfg(test)]
pub(crate) fn parse_key(body: &[u8], now: SystemTime) -> Result<String, KeyVaultError> {
    key_of(parse_json(body, "a Key Vault key")?, now)
}

fn key_of(answer: KeyAnswer, now: SystemTime) -> Result<String, KeyVaultError> {
    answer.attributes.check(now)?;
    let Some(key) = answer.key else {
        return Err(KeyVaultError::Protocol(
            "the answer has no `key`".to_owned(),
        ));
    };
    jwk::public_jwk(&key).map_err(KeyVaultError::Protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_ids() {
        assert_eq!(
            version_of("https://v.vault.azure.net/secrets/db/0123abcd"),
            "0123abcd"
        );
        assert_eq!(version_of("https://v.vault.azure.net/secrets/db"), "");
        assert_eq!(version_of(""), "");
    }

    #[test]
    fn attributes_refuse_disabled_expired_and_future() {
        let now = from_epoch(2_000_000_000);
        let ok = Attributes {
            enabled: Some(true),
            exp: Some(2_000_000_001),
            nbf: Some(1_999_999_999),
        };
        assert!(ok.check(now).is_ok());
        assert!(Attributes::default().check(now).is_ok());
        let disabled = Attributes {
            enabled: Some(false),
            exp: Some(1),
            ..Attributes::default()
        };
        assert!(matches!(disabled.check(now), Err(KeyVaultError::Disabled)));
        let expired = Attributes {
            exp: Some(2_000_000_000),
            ..Attributes::default()
        };
        let e = expired.check(now).unwrap_err();
        assert!(
            matches!(e, KeyVaultError::Expired { at } if at == now),
            "{e:?}"
        );
        assert!(e.to_string().contains("2033-05-18T03:33:20Z"), "{e}");
        let future = Attributes {
            nbf: Some(2_000_000_060),
            ..Attributes::default()
        };
        assert!(matches!(
            future.check(now),
            Err(KeyVaultError::NotYetValid { .. })
        ));
    }

    #[test]
    fn debug_never_shows_the_value() {
        let bundle = SecretBundle {
            value: SecretString::from("canary-value"),
            content_type: None,
            id: "id".into(),
            version: "v".into(),
            enabled: true,
            expires: None,
            not_before: None,
            managed: false,
        };
        let text = format!("{bundle:?}");
        assert!(!text.contains("canary"), "{text}");
        let cert = CertificatePem {
            pem: SecretString::from("-----BEGIN PRIVATE KEY-----canary"),
            certificate_pem: "-----BEGIN CERTIFICATE-----".into(),
            content_type: PEM_CONTENT_TYPE.into(),
            version: "v".into(),
        };
        let text = format!("{cert:?}");
        assert!(!text.contains("canary"), "{text}");
    }

    #[test]
    fn a_listed_id_names_its_secret_however_the_vault_was_written() {
        let id = "https://myvault.vault.azure.net/secrets/db-password";
        for vault in [
            "https://myvault.vault.azure.net",
            "https://MyVault.vault.azure.net",
            "https://myvault.vault.azure.net:443",
        ] {
            assert_eq!(secret_name(vault, id), Some("db-password"), "{vault}");
        }
        let vault = "https://myvault.vault.azure.net";
        assert_eq!(
            secret_name(vault, "https://myvault.vault.azure.net:443/secrets/a?x=1"),
            Some("a")
        );
        for other in [
            "https://othervault.vault.azure.net/secrets/a",
            "https://myvault.vault.azure.net/keys/a",
            "https://myvault.vault.azure.net/secrets/a/0123",
            "https://myvault.vault.azure.net/secrets/",
            "https://myvault.vault.azure.net:8443/secrets/a",
            "not a url",
        ] {
            assert_eq!(secret_name(vault, other), None, "{other}");
        }
    }
}
