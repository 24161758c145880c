//! A nightly job whose secrets are a typed struct: `#[dsops::env]` reads
//! `dsops.yaml` at compile time, and [`Env::resolve_blocking`] fetches every
//! value through the managed identity of the machine it runs on.

// The generated code passes the strictest lints a user may set.
#![deny(missing_docs)]
#![warn(clippy::pedantic)]

use std::time::SystemTime;

use dsops::ExposeSecret;

/// The secrets of the job, in production.
#[dsops::env("production")]
pub struct Env;

/// What the job would work with, without a single value: one line per field.
#[must_use]
pub fn report(env: &Env) -> String {
    let mut lines = Vec::new();
    lines.push(format!(
        "database_password: {} characters",
        env.database_password.expose_secret().chars().count()
    ));
    let cert = &env.report_signing_cert;
    lines.push(format!(
        "report_signing_cert: {} certificate(s) in the chain, private key {}",
        cert.chain().len(),
        if cert
            .private_key_pem()
            .expose_secret()
            .contains("PRIVATE KEY")
        {
            "present"
        } else {
            "missing"
        }
    ));
    lines.push(format!(
        "archive_key: {} key {}",
        env.archive_key.kty(),
        env.archive_key.kid().unwrap_or("(no kid)")
    ));
    let minutes = env
        .graph_token
        .expires_on()
        .and_then(|at| at.duration_since(SystemTime::now()).ok())
        .map_or_else(
            || "unknown".to_owned(),
            |d| format!("{} min", d.as_secs() / 60),
        );
    lines.push(format!("graph_token: expires in {minutes}"));
    lines.push(format!(
        "feature_flags: {}",
        if env.feature_flags.is_some() {
            "set"
        } else {
            "not set"
        }
    ));
    lines.push(format!("log_level: {}", env.log_level));
    lines.join("\n")
}
