//! The windowed count every counting job needs: per-window counts of keys, ranked.
//!
//! Without allowed lateness the windows are kept in time ([`crate::engine::windows`]); with it,
//! each live window is a map from key to count in one operator ([`crate::engine::ranked_windows`]).

use std::cmp::Reverse;
use std::hash::Hash;

use differential_dataflow::operators::CountTotal;
use differential_dataflow::{ExchangeData, VecCollection};
use timely::dataflow::ProbeHandle;

use crate::engine::output::Output;
use crate::engine::ranked_windows::rank_per_window;
use crate::engine::sink::{self, WindowReport};
use crate::engine::topn::{Ranked, top_n};
use crate::engine::windows::{Windows, visible_while_open, windows_of_time};

/// The windowed count every counting job needs: counts each key per window from pane updates
/// `(key, pane)`, ranks the keys of each window (count descending, then key ascending), keeps
/// the first `top` of them (all with `None`), and writes each window's result with `report`.
/// Operators are named after `name` (`"HotItems"` gives `HotItems/top`, `HotItems/sink`).
///
/// Without allowed lateness a fired window never changes again, and the windows are kept *in
/// time* instead of as data: a pane's updates are visible from the pane's end until the end of its
/// last window, so the collection at `end - 1` is exactly the window ending at `end`. Each pane
/// update then costs 2 updates instead of `2 * size / slide`, and a slide changes only the counts
/// of the keys in the panes that enter and leave. With allowed lateness, fired windows take
/// corrections, so each live window keeps its own counts ([`rank_per_window`]).
pub fn count_and_rank<'s, K, W>(
    panes: VecCollection<'s, u64, (K, u64)>,
    windows: Windows,
    top: Option<usize>,
    name: &str,
    report: W,
    output: Option<Output>,
) -> ProbeHandle<u64>
where
    K: ExchangeData + Hash,
    W: WindowReport<Value = Ranked<K>>,
{
    let ranked = ranked_counts(panes, windows, top, name);
    sink::windows(ranked, &format!("{name}/sink"), windows, report, output)
}

/// [`count_and_rank`] without its sink, for a job that writes the ranked counts together with
/// other outcomes on one output: `(window_end, (count, key))`, the rows of a window in rank order.
pub fn ranked_counts<'s, K>(
    panes: VecCollection<'s, u64, (K, u64)>,
    windows: Windows,
    top: Option<usize>,
    name: &str,
) -> VecCollection<'s, u64, (u64, Ranked<K>)>
where
    K: ExchangeData + Hash,
{
    if windows.lateness == 0 {
        let counts = visible_while_open(panes, windows)
            .map(|key| ((), key))
            .count_total();
        let ranked = match top {
            Some(n) => top_n(counts, n, &format!("{name}/top")),
            None => counts.map(|(((), key), count)| ((), (Reverse(count), key))),
        };
        windows_of_time(
            ranked.map(|((), row)| row),
            windows,
            &format!("{name}/windows"),
        )
    } else {
        rank_per_window(panes, windows, top, &format!("{name}/windows"))
    }
}
