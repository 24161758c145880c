//! Azure SQL connection strings that sign in with the platform's managed
//! identity: the `resource_type: sql`, `format: connection_string` form.
//!
//! No secret is involved. The string names the server, the database and the
//! authentication mode; the program's SQL driver asks the platform's identity
//! endpoint (IMDS, App Service, Azure Arc, ...) for an Entra ID token itself.
//!
//! # What each dialect gives
//!
//! `myserver` / `orders` in Azure (global), a user-assigned identity with
//! client id `CLIENT`:
//!
//! | dialect | string |
//! |---|---|
//! | ADO.NET | `Server=tcp:myserver.database.windows.net,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;User Id=CLIENT;` |
//! | JDBC | `jdbc:sqlserver://myserver.database.windows.net:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.windows.net;loginTimeout=30;authentication=ActiveDirectoryMSI;msiClientId=CLIENT` |
//! | ODBC | `Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.windows.net,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;UID=CLIENT;` |
//!
//! Without a client id (system-assigned identity) the last key is left out.
//!
//! - **ADO.NET**, Microsoft.Data.SqlClient: `Active Directory Managed
//!   Identity` exists since 2.1.0; a user-assigned identity named by its
//!   *client id* in `User Id` needs 3.0.0 or later (2.1 took the object id).
//!   From 7.0 the Entra ID modes live in the separate
//!   `Microsoft.Data.SqlClient.Extensions.Azure` package. The legacy
//!   System.Data.SqlClient has no managed identity mode.
//! - **JDBC**, mssql-jdbc: `ActiveDirectoryMSI` with `msiClientId` is the one
//!   spelling every supported driver accepts. Drivers up to 11.2 know only
//!   `ActiveDirectoryMSI` (they reject `ActiveDirectoryManagedIdentity` as an
//!   invalid authentication value, and refuse `user` in MSI mode); from 12.2,
//!   `ActiveDirectoryMSI` is a documented synonym of
//!   `ActiveDirectoryManagedIdentity`, and a client id is read from `user`,
//!   else from `msiClientId` (whose data-source setter is deprecated since
//!   12.1 but which 13.x still reads). 12.2+ needs `azure-identity` on the
//!   class path.
//! - **ODBC**, Microsoft ODBC Driver 18 for SQL Server (`ActiveDirectoryMsi`
//!   exists since 17.3.1.1). The driver passes `UID` on to the identity
//!   endpoint as it finds it: as `client_id` on App Service and Functions
//!   (both `IDENTITY_ENDPOINT` and the older `MSI_ENDPOINT`), but as
//!   `object_id` on IMDS (virtual machines, scale sets, AKS nodes) and Azure
//!   Arc, where Microsoft documents `UID` as the identity's *object* id. So a
//!   client id in `UID` works on App Service and Functions only: there the
//!   engine passes the object id instead (the caller's `user_assigned_client_id`
//!   is then the object id; both are GUIDs).
//!
//! # Server names
//!
//! `server` is a server name (`myserver`, which becomes
//! `myserver.<sql_dns_suffix>`) or a full host name, kept as written; either
//! may carry ADO.NET's `tcp:` prefix and a `,port` (default 1433, or the port
//! a custom cloud's suffix carries, as in `database.localhost:14330`). Host
//! names are lowercased. JDBC's `hostNameInCertificate=*.<suffix>` is added
//! only for a host directly under the cloud's SQL suffix: another host
//! (a managed instance, `mi.abc123.database.windows.net`, or a private DNS
//! name) has a certificate of its own, which the driver checks against the
//! host name by default.
//!
//! # Quoting
//!
//! Rather than quote values by three sets of rules, names that would need it
//! are refused: `;`, `=`, `{`, `}`, `'` and `"`, control characters and any
//! whitespace other than a space, and leading or trailing spaces (which
//! ADO.NET and JDBC trim from unquoted values). The server must be a DNS host
//! name. The one quoting done is ODBC's: a database name with a space or one
//! of `[ ] ( ) , ? * ! @`, characters the ODBC grammar says to keep inside
//! braces, is written as `Database={sales db (eu)}`.

use std::borrow::Cow;

use dsops_config::model::SqlDialect;
use dsops_config::names;

/// The port Azure SQL listens on.
pub(crate) const DEFAULT_PORT: u16 = 1433;

/// JDBC's `loginTimeout`, in seconds: what the Azure portal's own JDBC
/// strings use, so that a paused serverless database has time to resume.
pub(crate) const JDBC_LOGIN_TIMEOUT_SECS: u16 = 30;

