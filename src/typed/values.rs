//! The types of the fields that are not plain strings: a certificate with its
//! private key, a public key as JWK, an access token with its expiry.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::azure::identity::Scope;
use crate::engine::StoreClient;

/// Why a text is not a value of the expected type. The message never quotes
/// the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    message: String,
}

impl InvalidValue {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidValue {}

/// A certificate with its private key (`type: certificate`): the private key
/// as PEM (PKCS#8 `PRIVATE KEY` as dsops gives it), and the certificate
/// chain, leaf first, as PEM `CERTIFICATE` blocks.
///
/// `Debug` shows how many certificates the chain has, never the key. There is
/// no `Display`.
#[derive(Clone)]
pub struct Certificate {
    private_key: SecretString,
    chain: Vec<String>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field(
                "chain",
                &format_args!("{} certificate(s)", self.chain.len()),
            )
            .field("private_key", &format_args!("[redacted]"))
            .finish()
    }
}

impl Certificate {
    /// Reads the PEM text dsops gives for a certificate (`dsops exec`,
    /// `dsops get`): one private key block and one or more `CERTIFICATE`
    /// blocks, in any order (the chain keeps the order of the text). Text
    /// outside the blocks is ignored.
    pub fn from_pem(text: &str) -> Result<Self, InvalidValue> {
        let mut private_key: Option<SecretString> = None;
        let mut chain = Vec::new();
        for block in pem_blocks(text)? {
            if block.label.ends_with("PRIVATE KEY") {
                if private_key.is_some() {
                    return Err(InvalidValue::new(
                        "the PEM text has more than one private key block",
                    ));
                }
                private_key = Some(SecretString::from(block.text));
            } else if block.label == "CERTIFICATE" {
                chain.push(block.text);
            }
        }
        let Some(private_key) = private_key else {
            return Err(InvalidValue::new(
                "the PEM text has no private key block (`-----BEGIN PRIVATE KEY-----`)",
            ));
        };
        if chain.is_empty() {
            return Err(InvalidValue::new(
                "the PEM text has no certificate block (`-----BEGIN CERTIFICATE-----`)",
            ));
        }
        Ok(Self { private_key, chain })
    }

    /// The private key, one PEM block.
    pub fn private_key_pem(&self) -> &SecretString {
        &self.private_key
    }

    /// The certificate chain, one PEM `CERTIFICATE` block each, leaf first.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// The leaf certificate, one PEM block.
    pub fn leaf_pem(&self) -> &str {
        self.chain.first().map_or("", String::as_str)
    }

    /// The whole chain as one PEM text, leaf first (what TLS libraries read
    /// as a "certificate chain file").
    pub fn chain_pem(&self) -> String {
        self.chain.concat()
    }

    /// The private key then the chain, as one PEM text: the value as dsops
    /// gives it to a program.
    pub fn to_pem(&self) -> SecretString {
        let key = self.private_key.expose_secret();
        let mut text =
            String::with_capacity(key.len() + self.chain.iter().map(String::len).sum::<usize>());
        text.push_str(key);
        for certificate in &self.chain {
            text.push_str(certificate);
        }
        SecretString::from(text)
    }

    /// A well-formed stand-in for tests: PEM blocks whose content is not DER.
    pub(crate) fn placeholder() -> Self {
        const BODY: &str = "ZHNvcHMgdGVzdCBwbGFjZWhvbGRlcg==";
        Self {
            private_key: SecretString::from(format!(
                "-----BEGIN PRIVATE KEY-----\n{BODY}\n-----END PRIVATE KEY-----\n"
            )),
            chain: vec![format!(
                "-----BEGIN CERTIFICATE-----\n{BODY}\n-----END CERTIFICATE-----\n"
            )],
        }
    }
}

struct Block {
    label: String,
    text: String,
}

