//! What the pattern tests' naive references share: replaying one input file's watermark and
//! strict lateness line by line, written from `DESIGN.md`, sharing no code with the engine.
#![allow(dead_code)]

/// A record the job uses, with its 1-based line number.
pub struct OnTime<T> {
    pub line: usize,
    pub ts: u64,
    pub record: T,
}

/// Replays an input: every parsed row moves the watermark `max - out_of_orderness`; a row the job
/// keeps is on time when its time is not behind the watermark, else late. `parse` gives a row's
/// time (ms) and, if the job keeps it, the record. Returns the on-time records and the late lines.
pub fn replay<T>(
    text: &str,
    out_of_orderness: u64,
    parse: impl Fn(&[&str]) -> Option<(u64, Option<T>)>,
) -> (Vec<OnTime<T>>, Vec<usize>) {
    let mut max: Option<u64> = None;
    let (mut used, mut late) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some((ts, record)) = parse(&fields) else {
            continue;
        };
        max = Some(max.map_or(ts, |m| m.max(ts)));
        let Some(record) = record else { continue };
        if ts < max.unwrap().saturating_sub(out_of_orderness) {
            late.push(i + 1);
        } else {
            used.push(OnTime {
                line: i + 1,
                ts,
                record,
            });
        }
    }
    (used, late)
}

/// Seconds in a file, milliseconds in the dataflow.
pub fn secs(field: Option<&&str>) -> Option<u64> {
    field.and_then(|s| s.parse::<u64>().ok()).map(|s| s * 1000)
}

/// The line numbers in a `--late FILE`.
pub fn late_lines(path: &str) -> Vec<usize> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// Sorts `(emitted_at, sort key, csv line)` rows into the output's order and adds the header.
pub fn csv(header: &str, mut rows: Vec<(u64, String, String)>) -> String {
    rows.sort();
    let mut out = String::from(header);
    out.push('\n');
    for (_, _, line) in rows {
        out.push_str(&line);
        out.push('\n');
    }
    out
}
