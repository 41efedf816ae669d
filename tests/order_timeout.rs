//! order-timeout against a naive reference: each order's on-time events sorted by (time, line),
//! its earliest create and pay picked by the retention rule, the four outcomes decided by plain
//! comparisons; written from the business rule, sharing no code with the engine.

mod common;
mod reference;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mutate::{self, Rng};
use common::*;
use reference::patterns::{csv, replay};
use reference::{late_lines, secs};

const HEADER: &str = "order_id,outcome,create_ts,pay_ts,tx_id,timeout_at,emitted_at";
const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;

struct Expected {
    csv: String,
    late: Vec<usize>,
    further: usize,
}

/// Of events sorted by (time, line), those with no earlier one within `retention` before them.
fn firsts(events: &[(u64, usize, String)], retention: u64) -> Vec<(u64, String)> {
    events
        .iter()
        .enumerate()
        .filter(|(i, e)| !events[..*i].iter().any(|o| o.0 + retention >= e.0))
        .map(|(_, e)| (e.0, e.2.clone()))
        .collect()
}

fn reference(text: &str, timeout: u64, retention: u64, out_of_orderness: u64) -> Expected {
    let (events, late) = replay(text, out_of_orderness, |f| {
        let order = f.first()?.parse::<u64>().ok()?;
        let create = match *f.get(1)? {
            "create" => true,
            "pay" => false,
            _ => return None,
        };
        Some((secs(f.get(3))?, Some((order, create, f[2].to_owned()))))
    });
    let mut orders: BTreeMap<u64, (Vec<_>, Vec<_>)> = BTreeMap::new();
    let total = events.len();
    for e in events {
        let (order, create, tx) = e.record;
        let entry = orders.entry(order).or_default();
        let list = if create { &mut entry.0 } else { &mut entry.1 };
        list.push((e.ts, e.line, tx));
    }
    let mut rows = Vec::new();
    let mut decided = 0;
    let mut row = |at: u64, order: u64, rank: u8, line: String| {
        rows.push((at, format!("{order:020}|{rank}"), line));
    };
    for (order, (mut creates, mut pays)) in orders {
        creates.sort();
        pays.sort();
        let creates = firsts(&creates, retention);
        let pays = firsts(&pays, retention);
        decided += creates.len() + pays.len();
        for (p, tx) in &pays {
            let tx = field(tx);
            let kept = creates.iter().find(|(c, _)| c <= p && *p <= c + retention);
            match kept {
                Some((c, _)) if *p <= c + timeout => {
                    row(*p, order, 0, format!("{order},paid,{c},{p},{tx},,{p}"))
                }
                Some((c, _)) => row(
                    *p,
                    order,
                    2,
                    format!("{order},paid_late,{c},{p},{tx},{},{p}", c + timeout),
                ),
                None => row(
                    *p,
                    order,
                    3,
                    format!("{order},pay_without_create,,{p},{tx},,{p}"),
                ),
            }
        }
        for (c, _) in &creates {
            if !pays.iter().any(|(p, _)| c <= p && *p <= c + timeout) {
                let at = c + timeout;
                row(at, order, 1, format!("{order},timeout,{c},,,{at},{at}"));
            }
        }
    }
    Expected {
        csv: csv(HEADER, rows),
        late,
        further: total - decided,
    }
}

/// A csv field as a csv writer writes it: quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn run_args(input: &str, ooo: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "order-timeout",
        input,
        "--format",
        "csv",
        "--out-of-orderness",
        ooo,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `(order_id, outcome)` of every output row.
fn outcomes(csv: &str) -> Vec<(u64, String)> {
    csv_rows(csv)
        .into_iter()
        .skip(1)
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect()
}

fn orders_with(csv: &str, outcome: &str) -> Vec<u64> {
    let mut v: Vec<u64> = outcomes(csv)
        .into_iter()
        .filter(|(_, o)| o == outcome)
        .map(|(id, _)| id)
        .collect();
    v.sort();
    v
}

