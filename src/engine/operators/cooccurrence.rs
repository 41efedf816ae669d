//! Items that occur together in groups (the recent items of each user), counted item by item.
//!
//! As records, the pairs of each group are a self-join on the group's key, counted: `sum |G|^2`
//! records, sorted, arranged and joined again with each item's count (recommend at 10M rows:
//! 88 s and 5.6 GB, most of it the pairs). Here every worker holds every group and counts the
//! pairs whose first item it owns (by the item's hash), one first item at a time: the groups that
//! hold it, and in them the other items, summed in one small map that is then handed on and
//! cleared. The pairs are never records and never all in memory; what is kept is the groups.
//!
//! What [`per_item_cooccurrence`] computes is the collection a `reduce` per item over the counted
//! pairs would give: once the frontier has passed a time `t` at which the groups changed, each
//! item's result is `f(item, its co-occurrence counts, every item's count)` as of `t`, and its
//! changes appear at `t`. It recomputes every item at each time the groups change, so, like
//! [`per_key_with_table`](super::broadcast::per_key_with_table), it is for results read at one
//! time (a snapshot, an evaluation), not for following a stream.

use std::collections::{BTreeMap, HashMap};

use differential_dataflow::consolidation::consolidate;
use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use foldhash::fast::FixedState;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::broadcast;
use crate::engine::operators::capability::{hold_earliest, hold_next};
use crate::engine::operators::dense_sums::{DenseSums, by_use};

/// The groups as of the last time applied: each group's items with their multiplicities,
/// consolidated.
type Groups = broadcast::Groups<u64, u64>;

/// The groups laid out for counting, items numbered densely: each group's items in one array,
/// and for each item this worker owns, the groups that hold it.
struct Layout {
    /// Item `x` is `names[x]`, held by groups with a total multiplicity of `counts[x]`.
    names: Vec<u64>,
    counts: Vec<isize>,
    /// Group `g`'s items are `items[starts[g]..starts[g + 1]]`, as `(item, multiplicity)`.
    starts: Vec<usize>,
    items: Vec<(u32, isize)>,
    /// The owned items, and the groups of the `o`-th: `holders[from[o]..from[o + 1]]`, as
    /// `(group, multiplicity of the item in it)`.
    owned: Vec<u32>,
    from: Vec<usize>,
    holders: Vec<(u32, isize)>,
}

impl Layout {
    fn new(groups: &Groups, owns: impl Fn(u64) -> bool) -> Self {
        let mut ids: HashMap<u64, u32, FixedState> = HashMap::default();
        let (mut names, mut counts) = (Vec::new(), Vec::new());
        let mut starts = Vec::with_capacity(groups.len() + 1);
        let mut items = Vec::new();
        // Owned item -> its place in `owned`, and the place of each owned item held, in order.
        let mut place: HashMap<u32, u32, FixedState> = HashMap::default();
        let (mut owned, mut held) = (Vec::new(), Vec::new());
        starts.push(0);
        for group in groups.values() {
            for &(item, m) in group {
                let x = *ids.entry(item).or_insert_with(|| {
                    names.push(item);
                    counts.push(0);
                    (names.len() - 1) as u32
                });
                counts[x as usize] += m;
                items.push((x, m));
                if owns(item) {
                    let o = *place.entry(x).or_insert_with(|| {
                        owned.push(x);
                        (owned.len() - 1) as u32
                    });
                    held.push(o);
                }
            }
            starts.push(items.len());
        }
        // Renumbered by count, the most held first: the sums of an owned item's meetings then
        // crowd into few cache lines (numbered as first met, they were spread over the catalogue).
        let uses: Vec<u32> = counts
            .iter()
            .map(|&c| c.clamp(0, u32::MAX as isize) as u32)
            .collect();
        let (slot, order) = by_use(&uses);
        for (x, _) in &mut items {
            *x = slot[*x as usize];
        }
        for x in &mut owned {
            *x = slot[*x as usize];
        }
        let names: Vec<u64> = order.iter().map(|&x| names[x as usize]).collect();
        let counts: Vec<isize> = order.iter().map(|&x| counts[x as usize]).collect();
        // The holders of each owned item, by a counting sort on the item.
        let mut from = vec![0; owned.len() + 1];
        for &o in &held {
            from[o as usize + 1] += 1;
        }
        for o in 0..owned.len() {
            from[o + 1] += from[o];
        }
        let mut next = from.clone();
        let mut holders = vec![(0, 0); held.len()];
        let mut held = held.into_iter();
        for g in 0..starts.len() - 1 {
            for &(x, m) in &items[starts[g]..starts[g + 1]] {
                if owns(names[x as usize]) {
                    let o = held.next().expect("an owned item") as usize;
                    holders[next[o]] = (g as u32, m);
                    next[o] += 1;
                }
            }
        }
        Layout {
            names,
            counts,
            starts,
            items,
            owned,
            from,
            holders,
        }
    }

