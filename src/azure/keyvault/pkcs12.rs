//! A PKCS#12 (PFX) reader for Key Vault's certificate backing secrets: the
//! private keys (PKCS#8 DER) and certificates (DER), with their
//! `localKeyId`, opened with the empty password Key Vault uses.
//!
//! Follows RFC 7292 (PKCS #12 v1.1) in password integrity and privacy modes:
//!
//! - §4: `PFX`, its `authSafe` (`data`) and `macData`, verified when present
//!   with an HMAC keyed by the Appendix B KDF (ID 3): SHA-1, SHA-224,
//!   SHA-256, SHA-384 or SHA-512.
//! - §4.1: the `AuthenticatedSafe`, whose parts are `data` (in the clear) or
//!   `encryptedData` (RFC 5652 §8).
//! - §4.2: `SafeContents` and the bags dsops uses: `keyBag`,
//!   `pkcs8ShroudedKeyBag`, `certBag` (X.509) and `safeContentsBag` (nested,
//!   to a bounded depth); CRL, secret and unknown bags are skipped.
//! - Appendix C: PBES1 with SHA-1 and the Appendix B KDF (ID 1 key, ID 2 IV):
//!   `pbeWithSHAAnd3-KeyTripleDES-CBC` (Key Vault's and Windows' exports),
//!   `pbeWithSHAAnd2-KeyTripleDES-CBC`, `pbeWithSHAAnd128BitRC2-CBC` and
//!   `pbewithSHAAnd40BitRC2-CBC` (OpenSSL's legacy default for certificates);
//!   the RC4 ones are refused.
//! - RFC 8018 §6.2 PBES2 (OpenSSL 3's default): PBKDF2 (§5.2, A.2) with
//!   HMAC-SHA-1, -256, -384 or -512, and AES-128/192/256-CBC (§B.2.5 of
//!   RFC 8018, RFC 3565) or DES-EDE3-CBC (B.2.2). scrypt is refused.
//!
//! Not read: public-key integrity and privacy modes (`signedData`,
//! `envelopedData`), PBMAC1 (RFC 9579), BER (indefinite lengths).
//!
//! The empty password reaches the Appendix B KDF as a BMPString, which is
//! its two-octet terminator (B.1); OpenSSL writes an absent password as no
//! octets at all, and so is that form tried when the first fails (as
//! OpenSSL and .NET do). PBES2 takes the password's octets: none.
//!
//! Hostile input is bounded: every length is checked by the DER reader,
//! nested `SafeContents` stop at [`MAX_DEPTH`], an iteration count over
//! [`MAX_ITERATIONS`] is refused before any work, and so is a file whose key
//! derivations add up to more than [`MAX_WORK`]. Decrypted content, derived
//! keys and the KDF's buffers are zeroized when dropped.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{digest, hmac, pbkdf2};
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, InnerIvInit, KeyInit};
use secrecy::zeroize::Zeroizing;

use super::der::{
    self, INTEGER, NULL, OCTET_STRING, OID, Reader, SEQUENCE, SET, context, context_primitive,
    unsigned,
};

/// The most iterations one key derivation may ask for. Real files use 2,000
/// (Windows, Key Vault) to a few hundred thousand; more is refused.
pub(crate) const MAX_ITERATIONS: u64 = 10_000_000;
/// The most hash (or HMAC) iterations all the key derivations of one file
/// may add up to: a few seconds of work.
pub(crate) const MAX_WORK: u64 = 60_000_000;
/// How deep `safeContentsBag`s may nest.
pub(crate) const MAX_DEPTH: usize = 4;

/// What a PFX holds that dsops uses, in the order of the file.
#[derive(Debug, Default)]
pub(crate) struct Contents {
    pub(crate) keys: Vec<KeyBag>,
    pub(crate) certificates: Vec<CertificateBag>,
}

/// A private key: PKCS#8 `PrivateKeyInfo` DER (`Debug` redacts it).
pub(crate) struct KeyBag {
    pub(crate) pkcs8: Zeroizing<Vec<u8>>,
    pub(crate) local_key_id: Option<Vec<u8>>,
}

impl std::fmt::Debug for KeyBag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBag")
            .field("pkcs8", &format_args!("<{} bytes>", self.pkcs8.len()))
            .field("local_key_id", &self.local_key_id)
            .finish()
    }
}

