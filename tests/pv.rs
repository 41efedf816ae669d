//! pv against a naive reference: the event-time contract of `docs/event-time.md` replayed by the
//! shared `tests/reference` (plain loops over the whole input, sharing no code with the engine),
//! with a window's result, its count, written here.

mod common;
mod reference;

use common::mutate;
use common::*;
use reference::csv;
use reference::user_behavior::parse;
use reference::windowed::{Windows, emissions};

const HOUR: u64 = 3_600_000;

/// The shared windowed replay, with a window's result: how many `pv` rows it holds. Returns the
/// csv output and the line numbers of the late rows.
fn reference(
    text: &str,
    window: u64,
    out_of_orderness: u64,
    lateness: u64,
) -> (String, Vec<usize>) {
    let w = Windows::tumbling(window, lateness);
    let (views, late) = w.replay(text, out_of_orderness, |line| {
        let b = parse(line)?;
        Some((b.ts, (b.behavior == "pv").then_some(())))
    });
    let emissions = emissions(&w.contents(views), |_, views| views.len());
    let lines = emissions.iter().map(|e| {
        let (end, pv, update, t) = (e.end, e.result, e.update, e.at);
        format!("{},{end},{pv},{update},{t}", end - window)
    });
    (
        csv("window_start,window_end,pv,update,emitted_at", lines),
        late,
    )
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
    let input = gen_file(
        &dir.join("gen.csv"),
        "user-behavior --rows 30000 --seed 9 --rate 5 --disorder 40m",
    );
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
    assert_eq!(reference::late_lines(&late), late_lines);
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

// Issue 14: random and mutated input never crashes, never stalls, and is always accounted
// (checked by `run_case`), and the output equals the reference on the lines accepted.

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("pv-mutated");
    let base = mutate::first_lines(&tutorial("UserBehavior.csv"), 200);
    let input = dir.join("input").to_string_lossy().into_owned();
    let (window, out_of_orderness, lateness) = (1_800_000, 300_000, 600_000);
    let args: Vec<String> = ["pv", &input, "--format", "csv", "--window", "30m"]
        .into_iter()
        .chain(["--out-of-orderness", "5m", "--allowed-lateness", "10m"])
        .map(String::from)
        .collect();
    mutate::each_case_parsed(
        &input,
        &base,
        &args,
        1000,
        |l| parse(l).is_some(),
        |text| reference(text, window, out_of_orderness, lateness),
    );
}
