//! Fault injection: rules that make matching requests slow, fail, or break
//! the connection, from the state file or the admin API.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A fault rule. Every set field of the match must hold; the first rule that
/// matches and has uses left applies.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FaultSpec {
    /// Match: the service (`imds`, `app_service`, `arc`, `cloud_shell`,
    /// `entra`, `github`, `oidc`, `keyvault`, `arm`, `arm_metadata`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Match: a path prefix (case-insensitive), e.g. `/secrets/db-password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Match: the HTTP method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Match: the host, without port (e.g. `myvault.vault.localhost`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Delay before answering, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Answer with this status instead (and a JSON error body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// With `status`: a `Retry-After` header, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Close the connection without answering.
    #[serde(skip_serializing_if = "is_false")]
    pub drop: bool,
    /// Send the head and half the body, then close the connection.
    #[serde(skip_serializing_if = "is_false")]
    pub truncate: bool,
    /// Replace the body with text that is not JSON.
    #[serde(skip_serializing_if = "is_false")]
    pub invalid_json: bool,
    /// Send the body a few bytes at a time, this many milliseconds apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_body_ms: Option<u64>,
    /// Send the head and part of the body, then never finish.
    #[serde(skip_serializing_if = "is_false")]
    pub hang: bool,
    /// Apply to the next `times` matching requests only (default: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FaultSpec {
    fn matches(&self, service: &str, method: &str, host: &str, path: &str) -> bool {
        self.service
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(service))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .host
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(host))
            && self.path.as_deref().is_none_or(|p| {
                path.get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p))
            })
    }

    /// A short description for the request log.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ms) = self.latency_ms {
            parts.push(format!("latency {ms}ms"));
        }
        if let Some(status) = self.status {
            parts.push(format!("status {status}"));
        }
        for (on, name) in [
            (self.drop, "drop"),
            (self.truncate, "truncate"),
            (self.invalid_json, "invalid_json"),
            (self.hang, "hang"),
        ] {
            if on {
                parts.push(name.to_owned());
            }
        }
        if let Some(ms) = self.slow_body_ms {
            parts.push(format!("slow body {ms}ms"));
        }
        parts.join(", ")
    }
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<(FaultSpec, Option<u64>)>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(FaultSpec, Option<u64>)>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a rule after the existing ones.
    pub fn add(&self, spec: FaultSpec) {
        let remaining = spec.times;
        self.lock().push((spec, remaining));
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The rules with their remaining uses.
    pub fn list(&self) -> Vec<FaultSpec> {
        self.lock()
            .iter()
            .map(|(spec, remaining)| FaultSpec {
                times: *remaining,
                ..spec.clone()
            })
            .collect()
    }

    /// The rule for a request, using one of its uses.
    pub(crate) fn take(
        &self,
        service: &str,
        method: &str,
        host: &str,
        path: &str,
    ) -> Option<FaultSpec> {
        let mut rules = self.lock();
        let index = rules.iter().position(|(spec, remaining)| {
            remaining.is_none_or(|n| n > 0) && spec.matches(service, method, host, path)
        })?;
        let (spec, remaining) = rules.get_mut(index)?;
        if let Some(n) = remaining {
            *n -= 1;
        }
        let spec = spec.clone();
        rules.retain(|(_, remaining)| remaining.is_none_or(|n| n > 0));
        Some(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limited_rule_wears_out() {
        let faults = Faults::default();
        faults.add(FaultSpec {
            service: Some("keyvault".into()),
            path: Some("/secrets/".into()),
            status: Some(503),
            times: Some(2),
            ..FaultSpec::default()
        });
        assert!(faults.take("imds", "GET", "h", "/secrets/x").is_none());
        assert!(faults.take("keyvault", "GET", "h", "/SECRETS/x").is_some());
        assert!(faults.take("keyvault", "GET", "h", "/secrets/x").is_some());
        assert!(faults.take("keyvault", "GET", "h", "/secrets/x").is_none());
        assert!(faults.list().is_empty());
    }
}
