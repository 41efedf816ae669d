//! Windows with allowed lateness, counted and ranked in one operator: per worker one hash map from
//! each key to its counts in the live windows that hold it, and per live window its keys and
//! ranked rows.
//!
//! With allowed lateness a fired window takes corrections, so it cannot be kept in time
//! ([`visible_while_open`](crate::engine::time::windows::visible_while_open)). Expanding each pane
//! update into one update per window and counting and ranking those in arrangements ("windows as data") does per-window,
//! per-time work in differential for every correction; here the counts are updated in place
//! instead, with the same output: the collection of ranked rows `(window_end, (count,
//! key))` that follows the windowed contract (`docs/event-time.md`, "Windows"), as
//! `sketch::per_window` does for sketches:
//!
//! - pane updates are applied time by time, in time order, once the frontier has passed their
//!   time, to each of their windows that is not purged yet;
//! - a window fires at `end - 1` (or at the time of its first update, if that is later: a window
//!   made only of late records): its ranked rows are inserted then;
//! - at each later time at which updates change its ranked rows, the rows that changed are
//!   retracted and their new versions inserted;
//! - at its purge time `end + A` its rows are retracted and its state dropped.
//!
//! A window's updates are all applied by one worker (by its end), so no counts need merging. A pane
//! update is sent once to each worker that owns one of its windows, not once per window, and
//! there costs one lookup of its key: a key's counts are a small ring with a slot per live window
//! (`Key`), and the pane's windows are consecutive slots, and consecutive entries of the map of
//! live windows (a map per window was one lookup per window: 12 per late hot-pages line).
//!
//! The ranking is count descending, then key ascending; with `top` only the first `top` rows are
//! kept, maintained incrementally while counts only grow (a changed key is moved up, or enters and
//! pushes out the last row), and re-ranked from the window's keys when a count of a ranked key
//! shrinks.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::rc::Rc;

use differential_dataflow::{AsCollection, ExchangeData, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};
use crate::engine::operators::topn::Ranked;
use crate::engine::time::pending::{Pending, hold};
use crate::engine::time::windows::Windows;

/// A pane update as [`rank_per_window`] reads it: which key it counts, by what it is looked up,
/// and its pane.
pub trait PaneUpdate: ExchangeData {
    /// What a window's map is keyed by (for string keys, a 64-bit id of the string).
    type Id: Hash + Eq + Clone + 'static;
    /// What is ranked and written: ties are broken on it.
    type Key: ExchangeData;
    fn id(&self) -> &Self::Id;
    fn pane(&self) -> u64;
    /// The key, cloned once while some live window of the worker holds it.
    fn key(&self) -> Self::Key;
}

/// `(key, pane)`: the key is its own id.
impl<K: ExchangeData + Hash> PaneUpdate for (K, u64) {
    type Id = K;
    type Key = K;
    fn id(&self) -> &K {
        &self.0
    }
    fn pane(&self) -> u64 {
        self.1
    }
    fn key(&self) -> K {
        self.0.clone()
    }
}

/// The keys' map is looked up once per pane update, and its ids are small keys or already
/// hashes: foldhash's fast hasher (the keyed processes' too), with a fixed seed so that a run's
/// work never depends on a random one.
type IdMap<I, V> = HashMap<I, V, foldhash::fast::FixedState>;

/// A key as the windows hold it: one copy per worker, shared by all its windows (a URL is in 120
/// windows of hot-pages; cloning it into each was a sixth of the job's time).
type Name<K> = Rc<K>;

/// A ranked row as the windows hold it.
type Row<K> = (Reverse<isize>, Name<K>);

/// The row as it leaves the operator.
fn owned<K: Clone>((count, key): &Row<K>) -> Ranked<K> {
    (*count, K::clone(key))
}

/// The end of a slot that no window holds.
const FREE: u64 = u64::MAX;

/// A key's count in one window.
#[derive(Clone, Copy)]
struct Slot {
    /// The end of the window it counts in; free when [`FREE`] or that window is purged.
    end: u64,
    count: isize,
    /// The count of the row written for it (0: none); only without `top`.
    shown: isize,
    /// Whether it is in the window's `dirty` list; only without `top`.
    dirty: bool,
}

const FREE_SLOT: Slot = Slot {
    end: FREE,
    count: 0,
    shown: 0,
    dirty: false,
};

