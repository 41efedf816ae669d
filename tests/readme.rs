//! Every figure that `README.md` and the pages of `docs/` (and `data/tutorial/README.md`) quote
//! about the sample files, computed from what the real binary prints and looked up in the
//! document, so the documents cannot drift from what uba does. A failure names the sentence the
//! document should hold: fix the document (or the code), never the figure here.
//!
//! Measurements (events/s, seconds, MB) are not facts of the samples and are not checked.
//!
//! And every relative link of the README and of `docs/`, `#anchor` included, leads somewhere.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{scratch, tutorial};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs of whitespace become one space, so that a sentence matches across line breaks.
fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that the document at `path` (relative to the repository) holds `sentence`, whatever its
/// line breaks.
fn says(path: &str, sentence: &str) {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    assert!(
        normalize(&text).contains(&normalize(sentence)),
        "{path} should say, as the binary does:\n    {sentence}"
    );
}

/// The line of a document's table whose first cell is `file` (plain or in backquotes).
fn table_row(path: &str, file: &str) -> String {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("| {file} |")) || l.starts_with(&format!("| `{file}` |")))
        .unwrap_or_else(|| panic!("{path} has no table row for {file}"))
        .to_owned()
}

/// Asserts that the table row of `file` in the document at `path` says `trait_`.
fn row_says(path: &str, file: &str, trait_: &str) {
    let row = table_row(path, file);
    assert!(
        row.contains(trait_),
        "{path}: the row of {file} should say `{trait_}`:\n    {row}"
    );
}

