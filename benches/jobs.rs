//! The benchmark: every job at 1M and 10M generated rows (recommend at 1M only), `-w 1`, `-w 2`
//! and 2 processes.
//!
//! `cargo bench --bench jobs -- [--rows 1000000,10000000] [--jobs hot-items,pv] [--reps 3]
//! [--peers | --peers-only] [--latency] [--sinks] [--split]`
//!
//! Data is generated once into `target/bench-data/` (by `uba gen`, so it is the same data every
//! time). Each configuration runs `--reps` times in its own processes; the table shows the median
//! events/s (input lines over wall time, start to exit) and the median peak RSS (the sum over the
//! processes of a cluster), and the ratio to a parse-only pass (`uba parse`) over the same file.
//! `--peers` also runs hot-items, pv, uv, login-fail, order-timeout and tx-match (those of
//! `--jobs`) in uba `-w 2` and in DuckDB and Flink SQL (`benches/peers/`, with `PY` naming a
//! python that has `duckdb` and `apache-flink`) on the same files, checks each peer's result
//! against uba's csv (`benches/peers/compare.py`) and prints uba's throughput and peak RSS as
//! ratios to each peer's; `--peers-only` skips the main table. `--latency` replays a file at a
//! fixed rate and reports how long after the watermark passed a window's end its result was
//! written. `--sinks` runs hot-items, hot-pages and order-timeout into csv, a SQLite file and
//! (with `UBA_BENCH_POSTGRES` naming a server, e.g. `postgres:host=/tmp/pg user=postgres
//! dbname=postgres`) PostgreSQL, `-w 1`, and prints each sink's speed as a ratio to csv's.
//! `--split` (alone: no main table) compares two threads and two processes reading the same rows
//! as two files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const UBA: &str = env!("CARGO_BIN_EXE_uba");

/// One benchmarked job: its name, the generator that writes its input, the record format of that
/// input for the parse-only pass, and extra arguments.
struct Bench {
    job: &'static str,
    generator: &'static [&'static str],
    record: &'static str,
    args: &'static [&'static str],
    /// The most rows it runs on: recommend's model over 10M rows takes over a minute and 2.8 GB.
    max_rows: u64,
}

const ALL: u64 = u64::MAX;

const UB: &[&str] = &["user-behavior"];

#[rustfmt::skip]
const BENCHES: &[Bench] = &[
    Bench { job: "hot-items", generator: UB, record: "user-behavior", args: &[], max_rows: ALL },
    Bench { job: "hot-pages", generator: &["apache-log", "--shuffle-minute"], record: "apache-log", args: &[], max_rows: ALL },
    Bench { job: "pv", generator: UB, record: "user-behavior", args: &[], max_rows: ALL },
    Bench { job: "uv", generator: UB, record: "user-behavior", args: &["--method", "exact"], max_rows: ALL },
    Bench { job: "uv", generator: UB, record: "user-behavior", args: &["--method", "bloom"], max_rows: ALL },
    Bench { job: "uv", generator: UB, record: "user-behavior", args: &["--method", "hll"], max_rows: ALL },
    Bench { job: "app-marketing", generator: &["marketing"], record: "marketing", args: &[], max_rows: ALL },
    Bench { job: "ad-stats", generator: &["ad-clicks", "--rate", "50"], record: "ad-clicks", args: &[], max_rows: ALL },
    Bench { job: "login-fail", generator: &["login", "--disorder", "2s"], record: "login", args: &[], max_rows: ALL },
    Bench { job: "order-timeout", generator: &["orders"], record: "orders", args: &[], max_rows: ALL },
    Bench { job: "funnel", generator: UB, record: "user-behavior", args: &[], max_rows: ALL },
    Bench { job: "user-profile", generator: UB, record: "user-behavior", args: &["--snapshot"], max_rows: ALL },
    Bench { job: "recommend", generator: UB, record: "user-behavior", args: &[], max_rows: 1_000_000 },
];

