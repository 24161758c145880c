//! The output redactor: for any secrets and any output written in any
//! chunks, the streaming writer gives exactly what `redact` gives for the
//! whole output, and no secret (of at least MIN_SECRET_LEN bytes, without
//! a `*` that the mask itself could complete) is left in it.
//!
//! Input layout: byte 0 = number of secrets (mod 8); then each secret is
//! a length byte and that many bytes; then a chunk-size seed byte; the
//! rest is the output.

#![no_main]

use std::io::Write;

use dsops::redact::{MIN_SECRET_LEN, Redactor};
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

fuzz_target!(|data: &[u8]| {
    let Some((&count, mut rest)) = data.split_first() else {
        return;
    };
    let mut secrets = Vec::new();
    for _ in 0..count % 8 {
        let Some((&len, tail)) = rest.split_first() else {
            return;
        };
        let len = usize::from(len % 32).min(tail.len());
        let (secret, tail) = tail.split_at(len);
        secrets.push(SecretString::from(String::from_utf8_lossy(secret).into_owned()));
        rest = tail;
    }
    let Some((&seed, output)) = rest.split_first() else {
        return;
    };
    let Ok(redactor) = Redactor::new(secrets.iter()) else {
        return;
    };
    let whole = redactor.redact(output);

    let mut writer = redactor.writer(Vec::new());
    let step = usize::from(seed % 17) + 1;
    for (i, chunk) in output.chunks(step).enumerate() {
        writer.write_all(chunk).expect("writes to a Vec");
        if i % 3 == 0 {
            writer.flush().expect("flushes to a Vec");
        }
    }
    writer.finish().expect("finishes");
    assert_eq!(writer.get_ref(), &whole, "streaming equals whole");

    for secret in &secrets {
        let secret = secret.expose_secret().as_bytes();
        if secret.len() >= MIN_SECRET_LEN && !secret.contains(&b'*') {
            assert!(
                !whole.windows(secret.len()).any(|w| w == secret),
                "a secret is left in the output"
            );
        }
    }
});
