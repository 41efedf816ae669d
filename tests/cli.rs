//! What a person sees at the command line (issue 13): clap's complete messages, `-h`, flags that
//! do not apply, job files, a cluster's start, zones by name, and an installed binary.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;

/// Runs `uba ARGS` from `dir`, with the binary at `exe`.
fn uba_in(exe: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running uba")
}

fn assert_stderr(out: &Output, code: i32, expected: &str) {
    assert_eq!(stderr(out), expected);
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
}

#[test]
fn usage_errors_show_clap_complete_message() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["hot-pages"],
            "uba: the following required arguments were not provided:\n  <INPUT>\n\n\
             Usage: uba hot-pages <INPUT>\n\nFor more information, try '--help'.\n",
        ),
        (
            &["hot-items", "--formt", "csv"],
            "uba: unexpected argument '--formt' found\n\n  \
             tip: a similar argument exists: '--format'\n\n\
             Usage: uba hot-items --format <FORMAT> [INPUT]\n\nFor more information, try '--help'.\n",
        ),
        (
            &["hot-items", "--format", "xml"],
            "uba: invalid value 'xml' for '--format <FORMAT>'\n  \
             [possible values: text, csv, json]\n\nFor more information, try '--help'.\n",
        ),
        (
            &["hoti-tems"],
            "uba: unrecognized subcommand 'hoti-tems'\n\n  \
             tip: some similar subcommands exist: 'hot-pages', 'hot-items'\n\n\
             Usage: uba <COMMAND>\n\nFor more information, try '--help'.\n",
        ),
    ];
    for (args, expected) in cases {
        assert_stderr(&uba(args), 2, expected);
        assert_eq!(assert_user_error(args), expected.lines().next().unwrap());
    }
}

#[test]
fn job_files_report_clap_errors_and_unknown_keys_with_their_file() {
    let dir = scratch("cli-job-file-errors");
    let typo = write(
        &dir.join("typo.toml"),
        "job = \"pv\"\ninputs = [\"in.csv\"]\nwindw = \"1h\"\n",
    );
    assert_stderr(
        &uba(&["run", &typo]),
        2,
        &format!("uba: job file '{typo}': unknown key 'windw': pv has no --windw flag\n"),
    );
    let job = write(&dir.join("job.toml"), "job = \"hoti-tems\"\n");
    assert_stderr(
        &uba(&["run", &job]),
        2,
        &format!(
            "uba: job file '{job}': unrecognized subcommand 'hoti-tems'\n\n  \
             tip: some similar subcommands exist: 'hot-pages', 'hot-items'\n\n\
             Usage: uba <COMMAND>\n\nFor more information, try '--help'.\n"
        ),
    );
    // A wrong value in the file goes through the same path.
    let bad = write(
        &dir.join("bad.toml"),
        "job = \"pv\"\ninputs = [\"in.csv\"]\nformat = \"xml\"\n",
    );
    assert_stderr(
        &uba(&["run", &bad]),
        2,
        &format!(
            "uba: job file '{bad}': invalid value 'xml' for '--format <FORMAT>'\n  \
             [possible values: text, csv, json]\n\nFor more information, try '--help'.\n"
        ),
    );
}

#[test]
fn dash_h_alone_prints_help_and_with_a_value_is_the_hostfile() {
    let help = uba(&["hot-items", "--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--hostfile <FILE>"));
    for args in [
        &["hot-items", "-h"][..],
        &["hot-items", "-h", "--format", "csv"],
        &["hot-items", "--format", "csv", "-h"],
    ] {
        let out = uba(args);
        assert_eq!(out.status.code(), Some(0), "uba {args:?}: {}", stderr(&out));
        assert_eq!(out.stdout, help.stdout, "uba {args:?}");
    }
    let input = tutorial("UserBehavior.csv");
    for flag in ["-h", "--hostfile"] {
        assert_stderr(
            &uba(&["pv", &input, "-n", "2", flag, "/nonexistent/hosts.txt"]),
            2,
            "uba: cannot read hostfile '/nonexistent/hosts.txt': No such file or directory (os error 2)\n",
        );
    }
}

