//! Azure's own answers as the judge of the clients: every example response
//! vendored under `tests/fixtures/azure-rest-api-specs/` (from Azure's REST
//! API specifications and Microsoft's docs; `manifest.json` names each
//! file's source and commit) is read by the client that meets it in
//! production, with all its fields, `null`s, absent optional fields and
//! fields the client does not know.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::azure::{arm, cosmos, identity, keyvault, storage};
use dsops_config::model::CosmosApi;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure-rest-api-specs")
}

/// `(file, client, status, body)` of every response of every example.
fn examples() -> Vec<(String, String, String, Value)> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("manifest.json")).unwrap())
            .unwrap();
    let mut out = Vec::new();
    for entry in manifest.as_array().unwrap() {
        let file = entry["file"].as_str().unwrap().to_owned();
        let client = entry["client"].as_str().unwrap().to_owned();
        for key in ["repository", "path", "commit"] {
            assert!(
                entry[key].as_str().is_some_and(|v| !v.is_empty()),
                "{file}: no `{key}` in the manifest"
            );
        }
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(&file)).unwrap())
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        for (status, response) in example["responses"].as_object().unwrap() {
            out.push((
                file.clone(),
                client.clone(),
                status.clone(),
                response["body"].clone(),
            ));
        }
    }
    out
}

/// When the examples were written, roughly: their certificates are valid then.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

#[test]
fn every_vendored_file_is_in_the_manifest() {
    let manifest = std::fs::read_to_string(root().join("manifest.json")).unwrap();
    let mut files = 0;
    for dir in std::fs::read_dir(root()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let relative = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(
                manifest.contains(&format!("\"{relative}\"")),
                "{relative} is not in manifest.json"
            );
            files += 1;
        }
    }
    assert!(files >= 18, "{files} files");
}

#[test]
fn every_client_reads_every_example_response() {
    let mut read = 0;
    for (file, client, status, body) in examples() {
        let bytes = serde_json::to_vec(&body).unwrap();
        let what = format!("{file} ({status})");
        match client.as_str() {
            "keyvault.secret" => {
                let secret = keyvault::parse_secret(&bytes, now()).expect(&what);
                assert_eq!(
                    secret.value.expose_secret(),
                    body["value"].as_str().unwrap()
                );
                assert_eq!(secret.version.len(), 32, "{what}");
            }
            "keyvault.certificate" => {
                let pem = keyvault::parse_certificate(&bytes, now()).expect(&what);
                assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{what}");
                // Its validity is read: before `nbf` or after `exp` it is refused.
                let nbf = body["attributes"]["nbf"].as_u64().unwrap();
                let exp = body["attributes"]["exp"].as_u64().unwrap();
                let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
                assert!(
                    keyvault::parse_certificate(&bytes, at(nbf - 1)).is_err(),
                    "{what}"
                );
                assert!(
                    keyvault::parse_certificate(&bytes, at(exp + 1)).is_err(),
                    "{what}"
                );
            }
            "keyvault.key" => {
                let jwk: Value =
                    serde_json::from_str(&keyvault::parse_key(&bytes, now()).expect(&what))
                        .unwrap();
                assert_eq!(jwk["n"], body["key"]["n"], "{what}");
                assert_eq!(jwk["kid"], body["key"]["kid"], "{what}");
            }
            "keyvault.versions" => {
                let (count, next) = keyvault::versions_page(&body).expect(&what);
                assert_eq!(count, body["value"].as_array().unwrap().len(), "{what}");
                match body["nextLink"].as_str() {
                    // Key Vault's nextLink names port 443: the same vault.
                    Some(link) => {
                        assert_eq!(next.as_deref(), Some(link), "{what}");
                        let base = "https://myvault.vault.azure.net/secrets/x/versions";
                        assert!(keyvault::same_vault(base, link), "{what}: {link}");
                    }
                    None => assert_eq!(next, None, "{what}"),
                }
            }
            "keyvault.error" => {
                let error = keyvault::ServiceError::from_json(&body, "Forbidden");
                assert_eq!(
                    error.code.as_deref(),
                    body["error"]["code"].as_str(),
                    "{what}"
                );
                assert_eq!(
                    error.inner_code.as_deref(),
                    body["error"]["innererror"]["code"].as_str(),
                    "{what}"
                );
                assert!(!error.message.is_empty(), "{what}");
            }
            "arm.subscriptions" => {
                let subscriptions = arm::subscriptions_of(&arm::page_items(&body));
                assert_eq!(subscriptions.len(), 2, "{what}");
                assert_eq!(subscriptions[0].1, "Example Subscription", "{what}");
            }
            "arm.accounts" => {
                let items = arm::page_items(&body);
                let accounts = arm::accounts_of(&items);
                assert_eq!(accounts.len(), items.len(), "{what}");
                assert!(
                    accounts.iter().all(|a| a.id.starts_with("/subscriptions/")),
                    "{what}"
                );
            }
            "arm.error" => {
                let error = arm::error_of(status.parse().unwrap_or(400), &bytes);
                let code = body["error"]["code"].as_str().or(body["code"].as_str());
                assert_eq!(error.code(), code, "{what}");
                let message = body["error"]["message"]
                    .as_str()
                    .or(body["message"].as_str());
                assert!(
                    error.to_string().ends_with(message.unwrap()),
                    "{what}: {error}"
                );
            }
            "storage.keys" => {
                let keys = storage::keys_of(&body).expect(&what);
                let names: Vec<&str> = keys.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, ["key1", "key2"], "{what}");
            }
            "cosmos.keys" => {
                let keys = cosmos::keys_of(&body).expect(&what);
                assert_eq!(keys.len(), body.as_object().unwrap().len(), "{what}");
                for (name, value) in &keys {
                    // The examples' values are their field names.
                    assert_eq!(name, value.expose_secret(), "{what}");
                }
            }
            "cosmos.connection_strings" => {
                let strings = cosmos::connection_strings_of(&body).expect(&what);
                assert_eq!(strings.len(), 1, "{what}");
                let listed = &body["connectionStrings"][0];
                if listed.get("type").is_some() {
                    // `type: Sql`, `keyKind: Primary`: the default choice.
                    let chosen = cosmos::choose(&strings, "Primary", CosmosApi::Sql).expect(&what);
                    assert_eq!(chosen.expose_secret(), "connection-string");
                    assert!(cosmos::choose(&strings, "Primary", CosmosApi::MongoDb).is_err());
                } else {
                    // No `type`, no `keyKind`, a description that names no
                    // API: read, and not taken for a SQL string.
                    assert_eq!(strings[0].api, None, "{what}");
                    assert!(cosmos::choose(&strings, "Primary", CosmosApi::Sql).is_err());
                }
            }
            "identity.token" => {
                let response = crate::azure::http::Incoming {
                    status: http::StatusCode::OK,
                    headers: http::HeaderMap::new(),
                    body: bytes::Bytes::from(bytes.clone()),
                };
                let token = identity::parse_token("http://169.254.169.254", &response)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let expires_on: u64 = body["expires_on"].as_str().unwrap().parse().unwrap();
                assert_eq!(
                    token.expires_on,
                    SystemTime::UNIX_EPOCH + Duration::from_secs(expires_on),
                    "{what}"
                );
            }
            other => panic!("{what}: no client `{other}`"),
        }
        read += 1;
    }
    assert!(read >= 18, "{read} responses read");
}
