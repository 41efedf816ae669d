//! recommend against brute force: full pairwise co-occurrence counts in plain loops over the
//! whole input, written from the rule in `uba recommend --help`, sharing no code with the engine.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::mutate::{self, Rng};
use common::*;

const HEADER: &str = "user_id,rank,item_id,score,update,emitted_at";
const DAY: u64 = 86_400_000;
/// The default `--neighbours`.
const NEIGHBOURS: usize = 20;

struct Ev {
    user: u64,
    item: u64,
    behavior: String,
    ts: u64,
}

fn parse(text: &str) -> Vec<Ev> {
    text.lines()
        .map(|l| {
            // Surrounding spaces in a field are tolerated (docs/jobs.md, "Inputs").
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            Ev {
                user: f[0].parse().unwrap(),
                item: f[1].parse().unwrap(),
                behavior: f[3].to_owned(),
                ts: f[4].parse::<u64>().unwrap() * 1000,
            }
        })
        .collect()
}

/// Each user's top-k list from the events in `visible`, for the users `wanted` says.
fn brute_lists(
    visible: &[&Ev],
    k: usize,
    m: usize,
    wanted: impl Fn(u64) -> bool,
) -> BTreeMap<u64, Vec<(i64, u64)>> {
    let mut by_user: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    let mut bought: BTreeSet<(u64, u64)> = BTreeSet::new();
    for e in visible {
        by_user.entry(e.user).or_default().push((e.ts, e.item));
        if e.behavior == "buy" {
            bought.insert((e.user, e.item));
        }
    }
    // R(u): walking back from the latest (time, item), the first m distinct items.
    let mut recent: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (u, mut evs) in by_user {
        evs.sort();
        let mut kept = Vec::new();
        for &(_, item) in evs.iter().rev() {
            if kept.len() == m {
                break;
            }
            if !kept.contains(&item) {
                kept.push(item);
            }
        }
        recent.insert(u, kept);
    }
    let mut n: BTreeMap<u64, i64> = BTreeMap::new();
    let mut co: BTreeMap<(u64, u64), i64> = BTreeMap::new();
    for items in recent.values() {
        for &i in items {
            *n.entry(i).or_default() += 1;
            for &j in items {
                if i != j {
                    *co.entry((i, j)).or_default() += 1;
                }
            }
        }
    }
    let sim = |i: u64, j: u64| -> i64 {
        let c = co.get(&(i, j)).copied().unwrap_or(0);
        if c == 0 {
            return 0;
        }
        (c as f64 / ((n[&i] as f64) * (n[&j] as f64)).sqrt() * 1e9).round() as i64
    };
    let all_items: BTreeSet<u64> = n.keys().copied().collect();
    // Each item's N nearest neighbours.
    let mut near: BTreeSet<(u64, u64)> = BTreeSet::new();
    for &i in &all_items {
        let mut by_sim: Vec<(i64, u64)> = all_items
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| (sim(i, j), j))
            .filter(|p| p.0 != 0)
            .collect();
        by_sim.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        near.extend(by_sim.iter().take(NEIGHBOURS).map(|p| (i, p.1)));
    }
    let mut lists = BTreeMap::new();
    for (&u, items) in recent.iter().filter(|(u, _)| wanted(**u)) {
        let mut scored: Vec<(i64, u64)> = Vec::new();
        for &j in &all_items {
            if bought.contains(&(u, j)) {
                continue;
            }
            let s: i64 = items
                .iter()
                .filter(|&&i| near.contains(&(i, j)))
                .map(|&i| sim(i, j))
                .sum();
            if s != 0 {
                scored.push((s, j));
            }
        }
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(k);
        if !scored.is_empty() {
            lists.insert(u, scored);
        }
    }
    lists
}

/// The snapshot output: lists as of the last event, from the events still in the horizon.
fn snapshot(text: &str, horizon: u64, k: usize, m: usize, only: &[u64]) -> String {
    let events = parse(text);
    let Some(t) = events.iter().map(|e| e.ts).max() else {
        return String::new(); // no event, no row
    };
    // Less than `horizon` before t (written so that no time near u64::MAX overflows).
    let visible: Vec<&Ev> = events.iter().filter(|e| t - e.ts < horizon).collect();
    let lists = brute_lists(&visible, k, m, |u| only.is_empty() || only.contains(&u));
    if lists.is_empty() {
        return String::new(); // no row, no csv header
    }
    let mut csv = format!("{HEADER}\n");
    for (u, list) in lists {
        for (r, (s, item)) in list.iter().enumerate() {
            csv.push_str(&format!("{u},{},{item},{s},false,{t}\n", r + 1));
        }
    }
    csv
}

fn generated(name: &str, rows: &str, seed: &str) -> (String, String) {
    let dir = scratch(name);
    let input = dir.join("gen.csv").to_string_lossy().into_owned();
    ok(&[
        "gen",
        "user-behavior",
        "--rows",
        rows,
        "--seed",
        seed,
        "--items",
        "400",
        "--users",
        "150",
        "--categories",
        "20",
        "--rate",
        "1",
        "--out",
        &input,
    ]);
    let text = std::fs::read_to_string(&input).unwrap();
    (input, text)
}

