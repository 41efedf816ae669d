//! `--sink`: results in a database table that always holds the answer, and `--resume`.
//!
//! The judge of every table is the job's own csv stream: a table must hold exactly what that
//! stream says, as of the last committed time (a window's or a key's last emission, every
//! appended outcome numbered in order), and a run killed at any point and resumed must end with
//! the table of a run never interrupted.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::hosts::Network;
use common::{Unavailable, ok, scratch, stderr, tutorial, uba};

/// How a job's rows are kept in its table.
#[derive(Clone, Copy)]
enum Kind {
    /// Each window's last emission, keyed by `(window_end, rank)`.
    Windows,
    /// Each user's last emission, keyed by `user_id`.
    Users,
    /// Every row, numbered by `seq`.
    Appended,
}

type Rows = Vec<Vec<String>>;

fn csv_table(text: &str) -> (Vec<String>, Rows) {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// What the table must hold once the results through logical time `through` are committed,
/// computed from the job's csv stream with plain loops.
fn expected(kind: Kind, csv: &str, through: u64) -> Rows {
    let (header, rows) = csv_table(csv);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let at = col("emitted_at");
    let rows: Rows = rows
        .into_iter()
        .filter(|r| r[at].parse::<u64>().unwrap() <= through)
        .collect();
    match kind {
        Kind::Appended => rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| [vec![(i + 1).to_string()], r].concat())
            .collect(),
        Kind::Windows | Kind::Users => {
            let key = col(match kind {
                Kind::Windows => "window_end",
                _ => "user_id",
            });
            // The last emission of each key: the rows of its latest emitted_at.
            let mut last: BTreeMap<u64, (u64, Rows)> = BTreeMap::new();
            for r in rows {
                let k: u64 = r[key].parse().unwrap();
                let t: u64 = r[at].parse().unwrap();
                let entry = last.entry(k).or_insert((t, Vec::new()));
                if t > entry.0 {
                    *entry = (t, Vec::new());
                }
                entry.1.push(r);
            }
            last.into_values().flat_map(|(_, rows)| rows).collect()
        }
    }
}

/// The key columns a table is read in the order of.
fn key_order(kind: Kind) -> &'static str {
    match kind {
        Kind::Windows => "window_end, rank",
        Kind::Users => "user_id",
        Kind::Appended => "seq",
    }
}

/// The table's rows in key order, as csv would print them (booleans as `true`/`false`, NULL as
/// an empty field).
fn table_rows(db: &Path, table: &str, kind: Kind) -> Rows {
    let conn = rusqlite::Connection::open(db).unwrap();
    let order = key_order(kind);
    let booleans: Vec<bool> = conn
        .prepare(&format!("SELECT type FROM pragma_table_info('{table}')"))
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|t| t.unwrap() == "BOOLEAN")
        .collect();
    let mut statement = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY {order}"))
        .unwrap();
    let n = statement.column_count();
    statement
        .query_map([], |row| {
            Ok((0..n)
                .map(|i| {
                    use rusqlite::types::ValueRef;
                    match row.get_ref(i).unwrap() {
                        ValueRef::Null => String::new(),
                        ValueRef::Integer(v) if booleans[i] => (v != 0).to_string(),
                        ValueRef::Integer(v) => v.to_string(),
                        ValueRef::Real(v) => v.to_string(),
                        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        ValueRef::Blob(_) => panic!("a blob"),
                    }
                })
                .collect())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// `(committed_time, complete)` of the progress row of the run that writes `table` (the job's
/// own table, or one it lists, as ad-stats lists `ad_stats_blacklist`), if any (`None` where no
/// run has made the progress table yet, or put the job's row in it; any other error of the query
/// panics).
fn progress(db: &Path, table: &str) -> Option<(u64, bool)> {
    use rusqlite::OptionalExtension;
    let conn = rusqlite::Connection::open(db).unwrap();
    let made: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'uba_progress'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if made == 0 {
        return None;
    }
    conn.query_row(
        "SELECT committed_time, complete FROM uba_progress \
         WHERE table_name = ?1 OR ',' || tables || ',' LIKE '%,' || ?1 || ',%'",
        [table],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, bool>(1)?)),
    )
    .optional()
    .unwrap()
}

fn sqlite(db: &Path) -> String {
    format!("sqlite:{}", db.display())
}

/// Runs `args` into a fresh database and checks the table against the csv stream of the same run.
fn table_equals_stream(name: &str, args: &[&str], table: &str, kind: Kind) -> String {
    let dir = scratch(name);
    let db = dir.join("results.db");
    let csv_path = dir.join("out.csv");
    let out = uba(&[
        args,
        &[
            "--format",
            "csv",
            "--output",
            csv_path.to_str().unwrap(),
            "--sink",
            &sqlite(&db),
        ],
    ]
    .concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    // The table is written beside the stream, which stays what it is without a sink.
    assert_eq!(csv, ok(&[args, &["--format", "csv"]].concat()));
    let rows = table_rows(&db, table, kind);
    assert!(!rows.is_empty());
    assert_eq!(rows, expected(kind, &csv, u64::MAX));
    let (_, last) = csv_table(&csv);
    let last_time = last.last().unwrap().last().unwrap().parse::<u64>().unwrap();
    assert_eq!(progress(&db, table), Some((last_time, true)));
    assert!(
        stderr(&out).contains(&format!("uba: {}: ", sqlite(&db))),
        "{}",
        stderr(&out)
    );
    csv
}

#[test]
fn hot_items_table_holds_each_window_once() {
    let csv = table_equals_stream(
        "sink-hot-items",
        &["hot-items", &tutorial("UserBehavior.csv")],
        "hot_items",
        Kind::Windows,
    );
    assert!(csv.lines().count() > 100);
}

#[test]
fn hot_pages_table_holds_each_windows_last_correction() {
    let csv = table_equals_stream(
        "sink-hot-pages",
        &["hot-pages", &tutorial("apache.log")],
        "hot_pages",
        Kind::Windows,
    );
    assert!(csv.contains(",true,"), "the sample has corrections");
}

#[test]
fn order_timeout_table_numbers_every_outcome() {
    table_equals_stream(
        "sink-order-timeout",
        &["order-timeout", &tutorial("OrderLog.csv")],
        "order_timeout",
        Kind::Appended,
    );
}

#[test]
fn user_profile_table_holds_each_users_latest_profile() {
    table_equals_stream(
        "sink-user-profile",
        &["user-profile", &tutorial("UserBehavior.csv")],
        "user_profile",
        Kind::Users,
    );
}

#[test]
fn ad_stats_keeps_blacklistings_in_their_own_table() {
    let dir = scratch("sink-ad-stats");
    let db = dir.join("results.db");
    let csv = ok(&[
        "ad-stats",
        &tutorial("AdClickLog.csv"),
        "--format",
        "csv",
        "--only",
        "blacklist",
    ]);
    ok(&[
        "ad-stats",
        &tutorial("AdClickLog.csv"),
        "--sink",
        &sqlite(&db),
    ]);
    let blacklisted = table_rows(&db, "ad_stats_blacklist", Kind::Appended);
    assert_eq!(blacklisted, expected(Kind::Appended, &csv, u64::MAX));
    assert!(!blacklisted.is_empty());
    assert!(!table_rows(&db, "ad_stats", Kind::Windows).is_empty());
}

#[test]
fn a_second_run_replaces_the_first_and_table_names_can_be_chosen() {
    let dir = scratch("sink-rerun");
    let db = dir.join("results.db");
    let input = tutorial("UserBehavior.csv");
    ok(&["hot-items", &input, "--top", "3", "--sink", &sqlite(&db)]);
    ok(&["hot-items", &input, "--top", "2", "--sink", &sqlite(&db)]);
    let csv = ok(&["hot-items", &input, "--top", "2", "--format", "csv"]);
    assert_eq!(
        table_rows(&db, "hot_items", Kind::Windows),
        expected(Kind::Windows, &csv, u64::MAX)
    );
    ok(&[
        "hot-items",
        &input,
        "--sink",
        &sqlite(&db),
        "--table",
        "top_items_5",
    ]);
    assert_eq!(table_rows(&db, "top_items_5", Kind::Windows).len() % 5, 0);
    assert_eq!(
        table_rows(&db, "hot_items", Kind::Windows),
        expected(Kind::Windows, &csv, u64::MAX),
        "another table is left alone"
    );
}

#[test]
fn a_resume_with_other_arguments_or_inputs_is_refused() {
    let dir = scratch("sink-refuse");
    let db = dir.join("results.db");
    let input = tutorial("UserBehavior.csv");
    ok(&["hot-items", &input, "--sink", &sqlite(&db)]);
    // The same run, resumed with more workers and csv output: nothing left to write.
    let out = uba(&[
        "hot-items",
        &input,
        "--sink",
        &sqlite(&db),
        "--resume",
        "-w",
        "2",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 rows written in 0 transactions"),
        "{}",
        stderr(&out)
    );
    let out = uba(&[
        "hot-items",
        &input,
        "--top",
        "3",
        "--sink",
        &sqlite(&db),
        "--resume",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "uba: cannot resume: table 'hot_items' in {} was written by another run (arguments ``, these are `--top 3`); run without --resume to start over\n",
            sqlite(&db)
        )
    );
    let other = dir.join("other.csv");
    std::fs::copy(&input, &other).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&other)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"1,2,3,pv,1511658000\n"))
        .unwrap();
    let out = uba(&[
        "hot-items",
        other.to_str().unwrap(),
        "--sink",
        &sqlite(&db),
        "--resume",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("was written by another run (inputs of "),
        "{}",
        stderr(&out)
    );
    let out = common::uba_stdin(&["hot-items", "-", "--sink", &sqlite(&db), "--resume"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "uba: --resume needs inputs that can be read again: stdin cannot (write the stream to a file as well, and resume from the file)\n"
    );
    // A named pipe cannot be read again either (and reading it to fingerprint it would take
    // lines from the job).
    let fifo = dir.join("stream.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || drop(std::fs::OpenOptions::new().write(true).open(fifo)))
    };
    let out = uba(&[
        "hot-items",
        fifo.to_str().unwrap(),
        "--sink",
        &sqlite(&db),
        "--resume",
    ]);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "uba: --resume needs inputs that can be read again: '{}' is not a regular file (write the stream to a file as well, and resume from the file)\n",
            fifo.display()
        )
    );
}

