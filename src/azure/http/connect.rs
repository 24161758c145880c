//! How the client reaches a host: the name resolved (`*.localhost` to
//! loopback, RFC 6761), a TCP connection (connect timeout, keep-alive, no
//! Nagle), through a proxy when the environment names one, then TLS with the
//! platform's roots and the store's CA bundle.
//!
//! hyper-util's legacy client pools what this connector returns. Two
//! connectors, one per client: the HTTP/2 one offers ALPN `h2` and
//! `http/1.1` and hands back only connections that negotiated `h2` (its
//! client multiplexes every request to a host over one of them); when a
//! host answers the handshake with `http/1.1` (or nothing), it remembers the
//! host in [`Http1Hosts`] and fails with [`NotHttp2`], and the transport
//! asks the HTTP/1.1 client instead, which keeps one connection per request
//! in flight, kept alive between requests.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tower_service::Service;

use super::HttpError;

/// Any error a connection attempt ends with; hyper-util's client keeps it
/// as the cause of its `Connect` error.
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves `localhost` and `*.localhost` to loopback (RFC 6761), other names
/// through the system.
#[derive(Debug, Clone, Copy)]
pub(super) struct LocalhostResolver;

/// Whether `host` is `localhost` or under it (RFC 6761: always loopback).
pub(super) fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

impl LocalhostResolver {
    /// The addresses of `host`, port 0 (the connector sets the port).
    pub(super) async fn resolve(host: &str) -> io::Result<Vec<SocketAddr>> {
        if is_localhost_name(host) {
            return Ok(vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
            ]);
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect())
    }
}

type Resolving = Pin<Box<dyn Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl Service<Name> for LocalhostResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_owned();
        Box::pin(async move { Ok(Self::resolve(&host).await?.into_iter()) })
    }
}

/// Which HTTP a connector's connections speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    /// ALPN `h2` (offering `http/1.1` as well, so that a server without
    /// HTTP/2 still completes the handshake and says so).
    Http2,
    /// ALPN `http/1.1`, and plain `http`.
    Http1,
}

/// What every connection of an [`super::Http`] trusts, and the TLS settings
/// its connectors share: the platform's roots and the extra CA certificates.
///
/// Reading and parsing the platform's store takes a millisecond or two (on
/// Debian, the bundle and then every file of `/etc/ssl/certs`: the largest
/// part of a one-secret run's CPU). So no handshake waits for it until the
/// server's certificate is in hand: a thread started with the first client
/// reads the store while the first connections are opened and their
/// handshakes sent, and [`DeferredRoots`] checks the certificate against it
/// when it arrives. The extra certificates are parsed at once, so a bad
/// `ca_bundle` is still an error of the setup.
#[derive(Clone)]
pub(super) struct Trust {
    /// ALPN `h2` and `http/1.1`.
    h2: Arc<rustls::ClientConfig>,
    /// ALPN `http/1.1`.
    h1: Arc<rustls::ClientConfig>,
    /// The verifier both settings hold, for tests.
    #[cfg(test)]
    verifier: Arc<DeferredRoots>,
}

impl Trust {
    /// The platform's roots (read in the background from now on) and the
    /// certificates of `ca_pem`, which must be PEM certificates.
    pub(super) fn new(ca_pem: Option<&[u8]>) -> Result<Self, HttpError> {
        let mut extra = rustls::RootCertStore::empty();
        if let Some(pem) = ca_pem {
            for certificate in pem_certificates(pem)? {
                extra.add(certificate).map_err(|e| {
                    HttpError::Setup(format!("the CA bundle is not PEM certificates: {e}"))
                })?;
            }
        }
        read_platform_roots_in_background();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(DeferredRoots {
            extra,
            provider: provider.clone(),
            webpki: OnceLock::new(),
        });
        let config = |alpn: Vec<Vec<u8>>| -> Result<Arc<rustls::ClientConfig>, HttpError> {
            let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| HttpError::Setup(format!("cannot set up HTTPS: {e}")))?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            config.alpn_protocols = alpn;
            Ok(Arc::new(config))
        };
        Ok(Self {
            h2: config(vec![b"h2".to_vec(), b"http/1.1".to_vec()])?,
            h1: config(vec![b"http/1.1".to_vec()])?,
            #[cfg(test)]
            verifier,
        })
    }

    /// The TLS settings for `protocol`.
    pub(super) fn config(&self, protocol: Protocol) -> Arc<rustls::ClientConfig> {
        match protocol {
            Protocol::Http2 => self.h2.clone(),
            Protocol::Http1 => self.h1.clone(),
        }
    }

    /// Whether the roots have been put together yet (for tests).
    #[cfg(test)]
    fn roots_built(&self) -> bool {
        self.verifier.webpki.get().is_some()
    }
}

