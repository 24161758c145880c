//! `env-build-script-example`: an HTTP service's start-up, with its secrets
//! in a struct that build.rs generated from dsops.yaml. Run it under
//! `dsops exec --env production -- env-build-script-example`, which sets the
//! variables, or with `--resolve` to fetch them itself through the managed
//! identity of the machine.

// The generated code passes the strictest lints a user may set.
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use dsops::ExposeSecret;

mod secrets {
    //! The generated struct.
    include!(concat!(env!("OUT_DIR"), "/dsops_env.rs"));
}

use secrets::Env;

/// What the service would listen on, and with what, without a value.
fn startup(env: &Env) -> Result<String, String> {
    let port: u16 = env
        .port
        .parse()
        .map_err(|_| format!("PORT is not a port number: {:?}", env.port))?;
    let database = env.database_url.expose_secret();
    let server = database
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Server="))
        .unwrap_or("(no server)");
    Ok(format!(
        "listening on :{port} with {} TLS certificate(s); database {server}; session secret of {} characters",
        env.tls_cert.chain().len(),
        env.session_secret.expose_secret().chars().count()
    ))
}

fn main() -> ExitCode {
    let resolve = std::env::args().skip(1).any(|a| a == "--resolve");
    let env = if resolve {
        Env::resolve_blocking()
    } else {
        Env::from_env()
    };
    match env.map_err(|e| e.to_string()).and_then(|env| startup(&env)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_with_test_values() {
        let env = Env::for_tests([
            ("DATABASE_URL", "Server=tcp:db.example,1433;Database=orders"),
            ("SESSION_SECRET", "0123456789"),
        ])
        .unwrap();
        let line = startup(&env).unwrap();
        assert_eq!(
            line,
            "listening on :8080 with 1 TLS certificate(s); database tcp:db.example,1433; session secret of 10 characters"
        );
        // `#[derive(Clone)]` from build.rs; `Debug` redacts.
        let debug = format!("{:?}", env.clone());
        assert!(!debug.contains("0123456789"), "{debug}");
    }

    #[test]
    fn a_bad_port_is_reported() {
        let env = Env::for_tests([("PORT", "eighty")]).unwrap();
        assert_eq!(
            startup(&env).unwrap_err(),
            "PORT is not a port number: \"eighty\""
        );
    }

    #[test]
    fn the_struct_has_every_variable() {
        assert_eq!(Env::ENVIRONMENT, "production");
        let err = Env::from_env().unwrap_err();
        // None of them is set in the test process (the literal PORT is read too).
        assert!(err.fields().len() <= 4, "{err}");
    }
}
