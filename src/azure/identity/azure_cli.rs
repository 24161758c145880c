//! The Azure CLI: `az account get-access-token`, for laptops.
//!
//! dsops runs `az` itself rather than through `azure_identity`'s
//! `AzureCliCredential`, which runs `/bin/sh -c "cd /bin && az ..."` with the
//! process's own `PATH`, has no time limit, needs CLI 2.54 or newer
//! (`expires_on`), and reports every failure as one message. Here `az` is
//! looked up on the `PATH` of the environment dsops was given (absolute
//! entries only, so never from the working directory), run directly with
//! its arguments (no shell) and that `PATH`, stdin closed, for at most
//! [`TIMEOUT`]; "not installed" and "not signed in" mean the source is not
//! available here, anything else is a failure with the CLI's own message.
//! stdout, which holds the token, is never shown.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use dsops_config::Environment;
use secrecy::SecretString;
use serde_json::Value;

use super::error::{IdentityError, SourceError};
use super::{AccessToken, Scope, TokenSource};

/// How long `az` may take (it may refresh its own token first).
const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of the CLI's error message kept.
const MAX_MESSAGE: usize = 1000;

/// The signed-in Azure CLI user.
#[derive(Debug)]
pub(crate) struct AzureCli {
    tenant: Option<String>,
    path: Option<String>,
}

impl AzureCli {
    pub(crate) fn new(tenant: Option<String>, env: &dyn Environment) -> Self {
        Self {
            tenant,
            path: env.var("PATH").filter(|p| !p.is_empty()),
        }
    }

    /// `az` on the `PATH`.
    fn find(&self) -> Option<PathBuf> {
        let path = self.path.as_deref()?;
        let names: &[&str] = if cfg!(windows) {
            &["az.cmd", "az.exe", "az.bat"]
        } else {
            &["az"]
        };
        std::env::split_paths(path)
            .filter(|dir| dir.is_absolute())
            .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
            .find(|candidate| is_executable(candidate))
    }

    fn not_signed_in(&self, stderr: &str) -> SourceError {
        let command = match &self.tenant {
            Some(tenant) => format!("az login --tenant {tenant}"),
            None => "az login".to_owned(),
        };
        let said = first_line(stderr);
        SourceError::Unavailable(format!(
            "the Azure CLI is not signed in ({said}): run `{command}`"
        ))
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// A tenant or scope as one argument: no option-like or odd characters.
fn plain_argument(value: &str, extra: &[char]) -> bool {
    !value.is_empty()
        && !value.starts_with('-')
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || extra.contains(&c)
        })
}

#[async_trait::async_trait]
impl TokenSource for AzureCli {
    fn kind(&self) -> &'static str {
        "azure_cli"
    }

    fn describe(&self) -> String {
        match &self.tenant {
            Some(t) => format!("Azure CLI (tenant {t})"),
            None => "Azure CLI".to_owned(),
        }
    }

    async fn token(&self, scope: &Scope) -> Result<AccessToken, SourceError> {
        let Some(az) = self.find() else {
            return Err(SourceError::Unavailable(
                "the Azure CLI (az) is not installed: no `az` on PATH".to_owned(),
            ));
        };
        if !plain_argument(scope.as_str(), &[':', '/']) {
            return Err(IdentityError::AzureCli(format!(
                "the scope {scope} cannot be passed to the Azure CLI"
            ))
            .into());
        }
        let mut command = tokio::process::Command::new(&az);
        command.args([
            "account",
            "get-access-token",
            "--output",
            "json",
            "--scope",
            scope.as_str(),
        ]);
        if let Some(tenant) = &self.tenant {
            if !plain_argument(tenant, &[]) {
                return Err(IdentityError::AzureCli(format!(
                    "the tenant {tenant} cannot be passed to the Azure CLI"
                ))
                .into());
            }
            command.args(["--tenant", tenant]);
        }
        if let Some(path) = &self.path {
            command.env("PATH", path);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(SourceError::Unavailable(
                    "the Azure CLI (az) is not installed: no `az` on PATH".to_owned(),
                ));
            }
            Err(error) => {
                return Err(IdentityError::AzureCli(format!(
                    "cannot run {}: {error}",
                    az.display()
                ))
                .into());
            }
        };
        let output = match tokio::time::timeout(TIMEOUT, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => {
                return Err(
                    IdentityError::AzureCli(format!("{} failed: {error}", az.display())).into(),
                );
            }
            Err(_) => {
                return Err(IdentityError::AzureCli(format!(
                    "no answer within {} s",
                    TIMEOUT.as_secs()
                ))
                .into());
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("az login") {
                return Err(self.not_signed_in(&stderr));
            }
            let message = cli_message(&stderr);
            let message = if message.is_empty() {
                format!("`az` exited with {}", output.status)
            } else {
                message
            };
            return Err(IdentityError::AzureCli(message).into());
        }
        parse(&output.stdout).map_err(|problem| IdentityError::AzureCli(problem.to_owned()).into())
    }
}

