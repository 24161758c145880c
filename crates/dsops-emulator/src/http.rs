//! Requests and responses as the services see them: a whole request read into
//! memory, and a response that the server may still bend with a fault.

use bytes::Bytes;
use hyper::HeaderMap;
use serde_json::Value;

/// A request, read whole.
#[derive(Debug)]
pub(crate) struct Request {
    /// `GET`, `POST`...
    pub(crate) method: String,
    /// `https` or `http`: how the request arrived.
    pub(crate) scheme: &'static str,
    /// Host, lower-case, without the port.
    pub(crate) host: String,
    /// The Host header as sent (with the port).
    pub(crate) authority: String,
    /// The path, without the query.
    pub(crate) path: String,
    /// Percent-decoded path segments (a trailing slash gives no empty segment).
    pub(crate) segments: Vec<String>,
    /// Query parameters, decoded, in order.
    pub(crate) query: Vec<(String, String)>,
    /// Headers.
    pub(crate) headers: HeaderMap,
    /// The body.
    pub(crate) body: Bytes,
}

impl Request {
    /// Builds a request from its parts.
    pub(crate) fn new(
        method: &str,
        scheme: &'static str,
        authority: &str,
        path_and_query: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let host = match authority.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
            _ => authority,
        };
        Self {
            method: method.to_owned(),
            scheme,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            authority: authority.to_owned(),
            path: path.to_owned(),
            segments,
            query: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            headers,
            body,
        }
    }

    /// The port the client wrote in the Host header (`[::1]:9000` too),
    /// unless it is 443: what a URL back to this server must name.
    pub(crate) fn explicit_port(&self) -> Option<&str> {
        self.authority
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && *p != "443")
    }

    /// The segments as `&str`, for matching.
    pub(crate) fn parts(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// A query parameter (first occurrence).
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value, when it is text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as `application/x-www-form-urlencoded` fields.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The bearer token of the `Authorization` header.
    pub(crate) fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

fn percent_decode(segment: &str) -> String {
    // form_urlencoded also turns `+` into a space, which a path must keep.
    let escaped = segment.replace('+', "%2B");
    form_urlencoded::parse(format!("x={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A response, before faults.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
    /// For the log: who called.
    pub(crate) identity: Option<String>,
    /// For the log: the audience of a token issued.
    pub(crate) token_for: Option<String>,
}

impl Response {
    /// A JSON response.
    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json; charset=utf-8".to_owned())],
            body: Bytes::from(value.to_string()),
            identity: None,
            token_for: None,
        }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Records the caller for the log.
    pub(crate) fn by(mut self, identity: Option<String>) -> Self {
        self.identity = identity;
        self
    }

    /// Records a token issued for the log.
    pub(crate) fn issued(mut self, identity: &str, audience: &str) -> Self {
        self.identity = Some(identity.to_owned());
        self.token_for = Some(audience.to_owned());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_host_path_and_query() {
        let r = Request::new(
            "GET",
            "https",
            "MyVault.vault.localhost:8443",
            "/secrets/a%20b+c/?api-version=7.5&x=%2F",
            HeaderMap::new(),
            Bytes::new(),
        );
        assert_eq!(r.host, "myvault.vault.localhost");
        assert_eq!(r.parts(), vec!["secrets", "a b+c"]);
        assert_eq!(r.query("api-version"), Some("7.5"));
        assert_eq!(r.query("x"), Some("/"));
        let ip6 = Request::new(
            "GET",
            "http",
            "[::1]:80",
            "/",
            HeaderMap::new(),
            Bytes::new(),
        );
        assert_eq!(ip6.host, "::1");
    }
}
