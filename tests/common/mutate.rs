//! Seeded byte-level mutations of an input file, for the hostile-input tests: every job must
//! survive them (no panic, no stall), account for every line, and still equal its naive reference
//! on the lines it accepted.
//!
//! `UBA_MUTATIONS=N` runs N cases per job instead of the default (a long run for a soak).
//!
//! A job's test keeps only what is its own: its base input, its flags, and its naive reference
//! run on the lines the binary accepted, handed to [`each_case`]. What every job owes any input is
//! checked here, by [`run_case`].
//!
//! `UBA_SEED=N` runs case N alone (what a failing case's message says to rerun it).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (SplitMix64): the same seed gives the same mutations on every
/// platform, so a failing case is reproduced by its seed alone.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    /// A generator that starts from `state` itself (where [`Rng::new`] scrambles its seed first).
    pub fn from_state(state: u64) -> Self {
        Rng(state)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// How many cases a mutation test runs: `default`, or `UBA_MUTATIONS` when set.
pub fn cases(default: usize) -> usize {
    std::env::var("UBA_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Texts that break parsers in interesting ways: huge and negative numbers, times far in the
/// past and future, empty fields, quotes, separators, invalid UTF-8.
const NASTY: &[&[u8]] = &[
    b"",
    b"0",
    b"-1",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"4102444800",
    b"2147483647000",
    b"1",
    b"\"",
    b"\"a,b\"",
    b",",
    b",,",
    b"\t",
    b" ",
    b"\xff\xfe",
    b"\xc3\x28",
    b"NaN",
    b"1e9",
    b"+5",
    b"pv",
    b"GET",
    b"fail",
    b"create",
    b"17/05/2015:10:05:03 +0000",
    b"31/02/2015:25:61:61 +9999",
];

/// Applies `count` random mutations to `input`, each one of: flip a byte, delete a run, duplicate
/// a run, insert random or nasty bytes, cut a line in two, join two lines, replace a field by a
/// nasty text, duplicate a line, swap two lines.
pub fn mutate(input: &[u8], rng: &mut Rng, count: usize) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..count {
        if data.is_empty() {
            data.extend_from_slice(NASTY[rng.below(NASTY.len())]);
            continue;
        }
        let at = rng.below(data.len());
        match rng.below(10) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            2 => {
                let end = (at + 1 + rng.below(32)).min(data.len());
                let run = data[at..end].to_vec();
                data.splice(at..at, run);
            }
            3 => {
                let bytes: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                data.splice(at..at, bytes);
            }
            4 => {
                let nasty = NASTY[rng.below(NASTY.len())];
                data.splice(at..at, nasty.iter().copied());
            }
            5 => data.insert(at, b'\n'),
            6 => {
                if let Some(i) = data[at..].iter().position(|b| *b == b'\n') {
                    data.remove(at + i);
                }
            }
            7 => replace_field(&mut data, at, NASTY[rng.below(NASTY.len())]),
            8 => {
                let (start, end) = line_around(&data, at);
                let line = data[start..end].to_vec();
                data.splice(start..start, line);
            }
            _ => {
                let (a, a_end) = line_around(&data, at);
                let (b, b_end) = line_around(&data, rng.below(data.len()));
                if a_end <= b {
                    let second = data[b..b_end].to_vec();
                    let first = data[a..a_end].to_vec();
                    data.splice(b..b_end, first);
                    data.splice(a..a_end, second);
                }
            }
        }
    }
    data
}

/// The line (with its newline) that holds byte `at`.
fn line_around(data: &[u8], at: usize) -> (usize, usize) {
    let start = data[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(data.len(), |i| at + i + 1);
    (start, end)
}

/// Replaces the field (between commas or spaces) that holds byte `at` by `text`.
fn replace_field(data: &mut Vec<u8>, at: usize, text: &[u8]) {
    let separator = |b: &u8| matches!(*b, b',' | b' ' | b'\n');
    let start = data[..at].iter().rposition(separator).map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(separator)
        .map_or(data.len(), |i| at + i);
    data.splice(start..end, text.iter().copied());
}

/// The lines of `input` that a run accepted: all but those whose line numbers (1-based) are in
/// `rejected`. Each kept line ends with a newline. A run numbers lines as `str::lines` does,
/// plus a last line without a newline.
pub fn accepted_lines(input: &[u8], rejected: &[usize]) -> Vec<u8> {
    let rejected: std::collections::HashSet<usize> = rejected.iter().copied().collect();
    let lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i == lines.len() - 1 && line.is_empty() {
            break; // the file ended with a newline
        }
        if !rejected.contains(&(i + 1)) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

/// The inputs of case `seed`, from their `bases`: each input of a non-empty subset of them with 1
/// to 8 mutations, all drawn in input order from `Rng::new(seed)`. The subset is the bit mask
/// `seed % (2^n - 1) + 1`: one input is always mutated; of two, the first, the second, then both,
/// in turn.
pub fn mutated(bases: &[&[u8]], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let subset = seed % ((1 << bases.len()) - 1) + 1;
    (0..bases.len())
        .map(|i| {
            if subset >> i & 1 == 0 {
                return bases[i].to_vec();
            }
            let count = 1 + rng.below(8);
            mutate(bases[i], &mut rng, count)
        })
        .collect()
}

/// The mutated-input sweep of a job (issue 14). For each seed in `0..cases(default)`: the inputs
/// `bases` (path, base bytes) [`mutated`], run as `uba ARGS` by [`run_case`] (which checks what
/// every job owes any input), with the arguments and the job's parameters that `setup(seed)`
/// gives; then `compare(case, parameters)`, the job's own check of the output against its naive
/// reference. Ends with a timing line on stderr, named after the job (`ARGS`' first word).
///
/// A case is named `seed N (PATHS)` in its messages. When one fails, its inputs stay at their
/// paths, and a line on stderr says how to rerun it.
pub fn each_case<P>(
    bases: &[(&str, &[u8])],
    default: usize,
    setup: impl Fn(u64) -> (Vec<String>, P),
    compare: impl Fn(&Case, &P),
) {
    let paths: Vec<&str> = bases.iter().map(|b| b.0).collect();
    let base_bytes: Vec<&[u8]> = bases.iter().map(|b| b.1).collect();
    let seeds = match std::env::var("UBA_SEED").ok().and_then(|v| v.parse().ok()) {
        Some(seed) => seed..seed + 1,
        None => 0..cases(default) as u64,
    };
    let count = seeds.end - seeds.start;
    let mut job = String::new();
    let started = Instant::now();
    for seed in seeds {
        let name = format!("seed {seed} ({})", paths.join(", "));
        let (args, parameters) = setup(seed);
        job.clone_from(&args[0]);
        let _rerun = Rerun { seed, args: &args };
        let inputs = mutated(&base_bytes, seed);
        let inputs: Vec<(&str, &[u8])> = paths
            .iter()
            .copied()
            .zip(inputs.iter().map(Vec::as_slice))
            .collect();
        let case = run_case(&name, &args, &inputs, STALL);
        compare(&case, &parameters);
    }
    eprintln!("{job}: {count} mutated inputs in {:.1?}", started.elapsed());
}

/// [`each_case`] for a job of one input, run with the same `args` in every case, whose reference
/// has a parser of its own: the lines the binary accepted must be those `parses` accepts, and on
/// them the output and the late lines (numbers of the accepted text's lines) must be what
/// `reference(accepted text)` gives.
pub fn each_case_parsed(
    input: &str,
    base: &[u8],
    args: &[String],
    default: usize,
    parses: impl Fn(&str) -> bool,
    reference: impl Fn(&str) -> (String, Vec<usize>),
) {
    each_case(
        &[(input, base)],
        default,
        |_| (args.to_vec(), ()),
        |c, ()| {
            let s = c.source();
            s.assert_accepted_as(&c.name, &parses);
            let (output, late) = reference(&s.text);
            c.assert_output(&output);
            c.assert_late(&[&late]);
        },
    );
}

/// Says, when dropped by a panic, how to rerun the failing case of [`each_case`].
struct Rerun<'a> {
    seed: u64,
    args: &'a [String],
}

impl Drop for Rerun<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "seed {}: its inputs are left in place; `uba {} -w 1 --max-time-jump off` reruns \
                 the binary on them, `UBA_SEED={} cargo test --release --test {} {}` the case",
                self.seed,
                self.args.join(" "),
                self.seed,
                env!("CARGO_CRATE_NAME"),
                std::thread::current().name().unwrap_or_default(),
            );
        }
    }
}

