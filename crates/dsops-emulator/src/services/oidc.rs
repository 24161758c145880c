//! OIDC issuers: GitHub Actions' ID token endpoint
//! (`ACTIONS_ID_TOKEN_REQUEST_URL`) and discovery, and the discovery of the
//! further issuers of the state.

use serde_json::json;

use crate::app::App;
use crate::crypto::same_secret;
use crate::http::{Request, Response};
use crate::tokens::Issuer;

fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "message": message }))
}

/// Routes `/github/...` and `/oidc/{name}/...`.
pub(super) fn handle(app: &App, req: &Request) -> Response {
    let parts = req.parts();
    let (issuer, rest) = match parts.as_slice() {
        ["github", rest @ ..] => (&app.github, rest),
        ["oidc", name, rest @ ..] => match app.issuers.get(*name) {
            Some(i) => (i, rest),
            None => return super::not_found(req),
        },
        _ => return super::not_found(req),
    };
    let base = format!("{}://{}{}", req.scheme, req.authority, base_path(issuer));
    match (req.method.as_str(), rest) {
        ("GET", [".well-known", "openid-configuration"]) => {
            Response::json(200, &issuer.discovery(&format!("{base}/.well-known/jwks")))
        }
        ("GET", [".well-known", "jwks"]) => Response::json(200, &issuer.jwks()),
        ("GET" | "POST", ["idtoken"]) if issuer.request_token.is_some() => id_token(issuer, req),
        _ => super::not_found(req),
    }
}

fn base_path(issuer: &Issuer) -> String {
    if issuer.name == "github" {
        "/github".to_owned()
    } else {
        format!("/oidc/{}", issuer.name)
    }
}

/// The runner's ID token endpoint: `Authorization: Bearer
/// $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, optional `audience`, answers
/// `{"value": "<jwt>"}`.
fn id_token(issuer: &Issuer, req: &Request) -> Response {
    let expected = issuer.request_token.as_deref().unwrap_or_default();
    match req.bearer() {
        Some(token) if same_secret(token, expected) => {}
        Some(_) => return error(401, "The request token is invalid or expired."),
        None => {
            return error(
                401,
                "The request requires an Authorization bearer token (ACTIONS_ID_TOKEN_REQUEST_TOKEN).",
            );
        }
    }
    let audience = match req.query("audience") {
        Some(a) if !a.is_empty() => a.to_owned(),
        _ => {
            let owner = issuer
                .claims
                .get("repository_owner")
                .map_or("octo-org", String::as_str);
            format!("https://github.com/{owner}")
        }
    };
    match issuer.mint(&audience, &serde_json::Map::new()) {
        Ok(token) => {
            let subject = issuer.claims.get("sub").cloned();
            Response::json(200, &json!({ "count": 1, "value": token }))
                .issued(subject.as_deref().unwrap_or("github"), &audience)
        }
        Err(e) => error(500, &e.to_string()),
    }
}
