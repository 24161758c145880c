//! Shape rules for the names and identifiers Azure accepts. Each check returns
//! `Err(reason)` with a sentence fit for a diagnostic.

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A DNS host name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
pub fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Key Vault names: 3–24 characters, letters, digits and hyphens, starting with
/// a letter, ending with a letter or digit, no `--`.
pub(crate) fn check_vault_name(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(3..=24).contains(&len) {
        return Err(format!(
            "is {len} characters long; vault names have 3 to 24"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "contains `{}`; vault names have only letters, digits and hyphens",
            c.escape_default()
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("must start with a letter".into());
    }
    if s.ends_with('-') {
        return Err("must end with a letter or digit".into());
    }
    if s.contains("--") {
        return Err("must not contain two hyphens in a row".into());
    }
    Ok(())
}

/// A vault URL: `https://HOST[:PORT][/]`, nothing else.
pub(crate) fn check_vault_url(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err("must start with `https://`: Key Vault is reached only over TLS".into());
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("must have no path, query or fragment (`https://NAME.vault.azure.net`)".into());
    }
    if authority.contains('@') {
        return Err("must not contain user information (`user@`)".into());
    }
    let (host, port) = split_port(authority);
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("has an invalid port `{port}`"));
    }
    if !is_hostname(host) {
        return Err(format!("has an invalid host name `{host}`"));
    }
    Ok(())
}

/// The host of an `https://host[:port]/...` URL (lower-cased), if it is one.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(split_port(authority).0.to_ascii_lowercase())
}

fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// What an endpoint is for, which decides what its URL may be. Every
/// endpoint dsops talks to, written in `dsops.yaml` or read from the
/// environment (`AZURE_AUTHORITY_HOST`, `ACTIONS_ID_TOKEN_REQUEST_URL`,
/// `IDENTITY_ENDPOINT`...), goes through [`check_endpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    /// A service dsops sends a credential or a token to (Entra ID, Resource
    /// Manager): `https://`, or plain `http://` to a loopback host; no query.
    Service,
    /// The same with a query, which some services need in their URL
    /// (GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL` carries `api-version`).
    ServiceWithQuery,
    /// The platform's managed identity endpoint: `https://`, or plain
    /// `http://` to a loopback or link-local host (IMDS is
    /// `http://169.254.169.254`, App Service's and Arc's are on localhost).
    ManagedIdentity,
}

/// Checks an endpoint URL: the scheme, no user information (`user@host`,
/// which would carry a password into requests and messages), a valid host
/// and port, no fragment, and plain http only where `kind` allows it. The
/// error never repeats the URL, which may hold a password.
pub fn check_endpoint(s: &str, kind: EndpointKind) -> Result<(), String> {
    let (scheme_ok, rest) = match s.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => match s.strip_prefix("http://") {
            Some(rest) => (false, rest),
            None => return Err("must be an `https://` URL".into()),
        },
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not contain user information (`user@`)".into());
    }
    if s.contains('#') || (kind == EndpointKind::Service && s.contains('?')) {
        return Err("must have no query or fragment".into());
    }
    let (host, port) = split_port(authority);
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("has an invalid port `{}`", port.escape_default()));
    }
    if !is_hostname(host) && !is_ipv4(host) {
        return Err(format!("has an invalid host `{}`", host.escape_default()));
    }
    let plain_allowed =
        is_loopback_host(host) || (kind == EndpointKind::ManagedIdentity && is_link_local(host));
    if !scheme_ok && !plain_allowed {
        return Err(match kind {
            EndpointKind::ManagedIdentity => "uses plain `http://` to a host that is neither loopback nor link-local (169.254.x.x)".into(),
            _ => "uses plain `http://`: tokens are sent only over https, except to a loopback address".into(),
        });
    }
    Ok(())
}

/// An https (or, for loopback hosts only, http) endpoint URL with no query or fragment.
pub(crate) fn check_endpoint_url(s: &str) -> Result<(), String> {
    check_endpoint(s, EndpointKind::Service)
}

/// A link-local IPv4 address (169.254.0.0/16), where IMDS lives.
fn is_link_local(host: &str) -> bool {
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_link_local())
}

/// `localhost`, `*.localhost` or `127.x.x.x`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.") && is_ipv4(&host)
}

