//! user-profile against a naive reference: the rule in `uba user-profile --help` written here,
//! over the event-time replay and the print-on-change rule of the shared `tests/reference`
//! (`docs/event-time.md`; plain loops over the whole input, sharing no code with the engine).

mod common;
mod reference;

use std::collections::{BTreeMap, BTreeSet};

use common::mutate::{self, rows_or_nothing};
use common::*;
use reference::late_lines;
use reference::user_behavior::parse;

const HEADER: &str = "user_id,segment,pv,fav,cart,buy,category_1,score_1,category_2,score_2,category_3,score_3,last_active,update,emitted_at";

struct Params {
    horizon: u64,
    out_of_orderness: u64,
    weights: [u64; 4],
}

const DEFAULTS: Params = Params {
    horizon: 86_400_000,
    out_of_orderness: 0,
    weights: [1, 2, 3, 4],
};

/// A used event: visible during `[at, until)`.
struct Event {
    user: u64,
    ts: u64,
    at: u64,
    until: u64,
    category: u32,
    step: usize,
}

/// The shared replay: an event behind the watermark still enters, at the watermark, while it is
/// inside the horizon, else it is late. The used events, the late line numbers.
fn replay(text: &str, p: &Params) -> (Vec<Event>, Vec<usize>) {
    let (events, late) = reference::replay(
        text,
        p.out_of_orderness,
        |ts| ts + p.horizon,
        |line| {
            let b = parse(line)?;
            Some((b.ts, Some((b.user, b.category, b.step()))))
        },
    );
    let events = events
        .into_iter()
        .map(|e| {
            let (user, category, step) = e.record;
            Event {
                user,
                ts: e.ts,
                at: e.at,
                until: e.ts + p.horizon,
                category,
                step,
            }
        })
        .collect();
    (events, late)
}

/// The csv fields of a user's profile at `t` (without update / emitted_at), or None.
fn profile(events: &[&Event], t: u64, p: &Params) -> Option<(String, u64)> {
    let visible: Vec<&&Event> = events.iter().filter(|e| e.at <= t && t < e.until).collect();
    if visible.is_empty() {
        return None;
    }
    let mut counts = [0u64; 4];
    let mut scores: BTreeMap<u32, u64> = BTreeMap::new();
    let mut last = 0;
    for e in &visible {
        counts[e.step] += 1;
        *scores.entry(e.category).or_default() += p.weights[e.step];
        last = last.max(e.ts);
    }
    let mut top: Vec<(u32, u64)> = scores.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let segment = if counts[3] >= 2 {
        "repeat-buyer"
    } else if counts[3] == 1 {
        "buyer"
    } else if counts[1] + counts[2] > 0 {
        "intent"
    } else {
        "browser"
    };
    let cats: Vec<String> = (0..3)
        .map(|i| {
            top.get(i)
                .map_or(",".to_owned(), |(c, s)| format!("{c},{s}"))
        })
        .collect();
    let [pv, fav, cart, buy] = counts;
    Some((
        format!(
            "{segment},{pv},{fav},{cart},{buy},{},{last}",
            cats.join(",")
        ),
        last,
    ))
}

fn by_user(events: &[Event]) -> BTreeMap<u64, Vec<&Event>> {
    let mut users: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    for e in events {
        users.entry(e.user).or_default().push(e);
    }
    users
}

/// Every profile change, in (time, user) order: a user's profile changes when one of their
/// events enters and when one leaves the horizon.
fn changes(text: &str, p: &Params) -> (String, Vec<usize>) {
    let (events, late) = replay(text, p);
    let users = by_user(&events);
    let times: BTreeMap<u64, BTreeSet<u64>> = users
        .iter()
        .map(|(&user, evs)| (user, evs.iter().flat_map(|e| [e.at, e.until]).collect()))
        .collect();
    let rows = reference::changes(&times, |user, t| profile(&users[user], t, p))
        .into_iter()
        .map(|c| match (c.result, c.previous) {
            (Some((fields, _)), previous) => {
                format!("{},{fields},{},{}", c.key, previous.is_some(), c.at)
            }
            (None, Some((_, last))) => {
                format!("{},dormant,0,0,0,0,,,,,,,{last},true,{}", c.key, c.at)
            }
            (None, None) => unreachable!(),
        });
    (lines(rows), late)
}

