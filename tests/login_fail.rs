//! login-fail against a naive reference: each user's on-time logins sorted by (time, line),
//! walked for runs of N fails; written from the business rule, sharing no code with the engine.

mod common;
mod reference;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mutate::{self, Rng};
use common::*;
use reference::patterns::{csv, replay};
use reference::{late_lines, secs};

const HEADER: &str = "user_id,first_fail,last_fail,fails,ips,emitted_at";

struct Expected {
    csv: String,
    late: Vec<usize>,
}

fn reference(text: &str, fails: usize, within: u64, out_of_orderness: u64) -> Expected {
    let (logins, late) = replay(text, out_of_orderness, |f| {
        let user = f.first()?.parse::<u64>().ok()?;
        let ok = match *f.get(2)? {
            "fail" => false,
            "success" => true,
            _ => return None,
        };
        let ts = secs(f.get(3))?;
        Some((ts, Some((user, f[1].to_owned(), ok))))
    });
    let mut per_user: BTreeMap<u64, Vec<(u64, usize, String, bool)>> = BTreeMap::new();
    for l in logins {
        let (user, ip, ok) = l.record;
        per_user
            .entry(user)
            .or_default()
            .push((l.ts, l.line, ip, ok));
    }
    let mut rows = Vec::new();
    for (user, mut events) in per_user {
        events.sort();
        for i in 0..events.len() {
            if i + fails > events.len() {
                break;
            }
            let run = &events[i..i + fails];
            let (first, last) = (run[0].0, run[fails - 1].0);
            if run.iter().all(|e| !e.3) && last - first <= within {
                let ips: Vec<&str> = run.iter().map(|e| e.2.as_str()).collect();
                rows.push((
                    last,
                    format!("{user:020}|{first:020}|{last:020}|{}", ips.join("|")),
                    format!(
                        "{user},{first},{last},{fails},{},{last}",
                        field(&ips.join(" "))
                    ),
                ));
            }
        }
    }
    Expected {
        csv: csv(HEADER, rows),
        late,
    }
}

