//! Sinks: turn a result collection's changes into what a user reads.
//!
//! Every change is sent to global worker 0 and held until the frontier passes its time; then the
//! changes of that time, consolidated and sorted, are written. Times are processed in order, so the
//! output is the same, byte for byte, for any number of workers, processes or batch sizes.
//!
//! Here: windows ([`windows`], [`WindowReport`]) and append-only results ([`append`]); a job's
//! windows and events on one output ([`combined`]); a table kept per key ([`keyed`]). This stage
//! imports [`output`](super::output), [`time`](super::time) and [`status`](super::status).

pub mod combined;
pub mod keyed;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use differential_dataflow::consolidation::consolidate;
use differential_dataflow::{ExchangeData, VecCollection};
use serde::Serialize;
use timely::dataflow::ProbeHandle;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;
use timely::dataflow::operators::probe::Probe;

use crate::engine::output::Output;
use crate::engine::time::pending::{Pending, hold};
use crate::engine::time::windows::{Window, Windows};

/// Gathers `results` on worker 0 and calls `write` once per completed time, in time order, with
/// that time's consolidated changes (sorted). Returns a probe that tells when all is written.
pub fn gather<'s, D, F>(
    results: VecCollection<'s, u64, D>,
    name: &str,
    write: F,
) -> ProbeHandle<u64>
where
    D: ExchangeData,
    F: FnMut(u64, Vec<(D, isize)>) + 'static,
{
    gather_and_finish(results, name, write, || {}, || {})
}

/// [`gather`], then `batch_done` after the times completed by one activation of the sink have
/// been written (the stream is pushed, a database commits them in one transaction), and `finish` once when the results
/// are complete (the frontier is empty): for results that are only known at the end of input,
/// such as a snapshot or an evaluation.
pub fn gather_and_finish<'s, D, F, B, E>(
    results: VecCollection<'s, u64, D>,
    name: &str,
    mut write: F,
    mut batch_done: B,
    finish: E,
) -> ProbeHandle<u64>
where
    D: ExchangeData,
    F: FnMut(u64, Vec<(D, isize)>) + 'static,
    B: FnMut() + 'static,
    E: FnOnce() + 'static,
{
    let mut finish = Some(finish);
    let mut written = false;
    let mut pending: Pending<D> = Pending::new();
    let probe = ProbeHandle::new();
    results
        .inner
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<()>>, _, _, _>(
            Exchange::new(|_: &(D, u64, isize)| 0),
            name,
            |_capability, _info| {
                move |(input, frontier), _output| {
                    input.for_each(|_cap, data| {
                        hold(&mut pending, data.drain(..));
                    });
                    while let Some(entry) = pending.first_entry() {
                        if frontier.less_equal(entry.key()) {
                            break;
                        }
                        let (time, mut changes) = entry.remove_entry();
                        consolidate(&mut changes);
                        if !changes.is_empty() {
                            write(time, changes);
                            written = true;
                        }
                    }
                    if written {
                        batch_done();
                        written = false;
                    }
                    if frontier.is_empty()
                        && let Some(finish) = finish.take()
                    {
                        finish();
                    }
                }
            },
        )
        .probe_with(&probe);
    probe
}

/// What a windowed job prints for each row of a window's result.
pub trait WindowReport: 'static {
    /// One entry of a window's result, as the dataflow computes it; entries sort in print order
    /// (rank 1 first).
    type Value: ExchangeData;
    /// The output row of one entry: what csv and json write. It may borrow from the entry (a
    /// URL): a window's rows are rewritten at every correction, about one row per input line
    /// in hot-pages, and a String cloned per row was about 7% of its sink's instructions.
    type Row<'a>: Serialize
    where
        Self: 'a;
    /// What the text format calls the rows ("top items by page views").
    fn title(&self) -> String;
    fn row<'a>(
        &'a self,
        window: Window,
        rank: usize,
        row: &'a Self::Value,
        update: bool,
        emitted_at: u64,
    ) -> Self::Row<'a>;
    fn text(&self, rank: usize, row: &Self::Value) -> String;
}

