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
//! `windows::expand_panes` does), and a *horizon* (an event visible from its own time
//! for a fixed length: "the last day of a user's behaviour").

use std::cmp::max;
use std::collections::VecDeque;

use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use timely::dataflow::operators::vec::Map;

/// An update together with its own retraction: `(d, t, r)` holds from `max(t, from)` until
/// `max(t, until)` (exclusive). This is the one primitive of the module: windows
/// (`windows::expand_panes`), and horizons are all this
/// step with a different interval. Neither part moves back before `t`.
#[inline]
pub fn during<D: Clone>((d, t, r): (D, u64, isize), from: u64, until: u64) -> [(D, u64, isize); 2] {
    [(d.clone(), max(t, from), r), (d, max(t, until), -r)]
}

/// Temporal visibility on collections timed in event-time milliseconds, as a method so that a
/// job reads as a chain (`events.visible(|e| (e.start, Some(e.end)))`).
///
/// It schedules updates at or after the time of the update they come from, never before:
/// differential's operators hold such future updates until the frontier reaches them, so the
/// output is correct for any batching, and each record leaves the arrangements downstream once
/// its interval ends.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use differential_dataflow::input::Input;
/// use timely::dataflow::operators::probe::Probe;
/// use uba::engine::time::temporal::Temporal;
///
/// // A promotion runs from 10 until 20: a click at 5 counts from 10, one at 12 from 12, and
/// // both stop counting at 20.
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let out = seen.clone();
/// timely::execute_directly(move |worker| {
///     let (mut clicks, probe) = worker.dataflow::<u64, _, _>(|scope| {
///         let (input, clicks) = scope.new_collection::<u64, isize>();
///         let (probe, _) = clicks
///             .visible(|_| (10, Some(20)))
///             .consolidate()
///             .inspect(move |update| out.lock().unwrap().push(*update))
///             .inner
///             .probe();
///         (input, probe)
///     });
///     clicks.advance_to(5);
///     clicks.insert(1);
///     clicks.advance_to(12);
///     clicks.insert(2);
///     clicks.advance_to(30);
///     clicks.flush();
///     worker.step_while(|| probe.less_than(&30));
/// });
/// let mut seen = seen.lock().unwrap().clone();
/// seen.sort_by_key(|&(click, t, _)| (t, click));
/// assert_eq!(seen, [(1, 10, 1), (2, 12, 1), (1, 20, -1), (2, 20, -1)]);
/// ```
pub trait Temporal<D>: Sized {
    /// Makes each update visible during `interval(&d) = (from, until)`; `until = None` keeps it
    /// for good.
    fn visible<I>(self, interval: I) -> Self
    where
        I: Fn(&D) -> (u64, Option<u64>) + 'static;
}

impl<'s, D: ExchangeData> Temporal<D> for VecCollection<'s, u64, D> {
    fn visible<I>(self, interval: I) -> Self
    where
        I: Fn(&D) -> (u64, Option<u64>) + 'static,
    {
        self.inner
            .flat_map(move |(d, t, r)| {
                let (from, until) = interval(&d);
                let [insert, retract] = during((d, t, r), from, until.unwrap_or(u64::MAX));
                std::iter::once(insert).chain(until.map(|_| retract))
            })
            .as_collection()
    }
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
        events.visible(move |d| {
            let ts = ts(d);
            (ts, Some(ts + self.length))
        })
    }
}

/// One key's events still in a horizon, oldest first: what a keyed process over a horizon holds
/// of its key, where [`Horizon::apply`] keeps every event in arrangements downstream.
pub struct InHorizon<E> {
    /// `(ts, event)`, by `ts`.
    events: VecDeque<(u64, E)>,
}

impl<E> Default for InHorizon<E> {
    fn default() -> Self {
        InHorizon {
            events: VecDeque::new(),
        }
    }
}

impl<E> InHorizon<E> {
    /// Adds an event of time `ts`: nearly always at the back, a late one where its `ts` puts it.
    pub fn enter(&mut self, ts: u64, event: E) {
        if self.events.back().is_none_or(|(t, _)| *t <= ts) {
            // In order: no search (a search per event was a twentieth of recommend at 10M rows).
            self.events.push_back((ts, event));
        } else {
            let at = self.events.partition_point(|(t, _)| *t <= ts);
            self.events.insert(at, (ts, event));
        }
    }

    /// Removes, oldest first, the events that no longer count at `time`, giving each to `left`.
    pub fn leave(&mut self, horizon: Horizon, time: u64, mut left: impl FnMut(E)) {
        while self
            .events
            .front()
            .is_some_and(|(ts, _)| ts + horizon.length <= time)
        {
            let (_, event) = self.events.pop_front().expect("a front");
            left(event);
        }
    }

    /// When the oldest event leaves; `None` when there are none.
    pub fn next_leaving(&self, horizon: Horizon) -> Option<u64> {
        self.events.front().map(|(ts, _)| ts + horizon.length)
    }

    /// The time of the latest event.
    pub fn latest(&self) -> Option<u64> {
        self.events.back().map(|(ts, _)| *ts)
    }

    /// The events that count at `time`, oldest first.
    pub fn at(&self, horizon: Horizon, time: u64) -> impl Iterator<Item = &(u64, E)> {
        self.events
            .iter()
            .filter(move |(ts, _)| ts + horizon.length > time)
    }
}
