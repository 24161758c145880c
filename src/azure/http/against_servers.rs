//! The transport against loopback servers of its own: a CONNECT proxy that
//! records what it is asked, the emulator behind it; `*.localhost`; CA
//! bundles; `Retry-After` as a date.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::connect::{LocalhostResolver, is_localhost_name};
use super::*;
use crate::azure::testing::emulator;
use dsops_emulator::StateFile;

/// Answers only as a test needs it.
const ONCE: RetryOn = RetryOn {
    statuses: &[],
    transport_errors: false,
    attempt_timeout: Some(Duration::from_secs(10)),
    max_retries: Some(0),
};

/// A proxy on loopback: it records each request's head; a `CONNECT` it
/// tunnels to `target` whatever host it names (so that a remote name
/// reaches the emulator); any other request it answers `200 proxied`.
struct Proxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let head = read_head(&mut client).await;
                    seen.lock().unwrap().push(head.clone());
                    if head.starts_with("CONNECT ") {
                        let mut upstream = TcpStream::connect(target).await.unwrap();
                        client
                            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                            .await
                            .unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    } else {
                        let _ = client
                            .write_all(
                                b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nproxied",
                            )
                            .await;
                    }
                });
            }
        });
        Self { port, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// An `Http` trusting the emulator, with `HTTPS_PROXY` and `HTTP_PROXY` as
/// `proxy` (a password with a space in it, percent-encoded) and `NO_PROXY`
/// as `no_proxy`.
fn proxied_http(emulator: &dsops_emulator::Emulator, proxy: &Proxy, no_proxy: &str) -> Http {
    let matcher = Matcher::builder()
        .all(format!("http://dsops:se%20cret@127.0.0.1:{}", proxy.port))
        .no(no_proxy)
        .build();
    Http::with_proxy(
        HttpOptions {
            ca_pem: Some(emulator.ca_pem().as_bytes().to_vec()),
            ..HttpOptions::default()
        },
        matcher,
    )
    .unwrap()
}

/// Whether `head` carries `dsops:se cret` as the proxy's basic credentials.
fn has_proxy_auth(head: &str) -> bool {
    head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("proxy-authorization")
                && value.trim() == "Basic ZHNvcHM6c2UgY3JldA=="
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn https_to_a_remote_host_goes_through_a_connect_tunnel_with_the_proxys_credentials() {
    let emulator = emulator(StateFile::default()).await;
    let proxy = Proxy::start(emulator.https_addr()).await;
    let http = proxied_http(&emulator, &proxy, "");

    // The emulator's certificate names management.azure.com: TLS inside
    // the tunnel checks the real name.
    let request =
        Outgoing::get("https://management.azure.com/subscriptions?api-version=2022-12-01");
    let answer = http.send(Route::Remote, &request, ONCE).await.unwrap();
    assert_eq!(answer.status.as_u16(), 401, "the emulator answered");

    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let head = heads.first().unwrap();
    assert!(
        head.starts_with("CONNECT management.azure.com:443 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(has_proxy_auth(head), "{head}");
    // The request itself travelled inside TLS: no path, no query here.
    assert!(!head.contains("subscriptions"), "{head}");

    // Neither the proxy's password nor its user shows in Debug.
    let debug = format!("{http:?}");
    assert!(
        !debug.contains("cret") && !debug.contains("dsops:"),
        "{debug}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_a_remote_host_is_sent_to_the_proxy_in_absolute_form() {
    let emulator = emulator(StateFile::default()).await;
    let proxy = Proxy::start(emulator.https_addr()).await;
    let http = proxied_http(&emulator, &proxy, "");

    let request = Outgoing::post_form("http://login.example.test/tenant/token", &[("a", "b")]);
    let answer = http.send(Route::Remote, &request, ONCE).await.unwrap();
    assert_eq!(answer.status.as_u16(), 200);
    assert_eq!(&answer.body[..], b"proxied");

    let heads = proxy.heads();
    let head = heads.first().unwrap();
    assert!(
        head.starts_with("POST http://login.example.test/tenant/token HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(has_proxy_auth(head), "{head}");
    assert!(head.contains("host: login.example.test\r\n"), "{head}");
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_no_proxy_and_managed_identity_endpoints_bypass_the_proxy() {
    let emulator = emulator(StateFile::default()).await;
    let proxy = Proxy::start(emulator.https_addr()).await;
    let http = proxied_http(&emulator, &proxy, "vault.azure.net");

    // Loopback on the remote route: straight to the emulator.
    for url in [
        format!(
            "{}/subscriptions?api-version=2022-12-01",
            emulator.https_url()
        ),
        format!(
            "{}/secrets/x/?api-version=7.5",
            emulator.vault_url("dev-vault")
        ),
    ] {
        let answer = http
            .send(Route::Remote, &Outgoing::get(url.clone()), ONCE)
            .await
            .unwrap();
        assert!(answer.status.is_client_error(), "{url}: {}", answer.status);
    }
    assert_eq!(proxy.heads(), Vec::<String>::new());

    // Which connector a request would take (these hosts are not contacted).
    let proxy_of = |route: Route, url: &str| {
        let address = Address::parse(url).unwrap();
        http.client_for(route, &address)
            .1
            .and_then(|c| c.proxy_for(address.uri()))
            .map(|p| p.uri().to_string())
    };
    let expected = Some(format!("http://127.0.0.1:{}/", proxy.port));
    assert_eq!(
        proxy_of(Route::Remote, "https://login.microsoftonline.com/t"),
        expected
    );
    assert_eq!(
        proxy_of(Route::Remote, "https://v.vault.azure.net/secrets/x"),
        None
    );
    assert_eq!(
        proxy_of(Route::Local, "http://169.254.169.254/metadata/identity"),
        None
    );
    assert_eq!(
        proxy_of(Route::Local, "https://login.microsoftonline.com/t"),
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socks_proxy_is_refused_with_a_reason() {
    let matcher = Matcher::builder().all("socks5://127.0.0.1:9").build();
    let http = Http::with_proxy(HttpOptions::default(), matcher).unwrap();
    let error = http
        .send(
            Route::Remote,
            &Outgoing::get("https://login.example.test/"),
            ONCE,
        )
        .await
        .unwrap_err();
    let text = crate::azure::identity::chain_text(&error);
    assert!(
        text.starts_with("GET https://login.example.test/ failed"),
        "{text}"
    );
    assert!(text.contains("SOCKS is not supported"), "{text}");
}

#[tokio::test]
async fn localhost_and_its_subdomains_resolve_to_loopback_without_dns() {
    for name in ["localhost", "Dev-Vault.Vault.Localhost", "imds.localhost."] {
        assert!(is_localhost_name(name), "{name}");
        let addrs = LocalhostResolver::resolve(name).await.unwrap();
        assert!(!addrs.is_empty(), "{name}");
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback()),
            "{name}: {addrs:?}"
        );
    }
    for name in ["localhost.evil.com", "notlocalhost", "localhost-x"] {
        assert!(!is_localhost_name(name), "{name}");
    }
}

#[test]
fn a_ca_bundle_must_be_pem_certificates() {
    let setup = |pem: &[u8]| {
        Http::new(HttpOptions {
            ca_pem: Some(pem.to_vec()),
            ..HttpOptions::default()
        })
        .map(drop)
        .map_err(|e| e.to_string())
    };
    for bundle in [
        &b"not a certificate"[..],
        &[0x30, 0x82, 0x01, 0x0a, 0x02, 0x82][..],
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n",
    ] {
        let error = setup(bundle).unwrap_err();
        assert!(
            error.starts_with("the CA bundle is not PEM certificates: "),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_pem_bundle_is_merged_with_the_platforms_roots() {
    let emulator = emulator(StateFile::default()).await;
    let mut bundle = b"# a comment before the certificate\n".to_vec();
    bundle.extend_from_slice(emulator.ca_pem().as_bytes());
    let http = Http::new(HttpOptions {
        ca_pem: Some(bundle),
        ..HttpOptions::default()
    })
    .unwrap();
    let answer = http
        .send(
            Route::Remote,
            &Outgoing::get(format!("{}/subscriptions", emulator.https_url())),
            ONCE,
        )
        .await
        .unwrap();
    assert!(answer.status.is_client_error(), "{}", answer.status);
    // Without the bundle the emulator's certificate is not trusted, and
    // that is not worth another attempt.
    let error = Http::new(HttpOptions::default())
        .unwrap()
        .send(
            Route::Remote,
            &Outgoing::get(format!("{}/subscriptions", emulator.https_url())),
            RetryOn::SERVICE,
        )
        .await
        .unwrap_err();
    let text = crate::azure::identity::chain_text(&error);
    assert!(text.contains("invalid peer certificate"), "{text}");
    assert_eq!(
        emulator.log().entries().len(),
        1,
        "only the first request reached the emulator; the refused one was not retried"
    );
}

#[test]
fn retry_after_as_an_http_date() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "retry-after",
        HeaderValue::from_static("Fri, 01 Jan 2100 00:00:00 GMT"),
    );
    let wait = retry_after(&headers).unwrap();
    assert!(wait > Duration::from_secs(70 * 365 * 86_400), "{wait:?}");
    // A date already past: no wait.
    headers.insert(
        "retry-after",
        HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    headers.insert("retry-after", HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&headers), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_connect_timeout_covers_a_tls_handshake_that_never_ends() {
    // Accepts the connection and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let http = Http::new(HttpOptions {
        request_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let error = http
        .send(
            Route::Local,
            &Outgoing::get(format!("https://127.0.0.1:{port}/")),
            ONCE,
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let HttpError::Transport { source, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(source.is_connect() && source.is_timeout(), "{source:?}");
    let text = crate::azure::identity::chain_text(&error);
    assert!(text.contains("connect timed out"), "{text}");
}

/// A plain HTTP server on loopback answering each request with `answer(port)`
/// (its own port), recording the heads.
async fn answering(
    answer: impl Fn(u16) -> String + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let answer = Arc::new(answer);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (seen, answer) = (seen.clone(), answer.clone());
            tokio::spawn(async move {
                loop {
                    let head = read_head(&mut stream).await;
                    if head.is_empty() {
                        break;
                    }
                    // Bodies here are forms of a few bytes: skip them.
                    if let Some(length) = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .and_then(|n| n.trim().parse::<usize>().ok())
                    {
                        let mut body = vec![0u8; length];
                        stream.read_exact(&mut body).await.unwrap();
                    }
                    seen.lock().unwrap().push(head);
                    if stream.write_all(answer(port).as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, heads)
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_without_credentials_to_another_origin() {
    let (target, target_heads) =
        answering(|_| "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone".to_owned()).await;
    let (first, first_heads) = answering(move |_| {
        format!(
            "HTTP/1.1 303 See Other\r\nlocation: http://127.0.0.1:{target}/next?x=1\r\ncontent-length: 0\r\n\r\n"
        )
    })
    .await;
    let http = Http::new(HttpOptions::default()).unwrap();
    let request = Outgoing::post_form(format!("http://127.0.0.1:{first}/token"), &[("a", "b")])
        .header("authorization", "Bearer not-for-you", true);
    let answer = http.send(Route::Local, &request, ONCE).await.unwrap();
    assert_eq!(answer.status.as_u16(), 200);
    assert_eq!(&answer.body[..], b"done");
    let first_head = first_heads.lock().unwrap().first().unwrap().clone();
    assert!(
        first_head.starts_with("POST /token HTTP/1.1\r\n"),
        "{first_head}"
    );
    assert!(
        first_head.contains("authorization: Bearer not-for-you"),
        "{first_head}"
    );
    // 303: a GET without the form; another port: another origin.
    let next_head = target_heads.lock().unwrap().first().unwrap().clone();
    assert!(
        next_head.starts_with("GET /next?x=1 HTTP/1.1\r\n"),
        "{next_head}"
    );
    assert!(!next_head.contains("authorization"), "{next_head}");
    assert!(!next_head.contains("content-type"), "{next_head}");

    // A redirect to itself, again and again: an error after ten.
    let (looping, looping_heads) = answering(|port| {
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{port}/again\r\ncontent-length: 0\r\n\r\n")
    })
    .await;
    let error = http
        .send(
            Route::Local,
            &Outgoing::get(format!("http://127.0.0.1:{looping}/")),
            RetryOn::SERVICE,
        )
        .await
        .unwrap_err();
    let text = crate::azure::identity::chain_text(&error);
    assert!(text.ends_with("failed: more than 10 redirects"), "{text}");
    assert_eq!(looping_heads.lock().unwrap().len(), 11, "not retried");
}

/// A TCP relay on loopback in front of `target` that counts the
/// connections it accepts: how many connections a client opened.
async fn counting_relay(target: std::net::SocketAddr) -> (u16, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            *count.lock().unwrap() += 1;
            tokio::spawn(async move {
                let mut upstream = TcpStream::connect(target).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (port, accepted)
}

/// 64 requests at once to `https://localhost:PORT` through a counting
/// relay in front of an emulator (`http2`: whether it offers `h2`): the
/// connections the client opened, and the requests the emulator saw.
async fn concurrent_requests(http2: bool) -> (usize, usize, Http) {
    let emulator = dsops_emulator::Emulator::start(dsops_emulator::Options {
        http2,
        ..dsops_emulator::Options::default()
    })
    .await
    .unwrap();
    let (port, accepted) = counting_relay(emulator.https_addr()).await;
    let http = Http::new(HttpOptions {
        ca_pem: Some(emulator.ca_pem().as_bytes().to_vec()),
        ..HttpOptions::default()
    })
    .unwrap();
    let url = format!("https://localhost:{port}/subscriptions?api-version=2022-12-01");
    let sends = (0..64).map(|_| {
        let http = http.clone();
        let request = Outgoing::get(url.clone());
        tokio::spawn(async move { http.send(Route::Remote, &request, ONCE).await })
    });
    for sent in sends.collect::<Vec<_>>() {
        let answer = sent.await.unwrap().unwrap();
        assert_eq!(answer.status.as_u16(), 401, "the emulator answered");
    }
    let connections = *accepted.lock().unwrap();
    (connections, emulator.log().entries().len(), http)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_to_an_http2_host_shares_one_connection() {
    let (connections, requests, http) = concurrent_requests(true).await;
    assert_eq!(connections, 1, "one HTTP/2 connection for 64 requests");
    assert_eq!(requests, 64);
    assert!(
        http.clients.http1_hosts.origins().is_empty(),
        "no host fell back to HTTP/1.1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_answers_http1_is_asked_again_over_http1_once() {
    let (connections, requests, http) = concurrent_requests(false).await;
    // Each request sent once: the HTTP/2 attempt stops at the handshake.
    assert_eq!(requests, 64);
    // A connection per request in flight over HTTP/1.1, plus the one HTTP/2
    // handshake that learnt the host speaks HTTP/1.1: never one per request.
    assert!(
        (2..=65).contains(&connections),
        "HTTP/1.1: a connection per request in flight, after one HTTP/2 attempt: {connections}"
    );
    let hosts = http.clients.http1_hosts.origins();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert!(
        hosts.iter().all(|h| h.starts_with("https://localhost:")),
        "{hosts:?}"
    );
}
