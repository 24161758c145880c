//! Section 2: process start to first value, for one secret on loopback
//! without added latency: `dsops get` against the Python SDK, the Rust
//! crates, and what other tools cost before doing anything (`az version`, a
//! Node.js process loading `@actions/core`), with the bare interpreters for
//! reference.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::Common;
use crate::emu;
use crate::run::{median, ms, shown, timed};

pub(crate) fn main(common: &Common) {
    let runs = common.runs.unwrap_or(if common.quick { 7 } else { 21 });
    let (work, _temp) = common.work_dir("startup");
    let emulator = emu::start(1);
    let secrets = emu::secrets(1, 1);
    let value = emu::values(1).remove(0);
    let expected = emu::digest(&secrets, std::slice::from_ref(&value));
    let dir = emu::case_dir(&emulator, &work.join("case"), &secrets);
    let ca = dir.join("ca.pem");
    let exe = std::env::current_exe().expect("this binary");
    let node_script = common.root.join("benches/compare/actions_core.js");
    let py_script = common.root.join("benches/compare/keyvault_resolve.py");
    let az = common.root.join("target/bench-az/bin/az");
    let az_config = work.join("azure-config");

    struct Row {
        title: &'static str,
        what: &'static str,
        command: Command,
        shown: String,
        check: Box<dyn Fn(&str)>,
    }
    let mut rows = Vec::new();

    let mut c = emu::command(&emulator, &common.dsops, &ca);
    c.arg("get")
        .arg("--config")
        .arg(dir.join("dsops.yaml"))
        .args(["--env", "bench", "--raw", "SECRET_0"]);
    let want = value.clone();
    rows.push(Row {
        title: "dsops get",
        what: "first value (token + one Key Vault read)",
        command: c,
        shown: "dsops get --config CASE/dsops.yaml --env bench --raw SECRET_0".to_owned(),
        check: Box::new(move |out| assert_eq!(out, want, "dsops get printed the value")),
    });

    // The same command on another build of dsops (`--dsops-before PATH`):
    // before and after a start-up change, in one run.
    if let Some(before) = common.get("dsops-before") {
        let mut c = emu::command(&emulator, common.root.join(before), &ca);
        c.arg("get")
            .arg("--config")
            .arg(dir.join("dsops.yaml"))
            .args(["--env", "bench", "--raw", "SECRET_0"]);
        let want = value.clone();
        rows.push(Row {
            title: "dsops get, the build given as --dsops-before",
            what: "first value (token + one Key Vault read)",
            command: c,
            shown: format!("{before} get --config CASE/dsops.yaml --env bench --raw SECRET_0"),
            check: Box::new(move |out| assert_eq!(out, want, "dsops get printed the value")),
        });
    }

    let digest_check = |expected: String| -> Box<dyn Fn(&str)> {
        Box::new(move |out| {
            let json: serde_json::Value =
                serde_json::from_str(out.lines().last().unwrap_or_default()).expect("JSON");
            assert_eq!(json["sha256"], expected.as_str());
        })
    };
    let mut c = emu::command(&emulator, &common.python, &ca);
    c.arg(&py_script)
        .arg("--task")
        .arg(dir.join("task.json"))
        .args(["--mode", "seq"]);
    rows.push(Row {
        title: "Python SDK (azure-identity + azure-keyvault-secrets)",
        what: "first value",
        command: c,
        shown: "target/python-sdk/bin/python benches/compare/keyvault_resolve.py --task CASE/task.json --mode seq".to_owned(),
        check: digest_check(expected.clone()),
    });

    let mut c = emu::command(&emulator, &exe, &ca);
    c.arg("rust-sdk")
        .arg("--task")
        .arg(dir.join("task.json"))
        .args(["--mode", "seq"]);
    rows.push(Row {
        title: "Rust crates (azure_identity + azure_security_keyvault_secrets)",
        what: "first value",
        command: c,
        shown: format!(
            "{} rust-sdk --task CASE/task.json --mode seq",
            shown(&exe, &common.root)
        ),
        check: digest_check(expected),
    });

    let az_present = az.is_file();
    if az_present {
        let mut c = emu::command(&emulator, &az, &ca);
        c.arg("version")
            .env("AZURE_CONFIG_DIR", &az_config)
            .env("AZURE_CORE_COLLECT_TELEMETRY", "no")
            .env("AZURE_CORE_NO_COLOR", "1");
        rows.push(Row {
            title: "az version (azure-cli)",
            what: "startup only",
            command: c,
            shown: "AZURE_CORE_COLLECT_TELEMETRY=no target/bench-az/bin/az version".to_owned(),
            check: Box::new(|out| assert!(out.contains("azure-cli"), "az version: {out}")),
        });
    }

    let mut c = emu::command(&emulator, "node", &ca);
    c.arg(&node_script).arg(&common.root);
    rows.push(Row {
        title: "node + require('@actions/core')",
        what: "startup only (a JavaScript action before it does anything)",
        command: c,
        shown: "node benches/compare/actions_core.js".to_owned(),
        check: Box::new(|_| {}),
    });

    let mut c = emu::command(&emulator, &common.python, &ca);
    c.args(["-c", "pass"]);
    rows.push(Row {
        title: "python -c pass",
        what: "the interpreter alone (reference)",
        command: c,
        shown: "target/python-sdk/bin/python -c pass".to_owned(),
        check: Box::new(|_| {}),
    });
    let mut c = emu::command(&emulator, "node", &ca);
    c.args(["-e", ""]);
    rows.push(Row {
        title: "node -e ''",
        what: "the interpreter alone (reference)",
        command: c,
        shown: "node -e ''".to_owned(),
        check: Box::new(|_| {}),
    });

    let mut md = String::new();
    let _ = writeln!(md, "## 2. Process start to first value (one secret)\n");
    let _ = writeln!(
        md,
        "Median (and minimum) wall time from spawn to exit of {runs} runs after one warm-up run, \
         on loopback with no added latency; the token comes from the emulator's App Service \
         endpoint. The rows marked *startup only* fetch nothing. CPU: the children's user + system \
         time over the runs (`/proc/self/stat`, in clock ticks), divided by the runs.\n"
    );
    let _ = writeln!(
        md,
        "| process | measures | median | min | CPU (user + system, mean) | command |\n|---|---|---:|---:|---:|---|"
    );
    let mut dsops_median = None;
    let mut dsops_cpu = None;
    for mut row in rows {
        let runs = if row.title.starts_with("az ") {
            runs.min(7)
        } else {
            runs
        };
        let warm = timed(&mut row.command);
        (row.check)(&warm.stdout());
        let cpu_before = children_cpu();
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = timed(&mut row.command);
                (row.check)(&t.stdout());
                t.wall
            })
            .collect();
        let cpu = children_cpu()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before) / u32::try_from(runs).unwrap_or(1));
        let med = median(&mut times);
        if row.title == "dsops get" {
            dsops_median = Some(med);
            dsops_cpu = cpu;
        }
        eprintln!("startup: {:<60} {}", row.title, ms(med));
        times.sort();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | `{}` |",
            row.title,
            row.what,
            ms(med),
            ms(times[0]),
            cpu.map_or_else(|| "–".to_owned(), ms),
            row.shown
        );
    }
    if !az_present {
        let _ = writeln!(
            md,
            "| az version (azure-cli) | startup only | – | – | – | not measured: `pip install azure-cli` into target/bench-az did not succeed on this machine |"
        );
    }
    md.push('\n');
    // The engine in this process: what the process adds on top of it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = crate::resolve::engine_in_process(&emulator, &dir, 1, &runtime);
    let mut engine: Vec<Duration> = (0..runs)
        .map(|_| crate::resolve::engine_in_process(&emulator, &dir, 1, &runtime))
        .collect();
    let engine = median(&mut engine);
    let _ = writeln!(
        md,
        "The engine in this process (configuration read, a new engine, token and read, one secret): median **{}** of {runs} runs.\n",
        ms(engine)
    );
    if let Some(d) = dsops_median {
        let cpu = dsops_cpu.map_or_else(|| "not measured".to_owned(), ms);
        let met = d <= Duration::from_millis(10)
            && dsops_cpu.is_some_and(|c| c <= Duration::from_millis(10));
        let _ = writeln!(
            md,
            "Goal: one secret at +0 ms, as a process, in at most 10 ms wall and 10 ms of CPU: `dsops get` **{}** wall, **{cpu}** of CPU (user + system, the mean over the runs) ({}).\n",
            ms(d),
            if met { "met" } else { "missed" }
        );
        let gap = d.saturating_sub(engine);
        let _ = writeln!(
            md,
            "Goal: the process within 3 ms of the engine in process: {} against {} = **{} more** ({}).\n",
            ms(d),
            ms(engine),
            ms(gap),
            if gap <= Duration::from_millis(3) {
                "met"
            } else {
                "missed"
            }
        );
    }
    // Where the time goes: `perf` over the same command, for each build.
    let mut builds = vec![("this build", common.dsops.clone())];
    if let Some(before) = common.get("dsops-before") {
        builds.insert(
            0,
            (
                "the build given as --dsops-before",
                common.root.join(before),
            ),
        );
    }
    md.push_str(&profile_section(&emulator, &dir, &work, &builds));
    let _ = writeln!(
        md,
        "Reproduce: `{} startup --runs {runs}` (CASE is kept under `--out DIR/work/startup/case`; \
         add `--dsops-before PATH` for another build beside this one).\n",
        shown(&exe, &common.root)
    );
    common.emit("startup", &md);
}