/// The first `n` lines of a file, each with its newline.
pub fn first_lines(path: &str, n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .take(n)
        .flat_map(|l| [l, "\n"])
        .collect::<String>()
        .into_bytes()
}

/// How long one run on a mutated input may take before it counts as a stall.
pub const STALL: Duration = Duration::from_secs(30);

/// The counts of an input's accounting line on stderr (`uba: FILE: R lines read: A accepted (U
/// used, F filtered, L late; C corrections), J rejected; ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accounting {
    pub read: usize,
    pub accepted: usize,
    pub used: usize,
    pub filtered: usize,
    pub late: usize,
    pub corrections: usize,
    pub rejected: usize,
}

impl Accounting {
    /// Parses the accounting line of `file` out of `stderr`; None when there is none, or when it
    /// does not read as the line above. Panics if there are several.
    fn of(stderr: &str, file: &str) -> Option<Accounting> {
        let prefix = format!("uba: {file}: ");
        let mut lines = stderr
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .filter(|l| l.contains(" lines read: "));
        let line = lines.next()?;
        assert!(
            lines.next().is_none(),
            "{file}: more than one accounting line:\n{stderr}"
        );
        let (read, tail) = line.split_once(" lines read: ")?;
        let words: Vec<&str> = tail
            .split([' ', '(', ',', ';', ')'])
            .filter(|w| !w.is_empty())
            .collect();
        let mut counts = vec![read.parse().ok()?];
        for (i, name) in [
            "accepted",
            "used",
            "filtered",
            "late",
            "corrections",
            "rejected",
        ]
        .into_iter()
        .enumerate()
        {
            if words.get(2 * i + 1) != Some(&name) {
                return None;
            }
            counts.push(words[2 * i].parse().ok()?);
        }
        let [read, accepted, used, filtered, late, corrections, rejected] =
            counts.try_into().ok()?;
        Some(Accounting {
            read,
            accepted,
            used,
            filtered,
            late,
            corrections,
            rejected,
        })
    }
}