/// Runs `uba ARGS` from the repository root, as the README's commands are run; asserts success.
fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("running uba");
    assert!(
        out.status.success(),
        "uba {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The rows of csv output, each a map from the header's field names.
fn records(out: &Output) -> Vec<HashMap<String, String>> {
    let text = stdout(out);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, field: &str) -> u64 {
    row[field]
        .parse()
        .unwrap_or_else(|_| panic!("{field} is not a number in {row:?}"))
}

/// One input's accounting line on stderr.
#[derive(Debug)]
struct Accounting {
    /// The line up to `rejected;`: the facts, without the measurements that follow.
    facts: String,
    read: u64,
    used: u64,
    filtered: u64,
    late: u64,
    corrections: u64,
    rejected: u64,
}

fn accounting(out: &Output, input: &str) -> Accounting {
    let err = String::from_utf8_lossy(&out.stderr);
    let prefix = format!("uba: {input}: ");
    let line = err
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no accounting line for {input} in:\n{err}"));
    let end = line.find(" rejected;").expect("an accounting line") + " rejected;".len();
    let facts = line[..end].to_owned();
    let n: Vec<u64> = facts[prefix.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let [read, accepted, used, filtered, late, corrections, rejected] = n[..] else {
        panic!("unexpected accounting line: {line}");
    };
    assert_eq!(read, accepted + rejected, "{line}");
    assert_eq!(accepted, used + filtered + late, "{line}");
    Accounting {
        facts,
        read,
        used,
        filtered,
        late,
        corrections,
        rejected,
    }
}

/// The late side output written with `--late FILE`: (line, reason, text) of each late record.
fn late_rows(path: &Path) -> Vec<(u64, String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, ',').collect();
            (
                f[1].parse().unwrap(),
                f[2].to_owned(),
                f[3].trim_matches('"').to_owned(),
            )
        })
        .collect()
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn round_to(n: u64, unit: u64) -> u64 {
    (n + unit / 2) / unit * unit
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<T: ToString>(items: &[T]) -> String {
    let items: Vec<String> = items.iter().map(T::to_string).collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Epoch seconds as a UTC date and time `(year, month, day, hour, minute, second)`
/// (Howard Hinnant's `civil_from_days`).
fn utc(secs: u64) -> (i64, u64, u64, u64, u64, u64) {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe as i64 + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, rest / 60 % 60, rest % 60)
}

/// The last field of each line of a csv sample: its time, in epoch seconds.
fn times(file: &str) -> Vec<u64> {
    std::fs::read_to_string(tutorial(file))
        .unwrap()
        .lines()
        .map(|l| l.rsplit(',').next().unwrap().trim().parse().unwrap())
        .collect()
}

/// How far each row is behind the greatest time before it (0 when it is not).
fn behind(times: &[u64]) -> Vec<u64> {
    let mut max = 0u64;
    times
        .iter()
        .map(|&t| {
            let b = max.saturating_sub(t);
            max = max.max(t);
            b
        })
        .collect()
}

/// `600000` ms as `10 min`, `5000` as `5 s`.
fn human_ms(ms: u64) -> String {
    if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else {
        format!("{} s", ms / 1000)
    }
}

// ## README.md: the two commands

#[test]
fn the_main_job_on_the_generated_sample() {
    let out = run(&["run", "jobs/hot-items.toml"]);
    let text = stdout(&out);
    let first: Vec<&str> = text.lines().take(3).collect();
    says("README.md", &format!("```\n{}\n...\n```", first.join("\n")));
    let a = accounting(&out, "jobs/../data/user-behavior.csv");
    says("README.md", &a.facts);
}

#[test]
fn the_generated_samples_are_what_their_commands_write() {
    let big = ["gen", "user-behavior", "--rows", "100000", "--seed", "1"];
    let written = run(&big).stdout;
    assert!(written == std::fs::read(root().join("data/user-behavior.csv")).unwrap());
    says(
        "README.md",
        "`uba gen user-behavior --rows 100000 --seed 1 --out data/user-behavior.csv`",
    );
    let rows = thousands(written.iter().filter(|&&b| b == b'\n').count() as u64);
    says(
        "docs/jobs.md",
        &format!(
            "`data/user-behavior.csv`, {rows} rows (`{}`)",
            ["uba"]
                .iter()
                .chain(&big)
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );

    let small = [
        "gen",
        "user-behavior",
        "--rows",
        "20000",
        "--seed",
        "2",
        "--items",
        "20000",
        "--users",
        "2000",
        "--categories",
        "200",
    ];
    let command = ["uba"]
        .iter()
        .chain(&small)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let written = run(&small).stdout;
    assert!(written == std::fs::read(root().join("data/user-behavior-small.csv")).unwrap());
    let rows = written.iter().filter(|&&b| b == b'\n').count() as u64;
    // The job file says how its input was made, and reads it.
    let job = std::fs::read_to_string(root().join("jobs/recommend.toml")).unwrap();
    let comments: String = job
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        normalize(&comments).contains(&format!("`{command}`")),
        "jobs/recommend.toml should say how its input was made: `{command}`"
    );
    assert!(job.contains(r#"inputs = ["../data/user-behavior-small.csv"]"#));
    let k = |flag: &str| {
        let at = small.iter().position(|a| *a == flag).unwrap();
        small[at + 1].parse::<u64>().unwrap() / 1000
    };
    says(
        "docs/examples.md",
        &format!(
            "`uba run jobs/recommend.toml` runs it on `data/user-behavior-small.csv` ({}k generated rows, {}k users, {}k items;",
            rows / 1000,
            k("--users"),
            k("--items")
        ),
    );
    says(
        "docs/jobs.md",
        &format!(
            "`data/user-behavior-small.csv`, {} rows (`{command}`)",
            thousands(rows)
        ),
    );
}

// ## docs/examples.md: hot-items

#[test]
fn hot_items_first_window_of_the_tutorial_sample() {
    let out = run(&["hot-items", &tutorial("UserBehavior.csv"), "--tz", "+08:00"]);
    let text = stdout(&out);
    let mut lines = text.lines();
    // == hot items by page views | window 2017-11-26 08:05:00 .. 2017-11-26 09:05:00 ==
    let header = lines.next().unwrap();
    let end = header.split(" .. ").nth(1).unwrap().trim_end_matches(" ==");
    let end = end.strip_suffix(":00").unwrap();
    // No.1: item 3493253, 3 views
    let rows: Vec<(u64, u64)> = lines
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let rest = l.split_once(": item ").unwrap().1;
            let (item, views) = rest.split_once(", ").unwrap();
            let views = views.strip_suffix(" views").unwrap();
            (item.parse().unwrap(), views.parse().unwrap())
        })
        .collect();
    let top = rows[0].1;
    let tied: Vec<u64> = rows.iter().filter(|r| r.1 == top).map(|r| r.0).collect();
    assert!(tied.len() > 1, "the first window has tied items");
    assert!(
        tied.windows(2).all(|w| w[0] < w[1]),
        "ties in item-id order"
    );
    says(
        "docs/examples.md",
        &format!(
            "the first window (ending {end} in UTC+8) has items {} with {top} views each: Flink prints them in arbitrary order, we in item-id order.",
            and_list(&tied)
        ),
    );
}

// ## docs/examples.md: web traffic (and docs/cli.md: output)

#[test]
fn hot_pages_lines_are_mostly_corrections() {
    let log = tutorial("apache.log");
    let a = accounting(&run(&["hot-pages", &log, "--format", "csv"]), &log);
    assert!(a.corrections * 2 > a.read, "most lines are corrections");
    says(
        "docs/examples.md",
        &format!(
            "most lines arrive behind the 3 s watermark and become corrections (about {} of {} lines)",
            thousands(round_to(a.corrections, 1000)),
            thousands(a.read)
        ),
    );
    // `dd/MM/yyyy:HH:mm:ss`: the minutes, and the hours.
    let text = std::fs::read_to_string(&log).unwrap();
    let stamps: Vec<&str> = text.lines().map(|l| l.split(' ').nth(3).unwrap()).collect();
    let minutes: BTreeSet<&str> = stamps.iter().map(|t| &t[14..16]).collect();
    let hours: BTreeSet<&str> = stamps.iter().map(|t| &t[..13]).collect();
    assert_eq!(minutes.len(), 1);
    let minute = minutes.first().unwrap();
    says(
        "docs/examples.md",
        &format!(
            "every timestamp of `apache.log` has minute `{minute}`, so each \"minute\" is really an hour of about {} lines",
            round_to(a.read / hours.len() as u64, 10)
        ),
    );
    row_says(
        "docs/jobs.md",
        "apache.log",
        &format!("every time has minute {minute}"),
    );
}

#[test]
fn hot_pages_settled_prints_one_block_per_window() {
    let log = tutorial("apache.log");
    let lines = stdout(&run(&["hot-pages", &log])).lines().count() as u64;
    let settled = stdout(&run(&["hot-pages", &log, "--settled"]));
    let blocks = settled.lines().filter(|l| l.starts_with("== ")).count() as u64;
    let read = accounting(&run(&["hot-pages", &log, "--format", "csv"]), &log).read;
    says(
        "docs/cli.md",
        &format!(
            "(`uba hot-pages data/tutorial/apache.log` prints {} lines for {}, most of them corrections)",
            thousands(lines),
            thousands(read)
        ),
    );
    says(
        "docs/cli.md",
        &format!(
            "`uba hot-pages data/tutorial/apache.log --settled` prints one block per window ({})",
            thousands(blocks)
        ),
    );
    let size = std::fs::metadata(&log).unwrap().len();
    says(
        "docs/cli.md",
        &format!(
            "(`uba: progress: {:.2} KiB of {:.2} KiB read (100%), {} lines, ...`)",
            size as f64 / 1024.0,
            size as f64 / 1024.0,
            thousands(read)
        ),
    );
}

#[test]
fn hot_pages_tutorial_job_file() {
    let rows = records(&run(&[
        "run",
        "jobs/hot-pages-tutorial.toml",
        "--format",
        "csv",
    ]));
    let sizes: BTreeSet<u64> = rows
        .iter()
        .map(|r| num(r, "window_end") - num(r, "window_start"))
        .collect();
    let ends: BTreeSet<u64> = rows.iter().map(|r| num(r, "window_end")).collect();
    let ends: Vec<u64> = ends.into_iter().collect();
    let slide = ends.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    let top = rows.iter().map(|r| num(r, "rank")).max().unwrap();
    assert_eq!(sizes.len(), 1);
    says(
        "docs/examples.md",
        &format!(
            "`uba run jobs/hot-pages-tutorial.toml` reproduces the tutorial's {} / {} / top {top}",
            human_ms(*sizes.first().unwrap()),
            human_ms(slide)
        ),
    );
}

#[test]
fn pv_per_hour_of_the_tutorial_sample() {
    let sample = tutorial("UserBehavior.csv");
    let out = run(&["pv", &sample, "--format", "csv"]);
    let counts: Vec<String> = records(&out).iter().map(|r| r["pv"].clone()).collect();
    says(
        "docs/examples.md",
        &format!("On the tutorial sample: {}.", counts.join(", ")),
    );
    // uv's memory figure is about the same file.
    let rows = accounting(&out, &sample).read;
    says(
        "docs/examples.md",
        &format!("the {}k-row sample takes", round_to(rows, 1000) / 1000),
    );
}

// ## docs/examples.md: marketing

#[test]
fn ad_stats_blacklists_one_pair_of_the_sample() {
    let out = run(&[
        "run",
        "jobs/ad-stats.toml",
        "--only",
        "blacklist",
        "--format",
        "csv",
    ]);
    let rows = records(&out);
    assert_eq!(rows.len(), 1, "one blacklist warning");
    let r = &rows[0];
    let (user, ad) = (num(r, "user_id"), num(r, "ad_id"));
    says(
        "docs/examples.md",
        &format!(
            "user {user} / ad {ad} is blacklisted at its {} click (ts {})",
            ordinal(num(r, "clicks_so_far")),
            num(r, "first_blocked_at") / 1000
        ),
    );
    // The pair's last two rows are the file's last two, behind its latest time; they still join
    // windows (corrections, not late) and the blacklist drops them.
    let file = std::fs::read_to_string(tutorial("AdClickLog.csv")).unwrap();
    let pairs: Vec<(u64, u64)> = file
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap())
        })
        .collect();
    let behind = behind(&times("AdClickLog.csv"));
    let last = behind.len() - 2;
    assert!(pairs[last..].iter().all(|p| *p == (user, ad)));
    let a = accounting(&out, "jobs/../data/tutorial/AdClickLog.csv");
    assert_eq!((a.late, a.corrections), (0, 2));
    says(
        "docs/examples.md",
        &format!(
            "its last two rows, {} s and {} s out of order, join windows that have not fired and are dropped by the filter",
            behind[last],
            behind[last + 1]
        ),
    );
    let clicks = pairs.iter().filter(|p| **p == (user, ad)).count();
    says(
        "data/tutorial/README.md",
        &format!("user {user} clicks ad {ad} {clicks} times"),
    );
    row_says(
        "docs/jobs.md",
        "AdClickLog.csv",
        &format!(
            "user {user} clicks ad {ad} {clicks} times; its last two rows are {} s and {} s out of order",
            behind[last],
            behind[last + 1]
        ),
    );
}