#[test]
fn lists_equal_brute_force_on_a_prefix_of_the_sample_on_any_cluster_shape() {
    let text: String = std::fs::read_to_string(tutorial("UserBehavior.csv"))
        .unwrap()
        .lines()
        .take(4_000)
        .map(|l| format!("{l}\n"))
        .collect();
    let input = write(&scratch("recommend-sample").join("prefix.csv"), &text);
    let output = everywhere(&["recommend", &input, "--format", "csv"]);
    assert_eq!(output, snapshot(&text, DAY, 10, 50, &[]));
    assert!(output.lines().count() > 100);
}

#[test]
fn lists_equal_brute_force_on_generated_data_with_a_short_horizon_and_small_m() {
    let (input, text) = generated("recommend-generated", "2000", "4");
    for (horizon, k, m) in [
        (3_600_000u64, 5usize, 3usize),
        (DAY, 10, 50),
        (1_200_000, 3, 1),
    ] {
        let output = everywhere(&[
            "recommend",
            &input,
            "--format",
            "csv",
            "--horizon",
            &format!("{horizon}ms"),
            "--top",
            &k.to_string(),
            "--max-user-items",
            &m.to_string(),
        ]);
        assert_eq!(
            output,
            snapshot(&text, horizon, k, m, &[]),
            "horizon {horizon} k {k} m {m}"
        );
    }
    let users = text
        .lines()
        .take(3)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect::<Vec<u64>>();
    let list = users
        .iter()
        .map(|u| u.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let output = ok(&["recommend", &input, "--format", "csv", "--users", &list]);
    assert_eq!(output, snapshot(&text, DAY, 10, 50, &users));
}

#[test]
fn changes_are_the_same_on_any_cluster_shape_and_end_in_the_snapshot() {
    let (input, text) = generated("recommend-changes", "800", "9");
    let output = everywhere(&[
        "recommend",
        &input,
        "--format",
        "csv",
        "--changes",
        "--horizon",
        "20m",
        "--top",
        "3",
    ]);
    assert!(output.contains(",true,"));
    // Replaying the changes up to the last event gives the snapshot.
    let snap = snapshot(&text, 1_200_000, 3, 50, &[]);
    let t: u64 = snap
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut lists: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut last_at: BTreeMap<u64, u64> = BTreeMap::new();
    for l in output.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let at: u64 = f[5].parse().unwrap();
        if at > t {
            break;
        }
        let user: u64 = f[0].parse().unwrap();
        if last_at.get(&user) != Some(&at) {
            lists.insert(user, Vec::new());
            last_at.insert(user, at);
        }
        if !f[1].is_empty() {
            lists
                .get_mut(&user)
                .unwrap()
                .push(format!("{},{},{},{},false,{t}", f[0], f[1], f[2], f[3]));
        }
    }
    let replayed: Vec<String> = lists.into_values().flatten().collect();
    let expected: Vec<String> = snap.lines().skip(1).map(String::from).collect();
    assert_eq!(replayed, expected);
}

#[test]
fn evaluation_equals_brute_force() {
    let (input, text) = generated("recommend-evaluate", "3000", "2");
    let events = parse(&text);
    let t = events[2000].ts;
    let (k, horizon) = (5, 3_600_000);
    let training: Vec<&Ev> = events
        .iter()
        .filter(|e| e.ts < t && e.ts + horizon > t)
        .collect();
    let mut truth: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.ts >= t && (e.behavior == "cart" || e.behavior == "buy"))
    {
        truth.entry(e.user).or_default().insert(e.item);
    }
    let lists = brute_lists(&training, k, 50, |u| truth.contains_key(&u));
    let mut popularity: BTreeMap<u64, i64> = BTreeMap::new();
    for e in &training {
        *popularity.entry(e.item).or_default() += 1;
    }
    let mut popular: Vec<(i64, u64)> = popularity.iter().map(|(i, n)| (*n, *i)).collect();
    popular.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let popular: BTreeSet<u64> = popular.iter().take(k).map(|p| p.1).collect();
    let hits = truth
        .iter()
        .filter(|(u, items)| {
            lists
                .get(u)
                .is_some_and(|l| l.iter().any(|(_, i)| items.contains(i)))
        })
        .count();
    let popular_hits = truth
        .values()
        .filter(|items| !items.is_disjoint(&popular))
        .count();
    let recommended: BTreeSet<u64> = lists.values().flatten().map(|p| p.1).collect();

    let out = ok(&[
        "recommend",
        &input,
        "--format",
        "json",
        "--top",
        "5",
        "--horizon",
        "1h",
        "--evaluate",
        &(t / 1000).to_string(),
    ]);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["method"], "item-cf");
    assert_eq!(rows[0]["test_users"], truth.len());
    assert_eq!(rows[0]["hits"], hits);
    assert_eq!(rows[0]["users_with_list"], lists.len());
    assert_eq!(rows[0]["recommended_items"], recommended.len());
    assert_eq!(rows[0]["training_items"], popularity.len());
    assert_eq!(rows[1]["method"], "popularity");
    assert_eq!(rows[1]["hits"], popular_hits);
    assert!(
        hits > 0,
        "the generator's favourite categories make related items findable"
    );
    // The ISO spelling of T is the same instant.
    let iso = ok(&[
        "recommend",
        &input,
        "--format",
        "json",
        "--top",
        "5",
        "--horizon",
        "1h",
        "--evaluate",
        &time_iso(t),
    ]);
    assert_eq!(iso, out);
}

