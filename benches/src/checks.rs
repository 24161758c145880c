//! Section 3: `dsops check` on generated configurations of 10, 1,000 and
//! 10,000 variables (`benches/support/check_config.rs`, the generator of
//! `cargo bench -p dsops-bench --bench check`): parse + validate in this process, and the
//! whole `dsops check` process. Growth should be linear.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use dsops::config::{LoadOptions, Source, load};

use crate::Common;
use crate::check_config::generate;
use crate::run::{median, ms, shown, timed};

pub(crate) fn main(common: &Common) {
    let runs = common.runs.unwrap_or(if common.quick { 7 } else { 21 });
    let (work, _temp) = common.work_dir("check");
    let env: HashMap<String, String> = HashMap::new();
    let mut md = String::new();
    let _ = writeln!(md, "## 3. `dsops check`\n");
    let _ = writeln!(
        md,
        "Generated configurations (every reference form, two stores, four environments; \
         `benches/support/check_config.rs`). Median of {runs} runs: parse + validate in process, \
         and the whole `dsops check --config FILE` process (start, read, validate, report, exit).\n"
    );
    let _ = writeln!(
        md,
        "| variables | file size | parse + validate (in process) | per 1,000 variables | `dsops check` process | per 1,000 variables |\n|---:|---:|---:|---:|---:|---:|"
    );
    let mut largest = None;
    for n in [10, 1_000, 10_000] {
        let text = generate(n);
        let check = load(
            Source::new("dsops.yaml", text.as_str()),
            &env,
            LoadOptions::check(),
        );
        assert!(!check.has_errors(), "the generated configuration is valid");
        let mut in_process: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let loaded = load(
                    Source::new("dsops.yaml", text.as_str()),
                    &env,
                    LoadOptions::check(),
                );
                std::hint::black_box(&loaded);
                started.elapsed()
            })
            .collect();
        let path = work.join(format!("dsops-{n}.yaml"));
        std::fs::write(&path, &text).expect("configuration written");
        let mut command = Command::new(&common.dsops);
        command
            .arg("check")
            .arg("--config")
            .arg(&path)
            .env("NO_COLOR", "1");
        let _ = timed(&mut command);
        let mut process: Vec<Duration> = (0..runs).map(|_| timed(&mut command).wall).collect();
        let inner = median(&mut in_process);
        let outer = median(&mut process);
        // Below 1,000 variables, start-up dominates: no rate.
        let per = |d: Duration| {
            if n < 1_000 {
                "–".to_owned()
            } else {
                ms(d.mul_f64(1_000.0 / n as f64))
            }
        };
        eprintln!(
            "check: {n:>6} variables: {} in process, {} process",
            ms(inner),
            ms(outer)
        );
        let _ = writeln!(
            md,
            "| {n} | {} KiB | {} | {} | {} | {} |",
            text.len() / 1024,
            ms(inner),
            per(inner),
            ms(outer),
            per(outer)
        );
        largest = Some(outer);
    }
    md.push('\n');
    if let Some(outer) = largest {
        let _ = writeln!(
            md,
            "Goal: `dsops check` on 10,000 variables under 200 ms: **{}** ({}); linear when the per-1,000 columns stay flat.\n",
            ms(outer),
            if outer < Duration::from_millis(200) {
                "met"
            } else {
                "missed"
            }
        );
    }
    hostile(common, &work, runs.min(5), &mut md);
    let exe = std::env::current_exe().expect("this binary");
    let _ = writeln!(
        md,
        "Reproduce: `{} check --runs {runs}`, or `cargo bench -p dsops-bench --bench check` (the same configurations, bench profile).\n",
        shown(&exe, &common.root)
    );
    common.emit("check", &md);
}

/// A hostile file: every line a problem (`A1: { bad: 1 }`), so that the
/// human report is as long as it gets. `dsops check` draws at most
/// `MAX_SHOWN` diagnostics and counts the rest; this shows the time stays
/// linear (it was quadratic: 27.7 s at 20,000 lines).
fn hostile(common: &Common, work: &std::path::Path, runs: usize, md: &mut String) {
    let _ = writeln!(
        md,
        "A hostile file, every line a problem (`A1: {{ bad: 1 }}`): the whole `dsops check` process, human report (at most {} diagnostics drawn, the rest counted). Median of {runs} runs.\n",
        dsops::config::report::MAX_SHOWN
    );
    let _ = writeln!(md, "| bad lines | `dsops check` process |\n|---:|---:|");
    let mut at_20k = None;
    for n in [2_000, 20_000, 200_000] {
        let mut text = String::from("version: 1\nenvs:\n  prod:\n");
        for i in 0..n {
            let _ = writeln!(text, "    A{i}: {{ bad: 1 }}");
        }
        let path = work.join(format!("hostile-{n}.yaml"));
        std::fs::write(&path, &text).expect("configuration written");
        let mut command = Command::new(&common.dsops);
        command
            .arg("check")
            .arg("--config")
            .arg(&path)
            .env("NO_COLOR", "1");
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let status = command.status().expect("dsops check starts");
                assert_eq!(status.code(), Some(1), "dsops check finds the problems");
                started.elapsed()
            })
            .collect();
        let time = median(&mut times);
        eprintln!("check: {n:>6} bad lines: {}", ms(time));
        let _ = writeln!(md, "| {n} | {} |", ms(time));
        if n == 20_000 {
            at_20k = Some(time);
        }
    }
    md.push('\n');
    if let Some(time) = at_20k {
        let _ = writeln!(
            md,
            "Goal: 20,000 bad lines reported in under 1 s: **{}** ({}).\n",
            ms(time),
            if time < Duration::from_secs(1) {
                "met"
            } else {
                "missed"
            }
        );
    }
}