/// A key and its counts in the live windows of this worker, found with one lookup per pane
/// update: a late hot-pages line changes 12 windows, and a map per window was 12 lookups.
///
/// The counts are a ring indexed by the window's number among this worker's windows
/// (`end / slide / peers`): the windows of one pane are consecutive slots. A key's live windows
/// span at most the window and its allowed lateness, but a key seen in few windows keeps a small
/// ring, doubled when two of its live windows meet on one slot.
struct Key<K> {
    name: Name<K>,
    /// A power of two long.
    slots: Vec<Slot>,
}

impl<K> Key<K> {
    /// The slot of window number `w`, if it holds the window ending at `end`.
    fn slot(&self, w: u64, end: u64) -> Option<&Slot> {
        let slot = &self.slots[w as usize & (self.slots.len() - 1)];
        (slot.end == end).then_some(slot)
    }

    /// The slot of the window number `w` ending at `end`, taken if it is free (the window it
    /// held was purged before `now`): the key's name, the slot, and whether it was taken.
    #[inline]
    fn claim(
        &mut self,
        w: u64,
        end: u64,
        now: u64,
        numbers: Numbers,
    ) -> (&Name<K>, &mut Slot, bool) {
        let mut at = w as usize & (self.slots.len() - 1);
        let slot = &self.slots[at];
        if slot.end != end && slot.end != FREE && numbers.windows.purge_time(slot.end) >= now {
            self.grow(end, now, numbers);
            at = w as usize & (self.slots.len() - 1);
        }
        let slot = &mut self.slots[at];
        let taken = slot.end != end;
        if taken {
            *slot = Slot { end, ..FREE_SLOT };
        }
        (&self.name, slot, taken)
    }

    /// Another live window holds the slot of the window ending at `end`: doubles the ring until
    /// every live window has its own slot (and `end` a free one).
    #[cold]
    fn grow(&mut self, end: u64, now: u64, numbers: Numbers) {
        let free = |slot: &Slot| slot.end == FREE || numbers.windows.purge_time(slot.end) < now;
        let held: Vec<Slot> = self.slots.iter().filter(|s| !free(s)).copied().collect();
        let mut len = self.slots.len() * 2;
        self.slots = loop {
            let mut ring = vec![FREE_SLOT; len];
            let mut fits = true;
            for slot in held.iter().chain([&Slot { end, ..FREE_SLOT }]) {
                let place = &mut ring[numbers.of(slot.end) as usize & (len - 1)];
                fits &= place.end == FREE;
                *place = *slot;
            }
            if fits {
                // `end`'s own slot is free again, to be taken.
                ring[numbers.of(end) as usize & (len - 1)] = FREE_SLOT;
                break ring;
            }
            len *= 2;
        };
    }

    /// Whether a window not purged at `done` holds it.
    fn held(&self, done: u64, windows: Windows) -> bool {
        self.slots
            .iter()
            .any(|slot| slot.end != FREE && windows.purge_time(slot.end) > done)
    }
}

/// How this worker numbers its windows: consecutive windows of its own are consecutive numbers,
/// `end / slide / peers` (it owns every `peers`-th window).
#[derive(Clone, Copy)]
struct Numbers {
    windows: Windows,
    peers: u64,
}

impl Numbers {
    fn of(&self, end: u64) -> u64 {
        end / self.windows.slide / self.peers
    }
}

/// Whether `(Reverse(count), key)` ranks ahead of `row`, without building it.
fn ahead<K: Ord>(count: isize, key: &K, row: &Row<K>) -> bool {
    count > row.0.0 || (count == row.0.0 && *key < *row.1)
}

/// One live window: its keys (their counts are in their [`Key`]s) and its ranked rows.
struct Live<I, K> {
    /// The keys counted in it, each once (some may have come back to 0).
    ids: Vec<I>,
    /// Whether its rows have been written (it fired).
    fired: bool,
    /// Whether it is in the list of windows to write at the current time.
    touched: bool,
    /// With `top`: the ranked rows, kept current once the window has fired.
    top: Vec<(Row<K>, I)>,
    /// With `top`: the rows written last.
    shown: Vec<Row<K>>,
    /// Without `top`: the ids changed since the rows were written.
    dirty: Vec<I>,
    /// A ranked key's count shrank: re-rank from the counts.
    rerank: bool,
}

