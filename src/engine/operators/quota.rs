//! The first `limit` records of each key and period, in event-time order: a quota such as "so many
//! clicks of a user on an ad per day", with a warning for the first record past it.
//!
//! What a quota must remember is a count per key for as long as its period can still get records:
//! for a day of clicks, one per (user, ad) pair clicked that day, most of them clicked once (3.5M
//! pairs in a generated day of 4.3M clicks). As keys of a [`keyed_process`] (key, state, deadline
//! and forget time in a hash map) they took about 50 bytes each plus the map's slack: 630 MB at 10M
//! clicks. Here the keys of one period share a table, dropped as a whole once the frontier passes
//! the period's forget time, and a key that packs into 56 bits is stored with its count in one
//! `u64`: 9 bytes a slot with the table's control byte.
//!
//! The contract is the keyed process's (`docs/event-time.md`, "Patterns"): once the frontier has
//! passed `t`, the records at `t` are counted in (time, input order), so the output is the same for
//! any `-w`, `-n` or batch size.
//!
//! [`keyed_process`]: crate::engine::operators::process::keyed_process

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};
use crate::engine::operators::patterns::{Seq, insertions};

/// A key that usually fits in 56 bits, losslessly: the quota keeps those in 8 bytes with their
/// count, and any other key in a plain map.
pub trait Pack {
    /// The key as a number below 2^56, when it fits; equal keys must give equal numbers, and
    /// different keys different ones.
    fn pack(&self) -> Option<u64>;
}

/// Two ids, the first below 2^32 and the second below 2^24 (a user and an ad: the tutorial's are
/// below 2^20 and 2^17, the generator's below 2^17 and 2^13).
impl Pack for (u64, u64) {
    fn pack(&self) -> Option<u64> {
        (self.0 < 1 << 32 && self.1 < 1 << 24).then_some((self.0 << 24) | self.1)
    }
}

/// The low 56 bits of a slot: its packed key.
const KEY: u64 = (1 << 56) - 1;
/// The top byte of a slot: its count, 1 to `WIDE - 1`. A key counted to `WIDE` goes on in
/// `Counts::wide` (a quota over 253).
const WIDE: u64 = 255;

/// How many tables the packed keys of a period are spread over, by hash: a table that grows
/// holds its old and new slots at once, and one table of a day's pairs doubled the peak (57 MB for
/// 38 MB of slots at 10M clicks).
const SHARDS: usize = 64;

/// The counts of one period.
struct Counts<K> {
    /// Packed keys, each with its count in the top byte, in `SHARDS` tables.
    packed: Vec<HashTable<u64>>,
    /// Keys that do not pack, and packed keys counted to `WIDE`.
    wide: HashMap<K, usize, FixedState>,
}

impl<K: Hash + Eq + Clone + Pack> Counts<K> {
    fn new() -> Self {
        Counts {
            packed: (0..SHARDS).map(|_| HashTable::new()).collect(),
            wide: HashMap::default(),
        }
    }

    /// Counts one more record of `key`, up to `limit + 1` (no later record changes a decision);
    /// returns the count before it.
    fn count(&mut self, key: &K, limit: usize) -> usize {
        let cap = limit + 1;
        let bits = key.pack();
        if let Some(bits) = bits {
            let hash = FixedState::default().hash_one(bits);
            // Bits the table does not use: its slot index is the low bits, its tag the top 7.
            let table = &mut self.packed[(hash >> 48) as usize % SHARDS];
            match table.find_mut(hash, |slot| *slot & KEY == bits) {
                None => {
                    let slot = (1 << 56) | bits;
                    table.insert_unique(hash, slot, |slot| {
                        FixedState::default().hash_one(slot & KEY)
                    });
                    return 0;
                }
                Some(slot) => {
                    let before = (*slot >> 56) as usize;
                    if before < WIDE as usize {
                        if before < cap {
                            *slot = (((before + 1) as u64).min(WIDE) << 56) | bits;
                        }
                        return before;
                    }
                }
            }
        }
        // A packed key found here has been counted to `WIDE` in its slot.
        let start = if bits.is_some() { WIDE as usize } else { 0 };
        let so_far = self.wide.entry(key.clone()).or_insert(start);
        let before = *so_far;
        *so_far = (before + 1).min(cap);
        before
    }
}

