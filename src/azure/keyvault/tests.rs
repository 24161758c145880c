//! The Key Vault client (`dsops::keyvault::{get_secret, get_certificate_pem,
//! get_certificate_public_pem, get_key_jwk}`) against the emulator, with a
//! token from managed identity (IMDS): versions, refusals, certificates from
//! PEM and PKCS#12 backing secrets (the emulator's and OpenSSL's, made here in
//! a temporary directory), keys as public JWKs. The PEM is checked with the
//! `openssl` CLI.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use super::client::{PEM_CONTENT_TYPE, PKCS12_CONTENT_TYPE, get_certificate_public_pem};
use super::{KeyVaultError, get_certificate_pem, get_key_jwk, get_secret};
use crate::azure::http::Trace;
use crate::azure::identity::{Chain, Scope};
use dsops_emulator::Emulator;
use dsops_emulator::testing::{Certificate, Key, Secret, StateBuilder};
use secrecy::{ExposeSecret, SecretString};

use crate::azure::testing::{emulator, http, store};

const OLD_VERSION: &str = "0123456789abcdef0123456789abcdef";
const NO_ROLE_CLIENT_ID: &str = "22222222-3333-4444-5555-666666666666";

/// The emulator's state: `app-vault`, whose secrets, certificates and `vm`
/// may read, with secrets of every kind of attribute, certificates of every
/// format, and keys; `norole` has no role.
fn state() -> StateBuilder {
    StateBuilder::new()
        .system_identity("vm")
        .user_identity("norole", NO_ROLE_CLIENT_ID)
        .vault("app-vault", |v| {
            v.secret_versions(
                "api-key",
                [
                    Secret::new("old-api-key").version(OLD_VERSION),
                    Secret::new("current-api-key").content_type("text/plain"),
                ],
            )
            .secret_with("retired", Secret::new("retired-canary").disabled())
            .secret_with("expired", Secret::new("expired-canary").expires(1000000000))
            .secret_with(
                "future",
                Secret::new("future-canary").not_before(4102444800),
            )
            .secret_with(
                "lasting",
                Secret::new("lasting")
                    .expires(4102444800)
                    .not_before(1000000000),
            )
            .certificate(
                "tls-pem",
                Certificate::new()
                    .subject("pem.contoso.test")
                    .dns_name("pem.contoso.test")
                    .pem(),
            )
            .certificate("tls-pfx", Certificate::new().subject("pfx.contoso.test"))
            .certificate("tls-ec", Certificate::new().subject("ec.contoso.test").ec())
            .certificate("tls-off", Certificate::new().disabled())
            .key("rsa-key", Key::rsa())
            .key("ec-key", Key::ec())
        })
        .grant("vm", "Key Vault Secrets User", "vault:app-vault")
        .grant("vm", "Key Vault Certificate User", "vault:app-vault")
}

/// A token for Key Vault from managed identity through IMDS: the host's
/// system-assigned identity, or `identity_yaml`'s.
async fn token(emulator: &Emulator, identity_yaml: &str) -> SecretString {
    let env: HashMap<String, String> = HashMap::from([(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(),
        emulator.http_url().unwrap(),
    )]);
    let yaml = format!("{identity_yaml}    fallback: [{{ type: managed_identity }}]");
    let chain = Chain::for_store(&store(&yaml, &env), &env, &http(emulator, Trace::off()));
    chain
        .token(&Scope::for_resource("https://vault.azure.net"))
        .await
        .unwrap()
        .secret
}

struct Setup {
    emulator: Emulator,
    http: crate::azure::http::Http,
    token: SecretString,
    vault: String,
}

