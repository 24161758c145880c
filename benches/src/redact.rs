//! Section 4: `dsops exec --mask-output` over a program printing log text,
//! against `cat` (the ceiling: the same bytes through one more process
//! and pipe, unchanged) and a `sed` script with the same replacements;
//! and dsops's peak memory as the output grows.
//!
//! The program is this binary's `produce` mode: it writes a sample of log
//! text (a few of the secrets in it) over and over, in 1 MiB writes, to
//! its stdout.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Common;
use crate::emu;
use crate::log_text::{Rng, log};
use crate::run::{self, median, median_f64, ms, shown, timed};

/// The sample the producer repeats.
const SAMPLE: usize = 8 << 20;

/// `dsops-bench produce --file F --kib K`: F's bytes, over and over, K KiB.
pub(crate) fn produce(args: &[String]) {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .unwrap_or_else(|| panic!("produce needs {name}"))
            .clone()
    };
    let text = std::fs::read(arg("--file")).expect("sample file");
    let mut left: usize = arg("--kib").parse::<usize>().expect("KiB") << 10;
    let mut out = std::io::stdout().lock();
    let mut at = 0;
    while left > 0 {
        let end = (at + (1 << 20)).min(text.len()).min(at + left);
        if out.write_all(&text[at..end]).is_err() {
            return;
        }
        left -= end - at;
        at = if end == text.len() { 0 } else { end };
    }
    let _ = out.flush();
}

struct Pipeline<'a> {
    exe: &'a Path,
    sample: &'a Path,
}

impl Pipeline<'_> {
    fn producer(&self, kib: usize) -> Command {
        let mut c = Command::new(self.exe);
        c.arg("produce")
            .arg("--file")
            .arg(self.sample)
            .args(["--kib", &kib.to_string()]);
        c
    }

    /// `producer | consumer > /dev/null` (or the producer alone) over
    /// `kib` KiB: how long.
    fn run(&self, kib: usize, consumer: Option<Command>) -> Duration {
        let null = File::create("/dev/null").expect("/dev/null");
        let mut producer = self.producer(kib);
        let started = Instant::now();
        match consumer {
            None => {
                let status = producer.stdout(null).status().expect("producer runs");
                assert!(status.success());
            }
            Some(mut consumer) => {
                let mut first = producer
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("producer runs");
                let pipe = first.stdout.take().expect("producer's stdout");
                let status = consumer
                    .stdin(Stdio::from(pipe))
                    .stdout(null)
                    .status()
                    .expect("consumer runs");
                let produced = first.wait().expect("producer ends");
                assert!(status.success() && produced.success(), "{consumer:?}");
            }
        }
        started.elapsed()
    }

    /// `dsops exec --mask-output -- produce > /dev/null` over `kib` KiB: how long.
    fn dsops(&self, exec: &Command, kib: usize) -> Duration {
        let null = File::create("/dev/null").expect("/dev/null");
        let producer = self.producer(kib);
        let mut command = clone(exec);
        command
            .arg(producer.get_program())
            .args(producer.get_args());
        let started = Instant::now();
        let status = command
            .stdin(Stdio::null())
            .stdout(null)
            .status()
            .expect("dsops runs");
        assert!(status.success(), "{command:?}");
        started.elapsed()
    }
}

/// A copy of a command's program, arguments, environment and directory.
fn clone(command: &Command) -> Command {
    let mut copy = Command::new(command.get_program());
    copy.args(command.get_args());
    copy.env_clear();
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            copy.env(name, value);
        }
    }
    if let Some(dir) = command.get_current_dir() {
        copy.current_dir(dir);
    }
    copy
}

fn gbps(kib: usize, d: Duration) -> f64 {
    (kib << 10) as f64 / d.as_secs_f64() / 1e9
}

/// `1.23 GB/s`, `45.6 MB/s`, `0.12 MB/s`.
fn rate(gbps: f64) -> String {
    if gbps >= 1.0 {
        format!("{gbps:.2} GB/s")
    } else if gbps >= 0.01 {
        format!("{:.0} MB/s", gbps * 1e3)
    } else {
        format!("{:.2} MB/s", gbps * 1e3)
    }
}

/// `1 GiB`, `256 MiB`, `96 KiB`.
fn size(kib: usize) -> String {
    if kib >= 1 << 20 && kib.is_multiple_of(1 << 20) {
        format!("{} GiB", kib >> 20)
    } else if kib >= 1 << 10 {
        format!("{} MiB", kib >> 10)
    } else {
        format!("{kib} KiB")
    }
}

