//! `dsops-bench`: dsops side by side with what users would otherwise pick,
//! against one `dsops emulator` (in this process) and the same state, in one
//! run. `scripts/bench` builds it in release mode, runs every section and
//! writes `BENCHMARKS.md`; each section can be run alone:
//!
//! ```text
//! dsops-bench resolve  [--runs 5] [--quick] [--n 1,10,100,500] [--vaults 1,3] [--latency 0,20]
//! dsops-bench startup  [--runs 20]
//! dsops-bench check    [--runs 21]
//! dsops-bench redact   [--runs 3] [--mib 1024] [--secrets 10,100,1000]
//! ```
//!
//! Every section prints a Markdown fragment on stdout (and writes it to
//! `--out DIR/SECTION.md` when given). The contenders run as processes
//! (`dsops`, the Python SDK's interpreter, this binary's `rust-sdk` mode,
//! `az`, `node`), each with a cleared environment naming only the emulator,
//! so that no request can leave loopback.
//!
//! Internal modes, run by the sections as child processes:
//! `rust-sdk` (the official Rust crates resolving a task) and `produce`
//! (writes a log file's text over and over, for the redaction pipelines).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../support/check_config.rs"]
mod check_config;
mod checks;
mod emu;
#[path = "../support/log_text.rs"]
mod log_text;
mod redact;
mod resolve;
mod run;
mod rust_sdk;
mod startup;

use std::path::PathBuf;

/// What every section takes from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    /// The repository (default: the current directory).
    pub(crate) root: PathBuf,
    /// The `dsops` binary to measure.
    pub(crate) dsops: PathBuf,
    /// The Python SDK's interpreter.
    pub(crate) python: PathBuf,
    /// Where the section writes its Markdown and its scratch files.
    pub(crate) out: Option<PathBuf>,
    /// Runs per measurement (`None`: the section's default).
    pub(crate) runs: Option<usize>,
    /// Fewer cases and runs.
    pub(crate) quick: bool,
    /// Section-specific `--name value` pairs.
    pub(crate) extra: Vec<(String, String)>,
}

impl Common {
    fn parse(args: &[String]) -> Self {
        let root = std::env::current_dir().expect("a current directory");
        let mut common = Self {
            dsops: root.join("target/release/dsops"),
            python: root.join("target/python-sdk/bin/python"),
            root,
            out: None,
            runs: None,
            quick: false,
            extra: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| panic!("{arg} needs a value"))
                    .clone()
            };
            match arg.as_str() {
                "--quick" => common.quick = true,
                "--root" => common.root = PathBuf::from(value()),
                "--dsops" => common.dsops = PathBuf::from(value()),
                "--python" => common.python = PathBuf::from(value()),
                "--out" => common.out = Some(PathBuf::from(value())),
                "--runs" => common.runs = Some(value().parse().expect("--runs N")),
                other if other.starts_with("--") => {
                    let name = other.trim_start_matches("--").to_owned();
                    common.extra.push((name, value()));
                }
                other => panic!("unexpected argument {other}"),
            }
        }
        common.dsops = common.root.join(&common.dsops);
        common.python = common.root.join(&common.python);
        common.out = common.out.map(|out| common.root.join(out));
        common
    }

    /// A section-specific value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A comma-separated list of numbers, or `default`.
    pub(crate) fn list(&self, name: &str, default: &[usize]) -> Vec<usize> {
        self.get(name).map_or_else(
            || default.to_vec(),
            |v| {
                v.split(',')
                    .map(|n| n.trim().parse().expect("a list of numbers"))
                    .collect()
            },
        )
    }

    /// A scratch directory for the section, kept under `--out` (or a
    /// temporary one).
    pub(crate) fn work_dir(&self, section: &str) -> (PathBuf, Option<tempfile::TempDir>) {
        match &self.out {
            Some(out) => {
                let dir = out.join("work").join(section);
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).expect("work directory");
                (dir, None)
            }
            None => {
                let temp = tempfile::tempdir().expect("temporary directory");
                (temp.path().to_owned(), Some(temp))
            }
        }
    }

    /// Prints the section's Markdown and writes it to `--out`.
    pub(crate) fn emit(&self, section: &str, markdown: &str) {
        println!("{markdown}");
        if let Some(out) = &self.out {
            std::fs::create_dir_all(out).expect("output directory");
            std::fs::write(out.join(format!("{section}.md")), markdown).expect("section written");
        }
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: dsops-bench resolve|startup|check|redact [--runs N] [--quick] [--out DIR] [--dsops PATH] [--python PATH]"
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        usage()
    };
    match mode.as_str() {
        "resolve" => resolve::main(&Common::parse(rest)),
        "startup" => startup::main(&Common::parse(rest)),
        "redact" => redact::main(&Common::parse(rest)),
        "check" => checks::main(&Common::parse(rest)),
        "rust-sdk" => rust_sdk::main(rest),
        "produce" => redact::produce(rest),
        _ => usage(),
    }
}
