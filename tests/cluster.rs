//! `uba cluster` and per-process inputs: what users do to run a job on several processes.

mod common;

use common::*;

fn split_sample(dir: &std::path::Path) -> (String, String) {
    let text = std::fs::read_to_string(tutorial("UserBehavior.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let a = write(&dir.join("a.csv"), &(lines[..half].join("\n") + "\n"));
    let b = write(&dir.join("b.csv"), &(lines[half..].join("\n") + "\n"));
    (a, b)
}

#[test]
fn the_cluster_launcher_gives_the_single_process_output() {
    let input = tutorial("UserBehavior.csv");
    let single = ok(&["hot-items", &input, "--format", "csv"]);
    let launched = ok(&[
        "cluster",
        "--processes",
        "2",
        "--workers",
        "2",
        "hot-items",
        &input,
        "--format",
        "csv",
    ]);
    assert_eq!(launched, single);
}

#[test]
fn each_process_may_read_its_own_files() {
    // Two halves of an ordered file: each file has its own watermark and the job waits for the
    // slower one, so the output is that of the whole file, for any way of reading them.
    let dir = scratch("cluster-split");
    let (a, b) = split_sample(&dir);
    let whole = ok(&[
        "hot-items",
        &tutorial("UserBehavior.csv"),
        "--format",
        "csv",
    ]);
    let both = format!("{a},{b}");
    assert_eq!(
        ok(&["hot-items", "--inputs", &both, "--format", "csv"]),
        whole
    );
    assert_eq!(
        ok(&["hot-items", "--inputs", &both, "--format", "csv", "-w", "3"]),
        whole
    );
    let split = ok(&[
        "cluster",
        "--processes",
        "2",
        "--split-inputs",
        &both,
        "hot-items",
        "--format",
        "csv",
    ]);
    assert_eq!(split, whole);
}

#[test]
fn a_failing_process_stops_the_cluster_and_is_named() {
    let out = uba(&[
        "cluster",
        "--processes",
        "2",
        "hot-items",
        "/no/such/input.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("process 0 failed"), "{err}");
    assert!(
        err.contains("cannot open input '/no/such/input.csv'"),
        "{err}"
    );
}
