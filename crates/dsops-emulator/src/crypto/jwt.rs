//! RS256 JSON Web Tokens: the emulator signs access tokens (as Entra ID) and
//! OIDC tokens (as GitHub), and verifies them when they come back.

use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use serde_json::{Value, json};

use super::{b64url, b64url_decode};
use crate::EmulatorError;

/// An RSA signing key with its key id.
pub(crate) struct SigningKey {
    pair: KeyPair,
    kid: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// Not RS256, or signed by a key this issuer does not have.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
}

impl SigningKey {
    /// A fresh RSA-2048 key.
    pub(crate) fn generate() -> Result<Self, EmulatorError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| EmulatorError::Crypto("RSA key generation failed"))?;
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let kid = b64url(super::sha256(&components.n).get(..16).unwrap_or_default());
        Ok(Self {
            kid,
            n: components.n,
            e: components.e,
            pair,
        })
    }

    /// The key id.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub(crate) fn jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64url(&self.n),
            "e": b64url(&self.e),
        })
    }

    /// A JWKS document with this key.
    pub(crate) fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk()] })
    }

    /// Signs `claims` (extra header fields are merged into the header).
    pub(crate) fn sign(
        &self,
        claims: &Value,
        header_extra: &Value,
    ) -> Result<String, EmulatorError> {
        let mut header = json!({ "typ": "JWT", "alg": "RS256", "kid": self.kid });
        if let (Some(h), Some(extra)) = (header.as_object_mut(), header_extra.as_object()) {
            for (k, v) in extra {
                h.insert(k.clone(), v.clone());
            }
        }
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| EmulatorError::Crypto("RSA signing failed"))?;
        Ok(format!("{signing_input}.{}", b64url(&signature)))
    }

    /// Checks the signature and returns the claims. Times, issuer and
    /// audience are the caller's to check.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let parts = decode(token)?;
        if parts.header.get("alg").and_then(Value::as_str) != Some("RS256")
            || parts
                .header
                .get("kid")
                .and_then(Value::as_str)
                .is_some_and(|k| k != self.kid)
        {
            return Err(JwtError::UnknownKey);
        }
        let public = PublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        };
        public
            .verify(
                &RSA_PKCS1_2048_8192_SHA256,
                parts.signing_input.as_bytes(),
                &parts.signature,
            )
            .map_err(|_| JwtError::BadSignature)?;
        Ok(parts.claims)
    }
}

/// A token split into its parts, not yet verified.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWT without verifying it.
pub(crate) fn decode(token: &str) -> Result<Parts, JwtError> {
    let mut pieces = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(JwtError::Malformed);
    };
    let json = |part: &str| -> Result<Value, JwtError> {
        let bytes = b64url_decode(part).ok_or(JwtError::Malformed)?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
        if value.is_object() {
            Ok(value)
        } else {
            Err(JwtError::Malformed)
        }
    };
    Ok(Parts {
        header: json(h)?,
        claims: json(c)?,
        signing_input: format!("{h}.{c}"),
        signature: b64url_decode(s).ok_or(JwtError::Malformed)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign(&json!({"sub": "x"}), &json!({})).unwrap();
        assert_eq!(key.verify(&token).unwrap()["sub"], "x");
        let other = SigningKey::generate().unwrap();
        assert!(other.verify(&token).is_err());
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 2, 'A');
        assert!(key.verify(&tampered).is_err());
        assert_eq!(key.verify("a.b"), Err(JwtError::Malformed));
    }
}
