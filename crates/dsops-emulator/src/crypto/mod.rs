//! Randomness, ids, encodings and the key material the emulator signs with.

pub(crate) mod der;
pub(crate) mod jwt;
pub(crate) mod pkcs12;
pub(crate) mod tls;

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::EmulatorError;

/// `n` random bytes.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, EmulatorError> {
    let mut out = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| EmulatorError::Crypto("the system random generator failed"))?;
    Ok(out)
}

/// A random value printable as a token or key: base64 of `n` random bytes.
pub(crate) fn random_b64(n: usize) -> Result<String, EmulatorError> {
    Ok(b64(&random_bytes(n)?))
}

/// Standard base64 with padding.
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// base64url without padding (JOSE).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, bytes).as_ref().to_vec()
}

/// SHA-1 of `bytes` (X.509 thumbprints, `x5t`).
pub(crate) fn sha1(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
        .as_ref()
        .to_vec()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A GUID derived from a seed, so that the same state file gives the same
/// ids on every start (users write them into dsops.yaml).
pub(crate) fn guid_from(seed: &str) -> String {
    let h = hex(&sha256(seed.as_bytes()));
    let h = h.as_bytes();
    let part =
        |a: usize, b: usize| String::from_utf8_lossy(h.get(a..b).unwrap_or_default()).into_owned();
    format!(
        "{}-{}-4{}-8{}-{}",
        part(0, 8),
        part(8, 12),
        part(13, 16),
        part(17, 20),
        part(20, 32)
    )
}

/// A Key Vault version id (32 hex digits) derived from a seed.
pub(crate) fn version_from(seed: &str) -> String {
    let mut h = hex(&sha256(seed.as_bytes()));
    h.truncate(32);
    h
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Compares secrets in constant time.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_and_shaped() {
        let a = guid_from("vm");
        assert_eq!(a, guid_from("vm"));
        assert_ne!(a, guid_from("other"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(version_from("x").len(), 32);
    }
}
