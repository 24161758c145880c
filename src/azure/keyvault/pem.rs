//! A certificate's backing secret as one PEM text: the private key first,
//! then the certificate chain, leaf first.
//!
//! - PEM (`application/x-pem-file`): the blocks may come in any order and
//!   with text between them (OpenSSL's `Bag Attributes`). A PKCS#1 `RSA
//!   PRIVATE KEY` or a SEC1 `EC PRIVATE KEY` (with a named curve) is rewrapped
//!   as PKCS#8 `PRIVATE KEY`: this is DER framing only, the key's bytes are
//!   unchanged. A SEC1 key with explicit curve parameters (no named curve)
//!   cannot be rewrapped without decoding them and is kept as `EC PRIVATE KEY`.
//!   `EC PARAMETERS` blocks are dropped; an encrypted key is refused.
//! - PKCS#12 (`application/x-pkcs12`, base64): read with the empty password
//!   (Key Vault's), whatever protects it: PBES1 3DES or RC2-40, PBES2 AES,
//!   or no encryption, with the MAC verified (the `pkcs12` module, behind
//!   the `pkcs12` feature; without it such a secret is refused, saying so).
//!
//! The chain is put in order by subject and issuer: the certificate no other
//! one names as its issuer (or, in a PFX, the one that shares the key's local
//! key id) first, then its issuer, and so on; certificates outside the chain
//! follow in the order they came. No signature is verified.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::SecretString;
use secrecy::zeroize::Zeroize;

use super::der::{
    self, BIT_STRING, INTEGER, NULL, OCTET_STRING, OID, Reader, SEQUENCE, SET, context,
    context_primitive, read_tlv, tlv,
};
use super::error::KeyVaultError;

/// Base64 with or without padding, as Key Vault's `byte` fields and values.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 (standard or URL-safe, padded or not, whitespace ignored).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if compact.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    let decoded = engine.decode(compact.as_bytes()).ok();
    compact.zeroize();
    decoded
}

/// One PEM block: `-----BEGIN {label}-----`, base64 in lines of 64.
pub(crate) fn pem_block(label: &str, der: &[u8]) -> String {
    let mut body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    body.zeroize();
    out
}

/// The text produced from a backing secret (`Debug` redacts the key).
#[derive(Debug)]
pub(crate) struct Normalised {
    /// The key then the chain.
    pub(crate) pem: SecretString,
    /// The chain only.
    pub(crate) certificates: String,
}

/// A certificate with the names that order a chain (as [`name_key`]s).
struct Cert {
    der: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
}

impl Cert {
    /// `None` if `der` is not shaped as an X.509 certificate.
    fn parse(der: Vec<u8>) -> Option<Self> {
        let (subject, issuer) = certificate_names(&der)?;
        Some(Self {
            subject,
            issuer,
            der,
        })
    }

