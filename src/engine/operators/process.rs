//! Keyed processes in event time: each key's events handed to a small state machine in event-time
//! order, with one deadline per key (Flink's `KeyedProcessFunction` with an event-time timer).
//!
//! The pattern jobs (login-fail, order-timeout, tx-match) read every input with
//! `Lateness::Strict`, so their inputs are append-only and in event time: nothing is ever
//! retracted, and a key's outcome depends only on its events in (time, input order). Expressed as
//! differential collections, each event was inserted, retracted a pattern-length later, joined
//! and antijoined through four or five arrangements, each at its own logical time: about 4 us per
//! event, most of it maintaining state that a per-key machine holds in a few words (measured:
//! order-timeout 1M rows, 4.5 s and 195 MB before; `docs/benchmarks.md` has the figures now). The operator below keeps
//! exactly what the machine needs, drops it when the machine says it can no longer matter, and
//! still decides everything by the frontier, so its output is the same for any `-w`, `-n` or
//! batch size.
//!
//! The contract (`docs/event-time.md`, "Patterns"): once the frontier has passed time `t`, each
//! key with events at `t` is stepped once with all of them, in input order; then each key whose
//! deadline is `t` is stepped with none. What a step emits is decided at `t` and appears at `t`;
//! the step returns the key's next deadline, or `None` when its state can be forgotten.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use differential_dataflow::{AsCollection, ExchangeData, Hashable, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::{hold_earliest, hold_next};
use crate::engine::operators::patterns::{Seq, insertions};

/// One key's state machine.
pub trait KeyedProcess: 'static {
    type Key: ExchangeData + Hash;
    type Event: ExchangeData;
    /// What the machine remembers of its key between steps; a new key starts from `Default`.
    type State: Default + 'static;
    /// A result, decided at the time of the step that emits it.
    type Out: ExchangeData;

    /// The key's `events` at event time `time`, in input order (empty at a deadline). Gives
    /// what is decided at `time` to `out`, and says what the key needs next.
    fn step(
        &mut self,
        key: &Self::Key,
        state: &mut Self::State,
        time: u64,
        events: &[Seq<Self::Event>],
        out: &mut Emit<Self::Out>,
    ) -> Next;

    /// With [`keyed_process_to_last_input`], once the input has ended: what a key still
    /// remembered gives at the last input time `time`, after its steps of that time (recommend:
    /// the user's events still in the horizon, for a model computed once, at that time).
    fn finish(
        &mut self,
        _key: &Self::Key,
        _state: &mut Self::State,
        _time: u64,
        _out: &mut Emit<Self::Out>,
    ) {
    }
}

/// What the steps of one time decide: results that appear, and (for a machine whose result is a
/// current value, such as a profile) results decided earlier that it takes back.
pub struct Emit<O> {
    updates: Vec<(O, isize)>,
}

impl<O> Emit<O> {
    /// A result that appears at the step's time.
    pub fn push(&mut self, result: O) {
        self.updates.push((result, 1));
    }

    /// A result given by an earlier step that no longer holds from the step's time on.
    pub fn retract(&mut self, result: O) {
        self.updates.push((result, -1));
    }
}

/// What a key needs after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// A step at this time (after the step's), with the events of that time if any.
    At(u64),
    /// No step until its next event; its state matters for events before `until`, and is
    /// forgotten once the frontier passes it. Most keys end this way (an order remembered for a
    /// day), and without a deadline each they cost the heap nothing (a sixth of tx-match's time).
    Idle { until: u64 },
    /// Nothing it remembers can change a result any more.
    Forget,
}

/// The keys a worker remembers: each one's state and what it waits for, and the deadlines in time
/// order (an entry whose key has since moved its deadline is stale and skipped).
struct Keys<K, S> {
    states: HashMap<K, Remembered<S>, foldhash::fast::RandomState>,
    deadlines: BinaryHeap<Deadline<K>>,
    /// How many keys the last sweep left: the next sweep comes when there are a quarter more.
    swept: usize,
}

/// A key's deadline in the heap, which pops the earliest first. Keys of equal deadlines are
/// independent, so only the time is compared.
struct Deadline<K> {
    time: u64,
    key: K,
}

impl<K> PartialEq for Deadline<K> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time
    }
}

impl<K> Eq for Deadline<K> {}

impl<K> PartialOrd for Deadline<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Deadline<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.cmp(&self.time)
    }
}