// ## docs/examples.md: risk control

#[test]
fn login_fail_on_the_sample() {
    let rows = records(&run(&[
        "login-fail",
        &tutorial("LoginLog.csv"),
        "--format",
        "csv",
    ]));
    let users: BTreeSet<u64> = rows.iter().map(|r| num(r, "user_id")).collect();
    assert_eq!(users.len(), 1);
    // docs/examples.md names each match by the last three digits of its times in seconds.
    let matches: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}→{}",
                num(r, "first_fail") / 1000 % 1000,
                num(r, "last_fail") / 1000 % 1000
            )
        })
        .collect();
    says(
        "docs/examples.md",
        &format!(
            "On the sample: user {}, {}.",
            users.first().unwrap(),
            and_list(&matches)
        ),
    );

    let job = std::fs::read_to_string(root().join("jobs/login-fail-tutorial.toml")).unwrap();
    let within = job
        .lines()
        .find_map(|l| l.strip_prefix("within = "))
        .unwrap()
        .trim_matches('"');
    let within_s: u64 = within.strip_suffix('s').unwrap().parse().unwrap();
    let rows = records(&run(&[
        "run",
        "jobs/login-fail-tutorial.toml",
        "--format",
        "csv",
    ]));
    assert!(!rows.is_empty());
    let fails: BTreeSet<u64> = rows.iter().map(|r| num(r, "fails")).collect();
    assert_eq!(fails.len(), 1);
    assert!(
        rows.iter()
            .all(|r| num(r, "last_fail") - num(r, "first_fail") <= within_s * 1000)
    );
    says(
        "docs/examples.md",
        &format!(
            "The tutorial's CEP variant ({} fails within {within_s} s): `uba run jobs/login-fail-tutorial.toml`",
            fails.first().unwrap()
        ),
    );
}

