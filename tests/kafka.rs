//! Kafka topics as inputs, against a real broker (Tansu, `tests/common/broker.rs`): a topic's
//! partitions give what the same lines give as files, on one worker, two, and two processes; a
//! live topic is read as records come until SIGTERM; a broker lost mid-run is waited for and read
//! on from the same offsets; and the wrong inputs are one sentence each.

mod common;

use std::path::Path;

use common::broker::{Broker, Proxy};
use common::*;

/// Writes line `i` of `text` to file `i % parts` (as `uba produce` sends it to partition
/// `i % parts`); returns the files, comma-separated, for `--inputs`.
fn split(dir: &Path, text: &str, parts: usize) -> String {
    (0..parts)
        .map(|part| {
            let lines: String = text
                .lines()
                .skip(part)
                .step_by(parts)
                .map(|l| format!("{l}\n"))
                .collect();
            write(&dir.join(format!("part-{part}.csv")), &lines)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `uba produce FILE URL`, asserting success.
fn produce(file: &str, url: &str) {
    ok(&["produce", file, url]);
}

/// hot-items and order-timeout over a topic of 2 partitions filled by `uba produce` write what
/// they write over the same lines split the same way into 2 files (`--inputs`): every row, and
/// every rejected line (same partition or file number, same line number), on `-w 1`, `-w 2` and
/// 2 processes (each reading one partition).
#[test]
fn a_topic_gives_the_rows_of_the_same_lines_in_files() {
    let Some(broker) = Broker::start("a_topic_gives_the_rows_of_the_same_lines_in_files", None)
    else {
        return;
    };
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/user-behavior-small.csv");
    let orders = tutorial("OrderLog.csv");
    for (job, input, flags) in [
        ("hot-items", small.to_str().unwrap(), &["--top", "3"][..]),
        (
            "order-timeout",
            orders.as_str(),
            &["--out-of-orderness", "6s"][..],
        ),
    ] {
        let dir = scratch(&format!("kafka-{job}"));
        let files = split(&dir, &std::fs::read_to_string(input).unwrap(), 2);
        let url = broker.topic(job, 2);
        produce(input, &url);
        let args = [&[job, "--format", "csv"][..], flags].concat();
        let expected = ok(&[&args[..], &["--inputs", &files]].concat());
        assert!(expected.lines().count() > 5, "{job}: {expected}");
        let from_topic = [&args[..], &[url.as_str(), "--until-end"]].concat();
        for workers in ["1", "2"] {
            assert!(
                ok(&[&from_topic[..], &["-w", workers]].concat()) == expected,
                "{job} -w {workers}: the topic's rows differ from the files'"
            );
        }
        assert!(
            cluster(&from_topic, 2, 1) == expected,
            "{job}, 2 processes: the topic's rows differ from the files'"
        );
    }
}

/// A record that is not a valid row is rejected as a line of its partition: the source names
/// the partition, the line number is the record's offset + 1.
#[test]
fn a_bad_record_is_rejected_with_its_partition_and_offset() {
    let Some(broker) = Broker::start(
        "a_bad_record_is_rejected_with_its_partition_and_offset",
        None,
    ) else {
        return;
    };
    let dir = scratch("kafka-rejects");
    let small = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/user-behavior-small.csv"),
    )
    .unwrap();
    let mut lines: Vec<&str> = small.lines().take(11).collect();
    // Line 5 goes to partition 1 (5 % 2), as its third record: offset 2.
    lines[5] = "not,a,row";
    let input = write(&dir.join("in.csv"), &(lines.join("\n") + "\n"));
    let url = broker.topic("rejects", 2);
    produce(&input, &url);
    let (out, rows) = run_with_rejects(&dir, &["pv", &url, "--until-end", "--format", "csv"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], format!("{url}/1"));
    assert_eq!(rows[0][1], "3");
    assert!(
        stderr(&out).contains(&format!("{url}/1: 5 lines read: 4 accepted")),
        "{}",
        stderr(&out)
    );
}

/// pv over the records of a live topic: the first part produced before the job starts (1200
/// records a partition: a reader holds its first 1000 rows back to anchor its time guard), the rest
/// while it runs (after `between`); SIGTERM then stops it as Ctrl-C does, firing the pending
/// windows: its output is that of all the lines read at once from a file.
fn live_run(url: &str, between: impl FnOnce(&mut Live)) -> String {
    let dir = scratch(&format!("kafka-live-{}", url.rsplit('/').next().unwrap()));
    let whole = gen_file(
        &dir.join("whole.csv"),
        "user-behavior --rows 4000 --rate 2 --items 500 --categories 50",
    );
    let args = ["pv", "--window", "1m", "--format", "csv"];
    let expected = ok(&[&args[..], &[whole.as_str()]].concat());
    let text = std::fs::read_to_string(&whole).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, rest) = lines.split_at(2400);
    let first = write(&dir.join("first.csv"), &(first.join("\n") + "\n"));
    let rest = write(&dir.join("rest.csv"), &(rest.join("\n") + "\n"));
    produce(&first, url);
    let mut job = Live::start(&[&args[..], &[url]].concat());
    // The first part's windows come while the topic stays open.
    job.wait_output(3);
    between(&mut job);
    produce(&rest, url);
    let total = expected.lines().count();
    job.wait_output(total - 2);
    let (output, err) = job.terminate();
    assert_eq!(output, expected);
    for partition in [0, 1] {
        assert!(
            err.contains(&format!(
                "{url}/{partition}: 2000 lines read: 2000 accepted"
            )),
            "{err}"
        );
    }
    err
}

#[test]
fn a_live_topic_is_read_as_records_come_until_sigterm() {
    let Some(broker) = Broker::start("a_live_topic_is_read_as_records_come_until_sigterm", None)
    else {
        return;
    };
    live_run(&broker.topic("live", 2), |_| {});
}

/// The broker lost in the middle of a live run (a proxy between uba and the broker cut): uba
/// says so once, waits, and reads on from the same offsets when it is back: the output is the
/// uncut run's, every record read once.
#[test]
fn a_lost_broker_is_waited_for_and_read_on_from_the_same_offsets() {
    let proxy = Proxy::new();
    let Some(broker) = Broker::start(
        "a_lost_broker_is_waited_for_and_read_on_from_the_same_offsets",
        Some(proxy.port),
    ) else {
        return;
    };
    let mut proxy = proxy.to(&broker.address);
    let err = live_run(&broker.topic("cut", 2), |job| {
        proxy.cut();
        job.wait_error("is lost");
        proxy.restore();
        job.wait_error("is back");
    });
    assert!(err.contains("is lost"), "{err}");
}

#[test]
fn a_broker_that_is_down_is_one_sentence_naming_it() {
    let address = format!("127.0.0.1:{}", free_port());
    let first = assert_user_error(&["pv", &format!("kafka://{address}/t"), "--until-end"]);
    assert!(
        first.starts_with(&format!("uba: cannot reach the Kafka broker at {address}")),
        "{first}"
    );
}

#[test]
fn an_unknown_topic_is_one_sentence_naming_the_topics_there() {
    let Some(broker) = Broker::start(
        "an_unknown_topic_is_one_sentence_naming_the_topics_there",
        None,
    ) else {
        return;
    };
    broker.topic("hotitems", 1);
    broker.topic("orders", 1);
    let first = assert_user_error(&["pv", &format!("kafka://{}/hot", broker.advertised)]);
    assert_eq!(
        first,
        format!(
            "uba: the Kafka broker at {} has no topic 'hot' (its topics: hotitems, orders)",
            broker.advertised
        )
    );
}

/// hot-items from a topic of 2 partitions into a table, killed (SIGKILL) at ten seeded points
/// while it reads (paced with `--replay-rate`) and resumed each time: each resume reads on from
/// the partitions' committed offsets, and the end is the table, and the accounting, of a run
/// never interrupted.
#[test]
fn a_topic_run_killed_ten_times_ends_as_if_never_killed() {
    let Some(broker) = Broker::start("a_topic_run_killed_ten_times_ends_as_if_never_killed", None)
    else {
        return;
    };
    let dir = scratch("kafka-killed");
    let whole = gen_file(
        &dir.join("whole.csv"),
        "user-behavior --rows 200000 --rate 20 --items 2000 --categories 50 --disorder 10s",
    );
    let url = broker.topic("killed", 2);
    produce(&whole, &url);
    let job = [
        "hot-items",
        &url,
        "--until-end",
        "--window",
        "10m",
        "--slide",
        "1m",
    ];
    let sink = |name: &str| format!("sqlite:{}", dir.join(name).display());
    let uninterrupted = uba(&[&job[..], &["--sink", &sink("whole.db")]].concat());
    assert!(uninterrupted.status.success(), "{}", stderr(&uninterrupted));
    let killed = sink("killed.db");
    let run: Vec<&str> = [&job[..], &["--sink", &killed, "--replay-rate", "400000"]].concat();
    let resume: Vec<&str> = [run.as_slice(), &["--resume"]].concat();
    let mut seed = 29u64;
    let mut resumed = false;
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_uba"))
            .args(if resumed { &resume } else { &run })
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50 + seed % 100));
        // Until both partitions have a committed checkpoint, the run goes on (at most 20 s, or
        // to its end): on a loaded machine ten kills at random can all come before the first.
        let started = std::time::Instant::now();
        while checkpointed_inputs(&dir.join("killed.db")) < 2
            && started.elapsed() < std::time::Duration::from_secs(20)
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        resumed |= dir.join("killed.db").exists();
    }
    let out = uba(&[&job[..], &["--sink", &killed, "--resume"]].concat());
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        sqlite_tables(&dir.join("killed.db")),
        sqlite_tables(&dir.join("whole.db"))
    );
    assert_eq!(
        accounting_lines(&err),
        accounting_lines(&stderr(&uninterrupted))
    );
    let resumed_at: Vec<u64> = err
        .lines()
        .filter_map(|l| {
            l.split("resumed at line ")
                .nth(1)?
                .split(':')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(
        resumed_at.len(),
        2,
        "both partitions resume from checkpoints: {err}"
    );
    assert!(resumed_at.iter().all(|&line| line > 1), "{err}");
}
