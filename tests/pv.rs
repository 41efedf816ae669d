//! pv against a naive reference: plain loops over the whole input, written from the contract in
//! `DESIGN.md`, sharing no code with the engine.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

const HOUR: u64 = 3_600_000;

/// Replays the file line by line with the contract's lateness rule; returns the csv output and
/// the line numbers of the late rows.
fn reference(
    text: &str,
    window: u64,
    out_of_orderness: u64,
    lateness: u64,
) -> (String, Vec<usize>) {
    let mut max_ts: Option<u64> = None;
    let mut late = Vec::new();
    let mut inserts: BTreeMap<u64, Vec<u64>> = BTreeMap::new(); // window end -> insert times
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let Some(ts) = f
            .get(4)
            .and_then(|s| s.parse::<u64>().ok())
            .map(|s| s * 1000)
        else {
            continue;
        };
        max_ts = Some(max_ts.map_or(ts, |m| m.max(ts)));
        if f[3] != "pv" {
            continue;
        }
        let at = ts.max(max_ts.unwrap().saturating_sub(out_of_orderness));
        let end = (ts / window + 1) * window;
        if at.max(end - 1) < end + lateness {
            inserts.entry(end).or_default().push(at.max(end - 1));
        } else {
            late.push(i + 1);
        }
    }
    let mut emissions: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for (end, times) in inserts {
        let distinct: BTreeSet<u64> = times.iter().copied().collect();
        for (k, t) in distinct.into_iter().enumerate() {
            let pv = times.iter().filter(|&&x| x <= t).count();
            emissions.insert(
                (t, end),
                format!("{},{end},{pv},{},{t}", end - window, k > 0),
            );
        }
    }
    let mut csv = "window_start,window_end,pv,update,emitted_at\n".to_owned();
    for line in emissions.values() {
        csv.push_str(line);
        csv.push('\n');
    }
    (csv, late)
}

#[test]
fn sample_equals_the_reference_on_any_cluster_shape() {
    let input = tutorial("UserBehavior.csv");
    let (expected, late) = reference(&std::fs::read_to_string(&input).unwrap(), HOUR, 0, 0);
    let output = everywhere(&["pv", &input, "--format", "csv"]);
    assert_eq!(output, expected);
    assert!(late.is_empty());
    // 2017-11-26 01:00..03:10 UTC: three hours of pv rows.
    assert_eq!(
        output
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap())
            .collect::<Vec<_>>(),
        ["41890", "48022", "8449"]
    );
}

#[test]
fn disorder_gives_the_reference_corrections_and_late_rows() {
    let dir = scratch("pv-late");
    let input = dir.join("gen.csv").to_string_lossy().into_owned();
    ok(&[
        "gen",
        "user-behavior",
        "--rows",
        "30000",
        "--seed",
        "9",
        "--rate",
        "5",
        "--disorder",
        "40m",
        "--out",
        &input,
    ]);
    let (expected, late_lines) = reference(
        &std::fs::read_to_string(&input).unwrap(),
        1_800_000,
        300_000,
        600_000,
    );
    assert!(expected.contains(",true,") && !late_lines.is_empty());
    let late = dir.join("late.csv").to_string_lossy().into_owned();
    let output = everywhere(&[
        "pv",
        &input,
        "--format",
        "csv",
        "--window",
        "30m",
        "--out-of-orderness",
        "5m",
        "--allowed-lateness",
        "10m",
        "--late",
        &late,
    ]);
    assert_eq!(output, expected);
    let reported: Vec<usize> = std::fs::read_to_string(&late)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(reported, late_lines);
}

#[test]
fn job_file_and_text_output() {
    let job = format!("{}/jobs/pv.toml", env!("CARGO_MANIFEST_DIR"));
    let input = tutorial("UserBehavior.csv");
    let text = ok(&["run", &job, &input, "--tz", "+08:00"]);
    assert!(
        text.starts_with(
            "== page views | window 2017-11-26 09:00:00 .. 2017-11-26 10:00:00 ==\npv: 41890\n"
        ),
        "{text}"
    );
    let out = uba(&["pv", &input, "--window", "0s"]);
    assert_eq!(out.status.code(), Some(2));
}
