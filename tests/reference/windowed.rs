//! Windows, as `docs/event-time.md` defines them: a record of time `ts` is in every window
//! `[end - size, end)` that holds `ts`, `end` a multiple of the slide. A window fires when the
//! watermark passes its end: it prints its result at its last instant, `end - 1`. A late record
//! that still has an unfired window joins it before it fires (no correction to print); with
//! allowed lateness, a fired window takes late records until the watermark reaches
//! `end + lateness`, and prints each changed result (`update: true`) at the watermark the record
//! entered at. A record with no window left goes to the late output.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use super::{Arrival, changes};

/// A window's contents: window end -> (time the record enters the window, record).
pub type Contents<T> = BTreeMap<u64, Vec<(u64, T)>>;

/// Windows of `size` sliding by `slide` (tumbling when equal), with their allowed lateness (ms).
#[derive(Clone, Copy, Debug)]
pub struct Windows {
    pub size: u64,
    pub slide: u64,
    pub lateness: u64,
}

impl Windows {
    pub fn tumbling(size: u64, lateness: u64) -> Self {
        Windows {
            size,
            slide: size,
            lateness,
        }
    }

    pub fn sliding(size: u64, slide: u64, lateness: u64) -> Self {
        Windows {
            size,
            slide,
            lateness,
        }
    }

    /// The ends of the windows holding time `ts`, earliest first.
    pub fn ends(&self, ts: u64) -> Vec<u64> {
        let first = (ts / self.slide + 1) * self.slide;
        (0..self.size / self.slide)
            .map(|k| first + k * self.slide)
            .collect()
    }

    /// When a record entering the dataflow at `at` enters the window ending at `end`: at the
    /// window's last instant `end - 1` if it has not fired yet, else at `at` (a correction) while
    /// the window is within its allowed lateness; None once it is purged.
    pub fn enters(&self, at: u64, end: u64) -> Option<u64> {
        let t = at.max(end - 1);
        (t < end + self.lateness).then_some(t)
    }

    /// [`super::replay`] for records of these windows: a late record is a correction while its
    /// last window takes records.
    pub fn replay<'a, T>(
        &self,
        text: &'a str,
        out_of_orderness: u64,
        parse: impl FnMut(&'a str) -> Option<(u64, Option<T>)>,
    ) -> (Vec<Arrival<T>>, Vec<usize>) {
        let open_until = |ts| self.ends(ts).last().unwrap() + self.lateness;
        super::replay(text, out_of_orderness, open_until, parse)
    }

    /// Every window's contents: each record in each of its windows it still enters.
    pub fn contents<T: Clone>(
        &self,
        arrivals: impl IntoIterator<Item = Arrival<T>>,
    ) -> Contents<T> {
        let mut contents = Contents::new();
        for a in arrivals {
            for end in self.ends(a.ts) {
                if let Some(t) = self.enters(a.at, end) {
                    contents.entry(end).or_default().push((t, a.record.clone()));
                }
            }
        }
        contents
    }
}

/// One printed result of a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emission<R> {
    pub end: u64,
    /// `emitted_at`: `end - 1` when the window fires, the watermark of a correction.
    pub at: u64,
    /// Whether the window printed a result before (the csv's `update`).
    pub update: bool,
    pub result: R,
}

/// Every emission of every window, in (emitted_at, window end) order: `result(end, records)` is
/// a window's result over the records it holds at a time. A window prints when it fires and
/// again each time a correction changes its result; a window nothing entered prints nothing.
pub fn emissions<T, R: PartialEq + Clone>(
    contents: &Contents<T>,
    mut result: impl FnMut(u64, &[&T]) -> R,
) -> Vec<Emission<R>> {
    let times: BTreeMap<u64, BTreeSet<u64>> = contents
        .iter()
        .map(|(&end, rows)| (end, rows.iter().map(|r| r.0).collect()))
        .collect();
    changes(&times, |&end, t| {
        let held: Vec<&T> = contents[&end]
            .iter()
            .filter(|r| r.0 <= t)
            .map(|r| &r.1)
            .collect();
        Some(result(end, &held))
    })
    .into_iter()
    .map(|c| Emission {
        end: c.key,
        at: c.at,
        update: c.previous.is_some(),
        result: c.result.unwrap(),
    })
    .collect()
}
