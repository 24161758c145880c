//! The emulator's own API under `/_emulator/`: health, the request log,
//! fault rules, identities, minting OIDC tokens and rotating secrets. Loopback only, like the
//! rest; it never returns a secret value or an access token.

use serde_json::{Map, Value, json};

use crate::app::App;
use crate::faults::FaultSpec;
use crate::http::{Request, Response};

fn bad_request(message: &str) -> Response {
    Response::json(
        400,
        &json!({ "error": { "code": "BadRequest", "message": message } }),
    )
}

/// Routes `/_emulator/...`.
pub(super) fn handle(app: &App, req: &Request) -> Response {
    let parts = req.parts();
    match (req.method.as_str(), parts.get(1..).unwrap_or_default()) {
        ("GET", ["health"]) => Response::json(200, &json!({ "status": "ok" })),
        ("GET", ["requests"]) => Response::json(
            200,
            &json!({ "total": app.log.total(), "entries": app.log.entries() }),
        ),
        ("DELETE", ["requests"]) => {
            app.log.clear();
            Response::json(200, &json!({ "total": 0 }))
        }
        ("GET", ["faults"]) => Response::json(200, &json!({ "faults": app.faults.list() })),
        ("POST", ["faults"]) => match serde_json::from_slice::<FaultSpec>(&req.body) {
            Ok(spec) => {
                app.faults.add(spec);
                Response::json(200, &json!({ "faults": app.faults.list() }))
            }
            Err(e) => bad_request(&format!("not a fault rule: {e}")),
        },
        ("DELETE", ["faults"]) => {
            app.faults.clear();
            Response::json(200, &json!({ "faults": [] }))
        }
        ("GET", ["identities"]) => {
            let list: Vec<Value> = app
                .directory
                .principals
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "type": format!("{:?}", p.kind),
                        "client_id": p.client_id,
                        "object_id": p.object_id,
                        "resource_id": p.resource_id,
                        "tenant_id": p.tenant_id,
                        "assigned": p.assigned,
                    })
                })
                .collect();
            Response::json(200, &json!({ "identities": list }))
        }
        ("GET", ["role_assignments"]) => {
            let list: Vec<Value> = app
                .directory
                .assignments
                .iter()
                .map(|a| json!({ "object_id": a.object_id, "role": a.role, "scope": a.scope }))
                .collect();
            Response::json(200, &json!({ "role_assignments": list }))
        }
        ("POST", ["issuers", name, "token"]) => mint(app, req, name),
        ("POST", ["vaults", vault, "secrets", name]) => rotate(app, req, vault, name),
        _ => super::not_found(req),
    }
}

/// Rotates a secret: `{"value": "..."}` becomes its new current version.
/// The answer names the version, never the value.
fn rotate(app: &App, req: &Request, vault: &str, name: &str) -> Response {
    let value = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|body| body.get("value").and_then(Value::as_str).map(str::to_owned));
    let Some(value) = value else {
        return bad_request("the body is not `{\"value\": \"...\"}`");
    };
    match app.rotate_secret(vault, name, value) {
        Ok(version) => Response::json(
            200,
            &json!({ "vault": vault, "secret": name, "version": version }),
        ),
        Err(e) => bad_request(&e.to_string()),
    }
}

/// Mints a token of a hosted issuer: `{"audience": "...", "claims": {...}}`.
fn mint(app: &App, req: &Request, name: &str) -> Response {
    let Some(issuer) = app.issuer(name) else {
        return Response::json(
            404,
            &json!({ "error": { "code": "NotFound", "message": format!("no issuer `{name}`") } }),
        );
    };
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => return bad_request(&format!("the body is not JSON: {e}")),
        }
    };
    let audience = body
        .get("audience")
        .and_then(Value::as_str)
        .unwrap_or("api://AzureADTokenExchange");
    let claims = body
        .get("claims")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_else(Map::new);
    match issuer.mint(audience, &claims) {
        Ok(token) => Response::json(200, &json!({ "value": token })),
        Err(e) => Response::json(
            500,
            &json!({ "error": { "code": "InternalError", "message": e.to_string() } }),
        ),
    }
}
