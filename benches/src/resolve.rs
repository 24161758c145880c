//! Section 1: resolve N secrets from 1 or 3 vaults with 0 or 20 ms added to
//! every request, dsops against the Python SDK (sequential and a thread
//! pool of dsops's concurrency), the Rust crates (sequential and
//! `join_all`) and the lower bound; requests counted from the emulator's
//! log. Also the peak memory of each contender resolving 500 secrets.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsops::config::{LoadOptions, Source, load};
use dsops::{Engine, EngineOptions};
use dsops_emulator::Emulator;

use crate::Common;
use crate::emu::{self, CONCURRENCY, Requests, RoundTrips};
use crate::run::{self, Timed, median, ms, shown, timed};

/// The contenders, in the table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Who {
    DsopsExec,
    DsopsEngine,
    PythonSeq,
    PythonPool,
    RustSeq,
    RustJoinAll,
}

const ALL: [Who; 6] = [
    Who::DsopsExec,
    Who::DsopsEngine,
    Who::PythonSeq,
    Who::PythonPool,
    Who::RustSeq,
    Who::RustJoinAll,
];

impl Who {
    /// The name `--who` takes.
    fn name(self) -> &'static str {
        match self {
            Self::DsopsExec => "dsops-exec",
            Self::DsopsEngine => "dsops-engine",
            Self::PythonSeq => "python-seq",
            Self::PythonPool => "python-pool",
            Self::RustSeq => "rust-seq",
            Self::RustJoinAll => "rust-join-all",
        }
    }

    fn title(self) -> String {
        match self {
            Self::DsopsExec => "dsops exec (process)".to_owned(),
            Self::DsopsEngine => "dsops engine (in process)".to_owned(),
            Self::PythonSeq => "Python SDK, sequential".to_owned(),
            Self::PythonPool => format!("Python SDK, {CONCURRENCY} threads"),
            Self::RustSeq => "Rust crates, sequential".to_owned(),
            Self::RustJoinAll => "Rust crates, join_all".to_owned(),
        }
    }

    /// Whether the contender reports its own resolve time besides the
    /// process's (the SDK scripts: interpreter start and imports excluded).
    fn reports_phase(self) -> bool {
        !matches!(self, Self::DsopsExec | Self::DsopsEngine)
    }
}

/// One case's measurements of one contender.
#[derive(Debug, Default)]
struct Cell {
    wall: Vec<Duration>,
    phase: Vec<Duration>,
    requests: BTreeSet<String>,
    tokens: BTreeSet<usize>,
}

struct Case<'a> {
    emulator: &'a Emulator,
    dir: &'a Path,
    n: usize,
    expected: String,
    runtime: &'a tokio::runtime::Runtime,
}

