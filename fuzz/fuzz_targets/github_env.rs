//! `GITHUB_ENV` / `GITHUB_OUTPUT` entries, round trip through the runner's
//! parsing rules: for any name and value (split from the input at the
//! first 0xFF byte), an entry is either refused with a reason or reads back
//! as exactly that one name and value; `add_mask_lines` never panics and
//! its lines unescape to parts of the value (or, for a JSON value, to
//! decoded leaf strings).

#![no_main]

use dsops::ci::github::{
    FileKind, RunnerOs, add_mask_lines, file_command_entry_for, new_delimiter,
    parse_file_commands_for, unescape_data,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (name, value) = match data.iter().position(|&b| b == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b"NAME"[..], data),
    };
    let name = String::from_utf8_lossy(name);
    let value = String::from_utf8_lossy(value);
    let delimiter = new_delimiter().expect("random delimiter");
    for os in [RunnerOs::Unix, RunnerOs::Windows] {
        for kind in [FileKind::Env, FileKind::Output] {
            let Ok(entry) = file_command_entry_for(os, kind, &name, &value, &delimiter) else {
                continue;
            };
            let parsed = parse_file_commands_for(os, &entry).expect("the runner parses it");
            // On Windows the runner splits lines on \r\n only; a value's own
            // line breaks survive either way.
            assert_eq!(parsed, vec![(name.to_string(), value.to_string())]);
        }
    }
    for line in add_mask_lines(&value) {
        let data = line.strip_prefix("::add-mask::").expect("an add-mask line");
        assert!(!data.contains(['\r', '\n']), "one line");
        let part = unescape_data(data);
        // A part is in the value as written, except a JSON leaf string,
        // which is masked decoded (programs log the decoded field).
        let is_json = serde_json::from_str::<serde_json::Value>(&value).is_ok();
        assert!(
            value.contains(&part) || value.contains(part.trim()) || is_json,
            "a part of the value"
        );
    }
});
