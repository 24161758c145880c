//! The contents of the emulated Key Vaults: secrets with versions,
//! certificates with their backing secret and key, and keys.

use std::collections::BTreeMap;

use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

use crate::EmulatorError;
use crate::crypto::{b64, b64url, now, pkcs12, sha1, tls, version_from};
use crate::state::{CertificateFormat, KeyType, SecretVersionSpec, VaultSpec};

/// Attributes common to secrets, certificates and keys.
#[derive(Debug, Clone)]
pub(crate) struct Attributes {
    pub(crate) enabled: bool,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) expires: Option<i64>,
    pub(crate) not_before: Option<i64>,
}

impl Attributes {
    fn new(enabled: bool) -> Self {
        let t = now();
        Self {
            enabled,
            created: t,
            updated: t,
            expires: None,
            not_before: None,
        }
    }

    /// The `attributes` object of Key Vault's JSON.
    pub(crate) fn json(&self) -> Value {
        let mut a = json!({
            "enabled": self.enabled,
            "created": self.created,
            "updated": self.updated,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        });
        if let Some(map) = a.as_object_mut() {
            if let Some(exp) = self.expires {
                map.insert("exp".into(), exp.into());
            }
            if let Some(nbf) = self.not_before {
                map.insert("nbf".into(), nbf.into());
            }
        }
        a
    }
}

/// One version of a secret.
#[derive(Debug, Clone)]
pub(crate) struct SecretVersion {
    pub(crate) version: String,
    pub(crate) value: String,
    pub(crate) content_type: Option<String>,
    pub(crate) attributes: Attributes,
    pub(crate) tags: BTreeMap<String, String>,
    /// Set for a certificate's backing secret: the certificate's name.
    pub(crate) managed_by: Option<String>,
}

/// One version of a certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertificateVersion {
    pub(crate) version: String,
    pub(crate) der: Vec<u8>,
    pub(crate) content_type: &'static str,
    pub(crate) attributes: Attributes,
}

/// One version of a key: its public JWK (without `kid`).
#[derive(Debug, Clone)]
pub(crate) struct KeyVersion {
    pub(crate) version: String,
    pub(crate) jwk: Value,
    pub(crate) attributes: Attributes,
    pub(crate) managed: bool,
}

/// Versions of one object, oldest first, under its name as written.
#[derive(Debug, Clone)]
pub(crate) struct Versions<T> {
    pub(crate) name: String,
    pub(crate) versions: Vec<T>,
}

/// A vault's contents. Names are case-insensitive, as in Key Vault.
#[derive(Debug, Clone, Default)]
pub(crate) struct VaultContents {
    pub(crate) secrets: BTreeMap<String, Versions<SecretVersion>>,
    pub(crate) certificates: BTreeMap<String, Versions<CertificateVersion>>,
    pub(crate) keys: BTreeMap<String, Versions<KeyVersion>>,
}

/// A Key Vault object name: 1-127 letters, digits and hyphens.
pub(crate) fn valid_object_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl VaultContents {
    /// Builds a vault from its spec, generating certificates and keys.
    pub(crate) fn build(vault: &str, spec: &VaultSpec) -> Result<Self, EmulatorError> {
        let invalid = |what: &str, name: &str| EmulatorError::State {
            path: None,
            message: format!(
                "vault `{vault}`: {what} `{name}`: a name is 1-127 letters, digits and hyphens"
            ),
        };
        let mut contents = Self::default();
        for (name, secret) in &spec.secrets {
            if !valid_object_name(name) {
                return Err(invalid("secret", name));
            }
            for (i, v) in secret.versions().iter().enumerate() {
                let version = v
                    .version
                    .clone()
                    .unwrap_or_else(|| version_from(&format!("{vault}/secrets/{name}/{i}")));
                if version.len() != 32 || !version.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(EmulatorError::State {
                        path: None,
                        message: format!(
                            "vault `{vault}`: secret `{name}`: a version is 32 hex digits"
                        ),
                    });
                }
                contents.push_secret(name, version.to_ascii_lowercase(), v, None);
            }
        }
        for (name, cert) in &spec.certificates {
            if !valid_object_name(name) {
                return Err(invalid("certificate", name));
            }
            let version = version_from(&format!("{vault}/certificates/{name}/0"));
            let subject = cert.subject.clone().unwrap_or_else(|| name.clone());
            // Whole days, as the certificate's own validity is written.
            let day = |t: i64| t - t.rem_euclid(86_400);
            let not_before = day(cert.not_before.unwrap_or_else(now));
            let expires = day(cert.expires.unwrap_or(not_before + 365 * 86_400));
            let issued = tls::self_signed_valid(
                &subject,
                &cert.dns_names,
                cert.key_type,
                (not_before, expires),
            )?;
            let validity = |enabled: bool| {
                let mut a = Attributes::new(enabled);
                a.not_before = Some(not_before);
                a.expires = Some(expires);
                a
            };
            let (value, content_type) = match cert.format {
                CertificateFormat::Pem => (
                    format!(
                        "{}{}",
                        pem("PRIVATE KEY", &issued.pkcs8),
                        pem("CERTIFICATE", &issued.der)
                    ),
                    "application/x-pem-file",
                ),
                CertificateFormat::Pkcs12 => (
                    b64(&pkcs12::build(
                        &issued.pkcs8,
                        std::slice::from_ref(&issued.der),
                        name,
                    )?),
                    "application/x-pkcs12",
                ),
            };
            let enabled = !cert.disabled;
            let secret = SecretVersionSpec {
                content_type: Some(content_type.to_owned()),
                enabled,
                not_before: Some(not_before),
                expires: Some(expires),
                ..SecretVersionSpec::of(value)
            };
            contents.push_secret(name, version.clone(), &secret, Some(name.clone()));
            let jwk = jwk_of_pkcs8(&issued.pkcs8, cert.key_type)?;
            push(
                &mut contents.keys,
                name,
                KeyVersion {
                    version: version.clone(),
                    jwk,
                    attributes: validity(enabled),
                    managed: true,
                },
            );
            push(
                &mut contents.certificates,
                name,
                CertificateVersion {
                    version,
                    der: issued.der,
                    content_type,
                    attributes: validity(enabled),
                },
            );
        }
        for (name, key) in &spec.keys {
            if !valid_object_name(name) {
                return Err(invalid("key", name));
            }
            if contents.keys.contains_key(&name.to_ascii_lowercase()) {
                return Err(EmulatorError::State {
                    path: None,
                    message: format!("vault `{vault}`: key `{name}` is also a certificate's key"),
                });
            }
            let version = version_from(&format!("{vault}/keys/{name}/0"));
            push(
                &mut contents.keys,
                name,
                KeyVersion {
                    version,
                    jwk: generate_jwk(key.kty)?,
                    attributes: Attributes::new(!key.disabled),
                    managed: false,
                },
            );
        }
        Ok(contents)
    }

    /// Adds a version of a secret (the new current one).
    pub(crate) fn push_secret(
        &mut self,
        name: &str,
        version: String,
        spec: &SecretVersionSpec,
        managed_by: Option<String>,
    ) {
        let mut attributes = Attributes::new(spec.enabled);
        attributes.expires = spec.expires;
        attributes.not_before = spec.not_before;
        push(
            &mut self.secrets,
            name,
            SecretVersion {
                version,
                value: spec.value.clone(),
                content_type: spec.content_type.clone(),
                attributes,
                tags: spec.tags.clone(),
                managed_by,
            },
        );
    }
}