/// An X.509 certificate's DER (not checked here: the caller parses it).
#[derive(Debug)]
pub(crate) struct CertificateBag {
    pub(crate) der: Vec<u8>,
    pub(crate) local_key_id: Option<Vec<u8>>,
}

/// Why a PFX cannot be read. The messages quote none of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Der,
    Version,
    ContentType,
    Scheme,
    MacAlgorithm,
    Mac,
    Decrypt,
    PrivateKey,
    Parameters,
    Iterations,
    Work,
    Depth,
}

impl Problem {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Der => "it is not valid DER",
            Self::Version => "it is not a version 3 PFX",
            Self::ContentType => "it holds content of an unsupported type",
            Self::Scheme => "it is encrypted with an unsupported scheme",
            Self::MacAlgorithm => "its MAC algorithm is not supported",
            Self::Mac => "its MAC does not verify (a password other than the empty one?)",
            Self::Decrypt => "it cannot be decrypted (a password other than the empty one?)",
            Self::PrivateKey => "its private key is not PKCS#8",
            Self::Parameters => "its encryption or MAC parameters are not valid",
            Self::Iterations => {
                "it asks for more than 10000000 iterations of a key derivation, which dsops refuses as absurd"
            }
            Self::Work => {
                "its key derivations add up to more than 60000000 iterations, which dsops refuses as absurd"
            }
            Self::Depth => "its bags are nested more than 4 deep",
        }
    }
}

/// `None` from the DER reader is invalid DER.
trait OrDer<T> {
    fn der(self) -> Result<T, Problem>;
}

impl<T> OrDer<T> for Option<T> {
    fn der(self) -> Result<T, Problem> {
        self.ok_or(Problem::Der)
    }
}

/// Object identifiers, as the content octets of their DER encoding.
mod oid {
    /// 1.2.840.113549.1.7.1 `data` (PKCS #7).
    pub(super) const DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];
    /// 1.2.840.113549.1.7.6 `encryptedData`.
    pub(super) const ENCRYPTED_DATA: &[u8] =
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x06];
    /// 1.2.840.113549.1.12.10.1.1 `keyBag`.
    pub(super) const KEY_BAG: &[u8] = &[
        0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x01,
    ];
    /// 1.2.840.113549.1.12.10.1.2 `pkcs8ShroudedKeyBag`.
    pub(super) const SHROUDED_KEY_BAG: &[u8] = &[
        0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x02,
    ];
    /// 1.2.840.113549.1.12.10.1.3 `certBag`.
    pub(super) const CERT_BAG: &[u8] = &[
        0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x03,
    ];
    /// 1.2.840.113549.1.12.10.1.6 `safeContentsBag`.
    pub(super) const SAFE_CONTENTS_BAG: &[u8] = &[
        0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x06,
    ];
    /// 1.2.840.113549.1.9.22.1 `x509Certificate` (PKCS #9).
    pub(super) const X509_CERTIFICATE: &[u8] =
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x16, 0x01];
    /// 1.2.840.113549.1.9.21 `localKeyId` (PKCS #9).
    pub(super) const LOCAL_KEY_ID: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x15];

    /// 1.2.840.113549.1.12.1.3 `pbeWithSHAAnd3-KeyTripleDES-CBC`.
    pub(super) const PBE_SHA1_3DES: &[u8] =
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x03];
    /// 1.2.840.113549.1.12.1.4 `pbeWithSHAAnd2-KeyTripleDES-CBC`.
    pub(super) const PBE_SHA1_2DES: &[u8] =
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x04];
    /// 1.2.840.113549.1.12.1.5 `pbeWithSHAAnd128BitRC2-CBC`.
    pub(super) const PBE_SHA1_RC2_128: &[u8] =
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x05];
    /// 1.2.840.113549.1.12.1.6 `pbewithSHAAnd40BitRC2-CBC`.
    pub(super) const PBE_SHA1_RC2_40: &[u8] =
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x06];

    /// 1.2.840.113549.1.5.13 `id-PBES2` (RFC 8018 A.4).
    pub(super) const PBES2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
    /// 1.2.840.113549.1.5.12 `id-PBKDF2` (RFC 8018 A.2).
    pub(super) const PBKDF2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
    /// 1.2.840.113549.2.7 `id-hmacWithSHA1` (RFC 8018 B.1.1).
    pub(super) const HMAC_SHA1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x07];
    /// 1.2.840.113549.2.9 `id-hmacWithSHA256` (B.1.2).
    pub(super) const HMAC_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09];
    /// 1.2.840.113549.2.10 `id-hmacWithSHA384`.
    pub(super) const HMAC_SHA384: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0A];
    /// 1.2.840.113549.2.11 `id-hmacWithSHA512`.
    pub(super) const HMAC_SHA512: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0B];
    /// 2.16.840.1.101.3.4.1.2 `aes128-CBC-PAD` (RFC 8018 B.2.5).
    pub(super) const AES128_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02];
    /// 2.16.840.1.101.3.4.1.22 `aes192-CBC-PAD`.
    pub(super) const AES192_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16];
    /// 2.16.840.1.101.3.4.1.42 `aes256-CBC-PAD`.
    pub(super) const AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A];
    /// 1.2.840.113549.3.7 `des-EDE3-CBC` (RFC 8018 B.2.2).
    pub(super) const DES_EDE3_CBC: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x03, 0x07];

    /// 1.3.14.3.2.26 `id-sha1`.
    pub(super) const SHA1: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x1A];
    /// 2.16.840.1.101.3.4.2.1 `id-sha256`.
    pub(super) const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// 2.16.840.1.101.3.4.2.2 `id-sha384`.
    pub(super) const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    /// 2.16.840.1.101.3.4.2.3 `id-sha512`.
    pub(super) const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    /// 2.16.840.1.101.3.4.2.4 `id-sha224`.
    pub(super) const SHA224: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04];
}