    fn self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// A private key as it will be written.
struct Key {
    label: &'static str,
    der: Vec<u8>,
}

impl Drop for Key {
    fn drop(&mut self) {
        self.der.zeroize();
    }
}

/// The output: the key, then the chain leaf first.
fn assemble(key: &Key, chain: &[Cert]) -> Normalised {
    let certificates: String = chain
        .iter()
        .map(|c| pem_block("CERTIFICATE", &c.der))
        .collect();
    let mut key_pem = pem_block(key.label, &key.der);
    // One allocation: no copy of the key is left behind by a reallocation.
    let mut pem = String::with_capacity(key_pem.len() + certificates.len());
    pem.push_str(&key_pem);
    key_pem.zeroize();
    pem.push_str(&certificates);
    Normalised {
        pem: SecretString::from(pem),
        certificates,
    }
}

/// The public certificate of DER bytes as PEM, if they are a certificate.
pub(crate) fn certificate_pem(der: &[u8]) -> Option<String> {
    certificate_names(der)?;
    Some(pem_block("CERTIFICATE", der))
}

/// The subject and issuer of an X.509 certificate (RFC 5280 §4.1), as
/// [`name_key`]s; `None` if `der` is not shaped as one:
///
/// ```text
/// Certificate ::= SEQUENCE { tbsCertificate TBSCertificate,
///     signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
/// TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
///     serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name,
///     validity Validity, subject Name, subjectPublicKeyInfo SEQUENCE,
///     issuerUniqueID [1] IMPLICIT OPTIONAL, subjectUniqueID [2] IMPLICIT
///     OPTIONAL, extensions [3] EXPLICIT OPTIONAL }
/// ```
///
/// Only the framing is checked: no signature, date or extension.
fn certificate_names(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut certificate = Reader::new(der::single(der, SEQUENCE)?);
    let mut tbs = Reader::new(certificate.take(SEQUENCE)?);
    der::algorithm(certificate.take(SEQUENCE)?)?;
    certificate.take(BIT_STRING)?;
    certificate.end()?;
    tbs.optional(context(0))?;
    tbs.take(INTEGER)?;
    der::algorithm(tbs.take(SEQUENCE)?)?;
    let issuer = name_key(tbs.take(SEQUENCE)?)?;
    tbs.take(SEQUENCE)?;
    let subject = name_key(tbs.take(SEQUENCE)?)?;
    tbs.take(SEQUENCE)?;
    tbs.optional(context_primitive(1))?;
    tbs.optional(context_primitive(2))?;
    tbs.optional(context(3))?;
    tbs.end()?;
    Some((subject, issuer))
}

/// A Name (RFC 5280 §4.1.2.4: SEQUENCE OF SET OF SEQUENCE { type OBJECT
/// IDENTIFIER, value ANY }) as a key that compares the attribute types and
/// the values' octets, whatever string type each value is written in: a
/// PrintableString and a UTF8String of the same text are the same name.
fn name_key(content: &[u8]) -> Option<Vec<u8>> {
    let mut key = Vec::with_capacity(content.len());
    let mut push = |marker: u8, bytes: &[u8]| {
        key.push(marker);
        key.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        key.extend_from_slice(bytes);
    };
    let mut names = Reader::new(content);
    while !names.is_empty() {
        let mut attributes = Reader::new(names.take(SET)?);
        while !attributes.is_empty() {
            let mut attribute = Reader::new(attributes.take(SEQUENCE)?);
            push(1, attribute.take(OID)?);
            push(2, attribute.any()?.1);
            attribute.end()?;
        }
        push(0, &[]);
    }
    Some(key)
}

/// Puts `certs` in chain order: the leaf (`leaf`, or the certificate no other
/// one was issued by), its issuer, its issuer's issuer...; then the rest as
/// they came.
fn order_chain(certs: Vec<Cert>, leaf: Option<usize>) -> Vec<Cert> {
    let issued_by_another = |i: usize, c: &Cert| {
        certs
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && other.issuer == c.subject && !other.self_issued())
    };
    let leaf = leaf
        .filter(|i| *i < certs.len())
        .or_else(|| {
            certs
                .iter()
                .enumerate()
                .position(|(i, c)| !issued_by_another(i, c))
        })
        .unwrap_or(0);
    let mut pool: Vec<Option<Cert>> = certs.into_iter().map(Some).collect();
    let mut chain = Vec::with_capacity(pool.len());
    let mut next = pool.get_mut(leaf).and_then(Option::take);
    while let Some(cert) = next.take() {
        if !cert.self_issued() {
            next = pool
                .iter_mut()
                .find(|c| c.as_ref().is_some_and(|c| c.subject == cert.issuer))
                .and_then(Option::take);
        }
        chain.push(cert);
    }
    chain.extend(pool.into_iter().flatten());
    chain
}

/// Normalises a PEM backing secret.
pub(crate) fn from_pem(text: &str) -> Result<Normalised, KeyVaultError> {
    let bad = |m: &str| KeyVaultError::Certificate(format!("the certificate's PEM {m}"));
    let mut keys: Vec<Key> = Vec::new();
    let mut certs: Vec<Cert> = Vec::new();
    for block in blocks(text).map_err(bad)? {
        let Block { label, mut body } = block;
        let der = decode_base64(&body);
        body.zeroize();
        let Some(der) = der else {
            return Err(bad("has a block that is not base64"));
        };
        match label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => match Cert::parse(der) {
                Some(cert) => certs.push(cert),
                None => return Err(bad("has a CERTIFICATE that is not an X.509 certificate")),
            },
            "PRIVATE KEY" => keys.push(Key {
                label: "PRIVATE KEY",
                der,
            }),
            "RSA PRIVATE KEY" => {
                let key = Key {
                    label: "RSA PRIVATE KEY",
                    der,
                };
                let Some(der) = rsa_to_pkcs8(&key.der) else {
                    return Err(bad("has an RSA PRIVATE KEY that is not PKCS#1"));
                };
                keys.push(Key {
                    label: "PRIVATE KEY",
                    der,
                });
            }
            "EC PRIVATE KEY" => {
                let key = Key {
                    label: "EC PRIVATE KEY",
                    der,
                };
                match ec_to_pkcs8(&key.der) {
                    Some(der) => keys.push(Key {
                        label: "PRIVATE KEY",
                        der,
                    }),
                    // Explicit curve parameters: kept as SEC1.
                    None => keys.push(key),
                }
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(bad(
                    "holds an encrypted private key, which dsops cannot decrypt",
                ));
            }
            "EC PARAMETERS" => {}
            _ => return Err(bad("holds a block that is neither a key nor a certificate")),
        }
    }
    let key = one_key(keys)?;
    if certs.is_empty() {
        return Err(bad("holds no CERTIFICATE"));
    }
    Ok(assemble(&key, &order_chain(certs, None)))
}