/// The profiles at the latest time an event entered.
fn snapshot(text: &str, p: &Params, only: &[u64]) -> String {
    let (events, _) = replay(text, p);
    let t = events.iter().map(|e| e.at).max().unwrap();
    let rows = by_user(&events).into_iter().filter_map(|(user, evs)| {
        if !only.is_empty() && !only.contains(&user) {
            return None;
        }
        profile(&evs, t, p).map(|(fields, _)| format!("{user},{fields},false,{t}"))
    });
    lines(rows)
}

fn lines(rows: impl Iterator<Item = String>) -> String {
    let mut csv = format!("{HEADER}\n");
    for r in rows {
        csv.push_str(&r);
        csv.push('\n');
    }
    csv
}

fn args(input: &str, p: &Params, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["user-profile", input, "--format", "csv"]
        .map(String::from)
        .to_vec();
    a.extend([
        "--horizon".into(),
        format!("{}ms", p.horizon),
        "--out-of-orderness".into(),
        format!("{}ms", p.out_of_orderness),
    ]);
    for (name, w) in ["pv", "fav", "cart", "buy"].iter().zip(p.weights) {
        a.push(format!("--weight-{name}"));
        a.push(w.to_string());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn tutorial_sample_changes_equal_the_reference_on_any_cluster_shape() {
    let input = tutorial("UserBehavior.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    let (expected, late) = changes(&text, &DEFAULTS);
    assert!(late.is_empty());
    assert_eq!(everywhere(&strs(&args(&input, &DEFAULTS, &[]))), expected);
    // Every user appears once, then leaves a day after their last event: as many dormant rows
    // as users, and the first row is a first sighting.
    let users: BTreeSet<&str> = text.lines().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(expected.matches(",dormant,").count(), users.len());
}

#[test]
fn tutorial_sample_snapshot_and_chosen_users() {
    let input = tutorial("UserBehavior.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    let all = ok(&strs(&args(&input, &DEFAULTS, &["--snapshot"])));
    assert_eq!(all, snapshot(&text, &DEFAULTS, &[]));
    let chosen = ok(&strs(&args(
        &input,
        &DEFAULTS,
        &["--snapshot", "--users", "662867,543462,1"],
    )));
    assert_eq!(chosen, snapshot(&text, &DEFAULTS, &[662867, 543462, 1]));
    // Golden: the snapshot is taken at the last event (2017-11-26 03:10:11 UTC).
    assert_eq!(
        chosen.lines().nth(2).unwrap(),
        "662867,browser,3,0,0,0,1575622,1,2568036,1,4131561,1,1511658857000,false,1511665811000"
    );
    let json = ok(&[
        "user-profile",
        &input,
        "--format",
        "json",
        "--users",
        "543462",
    ]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["user_id"], 543462);
    assert_eq!(first["update"], false);
    assert_eq!(
        json.lines().count(),
        2,
        "seen, then dormant a day later: {json}"
    );
}

#[test]
fn generated_input_with_a_short_horizon_disorder_and_late_events_equals_the_reference() {
    let dir = scratch("user-profile-generated");
    let input = gen_file(
        &dir.join("gen.csv"),
        "user-behavior --rows 20000 --seed 11 --items 500 --users 300 --categories 20 --rate 4 --disorder 45m",
    );
    let text = std::fs::read_to_string(&input).unwrap();
    let p = Params {
        horizon: 1_800_000,
        out_of_orderness: 120_000,
        weights: [1, 5, 2, 10],
    };
    let (expected, late) = changes(&text, &p);
    assert!(!late.is_empty(), "the input must have late events");
    assert!(expected.contains(",repeat-buyer,") && expected.contains(",intent,"));
    let late_file = dir.join("late.csv").to_string_lossy().into_owned();
    assert_eq!(
        everywhere(&strs(&args(&input, &p, &["--late", &late_file]))),
        expected
    );
    assert_eq!(late_lines(&late_file), late);
    assert_eq!(
        // The snapshot's keyed processes stop at the last input time, which every worker and
        // process must learn: -w 1, -w 4 and 2 processes.
        everywhere(&strs(&args(&input, &p, &["--snapshot"]))),
        snapshot(&text, &p, &[])
    );
}

#[test]
fn bad_lines_are_rejected_and_bad_flags_are_one_sentence() {
    let dir = scratch("user-profile-bad");
    let input = write(
        &dir.join("bad.csv"),
        "1,2,3,pv,1511658000\n1,2,3,pv\n1,2,3,buy,x\n",
    );
    let out = uba(&["user-profile", &input, "--format", "csv"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(
            "3 lines read: 1 accepted (1 used, 0 filtered, 0 late; 0 corrections), 2 rejected"
        ),
        "{err}"
    );
    for bad in [
        vec!["--horizon", "0"],
        vec!["--users", "a,b"],
        vec!["--weight-buy", "-1"],
    ] {
        assert_user_error(&[&["user-profile", &input][..], &bad[..]].concat());
    }
}

#[test]
fn the_job_file_runs() {
    let job = format!("{}/jobs/user-profile.toml", env!("CARGO_MANIFEST_DIR"));
    let input = tutorial("UserBehavior.csv");
    let direct = ok(&["user-profile", &input, "--users", "543462"]);
    assert_eq!(ok(&["run", &job, &input, "--users", "543462"]), direct);
    assert!(
        direct.starts_with("2017-11-26 01:00:00 | user 543462 | browser | pv 1"),
        "{direct}"
    );
}

// Hostile input (issue 14): seeded mutations of a small input never crash or stall the job,
// every line is accounted for (checked by `run_case`), and the output equals the reference on the
// accepted lines.

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("user-profile-mutated");
    let base = mutate::first_lines(&tutorial("UserBehavior.csv"), 200);
    let input = dir.join("mutated.csv").to_string_lossy().into_owned();
    let short = Params {
        horizon: 1_800_000,
        out_of_orderness: 120_000,
        weights: [1, 5, 2, 10],
    };
    let setup = |seed| {
        let p = if seed % 2 == 0 { &DEFAULTS } else { &short };
        (args(&input, p, &[]), p)
    };
    mutate::each_case(&[(&input, &base)], 400, setup, |c, p| {
        let (expected, expected_late) = changes(&c.source().text, p);
        c.assert_output(&rows_or_nothing(expected));
        c.assert_late(&[&expected_late]);
    });
}

#[test]
fn regression_the_last_representable_second_is_not_lost() {
    // Found probing the top of the time range (not by a seed). One view at 18446744073709551 s
    // (18446744073709551000 ms, 615 ms before u64::MAX) was accounted as used, and no profile
    // printed. A time after the year 9999 is rejected now; a view in the last second of 9999 is
    // still profiled (its dormant row lies in the year 10000).
    let dir = scratch("user-profile-last-second");
    let input = write(&dir.join("last.csv"), "1,2,3,pv,18446744073709551\n");
    mutate::assert_all_after_the_year_9999(&["user-profile", &input, "--format", "csv"], &[1]);
    let text = "1,2,3,pv,253402300799\n";
    let input = write(&dir.join("last.csv"), text);
    let output = ok(&strs(&args(&input, &DEFAULTS, &[])));
    let seen = "\n1,browser,1,0,0,0,3,1,,,,,253402300799000,false,253402300799000\n";
    assert!(output.contains(seen), "{output}");
    assert_eq!(output, changes(text, &DEFAULTS).0);
}
