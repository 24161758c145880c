//! `field:` and `default:` through the real binary against the in-process
//! emulator: one field of a JSON secret is what a program gets (and what is
//! masked), a field that is missing or not a string is a clear error that
//! shows no value, and an optional variable's default is used, with a
//! warning, when its source fails. `dsops check` validates both.

use dsops_emulator::Emulator;
use dsops_emulator::testing::StateBuilder;

use crate::support::emulated::{emulator_cloud, emulator_with_dir};
use crate::support::harness::{Run, assert_contains, check, dsops, run};

const JSON_SECRET: &str = r#"{"db":{"password":"CANARY-json-pw-8d2f","port":5432},"a.b":"CANARY-dotted-1b7c","list":["CANARY-zero-item","CANARY-one-item"]}"#;
const PASSWORD: &str = "CANARY-json-pw-8d2f";
const DOTTED: &str = "CANARY-dotted-1b7c";
const PLAIN: &str = "CANARY-plain-value-3c1";

struct Setup {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

fn kv(secret: &str, field: Option<&str>) -> String {
    let field = field.map(|f| format!(", field: '{f}'")).unwrap_or_default();
    format!("{{ store: azure, vault: json-vault, secret: {secret}{field} }}")
}

fn setup() -> Setup {
    let state = StateBuilder::new()
        .tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
        .subscription("Development", |s| {
            s.id("00000000-0000-0000-0000-00000000c0de")
        })
        .system_identity("vm")
        .grant("vm", "Key Vault Secrets User", "vault:json-vault")
        .vault("json-vault", |v| {
            v.subscription("Development")
                .secret("app-config", JSON_SECRET)
                .secret("not-json", PLAIN)
        })
        .build();
    let (emulator, dir) = emulator_with_dir(state);
    let config = format!(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n{cloud}envs:\n  prod:\n    DB_PASSWORD: {{ from: {pw} }}\n    DOTTED: {{ from: {dotted} }}\n    ITEM: {{ from: {item} }}\n  port:\n    PORT: {{ from: {port} }}\n  user:\n    USER: {{ from: {user} }}\n  plain:\n    X: {{ from: {plain} }}\n  defaults:\n    DB_PASSWORD: {{ from: {pw} }}\n    LOG_LEVEL: {{ from: {missing}, optional: true, default: info }}\n    FEATURE: {{ from: {nofield}, optional: true, default: 'off' }}\n    EMPTY: {{ from: {missing}, optional: true, default: '' }}\n    UNSET: {{ from: {missing}, optional: true }}\n",
        cloud = emulator_cloud(&emulator),
        pw = kv("app-config", Some("db.password")),
        dotted = kv("app-config", Some("a\\.b")),
        item = kv("app-config", Some("list.1")),
        port = kv("app-config", Some("db.port")),
        user = kv("app-config", Some("db.user")),
        plain = kv("not-json", Some("a")),
        missing = kv("no-such-secret", None),
        nofield = kv("app-config", Some("feature")),
    );
    std::fs::write(dir.path().join("dsops.yaml"), config).unwrap();
    Setup { emulator, dir }
}

impl Setup {
    fn run(&self, args: &[&str]) -> Run {
        run(dsops(self.dir.path()).args(args).env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            self.emulator.http_url().unwrap(),
        ))
    }
}

fn assert_no_canary(text: &str) {
    assert!(!text.contains("CANARY"), "a value is shown:\n{text}");
    assert!(!text.contains("5432"), "a value is shown:\n{text}");
}