#[test]
fn write_errors_end_the_run_with_one_sentence() {
    let dir = scratch("sink-write-errors");
    let input = tutorial("UserBehavior.csv");
    // A database file that cannot be written.
    let db = dir.join("readonly.db");
    ok(&["pv", &input, "--sink", &sqlite(&db)]);
    let mut permissions = std::fs::metadata(&db).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&db, permissions).unwrap();
    // Root writes read-only files anyway: open it read-only through SQLite's URI instead.
    let readonly = format!("sqlite:file:{}?mode=ro", db.display());
    let out = uba(&["pv", &input, "--sink", &readonly]);
    // Found before the run starts, as a file that cannot be created is.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("uba: cannot write to {readonly}: ")) && err.contains("readonly"),
        "{err}"
    );
    // A full disk.
    let out = uba(&["pv", &input, "--output", "/dev/full"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "uba: cannot write the output: No space left on device (os error 28)"
    );
    // A closed pipe: `uba ... | head -c 100`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(["hot-pages", &tutorial("apache.log"), "--format", "csv"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).lines().last(),
        Some(
            "uba: the reader of the output stopped reading (broken pipe): the results are incomplete"
        )
    );
    // Not a database.
    let not_db = dir.join("not.db");
    std::fs::write(
        &not_db,
        "this is not a database, it is a text file of some length\n",
    )
    .unwrap();
    let out = uba(&["pv", &input, "--sink", &sqlite(&not_db)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = uba(&["pv", &input, "--sink", "mysql://localhost/x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("uba: --sink 'mysql://localhost/x' is not sqlite:PATH"));
}

/// Starts `uba ARGS` (one process, or process `p` of a local cluster).
fn spawn(args: &[&str]) -> Child {
    spawn_with(args, &[])
}

/// [`spawn`] with environment variables set.
fn spawn_with(args: &[&str], env: &[(&str, &str)]) -> Child {
    spawn_in(Command::new(env!("CARGO_BIN_EXE_uba")), args, env)
}

/// [`spawn_with`] as `command` (uba, or uba on a host of the test's own).
fn spawn_in(mut command: Command, args: &[&str], env: &[(&str, &str)]) -> Child {
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A tiny seeded generator (xorshift), so that the kill points are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// How the job is run: its worker threads, or as a cluster of local processes.
#[derive(Clone, Copy, Debug)]
enum Layout<'a> {
    Threads(usize),
    Processes(usize),
    /// A process on each of the first N hosts of a network of the test's own.
    Hosts(&'a Network, usize),
}

/// Starts the run; returns its processes (process 0 first: it writes the table).
fn start(args: &[&str], layout: Layout, dir: &Path) -> Vec<Child> {
    let each = |_| (args.to_vec(), Vec::new());
    match layout {
        Layout::Threads(w) => vec![spawn(&[args, &["-w", &w.to_string()]].concat())],
        Layout::Processes(n) => start_cluster(n, dir, None, each),
        Layout::Hosts(network, n) => start_cluster(n, dir, Some(network), each),
    }
}

/// Starts a cluster of `n` processes, on 127.0.0.1 or on the hosts of `network`, process `p`
/// with the arguments and environment `each(p)` gives (its own `--inputs`, a fault of its own).
fn start_cluster<'a>(
    n: usize,
    dir: &Path,
    network: Option<&Network>,
    each: impl Fn(usize) -> (Vec<&'a str>, Vec<(&'a str, &'a str)>),
) -> Vec<Child> {
    let hostfile = match network {
        Some(network) => network.hostfile(dir, n, common::free_port()),
        None => {
            let hosts: Vec<String> = (0..n)
                .map(|_| format!("127.0.0.1:{}", common::free_port()))
                .collect();
            let hostfile = dir.join("hosts.txt");
            std::fs::write(&hostfile, hosts.join("\n") + "\n").unwrap();
            hostfile
        }
    };
    (0..n)
        .map(|p| {
            let (args, env) = each(p);
            let (n, p_) = (n.to_string(), p.to_string());
            let cluster = [
                "-n",
                &n,
                "-p",
                &p_,
                "--hostfile",
                hostfile.to_str().unwrap(),
            ];
            let program = env!("CARGO_BIN_EXE_uba");
            let command = match network {
                Some(network) => network.command(p, program),
                None => Command::new(program),
            };
            spawn_in(command, &[args.as_slice(), &cluster].concat(), &env)
        })
        .collect()
}

/// Waits for every process; returns whether all succeeded, and process 0's stderr.
fn wait_all(children: Vec<Child>) -> (bool, String) {
    let mut all = true;
    let mut first = String::new();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        all &= out.status.success();
        if i == 0 {
            first = stderr(&out);
        }
    }
    (all, first)
}

/// Where the kill tests write their tables: SQLite files, or the test's own PostgreSQL server.
#[derive(Clone, Copy)]
enum Store<'a> {
    Sqlite,
    Postgres(&'a Postgres),
}

impl<'a> Store<'a> {
    /// A new, empty database of this store, named `name` within scratch directory `dir`.
    fn fresh(self, dir: &Path, name: &str) -> Db<'a> {
        match self {
            Store::Sqlite => {
                let path = dir.join(format!("{name}.db"));
                assert!(!path.exists());
                Db::Sqlite(path)
            }
            Store::Postgres(pg) => {
                let db = format!("{}_{name}", dir.file_name().unwrap().to_str().unwrap())
                    .replace('-', "_");
                pg.psql(&format!("DROP DATABASE IF EXISTS {db}"));
                pg.psql(&format!("CREATE DATABASE {db}"));
                Db::Postgres(pg, db)
            }
        }
    }
}

/// A database a run writes its table to.
enum Db<'a> {
    Sqlite(std::path::PathBuf),
    /// A database of the test's own server, by name.
    Postgres(&'a Postgres, String),
}

impl Db<'_> {
    fn sink(&self) -> String {
        match self {
            Db::Sqlite(path) => sqlite(path),
            Db::Postgres(pg, db) => pg.sink_in(db),
        }
    }

    /// The table's rows in key order, as csv would print them.
    fn rows(&self, table: &str, kind: Kind) -> Rows {
        match self {
            Db::Sqlite(path) => table_rows(path, table, kind),
            Db::Postgres(pg, db) => pg.table_rows(db, table, kind),
        }
    }

    /// `(committed_time, complete)` of the job's progress row, if any.
    fn progress(&self, table: &str) -> Option<(u64, bool)> {
        match self {
            Db::Sqlite(path) => progress(path, table),
            Db::Postgres(pg, db) => pg.progress(db, table),
        }
    }
}

/// [`killed_and_resumed_in`] SQLite files.
fn killed_and_resumed(
    name: &str,
    args: &[&str],
    table: &str,
    kind: Kind,
    layout: Layout,
    kills: usize,
    seed: u64,
) {
    killed_and_resumed_in(Store::Sqlite, name, args, table, kind, layout, kills, seed);
}

/// The time the kill points are spread over. A killed run reads its input paced with
/// `--replay-rate` (which a resume may change), in the time an uninterrupted run took (its start
/// included) plus this; each kill comes after the time an uninterrupted run took, and within
/// this, so after the run has started and before it can have ended. (Unpaced, these runs take a
/// few hundred milliseconds, a local cluster a second to connect: kill points spread over the
/// time an uninterrupted run took came mostly after the killed run had ended, or before a
/// cluster had started.)
const PACE_MS: u64 = 1000;

/// The lines of the input files among `args`.
fn input_lines(args: &[&str]) -> u64 {
    args.iter()
        .filter(|a| Path::new(a).is_file())
        .map(|a| {
            std::fs::read(a)
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64
        })
        .sum()
}

/// Kills the run at `kills` seeded points (SIGKILL to process 0, the writer; the others then
/// stop on their own), resuming each time; after each kill the table must be the stream's state
/// at the committed time, and in the end that of a run never interrupted. The killed runs are
/// paced so that each kill comes before the run can have ended (see [`PACE_MS`]). The kills
/// must have landed mid-run: none came after the run had ended or left the table complete, and
/// at least one left a committed time strictly between the first and the last time of the
/// uninterrupted run (a kill before anything was committed proves nothing). Returns the
/// database of the killed and resumed runs.
fn killed_and_resumed_in<'a>(
    store: Store<'a>,
    name: &str,
    args: &[&str],
    table: &str,
    kind: Kind,
    layout: Layout,
    kills: usize,
    seed: u64,
) -> Db<'a> {
    let dir = scratch(name);
    let csv = ok(&[args, &["--format", "csv"]].concat());
    // The uninterrupted run, into a database of its own: what a killed run leaves is then never
    // this run's complete table (a fresh run drops it only once it has started).
    let whole = store.fresh(&dir, "uninterrupted");
    let whole_sink = whole.sink();
    let started = Instant::now();
    let (ok_run, err) = wait_all(start(
        &[args, &["--sink", &whole_sink]].concat(),
        layout,
        &dir,
    ));
    assert!(ok_run, "{err}");
    let span = started.elapsed().as_millis() as u64;
    let complete = whole.rows(table, kind);
    assert_eq!(complete, expected(kind, &csv, u64::MAX));
    // The first and the last time of the uninterrupted run: a time strictly between them was
    // committed by a run that was killed mid-run.
    let (header, rows) = csv_table(&csv);
    let at = header.iter().position(|h| h == "emitted_at").unwrap();
    let times: Vec<u64> = rows.iter().map(|r| r[at].parse().unwrap()).collect();
    let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
    assert!(
        first < last,
        "{name}: one time only, no run can be killed mid-run"
    );
    // Complete, through the last emission (`--settled` commits a window at the time after its
    // `emitted_at`, when it can no longer change).
    let done = |progress: Option<(u64, bool)>| {
        progress.is_some_and(|(t, c)| c && (last..=last + 1).contains(&t))
    };
    assert!(done(whole.progress(table)), "{:?}", whole.progress(table));

    let db = store.fresh(&dir, "killed");
    let sink = db.sink();
    let run: Vec<&str> = [args, &["--sink", &sink]].concat();
    let lines = input_lines(args);
    assert!(lines > 1000, "{name}: {lines} lines of input");
    // Reading takes at least `span + PACE_MS`.
    let rate = (lines * 1000 / (span + PACE_MS)).max(1).to_string();
    let paced: Vec<&str> = [run.as_slice(), &["--replay-rate", &rate]].concat();
    let mut rng = Rng(seed);
    let resume: Vec<&str> = [run.as_slice(), &["--resume"]].concat();
    let paced_resume: Vec<&str> = [paced.as_slice(), &["--resume"]].concat();
    let mut committed = Vec::new();
    // What each kill left: the progress row, and whether the run had ended before it.
    let mut after_kills: Vec<(Option<(u64, bool)>, bool)> = Vec::new();
    let mut fresh = true;
    for _ in 0..kills {
        let args = if fresh { &paced } else { &paced_resume };
        let mut children = start(args, layout, &dir);
        std::thread::sleep(Duration::from_millis(span + rng.below(PACE_MS - 100)));
        let ended = children[0].try_wait().unwrap().is_some();
        let _ = children[0].kill();
        // The other processes stop on their own once they notice process 0 is gone, except
        // those still waiting for it to start, which wait up to --connect-timeout (60 s).
        let deadline = Instant::now() + Duration::from_secs(10);
        for child in &mut children[1..] {
            while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
        }
        let _ = wait_all(children);
        let state = db.progress(table);
        match state {
            Some((time, complete)) => {
                fresh = false;
                // What the table holds is the stream's state as of its progress row: never half
                // of a time's changes.
                let through = if complete { u64::MAX } else { time };
                assert_eq!(
                    db.rows(table, kind),
                    expected(kind, &csv, through),
                    "{name}: after a kill, committed through {time}"
                );
                committed.push(time);
            }
            None => assert!(fresh, "a resumed run lost its progress row"),
        }
        after_kills.push((state, ended));
    }
    eprintln!(
        "{name}: the uninterrupted run: {span} ms, times {first} to {last}; killed runs paced \
         at {rate} lines/s ({lines} lines); after each kill (committed time, complete), whether \
         the run had ended before it: {after_kills:?}"
    );
    assert!(
        committed.windows(2).all(|w| w[0] <= w[1]),
        "committed times go forward: {committed:?}"
    );
    // The kills landed mid-run.
    assert!(
        after_kills
            .iter()
            .all(|(state, ended)| !ended && !state.is_some_and(|(_, complete)| complete)),
        "{name}: a kill came after the run had ended ({first} to {last}): {after_kills:?}"
    );
    assert!(
        after_kills.iter().any(|(state, _)| {
            state.is_some_and(|(time, complete)| !complete && first < time && time < last)
        }),
        "{name}: no kill left a committed time strictly between {first} and {last}: \
         {after_kills:?}"
    );
    // The last resume is not paced.
    let (ok_run, err) = wait_all(start(&resume, layout, &dir));
    assert!(ok_run, "{err}");
    assert_eq!(
        db.rows(table, kind),
        complete,
        "{name}: a killed and resumed run ends with the table of an uninterrupted one"
    );
    assert!(done(db.progress(table)), "{:?}", db.progress(table));
    db
}

