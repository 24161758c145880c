//! The Azure SQL connection strings parse back, by each driver's own rules,
//! to exactly the keywords and values that were put in, and use only
//! keywords (and authentication values) the drivers document.

use std::collections::BTreeMap;

use super::connection_string;
use dsops_config::model::SqlDialect;

const CLIENT: &str = "6e8b7a3c-1f0d-4c39-9a55-2b7d1e4f9c01";
const SUFFIXES: [&str; 3] = [
    "database.windows.net",
    "database.chinacloudapi.cn",
    "database.usgovcloudapi.net",
];
/// Database names that need no quoting anywhere, and ones ODBC wants braced.
const DATABASES: [&str; 5] = [
    "orders",
    "Orders-2024_v2.archive",
    "sales db (eu)!",
    "[quarterly] @reports, *draft*?",
    "Bestellungen_ä",
];

// Microsoft.Data.SqlClient: the keyword table of SqlConnection.ConnectionString,
// https://learn.microsoft.com/dotnet/api/microsoft.data.sqlclient.sqlconnection.connectionstring
// (source: dotnet/SqlClient doc/snippets/Microsoft.Data.SqlClient/SqlConnection.xml).
// Keywords are not case sensitive.
const ADO_NET_KEYWORDS: &[&str] = &[
    "Addr",
    "Address",
    "App",
    "Application Intent",
    "ApplicationIntent",
    "Application Name",
    "AttachDBFilename",
    "Extended Properties",
    "Initial File Name",
    "Attestation Protocol",
    "Authentication",
    "Column Encryption Setting",
    "Command Timeout",
    "Connect Retry Count",
    "ConnectRetryCount",
    "Connect Retry Interval",
    "ConnectRetryInterval",
    "Connect Timeout",
    "Connection Timeout",
    "Timeout",
    "Current Language",
    "Language",
    "Data Source",
    "Server",
    "Network Address",
    "Enclave Attestation Url",
    "Encrypt",
    "Enlist",
    "Failover Partner",
    "Failover Partner SPN",
    "FailoverPartnerSPN",
    "Host Name In Certificate",
    "HostNameInCertificate",
    "Server Certificate",
    "ServerCertificate",
    "Initial Catalog",
    "Database",
    "Integrated Security",
    "Trusted_Connection",
    "IP Address Preference",
    "IPAddressPreference",
    "Load Balance Timeout",
    "Connection Lifetime",
    "Max Pool Size",
    "Min Pool Size",
    "Multiple Active Result Sets",
    "MultipleActiveResultSets",
    "Multi Subnet Failover",
    "MultiSubnetFailover",
    "Network Library",
    "Network",
    "Net",
    "Packet Size",
    "Password",
    "PWD",
    "Persist Security Info",
    "PersistSecurityInfo",
    "Pool Blocking Period",
    "PoolBlockingPeriod",
    "Pooling",
    "Replication",
    "Server SPN",
    "ServerSPN",
    "Transaction Binding",
    "Transparent Network IP Resolution",
    "TransparentNetworkIPResolution",
    "Trust Server Certificate",
    "TrustServerCertificate",
    "Type System Version",
    "User ID",
    "UID",
    "User",
    "User Instance",
    "Workstation ID",
    "WSID",
];
// Same page, `Authentication`'s valid values; "Active Directory Managed
// Identity" and "Active Directory MSI" since 2.1.0, per
// https://learn.microsoft.com/sql/connect/ado-net/sql/azure-active-directory-authentication
const ADO_NET_AUTHENTICATION: &[&str] = &[
    "Active Directory Integrated",
    "Active Directory Interactive",
    "Active Directory Password",
    "Active Directory Service Principal",
    "Active Directory Device Code Flow",
    "Active Directory Managed Identity",
    "Active Directory MSI",
    "Active Directory Default",
    "Sql Password",
];