/// The forms of the empty password for the Appendix B KDF: the BMPString's
/// terminator (B.1), then no octets (an absent password, to OpenSSL).
const EMPTY_PASSWORDS: [&[u8]; 2] = [&[0, 0], &[]];

/// The state of one read: which form of the empty password works, once
/// known, and the key derivation work done so far.
struct Session {
    password: Option<&'static [u8]>,
    work: u64,
    max_work: u64,
}

impl Session {
    fn new(max_work: u64) -> Self {
        Self {
            password: None,
            work: 0,
            max_work,
        }
    }

    /// The forms of the empty password to try for the Appendix B KDF.
    fn candidates(&self) -> Vec<&'static [u8]> {
        match self.password {
            Some(known) => vec![known],
            None => EMPTY_PASSWORDS.to_vec(),
        }
    }

    /// Accounts for a derivation of `iterations` iterations per block, over
    /// `blocks` blocks of hash output, before it runs.
    fn charge(&mut self, iterations: u64, blocks: usize) -> Result<NonZeroU32, Problem> {
        if iterations > MAX_ITERATIONS {
            return Err(Problem::Iterations);
        }
        let count = u32::try_from(iterations)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or(Problem::Parameters)?;
        let blocks = u64::try_from(blocks).unwrap_or(u64::MAX);
        self.work = self.work.saturating_add(iterations.saturating_mul(blocks));
        if self.work > self.max_work {
            return Err(Problem::Work);
        }
        Ok(count)
    }
}

/// Reads a PFX (DER) with the empty password.
pub(crate) fn read(pfx: &[u8]) -> Result<Contents, Problem> {
    read_within(pfx, MAX_WORK)
}

fn read_within(pfx: &[u8], max_work: u64) -> Result<Contents, Problem> {
    // RFC 7292 §4: PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe
    // ContentInfo, macData MacData OPTIONAL }
    let mut fields = Reader::new(der::single(pfx, SEQUENCE).der()?);
    if unsigned(fields.take(INTEGER).der()?).der()? != 3 {
        return Err(Problem::Version);
    }
    let auth_safe = fields.take(SEQUENCE).der()?;
    let mac_data = fields.optional(SEQUENCE).der()?;
    fields.end().der()?;

    // Password integrity mode: authSafe is `data`, its content the DER of
    // the AuthenticatedSafe (`signedData` would be public-key integrity).
    let (content_type, content) = content_info(auth_safe)?;
    if content_type != oid::DATA {
        return Err(Problem::ContentType);
    }
    let auth_safe = der::single(content, OCTET_STRING).der()?;

    let mut session = Session::new(max_work);
    if let Some(mac_data) = mac_data {
        verify_mac(mac_data, auth_safe, &mut session)?;
    }

    // §4.1: AuthenticatedSafe ::= SEQUENCE OF ContentInfo, each `data` or
    // `encryptedData` (`envelopedData` is public-key privacy mode).
    let mut contents = Contents::default();
    let mut parts = Reader::new(der::single(auth_safe, SEQUENCE).der()?);
    while !parts.is_empty() {
        let (content_type, content) = content_info(parts.take(SEQUENCE).der()?)?;
        if content_type == oid::DATA {
            let safe = der::single(content, OCTET_STRING).der()?;
            safe_contents(safe, 0, &mut session, &mut contents)?;
        } else if content_type == oid::ENCRYPTED_DATA {
            if let Some(safe) = encrypted_data(content, &mut session)? {
                safe_contents(&safe, 0, &mut session, &mut contents)?;
            }
        } else {
            return Err(Problem::ContentType);
        }
    }
    Ok(contents)
}

