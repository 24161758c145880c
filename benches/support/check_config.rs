//! The configurations `dsops check` is measured on, shared by
//! `benches/check.rs` and `dsops-bench check` (crates/dsops-bench).

use std::fmt::Write as _;

/// A configuration with `n` variables spread over every reference form, two
/// stores and four environments: what a large real project looks like.
pub(crate) fn generate(n: usize) -> String {
    let mut out = String::from(
        "version: 1\nsecretStores:\n  azure:\n    type: azure.managed_identity\n    identity:\n      type: user_assigned\n      client_id: 12345678-1234-1234-1234-123456789012\n    default_subscription: 12345678-1234-1234-1234-123456789012\n    cache:\n      token_cache: { enabled: true, buffer: 300 }\n    performance:\n      max_concurrent: 16\n  local:\n    type: azure.managed_identity\n    fallback:\n      - type: managed_identity\n      - type: azure_cli\nenvs:\n",
    );
    let envs = ["production", "staging", "development", "test"];
    let per_env = n.div_ceil(envs.len());
    let mut written = 0;
    for env in envs {
        let _ = writeln!(out, "  {env}:");
        for i in 0..per_env {
            if written == n {
                break;
            }
            let name = format!("VAR_{written:05}");
            let store = if i % 2 == 0 { "azure" } else { "local" };
            let from = match i % 8 {
                0..=2 => format!(
                    "{{ store: {store}, vault: {env}-kv-{}, secret: secret-{i} }}",
                    i % 3
                ),
                3 => format!(
                    "{{ store: {store}, vault: {env}-kv-0, secret: cert-{i}, type: certificate }}"
                ),
                4 => format!(
                    "{{ store: {store}, resource_type: storage, account: acct{}, key: key1 }}",
                    i % 7
                ),
                5 => format!(
                    "{{ store: {store}, resource_type: storage, account: acct{}, operation: generate_sas, permissions: rl, expiry: 24h }}",
                    i % 7
                ),
                6 => format!(
                    "{{ store: {store}, resource_type: sql, server: srv{}.database.windows.net, database: db{i}, format: connection_string }}",
                    i % 5
                ),
                _ => format!(
                    "{{ store: {store}, operation: get_token, resource: https://vault.azure.net }}"
                ),
            };
            let _ = writeln!(out, "    {name}:\n      from: {from}");
            written += 1;
        }
    }
    out
}