// mssql-jdbc: https://learn.microsoft.com/sql/connect/jdbc/setting-the-connection-properties
// (the driver's own list: DRIVER_PROPERTIES and driverPropertiesSynonyms in
// microsoft/mssql-jdbc src/main/java/com/microsoft/sqlserver/jdbc/SQLServerDriver.java,
// 13.x). Property names are case-insensitive.
const JDBC_PROPERTIES: &[&str] = &[
    "AADSecurePrincipalId",
    "AADSecurePrincipalSecret",
    "accessToken",
    "accessTokenCallbackClass",
    "applicationIntent",
    "applicationName",
    "authentication",
    "authenticationScheme",
    "calcBigDecimalPrecision",
    "cancelQueryTimeout",
    "clientCertificate",
    "clientKey",
    "clientKeyPassword",
    "columnEncryptionSetting",
    "connectRetryCount",
    "connectRetryInterval",
    "databaseName",
    "database",
    "datetimeParameterType",
    "delayLoadingLobs",
    "disableStatementPooling",
    "domain",
    "domainName",
    "enablePrepareOnFirstPreparedStatementCall",
    "enclaveAttestationProtocol",
    "enclaveAttestationUrl",
    "encrypt",
    "failoverPartner",
    "fips",
    "hostNameInCertificate",
    "instanceName",
    "integratedSecurity",
    "iPAddressPreference",
    "jaasConfigurationName",
    "keyStoreAuthentication",
    "keyStoreLocation",
    "keyStorePrincipalId",
    "keyStoreSecret",
    "keyVaultProviderClientId",
    "keyVaultProviderClientKey",
    "lastUpdateCount",
    "lockTimeout",
    "loginTimeout",
    "maxResultBuffer",
    "msiClientId",
    "multiSubnetFailover",
    "packetSize",
    "password",
    "portNumber",
    "port",
    "prepareMethod",
    "queryTimeout",
    "realm",
    "replication",
    "responseBuffering",
    "selectMethod",
    "sendStringParametersAsUnicode",
    "sendTemporalDataTypesAsStringForBulkCopy",
    "sendTimeAsDatetime",
    "serverCertificate",
    "serverName",
    "server",
    "serverNameAsACE",
    "serverPreparedStatementDiscardThreshold",
    "serverSpn",
    "socketFactoryClass",
    "socketFactoryConstructorArg",
    "socketTimeout",
    "sslProtocol",
    "statementPoolingCacheSize",
    "TransparentNetworkIPResolution",
    "trustManagerClass",
    "trustManagerConstructorArg",
    "trustServerCertificate",
    "trustStore",
    "trustStorePassword",
    "trustStoreType",
    "useBulkCopyForBatchInsert",
    "useFmtOnly",
    "user",
    "userName",
    "workstationID",
    "xopenStates",
];
// `authentication`'s values, https://learn.microsoft.com/sql/connect/jdbc/connecting-using-azure-active-directory-authentication:
// ActiveDirectoryMSI since 7.2 and, from 12.2, a synonym of
// ActiveDirectoryManagedIdentity (driverPropertyValuesSynonyms).
const JDBC_AUTHENTICATION: &[&str] = &[
    "NotSpecified",
    "SqlPassword",
    "ActiveDirectoryPassword",
    "ActiveDirectoryIntegrated",
    "ActiveDirectoryManagedIdentity",
    "ActiveDirectoryMSI",
    "ActiveDirectoryServicePrincipal",
    "ActiveDirectoryServicePrincipalCertificate",
    "ActiveDirectoryInteractive",
    "ActiveDirectoryDefault",
];

