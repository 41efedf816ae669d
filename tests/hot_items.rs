//! hot-items against a naive reference: the event-time contract of `docs/event-time.md` replayed
//! by the shared `tests/reference` (plain loops over the whole input, sharing no code with the
//! engine), with a window's result, its top N, written here.

mod common;
mod reference;

use std::collections::HashMap;

use common::mutate::{self, STALL, run_case};
use common::*;
use reference::user_behavior::parse;
use reference::windowed::{Windows, emissions};
use reference::{csv, late_lines};

const HEADER: &str = "window_start,window_end,rank,item_id,count,update,emitted_at";

struct Params {
    window: u64,
    slide: u64,
    top: usize,
    out_of_orderness: u64,
    lateness: u64,
}

const TUTORIAL: Params = Params {
    window: 3_600_000,
    slide: 300_000,
    top: 5,
    out_of_orderness: 0,
    lateness: 0,
};

/// What the reference expects: the csv output, and the line numbers of the late records.
struct Expected {
    csv: String,
    late_lines: Vec<usize>,
}

/// The shared windowed replay, with a window's result: its `top` items by views, ties to the
/// smaller item id.
fn reference(text: &str, p: &Params) -> Expected {
    let w = Windows::sliding(p.window, p.slide, p.lateness);
    let (views, late_lines) = w.replay(text, p.out_of_orderness, |line| {
        let b = parse(line)?;
        Some((b.ts, (b.behavior == "pv").then_some(b.item)))
    });
    let emissions = emissions(&w.contents(views), |_, items| {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for &&item in items {
            *counts.entry(item).or_default() += 1;
        }
        let mut ranked: Vec<(u64, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(p.top);
        ranked
    });
    let lines = emissions.iter().flat_map(|e| {
        let (end, update, t) = (e.end, e.update, e.at);
        e.result.iter().enumerate().map(move |(r, (item, count))| {
            format!(
                "{},{end},{},{item},{count},{update},{t}",
                end.saturating_sub(p.window),
                r + 1
            )
        })
    });
    Expected {
        csv: csv(HEADER, lines),
        late_lines,
    }
}

fn args<'a>(input: &'a str, p: &Params, extra: &[&'a str]) -> Vec<String> {
    let mut a = windowed_csv_args(
        "hot-items",
        input,
        [p.window, p.slide, p.out_of_orderness, p.lateness],
    );
    a.push("--top".into());
    a.push(p.top.to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn tutorial_sample_equals_the_reference_on_any_cluster_shape() {
    let input = tutorial("UserBehavior.csv");
    let expected = reference(&std::fs::read_to_string(&input).unwrap(), &TUTORIAL);
    let a = args(&input, &TUTORIAL, &[]);
    let output = everywhere(&strs(&a));
    assert_eq!(output, expected.csv);
    // 01:00..03:10 UTC of pv rows: windows ending 01:05 .. 04:10, 38 of them, top 5 each.
    assert_eq!(output.lines().count(), 1 + 38 * 5);
}

#[test]
fn tutorial_sample_golden_first_window() {
    // The tutorial printed this window (end 2017-11-26 09:05 in UTC+8): three items with 3 views.
    let output = ok(&[
        "hot-items",
        &tutorial("UserBehavior.csv"),
        "--format",
        "csv",
        "--top",
        "3",
    ]);
    let first: Vec<&str> = output.lines().skip(1).take(3).collect();
    assert_eq!(
        first,
        [
            "1511654700000,1511658300000,1,3493253,3,false,1511658299999",
            "1511654700000,1511658300000,2,4261030,3,false,1511658299999",
            "1511654700000,1511658300000,3,5051027,3,false,1511658299999",
        ]
    );
}

#[test]
fn disorder_and_lateness_give_the_reference_corrections_and_late_records() {
    let dir = scratch("hot-items-late");
    let input = gen_file(
        &dir.join("disordered.csv"),
        "user-behavior --rows 40000 --seed 7 --items 300 --categories 30 --rate 20 --disorder 1h",
    );
    let text = std::fs::read_to_string(&input).unwrap();
    // With allowed lateness, fired windows take corrections; without, late rows only join the
    // windows that have not fired yet (the two are computed differently by the engine).
    for (lateness, corrections) in [(600_000, true), (0, false)] {
        let p = Params {
            window: 1_800_000,
            slide: 300_000,
            top: 3,
            out_of_orderness: 60_000,
            lateness,
        };
        let expected = reference(&text, &p);
        assert_eq!(
            expected.csv.contains(",true,"),
            corrections,
            "lateness {lateness}"
        );
        assert!(
            !expected.late_lines.is_empty(),
            "the input must produce late records"
        );

        let late = dir.join("late.csv").to_string_lossy().into_owned();
        let a = args(&input, &p, &["--late", &late]);
        assert_eq!(everywhere(&strs(&a)), expected.csv, "lateness {lateness}");
        assert_eq!(
            late_lines(&late),
            expected.late_lines,
            "lateness {lateness}"
        );
    }
}

#[test]
fn zero_lateness_still_lets_late_records_into_unfired_windows() {
    // Out of order by 2 min, no allowed lateness: the late row at 00:04 is behind the watermark
    // (00:06) but its windows ending 00:05.. have not all fired: it joins those that have not.
    let dir = scratch("hot-items-unfired");
    let rows = "1,7,1,pv,360\n2,8,1,pv,240\n3,8,1,pv,900\n";
    let input = write(&dir.join("in.csv"), rows);
    let p = Params {
        window: 600_000,
        slide: 300_000,
        top: 5,
        out_of_orderness: 0,
        lateness: 0,
    };
    let expected = reference(rows, &p);
    assert_eq!(everywhere(&strs(&args(&input, &p, &[]))), expected.csv);
    assert!(
        expected.csv.contains(",8,1,false,599999"),
        "{}",
        expected.csv
    );
}

#[test]
fn generated_input_equals_the_reference() {
    let dir = scratch("hot-items-generated");
    let input = gen_file(
        &dir.join("gen.csv"),
        "user-behavior --rows 60000 --seed 3 --items 5000 --categories 100",
    );
    let expected = reference(&std::fs::read_to_string(&input).unwrap(), &TUTORIAL);
    assert_eq!(
        everywhere(&strs(&args(&input, &TUTORIAL, &[]))),
        expected.csv
    );
}

#[test]
fn bad_rows_are_rejected_with_their_line_numbers_and_good_rows_counted() {
    let text = [
        "1,100,1,pv,1511658000",   // 1 good
        "1,100,1,pv",              // 2 wrong field count
        "1,abc,1,pv,1511658001",   // 3 non-numeric id
        "1,100,1,like,1511658002", // 4 unknown behaviour
        "",                        // 5 empty line
        "1,100,1,pv,2145916800",   // 6 bogus time (2037)
        "2,100,1,pv,1511658003",   // 7 good: not late because of line 6
        "3,101,1,buy,1511658004",  // 8 good, filtered
        "1,100,1,pv,5",            // 9 bogus time (1970)
    ]
    .join("\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"\n4,\xff\xfe,1,pv,1511658005\n5,100,1,pv,1511658006"); // 10 bad UTF-8, 11 good, no final newline
    let lines = ["2", "3", "4", "5", "6", "9", "10"];
    let accounting =
        "11 lines read: 4 accepted (3 used, 1 filtered, 0 late; 0 corrections), 7 rejected";
    let (out, rejected) = assert_rejected(
        "hot-items-bad",
        "hot-items",
        bytes,
        &lines,
        Some(accounting),
    );
    assert!(rejected[0][2].contains("wrong number of fields"));
    assert!(rejected[1][2].contains("itemId is not a number"));
    assert!(rejected[2][2].contains("unknown behavior 'like'"));
    assert!(rejected[3][2].contains("empty line"));
    assert!(rejected[4][2].contains("bogus timestamp"));
    assert!(rejected[6][2].contains("itemId is not a number"));
    // The three good pv rows all count: item 100 has 3 views in its first window.
    let output = String::from_utf8(out.stdout).unwrap();
    assert!(
        output.lines().nth(1).unwrap().contains(",1,100,3,false,"),
        "{output}"
    );
}

#[test]
fn without_a_rejects_file_the_first_ten_go_to_stderr() {
    let dir = scratch("hot-items-many-bad");
    let text: String = (0..25).map(|i| format!("x,{i}\n")).collect();
    let input = write(&dir.join("bad.csv"), &text);
    let out = uba(&["hot-items", &input]);
    let err = stderr(&out);
    // Not one line accepted: exit code 4, and a sentence that says so.
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("has no valid UserBehavior row"), "{err}");
    assert_eq!(err.matches("uba: rejected").count(), 10, "{err}");
    assert!(err.contains("... and 15 more rejected lines"), "{err}");
}

#[test]
fn stdin_and_job_files_give_the_same_output() {
    let input = tutorial("UserBehavior.csv");
    let direct = ok(&["hot-items", &input, "--format", "json", "--top", "3"]);
    let piped = uba_stdin(
        &["hot-items", "-", "--format", "json", "--top", "3"],
        &std::fs::read(&input).unwrap(),
    );
    assert_eq!(String::from_utf8(piped.stdout).unwrap(), direct);
    let job = format!("{}/jobs/hot-items.toml", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        ok(&["run", &job, &input, "--format", "json", "--top", "3"]),
        direct
    );
    let first: serde_json::Value = serde_json::from_str(direct.lines().next().unwrap()).unwrap();
    assert_eq!(first["item_id"], 3493253);
    assert_eq!(first["update"], false);
}

#[test]
fn the_readme_command_runs_on_the_embedded_sample() {
    let out = ok(&[
        "run",
        &format!("{}/jobs/hot-items.toml", env!("CARGO_MANIFEST_DIR")),
    ]);
    assert!(
        out.starts_with("== hot items by page views | window "),
        "{out}"
    );
    assert_eq!(
        out.matches("No.1: ").count(),
        out.matches("== hot items").count()
    );
}

#[test]
fn user_errors_are_one_sentence_and_exit_2() {
    for args in [
        vec!["hot-items", "/no/such/file.csv"],
        vec!["hot-items", "--no-such-flag"],
        vec!["hot-items", "--window", "7m", "--slide", "5m"],
        vec!["hot-items", "--window", "soon"],
        vec!["hot-items", "--tz", "Mars/Olympus"],
    ] {
        assert_user_error(&args);
    }
}

// Issue 14: random and mutated input never crashes, never stalls, and is always accounted
// (checked by `run_case`), and the output equals the reference on the lines accepted.

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("hot-items-mutated");
    let base = mutate::first_lines(&tutorial("UserBehavior.csv"), 200);
    let input = dir.join("input").to_string_lossy().into_owned();
    let p = Params {
        window: 1_800_000,
        slide: 300_000,
        top: 3,
        out_of_orderness: 60_000,
        lateness: 600_000,
    };
    let args = args(&input, &p, &[]);
    mutate::each_case_parsed(
        &input,
        &base,
        &args,
        700,
        |l| parse(l).is_some(),
        |text| {
            let expected = reference(text, &p);
            (expected.csv, expected.late_lines)
        },
    );
}

#[test]
fn an_input_with_no_valid_line_is_accounted_and_exits_4() {
    // The other end of the mutated inputs (which hardly ever lose every line), through the same
    // checks.
    let dir = scratch("hot-items-nothing-valid");
    let input = dir.join("input").to_string_lossy().into_owned();
    let text = b"x\n\n1,2,3,pv,99999999999999\n4,\xff,1,pv,1511658005";
    let c = run_case(
        "nothing valid",
        &args(&input, &TUTORIAL, &[]),
        &[(&input, text)],
        STALL,
    );
    assert_eq!(c.code, Some(4));
    assert_eq!(c.sources[0].rejected, [1, 2, 3, 4]);
    assert_eq!(c.stdout, "");
}

#[test]
fn regression_a_carriage_return_inside_a_line_is_not_a_line_break() {
    // Found by the mutated-input test (seed 143). Line 1 holds a `\r` that does not end it: the
    // reader ends a record there, so line 1 is read as two records (here both valid, so both are
    // used), and a 2-line file is "3 lines read". Line 1 has the wrong number of fields.
    assert_inner_carriage_return_rejects_line_1(
        "hot-items-regression-carriage-return",
        "hot-items",
        "1,1,1,pv,1511658000\r2,2,2,pv,1511658001\n3,3,3,pv,1511658002\n",
    );
}