/// RFC 5652 §3: ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER,
/// content [0] EXPLICIT ANY }: the type and the one element of the content.
fn content_info(content: &[u8]) -> Result<(&[u8], &[u8]), Problem> {
    let mut fields = Reader::new(content);
    let content_type = fields.take(OID).der()?;
    let content = fields.take(context(0)).der()?;
    fields.end().der()?;
    Ok((content_type, content))
}

/// RFC 7292 §4 `macData` and Appendix B.4: MacData ::= SEQUENCE { mac
/// DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }; the
/// HMAC of the AuthenticatedSafe's DER under a key from the Appendix B KDF
/// (ID 3) with the MAC's own hash, as long as its output.
fn verify_mac(mac_data: &[u8], auth_safe: &[u8], session: &mut Session) -> Result<(), Problem> {
    let mut fields = Reader::new(mac_data);
    // DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
    let mut digest_info = Reader::new(fields.take(SEQUENCE).der()?);
    let (algorithm, parameters) = der::algorithm(digest_info.take(SEQUENCE).der()?).der()?;
    let expected = digest_info.take(OCTET_STRING).der()?;
    digest_info.end().der()?;
    let salt = fields.take(OCTET_STRING).der()?;
    let iterations = match fields.optional(INTEGER).der()? {
        Some(count) => unsigned(count).der()?,
        None => 1,
    };
    fields.end().der()?;

    let (hash, mac) = match algorithm {
        a if a == oid::SHA1 => (
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        ),
        a if a == oid::SHA224 => (&digest::SHA224, hmac::HMAC_SHA224),
        a if a == oid::SHA256 => (&digest::SHA256, hmac::HMAC_SHA256),
        a if a == oid::SHA384 => (&digest::SHA384, hmac::HMAC_SHA384),
        a if a == oid::SHA512 => (&digest::SHA512, hmac::HMAC_SHA512),
        // PBMAC1 (RFC 9579), SHA-512/t, ...
        _ => return Err(Problem::MacAlgorithm),
    };
    if !matches!(parameters, None | Some((NULL, []))) {
        return Err(Problem::Parameters);
    }
    for password in session.candidates() {
        let count = session.charge(iterations, 1)?;
        let key = pkcs12_kdf(hash, ID_MAC, password, salt, count, hash.output_len());
        if hmac::verify(&hmac::Key::new(mac, &key), auth_safe, expected).is_ok() {
            session.password = Some(password);
            return Ok(());
        }
    }
    Err(Problem::Mac)
}

/// RFC 5652 §8: EncryptedData ::= SEQUENCE { version, encryptedContentInfo,
/// unprotectedAttrs [1] IMPLICIT OPTIONAL }; EncryptedContentInfo ::=
/// SEQUENCE { contentType, contentEncryptionAlgorithm, encryptedContent [0]
/// IMPLICIT OCTET STRING OPTIONAL }. The decrypted SafeContents, if any.
fn encrypted_data(
    content: &[u8],
    session: &mut Session,
) -> Result<Option<Zeroizing<Vec<u8>>>, Problem> {
    let mut fields = Reader::new(der::single(content, SEQUENCE).der()?);
    fields.take(INTEGER).der()?;
    let mut info = Reader::new(fields.take(SEQUENCE).der()?);
    fields.optional(context(1)).der()?;
    fields.end().der()?;
    let content_type = info.take(OID).der()?;
    let algorithm = info.take(SEQUENCE).der()?;
    let encrypted = info.optional(context_primitive(0)).der()?;
    info.end().der()?;
    if content_type != oid::DATA {
        return Err(Problem::ContentType);
    }
    encrypted
        .map(|ciphertext| decrypt(algorithm, ciphertext, session))
        .transpose()
}

