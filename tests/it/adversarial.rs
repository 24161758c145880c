//! Regression tests for what an adversarial review of the binary broke.
//! Each test drives the real `dsops` binary; hostile servers listen on
//! loopback only. SECURITY.md names the test that keeps each promise.

use std::time::{Duration, Instant};

use crate::support::harness::{self, check, config_dir, dsops, run};

// ---- 2. Bounded time on hostile configurations -------------------------

/// 20,000 lines with a problem each: every command that prints diagnostics
/// draws a bounded number of them and counts the rest, in bounded time (the
/// renderer used to pass the whole file once per diagnostic: 27.7 s in a
/// release build).
#[test]
fn twenty_thousand_bad_lines_are_capped_and_counted() {
    let mut text = String::from("version: 1\nenvs:\n  prod:\n");
    for i in 0..20_000 {
        text.push_str(&format!("    A{i}: {{ bad: 1 }}\n"));
    }
    for args in [&["check"][..], &["plan", "--env", "prod"][..]] {
        let dir = config_dir(&text);
        let mut cmd = dsops(dir.path());
        cmd.args(args);
        let started = Instant::now();
        let out = run(&mut cmd);
        let took = started.elapsed();
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        let all = out.all_output();
        let shown = all.matches("error[").count();
        assert_eq!(
            shown,
            dsops::config::report::MAX_SHOWN,
            "{args:?} shows {shown} diagnostics"
        );
        assert!(
            all.contains("more diagnostics") && all.contains("not shown"),
            "{args:?}: no count of the rest:\n{}",
            &all[all.len().saturating_sub(600)..]
        );
        // Not a benchmark (BENCHMARKS.md has the release figure): a guard
        // against going quadratic again, generous for a debug build on a
        // busy machine.
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
    }
}

// ---- 5. `check` never shows a scalar that may be a value ---------------

#[test]
fn check_snippets_hide_values_under_unknown_keys_in_lists_and_in_other_files() {
    // The leak sweep fails the run if `CANARY` reaches any output.
    let text = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
    passwrd: CANARY-under-unknown-store-key
envs:
  prod:
    A: { bad: CANARY-under-unknown-key }
    B: [ CANARY-in-a-sequence ]
    C: { from: { store: azure, vault: v, secret: s }, extra: [CANARY-nested] }
";
    let out = check(text, &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("bad: *"), "{}", out.stdout);

    // A file that is not a dsops configuration at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DB_PASSWORD=CANARY-dotenv-one\nAPI_KEY: CANARY-dotenv-two\n",
    )
    .unwrap();
    for command in ["check", "plan"] {
        let mut cmd = dsops(dir.path());
        cmd.args(["--config", ".env", command]);
        let out = run(&mut cmd);
        assert_ne!(out.code, 0, "{}", out.all_output());
    }
    let _ = harness::CANARY;
}

// ---- 1. Credentials go only to a named cloud's Entra ID -----------------

mod authority {
    use dsops_emulator::testing::{Identity, StateBuilder};
    use dsops_emulator::{Emulator, Options};

    use crate::support::emulated::{dir_with_ca, emulator_cloud};
    use crate::support::harness::{Run, dsops, run};

    const CLIENT_ID: &str = "99999999-8888-7777-6666-555555555555";
    const SECRET: &str = "CANARY-authority-client-secret";

    /// The emulator plays the attacker's Entra ID: it would answer any token
    /// request, so a refusal is dsops's, and its log shows what was sent.
    fn attacker() -> Emulator {
        let state = StateBuilder::new()
            .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
            .identity(
                "ci",
                Identity::service_principal()
                    .client_id(CLIENT_ID)
                    .client_secret(SECRET)
                    .federated_credential("github", "repo:octo-org/octo-repo:ref:refs/heads/main"),
            )
            .grant("ci", "Key Vault Secrets User", "vault:ci-vault")
            .vault("ci-vault", |v| {
                v.secret("db-password", "CANARY-authority-value")
            })
            .github_claim("repository", "octo-org/octo-repo")
            .github_claim("ref", "refs/heads/main")
            .build();
        Emulator::start_in_background(Options {
            state,
            ..Default::default()
        })
        .unwrap()
    }