/// How a run is laid out.
#[derive(Clone, Copy)]
enum Shape {
    Workers(usize),
    Processes(usize),
}

impl Shape {
    fn label(self) -> String {
        match self {
            Shape::Workers(w) => format!("-w {w}"),
            Shape::Processes(n) => format!("{n} processes"),
        }
    }
}

struct Measure {
    seconds: f64,
    peak_kb: u64,
}

struct Options {
    rows: Vec<u64>,
    jobs: Option<Vec<String>>,
    reps: usize,
    peers: bool,
    table: bool,
    latency: bool,
    sinks: bool,
    split: bool,
}

fn options() -> Options {
    let mut o = Options {
        rows: vec![1_000_000, 10_000_000],
        jobs: None,
        reps: 3,
        peers: false,
        table: true,
        latency: false,
        sinks: false,
        split: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rows" => {
                o.rows = args
                    .next()
                    .expect("--rows N,M")
                    .split(',')
                    .map(|s| s.parse().expect("a row count"))
                    .collect()
            }
            "--jobs" => {
                o.jobs = Some(
                    args.next()
                        .expect("--jobs a,b")
                        .split(',')
                        .map(String::from)
                        .collect(),
                )
            }
            "--reps" => o.reps = args.next().expect("--reps N").parse().expect("a number"),
            "--peers" => o.peers = true,
            "--peers-only" => {
                o.peers = true;
                o.table = false
            }
            "--latency" => o.latency = true,
            "--sinks" => o.sinks = true,
            "--split" => {
                o.split = true;
                o.table = false
            }
            "--bench" => {} // passed by cargo bench
            other => panic!("unknown benchmark flag {other}"),
        }
    }
    o
}

fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("creating target/bench-data");
    dir
}

