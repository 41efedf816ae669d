//! Golden scenarios: every folder of `tests/golden/` holds a job file, a tiny input and the exact
//! csv output derived by hand from the job's rules (see `tests/golden/README.md`). Each runs as
//! `uba run job.toml --format csv` from its folder (so inputs and side files name `input.csv`,
//! not a path of this machine), with `--late` / `--rejects` when the folder expects those files.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The side outputs a scenario may pin: (flag, file of the expected rows).
const SIDE_FILES: [(&str, &str); 2] = [
    ("--late", "expected-late.csv"),
    ("--rejects", "expected-rejects.csv"),
];

fn scenarios() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Runs one scenario; returns what differs from its expected files (nothing when it passes).
fn check(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("golden-{name}"));
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut args: Vec<String> = ["run", "job.toml", "--format", "csv"]
        .map(String::from)
        .to_vec();
    let mut sides = Vec::new();
    for (flag, expected) in SIDE_FILES {
        if dir.join(expected).exists() {
            let got = out_dir.join(expected);
            args.extend([flag.to_owned(), got.to_string_lossy().into_owned()]);
            sides.push((dir.join(expected), got));
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_uba"))
        .current_dir(dir)
        .args(&args)
        .output()
        .expect("running uba");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return vec![format!("{name}: uba {args:?} failed:\n{stderr}")];
    }
    let mut diffs = Vec::new();
    let mut compare = |what: &Path, expected: String, got: String| {
        if expected != got {
            diffs.push(format!(
                "{name}: {} differs\n--- expected\n{expected}--- got\n{got}",
                what.file_name().unwrap().to_string_lossy()
            ));
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected = dir.join("expected.csv");
    compare(
        &expected,
        std::fs::read_to_string(&expected).unwrap(),
        stdout,
    );
    for (expected, got) in sides {
        compare(
            &expected,
            std::fs::read_to_string(&expected).unwrap(),
            std::fs::read_to_string(&got).unwrap_or_default(),
        );
    }
    diffs
}

#[test]
fn every_scenario_writes_exactly_its_expected_output() {
    let scenarios = scenarios();
    assert!(scenarios.len() >= 8, "tests/golden has too few scenarios");
    for dir in &scenarios {
        for file in ["job.toml", "expected.csv"] {
            assert!(dir.join(file).exists(), "{}: no {file}", dir.display());
        }
    }
    let failures: Vec<String> = scenarios.iter().flat_map(|d| check(d)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} golden scenarios differ:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n")
    );
}
