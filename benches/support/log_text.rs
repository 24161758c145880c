//! Generated service-log text with a few secrets in it, what the redaction
//! benchmarks mask: shared by `benches/redact.rs` and `dsops-bench redact`
//! (crates/dsops-bench).

use std::io::Write as _;

/// xorshift64*: deterministic, no dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Lines of a service log; one line in 5,000 carries a secret.
pub(crate) fn log(rng: &mut Rng, bytes: usize, secrets: &[String]) -> Vec<u8> {
    const LEVELS: &[&str] = &["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
    const WORDS: &[&str] = &[
        "request",
        "handled",
        "user",
        "session",
        "cache",
        "miss",
        "hit",
        "connecting",
        "to",
        "database",
        "query",
        "took",
        "retrying",
        "upstream",
        "timeout",
        "GET",
        "POST",
        "/api/v1/items",
        "/healthz",
        "status",
        "ok",
        "failed",
        "worker",
        "started",
        "stopped",
        "bytes",
        "sent",
        "received",
        "token",
        "refreshed",
        "queue",
        "depth",
        "the",
        "a",
        "of",
        "in",
    ];
    let mut out = Vec::with_capacity(bytes + 256);
    let mut line = 0u64;
    while out.len() < bytes {
        line += 1;
        write!(
            out,
            "2025-01-{:02}T{:02}:{:02}:{:02}.{:03}Z {:5} [{}] ",
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000),
            rng.pick(LEVELS),
            rng.below(16),
        )
        .unwrap();
        for _ in 0..4 + rng.below(10) {
            if rng.below(3) == 0 {
                write!(out, "{} ", rng.below(100_000)).unwrap();
            } else {
                write!(out, "{} ", rng.pick(WORDS)).unwrap();
            }
        }
        if rng.below(5_000) == 0 {
            write!(out, "password={} ", secrets[rng.below(secrets.len())]).unwrap();
        }
        writeln!(out, "id={line}").unwrap();
    }
    out
}