// Microsoft ODBC Driver for SQL Server:
// https://learn.microsoft.com/sql/connect/odbc/dsn-connection-string-attribute
// (Authentication values: https://learn.microsoft.com/sql/connect/odbc/using-azure-active-directory).
const ODBC_KEYWORDS: &[&str] = &[
    "Addr",
    "Address",
    "AnsiNPW",
    "APP",
    "ApplicationIntent",
    "AttachDBFileName",
    "Authentication",
    "AutoTranslate",
    "ClientCertificate",
    "ClientKey",
    "ColumnEncryption",
    "ConnectRetryCount",
    "ConnectRetryInterval",
    "Database",
    "Description",
    "Driver",
    "DSN",
    "Encrypt",
    "Failover_Partner",
    "FailoverPartnerSPN",
    "FileDSN",
    "GetDataExtensions",
    "HostnameInCertificate",
    "IpAddressPreference",
    "KeepAlive",
    "KeepAliveInterval",
    "KeystoreAuthentication",
    "KeystorePrincipalId",
    "KeystoreSecret",
    "Language",
    "LongAsMax",
    "MARS_Connection",
    "MultiSubnetFailover",
    "Net",
    "Network",
    "PWD",
    "QueryLog_On",
    "QueryLogFile",
    "QueryLogTime",
    "QuotedId",
    "Regional",
    "Replication",
    "RetryExec",
    "SaveFile",
    "Server",
    "ServerCertificate",
    "ServerSPN",
    "StatsLog_On",
    "StatsLogFile",
    "TransparentNetworkIPResolution",
    "Trusted_Connection",
    "TrustServerCertificate",
    "UID",
    "UseFMTONLY",
    "WSID",
];
const ODBC_AUTHENTICATION: &[&str] = &[
    "SqlPassword",
    "ActiveDirectoryPassword",
    "ActiveDirectoryIntegrated",
    "ActiveDirectoryInteractive",
    "ActiveDirectoryMsi",
    "ActiveDirectoryServicePrincipal",
];

/// Keyword (lowercased) → value, refusing a keyword given twice.
type Pairs = BTreeMap<String, String>;

fn insert(pairs: &mut Pairs, key: &str, value: String) -> Result<(), String> {
    let key = key.trim().to_lowercase();
    if key.is_empty() {
        return Err("empty keyword".into());
    }
    match pairs.insert(key.clone(), value) {
        Some(_) => Err(format!("`{key}` given twice")),
        None => Ok(()),
    }
}

/// SqlClient's syntax (SqlConnection.ConnectionString remarks): `key=value`
/// pairs split by `;`; `==` in a key is a literal `=`; keys are trimmed and
/// not case sensitive; an unquoted value is trimmed; a value may be quoted
/// with `"` or `'`, a doubled quote standing for itself.
fn parse_ado_net(s: &str) -> Result<Pairs, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut pairs = Pairs::new();
    let mut i = 0;
    loop {
        while i < chars.len() && (chars[i] == ';' || chars[i].is_whitespace()) {
            i += 1;
        }
        if i == chars.len() {
            return Ok(pairs);
        }
        let mut key = String::new();
        loop {
            match chars.get(i) {
                None => return Err(format!("keyword `{key}` without `=`")),
                Some(';') => return Err(format!("keyword `{key}` without `=`")),
                Some('=') if chars.get(i + 1) == Some(&'=') => {
                    key.push('=');
                    i += 2;
                }
                Some('=') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    key.push(*c);
                    i += 1;
                }
            }
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        match chars.get(i) {
            Some(&q @ ('"' | '\'')) => {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated {q} in `{key}`")),
                        Some(&c) if c == q && chars.get(i + 1) == Some(&q) => {
                            value.push(q);
                            i += 2;
                        }
                        Some(&c) if c == q => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            value.push(c);
                            i += 1;
                        }
                    }
                }
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
                if i < chars.len() && chars[i] != ';' {
                    return Err(format!("text after the quoted value of `{key}`"));
                }
            }
            _ => {
                while i < chars.len() && chars[i] != ';' {
                    value.push(chars[i]);
                    i += 1;
                }
                value = value.trim().to_owned();
            }
        }
        insert(&mut pairs, &key, value)?;
    }
}