/// CPU time (user + system) of every child this process has waited for,
/// from `/proc/self/stat` (Linux; `None` elsewhere). Clock ticks of
/// `getconf CLK_TCK` (10 ms at 100 Hz): the mean over many runs is finer.
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // cutime and cstime are fields 16 and 17 of proc(5); `rest` starts at 3.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    let hz: u64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100);
    Some(Duration::from_micros(ticks * 1_000_000 / hz.max(1)))
}

/// What `dsops get` spends its CPU on, from `perf record` over 50 runs of
/// each build: the share of samples by part, with their symbols. Empty
/// when `perf` is missing or cannot record here.
fn profile_section(
    emulator: &dsops_emulator::Emulator,
    dir: &std::path::Path,
    work: &std::path::Path,
    builds: &[(&str, std::path::PathBuf)],
) -> String {
    const RUNS: usize = 50;
    let ca = dir.join("ca.pem");
    let mut tables = Vec::new();
    for (name, dsops) in builds {
        let data = work.join(format!("perf-{}.data", tables.len()));
        let script = format!(
            "for i in $(seq {RUNS}); do '{}' get --config '{}' --env bench --raw SECRET_0 >/dev/null || exit 1; done",
            dsops.display(),
            dir.join("dsops.yaml").display()
        );
        let mut record = emu::command(emulator, "perf", &ca);
        record
            .args(["record", "-q", "-F", "20000", "-o"])
            .arg(&data)
            .args(["--", "sh", "-c", &script])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if !record.status().is_ok_and(|s| s.success()) {
            return String::new();
        }
        // The kernel names a process by the first 15 bytes of its file name.
        let comm: String = dsops
            .file_name()
            .map(|n| n.to_string_lossy().chars().take(15).collect())
            .unwrap_or_else(|| "dsops".to_owned());
        let report = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--no-children",
                "-q",
                "--percentage",
                "relative",
                "--comm",
            ])
            .arg(&comm)
            .args(["--sort", "dso,symbol", "-i"])
            .arg(&data)
            .output();
        let Ok(report) = report else {
            return String::new();
        };
        let text = String::from_utf8_lossy(&report.stdout);
        tables.push((name.to_string(), parts(&text)));
    }
    let mut md = String::from("### Where the start-up time goes (`perf`)\n\n");
    md.push_str(&format!(
        "`perf record -F 20000` over {RUNS} runs of the `dsops get` above, samples of the `dsops` process by part \
         (the symbols that decide the part are in the last column). A build whose symbols are stripped \
         (the `release` profile) shows its own code as one unnamed part: measure `--profile profiling`.\n\n"
    ));
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    md.push_str(&format!(
        "| part | {} | what it is |\n|---|{}---|\n",
        names.join(" | "),
        "---:|".repeat(names.len())
    ));
    for (part, what) in PARTS
        .iter()
        .map(|(p, w, _)| (*p, *w))
        .chain([("other", "everything else")])
    {
        let mut row = format!("| {part} |");
        let mut any = false;
        for (_, shares) in &tables {
            let share = shares
                .iter()
                .find(|(p, _)| *p == part)
                .map_or(0.0, |(_, s)| *s);
            any |= share >= 0.05;
            row.push_str(&format!(" {share:.1}% |"));
        }
        if any {
            md.push_str(&format!("{row} {what} |\n"));
        }
    }
    md.push('\n');
    md
}