#[test]
fn sample_with_six_seconds_of_disorder() {
    let input = tutorial("OrderLog.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    let output = everywhere(&strs(&run_args(&input, "6s", &[])));
    let expected = reference(&text, 15 * MINUTE, 24 * HOUR, 6000);
    assert_eq!(output, expected.csv);
    assert!(expected.late.is_empty());
    assert_eq!(orders_with(&output, "timeout"), [34756, 34767]);
    assert_eq!(orders_with(&output, "paid_late"), [34756, 34767]);
    assert_eq!(orders_with(&output, "pay_without_create"), [34768]);
    let paid = orders_with(&output, "paid");
    let others: Vec<u64> = (34729..=34767)
        .filter(|o| ![34756, 34767].contains(o))
        .collect();
    assert_eq!(paid, others, "every other order is paid");
    // Paid late after timing out: the timeout comes first, at create + 15 min.
    assert!(output.contains("34756,timeout,1558430913000,,,1558431813000,1558431813000\n"));
    assert!(output.contains(
        "34756,paid_late,1558430913000,1558431951000,9032n4fd2,1558431813000,1558431951000\n"
    ));
}

#[test]
fn sample_in_order_sends_the_disordered_pay_to_the_late_output() {
    let input = tutorial("OrderLog.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    let dir = scratch("order-timeout-sample-late");
    let late = dir.join("late.csv").to_string_lossy().into_owned();
    let output = everywhere(&strs(&run_args(&input, "0", &["--late", &late])));
    let expected = reference(&text, 15 * MINUTE, 24 * HOUR, 0);
    assert_eq!(output, expected.csv);
    assert_eq!(late_lines(&late), [34]);
    assert_eq!(expected.late, [34]);
    assert_eq!(orders_with(&output, "timeout"), [34747, 34756, 34767]);
    assert_eq!(orders_with(&output, "paid").len(), 36);
    // The default is 0, and the job file runs the same.
    assert_eq!(ok(&["order-timeout", &input, "--format", "csv"]), output);
    let job = format!("{}/jobs/order-timeout.toml", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(ok(&["run", &job, "--format", "csv"]), output);
}

#[test]
fn only_filters_outcomes_and_json_labels_every_record() {
    let input = tutorial("OrderLog.csv");
    let out = ok(&[
        "order-timeout",
        &input,
        "--out-of-orderness",
        "6s",
        "--format",
        "csv",
        "--only",
        "timeout,pay_without_create",
    ]);
    assert_eq!(
        outcomes(&out),
        [
            (34768, "pay_without_create".to_string()),
            (34756, "timeout".to_string()),
            (34767, "timeout".to_string())
        ]
    );
    let json = ok(&[
        "order-timeout",
        &input,
        "--format",
        "json",
        "--only",
        "paid_late",
    ]);
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["outcome"], "paid_late");
        assert!(v["emitted_at"].is_u64() && v["order_id"].is_u64());
        assert!(v["timeout_at"].is_u64());
    }
    assert_eq!(json.lines().count(), 2);
    let bad = uba(&["order-timeout", &input, "--only", "lost"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn disordered_generated_orders_equal_the_reference() {
    let dir = scratch("order-timeout-generated");
    let input = dir.join("orders.csv").to_string_lossy().into_owned();
    ok(&[
        "gen",
        "orders",
        "--rows",
        "30000",
        "--seed",
        "9",
        "--rate",
        "2",
        "--disorder",
        "20s",
        "--out",
        &input,
    ]);
    let text = std::fs::read_to_string(&input).unwrap();
    let late = dir.join("late.csv").to_string_lossy().into_owned();
    let expected = reference(&text, 15 * MINUTE, 24 * HOUR, 10_000);
    for outcome in ["paid,", "timeout,", "paid_late,", "pay_without_create,"] {
        assert!(
            expected.csv.contains(outcome),
            "the input must produce {outcome}"
        );
    }
    assert!(!expected.late.is_empty());
    let output = everywhere(&strs(&run_args(&input, "10s", &["--late", &late])));
    assert_eq!(output, expected.csv);
    assert_eq!(late_lines(&late), expected.late);
    // A short timeout and retention move many orders between outcomes.
    let expected = reference(&text, 2 * MINUTE, 20 * MINUTE, 10_000);
    let output = everywhere(&strs(&run_args(
        &input,
        "10s",
        &["--timeout", "2m", "--retention", "20m"],
    )));
    assert_eq!(output, expected.csv);
}

#[test]
fn keys_spanning_the_retention_and_further_events() {
    // Order 1 is created at the start and paid 25 h later: its state is gone, a pay without
    // create. Order 2 is paid 23 h later: paid late. Order 3 is created twice, 24 h + 1 s apart:
    // two orders, two timeouts. Order 4 has a second create and a second pay: counted, not
    // reported. Filler orders keep the stream going every 10 minutes.
    let dir = scratch("order-timeout-retention");
    let t0 = 1_558_430_842u64;
    let mut lines = vec![
        format!("1,create,,{t0}"),
        format!("2,create,,{t0}"),
        format!("3,create,,{t0}"),
        format!("4,create,,{}", t0 + 1),
        format!("4,create,,{}", t0 + 2),
        format!("4,pay,a4,{}", t0 + 3),
        format!("4,pay,b4,{}", t0 + 4),
    ];
    for i in 1..=151 {
        let t = t0 + i * 600;
        let filler = 99 + i;
        if i == 138 {
            lines.push(format!("2,pay,x2,{t}"));
        }
        if i == 145 {
            lines.push(format!("3,create,,{}", t0 + 86_401));
        }
        if i == 150 {
            lines.push(format!("1,pay,x1,{t}"));
        }
        lines.push(format!("{filler},create,,{t}"));
        lines.push(format!("{filler},pay,f{filler},{}", t + 1));
    }
    let text = lines.join("\n") + "\n";
    let input = write(&dir.join("long.csv"), &text);
    let expected = reference(&text, 15 * MINUTE, 24 * HOUR, 0);
    assert_eq!(expected.further, 2);
    let out = uba(&strs(&run_args(&input, "0", &[])));
    assert!(out.status.success(), "{}", stderr(&out));
    let output = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(output, expected.csv);
    assert_eq!(everywhere(&strs(&run_args(&input, "0", &[]))), output);
    let of = |id: u64| -> Vec<String> {
        outcomes(&output)
            .into_iter()
            .filter(|(o, _)| *o == id)
            .map(|(_, s)| s)
            .collect()
    };
    assert_eq!(of(1), ["timeout", "pay_without_create"]);
    assert_eq!(of(2), ["timeout", "paid_late"]);
    assert_eq!(of(3), ["timeout", "timeout"]);
    assert_eq!(of(4), ["paid"]);
    assert!(
        stderr(&out).contains("2 further creates or pays of orders (not the earliest) counted"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_lines_are_rejected_with_their_line_numbers() {
    let dir = scratch("order-timeout-bad");
    let text = "1,create,,100\n1,refund,x,101\n1,pay,x\n\nz,pay,x,102\n1,pay,tx1,103";
    let input = write(&dir.join("bad.csv"), text);
    let (out, rejected_rows) =
        run_with_rejects(&dir, &["order-timeout", &input, "--format", "csv"]);
    let lines: Vec<String> = rejected_rows.iter().map(|r| r[1].clone()).collect();
    assert_eq!(lines, ["2", "3", "4", "5"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{HEADER}\n1,paid,100000,103000,tx1,,103000\n")
    );
}

// Hostile input (issue 14): seeded mutations of a small input never crash or stall the job,
// every line is accounted for, and the output equals the reference on the accepted lines.

/// What a run on mutated inputs gave, once its accounting checked out.
struct Mutated {
    stdout: String,
    stderr: String,
    /// Per input, in the order given: the lines it accepted, and how many of them were late.
    accepted: Vec<(String, u64)>,
}

/// A csv output with no row has no header either: the first row writes it.
fn rows_or_nothing(csv: String) -> String {
    if csv.lines().count() <= 1 {
        String::new()
    } else {
        csv
    }
}

/// The lines of a file as the job numbers them: a last line without a newline counts.
fn line_count(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

/// The (source, line) of each row of a `--rejects` or `--late` file.
fn side_rows(path: &Path, seed: u64) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("seed {seed}: {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(3, ',');
            let source = f.next().unwrap().to_owned();
            let line = f.next().and_then(|n| n.parse().ok());
            (
                source,
                line.unwrap_or_else(|| panic!("seed {seed}: bad row {l:?}")),
            )
        })
        .collect()
}

/// The seven numbers of an input's accounting line: read, accepted, used, filtered, late,
/// corrections, rejected.
fn accounting(err: &str, name: &str, seed: u64) -> [u64; 7] {
    let prefix = format!("uba: {name}: ");
    let line = err
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .find(|l| l.contains(" lines read: "))
        .unwrap_or_else(|| panic!("seed {seed}: no accounting line for {name}:\n{err}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(7)
        .map(|s| s.parse().unwrap())
        .collect();
    numbers
        .try_into()
        .unwrap_or_else(|_| panic!("seed {seed}: bad accounting line {line:?}"))
}

/// Whether a line holds a carriage return between other bytes. The reader splits such a line in
/// two (`regression_a_carriage_return_inside_a_line_is_one_line`), so until that is fixed a case
/// with one is only checked for panics and stalls.
fn has_inner_cr(bytes: &[u8]) -> bool {
    bytes.split(|b| *b == b'\n').any(|line| {
        let start = line.iter().position(|b| *b != b'\r').unwrap_or(line.len());
        let end = line
            .iter()
            .rposition(|b| *b != b'\r')
            .map_or(start, |i| i + 1);
        line[start..end.max(start)].contains(&b'\r')
    })
}

/// Runs `uba ARGS` (which name the files of `inputs`, already written: path and bytes) with
/// `-w 1`, both side outputs and the bogus-time guard off, failing if it runs past 30 s; checks
/// that it did not panic, then (None if an input has a carriage return inside a line) its exit
/// code, and each input's accounting against the input and the side files. Every message names
/// `seed`.
fn run_mutated(
    seed: u64,
    dir: &Path,
    args: &[String],
    inputs: &[(&str, &[u8])],
) -> Option<Mutated> {
    let rejects = dir.join("rejects.csv");
    let late = dir.join("late.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .args(["-w", "1", "--max-time-jump", "off", "--rejects"])
        .arg(&rejects)
        .arg("--late")
        .arg(&late)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running uba");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            pipe.read_to_end(&mut v).unwrap();
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("seed {seed}: uba {args:?} stalled: still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "seed {seed}: uba {args:?} panicked:\n{err}"
    );
    if inputs.iter().any(|(_, bytes)| has_inner_cr(bytes)) {
        return None;
    }
    let stdout = String::from_utf8(out.join().unwrap())
        .unwrap_or_else(|e| panic!("seed {seed}: the output is not UTF-8: {e}"));
    let (reject_rows, late_rows) = (side_rows(&rejects, seed), side_rows(&late, seed));
    let mut accepted = Vec::new();
    let mut nothing_accepted = false;
    for &(name, bytes) in inputs {
        let [read, acc, used, filtered, late, _, rejected] = accounting(&err, name, seed);
        let of = |rows: &[(String, u64)]| -> Vec<u64> {
            rows.iter().filter(|r| r.0 == name).map(|r| r.1).collect()
        };
        let (rejected_lines, late_lines) = (of(&reject_rows), of(&late_rows));
        let lines = line_count(bytes);
        let say = format!("seed {seed}: {name}: {err}");
        assert_eq!(read, acc + rejected, "read = accepted + rejected; {say}");
        assert_eq!(
            acc,
            used + filtered + late,
            "accepted = used + filtered + late; {say}"
        );
        assert_eq!(read, lines, "every line is read once; {say}");
        assert_eq!(
            rejected_lines.len() as u64,
            rejected,
            "rejects file rows; {say}"
        );
        assert_eq!(late_lines.len() as u64, late, "late file rows; {say}");
        let distinct: std::collections::BTreeSet<u64> = rejected_lines.iter().copied().collect();
        assert!(
            distinct.len() == rejected_lines.len()
                && distinct.iter().all(|l| (1..=lines).contains(l)),
            "rejected line numbers {rejected_lines:?} are distinct lines of the file; {say}"
        );
        let rejected_lines: Vec<usize> = rejected_lines.iter().map(|&l| l as usize).collect();
        let text = String::from_utf8(mutate::accepted_lines(bytes, &rejected_lines))
            .unwrap_or_else(|e| panic!("seed {seed}: {name}: an accepted line is not UTF-8: {e}"));
        nothing_accepted |= read > 0 && acc == 0;
        accepted.push((text, late));
    }
    let code = status.code();
    assert!(
        code == Some(0) || (code == Some(4) && nothing_accepted),
        "seed {seed}: exit code {code:?}:\n{err}"
    );
    Some(Mutated {
        stdout,
        stderr: err,
        accepted,
    })
}

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("order-timeout-mutated");
    let base = std::fs::read(tutorial("OrderLog.csv")).unwrap();
    let input = dir.join("mutated.csv").to_string_lossy().into_owned();
    let (cases, mut unchecked) = (mutate::cases(600), 0);
    for seed in 0..cases as u64 {
        let mut rng = Rng::new(seed);
        let count = 1 + rng.below(8);
        let mutated = mutate::mutate(&base, &mut rng, count);
        std::fs::write(&input, &mutated).unwrap();
        let (args, timeout, retention, ooo) = if seed % 2 == 0 {
            (run_args(&input, "6s", &[]), 15 * MINUTE, 24 * HOUR, 6000)
        } else {
            let extra = ["--timeout", "2m", "--retention", "20m"];
            (run_args(&input, "0", &extra), 2 * MINUTE, 20 * MINUTE, 0)
        };
        let Some(run) = run_mutated(seed, &dir, &args, &[(&input, &mutated)]) else {
            unchecked += 1;
            continue;
        };
        let (text, late) = &run.accepted[0];
        let expected = reference(text, timeout, retention, ooo);
        assert_eq!(
            run.stdout,
            rows_or_nothing(expected.csv),
            "seed {seed}: the output differs from the reference"
        );
        assert_eq!(*late, expected.late.len() as u64, "seed {seed}: late lines");
        let further = run
            .stderr
            .lines()
            .find_map(|l| l.strip_prefix("uba: order-timeout: "))
            .map_or(0, |l| l.split(' ').next().unwrap().parse().unwrap());
        assert_eq!(further, expected.further, "seed {seed}: further events");
    }
    eprintln!("{cases} cases, {unchecked} only checked for panics and stalls");
    assert!(
        unchecked * 20 < cases,
        "{unchecked} of {cases} cases unchecked"
    );
}

#[test]
fn regression_the_last_representable_second_is_not_lost() {
    // Found probing the top of the time range (not by a seed). A create and its pay at
    // 18446744073709551 s (18446744073709551000 ms, 615 ms before u64::MAX): accounted as used, nothing printed,
    // and stderr says "2 further creates or pays of orders (not the earliest)". They must be
    // either paid or rejected.
    let dir = scratch("order-timeout-last-second");
    let text = "1,create,,18446744073709551\n1,pay,t1,18446744073709551\n";
    let input = write(&dir.join("last.csv"), text);
    let out = uba(&["order-timeout", &input, "--format", "csv"]);
    let err = stderr(&out);
    assert!(out.status.success() && !err.contains("further"), "{err}");
    let output = String::from_utf8(out.stdout).unwrap();
    let rejected = err.contains("2 lines read: 0 accepted");
    let paid = format!(
        "{HEADER}\n1,paid,18446744073709551000,18446744073709551000,t1,,18446744073709551000\n"
    );
    assert!(rejected || output == paid, "{output}{err}");
}
