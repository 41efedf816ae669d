//! Keyed processes in event time: each key's events handed to a small state machine in event-time
//! order, with one deadline per key (Flink's `KeyedProcessFunction` with an event-time timer).
//!
//! The pattern jobs (login-fail, order-timeout, tx-match) read every input with
//! `Lateness::Strict`, so their inputs are append-only and in event time: nothing is ever
//! retracted, and a key's outcome depends only on its events in (time, input order). Expressed as
//! differential collections, each event was inserted, retracted a pattern-length later, joined
//! and antijoined through four or five arrangements, each at its own logical time: about 4 us per
//! event, most of it maintaining state that a per-key machine holds in a few words (measured:
//! order-timeout 1M rows, 4.5 s and 195 MB before, see the README). The operator below keeps
//! exactly what the machine needs, drops it when the machine says it can no longer matter, and
//! still decides everything by the frontier, so its output is the same for any `-w`, `-n` or
//! batch size.
//!
//! The contract (`docs/event-time.md`, "Patterns"): once the frontier has passed time `t`, each
//! key with events at `t` is stepped once with all of them, in input order; then each key whose
//! deadline is `t` is stepped with none. What a step emits is decided at `t` and appears at `t`;
//! the step returns the key's next deadline, or `None` when its state can be forgotten.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::patterns::Seq;

/// One key's state machine.
pub trait KeyedProcess: 'static {
    type Key: ExchangeData + Hash;
    type Event: ExchangeData;
    /// What the machine remembers of its key between steps; a new key starts from `Default`.
    type State: Default + 'static;
    /// A result, decided at the time of the step that emits it.
    type Out: ExchangeData;

    /// The key's `events` at event time `time`, in input order (empty at a deadline). Pushes
    /// what is decided at `time` to `out`, and returns the key's next deadline (after `time`),
    /// or `None` once nothing the key remembers can change a result any more.
    fn step(
        &mut self,
        key: &Self::Key,
        state: &mut Self::State,
        time: u64,
        events: &[Seq<Self::Event>],
        out: &mut Vec<Self::Out>,
    ) -> Option<u64>;
}

/// Runs `process` on each key of `events` (updates must be insertions: the inputs of a pattern
/// are append-only). The results are an append-only collection, each at the time it was decided.
pub fn keyed_process<'s, P: KeyedProcess>(
    events: VecCollection<'s, u64, (P::Key, Seq<P::Event>)>,
    name: &str,
    mut process: P,
) -> VecCollection<'s, u64, P::Out> {
    type Update<K, E> = ((K, Seq<E>), u64, isize);
    // Events whose time the frontier has not passed (those of the latest batches: a few).
    let mut pending: Vec<(u64, P::Key, Seq<P::Event>)> = Vec::new();
    // Each remembered key's state and deadline; and the deadlines in time order (an entry whose
    // key has since moved its deadline is stale and skipped).
    let mut states: HashMap<P::Key, (P::State, u64)> = HashMap::new();
    let mut deadlines: BinaryHeap<Reverse<(u64, P::Key)>> = BinaryHeap::new();
    let mut held: Option<Capability<u64>> = None;
    // Buffers reused across activations.
    let mut ready: Vec<(u64, P::Key, Seq<P::Event>)> = Vec::new();
    let mut group: Vec<Seq<P::Event>> = Vec::new();
    let mut out: Vec<P::Out> = Vec::new();
    let mut decided: Vec<(P::Out, u64, isize)> = Vec::new();
    events
        .inner
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(|((key, _), _, _): &Update<P::Key, P::Event>| key.hashed()),
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        let least = cap.retain_least(0).expect("a time");
                        if held.as_ref().is_none_or(|h| h.time() > least.time()) {
                            held = Some(least);
                        }
                        for ((key, event), t, r) in data.drain(..) {
                            if r < 0 {
                                crate::engine::output::fail(
                                    "internal error: an event of a keyed process was retracted",
                                );
                            }
                            for _ in 1..r {
                                pending.push((t, key.clone(), event.clone()));
                            }
                            pending.push((t, key, event));
                        }
                    });
                    let Some(cap) = held.as_mut() else { return };
                    // Everything before the frontier, in time order: at each time, its events
                    // (grouped by key, in input order), then its deadlines, which may fall
                    // between the events' times. Sorting the ready events once per activation
                    // costs less than keeping them sorted as they arrive.
                    let until = frontier.frontier().first().copied().unwrap_or(u64::MAX);
                    ready.extend(pending.extract_if(.., |(t, _, _)| *t < until));
                    ready.sort_unstable();
                    let mut events = ready.drain(..).peekable();
                    loop {
                        let next_event = events.peek().map(|(t, _, _)| *t);
                        let next_deadline = deadlines
                            .peek()
                            .map(|Reverse((t, _))| *t)
                            .filter(|t| *t < until);
                        let Some(time) = next_event.into_iter().chain(next_deadline).min() else {
                            break;
                        };
                        while let Some((_, key, event)) = events.next_if(|(t, _, _)| *t == time) {
                            group.push(event);
                            while let Some((_, _, event)) =
                                events.next_if(|(t, other, _)| *t == time && *other == key)
                            {
                                group.push(event);
                            }
                            step_key(
                                &mut process,
                                &mut states,
                                &mut deadlines,
                                &mut out,
                                time,
                                &key,
                                &group,
                            );
                            group.clear();
                        }
                        while deadlines.peek().is_some_and(|Reverse((t, _))| *t == time) {
                            let Reverse((_, key)) = deadlines.pop().expect("peeked");
                            if states.get(&key).is_some_and(|(_, d)| *d == time) {
                                step_key(
                                    &mut process,
                                    &mut states,
                                    &mut deadlines,
                                    &mut out,
                                    time,
                                    &key,
                                    &[],
                                );
                            }
                        }
                        decided.extend(out.drain(..).map(|result| (result, time, 1)));
                    }
                    drop(events);
                    // Results carry their own times, all at or after `cap`'s, and leave in one
                    // message per activation (one per time made a message for nearly every
                    // result: measured 2x the time and 4x the memory).
                    if !decided.is_empty() {
                        output.session(&*cap).give_iterator(decided.drain(..));
                    }
                    let next_event = pending.iter().map(|(t, _, _)| *t).min();
                    let next_deadline = deadlines.peek().map(|Reverse((t, _))| *t);
                    match next_event.into_iter().chain(next_deadline).min() {
                        Some(next) => cap.downgrade(&next),
                        None => held = None,
                    }
                }
            },
        )
        .as_collection()
}

/// Steps one key at `time` and files its next deadline.
fn step_key<P: KeyedProcess>(
    process: &mut P,
    states: &mut HashMap<P::Key, (P::State, u64)>,
    deadlines: &mut BinaryHeap<Reverse<(u64, P::Key)>>,
    out: &mut Vec<P::Out>,
    time: u64,
    key: &P::Key,
    events: &[Seq<P::Event>],
) {
    if !states.contains_key(key) {
        states.insert(key.clone(), (P::State::default(), u64::MAX));
    }
    let (state, deadline) = states.get_mut(key).expect("inserted");
    match process.step(key, state, time, events, out) {
        Some(next) => {
            assert!(next > time, "a deadline lies in the future");
            if next != *deadline {
                *deadline = next;
                deadlines.push(Reverse((next, key.clone())));
            }
        }
        None => {
            states.remove(key);
        }
    }
}