/// The input of a benchmark, generated on first use. `RECEIPTS` is the receipts of the orders
/// of `["orders"]` (same rows, same seed), for tx-match.
fn input(generator: &[&str], rows: u64) -> PathBuf {
    let name: String = if generator == RECEIPTS {
        "receipts".into()
    } else {
        generator
            .join("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect()
    };
    let path = data_dir().join(format!("{name}-{rows}.csv"));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut generate = Command::new(UBA);
        generate.arg("gen");
        if generator == RECEIPTS {
            generate.args(["orders", "--out", "/dev/null", "--receipts"]);
        } else {
            generate.args(generator).arg("--out");
        }
        let status = generate
            .arg(&tmp)
            .args(["--rows", &rows.to_string(), "--seed", "1"])
            .status()
            .expect("running uba gen");
        assert!(status.success(), "uba gen {generator:?} failed");
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// Waits for a child and returns its peak RSS in KB (`wait4` gives each child's own rusage).
fn wait_peak(child: std::process::Child) -> u64 {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid we own.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(
        pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "a benchmarked process failed"
    );
    usage.ru_maxrss as u64
}

/// One run of `uba` with the arguments `each(p)` gives process `p` (on one process, `each(0)`).
fn run_once(each: &dyn Fn(usize) -> Vec<String>, shape: Shape) -> Measure {
    let start = Instant::now();
    let peak_kb = match shape {
        Shape::Workers(w) => {
            let child = Command::new(UBA)
                .args(each(0))
                .args(["-w", &w.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            wait_peak(child)
        }
        Shape::Processes(n) => {
            let ports: Vec<u16> = (0..n)
                .map(|_| {
                    std::net::TcpListener::bind("127.0.0.1:0")
                        .unwrap()
                        .local_addr()
                        .unwrap()
                        .port()
                })
                .collect();
            let hostfile = data_dir().join("hosts.txt");
            std::fs::write(
                &hostfile,
                ports
                    .iter()
                    .map(|p| format!("127.0.0.1:{p}\n"))
                    .collect::<String>(),
            )
            .unwrap();
            let children: Vec<_> = (0..n)
                .map(|p| {
                    Command::new(UBA)
                        .args(each(p))
                        .args(["-w", "1", "-n", &n.to_string(), "-p", &p.to_string(), "-h"])
                        .arg(&hostfile)
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap()
                })
                .collect();
            children.into_iter().map(wait_peak).sum()
        }
    };
    Measure {
        seconds: start.elapsed().as_secs_f64(),
        peak_kb,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn measure(args: &[String], shape: Shape, reps: usize) -> (f64, f64) {
    measure_each(&|_| args.to_vec(), shape, reps)
}

/// [`measure`] with the arguments `each(p)` gives process `p`.
fn measure_each(each: &dyn Fn(usize) -> Vec<String>, shape: Shape, reps: usize) -> (f64, f64) {
    let runs: Vec<Measure> = (0..reps).map(|_| run_once(each, shape)).collect();
    (
        median(runs.iter().map(|m| m.seconds).collect()),
        median(runs.iter().map(|m| m.peak_kb as f64).collect()),
    )
}

fn main() {
    let o = options();
    if o.table {
        println!(
            "{:<22} {:>11} {:>12} {:>13} {:>11} {:>9}",
            "job", "rows", "layout", "events/s", "peak RSS", "vs parse"
        );
    }
    for bench in BENCHES
        .iter()
        .filter(|b| o.table && o.jobs.as_ref().is_none_or(|j| j.iter().any(|n| n == b.job)))
    {
        for &rows in o.rows.iter().filter(|&&rows| rows <= bench.max_rows) {
            let file = input(bench.generator, rows).to_string_lossy().into_owned();
            let parse = vec![
                "parse".to_owned(),
                file.clone(),
                "--record".into(),
                bench.record.into(),
            ];
            let (parse_s, _) = measure(&parse, Shape::Workers(1), o.reps);
            let mut args: Vec<String> = vec![
                bench.job.to_owned(),
                file.clone(),
                "--format".into(),
                "csv".into(),
            ];
            args.extend(bench.args.iter().map(|s| s.to_string()));
            for shape in [Shape::Workers(1), Shape::Workers(2), Shape::Processes(2)] {
                let (s, kb) = measure(&args, shape, o.reps);
                println!(
                    "{:<22} {:>11} {:>12} {:>13.0} {:>8.1} MB {:>8.2}x",
                    format!("{} {}", bench.job, bench.args.last().unwrap_or(&"")).trim_end(),
                    rows,
                    shape.label(),
                    rows as f64 / s,
                    kb / 1024.0,
                    parse_s / s
                );
            }
        }
    }
    if o.peers {
        peers(&o);
    }
    if o.latency {
        latency(&o);
    }
    if o.sinks {
        sinks(&o);
    }
    if o.split {
        split(&o);
    }
}

/// Two files dealt from `file` line by line (odd and even lines: both span the same event time),
/// written on first use.
fn halves(file: &Path) -> [PathBuf; 2] {
    use std::io::{BufRead, Write};
    let paths = [0, 1].map(|i| file.with_extension(format!("half{i}.csv")));
    if !paths.iter().all(|p| p.exists()) {
        let mut writers = paths
            .clone()
            .map(|p| std::io::BufWriter::new(std::fs::File::create(p).unwrap()));
        let reader = std::io::BufReader::new(std::fs::File::open(file).unwrap());
        for (i, line) in reader.split(b'\n').enumerate() {
            let w = &mut writers[i % 2];
            w.write_all(&line.unwrap()).unwrap();
            w.write_all(b"\n").unwrap();
        }
        writers.iter_mut().for_each(|w| w.flush().unwrap());
    }
    paths
}

/// `--split`: the jobs with one input (pv, uv, hot-items unless `--jobs` says otherwise) over
/// the same rows dealt into two files, read by `-w 2 --inputs a,b` and by two processes that
/// each read their own file (`uba cluster --split-inputs`): what the exchange between processes
/// costs against threads.
fn split(o: &Options) {
    println!(
        "\n{:<22} {:>11} {:>13} {:>13} {:>9}",
        "own inputs", "rows", "-w 2 ev/s", "2 procs ev/s", "procs/-w2"
    );
    let default = ["pv", "uv", "hot-items"].map(String::from).to_vec();
    let jobs = o.jobs.clone().unwrap_or(default);
    for bench in BENCHES
        .iter()
        .filter(|b| jobs.iter().any(|j| j == b.job) && b.generator == UB)
    {
        for &rows in o.rows.iter().filter(|&&rows| rows <= bench.max_rows) {
            let files = halves(&input(bench.generator, rows)).map(|p| p.display().to_string());
            let args = |inputs: &str| {
                let mut a = vec![bench.job.to_owned(), "--format".into(), "csv".into()];
                a.extend(bench.args.iter().map(|s| s.to_string()));
                a.extend(["--inputs".into(), inputs.to_owned()]);
                a
            };
            let (threads_s, _) = measure(&args(&files.join(",")), Shape::Workers(2), o.reps);
            let (processes_s, _) = measure_each(&|p| args(&files[p]), Shape::Processes(2), o.reps);
            println!(
                "{:<22} {:>11} {:>13.0} {:>13.0} {:>8.2}x",
                format!("{} {}", bench.job, bench.args.last().unwrap_or(&"")).trim_end(),
                rows,
                rows as f64 / threads_s,
                rows as f64 / processes_s,
                threads_s / processes_s
            );
        }
    }
}

/// The same runs into csv, SQLite and PostgreSQL: what keeping the results in a table costs.
fn sinks(o: &Options) {
    let postgres = std::env::var("UBA_BENCH_POSTGRES").ok();
    println!(
        "\n{:<22} {:>11} {:>12} {:>13} {:>9}",
        "sink", "rows", "destination", "events/s", "vs csv"
    );
    for job in ["hot-items", "hot-pages", "order-timeout"] {
        let bench = BENCHES
            .iter()
            .find(|b| b.job == job)
            .expect("a benchmarked job");
        for &rows in &o.rows {
            let file = input(bench.generator, rows).to_string_lossy().into_owned();
            let db = data_dir().join("sink.db");
            let mut destinations = vec![
                ("csv", vec!["--format".to_owned(), "csv".into()]),
                (
                    "sqlite",
                    vec!["--sink".into(), format!("sqlite:{}", db.display())],
                ),
            ];
            if let Some(pg) = &postgres {
                destinations.push(("postgres", vec!["--sink".into(), pg.clone()]));
            }
            let mut csv_s = None;
            for (name, extra) in destinations {
                let mut args = vec![job.to_owned(), file.clone()];
                args.extend(bench.args.iter().map(|s| s.to_string()));
                args.extend(extra);
                let runs: Vec<f64> = (0..o.reps)
                    .map(|_| {
                        for suffix in ["", "-wal", "-shm"] {
                            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                        }
                        run_once(&|_| args.clone(), Shape::Workers(1)).seconds
                    })
                    .collect();
                let s = median(runs);
                let base = *csv_s.get_or_insert(s);
                println!(
                    "{:<22} {:>11} {:>12} {:>13.0} {:>8.2}x",
                    job,
                    rows,
                    name,
                    rows as f64 / s,
                    base / s
                );
            }
        }
    }
}

/// A job run side by side with its peers (`--peers`): uba's arguments, the generators of its
/// inputs, and the peers, each a script `benches/peers/{peer}_{job}.py` (`-` written `_`) taking
/// the inputs, `--out FILE` and the peer's flags.
struct PeerJob {
    job: &'static str,
    args: &'static [&'static str],
    inputs: &'static [&'static [&'static str]],
    peers: &'static [&'static str],
}

const RECEIPTS: &[&str] = &["orders", "--receipts"];
const LOGINS: &[&str] = &["login", "--disorder", "2s"];
const BOTH: &[&str] = &["duckdb", "flink"];

#[rustfmt::skip]
const PEER_JOBS: &[PeerJob] = &[
    PeerJob { job: "hot-items", args: &[], inputs: &[UB], peers: BOTH },
    PeerJob { job: "pv", args: &[], inputs: &[UB], peers: BOTH },
    PeerJob { job: "uv", args: &["--method", "exact"], inputs: &[UB], peers: BOTH },
    PeerJob { job: "login-fail", args: &[], inputs: &[LOGINS], peers: BOTH },
    PeerJob { job: "order-timeout", args: &[], inputs: &[&["orders"]], peers: BOTH },
    PeerJob { job: "tx-match", args: &[], inputs: &[&["orders"], RECEIPTS], peers: BOTH },
];

/// Each peer's parallelism: 2 threads (DuckDB) or 2 tasks (Flink), as uba's `-w 2`.
fn peer_flags(peer: &str) -> [&'static str; 2] {
    match peer {
        "duckdb" => ["--threads", "2"],
        _ => ["--parallelism", "2"],
    }
}

/// What a peer run measured: its own timed span (the query, CSV reading included; not the
/// interpreter's or the JVM's start), the whole process's wall time, and the peak RSS of its
/// process tree (python, with DuckDB inside it, plus Flink's JVM), as the script reports it.
struct PeerRun {
    query_s: f64,
    process_s: f64,
    peak_kb: u64,
}

fn run_peer(
    py: &str,
    script: &Path,
    inputs: &[String],
    out: &Path,
    peer: &str,
) -> Result<PeerRun, String> {
    let start = Instant::now();
    let child = Command::new(py)
        .arg(script)
        .args(inputs)
        .arg("--out")
        .arg(out)
        .args(peer_flags(peer))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {py}: {e}"))?;
    let pid = child.id() as i32;
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.unwrap(), &mut stderr).unwrap_or_default();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid we own.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let process_s = start.elapsed().as_secs_f64();
    let field = |name: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with("peer-result "))
            .and_then(|l| l.split(' ').find_map(|kv| kv.strip_prefix(name)))
            .and_then(|v| v.parse::<f64>().ok())
    };
    match (field("seconds="), field("rss_kib=")) {
        (Some(query_s), Some(kb)) if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 => {
            Ok(PeerRun {
                query_s,
                process_s,
                peak_kb: (kb as u64).max(usage.ru_maxrss as u64),
            })
        }
        _ => Err(stderr
            .lines()
            .rfind(|l| !l.trim_start().starts_with("at "))
            .unwrap_or("no output")
            .to_owned()),
    }
}

/// Checks a peer's result against uba's with `benches/peers/compare.py`: its verdict line
/// (`agree: ...` or `differ ...`, naming what is not compared), and whether they agree.
fn compare(py: &str, job: &str, uba: &Path, peer: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/compare.py");
    match Command::new(py)
        .arg(script)
        .args(["--job", job])
        .arg(uba)
        .arg(peer)
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let agree = out.status.success();
            let verdict = if agree {
                text.lines()
                    .find(|l| l.starts_with("agree"))
                    .unwrap_or("")
                    .to_owned()
            } else {
                text.lines()
                    .skip_while(|l| !l.starts_with("differ") && !l.starts_with("only in"))
                    .collect::<Vec<_>>()
                    .join("\n      ")
            };
            (agree, verdict)
        }
        Err(e) => (false, format!("cannot run compare.py: {e}")),
    }
}