/// The PEM blocks of `text`, each normalised to `BEGIN` line, body lines, `END` line.
fn pem_blocks(text: &str) -> Result<Vec<Block>, InvalidValue> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            if open.is_some() {
                return Err(InvalidValue::new(
                    "a PEM block starts before the previous one ends",
                ));
            }
            let mut block_text = String::with_capacity(text.len().min(16 * 1024));
            block_text.push_str(line);
            block_text.push('\n');
            open = Some(Block {
                label: label.to_owned(),
                text: block_text,
            });
        } else if let Some(label) = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            let Some(mut block) = open.take() else {
                return Err(InvalidValue::new("a PEM block ends that did not start"));
            };
            if block.label != label {
                return Err(InvalidValue::new(format!(
                    "a PEM `{}` block ends as `{label}`",
                    block.label
                )));
            }
            block.text.push_str(line);
            block.text.push('\n');
            blocks.push(block);
        } else if let Some(block) = open.as_mut()
            && !line.is_empty()
        {
            block.text.push_str(line);
            block.text.push('\n');
        }
    }
    if let Some(block) = open {
        return Err(InvalidValue::new(format!(
            "the PEM `{}` block has no END line",
            block.label
        )));
    }
    Ok(blocks)
}

/// Members of a JWK that only a private key has.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The public part of a Key Vault key (`type: key`), as a JSON Web Key:
/// `kid`, `kty`, `key_ops`, then `n` and `e` (RSA) or `crv`, `x` and `y` (EC).
///
/// It holds no secret: a JWK with private members is refused. `Debug` shows
/// `kty` and `kid`.
#[derive(Clone, PartialEq, Eq)]
pub struct Jwk {
    json: String,
    members: Map<String, Value>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty())
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// Reads a JWK: a JSON object with a `kty`, and no private member (`d`,
    /// `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`).
    pub fn from_json(text: &str) -> Result<Self, InvalidValue> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| InvalidValue::new(format!("not JSON: {}", e.classify_words())))?;
        let Value::Object(members) = value else {
            return Err(InvalidValue::new("a JWK is a JSON object"));
        };
        if !members.get("kty").is_some_and(Value::is_string) {
            return Err(InvalidValue::new("the JWK has no `kty`"));
        }
        if let Some(private) = PRIVATE_MEMBERS.iter().find(|m| members.contains_key(**m)) {
            return Err(InvalidValue::new(format!(
                "the JWK has the private member `{private}`; a key field holds only a public key"
            )));
        }
        let json = Value::Object(members.clone()).to_string();
        Ok(Self { json, members })
    }

    /// `kty`: `RSA`, `EC`, `RSA-HSM`, `EC-HSM`, ...
    pub fn kty(&self) -> &str {
        self.member_str("kty").unwrap_or_default()
    }

    /// `kid`: the key's identifier (a Key Vault key URL with its version).
    pub fn kid(&self) -> Option<&str> {
        self.member_str("kid")
    }

    /// `key_ops`: what the key may be used for.
    pub fn key_ops(&self) -> Vec<&str> {
        self.members
            .get("key_ops")
            .and_then(Value::as_array)
            .map(|ops| ops.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// A string member (`n`, `e`, `crv`, `x`, `y`, ...).
    pub fn member_str(&self, name: &str) -> Option<&str> {
        self.members.get(name).and_then(Value::as_str)
    }

    /// The JWK as compact JSON, for a JOSE library.
    pub fn json(&self) -> &str {
        &self.json
    }

    pub(crate) fn placeholder(variable: &str) -> Self {
        let mut members = Map::new();
        members.insert(
            "kid".into(),
            Value::String(format!("dsops-test-{variable}")),
        );
        members.insert("kty".into(), Value::String("RSA".into()));
        members.insert("key_ops".into(), Value::Array(Vec::new()));
        members.insert("n".into(), Value::String("dGVzdA".into()));
        members.insert("e".into(), Value::String("AQAB".into()));
        let json = Value::Object(members.clone()).to_string();
        Self { json, members }
    }
}

/// Words for a JSON error without its position (which says nothing useful
/// about a value the reader cannot see).
trait Classify {
    fn classify_words(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_words(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "could not be read",
            serde_json::error::Category::Syntax => "invalid syntax",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "the text ends too early",
        }
    }
}

/// An account SAS (`operation: generate_sas`): the token (the query string
/// dsops signed, without `?`) and when it expires (its `se` parameter).
///
/// A SAS cannot be renewed in place: each `resolve` signs a new one, and
/// [`Env::watch`](crate::Watch) publishes a struct with a new SAS shortly
/// before the one it holds expires (`token_cache.buffer` before, or half its
/// life for a short one), as `dsops exec --watch` restarts its child. Made by
/// `from_env` or `for_tests`, it reads the expiry from the text.
///
/// `Debug` shows the expiry, never the token; there is no `Display`. The
/// token is read with [`ExposeSecret::expose_secret`], as a `SecretString`'s
/// is.
#[derive(Clone)]
pub struct Sas {
    token: SecretString,
    expires_on: Option<SystemTime>,
}

impl fmt::Debug for Sas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sas")
            .field("token", &format_args!("[redacted]"))
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

impl Sas {
    /// A SAS whose expiry is read from its `se` parameter (`None` when it
    /// has none that parses).
    pub fn from_token(token: SecretString) -> Self {
        let expires_on = crate::azure::storage::signed_expiry(token.expose_secret());
        Self { token, expires_on }
    }

    /// The token: the SAS query string, without `?`.
    pub fn token(&self) -> &SecretString {
        &self.token
    }

    /// When it expires (`se`); `None` when unknown.
    pub fn expires_on(&self) -> Option<SystemTime> {
        self.expires_on
    }

    /// Whether it expires within `margin` from now (`false` when the expiry
    /// is unknown).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_on
            .is_some_and(|at| at <= SystemTime::now() + margin)
    }

    /// Whether it has expired (`false` when the expiry is unknown).
    pub fn is_expired(&self) -> bool {
        self.expires_within(Duration::ZERO)
    }
}

