//! The one HTTP transport below every Azure service: identity sources (and,
//! through the SDK transport, the Azure SDK's credentials), Key Vault and
//! Resource Manager. Retries with jittered exponential backoff on the
//! statuses a caller names, honouring `Retry-After`; a timeout per attempt and
//! a deadline over all of them; extra CA certificates; `*.localhost` resolved
//! to loopback (RFC 6761); managed identity endpoints never through a proxy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};

mod address;
#[cfg(test)]
mod against_servers;
mod connect;
mod date;
mod error;
pub(crate) mod trace;

pub(crate) use address::Address;
pub(crate) use error::{HttpError, TransportError};
pub(crate) use trace::Trace;

use connect::{Connector, Http1Hosts, NotHttp2, Protocol};
use trace::without_query;

/// How often and how long to retry.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; it doubles each time.
    pub base_delay: Duration,
    /// The longest backoff (a longer `Retry-After` is honoured up to the deadline).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// Settings of [`Http`].
#[derive(Debug, Clone)]
pub(crate) struct HttpOptions {
    /// Extra CA certificates to trust (PEM), besides the platform's.
    pub ca_pem: Option<Vec<u8>>,
    /// Time allowed for one attempt.
    pub request_timeout: Duration,
    /// Time allowed for one request with all its retries.
    pub deadline: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// The `debug` trace.
    pub trace: Trace,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            ca_pem: None,
            request_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            trace: Trace::off(),
        }
    }
}

/// `DSOPS_TIMEOUT`: how long resolving may wait on one request with its
/// retries (default 60 s). `DSOPS_REQUEST_TIMEOUT`: how long one attempt
/// may take (default 15 s). Durations as in dsops.yaml (`10s`, `500ms`).
pub(crate) const TIMEOUT_VARIABLES: [&str; 2] = ["DSOPS_TIMEOUT", "DSOPS_REQUEST_TIMEOUT"];

impl HttpOptions {
    /// The HTTP settings of a store: its `cloud.ca_bundle` (relative to the
    /// configuration file's directory `config_dir`) and its `debug` trace.
    pub(crate) fn for_store(
        store: &dsops_config::model::Store,
        config_dir: &std::path::Path,
    ) -> Result<Self, HttpError> {
        let ca_pem = match &store.cloud.ca_bundle {
            Some(path) => {
                let path = config_dir.join(path);
                Some(std::fs::read(&path).map_err(|source| HttpError::CaBundle {
                    path: path.display().to_string(),
                    source,
                })?)
            }
            None => None,
        };
        let debug = store.debug;
        Ok(HttpOptions {
            ca_pem,
            trace: if debug.enabled {
                Trace::stderr(debug.log_requests, debug.trace_identity)
            } else {
                Trace::off()
            },
            ..HttpOptions::default()
        })
    }

    /// Sets the deadline and attempt timeout from [`TIMEOUT_VARIABLES`] in
    /// `env`, when set; an unreadable value is an error naming it.
    pub(crate) fn apply_timeouts(
        &mut self,
        env: &dyn dsops_config::Environment,
    ) -> Result<(), HttpError> {
        for name in TIMEOUT_VARIABLES {
            let Some(text) = env.var(name).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let duration = dsops_config::duration::parse_duration(text.trim())
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| HttpError::BadTimeout {
                    name,
                    value: text.clone(),
                })?;
            match name {
                "DSOPS_TIMEOUT" => self.deadline = duration,
                _ => self.request_timeout = duration,
            }
        }
        Ok(())
    }
}

/// Which client a request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Entra ID, Key Vault, ARM: proxies from the environment apply.
    Remote,
    /// Managed identity endpoints on the host or link-local: never a proxy.
    Local,
}

/// A request to send.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
}

impl Outgoing {
    pub(crate) fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    pub(crate) fn post_form(url: impl Into<String>, form: &[(&str, &str)]) -> Self {
        let body = form_body(form);
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        Self {
            method: Method::POST,
            url: url.into(),
            headers,
            body: Some(Bytes::from(body)),
        }
    }