    /// A dsops.yaml (repository content) pointing the authority at the
    /// attacker, with a GitHub federation and a client secret from the
    /// environment.
    fn setup(emulator: &Emulator, cloud_in_file: bool) -> tempfile::TempDir {
        let dir = dir_with_ca(emulator);
        // With the authority in AZURE_AUTHORITY_HOST the stores have no
        // `cloud:` (which would name the authority), so the variables are
        // tokens only: no request could go to a public vault.
        let (cloud, gh, sp) = if cloud_in_file {
            (
                emulator_cloud(emulator),
                "{ from: { store: gh, vault: ci-vault, secret: db-password } }",
                "{ from: { store: sp, vault: ci-vault, secret: db-password } }",
            )
        } else {
            (
                String::new(),
                "{ from: { store: gh, operation: get_token, resource: https://vault.azure.net } }",
                "{ from: { store: sp, operation: get_token, resource: https://vault.azure.net } }",
            )
        };
        let text = format!(
            "version: 1
secretStores:
  gh:
    type: azure.managed_identity
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    fallback: [ {{ type: github_oidc, client_id: {CLIENT_ID} }} ]
{cloud}  sp:
    type: azure.managed_identity
    fallback: [ {{ type: environment }} ]
{cloud}envs:
  gh:
    DB: {gh}
  sp:
    DB: {sp}
"
        );
        std::fs::write(dir.path().join("dsops.yaml"), text).unwrap();
        dir
    }

    fn command(emulator: &Emulator, dir: &tempfile::TempDir, args: &[&str], trusted: bool) -> Run {
        let mut cmd = dsops(dir.path());
        cmd.args(args);
        for (key, value) in emulator.environment() {
            if key == "DSOPS_TRUSTED_AUTHORITY" && !trusted {
                continue;
            }
            if key.starts_with("ACTIONS_")
                || key.starts_with("AZURE_")
                || key.starts_with("DSOPS_")
                || key == "SSL_CERT_FILE"
            {
                cmd.env(key, value);
            }
        }
        cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
            .env("AZURE_CLIENT_ID", CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("GITHUB_ENV", "github_env")
            .env("GITHUB_OUTPUT", "github_output");
        run(&mut cmd)
    }

    fn sent_to_entra_or_github(emulator: &Emulator) -> usize {
        emulator
            .log()
            .entries()
            .iter()
            .filter(|e| e.service == "entra" || e.service == "github")
            .count()
    }

    #[test]
    fn an_authority_from_the_file_or_the_environment_gets_no_assertion_or_secret() {
        let emulator = attacker();
        for cloud_in_file in [true, false] {
            let dir = setup(&emulator, cloud_in_file);
            for env in ["gh", "sp"] {
                for args in [
                    &["exec", "--env", env, "--", "true"][..],
                    &["github", "--env", env][..],
                    &["doctor", "--env", env][..],
                ] {
                    emulator.log().clear();
                    let out = command(&emulator, &dir, args, false);
                    assert_ne!(out.code, 0, "{args:?}: {}", out.all_output());
                    assert_eq!(
                        sent_to_entra_or_github(&emulator),
                        0,
                        "{args:?} (authority in the file: {cloud_in_file}) asked {:?}",
                        emulator
                            .log()
                            .entries()
                            .iter()
                            .map(|e| e.service)
                            .collect::<Vec<_>>()
                    );
                    assert!(
                        out.all_output().contains("DSOPS_TRUSTED_AUTHORITY="),
                        "{args:?} does not say how to confirm it:\n{}",
                        out.all_output()
                    );
                }
            }
            // `check` says so too (offline).
            let out = command(&emulator, &dir, &["check"], false);
            if cloud_in_file {
                assert!(
                    out.stdout.contains("warning[untrusted-authority]"),
                    "{}",
                    out.stdout
                );
            }
            // Confirmed by the job's environment, the same file works
            // (only with every endpoint at the emulator).
            for env in ["gh", "sp"].into_iter().filter(|_| cloud_in_file) {
                let out = command(&emulator, &dir, &["exec", "--env", env, "--", "true"], true);
                assert_eq!(out.code, 0, "{env}: {}", out.all_output());
            }
        }
    }
}

// ---- 3. Endpoints from the environment are checked as in dsops.yaml -----

#[test]
fn endpoints_from_the_environment_are_checked_and_never_echoed() {
    let text = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    fallback:
      - { type: github_oidc, client_id: 99999999-8888-7777-6666-555555555555 }
      - { type: environment }
      - { type: managed_identity }
envs:
  prod:
    DB: { from: { store: azure, vault: prod-vault, secret: db } }
";
    let cases: &[(&str, &str, &str)] = &[
        (
            "AZURE_AUTHORITY_HOST",
            "https://user:CANARY-password@login.microsoftonline.com",
            "AZURE_AUTHORITY_HOST must not contain user information",
        ),
        (
            "AZURE_AUTHORITY_HOST",
            "http://login.example.com",
            "AZURE_AUTHORITY_HOST uses plain `http://`",
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://token.example.com/idtoken?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_URL uses plain `http://`",
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "https://u:CANARY-pw@127.0.0.1:9/idtoken",
            "ACTIONS_ID_TOKEN_REQUEST_URL must not contain user information",
        ),
        (
            "IDENTITY_ENDPOINT",
            "http://metadata.example.com/msi/token",
            "IDENTITY_ENDPOINT uses plain `http://`",
        ),
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            "http://u:CANARY-imds@127.0.0.1:9",
            "AZURE_POD_IDENTITY_AUTHORITY_HOST must not contain user information",
        ),
    ];
    for (name, value, said) in cases {
        let dir = config_dir(text);
        let mut cmd = dsops(dir.path());
        cmd.args(["doctor", "--env", "prod"])
            .env("AZURE_CLIENT_ID", "99999999-8888-7777-6666-555555555555")
            .env("AZURE_CLIENT_SECRET", "CANARY-env-secret")
            .env("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://127.0.0.1:9/idtoken?api-version=2.0",
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "CANARY-request-token")
            .env("IDENTITY_HEADER", "CANARY-header")
            // The client secret goes nowhere but a closed loopback port
            // (the public authority otherwise): the cases below that are
            // not about the authority leave it here.
            .env("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
            .env("DSOPS_TRUSTED_AUTHORITY", "https://127.0.0.1:9")
            .env(name, value);
        // The leak sweep fails the run if a password (`CANARY-…`) is shown.
        let out = run(&mut cmd);
        assert!(
            out.all_output().contains(said),
            "{name}={value}: expected `{said}` in\n{}",
            out.all_output()
        );
    }
}

// ---- 6. Re-encodings of a value are masked ------------------------------

mod reencodings {
    use dsops_emulator::Emulator;
    use dsops_emulator::testing::StateBuilder;

