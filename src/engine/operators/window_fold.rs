//! Windows whose result is a set of sums, folded per worker over its share of the keys.
//!
//! Some window results count keys, not records: the distinct users of an hour, the users who
//! bought twice in a day. A record's contribution then depends on what its key did earlier in the
//! window, so each (window, key) must be remembered until the window is purged. Kept as
//! differential collections, that is an arrangement of every (window, key, ...) with a
//! retraction scheduled at the window's purge time, and a `count` over it: funnel over 10M rows
//! took 37.7 s and 2.44 GB that way. Here each worker keeps, per live window, a state for the keys
//! it owns (a hash map, dropped at the purge), and turns each record into changes of the window's
//! sums (`+1 user who viewed`, `+1 view`). Sums are additive over keys, so the workers' partial
//! sums add up downstream in differential (a `count` over a few rows per window).
//!
//! The output follows the windowed contract (`docs/event-time.md`, "Windows"), as
//! [`crate::engine::operators::sketch::per_window`] does for sketches:
//!
//! - records are folded time by time, in time order, once the frontier has passed their time;
//!   a record at or after its window's purge time changes nothing;
//! - a window's sums appear at its firing time (or at its first record, if that is later);
//! - afterwards, each time's net changes to them appear at that time;
//! - at the purge time they are retracted and the window's state is dropped.
//!
//! All of a key's records go to one worker, so the result is the same for any `-w`, `-n` or
//! batch size.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};

/// What a job folds: its records, their windows, and how a record changes a window's sums.
pub trait WindowFold: 'static {
    type Record: ExchangeData;
    /// A window, with whatever tells windows of one end apart (an hour and the day it ends).
    type Window: Ord + Copy + 'static;
    /// One window's state on one worker: what it remembers of its keys.
    type State: Default + 'static;
    /// One sum of a window's result, named with its window: the output holds each with its
    /// value as multiplicity.
    type Sum: ExchangeData + Hash + Eq;

    /// Which worker folds `record`: all records of a key must have the same shard.
    fn shard(&self, record: &Self::Record) -> u64;
    /// The windows `record` counts in.
    fn windows(&self, record: &Self::Record, windows: &mut Vec<Self::Window>);
    /// When the window's sums first appear.
    fn fires_at(&self, window: Self::Window) -> u64;
    /// When they are retracted and the window's state dropped.
    fn purged_at(&self, window: Self::Window) -> u64;
    /// Folds `record` (`diff` copies of it) into `window`'s state, and pushes the changes of the
    /// window's sums to `sums`.
    fn fold(
        &self,
        window: Self::Window,
        state: &mut Self::State,
        record: &Self::Record,
        diff: isize,
        sums: &mut Vec<(Self::Sum, isize)>,
    );
}

/// The sums' maps take one lookup per change; a fixed seed keeps a run's work the same each time.
type SumMap<S> = HashMap<S, isize, foldhash::fast::FixedState>;

/// One live window on one worker.
struct Live<F: WindowFold> {
    state: F::State,
    /// The window's sums on this worker so far (including those not shown yet).
    sums: SumMap<F::Sum>,
    fired: bool,
}

/// What is due for a window at a time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    Fire,
    Purge,
}

/// Folds `records` per window with `fold`: the windows' sums, as a collection whose
/// multiplicities are the sums (the workers' shares of one sum are separate updates until
/// consolidated, by a `count` for instance).
pub fn fold_per_window<'s, F: WindowFold>(
    records: VecCollection<'s, u64, F::Record>,
    name: &str,
    fold: F,
) -> VecCollection<'s, u64, F::Sum> {
    let fold = std::rc::Rc::new(fold);
    let shard = fold.clone();
    // Records whose time the frontier has not passed.
    let mut pending: Vec<(u64, F::Record, isize)> = Vec::new();
    let mut live: BTreeMap<F::Window, Live<F>> = BTreeMap::new();
    // Firings and purges, by time.
    let mut agenda: BTreeMap<u64, Vec<(Due, F::Window)>> = BTreeMap::new();
    let mut held: Option<Capability<u64>> = None;
    // Buffers reused across activations.
    let mut ready: Vec<(u64, F::Record, isize)> = Vec::new();
    let mut windows: Vec<F::Window> = Vec::new();
    let mut sums: Vec<(F::Sum, isize)> = Vec::new();
    let mut changes: SumMap<F::Sum> = SumMap::default();
    let mut decided: Vec<(F::Sum, u64, isize)> = Vec::new();
    records
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(move |(record, _, _): &(F::Record, u64, isize)| shard.shard(record)),
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        pending.extend(data.drain(..).map(|(record, t, r)| (t, record, r)));
                    });
                    let Some(cap) = held.as_mut() else { return };
                    let until = frontier.frontier().first().copied().unwrap_or(u64::MAX);
                    ready.extend(pending.extract_if(.., |(t, _, _)| *t < until));
                    ready.sort_unstable_by_key(|(t, _, _)| *t);
                    let mut records = ready.drain(..).peekable();
                    loop {
                        let next_record = records.peek().map(|(t, _, _)| *t);
                        let next_due = agenda.first_key_value().map(|(t, _)| *t);
                        let Some(time) = next_record.into_iter().chain(next_due).min() else {
                            break;
                        };
                        if time >= until {
                            break;
                        }
                        while let Some((_, record, diff)) = records.next_if(|(t, _, _)| *t == time)
                        {
                            fold.windows(&record, &mut windows);
                            for window in windows.drain(..) {
                                if time >= fold.purged_at(window) {
                                    continue;
                                }
                                let w = live.entry(window).or_insert_with(|| {
                                    let fires = fold.fires_at(window);
                                    if fires > time {
                                        agenda.entry(fires).or_default().push((Due::Fire, window));
                                    }
                                    let purge = fold.purged_at(window);
                                    agenda.entry(purge).or_default().push((Due::Purge, window));
                                    Live {
                                        state: F::State::default(),
                                        sums: SumMap::default(),
                                        fired: fires <= time,
                                    }
                                });
                                fold.fold(window, &mut w.state, &record, diff, &mut sums);
                                for (sum, d) in sums.drain(..) {
                                    if w.fired {
                                        *changes.entry(sum.clone()).or_default() += d;
                                    }
                                    *w.sums.entry(sum).or_default() += d;
                                }
                            }
                        }
                        if next_due == Some(time) {
                            let mut due = agenda.remove(&time).expect("due now");
                            due.sort();
                            for (what, window) in due {
                                match what {
                                    Due::Fire => {
                                        let w = live.get_mut(&window).expect("a live window");
                                        w.fired = true;
                                        for (sum, &d) in &w.sums {
                                            *changes.entry(sum.clone()).or_default() += d;
                                        }
                                    }
                                    Due::Purge => {
                                        let w = live.remove(&window).expect("a live window");
                                        if w.fired {
                                            for (sum, d) in w.sums {
                                                *changes.entry(sum).or_default() -= d;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        decided.extend(
                            changes
                                .drain()
                                .filter(|(_, d)| *d != 0)
                                .map(|(sum, d)| (sum, time, d)),
                        );
                    }
                    pending.extend(records);
                    // Results carry their own times, all at or after `cap`'s: one message.
                    if !decided.is_empty() {
                        output.session(&*cap).give_iterator(decided.drain(..));
                    }
                    let next_record = pending.iter().map(|(t, _, _)| *t).min();
                    let next_due = agenda.first_key_value().map(|(t, _)| *t);
                    hold_next(&mut held, next_record.into_iter().chain(next_due).min());
                }
            },
        )
        .as_collection()
}
