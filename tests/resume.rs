//! `--resume` replays only the job's horizon, for every job: a run whose input fails at 60% of
//! its bytes (`UBA_FAULT_READ_AFTER`, as a failing disk does; a kill is the same to the table),
//! then resumed, ends with what an uninterrupted run has: the same tables row for row, the same
//! rejects and late files, the same accounting line; and the resumed run says where it resumed,
//! which must be past the start (it read the horizon's share and the rest, not everything).

mod common;

use common::{accounting_lines, ok, scratch, sqlite_tables, stderr};

/// A job, the generator of its input (`--out` is added), and its arguments: windows and
/// retentions short against the input's span, so that the horizon is a small part of it.
struct Case {
    name: &'static str,
    generate: &'static [&'static str],
    /// The generator writes the job's second input too (`--receipts`).
    receipts: bool,
    job: &'static [&'static str],
    /// Whether a commit comes before the end: recommend's lists are written once, at the last
    /// input time, so a run that fails before has committed nothing, and its resume reads all.
    commits_mid_run: bool,
}

const USER_BEHAVIOR: &[&str] = &[
    "gen",
    "user-behavior",
    "--rows",
    "400000",
    "--items",
    "2000",
    "--categories",
    "50",
    "--users",
    "5000",
    "--rate",
    "4",
    "--disorder",
    "20s",
    "--bogus-rate",
    "0.001",
];

const CASES: &[Case] = &[
    Case {
        name: "hot-items",
        generate: USER_BEHAVIOR,
        receipts: false,
        job: &[
            "hot-items",
            "--window",
            "1h",
            "--slide",
            "10m",
            "--out-of-orderness",
            "10s",
            "--allowed-lateness",
            "1m",
        ],
        commits_mid_run: true,
    },
    Case {
        name: "pv",
        generate: USER_BEHAVIOR,
        receipts: false,
        job: &["pv", "--out-of-orderness", "10s"],
        commits_mid_run: true,
    },
    Case {
        name: "uv",
        generate: USER_BEHAVIOR,
        receipts: false,
        job: &["uv", "--out-of-orderness", "10s"],
        commits_mid_run: true,
    },
    Case {
        name: "funnel",
        // Its days reach back a day: the input spans eleven.
        generate: &[
            "gen",
            "user-behavior",
            "--rows",
            "400000",
            "--items",
            "2000",
            "--categories",
            "50",
            "--users",
            "5000",
            "--rate",
            "0.4",
            "--disorder",
            "20s",
        ],
        receipts: false,
        job: &["funnel", "--out-of-orderness", "10s"],
        commits_mid_run: true,
    },
    Case {
        name: "user-profile",
        generate: USER_BEHAVIOR,
        receipts: false,
        job: &[
            "user-profile",
            "--horizon",
            "2h",
            "--out-of-orderness",
            "10s",
        ],
        commits_mid_run: true,
    },
    Case {
        name: "recommend",
        generate: USER_BEHAVIOR,
        receipts: false,
        job: &["recommend", "--horizon", "2h", "--out-of-orderness", "10s"],
        commits_mid_run: false,
    },
    Case {
        name: "hot-pages",
        generate: &[
            "gen",
            "apache-log",
            "--rows",
            "200000",
            "--seed",
            "11",
            "--rate",
            "4",
            "--urls",
            "300",
            "--disorder",
            "90s",
            "--shuffle-minute",
        ],
        receipts: false,
        job: &[
            "hot-pages",
            "--window",
            "10m",
            "--slide",
            "1m",
            "--out-of-orderness",
            "3s",
            "--allowed-lateness",
            "1m",
        ],
        commits_mid_run: true,
    },
    Case {
        name: "app-marketing",
        generate: &["gen", "marketing", "--rows", "400000", "--rate", "4"],
        receipts: false,
        job: &["app-marketing", "--window", "1h", "--slide", "10m"],
        commits_mid_run: true,
    },
    Case {
        name: "ad-stats",
        generate: &[
            "gen",
            "ad-clicks",
            "--rows",
            "400000",
            "--rate",
            "0.4",
            "--disorder",
            "30s",
        ],
        receipts: false,
        job: &[
            "ad-stats",
            "--window",
            "1h",
            "--slide",
            "10m",
            "--out-of-orderness",
            "1m",
        ],
        commits_mid_run: true,
    },
    Case {
        name: "login-fail",
        generate: &[
            "gen",
            "login",
            "--rows",
            "400000",
            "--rate",
            "2",
            "--disorder",
            "2s",
        ],
        receipts: false,
        job: &["login-fail"],
        commits_mid_run: true,
    },
    Case {
        name: "order-timeout",
        generate: &[
            "gen",
            "orders",
            "--rows",
            "400000",
            "--rate",
            "4",
            "--disorder",
            "20s",
        ],
        receipts: false,
        job: &[
            "order-timeout",
            "--retention",
            "30m",
            "--out-of-orderness",
            "30s",
        ],
        commits_mid_run: true,
    },
    Case {
        name: "tx-match",
        generate: &["gen", "orders", "--rows", "400000", "--rate", "4"],
        receipts: true,
        job: &["tx-match", "--retention", "30m"],
        commits_mid_run: true,
    },
];