fn one_key(mut keys: Vec<Key>) -> Result<Key, KeyVaultError> {
    match keys.len() {
        0 => Err(KeyVaultError::Certificate(
            "the certificate's backing secret holds no private key (is the key exportable?)"
                .to_owned(),
        )),
        1 => keys.pop().ok_or_else(|| {
            KeyVaultError::Certificate("the certificate holds no private key".to_owned())
        }),
        n => Err(KeyVaultError::Certificate(format!(
            "the certificate's backing secret holds {n} private keys, not one"
        ))),
    }
}

/// Reads a PKCS#12 backing secret (base64 of the PFX) with the empty password.
#[cfg(feature = "pkcs12")]
pub(crate) fn from_pkcs12(base64_value: &str) -> Result<Normalised, KeyVaultError> {
    let unreadable = |problem: &str| {
        KeyVaultError::Protocol(format!(
            "the certificate's PKCS#12 backing secret cannot be read with the empty password: {problem}"
        ))
    };
    let Some(mut der) = decode_base64(base64_value) else {
        return Err(KeyVaultError::Protocol(
            "the certificate's PKCS#12 backing secret is not base64".to_owned(),
        ));
    };
    let contents = super::pkcs12::read(&der);
    der.zeroize();
    let super::pkcs12::Contents {
        keys: key_bags,
        certificates: cert_bags,
    } = contents.map_err(|problem| unreadable(problem.message()))?;
    let mut certs = Vec::with_capacity(cert_bags.len());
    let mut leaf = None;
    let key_id = key_bags.first().and_then(|k| k.local_key_id.as_deref());
    for bag in cert_bags {
        if leaf.is_none() && key_id.is_some() && bag.local_key_id.as_deref() == key_id {
            leaf = Some(certs.len());
        }
        let cert = Cert::parse(bag.der)
            .ok_or_else(|| unreadable("a certificate in it is not valid X.509"))?;
        certs.push(cert);
    }
    let keys: Vec<Key> = key_bags
        .into_iter()
        .map(|mut bag| Key {
            label: "PRIVATE KEY",
            der: std::mem::take(&mut *bag.pkcs8),
        })
        .collect();
    let key = one_key(keys)?;
    if certs.is_empty() {
        return Err(KeyVaultError::Certificate(
            "the certificate's PKCS#12 backing secret holds no certificate".to_owned(),
        ));
    }
    Ok(assemble(&key, &order_chain(certs, leaf)))
}

/// Without the `pkcs12` feature a PKCS#12 backing secret is refused.
#[cfg(not(feature = "pkcs12"))]
pub(crate) fn from_pkcs12(_base64_value: &str) -> Result<Normalised, KeyVaultError> {
    Err(KeyVaultError::Protocol(PKCS12_DISABLED.to_owned()))
}

/// Why a PKCS#12 backing secret is refused without the `pkcs12` feature.
#[cfg(not(feature = "pkcs12"))]
pub(crate) const PKCS12_DISABLED: &str = "the certificate's backing secret is PKCS#12 (application/x-pkcs12), which this dsops cannot read: it was built without the `pkcs12` feature (on by default). A certificate kept as PEM (content type application/x-pem-file) works without it";

/// A PEM block, its body still base64.
struct Block {
    label: String,
    body: String,
}