struct Printed<Row> {
    rows: Vec<Row>,
    /// Whether the window was written: its first result, or (settled) its only one.
    emitted: bool,
}

/// Writes a windowed result `(window_end, row)`: a window's first emission in full
/// (`update: false`), then its full result again at each later time it changes (`update: true`),
/// never a purge (`docs/event-time.md`, "Output"); with `--settled`, each window once, final.
/// Only worker 0 has an output; the others pass `None`.
pub fn windows<'s, W: WindowReport>(
    results: VecCollection<'s, u64, (u64, W::Value)>,
    name: &str,
    windows: Windows,
    report: W,
    output: Option<Output>,
) -> ProbeHandle<u64> {
    let state = Rc::new(RefCell::new((WindowPrinter::new(windows, report), output)));
    let at_end = state.clone();
    let batch = state.clone();
    gather_and_finish(
        results,
        name,
        move |time, changes| {
            let (printer, output) = &mut *state.borrow_mut();
            let Some(out) = output.as_mut() else { return };
            printer.write(out, time, &changes);
            out.done(time);
        },
        move || {
            if let (_, Some(out)) = &mut *batch.borrow_mut() {
                out.commit();
            }
        },
        move || {
            let (printer, output) = &mut *at_end.borrow_mut();
            let Some(out) = output.as_mut() else { return };
            printer.finish(out);
            // Windows settled at the end of input: after every time before.
            out.done(u64::MAX);
        },
    )
}

/// The state of [`windows`]: what each live window last printed. Public so that a sink which
/// writes a windowed result together with other outcomes on one output can share it.
///
/// *Settled* (`Output::settled`, `--settled`): a window can change until its purge time
/// `end + A`, excluded, so its result is final once the time `end + A - 1` is complete. It is
/// then written once, as a first result (`update: false`), with `emitted_at = end - 1 + A`: the
/// last watermark at which a late record could still change it. Only the times with changes
/// reach [`WindowPrinter::write`], so a window is written at the first such time at or after
/// that point, or by [`WindowPrinter::finish`] at the end of input; either way windows come out
/// in the order of their ends, each with its final rows, so the bytes do not depend on which
/// times had changes (nor on `-w` or `-n`). With `A = 0` this is exactly the default output.
pub struct WindowPrinter<W: WindowReport> {
    windows: Windows,
    report: W,
    live: BTreeMap<u64, Printed<W::Value>>,
}

impl<W: WindowReport> WindowPrinter<W> {
    pub fn new(windows: Windows, report: W) -> Self {
        WindowPrinter {
            windows,
            report,
            live: BTreeMap::new(),
        }
    }

    /// Writes the windows that the consolidated, sorted changes of one completed `time` change
    /// (settled: the windows that `time` completes).
    pub fn write(&mut self, out: &mut Output, time: u64, changes: &[((u64, W::Value), isize)]) {
        let windows = self.windows;
        if out.settled {
            // Final since an earlier time: written before this time's purges take their rows.
            self.settle(out, |purge| purge <= time);
        }
        let mut start = 0;
        while start < changes.len() {
            let end = changes[start].0.0;
            let stop = start
                + changes[start..]
                    .iter()
                    .take_while(|((e, _), _)| *e == end)
                    .count();
            let state = self.live.entry(end).or_insert_with(|| Printed {
                rows: Vec::new(),
                emitted: false,
            });
            apply_set(
                &mut state.rows,
                changes[start..stop]
                    .iter()
                    .map(|((_, row), r)| (Cow::Borrowed(row), *r)),
            );
            start = stop;
            if time >= windows.purge_time(end) {
                if state.rows.is_empty() {
                    self.live.remove(&end);
                }
                continue;
            }
            if state.rows.is_empty() || out.settled {
                continue;
            }
            print_window(
                out,
                &self.report,
                windows.ending_at(end),
                &state.rows,
                state.emitted,
                time,
            );
            state.emitted = true;
        }
        if out.settled {
            // `time` was the last at which these could change.
            self.settle(out, |purge| purge == time + 1);
        }
        // Windows whose purge time has passed can no longer change: forget them.
        self.live = self
            .live
            .split_off(&(time.saturating_sub(windows.lateness) + 1));
    }

