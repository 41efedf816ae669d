//! Every job's `--help` states its rule: the help is written once, as the doc comment of the
//! job's `Args`, and this test fails if a job's rule is missing from what a user sees.

mod common;

use common::*;

/// Each job, and a phrase of its rule that its long help must contain (whitespace-insensitive:
/// clap wraps lines to the terminal).
const RULES: &[(&str, &str)] = &[
    (
        "hot-items",
        "Ties: count descending, then item id ascending (as numbers)",
    ),
    (
        "hot-pages",
        "Ranking: count descending, then URL ascending (as strings, byte order)",
    ),
    ("pv", "A window with no pv row prints nothing"),
    (
        "uv",
        "Counts the distinct userIds among the pv rows of a UserBehavior csv",
    ),
    (
        "app-marketing",
        "ordered by count descending, then channel ascending, then behavior",
    ),
    ("ad-stats", "the first --max-clicks clicks pass"),
    (
        "login-fail",
        "Every run is reported, overlapping ones too, at its last fail",
    ),
    (
        "order-timeout",
        "The earliest create c and earliest pay p of an order decide",
    ),
    (
        "tx-match",
        "The earliest pay p and receipt r of a txId match when p - before <= r <= p + after",
    ),
    (
        "funnel",
        "a repeat buyer having two or more buys that day in that scope",
    ),
    (
        "user-profile",
        "Segments, from the events in the horizon: repeat-buyer (>= 2 buys)",
    ),
    ("recommend", "ties go to the smaller item id"),
    ("parse", "Reads an input and does nothing else"),
];

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_job_help_states_its_rule() {
    for (job, rule) in RULES {
        let help = squeeze(&ok(&[job, "--help"]));
        assert!(
            help.contains(&squeeze(rule)),
            "uba {job} --help does not state its rule {rule:?}:\n{help}"
        );
    }
}

#[test]
fn every_registered_job_is_checked_here() {
    // The subcommands `uba --help` lists, less the five that are not jobs.
    let help = ok(&["--help"]);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| !["run", "cluster", "gen", "report", "produce"].contains(name))
        .collect();
    let checked: Vec<&str> = RULES.iter().map(|(job, _)| *job).collect();
    assert_eq!(
        listed, checked,
        "a job is missing from RULES (or from the registry)"
    );
}
