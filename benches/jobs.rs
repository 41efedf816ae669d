//! The benchmark: every job at 1M and 10M generated rows, `-w 1`, `-w 2` and 2 processes.
//!
//! `cargo bench --bench jobs -- [--rows 1000000,10000000] [--jobs hot-items,pv] [--reps 3]
//! [--peers] [--latency] [--sinks]`
//!
//! Data is generated once into `target/bench-data/` (by `uba gen`, so it is the same data every
//! time). Each configuration runs `--reps` times in its own processes; the table shows the median
//! events/s (input lines over wall time, start to exit) and the median peak RSS (the sum over the
//! processes of a cluster), and the ratio to a parse-only pass (`uba parse`) over the same file.
//! `--peers` also runs the same hot-items query in DuckDB and Flink SQL (`benches/peers/`, with
//! `PY` naming a python that has `duckdb` and `apache-flink`) and checks that their settled windows
//! agree with uba's. `--latency` replays a file at a fixed rate and reports how long after the
//! watermark passed a window's end its result was written. `--sinks` runs hot-items, hot-pages
//! and order-timeout into csv, a SQLite file and (with `UBA_BENCH_POSTGRES` naming a server, e.g.
//! `postgres:host=/tmp/pg user=postgres dbname=postgres`) PostgreSQL, `-w 1`, and prints each
//! sink's speed as a ratio to csv's.

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
}

const UB: &[&str] = &["user-behavior"];

#[rustfmt::skip]
const BENCHES: &[Bench] = &[
    Bench { job: "hot-items", generator: UB, record: "user-behavior", args: &[] },
    Bench { job: "hot-pages", generator: &["apache-log", "--shuffle-minute"], record: "apache-log", args: &[] },
    Bench { job: "pv", generator: UB, record: "user-behavior", args: &[] },
    Bench { job: "uv", generator: UB, record: "user-behavior", args: &["--method", "exact"] },
    Bench { job: "uv", generator: UB, record: "user-behavior", args: &["--method", "bloom"] },
    Bench { job: "uv", generator: UB, record: "user-behavior", args: &["--method", "hll"] },
    Bench { job: "app-marketing", generator: &["marketing"], record: "marketing", args: &[] },
    Bench { job: "ad-stats", generator: &["ad-clicks", "--rate", "50"], record: "ad-clicks", args: &[] },
    Bench { job: "login-fail", generator: &["login", "--disorder", "2s"], record: "login", args: &[] },
    Bench { job: "order-timeout", generator: &["orders"], record: "orders", args: &[] },
    Bench { job: "funnel", generator: UB, record: "user-behavior", args: &[] },
    Bench { job: "user-profile", generator: UB, record: "user-behavior", args: &["--snapshot"] },
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
    latency: bool,
    sinks: bool,
}

fn options() -> Options {
    let mut o = Options {
        rows: vec![1_000_000, 10_000_000],
        jobs: None,
        reps: 3,
        peers: false,
        latency: false,
        sinks: false,
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
            "--latency" => o.latency = true,
            "--sinks" => o.sinks = true,
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

/// The input of a benchmark, generated on first use.
fn input(generator: &[&str], rows: u64) -> PathBuf {
    let name: String = generator
        .join("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let path = data_dir().join(format!("{name}-{rows}.csv"));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let status = Command::new(UBA)
            .arg("gen")
            .args(generator)
            .args(["--rows", &rows.to_string(), "--seed", "1", "--out"])
            .arg(&tmp)
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

fn run_once(args: &[String], shape: Shape) -> Measure {
    let start = Instant::now();
    let peak_kb = match shape {
        Shape::Workers(w) => {
            let child = Command::new(UBA)
                .args(args)
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
                        .args(args)
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
    let runs: Vec<Measure> = (0..reps).map(|_| run_once(args, shape)).collect();
    (
        median(runs.iter().map(|m| m.seconds).collect()),
        median(runs.iter().map(|m| m.peak_kb as f64).collect()),
    )
}

fn main() {
    let o = options();
    println!(
        "{:<22} {:>11} {:>12} {:>13} {:>11} {:>9}",
        "job", "rows", "layout", "events/s", "peak RSS", "vs parse"
    );
    for bench in BENCHES
        .iter()
        .filter(|b| o.jobs.as_ref().is_none_or(|j| j.iter().any(|n| n == b.job)))
    {
        for &rows in &o.rows {
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
                        run_once(&args, Shape::Workers(1)).seconds
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

/// hot-items in DuckDB and Flink SQL next to uba `-w 2`, on the same file, in the same run.
fn peers(o: &Options) {
    let py = std::env::var("PY").unwrap_or_else(|_| "python3".into());
    let peers_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers");
    for &rows in &o.rows {
        let file = input(&["user-behavior"], rows)
            .to_string_lossy()
            .into_owned();
        let uba_csv = data_dir().join(format!("uba-hot-items-{rows}.csv"));
        let start = Instant::now();
        let status = Command::new(UBA)
            .args(["hot-items", &file, "--format", "csv", "-w", "2", "--output"])
            .arg(&uba_csv)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let uba_s = start.elapsed().as_secs_f64();
        println!(
            "\npeers, hot-items, {rows} rows (uba -w 2: {:.0} events/s)",
            rows as f64 / uba_s
        );
        for (peer, extra) in [
            ("duckdb", vec!["--threads", "2"]),
            ("flink", vec!["--parallelism", "2"]),
        ] {
            let out = data_dir().join(format!("{peer}-hot-items-{rows}.csv"));
            let start = Instant::now();
            let result = Command::new(&py)
                .arg(peers_dir.join(format!("{peer}_hot_items.py")))
                .arg(&file)
                .arg("--out")
                .arg(&out)
                .args(extra)
                .output();
            let seconds = start.elapsed().as_secs_f64();
            match result {
                Ok(r) if r.status.success() => {
                    let agree = Command::new(&py)
                        .arg(peers_dir.join("compare.py"))
                        .arg(&uba_csv)
                        .arg(&out)
                        .status()
                        .is_ok_and(|s| s.success());
                    let own = String::from_utf8_lossy(&r.stderr)
                        .lines()
                        .filter(|l| l.starts_with(&format!("{peer}:")))
                        .collect::<Vec<_>>()
                        .join(" ");
                    println!(
                        "  {peer:<7} {:>8.2} s whole run, {:>10.0} events/s; uba is {:.1}x faster; settled windows {}; {own}",
                        seconds,
                        rows as f64 / seconds,
                        seconds / uba_s,
                        if agree { "agree" } else { "DIFFER" }
                    );
                }
                Ok(r) => println!(
                    "  {peer}: failed ({}); is it installed? (pip install duckdb apache-flink)",
                    String::from_utf8_lossy(&r.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                ),
                Err(e) => println!("  {peer}: cannot run {py}: {e}"),
            }
        }
    }
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