    /// Adds a header; `sensitive` ones are never shown by `HeaderMap`'s `Debug`.
    pub(crate) fn header(mut self, name: &'static str, value: &str, sensitive: bool) -> Self {
        if let Ok(mut v) = HeaderValue::from_str(value) {
            v.set_sensitive(sensitive);
            self.headers.insert(HeaderName::from_static(name), v);
        }
        self
    }
}

/// `application/x-www-form-urlencoded`.
pub(crate) fn form_body(form: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded_serializer();
    for (k, v) in form {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

fn form_urlencoded_serializer() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::new())
}

/// A response, read whole. Its body (tokens, secret values) is
/// overwritten with zeros when dropped, where no other handle shares it.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Drop for Incoming {
    fn drop(&mut self) {
        use secrecy::zeroize::Zeroize;
        // `Bytes` from the HTTP client is usually the only handle on its
        // buffer; when it is shared, the other owner decides.
        if let Ok(mut unique) = std::mem::take(&mut self.body).try_into_mut() {
            unique.as_mut().zeroize();
        }
    }
}

/// When to retry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryOn {
    /// Statuses worth another attempt.
    pub(crate) statuses: &'static [u16],
    /// Retry when the connection fails or times out.
    pub(crate) transport_errors: bool,
    /// A shorter time for each attempt (the IMDS probe).
    pub(crate) attempt_timeout: Option<Duration>,
    /// Retries allowed (overrides the policy when set; 0 for a probe).
    pub(crate) max_retries: Option<u32>,
}

impl RetryOn {
    /// Entra ID, Key Vault, ARM: throttling and server errors.
    pub(crate) const SERVICE: RetryOn = RetryOn {
        statuses: &[408, 429, 500, 502, 503, 504],
        transport_errors: true,
        attempt_timeout: None,
        max_retries: None,
    };
    /// IMDS: also 404 (identity not yet there) and 410 (IMDS updating).
    pub(crate) const IMDS: RetryOn = RetryOn {
        statuses: &[404, 408, 410, 429, 500, 502, 503, 504],
        transport_errors: true,
        attempt_timeout: None,
        max_retries: None,
    };
}

/// The HTTP clients and their settings; clones share them, and their
/// pools of kept-alive connections.
#[derive(Clone)]
pub(crate) struct Http {
    clients: Arc<Clients>,
    options: Arc<HttpOptions>,
    /// `429 Too Many Requests` answers received, retried or not.
    throttled: Arc<std::sync::atomic::AtomicU64>,
}

/// Each route has two clients: HTTP/2 (ALPN `h2`: every request to a host
/// multiplexed over one connection) for `https`, and HTTP/1.1 for plain
/// `http` and for the hosts whose TLS handshake did not choose `h2`.
struct Clients {
    /// Entra ID, Key Vault, ARM: through the proxy the environment names.
    remote: Pair,
    remote_connector: Connector,
    /// Managed identity endpoints and loopback: never a proxy.
    local: Pair,
    /// Origins that answered the `h2` offer with HTTP/1.1.
    http1_hosts: Http1Hosts,
}

/// The two clients of a route.
struct Pair {
    http2: Client,
    http1: Client,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("remote", &self.clients.remote_connector)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// hyper-util's pooling client over [`Connector`], request bodies whole.
type Client = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("dsops/", env!("CARGO_PKG_VERSION"));

/// Redirects followed within one attempt.
const REDIRECT_LIMIT: usize = 10;

impl Http {
    /// Builds the clients; the remote one takes its proxy from the
    /// environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`,
    /// and their lowercase forms), as curl reads them.
    pub(crate) fn new(options: HttpOptions) -> Result<Self, HttpError> {
        Self::with_proxy(options, Matcher::from_env())
    }

