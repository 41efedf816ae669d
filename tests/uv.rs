//! uv against naive references (the event-time contract of `docs/event-time.md` replayed by the
//! shared `tests/reference`, with a window's distinct users as plain sets, sharing no code with
//! the engine), and the Bloom / HyperLogLog estimates against the error their parameters promise.

mod common;
mod reference;

use std::collections::{BTreeMap, HashSet};

use common::mutate;
use common::*;
use reference::user_behavior::parse;
use reference::windowed::{Windows, emissions};

const HOUR: u64 = 3_600_000;

/// The shared windowed replay, with a window's result: its distinct users. Returns every emission
/// of the exact distinct count `(emitted_at, window_end) -> (uv, update)` and the late line
/// numbers.
fn reference(
    text: &str,
    window: u64,
    out_of_orderness: u64,
    lateness: u64,
) -> (BTreeMap<(u64, u64), (usize, bool)>, Vec<usize>) {
    let w = Windows::tumbling(window, lateness);
    let (visits, late) = w.replay(text, out_of_orderness, |line| {
        let b = parse(line)?;
        Some((b.ts, (b.behavior == "pv").then_some(b.user)))
    });
    let emissions = emissions(&w.contents(visits), |_, users| {
        users.iter().collect::<HashSet<_>>().len()
    });
    let emissions = emissions
        .into_iter()
        .map(|e| ((e.at, e.end), (e.result, e.update)))
        .collect();
    (emissions, late)
}

fn exact_csv(emissions: &BTreeMap<(u64, u64), (usize, bool)>, window: u64) -> String {
    let mut csv =
        "window_start,window_end,method,uv,exact,relative_error,update,emitted_at\n".to_owned();
    for (&(t, end), &(uv, update)) in emissions {
        csv.push_str(&format!(
            "{},{end},exact,{uv},,,{update},{t}\n",
            end - window
        ));
    }
    csv
}

