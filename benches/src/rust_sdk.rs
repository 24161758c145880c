//! The contender "the official Rust crates used directly": `azure_identity`'s
//! `ManagedIdentityCredential` (App Service's endpoint, from
//! `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`) and one
//! `azure_security_keyvault_secrets::SecretClient` per vault, reading a task's
//! secrets one after the other (`seq`) or all at once with `join_all`.
//!
//! `dsops-bench rust-sdk --task TASK.json --mode seq|join_all`, run by the
//! resolve and startup sections with the environment of [`crate::emu::command`].
//! The SDK's transport is a reqwest client that trusts only the emulator's
//! CA (`SSL_CERT_FILE`) and resolves `*.vault.azure.net` to it: the way a
//! test points the SDK at the emulator (the crates have no CA setting). It
//! refuses any other host, so nothing leaves loopback.
//!
//! Prints one JSON line: seconds resolving (credential and clients made,
//! every value read), how many values, the SHA-256 of the values joined by
//! newlines (never a value).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use azure_core::error::ErrorKind;
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};

/// The SDK's transport: the reqwest client, for loopback and the vaults only.
#[derive(Debug)]
struct LoopbackOnly {
    client: reqwest::Client,
    vaults: Vec<String>,
}

impl LoopbackOnly {
    fn allowed(&self, request: &Request) -> azure_core::Result<()> {
        let host = request.url().host_str().unwrap_or_default();
        if host == "127.0.0.1" || host == "localhost" || self.vaults.iter().any(|v| v == host) {
            Ok(())
        } else {
            Err(azure_core::Error::with_message(
                ErrorKind::Connection,
                format!("dsops-bench: refused to send to {host}: not the emulator"),
            ))
        }
    }
}

// `HttpClient` is an `async_trait`; this is its expansion, written out.
impl HttpClient for LoopbackOnly {
    fn execute_request<'s, 'r, 'f>(
        &'s self,
        request: &'r Request,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AsyncRawResponse>> + Send + 'f>>
    where
        's: 'f,
        'r: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            self.allowed(request)?;
            self.client.execute_request(request).await
        })
    }
}

pub(crate) fn main(args: &[String]) {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .unwrap_or_else(|| panic!("rust-sdk needs {name}"))
            .clone()
    };
    let task: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(arg("--task")).expect("task file"))
            .expect("task JSON");
    let secrets: Vec<(String, String)> =
        serde_json::from_value(task["secrets"].clone()).expect("[[vault, name], ...]");
    let mode = arg("--mode");
    let port: u16 = std::env::var("EMULATOR_HTTPS_PORT")
        .expect("EMULATOR_HTTPS_PORT")
        .parse()
        .expect("a port");
    let ca = std::fs::read(std::env::var_os("SSL_CERT_FILE").expect("SSL_CERT_FILE")).expect("CA");

    // What `#[tokio::main]` gives.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (elapsed, values) = runtime.block_on(async {
        let started = Instant::now();
        let mut hosts: Vec<String> = secrets
            .iter()
            .map(|(vault, _)| format!("{vault}.vault.azure.net"))
            .collect();
        hosts.sort();
        hosts.dedup();
        let emulator = SocketAddr::from(([127, 0, 0, 1], port));
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("CA parses")])
            .no_proxy();
        for host in &hosts {
            builder = builder.resolve(host, emulator);
        }
        let transport = Arc::new(LoopbackOnly {
            client: builder.build().expect("client"),
            vaults: hosts,
        });
        let options = || ClientOptions {
            transport: Some(Transport::new(transport.clone())),
            ..ClientOptions::default()
        };
        let credential = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            client_options: options(),
            ..ManagedIdentityCredentialOptions::default()
        }))
        .expect("credential");
        let mut clients: HashMap<&str, SecretClient> = HashMap::new();
        for (vault, _) in &secrets {
            if !clients.contains_key(vault.as_str()) {
                let client = SecretClient::new(
                    &format!("https://{vault}.vault.azure.net:{port}/"),
                    credential.clone(),
                    Some(SecretClientOptions {
                        client_options: options(),
                        ..SecretClientOptions::default()
                    }),
                )
                .expect("SecretClient");
                clients.insert(vault.as_str(), client);
            }
        }
        let get = |vault: &str, name: &str| {
            let client = &clients[vault];
            let name = name.to_owned();
            async move {
                client
                    .get_secret(&name, None)
                    .await
                    .unwrap_or_else(|e| panic!("get_secret({name}): {e:?}"))
                    .into_model()
                    .expect("a secret bundle")
                    .value
                    .expect("a value")
            }
        };
        let values: Vec<String> = match mode.as_str() {
            "seq" => {
                let mut values = Vec::with_capacity(secrets.len());
                for (vault, name) in &secrets {
                    values.push(get(vault, name).await);
                }
                values
            }
            "join_all" => {
                futures::future::join_all(secrets.iter().map(|(vault, name)| get(vault, name)))
                    .await
            }
            other => panic!("unknown mode {other}"),
        };
        (started.elapsed(), values)
    });
    let digest = crate::emu::sha256_hex(values.join("\n").as_bytes());
    println!(
        "{}",
        serde_json::json!({
            "resolve_s": elapsed.as_secs_f64(),
            "count": values.len(),
            "sha256": digest,
        })
    );
}