async fn setup(state: StateBuilder) -> Setup {
    let emulator = emulator(state.build()).await;
    let token = token(&emulator, "").await;
    Setup {
        http: http(&emulator, Trace::off()),
        vault: emulator.vault_url("app-vault"),
        token,
        emulator,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_latest_and_pinned_with_their_attributes() {
    let s = setup(state()).await;
    let latest = get_secret(&s.http, &s.token, &s.vault, "api-key", None)
        .await
        .unwrap();
    assert_eq!(latest.value.expose_secret(), "current-api-key");
    assert_eq!(latest.content_type.as_deref(), Some("text/plain"));
    assert_eq!(latest.version.len(), 32);
    assert_ne!(latest.version, OLD_VERSION);
    assert_eq!(
        latest.id,
        format!("{}/secrets/api-key/{}", s.vault, latest.version)
    );
    assert!(latest.enabled && !latest.managed);
    assert_eq!((latest.expires, latest.not_before), (None, None));
    assert!(!format!("{latest:?}").contains("current-api-key"));

    let pinned = get_secret(&s.http, &s.token, &s.vault, "api-key", Some(OLD_VERSION))
        .await
        .unwrap();
    assert_eq!(pinned.value.expose_secret(), "old-api-key");
    assert_eq!(pinned.version, OLD_VERSION);
    assert_eq!(pinned.content_type, None);

    // Pinning the current version reads the same thing.
    let again = get_secret(
        &s.http,
        &s.token,
        &s.vault,
        "api-key",
        Some(&latest.version),
    )
    .await
    .unwrap();
    assert_eq!(again.value.expose_secret(), "current-api-key");

    let lasting = get_secret(&s.http, &s.token, &s.vault, "lasting", None)
        .await
        .unwrap();
    let epoch = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
    assert_eq!(lasting.expires, Some(epoch(4_102_444_800)));
    assert_eq!(lasting.not_before, Some(epoch(1_000_000_000)));

    // A certificate's backing secret is managed.
    let backing = get_secret(&s.http, &s.token, &s.vault, "tls-pem", None)
        .await
        .unwrap();
    assert!(backing.managed);
    assert_eq!(backing.content_type.as_deref(), Some(PEM_CONTENT_TYPE));

    let paths: Vec<String> = s
        .emulator
        .log()
        .entries()
        .iter()
        .filter(|e| e.service == "keyvault")
        .map(|e| e.path.clone())
        .collect();
    assert!(paths.contains(&"/secrets/api-key/".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&format!("/secrets/api-key/{OLD_VERSION}")),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_distinct_errors_that_name_no_value() {
    let s = setup(state()).await;

    let e = get_secret(&s.http, &s.token, &s.vault, "nope", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, KeyVaultError::Status { status: 404, code: Some(c), .. } if c == "SecretNotFound"),
        "{e:?}"
    );
    assert_eq!((e.status(), e.code()), (Some(404), Some("SecretNotFound")));
    assert!(!e.to_string().contains('\n'), "{e}");

    let e = get_secret(
        &s.http,
        &s.token,
        &s.vault,
        "api-key",
        Some("ffffffffffffffffffffffffffffffff"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Some("SecretNotFound"), "{e}");

    // An identity without a role: 403 ForbiddenByRbac, the first line only.
    let norole = token(
        &s.emulator,
        &format!("    identity: {{ type: user_assigned, client_id: {NO_ROLE_CLIENT_ID} }}\n"),
    )
    .await;
    let e = get_secret(&s.http, &norole, &s.vault, "api-key", None)
        .await
        .unwrap_err();
    let KeyVaultError::Status {
        status,
        code,
        inner_code,
        message,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*status, 403);
    assert_eq!(code.as_deref(), Some("Forbidden"));
    assert_eq!(inner_code.as_deref(), Some("ForbiddenByRbac"));
    assert_eq!(
        message,
        "Caller is not authorized to perform action on resource."
    );
    assert_eq!(e.code(), Some("ForbiddenByRbac"));
    assert_eq!(
        e.to_string(),
        "Key Vault answered 403 Forbidden (ForbiddenByRbac): Caller is not authorized to perform action on resource."
    );

    let e = get_secret(&s.http, &s.token, &s.vault, "retired", None)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyVaultError::Disabled), "{e:?}");
    assert!(e.to_string().contains("disabled"), "{e}");

    let e = get_secret(&s.http, &s.token, &s.vault, "expired", None)
        .await
        .unwrap_err();
    let KeyVaultError::Expired { at } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        *at,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000)
    );
    assert!(e.to_string().contains("2001-09-09T01:46:40Z"), "{e}");

    let e = get_secret(&s.http, &s.token, &s.vault, "future", None)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyVaultError::NotYetValid { .. }), "{e:?}");
    assert!(e.to_string().contains("2100-01-01T00:00:00Z"), "{e}");

    for e in [
        get_certificate_pem(&s.http, &s.token, &s.vault, "tls-off", None)
            .await
            .unwrap_err(),
        get_key_jwk(&s.http, &s.token, &s.vault, "tls-off", None)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(e, KeyVaultError::Disabled), "{e:?}");
    }
    let e = get_certificate_public_pem(&s.http, &s.token, &s.vault, "nope", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("CertificateNotFound"), "{e}");
    let e = get_key_jwk(&s.http, &s.token, &s.vault, "nope", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("KeyNotFound"), "{e}");

    // A vault the emulator does not have.
    let e = get_secret(
        &s.http,
        &s.token,
        &s.emulator.vault_url("other-vault"),
        "x",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(404), Some("VaultNotFound")));

    // A plain secret read as a certificate.
    let e = get_certificate_pem(&s.http, &s.token, &s.vault, "api-key", None)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyVaultError::Protocol(_)), "{e:?}");
    assert!(!e.to_string().contains("current-api-key"), "{e}");
}