fn time_iso(ms: u64) -> String {
    let out = std::process::Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("@{}", ms / 1000),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn bad_flags_are_one_sentence_and_the_job_file_runs() {
    let input = tutorial("UserBehavior.csv");
    for bad in [
        vec!["--evaluate", "yesterday"],
        vec!["--top", "0"],
        vec!["--horizon", "0"],
    ] {
        assert_user_error(&[&["recommend", &input][..], &bad[..]].concat());
    }
    let job = format!("{}/jobs/recommend.toml", env!("CARGO_MANIFEST_DIR"));
    let (small, _) = generated("recommend-job", "500", "1");
    assert_eq!(ok(&["run", &job, &small]), ok(&["recommend", &small]));
}

// Hostile input (issue 14): seeded mutations of a small input never crash or stall the job,
// every line is accounted for, and the output equals the reference on the accepted lines.

/// What a run on mutated inputs gave, once its accounting checked out.
struct Mutated {
    stdout: String,
    /// Per input, in the order given: the lines it accepted, and how many of them were late.
    accepted: Vec<(String, u64)>,
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
fn mutated_input_is_accounted_and_equals_brute_force() {
    let dir = scratch("recommend-mutated");
    let base = dir.join("base.csv").to_string_lossy().into_owned();
    ok(&[
        "gen",
        "user-behavior",
        "--rows",
        "80",
        "--seed",
        "3",
        "--items",
        "30",
        "--users",
        "12",
        "--categories",
        "4",
        "--rate",
        "1",
        "--out",
        &base,
    ]);
    let base = std::fs::read(&base).unwrap();
    let input = dir.join("mutated.csv").to_string_lossy().into_owned();
    let (cases, mut unchecked) = (mutate::cases(200), 0);
    for seed in 0..cases as u64 {
        let mut rng = Rng::new(seed);
        let count = 1 + rng.below(8);
        let mutated = mutate::mutate(&base, &mut rng, count);
        std::fs::write(&input, &mutated).unwrap();
        let (horizon, k, m) = [(DAY, 10, 50), (1_200_000, 3, 3)][seed as usize % 2];
        let args: Vec<String> = [
            "recommend",
            &input,
            "--format",
            "csv",
            "--horizon",
            &format!("{horizon}ms"),
            "--top",
            &k.to_string(),
            "--max-user-items",
            &m.to_string(),
        ]
        .map(String::from)
        .to_vec();
        let Some(run) = run_mutated(seed, &dir, &args, &[(&input, &mutated)]) else {
            unchecked += 1;
            continue;
        };
        let (text, late) = &run.accepted[0];
        assert_eq!(
            run.stdout,
            snapshot(text, horizon, k, m, &[]),
            "seed {seed}: the output differs from brute force"
        );
        // Late: no longer in its horizon when it arrives (the watermark is the latest time).
        let mut latest = 0;
        let expected_late = parse(text)
            .iter()
            .filter(|e| {
                latest = latest.max(e.ts);
                latest - e.ts >= horizon
            })
            .count();
        assert_eq!(*late, expected_late as u64, "seed {seed}: late lines");
    }
    eprintln!("{cases} cases, {unchecked} only checked for panics and stalls");
    assert!(
        unchecked * 20 < cases,
        "{unchecked} of {cases} cases unchecked"
    );
}

#[test]
fn regression_the_last_representable_second_is_not_lost() {
    // Found probing the top of the time range (not by a seed). Three users sharing items at
    // 18446744073709551 s (18446744073709551000 ms, 615 ms before u64::MAX): accounted as used, no list printed
    // (the same rows at 1511658000 s print five). They must be either listed or rejected.
    let dir = scratch("recommend-last-second");
    let text = "1,2,3,pv,18446744073709551\n2,2,3,pv,18446744073709551\n2,5,3,pv,18446744073709551\n\
                1,5,3,pv,18446744073709551\n3,2,3,pv,18446744073709551\n";
    let input = write(&dir.join("last.csv"), text);
    let out = uba(&["recommend", &input, "--format", "csv"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let output = String::from_utf8(out.stdout).unwrap();
    let rejected = err.contains("5 lines read: 0 accepted");
    assert!(
        rejected || output == snapshot(text, DAY, 10, 50, &[]),
        "{output}{err}"
    );
}