fn generated(dir: &Path, args: &[&str]) -> String {
    let path = dir.join("input");
    ok(&[args, &["--out", path.to_str().unwrap()]].concat());
    path.to_string_lossy().into_owned()
}

fn hot_pages_input() -> String {
    let dir = scratch("sink-kill-hot-pages-input");
    generated(
        &dir,
        &[
            "gen",
            "apache-log",
            "--rows",
            "60000",
            "--seed",
            "11",
            "--rate",
            "20",
            "--urls",
            "300",
            "--disorder",
            "90s",
            "--shuffle-minute",
        ],
    )
}

const HOT_PAGES: &[&str] = &[
    "--window",
    "30s",
    "--slide",
    "5s",
    "--out-of-orderness",
    "3s",
    "--allowed-lateness",
    "20s",
];

fn orders_input(name: &str) -> String {
    let dir = scratch(name);
    generated(
        &dir,
        &[
            "gen",
            "orders",
            "--rows",
            "150000",
            "--seed",
            "12",
            "--rate",
            "2",
            "--disorder",
            "20s",
        ],
    )
}

/// hot-items' windows in the kill tests: short, so that a run commits many times.
const HOT_ITEMS: &[&str] = &["--window", "10m", "--slide", "1m"];

fn user_behavior_input() -> String {
    let dir = scratch("sink-kill-user-behavior-input");
    generated(
        &dir,
        &["gen", "user-behavior", "--rows", "600000", "--seed", "13"],
    )
}

