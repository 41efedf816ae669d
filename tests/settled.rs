//! `--settled`: each window written once, when it can no longer change, with its final values.
//!
//! The expected settled output is computed from the default output of the same run: the last
//! emission of each window, in the order of the windows' ends, with `update` false and
//! `emitted_at = window_end - 1 + allowed lateness`.

mod common;

use std::collections::BTreeMap;

use common::*;

/// The settled csv that the default csv `output` implies, for allowed lateness `lateness` (ms).
/// Every job checked here writes `window_start, window_end` first and `update, emitted_at` last.
/// An emission is all rows of one window end (funnel's day rows go with the hour that ends the
/// day) with one `emitted_at`.
fn last_emissions(output: &str, lateness: u64) -> String {
    let mut lines = output.lines();
    let header = lines.next().expect("a csv header");
    assert!(
        header.starts_with("window_start,window_end,") && header.ends_with(",update,emitted_at"),
        "{header}"
    );
    // window_end -> (emitted_at of its last emission, that emission's rows)
    let mut windows: BTreeMap<u64, (u64, Vec<String>)> = BTreeMap::new();
    for line in lines {
        let end: u64 = line.split(',').nth(1).unwrap().parse().unwrap();
        let mut tail = line.rsplitn(3, ',');
        let emitted_at: u64 = tail.next().unwrap().parse().unwrap();
        tail.next().unwrap(); // update
        let row = tail.next().unwrap().to_owned();
        let entry = windows.entry(end).or_insert((emitted_at, Vec::new()));
        if entry.0 != emitted_at {
            *entry = (emitted_at, Vec::new());
        }
        entry.1.push(row);
    }
    let mut expected = format!("{header}\n");
    for (end, (_, rows)) in windows {
        for row in rows {
            expected.push_str(&format!("{row},false,{}\n", end - 1 + lateness));
        }
    }
    expected
}

fn text_blocks(text: &str) -> usize {
    text.lines().filter(|l| l.starts_with("== ")).count()
}

#[test]
fn hot_pages_on_the_tutorial_log_prints_one_block_per_window_with_its_last_values() {
    let log = tutorial("apache.log");
    let default = ok(&["hot-pages", &log, "--format", "csv"]);
    let expected = last_emissions(&default, 60_000);
    assert!(default.contains(",true,"), "the sample has corrections");
    let settled = everywhere(&["hot-pages", &log, "--format", "csv", "--settled"]);
    assert!(settled == expected);

    let text = ok(&["hot-pages", &log, "--settled"]);
    let ends: std::collections::BTreeSet<&str> = expected
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(text_blocks(&text), ends.len());
    assert_eq!(text_blocks(&text), 1932);
    assert!(!text.contains("update at"), "{text}");
    assert!(text.starts_with(
        "== hot pages by GET requests | window 2015-05-17 10:04:05 .. 2015-05-17 10:05:05 ==\n\
         No.1: /reset.css, 2 requests\n"
    ));
    assert!(text_blocks(&ok(&["hot-pages", &log])) > 4000);
}

#[test]
fn hot_pages_on_a_shuffled_generated_log_settles_every_window_once() {
    let dir = scratch("settled-hot-pages");
    let input = gen_file(
        &dir.join("gen.log"),
        "apache-log --rows 20000 --seed 5 --rate 20 --urls 300 --disorder 90s --shuffle-minute",
    );
    let flags = [
        "--format",
        "csv",
        "--window",
        "30s",
        "--slide",
        "5s",
        "--top",
        "3",
        "--allowed-lateness",
        "20s",
    ];
    let default = ok(&[&["hot-pages", &input], &flags[..]].concat());
    assert!(
        default.contains(",true,"),
        "the generated log has corrections"
    );
    let settled = everywhere(&[&["hot-pages", &input, "--settled"], &flags[..]].concat());
    assert!(settled == last_emissions(&default, 20_000));
}

#[test]
fn pv_uv_and_funnel_with_allowed_lateness_settle_to_their_last_emission() {
    let dir = scratch("settled-user-behavior");
    let input = gen_file(
        &dir.join("gen.csv"),
        "user-behavior --rows 30000 --seed 9 --rate 5 --disorder 40m",
    );
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
    for job in ["pv", "uv", "funnel"] {
        let default = ok(&[&[job, &input], &flags[..]].concat());
        assert!(default.contains(",true,"), "{job}: corrections expected");
        let settled = everywhere(&[&[job, &input, "--settled"], &flags[..]].concat());
        // Not assert_eq!: the outputs are long.
        assert!(settled == last_emissions(&default, 600_000), "{job}");
    }
}