pub(crate) fn main(common: &Common) {
    let quick = common.quick;
    let runs = common.runs.unwrap_or(if quick { 3 } else { 5 });
    let ns = common.list(
        "n",
        if quick {
            &[1, 10, 100]
        } else {
            &[1, 10, 100, 500]
        },
    );
    let vault_counts = common.list("vaults", &[1, 3]);
    let latencies = common.list("latency", &[0, 20]);
    let max_n = ns.iter().copied().max().unwrap_or(1);
    let chosen: Vec<Who> = match common.get("who") {
        None => ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|name| {
                *ALL.iter()
                    .find(|w| w.name() == name.trim())
                    .unwrap_or_else(|| panic!("--who: one of {:?}", ALL.map(Who::name)))
            })
            .collect(),
    };
    let (work, _temp) = common.work_dir("resolve");

    eprintln!("resolve: starting the emulator with {max_n} secrets in each of 3 vaults");
    let emulator = emu::start(max_n);
    let all_values = emu::values(max_n);
    let mut trips: HashMap<u64, RoundTrips> = HashMap::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let mut cells: HashMap<(u64, usize, usize, Who), Cell> = HashMap::new();
    // Warm the page cache and Python's bytecode cache: one run of each.
    {
        let secrets = emu::secrets(1, 1);
        let dir = emu::case_dir(&emulator, &work.join("warm"), &secrets);
        let case = Case {
            emulator: &emulator,
            dir: &dir,
            n: 1,
            expected: emu::digest(&secrets, &all_values),
            runtime: &runtime,
        };
        for &who in &chosen {
            let _ = once(common, &case, who);
        }
    }
    for &latency in &latencies {
        emu::set_latency(&emulator, latency as u64);
        let measured = emu::round_trips(&emulator, if latency == 0 { 100 } else { 20 });
        trips.insert(latency as u64, measured);
        for &vaults in &vault_counts {
            for &n in &ns {
                let secrets = emu::secrets(n, vaults);
                let dir = emu::case_dir(&emulator, &work.join(format!("n{n}-v{vaults}")), &secrets);
                let case = Case {
                    emulator: &emulator,
                    dir: &dir,
                    n,
                    expected: emu::digest(&secrets, &all_values),
                    runtime: &runtime,
                };
                for &who in &chosen {
                    let cell = cells.entry((latency as u64, vaults, n, who)).or_default();
                    let mut budget = runs;
                    let mut done = 0;
                    let mut warmed = false;
                    while done < budget {
                        let (wall, phase, requests) = once(common, &case, who);
                        if !warmed && wall < Duration::from_secs(1) {
                            // A short case: its first run (page cache, the
                            // emulator's first connections) is not counted.
                            warmed = true;
                            continue;
                        }
                        warmed = true;
                        if done == 0 && wall > Duration::from_secs(3) {
                            // Long sequential runs: three are enough for a median.
                            budget = budget.min(3);
                        }
                        cell.wall.push(wall);
                        if let Some(phase) = phase {
                            cell.phase.push(phase);
                        }
                        cell.requests.insert(requests.describe());
                        cell.tokens.insert(requests.tokens);
                        done += 1;
                    }
                    eprintln!(
                        "resolve: +{latency} ms, {vaults} vault(s), {n:>3} secrets, {:<28} {}",
                        who.title(),
                        ms(median(&mut cell.wall.clone()))
                    );
                }
            }
        }
    }
    emu::set_latency(&emulator, 0);

    let windows = if chosen.contains(&Who::DsopsEngine) && !common.quick {
        window_study(&emulator, &ns, runs, &runtime, &work, &all_values)
    } else {
        String::new()
    };

    // Peak memory resolving the largest case, one vault, no added latency.
    let mut memory = Vec::new();
    if max_n >= 100 {
        let secrets = emu::secrets(max_n, 1);
        let dir = emu::case_dir(&emulator, &work.join("memory"), &secrets);
        for &who in &chosen {
            if who == Who::DsopsEngine {
                continue;
            }
            let command = command(common, &emulator, &dir, who);
            memory.push((who, run::max_rss_kib(&command, &dir)));
        }
    }

    let mut markdown = report(
        common,
        &cells,
        &ns,
        &vault_counts,
        &latencies,
        &trips,
        runs,
        &memory,
        max_n,
    );
    markdown.push_str(&windows);
    common.emit("resolve", &markdown);
}