/// `openssl ARGS` in `dir`, with `input` on stdin; its stdout.
fn openssl(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openssl CLI");
    if let Some(input) = input {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Checks a certificate PEM as a TLS server would load it: one PKCS#8
/// private key first, then certificates with the subjects `chain` (common
/// names, leaf first), and the key is the leaf's.
fn check_certificate_pem(dir: &Path, pem: &str, chain: &[&str]) {
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "the key first, as PKCS#8"
    );
    assert_eq!(pem.matches("PRIVATE KEY-----").count(), 2, "one key");
    let certificates: Vec<String> = pem
        .split_inclusive("-----END CERTIFICATE-----\n")
        .filter_map(|part| {
            part.find("-----BEGIN CERTIFICATE-----")
                .map(|at| part[at..].to_owned())
        })
        .collect();
    let subjects: Vec<String> = certificates
        .iter()
        .map(|c| {
            String::from_utf8(openssl(
                dir,
                &["x509", "-noout", "-subject", "-nameopt", "multiline"],
                Some(c.as_bytes()),
            ))
            .unwrap()
        })
        .collect();
    assert_eq!(subjects.len(), chain.len(), "{subjects:?}");
    for (subject, cn) in subjects.iter().zip(chain) {
        assert!(
            subject.contains(&format!("commonName                = {cn}\n")),
            "{subject} is not {cn}"
        );
    }
    let key_public = openssl(dir, &["pkey", "-pubout"], Some(pem.as_bytes()));
    let cert_public = openssl(dir, &["x509", "-pubkey", "-noout"], Some(pem.as_bytes()));
    assert!(key_public.starts_with(b"-----BEGIN PUBLIC KEY-----"));
    assert_eq!(key_public, cert_public, "the key is the leaf certificate's");
}

/// Without the `pkcs12` feature, a PKCS#12 backing secret is refused with
/// an error that names the feature and the PEM way out.
fn check_pkcs12_refused(cert: Result<super::client::CertificatePem, KeyVaultError>, name: &str) {
    let e = cert
        .err()
        .unwrap_or_else(|| panic!("{name}: read without `pkcs12`"));
    assert!(matches!(e, KeyVaultError::Protocol(_)), "{name}: {e:?}");
    let e = e.to_string();
    assert!(e.contains("`pkcs12` feature"), "{name}: {e}");
    assert!(e.contains("application/x-pem-file"), "{name}: {e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn emulator_certificates_as_pem_from_both_backing_formats() {
    let s = setup(state()).await;
    let dir = tempfile::tempdir().unwrap();
    for (name, cn, format) in [
        ("tls-pem", "pem.contoso.test", PEM_CONTENT_TYPE),
        ("tls-pfx", "pfx.contoso.test", PKCS12_CONTENT_TYPE),
        ("tls-ec", "ec.contoso.test", PKCS12_CONTENT_TYPE),
    ] {
        let cert = get_certificate_pem(&s.http, &s.token, &s.vault, name, None).await;
        if !cfg!(feature = "pkcs12") && format == PKCS12_CONTENT_TYPE {
            check_pkcs12_refused(cert, name);
            continue;
        }
        let cert = cert.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cert.content_type, format, "{name}");
        assert_eq!(cert.version.len(), 32, "{name}");
        let pem = cert.pem.expose_secret();
        check_certificate_pem(dir.path(), pem, &[cn]);
        assert!(pem.ends_with(&cert.certificate_pem), "{name}");
        assert!(!cert.certificate_pem.contains("PRIVATE"), "{name}");
        assert!(
            !format!("{cert:?}").contains("PRIVATE KEY-----\n"),
            "{name}"
        );

        // The public part, from the certificate endpoint: the same leaf.
        let public = get_certificate_public_pem(&s.http, &s.token, &s.vault, name, None)
            .await
            .unwrap();
        assert_eq!(public, cert.certificate_pem, "{name}");
        let pinned =
            get_certificate_public_pem(&s.http, &s.token, &s.vault, name, Some(&cert.version))
                .await
                .unwrap();
        assert_eq!(pinned, public, "{name}");
    }
}

/// `openssl` with a command line of words without spaces, in `dir`; stdout.
fn sh(dir: &Path, command_line: &str) -> String {
    let args: Vec<&str> = command_line.split_whitespace().collect();
    String::from_utf8(openssl(dir, &args, None)).unwrap()
}

/// A CA, a leaf it signed, and an EC certificate with its SEC1 key, made by
/// OpenSSL in `dir`; the backing secrets made of them, by name.
fn openssl_backing_secrets(dir: &Path) -> Vec<(&'static str, Secret)> {
    sh(
        dir,
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=dsops-test-ca -days 2",
    );
    sh(
        dir,
        "req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=leaf.contoso.test",
    );
    sh(
        dir,
        "x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out leaf.crt -days 2",
    );
    let pfx = |out: &str, options: &str| {
        sh(
            dir,
            &format!(
                "pkcs12 -export -inkey leaf.key -in leaf.crt -certfile ca.crt -name leaf -out {out} {options}"
            ),
        );
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join(out)).unwrap())
    };
    // OpenSSL 3's default: PBES2 (PBKDF2, AES-256-CBC), HMAC-SHA256 MAC.
    let aes = pfx("aes.pfx", "-passout pass:");
    // As Key Vault exports: pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC.
    let tdes = pfx(
        "3des.pfx",
        "-passout pass: -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1",
    );
    // OpenSSL 1.1's default: the certificates under RC2-40, the key under 3DES.
    let legacy = pfx("legacy.pfx", "-passout pass: -legacy");
    let other_password = pfx("password.pfx", "-passout pass:not-empty");
    // The fixtures are protected as said (OpenSSL prints this on stderr).
    for (file, scheme) in [
        ("aes.pfx", "AES-256-CBC"),
        ("3des.pfx", "pbeWithSHA1And3-KeyTripleDES-CBC"),
        ("legacy.pfx -legacy", "pbeWithSHA1And40BitRC2-CBC"),
    ] {
        let out = Command::new("openssl")
            .args(["pkcs12", "-info", "-noout", "-passin", "pass:", "-in"])
            .args(file.split_whitespace())
            .current_dir(dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && text.contains(scheme),
            "{file}: {text}"
        );
    }

    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    // The CA before the leaf, a PKCS#1 key last.
    let rsa_key = sh(dir, "rsa -in leaf.key -traditional");
    assert!(rsa_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let rsa_pem = format!("{}{}{rsa_key}", read("ca.crt"), read("leaf.crt"));
    // The certificate, then an EC PARAMETERS block and a SEC1 key.
    sh(dir, "ecparam -name prime256v1 -genkey -out ec.key");
    sh(
        dir,
        "req -x509 -key ec.key -out ec.crt -subj /CN=ec.openssl.test -days 2",
    );
    let ec_key = read("ec.key");
    assert!(ec_key.contains("-----BEGIN EC PARAMETERS-----"));
    assert!(ec_key.contains("-----BEGIN EC PRIVATE KEY-----"));
    let ec_pem = format!("{}{ec_key}", read("ec.crt"));
    // As `openssl pkcs12 -nodes` prints it: `Bag Attributes` around the blocks.
    let annotated = sh(dir, "pkcs12 -in aes.pfx -passin pass: -nodes");
    assert!(annotated.contains("Bag Attributes"));

    let entry = |name: &'static str, value: &str, content_type: Option<&str>| {
        let secret = Secret::new(value);
        match content_type {
            Some(t) => (name, secret.content_type(t)),
            None => (name, secret),
        }
    };
    vec![
        entry("pfx-aes", &aes, Some(PKCS12_CONTENT_TYPE)),
        entry("pfx-3des", &tdes, Some(PKCS12_CONTENT_TYPE)),
        entry("pfx-legacy", &legacy, Some(PKCS12_CONTENT_TYPE)),
        entry("pfx-password", &other_password, Some(PKCS12_CONTENT_TYPE)),
        entry("pem-rsa", &rsa_pem, Some(PEM_CONTENT_TYPE)),
        entry("pem-ec", &ec_pem, Some(PEM_CONTENT_TYPE)),
        entry("pem-annotated", &annotated, None),
        entry("pfx-untyped", &aes, None),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn openssl_pkcs12_and_pem_backing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let extra = openssl_backing_secrets(dir.path());
    let s = setup(state().vault("app-vault", |v| {
        extra
            .into_iter()
            .fold(v, |v, (name, secret)| v.secret_with(name, secret))
    }))
    .await;
    let chain = ["leaf.contoso.test", "dsops-test-ca"];
    for (name, content_type, subjects) in [
        ("pfx-aes", PKCS12_CONTENT_TYPE, &chain[..]),
        ("pfx-3des", PKCS12_CONTENT_TYPE, &chain[..]),
        ("pfx-legacy", PKCS12_CONTENT_TYPE, &chain[..]),
        ("pfx-untyped", PKCS12_CONTENT_TYPE, &chain[..]),
        ("pem-rsa", PEM_CONTENT_TYPE, &chain[..]),
        ("pem-annotated", PEM_CONTENT_TYPE, &chain[..]),
        ("pem-ec", PEM_CONTENT_TYPE, &["ec.openssl.test"][..]),
    ] {
        let cert = get_certificate_pem(&s.http, &s.token, &s.vault, name, None).await;
        if !cfg!(feature = "pkcs12") && content_type == PKCS12_CONTENT_TYPE {
            check_pkcs12_refused(cert, name);
            continue;
        }
        let cert = cert.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cert.content_type, content_type, "{name}");
        let pem = cert.pem.expose_secret();
        check_certificate_pem(dir.path(), pem, subjects);
        assert!(
            !pem.contains("EC PARAMETERS") && !pem.contains("RSA PRIVATE"),
            "{name}"
        );
    }

    if !cfg!(feature = "pkcs12") {
        return;
    }
    // The same key, whatever the format it came in.
    let key_of = |pem: &str| openssl(dir.path(), &["pkey", "-pubout"], Some(pem.as_bytes()));
    let from_pfx = get_certificate_pem(&s.http, &s.token, &s.vault, "pfx-3des", None)
        .await
        .unwrap();
    let from_pem = get_certificate_pem(&s.http, &s.token, &s.vault, "pem-rsa", None)
        .await
        .unwrap();
    assert_eq!(
        key_of(from_pfx.pem.expose_secret()),
        key_of(from_pem.pem.expose_secret())
    );
    assert_eq!(from_pfx.certificate_pem, from_pem.certificate_pem);

    // A PFX under another password: a clear error that quotes no byte.
    let e = get_certificate_pem(&s.http, &s.token, &s.vault, "pfx-password", None)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyVaultError::Protocol(_)), "{e:?}");
    assert!(e.to_string().contains("empty password"), "{e}");
    assert!(e.to_string().len() < 300, "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_as_public_jwks() {
    let s = setup(state()).await;
    let members = |jwk: &str| {
        let value: serde_json::Value = serde_json::from_str(jwk).unwrap();
        let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        names.sort();
        (value, names)
    };
    let rsa = get_key_jwk(&s.http, &s.token, &s.vault, "rsa-key", None)
        .await
        .unwrap();
    assert!(!rsa.contains(' ') && !rsa.contains('\n'), "compact: {rsa}");
    let (value, names) = members(&rsa);
    assert_eq!(names, ["e", "key_ops", "kid", "kty", "n"]);
    assert_eq!(value["kty"], "RSA");
    assert_eq!(value["e"], "AQAB");
    let kid = value["kid"].as_str().unwrap();
    assert!(
        kid.starts_with(&format!("{}/keys/rsa-key/", s.vault)),
        "{kid}"
    );
    assert!(value["key_ops"].as_array().is_some_and(|o| !o.is_empty()));

    // Pinned to the version in its kid: the same key.
    let version = kid.rsplit('/').next().unwrap();
    let pinned = get_key_jwk(&s.http, &s.token, &s.vault, "rsa-key", Some(version))
        .await
        .unwrap();
    assert_eq!(pinned, rsa);

    let ec = get_key_jwk(&s.http, &s.token, &s.vault, "ec-key", None)
        .await
        .unwrap();
    let (value, names) = members(&ec);
    assert_eq!(names, ["crv", "key_ops", "kid", "kty", "x", "y"]);
    assert_eq!(
        (value["kty"].as_str(), value["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );

    // A certificate's key: the public key of the certificate.
    let jwk = get_key_jwk(&s.http, &s.token, &s.vault, "tls-pfx", None)
        .await
        .unwrap();
    let (value, _) = members(&jwk);
    assert_eq!(value["kty"], "RSA");
    let n = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value["n"].as_str().unwrap())
            .unwrap()
    };
    let hex: String = n.iter().map(|b| format!("{b:02X}")).collect();
    let public = get_certificate_public_pem(&s.http, &s.token, &s.vault, "tls-pfx", None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let modulus = openssl(
        dir.path(),
        &["x509", "-noout", "-modulus"],
        Some(public.as_bytes()),
    );
    assert_eq!(
        String::from_utf8(modulus).unwrap().trim(),
        format!("Modulus={hex}")
    );
}