pub(crate) fn main(common: &Common) {
    let runs = common.runs.unwrap_or(3);
    let mib: usize = common
        .get("mib")
        .map_or(if common.quick { 256 } else { 1024 }, |m| {
            m.parse().expect("--mib N")
        });
    let counts = common.list("secrets", &[10, 100, 1_000]);
    let max = counts.iter().copied().max().unwrap_or(10);
    let (work, _temp) = common.work_dir("redact");
    let exe = std::env::current_exe().expect("this binary");

    let emulator = emu::start(max);
    let values = emu::values(max);
    let sample_path = work.join("sample.log");
    let sample = log(
        &mut Rng(0x1095_d509_0000_0001),
        SAMPLE,
        &values[..10.min(max)],
    );
    std::fs::write(&sample_path, &sample).expect("sample written");
    let pipeline = Pipeline {
        exe: &exe,
        sample: &sample_path,
    };

    let mut md = String::new();
    let _ = writeln!(md, "## 4. Redaction: `dsops exec --mask-output`\n");
    let _ = writeln!(
        md,
        "A program (`dsops-bench produce`) prints {mib} MiB of service-log text (an {} MiB sample \
         repeated; one line in 5,000 has one of 10 of the secrets in it) in 1 MiB writes. \
         *cat*: `produce | cat > /dev/null`, the same bytes through one more process and pipe, \
         unchanged: the ceiling. *dsops*: `dsops exec --mask-output -- produce > /dev/null`, \
         after resolving N secrets from the emulator; the throughput is given over the whole \
         run and over the streaming part alone (minus the median time of `dsops exec --mask-output \
         -- true` for the same N: resolving, building the automaton, starting). *Redactor in \
         process*: dsops's `RedactingWriter` alone over the same text in memory (up to 256 MiB), \
         in 64 KiB writes. *sed*: `produce | LC_ALL=C sed -f script > /dev/null`, one \
         `s/SECRET/***/g` per secret, measured over a prefix sized to take about 10 s when it \
         is slow (the size is given). Median of {runs} runs; GB/s = 10⁹ bytes per second.\n",
        SAMPLE >> 20
    );
    let kib = mib << 10;
    let producer_alone: Vec<Duration> = (0..runs).map(|_| pipeline.run(kib, None)).collect();
    let mut cat: Vec<Duration> = (0..runs)
        .map(|_| pipeline.run(kib, Some(Command::new("cat"))))
        .collect();
    let cat = median(&mut cat);
    let _ = writeln!(
        md,
        "`cat`: **{}** (the producer alone into `/dev/null`, which costs nothing: {}).\n",
        rate(gbps(kib, cat)),
        rate(gbps(kib, median(&mut producer_alone.clone())))
    );
    eprintln!("redact: cat {}", rate(gbps(kib, cat)));

    let _ = writeln!(
        md,
        "| secrets | dsops (whole run) | dsops (streaming) | time ÷ cat's | `exec -- true` alone | redactor in process | sed | sed measured over |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut goal = None;
    for &count in &counts {
        let secrets = emu::secrets(count, 1);
        let dir = emu::case_dir(&emulator, &work.join(format!("n{count}")), &secrets);
        let mut exec = emu::command(&emulator, &common.dsops, &dir.join("ca.pem"));
        exec.arg("exec")
            .arg("--config")
            .arg(dir.join("dsops.yaml"))
            .args(["--env", "bench", "--mask-output", "--"]);
        exec.current_dir(&dir);

        // Correct: no secret left, masks where they were.
        let masked = dir.join("masked.log");
        let mut check = clone(&exec);
        check
            .arg(&exe)
            .args(["produce", "--file"])
            .arg(&sample_path)
            .args(["--kib", &(SAMPLE >> 10).to_string()])
            .stdin(Stdio::null())
            .stdout(File::create(&masked).expect("masked output file"));
        assert!(check.status().expect("dsops runs").success());
        let out = std::fs::read(&masked).expect("masked output");
        for secret in &values[..count] {
            assert!(
                !out.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret is left in dsops's masked output"
            );
        }
        assert!(out.windows(3).any(|w| w == b"***"), "nothing was masked");

        let mut resolve_only: Vec<Duration> = (0..runs)
            .map(|_| {
                let mut c = clone(&exec);
                c.arg("true");
                timed(&mut c).wall
            })
            .collect();
        let resolve_only = median(&mut resolve_only);
        let mut whole: Vec<Duration> = (0..runs).map(|_| pipeline.dsops(&exec, kib)).collect();
        let whole = median(&mut whole);
        let streaming = whole.saturating_sub(resolve_only);

        // sed, with the same replacements.
        let script = dir.join("mask.sed");
        let mut text = String::new();
        for secret in &values[..count] {
            let _ = writeln!(text, "s/{secret}/***/g");
        }
        std::fs::write(&script, text).expect("sed script");
        let sed = || {
            let mut c = Command::new("sed");
            c.env("LC_ALL", "C").arg("-f").arg(&script);
            c
        };
        // A probe of 256 KiB tells how much sed gets through in about 10 s.
        let probe = 256.min(kib);
        let probe_time = pipeline.run(probe, Some(sed()));
        let bytes_per_s = gbps(probe, probe_time) * 1e9;
        let sed_kib = ((bytes_per_s * 10.0) as usize >> 10).clamp(probe, kib);
        let mut sed_rates: Vec<f64> = (0..runs)
            .map(|_| gbps(sed_kib, pipeline.run(sed_kib, Some(sed()))))
            .collect();
        let sed_rate = median_f64(&mut sed_rates);

        let in_process = in_process(&values[..count], &sample, kib.min(256 << 10), runs);
        let whole_rate = gbps(kib, whole);
        let stream_rate = gbps(kib, streaming);
        if count == 100 {
            goal = Some((
                stream_rate,
                whole_rate,
                cat.as_secs_f64() / streaming.as_secs_f64(),
            ));
        }
        eprintln!(
            "redact: {count:>4} secrets: dsops {} ({} streaming), sed {}",
            rate(whole_rate),
            rate(stream_rate),
            rate(sed_rate)
        );
        let _ = writeln!(
            md,
            "| {count} | {} | {} | {:.2}× | {} | {} | {} | {} |",
            rate(whole_rate),
            rate(stream_rate),
            streaming.as_secs_f64() / cat.as_secs_f64(),
            ms(resolve_only),
            rate(in_process),
            rate(sed_rate),
            size(sed_kib),
        );
    }
    md.push('\n');
    if let Some((stream, whole, ratio)) = goal {
        let ratio = 1.0 / ratio;
        let _ = writeln!(
            md,
            "Goal: redaction with 100 secrets at least 1 GB/s and within 1.3× of `cat`: **{stream:.2} GB/s** streaming \
             ({whole:.2} GB/s over the whole run), **{ratio:.2}×** the time of `cat` ({}).\n",
            if stream >= 1.0 && ratio <= 1.3 {
                "met"
            } else {
                "missed"
            }
        );
    }

    // Peak memory as the output grows: the producer outside dsops's tree
    // (`produce | dsops exec --mask-output -- cat`), so that the max RSS is dsops's own.
    let count = if counts.contains(&100) { 100 } else { max };
    let dir = work.join(format!("n{count}"));
    let sizes = [kib / 4, kib];
    let _ = writeln!(
        md,
        "Peak memory of dsops with {count} secrets as the output grows \
         (`produce | /usr/bin/time -f %M dsops exec --mask-output -- cat > /dev/null`; \
         `cat` is dsops's child, the producer is not):\n"
    );
    let _ = writeln!(md, "| output | max RSS |\n|---:|---:|");
    for output in sizes {
        let rss = rss_of_pipeline(&pipeline, &emulator, common, &dir, output);
        let _ = writeln!(
            md,
            "| {} | {} |",
            size(output),
            rss.map_or_else(|| "–".to_owned(), run::mib)
        );
    }
    md.push('\n');
    let _ = writeln!(
        md,
        "Reproduce: `{} redact --runs {runs} --mib {mib}` (the cases, sample and sed scripts are kept under `--out DIR/work/redact/`). \
         The redactor alone, in process: `cargo bench -p dsops-bench --bench redact -- --mib 256`.\n",
        shown(&exe, &common.root)
    );
    common.emit("redact", &md);
}

/// GB/s of dsops's `RedactingWriter` alone over `kib` KiB of the sample in
/// memory, in 64 KiB writes (what a pipe read gives), into a sink.
fn in_process(secrets: &[String], sample: &[u8], kib: usize, runs: usize) -> f64 {
    let values: Vec<secrecy::SecretString> = secrets
        .iter()
        .map(|s| secrecy::SecretString::from(s.as_str()))
        .collect();
    let redactor = dsops::redact::Redactor::new(&values).expect("a redactor");
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            let mut writer = redactor.writer(std::io::sink());
            let mut left = kib << 10;
            while left > 0 {
                for chunk in sample.chunks(64 << 10) {
                    let chunk = &chunk[..chunk.len().min(left)];
                    writer.write_all(chunk).expect("into a sink");
                    left -= chunk.len();
                    if left == 0 {
                        break;
                    }
                }
            }
            writer.finish().expect("into a sink");
            gbps(kib, started.elapsed())
        })
        .collect();
    median_f64(&mut samples)
}

/// Max RSS (KiB) of `dsops exec --mask-output -- cat` fed `kib` KiB.
fn rss_of_pipeline(
    pipeline: &Pipeline<'_>,
    emulator: &dsops_emulator::Emulator,
    common: &Common,
    dir: &Path,
    kib: usize,
) -> Option<u64> {
    let time = PathBuf::from("/usr/bin/time");
    if !time.is_file() {
        return None;
    }
    let report = dir.join(format!("rss-{kib}.txt"));
    let mut dsops = emu::command(emulator, &time, &dir.join("ca.pem"));
    dsops
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(&common.dsops)
        .arg("exec")
        .arg("--config")
        .arg(dir.join("dsops.yaml"))
        .args(["--env", "bench", "--mask-output", "--", "cat"])
        .current_dir(dir);
    let _ = pipeline.run(kib, Some(dsops));
    std::fs::read_to_string(&report).ok()?.trim().parse().ok()
}
