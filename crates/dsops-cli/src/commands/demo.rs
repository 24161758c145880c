//! `dsops demo`: the whole job on a machine with no Azure account. It starts
//! the emulator with its example state, writes a dsops.yaml that points at
//! it, and runs `dsops exec` through the managed identity path (IMDS, as on an
//! Azure VM), with a child that prints something about the values but never
//! the values.

use std::process::Command;

use clap::Args;
use dsops_emulator::{Emulator, Options, StateFile};

use crate::exit;
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Keep the demo's directory (dsops.yaml and the CA) and print where it is.
    #[arg(long)]
    keep: bool,
}

/// The child: it sees the values in its environment and prints their lengths
/// and a digest prefix, so the demo shows they arrived without showing them.
const CHILD: &str = r#"for name in DATABASE_PASSWORD API_KEY; do
  eval "value=\$$name"
  digest=$(printf %s "$value" | (sha256sum 2>/dev/null || shasum -a 256) | cut -c1-12)
  printf '  %-18s %2d characters, sha256 %s...\n' "$name" "${#value}" "$digest"
done
printf '  %-18s %s\n' LOG_LEVEL "$LOG_LEVEL""#;

fn config(emulator: &Emulator) -> String {
    format!(
        "# Written by `dsops demo`: the store uses the host's managed identity
# (IMDS, here the emulator's), so no credential is stored anywhere.
secretStores:
  azure:
    type: azure.managed_identity
    fallback: [{{ type: managed_identity }}]
    cloud:
      authority_host: {https}
      resource_manager: {https}
      keyvault_dns_suffix: \"vault.localhost:{port}\"
      ca_bundle: ca.pem
envs:
  demo:
    DATABASE_PASSWORD:
      from: {{ store: azure, vault: dev-vault, secret: database-password }}
    API_KEY:
      from: {{ store: azure, vault: dev-vault, secret: api-key }}
    LOG_LEVEL: info
",
        https = emulator.https_url(),
        port = emulator.https_addr().port()
    )
}

pub(crate) fn run(args: &DemoArgs) -> u8 {
    let state = match StateFile::example() {
        Ok(state) => state,
        Err(e) => {
            output::error(&e, None);
            return exit::FAILED;
        }
    };
    let emulator = match Emulator::start_in_background(Options {
        state,
        ..Options::default()
    }) {
        Ok(emulator) => emulator,
        Err(e) => {
            output::error(&e, None);
            return exit::FAILED;
        }
    };
    let dir = match tempfile_dir() {
        Ok(dir) => dir,
        Err(e) => {
            output::error(&e, None);
            return exit::FAILED;
        }
    };
    let config_path = dir.join("dsops.yaml");
    let written = std::fs::write(dir.join("ca.pem"), emulator.ca_pem())
        .and_then(|()| std::fs::write(&config_path, config(&emulator)));
    if let Err(e) = written {
        output::error(&e, None);
        return exit::FAILED;
    }
    let Ok(me) = std::env::current_exe() else {
        output::problem("cannot find the dsops executable", None);
        return exit::FAILED;
    };
    let imds = emulator.http_url().unwrap_or_default();
    output::stdout(&format!(
        "dsops demo: a local Azure (the emulator) serves a VM's managed identity at {imds}\n\
         and the vault dev-vault at {vault}; dsops.yaml is in {dir}.\n\n\
         $ AZURE_POD_IDENTITY_AUTHORITY_HOST={imds} dsops exec --env demo -- sh -c '...'\n",
        vault = emulator.vault_url("dev-vault"),
        dir = dir.display()
    ));
    let status = Command::new(&me)
        .args(["exec", "--config"])
        .arg(&config_path)
        .args(["--env", "demo", "--", "sh", "-c", CHILD])
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &imds)
        // This shell's own platform variables would pick another endpoint.
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("IDENTITY_HEADER")
        .env_remove("IMDS_ENDPOINT")
        .env_remove("MSI_ENDPOINT")
        .status();
    let code = match status {
        Ok(status) if status.success() => {
            output::stdout(
                "\nThe values reached the program through its environment only. Try\n  \
                 dsops doctor --env production   (on a VM, in App Service, AKS or a GitHub job)\n",
            );
            exit::OK
        }
        Ok(status) => u8::try_from(status.code().unwrap_or(1)).unwrap_or(exit::FAILED),
        Err(e) => {
            output::error(&e, None);
            exit::FAILED
        }
    };
    if args.keep {
        output::stdout(&format!("kept {}\n", dir.display()));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    code
}

/// A new private directory (0700: the demo's state holds keys and secrets)
/// under the system's temporary directory.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let base = std::env::temp_dir();
    crate::private_fs::create_unique(
        |tag| base.join(format!("dsops-demo-{tag}")),
        |dir| crate::private_fs::dir_builder().create(dir),
    )
    .map(|(dir, ())| dir)
}