    use crate::support::emulated::{emulator_cloud, emulator_with_dir};
    use crate::support::harness::{dsops, run};

    const JSON: &str = r#"{"user": "app", "password": "CANARY-json-leaf-77"}"#;
    const ACCENTED: &str = "CANARY pässwörd 9";
    const SAS: &str =
        "sv=2022-11-02&ss=b&srt=co&sp=r&se=2030-01-01T00:00:00Z&sig=CANARYsig%2Bab%2Fcd%3D";
    const FROM_ENV: &str = "CANARY-from-the-environment-5";
    /// What `${MY_FALLBACK}` supplies to a `default:`.
    const FALLBACK: &str = "CANARY-fallback-from-the-environment-6";

    /// A VM whose identity reads a vault with the three secrets.
    fn setup() -> (Emulator, tempfile::TempDir) {
        let state = StateBuilder::new()
            .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
            .subscription("Development", |s| {
                s.id("00000000-0000-0000-0000-00000000c0de")
            })
            .system_identity("vm")
            .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
            .vault("dev-vault", |v| {
                v.subscription("Development")
                    .secret("json", JSON)
                    .secret("accented", ACCENTED)
                    .secret("sas", SAS)
            })
            .build();
        let (emulator, dir) = emulator_with_dir(state);
        let kv = |s: &str| format!("{{ from: {{ store: azure, vault: dev-vault, secret: {s} }} }}");
        let text = format!(
            "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n{}envs:\n  prod:\n    JSON: {}\n    ACCENTED: {}\n    SAS: {}\n    FROM_ENV: \"${{MY_TOKEN}}\"\n    FALLBACK: {{ from: {{ store: azure, vault: dev-vault, secret: missing }}, optional: true, default: \"${{MY_FALLBACK}}\" }}\n    LEVEL: info\n",
            emulator_cloud(&emulator),
            kv("json"),
            kv("accented"),
            kv("sas"),
        );
        std::fs::write(dir.path().join("dsops.yaml"), text).unwrap();
        (emulator, dir)
    }