/// What a run did with one of its inputs, already checked against the file and the side outputs.
pub struct Source {
    /// The file's path, as the command line gave it.
    pub path: String,
    pub bytes: Vec<u8>,
    pub accounting: Accounting,
    /// The file's line numbers (1-based) of its rejected lines, from `--rejects`, ascending.
    pub rejected: Vec<usize>,
    /// The file's line numbers of its late lines, from `--late`, ascending.
    pub late: Vec<usize>,
    /// The file's line numbers of its accepted lines, ascending.
    pub accepted: Vec<usize>,
    /// The accepted lines, each with its newline: what a reference reads.
    pub text: String,
}

impl Source {
    /// Line numbers of [`Source::text`] (a reference's) as line numbers of the file.
    pub fn in_file(&self, lines: &[usize]) -> Vec<usize> {
        lines.iter().map(|&l| self.accepted[l - 1]).collect()
    }

    /// Asserts that the lines the binary accepted are exactly those `parses` accepts (a reference's
    /// parser, given a line as `str::lines` gives it: without its `\n` or `\r\n`); a line that is
    /// not valid UTF-8 is one it rejects.
    pub fn assert_accepted_as(&self, case: &str, parses: impl Fn(&str) -> bool) {
        for (i, text) in lines_of(&self.bytes).iter().enumerate() {
            let binary = self.rejected.binary_search(&(i + 1)).is_err();
            let reference =
                std::str::from_utf8(text).is_ok_and(|l| parses(l.strip_suffix('\r').unwrap_or(l)));
            assert_eq!(
                binary,
                reference,
                "{case}: {} line {} {:?}: accepted by the binary / by the reference's parser",
                self.path,
                i + 1,
                String::from_utf8_lossy(text)
            );
        }
    }
}

/// One run of `uba` on (mutated) inputs, its generic contract already checked by [`run_case`].
pub struct Case {
    /// Names the case in messages (its seed, say).
    pub name: String,
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
    /// The inputs, in the order given.
    pub sources: Vec<Source>,
}

impl Case {
    /// The one input of a one-input job.
    pub fn source(&self) -> &Source {
        assert_eq!(self.sources.len(), 1, "{}: one input", self.name);
        &self.sources[0]
    }

    /// Asserts that the binary's output is the reference's; when not, names the case and shows
    /// the first lines that only one of them has.
    pub fn assert_output(&self, reference: &str) {
        let binary = &self.stdout;
        if binary == reference {
            return;
        }
        let (b, r): (Vec<&str>, Vec<&str>) =
            (binary.lines().collect(), reference.lines().collect());
        let only_b: Vec<&&str> = b.iter().filter(|l| !r.contains(l)).take(6).collect();
        let only_r: Vec<&&str> = r.iter().filter(|l| !b.contains(l)).take(6).collect();
        panic!(
            "{}: the output differs from the reference's ({} and {} lines)\n\
             only the binary's: {only_b:#?}\nonly the reference's: {only_r:#?}",
            self.name,
            b.len(),
            r.len()
        );
    }