/// The CLI's error output on one line, without its `ERROR: ` prefixes.
fn cli_message(stderr: &str) -> String {
    let text = stderr
        .lines()
        .map(|line| line.trim().trim_start_matches("ERROR:").trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if text.len() <= MAX_MESSAGE {
        return text;
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

fn first_line(stderr: &str) -> String {
    let message = cli_message(
        stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default(),
    );
    if message.is_empty() {
        "no account".to_owned()
    } else {
        message
    }
}

/// `az account get-access-token --output json`: `accessToken`, and
/// `expires_on` (epoch seconds, CLI 2.54 and later); older CLIs give only
/// `expiresOn` in local time, which cannot be placed without the time zone,
/// so the token's own `exp` is used then.
fn parse(stdout: &[u8]) -> Result<AccessToken, &'static str> {
    let body: Value = serde_json::from_slice(stdout)
        .map_err(|_| "its output is not the JSON of `az account get-access-token`")?;
    let token = body
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("its output has no accessToken")?;
    let expires_on = match body.get("expires_on") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .or_else(|| jwt_expiry(token))
    .ok_or(
        "its output has no expires_on and the token no exp: update the Azure CLI (2.54 or later)",
    )?;
    Ok(AccessToken::new(
        SecretString::from(token.to_owned()),
        SystemTime::UNIX_EPOCH + Duration::from_secs(expires_on),
    ))
}

/// The `exp` claim of a JWT, unverified (only to know when to ask again).
fn jwt_expiry(token: &str) -> Option<u64> {
    super::claims::jwt_payload(token)?.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn reads_expires_on_or_the_tokens_exp() {
        let token =
            parse(br#"{"accessToken":"opaque","expires_on":1700000000,"tokenType":"Bearer"}"#)
                .expect("parses");
        assert_eq!(
            token.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        let token = parse(br#"{"accessToken":"x","expires_on":"1700000001"}"#).expect("parses");
        assert_eq!(
            token.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_001)
        );
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp":1700000002}"#);
        let old = format!(
            r#"{{"accessToken":"h.{payload}.s","expiresOn":"2023-11-14 23:13:22.000000"}}"#
        );
        let token = parse(old.as_bytes()).expect("parses");
        assert_eq!(
            token.expires_on,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_002)
        );
        assert!(
            parse(br#"{"accessToken":"opaque","expiresOn":"2023-11-14 23:13:22.000000"}"#).is_err()
        );
        assert!(parse(b"not json").is_err());
    }

    #[test]
    fn error_output_is_one_line_without_error_prefixes() {
        assert_eq!(
            cli_message("ERROR: AADSTS50076: MFA required.\nERROR: more\n\n"),
            "AADSTS50076: MFA required. more"
        );
    }

    #[test]
    fn arguments_must_be_plain() {
        assert!(plain_argument(
            "https://vault.azure.net/.default",
            &[':', '/']
        ));
        assert!(!plain_argument("--debug", &[':', '/']));
        assert!(plain_argument("contoso.onmicrosoft.com", &[]));
        assert!(!plain_argument("a b", &[]));
    }
}
