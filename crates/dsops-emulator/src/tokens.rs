//! Access tokens as Entra ID issues them (RS256 JWTs naming the principal),
//! and the OIDC issuers the emulator hosts (GitHub Actions, others).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::EmulatorError;
use crate::crypto::jwt::{JwtError, SigningKey};
use crate::crypto::{guid_from, now, random_b64};
use crate::directory::Principal;
use crate::state::{GithubSpec, IdentityKind, IssuerSpec};

/// Leeway for clock skew when checking times.
const SKEW: i64 = 300;

/// A token issued.
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) token: String,
    pub(crate) expires_on: i64,
    pub(crate) expires_in: i64,
    pub(crate) not_before: i64,
}

/// Claims of an access token that came back, checked.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) object_id: String,
    pub(crate) client_id: String,
    pub(crate) tenant_id: String,
    pub(crate) audience: String,
}

/// Why an access token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Invalid(JwtError),
    Expired,
    NotYetValid,
    MissingClaim(&'static str),
    WrongIssuer,
}

impl std::fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenProblem::Invalid(e) => write!(f, "{e}"),
            TokenProblem::Expired => f.write_str("the token is expired"),
            TokenProblem::NotYetValid => f.write_str("the token is not valid yet"),
            TokenProblem::MissingClaim(c) => write!(f, "the token has no `{c}` claim"),
            TokenProblem::WrongIssuer => f.write_str("the token's issuer does not match"),
        }
    }
}

/// The Entra ID side: signs access tokens.
#[derive(Debug)]
pub(crate) struct AccessTokens {
    key: SigningKey,
    lifetime: i64,
}

impl AccessTokens {
    pub(crate) fn new(lifetime: Option<u64>) -> Result<Self, EmulatorError> {
        Ok(Self {
            key: SigningKey::generate()?,
            lifetime: lifetime.map_or(3599, |s| i64::try_from(s).unwrap_or(i64::MAX).max(1)),
        })
    }

    /// The signing keys, as `/{tenant}/discovery/v2.0/keys` serves them.
    pub(crate) fn jwks(&self) -> Value {
        self.key.jwks()
    }

    /// A token for `principal` with audience `audience`.
    pub(crate) fn issue(
        &self,
        principal: &Principal,
        audience: &str,
    ) -> Result<Issued, EmulatorError> {
        let now = now();
        let exp = now + self.lifetime;
        let mut claims = json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{}/", principal.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": exp,
            "aio": "dsops-emulator",
            "appid": principal.client_id,
            "appidacr": if principal.kind == IdentityKind::ServicePrincipal { "1" } else { "2" },
            "idp": format!("https://sts.windows.net/{}/", principal.tenant_id),
            "idtyp": "app",
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": principal.tenant_id,
            "uti": random_b64(16)?,
            "ver": "1.0",
        });
        if let (Some(map), Some(rid)) = (claims.as_object_mut(), &principal.resource_id) {
            map.insert("xms_mirid".into(), rid.clone().into());
        }
        Ok(Issued {
            token: self.key.sign(&claims, &json!({ "x5t": self.key.kid() }))?,
            expires_on: exp,
            expires_in: self.lifetime,
            not_before: now,
        })
    }

    /// Checks a bearer token's signature and times; audience is the caller's.
    pub(crate) fn validate(&self, token: &str) -> Result<Caller, TokenProblem> {
        let claims = self.key.verify(token).map_err(TokenProblem::Invalid)?;
        check_times(&claims)?;
        let text = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(TokenProblem::MissingClaim(name))
        };
        Ok(Caller {
            object_id: text("oid")?,
            client_id: text("appid")?,
            tenant_id: text("tid")?,
            audience: text("aud")?,
        })
    }
}

fn check_times(claims: &Value) -> Result<(), TokenProblem> {
    let now = now();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(TokenProblem::MissingClaim("exp"))?;
    if exp <= now {
        return Err(TokenProblem::Expired);
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf > now + SKEW)
    {
        return Err(TokenProblem::NotYetValid);
    }
    Ok(())
}

