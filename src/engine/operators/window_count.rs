//! The windowed count every counting job needs: per-window counts of keys, ranked.
//!
//! Without allowed lateness the windows are kept in time ([`windows_of_time`]); with it, each live
//! window is a map from key to count in one operator ([`rank_per_window`]).

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::hash::Hash;

use differential_dataflow::consolidation::consolidate;
use differential_dataflow::operators::CountTotal;
use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};
use crate::engine::operators::ranked_windows::rank_per_window;
use crate::engine::operators::sliding_top::sliding_top;
use crate::engine::operators::topn::Ranked;
use crate::engine::status::failure::fail;
use crate::engine::time::windows::{Windows, visible_while_open};

/// The windowed count every counting job needs: counts each key per window from pane updates
/// `(key, pane)`, ranks the keys of each window (count descending, then key ascending) and keeps
/// the first `top` of them (all with `None`): `(window_end, (count, key))`, the rows of a window
/// in rank order, the form the window sink writes. Operators are
/// named after `name` (`"HotItems"` gives `HotItems/windows`).
///
/// Without allowed lateness a fired window never changes again, and the windows are kept *in
/// time* instead of as data: a pane's updates are visible from the pane's end until the end of its
/// last window, so the counts at `end - 1` are exactly the window ending at `end`. Each pane
/// update then costs 2 updates instead of `2 * size / slide`, and a slide changes only the counts
/// of the keys in the panes that enter and leave. A top N keeps those counts in maps sharded by
/// key ([`sliding_top`]); all keys, as a differential count turned back into windows
/// ([`windows_of_time`]). With allowed lateness, fired windows take corrections, so each live
/// window keeps its own counts ([`rank_per_window`]).
pub fn ranked_counts<'s, K>(
    panes: VecCollection<'s, u64, (K, u64)>,
    windows: Windows,
    top: Option<usize>,
    name: &str,
) -> VecCollection<'s, u64, (u64, Ranked<K>)>
where
    K: ExchangeData + Hash,
{
    match top {
        _ if windows.lateness > 0 => {
            rank_per_window(panes, windows, top, &format!("{name}/windows"))
        }
        Some(n) => sliding_top(panes, windows, n, name),
        None => {
            let counts = visible_while_open(panes, windows)
                .map(|key| ((), key))
                .count_total();
            windows_of_time(
                counts.map(|(((), key), count)| (Reverse(count), key)),
                windows,
                &format!("{name}/windows"),
            )
        }
    }
}

/// Turns a result kept in time (the collection at `end - 1` is the window ending at `end`) back
/// into windows as data: each window's rows inserted at `end - 1` and retracted at `end`, the
/// form every window sink reads. Only the result is expanded, never the events: a top N has N
/// rows per window. The result is gathered on worker 0, which holds a capability for the next
/// window to write while the result is not empty. Only valid without allowed lateness.
pub fn windows_of_time<'s, R: ExchangeData>(
    rows: VecCollection<'s, u64, R>,
    windows: Windows,
    name: &str,
) -> VecCollection<'s, u64, (u64, R)> {
    assert_eq!(
        windows.lateness, 0,
        "a result kept in time cannot take corrections"
    );
    let mut pending: BTreeMap<u64, Vec<(R, isize)>> = BTreeMap::new();
    let mut current: Vec<R> = Vec::new();
    let mut next_end = 0u64;
    let mut capability: Option<Capability<u64>> = None;
    rows.inner
        .unary_frontier::<CapacityContainerBuilder<Vec<((u64, R), u64, isize)>>, _, _, _>(
            Exchange::new(|_: &(R, u64, isize)| 0),
            name,
            |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(
                            &mut capability,
                            cap.retain_least(output.output_index()).expect("a time"),
                        );
                        for (row, t, r) in data.drain(..) {
                            pending.entry(t).or_default().push((row, r));
                        }
                    });
                    let Some(cap) = capability.as_mut() else {
                        return;
                    };
                    let mut session = output.session(&*cap);
                    loop {
                        let change = pending
                            .first_key_value()
                            .map(|(t, _)| *t)
                            .filter(|t| !frontier.less_equal(t));
                        let due = (!current.is_empty())
                            .then(|| next_end - 1)
                            .filter(|t| !frontier.less_equal(t));
                        match (due, change) {
                            // A window whose last change has been applied: write it.
                            (Some(at), c) if c.is_none_or(|c| at < c) => {
                                for row in &current {
                                    session.give(((next_end, row.clone()), at, 1));
                                    session.give(((next_end, row.clone()), at + 1, -1));
                                }
                                next_end += windows.slide;
                            }
                            (_, Some(t)) => {
                                let mut changes = pending.remove(&t).expect("a pending time");
                                consolidate(&mut changes);
                                for (row, r) in changes {
                                    match current.binary_search(&row) {
                                        Ok(at) if r < 0 => {
                                            current.remove(at);
                                        }
                                        Err(at) if r > 0 => current.insert(at, row),
                                        _ => fail("internal error: a windowed result is not a set"),
                                    }
                                }
                                // Changes at `t` belong to the windows that end after it.
                                next_end = next_end.max((t / windows.slide + 1) * windows.slide);
                            }
                            _ => break,
                        }
                    }
                    drop(session);
                    let next = pending
                        .keys()
                        .next()
                        .copied()
                        .into_iter()
                        .chain((!current.is_empty()).then(|| next_end - 1))
                        .min();
                    hold_next(&mut capability, next);
                }
            },
        )
        .as_collection()
}