    #[test]
    fn exec_mask_output_masks_leaves_escapes_encodings_signatures_and_env_sourced_values() {
        let (emulator, dir) = setup();
        // What a program might print: each a re-encoding of a value.
        let script = r#"
printf '%s\n' "password=CANARY-json-leaf-77"
python_style='{"v": "CANARY p\u00e4ssw\u00f6rd 9"}'
printf '%s\n' "$python_style"
printf '%s\n' 'P\u00E4 CANARY p\u00E4ssw\u00F6rd 9'
printf '%s\n' "q=CANARY+p%C3%A4ssw%C3%B6rd+9&x=1"
printf '%s\n' "q=CANARY%20p%c3%a4ssw%c3%b6rd%209&x=1"
printf '%s\n' "GET /c/b?sv=2022-11-02&sig=CANARYsig%2Bab%2Fcd%3D HTTP/1.1"
printf '%s\n' "signature: CANARYsig+ab/cd="
printf '%s\n' "$FROM_ENV"
printf '%s\n' "$FALLBACK"
printf '%s\n' "level=$LEVEL"
"#;
        let mut cmd = dsops(dir.path());
        cmd.args([
            "exec",
            "--env",
            "prod",
            "--mask-output",
            "--",
            "sh",
            "-c",
            script,
        ])
        .env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            emulator.http_url().unwrap(),
        )
        .env("MY_TOKEN", FROM_ENV)
        .env("MY_FALLBACK", FALLBACK);
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            !out.stdout.contains("CANARY"),
            "a value survived masking:\n{}",
            out.stdout
        );
        assert!(out.stdout.contains("sig=***"), "{}", out.stdout);
        // A literal written whole in the file is not a secret (docs/commands.md).
        assert!(out.stdout.contains("level=info"), "{}", out.stdout);
    }

    #[test]
    fn github_masks_an_env_sourced_value_before_exporting_it() {
        let (emulator, dir) = setup();
        let mut cmd = dsops(dir.path());
        cmd.args(["github", "--env", "prod"])
            .env(
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                emulator.http_url().unwrap(),
            )
            .env("MY_TOKEN", FROM_ENV)
            .env("MY_FALLBACK", FALLBACK)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ENV", "github_env")
            .env("GITHUB_OUTPUT", "github_output");
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{}", out.all_output());
        assert!(
            out.stdout
                .lines()
                .any(|l| l == format!("::add-mask::{FROM_ENV}")),
            "no mask for the value from ${{MY_TOKEN}}:\n{}",
            out.stdout
        );
        // A `default:` that `${MY_FALLBACK}` supplied, used for a missing
        // secret, is as secret as the literal.
        assert!(
            out.stdout
                .lines()
                .any(|l| l == format!("::add-mask::{FALLBACK}")),
            "no mask for the default from ${{MY_FALLBACK}}:\n{}",
            out.stdout
        );
        let exported = std::fs::read_to_string(dir.path().join("github_env")).unwrap();
        assert!(exported.contains(FROM_ENV), "{exported}");
        assert!(exported.contains(FALLBACK), "{exported}");
    }
}

// ---- 7. Names that change how later steps start are not exported -------