/// The order ids of each outcome of an order-timeout run.
fn outcomes(out: &Output) -> BTreeMap<String, Vec<u64>> {
    let mut by_outcome: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in records(out) {
        by_outcome
            .entry(r["outcome"].clone())
            .or_default()
            .push(num(&r, "order_id"));
    }
    for ids in by_outcome.values_mut() {
        ids.sort_unstable();
    }
    by_outcome
}

#[test]
fn order_timeout_on_the_sample() {
    let log = tutorial("OrderLog.csv");
    let out = run(&[
        "order-timeout",
        &log,
        "--out-of-orderness",
        "6s",
        "--format",
        "csv",
    ]);
    let six = outcomes(&out);
    assert_eq!(accounting(&out, &log).late, 0);
    assert_eq!(six["timeout"], six["paid_late"]);
    says(
        "docs/examples.md",
        &format!(
            "Sample: with `--out-of-orderness 6s`, orders {} time out and later pay late, {} pays without a create, the other {} are paid.",
            and_list(&six["timeout"]),
            and_list(&six["pay_without_create"]),
            six["paid"].len()
        ),
    );

    // With the default 0, the one pay out of order is late.
    let dir = scratch("readme-order-timeout");
    let late = dir.join("late.csv");
    let out = run(&[
        "order-timeout",
        &log,
        "--format",
        "csv",
        "--late",
        late.to_str().unwrap(),
    ]);
    let zero = outcomes(&out);
    let late = late_rows(&late);
    assert_eq!(late.len(), 1);
    let (line, reason, text) = &late[0];
    let fields: Vec<&str> = text.split(',').collect();
    assert_eq!(fields[1], "pay");
    let order: u64 = fields[0].parse().unwrap();
    let ms: u64 = reason
        .strip_suffix(" ms behind the watermark")
        .unwrap()
        .parse()
        .unwrap();
    let mut timeouts = six["timeout"].clone();
    timeouts.push(order);
    timeouts.sort_unstable();
    assert_eq!(zero["timeout"], timeouts, "{order} times out too");
    says(
        "docs/examples.md",
        &format!(
            "With the default 0 (the tutorial's ascending timestamps), the pay of {order} (line {line}) is {} s late and goes to the late output, so {order} times out too and {} orders are paid.",
            ms / 1000,
            zero["paid"].len()
        ),
    );
}