/// `Remembered::wake` of an idle key (no deadline is ever this late).
const NONE: u64 = u64::MAX;

struct Remembered<S> {
    state: S,
    /// The time of the key's next step, `NONE` if it is idle.
    wake: u64,
    /// Forgotten from this time on (when not waiting for `wake`).
    until: u64,
}

impl<S> Remembered<S> {
    /// Whether the key is forgotten at `time`: idle, and past its `until`.
    fn forgotten(&self, time: u64) -> bool {
        self.wake == NONE && self.until <= time
    }
}

impl<K: ExchangeData + Hash, S: Default> Keys<K, S> {
    fn new() -> Self {
        Keys {
            states: HashMap::default(),
            deadlines: BinaryHeap::new(),
            swept: 0,
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        self.deadlines.peek().map(|d| d.time)
    }

    /// The next key due at `time`, if any.
    fn due(&mut self, time: u64) -> Option<K> {
        while self.next_deadline() == Some(time) {
            let Deadline { key, .. } = self.deadlines.pop().expect("peeked");
            if self.states.get(&key).is_some_and(|r| r.wake == time) {
                return Some(key);
            }
        }
        None
    }

    /// Steps `key` at `time` with `events`. A key idle past its `until` starts afresh, as if it
    /// had been swept already, so results never depend on when sweeps happen.
    fn step<P>(
        &mut self,
        process: &mut P,
        time: u64,
        key: &K,
        events: &[Seq<P::Event>],
        out: &mut Emit<P::Out>,
    ) where
        P: KeyedProcess<Key = K, State = S>,
    {
        // One lookup, new key or not (the clone is a key's few words: an id, an inline token).
        let r = self
            .states
            .entry(key.clone())
            .or_insert_with(|| Remembered {
                state: S::default(),
                wake: NONE,
                until: 0,
            });
        if r.forgotten(time) {
            r.state = S::default();
        }
        match process.step(key, &mut r.state, time, events, out) {
            Next::At(next) => {
                assert!(next > time, "a deadline lies in the future");
                if r.wake != next {
                    r.wake = next;
                    self.deadlines.push(Deadline {
                        time: next,
                        key: key.clone(),
                    });
                }
            }
            Next::Idle { until } => (r.wake, r.until) = (NONE, until),
            Next::Forget => {
                self.states.remove(key);
            }
        }
    }

    /// Forgets the idle keys whose `until` the frontier has passed, once there are a quarter more
    /// keys than the last sweep left: a sweep costs O(1) per key remembered since, and the map
    /// holds at most 1.25 times the live keys (at 2 times, ad-stats over 100M clicks peaked at
    /// twice its 10M-click memory).
    fn sweep(&mut self, frontier: u64) {
        if self.states.len() >= self.swept.max(1024) * 5 / 4 {
            self.states.retain(|_, r| !r.forgotten(frontier));
            self.swept = self.states.len();
        }
    }
}

/// About the most results one activation hands on: past it, the operator sends what it has,
/// moves its capability to its next time and asks to be scheduled again. At the end of the input
/// every key's last deadline falls due at once; user-profile over 1M rows had 1.75M profile
/// changes in one message (200 MB) before, and its sink held them all again until the frontier
/// moved.
const BURST: usize = 1 << 16;

/// Runs `process` on each key of `events` (updates must be insertions: the inputs of a pattern
/// are append-only). The results are a collection, each update at the time it was decided. Once
/// the input has ended, every deadline left is stepped: what comes due after the input (an order
/// that times out, a profile that leaves its horizon) is a result too.
pub fn keyed_process<'s, P: KeyedProcess>(
    events: VecCollection<'s, u64, (P::Key, Seq<P::Event>)>,
    name: &str,
    process: P,
) -> VecCollection<'s, u64, P::Out> {
    run(events, None, name, process)
}

