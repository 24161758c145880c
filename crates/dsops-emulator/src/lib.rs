//! `dsops emulator`: a local, offline Azure that speaks the real protocols.
//!
//! It serves, on loopback, the managed identity endpoints (IMDS, App Service,
//! Azure Arc, Cloud Shell), the Entra ID v2 token endpoint (client secrets and
//! federated client assertions), a GitHub Actions OIDC issuer, the Key Vault
//! data plane and the ARM operations dsops uses, over HTTPS with a certificate
//! it issues from its own CA (and plain HTTP where the real endpoint is plain).
//!
//! State (tenants, identities, role assignments, vaults, accounts) comes from
//! a YAML file ([`StateFile`]); faults can be injected per route
//! ([`FaultSpec`]); every request is logged without tokens or values
//! ([`RequestLog`]). Tests that start an emulator can build its state in
//! Rust instead of YAML with the `testing` feature's `testing` module.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dsops_emulator::EmulatorError> {
//! let emulator = dsops_emulator::Emulator::start(dsops_emulator::Options {
//!     state: dsops_emulator::StateFile::example()?,
//!     ..dsops_emulator::Options::default()
//! })
//! .await?;
//! println!("{}", emulator.vault_url("dev-vault"));
//! # Ok(()) }
//! ```

pub mod api_versions;
mod app;
mod ci;
mod crypto;
mod directory;
mod error;
mod faults;
mod http;
mod log;
mod roles;
mod server;
mod services;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod vault;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use crate::crypto::tls::DEFAULT_HOSTNAMES;
pub use crate::error::EmulatorError;
pub use crate::faults::{FaultSpec, Faults};
pub use crate::log::{LogEntry, RequestLog};
pub use crate::state::{EXAMPLE as EXAMPLE_STATE, StateFile};

use crate::app::App;

/// How to start the emulator.
#[derive(Debug)]
pub struct Options {
    /// The state to serve.
    pub state: StateFile,
    /// The loopback address to listen on (default 127.0.0.1).
    pub bind: IpAddr,
    /// The HTTPS port (0: any free port).
    pub https_port: u16,
    /// The plain HTTP port for the endpoints that are plain HTTP in Azure
    /// (IMDS, App Service, Arc, Cloud Shell); `None`: no plain listener.
    pub http_port: Option<u16>,
    /// Where to write the CA certificate clients must trust.
    pub ca_file: Option<PathBuf>,
    /// Host names the server certificate covers besides [`DEFAULT_HOSTNAMES`].
    pub hostnames: Vec<String>,
    /// How many requests the log keeps.
    pub log_capacity: usize,
    /// Where Azure Arc challenge key files go (default: a temporary directory).
    pub arc_key_dir: Option<PathBuf>,
    /// Whether the HTTPS listener offers HTTP/2 (ALPN `h2`, as Key Vault
    /// and Resource Manager do); `false`: HTTP/1.1 only, as a server or a
    /// TLS-terminating proxy without HTTP/2 answers (default `true`).
    pub http2: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            state: StateFile::default(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https_port: 0,
            http_port: Some(0),
            ca_file: None,
            hostnames: Vec::new(),
            log_capacity: 10_000,
            arc_key_dir: None,
            http2: true,
        }
    }
}

/// The ids of an identity of the state, for tests and for printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityIds {
    /// Application (client) id.
    pub client_id: String,
    /// Object (principal) id.
    pub object_id: String,
    /// ARM id (user-assigned identities).
    pub resource_id: Option<String>,
    /// Tenant id.
    pub tenant_id: String,
}

/// A running emulator. Dropping it stops the listeners.
#[derive(Debug)]
pub struct Emulator {
    app: Arc<App>,
    https: SocketAddr,
    http: Option<SocketAddr>,
    ca_pem: String,
    ca_file: Option<PathBuf>,
    tasks: Vec<JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    _arc_dir: Option<tempdir::TempDir>,
}

mod tempdir {
    //! A directory removed on drop (for Arc key files).
    use std::path::{Path, PathBuf};

    #[derive(Debug)]
    pub(crate) struct TempDir(PathBuf);

    impl TempDir {
        pub(crate) fn new() -> std::io::Result<Self> {
            // Random: several emulators in one process must not share it.
            let unique =
                crate::crypto::random_bytes(8).map_err(|e| std::io::Error::other(e.to_string()))?;
            let name = format!(
                "dsops-emulator-arc-{}-{}",
                std::process::id(),
                crate::crypto::hex(&unique)
            );
            let path = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&path)?;
            Ok(Self(path))
        }
        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn require_loopback(ip: IpAddr) -> Result<(), EmulatorError> {
    if ip.is_loopback() {
        Ok(())
    } else {
        Err(EmulatorError::Bind {
            address: ip.to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the emulator serves loopback only: its tokens and keys are not secrets",
            ),
        })
    }
}

async fn bind(ip: IpAddr, port: u16) -> Result<TcpListener, EmulatorError> {
    let address = SocketAddr::new(ip, port);
    TcpListener::bind(address)
        .await
        .map_err(|source| EmulatorError::Bind {
            address: address.to_string(),
            source,
        })
}