/// Of each key's records of each period (`(key, period)`), in (time, input order): the first
/// `limit` come out with `true`, the next with `false` (the first past the quota), the later ones
/// not at all, each at the time it was decided. A period's counts are forgotten once the frontier
/// passes `forget_at(period)`, which must not decrease with the period; a record of a forgotten
/// period would start from zero (there is none when `forget_at` is the time from which no record
/// of the period can enter).
pub fn first_per_period<'s, K, E>(
    records: VecCollection<'s, u64, ((K, i64), Seq<E>)>,
    name: &str,
    limit: usize,
    forget_at: impl Fn(i64) -> u64 + 'static,
) -> VecCollection<'s, u64, ((K, i64), (E, bool))>
where
    K: ExchangeData + Hash + Pack,
    E: ExchangeData + Ord,
{
    type Update<K, E> = (((K, i64), Seq<E>), u64, isize);
    // Records whose time the frontier has not passed (those of the latest batches: a few).
    let mut pending: Vec<(u64, Seq<E>, (K, i64))> = Vec::new();
    let mut periods: BTreeMap<i64, Counts<K>> = BTreeMap::new();
    let mut held: Option<Capability<u64>> = None;
    // Buffers reused across activations.
    let mut ready: Vec<(u64, Seq<E>, (K, i64))> = Vec::new();
    let mut decided: Vec<(((K, i64), (E, bool)), u64, isize)> = Vec::new();
    // Drops the periods forgotten at `time`; the earliest is first (`forget_at` increases).
    let forget = move |periods: &mut BTreeMap<i64, Counts<K>>, time: u64| {
        while let Some(entry) = periods.first_entry() {
            if forget_at(*entry.key()) > time {
                break;
            }
            entry.remove();
        }
    };
    records
        .inner
        .unary_frontier::<CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(|((key, _), _, _): &Update<K, E>| key.0.hashed()),
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        insertions(data.drain(..), "a record of a quota", |t, (key, record)| {
                            pending.push((t, record, key))
                        });
                    });
                    let Some(cap) = held.as_mut() else { return };
                    let until = frontier.frontier().first().copied().unwrap_or(u64::MAX);
                    ready.extend(pending.extract_if(.., |(t, _, _)| *t < until));
                    // Keys are independent: (time, input order) is each key's order.
                    ready.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
                    let mut last = None;
                    for (time, record, (key, period)) in ready.drain(..) {
                        if last != Some(time) {
                            forget(&mut periods, time);
                            last = Some(time);
                        }
                        let counts = periods.entry(period).or_insert_with(Counts::new);
                        let before = counts.count(&key, limit);
                        if before <= limit {
                            decided.push((
                                ((key, period), (record.event, before < limit)),
                                time,
                                1,
                            ));
                        }
                    }
                    // Decisions carry their own times, all at or after `cap`'s: one message.
                    if !decided.is_empty() {
                        output.session(&*cap).give_iterator(decided.drain(..));
                    }
                    forget(&mut periods, until);
                    hold_next(&mut held, pending.iter().map(|(t, _, _)| *t).min());
                }
            },
        )
        .as_collection()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts of packed keys, of keys that do not pack, and past the packed count's byte all
    /// stop at `limit + 1` and say the count before each record.
    #[test]
    fn counts_stop_after_the_first_past_the_limit() {
        for key in [(7, 9), (1 << 40, 9)] {
            for limit in [1, 3, 253, 254, 300] {
                let mut counts = Counts::new();
                let seen: Vec<usize> = (0..limit + 5).map(|_| counts.count(&key, limit)).collect();
                let expected: Vec<usize> = (0..limit + 5).map(|i| i.min(limit + 1)).collect();
                assert_eq!(seen, expected, "key {key:?}, limit {limit}");
                assert_eq!(
                    counts.count(&(7, 10), limit),
                    0,
                    "another key starts at zero"
                );
            }
        }
    }

    #[test]
    fn pairs_pack_without_collisions_at_the_edges() {
        assert_eq!((0, 0).pack(), Some(0));
        assert_eq!((1, 0).pack(), Some(1 << 24));
        assert_eq!((0, (1 << 24) - 1).pack(), Some((1 << 24) - 1));
        assert_eq!(((1 << 32) - 1, (1 << 24) - 1).pack(), Some(KEY));
        assert_eq!((1 << 32, 0).pack(), None);
        assert_eq!((0, 1 << 24).pack(), None);
    }
}