/// An OIDC issuer the emulator hosts.
#[derive(Debug)]
pub(crate) struct Issuer {
    /// The name: `github`, or a key of `issuers`.
    pub(crate) name: String,
    /// The `iss` claim and discovery URL base.
    pub(crate) url: String,
    key: SigningKey,
    lifetime: i64,
    /// Default claims (GitHub's workflow claims).
    pub(crate) claims: BTreeMap<String, String>,
    /// The bearer the token request endpoint takes (GitHub only).
    pub(crate) request_token: Option<String>,
}

impl Issuer {
    /// The GitHub Actions issuer, at `{origin}/github` unless the state names
    /// another `iss`.
    pub(crate) fn github(spec: &GithubSpec, origin: &str) -> Result<Self, EmulatorError> {
        let mut claims: BTreeMap<String, String> = [
            ("sub", "repo:octo-org/octo-repo:ref:refs/heads/main"),
            ("repository", "octo-org/octo-repo"),
            ("repository_owner", "octo-org"),
            ("ref", "refs/heads/main"),
            ("ref_type", "branch"),
            ("event_name", "push"),
            ("workflow", "ci"),
            ("actor", "octocat"),
            ("runner_environment", "github-hosted"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        claims.extend(spec.claims.clone());
        Ok(Self {
            name: "github".to_owned(),
            url: spec
                .issuer
                .clone()
                .unwrap_or_else(|| format!("{origin}/github")),
            key: SigningKey::generate()?,
            lifetime: spec
                .lifetime
                .map_or(300, |s| i64::try_from(s).unwrap_or(i64::MAX)),
            claims,
            request_token: Some(match &spec.request_token {
                Some(t) => t.clone(),
                None => random_b64(24)?,
            }),
        })
    }

    /// A further issuer at `{origin}/oidc/{name}`.
    pub(crate) fn other(
        name: &str,
        spec: &IssuerSpec,
        origin: &str,
    ) -> Result<Self, EmulatorError> {
        Ok(Self {
            name: name.to_owned(),
            url: spec
                .issuer
                .clone()
                .unwrap_or_else(|| format!("{origin}/oidc/{name}")),
            key: SigningKey::generate()?,
            lifetime: spec
                .lifetime
                .map_or(3600, |s| i64::try_from(s).unwrap_or(i64::MAX)),
            claims: BTreeMap::new(),
            request_token: None,
        })
    }

    /// Mints a token for `audience`, with the default claims overridden by
    /// `extra`.
    pub(crate) fn mint(
        &self,
        audience: &str,
        extra: &serde_json::Map<String, Value>,
    ) -> Result<String, EmulatorError> {
        let now = now();
        let mut claims = json!({
            "jti": guid_from(&random_b64(16)?),
            "iss": self.url,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
        });
        if let Some(map) = claims.as_object_mut() {
            for (k, v) in &self.claims {
                map.insert(k.clone(), v.clone().into());
            }
            for (k, v) in extra {
                map.insert(k.clone(), v.clone());
            }
        }
        self.key.sign(&claims, &json!({ "x5t": self.key.kid() }))
    }

    /// The JWKS document.
    pub(crate) fn jwks(&self) -> Value {
        self.key.jwks()
    }

    /// The discovery document.
    pub(crate) fn discovery(&self, jwks_uri: &str) -> Value {
        json!({
            "issuer": self.url,
            "jwks_uri": jwks_uri,
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner", "environment", "workflow", "actor", "event_name", "ref_type", "runner_environment"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        })
    }

    /// Verifies a token this issuer signed: signature, times, and `iss`.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, TokenProblem> {
        let claims = self.key.verify(token).map_err(TokenProblem::Invalid)?;
        check_times(&claims)?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.url.as_str()) {
            return Err(TokenProblem::WrongIssuer);
        }
        Ok(claims)
    }
}