/// The blocks of a PEM text; text outside blocks is ignored.
fn blocks(text: &str) -> Result<Vec<Block>, &'static str> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            if current.is_some() {
                return Err("has a BEGIN line inside a block");
            }
            current = Some(Block {
                label: label.to_owned(),
                body: String::new(),
            });
        } else if let Some(label) = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            match current.take() {
                Some(block) if block.label == label => out.push(block),
                _ => return Err("has an END line that closes no block"),
            }
        } else if let Some(block) = current.as_mut() {
            if line.contains(':') {
                // RFC 1421 headers: `Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`.
                return Err("holds an encrypted private key, which dsops cannot decrypt");
            }
            block.body.push_str(line);
        }
    }
    if current.is_some() {
        return Err("has a block without its END line");
    }
    if out.is_empty() {
        return Err("holds no PEM block");
    }
    Ok(out)
}

/// `rsaEncryption` (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
];
/// `id-ecPublicKey` (1.2.840.10045.2.1).
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];

/// PKCS#1 `RSAPrivateKey` → PKCS#8 `PrivateKeyInfo` (RFC 5208): version 0,
/// `rsaEncryption` with NULL parameters, the key as an OCTET STRING.
fn rsa_to_pkcs8(pkcs1: &[u8]) -> Option<Vec<u8>> {
    let (tag, _, rest) = read_tlv(pkcs1)?;
    if tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let mut algorithm = RSA_ENCRYPTION.to_vec();
    algorithm.extend(tlv(NULL, &[]));
    Some(private_key_info(&algorithm, pkcs1))
}

/// SEC1 `ECPrivateKey` → PKCS#8 (RFC 5915): `id-ecPublicKey` with the named
/// curve from the key's `[0] parameters`; `None` when the key names no curve.
fn ec_to_pkcs8(sec1: &[u8]) -> Option<Vec<u8>> {
    let (tag, mut fields, rest) = read_tlv(sec1)?;
    if tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let mut curve = None;
    while !fields.is_empty() {
        let (tag, content, rest) = read_tlv(fields)?;
        if tag == context(0) {
            let (inner, _, after) = read_tlv(content)?;
            if inner == OID && after.is_empty() {
                curve = Some(content);
            }
        }
        fields = rest;
    }
    let mut algorithm = EC_PUBLIC_KEY.to_vec();
    algorithm.extend_from_slice(curve?);
    Some(private_key_info(&algorithm, sec1))
}