    /// At the end of input every window is final: settled, the ones not yet written are.
    pub fn finish(&mut self, out: &mut Output) {
        if out.settled {
            self.settle(out, |_| true);
        }
    }

    /// Writes, in the order of their ends, the windows not yet written whose purge time
    /// satisfies `due`, with their final rows.
    fn settle(&mut self, out: &mut Output, due: impl Fn(u64) -> bool) {
        let windows = self.windows;
        for (&end, state) in self.live.iter_mut() {
            if state.emitted || state.rows.is_empty() || !due(windows.purge_time(end)) {
                continue;
            }
            let settled_at = windows.purge_time(end) - 1;
            print_window(
                out,
                &self.report,
                windows.ending_at(end),
                &state.rows,
                false,
                settled_at,
            );
            state.emitted = true;
        }
    }
}

/// Applies consolidated changes, sorted as the rows are, to a sorted set of rows: a window's rows,
/// a key's ([`keyed`]). A change is its row, borrowed or owned: only a row that enters is cloned.
///
/// One or two changes are put in place (a binary search each). More are merged with the rows in
/// one pass: a set of many rows (funnel's days) changing in many places at one time then costs
/// its length once, not once per change (moving the rows after each insertion was 3/4 of
/// funnel's instructions).
pub(crate) fn apply_set<'a, Row: Ord + Clone + 'a>(
    rows: &mut Vec<Row>,
    changes: impl ExactSizeIterator<Item = (Cow<'a, Row>, isize)>,
) {
    let not_a_set = |diff: isize| {
        crate::engine::status::failure::fail(&format!(
            "internal error: a result row changed by {diff} is not a set"
        ))
    };
    if changes.len() <= 2 {
        for (row, diff) in changes {
            match rows.binary_search(&row) {
                Ok(at) if diff < 0 => {
                    rows.remove(at);
                }
                Err(at) if diff > 0 => rows.insert(at, row.into_owned()),
                _ => not_a_set(diff),
            }
        }
        return;
    }
    let mut merged = Vec::with_capacity(rows.len() + changes.len());
    let mut old = std::mem::take(rows).into_iter().peekable();
    for (row, diff) in changes {
        while let Some(kept) = old.next_if(|r| *r < *row) {
            merged.push(kept);
        }
        match old.next_if(|r| *r == *row) {
            Some(_) if diff < 0 => {}
            None if diff > 0 => merged.push(row.into_owned()),
            _ => not_a_set(diff),
        }
    }
    merged.extend(old);
    *rows = merged;
}

fn print_window<W: WindowReport>(
    out: &mut Output,
    report: &W,
    window: Window,
    rows: &[W::Value],
    update: bool,
    at: u64,
) {
    if !update {
        crate::engine::status::latency::window_written(window.end);
    }
    crate::engine::status::progress::window_written();
    if out.wants_text() {
        {
            let mut header = format!(
                "== {} | window {} .. {}",
                report.title(),
                out.time(window.start),
                out.time(window.end)
            );
            if update {
                header.push_str(&format!(" | update at {} (late data)", out.time(at)));
            }
            out.line(&format!("{header} =="));
            for (i, row) in rows.iter().enumerate() {
                out.line(&report.text(i + 1, row));
            }
            out.line("");
        }
    }
    out.replace("window_end", window.end, true);
    if out.wants_rows() {
        for (i, row) in rows.iter().enumerate() {
            out.row(&report.row(window, i + 1, row, update, at));
        }
    }
}

/// What an append-only job prints for one result (a pattern match, an outcome).
pub trait AppendReport: 'static {
    /// One result, as the dataflow computes it.
    type Value: ExchangeData;
    /// Its output row: what csv and json write.
    type Row: Serialize;
    /// The outcome label of a row, for `--only`.
    fn outcome(&self, row: &Self::Value) -> &'static str;
    fn row(&self, row: &Self::Value, emitted_at: u64) -> Self::Row;
    fn text(&self, out: &Output, row: &Self::Value, emitted_at: u64) -> String;
}

