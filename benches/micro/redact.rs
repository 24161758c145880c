//! Throughput of `RedactingWriter` (`dsops exec --mask-output`) over 256 MiB
//! of log text with 10, 100 and 1,000 random secrets of 20-40 bytes, a few
//! of them in the text, against a plain `io::copy` of the same bytes.
//!
//! Run with `cargo bench --bench redact` (optionally `-- --runs 5 --mib 64`).
//! The target from the issue tracker: at least 1 GB/s with 100 secrets.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{self, Write};
use std::time::Instant;

use dsops::redact::Redactor;
use secrecy::SecretString;

#[path = "../support/log_text.rs"]
mod log_text;
use log_text::{Rng, log};

/// Chunk size of the writes: what a pipe read gives.
const CHUNK: usize = 64 * 1024;

fn secrets(rng: &mut Rng, count: usize) -> Vec<String> {
    const CHARS: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.!@#%";
    (0..count)
        .map(|_| {
            let len = 20 + rng.below(21);
            (0..len)
                .map(|_| char::from(CHARS[rng.below(CHARS.len())]))
                .collect()
        })
        .collect()
}

/// Copies what is written into a buffer, as a pipe would.
struct Pipe(Vec<u8>);

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = buf.len().min(self.0.len());
        self.0[..len].copy_from_slice(&buf[..len]);
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// GB/s of `f` over `bytes`, median of `runs`.
fn measure(runs: usize, bytes: usize, mut f: impl FnMut()) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            bytes as f64 / started.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    median(samples)
}

fn main() {
    let mut runs = 3;
    let mut mib = 256;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().unwrap().parse().unwrap(),
            "--mib" => mib = args.next().unwrap().parse().unwrap(),
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    let size = mib << 20;
    let mut rng = Rng(0x5eed_d509_5eed_d509);
    let all = secrets(&mut rng, 1_000);
    // The same text for every count: its secrets are among the first 10.
    let text = log(&mut rng, size, &all[..10]);
    println!(
        "{} MiB of log text, writes of {} KiB, median of {runs} runs",
        text.len() >> 20,
        CHUNK >> 10
    );

    // `io::copy` into `io::sink` is skipped by the standard library: the
    // ceiling copies every byte once, as a write to a pipe does.
    let ceiling = measure(runs, text.len(), || {
        let mut pipe = Pipe(vec![0; CHUNK]);
        io::copy(&mut text.as_slice(), &mut pipe).unwrap();
        std::hint::black_box(&pipe.0);
    });
    println!("io::copy (a copy of each byte):   {ceiling:6.2} GB/s");

    for count in [10, 100, 1_000] {
        let values: Vec<SecretString> = all[..count]
            .iter()
            .map(|s| SecretString::from(s.as_str()))
            .collect();
        let started = Instant::now();
        let redactor = Redactor::new(&values).unwrap();
        let built = started.elapsed();

        // Correct on a prefix: the secrets are gone, the rest is there.
        let sample = &text[..text.len().min(16 << 20)];
        let mut out = Vec::new();
        let mut writer = redactor.writer(&mut out);
        for chunk in sample.chunks(CHUNK) {
            writer.write_all(chunk).unwrap();
        }
        writer.finish().unwrap();
        drop(writer);
        assert_eq!(out, redactor.redact(sample));
        assert!(
            all[..count]
                .iter()
                .all(|s| !out.windows(s.len()).any(|w| w == s.as_bytes()))
        );

        let gbps = measure(runs, text.len(), || {
            let mut writer = redactor.writer(io::sink());
            for chunk in text.chunks(CHUNK) {
                writer.write_all(chunk).unwrap();
            }
            writer.finish().unwrap();
        });
        println!(
            "RedactingWriter, {count:>5} secrets: {gbps:6.2} GB/s ({:.0}% of io::copy; built in {:.1} ms)",
            100.0 * gbps / ceiling,
            built.as_secs_f64() * 1e3
        );
    }
}