impl ExposeSecret<str> for Sas {
    fn expose_secret(&self) -> &str {
        self.token.expose_secret()
    }
}

/// An access token (`operation: get_token`): a handle that keeps it valid.
///
/// Made by `resolve`, it refreshes through the identity it came from:
/// [`AccessToken::get`] gives a token valid for at least the store's
/// `token_cache.buffer` (five minutes by default; half its life for a token
/// that lives less than twice that), asking Entra ID (or the managed
/// identity endpoint) for a new one only when the held one is inside that
/// buffer (through the store's token cache: with the cache off, every call
/// asks). Made by `from_env` or `for_tests`, it holds one token and cannot
/// refresh it. Clones share the token.
///
/// `Debug` shows the expiry, never the token; there is no `Display`.
#[derive(Clone)]
pub struct AccessToken {
    current: Arc<Mutex<Held>>,
    refresh: Option<Arc<Refresh>>,
}

struct Held {
    token: SecretString,
    expires_on: Option<SystemTime>,
}

/// Where a resolved token is refreshed: its store's identity chain (with
/// its token cache) and its scope.
pub(crate) struct Refresh {
    pub(crate) store: StoreClient,
    pub(crate) scope: Scope,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &format_args!("[redacted]"))
            .field("expires_on", &self.expires_on())
            .finish()
    }
}

/// Why [`AccessToken::get`] or a [`Credential`] has no valid token. Never
/// holds a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token cannot be refreshed (it came from the environment or a
    /// test) and has expired.
    #[error("the token has expired and cannot be refreshed (it was not resolved by dsops)")]
    Expired,
    /// The identity gave no token: every source of the store's chain, and why.
    #[error("no new token for {scope}: {reason}")]
    Refresh {
        /// The scope asked for.
        scope: String,
        /// Why, with each identity source's answer.
        reason: String,
    },
}

impl AccessToken {
    /// A token that expires at `expires_on` (`None`: unknown), which cannot
    /// be refreshed.
    pub fn new(token: SecretString, expires_on: Option<SystemTime>) -> Self {
        Self {
            current: Arc::new(Mutex::new(Held { token, expires_on })),
            refresh: None,
        }
    }