    /// Builds the clients, the remote one with the proxies of `proxy`.
    fn with_proxy(options: HttpOptions, proxy: Matcher) -> Result<Self, HttpError> {
        let trust = connect::Trust::new(options.ca_pem.as_deref())?;
        let connect_timeout = options.request_timeout.min(Duration::from_secs(10));
        let http1_hosts = Http1Hosts::default();
        let proxy = Some(Arc::new(proxy));
        let connector = |protocol: Protocol, proxy: Option<Arc<Matcher>>| {
            Connector::new(
                trust.clone(),
                protocol,
                http1_hosts.clone(),
                connect_timeout,
                proxy,
            )
        };
        let client = |connector: Connector, protocol: Protocol| {
            let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
            builder
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(Duration::from_secs(90))
                .pool_max_idle_per_host(usize::MAX);
            if protocol == Protocol::Http2 {
                // One connection per host, opened once: concurrent requests
                // wait for it rather than each opening their own.
                builder.http2_only(true).timer(TokioTimer::new());
            }
            builder.build(connector)
        };
        let remote_connector = connector(Protocol::Http1, proxy.clone());
        let remote = Pair {
            http2: client(connector(Protocol::Http2, proxy), Protocol::Http2),
            http1: client(remote_connector.clone(), Protocol::Http1),
        };
        let local = Pair {
            http2: client(connector(Protocol::Http2, None), Protocol::Http2),
            http1: client(connector(Protocol::Http1, None), Protocol::Http1),
        };
        Ok(Self {
            clients: Arc::new(Clients {
                remote,
                remote_connector,
                local,
                http1_hosts,
            }),
            options: Arc::new(options),
            throttled: Arc::default(),
        })
    }