#[test]
fn hot_pages_killed_ten_times_ends_as_if_never_killed() {
    let input = hot_pages_input();
    let args = [&["hot-pages", input.as_str()], HOT_PAGES].concat();
    killed_and_resumed(
        "sink-kill-hot-pages",
        &args,
        "hot_pages",
        Kind::Windows,
        Layout::Threads(1),
        10,
        1,
    );
    killed_and_resumed(
        "sink-kill-hot-pages-w4",
        &args,
        "hot_pages",
        Kind::Windows,
        Layout::Threads(4),
        4,
        2,
    );
    killed_and_resumed(
        "sink-kill-hot-pages-cluster",
        &args,
        "hot_pages",
        Kind::Windows,
        Layout::Processes(2),
        4,
        3,
    );
}

#[test]
fn order_timeout_killed_ten_times_ends_as_if_never_killed() {
    let input = orders_input("sink-kill-orders-input");
    let args = ["order-timeout", input.as_str()];
    killed_and_resumed(
        "sink-kill-orders",
        &args,
        "order_timeout",
        Kind::Appended,
        Layout::Threads(1),
        10,
        4,
    );
    killed_and_resumed(
        "sink-kill-orders-w4",
        &args,
        "order_timeout",
        Kind::Appended,
        Layout::Threads(4),
        4,
        5,
    );
    killed_and_resumed(
        "sink-kill-orders-cluster",
        &args,
        "order_timeout",
        Kind::Appended,
        Layout::Processes(2),
        4,
        6,
    );
}

#[test]
fn hot_items_killed_ten_times_ends_as_if_never_killed() {
    let input = user_behavior_input();
    let args = [&["hot-items", input.as_str()], HOT_ITEMS].concat();
    killed_and_resumed(
        "sink-kill-hot-items",
        &args,
        "hot_items",
        Kind::Windows,
        Layout::Threads(1),
        10,
        7,
    );
    killed_and_resumed(
        "sink-kill-hot-items-w4",
        &args,
        "hot_items",
        Kind::Windows,
        Layout::Threads(4),
        4,
        8,
    );
    killed_and_resumed(
        "sink-kill-hot-items-cluster",
        &args,
        "hot_items",
        Kind::Windows,
        Layout::Processes(2),
        4,
        9,
    );
}

/// A cluster of two hosts of the test's own, with a PostgreSQL server on a third, listening on that
/// host's address: process 0 writes the table over the network, and it equals the csv; a host
/// killed mid-run (process 0's: the others stop, exit 3), then the whole cluster started again
/// with `--resume`, ends with the table of a run never interrupted.
#[test]
fn hot_items_across_hosts_into_postgres_on_its_own_host_killed_and_resumed() {
    let Some(network) = common::require(
        "netns",
        "hot_items_across_hosts_into_postgres_on_its_own_host_killed_and_resumed",
        Network::new("pg", 3),
    ) else {
        return;
    };
    let Some(pg) = common::require(
        "postgres",
        "hot_items_across_hosts_into_postgres_on_its_own_host_killed_and_resumed",
        Postgres::start_on("hosts", &network, 2),
    ) else {
        return;
    };
    let input = user_behavior_input();
    let args = [&["hot-items", input.as_str()], HOT_ITEMS].concat();
    killed_and_resumed_in(
        Store::Postgres(&pg),
        "sink-kill-hot-items-hosts",
        &args,
        "hot_items",
        Kind::Windows,
        Layout::Hosts(&network, 2),
        3,
        10,
    );
}

/// A PostgreSQL server of the test's own: `initdb` into a temporary directory, listening only on
/// a Unix socket there, stopped when dropped.
struct Postgres {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    /// Where the server runs on a host of the test's own: its network namespace, and the
    /// address it listens on besides its Unix socket.
    host: Option<(String, String)>,
}

impl Postgres {
    /// Starts a server. Missing (the tests may skip, unless `UBA_REQUIRE` names `postgres`): no
    /// server programs (`initdb` under `/usr/lib/postgresql/*/bin`, Debian's postgresql package,
    /// or in the directory that the test-only variable `UBA_TEST_POSTGRES_BIN` names), no `psql`
    /// on PATH, or, as root, no `runuser`. Failed (always a test failure): anything that is there
    /// but does not work: `initdb`, `pg_ctl` or `runuser` failing, no `pg_ctl` beside `initdb`.
    fn start(name: &str) -> Result<Postgres, Unavailable> {
        Self::start_with(name, None)
    }

    /// [`Postgres::start`] on host `i` of `network`, listening on its address too (the clients
    /// of other hosts connect over TCP, without a password: `trust` for the test's subnet).
    fn start_on(name: &str, network: &Network, i: usize) -> Result<Postgres, Unavailable> {
        Self::start_with(
            name,
            Some((network.namespace(i).to_owned(), network.address(i))),
        )
    }

