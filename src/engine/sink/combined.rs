//! One output for a windowed result and an append-only result of the same job.
//!
//! A job's side outcomes are results and go to the same output as its main stream (`docs/event-time.md`,
//! "Output"). When the main stream is windowed (printed per window, updated on late data) and the
//! side outcome is append-only (a warning decided once), two sinks cannot share the output: their
//! writes would interleave in scheduling order. This sink gathers both on worker 0 and writes each
//! completed time once, windows first, then events, so the output stays byte-identical for any
//! `-w`, `-n` or batch size.

use std::cell::RefCell;
use std::rc::Rc;

use differential_dataflow::{ExchangeData, VecCollection};
use serde::{Deserialize, Serialize};
use timely::dataflow::ProbeHandle;

use crate::engine::output::Output;
use crate::engine::sink::{self, AppendReport, WindowPrinter, WindowReport};
use crate::engine::time::windows::Windows;

/// A change of either result, in the order they are written within one time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Change<W, E> {
    Window(u64, W),
    Event(E),
}

/// The two halves of a combined output, and how each is labelled for `--only`.
pub struct Reports<W, A> {
    pub windows: W,
    /// The `outcome` of every windowed row (`"count"`).
    pub window_outcome: &'static str,
    pub events: A,
    /// The events' table beside the windows' one, in a database (`ad_stats_blacklist`).
    pub events_section: &'static str,
}

/// Writes `windowed` as [`sink::windows`] does and `events` as [`sink::append`] does, on one
/// output. `only` keeps the outcomes it names (`window_outcome` for the windowed rows).
pub fn windows_and_events<'s, W, A>(
    windowed: VecCollection<'s, u64, (u64, W::Value)>,
    events: VecCollection<'s, u64, A::Value>,
    name: &str,
    windows: Windows,
    reports: Reports<W, A>,
    only: Option<Vec<String>>,
    output: Option<Output>,
) -> ProbeHandle<u64>
where
    W: WindowReport,
    A: AppendReport,
    A::Value: ExchangeData,
{
    let Reports {
        windows: window_report,
        window_outcome,
        events: event_report,
        events_section,
    } = reports;
    let print_windows = only
        .as_ref()
        .is_none_or(|only| only.iter().any(|o| o == window_outcome));
    let state = Rc::new(RefCell::new((
        WindowPrinter::new(windows, window_report),
        output,
    )));
    let at_end = state.clone();
    let batch = state.clone();
    let changes = windowed
        .map(|(end, row)| Change::Window(end, row))
        .concat(events.map(Change::Event));
    sink::gather_and_finish(
        changes,
        name,
        move |time, changes| {
            let (printer, output) = &mut *state.borrow_mut();
            let Some(out) = output.as_mut() else { return };
            let (mut windowed, mut events) = (Vec::new(), Vec::new());
            for (change, diff) in changes {
                match change {
                    Change::Window(end, row) => windowed.push(((end, row), diff)),
                    Change::Event(row) => events.push((row, diff)),
                }
            }
            if print_windows {
                printer.write(out, time, &windowed);
            }
            out.section(Some(events_section));
            sink::write_appended(out, &event_report, only.as_deref(), time, events);
            out.section(None);
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
            if print_windows {
                printer.finish(out);
            }
            out.done(u64::MAX);
        },
    )
}