#[test]
fn tx_match_on_the_sample() {
    let (orders, receipts) = (tutorial("OrderLog.csv"), tutorial("ReceiptLog.csv"));
    let count = |out: &Output| {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        for r in records(out) {
            *n.entry(r["outcome"].clone()).or_default() += 1;
        }
        n
    };

    let dir = scratch("readme-tx-match");
    let late = dir.join("late.csv");
    let out = run(&[
        "tx-match",
        &orders,
        &receipts,
        "--format",
        "csv",
        "--late",
        late.to_str().unwrap(),
    ]);
    let n = count(&out);
    let late = late_rows(&late);
    assert_eq!(late.len(), 1);
    let (_, reason, text) = &late[0];
    let ms: u64 = reason
        .strip_suffix(" ms behind the watermark")
        .unwrap()
        .parse()
        .unwrap();
    says(
        "docs/examples.md",
        &format!(
            "with the tutorial's own bounds only {} pays match ({} unmatched pays, {} unmatched receipts; the {}-s-late pay of {} goes to the late output)",
            n["matched"],
            n["unmatched_pay"],
            n["unmatched_receipt"],
            ms / 1000,
            text.split(',').next().unwrap()
        ),
    );

    let out = run(&[
        "tx-match",
        &orders,
        &receipts,
        "--receipt-before",
        "30m",
        "--out-of-orderness",
        "6s",
        "--format",
        "csv",
    ]);
    let n = count(&out);
    says(
        "docs/examples.md",
        &format!(
            "`uba tx-match OrderLog.csv ReceiptLog.csv --receipt-before 30m --out-of-orderness 6s` gives {} matched, {} unmatched pays, {} unmatched receipts.",
            n["matched"], n["unmatched_pay"], n["unmatched_receipt"]
        ),
    );
    // With every line on time, the used order lines are the pays (with a txId), the filtered
    // ones the creates.
    let a = accounting(&out, &orders);
    assert_eq!(a.late, 0);
    says(
        "docs/examples.md",
        &format!("of the sample's {} pays", a.used),
    );
    row_says(
        "docs/jobs.md",
        "OrderLog.csv",
        &format!("{} creates, {} pays", a.filtered, a.used),
    );
    // Most matched receipts came more than 3 s before their pay.
    let matched: Vec<_> = records(&out)
        .into_iter()
        .filter(|r| r["outcome"] == "matched")
        .collect();
    let early = matched
        .iter()
        .filter(|r| num(r, "receipt_ts") + 3000 < num(r, "pay_ts"))
        .count();
    assert!(early * 2 > matched.len(), "{early} of {}", matched.len());
    says(
        "docs/examples.md",
        "In event time most sample receipts come **more than 3 s before** their pay",
    );
}

