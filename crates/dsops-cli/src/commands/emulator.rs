//! `dsops emulator`: serve a local Azure on loopback until interrupted.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use dsops_emulator::{Emulator, Options, StateFile};
use serde_json::{Map, Value, json};

use crate::exit;
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// The state file (YAML: tenants, identities, role assignments, vaults,
    /// accounts). Without it, the example state (`--print-example`).
    #[arg(long, value_name = "PATH", env = "DSOPS_EMULATOR_STATE")]
    state: Option<PathBuf>,

    /// HTTPS port; 0 picks a free one.
    #[arg(long, default_value_t = 8443, value_name = "PORT")]
    port: u16,

    /// Plain HTTP port for the endpoints that are plain HTTP in Azure (IMDS,
    /// App Service, Arc, Cloud Shell); 0 picks a free one.
    #[arg(long, default_value_t = 8080, value_name = "PORT")]
    http_port: u16,

    /// Serve HTTPS only.
    #[arg(long, conflicts_with = "http_port")]
    no_http: bool,

    /// The loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDRESS")]
    bind: IpAddr,

    /// Where to write the CA certificate clients must trust.
    #[arg(long, default_value = "dsops-emulator-ca.pem", value_name = "PATH")]
    ca_file: PathBuf,

    /// A further host name for the server certificate (repeatable).
    #[arg(long = "hostname", value_name = "NAME")]
    hostnames: Vec<String>,

    /// How to print the endpoints once listening.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Print the example state file and exit.
    #[arg(long)]
    print_example: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Endpoints, identities and `export` lines.
    Human,
    /// One JSON line (for scripts and tests), then nothing.
    Json,
}

pub(crate) fn run(args: &EmulatorArgs) -> u8 {
    if args.print_example {
        output::stdout(dsops_emulator::EXAMPLE_STATE);
        return exit::OK;
    }
    let state = match &args.state {
        Some(path) => StateFile::load(path),
        None => StateFile::example(),
    };
    let state = match state {
        Ok(s) => s,
        Err(e) => {
            output::error(
                &e,
                Some("`dsops emulator --print-example` shows a valid state file"),
            );
            return exit::FAILED;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            output::error(&e, None);
            return exit::FAILED;
        }
    };
    let options = Options {
        state,
        bind: args.bind,
        https_port: args.port,
        http_port: (!args.no_http).then_some(args.http_port),
        // Absolute, so the printed SSL_CERT_FILE works from any directory.
        ca_file: Some(std::path::absolute(&args.ca_file).unwrap_or_else(|_| args.ca_file.clone())),
        hostnames: args.hostnames.clone(),
        ..Options::default()
    };
    runtime.block_on(async {
        let emulator = match Emulator::start(options).await {
            Ok(e) => e,
            Err(e) => {
                let hint = if args.bind.is_loopback() {
                    "choose other ports with --port and --http-port (0 picks free ones)"
                } else {
                    "give --bind a loopback address (127.0.0.1 or ::1): the emulator's tokens and keys are not secrets, so it serves this machine only"
                };
                output::error(&e, Some(hint));
                return exit::FAILED;
            }
        };
        let stop = stop_signal();
        match args.format {
            Format::Json => output::stdout(&format!("{}\n", summary_json(&emulator))),
            Format::Human => output::stdout(&summary_human(&emulator)),
        }
        stop.await;
        exit::OK
    })
}

/// Installs the handlers now (so a signal sent right after the endpoints are
/// printed is not lost), and resolves on Ctrl-C, SIGTERM or SIGHUP.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        );
        async move {
            match streams {
                (Ok(mut int), Ok(mut term), Ok(mut hup)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                        _ = hup.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn summary_json(emulator: &Emulator) -> Value {
    let env: Map<String, Value> = emulator
        .environment()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let identities: Map<String, Value> = emulator
        .identities()
        .into_iter()
        .map(|(name, kind, ids)| {
            (
                name,
                json!({
                    "type": kind,
                    "client_id": ids.client_id,
                    "object_id": ids.object_id,
                    "resource_id": ids.resource_id,
                    "tenant_id": ids.tenant_id,
                }),
            )
        })
        .collect();
    let vaults: Map<String, Value> = emulator
        .vault_names()
        .into_iter()
        .map(|v| (v.clone(), Value::String(emulator.vault_url(&v))))
        .collect();
    let subscriptions: Map<String, Value> = emulator
        .subscriptions()
        .into_iter()
        .map(|(name, id)| (name, Value::String(id)))
        .collect();
    json!({
        "subscriptions": subscriptions,
        "https": emulator.https_url(),
        "http": emulator.http_url(),
        "ca_file": emulator.ca_file().map(|p| p.display().to_string()),
        "tenant_id": emulator.tenant_id(),
        "github_issuer": emulator.github_issuer(),
        "vaults": vaults,
        "identities": identities,
        "env": env,
    })
}

fn summary_human(emulator: &Emulator) -> String {
    let mut text = String::from("dsops emulator: a local Azure on loopback (Ctrl-C stops it)\n");
    let ca = emulator
        .ca_file()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    text.push_str(&format!(
        "  https   {}   CA certificate: {ca}\n",
        emulator.https_url()
    ));
    if let Some(http) = emulator.http_url() {
        text.push_str(&format!(
            "  http    {http}   IMDS, App Service, Arc, Cloud Shell\n"
        ));
    }
    text.push_str(&format!("  tenant  {}\n", emulator.tenant_id()));
    for (name, id) in emulator.subscriptions() {
        text.push_str(&format!("  subscription  {id}  {name}\n"));
    }
    for vault in emulator.vault_names() {
        text.push_str(&format!("  vault   {}\n", emulator.vault_url(&vault)));
    }
    text.push_str("  identities:\n");
    for (name, kind, ids) in emulator.identities() {
        text.push_str(&format!(
            "    {name:<12} {kind:<17} client_id {}  object_id {}\n",
            ids.client_id, ids.object_id
        ));
    }
    text.push_str("\n# Point the Azure SDKs and dsops at it:\n");
    for (key, value) in emulator.environment() {
        text.push_str(&format!("export {key}='{value}'\n"));
    }
    text
}
