//! Temporal visibility: updates that hold only during an interval of event time.
//!
//! Materialize's temporal filters, in differential: an update `(d, t, r)` becomes `+r` at
//! `max(t, from)` and `-r` at `max(t, until)`. Both land at or after `t`, so nothing moves back in
//! time, and differential's operators hold each part until the frontier reaches it. State is then
//! bounded by the interval: a record leaves every arrangement downstream once its interval ends.
//! A record that arrives after its interval (`t >= until`) is inserted and retracted at the same
//! `t`, and cancels.
//!
//! Two shapes use it: a window contribution (visible from `end - 1` to `end + lateness`, as
//! [`crate::engine::windows::expand_panes`] does), and a *horizon* (an event visible from its own time
//! for a fixed length: "the last day of a user's behaviour").

use std::cmp::max;

use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use timely::dataflow::operators::vec::Map;

use crate::engine::event_time::Lateness;
use crate::engine::windows::Windows;

/// Makes each update visible during `interval(&d) = (from, until)`; `until = None` keeps it for
/// good.
pub fn visible<'s, D, I>(
    updates: VecCollection<'s, u64, D>,
    interval: I,
) -> VecCollection<'s, u64, D>
where
    D: ExchangeData,
    I: Fn(&D) -> (u64, Option<u64>) + 'static,
{
    updates
        .inner
        .flat_map(move |(d, t, r)| {
            let (from, until) = interval(&d);
            let retraction = until.map(|until| (d.clone(), max(t, until), -r));
            std::iter::once((d, max(t, from), r)).chain(retraction)
        })
        .as_collection()
}

/// A sliding horizon: each event is visible from its own time for `length` ms (an event at `ts`
/// counts for the times `ts ..= ts + length - 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Horizon {
    pub length: u64,
}

impl Horizon {
    pub fn new(length: u64) -> Result<Self, String> {
        if length == 0 {
            return Err("--horizon must be longer than 0 ms".into());
        }
        Ok(Horizon { length })
    }

    /// Keeps each event visible for the horizon after its event time `ts(&d)`. A correction (a
    /// late event entering at the watermark) stays until its own `ts + length`, as if on time.
    pub fn apply<'s, D, T>(
        self,
        events: VecCollection<'s, u64, D>,
        ts: T,
    ) -> VecCollection<'s, u64, D>
    where
        D: ExchangeData,
        T: Fn(&D) -> u64 + 'static,
    {
        visible(events, move |d| {
            let ts = ts(d);
            (ts, Some(ts + self.length))
        })
    }

    /// The lateness rule of a horizon: an event behind the watermark `F` still counts while
    /// `F < ts + length` (it enters at `F` and leaves at `ts + length`); after that it is late.
    /// A sliding window of the horizon's length with a 1 ms slide has exactly this rule.
    pub fn lateness(self) -> Lateness {
        Lateness::Windowed(Windows::sliding(self.length, 1, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event_time::Arrival;

    #[test]
    fn a_late_event_counts_while_its_horizon_lasts() {
        let h = Horizon::new(10_000).unwrap();
        assert_eq!(
            h.lateness().classify(5_000, 14_999),
            Arrival::Correction { at: 14_999 }
        );
        assert!(matches!(
            h.lateness().classify(5_000, 15_000),
            Arrival::Late { .. }
        ));
    }
}