impl Emulator {
    /// Starts the emulator on the current tokio runtime.
    pub async fn start(options: Options) -> Result<Self, EmulatorError> {
        require_loopback(options.bind)?;
        let https_listener = bind(options.bind, options.https_port).await?;
        let https = https_listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                address: options.bind.to_string(),
                source,
            })?;
        let http_listener = match options.http_port {
            Some(port) => Some(bind(options.bind, port).await?),
            None => None,
        };
        let http = match &http_listener {
            Some(l) => Some(l.local_addr().map_err(|source| EmulatorError::Bind {
                address: options.bind.to_string(),
                source,
            })?),
            None => None,
        };

        let authority = crypto::tls::Authority::generate(&options.hostnames)?;
        let ca_pem = authority.ca_pem().to_owned();
        if let Some(path) = &options.ca_file {
            std::fs::write(path, &ca_pem).map_err(|source| EmulatorError::Write {
                path: path.clone(),
                source,
            })?;
        }
        let (arc_dir, arc_path) = match &options.arc_key_dir {
            Some(p) => (None, p.clone()),
            None => match &options.state.managed_identity.arc_key_dir {
                Some(p) => (None, PathBuf::from(p)),
                None => {
                    let dir = tempdir::TempDir::new().map_err(|source| EmulatorError::Write {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                    let path = dir.path().to_owned();
                    (Some(dir), path)
                }
            },
        };
        let https_origin = format!("https://{}", host_port(https));
        let app = Arc::new(App::build(
            &options.state,
            https_origin,
            arc_path,
            options.log_capacity,
        )?);

        let acceptor = tokio_rustls::TlsAcceptor::from(authority.server_config(options.http2)?);
        let mut tasks = vec![tokio::spawn(server::accept_loop(
            app.clone(),
            https_listener,
            Some(acceptor),
        ))];
        if let Some(listener) = http_listener {
            tasks.push(tokio::spawn(server::accept_loop(
                app.clone(),
                listener,
                None,
            )));
        }
        Ok(Self {
            app,
            https,
            http,
            ca_pem,
            ca_file: options.ca_file,
            tasks,
            runtime: None,
            _arc_dir: arc_dir,
        })
    }

    /// Starts the emulator on a runtime of its own (two worker threads), for
    /// callers that are not async. The runtime stops when this is dropped.
    pub fn start_in_background(options: Options) -> Result<Self, EmulatorError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dsops-emulator")
            .enable_all()
            .build()
            .map_err(|source| EmulatorError::Bind {
                address: "runtime".to_owned(),
                source,
            })?;
        let mut emulator = runtime.block_on(Self::start(options))?;
        emulator.runtime = Some(runtime);
        Ok(emulator)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn https_url(&self) -> String {
        format!("https://{}", host_port(self.https))
    }

    /// The HTTPS listener's address.
    pub fn https_addr(&self) -> SocketAddr {
        self.https
    }

    /// `http://127.0.0.1:PORT`, when the plain listener runs.
    pub fn http_url(&self) -> Option<String> {
        self.http.map(|a| format!("http://{}", host_port(a)))
    }

    /// The CA certificate (PEM) clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Where the CA certificate was written.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// A vault's URL on this emulator: `https://NAME.vault.localhost:PORT`
    /// (clients resolve `*.localhost` to loopback, RFC 6761).
    pub fn vault_url(&self, name: &str) -> String {
        format!("https://{name}.vault.localhost:{}", self.https.port())
    }

    /// The subscriptions: display name and id.
    pub fn subscriptions(&self) -> Vec<(String, String)> {
        self.app
            .directory
            .subscriptions
            .iter()
            .map(|s| (s.name.clone(), s.id.clone()))
            .collect()
    }

    /// The names of the vaults, lower-case.
    pub fn vault_names(&self) -> Vec<String> {
        self.app.directory.vaults.keys().cloned().collect()
    }

    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.app.log
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.app.faults
    }

    /// The default tenant's id.
    pub fn tenant_id(&self) -> &str {
        self.app
            .directory
            .tenants
            .first()
            .map_or("", |t| t.id.as_str())
    }

    /// The ids of an identity of the state, by name.
    pub fn identity(&self, name: &str) -> Option<IdentityIds> {
        self.app
            .directory
            .principals
            .iter()
            .find(|p| p.name == name)
            .map(|p| IdentityIds {
                client_id: p.client_id.clone(),
                object_id: p.object_id.clone(),
                resource_id: p.resource_id.clone(),
                tenant_id: p.tenant_id.clone(),
            })
    }

    /// The identities, in state order: name, kind (`system_assigned`,
    /// `user_assigned`, `service_principal`) and ids.
    pub fn identities(&self) -> Vec<(String, &'static str, IdentityIds)> {
        self.app
            .directory
            .principals
            .iter()
            .map(|p| {
                let kind = match p.kind {
                    state::IdentityKind::SystemAssigned => "system_assigned",
                    state::IdentityKind::UserAssigned => "user_assigned",
                    state::IdentityKind::ServicePrincipal => "service_principal",
                };
                let ids = IdentityIds {
                    client_id: p.client_id.clone(),
                    object_id: p.object_id.clone(),
                    resource_id: p.resource_id.clone(),
                    tenant_id: p.tenant_id.clone(),
                };
                (p.name.clone(), kind, ids)
            })
            .collect()
    }

    /// The secret App Service passes in `IDENTITY_HEADER`.
    pub fn identity_header(&self) -> &str {
        &self.app.identity_header
    }

    /// The bearer token the GitHub OIDC endpoint accepts.
    pub fn github_request_token(&self) -> &str {
        self.app.github.request_token.as_deref().unwrap_or_default()
    }

    /// The GitHub issuer's `iss`.
    pub fn github_issuer(&self) -> &str {
        &self.app.github.url
    }

    /// What an Azure Pipelines job on this emulator sees: `SYSTEM_OIDCREQUESTURI`,
    /// `SYSTEM_ACCESSTOKEN` (the job's `System.AccessToken`, mapped into the
    /// step's environment) and `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID` (the
    /// first service connection, as the AzureCLI@2 task sets it).
    pub fn azure_pipelines_environment(&self) -> Vec<(String, String)> {
        let pipelines = &self.app.pipelines;
        let mut env = vec![
            (
                "SYSTEM_OIDCREQUESTURI".to_owned(),
                format!("{}{}", self.https_url(), ci::request_path(pipelines)),
            ),
            (
                "SYSTEM_ACCESSTOKEN".to_owned(),
                pipelines.access_token.clone(),
            ),
        ];
        if let Some((_, id)) = ci::connections(pipelines).into_iter().next() {
            env.push(("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID".to_owned(), id));
        }
        env
    }

    /// The Azure Pipelines service connections: name and id.
    pub fn azure_pipelines_connections(&self) -> Vec<(String, String)> {
        ci::connections(&self.app.pipelines)
    }

    /// The `iss` of a hosted issuer (`github`, a key of `issuers`, or a CI:
    /// `azure_pipelines`, `gitlab`, `circleci`, `buildkite`).
    pub fn issuer_url(&self, name: &str) -> Option<&str> {
        self.app.issuer(name).map(|i| i.url.as_str())
    }

    /// Mints an OIDC token from a hosted issuer (`github`, a key of
    /// `issuers`, or a CI's: `gitlab`, `circleci`, `buildkite`), e.g. an AKS
    /// service-account token for a federated token file, or the ID token a
    /// GitLab runner puts in a job's `id_tokens:` variable.
    pub fn mint_oidc_token(
        &self,
        issuer: &str,
        audience: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<String> {
        self.app.issuer(issuer)?.mint(audience, claims).ok()
    }

    /// The environment variables that point Azure SDKs and dsops at this
    /// emulator, as `dsops emulator` prints them.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        let https = self.https_url();
        if let Some(http) = self.http_url() {
            env.push(("AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(), http.clone()));
            env.push(("IDENTITY_ENDPOINT".to_owned(), format!("{http}/msi/token")));
        } else {
            env.push((
                "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
                https.clone(),
            ));
            env.push(("IDENTITY_ENDPOINT".to_owned(), format!("{https}/msi/token")));
        }
        env.push((
            "IDENTITY_HEADER".to_owned(),
            self.identity_header().to_owned(),
        ));
        env.push(("AZURE_AUTHORITY_HOST".to_owned(), https.clone()));
        // dsops sends client secrets and assertions only to the named clouds'
        // Entra ID unless the environment (never dsops.yaml) confirms another.
        env.push(("DSOPS_TRUSTED_AUTHORITY".to_owned(), https.clone()));
        env.push(("AZURE_TENANT_ID".to_owned(), self.tenant_id().to_owned()));
        env.push((
            "ACTIONS_ID_TOKEN_REQUEST_URL".to_owned(),
            format!("{https}/github/idtoken?api-version=2.0"),
        ));
        env.push((
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN".to_owned(),
            self.github_request_token().to_owned(),
        ));
        if let Some(ca) = &self.ca_file {
            let ca = ca.display().to_string();
            env.push(("SSL_CERT_FILE".to_owned(), ca.clone()));
            env.push(("REQUESTS_CA_BUNDLE".to_owned(), ca));
        }
        env
    }

    /// Rotates secret `name` of vault `vault`: a new current version holding
    /// `value`, as Key Vault's Set Secret (`PUT /secrets/{name}`) makes one
    /// (also `POST /_emulator/vaults/{vault}/secrets/{name}`). Its version.
    pub fn set_secret(
        &self,
        vault: &str,
        name: &str,
        value: impl Into<String>,
    ) -> Result<String, EmulatorError> {
        self.app.rotate_secret(vault, name, value.into())
    }

    /// Stops the listeners (also done on drop).
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn host_port(address: SocketAddr) -> String {
    match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", address.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", address.port()),
    }
}

/// The closest of `candidates` to `given`, when close enough.
pub(crate) fn suggest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&given.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
