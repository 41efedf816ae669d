//! The top N of each sliding window without allowed lateness, from counts kept in maps sharded by
//! key: one hash lookup when a pane update enters the window's counts and one when it leaves.
//!
//! Kept in differential arrangements (`visible_while_open`, `count_total`, a two-level top N),
//! every pane update was sorted and merged into traces twice, and each changed count re-ran a
//! bucket's reduce at each time: about 11,000 instructions per input line of hot-items, against
//! about 630 here. Here each worker holds, for its share of the keys (by hash), one map from key
//! to its count in the window that closes next, applies each pane update when its first window is
//! due and again, negated, when its pane leaves the last window, and at each window's `end - 1`
//! offers its own top N; one worker per window merges the workers' offers (at most
//! `N x workers` rows).
//!
//! A window's top N is taken from a small set of candidates instead of the whole map (a Taobao hour
//! holds about 300,000 items): every key outside the set has a count at most `bound`, so the set's
//! first N are the window's as long as the N-th counts more than `bound`. A key that rises above
//! `bound` joins the set; when the set's N-th falls to `bound` (counts leave with their panes),
//! the map is ranked in full once and the set rebuilt ([`CANDIDATES`] keys).
//!
//! The result is the collection `ranked_counts` documents, `(window_end, (count, key))` inserted
//! at `end - 1` and retracted at `end`, equal to the arrangement-based one row for row.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};
use crate::engine::operators::topn::Ranked;
use crate::engine::time::windows::Windows;

/// How many keys the candidate set keeps when it is rebuilt from the whole map: enough that the
/// top N of hot-items' hours stays inside it for many slides, few enough to sort at each firing.
const CANDIDATES: usize = 64;

/// The counts map is looked up twice per pane update: foldhash with a fixed seed, as the windows'
/// maps (`ranked_windows`).
type KeyMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A key's count in the window that closes next, and whether it is a candidate.
struct Entry {
    count: isize,
    candidate: bool,
}

/// One worker's share of the keys: their counts in the window that closes next, and the
/// candidates for its top N.
struct Shard<K> {
    counts: KeyMap<K, Entry>,
    /// The keys whose entry is marked `candidate`, each once.
    candidates: Vec<K>,
    /// Every key that is not a candidate counts at most this.
    bound: isize,
}

impl<K: Ord + Hash + Clone> Shard<K> {
    fn new() -> Self {
        Shard {
            counts: KeyMap::default(),
            candidates: Vec::new(),
            bound: 0,
        }
    }

    /// Adds `diff` to `key`'s count; a key that rises above `bound` becomes a candidate.
    fn add(&mut self, key: &K, diff: isize) {
        let entry = match self.counts.get_mut(key) {
            Some(entry) => entry,
            None => self.counts.entry(key.clone()).or_insert(Entry {
                count: 0,
                candidate: false,
            }),
        };
        entry.count += diff;
        if entry.candidate {
            // A candidate at zero stays in the map until the next ranking drops it.
        } else if entry.count > self.bound {
            entry.candidate = true;
            self.candidates.push(key.clone());
        } else if entry.count == 0 {
            self.counts.remove(key);
        }
    }

    /// The first `n` rows of the window, ranked (count descending, then key ascending).
    fn top(&mut self, n: usize) -> Vec<Ranked<K>> {
        // Many keys rose above the bound (while the first window filled): rank them all once.
        if self.candidates.len() > 4 * CANDIDATES.max(n) {
            self.rebuild(n);
        }
        let mut ranked = self.ranked_candidates();
        // Valid when the n-th candidate ranks ahead of every other key (or all keys are in).
        let valid = (ranked.len() >= n && ranked[n - 1].0.0 > self.bound)
            || ranked.len() == self.counts.len();
        if !valid {
            self.rebuild(n);
            ranked = self.ranked_candidates();
        }
        ranked.truncate(n);
        ranked
    }

