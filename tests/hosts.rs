//! A cluster of real hosts on this machine (`tests/common/hosts.rs`: network namespaces, each with
//! its own address, joined by a bridge): a run across them equals one process with as many
//! workers; a host that never comes, a process of another cluster, a cut link and a stopped host
//! each end every other process with one sentence, the documented exit code and no output that
//! looks complete. (Killed and resumed across hosts, and a PostgreSQL host: `tests/sinks.rs`.)

mod common;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use common::hosts::Network;
use common::{free_port, gen_file, ok, scratch, stderr, tutorial};

/// The hosts of test `tag`, or `None` where the machine cannot make them (not root, no `ip`)
/// and `UBA_REQUIRE` does not name `netns`.
fn network(tag: &str, count: usize) -> Option<Network> {
    common::require("netns", tag, Network::new(tag, count))
}

/// Starts process `p` of a cluster on host `p`, with `args` and the cluster's flags.
fn start_on(net: &Network, p: usize, n: usize, hostfile: &Path, args: &[&str]) -> Child {
    net.command(p, env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .args(["-n", &n.to_string(), "-p", &p.to_string(), "--hostfile"])
        .arg(hostfile)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child`, at most `limit` ([`common::wait_for`]), and takes its output.
fn finished(mut child: Child, limit: Duration) -> Output {
    common::wait_for(&mut child, limit, "a process of the cluster");
    child.wait_with_output().unwrap()
}

#[test]
fn three_hosts_reading_their_own_inputs_equal_three_workers_on_one() {
    let Some(net) = network("three", 3) else {
        return;
    };
    let dir = scratch("hosts-three");
    let files: Vec<String> = (0..3)
        .map(|i| {
            gen_file(
                &dir.join(format!("day{i}.csv")),
                &format!(
                    "user-behavior --rows 30000 --items 500 --categories 50 --rate 2 --seed {}",
                    i + 1
                ),
            )
        })
        .collect();
    let args = ["hot-items", "--format", "csv", "--top", "3"];
    let single = ok(&[&args[..], &["-w", "3", "--inputs", &files.join(",")]].concat());
    assert!(single.lines().count() > 100, "{single}");
    let hostfile = net.hostfile(&dir, 3, free_port());
    let children: Vec<Child> = (0..3)
        .map(|p| {
            start_on(
                &net,
                p,
                3,
                &hostfile,
                &[&args[..], &["--inputs", &files[p]]].concat(),
            )
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| finished(c, Duration::from_secs(60)))
        .collect();
    for (p, out) in outs.iter().enumerate() {
        assert!(out.status.success(), "process {p}: {}", stderr(out));
    }
    assert_eq!(String::from_utf8_lossy(&outs[0].stdout), single);
}

#[test]
fn a_host_that_never_comes_is_named_by_the_others_after_the_deadline() {
    let Some(net) = network("never", 2) else {
        return;
    };
    let dir = scratch("hosts-never");
    let port = free_port();
    let hostfile = net.hostfile(&dir, 2, port);
    let output = dir.join("out.csv");
    let sample = tutorial("UserBehavior.csv");
    let args = [
        "pv",
        &sample,
        "--connect-timeout",
        "2s",
        "--output",
        output.to_str().unwrap(),
    ];
    // Process 0 waits for process 1 to call; process 1 calls process 0 in vain.
    for (p, sentence) in [
        (
            0,
            format!(
                "uba: process 0 waited 2s at {}:{port} for process 1 ({}:{port}) to connect, in vain",
                net.address(0),
                net.address(1)
            ),
        ),
        (
            1,
            format!(
                "uba: process 1 waited 2s for process 0 at {}:{port}, which did not answer",
                net.address(0)
            ),
        ),
    ] {
        let out = finished(
            start_on(&net, p, 2, &hostfile, &args),
            Duration::from_secs(30),
        );
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains(&sentence), "{}", stderr(&out));
        assert!(!output.exists() && !dir.join("out.csv.partial").exists());
    }
}

#[test]
fn a_process_of_another_cluster_is_refused_on_both_sides() {
    let Some(net) = network("other", 2) else {
        return;
    };
    let dir = scratch("hosts-other");
    // Another build: the same program with one byte more, which hashes otherwise.
    let other = dir.join("uba-other");
    let mut bytes = std::fs::read(env!("CARGO_BIN_EXE_uba")).unwrap();
    bytes.push(0);
    std::fs::write(&other, bytes).unwrap();
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sample = tutorial("UserBehavior.csv");
    let base = ["hot-items", &sample, "--top", "3"];
    for (program, args, differs) in [
        (
            env!("CARGO_BIN_EXE_uba").as_ref(),
            ["hot-items", &sample, "--top", "4"],
            "it runs with the arguments '--top 4', this process '--top 3'",
        ),
        (other.as_path(), base, "it runs uba "),
    ] {
        let hostfile = net.hostfile(&dir, 2, free_port());
        let first = start_on(&net, 0, 2, &hostfile, &base);
        let second = net
            .command(1, program)
            .args(args)
            .args(["-n", "2", "-p", "1", "--hostfile"])
            .arg(&hostfile)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (first, second) = (
            finished(first, Duration::from_secs(30)),
            finished(second, Duration::from_secs(30)),
        );
        for (out, me, them) in [(&first, 0, 1), (&second, 1, 0)] {
            let err = stderr(out);
            assert_eq!(out.status.code(), Some(2), "{err}");
            assert!(
                err.starts_with(&format!(
                    "uba: process {me} refused process {them} at {}:",
                    net.address(them)
                )) && err.contains(", which is not of its cluster: it runs "),
                "{err}"
            );
        }
        assert!(stderr(&first).contains(differs), "{}", stderr(&first));
        assert!(first.stdout.is_empty());
    }
}

/// A two-host run, slowed so that it lasts, that `fault` strikes once it has started: process 0
/// (and process 1 too where `both`) stops with exit 3 within the peer timeout, naming the host it
/// lost, and no output file looks complete.
fn lost_mid_run(tag: &str, both: bool, fault: impl FnOnce(&Network, &mut [Child])) {
    let Some(net) = network(tag, 2) else {
        return;
    };
    let dir = scratch(&format!("hosts-{tag}"));
    let hostfile = net.hostfile(&dir, 2, free_port());
    let output = dir.join("out.csv");
    let sample = tutorial("UserBehavior.csv");
    let args = [
        "hot-items",
        &sample,
        "--replay-rate",
        "5000",
        "--peer-timeout",
        "2s",
        "--output",
        output.to_str().unwrap(),
    ];
    let mut children: Vec<Child> = (0..2)
        .map(|p| start_on(&net, p, 2, &hostfile, &args))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    for child in &mut children {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the fault"
        );
    }
    fault(&net, &mut children);
    // Process 1, where `both`, is cut off from process 0 as process 0 is from it.
    for (me, them) in [(0, 1), (1, 0)].into_iter().take(if both { 2 } else { 1 }) {
        let out = finished(children.remove(0), Duration::from_secs(20));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "process {me}: {err}");
        assert!(
            err.contains(&format!(
                "uba: process {me} heard nothing from process {them} at {}:",
                net.address(them)
            )) || err.contains(&format!(
                "uba: process {me} lost its connection to process {them}"
            )),
            "{err}"
        );
        if me == 0 {
            assert!(!output.exists(), "{err}");
            assert!(err.contains("out.csv was not written"), "{err}");
        }
    }
}

#[test]
fn a_cut_link_stops_both_sides() {
    lost_mid_run("cut", true, |net, _| net.cut(1));
}

#[test]
fn a_stopped_host_stops_the_others() {
    lost_mid_run("stop", false, |_, children| {
        let pid = children[1].id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-STOP", &pid])
                .status()
                .unwrap()
                .success()
        );
    });
}