// ## docs/examples.md: preference analytics

#[test]
fn recommend_evaluation_on_the_tutorial_sample() {
    let t = "2017-11-26T02:30:00Z";
    let t_secs = 1_511_663_400;
    assert_eq!(utc(t_secs), (2017, 11, 26, 2, 30, 0));
    let sample = tutorial("UserBehavior.csv");
    let rows = records(&run(&[
        "recommend",
        &sample,
        "--evaluate",
        t,
        "--format",
        "csv",
    ]));
    let of = |method: &str| rows.iter().find(|r| r["method"] == method).unwrap();
    let (cf, popular) = (of("item-cf"), of("popularity"));
    let rate = |r: &HashMap<String, String>| r["hit_rate"].parse::<f64>().unwrap() * 100.0;
    assert!(rate(cf) < rate(popular), "item-cf does not beat popularity");
    let first = *times("UserBehavior.csv").iter().min().unwrap();
    let hours = (t_secs - first) as f64 / 3600.0;
    says(
        "docs/examples.md",
        &format!(
            "On the real sample (T = {t}) **item-cf does not beat popularity**: hit rate@{} {:.2}% vs {:.2}% (only {} of {} test users have any history in {hours} h of data)",
            cf["k"],
            rate(cf),
            rate(popular),
            cf["users_with_list"],
            cf["test_users"]
        ),
    );
}

// ## The tutorial's sample files (data/tutorial/README.md, docs/jobs.md)

#[test]
fn the_tutorial_sample_files() {
    for (file, record) in [
        ("UserBehavior.csv", "user-behavior"),
        ("apache.log", "apache-log"),
        ("AdClickLog.csv", "ad-clicks"),
        ("LoginLog.csv", "login"),
        ("OrderLog.csv", "orders"),
        ("ReceiptLog.csv", "receipts"),
    ] {
        let path = tutorial(file);
        let a = accounting(&run(&["parse", &path, "--record", record]), &path);
        assert_eq!(a.rejected, 0, "{file}");
        let rows = thousands(a.read);
        says("data/tutorial/README.md", &format!("| {file} | {rows} |"));
        says("docs/jobs.md", &format!("| `{file}` | {rows} |"));
        let newline = std::fs::read(&path).unwrap().ends_with(b"\n");
        for doc in ["data/tutorial/README.md", "docs/jobs.md"] {
            assert_eq!(
                table_row(doc, file).contains("no trailing newline"),
                !newline,
                "{doc}: does {file} end with a newline?"
            );
        }
    }
}

#[test]
fn user_behavior_sample_is_in_time_order() {
    let sample = tutorial("UserBehavior.csv");
    // Every row is used (none filtered), so any row behind the watermark would be counted.
    let out = run(&["funnel", &sample, "--overall-only", "--format", "csv"]);
    let a = accounting(&out, &sample);
    assert_eq!((a.filtered, a.late, a.corrections), (0, 0, 0));
    let times = times("UserBehavior.csv");
    let (first, last) = (
        utc(*times.iter().min().unwrap()),
        utc(*times.iter().max().unwrap()),
    );
    assert_eq!(
        (first.0, first.1, first.2),
        (last.0, last.1, last.2),
        "one day"
    );
    let span = format!(
        "{}-{:02}-{:02} {:02}:{:02}-{:02}:{:02} UTC",
        first.0, first.1, first.2, first.3, first.4, last.3, last.4
    );
    for doc in ["data/tutorial/README.md", "docs/jobs.md"] {
        row_says(doc, "UserBehavior.csv", &span);
        row_says(doc, "UserBehavior.csv", "in time order");
    }
}