#[test]
fn without_allowed_lateness_settled_output_is_the_default_output() {
    let behaviour = tutorial("UserBehavior.csv");
    for args in [
        vec!["hot-items", &behaviour, "--format", "csv"],
        vec!["pv", &behaviour],
        vec!["ad-stats", &tutorial("AdClickLog.csv"), "--format", "csv"],
    ] {
        let default = ok(&args);
        assert!(!default.is_empty());
        assert_eq!(
            ok(&[&args[..], &["--settled"]].concat()),
            default,
            "{args:?}"
        );
    }
}

#[test]
fn ad_stats_counts_settle_and_blacklist_warnings_stay_as_they_are() {
    // Heavy clickers (blacklisted) in clicks shuffled by up to 2 min: corrections and warnings.
    let dir = scratch("settled-ad-stats");
    let clicks = gen_file(
        &dir.join("clicks.csv"),
        "ad-clicks --rows 15000 --seed 9 --start 1511708400 --heavy-every 10s --disorder 120s",
    );
    let flags = [
        "--format",
        "csv",
        "--window",
        "1m",
        "--out-of-orderness",
        "5s",
        "--allowed-lateness",
        "20s",
    ];
    let default = ok(&[&["ad-stats", &clicks], &flags[..]].concat());
    let settled = everywhere(&[&["ad-stats", &clicks, "--settled"], &flags[..]].concat());
    let blacklist = |csv: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| l.starts_with("blacklist,"))
            .map(String::from)
            .collect()
    };
    assert_eq!(blacklist(&settled), blacklist(&default));
    assert_eq!(blacklist(&settled).len(), 6);
    // outcome, window_start, window_end, province, count, update, ..., emitted_at
    let counts = |csv: &str| -> Vec<Vec<String>> {
        csv.lines()
            .filter(|l| l.starts_with("count,"))
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    assert!(counts(&default).iter().any(|row| row[5] == "true"));
    // The last emission of each window: (end, start) -> (emitted_at, [(province, count)]).
    let mut last: BTreeMap<(u64, u64), (String, Vec<(String, String)>)> = BTreeMap::new();
    for row in counts(&default) {
        let key = (row[2].parse().unwrap(), row[1].parse().unwrap());
        let entry = last.entry(key).or_insert((row[11].clone(), Vec::new()));
        if entry.0 != row[11] {
            *entry = (row[11].clone(), Vec::new());
        }
        entry.1.push((row[3].clone(), row[4].clone()));
    }
    let expected: Vec<Vec<String>> = last
        .into_iter()
        .flat_map(|((end, start), (_, rows))| {
            rows.into_iter().map(move |(province, count)| {
                let mut row = vec![String::new(); 12];
                row[0] = "count".into();
                row[1] = start.to_string();
                row[2] = end.to_string();
                row[3] = province;
                row[4] = count;
                row[5] = "false".into();
                row[11] = (end - 1 + 20_000).to_string();
                row
            })
        })
        .collect();
    assert_eq!(counts(&settled), expected);
}

#[test]
fn pattern_jobs_are_already_settled() {
    let logins = tutorial("LoginLog.csv");
    let orders = tutorial("OrderLog.csv");
    for args in [
        vec!["login-fail", &logins, "--format", "csv"],
        vec!["order-timeout", &orders],
    ] {
        assert_eq!(
            ok(&[&args[..], &["--settled"]].concat()),
            ok(&args),
            "{args:?}"
        );
    }
}

#[test]
fn per_key_jobs_refuse_settled_and_say_what_to_use() {
    let input = tutorial("UserBehavior.csv");
    for (job, line) in [
        (
            "user-profile",
            "uba: --settled does not apply to user-profile: a profile can change with every \
             event until the input ends; --snapshot prints each user's profile once, at the end\n",
        ),
        (
            "recommend",
            "uba: --settled does not apply to recommend: a list can change with every event \
             until the input ends; without --changes each user's list is printed once, at the end\n",
        ),
    ] {
        let out = uba(&[job, &input, "--settled"]);
        assert_eq!(out.status.code(), Some(2), "{job}");
        assert_eq!(stderr(&out), line);
        assert!(out.stdout.is_empty());
    }
}
