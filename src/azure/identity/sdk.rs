//! The glue to `azure_identity`: its credentials send HTTP through [`Http`]
//! (retries, deadline, CA bundle, `*.localhost`, trace), and its errors
//! become ours.
//!
//! The SDK's own retry policy is off ([`RetryOptions::none`]): [`Http`]
//! retries, honouring `Retry-After` within one deadline. The cloud is always
//! a custom one whose authority host is the one dsops computed, so the SDK
//! never falls back to `AZURE_AUTHORITY_HOST` or the public cloud by itself.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::error::ErrorKind;
use azure_core::http::headers::{
    HeaderName as SdkHeaderName, HeaderValue as SdkHeaderValue, Headers,
};
use azure_core::http::{
    AsyncRawResponse, Body, ClientOptions, HttpClient, RawResponse, Request, RetryOptions,
    Transport,
};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::error::IdentityError;
use crate::azure::http::trace::without_query;
use crate::azure::http::{Http, HttpError, Incoming, Outgoing, RetryOn, Route};

/// The longest service message kept in an error.
const MAX_MESSAGE: usize = 600;

/// `azure_core`'s transport over [`Http`].
#[derive(Debug, Clone)]
pub(crate) struct SdkTransport {
    http: Http,
}

impl SdkTransport {
    pub(crate) fn new(http: &Http) -> Self {
        Self { http: http.clone() }
    }
}

/// Client options for an `azure_identity` credential: this transport, no SDK
/// retries, and a custom cloud whose authority host is `authority`.
pub(crate) fn client_options(http: &Http, authority: &str) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = authority.to_owned();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(SdkTransport::new(http)))),
        retry: RetryOptions::none(),
        cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
        ..ClientOptions::default()
    }
}

/// Entra ID's token endpoint for `tenant` at `authority`, as the SDK builds
/// it (for messages).
pub(crate) fn token_endpoint(authority: &str, tenant: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority.trim_end_matches('/')
    )
}

#[async_trait::async_trait]
impl HttpClient for SdkTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let outgoing = outgoing(request).map_err(to_sdk)?;
        let incoming = self
            .http
            .send(Route::Remote, &outgoing, RetryOn::SERVICE)
            .await
            .map_err(|e| to_sdk(e.into()))?;
        if !incoming.status.is_success() && !is_json_object(&incoming.body) {
            // The SDK would fail to parse it and lose the status: say what
            // the endpoint answered instead.
            return Err(to_sdk(IdentityError::Status {
                endpoint: without_query(&outgoing.url).to_owned(),
                status: incoming.status.as_u16(),
                code: None,
                message: incoming
                    .status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_owned()
                    + " (the body is not JSON)",
            }));
        }
        Ok(response(incoming))
    }
}

fn is_json_object(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object())
}

/// The SDK's request as ours.
fn outgoing(request: &Request) -> Result<Outgoing, IdentityError> {
    let url = request.url().to_string();
    let endpoint = without_query(&url).to_owned();
    let invalid = |what: String| {
        IdentityError::Config(format!(
            "the Azure SDK built a request dsops cannot send to {endpoint}: {what}"
        ))
    };
    let sdk_method = request.method();
    let method_name: &str = sdk_method.as_ref();
    let method = http::Method::from_bytes(method_name.as_bytes())
        .map_err(|_| invalid(format!("method {method_name}")))?;
    let mut headers = HeaderMap::new();
    for (name, value) in request.headers().iter() {
        let header = HeaderName::from_bytes(name.as_str().as_bytes())
            .map_err(|_| invalid(format!("header name {}", name.as_str())))?;
        let mut value = HeaderValue::from_str(value.as_str())
            .map_err(|_| invalid(format!("the value of header {}", name.as_str())))?;
        if header == http::header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        headers.append(header, value);
    }
    let body = match request.body() {
        Body::Bytes(bytes) if bytes.is_empty() => None,
        Body::Bytes(bytes) => Some(bytes.clone()),
        Body::SeekableStream(_) => return Err(invalid("a streamed body".to_owned())),
    };
    Ok(Outgoing {
        method,
        url,
        headers,
        body,
    })
}