#[test]
fn a_field_of_a_json_secret_is_the_value_and_what_is_masked() {
    let s = setup();
    let out = s.run(&["get", "--env", "prod", "DB_PASSWORD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{PASSWORD}\n"));
    let out = s.run(&["get", "--env", "prod", "DOTTED"]);
    assert_eq!(out.stdout, format!("{DOTTED}\n"), "{}", out.stderr);
    let out = s.run(&["get", "--env", "prod", "ITEM"]);
    assert_eq!(out.stdout, "CANARY-one-item\n", "{}", out.stderr);
    // One fetch of the secret for the three fields of one run.
    let fetches = || {
        s.emulator
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.service == "keyvault" && e.path.starts_with("/secrets/app-config"))
            .count()
    };
    assert_eq!(fetches(), 3, "one per get");
    let out = s.run(&["exec", "--env", "prod", "--", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fetches(), 4, "one for the three fields of exec");

    // The selected value is masked, and only it: the JSON around it is not a
    // value anyone sees.
    let out = s.run(&[
        "exec",
        "--env",
        "prod",
        "--mask-output",
        "--",
        "sh",
        "-c",
        r#"printf '%s|%s\n' "$DB_PASSWORD" "$DOTTED""#,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "***|***\n");
    let out = s.run(&["render", "--env", "prod", "--out", "values.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.dir.path().join("values.json")).unwrap())
            .unwrap();
    assert_eq!(doc["DB_PASSWORD"], PASSWORD);
    // The plan names the field, never a value.
    let out = s.run(&["plan", "--env", "prod"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(
        &out.stdout,
        &[
            "secret app-config in",
            ", field db.password",
            ", field a\\.b",
        ],
    );
    assert_no_canary(&out.all_output());
}

#[test]
fn a_missing_or_non_string_field_is_a_clear_error_without_a_value() {
    let s = setup();
    for (env, expected) in [
        ("port", "`db.port` is a number, not a string"),
        ("user", "`db` has no member `user`"),
        ("plain", "the secret's value is not JSON"),
    ] {
        let out = s.run(&["exec", "--env", env, "--", "touch", "started"]);
        assert_eq!(out.code, 125, "{env}: {}", out.stderr);
        assert_contains(
            &out.stderr,
            &[expected, "secret app-config", "field"][..if env == "plain" { 1 } else { 3 }],
        );
        assert_no_canary(&out.all_output());
        assert!(!s.dir.path().join("started").exists());
    }
}

#[test]
fn an_optional_variables_default_is_used_with_a_warning() {
    let s = setup();
    let out = s.run(&[
        "exec", "--env", "defaults", "--mask-output", "--", "sh", "-c",
        r#"printf '%s|%s|%s|[%s]|%s\n' "$DB_PASSWORD" "$LOG_LEVEL" "$FEATURE" "$EMPTY" "${UNSET-unset}""#,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Defaults are written in the file: not secrets, not masked.
    assert_eq!(out.stdout, "***|info|off|[]|unset\n");
    assert_contains(
        &out.stderr,
        &[
            "warning: LOG_LEVEL",
            "SecretNotFound",
            "its default is used",
            "warning: FEATURE",
            "has no member `feature`",
            "warning: UNSET",
        ],
    );
    assert!(!out.stderr.contains("warning: DB_PASSWORD"));
    assert_no_canary(&out.stderr);
    let out = s.run(&["get", "--env", "defaults", "LOG_LEVEL"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "info\n");
    assert_contains(&out.stderr, &["warning: LOG_LEVEL", "its default is used"]);
}

#[test]
fn check_validates_field_and_default() {
    let out = check(
        "version: 1\nsecretStores:\n  azure: { type: azure.managed_identity }\nenvs:\n  dev:\n    A: { from: { store: azure, vault: vault1, secret: s, field: 'a..b' } }\n    B: { from: { store: azure, vault: vault1, secret: s, type: certificate, field: a } }\n    C: { from: { store: azure, vault: vault1, secret: s }, default: x }\n    D: { from: { store: azure, vault: vault1, secret: s }, optional: false, default: x }\n    E: { from: { store: azure, vault: vault1, secret: s, field: 'a.b\\.c' }, optional: true, default: y }\n",
        &["--format", "json"],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let codes: Vec<(String, u64)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            ("invalid-field".to_owned(), 6),
            ("invalid-field".to_owned(), 7),
            ("default-on-required".to_owned(), 8),
            ("default-on-required".to_owned(), 9),
        ],
        "{}",
        out.stdout
    );
    assert_contains(&out.stdout, &["empty name", "certificate or key"]);
}
