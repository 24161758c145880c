//! The emulator's certificate authority, the server certificate it issues
//! for the loopback names and the Azure host names clients may map to
//! loopback, and the self-signed certificates of Key Vault certificates.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::EmulatorError;
use crate::state::KeyType;

/// Names the server certificate covers besides those the user adds: the
/// loopback names, a vault under `vault.localhost`, and the public and
/// sovereign Azure host names a client may resolve to the emulator.
pub const DEFAULT_HOSTNAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "*.localhost",
    "*.vault.localhost",
    "*.vault.azure.net",
    "*.vault.azure.cn",
    "*.vault.usgovcloudapi.net",
    "login.microsoftonline.com",
    "login.chinacloudapi.cn",
    "login.microsoftonline.us",
    "management.azure.com",
    "management.chinacloudapi.cn",
    "management.usgovcloudapi.net",
    "token.actions.githubusercontent.com",
];

/// The CA and the server certificate.
pub(crate) struct Authority {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

fn tls_error(e: rcgen::Error) -> EmulatorError {
    EmulatorError::Tls(e.to_string())
}

impl Authority {
    /// A new CA and a server certificate for `DEFAULT_HOSTNAMES` plus `extra`.
    pub(crate) fn generate(extra: &[String]) -> Result<Self, EmulatorError> {
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(tls_error)?;
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.distinguished_name = name("dsops emulator CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_error)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut names: Vec<String> = DEFAULT_HOSTNAMES.iter().map(|s| (*s).to_owned()).collect();
        names.extend(extra.iter().cloned());
        let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(tls_error)?;
        let mut params = CertificateParams::new(names).map_err(tls_error)?;
        params.distinguished_name = name("dsops emulator");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let server_cert = params.signed_by(&server_key, &issuer).map_err(tls_error)?;

        Ok(Self {
            ca_pem: ca_cert.pem(),
            server_chain: vec![server_cert.der().clone(), ca_cert.der().clone()],
            server_key: server_key.serialize_der(),
        })
    }

    /// The CA certificate, PEM: the bundle clients must trust.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A rustls server configuration offering HTTP/2 (when `http2`) and
    /// HTTP/1.1 by ALPN; a client that offers no ALPN gets HTTP/1.1.
    pub(crate) fn server_config(
        &self,
        http2: bool,
    ) -> Result<Arc<rustls::ServerConfig>, EmulatorError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| EmulatorError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), key)
            .map_err(|e| EmulatorError::Tls(e.to_string()))?;
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(Arc::new(config))
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A self-signed certificate as Key Vault creates with the "Self" issuer.
#[derive(Debug)]
pub(crate) struct IssuedCertificate {
    /// The certificate, DER.
    pub(crate) der: Vec<u8>,
    /// The private key, PKCS#8 DER.
    pub(crate) pkcs8: Vec<u8>,
}

/// The civil date (year, month, day) of a day counted from 1970-01-01.
fn civil(days: i64) -> (i32, u8, u8) {
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(9999),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

/// Generates a self-signed certificate for `subject` and `dns_names`, valid
/// from `not_before` to `expires` (epoch seconds, whole days).
pub(crate) fn self_signed_valid(
    subject: &str,
    dns_names: &[String],
    key_type: KeyType,
    (not_before, expires): (i64, i64),
) -> Result<IssuedCertificate, EmulatorError> {
    let key = match key_type {
        KeyType::Rsa => KeyPair::generate_for(&PKCS_RSA_SHA256),
        KeyType::Ec => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
    }
    .map_err(tls_error)?;
    let mut params = CertificateParams::new(dns_names.to_vec()).map_err(tls_error)?;
    params.distinguished_name = name(subject);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let (y, m, d) = civil(not_before.div_euclid(86_400));
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = civil(expires.div_euclid(86_400));
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let cert = params.self_signed(&key).map_err(tls_error)?;
    Ok(IssuedCertificate {
        der: cert.der().to_vec(),
        pkcs8: key.serialize_der(),
    })
}

#[cfg(test)]
mod validity_tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), (1970, 1, 1));
        assert_eq!(super::civil(19_723), (2024, 1, 1));
        assert_eq!(super::civil(20_513), (2026, 3, 1));
        assert_eq!(super::civil(-1), (1969, 12, 31));
    }
}
