//! Per-key results (a user's profile, a user's recommendation list): each key's rows printed
//! whenever they change, or all keys once, as they stood when the input ended.
//!
//! The result is a collection `(key, row)`; a key may have several rows (ranked lists), printed
//! in their `Ord` order. Like every sink, changes are gathered on worker 0 and written in time
//! order, so the output is the same, byte for byte, for any `-w`, `-n` or batch size.
//!
//! *Snapshot*: the result as of the last logical time at which an input event entered (its
//! "ticks"): the latest event time. What happens after that (every event leaving its horizon as
//! the end of input closes the frontier) is not part of the snapshot.

use std::borrow::Cow;
use std::collections::HashMap;

use differential_dataflow::consolidation::consolidate;
use differential_dataflow::{ExchangeData, VecCollection};
use timely::dataflow::ProbeHandle;

use crate::engine::output::Output;
use crate::engine::sink;

/// How a per-key result is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each key's rows at every logical time they change; a key whose rows all left is printed
    /// once more with no rows (the report says what that means).
    Changes,
    /// Every key's rows at the latest event time, once, at the end of input.
    Snapshot,
}

/// What a per-key job prints.
pub trait KeyedReport: 'static {
    type Key: ExchangeData + std::hash::Hash;
    type Value: ExchangeData;
    /// Writes one key's rows: `rows` is empty when the key has left (its previous rows are in
    /// `previous`); `update` is false the first time a key is printed.
    fn emit(
        &self,
        out: &mut Output,
        key: &Self::Key,
        rows: &[Self::Value],
        previous: &[Self::Value],
        update: bool,
        at: u64,
    );
}

/// Writes `results` per key in `mode`. `ticks` has one update at each time an input event
/// entered (only read in snapshot mode). Only worker 0 has an output.
pub fn keyed<'s, R: KeyedReport>(
    results: VecCollection<'s, u64, (R::Key, R::Value)>,
    ticks: VecCollection<'s, u64, ()>,
    name: &str,
    mode: Mode,
    report: R,
    output: Option<Output>,
) -> ProbeHandle<u64> {
    // `None` is a tick; it sorts before the changes of its time.
    let gathered = match mode {
        Mode::Changes => results.map(Some),
        Mode::Snapshot => results.map(Some).concat(ticks.map(|()| None)),
    };
    let state = std::rc::Rc::new(std::cell::RefCell::new(State::<R> {
        report,
        output,
        rows: HashMap::default(),
        pending: Vec::new(),
        netted: 0,
        last_tick: 0,
    }));
    let at_end = state.clone();
    let batch = state.clone();
    sink::gather_and_finish(
        gathered,
        name,
        move |time, changes| state.borrow_mut().changes(mode, time, changes),
        move || {
            if let Some(out) = &mut batch.borrow_mut().output {
                out.commit();
            }
        },
        move || at_end.borrow_mut().snapshot(mode),
    )
}

struct State<R: KeyedReport> {
    report: R,
    output: Option<Output>,
    /// Each key's current rows (in snapshot mode: as of the last tick).
    /// A hash map: every change looks its key up (millions of keys for user-profile); the
    /// snapshot sorts them once.
    rows: HashMap<R::Key, Vec<R::Value>, foldhash::fast::FixedState>,
    /// Snapshot mode: the net changes since the last tick, applied only if another tick follows.
    /// Netted, they stay about two rows per key, not one per change, even when the results play
    /// on after the last tick (a keyed process that steps its deadlines after the input; the
    /// jobs' own snapshots stop at the last input time instead).
    pending: Vec<(Option<(R::Key, R::Value)>, isize)>,
    /// The length of `pending` when it was last netted.
    netted: usize,
    last_tick: u64,
}

impl<R: KeyedReport> State<R> {
    fn changes(
        &mut self,
        mode: Mode,
        time: u64,
        changes: Vec<(Option<(R::Key, R::Value)>, isize)>,
    ) {
        if self.output.is_none() {
            return;
        }
        match mode {
            Mode::Snapshot => {
                let tick = changes.first().is_some_and(|(c, _)| c.is_none());
                self.pending.extend(changes);
                if tick || self.pending.len() >= 2 * self.netted.max(1 << 16) {
                    consolidate(&mut self.pending);
                    self.netted = self.pending.len();
                }
                if tick {
                    let changes = std::mem::take(&mut self.pending);
                    self.apply(changes, None);
                    self.netted = 0;
                    self.last_tick = time;
                }
            }
            Mode::Changes => {
                self.apply(changes, Some(time));
                if let Some(out) = self.output.as_mut() {
                    out.done(time);
                }
            }
        }
    }

    /// Applies one time's consolidated changes (sorted by key), printing each changed key when
    /// `print_at` is given.
    fn apply(&mut self, changes: Vec<(Option<(R::Key, R::Value)>, isize)>, print_at: Option<u64>) {
        let mut changes = changes
            .into_iter()
            .filter_map(|(c, r)| c.map(|c| (c, r)))
            .peekable();
        let mut batch = Vec::new();
        while let Some(((key, row), diff)) = changes.next() {
            batch.push((row, diff));
            while changes.peek().is_some_and(|((k, _), _)| *k == key) {
                let ((_, row), diff) = changes.next().expect("peeked");
                batch.push((row, diff));
            }
            let rows = self.rows.entry(key.clone()).or_default();
            // Room for the rows added, at once (most keys hold one row: not the four a first
            // push reserves; a ranked list gets all its rows in one batch).
            let added = batch.iter().filter(|(_, diff)| *diff > 0).count();
            if rows.capacity() - rows.len() < added {
                rows.reserve_exact(added);
            }
            let previous = print_at.map(|_| rows.clone());
            sink::apply_set(
                rows,
                batch.drain(..).map(|(row, diff)| (Cow::Owned(row), diff)),
            );
            if let (Some(at), Some(previous), Some(out)) =
                (print_at, previous, self.output.as_mut())
                && *rows != previous
            {
                self.report
                    .emit(out, &key, rows, &previous, !previous.is_empty(), at);
                crate::engine::status::progress::results_written(1);
            }
            if rows.is_empty() {
                self.rows.remove(&key);
            }
        }
    }

    fn snapshot(&mut self, mode: Mode) {
        let Some(out) = self.output.as_mut() else {
            return;
        };
        if mode == Mode::Snapshot {
            let mut keys: Vec<(&R::Key, &Vec<R::Value>)> = self.rows.iter().collect();
            keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (key, rows) in keys {
                self.report.emit(out, key, rows, &[], false, self.last_tick);
            }
            crate::engine::status::progress::results_written(self.rows.len() as u64);
            out.done(self.last_tick);
        }
    }
}