#[test]
fn flags_that_do_not_apply_are_errors() {
    let input = tutorial("UserBehavior.csv");
    let logins = tutorial("LoginLog.csv");
    let cases: [(&[&str], &str); 8] = [
        (
            &["login-fail", &logins, "--inputs", &logins],
            "uba: the argument '[INPUT]' cannot be used with '--inputs <A.csv,B.csv>'",
        ),
        (
            &["pv", &input, "-p", "1"],
            "uba: -p 1 is not a process of -n 1 (use 0 to 0)",
        ),
        (
            &["uv", &input, "--hll-precision", "30"],
            "uba: --hll-precision applies to --method hll, not to --method exact",
        ),
        (
            &["uv", &input, "--method", "hll", "--bloom-bits", "1024"],
            "uba: --bloom-bits applies to --method bloom, not to --method hll",
        ),
        (
            &["uv", &input, "--method", "bloom", "--hll-precision", "10"],
            "uba: --hll-precision applies to --method hll, not to --method bloom",
        ),
        (
            &["recommend", &input, "--changes", "--evaluate", "1511661600"],
            "uba: the argument '--changes' cannot be used with '--evaluate <T>'",
        ),
        (
            &[
                "recommend",
                &input,
                "--users",
                "1",
                "--evaluate",
                "1511661600",
            ],
            "uba: the argument '--users <USERS>' cannot be used with '--evaluate <T>'",
        ),
        (
            &["hot-items", &input, "--inputs", &input],
            "uba: give either INPUT or --inputs, not both: --inputs replaces INPUT",
        ),
    ];
    for (args, first_line) in cases {
        assert_eq!(assert_user_error(args), first_line, "uba {args:?}");
    }
    // --inputs stands for INPUT, also in the jobs that need an input.
    assert_eq!(
        ok(&["login-fail", "--inputs", &logins, "--format", "csv"]),
        ok(&["login-fail", &logins, "--format", "csv"])
    );
    // The flags still work with their method, and the job file runs.
    ok(&["uv", &input, "--method", "hll", "--hll-precision", "10"]);
    ok(&["uv", &input, "--method", "bloom", "--bloom-bits", "1024"]);
    ok(&[
        "run",
        &format!("{}/jobs/uv.toml", env!("CARGO_MANIFEST_DIR")),
    ]);
}