impl<I: Hash + Eq + Clone, K: Ord + Clone> Live<I, K> {
    fn new() -> Self {
        Live {
            ids: Vec::new(),
            fired: false,
            touched: false,
            top: Vec::new(),
            shown: Vec::new(),
            dirty: Vec::new(),
            rerank: false,
        }
    }

    /// Adds `diff` to the key's count in this window (`slot`), and keeps the ranked rows (with
    /// `top`) or the list of changed keys (without) current once the window has fired.
    #[inline]
    fn add(&mut self, id: &I, key: &Name<K>, slot: &mut Slot, diff: isize, top: Option<usize>) {
        slot.count += diff;
        let count = slot.count;
        match top {
            _ if !self.fired => {}
            None => {
                if !slot.dirty {
                    slot.dirty = true;
                    self.dirty.push(id.clone());
                }
            }
            Some(_) if self.rerank => {}
            Some(n) => match self.top.iter().position(|(_, i)| i == id) {
                // It shrank, or rose from below zero to nothing: another key may take its place.
                Some(_) if diff < 0 || count == 0 => self.rerank = true,
                Some(at) => {
                    // Moves up past the rows it now ranks ahead of.
                    let to = self.top[..at].partition_point(|(r, _)| !ahead(count, &**key, r));
                    self.top[at].0.0 = Reverse(count);
                    self.top[to..=at].rotate_right(1);
                }
                // Outside the rows, rose from below zero to nothing: stays outside.
                None if count == 0 => {}
                None if diff > 0 => {
                    if self.top.len() < n
                        || self
                            .top
                            .last()
                            .is_some_and(|(last, _)| ahead(count, &**key, last))
                    {
                        let to = self.top.partition_point(|(r, _)| !ahead(count, &**key, r));
                        self.top
                            .insert(to, ((Reverse(count), key.clone()), id.clone()));
                        self.top.truncate(n);
                    }
                }
                // A key outside the rows shrinks: they stay, unless there are fewer than `top`
                // (then it could be one of them, below zero).
                None => self.rerank = self.top.len() < n,
            },
        }
    }

    /// The first `n` rows, ranked from the counts of window number `w`, ending at `end`.
    fn rank(&mut self, n: usize, w: u64, end: u64, keys: &IdMap<I, Key<K>>) {
        self.top.clear();
        for id in &self.ids {
            let key = &keys[id];
            let count = key.slot(w, end).expect("a live window's slot").count;
            if count == 0 {
                continue;
            }
            if self.top.len() < n
                || self
                    .top
                    .last()
                    .is_some_and(|(last, _)| ahead(count, &*key.name, last))
            {
                let to = self
                    .top
                    .partition_point(|(r, _)| !ahead(count, &*key.name, r));
                self.top
                    .insert(to, ((Reverse(count), key.name.clone()), id.clone()));
                self.top.truncate(n);
            }
        }
        self.rerank = false;
    }

    /// Writes the changes of the rows of window number `w`, ending at `end`, since they were
    /// last written (all of them when it fires), as `(row, diff)`.
    fn write(
        &mut self,
        top: Option<usize>,
        (w, end): (u64, u64),
        keys: &mut IdMap<I, Key<K>>,
        mut give: impl FnMut(Ranked<K>, isize),
    ) {
        let first = !self.fired;
        self.fired = true;
        self.touched = false;
        match top {
            Some(n) => {
                if first || self.rerank {
                    self.rank(n, w, end, keys);
                }
                // Both are sorted: a merge. Rows that stay are moved, not cloned.
                let old = std::mem::take(&mut self.shown);
                let mut old = old.into_iter().peekable();
                let mut new = self.top.iter().map(|(row, _)| row).peekable();
                let mut shown = Vec::with_capacity(self.top.len());
                loop {
                    match (old.peek(), new.peek()) {
                        (Some(o), Some(n)) if o == *n => {
                            shown.push(old.next().expect("a row"));
                            new.next();
                        }
                        (Some(o), Some(n)) if o < *n => {
                            give(owned(&old.next().expect("a row")), -1)
                        }
                        (Some(_), None) => give(owned(&old.next().expect("a row")), -1),
                        (_, Some(_)) => {
                            let row = new.next().expect("a row");
                            give(owned(row), 1);
                            shown.push(row.clone());
                        }
                        (None, None) => break,
                    }
                }
                self.shown = shown;
            }
            None => {
                let changed = if first { &self.ids } else { &self.dirty };
                for id in changed {
                    let key = keys.get_mut(id).expect("a live window's key");
                    let at = w as usize & (key.slots.len() - 1);
                    let slot = &mut key.slots[at];
                    debug_assert_eq!(slot.end, end);
                    slot.dirty = false;
                    if slot.shown != slot.count {
                        if slot.shown != 0 {
                            give((Reverse(slot.shown), K::clone(&key.name)), -1);
                        }
                        if slot.count != 0 {
                            give((Reverse(slot.count), K::clone(&key.name)), 1);
                        }
                        slot.shown = slot.count;
                    }
                }
                self.dirty.clear();
            }
        }
    }