#[test]
fn apache_log_is_up_to_59_s_out_of_order() {
    let log = tutorial("apache.log");
    let behind = |seconds: u64| {
        let d = format!("{seconds}s");
        let out = run(&[
            "hot-pages",
            &log,
            "--out-of-orderness",
            &d,
            "--allowed-lateness",
            "1d",
            "--format",
            "csv",
        ]);
        let a = accounting(&out, &log);
        a.corrections + a.late
    };
    assert_eq!(behind(59), 0);
    assert!(behind(58) > 0);
    let text = std::fs::read_to_string(&log).unwrap();
    // dd/MM/yyyy, and the zones.
    let days: BTreeSet<String> = text
        .lines()
        .map(|l| {
            let d = l.split(' ').nth(3).unwrap();
            format!("{}-{}-{}", &d[6..10], &d[3..5], &d[..2])
        })
        .collect();
    let zones: BTreeSet<&str> = text.lines().map(|l| l.split(' ').nth(4).unwrap()).collect();
    assert_eq!(zones.len(), 1);
    let (first, last) = (days.first().unwrap(), days.last().unwrap());
    assert_eq!(first[..8], last[..8], "one month");
    let span = format!("{first}..{}", &last[8..]);
    for doc in ["data/tutorial/README.md", "docs/jobs.md"] {
        row_says(doc, "apache.log", &span);
        row_says(doc, "apache.log", "up to 59 s out of order");
    }
    row_says(
        "docs/jobs.md",
        "apache.log",
        &format!("times in {}", zones.first().unwrap()),
    );
}

#[test]
fn login_and_order_logs_are_out_of_order() {
    let log = tutorial("LoginLog.csv");
    let late = |seconds: u64| {
        let d = format!("{seconds}s");
        let out = run(&["login-fail", &log, "--out-of-orderness", &d]);
        accounting(&out, &log).late
    };
    assert_eq!(late(6), 0);
    assert!(late(5) > 0);
    for doc in ["data/tutorial/README.md", "docs/jobs.md"] {
        row_says(doc, "LoginLog.csv", "up to 6 s out of order");
    }

    // One order line is behind: a pay, by 6 s.
    let orders = tutorial("OrderLog.csv");
    let behind: Vec<(usize, u64)> = behind(&times("OrderLog.csv"))
        .into_iter()
        .enumerate()
        .filter(|(_, b)| *b > 0)
        .collect();
    assert_eq!(behind.len(), 1);
    let (line, seconds) = behind[0];
    let text = std::fs::read_to_string(&orders).unwrap();
    assert_eq!(
        text.lines().nth(line).unwrap().split(',').nth(1),
        Some("pay")
    );
    for doc in ["data/tutorial/README.md", "docs/jobs.md"] {
        row_says(
            doc,
            "OrderLog.csv",
            &format!("one pay {seconds} s out of order"),
        );
    }

    // Receipts are in order: none is late with out-of-orderness 0.
    let receipts = tutorial("ReceiptLog.csv");
    let out = run(&["tx-match", &orders, &receipts]);
    assert_eq!(accounting(&out, &receipts).late, 0);
    row_says("docs/jobs.md", "ReceiptLog.csv", "in time order");
}

// ## Links between the documents

/// The documents whose links are checked: the README and every page of `docs/`.
fn documents() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    [root().join("README.md")]
        .into_iter()
        .chain(pages)
        .collect()
}

/// A fence line: three or more backquotes or tildes, indented by at most three spaces.
fn is_fence(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    line.len() - t.len() <= 3 && (t.starts_with("```") || t.starts_with("~~~"))
}

/// The lines of a markdown document outside its fenced code blocks.
fn outside_fences(text: &str) -> Vec<&str> {
    let mut inside = false;
    text.lines()
        .filter(|l| {
            if is_fence(l) {
                inside = !inside;
                return false;
            }
            !inside
        })
        .collect()
}