    /// A token whose expiry is read from its `exp` claim, when it is a JWT
    /// (Entra ID access tokens are); the claim is read, not verified. It
    /// cannot be refreshed.
    pub fn from_token(token: SecretString) -> Self {
        let expires_on = jwt_expiry(token.expose_secret());
        Self::new(token, expires_on)
    }

    /// A token resolved through `refresh`.
    pub(crate) fn refreshing(
        token: SecretString,
        expires_on: Option<SystemTime>,
        refresh: Refresh,
    ) -> Self {
        Self {
            current: Arc::new(Mutex::new(Held { token, expires_on })),
            refresh: Some(Arc::new(refresh)),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A token valid for at least the store's `token_cache.buffer` (or half
    /// its life), refreshed first when the one held is not. What to put in
    /// an `Authorization: Bearer` header, each time. It comes through the
    /// store's token cache: with `token_cache: { enabled: false }`, each call
    /// asks the identity for a new token.
    ///
    /// # Errors
    ///
    /// [`TokenError::Refresh`] when the identity gives no new token (the
    /// held one is not handed out then, even if it still works for a
    /// while); [`TokenError::Expired`] for a token that cannot be
    /// refreshed and has expired.
    pub async fn get(&self) -> Result<SecretString, TokenError> {
        let Some(refresh) = &self.refresh else {
            let held = self.held();
            if held.expires_on.is_some_and(|at| at <= SystemTime::now()) {
                return Err(TokenError::Expired);
            }
            return Ok(held.token.clone());
        };
        let token =
            refresh
                .store
                .token(&refresh.scope)
                .await
                .map_err(|error| TokenError::Refresh {
                    scope: refresh.scope.to_string(),
                    reason: crate::azure::identity::chain_text(&error),
                })?;
        let mut held = self.held();
        held.token = token.secret.clone();
        held.expires_on = Some(token.expires_on);
        Ok(token.secret)
    }

    /// Whether [`AccessToken::get`] refreshes the token (it was resolved).
    pub fn refreshes(&self) -> bool {
        self.refresh.is_some()
    }

    /// The token held now, without refreshing it: it may have expired. Use
    /// [`AccessToken::get`] for a token to send.
    pub fn token(&self) -> SecretString {
        self.held().token.clone()
    }

    /// When the token held now expires, if known.
    pub fn expires_on(&self) -> Option<SystemTime> {
        self.held().expires_on
    }

    /// Whether the token held now expires within `margin` from now
    /// (`false` when the expiry is unknown).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_on()
            .is_some_and(|at| at <= SystemTime::now() + margin)
    }

    /// Whether the token held now has expired (`false` when the expiry is
    /// unknown).
    pub fn is_expired(&self) -> bool {
        self.expires_within(Duration::ZERO)
    }

    /// The identity this token came from, for any scope: what an Azure SDK
    /// client takes as its credential (with the `azure_core` feature,
    /// [`Credential`] implements `azure_core::credentials::TokenCredential`).
    /// `None` for a token that was not resolved.
    pub fn credential(&self) -> Option<Credential> {
        self.refresh.as_ref().map(|r| Credential {
            store: r.store.clone(),
        })
    }
}

/// A store's identity chain, as a credential for any scope: the tokens come
/// through the same chain and token cache as the values of the `Env`. Made
/// by [`AccessToken::credential`].
///
/// With the crate feature `azure_core`, it implements
/// `azure_core::credentials::TokenCredential`, so that `azure_*` clients
/// (and anything else taking a credential) sign in as dsops does.
#[derive(Clone, Debug)]
pub struct Credential {
    pub(crate) store: StoreClient,
}

impl Credential {
    /// A token for `scope` (`https://vault.azure.net/.default`, or a
    /// resource, to which `/.default` is added), valid for at least the
    /// store's `token_cache.buffer` (or half its life), and when it expires.
    ///
    /// # Errors
    ///
    /// [`TokenError::Refresh`] with every identity source's answer.
    pub async fn token(&self, scope: &str) -> Result<(SecretString, SystemTime), TokenError> {
        let scope = Scope::for_resource(scope);
        let token = self
            .store
            .token(&scope)
            .await
            .map_err(|error| TokenError::Refresh {
                scope: scope.to_string(),
                reason: crate::azure::identity::chain_text(&error),
            })?;
        Ok((token.secret, token.expires_on))
    }
}

/// The `exp` claim of a JWT, or `None` for anything else.
fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let claims = crate::azure::identity::jwt_payload(token)?;
    let exp = claims.get("exp")?;
    let seconds = exp
        .as_u64()
        .or_else(|| exp.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const PEM: &str = "Bag Attributes: x\n-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nTEVBRg==\n-----END CERTIFICATE-----\n\n-----BEGIN CERTIFICATE-----\r\nQ0E=\r\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_certificate_has_its_key_and_chain() {
        let cert = Certificate::from_pem(PEM).unwrap();
        assert_eq!(cert.chain().len(), 2);
        assert!(cert.leaf_pem().contains("TEVBRg=="));
        assert!(cert.private_key_pem().expose_secret().contains("S0VZ"));
        assert_eq!(
            cert.to_pem().expose_secret(),
            "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nTEVBRg==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
        );
        let debug = format!("{cert:?}");
        assert!(!debug.contains("S0VZ"), "{debug}");
        assert!(debug.contains("2 certificate(s)"), "{debug}");
    }

