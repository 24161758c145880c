//! Starting emulators and clients that trust them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dsops_emulator::{Emulator, Options, StateFile};

/// An emulator with the example state, on free ports, on this runtime.
pub(crate) async fn example() -> Emulator {
    with_state(dsops_emulator::EXAMPLE_STATE).await
}

/// An emulator with the given state, on free ports, on this runtime.
pub(crate) async fn with_state(yaml: &str) -> Emulator {
    let state = StateFile::parse(yaml).expect("valid state");
    Emulator::start(Options {
        state,
        ..Options::default()
    })
    .await
    .expect("emulator starts")
}

/// A client that trusts only the emulator's CA and resolves `hosts` (e.g.
/// `dev-vault.vault.azure.net`) to it, as a client in Azure resolves them.
pub(crate) fn client(emulator: &Emulator, hosts: &[&str]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).expect("CA parses");
    let address: SocketAddr = emulator.https_addr();
    let mut builder = reqwest::Client::builder().tls_certs_only([ca]).no_proxy();
    for host in hosts {
        builder = builder.resolve(host, address);
    }
    builder.build().expect("client builds")
}

/// `https://HOST:PORT` for a host resolved to the emulator.
pub(crate) fn url(emulator: &Emulator, host: &str, path: &str) -> String {
    format!("https://{host}:{}{path}", emulator.https_addr().port())
}

/// The repository's root (where `scripts/` installs the SDKs under `target/`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate is at crates/dsops-emulator")
        .to_owned()
}

/// The Python virtualenv's interpreter with the Azure SDK for Python; a
/// clear failure when it is not there.
pub(crate) fn venv_python() -> PathBuf {
    let python = repo_root().join("target/python-sdk/bin/python");
    assert!(
        python.is_file(),
        "{} does not exist: run scripts/install-python-sdk (from the repository root) to install \
         the Azure SDK for Python this test drives; scripts/test does so before cargo test",
        python.display()
    );
    python
}

/// A value's SHA-256 in hex: what the SDK scripts print instead of values.
pub(crate) fn sha256_hex(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Every secret value of the example state's vault (`dev-vault`): none may
/// appear in an output that is not its destination.
pub(crate) const EXAMPLE_SECRET_VALUES: &[&str] = &[
    "dev-db-password",
    "old-api-key",
    "current-api-key",
    "no-longer-used",
];

/// A variable of `emulator.environment()`, which must be there.
pub(crate) fn env_var(emulator: &Emulator, name: &str) -> String {
    emulator
        .environment()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("emulator.environment() has no {name}"))
}