    /// The candidates with a count, ranked; those at zero leave the set and the map.
    fn ranked_candidates(&mut self) -> Vec<Ranked<K>> {
        let counts = &mut self.counts;
        let mut ranked = Vec::with_capacity(self.candidates.len());
        self.candidates.retain(|key| {
            let count = counts.get(key).expect("a candidate is counted").count;
            if count == 0 {
                counts.remove(key);
                return false;
            }
            ranked.push((Reverse(count), key.clone()));
            true
        });
        ranked.sort_unstable();
        ranked
    }

    /// Ranks the whole map and keeps its first [`CANDIDATES`] (at least `n`) keys as the set; the
    /// bound is the largest count of the others.
    fn rebuild(&mut self, n: usize) {
        let keep = CANDIDATES.max(n);
        let mut best: Vec<Ranked<K>> = Vec::with_capacity(keep + 1);
        let mut bound = isize::MIN;
        self.counts.retain(|key, entry| {
            entry.candidate = false;
            let count = entry.count;
            let full = best.len() == keep;
            if count == 0 {
                return false; // a former candidate whose panes have all left
            } else if full && !ahead(count, key, best.last().expect("a row")) {
                bound = bound.max(count);
            } else {
                let at = best.partition_point(|row| !ahead(count, key, row));
                best.insert(at, (Reverse(count), key.clone()));
                if full {
                    let (Reverse(out), _) = best.pop().expect("a row");
                    bound = bound.max(out);
                }
            }
            true
        });
        self.candidates.clear();
        for (_, key) in best {
            self.counts.get_mut(&key).expect("a counted key").candidate = true;
            self.candidates.push(key);
        }
        self.bound = bound;
    }
}

/// Files rows under their times; rows come in runs of one time (a batch's pane updates, a pane's
/// keys), so the map is looked up once per run, not once per row.
fn file_by_time<V>(into: &mut BTreeMap<u64, Vec<V>>, rows: impl IntoIterator<Item = (u64, V)>) {
    let mut run = Vec::new();
    let mut at = None;
    let mut flush = |at: u64, run: &mut Vec<V>| {
        let slot = into.entry(at).or_default();
        if slot.is_empty() {
            std::mem::swap(slot, run);
        } else {
            slot.append(run);
        }
    };
    for (t, row) in rows {
        if at != Some(t) {
            if let Some(at) = at {
                flush(at, &mut run);
            }
            at = Some(t);
        }
        run.push(row);
    }
    if let Some(at) = at {
        flush(at, &mut run);
    }
}

/// Whether `(Reverse(count), key)` ranks ahead of `row`, without building it.
fn ahead<K: Ord>(count: isize, key: &K, row: &Ranked<K>) -> bool {
    count > row.0.0 || (count == row.0.0 && *key < row.1)
}