    /// How many `429 Too Many Requests` answers this client (and its
    /// clones) received: what the engine's concurrency window learns from.
    pub(crate) fn throttled(&self) -> u64 {
        self.throttled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The trace.
    pub(crate) fn trace(&self) -> &Trace {
        &self.options.trace
    }

    /// The client a request to `address` takes, and its connector's proxy
    /// for it. Loopback never goes through a proxy, whatever HTTPS_PROXY says.
    fn client_for(&self, route: Route, address: &Address) -> (&Pair, Option<&Connector>) {
        match route {
            Route::Remote if !address.is_loopback() => {
                (&self.clients.remote, Some(&self.clients.remote_connector))
            }
            Route::Remote | Route::Local => (&self.clients.local, None),
        }
    }

    /// Sends `request`, retrying as `retry` says, until it gets a final answer
    /// (success or an error status not worth retrying, returned as is) or the
    /// deadline passes.
    pub(crate) async fn send(
        &self,
        route: Route,
        request: &Outgoing,
        retry: RetryOn,
    ) -> Result<Incoming, HttpError> {
        let started = Instant::now();
        let deadline = started + self.options.deadline;
        let policy = &self.options.retry;
        let max_retries = retry.max_retries.unwrap_or(policy.max_retries);
        let method: &'static str = method_name(&request.method);
        let endpoint = without_query(&request.url).to_owned();
        let mut attempt: u32 = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let timeout = retry
                .attempt_timeout
                .unwrap_or(self.options.request_timeout)
                .min(remaining);
            if timeout.is_zero() {
                return Err(HttpError::Timeout {
                    method,
                    endpoint,
                    after: started.elapsed(),
                });
            }
            let sent = Instant::now();
            let outcome = tokio::time::timeout(timeout, self.exchange(route, request)).await;
            let elapsed = sent.elapsed().as_millis();
            let last = attempt >= max_retries;
            match outcome {
                Ok(Ok(incoming)) => {
                    if incoming.status == StatusCode::TOO_MANY_REQUESTS {
                        self.throttled
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    self.options.trace.request(
                        method,
                        &request.url,
                        incoming.status.as_str(),
                        elapsed,
                    );
                    let retryable = retry.statuses.contains(&incoming.status.as_u16());
                    if !retryable || last {
                        return Ok(incoming);
                    }
                    let wait =
                        retry_after(&incoming.headers).unwrap_or_else(|| backoff(policy, attempt));
                    if Instant::now() + wait >= deadline {
                        return Ok(incoming);
                    }
                    tokio::time::sleep(wait).await;
                }
                Ok(Err(error)) => {
                    self.options.trace.request(
                        method,
                        &request.url,
                        &format!("error: {}", short(&error)),
                        elapsed,
                    );
                    if !retry.transport_errors || last || is_permanent(&error) {
                        return Err(HttpError::Transport {
                            method,
                            endpoint,
                            source: error,
                        });
                    }
                    let wait = backoff(policy, attempt)
                        .min(deadline.saturating_duration_since(Instant::now()));
                    tokio::time::sleep(wait).await;
                }
                Err(_) => {
                    self.options
                        .trace
                        .request(method, &request.url, "timeout", elapsed);
                    if !retry.transport_errors || last {
                        return Err(HttpError::Timeout {
                            method,
                            endpoint,
                            after: sent.elapsed(),
                        });
                    }
                }
            }
            attempt += 1;
        }
    }

    /// One attempt: the request, the redirects it meets (up to
    /// [`REDIRECT_LIMIT`]), the final answer read whole.
    async fn exchange(&self, route: Route, request: &Outgoing) -> Result<Incoming, TransportError> {
        let mut address = Address::parse(&request.url)
            .ok_or_else(|| TransportError::Request("the URL does not parse".to_owned()))?;
        let mut method = request.method.clone();
        let mut headers = request.headers.clone();
        let mut body = request.body.clone();
        let mut redirects = 0;
        loop {
            let response = self
                .head(route, &method, &address, &headers, body.clone())
                .await?;
            let next = redirect_target(response.status(), response.headers(), &address);
            let Some(next) = next else {
                let (parts, incoming) = response.into_parts();
                let body = incoming
                    .collect()
                    .await
                    .map_err(TransportError::Body)?
                    .to_bytes();
                return Ok(Incoming {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                });
            };
            redirects += 1;
            if redirects > REDIRECT_LIMIT {
                return Err(TransportError::Request(format!(
                    "more than {REDIRECT_LIMIT} redirects"
                )));
            }
            let status = response.status().as_u16();
            // 301 and 302 turn a POST into a GET, 303 anything but HEAD
            // (what browsers, curl and reqwest do); 307 and 308 keep both.
            if (matches!(status, 301 | 302) && method == Method::POST)
                || (status == 303 && method != Method::HEAD)
            {
                method = Method::GET;
                body = None;
                headers.remove(http::header::CONTENT_TYPE);
                headers.remove(http::header::CONTENT_LENGTH);
            }
            // Credentials stay with the origin they were meant for.
            if !next.same_origin(&address) {
                for name in [
                    http::header::AUTHORIZATION,
                    http::header::COOKIE,
                    http::header::PROXY_AUTHORIZATION,
                    http::header::WWW_AUTHENTICATE,
                ] {
                    headers.remove(name);
                }
            }
            address = next;
        }
    }

    /// Sends one request to `address` and waits for the answer's head.
    async fn head(
        &self,
        route: Route,
        method: &Method,
        address: &Address,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, TransportError> {
        let (clients, connector) = self.client_for(route, address);
        let mut headers = headers.clone();
        headers
            .entry(http::header::ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        headers
            .entry(http::header::USER_AGENT)
            .or_insert(HeaderValue::from_static(USER_AGENT));
        // Plain http through a proxy: the proxy reads the request itself, and
        // its credentials with it (https carries them in the CONNECT instead).
        if address.scheme() == "http"
            && let Some(auth) = connector
                .and_then(|c| c.proxy_for(address.uri()))
                .and_then(|proxy| proxy.basic_auth().cloned())
        {
            headers
                .entry(http::header::PROXY_AUTHORIZATION)
                .or_insert(auth);
        }
        let body = body.unwrap_or_default();
        let request = |headers: HeaderMap| {
            let mut request = hyper::Request::new(Full::new(body.clone()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = address.uri().clone();
            *request.headers_mut() = headers;
            request
        };
        // HTTP/2 first over TLS, unless the host is known to choose HTTP/1.1.
        // When it chooses HTTP/1.1 now, the request has not been sent: the
        // connector says so, or (for requests that were waiting for that
        // connection) the pool gives up before any connection was had.
        if address.scheme() == "https" && !self.clients.http1_hosts.contains(address.uri()) {
            match clients.http2.request(request(headers.clone())).await {
                Err(error)
                    if is_not_http2(&error)
                        || (error.is_connect()
                            && self.clients.http1_hosts.contains(address.uri())) => {}
                answer => return Ok(answer?),
            }
        }
        Ok(clients.http1.request(request(headers)).await?)
    }
}

/// Whether the HTTP/2 client gave up because the host chose HTTP/1.1.
fn is_not_http2(error: &hyper_util::client::legacy::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<NotHttp2>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Where a redirect answer points, if it is one worth following: 301, 302,
/// 303, 307 or 308 with a `Location` that resolves to an http(s) URL.
/// Anything else is the final answer, returned as is.
fn redirect_target(status: StatusCode, headers: &HeaderMap, from: &Address) -> Option<Address> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(http::header::LOCATION)?.to_str().ok()?;
    from.join(location)
        .filter(|next| matches!(next.scheme(), "http" | "https"))
}

/// Why nothing answered a [`Http::probe_head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeFailure {
    /// No connection: refused, unreachable, no route.
    Connect,
    /// No answer's head within the time allowed.
    Timeout,
}

impl Http {
    /// Whether anything answers `url` (a plain `GET`, not retried, never
    /// through a proxy) within `timeout`: the status of the answer's head.
    /// The body is not read, so an answer whose body breaks or never ends
    /// still counts; a connection accepted and then reset counts too
    /// (something listens there).
    pub(crate) async fn probe_head(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<Option<StatusCode>, ProbeFailure> {
        let sent = Instant::now();
        let answer = tokio::time::timeout(timeout, async {
            let address = Address::parse(url)
                .ok_or_else(|| TransportError::Request("the URL does not parse".to_owned()))?;
            self.head(
                Route::Local,
                &Method::GET,
                &address,
                &HeaderMap::new(),
                None,
            )
            .await
        })
        .await;
        let elapsed = sent.elapsed().as_millis();
        match answer {
            Ok(Ok(response)) => {
                let status = response.status();
                self.options
                    .trace
                    .request("GET", url, status.as_str(), elapsed);
                Ok(Some(status))
            }
            Ok(Err(error)) if error.is_connect() => {
                self.options
                    .trace
                    .request("GET", url, "error: no connection", elapsed);
                Err(ProbeFailure::Connect)
            }
            Ok(Err(error)) => {
                self.options.trace.request(
                    "GET",
                    url,
                    &format!("error: {}", short(&error)),
                    elapsed,
                );
                Ok(None)
            }
            Err(_) => {
                self.options.trace.request("GET", url, "timeout", elapsed);
                Err(ProbeFailure::Timeout)
            }
        }
    }
}

/// Whether a URL's host is loopback: `localhost`, `*.localhost`, 127/8, `::1`.
#[cfg(test)]
fn is_loopback_url(url: &str) -> bool {
    Address::parse(url).is_some_and(|a| a.is_loopback())
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::PATCH => "PATCH",
        _ => "request",
    }
}

/// The kind of a transport error, without its URL (which may hold a query).
fn short(error: &TransportError) -> &'static str {
    if error.is_connect() {
        "connection failed"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_body() {
        "body incomplete"
    } else {
        "request failed"
    }
}

/// A failure another attempt cannot fix: a certificate the client does not
/// trust, a name that does not resolve, a URL that cannot be requested.
/// Refused connections and resets are worth retrying; these only cost the
/// user the backoff.
fn is_permanent(error: &TransportError) -> bool {
    if matches!(error, TransportError::Request(_)) {
        return true;
    }
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("certificate")
            || text.contains("dns error")
            || text.contains("failed to lookup address")
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// How long a throttled or unavailable service asks to be left alone:
/// Azure's `retry-after-ms` / `x-ms-retry-after-ms`, or `Retry-After` in
/// seconds or as an HTTP date (RFC 9110; a date already past is no wait).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = text(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = date::parse_http_date(value)?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Exponential backoff with ±20% jitter.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exponential = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(attempt.min(16)));
    let capped = exponential.min(policy.max_delay);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // 0.8 to 1.2, from the clock's low bits: enough to spread clients apart.
    let factor = 0.8 + f64::from(nanos % 401) / 1000.0;
    capped.mul_f64(factor)
}

/// Requests to the services themselves (Key Vault, ARM), for code outside
/// `identity` (`crate::azure::keyvault`).
impl Http {
    /// `GET url` with `token` as the bearer, through the client that honours
    /// proxies, retried as [`RetryOn::SERVICE`] says. Any final status is
    /// returned as is.
    pub(crate) async fn get_with_bearer(
        &self,
        url: &str,
        token: &secrecy::SecretString,
    ) -> Result<Incoming, HttpError> {
        let request = bearer_request(Method::GET, url, token)?;
        self.send(Route::Remote, &request, RetryOn::SERVICE).await
    }

    /// `POST url` with an empty body and `Authorization: Bearer <token>`
    /// (ARM actions such as `listKeys`), retried as services are.
    pub(crate) async fn post_with_bearer(
        &self,
        url: &str,
        token: &secrecy::SecretString,
    ) -> Result<Incoming, HttpError> {
        let request = bearer_request(Method::POST, url, token)?;
        self.send(Route::Remote, &request, RetryOn::SERVICE).await
    }
}

/// A request to `url` carrying `token` as its bearer (sensitive, so no
/// `Debug` shows it), once `url` passes [`check_bearer_url`]. A `POST` has
/// an empty body.
pub(crate) fn bearer_request(
    method: Method,
    url: &str,
    token: &secrecy::SecretString,
) -> Result<Outgoing, HttpError> {
    check_bearer_url(url)?;
    let bearer = secrecy::zeroize::Zeroizing::new(format!(
        "Bearer {}",
        secrecy::ExposeSecret::expose_secret(token)
    ));
    let mut request = Outgoing::get(url).header("authorization", &bearer, true);
    if method == Method::POST {
        request.body = Some(Bytes::new());
    }
    request.method = method;
    Ok(request)
}

/// Where a bearer token may go: `https`, or plain `http` to a loopback
/// host (the emulator, a local proxy the user configured); never a URL
/// with user information, whose `host@` part would hide the real host.
/// Checked on the parsed URL, the way the HTTP client will read it.
pub(crate) fn check_bearer_url(url: &str) -> Result<(), HttpError> {
    let Some(parsed) = Address::parse(url) else {
        return Err(HttpError::Refused {
            endpoint: "a URL that does not parse".to_owned(),
            reason: "it is not a valid URL".to_owned(),
        });
    };
    // The endpoint as shown: no user information (it may hold a
    // password), no query.
    let refused = |reason: &str| HttpError::Refused {
        endpoint: parsed.shown(),
        reason: reason.to_owned(),
    };
    if parsed.has_userinfo() {
        return Err(refused("the URL has user information (`user@host`)"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if parsed.is_loopback() => Ok(()),
        "http" => Err(refused(
            "plain http to a host that is not loopback: tokens travel only over TLS",
        )),
        _ => Err(refused("only https URLs may carry a token")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_go_only_over_tls_or_to_loopback() {
        for url in [
            "https://v.vault.azure.net/secrets/a",
            "https://management.azure.com/subscriptions",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://v.vault.localhost:9/x",
        ] {
            assert!(check_bearer_url(url).is_ok(), "{url}");
        }
        for url in [
            "http://v.vault.azure.net/secrets/a",
            "http://10.0.0.1/x",
            "http://localhost.evil.com/x",
            "https://management.azure.com@evil.com/x",
            "http://127.0.0.1:80@evil.com/x",
            "https://user:pw@v.vault.azure.net/",
            "ftp://v.vault.azure.net/",
            "not a url",
        ] {
            let error = check_bearer_url(url).expect_err(url).to_string();
            assert!(error.starts_with("refusing to send a token to"), "{error}");
            assert!(!error.contains("pw"), "{error}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        let first = backoff(&policy, 0);
        assert!(
            first >= Duration::from_millis(200) && first <= Duration::from_millis(300),
            "{first:?}"
        );
        let late = backoff(&policy, 30);
        assert!(late <= Duration::from_millis(9_600), "{late:?}");
    }

    #[test]
    fn loopback_urls() {
        for url in [
            "http://127.0.0.1:80/x",
            "https://v.vault.localhost:8443/",
            "http://[::1]:9/",
            "http://localhost",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://vault.azure.net/",
            "http://169.254.169.254/x",
            "https://localhost.evil.com/",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn retry_after_in_seconds_or_milliseconds() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("x-ms-retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(150)));
    }
}