/// The parts of a profile: name, what it is, and the substrings of a
/// `dso symbol` line that put a sample there (the first match wins).
const PARTS: &[(&str, &str, &[&str])] = &[
    (
        "jitter entropy",
        "aws-lc's CPU jitter entropy collector (`jent_*`)",
        &["jent_"],
    ),
    (
        "kernel",
        "the kernel: exec, page faults, mmap, sockets, exit",
        &["[kernel.kallsyms]"],
    ),
    (
        "dynamic loader",
        "ld.so: loading and relocating the binary",
        &["ld-linux", "ld-2.", "ld.so"],
    ),
    (
        "C library",
        "libc: allocation, memcpy, syscalls' wrappers",
        &["libc.so", "libc-2."],
    ),
    (
        "CA certificates",
        "reading and parsing the trusted roots",
        &[
            "rustls_native_certs",
            "rustls_pki_types::pem",
            "webpki::anchors",
            "RootCertStore",
            "x509_parser",
        ],
    ),
    (
        "TLS and crypto",
        "the handshake: key exchange, signatures, hashing (rustls, aws-lc)",
        &[
            "rustls",
            "aws_lc",
            "tokio_rustls",
            "bn_",
            "ec_",
            "sha256",
            "sha512",
            "EVP_",
            "RSA_",
            "x25519",
            "p256",
            "fiat_",
            "CRYPTO_",
            "OPENSSL_",
            "BN_",
            "ECDSA",
            "aes_",
            "gcm_",
        ],
    ),
    (
        "configuration",
        "reading and checking dsops.yaml (dsops-config, YAML)",
        &["dsops_config", "serde_saphyr", "granit_parser", "saphyr"],
    ),
    (
        "HTTP",
        "hyper, h2, hyper-util",
        &["hyper", "h2::", "http::"],
    ),
    ("async runtime", "tokio", &["tokio"]),
    ("command line", "clap", &["clap"]),
    (
        "dsops",
        "dsops's own code (engine, identity, Key Vault, output)",
        &["dsops"],
    ),
];

/// Shares of samples by part, from `perf report --stdio -q --sort dso,symbol`.
fn parts(report: &str) -> Vec<(&'static str, f64)> {
    let mut shares: Vec<(&'static str, f64)> = Vec::new();
    let mut add = |part: &'static str, share: f64| match shares.iter_mut().find(|(p, _)| *p == part)
    {
        Some((_, s)) => *s += share,
        None => shares.push((part, share)),
    };
    for line in report.lines() {
        let line = line.trim();
        let Some((percent, rest)) = line.split_once('%') else {
            continue;
        };
        let Ok(share) = percent.trim().parse::<f64>() else {
            continue;
        };
        let part = PARTS
            .iter()
            .find(|(_, _, keys)| keys.iter().any(|k| rest.contains(k)))
            .map_or("other", |(p, _, _)| *p);
        add(part, share);
    }
    shares
}