/// The first `top` keys of each window by count (count descending, then key ascending) from pane
/// updates `(key, pane)`, without allowed lateness: `(window_end, (count, key))` inserted at
/// `end - 1` and retracted at `end`. Operators are named after `name` (`"HotItems/windows"`,
/// `"HotItems/merge"`).
pub fn sliding_top<'s, K>(
    panes: VecCollection<'s, u64, (K, u64)>,
    windows: Windows,
    top: usize,
    name: &str,
) -> VecCollection<'s, u64, (u64, Ranked<K>)>
where
    K: ExchangeData + Hash,
{
    assert_eq!(
        windows.lateness, 0,
        "a window that takes corrections needs its own counts"
    );
    assert!(top > 0, "a top N of at least one row");
    let slide = windows.slide;
    // A pane update is visible from its time until its pane's last window has fired: it leaves
    // at that window's `end - 1 + slide`, the next window's firing time.
    let leaves = move |pane: u64| (pane + 1) * slide - 1 + windows.size;
    // Updates not yet applied, by the time they enter or leave the counts.
    let mut entering: BTreeMap<u64, Vec<(K, u64, isize)>> = BTreeMap::new();
    let mut leaving: BTreeMap<u64, Vec<(K, isize)>> = BTreeMap::new();
    let mut shard = Shard::new();
    // The last time applied; the next firing is the first `end - 1` after it.
    let mut done: Option<u64> = None;
    let mut held: Option<Capability<u64>> = None;
    let offers = panes
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(|((key, _), _, _): &((K, u64), u64, isize)| key.hashed()),
            &format!("{name}/windows"),
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        // An update enters when its first window is due, if it came earlier.
                        let enters = |t: u64, pane: u64| t.max((pane + 1) * slide - 1);
                        file_by_time(
                            &mut entering,
                            data.drain(..)
                                .map(|((key, pane), t, r)| (enters(t, pane), (key, pane, r))),
                        );
                    });
                    let Some(cap) = held.as_mut() else { return };
                    let mut session = output.session(&*cap);
                    let mut next_time = None;
                    loop {
                        // The next time at which something happens: an update enters or
                        // leaves, or a window fires (only while some key is counted).
                        let firing = (!shard.counts.is_empty()).then(|| {
                            done.map_or(slide - 1, |d| (d + 1) / slide * slide + slide - 1)
                        });
                        let Some(time) = [
                            entering.keys().next().copied(),
                            leaving.keys().next().copied(),
                            firing,
                        ]
                        .into_iter()
                        .flatten()
                        .min() else {
                            break;
                        };
                        if frontier.less_equal(&time) {
                            next_time = Some(time);
                            break;
                        }
                        for (key, diff) in leaving.remove(&time).unwrap_or_default() {
                            shard.add(&key, -diff);
                        }
                        let mut entered = entering.remove(&time).unwrap_or_default();
                        // An update at or after its pane's leaving time is in no window to come.
                        entered.retain(|(_, pane, _)| time < leaves(*pane));
                        for (key, _, diff) in &entered {
                            shard.add(key, *diff);
                        }
                        let left = entered.into_iter();
                        file_by_time(
                            &mut leaving,
                            left.map(|(key, pane, diff)| (leaves(pane), (key, diff))),
                        );
                        if time % slide == slide - 1 && !shard.counts.is_empty() {
                            let end = time + 1;
                            for row in shard.top(top) {
                                session.give(((end, row), time, 1));
                            }
                        }
                        done = Some(time);
                    }
                    drop(session);
                    hold_next(&mut held, next_time);
                }
            },
        )
        .as_collection();
    merge_offers(offers, windows, top, &format!("{name}/merge"))
}

/// Merges the workers' offers `(window_end, row)`, made at `end - 1`, into each window's top N:
/// inserted at `end - 1` and retracted at `end`. A window is merged by one worker (consecutive
/// windows take turns) once the frontier has passed `end - 1`, when every worker's offer is in.
fn merge_offers<'s, K: ExchangeData>(
    offers: VecCollection<'s, u64, (u64, Ranked<K>)>,
    windows: Windows,
    top: usize,
    name: &str,
) -> VecCollection<'s, u64, (u64, Ranked<K>)> {
    let peers = offers.inner.scope().peers() as u64;
    let owner = move |end: u64| (end / windows.slide) % peers;
    let mut offered: BTreeMap<u64, Vec<Ranked<K>>> = BTreeMap::new();
    let mut held: Option<Capability<u64>> = None;
    offers
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(move |((end, _), _, _): &((u64, Ranked<K>), u64, isize)| owner(*end)),
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        for ((end, row), _, _) in data.drain(..) {
                            offered.entry(end).or_default().push(row);
                        }
                    });
                    let Some(cap) = held.as_mut() else { return };
                    let mut session = output.session(&*cap);
                    while let Some(entry) = offered.first_entry() {
                        let end = *entry.key();
                        if frontier.less_equal(&(end - 1)) {
                            break;
                        }
                        let mut rows = entry.remove();
                        rows.sort_unstable();
                        rows.truncate(top);
                        for row in rows {
                            session.give(((end, row.clone()), end - 1, 1));
                            session.give(((end, row), end, -1));
                        }
                    }
                    drop(session);
                    hold_next(&mut held, offered.keys().next().map(|end| end - 1));
                }
            },
        )
        .as_collection()
}