/// The window sizes tried before choosing the default, and HTTP/2 against
/// HTTP/1.1: the engine in process, one vault, +20 ms per request, N of
/// 100 and more, with `max_concurrent` written (a fixed window) or not
/// (adaptive), against this emulator (HTTP/2) and one that offers only
/// HTTP/1.1, in the same run.
fn window_study(
    emulator: &Emulator,
    ns: &[usize],
    runs: usize,
    runtime: &tokio::runtime::Runtime,
    work: &Path,
    all_values: &[String],
) -> String {
    let big: Vec<usize> = ns.iter().copied().filter(|&n| n >= 100).collect();
    if big.is_empty() {
        return String::new();
    }
    let max_n = big.iter().copied().max().unwrap_or(100);
    let http1 = emu::start_with(max_n, false);
    let windows: [Option<usize>; 5] = [Some(16), Some(64), Some(128), Some(256), None];
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### Choosing the window: HTTP/2 against HTTP/1.1, fixed windows against the adaptive one
"
    );
    let _ = writeln!(
        md,
        "The engine in process, one vault, +20 ms per request, median of {runs} runs (a new engine each):          `max_concurrent` written (a fixed window), or not (adaptive: starts at 256). HTTP/2: the emulator          as it runs above, every read multiplexed over one connection; HTTP/1.1: a second emulator in the          same run whose TLS listener offers only `http/1.1`, so that each read in flight has a connection          of its own.\n"
    );
    let mut header = String::from("| N | protocol |");
    let mut rule = String::from("|---:|---|");
    for w in windows {
        let _ = write!(
            header,
            " {} |",
            w.map_or_else(|| "adaptive".to_owned(), |n| format!("window {n}"))
        );
        rule.push_str("---:|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for (name, server) in [("HTTP/2", emulator), ("HTTP/1.1", &http1)] {
        emu::set_latency(server, 20);
        for &n in &big {
            let secrets = emu::secrets(n, 1);
            let mut row = format!("| {n} | {name} |");
            for w in windows {
                let dir = emu::case_dir_with(
                    server,
                    &work.join(format!("window-{name}-{n}-{w:?}").replace('/', "")),
                    &secrets,
                    w,
                );
                let case = Case {
                    emulator: server,
                    dir: &dir,
                    n,
                    expected: emu::digest(&secrets, all_values),
                    runtime,
                };
                let _ = engine_once(&case);
                let mut times: Vec<Duration> = (0..runs).map(|_| engine_once(&case)).collect();
                let med = median(&mut times);
                eprintln!("resolve: window study {name} N={n} {w:?}: {}", ms(med));
                let _ = write!(row, " {} |", ms(med));
            }
            let _ = writeln!(md, "{row}");
        }
        emu::set_latency(server, 0);
    }
    md.push('\n');
    md
}

/// One run of `who` on a case: wall time, its own resolve time, requests.
fn once(common: &Common, case: &Case<'_>, who: Who) -> (Duration, Option<Duration>, Requests) {
    case.emulator.log().clear();
    let (wall, phase) = if who == Who::DsopsEngine {
        (engine_once(case), None)
    } else {
        let mut command = command(common, case.emulator, case.dir, who);
        let result: Timed = timed(&mut command);
        let phase = if who.reports_phase() {
            let json = result.json();
            assert_eq!(json["count"], case.n, "{who:?}: {json}");
            assert_eq!(
                json["sha256"],
                case.expected.as_str(),
                "{who:?}: the values"
            );
            Some(Duration::from_secs_f64(
                json["resolve_s"].as_f64().expect("resolve_s"),
            ))
        } else {
            None
        };
        (result.wall, phase)
    };
    (wall, phase, Requests::of(&case.emulator.log().entries()))
}

/// [`engine_once`] for another section: `n` secrets of the case in `dir`.
pub(crate) fn engine_in_process(
    emulator: &Emulator,
    dir: &Path,
    n: usize,
    runtime: &tokio::runtime::Runtime,
) -> Duration {
    engine_once(&Case {
        emulator,
        dir,
        n,
        expected: String::new(),
        runtime,
    })
}

