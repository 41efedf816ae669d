//! The progress line: on a terminal by default, as plain lines with `--progress`, never with
//! `--quiet`, and never changing stderr when it is not a terminal and no flag asks for it.

mod common;

use std::time::Instant;

use common::*;

const ESC: char = '\u{1b}';

fn progress_lines(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| l.starts_with("uba: progress: "))
        .collect()
}

/// Stderr without its measurements (time, speed, memory), which differ between runs.
fn without_measurements(err: &str) -> Vec<String> {
    err.lines()
        .map(|l| match l.find(" rejected; ") {
            Some(at) => l[..at].to_owned(),
            None => l.to_owned(),
        })
        .collect()
}

#[test]
fn forced_progress_on_a_pipe_prints_plain_lines_then_the_usual_accounting() {
    let log = tutorial("apache.log");
    let size = std::fs::metadata(&log).unwrap().len();
    assert_eq!(size, 812_940);
    let out = uba(&["hot-pages", &log, "--progress"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(!err.contains(ESC), "{err:?}");
    let lines = progress_lines(&err);
    // A short run: only the last line, written when the input ended.
    assert_eq!(lines.len(), 1, "{err}");
    let blocks = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("== "))
        .count();
    assert_eq!(blocks, 4036);
    let last = lines[0];
    assert!(
        last.starts_with("uba: progress: 793.89 KiB of 793.89 KiB read (100%), 10,000 lines, "),
        "{last}"
    );
    assert!(
        last.contains(" lines/s, watermark 2015-05-20 21:05:56, 4,036 windows written, RSS "),
        "{last}"
    );
    // The progress line comes first, then exactly what a run without it writes.
    let rest: Vec<&str> = err.lines().skip(1).collect();
    assert_eq!(err.lines().next(), Some(last));
    let quiet = stderr(&uba(&["hot-pages", &log]));
    assert_eq!(
        without_measurements(&rest.join("\n")),
        without_measurements(&quiet)
    );

    // --tz applies to the watermark as to every time printed for people.
    let out = uba(&["hot-pages", &log, "--progress", "--tz", "+08:00"]);
    assert!(
        stderr(&out).contains(", watermark 2015-05-21 05:05:56, "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stdin_has_no_total_and_results_are_counted() {
    let orders = std::fs::read(tutorial("OrderLog.csv")).unwrap();
    let out = uba_stdin(&["order-timeout", "-", "--progress"], &orders);
    assert!(out.status.success());
    let err = stderr(&out);
    let rows = String::from_utf8(out.stdout).unwrap().lines().count();
    let lines = progress_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with(&format!(
            "uba: progress: {:.2} KiB read, 79 lines, ",
            orders.len() as f64 / 1024.0
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&format!(" {rows} results written, RSS ")),
        "{}",
        lines[0]
    );
}

#[test]
fn a_long_run_prints_a_line_at_most_once_a_second() {
    let input = tutorial("UserBehavior.csv");
    let started = Instant::now();
    // About 2.5 s: 10,000 lines at 4,000 lines a second.
    let dir = scratch("progress-long");
    let head: String = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .take(10_000)
        .map(|l| format!("{l}\n"))
        .collect();
    let head = write(&dir.join("head.csv"), &head);
    let out = uba(&["pv", &head, "--progress", "--replay-rate", "4000"]);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(out.status.success());
    let err = stderr(&out);
    let lines = progress_lines(&err);
    assert!(lines.len() >= 2, "{err}");
    assert!(lines.len() as f64 <= elapsed + 1.0, "{elapsed} s: {err}");
    assert!(lines.last().unwrap().contains("(100%), 10,000 lines, "));
    // Every progress line comes before the accounting line.
    let accounting = err
        .lines()
        .position(|l| l.contains(" lines read: "))
        .unwrap();
    assert_eq!(accounting, lines.len(), "{err}");
}

#[test]
fn without_a_terminal_stderr_stays_as_it_was_and_quiet_shows_nothing() {
    let log = tutorial("LoginLog.csv");
    let runs: Vec<String> = [&[][..], &["--quiet"]]
        .into_iter()
        .map(|extra| {
            let out = uba(&[&["login-fail", &log][..], extra].concat());
            assert!(out.status.success());
            stderr(&out)
        })
        .collect();
    for err in &runs {
        assert!(!err.contains(ESC) && !err.contains("progress"), "{err}");
        // The first late lines, then the accounting line, as before progress existed.
        assert_eq!(err.lines().count(), 5, "{err}");
        assert!(
            err.lines().last().unwrap().starts_with(&format!(
                "uba: {log}: 48 lines read: 48 accepted (44 used, 0 filtered, 4 late; 0 corrections), 0 rejected; "
            )),
            "{err}"
        );
    }
    assert_eq!(
        without_measurements(&runs[0]),
        without_measurements(&runs[1])
    );
}

#[test]
fn progress_and_quiet_together_are_a_user_error() {
    let log = tutorial("LoginLog.csv");
    let out = uba(&["login-fail", &log, "--progress", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "uba: --progress and --quiet contradict each other: give at most one of them\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn in_a_cluster_only_process_0_shows_progress() {
    let log = tutorial("apache.log");
    let out = uba(&[
        "cluster",
        "--processes",
        "2",
        "hot-pages",
        &log,
        "--format",
        "csv",
        "--progress",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let shown: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("uba: progress: "))
        .collect();
    // One a second while the processes connect, then the last one.
    assert!(
        shown
            .iter()
            .all(|l| l.starts_with("[process 0] uba: progress: ")),
        "{err}"
    );
    assert!(
        shown
            .last()
            .unwrap()
            .starts_with("[process 0] uba: progress: 793.89 KiB of 793.89 KiB read (100%)"),
        "{err}"
    );
}