/// RFC 7292 §4.2: SafeContents ::= SEQUENCE OF SafeBag; SafeBag ::= SEQUENCE
/// { bagId, bagValue [0] EXPLICIT, bagAttributes SET OF PKCS12Attribute
/// OPTIONAL }.
fn safe_contents(
    safe: &[u8],
    depth: usize,
    session: &mut Session,
    contents: &mut Contents,
) -> Result<(), Problem> {
    if depth > MAX_DEPTH {
        return Err(Problem::Depth);
    }
    let mut bags = Reader::new(der::single(safe, SEQUENCE).der()?);
    while !bags.is_empty() {
        let mut bag = Reader::new(bags.take(SEQUENCE).der()?);
        let bag_id = bag.take(OID).der()?;
        let value = bag.take(context(0)).der()?;
        let attributes = bag.optional(SET).der()?;
        bag.end().der()?;
        let local_key_id = attributes.map(local_key_id).transpose()?.flatten();
        match bag_id {
            // §4.2.1: KeyBag ::= PrivateKeyInfo, in the clear.
            id if id == oid::KEY_BAG => {
                if !is_pkcs8(value) {
                    return Err(Problem::PrivateKey);
                }
                contents.keys.push(KeyBag {
                    pkcs8: Zeroizing::new(value.to_vec()),
                    local_key_id,
                });
            }
            // §4.2.2: PKCS8ShroudedKeyBag ::= EncryptedPrivateKeyInfo
            // (RFC 5208 §6): SEQUENCE { encryptionAlgorithm, encryptedData
            // OCTET STRING }.
            id if id == oid::SHROUDED_KEY_BAG => {
                let mut fields = Reader::new(der::single(value, SEQUENCE).der()?);
                let algorithm = fields.take(SEQUENCE).der()?;
                let ciphertext = fields.take(OCTET_STRING).der()?;
                fields.end().der()?;
                let pkcs8 = decrypt(algorithm, ciphertext, session)?;
                if !is_pkcs8(&pkcs8) {
                    return Err(Problem::PrivateKey);
                }
                contents.keys.push(KeyBag {
                    pkcs8,
                    local_key_id,
                });
            }
            // §4.2.3: CertBag ::= SEQUENCE { certId, certValue [0] EXPLICIT };
            // an x509Certificate is an OCTET STRING of its DER.
            id if id == oid::CERT_BAG => {
                let mut fields = Reader::new(der::single(value, SEQUENCE).der()?);
                let cert_id = fields.take(OID).der()?;
                let cert_value = fields.take(context(0)).der()?;
                fields.end().der()?;
                if cert_id != oid::X509_CERTIFICATE {
                    return Err(Problem::ContentType);
                }
                contents.certificates.push(CertificateBag {
                    der: der::single(cert_value, OCTET_STRING).der()?.to_vec(),
                    local_key_id,
                });
            }
            // §4.2.6: SafeContents within a bag.
            id if id == oid::SAFE_CONTENTS_BAG => {
                safe_contents(value, depth + 1, session, contents)?;
            }
            // crlBag, secretBag, and bags of other types: nothing dsops uses.
            _ => {}
        }
    }
    Ok(())
}

/// The `localKeyId` of a bag's attributes (PKCS12Attribute ::= SEQUENCE {
/// attrId, attrValues SET OF }): its first value, if an OCTET STRING.
fn local_key_id(attributes: &[u8]) -> Result<Option<Vec<u8>>, Problem> {
    let mut attributes = Reader::new(attributes);
    let mut found = None;
    while !attributes.is_empty() {
        let mut attribute = Reader::new(attributes.take(SEQUENCE).der()?);
        let id = attribute.take(OID).der()?;
        let values = attribute.take(SET).der()?;
        attribute.end().der()?;
        if id == oid::LOCAL_KEY_ID && found.is_none() {
            found = Reader::new(values).take(OCTET_STRING).map(<[u8]>::to_vec);
        }
    }
    Ok(found)
}