fn resumes_within_its_horizon(case: &Case) {
    let dir = scratch(&format!("resume-{}", case.name));
    let input = dir.join("input.csv");
    let receipts = dir.join("receipts.csv");
    let mut generate: Vec<&str> = case.generate.to_vec();
    generate.extend(["--out", input.to_str().unwrap()]);
    if case.receipts {
        generate.extend(["--receipts", receipts.to_str().unwrap()]);
    }
    ok(&generate);
    let mut inputs = vec![input.to_str().unwrap()];
    if case.receipts {
        inputs.push(receipts.to_str().unwrap());
    }
    let run = |db: &str, side: &str, extra: &[&str], env: &[(&str, String)]| {
        let (db, rejects, late) = (
            dir.join(db),
            dir.join(format!("rejects-{side}.csv")),
            dir.join(format!("late-{side}.csv")),
        );
        let mut args: Vec<String> = vec![case.job[0].into()];
        args.extend(inputs.iter().map(|s| s.to_string()));
        args.extend(case.job[1..].iter().map(|s| s.to_string()));
        for (flag, path) in [("--sink", &db), ("--rejects", &rejects), ("--late", &late)] {
            let value = path.to_str().unwrap();
            args.push(flag.into());
            args.push(if flag == "--sink" {
                format!("sqlite:{value}")
            } else {
                value.into()
            });
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        std::process::Command::new(env!("CARGO_BIN_EXE_uba"))
            .args(&args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("running uba")
    };
    let whole = run("whole.db", "whole", &[], &[]);
    assert!(whole.status.success(), "{}: {}", case.name, stderr(&whole));
    let size = std::fs::metadata(&input).unwrap().len();
    let failing = run(
        "resumed.db",
        "resumed",
        &[],
        &[("UBA_FAULT_READ_AFTER", (size * 6 / 10).to_string())],
    );
    assert_eq!(
        failing.status.code(),
        Some(1),
        "{}: {}",
        case.name,
        stderr(&failing)
    );
    let resumed = run("resumed.db", "resumed", &["--resume"], &[]);
    let err = stderr(&resumed);
    assert!(resumed.status.success(), "{}: {err}", case.name);

    assert_eq!(
        sqlite_tables(&dir.join("resumed.db")),
        sqlite_tables(&dir.join("whole.db")),
        "{}",
        case.name
    );
    assert_eq!(
        accounting_lines(&err),
        accounting_lines(&stderr(&whole)),
        "{}",
        case.name
    );
    for kind in ["rejects", "late"] {
        let read =
            |side: &str| std::fs::read_to_string(dir.join(format!("{kind}-{side}.csv"))).unwrap();
        assert_eq!(
            read("resumed"),
            read("whole"),
            "{}: the {kind} files",
            case.name
        );
    }
    if !case.commits_mid_run {
        assert!(!err.contains("resumed at line"), "{}: {err}", case.name);
        return;
    }
    // Where the first input resumed: after its start, and the lines read again plus those
    // before that line are the whole input.
    let total: u64 = std::fs::read_to_string(&input).unwrap().lines().count() as u64;
    let (line, read) = err
        .lines()
        .find(|l| l.contains("input.csv: resumed at line "))
        .and_then(|l| {
            let rest = l.split("resumed at line ").nth(1)?;
            let (line, rest) = rest.split_once(": ")?;
            Some((
                line.parse::<u64>().ok()?,
                rest.split(' ').next()?.parse::<u64>().ok()?,
            ))
        })
        .unwrap_or_else(|| panic!("{}: no resume line in {err}", case.name));
    assert_eq!(line - 1 + read, total, "{}: {err}", case.name);
    // The input failed at 60% of its bytes, read in blocks of a megabyte (3% of it), and the
    // horizon is a tenth of it at most: far fewer lines are read again than from the start.
    assert!(
        line > total * 3 / 10,
        "{}: resumed at line {line} of {total}: more than the horizon read again",
        case.name
    );
}

fn case(name: &str) -> &'static Case {
    CASES.iter().find(|c| c.name == name).unwrap()
}

/// One test per job, so that they run side by side and a failure names its job.
macro_rules! resumes {
    ($($test:ident: $job:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            resumes_within_its_horizon(case($job));
        }
    )*};
}

resumes! {
    hot_items_resumes_within_its_horizon: "hot-items",
    pv_resumes_within_its_horizon: "pv",
    uv_resumes_within_its_horizon: "uv",
    funnel_resumes_within_its_horizon: "funnel",
    user_profile_resumes_within_its_horizon: "user-profile",
    recommend_resumes_within_its_horizon: "recommend",
    hot_pages_resumes_within_its_horizon: "hot-pages",
    app_marketing_resumes_within_its_horizon: "app-marketing",
    ad_stats_resumes_within_its_horizon: "ad-stats",
    login_fail_resumes_within_its_horizon: "login-fail",
    order_timeout_resumes_within_its_horizon: "order-timeout",
    tx_match_resumes_within_its_horizon: "tx-match",
}