/// The engine in this process, on a current-thread runtime as the CLI has
/// it: configuration loaded, a new engine (cold token cache, no
/// connections), every value resolved.
fn engine_once(case: &Case<'_>) -> Duration {
    let http = case.emulator.http_url().expect("plain listener");
    let env: HashMap<String, String> = [
        ("IDENTITY_ENDPOINT".to_owned(), format!("{http}/msi/token")),
        (
            "IDENTITY_HEADER".to_owned(),
            case.emulator.identity_header().to_owned(),
        ),
    ]
    .into();
    let text = std::fs::read_to_string(case.dir.join("dsops.yaml")).expect("dsops.yaml");
    let started = Instant::now();
    let loaded = load(
        Source::new("dsops.yaml", &text),
        &env,
        LoadOptions::resolve(),
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics());
    let config = loaded.config().expect("a configuration").clone();
    let engine = Engine::new(config, case.dir, Arc::new(env), EngineOptions::default());
    let resolution = case
        .runtime
        .block_on(engine.resolve("bench"))
        .expect("environment bench");
    let elapsed = started.elapsed();
    assert!(!resolution.failed(), "{:?}", resolution.problems);
    assert_eq!(resolution.values.len(), case.n);
    elapsed
}

/// The command line of a process contender.
fn command(common: &Common, emulator: &Emulator, dir: &Path, who: Who) -> Command {
    let ca = dir.join("ca.pem");
    let task = dir.join("task.json");
    let script = common.root.join("benches/compare/keyvault_resolve.py");
    let mut command = match who {
        Who::DsopsExec | Who::DsopsEngine => {
            let mut c = emu::command(emulator, &common.dsops, &ca);
            c.arg("exec")
                .arg("--config")
                .arg(dir.join("dsops.yaml"))
                .args(["--env", "bench", "--", "true"]);
            c
        }
        Who::PythonSeq | Who::PythonPool => {
            let mut c = emu::command(emulator, &common.python, &ca);
            c.arg(&script).arg("--task").arg(&task).args([
                "--mode",
                if who == Who::PythonSeq { "seq" } else { "pool" },
                "--workers",
                &CONCURRENCY.to_string(),
            ]);
            c
        }
        Who::RustSeq | Who::RustJoinAll => {
            let exe = std::env::current_exe().expect("this binary");
            let mut c = emu::command(emulator, exe, &ca);
            c.arg("rust-sdk").arg("--task").arg(&task).args([
                "--mode",
                if who == Who::RustSeq {
                    "seq"
                } else {
                    "join_all"
                },
            ]);
            c
        }
    };
    command.current_dir(dir);
    command
}

/// The physical limit: one token round trip, then every Key Vault read at
/// once over one connection (one read round trip, whatever N), with the
/// round trips measured at the same latency.
fn bound(trips: RoundTrips) -> Duration {
    trips.token + trips.keyvault
}

