//! What a token says about whose it is, read without verifying it: for
//! messages ("object id X has no role") and `dsops doctor`, never for trust.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// The payload of a JWT (`header.payload.signature`), decoded and read
/// as JSON, not verified; `None` for anything else.
pub(crate) fn jwt_payload(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Claims of an access token (all optional: not every token is a JWT).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenClaims {
    /// `oid`: the principal's object id.
    pub object_id: Option<String>,
    /// `appid` (or `azp`): the application (client) id.
    pub client_id: Option<String>,
    /// `tid`: the tenant.
    pub tenant_id: Option<String>,
    /// `aud`: the resource the token is for.
    pub audience: Option<String>,
    /// `xms_mirid`: a user-assigned identity's ARM id.
    pub resource_id: Option<String>,
}

impl TokenClaims {
    /// Reads the claims of a JWT; anything else gives no claims.
    pub fn read(token: &SecretString) -> Self {
        let Some(claims) = jwt_payload(token.expose_secret()) else {
            return Self::default();
        };
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            object_id: text("oid"),
            client_id: text("appid").or_else(|| text("azp")),
            tenant_id: text("tid"),
            audience: text("aud"),
            resource_id: text("xms_mirid"),
        }
    }
}

/// What a federated token (a CI's or a cluster's OIDC token, the client
/// assertion) says about itself, read without verifying it: the issuer,
/// subject and audiences a federated credential must name for Entra ID to
/// accept it (`dsops doctor` prints the `az` command).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederatedToken {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud` (a string or a list in the token).
    pub audiences: Vec<String>,
}

impl FederatedToken {
    /// Reads `iss`, `sub` and `aud` of a JWT; `None` when it is not one or
    /// lacks `iss` or `sub`.
    pub(crate) fn read(token: &SecretString) -> Option<Self> {
        let claims = jwt_payload(token.expose_secret())?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let audiences = match claims.get("aud") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Some(Self {
            issuer: text("iss")?,
            subject: text("sub")?,
            audiences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_federated_token_names_its_issuer_subject_and_audiences() {
        let payload = URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://gitlab.com","sub":"project_path:g/p:ref_type:branch:ref:main","aud":["a","b"]}"#);
        let token = FederatedToken::read(&SecretString::from(format!("h.{payload}.s"))).unwrap();
        assert_eq!(token.issuer, "https://gitlab.com");
        assert_eq!(token.subject, "project_path:g/p:ref_type:branch:ref:main");
        assert_eq!(token.audiences, ["a", "b"]);
        assert_eq!(FederatedToken::read(&SecretString::from("opaque")), None);
    }

    #[test]
    fn reads_a_jwt_and_tolerates_anything_else() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"oid":"o","appid":"a","tid":"t","aud":"x"}"#);
        let claims = TokenClaims::read(&SecretString::from(format!("h.{payload}.s")));
        assert_eq!(claims.object_id.as_deref(), Some("o"));
        assert_eq!(claims.client_id.as_deref(), Some("a"));
        assert_eq!(
            TokenClaims::read(&SecretString::from("opaque")),
            TokenClaims::default()
        );
    }
}