    /// Retracts the rows of window number `w`, ending at `end`, and empties it, keeping its
    /// memory for another window. Its keys' slots become free as its purge time passes.
    fn purge(
        &mut self,
        top: Option<usize>,
        (w, end): (u64, u64),
        keys: &IdMap<I, Key<K>>,
        mut give: impl FnMut(Ranked<K>, isize),
    ) {
        match top {
            Some(_) => self.shown.drain(..).for_each(|row| give(owned(&row), -1)),
            None => {
                for id in &self.ids {
                    let key = &keys[id];
                    let slot = key.slot(w, end).expect("a live window's slot");
                    if slot.shown != 0 {
                        give((Reverse(slot.shown), K::clone(&key.name)), -1);
                    }
                }
            }
        }
        self.ids.clear();
        self.top.clear();
        self.dirty.clear();
        self.fired = false;
        self.touched = false;
        self.rerank = false;
    }
}

/// How many emptied windows [`rank_per_window`] keeps for reuse (a new window then starts with the
/// capacity of an old one, instead of growing its map from nothing).
const SPARE: usize = 4;

/// Counts each key per window from pane updates and ranks the keys of each window (count
/// descending, then key ascending), keeping the first `top` (all with `None`): the ranked rows
/// `(window_end, (count, key))` as a collection that follows the windowed contract, the same
/// collection that expanding the panes into windows, counting and ranking them would give, for
/// any allowed lateness (0 included). With `top`, the rows follow insertions incrementally; a
/// deletion of a ranked key re-ranks its window from its map.
pub fn rank_per_window<'s, D: PaneUpdate>(
    panes: VecCollection<'s, u64, D>,
    windows: Windows,
    top: Option<usize>,
    name: &str,
) -> VecCollection<'s, u64, (u64, Ranked<D::Key>)> {
    let scope = panes.inner.scope();
    let (me, peers) = (scope.index() as u64, scope.peers() as u64);
    // The worker that owns the window ending at `end`: consecutive windows take turns.
    let owner = move |end: u64| (end / windows.slide) % peers;
    let per_pane = windows.size / windows.slide;
    // Updates not yet applied, by time; the windows that still hold state, by end.
    let mut pending: Pending<D> = Pending::new();
    let mut live: BTreeMap<u64, Live<D::Id, D::Key>> = BTreeMap::new();
    let mut spare: Vec<Live<D::Id, D::Key>> = Vec::new();
    // Each key held by a live window, once, with its counts; swept when it has doubled since the
    // last sweep.
    let mut keys: IdMap<D::Id, Key<D::Key>> = IdMap::default();
    let mut swept = 0;
    let numbers = Numbers { windows, peers };
    // A new key's ring: its windows of one pane, and one more.
    let ring = (per_pane.div_ceil(peers) as usize + 1).next_power_of_two();
    // The last time whose updates were applied: every live window that ends at or before
    // `done + 1` has fired; those that end later have not.
    let mut done: Option<u64> = None;
    let mut held: Option<Capability<u64>> = None;
    panes
        .inner
        .flat_map(move |(update, t, r): (D, u64, isize)| {
            // Once to each worker that owns one of the pane's windows (the first `peers` of them
            // are owned by distinct workers).
            let first = update.pane() + 1;
            let copies = per_pane.min(peers);
            let mut update = Some(update);
            (0..copies).map(move |i| {
                let copy = if i + 1 == copies {
                    update.take()
                } else {
                    update.clone()
                };
                let worker = owner((first + i) * windows.slide);
                ((worker, copy.expect("an update")), t, r)
            })
        })
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(|((worker, _), _, _): &((u64, D), u64, isize)| *worker),
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        hold(&mut pending, data.drain(..).map(|((_, u), t, r)| (u, t, r)));
                    });
                    let Some(cap) = held.as_mut() else { return };
                    // Every change of this activation goes into one session at the held
                    // capability, each with its own time.
                    let mut session = output.session(&*cap);
                    let mut next_time = None;
                    let mut touched: Vec<u64> = Vec::new();
                    loop {
                        // The next time at which something happens: updates, a firing, a purge.
                        let fired_below = done.map_or(0, |d| d + 2);
                        let firing = live.range(fired_below..).next().map(|(end, _)| end - 1);
                        let purge = live.keys().next().map(|&end| windows.purge_time(end));
                        let Some(time) = [pending.keys().next().copied(), firing, purge]
                            .into_iter()
                            .flatten()
                            .min()
                        else {
                            break;
                        };
                        if frontier.less_equal(&time) {
                            next_time = Some(time);
                            break;
                        }
                        let mut firing: Vec<u64> = Vec::new();
                        for (update, r) in pending.remove(&time).unwrap_or_default() {
                            // The pane's windows are numbered `first + i` (they end at
                            // `(first + i) * slide`): this worker owns every `peers`-th, from
                            // the first whose number is `me` modulo `peers`; those not purged
                            // yet are the last of them.
                            let first = update.pane() + 1;
                            let mut at = first + (me + peers - first % peers) % peers;
                            while at < first + per_pane
                                && time >= windows.purge_time(at * windows.slide)
                            {
                                at += peers;
                            }
                            if at >= first + per_pane {
                                continue; // all purged: changes nothing
                            }
                            let step = peers * windows.slide;
                            let (lo, hi) =
                                (at * windows.slide, (first + per_pane - 1) * windows.slide);
                            let hi = hi - (hi - lo) % step;
                            // The live windows are consecutive (of this worker's): a new one
                            // below the first or above the last brings those between, empty.
                            let (below, above) =
                                match (live.first_key_value(), live.last_key_value()) {
                                    (Some((&first, _)), Some((&last, _))) => (first, last + step),
                                    _ => (lo, lo),
                                };
                            let step = step as usize;
                            for end in (lo..below).step_by(step).chain((above..=hi).step_by(step)) {
                                live.entry(end).or_insert_with(|| {
                                    if end < fired_below {
                                        firing.push(end); // only late records: fires now
                                    }
                                    spare.pop().unwrap_or_else(Live::new)
                                });
                            }
                            let ends = lo..=hi;
                            let id = update.id();
                            let key = match keys.get_mut(id) {
                                Some(key) => key,
                                None => keys.entry(id.clone()).or_insert(Key {
                                    name: Rc::new(update.key()),
                                    slots: vec![FREE_SLOT; ring],
                                }),
                            };
                            let number = numbers.of(at * windows.slide);
                            for (i, (&end, window)) in live.range_mut(ends.clone()).enumerate() {
                                let (name, slot, taken) =
                                    key.claim(number + i as u64, end, time, numbers);
                                if taken {
                                    window.ids.push(id.clone());
                                }
                                window.add(id, name, slot, r, top);
                                if window.fired && !window.touched {
                                    window.touched = true;
                                    touched.push(end);
                                }
                            }
                        }
                        firing.extend(live.range(fired_below..=time + 1).map(|(end, _)| *end));
                        touched.extend(firing);
                        touched.sort_unstable();
                        touched.dedup();
                        for end in touched.drain(..) {
                            let window = live.get_mut(&end).expect("a live window");
                            let w = (numbers.of(end), end);
                            window.write(top, w, &mut keys, |row, diff| {
                                session.give(((end, row), time, diff))
                            });
                        }
                        while let Some(entry) = live.first_entry() {
                            let end = *entry.key();
                            if windows.purge_time(end) > time {
                                break;
                            }
                            let mut window = entry.remove();
                            let w = (numbers.of(end), end);
                            window.purge(top, w, &keys, |row, diff| {
                                session.give(((end, row), time, diff))
                            });
                            if spare.len() < SPARE {
                                spare.push(window);
                            }
                        }
                        done = Some(time);
                    }
                    if let Some(done) = done
                        && keys.len() >= swept.max(1024) * 2
                    {
                        keys.retain(|_, key| key.held(done, windows));
                        swept = keys.len();
                    }
                    drop(session);
                    hold_next(&mut held, next_time);
                }
            },
        )
        .as_collection()
}
