//! The account SAS signer (`dsops::storage::account_sas`) against Azurite,
//! Microsoft's Azure Storage emulator, which verifies account SAS signatures,
//! times, protocols, services, resource types and permissions as Azure
//! Storage does. Azurite's Blob service runs on a free loopback port with
//! its well-known development account `devstoreaccount1`; every request is
//! authorised only by a SAS dsops signed.
//!
//! Azurite lives in `target/azurite`, installed by `scripts/install-azurite`
//! (`scripts/test` runs it first); without it this test fails.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use super::sas::SasProtocol;
use super::{AccountSas, account_sas};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use secrecy::{ExposeSecret, SecretString};

/// Azurite's development account and its published key (the same in every
/// Azurite and in the old Storage Emulator; not a secret).
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CONTAINER: &str = "dsops-sas";
const BLOB: &str = "hello.txt";
const CONTENT: &str = "signed by dsops";

/// A running `azurite-blob`, killed when dropped.
struct Azurite {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Azurite {
    /// Starts the Blob service on a free loopback port and waits until it
    /// accepts connections. The port is found by binding port 0 and
    /// releasing it, so another process may take it first: then Azurite
    /// exits, and another port is tried.
    fn start() -> Azurite {
        let bin = azurite_blob();
        let mut failures = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let log = dir.path().join("azurite.log");
            let output = File::create(&log).unwrap();
            let child = Command::new(&bin)
                .args(["--blobHost", "127.0.0.1", "--blobPort"])
                .arg(port.to_string())
                .arg("--location")
                .arg(dir.path().join("data"))
                .args(["--disableTelemetry", "--silent"])
                .stdin(Stdio::null())
                .stdout(output.try_clone().unwrap())
                .stderr(output)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let mut azurite = Azurite {
                child,
                port,
                _dir: dir,
            };
            match azurite.wait_until_listening(Duration::from_secs(60)) {
                Ok(()) => return azurite,
                Err(why) => failures.push(format!(
                    "port {port}: {why}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )),
            }
        }
        panic!("Azurite did not start:\n{}", failures.join("\n"));
    }

    fn wait_until_listening(&mut self, limit: Duration) -> Result<(), String> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("azurite-blob exited: {status}"));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not listening after {limit:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1/PATH?QUERY&SAS` (path-style,
    /// as Azurite addresses accounts).
    fn url(&self, path: &str, query: &str, sas: &str) -> String {
        let separator = if query.is_empty() { "" } else { "&" };
        format!(
            "http://127.0.0.1:{}/{ACCOUNT}/{path}?{query}{separator}{sas}",
            self.port
        )
    }
}

fn azurite_blob() -> PathBuf {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/azurite/node_modules/.bin/azurite-blob");
    assert!(
        bin.is_file(),
        "{} does not exist: run scripts/install-azurite (from the repository root) to install \
         Azurite, the Azure Storage emulator this test signs SAS tokens for; scripts/test does so \
         before cargo test",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An account SAS for Blob containers and objects, over http too (Azurite
/// serves plain http here), issued at `now`.
fn sas(permissions: &str, now: SystemTime) -> String {
    sas_with(
        &AccountSas {
            permissions: permissions.into(),
            expiry: Duration::from_secs(3600),
            start_before: Some(Duration::from_secs(15 * 60)),
            services: Some("b".into()),
            resource_types: Some("co".into()),
            ip: None,
            protocol: SasProtocol::HttpsAndHttp,
        },
        now,
    )
}

fn sas_with(params: &AccountSas, now: SystemTime) -> String {
    account_sas(ACCOUNT, &SecretString::from(KEY), params, now)
        .unwrap()
        .expose_secret()
        .to_owned()
}

/// `sas` with the first character of its signature replaced by another
/// Base64 character (one that needs no URL encoding).
fn tampered(sas: &str) -> String {
    let at = sas.find("sig=").unwrap() + "sig=".len();
    let old = sas[at..].chars().next().unwrap();
    let new = if old == 'A' { 'B' } else { 'A' };
    format!("{}{new}{}", &sas[..at], &sas[at + old.len_utf8()..])
}

/// Azure Storage's error code (`x-ms-error-code`) of a response.
fn error_code(response: &Response) -> String {
    response
        .headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn expect_denied(response: Response, code: &str, what: &str) {
    let status = response.status();
    let actual = error_code(&response);
    let body = response.text().unwrap_or_default();
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(actual, code, "{what}: {body}");
}

#[test]
fn azurite_accepts_dsops_account_sas_and_enforces_it() {
    let azurite = Azurite::start();
    let http = Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap();
    let now = SystemTime::now();

    // Set up with a SAS that may create and write.
    let write = sas("racwdl", now);
    let response = http
        .put(azurite.url(CONTAINER, "restype=container", &write))
        .send()
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "create container: {}",
        response.text().unwrap_or_default()
    );
    let response = http
        .put(azurite.url(&format!("{CONTAINER}/{BLOB}"), "", &write))
        .header("x-ms-blob-type", "BlockBlob")
        .body(CONTENT)
        .send()
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "put blob: {}",
        response.text().unwrap_or_default()
    );

    // (a) A read and list SAS (written `lr`, signed as `rl`) lists the
    // container and reads the blob.
    let read_list = sas("lr", now);
    assert!(read_list.contains("&sp=rl&"), "{read_list}");
    let list = azurite.url(CONTAINER, "restype=container&comp=list", &read_list);
    let response = http.get(&list).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK, "list blobs");
    let listing = response.text().unwrap();
    assert!(
        listing.contains(&format!("<Name>{BLOB}</Name>")),
        "the listing names the blob: {listing}"
    );
    let blob = azurite.url(&format!("{CONTAINER}/{BLOB}"), "", &read_list);
    let response = http.get(&blob).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK, "get blob");
    assert_eq!(response.text().unwrap(), CONTENT);

    // (b) The same SAS with one character of its signature changed.
    let forged = tampered(&read_list);
    assert_ne!(forged, read_list);
    let response = http
        .get(azurite.url(CONTAINER, "restype=container&comp=list", &forged))
        .send()
        .unwrap();
    expect_denied(
        response,
        "AuthorizationFailure",
        "list with a changed signature",
    );

    // (c) Read only: reads the blob, but may not list.
    let read = sas("r", now);
    let response = http
        .get(azurite.url(&format!("{CONTAINER}/{BLOB}"), "", &read))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "get blob with `r`");
    let response = http
        .get(azurite.url(CONTAINER, "restype=container&comp=list", &read))
        .send()
        .unwrap();
    expect_denied(
        response,
        "AuthorizationPermissionMismatch",
        "list with only `r`",
    );

    // (d) Expired: issued two hours ago for one hour (validity from
    // 2h15m ago to 1h ago), correctly signed.
    let expired = sas("rl", now - Duration::from_secs(2 * 3600));
    let response = http
        .get(azurite.url(CONTAINER, "restype=container&comp=list", &expired))
        .send()
        .unwrap();
    expect_denied(response, "AuthorizationFailure", "list with an expired SAS");

    // The other signed fields are enforced too: `spr=https` over http, and a
    // SAS for containers only used on a blob.
    let https_only = sas_with(
        &AccountSas {
            permissions: "rl".into(),
            expiry: Duration::from_secs(3600),
            start_before: None,
            services: None,
            resource_types: None,
            ip: None,
            protocol: SasProtocol::Https,
        },
        now,
    );
    let response = http
        .get(azurite.url(CONTAINER, "restype=container&comp=list", &https_only))
        .send()
        .unwrap();
    expect_denied(
        response,
        "AuthorizationProtocolMismatch",
        "`spr=https` over http",
    );
    let containers_only = sas_with(
        &AccountSas {
            permissions: "rl".into(),
            expiry: Duration::from_secs(3600),
            start_before: None,
            services: None,
            resource_types: Some("c".into()),
            ip: None,
            protocol: SasProtocol::HttpsAndHttp,
        },
        now,
    );
    let response = http
        .get(azurite.url(&format!("{CONTAINER}/{BLOB}"), "", &containers_only))
        .send()
        .unwrap();
    expect_denied(
        response,
        "AuthorizationResourceTypeMismatch",
        "get blob with `srt=c`",
    );
}
