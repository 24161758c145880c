//! What a URL names (scheme, host, port, whether it carries user
//! information), parsed as `http::Uri`: the way the client itself reads the
//! URL it connects to, so that a check on an `Address` is a check on where
//! the request goes.

use std::net::IpAddr;

use http::Uri;

/// An absolute `scheme://authority…` URL, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Address {
    uri: Uri,
    /// Lowercase.
    scheme: String,
    /// Lowercase, an IPv6 address without its brackets.
    host: String,
    userinfo: bool,
}

impl Address {
    /// `url` parsed; `None` unless it has a scheme and a host.
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let authority = uri.authority()?;
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_ascii_lowercase();
        // A port must be a number the client can connect to.
        let host_port = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, after)| after);
        let port_text = host_port
            .rsplit_once(']')
            .map_or(host_port, |(_, after)| after)
            .rsplit_once(':')
            .map(|(_, port)| port);
        if host.is_empty() || port_text.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err())
        {
            return None;
        }
        let userinfo = authority.as_str().contains('@');
        Some(Self {
            scheme,
            host,
            userinfo,
            uri,
        })
    }

    /// The parsed URI, as the client takes it.
    pub(crate) fn uri(&self) -> &Uri {
        &self.uri
    }

    /// `https`, `http`, lowercase.
    pub(crate) fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lowercase; an IPv6 address without brackets.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The port, or the scheme's (`https` 443, `http` 80).
    pub(crate) fn port_or_known_default(&self) -> Option<u16> {
        self.uri.port_u16().or(match self.scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        })
    }

    /// Whether the authority has a `user@` or `user:password@` part.
    pub(crate) fn has_userinfo(&self) -> bool {
        self.userinfo
    }

    /// `localhost`, `*.localhost` (RFC 6761), 127/8, `::1`.
    pub(crate) fn is_loopback(&self) -> bool {
        let host = self.host.trim_end_matches('.');
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether `self` and `other` are one origin: scheme, host and port.
    pub(crate) fn same_origin(&self, other: &Address) -> bool {
        self.scheme == other.scheme
            && self.host == other.host
            && self.port_or_known_default() == other.port_or_known_default()
    }

    /// Where a `Location` header sends a request made to `self`: an
    /// absolute URL, `//host/path` (this scheme), `/path` (this origin) or
    /// a path relative to this one's directory. The fragment is dropped.
    pub(crate) fn join(&self, location: &str) -> Option<Address> {
        let location = location.split('#').next().unwrap_or_default().trim();
        let has_scheme = location.split_once(':').is_some_and(|(scheme, rest)| {
            rest.starts_with("//")
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if has_scheme {
            return Address::parse(location);
        }
        if location.starts_with("//") {
            return Address::parse(&format!("{}:{location}", self.scheme));
        }
        let origin = format!("{}://{}", self.scheme, self.host_and_port());
        if location.starts_with('/') {
            return Address::parse(&format!("{origin}{location}"));
        }
        let path = self.uri.path();
        let directory = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        Address::parse(&format!("{origin}{directory}/{location}"))
    }

    /// `host:port` as a URL writes them: an IPv6 host in brackets, the port
    /// only when the URL gives one.
    fn host_and_port(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.uri.port_u16() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }

    /// The URL as a message may show it: no user information (it may hold
    /// a password), no query, no fragment.
    pub(crate) fn shown(&self) -> String {
        let host_and_port = self.host_and_port();
        let path = match self.uri.path() {
            "" => "/",
            path => path,
        };
        format!("{}://{host_and_port}{path}", self.scheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_ports_and_user_information() {
        let a = Address::parse("HTTPS://User:pw@V.Vault.Azure.NET:8443/x?q=1").unwrap();
        assert_eq!(a.scheme(), "https");
        assert_eq!(a.host(), "v.vault.azure.net");
        assert_eq!(a.port_or_known_default(), Some(8443));
        assert!(a.has_userinfo());
        assert_eq!(a.shown(), "https://v.vault.azure.net:8443/x");

        assert!(
            Address::parse("https://user:pw@v.vault.azure.net/")
                .unwrap()
                .has_userinfo()
        );
        let b = Address::parse("https://management.azure.com@evil.com/x").unwrap();
        assert_eq!(b.host(), "evil.com");
        assert!(b.has_userinfo());

        let c = Address::parse("http://[::1]:9").unwrap();
        assert_eq!(c.host(), "::1");
        assert!(c.is_loopback());
        assert_eq!(c.shown(), "http://[::1]:9/");
        assert_eq!(
            Address::parse("http://localhost")
                .unwrap()
                .port_or_known_default(),
            Some(80)
        );
        let from = Address::parse("https://u:p@v.vault.azure.net:8443/a/b?x=1").unwrap();
        for (location, to) in [
            ("https://other.example/c", "https://other.example/c"),
            ("//other.example:9/c", "https://other.example:9/c"),
            ("/c?d=1#frag", "https://v.vault.azure.net:8443/c"),
            ("c", "https://v.vault.azure.net:8443/a/c"),
        ] {
            let next = from.join(location).unwrap();
            assert_eq!(next.shown(), to, "{location}");
            assert!(!next.has_userinfo(), "{location}");
        }
        assert!(from.join("/c").unwrap().same_origin(&from));
        assert!(
            !from
                .join("http://v.vault.azure.net:8443/")
                .unwrap()
                .same_origin(&from)
        );
        assert!(
            !from
                .join("https://v.vault.azure.net/")
                .unwrap()
                .same_origin(&from)
        );
        for bad in [
            "not a url",
            "/relative",
            "https://",
            "https://a b/",
            "https://h:port/",
        ] {
            assert!(Address::parse(bad).is_none(), "{bad}");
        }
    }
}