/// Our response as the SDK's.
fn response(mut incoming: Incoming) -> AsyncRawResponse {
    let mut headers = Headers::new();
    for (name, value) in &incoming.headers {
        if let Ok(value) = value.to_str() {
            headers.insert(
                SdkHeaderName::from(name.as_str().to_owned()),
                SdkHeaderValue::from(value.to_owned()),
            );
        }
    }
    // The SDK takes the body (a token answer) over; its buffers are its own.
    let body = std::mem::take(&mut incoming.body);
    AsyncRawResponse::from_bytes(incoming.status.as_u16().into(), headers, body)
}

/// Our error, carried through the SDK so that [`identity_error`] finds it.
pub(crate) fn to_sdk(error: IdentityError) -> azure_core::Error {
    let kind = match error {
        IdentityError::Http(HttpError::Transport { .. } | HttpError::Timeout { .. }) => {
            ErrorKind::Io
        }
        IdentityError::Io { .. } => ErrorKind::Io,
        _ => ErrorKind::Credential,
    };
    azure_core::Error::new(kind, error)
}

/// An error of an `azure_identity` credential whose token endpoint is
/// `endpoint` as ours: our own error when it is one of ours carried through
/// the SDK (a transport failure, a token file or GitHub failure); for an
/// error answer of Entra ID, its status, its `AADSTS` code and the first
/// part of its description (without trace and correlation ids); otherwise
/// the SDK's message on one line. Never a request body, a secret or an
/// assertion: the SDK puts none in its errors, and only the response is read.
pub(crate) fn identity_error(error: azure_core::Error, endpoint: &str) -> IdentityError {
    let summary = sdk_summary(&error);
    let mut current = error;
    loop {
        if let ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } = current.kind()
        {
            return status_error(
                endpoint,
                u16::from(*status),
                error_code.as_deref(),
                raw_response.as_deref(),
            );
        }
        let inner = match current.into_inner() {
            Ok(inner) => inner,
            Err(_) => return IdentityError::Sdk(summary),
        };
        let inner = match inner.downcast::<IdentityError>() {
            Ok(ours) => return *ours,
            Err(other) => other,
        };
        match inner.downcast::<azure_core::Error>() {
            Ok(sdk) => current = *sdk,
            Err(_) => return IdentityError::Sdk(summary),
        }
    }
}

/// The SDK's message without its troubleshooting link, on one line.
fn sdk_summary(error: &azure_core::Error) -> String {
    let text = error.to_string();
    let text = text.split("\nTo troubleshoot").next().unwrap_or(&text);
    shorten(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Entra ID's error answer as [`IdentityError::Status`]. Entra's body is
/// `{"error": "invalid_client", "error_description": "AADSTS7000215: ...
/// Trace ID: ... Correlation ID: ... Timestamp: ...", "error_codes": [7000215]}`;
/// other services answer `{"error": {"code": ..., "message": ...}}`.
fn status_error(
    endpoint: &str,
    status: u16,
    sdk_code: Option<&str>,
    raw: Option<&RawResponse>,
) -> IdentityError {
    let body: Value = raw
        .and_then(|r| serde_json::from_slice(r.body()).ok())
        .unwrap_or(Value::Null);
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
    };
    let first_code = body
        .get("error_codes")
        .and_then(Value::as_array)
        .and_then(|codes| codes.first())
        .and_then(Value::as_u64)
        .map(|code| format!("AADSTS{code}"));
    let (mut code, description) = match body.get("error") {
        Some(Value::Object(e)) => (text(e.get("code")), text(e.get("message"))),
        Some(Value::String(error)) => (
            first_code.or_else(|| Some(error.clone())),
            text(body.get("error_description")),
        ),
        _ => (
            first_code,
            text(body.get("error_description")).or_else(|| text(body.get("message"))),
        ),
    };
    let mut message = description.map(|d| clean_description(&d));
    // "AADSTS7000215: Invalid client secret ..." names its own code.
    if let Some(m) = &message
        && let Some((prefix, rest)) = m.split_once(": ")
        && let Some(digits) = prefix.strip_prefix("AADSTS")
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        code = Some(prefix.to_owned());
        message = Some(rest.to_owned());
    }
    let code = code.or_else(|| {
        sdk_code.filter(|c| !c.is_empty()).map(|c| {
            if c.bytes().all(|b| b.is_ascii_digit()) {
                format!("AADSTS{c}")
            } else {
                c.to_owned()
            }
        })
    });
    let message = message.filter(|m| !m.is_empty()).unwrap_or_else(|| {
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_owned()
    });
    IdentityError::Status {
        endpoint: endpoint.to_owned(),
        status,
        code,
        message,
    }
}