#[test]
fn startup_and_runner_names_are_refused_for_the_job_environment_unless_allowed() {
    let names = [
        "PATH",
        "LD_PRELOAD",
        "BASH_ENV",
        "ENV",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "RUNNER_TEMP",
        "ACTIONS_RUNTIME_TOKEN",
        "JAVA_TOOL_OPTIONS",
        "PERL5OPT",
        "PROMPT_COMMAND",
        "GIT_SSH_COMMAND",
    ];
    let mut text = String::from("version: 1\nenvs:\n  prod:\n    SAFE: fine\n");
    for name in names {
        text.push_str(&format!("    {name}: /tmp/evil\n"));
    }
    // `check` warns about each.
    let out = check(&text, &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    for name in names {
        assert!(
            out.stdout.contains(&format!("`{name}`")),
            "no warning for {name}:\n{}",
            out.stdout
        );
    }
    for ci in ["github", "azure-pipelines"] {
        let dir = config_dir(&text);
        std::fs::write(dir.path().join("github_env"), "").unwrap();
        let github = |allow: Option<String>| {
            let mut cmd = dsops(dir.path());
            cmd.args(["github", "--env", "prod", "--ci", ci])
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ENV", "github_env")
                .env("GITHUB_OUTPUT", "github_output");
            if let Some(allow) = allow {
                cmd.env("DSOPS_ALLOW_NAMES", allow);
            }
            run(&mut cmd)
        };
        let out = github(None);
        assert_ne!(out.code, 0, "{ci}: {}", out.all_output());
        let written = std::fs::read_to_string(dir.path().join("github_env")).unwrap();
        assert_eq!(written, "", "{ci}: something was exported");
        assert!(
            !out.stdout.contains("task.setvariable"),
            "{ci}: {}",
            out.stdout
        );
        for name in names {
            assert!(
                out.all_output()
                    .contains(&format!("{name} is not exported to the job's environment")),
                "{ci}: {name} not refused by name:\n{}",
                out.all_output()
            );
        }
        // Every name allowed explicitly, one by one: exported.
        let out = github(Some(names.join(",")));
        assert_eq!(out.code, 0, "{ci}: {}", out.all_output());
        // One short: refused again.
        let out = github(Some(names[1..].join(" ")));
        assert_ne!(out.code, 0, "{ci}: {}", out.all_output());
    }
}

// ---- 4. Server text reaches no log or terminal raw; masks come first -----

mod server_text {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::process::Stdio;

    use crate::support::harness::{config_dir, dsops, run};

    /// What a hostile endpoint says: a workflow command on a line of its
    /// own, a forged annotation, Azure Pipelines commands, ANSI and OSC 8
    /// escape sequences, and a Markdown image.
    const HOSTILE: &str = "denied\n::stop-commands::pwned-token\n::error file=x::forged annotation\r\n##vso[task.setvariable variable=EVIL]1 \u{1b}]8;;https://attacker.example\u{7}click\u{1b}]8;;\u{7} \u{1b}[2J ![pixel](https://attacker.example/p.png)";

    /// A plain-http IMDS on loopback that answers every request with 400
    /// and `HOSTILE` as its error description.
    fn hostile_imds() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let body = serde_json::json!({
                    "error": "invalid_request",
                    "error_description": HOSTILE,
                })
                .to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    const CONFIG: &str = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
    fallback: [ { type: managed_identity } ]
envs:
  prod:
    TOKEN: \"${MY_TOKEN}\"
    DB: { from: { store: azure, vault: prod-vault, secret: db }, optional: true }
";

    /// No line of `text` is a workflow command dsops did not mean, and no
    /// escape sequence is left.
    fn assert_inert(what: &str, text: &str) {
        assert!(
            !text.contains('\u{1b}'),
            "{what}: an escape sequence:\n{text}"
        );
        for line in text.lines() {
            let line = line.trim_start();
            let own = line.starts_with("::add-mask::")
                || line.starts_with("::error title=dsops")
                || line.starts_with("::warning title=dsops");
            assert!(
                own || !line.starts_with("::"),
                "{what}: a workflow command from the server: {line}\n{text}"
            );
            assert!(
                !line.contains("##vso[task.setvariable variable=EVIL"),
                "{what}: an Azure Pipelines command from the server: {line}"
            );
            assert!(
                !line.contains("##vso[")
                    || line.starts_with("##vso[task.setsecret]")
                    || line.starts_with("##vso[task.setvariable variable=TOKEN;")
                    || line.starts_with("##vso[task.logissue"),
                "{what}: an Azure Pipelines command from the server: {line}"
            );
            if line.starts_with("##vso[task.logissue") {
                assert!(!line[1..].contains("##vso["), "{what}: {line}");
            }
        }
    }

    #[test]
    fn a_hostile_error_body_is_inert_everywhere_and_masks_come_first() {
        let imds = hostile_imds();
        for args in [
            &["github", "--env", "prod", "--debug"][..],
            &["github", "--env", "prod", "--ci", "azure-pipelines"][..],
            &["exec", "--env", "prod", "--", "true"][..],
            &["doctor", "--env", "prod"][..],
        ] {
            let dir = config_dir(CONFIG);
            let mut cmd = dsops(dir.path());
            cmd.args(args)
                .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &imds)
                .env("MY_TOKEN", "CANARY-server-text-token")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ENV", "github_env")
                .env("GITHUB_OUTPUT", "github_output")
                .env("GITHUB_STEP_SUMMARY", "summary.md");
            let out = run(&mut cmd);
            assert_inert(&format!("{args:?} stdout"), &out.stdout);
            assert_inert(&format!("{args:?} stderr"), &out.stderr);
            assert!(
                out.all_output().contains("stop-commands"),
                "{args:?}: the server's text is not shown at all:\n{}",
                out.all_output()
            );
            if let Ok(summary) = std::fs::read_to_string(dir.path().join("summary.md")) {
                assert!(
                    !summary.contains("!["),
                    "{args:?}: an image in the summary:\n{summary}"
                );
                assert!(!summary.contains('\u{1b}'), "{args:?}: {summary}");
            }
        }

        // stdout and stderr into one file, as a runner reads them: the
        // first line is a mask, before the debug trace and the server's
        // error text.
        let dir = config_dir(CONFIG);
        let log = dir.path().join("log");
        let file = std::fs::File::create(&log).unwrap();
        let status = dsops(dir.path())
            .args(["github", "--env", "prod", "--debug"])
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &imds)
            .env("MY_TOKEN", "CANARY-server-text-token")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ENV", "github_env")
            .env("GITHUB_OUTPUT", "github_output")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .status()
            .unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        assert!(status.success(), "{text}");
        assert!(
            text.lines()
                .next()
                .is_some_and(|l| l == "::add-mask::CANARY-server-text-token"),
            "the mask is not the first line:\n{text}"
        );
        assert!(text.contains("dsops: "), "no debug trace:\n{text}");
    }
}