/// [`keyed_process`] for results wanted only up to the last input time (a snapshot taken then):
/// once the input has ended, the deadlines after the last time at which `ticks` had an update
/// (one at each input time, on any worker) are not stepped, and the keys are dropped. Stepping
/// them played every user-profile out to its end: as much work again as the input, and at `-w 2`
/// a worker ran ahead of the sink and doubled the peak memory.
pub fn keyed_process_to_last_input<'s, P: KeyedProcess>(
    events: VecCollection<'s, u64, (P::Key, Seq<P::Event>)>,
    ticks: VecCollection<'s, u64, ()>,
    name: &str,
    process: P,
) -> VecCollection<'s, u64, P::Out> {
    // Each worker's latest tick of each batch, to every worker.
    let last = ticks
        .inner
        .unary::<CapacityContainerBuilder<Vec<u64>>, _, _, _>(
            Pipeline,
            "LastInput",
            |_capability, _info| {
                move |input, output| {
                    input.for_each(|cap, data| {
                        if let Some(latest) = data.drain(..).map(|(_, t, _)| t).max() {
                            output.session(&cap.delayed(&latest, 0)).give(latest);
                        }
                    });
                }
            },
        )
        .broadcast();
    run(events, Some(last), name, process)
}

fn run<'s, P: KeyedProcess>(
    events: VecCollection<'s, u64, (P::Key, Seq<P::Event>)>,
    last_input: Option<Stream<'s, u64, Vec<u64>>>,
    name: &str,
    mut process: P,
) -> VecCollection<'s, u64, P::Out> {
    let to_last = last_input.is_some();
    let last_input = last_input.unwrap_or_else(|| {
        timely::dataflow::operators::generic::operator::empty(events.inner.scope())
    });
    type Update<K, E> = ((K, Seq<E>), u64, isize);
    // Events whose time the frontier has not passed (those of the latest batches: a few).
    let mut pending: Vec<(u64, P::Key, Seq<P::Event>)> = Vec::new();
    let mut keys: Keys<P::Key, P::State> = Keys::new();
    let mut held: Option<Capability<u64>> = None;
    // Buffers reused across activations.
    let mut ready: Vec<(u64, P::Key, Seq<P::Event>)> = Vec::new();
    let mut group: Vec<Seq<P::Event>> = Vec::new();
    let mut out = Emit {
        updates: Vec::new(),
    };
    let mut decided: Vec<(P::Out, u64, isize)> = Vec::new();
    // The latest input time seen on any worker, and a capability for it (only with
    // `keyed_process_to_last_input`: what `finish` gives appears then).
    let mut last: Option<u64> = None;
    let mut at_last: Option<Capability<u64>> = None;
    let scope = events.inner.scope();
    events
        .inner
        .binary_frontier::<_, CapacityContainerBuilder<Vec<_>>, _, _, _, _>(
            last_input,
            Exchange::new(|((key, _), _, _): &Update<P::Key, P::Event>| key.hashed()),
            Pipeline,
            name,
            move |_capability, info| {
                let activator = scope.activator_for(info.address);
                move |(input, frontier), (ticks, ticks_frontier), output| {
                    ticks.for_each(|cap, data| {
                        // Each message is at the time it carries.
                        let time = *cap.least().expect("a time");
                        if last.is_none_or(|l| time > l) {
                            last = Some(time);
                            at_last = cap.retain_least(0);
                        }
                        data.clear();
                    });
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        insertions(
                            data.drain(..),
                            "an event of a keyed process",
                            |t, (key, event)| pending.push((t, key, event)),
                        );
                    });
                    let until = match frontier.frontier().first() {
                        Some(&time) => time,
                        None if !to_last => u64::MAX,
                        // The input has ended: up to the latest tick seen (the last one once
                        // they have all come).
                        None => last.map_or(0, |last| last + 1),
                    };
                    let stop = to_last && frontier.is_empty() && ticks_frontier.is_empty();
                    // Everything before this time has been stepped.
                    let mut done = until;
                    if let Some(cap) = held.as_mut() {
                        // Everything before the frontier, in time order: at each time, its events
                        // (grouped by key, in input order), then its deadlines, which may fall
                        // between the events' times. Sorting the ready events once per activation
                        // costs less than keeping them sorted as they arrive.
                        ready.extend(pending.extract_if(.., |(t, _, _)| *t < until));
                        ready.sort_unstable();
                        let mut events = ready.drain(..).peekable();
                        loop {
                            let next_event = events.peek().map(|(t, _, _)| *t);
                            let next_deadline = keys.next_deadline().filter(|t| *t < until);
                            let Some(time) = next_event.into_iter().chain(next_deadline).min()
                            else {
                                break;
                            };
                            while let Some((_, key, event)) = events.next_if(|(t, _, _)| *t == time)
                            {
                                group.push(event);
                                while let Some((_, _, event)) =
                                    events.next_if(|(t, other, _)| *t == time && *other == key)
                                {
                                    group.push(event);
                                }
                                keys.step(&mut process, time, &key, &group, &mut out);
                                group.clear();
                            }
                            while let Some(key) = keys.due(time) {
                                keys.step(&mut process, time, &key, &[], &mut out);
                            }
                            decided
                                .extend(out.updates.drain(..).map(|(result, r)| (result, time, r)));
                            if decided.len() >= BURST {
                                done = time + 1;
                                activator.activate();
                                break;
                            }
                        }
                        pending.extend(events);
                        // Results carry their own times, all at or after `cap`'s, and leave in one
                        // message per activation (one per time made a message for nearly every
                        // result: measured 2x the time and 4x the memory).
                        if !decided.is_empty() {
                            output.session(&*cap).give_iterator(decided.drain(..));
                        }
                        let next_event = pending.iter().map(|(t, _, _)| *t).min();
                        keys.sweep(done);
                        let next_deadline = keys.next_deadline();
                        hold_next(&mut held, next_event.into_iter().chain(next_deadline).min());
                    }
                    if stop && done == until {
                        // Everything up to the last input time is stepped; nothing after it is
                        // wanted.
                        if let (Some(time), Some(at)) = (last, at_last.take()) {
                            for (key, r) in keys.states.iter_mut() {
                                if !r.forgotten(time) {
                                    process.finish(key, &mut r.state, time, &mut out);
                                }
                            }
                            let finished =
                                out.updates.drain(..).map(|(result, r)| (result, time, r));
                            output.session(&at).give_iterator(finished);
                        }
                        pending.clear();
                        keys = Keys::new();
                        held = None;
                    }
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
    use crate::engine::input::source::Origin;

    /// Counts a key's events while they come less than 10 apart (`(key, true, count)` at each
    /// event), and says `(key, false, count)` 5 after each.
    struct Bursts;

    impl KeyedProcess for Bursts {
        type Key = u64;
        type Event = ();
        type State = (u64, u64);
        type Out = (u64, bool, u64);

        fn step(
            &mut self,
            &key: &u64,
            (count, last): &mut (u64, u64),
            time: u64,
            events: &[Seq<()>],
            out: &mut Emit<Self::Out>,
        ) -> Next {
            if events.is_empty() {
                out.push((key, false, *count));
                return Next::Idle { until: *last + 10 };
            }
            *count += events.len() as u64;
            *last = time;
            out.push((key, true, *count));
            Next::At(time + 5)
        }
    }

    /// Runs [`Bursts`] over key 1 at 0, 0 (two events of one time), 3, then 20 (after its
    /// until, 13: afresh), and key 2 at 5, in one batch (so every deadline falls between the
    /// events' times), until the input has ended.
    fn bursts(to_last_input: bool) -> Vec<((u64, bool, u64), u64, isize)> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = seen.clone();
        timely::execute_directly(move |worker| {
            let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (input, events) = scope.new_collection::<(u64, Seq<()>), isize>();
                let results = if to_last_input {
                    let ticks = events.clone().map(|_| ());
                    keyed_process_to_last_input(events, ticks, "Bursts", Bursts)
                } else {
                    keyed_process(events, "Bursts", Bursts)
                };
                let (probe, _) = results
                    .inspect(move |update| out.lock().unwrap().push(*update))
                    .inner
                    .probe();
                (input, probe)
            });
            for (line, (key, t)) in [(1, 0), (1, 0), (1, 3), (2, 5), (1, 20)]
                .into_iter()
                .enumerate()
            {
                let origin = Origin {
                    file: 0,
                    line: line as u64,
                };
                input.update_at((key, Seq::at(t, origin, ())), t, 1);
            }
            input.close();
            worker.step_while(|| !probe.done());
        });
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_by_key(|&((key, burst, count), t, _)| (t, key, !burst, count));
        seen
    }

    #[test]
    fn deadlines_follow_events_and_idle_keys_start_afresh() {
        let expected: Vec<_> = [
            ((1, true, 2), 0),
            ((1, true, 3), 3),
            ((2, true, 1), 5),
            ((1, false, 3), 8),
            ((2, false, 1), 10),
            ((1, true, 1), 20),
            ((1, false, 1), 25),
        ]
        .into_iter()
        .map(|(out, t)| (out, t, 1))
        .collect();
        assert_eq!(bursts(false), expected);
        // Up to the last input time (20) only: key 1's deadline at 25 is not stepped.
        assert_eq!(bursts(true), expected[..expected.len() - 1]);
    }
}
