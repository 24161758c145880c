//! The listeners: HTTPS (and optionally plain HTTP) on loopback, one task per
//! connection, faults applied around the services. Over TLS the client
//! chooses HTTP/2 or HTTP/1.1 by ALPN (RFC 7301), as Azure's front ends
//! offer both; plain HTTP (the managed identity endpoints) is HTTP/1.1 only,
//! as IMDS and App Service serve it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Channel, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::app::App;
use crate::faults::FaultSpec;
use crate::http::{Request, Response};
use crate::log::LogEntry;
use crate::services;

/// Largest request body read.
const MAX_BODY: usize = 4 << 20;
/// Time allowed for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type Body = BoxBody<Bytes, std::io::Error>;

/// The connection was dropped on purpose (a `drop` fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by a fault")]
struct Dropped;

/// Accepts connections until the task is aborted.
pub(crate) async fn accept_loop(app: Arc<App>, listener: TcpListener, tls: Option<TlsAcceptor>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors or similar: back off briefly.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                        if h2 {
                            serve_http2(app, TokioIo::new(stream)).await;
                        } else {
                            serve_connection(app, TokioIo::new(stream), "https").await;
                        }
                    }
                }
                None => serve_connection(app, TokioIo::new(stream), "http").await,
            }
        });
    }
}

async fn serve_connection<I>(app: Arc<App>, io: I, scheme: &'static str)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let app = app.clone();
        async move { handle(app, req, scheme).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service)
        .await;
}

/// HTTP/2 over TLS: every request on the connection a stream of its own,
/// served concurrently. A `drop` fault resets its stream (`RST_STREAM`),
/// the HTTP/2 form of a connection closed under one request.
async fn serve_http2<I>(app: Arc<App>, io: I)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let app = app.clone();
        async move { handle(app, req, "https").await }
    });
    let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(io, service)
        .await;
}

async fn handle(
    app: Arc<App>,
    req: hyper::Request<Incoming>,
    scheme: &'static str,
) -> Result<hyper::Response<Body>, Dropped> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let authority = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let response = Response::json(
                413,
                &serde_json::json!({"error": {"code": "RequestTooLarge", "message": "The request body is too large."}}),
            );
            return Ok(finish(response, None));
        }
    };
    let request = Request::new(
        parts.method.as_str(),
        scheme,
        &authority,
        &path_and_query,
        parts.headers,
        body,
    );
    let service = services::classify(&request);
    let fault = app
        .faults
        .take(service, &request.method, &request.host, &request.path);

    if let Some(ms) = fault.as_ref().and_then(|f| f.latency_ms) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let mut entry = LogEntry {
        seq: 0,
        service,
        method: request.method.clone(),
        host: request.host.clone(),
        path: request.path.clone(),
        identity: None,
        token_for: None,
        status: 0,
        fault: fault.as_ref().map(FaultSpec::describe),
        millis: 0,
    };
    if fault.as_ref().is_some_and(|f| f.drop) {
        entry.millis = elapsed_ms(started);
        app.log.push(entry);
        return Err(Dropped);
    }
    let response = match fault
        .as_ref()
        .and_then(|f| f.status.map(|s| (s, f.retry_after)))
    {
        Some((status, retry_after)) => fault_response(status, retry_after),
        None => services::handle(&app, &request),
    };
    entry.status = response.status;
    entry.identity = response.identity.clone();
    entry.token_for = response.token_for.clone();
    entry.millis = elapsed_ms(started);
    app.log.push(entry);
    Ok(finish(response, fault.as_ref()))
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn fault_response(status: u16, retry_after: Option<u64>) -> Response {
    let mut response = Response::json(
        status,
        &serde_json::json!({"error": {"code": "InjectedFault", "message": format!("The dsops emulator injected status {status}.")}}),
    );
    if let Some(seconds) = retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    response
}

/// Turns a response into hyper's, bending the body as the fault says.
fn finish(response: Response, fault: Option<&FaultSpec>) -> hyper::Response<Body> {
    let mut body = response.body;
    if fault.is_some_and(|f| f.invalid_json) {
        body = Bytes::from_static(b"{\"error\": <html>upstream failure</html>");
    }
    let mut builder = hyper::Response::builder()
        .status(response.status)
        .header(hyper::header::CONTENT_LENGTH, body.len());
    for (name, value) in &response.headers {
        builder = builder.header(*name, value);
    }
    builder = builder.header(
        "x-ms-request-id",
        crate::crypto::guid_from(&format!("{:?}", Instant::now())),
    );
    let body: Body = match fault {
        Some(f) if f.truncate || f.hang || f.slow_body_ms.is_some() => streamed(body, f),
        _ => Full::new(body).map_err(|e: Infallible| match e {}).boxed(),
    };
    builder.body(body).unwrap_or_else(|_| {
        hyper::Response::new(
            Full::new(Bytes::new())
                .map_err(|e: Infallible| match e {})
                .boxed(),
        )
    })
}

/// A body sent by a task: half then an error (truncate), half then nothing
/// for an hour (hang), or a few bytes at a time (slow).
fn streamed(body: Bytes, fault: &FaultSpec) -> Body {
    let (mut sender, channel) = Channel::<Bytes, std::io::Error>::new(4);
    let truncate = fault.truncate;
    let hang = fault.hang;
    let delay = fault.slow_body_ms.map(Duration::from_millis);
    tokio::spawn(async move {
        let cut = if truncate || hang {
            body.len() / 2
        } else {
            body.len()
        };
        let head = body.slice(..cut);
        match delay {
            Some(delay) => {
                for chunk in head.chunks(16) {
                    if sender
                        .send_data(Bytes::copy_from_slice(chunk))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    tokio::time::sleep(delay).await;
                }
            }
            None => {
                if sender.send_data(head).await.is_err() {
                    return;
                }
            }
        }
        if truncate {
            sender.abort(std::io::Error::other("truncated by a fault"));
        } else if hang {
            // Nothing more, until the client goes away (an empty frame fails
            // once the body is dropped) or an hour has passed.
            for _ in 0..3600 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let probe =
                    tokio::time::timeout(Duration::from_secs(1), sender.send_data(Bytes::new()));
                if matches!(probe.await, Ok(Err(_))) {
                    break;
                }
            }
        }
    });
    channel.boxed()
}