    fn start_with(name: &str, host: Option<(String, String)>) -> Result<Postgres, Unavailable> {
        use Unavailable::{Failed, Missing};
        let bin = match std::env::var_os("UBA_TEST_POSTGRES_BIN") {
            Some(bin) => {
                let bin = std::path::PathBuf::from(bin);
                if !bin.join("initdb").exists() {
                    return Err(Missing(format!(
                        "no initdb in UBA_TEST_POSTGRES_BIN={}",
                        bin.display()
                    )));
                }
                bin
            }
            None => std::fs::read_dir("/usr/lib/postgresql")
                .map_err(|_| {
                    Missing("no /usr/lib/postgresql (Debian's postgresql package)".into())
                })?
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .find(|b| b.join("initdb").exists())
                .ok_or_else(|| Missing("no initdb under /usr/lib/postgresql/*/bin".into()))?,
        };
        if !bin.join("pg_ctl").exists() {
            return Err(Failed(format!(
                "{} has initdb but no pg_ctl",
                bin.display()
            )));
        }
        if common::on_path("psql").is_none() {
            return Err(Missing("no psql on PATH".into()));
        }
        // initdb refuses to run as root: the server runs as the `postgres` user then.
        let root = unsafe { libc_geteuid() } == 0;
        if root && common::on_path("runuser").is_none() {
            return Err(Missing(
                "no runuser on PATH, to run the server as the postgres user (running as root)"
                    .into(),
            ));
        }
        // A short path: a Unix socket's path must fit in 107 bytes.
        let dir = std::path::PathBuf::from(format!("/tmp/uba-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pg = Postgres { dir, bin, host };
        if root {
            let out = Command::new("chown")
                .args(["postgres:postgres", pg.dir.to_str().unwrap()])
                .output()
                .unwrap();
            if !out.status.success() {
                return Err(Failed(format!(
                    "chown postgres:postgres {} failed: {}",
                    pg.dir.display(),
                    stderr(&out)
                )));
            }
        }
        let data = pg.dir.join("data");
        pg.run(
            root,
            &[
                "initdb",
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        )
        .map_err(Failed)?;
        let listen = match &pg.host {
            Some((_, address)) => {
                let hba = data.join("pg_hba.conf");
                let mut rules = std::fs::read_to_string(&hba).unwrap();
                rules.push_str(&format!("host all all {address}/24 trust\n"));
                std::fs::write(&hba, rules).unwrap();
                address.clone()
            }
            None => String::new(),
        };
        let log = pg.dir.join("log");
        pg.run(
            root,
            &[
                "pg_ctl",
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &format!(
                    "-k {} -c listen_addresses='{listen}' -c fsync=off",
                    pg.dir.display()
                ),
                "-w",
                "start",
            ],
        )
        .map_err(|why| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            Failed(format!("{why}\nthe server's log:\n{log}"))
        })?;
        Ok(pg)
    }

    fn run(&self, root: bool, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(args[0]);
        // On its host, as the postgres user where the test runs as root.
        let mut argv: Vec<std::ffi::OsString> = Vec::new();
        if let Some((namespace, _)) = &self.host {
            argv.extend(["ip", "netns", "exec", namespace].map(Into::into));
        }
        if root {
            argv.extend(["runuser", "-u", "postgres", "--"].map(Into::into));
        }
        argv.push(program.into());
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        let out = command
            .args(&args[1..])
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", args[0]))?;
        if !out.status.success() {
            return Err(format!(
                "{}{} failed ({}): {}{}",
                if root { "runuser -u postgres -- " } else { "" },
                args[0],
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    fn sink(&self) -> String {
        self.sink_in("postgres")
    }

    /// The `--sink` of database `db`.
    fn sink_in(&self, db: &str) -> String {
        match &self.host {
            Some((_, address)) => format!("postgres://postgres@{address}/{db}"),
            None => format!(
                "postgres:host={} user=postgres dbname={db}",
                self.dir.display()
            ),
        }
    }

    /// Runs `sql` in psql, as a user would; returns its unaligned output.
    fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", &[], sql)
    }

    /// Runs `sql` in psql in database `db` with `flags` beside the usual ones; returns its
    /// output.
    fn psql_in(&self, db: &str, flags: &[&str], sql: &str) -> String {
        let out = Command::new("psql")
            .args([
                "-h",
                self.dir.to_str().unwrap(),
                "-U",
                "postgres",
                "-d",
                db,
                "-X",
                "-A",
                "-t",
                "-F",
                ",",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .args(flags)
            .args(["-c", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// The table's rows in key order, as csv would print them (booleans as `true`/`false`, NULL
    /// as an empty field), read with psql.
    fn table_rows(&self, db: &str, table: &str, kind: Kind) -> Rows {
        let booleans: Vec<bool> = self
            .psql_in(
                db,
                &[],
                &format!(
                    "SELECT data_type FROM information_schema.columns \
                     WHERE table_name = '{table}' ORDER BY ordinal_position"
                ),
            )
            .lines()
            .map(|t| t == "boolean")
            .collect();
        assert!(!booleans.is_empty(), "no table {table} in {db}");
        let text = self.psql_in(
            db,
            &["--csv"],
            &format!("SELECT * FROM \"{table}\" ORDER BY {}", key_order(kind)),
        );
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.len(), booleans.len(), "{r:?}");
                r.iter()
                    .zip(&booleans)
                    .map(|(v, &boolean)| match (v, boolean) {
                        ("t", true) => "true".to_owned(),
                        ("f", true) => "false".to_owned(),
                        (v, true) => panic!("a boolean '{v}'"),
                        (v, false) => v.to_owned(),
                    })
                    .collect()
            })
            .collect()
    }

    /// `(committed_time, complete)` of the job's progress row in database `db`, if any (`None`
    /// where no run has made the progress table yet, or put the job's row in it).
    fn progress(&self, db: &str, table: &str) -> Option<(u64, bool)> {
        let made = self.psql_in(db, &[], "SELECT to_regclass('uba_progress') IS NOT NULL");
        if made == "f\n" {
            return None;
        }
        assert_eq!(made, "t\n");
        let row = self.psql_in(
            db,
            &[],
            &format!(
                "SELECT committed_time, complete FROM uba_progress WHERE table_name = '{table}'"
            ),
        );
        if row.is_empty() {
            return None;
        }
        let (time, complete) = row.trim_end().split_once(',').unwrap();
        Some((
            time.parse().unwrap(),
            match complete {
                "t" => true,
                "f" => false,
                other => panic!("complete is '{other}'"),
            },
        ))
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let root = unsafe { libc_geteuid() } == 0;
        let data = self.dir.join("data");
        let _ = self.run(
            root,
            &[
                "pg_ctl",
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn postgres_holds_what_sqlite_holds_and_psql_shows_the_top_5() {
    let Some(pg) = common::require(
        "postgres",
        "postgres_holds_what_sqlite_holds_and_psql_shows_the_top_5",
        Postgres::start("top5"),
    ) else {
        return;
    };
    let input = tutorial("UserBehavior.csv");
    let csv = ok(&["hot-items", &input, "--format", "csv"]);
    let out = uba(&["hot-items", &input, "--sink", &pg.sink()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // What a user types: the top 5 of the window ending at 10:10, China time.
    let top = pg.psql(
        "SELECT rank, item_id, count FROM hot_items \
         WHERE to_timestamp(window_end / 1000) AT TIME ZONE 'Asia/Shanghai' = '2017-11-26 10:10' \
         ORDER BY rank",
    );
    let (_, rows) = csv_table(&csv);
    let window_end = "1511662200000"; // 2017-11-26 10:10 +08:00
    let want: String = rows
        .iter()
        .filter(|r| r[1] == window_end)
        .map(|r| format!("{},{},{}\n", r[2], r[3], r[4]))
        .collect();
    assert_eq!(want.lines().count(), 5);
    assert_eq!(top, want);
    // The whole table, as csv would print it.
    let all = pg.psql(
        "SELECT window_start, window_end, rank, item_id, count, \"update\", emitted_at FROM hot_items ORDER BY window_end, rank",
    );
    let want: String = expected(Kind::Windows, &csv, u64::MAX)
        .iter()
        .map(|r| {
            r.join(",")
                .replace(",false,", ",f,")
                .replace(",true,", ",t,")
                + "\n"
        })
        .collect();
    assert_eq!(all, want);
    assert_eq!(
        pg.psql("SELECT complete FROM uba_progress WHERE table_name = 'hot_items'"),
        "t\n"
    );
}

#[test]
fn postgres_with_a_progress_table_of_another_schema_is_one_sentence_not_a_panic() {
    let Some(pg) = common::require(
        "postgres",
        "postgres_with_a_progress_table_of_another_schema_is_one_sentence_not_a_panic",
        Postgres::start("schema"),
    ) else {
        return;
    };
    let input = tutorial("UserBehavior.csv");
    // A table of that name, with other columns, and with the same names but other types.
    for (db, ddl) in [
        (
            "odd_columns",
            "CREATE TABLE uba_progress (id INTEGER, note TEXT)",
        ),
        (
            "odd_types",
            "CREATE TABLE uba_progress (table_name TEXT PRIMARY KEY, job INTEGER, arguments TEXT, \
             inputs TEXT, tables TEXT, committed_time BIGINT, complete BOOLEAN); \
             INSERT INTO uba_progress VALUES ('hot_items', 7, '', '', '', 0, true)",
        ),
    ] {
        pg.psql(&format!("CREATE DATABASE {db}"));
        pg.psql_in(db, &[], ddl);
        for resume in [false, true] {
            let mut args = vec!["hot-items", input.as_str(), "--sink"];
            let sink = pg.sink_in(db);
            args.push(&sink);
            if resume {
                args.push("--resume");
            }
            let out = uba(&args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{db}: {err}");
            assert!(
                err.starts_with("uba: cannot ") && !err.contains("panicked"),
                "{db}: {err}"
            );
        }
    }
}

/// The kill test of the SQLite tables, against the test's own PostgreSQL server: the table after
/// each kill, the kills landed mid-run, and the end is the table of a run never killed, as psql
/// shows it.
#[test]
fn postgres_order_timeout_killed_and_resumed_ends_as_if_never_killed() {
    let Some(pg) = common::require(
        "postgres",
        "postgres_order_timeout_killed_and_resumed_ends_as_if_never_killed",
        Postgres::start("resume"),
    ) else {
        return;
    };
    let input = orders_input("sink-postgres-orders-input");
    let args = ["order-timeout", input.as_str()];
    let csv = ok(&[args.as_slice(), &["--format", "csv"]].concat());
    let db = killed_and_resumed_in(
        Store::Postgres(&pg),
        "sink-postgres-orders",
        &args,
        "order_timeout",
        Kind::Appended,
        Layout::Threads(1),
        3,
        21,
    );
    let Db::Postgres(_, name) = &db else {
        unreachable!()
    };
    let dump = pg.psql_in(
        name,
        &[],
        "SELECT seq, order_id, outcome, create_ts, pay_ts, tx_id, timeout_at, emitted_at FROM order_timeout ORDER BY seq",
    );
    let want: String = expected(Kind::Appended, &csv, u64::MAX)
        .iter()
        .map(|r| r.join(",") + "\n")
        .collect();
    assert_eq!(dump, want);
}

// ## Faults around a table: no hole lets a wrong answer be marked complete (issue 22)

/// `uba ARGS` with `env` set.
fn uba_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running uba")
}

#[test]
fn a_read_error_mid_file_commits_nothing_after_it_and_resume_finishes_the_table() {
    let dir = scratch("sink-read-error");
    let db = dir.join("results.db");
    let input = tutorial("UserBehavior.csv");
    let csv = ok(&["hot-items", &input, "--format", "csv"]);
    let args = ["hot-items", &input, "--sink", &sqlite(&db)];
    // The disk fails after 2 MB of the 4 MB file (EIO, as a failing disk or mount does).
    let out = uba_env(&args, &[("UBA_FAULT_READ_AFTER", "2000000")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot read") && err.contains("Input/output error"),
        "{err}"
    );
    // Never marked complete; what it committed is a prefix of the answer.
    let (_, rows) = csv_table(&csv);
    let last_time: u64 = rows.last().unwrap().last().unwrap().parse().unwrap();
    if let Some((time, complete)) = progress(&db, "hot_items") {
        assert!(
            !complete && time < last_time,
            "committed through {time}, complete {complete}"
        );
        assert_eq!(
            table_rows(&db, "hot_items", Kind::Windows),
            expected(Kind::Windows, &csv, time)
        );
    }
    // The disk is back: the resume ends with the table of a run never interrupted.
    let out = uba(&[&args[..], &["--resume"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(progress(&db, "hot_items"), Some((last_time, true)));
    assert_eq!(
        table_rows(&db, "hot_items", Kind::Windows),
        expected(Kind::Windows, &csv, u64::MAX)
    );
}

#[test]
fn a_table_no_uba_run_wrote_is_refused_never_dropped() {
    let dir = scratch("sink-foreign-table");
    let db = dir.join("shop.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'ann');",
    )
    .unwrap();
    let input = tutorial("UserBehavior.csv");
    let out = uba(&[
        "hot-items",
        &input,
        "--sink",
        &sqlite(&db),
        "--table",
        "users",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("table 'users'") && err.contains("was not written by this job"),
        "{err}"
    );
    let name: String = conn
        .query_row("SELECT name FROM users WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "ann");
}

#[test]
fn a_fresh_run_that_fails_leaves_the_previous_results_readable() {
    let dir = scratch("sink-fresh-run-fails");
    let db = dir.join("results.db");
    let input = tutorial("UserBehavior.csv");
    let csv = ok(&["hot-items", &input, "--format", "csv"]);
    let out = uba(&["hot-items", &input, "--sink", &sqlite(&db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = progress(&db, "hot_items");
    // The wrong file: every line rejected, exit 4; nothing of it replaces the good results.
    let out = uba(&[
        "hot-items",
        &tutorial("LoginLog.csv"),
        "--sink",
        &sqlite(&db),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(progress(&db, "hot_items"), before);
    assert_eq!(
        table_rows(&db, "hot_items", Kind::Windows),
        expected(Kind::Windows, &csv, u64::MAX)
    );
    // A read error before the first commit: the same.
    let out = uba_env(
        &["hot-items", &input, "--sink", &sqlite(&db)],
        &[("UBA_FAULT_READ_AFTER", "1000")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(progress(&db, "hot_items"), before);
    assert_eq!(
        table_rows(&db, "hot_items", Kind::Windows),
        expected(Kind::Windows, &csv, u64::MAX)
    );
}

#[test]
fn a_database_that_vanishes_with_the_run_is_refused() {
    let input = tutorial("UserBehavior.csv");
    for sink in [
        "sqlite:",
        "sqlite::memory:",
        "sqlite:file::memory:?cache=shared",
    ] {
        let out = uba(&["hot-items", &input, "--sink", sink]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{sink}: {err}");
        assert!(err.contains("vanishes when the run ends"), "{sink}: {err}");
    }
}

#[test]
fn a_password_is_never_shown() {
    let input = tutorial("UserBehavior.csv");
    // Nothing listens there: the error names the server, never the password.
    let port = common::free_port();
    for sink in [
        format!("postgres://ann:s3cret@127.0.0.1:{port}/shop"),
        format!("postgres:host=127.0.0.1 port={port} user=ann password=s3cret dbname=shop"),
        format!("postgres:host=127.0.0.1 port={port} user=ann password='s3 cret' dbname=shop"),
    ] {
        let out = uba(&["hot-items", &input, "--sink", &sink]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{sink}: {err}");
        assert!(
            !err.contains("s3cret") && !err.contains("s3 cret"),
            "{sink}: {err}"
        );
        assert!(
            err.contains("***") && err.contains("127.0.0.1"),
            "{sink}: {err}"
        );
    }
}

#[test]
fn a_closed_stderr_changes_no_exit_code() {
    // `uba ... 2>&1 | head -1`: the reader of stderr is gone before uba writes its sentence.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(["hot-items", "/nonexistent/input.csv"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2), "a usage error, not a panic (101)");
}

#[test]
fn a_value_that_starts_with_a_dash_is_a_value_for_resume() {
    let dir = scratch("sink-dash-value");
    let db = dir.join("results.db");
    let input = tutorial("UserBehavior.csv");
    let out = uba(&[
        "hot-items",
        &input,
        "--tz",
        "-05:00",
        "--sink",
        &sqlite(&db),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // --tz changes how times are printed, not the results: a resume may change it.
    let out = uba(&[
        "hot-items",
        &input,
        "--tz",
        "+08:00",
        "--sink",
        &sqlite(&db),
        "--resume",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_resume_by_another_build_is_refused() {
    let dir = scratch("sink-other-build");
    let db = dir.join("results.db");
    let input = tutorial("UserBehavior.csv");
    let out = uba(&["hot-items", &input, "--sink", &sqlite(&db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Another build: the same program with other bytes (as an upgrade would have).
    let other = dir.join("uba-other");
    let mut bytes = std::fs::read(env!("CARGO_BIN_EXE_uba")).unwrap();
    bytes.extend_from_slice(b"another build");
    std::fs::write(&other, bytes).unwrap();
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new(&other)
        .args(["hot-items", &input, "--sink", &sqlite(&db), "--resume"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("results of two builds are never mixed"),
        "{err}"
    );
}

/// The tutorial's UserBehavior sample dealt into two files, line by line (even lines and odd
/// lines), so that each covers the whole span of event time, as two processes' shares do.
fn dealt_in_two(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(tutorial("UserBehavior.csv")).unwrap();
    let (mut a, mut b) = (String::new(), String::new());
    for (i, line) in text.lines().enumerate() {
        let half = if i % 2 == 0 { &mut a } else { &mut b };
        half.push_str(line);
        half.push('\n');
    }
    let (pa, pb) = (dir.join("a.csv"), dir.join("b.csv"));
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    (pa.display().to_string(), pb.display().to_string())
}

/// Each process's exit code and stderr.
fn outcomes(children: Vec<Child>) -> Vec<(Option<i32>, String)> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (out.status.code(), stderr(&out))
        })
        .collect()
}

/// Process `p`'s arguments: `job`, its own share of the input, then `rest`.
fn shares(job: &str, files: [&str; 2], rest: &[&str]) -> Vec<Vec<String>> {
    files
        .iter()
        .map(|file| {
            [&[job, "--inputs", file], rest]
                .concat()
                .into_iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Starts the two processes of `argv` (process 1 with `env1` set) and returns their outcomes;
/// `during` runs while they do.
fn two_processes(
    dir: &Path,
    argv: &[Vec<String>],
    env1: &[(&str, &str)],
    during: impl FnOnce(&[Child]),
) -> Vec<(Option<i32>, String)> {
    let children = start_cluster(2, dir, None, |p| {
        let env = if p == 1 { env1.to_vec() } else { Vec::new() };
        (argv[p].iter().map(String::as_str).collect(), env)
    });
    during(&children);
    outcomes(children)
}

/// Every process ended with `code` and says `says` on stderr.
fn every_process_ends(outcomes: &[(Option<i32>, String)], code: i32, says: &str) {
    for (p, (c, err)) in outcomes.iter().enumerate() {
        assert_eq!(*c, Some(code), "process {p}: {err}");
        assert!(err.contains(says), "process {p}: {err}");
    }
}

#[test]
fn ctrl_c_at_one_process_of_a_cluster_stops_every_process_and_commits_nothing_after_it() {
    let dir = scratch("sink-cluster-ctrl-c");
    let (a, b) = dealt_in_two(&dir);
    let db = dir.join("results.db");
    // Paced (about 5 s of reading each), so that the Ctrl-C lands mid-run.
    let argv = shares(
        "hot-items",
        [&a, &b],
        &["--sink", &sqlite(&db), "--replay-rate", "10000"],
    );
    let outcomes = two_processes(&dir, &argv, &[], |children| {
        std::thread::sleep(Duration::from_millis(2500));
        let status = Command::new("kill")
            .args(["-INT", &children[1].id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    });
    every_process_ends(&outcomes, 130, "uba: process 1: stopped by Ctrl-C");
    assert!(progress(&db, "hot_items").is_none_or(|(_, complete)| !complete));
}

#[test]
fn a_read_error_in_one_process_of_a_cluster_ends_every_process_with_its_sentence() {
    let dir = scratch("sink-cluster-read-error");
    let (a, b) = dealt_in_two(&dir);
    let db = dir.join("results.db");
    let argv = shares(
        "hot-items",
        [&a, &b],
        &["--sink", &sqlite(&db), "--replay-rate", "20000"],
    );
    let outcomes = two_processes(&dir, &argv, &[("UBA_FAULT_READ_AFTER", "1000000")], |_| {});
    every_process_ends(&outcomes, 1, "uba: process 1: cannot read");
    every_process_ends(&outcomes, 1, "Input/output error");
    assert!(progress(&db, "hot_items").is_none_or(|(_, complete)| !complete));
}

#[test]
fn a_resume_checks_every_byte_of_every_process_s_inputs() {
    let dir = scratch("sink-cluster-inputs");
    let (a, b) = dealt_in_two(&dir);
    let db = dir.join("results.db");
    let fresh = shares("hot-items", [&a, &b], &["--sink", &sqlite(&db)]);
    let resume = shares("hot-items", [&a, &b], &["--sink", &sqlite(&db), "--resume"]);
    let each_ends = |argv: &[Vec<String>], code: i32, says: &str| {
        every_process_ends(&two_processes(&dir, argv, &[], |_| {}), code, says);
    };
    each_ends(&fresh, 0, "");
    // Process 1's file cut to a third: the writer (process 0) never reads it, yet refuses.
    let text = std::fs::read(&b).unwrap();
    std::fs::write(&b, &text[..text.len() / 3]).unwrap();
    each_ends(&resume, 2, "cannot resume");
    // Back as it was: resumed.
    std::fs::write(&b, &text).unwrap();
    each_ends(&resume, 0, "");
    // The same length, one digit of an id in the middle rewritten: refused.
    let mut edited = text.clone();
    let middle = edited.len() / 2;
    let digit = edited[middle..]
        .iter()
        .position(u8::is_ascii_digit)
        .unwrap()
        + middle;
    edited[digit] = if edited[digit] == b'7' { b'8' } else { b'7' };
    std::fs::write(&b, &edited).unwrap();
    each_ends(&resume, 2, "process 1: ");
}

#[test]
fn user_profile_the_blacklist_and_settled_windows_resume_as_if_never_killed() {
    let behavior = user_behavior_input();
    let user_profile = ["user-profile", behavior.as_str()];
    killed_and_resumed(
        "sink-kill-user-profile",
        &user_profile,
        "user_profile",
        Kind::Users,
        Layout::Threads(1),
        3,
        21,
    );
    let dir = scratch("sink-kill-ad-stats-input");
    let clicks = generated(
        &dir,
        &["gen", "ad-clicks", "--rows", "200000", "--seed", "14"],
    );
    let blacklist = [
        "ad-stats",
        clicks.as_str(),
        "--only",
        "blacklist",
        "--max-clicks",
        "5",
    ];
    killed_and_resumed(
        "sink-kill-ad-stats",
        &blacklist,
        "ad_stats_blacklist",
        Kind::Appended,
        Layout::Threads(1),
        3,
        23,
    );
    let pages = hot_pages_input();
    let settled = [&["hot-pages", pages.as_str(), "--settled"], HOT_PAGES].concat();
    killed_and_resumed(
        "sink-kill-hot-pages-settled",
        &settled,
        "hot_pages",
        Kind::Windows,
        Layout::Threads(1),
        3,
        24,
    );
}

#[test]
fn a_commit_larger_than_the_batch_cap_is_written_ahead_within_its_transaction() {
    // The profiles of every user at the last input time: one commit of more rows than a batch
    // holds in memory (20,000 changes).
    let dir = scratch("sink-batch-cap-input");
    let input = generated(
        &dir,
        &[
            "gen",
            "user-behavior",
            "--rows",
            "400000",
            "--seed",
            "15",
            "--users",
            "100000",
        ],
    );
    let csv = table_equals_stream(
        "sink-batch-cap",
        &["user-profile", &input, "--snapshot"],
        "user_profile",
        Kind::Users,
    );
    assert!(csv.lines().count() > 30_000, "{} rows", csv.lines().count());
}

/// A followed file that grows and is rotated while hot-items reads it into a table, killed
/// (SIGKILL) at ten seeded points and resumed with `--follow --resume` each time: after every
/// kill the table is the answer as of its committed time, each resume starts where the
/// committed checkpoint is (in the rotated file when the kill came before the rotation was
/// read), and in the end, stopped by SIGTERM once all is read, the table is what a run over
/// the whole input in one file commits through the same time.
#[test]
fn a_followed_file_growing_and_rotated_killed_ten_times_ends_as_if_never_killed() {
    use std::io::Write;
    let dir = scratch("sink-kill-follow");
    let whole = generated(
        &dir,
        &[
            "gen",
            "user-behavior",
            "--rows",
            "120000",
            "--seed",
            "17",
            "--rate",
            "20",
            "--items",
            "3000",
            "--categories",
            "60",
            "--disorder",
            "10s",
        ],
    );
    let job = [
        "hot-items",
        "--window",
        "10m",
        "--slide",
        "1m",
        "--out-of-orderness",
        "10s",
    ];
    let csv = ok(&[&job[..], &[whole.as_str(), "--format", "csv"]].concat());
    let text = std::fs::read_to_string(&whole).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let live = dir.join("live.csv");
    let live_arg = live.to_str().unwrap().to_owned();
    std::fs::write(&live, "").unwrap();
    // The writer: 60 chunks, one every 40 ms; after the 30th the file is renamed away
    // (logrotate's default) and a new one takes its place.
    let chunks: Vec<String> = lines
        .chunks(lines.len().div_ceil(60))
        .map(|c| c.iter().map(|l| format!("{l}\n")).collect())
        .collect();
    let (rotated, writer_live) = (dir.join("live.csv.1"), live.clone());
    let writer = std::thread::spawn(move || {
        for (i, chunk) in chunks.iter().enumerate() {
            if i == 30 {
                std::fs::rename(&writer_live, &rotated).unwrap();
                std::fs::write(&writer_live, "").unwrap();
            }
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&writer_live)
                .unwrap();
            file.write_all(chunk.as_bytes()).unwrap();
            drop(file);
            std::thread::sleep(Duration::from_millis(40));
        }
    });
    let db = dir.join("followed.db");
    let sink = sqlite(&db);
    let run: Vec<&str> = [&job[..], &[live_arg.as_str(), "--follow", "--sink", &sink]].concat();
    let resume: Vec<&str> = [run.as_slice(), &["--resume"]].concat();
    let mut rng = Rng(23);
    let mut committed = Vec::new();
    for _ in 0..10 {
        let args = if committed.is_empty() { &run } else { &resume };
        let mut child = spawn(args);
        std::thread::sleep(Duration::from_millis(100 + rng.below(200)));
        let _ = child.kill();
        let _ = child.wait();
        if let Some((time, complete)) = progress(&db, "hot_items") {
            assert!(!complete, "a followed run is never complete");
            assert_eq!(
                table_rows(&db, "hot_items", Kind::Windows),
                expected(Kind::Windows, &csv, time),
                "after a kill, committed through {time}"
            );
            committed.push(time);
        }
    }
    writer.join().unwrap();
    assert!(
        committed.windows(2).all(|w| w[0] <= w[1]) && committed.len() >= 5,
        "committed times: {committed:?}"
    );
    // The last run reads to the end of what was written, commits what its watermark allows,
    // and is stopped as a service is.
    let mut child = spawn(&resume);
    let last_time = csv_table(&csv)
        .1
        .iter()
        .map(|r| r.last().unwrap().parse::<u64>().unwrap())
        .max()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = None;
    let mut stable_since = Instant::now();
    // Until the committed time has stayed the same for 2 s (the end is read) or reached the
    // last window that the final watermark can close.
    while Instant::now() < deadline {
        let now = progress(&db, "hot_items");
        if now != seen {
            (seen, stable_since) = (now, Instant::now());
        } else if stable_since.elapsed() > Duration::from_secs(2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = common::wait_for(
        &mut child,
        Duration::from_secs(30),
        "the stopped followed run",
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(code.code(), Some(143), "{err}");
    let (time, complete) = progress(&db, "hot_items").unwrap();
    assert!(!complete);
    // The final watermark is 10 s behind the last line's time: every window but the last ten
    // minutes' was committed.
    assert!(
        time + 11 * 60 * 1000 >= last_time,
        "committed through {time}, the input's last window {last_time}"
    );
    assert_eq!(
        table_rows(&db, "hot_items", Kind::Windows),
        expected(Kind::Windows, &csv, time)
    );
    eprintln!("committed after each kill: {committed:?}; the last run: {err}");
    // Every line of both files accounted for, the resumed run having read from its checkpoint.
    assert!(err.contains("120000 lines read: 120000 accepted"), "{err}");
    let resumed_at: u64 = err
        .split("resumed at line ")
        .nth(1)
        .and_then(|rest| rest.split(':').next()?.parse().ok())
        .unwrap_or_else(|| panic!("the last run did not resume from a checkpoint: {err}"));
    assert!(resumed_at > 60_000, "resumed at line {resumed_at}");
}