/// RFC 5958 §2 (RFC 5208 §5): OneAsymmetricKey ::= SEQUENCE { version (0 or
/// 1), privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING,
/// attributes [0] OPTIONAL, publicKey [1] OPTIONAL }, and nothing after it.
fn is_pkcs8(der: &[u8]) -> bool {
    let check = || -> Option<()> {
        let mut fields = Reader::new(der::single(der, SEQUENCE)?);
        if unsigned(fields.take(INTEGER)?)? > 1 {
            return None;
        }
        der::algorithm(fields.take(SEQUENCE)?)?;
        fields.take(OCTET_STRING)?;
        fields.optional(context(0))?;
        fields.optional(context_primitive(1))?;
        fields.end()
    };
    check().is_some()
}

/// Decrypts with the empty password under `algorithm` (an
/// AlgorithmIdentifier's content): PBES1 (RFC 7292 Appendix C) or PBES2
/// (RFC 8018 §6.2). What it decrypts (SafeContents, PrivateKeyInfo) is one
/// DER SEQUENCE: anything else is taken as the wrong password.
fn decrypt(
    algorithm: &[u8],
    ciphertext: &[u8],
    session: &mut Session,
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let (id, parameters) = der::algorithm(algorithm).der()?;
    let cipher = if id == oid::PBES2 {
        None
    } else {
        Some(pbes1_cipher(id).ok_or(Problem::Scheme)?)
    };
    let Some((SEQUENCE, parameters)) = parameters else {
        return Err(Problem::Parameters);
    };
    match cipher {
        Some(cipher) => pbes1(cipher, parameters, ciphertext, session),
        None => pbes2(parameters, ciphertext, session),
    }
}

/// The block ciphers aws-lc-rs does not offer, in CBC mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Legacy {
    /// Three-key triple DES (EDE).
    TdesEde3,
    /// Two-key triple DES (K1, K2, K1).
    TdesEde2,
    /// RC2 with a key of this many octets (its effective bits: 8 per octet).
    Rc2(usize),
}

impl Legacy {
    fn key_len(self) -> usize {
        match self {
            Self::TdesEde3 => 24,
            Self::TdesEde2 => 16,
            Self::Rc2(len) => len,
        }
    }

    /// CBC decryption then PKCS #7 padding (RFC 8018 §6.1.1, RFC 5652
    /// §6.3); `None` if the key does not fit or the padding is wrong.
    fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        match self {
            Self::TdesEde3 => cbc_decrypt(des::TdesEde3::new_from_slice(key).ok()?, iv, ciphertext),
            Self::TdesEde2 => cbc_decrypt(des::TdesEde2::new_from_slice(key).ok()?, iv, ciphertext),
            Self::Rc2(_) => cbc_decrypt(rc2::Rc2::new_from_slice(key).ok()?, iv, ciphertext),
        }
    }
}

fn cbc_decrypt<C: BlockCipherDecrypt>(
    cipher: C,
    iv: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let block_len = C::block_size();
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(block_len) {
        return None;
    }
    let mut mode = cbc::Decryptor::<C>::inner_iv_slice_init(cipher, iv).ok()?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    for chunk in plaintext.chunks_exact_mut(block_len) {
        mode.decrypt_block(chunk.try_into().ok()?);
    }
    unpad(plaintext, block_len)
}

/// Removes PKCS #7 padding: `n` octets of value `n`, 1 ≤ `n` ≤ the block.
fn unpad(mut plaintext: Zeroizing<Vec<u8>>, block_len: usize) -> Option<Zeroizing<Vec<u8>>> {
    let n = usize::from(*plaintext.last()?);
    if n == 0 || n > block_len || n > plaintext.len() {
        return None;
    }
    let kept = plaintext.len() - n;
    if !plaintext.iter().skip(kept).all(|b| usize::from(*b) == n) {
        return None;
    }
    plaintext.truncate(kept);
    Some(plaintext)
}

/// RFC 7292 Appendix C: the PBES1 algorithms, all with SHA-1.
fn pbes1_cipher(id: &[u8]) -> Option<Legacy> {
    match id {
        i if i == oid::PBE_SHA1_3DES => Some(Legacy::TdesEde3),
        i if i == oid::PBE_SHA1_2DES => Some(Legacy::TdesEde2),
        i if i == oid::PBE_SHA1_RC2_128 => Some(Legacy::Rc2(16)),
        i if i == oid::PBE_SHA1_RC2_40 => Some(Legacy::Rc2(5)),
        // pbeWithSHAAnd128BitRC4, pbeWithSHAAnd40BitRC4, PKCS #5 PBES1, ...
        _ => None,
    }
}

