//! Per-key results computed against a table every worker holds whole.
//!
//! Some results need, for each key, its group of values and a table keyed by something else
//! (recommend: a user's recent items, and each item's nearest neighbours). As a join, every match
//! of a value with a table row becomes a record, and the records are gathered again by key: a
//! user's candidates, |R(u)| x N of them, sorted and arranged (most of recommend's 10.6 GB at 10M
//! rows). When the table is small next to those matches, each worker can hold the whole table
//! and compute its keys' results straight from their groups.
//!
//! What [`per_key_with_table`] computes is the collection a `reduce` over the matches would give:
//! once the frontier has passed a time `t` at which the table or a group changed, each key's
//! result is `f(key, group, table)` as of `t`, and its changes appear at `t`. It recomputes every
//! key at each time the table changes, so it is for results read at one time (a snapshot, an
//! evaluation: table and groups then arrive at once), not for following a stream.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use differential_dataflow::consolidation::consolidate;
use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use foldhash::fast::FixedState;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};

/// The table as every worker holds it: each key's rows, with their multiplicities.
pub struct Table<T, U> {
    rows: HashMap<T, Vec<(U, isize)>, FixedState>,
}

impl<T: Hash + Eq, U> Table<T, U> {
    /// Every key with its rows (in order), the keys in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&T, &[(U, isize)])> {
        self.rows.iter().map(|(key, rows)| (key, rows.as_slice()))
    }
}

/// Updates (or rows) by key, consolidated per key.
pub type Groups<K, V> = HashMap<K, Vec<(V, isize)>, FixedState>;

/// Adds `updates` to `groups`, each key's rows consolidated; returns the keys they touched, in
/// order. Each touched key's rows are then cut to their size: grown by doubling, a table of
/// millions of rows left up to half its memory unused (consolidating all updates in one sort
/// instead, to allocate each key's rows once, cost twice the instructions).
pub fn apply<K: Hash + Ord + Clone, V: Ord>(
    groups: &mut Groups<K, V>,
    updates: Vec<((K, V), isize)>,
) -> Vec<K> {
    let mut touched = Vec::with_capacity(updates.len());
    for ((key, value), diff) in updates {
        groups.entry(key.clone()).or_default().push((value, diff));
        // A key's updates mostly come together (a user's items): the sort below then orders
        // one key per group, not one per update.
        if touched.last() != Some(&key) {
            touched.push(key);
        }
    }
    touched.sort_unstable();
    touched.dedup();
    for key in &touched {
        let rows = groups.get_mut(key).expect("a touched key");
        consolidate(rows);
        if rows.is_empty() {
            groups.remove(key);
        } else {
            rows.shrink_to_fit();
        }
    }
    touched
}

/// The earliest time with pending updates of either input.
fn earliest<A, B>(a: &BTreeMap<u64, A>, b: &BTreeMap<u64, B>) -> Option<u64> {
    a.keys()
        .next()
        .into_iter()
        .chain(b.keys().next())
        .min()
        .copied()
}