// ---- 8. The small ones -------------------------------------------------

#[test]
fn an_empty_variable_leaves_the_message_readable() {
    let text = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
envs:
  prod:
    A: { from: { store: azure, vault: \"${X}\", secret: s } }
";
    let out = check(text, &[], &[("X", "")]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("vault name from `${X}` (empty) is 0 characters long"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("…i…s"), "{}", out.stdout);
}

#[test]
fn a_vault_url_with_another_port_is_a_check_error() {
    let text = "version: 1
secretStores:
  azure:
    type: azure.managed_identity
envs:
  prod:
    A: { from: { store: azure, vault: \"https://prod-keyvault.vault.azure.net:444\", secret: s } }
    B: { from: { store: azure, vault: \"https://prod-keyvault.vault.azure.net:443\", secret: s } }
";
    let out = check(text, &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(
        out.stdout.matches("error[vault-host-mismatch]").count(),
        1,
        "{}",
        out.stdout
    );
}

#[test]
fn a_nul_in_a_value_is_named_not_taken_for_a_program_that_cannot_run() {
    use dsops_emulator::testing::StateBuilder;

    use crate::support::emulated::emulator_with_dir;

    let state = StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .subscription("Development", |s| {
            s.id("00000000-0000-0000-0000-00000000c0de")
        })
        .system_identity("vm")
        .grant("vm", "Key Vault Secrets User", "vault:dev-vault")
        .vault("dev-vault", |v| {
            v.subscription("Development")
                .secret("nul", "CANARY-before\u{0}after")
        })
        .build();
    let (emulator, dir) = emulator_with_dir(state);
    std::fs::write(
        dir.path().join("dsops.yaml"),
        format!(
            "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n{}envs:\n  prod:\n    WITH_NUL: {{ from: {{ store: azure, vault: dev-vault, secret: nul }} }}\n",
            crate::support::emulated::emulator_cloud(&emulator)
        ),
    )
    .unwrap();
    // As `exec` starts the command, and as `exec --watch` does.
    for watch in [&[][..], &["--watch", "30s"][..]] {
        let mut cmd = dsops(dir.path());
        cmd.args(["exec", "--env", "prod"])
            .args(watch)
            .args(["--", "true"])
            .env(
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                emulator.http_url().unwrap(),
            );
        let out = run(&mut cmd);
        assert_ne!(out.code, 126, "{watch:?}: {}", out.stderr);
        assert_ne!(out.code, 0, "{watch:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("the value of WITH_NUL contains a NUL character"),
            "{watch:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("chmod"), "{}", out.stderr);
        assert!(!out.stderr.contains("CANARY"), "{}", out.stderr);
    }
}

#[test]
fn the_bind_refusal_talks_about_loopback_not_ports() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dsops(dir.path());
    // Refused before anything listens: 192.0.2.1 is a documentation address.
    cmd.args(["emulator", "--bind", "192.0.2.1"]);
    let out = run(&mut cmd);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("loopback"), "{}", out.stderr);
    assert!(!out.stderr.contains("--port"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn the_demo_directory_is_its_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dsops(dir.path());
    cmd.args(["demo", "--keep"]).env("TMPDIR", dir.path());
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.all_output());
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("dsops-demo-"))
        .expect("the demo's directory")
        .path();
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "the demo directory is {mode:o}");
}