/// Writes an append-only result: each row once, at the time it was decided, in time order and
/// then row order. `only` keeps the rows whose outcome it names.
pub fn append<'s, A: AppendReport>(
    results: VecCollection<'s, u64, A::Value>,
    name: &str,
    report: A,
    only: Option<Vec<String>>,
    output: Option<Output>,
) -> ProbeHandle<u64> {
    let output = Rc::new(RefCell::new(output));
    let batch = output.clone();
    gather_and_finish(
        results,
        name,
        move |time, changes| {
            let Some(out) = &mut *output.borrow_mut() else {
                return;
            };
            write_appended(out, &report, only.as_deref(), time, changes);
            out.done(time);
        },
        move || {
            if let Some(out) = &mut *batch.borrow_mut() {
                out.commit();
            }
        },
        || {},
    )
}

/// Writes the consolidated changes of one completed `time` of an append-only result (see
/// [`append`]); public so that a combined sink can write them beside a windowed result.
pub fn write_appended<A: AppendReport>(
    out: &mut Output,
    report: &A,
    only: Option<&[String]>,
    time: u64,
    changes: Vec<(A::Value, isize)>,
) {
    for (row, diff) in changes {
        if diff < 0 {
            crate::engine::status::failure::fail(
                "internal error: an append-only result was retracted",
            );
        }
        if only.is_some_and(|only| !only.iter().any(|o| o == report.outcome(&row))) {
            continue;
        }
        crate::engine::status::progress::results_written(diff as u64);
        for _ in 0..diff {
            if out.wants_text() {
                let line = report.text(out, &row, time);
                out.line(&line);
            }
            if out.wants_rows() {
                out.row(&report.row(&row, time));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::apply_set;
    use std::borrow::Cow;

    fn apply<'a>(rows: &mut Vec<u32>, changes: impl ExactSizeIterator<Item = (&'a u32, isize)>) {
        apply_set(rows, changes.map(|(row, diff)| (Cow::Borrowed(row), diff)));
    }

    #[test]
    fn rows_stay_sorted_as_changes_apply() {
        let mut rows = vec![1, 5];
        apply(&mut rows, [(&3, 1), (&5, -1)].into_iter());
        assert_eq!(rows, vec![1, 3]);
        // Many changes at once are merged: the same set as one change at a time.
        let changes = [(&0, 1), (&1, -1), (&2, 1), (&3, -1), (&9, 1)];
        apply(&mut rows, changes.into_iter());
        assert_eq!(rows, vec![0, 2, 9]);
        let mut rows: Vec<u32> = (0..100).map(|i| i * 2).collect();
        let mut naive: std::collections::BTreeSet<u32> = rows.iter().copied().collect();
        let changes: Vec<(u32, isize)> = (0..200)
            .filter(|i| i % 3 == 0)
            .map(|i| (i, if i % 2 == 0 { -1 } else { 1 }))
            .collect();
        for &(row, diff) in &changes {
            assert!(if diff < 0 {
                naive.remove(&row)
            } else {
                naive.insert(row)
            });
        }
        apply(&mut rows, changes.iter().map(|(row, diff)| (row, *diff)));
        assert_eq!(rows, naive.into_iter().collect::<Vec<_>>());
    }
}
