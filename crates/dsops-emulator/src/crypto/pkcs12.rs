//! A PKCS#12 (PFX) file holding one private key and its certificate chain,
//! protected by the empty password, as Key Vault exports a certificate's
//! backing secret with content type `application/x-pkcs12`.
//!
//! The bags are stored in the clear (keyBag, certBag) and the whole is
//! authenticated with an HMAC-SHA256 `macData` (RFC 7292), which OpenSSL and
//! .NET verify with the empty password.

use aws_lc_rs::{digest, hmac};

use super::der::{bmp_string, explicit, integer, octet_string, oid, sequence, set, tlv};
use crate::EmulatorError;

const DATA: &[u32] = &[1, 2, 840, 113549, 1, 7, 1];
const KEY_BAG: &[u32] = &[1, 2, 840, 113549, 1, 12, 10, 1, 1];
const CERT_BAG: &[u32] = &[1, 2, 840, 113549, 1, 12, 10, 1, 3];
const X509_CERTIFICATE: &[u32] = &[1, 2, 840, 113549, 1, 9, 22, 1];
const LOCAL_KEY_ID: &[u32] = &[1, 2, 840, 113549, 1, 9, 21];
const FRIENDLY_NAME: &[u32] = &[1, 2, 840, 113549, 1, 9, 20];
const SHA256: &[u32] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const ITERATIONS: u32 = 2048;

/// Builds the PFX. `pkcs8` is the private key (PrivateKeyInfo DER); `chain`
/// the certificates, leaf first.
pub(crate) fn build(pkcs8: &[u8], chain: &[Vec<u8>], name: &str) -> Result<Vec<u8>, EmulatorError> {
    let leaf = chain
        .first()
        .ok_or(EmulatorError::Crypto("a PFX needs a certificate"))?;
    let key_id = super::sha1(leaf);
    let leaf_attributes = set(&[
        &sequence(&[&oid(FRIENDLY_NAME), &set(&[&bmp_string(name)])]),
        &sequence(&[&oid(LOCAL_KEY_ID), &set(&[&octet_string(&key_id)])]),
    ]);
    let key_attributes = set(&[&sequence(&[
        &oid(LOCAL_KEY_ID),
        &set(&[&octet_string(&key_id)]),
    ])]);

    let key_bag = sequence(&[&oid(KEY_BAG), &explicit(0, pkcs8), &key_attributes]);
    let mut cert_bags = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        let value = sequence(&[&oid(X509_CERTIFICATE), &explicit(0, &octet_string(cert))]);
        let bag = if i == 0 {
            sequence(&[&oid(CERT_BAG), &explicit(0, &value), &leaf_attributes])
        } else {
            sequence(&[&oid(CERT_BAG), &explicit(0, &value)])
        };
        cert_bags.push(bag);
    }
    let cert_refs: Vec<&[u8]> = cert_bags.iter().map(Vec::as_slice).collect();
    let certs = sequence(&cert_refs);
    let keys = sequence(&[&key_bag]);

    let data = |content: &[u8]| sequence(&[&oid(DATA), &explicit(0, &octet_string(content))]);
    let auth_safe = sequence(&[&data(&certs), &data(&keys)]);

    let salt = super::random_bytes(16)?;
    let mac_key = derive_mac_key(&salt, ITERATIONS);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &mac_key), &auth_safe);
    let mac_data = sequence(&[
        &sequence(&[
            &sequence(&[&oid(SHA256), &tlv(0x05, &[])]),
            &octet_string(tag.as_ref()),
        ]),
        &octet_string(&salt),
        &integer(ITERATIONS),
    ]);
    Ok(sequence(&[&integer(3), &data(&auth_safe), &mac_data]))
}

/// RFC 7292 appendix B.2 with SHA-256, ID 3 (MAC key) and the empty password
/// (its BMPString is the two-byte terminator). One hash block gives the
/// 32-byte key.
fn derive_mac_key(salt: &[u8], iterations: u32) -> Vec<u8> {
    const V: usize = 64;
    let fill = |input: &[u8]| -> Vec<u8> {
        if input.is_empty() {
            return Vec::new();
        }
        let len = input.len().div_ceil(V) * V;
        input.iter().copied().cycle().take(len).collect()
    };
    let mut block = vec![3u8; V];
    block.extend(fill(salt));
    block.extend(fill(&[0, 0]));
    let mut a = digest::digest(&digest::SHA256, &block).as_ref().to_vec();
    for _ in 1..iterations {
        a = digest::digest(&digest::SHA256, &a).as_ref().to_vec();
    }
    a
}
