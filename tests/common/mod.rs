//! Running the `uba` binary from tests, the same way a user does.
#![allow(dead_code)]

pub mod broker;
pub mod browser;
pub mod hosts;
pub mod mutate;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The public sample files of the tutorial, kept byte for byte in `data/tutorial/`.
pub fn tutorial(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/tutorial")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing from the repository",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// A scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs `uba ARGS`, returning its output whatever its exit status.
pub fn uba(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running uba")
}

/// Asserts that `uba ARGS` is a user error: exit code 2, no panic, and one sentence on the first
/// line of stderr. What follows it, if anything, is the rest of clap's message (the argument, a
/// tip, the usage), which ends by pointing at --help. Returns the first line, for the caller to
/// check exactly.
pub fn assert_user_error(args: &[&str]) -> String {
    let out = uba(args);
    assert_eq!(out.status.code(), Some(2), "uba {args:?}");
    let err = stderr(&out);
    assert!(
        err.starts_with("uba: ") && !err.contains("panicked"),
        "uba {args:?}: {err}"
    );
    let lines: Vec<&str> = err.trim_end().lines().collect();
    if lines.len() > 1 {
        assert_eq!(
            lines.last(),
            Some(&"For more information, try '--help'."),
            "uba {args:?}: {err}"
        );
    }
    lines[0].to_owned()
}

/// Runs `uba ARGS --rejects DIR/rejects.csv`, asserting success; returns the output and the rows
/// of the rejects file (source, line, reason, text), without its header.
pub fn run_with_rejects(dir: &Path, args: &[&str]) -> (Output, Vec<Vec<String>>) {
    let rejects = dir.join("rejects.csv").to_string_lossy().into_owned();
    let out = uba(&[args, &["--rejects", &rejects]].concat());
    assert!(
        out.status.success(),
        "uba {args:?} failed:\n{}",
        stderr(&out)
    );
    let rows = csv_rows(&std::fs::read_to_string(&rejects).unwrap())
        .into_iter()
        .skip(1)
        .collect();
    (out, rows)
}

/// Runs `uba gen WORDS --out PATH`, `WORDS` split at spaces (the kind of data, then its flags),
/// asserting success; returns PATH.
pub fn gen_file(path: &Path, words: &str) -> String {
    let out = path.to_string_lossy().into_owned();
    let words: Vec<&str> = words.split(' ').collect();
    ok(&[&["gen"], &words[..], &["--out", &out]].concat());
    out
}

/// Writes `text` to a file of scratch directory `name`, runs `uba JOB FILE --format csv` with
/// `--rejects` (asserting success), and asserts the numbers of the lines it rejected, in order,
/// and, where given, a part of its accounting line (`N lines read: ...`). Returns the output and
/// the rows of the rejects file (source, line, reason, text).
pub fn assert_rejected(
    name: &str,
    job: &str,
    text: impl AsRef<[u8]>,
    lines: &[&str],
    accounting: Option<&str>,
) -> (Output, Vec<Vec<String>>) {
    let dir = scratch(name);
    let input = dir.join("in");
    std::fs::write(&input, text).unwrap();
    let input = input.to_string_lossy().into_owned();
    let (out, rows) = run_with_rejects(&dir, &[job, &input, "--format", "csv"]);
    let err = stderr(&out);
    let rejected: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        rejected, lines,
        "{job}: the rejected lines: {rows:?}\n{err}"
    );
    if let Some(accounting) = accounting {
        assert!(err.contains(accounting), "{job}: {err}");
    }
    (out, rows)
}

/// Asserts that `uba JOB FILE --format csv` on a 2-line `text` whose line 1 holds a `\r` that
/// does not end it (what mutation seed 143 found in every job) reads line 1 as one line and
/// rejects it whole, line 2 accepted: 2 lines read, 1 accepted and used, 1 rejected, the one row
/// of `--rejects` line 1's. Returns the output.
pub fn assert_inner_carriage_return_rejects_line_1(name: &str, job: &str, text: &str) -> Output {
    let accounting =
        "2 lines read: 1 accepted (1 used, 0 filtered, 0 late; 0 corrections), 1 rejected";
    assert_rejected(name, job, text, &["1"], Some(accounting)).0
}

