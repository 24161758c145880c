//! A Key Vault key as a public JWK (RFC 7517): only the members that
//! describe the public key are kept, whatever else the server sent.

use serde::Serialize;
use serde_json::{Map, Value};

/// The JWK written: members in this order, absent ones left out.
#[derive(Serialize)]
struct PublicJwk<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    kty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_ops: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<&'a str>,
}

/// The public JWK of Key Vault's `key` object, as compact JSON: `kid`, `kty`,
/// `key_ops`, then `n`, `e` (RSA) or `crv`, `x`, `y` (EC). Private members
/// (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k`) and any other member are dropped.
/// Key Vault's HSM types `RSA-HSM` and `EC-HSM` are written `RSA` and `EC`,
/// the values RFC 7518 defines. A symmetric (`oct`) key has no public part:
/// an error.
pub(crate) fn public_jwk(key: &Map<String, Value>) -> Result<String, String> {
    let text = |name: &str| key.get(name).and_then(Value::as_str);
    let required =
        |name: &'static str| text(name).ok_or_else(|| format!("the key has no `{name}` member"));
    let kty = match required("kty")? {
        "RSA" | "RSA-HSM" => "RSA",
        "EC" | "EC-HSM" => "EC",
        "oct" | "oct-HSM" => return Err("a symmetric key has no public part".to_owned()),
        _ => return Err("the key's type (`kty`) is not RSA or EC".to_owned()),
    };
    let key_ops = key
        .get("key_ops")
        .and_then(Value::as_array)
        .map(|ops| ops.iter().filter_map(Value::as_str).collect());
    let mut jwk = PublicJwk {
        kid: text("kid"),
        kty,
        key_ops,
        n: None,
        e: None,
        crv: None,
        x: None,
        y: None,
    };
    if kty == "RSA" {
        jwk.n = Some(required("n")?);
        jwk.e = Some(required("e")?);
    } else {
        jwk.crv = Some(required("crv")?);
        jwk.x = Some(required("x")?);
        jwk.y = Some(required("y")?);
    }
    serde_json::to_string(&jwk).map_err(|_| "the JWK cannot be written".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwk(value: Value) -> Result<String, String> {
        public_jwk(value.as_object().unwrap())
    }

    #[test]
    fn rsa_keeps_the_public_members_only() {
        let out = jwk(json!({
            "kid": "https://v.vault.azure.net/keys/k/1",
            "kty": "RSA-HSM",
            "key_ops": ["sign", "verify"],
            "n": "AQAB-n", "e": "AQAB",
            "d": "PRIVATE-d", "p": "PRIVATE-p", "q": "PRIVATE-q",
            "dp": "PRIVATE-dp", "dq": "PRIVATE-dq", "qi": "PRIVATE-qi",
            "k": "PRIVATE-k", "t": "HSM-blob",
        }))
        .unwrap();
        assert_eq!(
            out,
            r#"{"kid":"https://v.vault.azure.net/keys/k/1","kty":"RSA","key_ops":["sign","verify"],"n":"AQAB-n","e":"AQAB"}"#
        );
        assert!(!out.contains("PRIVATE") && !out.contains("HSM"));
    }

    #[test]
    fn ec_keeps_the_curve_and_point() {
        let out = jwk(json!({
            "kid": "k", "kty": "EC", "key_ops": ["sign"], "crv": "P-256",
            "x": "xx", "y": "yy", "d": "PRIVATE",
        }))
        .unwrap();
        assert_eq!(
            out,
            r#"{"kid":"k","kty":"EC","key_ops":["sign"],"crv":"P-256","x":"xx","y":"yy"}"#
        );
    }

    #[test]
    fn what_is_not_a_public_key_is_refused() {
        assert!(
            jwk(json!({"kty": "oct", "k": "secret"}))
                .unwrap_err()
                .contains("symmetric")
        );
        assert!(
            jwk(json!({"kty": "RSA", "e": "AQAB"}))
                .unwrap_err()
                .contains("`n`")
        );
        assert!(jwk(json!({"n": "x"})).unwrap_err().contains("`kty`"));
        assert!(jwk(json!({"kty": "OKP", "x": "x"})).is_err());
        // No key_ops, no kid: left out.
        assert_eq!(
            jwk(json!({"kty": "RSA", "n": "n", "e": "e"})).unwrap(),
            r#"{"kty":"RSA","n":"n","e":"e"}"#
        );
    }
}