    /// Asserts that the lines the binary sent to `--late` are, input by input, those a reference
    /// found late: `late[i]`, line numbers of input i's [`Source::text`].
    pub fn assert_late(&self, late: &[&[usize]]) {
        assert_eq!(late.len(), self.sources.len(), "{}: inputs", self.name);
        for (s, late) in self.sources.iter().zip(late) {
            assert_eq!(
                s.late,
                s.in_file(late),
                "{}: {}: late lines",
                self.name,
                s.path
            );
        }
    }
}

/// The lines of a file as a run numbers them (split at `\n` only): a last line without a newline
/// counts, an empty file has none.
fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// Where a side output is written until the run ends well.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// The (source, line) of each row of a `--rejects` or `--late` file.
fn side_rows(path: &Path, case: &str) -> Vec<(String, usize)> {
    let mut reader = ::csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("{case}: {}: {e}", path.display()));
    assert_eq!(
        reader.byte_headers().ok().cloned(),
        Some(::csv::ByteRecord::from(vec![
            "source", "line", "reason", "text"
        ])),
        "{case}: {}: header",
        path.display()
    );
    reader
        .byte_records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{case}: {}: {e}", path.display()));
            let field = |i| String::from_utf8_lossy(r.get(i).unwrap_or_default()).into_owned();
            let line = field(1)
                .parse()
                .unwrap_or_else(|e| panic!("{case}: {}: line of {r:?}: {e}", path.display()));
            (field(0), line)
        })
        .collect()
}

/// Writes each of `inputs` (path, bytes), runs `uba ARGS` (whose arguments name those paths) with
/// `-w 1`, `--max-time-jump off` (so that a reference, which has no bogus-time guard, sees the same
/// accepted lines) and `--rejects` / `--late` files beside the first input, and checks what every
/// job owes any input:
///
/// - no stall (it ends within `timeout`), no panic;
/// - one accounting line per input: `read = accepted + rejected`, `accepted = used + filtered +
///   late`, and `read` is the input's number of lines;
/// - the rejects file has one row per rejected line of each input, the late file one per late
///   line, in line order, within the file, no line both rejected and late, no row of another
///   source;
/// - exit code 4, with its message, when an input had lines and none was accepted (its side
///   outputs are in place all the same); else 0;
/// - stdout and the accepted lines are UTF-8.
///
/// Every message starts with `name`.
pub fn run_case(name: &str, args: &[String], inputs: &[(&str, &[u8])], timeout: Duration) -> Case {
    let dir = Path::new(inputs[0].0)
        .parent()
        .expect("an input in a directory");
    for (path, bytes) in inputs {
        std::fs::write(path, bytes).unwrap();
    }
    let file = |f: &str| -> PathBuf { dir.join(f) };
    let (rejects, late) = (file("rejects.csv"), file("late.csv"));
    let (stdout_path, stderr_path) = (file("stdout"), file("stderr"));
    for side in [&rejects, &late] {
        let _ = std::fs::remove_file(side);
        let _ = std::fs::remove_file(partial(side));
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_uba"));
    command
        .args(args)
        .args(["-w", "1", "--max-time-jump", "off", "--rejects"])
        .arg(&rejects)
        .arg("--late")
        .arg(&late);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .expect("running uba");
    let status = super::wait_for(
        &mut child,
        timeout,
        &format!("{name}: {command:?} (a stall)"),
    );
    let stderr = String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap()).into_owned();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{name}: {command:?} panicked:\n{stderr}"
    );
    let code = status.code();
    assert!(
        matches!(code, Some(0 | 4)),
        "{name}: {command:?}: exit {status}:\n{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains(" lines read: "))
            .count(),
        inputs.len(),
        "{name}: one accounting line per input expected:\n{stderr}"
    );
    // Exit code 4 ends a run that completed: its side outputs are in place, and say why.
    let side = |path: &PathBuf| side_rows(path, name);
    let (reject_rows, late_rows) = (side(&rejects), side(&late));
    for (source, line) in reject_rows.iter().chain(&late_rows) {
        assert!(
            inputs.iter().any(|(path, _)| path == source),
            "{name}: a side output row of line {line} of {source:?}, not an input"
        );
    }
    let sources: Vec<Source> = inputs
        .iter()
        .map(|&(path, bytes)| {
            let say = format!("{name}: {path}");
            let a = Accounting::of(&stderr, path)
                .unwrap_or_else(|| panic!("{say}: no accounting line that parses:\n{stderr}"));
            let lines = lines_of(bytes).len();
            assert_eq!(a.read, lines, "{say}: lines read, of {lines}:\n{stderr}");
            assert_eq!(
                a.read,
                a.accepted + a.rejected,
                "{say}: read = accepted + rejected:\n{stderr}"
            );
            assert_eq!(
                a.accepted,
                a.used + a.filtered + a.late,
                "{say}: accepted = used + filtered + late:\n{stderr}"
            );
            let of = |rows: &[(String, usize)]| -> Vec<usize> {
                rows.iter().filter(|r| r.0 == path).map(|r| r.1).collect()
            };
            let (rejected, late) = (of(&reject_rows), of(&late_rows));
            assert_eq!(
                rejected.len(),
                a.rejected,
                "{say}: rows of --rejects:\n{stderr}"
            );
            assert_eq!(late.len(), a.late, "{say}: rows of --late:\n{stderr}");
            for (kind, numbers) in [("rejected", &rejected), ("late", &late)] {
                assert!(
                    numbers.windows(2).all(|w| w[0] < w[1])
                        && numbers.iter().all(|l| (1..=lines).contains(l)),
                    "{say}: {kind} lines in line order, within the file: {numbers:?}"
                );
            }
            assert!(
                late.iter().all(|l| rejected.binary_search(l).is_err()),
                "{say}: a late line was rejected: {late:?} {rejected:?}"
            );
            let text = String::from_utf8(accepted_lines(bytes, &rejected))
                .unwrap_or_else(|e| panic!("{say}: an accepted line is not UTF-8: {e}"));
            Source {
                path: path.to_owned(),
                bytes: bytes.to_vec(),
                accounting: a,
                accepted: (1..=lines)
                    .filter(|l| rejected.binary_search(l).is_err())
                    .collect(),
                rejected,
                late,
                text,
            }
        })
        .collect();
    let refused: Vec<&Source> = sources
        .iter()
        .filter(|s| s.accounting.read > 0 && s.accounting.accepted == 0)
        .collect();
    if refused.is_empty() {
        assert_eq!(code, Some(0), "{name}: exit {status}:\n{stderr}");
    } else {
        assert_eq!(
            code,
            Some(4),
            "{name}: exit {status}, with an input of which no line was accepted:\n{stderr}"
        );
        assert!(
            refused
                .iter()
                .any(|s| stderr.contains(&format!("uba: '{}' has no valid ", s.path))),
            "{name}: exit 4 without saying which input had no valid line:\n{stderr}"
        );
    }
    let stdout = String::from_utf8(std::fs::read(&stdout_path).unwrap())
        .unwrap_or_else(|e| panic!("{name}: stdout is not UTF-8: {e}"));
    Case {
        name: name.to_owned(),
        stdout,
        stderr,
        code,
        sources,
    }
}