/// The ODBC driver named by ODBC strings.
pub(crate) const ODBC_DRIVER: &str = "ODBC Driver 18 for SQL Server";

/// Why no connection string could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SqlError {
    /// `server` is not a host name, or carries a bad port.
    #[error("SQL server `{server}` {reason}")]
    Server {
        /// The server as given, with control characters escaped.
        server: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `database` is empty, too long or has characters that would change the
    /// connection string.
    #[error("database name `{database}` {reason}")]
    Database {
        /// The name as given, with control characters escaped.
        database: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The cloud's SQL DNS suffix is not a DNS name.
    #[error("SQL DNS suffix `{suffix}` is not a DNS suffix such as `database.windows.net`")]
    DnsSuffix {
        /// The suffix as given, with control characters escaped.
        suffix: String,
    },
    /// The user-assigned identity's client id is not a GUID.
    #[error(
        "managed identity client id `{client_id}` is not a GUID such as `00000000-0000-0000-0000-000000000000`"
    )]
    ClientId {
        /// The id as given, with control characters escaped.
        client_id: String,
    },
}

/// A connection string for `database` on `server` that authenticates with the
/// platform's managed identity: system-assigned, or the user-assigned identity
/// whose client id is `user_assigned_client_id`.
///
/// `sql_dns_suffix` is the cloud's (`database.windows.net`,
/// `database.chinacloudapi.cn`, `database.usgovcloudapi.net`, or a custom
/// cloud's, which may carry a port). See the [module documentation](self) for
/// the strings, the driver versions they need, and what is refused.
pub(crate) fn connection_string(
    server: &str,
    database: &str,
    dialect: SqlDialect,
    sql_dns_suffix: &str,
    user_assigned_client_id: Option<&str>,
) -> Result<String, SqlError> {
    let suffix = Suffix::parse(sql_dns_suffix)?;
    let endpoint = Endpoint::parse(server, &suffix)?;
    check_database(database)?;
    if let Some(id) = user_assigned_client_id
        && !names::is_uuid(id)
    {
        return Err(SqlError::ClientId {
            client_id: shown(id),
        });
    }
    let Endpoint { host, port } = &endpoint;
    Ok(match dialect {
        SqlDialect::AdoNet => {
            let mut s = format!(
                "Server=tcp:{host},{port};Database={database};\
                 Authentication=Active Directory Managed Identity;\
                 Encrypt=True;TrustServerCertificate=False;"
            );
            if let Some(id) = user_assigned_client_id {
                s.push_str(&format!("User Id={id};"));
            }
            s
        }
        SqlDialect::Jdbc => {
            let certificate = if endpoint.directly_under(&suffix) {
                format!("hostNameInCertificate=*.{};", suffix.host)
            } else {
                String::new()
            };
            let mut s = format!(
                "jdbc:sqlserver://{host}:{port};database={database};\
                 encrypt=true;trustServerCertificate=false;{certificate}\
                 loginTimeout={JDBC_LOGIN_TIMEOUT_SECS};authentication=ActiveDirectoryMSI"
            );
            if let Some(id) = user_assigned_client_id {
                s.push_str(&format!(";msiClientId={id}"));
            }
            s
        }
        SqlDialect::Odbc => {
            let database = odbc_value(database);
            let mut s = format!(
                "Driver={{{ODBC_DRIVER}}};Server=tcp:{host},{port};Database={database};\
                 Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;"
            );
            if let Some(id) = user_assigned_client_id {
                s.push_str(&format!("UID={id};"));
            }
            s
        }
    })
}

/// A cloud's SQL DNS suffix, with the port a custom cloud may give it.
struct Suffix {
    host: String,
    port: Option<u16>,
}

impl Suffix {
    fn parse(text: &str) -> Result<Self, SqlError> {
        let bad = || SqlError::DnsSuffix {
            suffix: shown(text),
        };
        let trimmed = text.strip_prefix('.').unwrap_or(text);
        let (host, port) = match trimmed.rsplit_once(':') {
            Some((host, port)) => (host, Some(parse_port(port).ok_or_else(bad)?)),
            None => (trimmed, None),
        };
        let host = host.to_ascii_lowercase();
        if names::is_hostname(&host) {
            Ok(Self { host, port })
        } else {
            Err(bad())
        }
    }
}

/// Where the driver connects.
struct Endpoint {
    host: String,
    port: u16,
}

