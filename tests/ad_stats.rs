//! ad-stats against a naive reference: the event-time contract of `docs/event-time.md` replayed by
//! the shared `tests/reference` (plain loops over the whole input, sharing no code with the
//! engine), with the blacklist rule of `docs/jobs.md` and a window's province counts written here.

mod common;
mod reference;

use std::collections::{BTreeMap, HashMap};

use common::mutate;
use common::*;
use reference::windowed::{Windows, emissions};
use reference::{LAST_TIME, csv, late_lines};

const HEADER: &str = "outcome,window_start,window_end,province,count,update,user_id,ad_id,day,clicks_so_far,first_blocked_at,emitted_at";

struct Params {
    window: u64,
    slide: u64,
    max_clicks: usize,
    /// Offset of --day-tz in ms.
    day_offset: i64,
    day_tz: &'static str,
    out_of_orderness: u64,
    lateness: u64,
}

const DEFAULTS: Params = Params {
    window: 3_600_000,
    slide: 5_000,
    max_clicks: 100,
    day_offset: 8 * 3_600_000,
    day_tz: "+08:00",
    out_of_orderness: 0,
    lateness: 0,
};

/// A limit of 2 clicks a day, in one-minute windows.
const LIMIT_2: Params = Params {
    max_clicks: 2,
    window: 60_000,
    ..DEFAULTS
};

/// `yyyy-mm-dd` of a day number since 1970-01-01 (Howard Hinnant's civil_from_days).
fn date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// An AdClick line as `docs/jobs.md` defines it: `userId,adId,province,city,ts`, ids unsigned
/// integers up to 2^63 - 1, province and city any text, ts epoch seconds (not after the year
/// 9999); spaces around a field are tolerated. Returns (user, ad, province, ts in ms); None for a line the job
/// must reject.
fn parse(line: &str) -> Option<(u64, u64, &str, u64)> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() != 5 {
        return None;
    }
    let (user, ad) = (reference::id(f[0])?, reference::id(f[1])?);
    let ts = f[4].parse::<u64>().ok()?.checked_mul(1000)?;
    if ts > LAST_TIME {
        return None;
    }
    Some((user, ad, f[2], ts))
}

/// What the reference expects: the csv, and the line numbers of the late clicks.
struct Expected {
    csv: String,
    late_lines: Vec<usize>,
    corrections: usize,
}

/// The shared windowed replay, then the blacklist: the clicks in the order they enter (by
/// insertion time, then line), each (user, ad, day)'s first `max_clicks` passing and the next one
/// raising the warning; a window's result is the count of each province among the clicks that
/// passed, largest first (ties by province).
fn reference(text: &str, p: &Params) -> Expected {
    let w = Windows::sliding(p.window, p.slide, p.lateness);
    let (mut clicks, late_lines) = w.replay(text, p.out_of_orderness, |line| {
        let (user, ad, province, ts) = parse(line)?;
        Some((ts, Some((user, ad, province.to_owned()))))
    });
    let corrections = clicks.iter().filter(|c| c.is_correction()).count();
    clicks.sort_by_key(|c| (c.at, c.line));

    // (time, user, ad, day) -> warning line; the clicks that pass.
    let mut warnings: BTreeMap<(u64, u64, u64, i64), String> = BTreeMap::new();
    let mut passed = Vec::new();
    let mut counts: HashMap<(u64, u64, i64), usize> = HashMap::new();
    for c in clicks {
        let (user, ad, _): (u64, u64, _) = c.record;
        let day = (c.ts as i64 + p.day_offset).div_euclid(86_400_000);
        let n = counts.entry((user, ad, day)).or_default();
        *n += 1;
        if *n == p.max_clicks + 1 {
            warnings.insert(
                (c.at, user, ad, day),
                format!(
                    "blacklist,,,,,,{user},{ad},{},{},{},{}",
                    date(day),
                    p.max_clicks + 1,
                    c.ts,
                    c.at
                ),
            );
        }
        if *n <= p.max_clicks {
            passed.push(c);
        }
    }
    let emissions = emissions(&w.contents(passed), |_, clicks| {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, province) in clicks {
            *counts.entry(province).or_default() += 1;
        }
        let mut ranked: Vec<(usize, String)> =
            counts.into_iter().map(|(p, c)| (c, p.to_owned())).collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
    });

    // (time, 0 = windows first, window end, user, ad, day) -> lines
    let mut out: BTreeMap<(u64, u8, u64, u64, u64, i64), Vec<String>> = BTreeMap::new();
    for e in emissions {
        let lines = e
            .result
            .iter()
            .map(|(count, province)| {
                // A window that would start before the epoch starts at 0.
                format!(
                    "count,{},{},{},{count},{},,,,,,{}",
                    e.end.saturating_sub(p.window),
                    e.end,
                    csv_field(province),
                    e.update,
                    e.at
                )
            })
            .collect();
        out.insert((e.at, 0, e.end, 0, 0, 0), lines);
    }
    for ((t, user, ad, day), line) in warnings {
        out.insert((t, 1, 0, user, ad, day), vec![line]);
    }
    Expected {
        csv: csv(HEADER, out.into_values().flatten()),
        late_lines,
        corrections,
    }
}

