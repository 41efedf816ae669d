//! The naive references the job tests compare the binary's output with: plain loops over a whole
//! input, written from the event-time contract in `docs/event-time.md`, calling no code of the
//! crate. The contract is replayed here once; a job's test adds only its own part (how a line
//! parses, what a window's result is).
//!
//! - [`replay`] (here): one input's watermark and lateness, decided line by line in file order;
//! - [`changes`] (here): a keyed result printed each time it changes;
//! - [`windowed`]: which windows a record joins and when, and every emission of every window;
//! - [`patterns`]: the pattern jobs' strict lateness and the order of their output rows.
//!
//! `tests/reference_selftest.rs` checks these against small inputs worked out by hand.
#![allow(dead_code)]

pub mod patterns;
pub mod user_behavior;
pub mod windowed;

use std::collections::{BTreeMap, BTreeSet};

/// A record the job keeps, as it enters the dataflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival<T> {
    /// Its 1-based line number in its input.
    pub line: usize,
    /// Its own (event) time, in ms.
    pub ts: u64,
    /// When it enters: at `ts` when on time; at the watermark when it is behind the watermark
    /// but can still change something (a correction).
    pub at: u64,
    pub record: T,
}

impl<T> Arrival<T> {
    pub fn is_correction(&self) -> bool {
        self.at != self.ts
    }
}

/// Replays one input line by line, the way its reader decides, in file order:
///
/// - `parse(line)` is None for a line the job rejects (it changes nothing); else the line's time
///   in ms and, if the job keeps it, its record (a row the job filters out still moves the
///   watermark);
/// - after each parsed line the watermark is `max time so far - out_of_orderness`;
/// - a kept record at or after the watermark is on time: it enters at its own time;
/// - behind the watermark, it is a correction entering at the watermark if the watermark is still
///   before `open_until(ts)` (when the last window it could join is purged), else it is late.
///
/// Returns the kept records in file order, and the line numbers of the late ones.
pub fn replay<'a, T>(
    text: &'a str,
    out_of_orderness: u64,
    open_until: impl Fn(u64) -> u64,
    mut parse: impl FnMut(&'a str) -> Option<(u64, Option<T>)>,
) -> (Vec<Arrival<T>>, Vec<usize>) {
    let mut max_ts: Option<u64> = None;
    let (mut kept, mut late) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let Some((ts, record)) = parse(line) else {
            continue;
        };
        let max = max_ts.map_or(ts, |m| m.max(ts));
        max_ts = Some(max);
        let Some(record) = record else { continue };
        let watermark = max.saturating_sub(out_of_orderness);
        let at = if ts >= watermark {
            ts
        } else if watermark < open_until(ts) {
            watermark
        } else {
            late.push(i + 1);
            continue;
        };
        kept.push(Arrival {
            line: i + 1,
            ts,
            at,
            record,
        });
    }
    (kept, late)
}

/// One printed change of a keyed result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change<K, R> {
    /// When it is printed (`emitted_at`).
    pub at: u64,
    pub key: K,
    /// The new result; None when the key's result has gone (nothing to print any more).
    pub result: Option<R>,
    /// The result printed before; None for the first (or after the result had gone).
    pub previous: Option<R>,
}

/// Every change of every key's result, in (time, key) order: `times[key]` are the times its
/// inputs change, `result(key, t)` its result at time t (None: nothing). A key's result is
/// printed at each of those times where it differs from the one printed before.
pub fn changes<K: Ord + Clone, R: PartialEq + Clone>(
    times: &BTreeMap<K, BTreeSet<u64>>,
    mut result: impl FnMut(&K, u64) -> Option<R>,
) -> Vec<Change<K, R>> {
    let mut out = Vec::new();
    for (key, key_times) in times {
        let mut previous: Option<R> = None;
        for &t in key_times {
            let now = result(key, t);
            if now == previous {
                continue;
            }
            out.push(Change {
                at: t,
                key: key.clone(),
                result: now.clone(),
                previous,
            });
            previous = now;
        }
    }
    out.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
    out
}

/// The latest event time an input may have: 9999-12-31 23:59:59.999 UTC. A line with a later
/// time is rejected (`bad time: ... after the year 9999`).
pub const LAST_TIME: u64 = 253_402_300_799_999;

/// An id as `docs/jobs.md` defines it: an unsigned integer, at most 9223372036854775807 (the
/// tutorial's Java `Long`); None for a field the job must reject.
pub fn id(field: &str) -> Option<u64> {
    field
        .parse::<u64>()
        .ok()
        .filter(|id| *id <= i64::MAX as u64)
}

/// Seconds in a file, milliseconds in the dataflow; None for a time after [`LAST_TIME`].
pub fn secs(field: Option<&&str>) -> Option<u64> {
    field
        .and_then(|s| s.parse::<u64>().ok())
        .and_then(|s| s.checked_mul(1000))
        .filter(|ms| *ms <= LAST_TIME)
}

/// A csv text: the header line, then the lines.
pub fn csv(header: &str, lines: impl IntoIterator<Item = String>) -> String {
    let mut out = format!("{header}\n");
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The line numbers in a `--late FILE` (of all inputs, in the file's order).
pub fn late_lines(path: &str) -> Vec<usize> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}
