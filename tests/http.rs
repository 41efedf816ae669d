//! `--http ADDR`: `/metrics` scraped during a live run and read by the Prometheus project's own
//! parser, the live page in headless chromium against the output written at the same moments,
//! and `/healthz` when a process of the cluster is killed. The live runs are fed by
//! `uba gen user-behavior --follow`, as a user would feed one.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{browser, csv_rows, free_port, http_get, scratch, write};

/// hot-items on a live stream: windows of 2 s sliding by 1 s, so that one fires every second.
const LIVE_JOB: &[&str] = &["hot-items", "-", "--window", "2s", "--slide", "1s"];

/// A job fed by `uba gen user-behavior --follow`, with `--http 127.0.0.1:0`.
struct LiveRun {
    job: Child,
    generator: Child,
    address: String,
    /// The copy of the generator's rows into the job's stdin: it hands the stdin back when the
    /// generator is done, so that the test chooses when the input ends.
    copy: Option<JoinHandle<ChildStdin>>,
    stderr: Receiver<String>,
}

impl LiveRun {
    /// Starts `uba gen user-behavior --follow --rate RATE GEN...` into `uba JOB...`, whose
    /// stdout goes to `out`.
    fn start(generator: &[&str], job: &[&str], out: &Path) -> LiveRun {
        let mut generator = Command::new(env!("CARGO_BIN_EXE_uba"))
            .args(["gen", "user-behavior", "--follow", "--items", "500"])
            .args(["--categories", "50", "--users", "1000"])
            .args(generator)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("running uba gen");
        let mut job = Command::new(env!("CARGO_BIN_EXE_uba"))
            .args(job)
            .args(["--http", "127.0.0.1:0"])
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(out).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running uba");
        let (mut rows, mut stdin) = (generator.stdout.take().unwrap(), job.stdin.take().unwrap());
        let copy = std::thread::spawn(move || {
            let _ = std::io::copy(&mut rows, &mut stdin);
            stdin
        });
        let stderr = lines_of(job.stderr.take().unwrap());
        let first = stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("uba says where it serves");
        let address = first
            .strip_prefix("uba: serving http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("not where it serves: {first}"))
            .to_owned();
        LiveRun {
            job,
            generator,
            address,
            copy: Some(copy),
            stderr,
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.address, path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Ends the input (once the generator wrote all its rows) and the job; returns its stderr.
    fn finish(mut self) -> String {
        drop(self.copy.take().unwrap().join().unwrap());
        let status = self.job.wait().unwrap();
        let err: Vec<String> = self.stderr.iter().collect();
        assert!(status.success(), "uba failed: {status}: {}", err.join("\n"));
        err.join("\n")
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        let _ = self.generator.kill();
        let _ = self.job.kill();
        let _ = self.generator.wait();
        let _ = self.job.wait();
    }
}

/// The lines of `pipe`, as they come, read on a thread of their own.
fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads each scrape with `prometheus_client`'s strict OpenMetrics parser (a malformed
/// scrape, an invalid name, fails it) and prints every sample: file, type, name, labels, value.
const PARSE: &str = r#"
import re, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
for path in sys.argv[1:]:
    for family in text_string_to_metric_families(open(path).read()):
        assert NAME.match(family.name), family.name
        for s in family.samples:
            assert NAME.match(s.name), s.name
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            print(path, family.type, s.name, labels, repr(float(s.value)), sep="\t")
"#;

/// One scrape: (sample name, labels) -> (metric type, value).
type Scrape = BTreeMap<(String, String), (String, f64)>;

fn parse_scrapes(python: &Path, files: &[String]) -> Vec<Scrape> {
    let out = Command::new(python)
        .arg("-c")
        .arg(PARSE)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser rejects a scrape: {}",
        common::stderr(&out)
    );
    let mut scrapes: Vec<Scrape> = vec![Scrape::new(); files.len()];
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let i = files.iter().position(|p| p == f[0]).unwrap();
        scrapes[i].insert(
            (f[2].to_owned(), f[3].to_owned()),
            (f[1].to_owned(), f[4].parse().unwrap()),
        );
    }
    scrapes
}

/// `/metrics`, scraped every 200 ms of a live hot-items run into a table, parses with the
/// Prometheus parser; every metric the issue names is there, with only low-cardinality labels;
/// no counter goes back; and at the end the accepted count is the accounting line's.
#[test]
fn metrics_scraped_during_a_live_run_parse_and_only_grow() {
    let Some(python) = common::require(
        "prometheus",
        "metrics_scraped_during_a_live_run_parse_and_only_grow",
        common::prometheus_parser(),
    ) else {
        return;
    };
    let dir = scratch("http-metrics");
    let sink = format!("sqlite:{}", dir.join("results.db").display());
    let job = [
        LIVE_JOB,
        &["--format", "csv", "--output", "-", "--sink", &sink],
    ]
    .concat();
    let run = LiveRun::start(
        &["--rows", "4000", "--rate", "2000"],
        &job,
        &dir.join("out.csv"),
    );
    let mut files = Vec::new();
    let started = Instant::now();
    loop {
        let (status, body) = run.get("/metrics");
        assert_eq!(status, 200);
        files.push(write(&dir.join(format!("{}.txt", files.len())), &body));
        let read = body
            .lines()
            .filter(|l| l.starts_with("uba_records_total{"))
            .filter(|l| l.contains("outcome=\"accepted\"") || l.contains("outcome=\"rejected\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>();
        if read == 4000 {
            break; // every row is read; the input is still open
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "stuck at {read}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(files.len() >= 5, "only {} scrapes", files.len());
    let stderr = run.finish();
    let scrapes = parse_scrapes(&python, &files);
    let last = scrapes.last().unwrap();

    let names: Vec<&str> = last.keys().map(|(name, _)| name.as_str()).collect();
    for name in [
        "uba_records_total",
        "uba_input_read_bytes_total",
        "uba_corrections_total",
        "uba_input_watermark_seconds",
        "uba_watermark_seconds",
        "uba_watermark_lag_seconds",
        "uba_rows_emitted_total",
        "uba_sink_commits_total",
        "uba_sink_commit_duration_seconds_count",
        "uba_sink_last_committed_time_seconds",
        "uba_worker_busy_seconds_total",
        "uba_worker_idle_seconds_total",
        "uba_arrangement_updates",
        "uba_process_resident_memory_bytes",
    ] {
        assert!(names.contains(&name), "no {name} in {names:?}");
    }
    for (name, labels) in last.keys() {
        for label in labels.split(',') {
            let key = label.split('=').next().unwrap();
            assert!(
                ["job", "process", "input", "outcome", "worker", "sink", "le"].contains(&key),
                "{name} has label {key}"
            );
        }
    }
    // Counters (and a histogram's counts) never go back from one scrape to the next.
    for pair in scrapes.windows(2) {
        for (key, (kind, value)) in &pair[0] {
            if kind == "counter" || kind == "histogram" {
                let later = pair[1].get(key).map_or(f64::NAN, |(_, v)| *v);
                assert!(later >= *value, "{key:?} went from {value} to {later}");
            }
        }
    }
    let sample = |name: &str, labels: &str| {
        last.get(&(name.to_owned(), labels.to_owned()))
            .unwrap_or_else(|| panic!("no {name}{{{labels}}}"))
            .1
    };
    let accepted = sample(
        "uba_records_total",
        "input=stdin,job=hot-items,outcome=accepted,process=0",
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("uba: stdin: "))
        .expect("the accounting line");
    assert!(
        line.contains(&format!(" {accepted} accepted ")),
        "{accepted} accepted in /metrics, the accounting says: {line}"
    );
    assert_eq!(accepted, 4000.0);
    assert!(
        sample(
            "uba_sink_commits_total",
            "job=hot-items,process=0,sink=hot_items"
        ) > 0.0
    );
    assert!(sample("uba_rows_emitted_total", "job=hot-items,process=0") > 0.0);
}

/// The window the live page shows, and its rows (rank, item, count), from chromium's DOM.
fn shown(dom: &str) -> (u64, Vec<(String, String, String)>) {
    let after = |from: &str, mark: &str| from.split_once(mark).map(|(_, rest)| rest.to_owned());
    let time = after(dom, "id=\"latest-time\" data-ms=\"").expect("the latest time");
    let time: u64 = time.split('"').next().unwrap().parse().unwrap();
    let table = after(dom, "<table id=\"latest\">").unwrap();
    let table = table.split("</table>").next().unwrap();
    let cells = |row: &str, tag: &str| -> Vec<String> {
        row.split(&format!("<{tag}"))
            .skip(1)
            .map(|c| {
                c.split_once('>')
                    .unwrap()
                    .1
                    .split('<')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let mut rows = table.split("<tr>").skip(1);
    let head = cells(rows.next().expect("a header"), "th");
    let column = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (rank, item, count) = (column("rank"), column("item_id"), column("count"));
    let rows = rows
        .map(|r| cells(r, "td"))
        .map(|c| (c[rank].clone(), c[item].clone(), c[count].clone()))
        .collect();
    // The page's time is the window's last millisecond.
    (time + 1, rows)
}

/// The windows written so far: window_end -> its latest rows (rank, item, count).
fn written(out: &Path) -> BTreeMap<u64, Vec<(String, String, String)>> {
    let mut windows: BTreeMap<u64, (u64, Vec<_>)> = BTreeMap::new();
    let text = std::fs::read_to_string(out).unwrap();
    // Only whole lines: the last one may be half written.
    let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    for row in csv_rows(whole).into_iter().skip(1) {
        let (end, emitted): (u64, u64) = (row[1].parse().unwrap(), row[6].parse().unwrap());
        let entry = windows.entry(end).or_insert((emitted, Vec::new()));
        if entry.0 != emitted {
            *entry = (emitted, Vec::new()); // a later emission replaces the window's rows
        }
        entry
            .1
            .push((row[2].clone(), row[3].clone(), row[4].clone()));
    }
    windows
        .into_iter()
        .map(|(end, (_, rows))| (end, rows))
        .collect()
}

/// The live page of a live hot-items run, opened twice in headless chromium some seconds apart:
/// each time it shows the top 5 of a window the output had just written, the same rows, and
/// the window moved on between the two. The screenshots are not blank and draw the bars.
#[test]
fn the_live_page_shows_the_latest_top_items() {
    let Some(chromium) = common::require(
        "chromium",
        "the_live_page_shows_the_latest_top_items",
        browser::chromium(),
    ) else {
        return;
    };
    let dir = scratch("http-page");
    let out = dir.join("out.csv");
    let run = LiveRun::start(
        &["--rows", "60000", "--rate", "2000"],
        &[LIVE_JOB, &["--format", "csv"]].concat(),
        &out,
    );
    let url = format!("http://{}/", run.address);
    let started = Instant::now();
    while written(&out).len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "no windows");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut seen = Vec::new();
    for moment in 0..2 {
        if moment > 0 {
            std::thread::sleep(Duration::from_secs(3));
        }
        let before = *written(&out).keys().last().unwrap();
        let dom = browser::browse(
            &chromium,
            &dir,
            &["--dump-dom".into(), "--virtual-time-budget=500".into()],
            &url,
        );
        let windows = written(&out);
        let (end, rows) = shown(&dom);
        // The page read its state between `before` and now: the window it shows was the latest
        // one at some moment in between (or the one before `before`, written an instant before
        // the page was handed it).
        assert!(
            end + 1000 >= before && end <= *windows.keys().last().unwrap(),
            "the page shows the window ending {end}; the output's latest was {before}"
        );
        assert_eq!(rows.len(), 5, "{dom}");
        assert_eq!(rows, windows[&end], "the window ending {end}");
        let png = dir.join(format!("live-{moment}.png"));
        browser::browse(
            &chromium,
            &dir,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1100,720".into(),
                "--virtual-time-budget=500".into(),
                "--hide-scrollbars".into(),
            ],
            &url,
        );
        let (_, _, pixels) = browser::pixels(&png);
        let white = browser::count_near(&pixels, [255, 255, 255]);
        let bars = browser::count_near(&pixels, [0x4e, 0x79, 0xa7]);
        assert!(white < pixels.len() * 97 / 100, "the screenshot is blank");
        assert!(bars > 1000, "no bars in the screenshot: {bars} pixels");
        seen.push((end, rows));
    }
    assert!(seen[0].0 < seen[1].0, "the page did not move on: {seen:?}");
}

/// `/healthz` answers 200 while a cluster of two runs, and 503 with the reason once process 1
/// is killed; process 0 then ends with exit code 3 (a lost peer).
#[test]
fn healthz_turns_503_when_a_peer_is_killed() {
    let dir = scratch("http-healthz");
    let hosts = format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port(), free_port());
    let hostfile = write(&dir.join("hosts.txt"), &hosts);
    let cluster = |p: &'static str| [LIVE_JOB, &["-n", "2", "-p", p, "-h", &hostfile]].concat();
    let mut peer = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(cluster("1"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run = LiveRun::start(
        &["--rows", "60000", "--rate", "2000"],
        &cluster("0"),
        &dir.join("out.txt"),
    );
    let started = Instant::now();
    loop {
        let (status, body) = run.get("/healthz");
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        let (_, state) = run.get("/state");
        if state.contains("\"rows\":[{") {
            break; // windows are being written: the processes are connected
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no results");
        std::thread::sleep(Duration::from_millis(100));
    }
    peer.kill().unwrap();
    peer.wait().unwrap();
    let answer = loop {
        match http_get(&run.address, "/healthz") {
            Ok((200, _)) => std::thread::sleep(Duration::from_millis(20)),
            Ok(answer) => break answer,
            Err(e) => panic!("process 0 stopped serving before /healthz said why: {e}"),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still healthy");
    };
    assert_eq!(answer.0, 503);
    assert!(
        answer
            .1
            .starts_with("process 0 lost its connection to process 1"),
        "{}",
        answer.1
    );
    let mut run = run;
    assert_eq!(run.job.wait().unwrap().code(), Some(3));
}

/// Every job file, fed its first input on stdin, serves the three endpoints while it runs (the
/// page, `/metrics` with the job's name and its input, `/healthz`, and `/state` as JSON), and writes what it writes without `--http`, byte for byte.
#[test]
fn every_job_serves_the_three_endpoints_and_writes_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // app-marketing's job file reads a live stream on stdin: here, generated rows.
    let generated = common::gen_file(
        &scratch("http-every-job").join("marketing.csv"),
        "marketing --rows 2000",
    );
    for file in files {
        let spec: toml::Table = std::fs::read_to_string(&file).unwrap().parse().unwrap();
        let job = spec["job"].as_str().unwrap().to_owned();
        let inputs: Vec<String> = spec["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p.as_str().unwrap() {
                "-" => generated.clone(),
                p => root.join("jobs").join(p).display().to_string(),
            })
            .collect();
        let file = file.display().to_string();
        let without = common::ok(&[&["run", &file], &common::strs(&inputs)[..]].concat());
        let mut args = vec!["run".to_owned(), file.clone(), "-".to_owned()];
        args.extend(inputs[1..].iter().cloned());
        args.extend(["--http".to_owned(), "127.0.0.1:0".to_owned()]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_uba"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = std::fs::read(&inputs[0]).unwrap();
        let feed = std::thread::spawn(move || {
            std::io::Write::write_all(&mut stdin, &input).unwrap();
            stdin
        });
        let mut stdout = child.stdout.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            stdout.read_to_end(&mut v).unwrap();
            v
        });
        let err = lines_of(child.stderr.take().unwrap());
        let first = err.recv_timeout(Duration::from_secs(30)).unwrap();
        let address = first
            .strip_prefix("uba: serving http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("{file}: {first}"));
        let get = |path: &str| http_get(address, path).unwrap();
        let started = Instant::now();
        let accepted = format!(
            "uba_records_total{{job=\"{job}\",process=\"0\",input=\"stdin\",outcome=\"accepted\"}} "
        );
        loop {
            let (status, metrics) = get("/metrics");
            assert_eq!(status, 200, "{file}");
            let count = metrics
                .lines()
                .find_map(|l| l.strip_prefix(&accepted))
                .and_then(|n| n.parse::<u64>().ok());
            // The input is open (a short one is held until its end: the guard's anchor rows).
            if count.is_some() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{file}: {metrics}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(get("/healthz"), (200, "ok\n".to_owned()), "{file}");
        let (status, page) = get("/");
        assert!(
            status == 200 && page.contains("<title>uba: live</title>"),
            "{file}"
        );
        let state: serde_json::Value = serde_json::from_str(&get("/state").1).unwrap();
        assert_eq!(state["job"], job.as_str(), "{file}");
        drop(feed.join().unwrap());
        let status = child.wait().unwrap();
        let err: Vec<String> = err.iter().collect();
        assert!(status.success(), "{file}: {}", err.join("\n"));
        assert!(
            String::from_utf8(out.join().unwrap()).unwrap() == without,
            "{file}: the output differs with --http"
        );
    }
}