/// rustls's WebPKI verification, over roots put together at the first
/// certificate it checks: the platform's (waiting for the thread reading
/// them, if it has not finished) and the extra ones. Signatures are checked
/// as WebPKI checks them, with the provider's algorithms; nothing is
/// trusted that the WebPKI verifier over the same roots would not trust.
#[derive(Debug)]
struct DeferredRoots {
    extra: rustls::RootCertStore,
    provider: Arc<rustls::crypto::CryptoProvider>,
    webpki: OnceLock<Result<Arc<rustls::client::WebPkiServerVerifier>, rustls::Error>>,
}

impl DeferredRoots {
    fn webpki(&self) -> Result<&Arc<rustls::client::WebPkiServerVerifier>, rustls::Error> {
        self.webpki
            .get_or_init(|| {
                let mut roots = rustls::RootCertStore::empty();
                roots.roots.extend(platform_roots().roots.iter().cloned());
                roots.roots.extend(self.extra.roots.iter().cloned());
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    self.provider.clone(),
                )
                .build()
                .map_err(|e| rustls::Error::General(format!("no trusted roots: {e}")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl rustls::client::danger::ServerCertVerifier for DeferredRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.webpki()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The `CERTIFICATE` blocks of a PEM bundle; an error unless it has at
/// least one and every block decodes.
fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, HttpError> {
    let not_pem =
        |why: String| HttpError::Setup(format!("the CA bundle is not PEM certificates: {why}"));
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(e.to_string()))?;
    if certificates.is_empty() {
        return Err(not_pem(
            "it has no `-----BEGIN CERTIFICATE-----` block".to_owned(),
        ));
    }
    Ok(certificates)
}

/// The operating system's trust store (on Linux and the BSDs the files
/// OpenSSL would read, `SSL_CERT_FILE` and `SSL_CERT_DIR` included), read
/// once per process. Certificates that do not parse are left out, as a
/// store with one bad entry should not stop every connection.
fn platform_roots() -> &'static rustls::RootCertStore {
    PLATFORM_ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        roots
    })
}

static PLATFORM_ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();

/// Starts reading the platform's roots on a thread of its own, once per
/// process; whoever needs them first waits for that thread (`OnceLock`
/// runs one initialiser and blocks the others), or reads them itself if the
/// thread could not be started.
fn read_platform_roots_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("dsops-platform-roots".to_owned())
            .spawn(|| {
                platform_roots();
            });
    });
}

/// The origins (`scheme://host:port`) whose TLS handshake did not
/// negotiate `h2`: requests to them take the HTTP/1.1 client. Shared by an
/// [`super::Http`]'s connectors and its clones.
#[derive(Debug, Clone, Default)]
pub(super) struct Http1Hosts(Arc<Mutex<HashSet<String>>>);

impl Http1Hosts {
    /// Whether `uri`'s origin is known to speak only HTTP/1.1.
    pub(super) fn contains(&self, uri: &Uri) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&origin(uri))
    }

    /// The origins, for tests.
    #[cfg(test)]
    pub(super) fn origins(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    fn insert(&self, uri: &Uri) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(origin(uri));
    }
}

/// `scheme://host:port`, as hyper-util's pool keys connections.
fn origin(uri: &Uri) -> String {
    let authority = uri.authority().map_or("", |a| a.as_str());
    format!("{}://{authority}", uri.scheme_str().unwrap_or_default())
}

/// The server did not negotiate HTTP/2 (ALPN): not a failure of the
/// request, which the transport sends again over HTTP/1.1.
#[derive(Debug, thiserror::Error)]
#[error("the server does not speak HTTP/2")]
pub(super) struct NotHttp2;

/// Opens connections for hyper-util's client: direct, or through the proxy
/// `proxy` names for the destination.
#[derive(Clone)]
pub(super) struct Connector {
    tcp: HttpConnector<LocalhostResolver>,
    /// The roots and TLS settings (`protocol`'s; an `https` proxy itself
    /// is reached over HTTP/1.1, as a CONNECT is).
    trust: Trust,
    protocol: Protocol,
    /// Origins seen to speak only HTTP/1.1 (written by the HTTP/2 connector).
    http1_hosts: Http1Hosts,
    proxy: Option<Arc<Matcher>>,
    /// For one TCP connection, and for the whole of connecting: name,
    /// TCP, proxy tunnel, TLS handshake.
    timeout: Duration,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the matcher: a proxy URL may carry a password.
        f.debug_struct("Connector")
            .field("proxy", &self.proxy.is_some())
            .finish_non_exhaustive()
    }
}

impl Connector {
    pub(super) fn new(
        trust: Trust,
        protocol: Protocol,
        http1_hosts: Http1Hosts,
        connect_timeout: Duration,
        proxy: Option<Arc<Matcher>>,
    ) -> Self {
        let mut tcp = HttpConnector::new_with_resolver(LocalhostResolver);
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_keepalive(Some(Duration::from_secs(15)));
        tcp.set_keepalive_interval(Some(Duration::from_secs(15)));
        tcp.set_keepalive_retries(Some(3));
        Self {
            tcp,
            trust,
            protocol,
            http1_hosts,
            proxy,
            timeout: connect_timeout,
        }
    }