/// Parsed csv rows of an approximate run: (window_end, uv, exact, relative_error, update, emitted_at).
fn approx_rows(output: &str) -> Vec<(u64, u64, u64, f64, bool, u64)> {
    csv_rows(output)
        .into_iter()
        .skip(1)
        .map(|r| {
            (
                r[1].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
                r[5].parse().unwrap(),
                r[6].parse().unwrap(),
                r[7].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn sample_exact_equals_the_reference_on_any_cluster_shape() {
    let input = tutorial("UserBehavior.csv");
    let (expected, _) = reference(&std::fs::read_to_string(&input).unwrap(), HOUR, 0, 0);
    let output = everywhere(&["uv", &input, "--format", "csv"]);
    assert_eq!(output, exact_csv(&expected, HOUR));
    // The tutorial's UniqueVisitor printed UvCount(1511661600000, 28196) for this hour.
    assert!(
        output.contains("1511658000000,1511661600000,exact,28196,,,false,1511661599999"),
        "{output}"
    );
}

#[test]
fn disorder_gives_the_reference_corrections_and_late_rows() {
    let dir = scratch("uv-late");
    let input = gen_file(
        &dir.join("gen.csv"),
        "user-behavior --rows 30000 --seed 4 --rate 5 --users 3000 --disorder 40m",
    );
    let text = std::fs::read_to_string(&input).unwrap();
    let (expected, late_lines) = reference(&text, 1_800_000, 300_000, 600_000);
    assert!(expected.values().any(|v| v.1) && !late_lines.is_empty());
    let late = dir.join("late.csv").to_string_lossy().into_owned();
    let flags = [
        "--format",
        "csv",
        "--window",
        "30m",
        "--out-of-orderness",
        "5m",
        "--allowed-lateness",
        "10m",
    ];
    let output = everywhere(&[&["uv", &input, "--late", &late], &flags[..]].concat());
    assert_eq!(output, exact_csv(&expected, 1_800_000));
    assert_eq!(reference::late_lines(&late), late_lines);

    // The sketches follow the same emissions when their estimate changes: the exact column of
    // --compare is the reference's count at each emission, and the run is the same everywhere.
    for method in ["bloom", "hll"] {
        let output =
            everywhere(&[&["uv", &input, "--method", method, "--compare"], &flags[..]].concat());
        let rows = approx_rows(&output);
        assert!(rows.iter().any(|r| r.4), "{method}: corrections expected");
        let settled: BTreeMap<u64, u64> = rows.iter().map(|r| (r.0, r.2)).collect();
        let expected_settled: BTreeMap<u64, u64> = expected
            .iter()
            .map(|(&(_, end), &(uv, _))| (end, uv as u64))
            .collect();
        assert_eq!(settled, expected_settled, "{method}");
        for r in rows {
            let exact_then = expected
                .range(..=(r.5, r.0))
                .rev()
                .find(|((_, end), _)| *end == r.0)
                .map(|(_, v)| v.0 as u64);
            assert_eq!(Some(r.2), exact_then, "{method}: {r:?}");
        }
    }
}

/// A file with `users[w]` distinct users in hour `w` (each seen once or twice), in time order.
fn known_users(dir: &std::path::Path, users: &[u64]) -> String {
    let start = 1_511_658_000u64;
    let mut text = String::new();
    for (w, &n) in users.iter().enumerate() {
        let base = start + 3600 * w as u64;
        for i in 0..n {
            let user = 1_000_000_000 * (w as u64 + 1) + i * 7919;
            let ts = base + i * 3599 / n;
            text.push_str(&format!("{user},1,1,pv,{ts}\n"));
            if i % 3 == 0 {
                text.push_str(&format!("{user},2,1,pv,{ts}\n"));
            }
        }
    }
    write(&dir.join("known.csv"), &text)
}

#[test]
fn sketches_stay_within_the_error_their_parameters_promise() {
    let dir = scratch("uv-known");
    let counts = [400_000u64, 50_000];
    let input = known_users(&dir, &counts);
    // (flags, relative standard error for n users)
    let cases: Vec<(Vec<&str>, Box<dyn Fn(f64) -> f64>)> = vec![
        (
            vec!["--method", "bloom"],
            Box::new(|n| bloom_se((1u64 << 29) as f64, 1.0, n)),
        ),
        (
            vec![
                "--method",
                "bloom",
                "--bloom-bits",
                "1048576",
                "--bloom-hashes",
                "2",
            ],
            Box::new(|n| bloom_se(1_048_576.0, 2.0, n)),
        ),
        (vec!["--method", "hll"], Box::new(|_| 1.04 / 128.0)),
        (
            vec!["--method", "hll", "--hll-precision", "10"],
            Box::new(|_| 1.04 / 32.0),
        ),
    ];
    for (flags, se) in cases {
        let args = [&["uv", &input, "--format", "csv", "--compare"], &flags[..]].concat();
        let output = ok(&args);
        assert_eq!(
            ok(&[&args[..], &["-w", "3"]].concat()),
            output,
            "{flags:?}: -w 3 differs"
        );
        let rows = approx_rows(&output);
        assert_eq!(rows.len(), 2, "{output}");
        for (row, &n) in rows.iter().zip(&counts) {
            assert_eq!(row.2, n, "{flags:?}: exact");
            let error = (row.1 as f64 - n as f64).abs() / n as f64;
            let bound = 4.0 * se(n as f64);
            assert!(
                error <= bound,
                "{flags:?}: n {n}, estimate {}, error {error} > {bound}",
                row.1
            );
        }
    }
}

/// Linear counting's relative standard error with m bits, k bits per key, n keys.
fn bloom_se(m: f64, k: f64, n: f64) -> f64 {
    let m = m / k;
    let t = n / m;
    (m * (t.exp() - t - 1.0)).sqrt() / n
}

#[test]
fn sample_sketches_are_close_and_identical_everywhere() {
    let input = tutorial("UserBehavior.csv");
    let (expected, _) = reference(&std::fs::read_to_string(&input).unwrap(), HOUR, 0, 0);
    for (method, bound) in [("bloom", 0.001), ("hll", 4.0 * 1.04 / 128.0)] {
        let output = everywhere(&[
            "uv",
            &input,
            "--method",
            method,
            "--compare",
            "--format",
            "csv",
        ]);
        let rows = approx_rows(&output);
        assert_eq!(rows.len(), expected.len());
        for (row, (_, &(uv, _))) in rows.iter().zip(&expected) {
            assert_eq!(row.2, uv as u64);
            assert!(row.3.abs() <= bound, "{method}: {row:?}");
        }
    }
}

#[test]
fn text_output_job_file_and_user_errors() {
    let job = format!("{}/jobs/uv.toml", env!("CARGO_MANIFEST_DIR"));
    let text = ok(&[
        "run",
        &job,
        &tutorial("UserBehavior.csv"),
        "--method",
        "hll",
        "--compare",
    ]);
    assert!(
        text.starts_with(
            "== unique visitors (hll) | window 2017-11-26 01:00:00 .. 2017-11-26 02:00:00 ==\nuv: "
        ),
        "{text}"
    );
    assert!(text.contains("(exact 28196, error "), "{text}");
    for args in [
        vec!["uv", "--compare"],
        vec!["uv", "--method", "hll", "--hll-precision", "30"],
        vec!["uv", "--method", "bloom", "--bloom-bits", "8"],
        vec!["uv", "--method", "fancy"],
    ] {
        assert_user_error(&args);
    }
}

// Issue 14: random and mutated input never crashes, never stalls, and is always accounted
// (checked by `run_case`), and the output equals the reference on the lines accepted.

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("uv-mutated");
    let base = mutate::first_lines(&tutorial("UserBehavior.csv"), 200);
    let input = dir.join("input").to_string_lossy().into_owned();
    let (window, out_of_orderness, lateness) = (1_800_000, 300_000, 600_000);
    let args: Vec<String> = ["uv", &input, "--format", "csv", "--window", "30m"]
        .into_iter()
        .chain(["--out-of-orderness", "5m", "--allowed-lateness", "10m"])
        .map(String::from)
        .collect();
    mutate::each_case_parsed(
        &input,
        &base,
        &args,
        800,
        |l| parse(l).is_some(),
        |text| {
            let (expected, late) = reference(text, window, out_of_orderness, lateness);
            (exact_csv(&expected, window), late)
        },
    );
}
