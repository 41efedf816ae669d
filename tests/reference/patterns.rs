//! What the pattern tests' references share: strict lateness (a record behind its input's
//! watermark is late, `docs/event-time.md`), and the order of the output rows.
#![allow(dead_code)]

use super::Arrival;

/// Replays an input whose fields are separated by commas: `parse` gives a row's time (ms) and,
/// if the job keeps it, the record. A kept row is on time when its time is not behind the
/// watermark, else late: nothing a pattern job decided is ever corrected. Returns the on-time
/// records and the late line numbers.
pub fn replay<T>(
    text: &str,
    out_of_orderness: u64,
    parse: impl Fn(&[&str]) -> Option<(u64, Option<T>)>,
) -> (Vec<Arrival<T>>, Vec<usize>) {
    // Behind the watermark, nothing is open any more.
    super::replay(
        text,
        out_of_orderness,
        |ts| ts,
        |line| parse(&line.split(',').map(str::trim).collect::<Vec<_>>()),
    )
}

/// Sorts `(emitted_at, sort key, csv line)` rows into the output's order and adds the header.
pub fn csv(header: &str, mut rows: Vec<(u64, String, String)>) -> String {
    rows.sort();
    super::csv(header, rows.into_iter().map(|(_, _, line)| line))
}