#[test]
fn job_file_outputs_are_relative_to_the_file() {
    let dir = scratch("cli-job-file-outputs");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    write(
        &dir.join("in.csv"),
        "1,10,100,pv,1511658000\nnot a row\n2,10,100,pv,1511658001\n3,10,100,pv,1511600000\n",
    );
    write(
        &dir.join("jobs/pv.toml"),
        "job = \"pv\"\ninputs = [\"../in.csv\"]\nformat = \"csv\"\noutput = \"out.csv\"\n\
         late = \"late.csv\"\nrejects = \"rejects.csv\"\nmax-time-jump = \"off\"\n",
    );
    let out = uba_in(
        Path::new(env!("CARGO_BIN_EXE_uba")),
        &dir,
        &["run", "jobs/pv.toml"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let read = |f: &str| std::fs::read_to_string(dir.join("jobs").join(f)).unwrap();
    assert_eq!(
        read("out.csv"),
        "window_start,window_end,pv,update,emitted_at\n\
         1511658000000,1511661600000,2,false,1511661599999\n"
    );
    assert_eq!(
        read("rejects.csv").lines().count(),
        2,
        "{}",
        read("rejects.csv")
    );
    assert_eq!(read("late.csv").lines().count(), 2, "{}", read("late.csv"));
    for f in ["out.csv", "late.csv", "rejects.csv"] {
        assert!(
            !dir.join(f).exists(),
            "{f} was written to the working directory"
        );
    }
    // `-` stays stdout.
    let out = uba_in(
        Path::new(env!("CARGO_BIN_EXE_uba")),
        &dir,
        &["run", "jobs/pv.toml", "--output", "-"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    write(
        &dir.join("jobs/stdout.toml"),
        "job = \"pv\"\ninputs = [\"../in.csv\"]\nformat = \"csv\"\noutput = \"-\"\n",
    );
    let out = uba_in(
        Path::new(env!("CARGO_BIN_EXE_uba")),
        &dir,
        &["run", "jobs/stdout.toml"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("window_start,"));
}

#[test]
fn a_normal_cluster_start_prints_no_error() {
    let input = tutorial("UserBehavior.csv");
    let single = ok(&["pv", &input, "--format", "csv"]);
    for processes in ["2", "3"] {
        let out = uba(&[
            "cluster",
            "--processes",
            processes,
            "pv",
            &input,
            "--format",
            "csv",
        ]);
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), single);
        for line in err.lines() {
            assert!(!line.to_lowercase().contains("error"), "{err}");
            assert!(
                line.starts_with("[process ") && line.contains("] uba: "),
                "{err}"
            );
        }
    }
    // A real error is still shown, with its process.
    let out = uba(&["cluster", "--processes", "2", "pv", "/nonexistent.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).ends_with(
        "uba: process 0 failed (exit status: 2): cannot open input '/nonexistent.csv': No such file or directory (os error 2); stopped the other processes\n"
    ), "{}", stderr(&out));
}

#[test]
fn time_zones_by_name() {
    let input = tutorial("UserBehavior.csv");
    // Without daylight saving time, a name prints exactly what its offset prints.
    let by_offset = ok(&["pv", &input, "--tz", "+08:00"]);
    assert!(
        by_offset
            .starts_with("== page views | window 2017-11-26 09:00:00 .. 2017-11-26 10:00:00 ==")
    );
    assert_eq!(ok(&["pv", &input, "--tz", "Asia/Shanghai"]), by_offset);
    let clicks = tutorial("AdClickLog.csv");
    assert_eq!(
        ok(&[
            "ad-stats",
            &clicks,
            "--day-tz",
            "Asia/Shanghai",
            "--format",
            "csv"
        ]),
        ok(&["ad-stats", &clicks, "--day-tz", "+08:00", "--format", "csv"])
    );
    assert_stderr(
        &uba(&["pv", &input, "--tz", "Asia/Shangai"]),
        2,
        "uba: --tz: 'Asia/Shangai' is not a time zone (examples: UTC, +08:00, -0500, Asia/Shanghai)\n",
    );
    assert_stderr(
        &uba(&["ad-stats", &clicks, "--day-tz", "Mars/Olympus"]),
        2,
        "uba: --day-tz: 'Mars/Olympus' is not a time zone (examples: UTC, +08:00, -0500, Asia/Shanghai)\n",
    );
    assert_stderr(
        &uba(&["funnel", &input, "--day-tz", "Asia/Kolkata"]),
        2,
        "uba: --day-tz Asia/Kolkata is not always a whole number of windows away from UTC: days must be unions of windows\n",
    );
}

#[test]
fn a_day_with_a_daylight_saving_change_has_23_hours() {
    // Paris moved to summer time on 2024-03-31: that day is 2024-03-30 23:00 to 2024-03-31
    // 22:00 UTC. One view at its first hour, one at its last, one the next day.
    let dir = scratch("cli-dst-day");
    let input = write(
        &dir.join("in.csv"),
        "1,10,100,pv,1711841400\n2,10,100,pv,1711920600\n3,10,100,pv,1711924200\n",
    );
    let out = ok(&[
        "funnel",
        &input,
        "--day-tz",
        "Europe/Paris",
        "--overall-only",
        "--format",
        "csv",
    ]);
    let days: Vec<Vec<String>> = csv_rows(&out)
        .into_iter()
        .filter(|r| r.get(2).is_some_and(|s| s == "day"))
        .collect();
    let spans: Vec<[&str; 3]> = days
        .iter()
        .map(|d| [d[0].as_str(), d[1].as_str(), d[4].as_str()])
        .collect();
    // 2024-03-31: 23 hours, two viewers; 2024-04-01 (fired at the end of the input): 24 hours.
    assert_eq!(
        spans,
        [
            ["1711839600000", "1711922400000", "2"],
            ["1711922400000", "1712008800000", "1"]
        ],
        "{out}"
    );
}

#[test]
fn an_installed_binary_needs_no_build_directory() {
    // An installed uba: the binary alone, run from an empty directory.
    let dir = scratch("cli-installed");
    let exe = dir.join("uba");
    std::fs::copy(env!("CARGO_BIN_EXE_uba"), &exe).unwrap();
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    assert_stderr(
        &uba_in(&exe, &work, &["hot-items"]),
        2,
        "uba: no input given, and no sample data/user-behavior.csv in this directory: name an \
         input file (or - for stdin), or write the sample with `mkdir -p data && uba gen \
         user-behavior --rows 100000 --seed 1 --out data/user-behavior.csv`\n",
    );
    // The command the error gives writes the repository's sample, byte for byte.
    std::fs::create_dir_all(work.join("data")).unwrap();
    let generated = uba_in(
        &exe,
        &work,
        &[
            "gen",
            "user-behavior",
            "--rows",
            "100000",
            "--seed",
            "1",
            "--out",
            "data/user-behavior.csv",
        ],
    );
    assert!(generated.status.success(), "{}", stderr(&generated));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/user-behavior.csv");
    assert!(
        std::fs::read(work.join("data/user-behavior.csv")).unwrap()
            == std::fs::read(sample).unwrap(),
        "the generated sample differs from data/user-behavior.csv"
    );
    let there = uba_in(&exe, &work, &["pv", "--format", "csv"]);
    assert!(there.status.success(), "{}", stderr(&there));
    assert_eq!(
        String::from_utf8(there.stdout).unwrap(),
        ok(&["pv", "--format", "csv"])
    );
}

/// `--follow`: the lines appended to a file are read as they come (one of them written in two
/// pieces), and its rotation followed (renamed, a new file at the path); SIGTERM then stops it as
/// Ctrl-C does, firing the pending windows: the output is that of the whole input read at once.
#[test]
fn a_followed_file_is_read_as_it_grows_and_through_a_rotation() {
    use std::io::Write;
    let dir = scratch("follow");
    let whole = gen_file(
        &dir.join("whole.csv"),
        "user-behavior --rows 3000 --rate 2 --items 500 --categories 50",
    );
    let text = std::fs::read_to_string(&whole).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, rest) = lines.split_at(1200);
    let (second, third) = rest.split_at(900);
    let joined = |part: &[&str]| part.iter().map(|l| format!("{l}\n")).collect::<String>();
    let args = ["pv", "--window", "1m", "--format", "csv"];
    let expected = ok(&[&args[..], &[whole.as_str()]].concat());
    let live = dir.join("live.csv");
    std::fs::write(&live, joined(first)).unwrap();
    let live_path = live.to_string_lossy().into_owned();
    let mut job = Live::start(&[&args[..], &[live_path.as_str(), "--follow"]].concat());
    // The first part's windows come while the file stays open.
    job.wait_output(3);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&live)
        .unwrap();
    let second = joined(second);
    let (a, b) = second.split_at(second.len() / 2 + 3);
    file.write_all(a.as_bytes()).unwrap();
    file.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    file.write_all(b.as_bytes()).unwrap();
    drop(file);
    std::fs::rename(&live, dir.join("live.csv.1")).unwrap();
    std::fs::write(&live, joined(third)).unwrap();
    // Every window but the last few fires only once the new file is read.
    job.wait_output(expected.lines().count() - 2);
    // A service's stop: as Ctrl-C, with its own sentence and code (`Live::terminate`).
    let (output, err) = job.terminate();
    assert_eq!(output, expected);
    assert!(err.contains("3000 lines read: 3000 accepted"), "{err}");
}