/// For each key of `groups`, `f(key, its values, the table as `index` laid it out, out)` gives
/// its result rows, kept current at every time at which the table or its group changes (see the
/// module's note). The table is sent whole to every worker; the groups are sharded by key.
///
/// `index` lays the table out once each time it changes, in the form `f` reads fastest
/// (recommend: items numbered densely, so that a user's candidates are summed in an array, not
/// a hash map: a map lookup per candidate was most of the scoring). At a time nothing can follow,
/// the table itself is dropped once laid out.
pub fn per_key_with_table<'s, K, V, T, U, X, O, I, F>(
    groups: VecCollection<'s, u64, (K, V)>,
    table: VecCollection<'s, u64, (T, U)>,
    name: &str,
    mut index: I,
    mut f: F,
) -> VecCollection<'s, u64, (K, O)>
where
    K: ExchangeData + Hash,
    V: ExchangeData + Ord,
    T: ExchangeData + Hash,
    U: ExchangeData + Ord,
    O: ExchangeData + Ord,
    X: 'static,
    I: FnMut(&Table<T, U>) -> X + 'static,
    F: FnMut(&K, &[(V, isize)], &X, &mut Vec<O>) + 'static,
{
    type Pending<D> = BTreeMap<u64, Vec<(D, isize)>>;
    let mut pending_groups: Pending<(K, V)> = BTreeMap::new();
    let mut pending_table: Pending<(T, U)> = BTreeMap::new();
    let mut values: Groups<K, V> = HashMap::default();
    let mut table_rows = Table {
        rows: HashMap::default(),
    };
    // The table as `index` laid it out, as of the last time it changed.
    let mut indexed: Option<X> = None;
    // Each key's result rows as last given.
    let mut shown: HashMap<K, Vec<O>, FixedState> = HashMap::default();
    let mut held: Option<Capability<u64>> = None;
    let mut rows: Vec<O> = Vec::new();
    let mut changes: Vec<(O, isize)> = Vec::new();
    groups
        .inner
        .binary_frontier::<_, CapacityContainerBuilder<Vec<_>>, _, _, _, _>(
            table.inner.broadcast(),
            Exchange::new(|((key, _), _, _): &((K, V), u64, isize)| key.hashed()),
            Pipeline,
            name,
            move |_capability, _info| {
                move |(groups, groups_frontier), (table, table_frontier), output| {
                    groups.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        for (update, t, r) in data.drain(..) {
                            pending_groups.entry(t).or_default().push((update, r));
                        }
                    });
                    table.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        for (update, t, r) in data.drain(..) {
                            pending_table.entry(t).or_default().push((update, r));
                        }
                    });
                    let Some(cap) = held.as_mut() else { return };
                    let until = [groups_frontier.frontier(), table_frontier.frontier()]
                        .into_iter()
                        .filter_map(|f| f.first().copied())
                        .min()
                        .unwrap_or(u64::MAX);
                    let mut session = output.session(&*cap);
                    loop {
                        let next = earliest(&pending_groups, &pending_table);
                        let Some(time) = next.filter(|t| *t < until) else {
                            break;
                        };
                        let table_changed = match pending_table.remove(&time) {
                            Some(updates) => !apply(&mut table_rows.rows, updates).is_empty(),
                            None => false,
                        };
                        let mut keys = match pending_groups.remove(&time) {
                            Some(updates) => apply(&mut values, updates),
                            None => Vec::new(),
                        };
                        if table_changed {
                            keys = values.keys().chain(shown.keys()).cloned().collect();
                            keys.sort_unstable();
                            keys.dedup();
                        }
                        // Nothing can follow this time (a snapshot's, an evaluation's): its
                        // results need not be remembered, nor the groups and the table.
                        let last = until == u64::MAX
                            && pending_groups.is_empty()
                            && pending_table.is_empty();
                        if table_changed || indexed.is_none() {
                            indexed = Some(index(&table_rows));
                            if last {
                                table_rows.rows = HashMap::default();
                            }
                        }
                        let laid_out = indexed.as_ref().expect("the table laid out");
                        for key in keys {
                            if let Some(group) = values.get(&key) {
                                f(&key, group, laid_out, &mut rows);
                            }
                            // One buffer for every key's changes, not one allocated per key.
                            changes.clear();
                            if let Some(old) = shown.remove(&key) {
                                changes.extend(old.into_iter().map(|o| (o, -1)));
                            }
                            if last {
                                // Not remembered: moved, not copied.
                                changes.extend(rows.drain(..).map(|o| (o, 1)));
                            } else {
                                changes.extend(rows.iter().cloned().map(|o| (o, 1)));
                            }
                            consolidate(&mut changes);
                            for (row, diff) in changes.drain(..) {
                                session.give(((key.clone(), row), time, diff));
                            }
                            if !last && !rows.is_empty() {
                                let mut kept = std::mem::take(&mut rows);
                                kept.shrink_to_fit();
                                shown.insert(key, kept);
                            }
                        }
                        if last {
                            values = HashMap::default();
                            table_rows.rows = HashMap::default();
                            indexed = None;
                        }
                    }
                    drop(session);
                    hold_next(&mut held, earliest(&pending_groups, &pending_table));
                }
            },
        )
        .as_collection()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use differential_dataflow::input::Input;
    use timely::dataflow::operators::probe::Probe;

    use super::*;

    /// Each key's result: the table rows of its values. The table and the groups change at
    /// different times, on 1 and 3 workers; the output is every change, at its time.
    #[test]
    fn results_follow_the_table_and_the_groups() {
        for workers in [1, 3] {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let out = seen.clone();
            timely::execute(timely::Config::process(workers), move |worker| {
                let out = out.clone();
                let (mut groups, mut table, probe) = worker.dataflow::<u64, _, _>(|scope| {
                    let (groups_in, groups) = scope.new_collection::<(u64, char), isize>();
                    let (table_in, table) = scope.new_collection::<(char, u32), isize>();
                    // Laid out as each value's rows, one per multiplicity.
                    let index = |table: &Table<char, u32>| {
                        let mut laid_out: HashMap<char, Vec<u32>> = HashMap::new();
                        for (&v, rows) in table.iter() {
                            for &(row, m) in rows {
                                let rows = laid_out.entry(v).or_default();
                                rows.extend(std::iter::repeat_n(row, m as usize));
                            }
                        }
                        laid_out
                    };
                    let results = per_key_with_table(
                        groups,
                        table,
                        "Test",
                        index,
                        |_key, values, laid_out, out| {
                            for &(v, n) in values {
                                for &row in laid_out.get(&v).map_or(&[][..], Vec::as_slice) {
                                    out.extend(std::iter::repeat_n(row, n as usize));
                                }
                            }
                        },
                    );
                    let (probe, _) = results
                        .inspect(move |update| out.lock().unwrap().push(*update))
                        .inner
                        .probe();
                    (groups_in, table_in, probe)
                });
                if worker.index() == 0 {
                    groups.update_at((1, 'a'), 0, 1);
                    groups.update_at((2, 'b'), 0, 1);
                    table.update_at(('a', 10), 0, 1);
                    table.update_at(('a', 11), 2, 1); // every key is recomputed
                    groups.update_at((2, 'a'), 3, 1); // key 2 only
                    groups.update_at((1, 'a'), 4, -1); // key 1's result goes
                    table.update_at(('b', 20), 5, 1);
                }
                groups.close();
                table.close();
                worker.step_while(|| !probe.done());
            })
            .unwrap();
            let mut seen = seen.lock().unwrap().clone();
            seen.sort_by_key(|&((key, row), t, diff)| (t, key, row, diff));
            assert_eq!(
                seen,
                [
                    ((1, 10), 0, 1),
                    ((1, 11), 2, 1),
                    ((2, 10), 3, 1),
                    ((2, 11), 3, 1),
                    ((1, 10), 4, -1),
                    ((1, 11), 4, -1),
                    ((2, 20), 5, 1),
                ],
                "{workers} workers"
            );
        }
    }
}
