//! Resource Manager's cloud metadata, `GET /metadata/endpoints?api-version=2022-09-01`:
//! where a cloud's services live, read by `az cloud register
//! --endpoint-resource-manager URL` (and Azure PowerShell's
//! `Add-AzEnvironment -ARMEndpoint`) before anything else.
//!
//! Sources: the Azure CLI reads this api-version (azure-cli
//! `command_modules/cloud/custom.py`, `_populate_from_metadata_endpoint`) and
//! maps the fields below (azure-cli-core `cloud.py`, `_arm_to_cli_mapper`:
//! `name`, `resourceManager`, `authentication.loginEndpoint`,
//! `authentication.audiences[0]`, `suffixes.keyVaultDns`); Azure answers one
//! cloud object at this version. The emulator describes itself, as reached:
//! Resource Manager and Entra ID at the origin the client used, Key Vault at
//! `NAME.vault.localhost` with that port (what `Emulator::vault_url` gives),
//! and ARM's audiences as Azure lists them. Endpoints of services it does not
//! serve (portal, Graph, SQL, storage...) are left out, so a client falls
//! back to its own defaults or says they are missing, rather than being sent
//! somewhere that does not answer.

use serde_json::json;

use crate::http::{Request, Response};

/// The only api-version served: the one `az cloud register` asks for.
const API_VERSION: &str = "2022-09-01";

/// Answers `GET /metadata/endpoints`.
pub(super) fn handle(req: &Request) -> Response {
    if req.method != "GET" {
        return super::method_not_allowed(req);
    }
    match req.query("api-version") {
        Some(API_VERSION) => {}
        None | Some("") => {
            return error(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            );
        }
        Some(other) => {
            return error(
                "InvalidApiVersionParameter",
                &format!(
                    "The api-version '{other}' is invalid. The dsops emulator serves the cloud metadata at api-version '{API_VERSION}' only."
                ),
            );
        }
    }
    let origin = format!("https://{}", req.authority);
    let port = req.explicit_port();
    let key_vault_dns = match port {
        Some(p) => format!("vault.localhost:{p}"),
        None => "vault.localhost".to_owned(),
    };
    Response::json(
        200,
        &json!({
            "name": "DsopsEmulator",
            "resourceManager": format!("{origin}/"),
            "authentication": {
                "loginEndpoint": origin,
                "audiences": [
                    "https://management.core.windows.net/",
                    "https://management.azure.com/"
                ],
                "tenant": "common",
                "identityProvider": "AAD"
            },
            "suffixes": { "keyVaultDns": key_vault_dns }
        }),
    )
}

fn error(code: &str, message: &str) -> Response {
    super::arm::arm_error(400, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::HeaderMap;

    fn get(authority: &str, query: &str) -> (u16, serde_json::Value) {
        let req = Request::new(
            "GET",
            "https",
            authority,
            &format!("/metadata/endpoints{query}"),
            HeaderMap::new(),
            bytes::Bytes::new(),
        );
        let response = handle(&req);
        let body = serde_json::from_slice(&response.body).expect("a JSON body");
        (response.status, body)
    }

    #[test]
    fn describes_the_emulator_as_the_client_reached_it() {
        let (status, body) = get("127.0.0.1:8443", "?api-version=2022-09-01");
        assert_eq!(status, 200);
        assert_eq!(body["resourceManager"], "https://127.0.0.1:8443/");
        assert_eq!(
            body["authentication"]["loginEndpoint"],
            "https://127.0.0.1:8443"
        );
        assert_eq!(
            body["authentication"]["audiences"][0],
            "https://management.core.windows.net/"
        );
        assert_eq!(body["suffixes"]["keyVaultDns"], "vault.localhost:8443");

        let (_, body) = get("management.localhost", "?api-version=2022-09-01");
        assert_eq!(body["suffixes"]["keyVaultDns"], "vault.localhost");
        let (_, body) = get("[::1]:9000", "?api-version=2022-09-01");
        assert_eq!(body["resourceManager"], "https://[::1]:9000/");
        assert_eq!(body["suffixes"]["keyVaultDns"], "vault.localhost:9000");
    }

    #[test]
    fn other_api_versions_are_refused() {
        let (status, body) = get("127.0.0.1:8443", "?api-version=2019-05-01");
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "InvalidApiVersionParameter");
        let (status, body) = get("127.0.0.1:8443", "");
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "MissingApiVersionParameter");
    }
}