#[allow(clippy::too_many_arguments)]
fn report(
    common: &Common,
    cells: &HashMap<(u64, usize, usize, Who), Cell>,
    ns: &[usize],
    vault_counts: &[usize],
    latencies: &[usize],
    trips: &HashMap<u64, RoundTrips>,
    runs: usize,
    memory: &[(Who, Option<u64>)],
    max_n: usize,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## 1. Resolve N secrets\n");
    let _ = writeln!(
        md,
        "Median wall time of {runs} runs (3 when one run takes over 3 s) per cell, after one run \
         not counted when a run takes under 1 s; each run cold: a new process \
         (or, for the in-process engine, a new engine: no cached token, no open connection). \
         For the SDK contenders the time their script spent resolving (after the interpreter \
         started and imported the SDK) is in parentheses. Every contender gets its token from \
         the emulator's App Service managed identity endpoint (plain HTTP) and reads over TLS. \
         dsops writes no `max_concurrent` (its window adapts) and reads over HTTP/2, one connection \
         per vault; the Python thread pool has {CONCURRENCY} threads; `join_all` is unbounded (the SDK \
         contenders speak HTTP/1.1: a connection per request in flight). \
         The lower bound is the physical limit: one token round trip + one Key Vault round trip \
         (every read at once), each measured at the same added latency on a kept-alive connection \
         (the median of single requests, given above each table: the added latency plus what the \
         emulator and loopback take); it leaves out process start, TLS handshakes and reading dsops.yaml. \
         The emulator runs in the benchmark's process and shares the machine's cores with the \
         contender.\n"
    );
    for &latency in latencies {
        let latency = latency as u64;
        let Some(&rt) = trips.get(&latency) else {
            continue;
        };
        let _ = writeln!(md, "### +{latency} ms per request\n");
        let _ = writeln!(
            md,
            "Round trips at this latency: token {}, Key Vault read {}.\n",
            ms(rt.token),
            ms(rt.keyvault)
        );
        let mut header = String::from("| N | vaults | lower bound |");
        let mut rule = String::from("|---:|---:|---:|");
        for who in ALL {
            let _ = write!(header, " {} |", who.title());
            rule.push_str("---:|");
        }
        header.push_str(" dsops exec ÷ bound | Python seq ÷ dsops exec |");
        rule.push_str("---:|---:|");
        let _ = writeln!(md, "{header}\n{rule}");
        for &vaults in vault_counts {
            for &n in ns {
                let lower = bound(rt);
                let mut row = format!("| {n} | {vaults} | {} |", ms(lower));
                let mut exec = None;
                let mut py = None;
                for who in ALL {
                    let Some(cell) = cells.get(&(latency, vaults, n, who)) else {
                        row.push_str(" – |");
                        continue;
                    };
                    let wall = median(&mut cell.wall.clone());
                    match who {
                        Who::DsopsExec => exec = Some(wall),
                        Who::PythonSeq => py = Some(wall),
                        _ => {}
                    }
                    if cell.phase.is_empty() {
                        let _ = write!(row, " {} |", ms(wall));
                    } else {
                        let phase = median(&mut cell.phase.clone());
                        let _ = write!(row, " {} ({}) |", ms(wall), ms(phase));
                    }
                }
                let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
                    (Some(a), Some(b)) if !b.is_zero() => {
                        format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
                    }
                    _ => "–".to_owned(),
                };
                let _ = writeln!(row, " {} | {} |", ratio(exec, Some(lower)), ratio(py, exec));
                md.push_str(&row);
            }
        }
        md.push('\n');
    }

    let _ = writeln!(
        md,
        "### Requests per run (token requests + Key Vault requests, from the emulator's log)\n"
    );
    let _ = writeln!(
        md,
        "The same at both latencies unless two values are shown. A 401 is Key Vault's challenge \
         to a request without a token: the SDKs send one per client before asking for a token; \
         dsops knows the scope from the configuration and sends none. With threads, the Python \
         SDK challenges and asks for a token in every thread that starts before the first token \
         is cached (azure-identity has no single flight); `join_all` sends up to every request \
         once without a token (the Rust crates' challenge policy caches the challenge only after \
         one completes), but asks for one token.\n"
    );
    let mut header = String::from("| N | vaults |");
    let mut rule = String::from("|---:|---:|");
    for who in ALL {
        let _ = write!(header, " {} |", who.title());
        rule.push_str("---|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for &vaults in vault_counts {
        for &n in ns {
            let mut row = format!("| {n} | {vaults} |");
            for who in ALL {
                let seen: BTreeSet<String> = latencies
                    .iter()
                    .filter_map(|&l| cells.get(&(l as u64, vaults, n, who)))
                    .flat_map(|c| c.requests.iter().cloned())
                    .collect();
                let _ = write!(
                    row,
                    " {} |",
                    seen.into_iter().collect::<Vec<_>>().join(" / ")
                );
            }
            let _ = writeln!(md, "{row}");
        }
    }
    md.push('\n');
    let dsops_tokens: BTreeSet<usize> = cells
        .iter()
        .filter(|((_, _, _, who), _)| matches!(who, Who::DsopsExec | Who::DsopsEngine))
        .flat_map(|(_, c)| c.tokens.iter().copied())
        .collect();
    let _ = writeln!(
        md,
        "Token requests per dsops run, over every case: {:?} (one scope, Key Vault).\n",
        dsops_tokens
    );

    if !memory.is_empty() {
        let _ = writeln!(
            md,
            "### Peak memory resolving {max_n} secrets (one vault, no added latency)\n"
        );
        let _ = writeln!(md, "Max RSS of the process (`/usr/bin/time -f %M`).\n");
        let _ = writeln!(md, "| contender | max RSS |\n|---|---:|");
        for (who, kib) in memory {
            let _ = writeln!(
                md,
                "| {} | {} |",
                who.title(),
                kib.map_or_else(|| "–".to_owned(), run::mib)
            );
        }
        md.push('\n');
    }

    // The goals: N secrets against one at +20 ms, and ahead on every row.
    let exec_wall = |latency: u64, vaults: usize, n: usize| {
        cells
            .get(&(latency, vaults, n, Who::DsopsExec))
            .map(|c| median(&mut c.wall.clone()))
    };
    let mut goals = String::new();
    for &vaults in vault_counts {
        let Some(one) = exec_wall(20, vaults, 1) else {
            continue;
        };
        for (n, limit) in [(100, 1.3), (500, 2.0)] {
            let Some(many) = exec_wall(20, vaults, n) else {
                continue;
            };
            let ratio = many.as_secs_f64() / one.as_secs_f64();
            let _ = writeln!(
                goals,
                "Goal: {n} secrets ({vaults} vault{}, +20 ms) in at most {limit}× the time of 1 secret: `dsops exec` {} against {} = **{ratio:.2}×** ({}).\n",
                if vaults == 1 { "" } else { "s" },
                ms(many),
                ms(one),
                if ratio <= limit { "met" } else { "missed" }
            );
        }
    }
    let mut rows = 0;
    let mut behind = Vec::new();
    for &latency in latencies {
        for &vaults in vault_counts {
            for &n in ns {
                let key = |who| (latency as u64, vaults, n, who);
                let Some(exec) = exec_wall(latency as u64, vaults, n) else {
                    continue;
                };
                let others: Vec<(Who, Duration)> = ALL
                    .iter()
                    .filter(|w| !matches!(w, Who::DsopsExec | Who::DsopsEngine))
                    .filter_map(|&w| cells.get(&key(w)).map(|c| (w, median(&mut c.wall.clone()))))
                    .collect();
                if others.is_empty() {
                    continue;
                }
                rows += 1;
                if let Some((who, best)) = others.iter().min_by_key(|(_, d)| *d)
                    && *best <= exec
                {
                    behind.push(format!(
                        "+{latency} ms, {vaults} vault(s), N = {n}: {} {} against {}",
                        who.title(),
                        ms(*best),
                        ms(exec)
                    ));
                }
            }
        }
    }
    if rows > 0 {
        let _ = writeln!(
            goals,
            "Goal: `dsops exec` ahead of every other contender on every row of the tables above: **{} of {rows} rows** ({}){}.\n",
            rows - behind.len(),
            if behind.is_empty() { "met" } else { "missed" },
            if behind.is_empty() {
                String::new()
            } else {
                format!("; behind on: {}", behind.join("; "))
            }
        );
    }
    if !goals.is_empty() {
        let _ = writeln!(md, "### Goals\n\n{goals}");
    }

    let exe = std::env::current_exe().expect("this binary");
    let _ = writeln!(
        md,
        "Reproduce: `{} resolve --runs {runs}` (one row: add `--n 100 --vaults 3 --latency 20`). \
         Each contender alone, as the suite runs it, with the emulator's variables (`dsops emulator` \
         prints them): `dsops exec --config CASE/dsops.yaml --env bench -- true`; \
         `target/python-sdk/bin/python benches/compare/keyvault_resolve.py --task CASE/task.json --mode seq|pool --workers {CONCURRENCY}`; \
         `{} rust-sdk --task CASE/task.json --mode seq|join_all` (the case directories are kept under `--out DIR/work/resolve/`).\n",
        shown(&exe, &common.root),
        shown(&exe, &common.root)
    );
    md
}