/// Appendix C: pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING,
/// iterations INTEGER }; the key from the Appendix B KDF with ID 1, the IV
/// (8 octets) with ID 2, both with SHA-1.
fn pbes1(
    cipher: Legacy,
    parameters: &[u8],
    ciphertext: &[u8],
    session: &mut Session,
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let mut fields = Reader::new(parameters);
    let salt = fields.take(OCTET_STRING).der()?;
    let iterations = unsigned(fields.take(INTEGER).der()?).der()?;
    fields.end().der()?;
    let sha1 = &digest::SHA1_FOR_LEGACY_USE_ONLY;
    let key_len = cipher.key_len();
    let blocks = key_len.div_ceil(sha1.output_len()) + 1;
    for password in session.candidates() {
        let count = session.charge(iterations, blocks)?;
        let key = pkcs12_kdf(sha1, ID_KEY, password, salt, count, key_len);
        let iv = pkcs12_kdf(sha1, ID_IV, password, salt, count, 8);
        if let Some(plaintext) = cipher
            .decrypt(&key, &iv, ciphertext)
            .filter(|p| der::single(p, SEQUENCE).is_some())
        {
            session.password = Some(password);
            return Ok(plaintext);
        }
    }
    Err(Problem::Decrypt)
}

/// The encryption schemes of PBES2 read here.
#[derive(Debug, Clone, Copy)]
enum Pbes2Cipher {
    Aes(&'static aws_lc_rs::cipher::Algorithm, usize),
    TdesEde3,
}

/// RFC 8018 §6.2 and A.4: PBES2-params ::= SEQUENCE { keyDerivationFunc
/// AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }, with PBKDF2
/// (§5.2) as the key derivation function and the empty password (no octets).
fn pbes2(
    parameters: &[u8],
    ciphertext: &[u8],
    session: &mut Session,
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let mut fields = Reader::new(parameters);
    let (kdf, kdf_parameters) = der::algorithm(fields.take(SEQUENCE).der()?).der()?;
    let (scheme, scheme_parameters) = der::algorithm(fields.take(SEQUENCE).der()?).der()?;
    fields.end().der()?;
    if kdf != oid::PBKDF2 {
        // scrypt (RFC 7914) and the rest.
        return Err(Problem::Scheme);
    }
    let cipher = match scheme {
        s if s == oid::AES128_CBC => Pbes2Cipher::Aes(&AES_128, 16),
        s if s == oid::AES192_CBC => Pbes2Cipher::Aes(&AES_192, 24),
        s if s == oid::AES256_CBC => Pbes2Cipher::Aes(&AES_256, 32),
        s if s == oid::DES_EDE3_CBC => Pbes2Cipher::TdesEde3,
        _ => return Err(Problem::Scheme),
    };
    let (key_len, iv_len) = match cipher {
        Pbes2Cipher::Aes(_, key_len) => (key_len, 16),
        Pbes2Cipher::TdesEde3 => (24, 8),
    };
    // The IV: an OCTET STRING of one block (B.2.2, B.2.5).
    let iv = match scheme_parameters {
        Some((OCTET_STRING, iv)) if iv.len() == iv_len => iv,
        _ => return Err(Problem::Parameters),
    };

    // A.2: PBKDF2-params ::= SEQUENCE { salt CHOICE { specified OCTET
    // STRING, otherSource AlgorithmIdentifier }, iterationCount INTEGER,
    // keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier DEFAULT
    // algid-hmacWithSHA1 }
    let Some((SEQUENCE, kdf_parameters)) = kdf_parameters else {
        return Err(Problem::Parameters);
    };
    let mut fields = Reader::new(kdf_parameters);
    let salt = match fields.any().der()? {
        (OCTET_STRING, salt) => salt,
        // otherSource: reserved by RFC 8018, used by no one.
        (SEQUENCE, _) => return Err(Problem::Scheme),
        _ => return Err(Problem::Der),
    };
    let iterations = unsigned(fields.take(INTEGER).der()?).der()?;
    let key_length = fields.optional(INTEGER).der()?;
    let prf = fields.optional(SEQUENCE).der()?;
    fields.end().der()?;
    if let Some(length) = key_length
        && unsigned(length) != u64::try_from(key_len).ok()
    {
        return Err(Problem::Parameters);
    }
    let (prf, prf_len) = match prf {
        None => (pbkdf2::PBKDF2_HMAC_SHA1, 20),
        Some(prf) => {
            let (id, parameters) = der::algorithm(prf).der()?;
            if !matches!(parameters, None | Some((NULL, []))) {
                return Err(Problem::Parameters);
            }
            match id {
                i if i == oid::HMAC_SHA1 => (pbkdf2::PBKDF2_HMAC_SHA1, 20),
                i if i == oid::HMAC_SHA256 => (pbkdf2::PBKDF2_HMAC_SHA256, 32),
                i if i == oid::HMAC_SHA384 => (pbkdf2::PBKDF2_HMAC_SHA384, 48),
                i if i == oid::HMAC_SHA512 => (pbkdf2::PBKDF2_HMAC_SHA512, 64),
                // hmacWithSHA224 and the rest.
                _ => return Err(Problem::Scheme),
            }
        }
    };

    let count = session.charge(iterations, key_len.div_ceil(prf_len))?;
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    pbkdf2::derive(prf, count, salt, &[], &mut key);
    let plaintext = match cipher {
        Pbes2Cipher::Aes(algorithm, _) => aes_cbc_decrypt(algorithm, &key, iv, ciphertext),
        Pbes2Cipher::TdesEde3 => Legacy::TdesEde3.decrypt(&key, iv, ciphertext),
    };
    plaintext
        .filter(|p| der::single(p, SEQUENCE).is_some())
        .ok_or(Problem::Decrypt)
}

/// AES-CBC with PKCS #7 padding, by aws-lc-rs.
fn aes_cbc_decrypt(
    algorithm: &'static aws_lc_rs::cipher::Algorithm,
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let key =
        PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(algorithm, key).ok()?).ok()?;
    let iv: [u8; 16] = iv.try_into().ok()?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .decrypt(
            &mut plaintext,
            DecryptionContext::Iv128(FixedLength::from(iv)),
        )
        .ok()?
        .len();
    plaintext.truncate(len);
    Some(plaintext)
}