/// A paragraph without its code spans: a run of backquotes up to the next run of the same length
/// (a run with no partner is text, as in CommonMark).
fn without_code_spans(paragraph: &str) -> String {
    let mut out = String::new();
    let mut rest = paragraph;
    while let Some(at) = rest.find('`') {
        out.push_str(&rest[..at]);
        let run = rest[at..].len() - rest[at..].trim_start_matches('`').len();
        let after = &rest[at + run..];
        let mut close = None;
        let mut from = 0;
        while let Some(i) = after[from..].find('`') {
            let start = from + i;
            let len = after[start..].len() - after[start..].trim_start_matches('`').len();
            if len == run {
                close = Some(start + len);
                break;
            }
            from = start + len;
        }
        match close {
            Some(end) => rest = &after[end..],
            None => {
                out.push_str(&rest[at..at + run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The prose of a markdown document: its paragraphs outside fenced code, without code spans.
fn prose(text: &str) -> Vec<String> {
    outside_fences(text)
        .split(|l| l.trim().is_empty())
        .map(|p| without_code_spans(&p.join("\n")))
        .collect()
}

/// The targets of a paragraph's links: inline ones, `[text](target)` (images too), and
/// definitions, `[label]: target`.
fn link_targets(paragraph: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = paragraph;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.trim_matches(['<', '>']).to_owned());
        rest = &after[end..];
    }
    for line in paragraph.lines() {
        let line = line.trim_start();
        if let Some(label_end) = line.strip_prefix('[').and_then(|l| l.find("]:")) {
            let target = line[label_end + 3..]
                .split_whitespace()
                .next()
                .unwrap_or("");
            targets.push(target.trim_matches(['<', '>']).to_owned());
        }
    }
    targets
}

/// `%E5%81%8F` as `偏`: a link's percent-encoded bytes, decoded.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// GitHub's anchor for a heading: its text in lower case, without punctuation (letters, digits,
/// `-`, `_` and spaces are kept; code spans and emphasis keep their text), spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a document's headings (`#` to `######`, outside fenced code), a repeated one
/// suffixed `-1`, `-2`, ... as GitHub does.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = BTreeSet::new();
    for line in outside_fences(text) {
        let hashes = line.len() - line.trim_start_matches('#').len();
        let Some(heading) = line[hashes..].strip_prefix(' ') else {
            continue;
        };
        if !(1..=6).contains(&hashes) {
            continue;
        }
        let base = slug(heading.trim().trim_end_matches('#').trim_end());
        let n = seen.entry(base.clone()).or_default();
        anchors.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    anchors
}

#[test]
fn headings_have_githubs_anchors() {
    assert_eq!(slug("Scaling with `-w`"), "scaling-with--w");
    assert_eq!(
        slug("Preference analytics (偏好统计, which the tutorial never built)"),
        "preference-analytics-偏好统计-which-the-tutorial-never-built"
    );
    assert_eq!(
        slug("Web traffic: hot-pages, pv, uv"),
        "web-traffic-hot-pages-pv-uv"
    );
    let repeated = anchors("# Output\n\n```\n# not a heading\n```\n## Output\n#nor this\n");
    assert_eq!(
        repeated,
        BTreeSet::from(["output".to_owned(), "output-1".to_owned()])
    );
    assert_eq!(
        link_targets(&without_code_spans(
            "see [a](a.md#x \"title\") and `[b](b.md)`, ``[c](c.md) ` ``, [d]\n[d]: <d.md>"
        )),
        ["a.md#x", "d.md"]
    );
    assert_eq!(percent_decoded("x-%E5%81%8F%zz"), "x-偏%zz");
}

/// Every relative link of the README and of `docs/` names a file that exists, and every
/// `#anchor` a heading of its target, so that a moved section cannot leave a dead link.
#[test]
fn every_link_between_the_documents_resolves() {
    let mut dead = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        for target in prose(&text).iter().flat_map(|p| link_targets(p)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(percent_decoded(path))
            };
            if !file.exists() {
                dead.push(format!("{name}: ({target}): no file {}", file.display()));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let anchor = percent_decoded(anchor);
            let headings = if file.is_file() && file.extension().is_some_and(|e| e == "md") {
                anchors(&std::fs::read_to_string(&file).unwrap())
            } else {
                BTreeSet::new()
            };
            if !headings.contains(&anchor) {
                dead.push(format!(
                    "{name}: ({target}): no heading with the anchor #{anchor}; it has {headings:?}"
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} relative links found");
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

/// The README's live run ("Watching a run"): its generator and job, as written there (the port
/// made free), write windows while the stream runs.
#[test]
fn the_live_run_of_the_readme_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            l.starts_with("uba gen user-behavior --follow") && l.trim_end().ends_with('|')
        })
        .expect("the README's live run");
    let words = |line: &str| -> Vec<String> {
        let line = line.split('#').next().unwrap().trim().trim_end_matches('|');
        line.split_whitespace().skip(1).map(String::from).collect()
    };
    let generator = words(lines[at]);
    let mut job = words(lines[at + 1]);
    let port = job.iter().position(|w| w == "--http").unwrap() + 1;
    job[port] = "0".into();
    let mut feed = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(&generator)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let uba = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(&job)
        .stdin(feed.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    feed.kill().unwrap();
    let generated = feed.wait_with_output().unwrap();
    let out = uba.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        generated.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(out.status.success(), "{err}");
    assert!(err.contains("uba: serving http://127.0.0.1:"), "{err}");
    assert!(stdout(&out).lines().count() > 5, "{err}");
}