    #[test]
    fn a_certificate_needs_both_parts() {
        let only_cert = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
        assert!(
            Certificate::from_pem(only_cert)
                .unwrap_err()
                .to_string()
                .contains("no private key")
        );
        let only_key = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";
        assert!(
            Certificate::from_pem(only_key)
                .unwrap_err()
                .to_string()
                .contains("no certificate")
        );
        let unclosed = "-----BEGIN PRIVATE KEY-----\nS0VZ\n";
        assert!(
            Certificate::from_pem(unclosed)
                .unwrap_err()
                .to_string()
                .contains("no END")
        );
        assert!(Certificate::from_pem("just a secret").is_err());
        let err = Certificate::from_pem("s3cr3t-canary")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_jwk_is_public() {
        let jwk = Jwk::from_json(
            r#"{"kid":"https://v.vault.azure.net/keys/k/1","kty":"RSA","key_ops":["verify"],"n":"AQ","e":"AQAB"}"#,
        )
        .unwrap();
        assert_eq!(jwk.kty(), "RSA");
        assert_eq!(jwk.key_ops(), ["verify"]);
        assert_eq!(jwk.member_str("e"), Some("AQAB"));
        assert!(format!("{jwk:?}").contains("https://v.vault.azure.net/keys/k/1"));
        let private = Jwk::from_json(r#"{"kty":"RSA","n":"AQ","e":"AQAB","d":"c2VjcmV0"}"#);
        assert!(private.unwrap_err().to_string().contains("`d`"));
        assert!(Jwk::from_json("[]").is_err());
        assert!(Jwk::from_json(r#"{"n":"AQ"}"#).is_err());
        let err = Jwk::from_json("s3cr3t-canary").unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_token_knows_when_it_expires() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"aud":"x","exp":4102444800}"#);
        let token = AccessToken::from_token(SecretString::from(format!("h.{payload}.s")));
        assert_eq!(
            token.expires_on(),
            Some(UNIX_EPOCH + Duration::from_secs(4_102_444_800))
        );
        assert!(!token.is_expired());
        assert!(token.expires_within(Duration::from_secs(200 * 365 * 24 * 3600)));
        let opaque = AccessToken::from_token(SecretString::from("opaque-canary"));
        assert_eq!(opaque.expires_on(), None);
        assert!(!opaque.is_expired());
        assert!(!format!("{opaque:?}").contains("canary"));
    }
}