/// An `error_description` without what follows the message: Entra appends
/// `Trace ID`, `Correlation ID` and `Timestamp` (after a line break), which
/// change at every request and help only Microsoft support.
fn clean_description(description: &str) -> String {
    let mut end = description.len();
    for marker in ["\r", "\n", "Trace ID:", "Correlation ID:", "Timestamp:"] {
        if let Some(i) = description.find(marker) {
            end = end.min(i);
        }
    }
    shorten(description.get(..end).unwrap_or(description).trim())
}

/// At most [`MAX_MESSAGE`] bytes, cut at a character boundary.
fn shorten(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::from_bytes(status.into(), Headers::new(), body.as_bytes().to_vec())
    }

    fn display(error: IdentityError) -> String {
        error.to_string()
    }

    #[test]
    fn entra_errors_keep_the_code_and_message_without_trace_ids() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret is right.\r\nTrace ID: 1234 Correlation ID: 5678 Timestamp: 2025-01-01 00:00:00Z","error_codes":[7000215]}"#;
        let error = azure_core::Error::new(
            ErrorKind::HttpResponse {
                status: 401.into(),
                error_code: Some("7000215".into()),
                raw_response: Some(Box::new(raw(401, body))),
            },
            "AADSTS7000215: Invalid client secret provided.",
        );
        let wrapped = azure_core::Error::with_error(
            ErrorKind::Credential,
            error,
            "ClientSecretCredential authentication failed.",
        );
        let text = display(identity_error(wrapped, "https://login/t/oauth2/v2.0/token"));
        assert_eq!(
            text,
            "https://login/t/oauth2/v2.0/token answered 401 AADSTS7000215: Invalid client secret provided. Ensure the secret is right."
        );
    }

    #[test]
    fn entra_errors_without_a_prefix_use_error_codes_then_error() {
        let error = status_error(
            "e",
            400,
            None,
            Some(&raw(
                400,
                r#"{"error":"invalid_scope","error_codes":[1002012],"error_description":"The scope is bad."}"#,
            )),
        );
        assert_eq!(
            display(error),
            "e answered 400 AADSTS1002012: The scope is bad."
        );
        let error = status_error(
            "e",
            400,
            None,
            Some(&raw(400, r#"{"error":"invalid_request"}"#)),
        );
        assert_eq!(
            display(error),
            "e answered 400 invalid_request: Bad Request"
        );
        let error = status_error(
            "e",
            503,
            Some("503"),
            Some(&raw(
                503,
                r#"{"error":{"code":"InjectedFault","message":"down"}}"#,
            )),
        );
        assert_eq!(display(error), "e answered 503 InjectedFault: down");
        let error = status_error("e", 502, Some("7000"), None);
        assert_eq!(display(error), "e answered 502 AADSTS7000: Bad Gateway");
    }

    #[test]
    fn our_errors_come_back_out_of_the_sdk() {
        let ours = IdentityError::Config("the token file is empty".into());
        let carried = to_sdk(ours);
        let wrapped = azure_core::Error::with_error(
            ErrorKind::Credential,
            carried,
            "ClientAssertionCredential authentication failed.",
        );
        let back = identity_error(wrapped, "e");
        assert!(
            matches!(back, IdentityError::Config(ref m) if m == "the token file is empty"),
            "{back:?}"
        );
    }

    #[test]
    fn other_sdk_errors_are_one_line_without_the_troubleshooting_link() {
        let error = azure_core::Error::with_message(
            ErrorKind::Credential,
            "ClientSecretCredential authentication failed. expected value\n  at line 1\nTo troubleshoot, visit https://aka.ms/x",
        );
        assert_eq!(
            display(identity_error(error, "e")),
            "ClientSecretCredential authentication failed. expected value at line 1"
        );
    }

    #[test]
    fn long_messages_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(400);
        let short = shorten(&long);
        assert!(
            short.len() <= MAX_MESSAGE + 3 && short.ends_with("..."),
            "{}",
            short.len()
        );
    }
}
