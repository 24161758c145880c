//! Running a contender and timing it: wall time from spawn to exit, its
//! output, and its peak memory (through `/usr/bin/time`).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One run of a process: how long from spawn to exit, and what it printed.
#[derive(Debug)]
pub(crate) struct Timed {
    pub(crate) wall: Duration,
    pub(crate) output: Output,
}

impl Timed {
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// The JSON line a compare script printed last.
    pub(crate) fn json(&self) -> serde_json::Value {
        let stdout = self.stdout();
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {line}\n--- stderr\n{}",
                String::from_utf8_lossy(&self.output.stderr)
            )
        })
    }
}

/// Runs `command` to its end (stdin closed, output captured); panics with
/// its output if it fails.
pub(crate) fn timed(command: &mut Command) -> Timed {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    let wall = started.elapsed();
    if !output.status.success() {
        panic!(
            "{command:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Timed { wall, output }
}

/// Peak resident memory of `command` (its largest process), in KiB, as
/// `/usr/bin/time -f %M` reports it.
pub(crate) fn max_rss_kib(command: &Command, scratch: &Path) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return None;
    }
    let report = scratch.join("max-rss.txt");
    let mut wrapped = Command::new(time);
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args());
    wrapped.env_clear();
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(name, value);
        }
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    timed(&mut wrapped);
    std::fs::read_to_string(&report).ok()?.trim().parse().ok()
}

pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub(crate) fn median_f64(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// `12.3 ms`, `1.23 s`.
pub(crate) fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1e3)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms < 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// `12.3 MiB`.
pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A path for a command line in the report, relative to the repository.
pub(crate) fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
