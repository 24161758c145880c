//! Managed identity: the platform's endpoint, found from the environment as
//! the Azure SDKs find it.
//!
//! | variables | platform |
//! |---|---|
//! | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` | App Service, Functions, Container Apps |
//! | `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT` | Azure Arc |
//! | `MSI_ENDPOINT` | Cloud Shell |
//! | none of these | IMDS (VMs, scale sets, Container Instances), at `AZURE_POD_IDENTITY_AUTHORITY_HOST` or `http://169.254.169.254` |

mod app_service;
mod arc;
mod cloud_shell;
mod imds;

use std::time::{Duration, SystemTime};

use dsops_config::Environment;
use dsops_config::model::{Identity, UserAssignedId};
use dsops_config::names::EndpointKind;
use secrecy::SecretString;
use serde_json::Value;

use super::error::{IdentityError, SourceError};
use super::{AccessToken, TokenSource};
use crate::azure::http::{Http, Incoming};

#[cfg(test)]
pub(crate) use arc::ARC_TOKEN_DIR_VARIABLE;

/// The managed identity source for this environment.
pub(crate) fn detect(
    env: &dyn Environment,
    identity: &Identity,
    http: &Http,
) -> Box<dyn TokenSource> {
    let var = |name: &str| env.var(name).filter(|v| !v.is_empty());
    // Every endpoint read from the environment is checked as one in
    // dsops.yaml is; the reason names the variable, never its value.
    for name in [
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    ] {
        if let Some(url) = var(name)
            && let Err(problem) =
                dsops_config::names::check_endpoint(url.trim(), EndpointKind::ManagedIdentity)
        {
            return Box::new(Unsupported {
                what: format!("{name} {problem}"),
            });
        }
    }
    match (
        var("IDENTITY_ENDPOINT"),
        var("IDENTITY_HEADER"),
        var("IMDS_ENDPOINT"),
        var("MSI_ENDPOINT"),
    ) {
        (Some(endpoint), Some(header), _, _) => {
            if var("IDENTITY_SERVER_THUMBPRINT").is_some() {
                return Box::new(Unsupported {
                    what: "managed identity on Service Fabric (IDENTITY_SERVER_THUMBPRINT is set) is not supported by dsops".to_owned(),
                });
            }
            Box::new(app_service::AppService::new(
                http.clone(),
                endpoint,
                SecretString::from(header),
                identity.clone(),
            ))
        }
        (Some(endpoint), None, Some(_), _) => {
            Box::new(arc::Arc::new(http.clone(), endpoint, identity.clone(), env))
        }
        (None, _, _, Some(endpoint)) => Box::new(cloud_shell::CloudShell::new(
            http.clone(),
            endpoint,
            identity.clone(),
        )),
        _ => Box::new(imds::Imds::new(
            http.clone(),
            var("AZURE_POD_IDENTITY_AUTHORITY_HOST"),
            identity.clone(),
        )),
    }
}

/// A platform dsops knows but cannot use.
#[derive(Debug)]
struct Unsupported {
    what: String,
}

#[async_trait::async_trait]
impl TokenSource for Unsupported {
    fn kind(&self) -> &'static str {
        "managed_identity"
    }
    fn describe(&self) -> String {
        "managed identity".to_owned()
    }
    async fn token(&self, _: &super::Scope) -> Result<AccessToken, SourceError> {
        Err(SourceError::Failed(IdentityError::Unsupported(
            self.what.clone(),
        )))
    }
}

/// "system-assigned" or "user-assigned (client_id X)".
pub(crate) fn describe_identity(identity: &Identity) -> String {
    match identity {
        Identity::SystemAssigned => "system-assigned".to_owned(),
        Identity::UserAssigned(UserAssignedId::ClientId(id)) => {
            format!("user-assigned, client_id {}", id.value)
        }
        Identity::UserAssigned(UserAssignedId::ObjectId(id)) => {
            format!("user-assigned, object_id {}", id.value)
        }
        Identity::UserAssigned(UserAssignedId::ResourceId(id)) => {
            format!("user-assigned, resource_id {}", id.value)
        }
    }
}

/// Reads a token response: `access_token` and `expires_on` (epoch seconds,
/// as a string or a number), or `expires_in`.
pub(crate) fn parse_token(
    endpoint: &str,
    response: &Incoming,
) -> Result<AccessToken, IdentityError> {
    let protocol = |problem: &str| IdentityError::Protocol {
        endpoint: endpoint.to_owned(),
        problem: problem.to_owned(),
    };
    let body: Value = serde_json::from_slice(&response.body).map_err(|_| protocol("not JSON"))?;
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| protocol("no access_token"))?;
    let number = |name: &str| match body.get(name) {
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let expires_on = match (number("expires_on"), number("expires_in")) {
        (Some(on), _) => SystemTime::UNIX_EPOCH + Duration::from_secs(on),
        (None, Some(seconds)) => SystemTime::now() + Duration::from_secs(seconds),
        (None, None) => return Err(protocol("no expires_on or expires_in")),
    };
    Ok(AccessToken::new(
        SecretString::from(token.to_owned()),
        expires_on,
    ))
}

/// An error status as an [`IdentityError`], with the body's error code and
/// message (`{"error": ..., "error_description": ...}`, or App Service's
/// `{"statusCode": ..., "message": ...}`), never the whole body.
pub(crate) fn status_error(endpoint: &str, response: &Incoming) -> IdentityError {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let (code, message) = match body.get("error") {
        Some(Value::String(code)) => (Some(code.clone()), text(body.get("error_description"))),
        Some(Value::Object(e)) => (text(e.get("code")), text(e.get("message"))),
        _ => (None, text(body.get("message"))),
    };
    IdentityError::Status {
        endpoint: endpoint.to_owned(),
        status: response.status.as_u16(),
        code,
        message: message.unwrap_or_else(|| {
            response
                .status
                .canonical_reason()
                .unwrap_or("error")
                .to_owned()
        }),
    }
}

/// Adds the user-assigned selector to a query, with the parameter names this
/// endpoint uses (`None`: the platform does not support that selector).
pub(crate) fn selector_query(
    identity: &Identity,
    names: [Option<&'static str>; 3],
    platform: &str,
) -> Result<Option<(&'static str, String)>, IdentityError> {
    let [client, object, resource] = names;
    let (name, value, what) = match identity {
        Identity::SystemAssigned => return Ok(None),
        Identity::UserAssigned(UserAssignedId::ClientId(v)) => (client, &v.value, "client_id"),
        Identity::UserAssigned(UserAssignedId::ObjectId(v)) => (object, &v.value, "object_id"),
        Identity::UserAssigned(UserAssignedId::ResourceId(v)) => {
            (resource, &v.value, "resource_id")
        }
    };
    match name {
        Some(name) => Ok(Some((name, value.clone()))),
        None if client.is_none() && object.is_none() && resource.is_none() => {
            Err(IdentityError::Unsupported(format!(
                "{platform} has only a system-assigned managed identity; `identity: user_assigned` cannot be used there"
            )))
        }
        None => Err(IdentityError::Unsupported(format!(
            "{platform} cannot select a user-assigned identity by {what}; give its client_id instead"
        ))),
    }
}