/// A csv output with no row has no header either (the first row writes it): what a reference's
/// csv (header first) looks like then.
pub fn rows_or_nothing(csv: String) -> String {
    if csv.lines().count() <= 1 {
        String::new()
    } else {
        csv
    }
}

/// Runs `uba ARGS` (with no `--rejects`) on inputs of `lines[i]` lines each (at most 10 in all),
/// every line with a time after the year 9999, and asserts that each line is rejected as such:
/// nothing accepted, exit code 4.
pub fn assert_all_after_the_year_9999(args: &[&str], lines: &[usize]) {
    let out = super::uba(args);
    let err = super::stderr(&out);
    assert_eq!(out.status.code(), Some(4), "uba {args:?}: {err}");
    for n in lines {
        assert!(
            err.contains(&format!(": {n} lines read: 0 accepted (")),
            "uba {args:?}: {err}"
        );
    }
    let rejected = err.lines().filter(|l| {
        l.starts_with("uba: rejected ")
            && l.contains(": bad time: ")
            && l.contains(" ms is after the year 9999: ")
    });
    assert_eq!(
        rejected.count(),
        lines.iter().sum::<usize>(),
        "uba {args:?}: {err}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let input = b"1,2,3,pv,1511658000\n4,5,6,buy,1511658001\n";
        let a = mutate(input, &mut Rng::new(7), 5);
        let b = mutate(input, &mut Rng::new(7), 5);
        assert_eq!(a, b);
        assert_ne!(a, input.to_vec());
    }

    #[test]
    fn accepted_lines_drop_the_rejected_ones() {
        assert_eq!(accepted_lines(b"a\nb\nc", &[2]), b"a\nc\n".to_vec());
        assert_eq!(accepted_lines(b"a\nb\n", &[1]), b"b\n".to_vec());
    }
}