/// A dotted IPv4 address.
pub fn is_ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Key Vault object names: 1–127 letters, digits and hyphens.
pub(crate) fn check_secret_name(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(1..=127).contains(&len) {
        return Err(format!("is {len} characters long; names have 1 to 127"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "contains `{}`; Key Vault names have only letters, digits and hyphens",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Key Vault object versions: 32 hexadecimal digits.
pub(crate) fn check_version(s: &str) -> Result<(), String> {
    if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(
            "is not a Key Vault version (32 hexadecimal digits); omit `version` for the latest"
                .into(),
        )
    }
}

/// Storage account names: 3–24 lowercase letters and digits.
pub(crate) fn check_storage_account(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(3..=24).contains(&len) {
        return Err(format!(
            "is {len} characters long; storage account names have 3 to 24"
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err("must have only lowercase letters and digits".into());
    }
    Ok(())
}

/// Cosmos DB account names: 3–44 lowercase letters, digits and hyphens, not starting or ending with a hyphen.
pub(crate) fn check_cosmos_account(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(3..=44).contains(&len) {
        return Err(format!(
            "is {len} characters long; Cosmos DB account names have 3 to 44"
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("must have only lowercase letters, digits and hyphens".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must not start or end with a hyphen".into());
    }
    Ok(())
}

/// Resource group names: 1–90 letters, digits, `_`, `-`, `.`, `(`, `)`, not ending with `.`.
pub(crate) fn check_resource_group(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(1..=90).contains(&len) {
        return Err(format!(
            "is {len} characters long; resource group names have 1 to 90"
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
    {
        return Err("may have only letters, digits, `_`, `-`, `.`, `(` and `)`".into());
    }
    if s.ends_with('.') {
        return Err("must not end with `.`".into());
    }
    Ok(())
}

/// What an ARM resource id of a user-assigned identity looks like.
pub const IDENTITY_RESOURCE_ID_SHAPE: &str = "/subscriptions/SUBSCRIPTION_ID/resourceGroups/GROUP/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME";

/// Problems with the shape of a user-assigned identity's resource id.
#[derive(Debug, PartialEq, Eq)]
pub enum ResourceIdProblem {
    /// Not of the shape at all: an error.
    Shape(String),
    /// The subscription segment is not a GUID (a placeholder?): a warning.
    SubscriptionNotGuid(String),
}

/// Checks a user-assigned identity's ARM resource id.
pub fn check_identity_resource_id(s: &str) -> Result<(), ResourceIdProblem> {
    let segments: Vec<&str> = s.split('/').collect();
    let shape = |why: &str| Err(ResourceIdProblem::Shape(why.to_owned()));
    let [
        "",
        subscriptions,
        subscription,
        groups,
        group,
        providers,
        namespace,
        kind,
        name,
    ] = segments.as_slice()
    else {
        return shape("does not have the 8 segments of a user-assigned identity's resource id");
    };
    let expect = [
        (*subscriptions, "subscriptions"),
        (*groups, "resourceGroups"),
        (*providers, "providers"),
        (*namespace, "Microsoft.ManagedIdentity"),
        (*kind, "userAssignedIdentities"),
    ];
    if let Some((found, wanted)) = expect
        .iter()
        .find(|(found, wanted)| !found.eq_ignore_ascii_case(wanted))
    {
        return Err(ResourceIdProblem::Shape(format!(
            "has `{found}` where `{wanted}` belongs"
        )));
    }
    if subscription.is_empty() || group.is_empty() || name.is_empty() {
        return shape("has an empty segment");
    }
    if let Err(why) = check_resource_group(group) {
        return Err(ResourceIdProblem::Shape(format!(
            "has the resource group `{group}`, which {why}"
        )));
    }
    if !is_uuid(subscription) {
        return Err(ResourceIdProblem::SubscriptionNotGuid(
            (*subscription).to_owned(),
        ));
    }
    Ok(())
}

/// Names of `envs` entries and stores: letters, digits, `_`, `-`, `.`, starting with a letter or digit.
pub(crate) fn check_entry_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or digit".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "contains `{}`; use letters, digits, `_`, `-` and `.`",
            c.escape_default()
        ));
    }
    Ok(())
}

/// An Entra tenant: a GUID or a verified domain (`contoso.onmicrosoft.com`).
pub(crate) fn check_tenant(s: &str) -> Result<(), String> {
    // A verified domain ends in a top-level domain with letters (`.com`, `.onmicrosoft.com`).
    let domain = s.contains('.')
        && is_hostname(s)
        && s.rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()));
    if is_uuid(s) || domain {
        Ok(())
    } else if ["common", "organizations", "consumers"].contains(&s.to_ascii_lowercase().as_str()) {
        Err("is a multi-tenant alias; client credentials and managed identities need the tenant's id or domain".into())
    } else {
        Err("is neither a tenant id (GUID) nor a domain such as `contoso.onmicrosoft.com`".into())
    }
}

/// Variables that change how later steps or programs start, and why: what
/// `dsops check` warns about and `dsops github` refuses to export to a CI
/// job (where a pull request's `dsops.yaml` would otherwise choose them)
/// unless each is allowed by name. Compared in upper case. Names starting
/// with `LD_`, `DYLD_` or `GIT_CONFIG_` are in it too.
pub const STARTUP_VARIABLES: &[(&str, &str)] = &[
    ("PATH", "it decides which programs run"),
    ("LD_PRELOAD", "it injects code into every program started"),
    ("LD_LIBRARY_PATH", "it decides which libraries load"),
    ("LD_AUDIT", "it injects code into every program started"),
    (
        "DYLD_INSERT_LIBRARIES",
        "it injects code into every program started",
    ),
    ("DYLD_LIBRARY_PATH", "it decides which libraries load"),
    (
        "NODE_OPTIONS",
        "it changes how every Node.js program runs (GitHub refuses it in GITHUB_ENV)",
    ),
    ("NODE_PATH", "it decides which Node.js modules load"),
    ("BASH_ENV", "bash runs the file it names at start"),
    ("ENV", "sh runs the file it names at start"),
    ("PROMPT_COMMAND", "bash runs it before every prompt"),
    ("SHELLOPTS", "it sets bash's options at start"),
    ("BASHOPTS", "it sets bash's options at start"),
    (
        "PS4",
        "bash expands it, commands included, for every traced line",
    ),
    ("IFS", "it changes how shells split words"),
    ("PYTHONPATH", "it decides which Python modules load"),
    ("PYTHONSTARTUP", "Python runs the file it names at start"),
    ("PYTHONHOME", "it decides which Python library loads"),
    (
        "JAVA_TOOL_OPTIONS",
        "every JVM reads its options, `-javaagent:` included",
    ),
    (
        "_JAVA_OPTIONS",
        "every JVM reads its options, `-javaagent:` included",
    ),
    (
        "JDK_JAVA_OPTIONS",
        "the `java` launcher reads its options, `-javaagent:` included",
    ),
    (
        "PERL5OPT",
        "every perl reads its options, `-M` modules included",
    ),
    ("PERL5LIB", "it decides which Perl modules load"),
    ("PERLLIB", "it decides which Perl modules load"),
    (
        "RUBYOPT",
        "every ruby reads its options, `-r` libraries included",
    ),
    ("RUBYLIB", "it decides which Ruby libraries load"),
    (
        "DOTNET_STARTUP_HOOKS",
        "every .NET program loads the assemblies it names",
    ),
    ("GIT_SSH_COMMAND", "git runs it to reach a remote"),
    ("GIT_SSH", "git runs it to reach a remote"),
    ("GIT_ASKPASS", "git runs it to ask for a password"),
    ("SSH_ASKPASS", "ssh runs it to ask for a password"),
    ("GIT_EXEC_PATH", "it decides which git programs run"),
    (
        "GIT_CONFIG_PARAMETERS",
        "it sets git options, `core.sshCommand` and hooks included",
    ),
    ("GCONV_PATH", "glibc loads the modules it names"),
];

/// Why setting `name` changes how later steps or programs start (see
/// [`STARTUP_VARIABLES`]), if it does.
pub fn startup_variable(name: &str) -> Option<&'static str> {
    if let Some((_, why)) = STARTUP_VARIABLES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return Some(why);
    }
    if starts_with_ignore_case(name, "LD_") || starts_with_ignore_case(name, "DYLD_") {
        return Some("the dynamic loader reads it in every program started");
    }
    if starts_with_ignore_case(name, "GIT_CONFIG_") {
        return Some("it sets git options, `core.sshCommand` and hooks included");
    }
    None
}

/// Whether `name` starts with `prefix` (upper case), ASCII case ignored:
/// the upper-cased name compared, without upper-casing a copy of it (this
/// runs for every variable of the file).
fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether `name` is in a namespace a CI runner sets and trusts
/// (`GITHUB_`, `RUNNER_`, `ACTIONS_`),
/// compared in upper case.
pub fn ci_reserved(name: &str) -> bool {
    ["GITHUB_", "RUNNER_", "ACTIONS_"]
        .iter()
        .any(|p| starts_with_ignore_case(name, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_and_ci_names_ignore_ascii_case() {
        for name in [
            "PATH",
            "path",
            "Path",
            "ld_preload",
            "Ld_Anything",
            "dyld_x",
            "git_config_global",
        ] {
            assert!(startup_variable(name).is_some(), "{name}");
        }
        for name in [
            "PATHS",
            "PAT",
            "L",
            "LD",
            "GIT_CONFI",
            "Ünicode",
            "",
            "PATH\u{e9}",
        ] {
            assert!(startup_variable(name).is_none(), "{name}");
        }
        for name in ["GITHUB_TOKEN", "github_x", "Runner_Temp", "actions_"] {
            assert!(ci_reserved(name), "{name}");
        }
        for name in ["GITHUB", "RUNNER", "MY_GITHUB_", "ACTION_"] {
            assert!(!ci_reserved(name), "{name}");
        }
    }

    #[test]
    fn vault_names() {
        assert!(check_vault_name("prod-keyvault").is_ok());
        assert!(check_vault_name("abc").is_ok());
        assert!(check_vault_name("ab").is_err());
        assert!(check_vault_name("a234567890123456789012345").is_err());
        assert!(check_vault_name("1vault").is_err());
        assert!(check_vault_name("vault-").is_err());
        assert!(check_vault_name("va--ult").is_err());
        assert!(check_vault_name("evil.com").is_err());
        assert!(check_vault_name("my_vault").is_err());
    }

    #[test]
    fn vault_urls() {
        assert!(check_vault_url("https://my-vault.vault.azure.net").is_ok());
        assert!(check_vault_url("https://my-vault.vault.azure.net/").is_ok());
        assert!(check_vault_url("https://v.vault.localhost:8443").is_ok());
        assert!(check_vault_url("http://my-vault.vault.azure.net").is_err());
        assert!(check_vault_url("https://a@evil.com").is_err());
        assert!(check_vault_url("https://my-vault.vault.azure.net/secrets").is_err());
        assert!(check_vault_url("https://my-vault.vault.azure.net:0").is_err());
        assert!(check_vault_url("https://").is_err());
    }

    #[test]
    fn endpoint_urls() {
        assert!(check_endpoint_url("https://login.microsoftonline.com").is_ok());
        assert!(check_endpoint_url("http://127.0.0.1:8080").is_ok());
        assert!(check_endpoint_url("http://localhost:8080/").is_ok());
        assert!(check_endpoint_url("http://example.com").is_err());
        assert!(check_endpoint_url("ftp://example.com").is_err());
        assert!(check_endpoint_url("https://user:pw@example.com").is_err());
        let mi = EndpointKind::ManagedIdentity;
        assert!(check_endpoint("http://169.254.169.254", mi).is_ok());
        assert!(check_endpoint("http://localhost:42356/msi/token?x=1", mi).is_ok());
        assert!(check_endpoint("http://10.0.0.1:2579", mi).is_err());
        let q = EndpointKind::ServiceWithQuery;
        assert!(check_endpoint("https://t.actions.example/x?api-version=2.0", q).is_ok());
        assert!(check_endpoint("http://example.com/x?api-version=2.0", q).is_err());
        let err = check_endpoint("https://u:hunter2@example.com", q).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("12345678-1234-1234-1234-123456789012"));
        assert!(is_uuid("abcdefAB-1234-1234-1234-123456789012"));
        assert!(!is_uuid("12345678-1234-1234-1234-12345678901"));
        assert!(!is_uuid("1234567g-1234-1234-1234-123456789012"));
        assert!(!is_uuid("SUB_ID"));
    }

    #[test]
    fn identity_resource_ids() {
        let good = "/subscriptions/12345678-1234-1234-1234-123456789012/resourcegroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/my-identity";
        assert_eq!(check_identity_resource_id(good), Ok(()));
        let placeholder = "/subscriptions/SUB_ID/resourcegroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/my-identity";
        assert_eq!(
            check_identity_resource_id(placeholder),
            Err(ResourceIdProblem::SubscriptionNotGuid("SUB_ID".into()))
        );
        assert!(matches!(
            check_identity_resource_id(
                "/subscriptions/x/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm"
            ),
            Err(ResourceIdProblem::Shape(_))
        ));
        assert!(matches!(
            check_identity_resource_id("my-identity"),
            Err(ResourceIdProblem::Shape(_))
        ));
    }

    #[test]
    fn account_names() {
        assert!(check_storage_account("mystorageaccount").is_ok());
        assert!(check_storage_account("My-Storage").is_err());
        assert!(check_cosmos_account("mycosmosaccount").is_ok());
        assert!(check_cosmos_account("my-cosmos").is_ok());
        assert!(check_cosmos_account("-cosmos").is_err());
    }

    #[test]
    fn tenants() {
        assert!(check_tenant("12345678-1234-1234-1234-123456789012").is_ok());
        assert!(check_tenant("contoso.onmicrosoft.com").is_ok());
        assert!(check_tenant("common").is_err());
        assert!(check_tenant("contoso").is_err());
        assert!(check_tenant("1.5").is_err());
    }
}