/// Runs `uba ARGS` with `input` on stdin.
pub fn uba_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running uba");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `uba ARGS`, asserting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = uba(args);
    assert!(
        out.status.success(),
        "uba {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A TCP port of 127.0.0.1 free when asked (someone may take it before it is bound).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `uba ARGS` as a cluster of `processes` processes with `workers` workers each, on
/// 127.0.0.1; returns process 0's stdout (where the gathered output is written). If a process
/// fails, the others are stopped (they would wait for it forever); a port taken by someone else
/// between choosing it and binding it is retried with new ports.
pub fn cluster(args: &[&str], processes: usize, workers: usize) -> String {
    for _ in 0..3 {
        let dir = scratch(&format!("cluster-{}", free_port()));
        let hosts: Vec<String> = (0..processes)
            .map(|_| format!("127.0.0.1:{}", free_port()))
            .collect();
        let hostfile = write(&dir.join("hosts.txt"), &(hosts.join("\n") + "\n"));
        let mut children: Vec<Child> = (0..processes)
            .map(|p| {
                Command::new(env!("CARGO_BIN_EXE_uba"))
                    .args(args)
                    .args([
                        "-w",
                        &workers.to_string(),
                        "-n",
                        &processes.to_string(),
                        "-p",
                        &p.to_string(),
                        "-h",
                        &hostfile,
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("running uba")
            })
            .collect();
        // Read the pipes in threads, so that a full pipe never blocks a process we wait for.
        let pipes: Vec<_> = children
            .iter_mut()
            .map(|c| {
                let (mut out, mut err) = (c.stdout.take().unwrap(), c.stderr.take().unwrap());
                let out = std::thread::spawn(move || {
                    let mut v = Vec::new();
                    out.read_to_end(&mut v).unwrap();
                    v
                });
                let err = std::thread::spawn(move || {
                    let mut v = Vec::new();
                    err.read_to_end(&mut v).unwrap();
                    v
                });
                (out, err)
            })
            .collect();
        let started = Instant::now();
        let mut statuses: Vec<Option<std::process::ExitStatus>> = vec![None; processes];
        while statuses.iter().any(Option::is_none) {
            for (p, child) in children.iter_mut().enumerate() {
                if statuses[p].is_none() {
                    statuses[p] = child.try_wait().unwrap();
                }
            }
            let failed = statuses.iter().any(|s| s.is_some_and(|s| !s.success()));
            if failed || started.elapsed() > Duration::from_secs(300) {
                for child in &mut children {
                    let _ = child.kill();
                }
                for (p, child) in children.iter_mut().enumerate() {
                    statuses[p] = Some(child.wait().unwrap());
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let outputs: Vec<(Vec<u8>, String)> = pipes
            .into_iter()
            .map(|(out, err)| {
                (
                    out.join().unwrap(),
                    String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
                )
            })
            .collect();
        if outputs
            .iter()
            .any(|(_, err)| err.contains("Address already in use"))
        {
            continue;
        }
        for (p, status) in statuses.iter().enumerate() {
            assert!(
                status.unwrap().success(),
                "process {p} of uba {args:?} failed:\n{}",
                outputs[p].1
            );
        }
        for (out, _) in &outputs[1..] {
            assert!(out.is_empty(), "only process 0 writes results");
        }
        return String::from_utf8(outputs.into_iter().next().unwrap().0).unwrap();
    }
    panic!("uba {args:?}: no free ports for a local cluster after 3 tries");
}

/// Runs a job with `-w 1`, `-w 4` and as 2 processes x 2 workers; asserts that the three outputs
/// are identical, every emission, byte for byte, and returns it.
pub fn everywhere(args: &[&str]) -> String {
    let one = ok(&[args, &["-w", "1"]].concat());
    let four = ok(&[args, &["-w", "4"]].concat());
    assert!(one == four, "uba {args:?}: -w 1 and -w 4 differ");
    let two_processes = cluster(args, 2, 2);
    assert!(
        one == two_processes,
        "uba {args:?}: -w 1 and 2 processes x 2 workers differ"
    );
    one
}

/// `JOB INPUT --format csv` with `--window`, `--slide`, `--out-of-orderness` and
/// `--allowed-lateness` given in milliseconds, in that order.
pub fn windowed_csv_args(
    job: &str,
    input: &str,
    [window, slide, out_of_orderness, lateness]: [u64; 4],
) -> Vec<String> {
    let mut a: Vec<String> = vec![job.into(), input.into(), "--format".into(), "csv".into()];
    for (flag, ms) in [
        ("--window", window),
        ("--slide", slide),
        ("--out-of-orderness", out_of_orderness),
        ("--allowed-lateness", lateness),
    ] {
        a.push(flag.into());
        a.push(format!("{ms}ms"));
    }
    a
}

/// The arguments as `&str`, for [`uba`] and friends.
pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Parses csv output into rows of fields (header first).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The components of the machine that some tests need, and that `UBA_REQUIRE` may name.
pub const COMPONENTS: &[&str] = &["postgres", "chromium", "netns", "prometheus", "kafka"];

/// Why a component a test needs cannot be used.
#[derive(Debug)]
pub enum Unavailable {
    /// Not installed: the test may skip, saying so, unless `UBA_REQUIRE` names the component.
    Missing(String),
    /// Installed, but it failed (to start, to run): always a test failure, required or not.
    Failed(String),
}

/// The components that `list` (the value of `UBA_REQUIRE`: names separated by commas, spaces
/// and empty names ignored) requires. A name that is not one of [`COMPONENTS`] is an error: a
/// typo must not quietly turn a requirement off.
pub fn required_components(list: &str) -> Result<Vec<&str>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            if COMPONENTS.contains(&name) {
                Ok(name)
            } else {
                Err(format!(
                    "UBA_REQUIRE names '{name}', which is none of the components {COMPONENTS:?}"
                ))
            }
        })
        .collect()
}

/// The require-or-skip decision of every test that needs a component of the machine, given the
/// value of `UBA_REQUIRE` (`None`: not set). `Ok(Some(value))`: the component is there, the test
/// runs. `Ok(None)`: it is not installed and not required, the test may skip. `Err(why)`: the
/// test fails, because the component is installed but failed, or is required but not installed.
pub fn decide<T>(
    require: Option<&str>,
    component: &str,
    found: Result<T, Unavailable>,
) -> Result<Option<T>, String> {
    assert!(
        COMPONENTS.contains(&component),
        "'{component}' is none of the components {COMPONENTS:?}"
    );
    let required = required_components(require.unwrap_or(""))?.contains(&component);
    match found {
        Ok(value) => Ok(Some(value)),
        Err(Unavailable::Failed(why)) => Err(format!("{component} is installed but failed: {why}")),
        Err(Unavailable::Missing(why)) if required => Err(format!(
            "{component} is required (UBA_REQUIRE={}) but not installed: {why}",
            require.unwrap_or_default()
        )),
        Err(Unavailable::Missing(_)) => Ok(None),
    }
}

/// What test `test` does when it needs `component` (one of [`COMPONENTS`]) and `found` says
/// whether it can be used: returns the value to run with; panics (the test fails, with the
/// reason) when the component is installed but failed, or when `UBA_REQUIRE` names it and it is
/// not installed; returns `None` after printing `SKIPPED test: ...` on stderr when it is not
/// installed and not required, and the test then returns without checking anything.
///
/// `.ci/run` sets `UBA_REQUIRE=postgres,chromium,netns,prometheus,kafka`, so that CI cannot pass by skipping.
pub fn require<T>(component: &str, test: &str, found: Result<T, Unavailable>) -> Option<T> {
    let list = std::env::var("UBA_REQUIRE").ok();
    let why = match &found {
        Err(Unavailable::Missing(why)) => why.clone(),
        _ => String::new(),
    };
    match decide(list.as_deref(), component, found) {
        Ok(Some(value)) => Some(value),
        Ok(None) => {
            eprintln!(
                "SKIPPED {test}: {component} is not installed: {why} (UBA_REQUIRE={component} makes this a failure)"
            );
            None
        }
        Err(failure) => panic!("{test}: {failure}"),
    }
}

/// Where `program` is: itself if it names a path (holds a `/`) that exists, else the first
/// executable file of that name in a directory of `PATH`. (A file that is there but cannot be
/// run is found: running it then fails, which is not the same as missing.)
pub fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.exists().then_some(path);
    }
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

/// The Prometheus text-format parser of the `prometheus` component: `python3` with the Prometheus
/// project's `prometheus_client` package (PyPI `prometheus-client`). Missing: no python3, or no
/// such package. Returns the python3 to run it with.
pub fn prometheus_parser() -> Result<PathBuf, Unavailable> {
    let python =
        on_path("python3").ok_or_else(|| Unavailable::Missing("no `python3` on PATH".into()))?;
    let out = Command::new(&python)
        .args(["-c", "import prometheus_client.openmetrics.parser"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Unavailable::Failed(format!("cannot run {}: {e}", python.display())))?;
    if out.status.success() {
        Ok(python)
    } else {
        Err(Unavailable::Missing(format!(
            "python3 has no prometheus_client (pip install prometheus-client): {}",
            stderr(&out).trim_end().lines().last().unwrap_or("")
        )))
    }
}

/// `GET path` from the server at `address` (`127.0.0.1:PORT`): the status code and the body.
pub fn http_get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {head}")))?;
    Ok((status, body.to_owned()))
}

/// Waits for `child`, at most `limit`: one still running then is killed and the test fails,
/// naming `what` (a hang is a failure, not a wait forever). Polls often at first, so that short
/// runs are not slowed, then every 20 ms.
pub fn wait_for(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit:?}");
        }
        let pause =
            (started.elapsed() / 10).clamp(Duration::from_millis(1), Duration::from_millis(20));
        std::thread::sleep(pause);
    }
}

