//! `dsops render`'s encoders, round trip: any values (split from the input
//! at 0xFF bytes) written as dotenv, JSON and YAML read back exactly, in
//! order, by dotenvy, serde_json and serde-saphyr.

#![no_main]

use dsops::format::{Format, encode};
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

fuzz_target!(|data: &[u8]| {
    let values: Vec<(String, SecretString)> = data
        .split(|&b| b == 0xff)
        .take(16)
        .enumerate()
        .map(|(i, bytes)| {
            let value = String::from_utf8_lossy(bytes).into_owned();
            (format!("V{i}"), SecretString::from(value))
        })
        .collect();
    let expected: Vec<(String, String)> = values
        .iter()
        .map(|(n, v)| (n.clone(), v.expose_secret().to_owned()))
        .collect();

    let dotenv = encode(Format::Dotenv, &values);
    // dotenvy cannot hold a NUL in a value (it is a C string to the OS);
    // every other character must come back.
    if !expected.iter().any(|(_, v)| v.contains('\0')) {
        let parsed: Vec<(String, String)> = dotenvy::from_read_iter(dotenv.expose_secret().as_bytes())
            .collect::<Result<_, _>>()
            .expect("dotenvy reads what dsops writes");
        assert_eq!(parsed, expected, "dotenv round trip");
    }

    let json = encode(Format::Json, &values);
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json.expose_secret()).expect("JSON parses");
    let parsed: Vec<(String, String)> = parsed
        .into_iter()
        .map(|(n, v)| (n, v.as_str().expect("a string").to_owned()))
        .collect();
    let mut sorted = expected.clone();
    sorted.sort();
    let mut got = parsed;
    got.sort();
    assert_eq!(got, sorted, "JSON round trip");

    let yaml = encode(Format::Yaml, &values);
    let parsed: std::collections::BTreeMap<String, String> =
        serde_saphyr::from_str(yaml.expose_secret()).expect("YAML parses");
    let parsed: Vec<(String, String)> = parsed.into_iter().collect();
    assert_eq!(parsed, sorted, "YAML round trip");
});