impl Endpoint {
    fn parse(server: &str, suffix: &Suffix) -> Result<Self, SqlError> {
        let bad = |reason: &str| SqlError::Server {
            server: shown(server),
            reason: reason.to_owned(),
        };
        if let Some(c) = server
            .chars()
            .find(|&c| breaks_syntax(c) || c.is_whitespace())
        {
            return Err(bad(&format!(
                "contains `{}`, which would change the connection string",
                c.escape_default()
            )));
        }
        let rest = match server.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("tcp:") => server.get(4..).unwrap_or(""),
            _ => server,
        };
        let (name, port) = match rest.rsplit_once(',') {
            Some((name, port)) => (
                name,
                parse_port(port).ok_or_else(|| bad("has a port that is not 1 to 65535"))?,
            ),
            None => (rest, suffix.port.unwrap_or(DEFAULT_PORT)),
        };
        let name = name.to_ascii_lowercase();
        let host = if name.contains('.') {
            name
        } else {
            format!("{name}.{}", suffix.host)
        };
        if !names::is_hostname(&host) {
            return Err(bad(
                "is not a server name or host name such as `myserver.database.windows.net`",
            ));
        }
        Ok(Self { host, port })
    }

    /// `<one label>.<suffix>`: the hosts the cloud's wildcard certificate names.
    fn directly_under(&self, suffix: &Suffix) -> bool {
        self.host
            .split_once('.')
            .is_some_and(|(_, parent)| parent == suffix.host)
    }
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Characters that end or quote a value in at least one of the three syntaxes.
fn breaks_syntax(c: char) -> bool {
    matches!(c, ';' | '=' | '{' | '}' | '\'' | '"') || c.is_control()
}

fn check_database(database: &str) -> Result<(), SqlError> {
    let bad = |reason: String| SqlError::Database {
        database: shown(database),
        reason,
    };
    let len = database.chars().count();
    if !(1..=128).contains(&len) {
        return Err(bad(format!(
            "is {len} characters long; database names have 1 to 128"
        )));
    }
    if let Some(c) = database
        .chars()
        .find(|&c| breaks_syntax(c) || (c.is_whitespace() && c != ' '))
    {
        return Err(bad(format!(
            "contains `{}`, which would change the connection string",
            c.escape_default()
        )));
    }
    if database.starts_with(' ') || database.ends_with(' ') {
        return Err(bad(
            "starts or ends with a space, which the drivers would trim".to_owned(),
        ));
    }
    Ok(())
}

/// Characters the ODBC grammar says to keep inside braces, and the space.
fn odbc_needs_braces(c: char) -> bool {
    matches!(c, '[' | ']' | '(' | ')' | ',' | '?' | '*' | '!' | '@' | ' ')
}

