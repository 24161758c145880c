//! Any bytes through the whole `dsops check` path: parse, validate, render
//! for people and for tools. Nothing may panic, and a configuration is
//! returned exactly when there is no error.

#![no_main]

use std::collections::HashMap;

use dsops_config::report::{self, Style};
use dsops_config::{LoadOptions, Source, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let env: HashMap<String, String> =
        HashMap::from([("SET".to_owned(), "12345678-1234-1234-1234-123456789012".to_owned())]);
    for options in [LoadOptions::check(), LoadOptions::resolve()] {
        let loaded = load(Source::new("fuzz.yaml", text.as_ref()), &env, options);
        let all: Vec<_> = loaded.diagnostics().iter().collect();
        let _ = report::human(loaded.source(), loaded.sensitive_spans(), &all, Style::Plain);
        let _ = report::json(loaded.source(), &all);
        for d in &all {
            let _ = report::short(loaded.source(), d);
        }
        assert_eq!(loaded.config().is_some(), !loaded.has_errors());
    }
});
