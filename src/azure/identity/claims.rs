//! What a token says about whose it is, read without verifying it: for
//! messages ("object id X has no role") and `dsops doctor`, never for trust.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

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
        let payload = token.expose_secret().split('.').nth(1).unwrap_or_default();
        let Some(claims) = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        else {
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

#[cfg(test)]
mod tests {
    use super::*;

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