fn mega(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else {
        format!("{:.0}k", x / 1e3)
    }
}

/// Every job of `PEER_JOBS` in uba (`-w 2`, median of `--reps`) and in each peer (once, 2 threads
/// or tasks), on the same files; the peer's result is checked against uba's before its time is
/// printed next to it. Ratios are uba's: its events/s over the peer's (the peer timed by its own
/// query span, and by its whole process in parentheses), its peak RSS over the peer's.
fn peers(o: &Options) {
    let py = std::env::var("PY").unwrap_or_else(|_| "python3".into());
    let peers_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers");
    println!(
        "\npeers: uba -w 2 (median of {}), DuckDB 2 threads, Flink SQL parallelism 2 (each once)",
        o.reps
    );
    println!(
        "{:<14} {:>8} {:<7} {:>9} {:>9} {:>9} {:>15} {:>9}  result",
        "job", "events", "engine", "events/s", "(process)", "peak RSS", "uba speed x", "uba RSS x"
    );
    let selected = |job: &str| o.jobs.as_ref().is_none_or(|j| j.iter().any(|n| n == job));
    for pj in PEER_JOBS.iter().filter(|pj| selected(pj.job)) {
        for &rows in &o.rows {
            let inputs: Vec<String> = pj
                .inputs
                .iter()
                .map(|g| input(g, rows).to_string_lossy().into_owned())
                .collect();
            let events: u64 = inputs.iter().map(|f| line_count(Path::new(f))).sum();
            let uba_csv = data_dir().join(format!("uba-{}-{rows}.csv", pj.job));
            let mut args: Vec<String> = vec![pj.job.to_owned()];
            args.extend(inputs.iter().cloned());
            args.extend(pj.args.iter().map(|s| s.to_string()));
            args.extend(["--format".into(), "csv".into(), "--output".into()]);
            args.push(uba_csv.to_string_lossy().into_owned());
            // The late records, which uba leaves out of its results and a peer may count.
            let late = data_dir().join(format!("uba-{}-{rows}-late.csv", pj.job));
            args.extend(["--late".into(), late.to_string_lossy().into_owned()]);
            let (uba_s, uba_kb) = measure(&args, Shape::Workers(2), o.reps);
            let uba_rate = events as f64 / uba_s;
            println!(
                "{:<14} {:>8} {:<7} {:>9} {:>9} {:>6.0} MB {:>26}",
                pj.job,
                events,
                "uba",
                mega(uba_rate),
                "",
                uba_kb / 1024.0,
                format!(
                    "{} late",
                    if late.exists() {
                        line_count(&late).saturating_sub(1)
                    } else {
                        0
                    }
                )
            );
            for peer in pj.peers {
                let script = peers_dir.join(format!("{peer}_{}.py", pj.job.replace('-', "_")));
                let out = data_dir().join(format!("{peer}-{}-{rows}.csv", pj.job));
                let run = match run_peer(&py, &script, &inputs, &out, peer) {
                    Ok(run) => run,
                    Err(why) => {
                        println!(
                            "{:<14} {:>8} {peer:<7} failed: {why} (PY needs duckdb and apache-flink)",
                            pj.job, events
                        );
                        continue;
                    }
                };
                let (agree, verdict) = compare(&py, pj.job, &uba_csv, &out);
                let (rate, process_rate) =
                    (events as f64 / run.query_s, events as f64 / run.process_s);
                println!(
                    "{:<14} {:>8} {peer:<7} {:>9} {:>9} {:>6.0} MB {:>6.2} ({:>6.1}) {:>9.2}  {}",
                    pj.job,
                    events,
                    mega(rate),
                    format!("({})", mega(process_rate)),
                    run.peak_kb as f64 / 1024.0,
                    uba_rate / rate,
                    uba_rate / process_rate,
                    uba_kb / run.peak_kb as f64,
                    if agree { "agree" } else { "DIFFER" }
                );
                println!("      {verdict}");
            }
        }
    }
}

/// Lines of a file (a last line without a newline counts).
fn line_count(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("reading an input");
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// Replays hot-items input at a fixed event rate and reports the delay from the watermark passing
/// each window's end to its result being written.
fn latency(o: &Options) {
    let rows = *o.rows.first().unwrap_or(&1_000_000);
    let file = input(&["user-behavior"], rows)
        .to_string_lossy()
        .into_owned();
    for rate in ["200000", "1000000"] {
        let out = Command::new(UBA)
            .args([
                "hot-items",
                &file,
                "--format",
                "csv",
                "-w",
                "2",
                "--replay-rate",
                rate,
                "--report-latency",
            ])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stderr);
        let line = report
            .lines()
            .find(|l| l.contains("latency"))
            .unwrap_or("no latency report");
        println!("latency at {rate} events/s: {line}");
    }
}