fn push<T>(map: &mut BTreeMap<String, Versions<T>>, name: &str, item: T) {
    map.entry(name.to_ascii_lowercase())
        .or_insert_with(|| Versions {
            name: name.to_owned(),
            versions: Vec::new(),
        })
        .versions
        .push(item);
}

impl<T: HasVersion> Versions<T> {
    /// The current version, or the one named (case-insensitively).
    pub(crate) fn get(&self, version: Option<&str>) -> Option<&T> {
        match version {
            None | Some("") => self.versions.last(),
            Some(v) => self
                .versions
                .iter()
                .find(|x| x.version().eq_ignore_ascii_case(v)),
        }
    }
}

/// Objects with a version id.
pub(crate) trait HasVersion {
    fn version(&self) -> &str;
}

impl HasVersion for SecretVersion {
    fn version(&self) -> &str {
        &self.version
    }
}
impl HasVersion for CertificateVersion {
    fn version(&self) -> &str {
        &self.version
    }
}
impl HasVersion for KeyVersion {
    fn version(&self) -> &str {
        &self.version
    }
}

/// PEM with 64-column lines.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The certificate thumbprint as Key Vault's `x5t`.
pub(crate) fn x5t(der: &[u8]) -> String {
    b64url(&sha1(der))
}

const RSA_OPS: &[&str] = &[
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
];
const EC_OPS: &[&str] = &["sign", "verify"];

fn rsa_jwk(pair: &RsaKeyPair) -> Value {
    let c = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    json!({ "kty": "RSA", "key_ops": RSA_OPS, "n": b64url(&c.n), "e": b64url(&c.e) })
}

fn ec_jwk(point: &[u8]) -> Result<Value, EmulatorError> {
    // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
    match point {
        [4, rest @ ..] if rest.len() == 64 => {
            let (x, y) = rest.split_at(32);
            Ok(
                json!({ "kty": "EC", "key_ops": EC_OPS, "crv": "P-256", "x": b64url(x), "y": b64url(y) }),
            )
        }
        _ => Err(EmulatorError::Crypto("unexpected EC public key encoding")),
    }
}

fn generate_jwk(kty: KeyType) -> Result<Value, EmulatorError> {
    match kty {
        KeyType::Rsa => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| EmulatorError::Crypto("RSA key generation failed"))?;
            Ok(rsa_jwk(&pair))
        }
        KeyType::Ec => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &aws_lc_rs::rand::SystemRandom::new(),
            )
            .map_err(|_| EmulatorError::Crypto("EC key generation failed"))?;
            jwk_of_pkcs8(pkcs8.as_ref(), KeyType::Ec)
        }
    }
}

fn jwk_of_pkcs8(pkcs8: &[u8], kty: KeyType) -> Result<Value, EmulatorError> {
    match kty {
        KeyType::Rsa => {
            let pair =
                RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| EmulatorError::Crypto("bad RSA key"))?;
            Ok(rsa_jwk(&pair))
        }
        KeyType::Ec => {
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(|_| EmulatorError::Crypto("bad EC key"))?;
            ec_jwk(pair.public_key().as_ref())
        }
    }
}