/// mssql-jdbc's URL syntax, the state machine of `Util.parseUrl`:
/// `jdbc:sqlserver://[server][\instance][:port][;name=value]*`. Names are
/// trimmed and case-insensitive; a plain value is trimmed; `{...}` escapes a
/// value, `}}` standing for `}`.
fn parse_jdbc(s: &str) -> Result<(String, String, Pairs), String> {
    let rest = s
        .strip_prefix("jdbc:sqlserver://")
        .ok_or("no jdbc:sqlserver:// prefix")?;
    let (address, properties) = rest.split_once(';').unwrap_or((rest, ""));
    if address.contains('\\') {
        return Err("an instance name".into());
    }
    let (server, port) = address.split_once(':').ok_or("no port")?;
    if server.trim().contains('=') {
        return Err("`=` in the server name".into());
    }
    let chars: Vec<char> = properties.chars().collect();
    let mut pairs = Pairs::new();
    let mut i = 0;
    while i < chars.len() {
        let mut name = String::new();
        loop {
            match chars.get(i) {
                None if name.trim().is_empty() => {
                    return Ok((server.trim().into(), port.trim().into(), pairs));
                }
                None => return Err(format!("name `{name}` without a value")),
                Some(';') if name.trim().is_empty() => i += 1,
                Some(';') => return Err(format!("name `{name}` without a value")),
                Some('=') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    name.push(*c);
                    i += 1;
                }
            }
        }
        let mut value = String::new();
        loop {
            match chars.get(i) {
                None | Some(';') => {
                    i += 1;
                    value = value.trim().to_owned();
                    break;
                }
                Some('{') => {
                    if !value.trim().is_empty() {
                        return Err(format!("`{{` inside the value of `{name}`"));
                    }
                    value.clear();
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => return Err(format!("unterminated {{ in `{name}`")),
                            Some('}') if chars.get(i + 1) == Some(&'}') => {
                                value.push('}');
                                i += 2;
                            }
                            Some('}') => {
                                i += 1;
                                break;
                            }
                            Some(c) => {
                                value.push(*c);
                                i += 1;
                            }
                        }
                    }
                    while chars.get(i) == Some(&' ') {
                        i += 1;
                    }
                    match chars.get(i) {
                        None | Some(';') => i += 1,
                        Some(_) => return Err(format!("text after the escaped value of `{name}`")),
                    }
                    break;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        insert(&mut pairs, &name, value)?;
    }
    Ok((server.trim().into(), port.trim().into(), pairs))
}

/// The ODBC connection string grammar (SQLDriverConnect):
/// `keyword=value` pairs split by `;`; a value in braces runs to the closing
/// `}` (`}}` standing for `}`) and may hold any character.
fn parse_odbc(s: &str) -> Result<Pairs, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut pairs = Pairs::new();
    let mut i = 0;
    while i < chars.len() {
        let mut key = String::new();
        loop {
            match chars.get(i) {
                None => return Err(format!("keyword `{key}` without `=`")),
                Some(';') | Some('{') | Some('}') => {
                    return Err(format!("`{}` in keyword `{key}`", chars[i]));
                }
                Some('=') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    key.push(*c);
                    i += 1;
                }
            }
        }
        let mut value = String::new();
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated {{ in `{key}`")),
                    Some('}') if chars.get(i + 1) == Some(&'}') => {
                        value.push('}');
                        i += 2;
                    }
                    Some('}') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            match chars.get(i) {
                None | Some(';') => i += 1,
                Some(_) => return Err(format!("text after the braced value of `{key}`")),
            }
        } else {
            while let Some(&c) = chars.get(i) {
                i += 1;
                if c == ';' {
                    break;
                }
                if matches!(c, '{' | '}') {
                    return Err(format!("unbraced `{c}` in the value of `{key}`"));
                }
                // The grammar asks for these to be braced: the Server value's
                // `tcp:host,port` is the one exception the driver documents.
                if c != ',' && "[]()?*!@ ".contains(c) {
                    return Err(format!("unbraced `{c}` in the value of `{key}`"));
                }
                value.push(c);
            }
        }
        insert(&mut pairs, &key, value)?;
    }
    Ok(pairs)
}

fn documented(list: &[&str], key: &str) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(key))
}

fn expect(pairs: &[(&str, String)]) -> Pairs {
    pairs
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect()
}

fn cases() -> impl Iterator<Item = (&'static str, &'static str, Option<&'static str>)> {
    SUFFIXES.into_iter().flat_map(|suffix| {
        DATABASES
            .into_iter()
            .flat_map(move |db| [(suffix, db, None), (suffix, db, Some(CLIENT))])
    })
}