/// `PrivateKeyInfo ::= SEQUENCE { 0, SEQUENCE { algorithm }, OCTET STRING key }`.
fn private_key_info(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut content = vec![0x02, 0x01, 0x00];
    content.extend(tlv(SEQUENCE, algorithm));
    content.extend(tlv(OCTET_STRING, key));
    tlv(SEQUENCE, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn pkcs1_is_rewrapped_without_touching_the_key() {
        let pkcs1 = tlv(0x30, &[0x02, 0x01, 0x00, 0x02, 0x01, 0x05]);
        let pkcs8 = rsa_to_pkcs8(&pkcs1).unwrap();
        let (tag, content, _) = read_tlv(&pkcs8).unwrap();
        assert_eq!(tag, 0x30);
        let (_, version, rest) = read_tlv(content).unwrap();
        assert_eq!(version, &[0]);
        let (_, algorithm, rest) = read_tlv(rest).unwrap();
        assert!(algorithm.starts_with(RSA_ENCRYPTION));
        let (tag, key, rest) = read_tlv(rest).unwrap();
        assert_eq!((tag, key, rest), (0x04, pkcs1.as_slice(), &[][..]));
        assert!(rsa_to_pkcs8(b"not der").is_none());
    }

    #[test]
    fn sec1_takes_its_named_curve_or_stays_sec1() {
        let p256 = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
        let mut fields = vec![0x02, 0x01, 0x01];
        fields.extend(tlv(0x04, &[9; 32]));
        fields.extend(tlv(0xA0, &p256));
        let sec1 = tlv(0x30, &fields);
        let pkcs8 = ec_to_pkcs8(&sec1).unwrap();
        let mut algorithm = EC_PUBLIC_KEY.to_vec();
        algorithm.extend_from_slice(&p256);
        assert_eq!(pkcs8, private_key_info(&algorithm, &sec1));
        // Without `[0] parameters` no curve can be named.
        let mut bare = vec![0x02, 0x01, 0x01];
        bare.extend(tlv(0x04, &[9; 32]));
        assert!(ec_to_pkcs8(&tlv(0x30, &bare)).is_none());
    }

    fn cert(subject: &str, issuer: &str) -> Cert {
        Cert {
            der: subject.as_bytes().to_vec(),
            subject: subject.as_bytes().to_vec(),
            issuer: issuer.as_bytes().to_vec(),
        }
    }

    fn subjects(chain: &[Cert]) -> Vec<&str> {
        chain
            .iter()
            .map(|c| std::str::from_utf8(&c.subject).unwrap())
            .collect()
    }

    #[test]
    fn chains_are_put_leaf_first() {
        let certs = vec![
            cert("root", "root"),
            cert("intermediate", "root"),
            cert("leaf", "intermediate"),
        ];
        assert_eq!(
            subjects(&order_chain(certs, None)),
            ["leaf", "intermediate", "root"]
        );
        let certs = vec![
            cert("intermediate", "root"),
            cert("other", "elsewhere"),
            cert("leaf", "intermediate"),
        ];
        // Two certificates nobody issued from: the first is taken as the leaf
        // unless a hint says otherwise.
        assert_eq!(
            subjects(&order_chain(certs, Some(2))),
            ["leaf", "intermediate", "other"]
        );
        assert_eq!(
            subjects(&order_chain(vec![cert("self", "self")], None)),
            ["self"]
        );
        // A cycle ends.
        let certs = vec![cert("a", "b"), cert("b", "a")];
        assert_eq!(subjects(&order_chain(certs, None)), ["a", "b"]);
    }

    #[test]
    fn pem_blocks_are_read_strictly() {
        assert!(blocks("nothing here").is_err());
        assert!(blocks("-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(blocks("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
        assert!(
            blocks("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n")
                .is_err()
        );
        let read = blocks(
            "Bag Attributes\r\n    localKeyID: 01\r\n-----BEGIN CERTIFICATE-----\r\nAA\r\nAA\r\n-----END CERTIFICATE-----\r\n",
        )
        .unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].label, "CERTIFICATE");
        assert_eq!(read[0].body, "AAAA");
    }

    #[test]
    fn pem_problems_are_named_without_content() {
        let key = pem_block("PRIVATE KEY", b"secret-key-bytes");
        let e = from_pem(&key).unwrap_err().to_string();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        assert!(!e.contains("c2VjcmV0"), "{e}");
        let e = from_pem(&format!("{key}{key}")).unwrap_err().to_string();
        assert!(e.contains("2 private keys"), "{e}");
        let e = from_pem(&pem_block("ENCRYPTED PRIVATE KEY", b"x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("encrypted"), "{e}");
        let e = from_pem(&pem_block("CERTIFICATE", b"not x509"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an X.509"), "{e}");
        let e = from_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not base64"), "{e}");
    }

    #[cfg(feature = "pkcs12")]
    #[test]
    fn pkcs12_problems_are_named_without_content() {
        let e = from_pkcs12("bm90IGEgcGZ4").unwrap_err().to_string();
        assert!(e.contains("not valid DER"), "{e}");
        assert!(!e.contains("bm90"), "{e}");
        let e = from_pkcs12("***").unwrap_err().to_string();
        assert!(e.contains("not base64"), "{e}");
    }

    #[cfg(not(feature = "pkcs12"))]
    #[test]
    fn without_the_pkcs12_feature_a_pfx_is_refused_naming_the_way_out() {
        for value in ["bm90IGEgcGZ4", "***"] {
            let e = from_pkcs12(value).unwrap_err();
            assert!(matches!(e, KeyVaultError::Protocol(_)), "{e:?}");
            let e = e.to_string();
            assert!(e.contains("`pkcs12` feature"), "{e}");
            assert!(e.contains("application/x-pem-file"), "{e}");
            assert!(!e.contains("bm90"), "{e}");
        }
    }

    #[test]
    fn pem_blocks_are_written_in_lines_of_64() {
        let pem = pem_block("CERTIFICATE", &[0u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3].len(), 136 - 128);
        assert_eq!(lines[4], "-----END CERTIFICATE-----");
        assert_eq!(
            decode_base64(&lines[1..4].concat()).unwrap(),
            vec![0u8; 100]
        );
        assert_eq!(decode_base64("_-8").unwrap(), vec![0xFF, 0xEF]);
        let normalised = Normalised {
            pem: SecretString::from(pem.clone()),
            certificates: String::new(),
        };
        assert_eq!(normalised.pem.expose_secret(), pem);
    }
}