/// A csv field as the binary writes it: quoted when it holds a separator, a quote or a line end.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn args(input: &str, p: &Params, extra: &[&str]) -> Vec<String> {
    let mut a = windowed_csv_args(
        "ad-stats",
        input,
        [p.window, p.slide, p.out_of_orderness, p.lateness],
    );
    a.extend([
        "--max-clicks".into(),
        p.max_clicks.to_string(),
        "--day-tz".into(),
        p.day_tz.into(),
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn sample_equals_the_reference_on_any_cluster_shape() {
    let input = tutorial("AdClickLog.csv");
    let expected = reference(&std::fs::read_to_string(&input).unwrap(), &DEFAULTS);
    assert_eq!(
        everywhere(&strs(&args(&input, &DEFAULTS, &[]))),
        expected.csv
    );
}

#[test]
fn sample_golden_facts_of_user_937166_and_ad_1715() {
    let input = tutorial("AdClickLog.csv");
    let out = uba(&["ad-stats", &input, "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(out.stdout.clone()).unwrap();
    // One warning, at the 101st click (ts 1511661701), decided at that time.
    let warnings: Vec<&str> = csv.lines().filter(|l| l.starts_with("blacklist")).collect();
    assert_eq!(
        warnings,
        ["blacklist,,,,,,937166,1715,2017-11-26,101,1511661701000,1511661701000"]
    );
    // The last two rows (ts ..710 and ..711, 9 s and 8 s behind ..719) are late, yet their
    // windows ending after ..719 have not fired: they are inserted at the frontier, not dropped
    // as late; the filter then drops them with clicks 101..121.
    let summary = stderr(&out);
    assert!(
        summary.contains(
            "143 lines read: 143 accepted (143 used, 0 filtered, 0 late; 2 corrections), 0 rejected"
        ),
        "{summary}"
    );
    // Beijing's only other click near the pair's is at ..8180: the window [..8110, ..1710) holds
    // it and the pair's clicks ..601..709, of which only the first 100 pass.
    assert!(
        csv.contains("count,1511658110000,1511661710000,beijing,101,false,,,,,,1511661709999"),
        "{csv}"
    );
    let max_beijing = csv
        .lines()
        .filter(|l| l.starts_with("count,") && l.contains(",beijing,"))
        .map(|l| l.split(',').nth(4).unwrap().parse::<usize>().unwrap())
        .max()
        .unwrap();
    assert_eq!(max_beijing, 101);
    // With a higher limit nothing is dropped: the two late clicks now count too.
    let all = ok(&[
        "ad-stats",
        &input,
        "--format",
        "csv",
        "--max-clicks",
        "1000",
    ]);
    assert!(!all.contains("blacklist"));
    assert!(all.contains("count,1511658110000,1511661710000,beijing,110,false,"));
    // All 121 clicks of the pair (the two late ones included) and ..8180 in [..8120, ..1720).
    let max_all = all
        .lines()
        .filter(|l| l.contains(",beijing,"))
        .map(|l| l.split(',').nth(4).unwrap().parse::<usize>().unwrap())
        .max()
        .unwrap();
    assert_eq!(max_all, 122);
}

#[test]
fn generated_clicks_across_midnight_equal_the_reference() {
    // Heavy clickers from 23:00 to 02:30 in UTC+8: each passes 100 on both days, with disorder
    // that makes late clicks, corrections and updates. 1 min windows keep the run short.
    let dir = scratch("ad-stats-generated");
    let input = gen_file(
        &dir.join("clicks.csv"),
        "ad-clicks --rows 15000 --seed 9 --start 1511708400 --heavy-every 10s --disorder 120s",
    );
    let text = std::fs::read_to_string(&input).unwrap();
    let p = Params {
        window: 60_000,
        slide: 5_000,
        out_of_orderness: 5_000,
        lateness: 20_000,
        ..DEFAULTS
    };
    let expected = reference(&text, &p);
    assert!(expected.csv.contains(",true,"), "corrections must update");
    assert!(!expected.late_lines.is_empty() && expected.corrections > 0);
    let days: Vec<&str> = expected
        .csv
        .lines()
        .filter(|l| l.starts_with("blacklist"))
        .map(|l| l.split(',').nth(8).unwrap())
        .collect();
    assert_eq!(
        days.iter().filter(|d| **d == "2017-11-26").count(),
        3,
        "{days:?}"
    );
    assert_eq!(
        days.iter().filter(|d| **d == "2017-11-27").count(),
        3,
        "{days:?}"
    );

    let late = dir.join("late.csv").to_string_lossy().into_owned();
    let output = everywhere(&strs(&args(&input, &p, &["--late", &late])));
    assert_eq!(output, expected.csv);
    assert_eq!(late_lines(&late), expected.late_lines);

    // The default rule (no out-of-orderness, no lateness) on the same disordered clicks.
    let p0 = Params {
        window: 60_000,
        ..DEFAULTS
    };
    let expected0 = reference(&text, &p0);
    assert!(expected0.corrections > 0);
    assert_eq!(ok(&strs(&args(&input, &p0, &["-w", "2"]))), expected0.csv);
}

#[test]
fn the_limit_resets_at_midnight_of_the_day_zone() {
    // Three clicks of one pair before 00:00 UTC+8 (16:00 UTC) and three after, limit 2.
    let dir = scratch("ad-stats-midnight");
    let midnight = 1_511_712_000; // 2017-11-27 00:00 in UTC+8
    let rows: String = [-30, -20, -10, 0, 10, 20]
        .iter()
        .map(|d| format!("7,8,hubei,wuhan,{}\n", midnight + d))
        .collect();
    let input = write(&dir.join("in.csv"), &rows);
    let tight = LIMIT_2;
    let out = ok(&strs(&args(&input, &tight, &["--only", "blacklist"])));
    assert_eq!(
        out.lines().skip(1).collect::<Vec<_>>(),
        [
            "blacklist,,,,,,7,8,2017-11-26,3,1511711990000,1511711990000",
            "blacklist,,,,,,7,8,2017-11-27,3,1511712020000,1511712020000",
        ]
    );
    assert_eq!(out, only_blacklist(&reference(&rows, &tight).csv));
    // In UTC the six clicks are one day: one warning, at the third.
    let utc = Params {
        day_offset: 0,
        day_tz: "UTC",
        ..tight
    };
    let all = ok(&strs(&args(&input, &utc, &[])));
    assert_eq!(all, reference(&rows, &utc).csv);
    assert_eq!(all.matches("blacklist").count(), 1);
    assert!(all.contains("blacklist,,,,,,7,8,2017-11-26,3,1511711990000,"));
}

#[test]
fn ids_of_any_size_and_limits_past_a_byte_count_like_the_reference() {
    // Most pairs are counted packed in 8 bytes with their count (user < 2^32, ad < 2^24, count
    // up to 254); these are not, or share the packed bits' low part with one that is.
    let dir = scratch("ad-stats-wide-ids");
    let pairs = [
        (7, 8),
        ((1u64 << 32) + 7, 8),
        (7, (1u64 << 24) + 8),
        (i64::MAX as u64, i64::MAX as u64), // the largest ids (the tutorial's Long)
        ((1u64 << 32) - 1, (1u64 << 24) - 1),
    ];
    let start = 1_511_658_000;
    let rows: String = (0..310)
        .flat_map(|i| {
            pairs
                .iter()
                .map(move |(user, ad)| format!("{user},{ad},hubei,wuhan,{}\n", start + i))
        })
        .collect();
    let input = write(&dir.join("in.csv"), &rows);
    for max_clicks in [2, 254, 300] {
        let p = Params {
            max_clicks,
            window: 60_000,
            ..DEFAULTS
        };
        let expected = reference(&rows, &p);
        assert_eq!(
            expected.csv.matches("blacklist").count(),
            pairs.len(),
            "max {max_clicks}"
        );
        for w in ["1", "2"] {
            assert_eq!(
                ok(&strs(&args(&input, &p, &["-w", w]))),
                expected.csv,
                "max {max_clicks}, -w {w}"
            );
        }
    }
}

/// The reference csv with the `count` rows left out (as `--only blacklist` writes it).
fn only_blacklist(csv: &str) -> String {
    csv.lines()
        .filter(|l| !l.starts_with("count,"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_late_click_counts_toward_the_limit_when_it_is_inserted() {
    // Limit 2. Clicks at 10, 20 (on time), then 15 (late, inserted at the frontier 20, after the
    // click at 20), then 30. Event order would block 20; insertion order blocks 15, and the click
    // at 20, which already passed, is never retracted.
    let dir = scratch("ad-stats-late-order");
    let base = 1_511_658_000;
    let rows: String = [10, 20, 15, 30]
        .iter()
        .map(|d| format!("1,2,hubei,wuhan,{}\n", base + d))
        .collect();
    let input = write(&dir.join("in.csv"), &rows);
    let p = LIMIT_2;
    let out = everywhere(&strs(&args(&input, &p, &[])));
    assert_eq!(out, reference(&rows, &p).csv);
    assert!(
        out.contains(",1,2,2017-11-26,3,1511658015000,1511658020000\n"),
        "{out}"
    );
    assert!(
        !out.contains(",true,"),
        "nothing that passed is retracted:\n{out}"
    );
}

#[test]
fn bad_rows_are_rejected_with_their_line_numbers() {
    let text = "1,2,beijing,beijing,1511658000\n1,2,beijing\nx,2,beijing,beijing,1511658001\n\n1,2,beijing,beijing,soon\n1,2,beijing,beijing,1511658002";
    let accounting =
        "6 lines read: 2 accepted (2 used, 0 filtered, 0 late; 0 corrections), 4 rejected";
    let (out, _) = assert_rejected(
        "ad-stats-bad",
        "ad-stats",
        text,
        &["2", "3", "4", "5"],
        Some(accounting),
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.contains(",beijing,2,false,"), "{csv}");
}

#[test]
fn job_file_text_and_json_outputs() {
    let job = format!("{}/jobs/ad-stats.toml", env!("CARGO_MANIFEST_DIR"));
    let text = ok(&["run", &job]);
    assert!(
        text.starts_with("== ad clicks by province | window "),
        "{text}"
    );
    assert!(
        text.contains("blacklist: user 937166 clicked ad 1715 101 times on 2017-11-26 (+08:00); blocked from 2017-11-26 10:01:41"),
        "{text}"
    );
    let json = ok(&["run", &job, "--format", "json", "--only", "blacklist"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["outcome"], "blacklist");
    assert_eq!(row["user_id"], 937166);
    assert_eq!(row["first_blocked_at"], 1511661701000u64);
    assert_eq!(row["emitted_at"], 1511661701000u64);
    assert!(row["window_end"].is_null());
}

#[test]
fn user_errors_are_one_sentence_and_exit_2() {
    let input = tutorial("AdClickLog.csv");
    for extra in [
        vec!["--day-tz", "Mars"],
        vec!["--max-clicks", "0"],
        vec!["--only", "fraud"],
        vec!["--window", "7s"],
    ] {
        assert_user_error(&[&["ad-stats", input.as_str()], extra.as_slice()].concat());
    }
}

// Issue 14: random and mutated input never crashes, never stalls, and is always accounted
// (checked by `run_case`), and the output equals the reference on the lines accepted.

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("ad-stats-mutated");
    // The whole sample (143 lines): user 937166 passes the limit on ad 1715.
    let base = mutate::first_lines(&tutorial("AdClickLog.csv"), 143);
    let input = dir.join("input").to_string_lossy().into_owned();
    let p = Params {
        window: 60_000,
        slide: 5_000,
        out_of_orderness: 5_000,
        lateness: 20_000,
        ..DEFAULTS
    };
    let args = args(&input, &p, &[]);
    mutate::each_case_parsed(
        &input,
        &base,
        &args,
        300,
        |l| parse(l).is_some(),
        |text| {
            let expected = reference(text, &p);
            (expected.csv, expected.late_lines)
        },
    );
}

#[test]
fn regression_a_carriage_return_inside_a_line_is_not_a_line_break() {
    // Found by the mutated-input test (seed 143). Line 1 holds a `\r` that does not end it: the
    // reader ends a record there, so line 1 is read as two records (here both valid, so both are
    // used), and a 2-line file is "3 lines read". Line 1 has the wrong number of fields.
    assert_inner_carriage_return_rejects_line_1(
        "ad-stats-regression-carriage-return",
        "ad-stats",
        "1,2,beijing,beijing,1511658000\r1,2,beijing,beijing,1511658001\n\
         1,2,beijing,beijing,1511658002\n",
    );
}

#[test]
fn regression_a_click_whose_next_midnight_passes_i64_max_still_counts() {
    // Found by the mutated-input test (seed 485: a time of 15116616511661651 s). The click at
    // 9223372036800000 s was accepted and "used", but no window printed it: its midnight in UTC+8,
    // the end of its blacklist day, is past i64::MAX ms. A time after the year 9999 is rejected
    // now; the last second of 9999, whose midnight is in the year 10000, still counts.
    let dir = scratch("ad-stats-regression-end-of-time");
    let p = Params {
        window: 60_000,
        ..DEFAULTS
    };
    let last = 253_402_300_799u64;
    for secs in [last - 1, last] {
        let text = format!("1,2,beijing,beijing,{secs}\n");
        let input = write(&dir.join("in.csv"), &text);
        let out = uba(&strs(&args(&input, &p, &["--max-time-jump", "off"])));
        assert!(out.status.success(), "{secs}: {}", stderr(&out));
        let output = String::from_utf8(out.stdout.clone()).unwrap();
        assert!(output.lines().count() > 1, "{secs}: {output}");
        assert_eq!(output, reference(&text, &p).csv, "{secs}: {}", stderr(&out));
    }
    for secs in [last + 1, 9_223_372_036_799_999, 9_223_372_036_800_000] {
        let text = format!("1,2,beijing,beijing,{secs}\n");
        let input = write(&dir.join("in.csv"), &text);
        let out = uba(&strs(&args(&input, &p, &["--max-time-jump", "off"])));
        let err = stderr(&out);
        // Its only line rejected: nothing accepted, exit code 4.
        assert_eq!(out.status.code(), Some(4), "{secs}: {err}");
        assert!(
            err.contains(&format!(
                "in.csv:1: bad time: {secs}000 ms is after the year 9999"
            )),
            "{secs}: {err}"
        );
    }
}