/// A csv field as a csv writer writes it: quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn run_args(input: &str, fails: usize, within: &str, ooo: &str) -> Vec<String> {
    [
        "login-fail",
        input,
        "--format",
        "csv",
        "--fails",
        &fails.to_string(),
        "--within",
        within,
        "--out-of-orderness",
        ooo,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn sample_defaults_find_user_1035_twice() {
    let input = tutorial("LoginLog.csv");
    let text = std::fs::read_to_string(&input).unwrap();
    let output = everywhere(&strs(&run_args(&input, 2, "2s", "3s")));
    assert_eq!(output, reference(&text, 2, 2000, 3000).csv);
    assert_eq!(
        output,
        format!(
            "{HEADER}\n\
             1035,1558430842000,1558430843000,2,83.149.9.216 83.149.9.216,1558430843000\n\
             1035,1558430843000,1558430844000,2,83.149.9.216 83.149.24.26,1558430844000\n"
        )
    );
    // The defaults are the flags' defaults.
    assert_eq!(ok(&["login-fail", &input, "--format", "csv"]), output);
}

#[test]
fn tutorial_job_file_finds_three_fails_within_five_seconds() {
    let job = format!(
        "{}/jobs/login-fail-tutorial.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let output = ok(&["run", &job, "--format", "csv"]);
    let text = std::fs::read_to_string(tutorial("LoginLog.csv")).unwrap();
    assert_eq!(output, reference(&text, 3, 5000, 3000).csv);
    assert_eq!(output.lines().count(), 2, "{output}");
    let text_out = ok(&["run", &job]);
    assert!(
        text_out.starts_with("user 1035: 3 failed logins from 2019-05-21 17:27:22"),
        "{text_out}"
    );
}

#[test]
fn disordered_generated_logins_equal_the_reference_with_the_late_lines() {
    let dir = scratch("login-fail-generated");
    let input = dir.join("logins.csv").to_string_lossy().into_owned();
    ok(&[
        "gen",
        "login",
        "--rows",
        "30000",
        "--seed",
        "5",
        "--users",
        "300",
        "--rate",
        "5",
        "--attack-rate",
        "0.05",
        "--disorder",
        "4s",
        "--out",
        &input,
    ]);
    let text = std::fs::read_to_string(&input).unwrap();
    for (fails, within, within_ms) in [(2, "2s", 2000), (3, "5s", 5000)] {
        let expected = reference(&text, fails, within_ms, 3000);
        assert!(
            expected.csv.lines().count() > 100,
            "the input must produce matches"
        );
        assert!(
            !expected.late.is_empty(),
            "the input must produce late logins"
        );
        let late = dir.join("late.csv").to_string_lossy().into_owned();
        let mut a = run_args(&input, fails, within, "3s");
        a.extend(["--late".to_string(), late.clone()]);
        assert_eq!(
            everywhere(&strs(&a)),
            expected.csv,
            "--fails {fails} --within {within}"
        );
        assert_eq!(late_lines(&late), expected.late);
    }
}

#[test]
fn equal_times_are_taken_in_line_order() {
    // At 10 s: fail, success, fail in that line order: no two fails in a row at 10 s, but the
    // last fail at 10 s and the fail at 11 s are consecutive.
    let dir = scratch("login-fail-ties");
    let text = "7,1.1.1.1,fail,10\n7,1.1.1.2,success,10\n7,1.1.1.3,fail,10\n7,1.1.1.4,fail,11\n8,2.2.2.2,fail,12\n8,2.2.2.2,fail,14\n8,2.2.2.2,fail,15\n";
    let input = write(&dir.join("ties.csv"), text);
    let output = everywhere(&strs(&run_args(&input, 2, "2s", "0")));
    assert_eq!(output, reference(text, 2, 2000, 0).csv);
    assert_eq!(
        output,
        format!(
            "{HEADER}\n7,10000,11000,2,1.1.1.3 1.1.1.4,11000\n\
             8,12000,14000,2,2.2.2.2 2.2.2.2,14000\n8,14000,15000,2,2.2.2.2 2.2.2.2,15000\n"
        )
    );
}

#[test]
fn bad_lines_are_rejected_with_their_line_numbers() {
    let dir = scratch("login-fail-bad");
    let text = "1,1.1.1.1,fail,100\n1,1.1.1.1,maybe,101\nx,1.1.1.1,fail,101\n\n1,1.1.1.1,fail\n1,1.1.1.1,fail,102";
    let input = write(&dir.join("bad.csv"), text);
    let (out, rejected_rows) = run_with_rejects(&dir, &["login-fail", &input, "--format", "csv"]);
    let lines: Vec<String> = rejected_rows.iter().map(|r| r[1].clone()).collect();
    assert_eq!(lines, ["2", "3", "4", "5"]);
    assert!(
        stderr(&out).contains(
            "6 lines read: 2 accepted (2 used, 0 filtered, 0 late; 0 corrections), 4 rejected"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{HEADER}\n1,100000,102000,2,1.1.1.1 1.1.1.1,102000\n")
    );
}

#[test]
fn fewer_than_two_fails_is_a_user_error() {
    let out = uba(&["login-fail", &tutorial("LoginLog.csv"), "--fails", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("uba: --fails"), "{}", stderr(&out));
}

// Hostile input (issue 14): seeded mutations of a small input never crash or stall the job,
// every line is accounted for, and the output equals the reference on the accepted lines.

/// What a run on mutated inputs gave, once its accounting checked out.
struct Mutated {
    stdout: String,
    /// Per input, in the order given: the lines it accepted, and how many of them were late.
    accepted: Vec<(String, u64)>,
}

/// A csv output with no row has no header either: the first row writes it.
fn rows_or_nothing(csv: String) -> String {
    if csv.lines().count() <= 1 {
        String::new()
    } else {
        csv
    }
}

/// The lines of a file as the job numbers them: a last line without a newline counts.
fn line_count(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

/// The (source, line) of each row of a `--rejects` or `--late` file.
fn side_rows(path: &Path, seed: u64) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("seed {seed}: {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(3, ',');
            let source = f.next().unwrap().to_owned();
            let line = f.next().and_then(|n| n.parse().ok());
            (
                source,
                line.unwrap_or_else(|| panic!("seed {seed}: bad row {l:?}")),
            )
        })
        .collect()
}

/// The seven numbers of an input's accounting line: read, accepted, used, filtered, late,
/// corrections, rejected.
fn accounting(err: &str, name: &str, seed: u64) -> [u64; 7] {
    let prefix = format!("uba: {name}: ");
    let line = err
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .find(|l| l.contains(" lines read: "))
        .unwrap_or_else(|| panic!("seed {seed}: no accounting line for {name}:\n{err}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(7)
        .map(|s| s.parse().unwrap())
        .collect();
    numbers
        .try_into()
        .unwrap_or_else(|_| panic!("seed {seed}: bad accounting line {line:?}"))
}

/// Whether a line holds a carriage return between other bytes. The reader splits such a line in
/// two (`regression_a_carriage_return_inside_a_line_is_one_line`), so until that is fixed a case
/// with one is only checked for panics and stalls.
fn has_inner_cr(bytes: &[u8]) -> bool {
    bytes.split(|b| *b == b'\n').any(|line| {
        let start = line.iter().position(|b| *b != b'\r').unwrap_or(line.len());
        let end = line
            .iter()
            .rposition(|b| *b != b'\r')
            .map_or(start, |i| i + 1);
        line[start..end.max(start)].contains(&b'\r')
    })
}

/// Runs `uba ARGS` (which name the files of `inputs`, already written: path and bytes) with
/// `-w 1`, both side outputs and the bogus-time guard off, failing if it runs past 30 s; checks
/// that it did not panic, then (None if an input has a carriage return inside a line) its exit
/// code, and each input's accounting against the input and the side files. Every message names
/// `seed`.
fn run_mutated(
    seed: u64,
    dir: &Path,
    args: &[String],
    inputs: &[(&str, &[u8])],
) -> Option<Mutated> {
    let rejects = dir.join("rejects.csv");
    let late = dir.join("late.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_uba"))
        .args(args)
        .args(["-w", "1", "--max-time-jump", "off", "--rejects"])
        .arg(&rejects)
        .arg("--late")
        .arg(&late)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running uba");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            pipe.read_to_end(&mut v).unwrap();
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("seed {seed}: uba {args:?} stalled: still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "seed {seed}: uba {args:?} panicked:\n{err}"
    );
    if inputs.iter().any(|(_, bytes)| has_inner_cr(bytes)) {
        return None;
    }
    let stdout = String::from_utf8(out.join().unwrap())
        .unwrap_or_else(|e| panic!("seed {seed}: the output is not UTF-8: {e}"));
    let (reject_rows, late_rows) = (side_rows(&rejects, seed), side_rows(&late, seed));
    let mut accepted = Vec::new();
    let mut nothing_accepted = false;
    for &(name, bytes) in inputs {
        let [read, acc, used, filtered, late, _, rejected] = accounting(&err, name, seed);
        let of = |rows: &[(String, u64)]| -> Vec<u64> {
            rows.iter().filter(|r| r.0 == name).map(|r| r.1).collect()
        };
        let (rejected_lines, late_lines) = (of(&reject_rows), of(&late_rows));
        let lines = line_count(bytes);
        let say = format!("seed {seed}: {name}: {err}");
        assert_eq!(read, acc + rejected, "read = accepted + rejected; {say}");
        assert_eq!(
            acc,
            used + filtered + late,
            "accepted = used + filtered + late; {say}"
        );
        assert_eq!(read, lines, "every line is read once; {say}");
        assert_eq!(
            rejected_lines.len() as u64,
            rejected,
            "rejects file rows; {say}"
        );
        assert_eq!(late_lines.len() as u64, late, "late file rows; {say}");
        let distinct: std::collections::BTreeSet<u64> = rejected_lines.iter().copied().collect();
        assert!(
            distinct.len() == rejected_lines.len()
                && distinct.iter().all(|l| (1..=lines).contains(l)),
            "rejected line numbers {rejected_lines:?} are distinct lines of the file; {say}"
        );
        let rejected_lines: Vec<usize> = rejected_lines.iter().map(|&l| l as usize).collect();
        let text = String::from_utf8(mutate::accepted_lines(bytes, &rejected_lines))
            .unwrap_or_else(|e| panic!("seed {seed}: {name}: an accepted line is not UTF-8: {e}"));
        nothing_accepted |= read > 0 && acc == 0;
        accepted.push((text, late));
    }
    let code = status.code();
    assert!(
        code == Some(0) || (code == Some(4) && nothing_accepted),
        "seed {seed}: exit code {code:?}:\n{err}"
    );
    Some(Mutated { stdout, accepted })
}

#[test]
fn mutated_input_is_accounted_and_equals_the_reference() {
    let dir = scratch("login-fail-mutated");
    let base = std::fs::read(tutorial("LoginLog.csv")).unwrap();
    let input = dir.join("mutated.csv").to_string_lossy().into_owned();
    let (cases, mut unchecked) = (mutate::cases(700), 0);
    for seed in 0..cases as u64 {
        let mut rng = Rng::new(seed);
        let count = 1 + rng.below(8);
        let mutated = mutate::mutate(&base, &mut rng, count);
        std::fs::write(&input, &mutated).unwrap();
        let (fails, within, within_ms) = [(2, "2s", 2000), (3, "5s", 5000)][seed as usize % 2];
        let args = run_args(&input, fails, within, "3s");
        let Some(run) = run_mutated(seed, &dir, &args, &[(&input, &mutated)]) else {
            unchecked += 1;
            continue;
        };
        let (text, late) = &run.accepted[0];
        let expected = reference(text, fails, within_ms, 3000);
        assert_eq!(
            run.stdout,
            rows_or_nothing(expected.csv),
            "seed {seed}: the output differs from the reference"
        );
        assert_eq!(*late, expected.late.len() as u64, "seed {seed}: late lines");
    }
    eprintln!("{cases} cases, {unchecked} only checked for panics and stalls");
    assert!(
        unchecked * 20 < cases,
        "{unchecked} of {cases} cases unchecked"
    );
}

#[test]
fn regression_a_carriage_return_inside_a_line_is_one_line() {
    // Mutation seed 143. Line 1's time is `100\rx`, not a number: the line is rejected. The
    // reader splits it at the `\r` instead, accepts `1,1.1.1.1,fail,100` and rejects `x`, both
    // as line 1, and reads 3 lines.
    let dir = scratch("login-fail-inner-cr");
    let input = write(
        &dir.join("cr.csv"),
        "1,1.1.1.1,fail,100\rx\n1,1.1.1.1,fail,101\n",
    );
    let (out, rejected) = run_with_rejects(&dir, &["login-fail", &input, "--format", "csv"]);
    let err = stderr(&out);
    assert!(
        err.contains(
            "2 lines read: 1 accepted (1 used, 0 filtered, 0 late; 0 corrections), 1 rejected"
        ),
        "{err}"
    );
    let lines: Vec<&str> = rejected.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(lines, ["1"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "");
}

#[test]
fn regression_the_last_representable_second_is_not_lost() {
    // Found probing the top of the time range (not by a seed). Two fails at 18446744073709551 s
    // (18446744073709551000 ms, 615 ms before u64::MAX): accounted as used, and no match printed.
    // They must be either matched or rejected.
    let dir = scratch("login-fail-last-second");
    let text = "1,1.1.1.1,fail,18446744073709551\n1,1.1.1.1,fail,18446744073709551\n";
    let input = write(&dir.join("last.csv"), text);
    let out = uba(&["login-fail", &input, "--format", "csv"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let output = String::from_utf8(out.stdout).unwrap();
    let rejected = err.contains("2 lines read: 0 accepted");
    assert!(
        rejected || output == reference(text, 2, 2000, 3000).csv,
        "{output}{err}"
    );
}