/// A job on a live input (a followed file, a Kafka topic): its output lines and stderr lines as
/// they come, read on threads of their own, until the test stops it with SIGTERM.
pub struct Live {
    child: Child,
    stdout: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::mpsc::Receiver<String>,
    /// The output lines received so far, and the stderr lines.
    pub output: Vec<String>,
    pub errors: Vec<String>,
}

/// The lines of `pipe` as they come, on a thread of their own.
fn lines_of(pipe: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Live {
    pub fn start(args: &[&str]) -> Live {
        let mut child = Command::new(env!("CARGO_BIN_EXE_uba"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running uba");
        Live {
            stdout: lines_of(child.stdout.take().unwrap()),
            stderr: lines_of(child.stderr.take().unwrap()),
            child,
            output: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Waits until `lines` output lines came (30 s at most: a hang is a failure).
    pub fn wait_output(&mut self, lines: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.output.len() < lines {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => self.output.push(line),
                Err(_) => panic!(
                    "{} of {lines} output lines after 30 s; stderr: {:?}",
                    self.output.len(),
                    self.errors
                ),
            }
        }
    }

    /// Waits until a line of stderr contains `part` (30 s at most).
    pub fn wait_error(&mut self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.errors.iter().any(|l| l.contains(part)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => self.errors.push(line),
                Err(_) => panic!("no '{part}' on stderr after 30 s: {:?}", self.errors),
            }
        }
    }

    /// Stops it with SIGTERM, as a service manager does, and asserts that it stopped as asked
    /// (exit 143, its sentence); returns its whole output and its stderr.
    pub fn terminate(mut self) -> (String, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = wait_for(
            &mut self.child,
            Duration::from_secs(30),
            "uba after SIGTERM",
        );
        self.output.extend(self.stdout.iter());
        self.errors.extend(self.stderr.iter());
        let err = self.errors.join("\n");
        assert_eq!(status.code(), Some(143), "{err}");
        assert!(err.contains("uba: stopped by SIGTERM"), "{err}");
        (self.output.join("\n") + "\n", err)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many inputs the progress table in `db` holds a checkpoint of: 0 while there is no table
/// yet, or it cannot be read at this instant. A kill test waits for them before its first kill,
/// so that what it tests (a resume from checkpoints) does not hang on how fast a loaded machine
/// starts the run and reaches its first commit.
pub fn checkpointed_inputs(db: &Path) -> usize {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT checkpoints FROM uba_progress", [], |r| {
        r.get::<_, String>(0)
    })
    .ok()
    .and_then(|json| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&json).ok())
    .map_or(0, |inputs| inputs.len())
}

/// Every row of every table of `db`, as text, sorted: tables compared whole, whatever the job.
pub fn sqlite_tables(db: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'uba_progress' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let mut statement = conn.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
            let width = statement.column_count();
            let mut rows: Vec<Vec<String>> = statement
                .query_map([], |r| {
                    Ok((0..width)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect())
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.sort();
            (name, rows)
        })
        .collect()
}

/// The accounting lines of a run's stderr, without their timings.
pub fn accounting_lines(err: &str) -> Vec<String> {
    err.lines()
        .filter(|l| l.contains(" lines read: "))
        .map(|l| l.split("; ").next().unwrap().to_owned())
        .collect()
}
