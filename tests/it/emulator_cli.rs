//! `dsops emulator` as a real process on real ports.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value;

use crate::support::harness::{dsops, run};

/// A running `dsops emulator`, killed on drop.
struct Process {
    child: Child,
    info: Value,
    _dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Process {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dsops(dir.path());
    cmd.args([
        "emulator",
        "--port",
        "0",
        "--http-port",
        "0",
        "--format",
        "json",
        "--ca-file",
        "ca.pem",
    ])
    .args(extra)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    Process {
        child,
        info,
        _dir: dir,
    }
}

fn https_client(process: &Process, hosts: &[&str]) -> reqwest::blocking::Client {
    let ca = std::fs::read(
        process.info["ca_file"]
            .as_str()
            .map(|f| process._dir.path().join(f))
            .unwrap(),
    )
    .unwrap();
    let https: url_parts::Origin = process.info["https"].as_str().unwrap().parse().unwrap();
    let mut builder = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .no_proxy();
    for host in hosts {
        builder = builder.resolve(host, https.address);
    }
    builder.build().unwrap()
}

mod url_parts {
    //! `https://127.0.0.1:PORT` to a socket address.
    pub struct Origin {
        pub address: std::net::SocketAddr,
    }
    impl std::str::FromStr for Origin {
        type Err = std::net::AddrParseError;
        fn from_str(s: &str) -> Result<Self, Self::Err> {
            let hostport = s.split("://").nth(1).unwrap_or(s);
            Ok(Origin {
                address: hostport.parse()?,
            })
        }
    }
}

#[test]
fn serves_a_token_and_a_secret_to_a_real_client() {
    let process = start(&[]);
    let info = &process.info;
    let env = &info["env"];
    assert!(
        info["azure_pipelines_env"]["SYSTEM_OIDCREQUESTURI"]
            .as_str()
            .unwrap()
            .ends_with("/oidctoken"),
        "{info}"
    );
    assert_eq!(env["AZURE_POD_IDENTITY_AUTHORITY_HOST"], info["http"]);
    assert!(info["identities"]["vm"]["client_id"].is_string());

    // IMDS over plain HTTP, where AZURE_POD_IDENTITY_AUTHORITY_HOST points.
    let imds = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"].as_str().unwrap()
    );
    let token: Value = reqwest::blocking::Client::new()
        .get(imds)
        .header("Metadata", "true")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = token["access_token"].as_str().unwrap();

    // Key Vault over HTTPS, trusting only the CA file the emulator wrote.
    let vault = info["vaults"]["dev-vault"].as_str().unwrap();
    let client = https_client(&process, &["dev-vault.vault.localhost"]);
    let secret: Value = client
        .get(format!("{vault}/secrets/database-password?api-version=7.5"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(secret["value"], "dev-db-password");

    let log: Value = client
        .get(format!(
            "{}/_emulator/requests",
            info["https"].as_str().unwrap()
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let services: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service"].as_str().unwrap())
        .collect();
    // The log is read before the reading request itself is logged.
    assert_eq!(services, vec!["imds", "keyvault"]);
    assert!(!log.to_string().contains("dev-db-password"));
}

#[test]
fn stops_cleanly_on_sigterm() {
    let mut process = start(&[]);
    let pid = process.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = process.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn a_state_file_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("state.yaml"),
        "identities:\n  vm:\n    type: system_asigned\n",
    )
    .unwrap();
    let result = run(dsops(dir.path()).args([
        "emulator",
        "--state",
        "state.yaml",
        "--port",
        "0",
        "--http-port",
        "0",
    ]));
    assert_eq!(result.code, 1, "{result:?}");
    assert!(result.stderr.contains("state.yaml"), "{}", result.stderr);
    assert!(
        result.stderr.contains("system_asigned"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("line 3"), "{}", result.stderr);

    let result = run(dsops(dir.path()).args([
        "emulator",
        "--bind",
        "0.0.0.0",
        "--port",
        "0",
        "--http-port",
        "0",
    ]));
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("loopback"), "{}", result.stderr);
}

#[test]
fn the_printed_example_is_a_valid_state() {
    let dir = tempfile::tempdir().unwrap();
    let example = run(dsops(dir.path()).args(["emulator", "--print-example"]));
    assert_eq!(example.code, 0);
    std::fs::write(dir.path().join("state.yaml"), &example.stdout).unwrap();
    let process = {
        let mut cmd = dsops(dir.path());
        cmd.args([
            "emulator",
            "--state",
            "state.yaml",
            "--port",
            "0",
            "--http-port",
            "0",
            "--format",
            "json",
        ]);
        cmd.stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        line
    };
    assert!(process.contains("dev-vault"), "{process}");
}

#[test]
fn the_demo_runs_the_whole_job_without_showing_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(dsops(dir.path()).arg("demo"));
    assert_eq!(result.code, 0, "{result:?}");
    assert!(
        result.stdout.contains("DATABASE_PASSWORD  15 characters"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("LOG_LEVEL          info"),
        "{}",
        result.stdout
    );
    for value in ["dev-db-password", "current-api-key", "eyJ"] {
        assert!(
            !result.all_output().contains(value),
            "{value} shown:\n{}",
            result.all_output()
        );
    }
}