#[test]
fn ado_net_round_trips() {
    for (suffix, db, id) in cases() {
        let s = connection_string("myserver", db, SqlDialect::AdoNet, suffix, id).unwrap();
        let parsed = parse_ado_net(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let mut want = vec![
            ("Server", format!("tcp:myserver.{suffix},1433")),
            ("Database", db.to_owned()),
            (
                "Authentication",
                "Active Directory Managed Identity".to_owned(),
            ),
            ("Encrypt", "True".to_owned()),
            ("TrustServerCertificate", "False".to_owned()),
        ];
        if let Some(id) = id {
            want.push(("User Id", id.to_owned()));
        }
        assert_eq!(parsed, expect(&want), "{s}");
        for key in parsed.keys() {
            assert!(
                documented(ADO_NET_KEYWORDS, key),
                "`{key}` is not a documented SqlClient keyword"
            );
        }
        assert!(documented(
            ADO_NET_AUTHENTICATION,
            &parsed["authentication"]
        ));
    }
}

#[test]
fn jdbc_round_trips() {
    for (suffix, db, id) in cases() {
        let s = connection_string("myserver", db, SqlDialect::Jdbc, suffix, id).unwrap();
        let (server, port, parsed) = parse_jdbc(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(server, format!("myserver.{suffix}"));
        assert_eq!(port, "1433");
        let mut want = vec![
            ("database", db.to_owned()),
            ("encrypt", "true".to_owned()),
            ("trustServerCertificate", "false".to_owned()),
            ("hostNameInCertificate", format!("*.{suffix}")),
            ("loginTimeout", "30".to_owned()),
            ("authentication", "ActiveDirectoryMSI".to_owned()),
        ];
        if let Some(id) = id {
            want.push(("msiClientId", id.to_owned()));
        }
        assert_eq!(parsed, expect(&want), "{s}");
        for key in parsed.keys() {
            assert!(
                documented(JDBC_PROPERTIES, key),
                "`{key}` is not a documented mssql-jdbc property"
            );
        }
        assert!(documented(JDBC_AUTHENTICATION, &parsed["authentication"]));
    }
}

#[test]
fn odbc_round_trips() {
    for (suffix, db, id) in cases() {
        let s = connection_string("myserver", db, SqlDialect::Odbc, suffix, id).unwrap();
        let parsed = parse_odbc(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let mut want = vec![
            ("Driver", "ODBC Driver 18 for SQL Server".to_owned()),
            ("Server", format!("tcp:myserver.{suffix},1433")),
            ("Database", db.to_owned()),
            ("Encrypt", "yes".to_owned()),
            ("TrustServerCertificate", "no".to_owned()),
            ("Authentication", "ActiveDirectoryMsi".to_owned()),
        ];
        if let Some(id) = id {
            want.push(("UID", id.to_owned()));
        }
        assert_eq!(parsed, expect(&want), "{s}");
        for key in parsed.keys() {
            assert!(
                documented(ODBC_KEYWORDS, key),
                "`{key}` is not a documented ODBC driver keyword"
            );
        }
        assert!(documented(ODBC_AUTHENTICATION, &parsed["authentication"]));
    }
}

#[test]
fn parsers_catch_injection() {
    // The parsers are strict enough to notice what the builder refuses.
    assert!(parse_ado_net("Server=a;Database=x;Authentication=Sql Password;Database=y").is_err());
    assert!(parse_odbc("Database=a b;").is_err());
    assert_eq!(parse_odbc("Database={a}}b};").unwrap()["database"], "a}b");
    assert_eq!(
        parse_ado_net("Database=\"a;\"\"b\";").unwrap()["database"],
        "a;\"b"
    );
    let (_, _, p) = parse_jdbc("jdbc:sqlserver://h:1;database={a;b}}c}").unwrap();
    assert_eq!(p["database"], "a;b}c");
    for db in ["x;Authentication=SqlPassword", "x}", "{x}", "'x'"] {
        for dialect in [SqlDialect::AdoNet, SqlDialect::Jdbc, SqlDialect::Odbc] {
            assert!(connection_string("myserver", db, dialect, SUFFIXES[0], None).is_err());
        }
    }
}
