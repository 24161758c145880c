//! The emulated services, and which one a request is for.

mod admin;
mod arm;
mod cloud_metadata;
mod entra;
mod keyvault;
mod managed_identity;
mod oidc;

use serde_json::json;

use crate::app::App;
use crate::http::{Request, Response};

/// The service a request is for, by path (and by host for Key Vault).
pub(crate) fn classify(req: &Request) -> &'static str {
    match req.parts().as_slice() {
        ["metadata", "identity", "oauth2", "token"] => "imds",
        ["msi", "token"] | ["MSI", "token"] => "app_service",
        ["arc", "metadata", "identity", "oauth2", "token"] => "arc",
        ["cloudshell", "oauth2", "token"] => "cloud_shell",
        ["github", ..] => "github",
        ["oidc", ..] => "oidc",
        ["_emulator", ..] => "admin",
        [_, _, "_apis", "distributedtask", ..] => "azure_pipelines",
        ["subscriptions", ..] => "arm",
        ["metadata", "endpoints"] => "arm_metadata",
        ["secrets" | "certificates" | "keys", ..] => "keyvault",
        [_, "oauth2", ..] | [_, "v2.0", ..] | [_, "discovery", ..] => "entra",
        [tenant, ".well-known", ..] if *tenant != "github" => "entra",
        _ => "unknown",
    }
}

/// Answers a request.
pub(crate) fn handle(app: &App, req: &Request) -> Response {
    match classify(req) {
        "imds" => managed_identity::imds(app, req),
        "app_service" => managed_identity::app_service(app, req),
        "arc" => managed_identity::arc(app, req),
        "cloud_shell" => managed_identity::cloud_shell(app, req),
        "entra" => entra::handle(app, req),
        "github" | "oidc" => oidc::handle(app, req),
        "keyvault" => keyvault::handle(app, req),
        "arm" => arm::handle(app, req),
        "arm_metadata" => cloud_metadata::handle(req),
        "admin" => admin::handle(app, req),
        "azure_pipelines" => match (req.parts().as_slice(), app.issuer("azure_pipelines")) {
            ([_, _, _, _, "hubs", _, "plans", _, "jobs", _, "oidctoken"], Some(issuer)) => {
                crate::ci::oidc_token(&app.pipelines, issuer, req)
            }
            _ => not_found(req),
        },
        _ => not_found(req),
    }
}

/// 404 for paths no service owns.
pub(crate) fn not_found(req: &Request) -> Response {
    Response::json(
        404,
        &json!({"error": {"code": "NotFound", "message": format!("The dsops emulator serves nothing at {} {}.", req.method, req.path)}}),
    )
}

/// 405 in the shape most Azure services use.
pub(crate) fn method_not_allowed(req: &Request) -> Response {
    Response::json(
        405,
        &json!({"error": {"code": "MethodNotAllowed", "message": format!("The method {} is not allowed on {}.", req.method, req.path)}}),
    )
}
