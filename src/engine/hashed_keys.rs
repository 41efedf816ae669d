//! Counting on ids, ranking on names: the windowed top N for keys that are long strings (URLs).
//!
//! Expanding a pane into its windows copies its key once per window, and counting arranges every
//! copy: with 200-byte URLs, that is most of the work. So each name is hashed once to a 64-bit id
//! ([`name_id`]) when it is read, panes are expanded, counted and ranked on ids (keeping every id
//! tied with the last of the top N), and the names come back only for those few candidates, from a
//! dictionary `(id, name)` that holds each name while some window of it is alive. The final ranking
//! happens on names: ties are broken by the name string, never by the id.
//!
//! Two names with the same 64-bit id (probability about `n^2 / 2^65` for `n` live names: 3e-8 for
//! a million) would be counted together; this is the price of never carrying the strings through
//! the counting stage.

use std::cmp::Reverse;
use std::hash::{DefaultHasher, Hash, Hasher};

use differential_dataflow::operators::{CountTotal, ThresholdTotal};
use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::ProbeHandle;
use timely::dataflow::operators::vec::Map;

use crate::engine::output::Output;
use crate::engine::sink::{self, WindowReport};
use crate::engine::temporal::during;
use crate::engine::topn::Ranked;
use crate::engine::windows::{Windows, expand_panes};

/// The id of a name: SipHash with fixed keys, the same in every process of a cluster (they run the
/// same binary).
pub fn name_id(name: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

/// A pane update of a named key: `((id, pane), name)`, with `id = name_id(name)`. The id comes
/// first so that sorting and consolidating these updates (in the reader) compares integers.
pub type NamedPane = ((u64, u64), String);

/// [`crate::engine::windows::count_and_rank`] for string keys: counts each name per window from pane
/// updates [`NamedPane`], ranks the names of each window (count descending, then name ascending),
/// keeps the first `top`, and writes each window's result with `report`. Operators are named after
/// `name` (`"HotPages/ids"`, `"HotPages/top"`, `"HotPages/sink"`).
///
/// Counting and a first ranking happen on ids only: each window keeps every id whose count is at
/// least its `top`-th count ("top with ties", by count alone), which holds every name that can
/// win on the name tie-break. Only those few candidates are named and ranked on names, so strings
/// are neither cloned nor compared for the bulk of the rows, nor for each correction of a window.
///
/// The id ranking is one level, not `topn`'s hash buckets: a change re-ranks all the ids of its
/// window, which is cheap for the ~100 distinct URLs of a minute of a web log, and measured 1.6x
/// faster than the extra bucket stage (whose arrangement costs more than it saves here). Windows
/// with tens of thousands of distinct names would want the buckets back.
pub fn count_and_rank_named<'s, W>(
    panes: VecCollection<'s, u64, NamedPane>,
    windows: Windows,
    top: usize,
    name: &str,
    report: W,
    output: Option<Output>,
) -> ProbeHandle<u64>
where
    W: WindowReport<Value = Ranked<String>>,
{
    // The dictionary: a name is inserted with its pane and retracted when the last window of that
    // pane is purged; `distinct` keeps one row per name while any of its panes is alive.
    let names = panes
        .clone()
        .inner
        .flat_map(move |(((id, pane), key), t, r)| {
            let last_end = windows
                .ends_of_pane(pane)
                .last()
                .expect("a pane has windows");
            during(((id, key), t, r), t, windows.purge_time(last_end))
        })
        .as_collection()
        .distinct_total();
    let ids = panes.map(|(id_pane, _)| id_pane);
    let candidates = expand_panes(ids, windows)
        .count_total()
        .map(|((end, id), count)| (end, (Reverse(count), id)))
        .reduce_named(&format!("{name}/ids"), move |_, input, output| {
            with_ties(top, input, output)
        });
    let ranked = candidates
        .map(|(end, (count, id))| (id, (end, count)))
        .join_map(names, |_id, &(end, count), key| (end, (count, key.clone())))
        .reduce_named(&format!("{name}/top"), move |_, input, output| {
            output.extend(
                input
                    .iter()
                    .take(top)
                    .map(|(row, diff)| ((*row).clone(), *diff)),
            );
        });
    sink::windows(ranked, &format!("{name}/sink"), windows, report, output)
}

/// The rows of a group (sorted, count descending) whose count is at least the `n`-th count: the
/// first `n` rows and every row tied with the last of them.
fn with_ties(n: usize, input: &[(&Ranked<u64>, isize)], output: &mut Vec<(Ranked<u64>, isize)>) {
    let Some(&(&(cut, _), _)) = input.get(n - 1).or(input.last()) else {
        return;
    };
    output.extend(
        input
            .iter()
            .take_while(|(row, _)| row.0 <= cut)
            .map(|(row, diff)| (**row, *diff)),
    );
}