    /// The proxy a request to `uri` goes through, if any.
    pub(super) fn proxy_for(
        &self,
        uri: &Uri,
    ) -> Option<hyper_util::client::proxy::matcher::Intercept> {
        self.proxy.as_ref()?.intercept(uri)
    }

    /// This connector without its proxy, over HTTP/1.1: how the proxy
    /// itself is reached.
    fn direct(&self) -> Self {
        Self {
            proxy: None,
            protocol: Protocol::Http1,
            ..self.clone()
        }
    }

    async fn connect(mut self, dst: Uri) -> Result<Conn, BoxError> {
        let https = match dst.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(format!("unsupported URL scheme in {}", shown(&dst)).into()),
        };
        if self.protocol == Protocol::Http2 && (!https || self.http1_hosts.contains(&dst)) {
            return Err(NotHttp2.into());
        }
        let Some(proxy) = self.proxy_for(&dst) else {
            let tcp = self.tcp.call(dst.clone()).await?;
            let io: Box<dyn Io> = Box::new(tcp.into_inner());
            return if https {
                self.handshake(io, &dst).await
            } else {
                Ok(Conn::new(io, false, false))
            };
        };
        let proxy_uri = proxy.uri().clone();
        if !matches!(proxy_uri.scheme_str(), Some("http" | "https")) {
            return Err(format!(
                "the proxy {} is not an http or https proxy (SOCKS is not supported)",
                shown(&proxy_uri)
            )
            .into());
        }
        if https {
            // CONNECT host:port, then TLS to the destination inside the tunnel.
            let mut tunnel = Tunnel::new(proxy_uri, self.direct());
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            let tunnelled = tunnel.call(dst.clone()).await?;
            let io: Box<dyn Io> = Box::new(TokioIo::new(tunnelled));
            self.handshake(io, &dst).await
        } else {
            // Plain http: the request itself goes to the proxy, in absolute form.
            let mut conn = self.direct().call(proxy_uri).await?;
            conn.proxied = true;
            Ok(conn)
        }
    }

    async fn handshake(&self, io: Box<dyn Io>, dst: &Uri) -> Result<Conn, BoxError> {
        let host = dst.host().unwrap_or_default();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host} is not a TLS server name: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(self.trust.config(self.protocol))
            .connect(name, io)
            .await?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        if self.protocol == Protocol::Http2 && !h2 {
            self.http1_hosts.insert(dst);
            return Err(NotHttp2.into());
        }
        Ok(Conn::new(Box::new(tls), false, h2))
    }
}

/// A URI as an error may show it: scheme and authority without user information.
fn shown(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    match (uri.scheme_str(), uri.port_u16()) {
        (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
        (Some(scheme), None) => format!("{scheme}://{host}"),
        (None, _) => host.to_owned(),
    }
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let timeout = self.timeout;
        let connecting = self.clone().connect(dst);
        Box::pin(async move {
            tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
        })
    }
}

/// A byte stream: TCP, TLS over TCP, TLS over a proxy's tunnel.
pub(super) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// One connection, as hyper reads and writes it.
pub(super) struct Conn {
    io: TokioIo<Box<dyn Io>>,
    /// Requests on it go to an HTTP proxy (absolute-form request targets).
    proxied: bool,
    /// TLS negotiated `h2`: hyper speaks HTTP/2 on it.
    h2: bool,
}

impl Conn {
    fn new(io: Box<dyn Io>, proxied: bool, h2: bool) -> Self {
        Self {
            io: TokioIo::new(io),
            proxied,
            h2,
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("proxied", &self.proxied)
            .field("h2", &self.h2)
            .finish_non_exhaustive()
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let connected = Connected::new().proxy(self.proxied);
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_A_CERTIFICATE: &[u8] =
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn the_roots_are_put_together_at_the_first_certificate_not_with_the_client() {
        let trust = Trust::new(None).unwrap();
        assert!(!trust.roots_built(), "no store built with the client");
        assert_eq!(
            trust.config(Protocol::Http2).alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(
            trust.config(Protocol::Http1).alpn_protocols,
            [b"http/1.1".to_vec()]
        );
        // A certificate no root signed is refused, after the roots are built.
        use rustls::client::danger::ServerCertVerifier as _;
        let refused = trust.verifier.verify_server_cert(
            &CertificateDer::from(vec![0x30, 0x00]),
            &[],
            &ServerName::try_from("example.com").unwrap(),
            &[],
            rustls::pki_types::UnixTime::now(),
        );
        assert!(refused.is_err());
        assert!(trust.roots_built());
    }

    #[test]
    fn a_bad_bundle_is_an_error_of_the_setup() {
        let error = Trust::new(Some(NOT_A_CERTIFICATE)).err().unwrap();
        assert!(error.to_string().contains("CA bundle"), "{error}");
        let error = Trust::new(Some(b"no pem here")).err().unwrap();
        assert!(error.to_string().contains("BEGIN CERTIFICATE"), "{error}");
    }
}