/// `value`, in braces if ODBC wants it there (it holds no `}`: that is refused).
fn odbc_value(value: &str) -> Cow<'_, str> {
    if value.contains(odbc_needs_braces) {
        Cow::Owned(format!("{{{value}}}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// `text` for an error message: control characters escaped.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod drivers;

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "database.windows.net";
    const CHINA: &str = "database.chinacloudapi.cn";
    const US_GOV: &str = "database.usgovcloudapi.net";
    const CLIENT: &str = "6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01";

    fn ok(server: &str, db: &str, dialect: SqlDialect, suffix: &str, id: Option<&str>) -> String {
        connection_string(server, db, dialect, suffix, id).unwrap()
    }

    /// Every dialect × system/user-assigned × cloud, exactly.
    #[test]
    fn exact_strings() {
        use SqlDialect::{AdoNet, Jdbc, Odbc};
        let cases: &[(SqlDialect, &str, Option<&str>, &str)] = &[
            (
                AdoNet,
                PUBLIC,
                None,
                "Server=tcp:myserver.database.windows.net,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;",
            ),
            (
                AdoNet,
                PUBLIC,
                Some(CLIENT),
                "Server=tcp:myserver.database.windows.net,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;User Id=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;",
            ),
            (
                AdoNet,
                CHINA,
                None,
                "Server=tcp:myserver.database.chinacloudapi.cn,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;",
            ),
            (
                AdoNet,
                CHINA,
                Some(CLIENT),
                "Server=tcp:myserver.database.chinacloudapi.cn,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;User Id=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;",
            ),
            (
                AdoNet,
                US_GOV,
                None,
                "Server=tcp:myserver.database.usgovcloudapi.net,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;",
            ),
            (
                AdoNet,
                US_GOV,
                Some(CLIENT),
                "Server=tcp:myserver.database.usgovcloudapi.net,1433;Database=orders;Authentication=Active Directory Managed Identity;Encrypt=True;TrustServerCertificate=False;User Id=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;",
            ),
            (
                Jdbc,
                PUBLIC,
                None,
                "jdbc:sqlserver://myserver.database.windows.net:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.windows.net;loginTimeout=30;authentication=ActiveDirectoryMSI",
            ),
            (
                Jdbc,
                PUBLIC,
                Some(CLIENT),
                "jdbc:sqlserver://myserver.database.windows.net:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.windows.net;loginTimeout=30;authentication=ActiveDirectoryMSI;msiClientId=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01",
            ),
            (
                Jdbc,
                CHINA,
                None,
                "jdbc:sqlserver://myserver.database.chinacloudapi.cn:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.chinacloudapi.cn;loginTimeout=30;authentication=ActiveDirectoryMSI",
            ),
            (
                Jdbc,
                CHINA,
                Some(CLIENT),
                "jdbc:sqlserver://myserver.database.chinacloudapi.cn:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.chinacloudapi.cn;loginTimeout=30;authentication=ActiveDirectoryMSI;msiClientId=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01",
            ),
            (
                Jdbc,
                US_GOV,
                None,
                "jdbc:sqlserver://myserver.database.usgovcloudapi.net:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.usgovcloudapi.net;loginTimeout=30;authentication=ActiveDirectoryMSI",
            ),
            (
                Jdbc,
                US_GOV,
                Some(CLIENT),
                "jdbc:sqlserver://myserver.database.usgovcloudapi.net:1433;database=orders;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.usgovcloudapi.net;loginTimeout=30;authentication=ActiveDirectoryMSI;msiClientId=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01",
            ),
            (
                Odbc,
                PUBLIC,
                None,
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.windows.net,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;",
            ),
            (
                Odbc,
                PUBLIC,
                Some(CLIENT),
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.windows.net,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;UID=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;",
            ),
            (
                Odbc,
                CHINA,
                None,
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.chinacloudapi.cn,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;",
            ),
            (
                Odbc,
                CHINA,
                Some(CLIENT),
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.chinacloudapi.cn,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;UID=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;",
            ),
            (
                Odbc,
                US_GOV,
                None,
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.usgovcloudapi.net,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;",
            ),
            (
                Odbc,
                US_GOV,
                Some(CLIENT),
                "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.usgovcloudapi.net,1433;Database=orders;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;UID=6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;",
            ),
        ];
        for (dialect, suffix, id, want) in cases {
            assert_eq!(
                ok("myserver", "orders", *dialect, suffix, *id),
                *want,
                "{dialect:?} {suffix} {id:?}"
            );
        }
    }

    #[test]
    fn server_forms_give_the_same_endpoint() {
        let want = "Server=tcp:myserver.database.windows.net,1433;";
        for server in [
            "myserver",
            "MyServer",
            "myserver.database.windows.net",
            "tcp:myserver.database.windows.net",
            "TCP:myserver.database.windows.net,1433",
            "myserver,1433",
            "tcp:myserver",
        ] {
            let s = ok(server, "orders", SqlDialect::AdoNet, PUBLIC, None);
            assert!(s.starts_with(want), "{server}: {s}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(
            ok("tcp:myserver,11000", "db", SqlDialect::Jdbc, PUBLIC, None),
            "jdbc:sqlserver://myserver.database.windows.net:11000;database=db;encrypt=true;trustServerCertificate=false;hostNameInCertificate=*.database.windows.net;loginTimeout=30;authentication=ActiveDirectoryMSI"
        );
        // A custom cloud's suffix may carry the port.
        assert_eq!(
            ok(
                "myserver",
                "db",
                SqlDialect::Odbc,
                "database.localhost:14330",
                None
            ),
            "Driver={ODBC Driver 18 for SQL Server};Server=tcp:myserver.database.localhost,14330;Database=db;Encrypt=yes;TrustServerCertificate=no;Authentication=ActiveDirectoryMsi;"
        );
        // The server's own port wins over the suffix's.
        assert!(
            ok(
                "myserver,1500",
                "db",
                SqlDialect::AdoNet,
                "database.localhost:14330",
                None
            )
            .starts_with("Server=tcp:myserver.database.localhost,1500;")
        );
        for bad in [
            "myserver,",
            "myserver,0",
            "myserver,65536",
            "myserver,+1",
            "myserver,x",
        ] {
            assert!(
                matches!(
                    connection_string(bad, "db", SqlDialect::AdoNet, PUBLIC, None),
                    Err(SqlError::Server { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn certificate_wildcard_only_for_hosts_under_the_suffix() {
        // A managed instance has a certificate of its own.
        let mi = ok(
            "tcp:mi-prod.abc123def456.database.windows.net,1433",
            "db",
            SqlDialect::Jdbc,
            PUBLIC,
            None,
        );
        assert_eq!(
            mi,
            "jdbc:sqlserver://mi-prod.abc123def456.database.windows.net:1433;database=db;encrypt=true;trustServerCertificate=false;loginTimeout=30;authentication=ActiveDirectoryMSI"
        );
        // A host of another cloud than the store's is kept, without a wildcard.
        let other = ok(
            "myserver.database.chinacloudapi.cn",
            "db",
            SqlDialect::Jdbc,
            PUBLIC,
            None,
        );
        assert!(!other.contains("hostNameInCertificate"), "{other}");
        assert!(other.starts_with("jdbc:sqlserver://myserver.database.chinacloudapi.cn:1433;"));
    }

    #[test]
    fn odbc_braces_names_the_grammar_asks_for() {
        let s = ok("myserver", "sales db (eu)!", SqlDialect::Odbc, PUBLIC, None);
        assert!(s.contains(";Database={sales db (eu)!};"), "{s}");
        let s = ok(
            "myserver",
            "sales db (eu)!",
            SqlDialect::AdoNet,
            PUBLIC,
            None,
        );
        assert!(s.contains(";Database=sales db (eu)!;"), "{s}");
        let s = ok("myserver", "sales db (eu)!", SqlDialect::Jdbc, PUBLIC, None);
        assert!(s.contains(";database=sales db (eu)!;"), "{s}");
        let s = ok(
            "myserver",
            "Bestellungen_ä-2",
            SqlDialect::Odbc,
            PUBLIC,
            None,
        );
        assert!(s.contains(";Database=Bestellungen_ä-2;"), "{s}");
    }

    #[test]
    fn refuses_what_would_change_the_string() {
        for server in [
            "my;server",
            "myserver;Database=master",
            "my=server",
            "{myserver}",
            "'myserver'",
            "\"myserver\"",
            "my server",
            "myserver\n",
            "myserver\u{0}",
            "",
            "tcp:",
            "-myserver",
            "my_server",
            "myserver.database.windows.net.",
            "np:myserver",
            "myserver:1433",
            "myserver\\instance",
        ] {
            let err = connection_string(server, "db", SqlDialect::Odbc, PUBLIC, None).unwrap_err();
            assert!(matches!(err, SqlError::Server { .. }), "{server:?}: {err}");
        }
        for database in [
            "",
            "a;b",
            "orders;Authentication=SqlPassword",
            "a=b",
            "{a}",
            "a}",
            "it's",
            "\"db\"",
            "tab\there",
            "line\nbreak",
            "nul\u{0}",
            "line\u{2028}separator",
            " leading",
            "trailing ",
        ] {
            let err = connection_string("myserver", database, SqlDialect::AdoNet, PUBLIC, None)
                .unwrap_err();
            assert!(
                matches!(err, SqlError::Database { .. }),
                "{database:?}: {err}"
            );
        }
        let long = "d".repeat(129);
        assert!(connection_string("myserver", &long, SqlDialect::Jdbc, PUBLIC, None).is_err());
        assert!(
            connection_string("myserver", &"d".repeat(128), SqlDialect::Jdbc, PUBLIC, None).is_ok()
        );
        for id in [
            "",
            "not-a-guid",
            "6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01;Password=x",
            "6e8b7a3c1f0d4c399a552b7d1e4f9c01",
        ] {
            let err = connection_string("myserver", "db", SqlDialect::AdoNet, PUBLIC, Some(id))
                .unwrap_err();
            assert!(matches!(err, SqlError::ClientId { .. }), "{id:?}: {err}");
        }
        for suffix in [
            "",
            "database windows net",
            "database.windows.net;x=y",
            "x:0",
        ] {
            let err =
                connection_string("myserver", "db", SqlDialect::AdoNet, suffix, None).unwrap_err();
            assert!(
                matches!(err, SqlError::DnsSuffix { .. }),
                "{suffix:?}: {err}"
            );
        }
    }

    #[test]
    fn errors_show_control_characters_escaped() {
        let err = connection_string("myserver", "a\nb", SqlDialect::AdoNet, PUBLIC, None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("a\\nb"), "{err}");
    }
}