    /// Calls `each(item, its count, its co-occurrence counts)` for every owned item, the
    /// co-occurrence counts as `(other item, sum over the groups holding both of the product of
    /// their multiplicities, the other item's count)`, zeros left out, in no particular order.
    fn for_each_item(&self, mut each: impl FnMut(u64, isize, &[(u64, isize, isize)])) {
        // Summed densely: the items an owned item meets.
        let mut sums = DenseSums::new(self.names.len());
        let mut co: Vec<(u64, isize, isize)> = Vec::new();
        for (o, &x) in self.owned.iter().enumerate() {
            for &(g, m) in &self.holders[self.from[o]..self.from[o + 1]] {
                let g = g as usize;
                for &(y, m2) in &self.items[self.starts[g]..self.starts[g + 1]] {
                    if y != x {
                        sums.add(y, m * m2);
                    }
                }
            }
            sums.drain(|y, c| {
                if c != 0 {
                    co.push((self.names[y as usize], c, self.counts[y as usize]));
                }
            });
            let x = x as usize;
            each(self.names[x], self.counts[x], &co);
            co.clear();
        }
    }
}

/// For groups `(group, item)` (with multiplicities), each item's result rows
/// `f(item, n, co, out)`, where `n` is the number of groups that hold it and `co` its
/// co-occurrence counts `(other item, groups holding both, groups holding the other)` (in no
/// particular order; an item alone in its groups gets an empty slice); kept as of each time at
/// which the groups change (see the module's note).
/// The groups are sent whole to every worker; the items are sharded by hash.
pub fn per_item_cooccurrence<'s, O, F>(
    groups: VecCollection<'s, u64, (u64, u64)>,
    name: &str,
    mut f: F,
) -> VecCollection<'s, u64, (u64, O)>
where
    O: ExchangeData + Ord,
    F: FnMut(u64, isize, &[(u64, isize, isize)], &mut Vec<O>) + 'static,
{
    let scope = groups.inner.scope();
    let (me, peers) = (scope.index() as u64, scope.peers() as u64);
    let owns = move |item: u64| item.hashed() % peers == me;
    let mut pending: BTreeMap<u64, Vec<((u64, u64), isize)>> = BTreeMap::new();
    let mut current: Groups = HashMap::default();
    // Each item's result rows as last given.
    let mut shown: HashMap<u64, Vec<O>, FixedState> = HashMap::default();
    let mut held: Option<Capability<u64>> = None;
    groups
        .inner
        .broadcast()
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Pipeline,
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        for (update, t, r) in data.drain(..) {
                            pending.entry(t).or_default().push((update, r));
                        }
                    });
                    let Some(cap) = held.as_mut() else { return };
                    let until = frontier.frontier().first().copied().unwrap_or(u64::MAX);
                    let mut session = output.session(&*cap);
                    while let Some(entry) = pending.first_entry().filter(|e| *e.key() < until) {
                        let (time, updates) = entry.remove_entry();
                        broadcast::apply(&mut current, updates);
                        let layout = Layout::new(&current, owns);
                        // Nothing can follow this time (a snapshot's, an evaluation's): its
                        // results need not be remembered, nor the groups.
                        let last = until == u64::MAX && pending.is_empty();
                        if last {
                            current = Groups::default();
                        }
                        let mut before = std::mem::take(&mut shown);
                        let (mut rows, mut changes) = (Vec::new(), Vec::new());
                        layout.for_each_item(|item, n, co| {
                            f(item, n, co, &mut rows);
                            // One buffer for every item's changes, not one allocated per item.
                            changes.clear();
                            if let Some(old) = before.remove(&item) {
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
                                session.give(((item, row), time, diff));
                            }
                            if !last && !rows.is_empty() {
                                let mut kept = std::mem::take(&mut rows);
                                kept.shrink_to_fit();
                                shown.insert(item, kept);
                            }
                        });
                        // Items no group holds any more: their rows go.
                        for (item, rows) in before {
                            for row in rows {
                                session.give(((item, row), time, -1));
                            }
                        }
                    }
                    drop(session);
                    hold_next(&mut held, pending.keys().next().copied());
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

    /// Each item's result: `(other, co, n_other)` for every item it occurs with. Groups change
    /// at three times, on 1 and 3 workers; the output is every change, at its time, the same as
    /// counting the pairs of a self-join would give.
    #[test]
    fn counts_follow_the_groups() {
        for workers in [1, 3] {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let out = seen.clone();
            timely::execute(timely::Config::process(workers), move |worker| {
                let out = out.clone();
                let (mut groups, probe) = worker.dataflow::<u64, _, _>(|scope| {
                    let (groups_in, groups) = scope.new_collection::<(u64, u64), isize>();
                    let results = per_item_cooccurrence(groups, "Test", |_item, _n, co, out| {
                        out.extend(co.iter().copied());
                    });
                    let (probe, _) = results
                        .inspect(move |update| out.lock().unwrap().push(*update))
                        .inner
                        .probe();
                    (groups_in, probe)
                });
                if worker.index() == 0 {
                    // Users 1 and 2 hold items 10 and 11; user 3 holds 11 and 12.
                    for (user, item) in [(1, 10), (1, 11), (2, 10), (2, 11), (3, 11), (3, 12)] {
                        groups.update_at((user, item), 0, 1);
                    }
                    groups.update_at((2, 11), 2, -1); // co(10, 11) and n(11) drop
                    groups.update_at((3, 11), 4, -1); // 12 is left alone
                    groups.update_at((3, 12), 4, -1);
                }
                groups.close();
                worker.step_while(|| !probe.done());
            })
            .unwrap();
            let mut seen = seen.lock().unwrap().clone();
            seen.sort_by_key(|&((item, row), t, diff)| (t, item, row, diff));
            assert_eq!(
                seen,
                [
                    ((10, (11, 2, 3)), 0, 1),
                    ((11, (10, 2, 2)), 0, 1),
                    ((11, (12, 1, 1)), 0, 1),
                    ((12, (11, 1, 3)), 0, 1),
                    ((10, (11, 1, 2)), 2, 1),
                    ((10, (11, 2, 3)), 2, -1),
                    ((11, (10, 1, 2)), 2, 1),
                    ((11, (10, 2, 2)), 2, -1),
                    ((12, (11, 1, 2)), 2, 1),
                    ((12, (11, 1, 3)), 2, -1),
                    ((10, (11, 1, 1)), 4, 1),
                    ((10, (11, 1, 2)), 4, -1),
                    ((11, (12, 1, 1)), 4, -1),
                    ((12, (11, 1, 2)), 4, -1),
                ],
                "{workers} workers"
            );
        }
    }
}