/// Appendix B.3: what the KDF derives.
const ID_KEY: u8 = 1;
const ID_IV: u8 = 2;
const ID_MAC: u8 = 3;

/// RFC 7292 Appendix B.2: `n` octets for purpose `id` from `password` (its
/// octets as B.1 formats them) and `salt`, with `hash` iterated `iterations`
/// times per block of output.
fn pkcs12_kdf(
    hash: &'static digest::Algorithm,
    id: u8,
    password: &[u8],
    salt: &[u8],
    iterations: NonZeroU32,
    n: usize,
) -> Zeroizing<Vec<u8>> {
    let u = hash.output_len();
    let v = hash.block_len();
    // Steps 1 to 4: D is v copies of ID; S and P are the salt and the
    // password repeated to whole blocks of v octets; I = S || P.
    let diversifier = vec![id; v];
    let fill = |input: &[u8]| -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            input
                .iter()
                .copied()
                .cycle()
                .take(input.len().div_ceil(v) * v)
                .collect(),
        )
    };
    let mut i = fill(salt);
    i.extend_from_slice(&fill(password));

    let mut out = Zeroizing::new(Vec::with_capacity(n + u));
    loop {
        // Step 6a: A = H^r(D || I).
        let mut context = digest::Context::new(hash);
        context.update(&diversifier);
        context.update(&i);
        let mut a = context.finish();
        for _ in 1..iterations.get() {
            a = digest::digest(hash, a.as_ref());
        }
        out.extend_from_slice(a.as_ref());
        if out.len() >= n {
            break;
        }
        // Steps 6b and 6c: B is A repeated to v octets; each v-octet block
        // of I becomes (I_j + B + 1) mod 2^(8v).
        let b: Zeroizing<Vec<u8>> =
            Zeroizing::new(a.as_ref().iter().copied().cycle().take(v).collect());
        for block in i.chunks_exact_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().rev().zip(b.iter().rev()) {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                let [low, high] = sum.to_le_bytes();
                *x = low;
                carry = u16::from(high);
            }
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests;
