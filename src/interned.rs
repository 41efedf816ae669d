//! Counting on ids, ranking on names: the windowed top N for keys that are long strings (URLs).
//!
//! Expanding a pane into its windows copies its key once per window, and counting arranges every
//! copy: with 200-byte URLs, that is most of the work. So each name is hashed once to a 64-bit id
//! ([`name_id`]), panes are expanded and counted on ids, and the names come back only for the
//! counted rows, from a dictionary `(id, name)` that holds each name while some window of it is
//! alive. Ranking then happens on names: ties are broken by the name string, never by the id.
//!
//! Two names with the same 64-bit id (probability about `n^2 / 2^65` for `n` live names: 3e-8 for
//! a million) would be counted together; this is the price of never carrying the strings through
//! the counting stage.

use std::cmp::max;
use std::hash::{DefaultHasher, Hash, Hasher};

use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::ProbeHandle;
use timely::dataflow::operators::vec::Map;

use crate::output::Output;
use crate::sink::{self, WindowReport};
use crate::topn::{Ranked, top_n};
use crate::windows::{Windows, expand_panes};

/// The id of a name: SipHash with fixed keys, the same in every process of a cluster (they run the
/// same binary).
pub fn name_id(name: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

/// [`crate::windows::count_and_rank`] for string keys: counts each name per window from pane
/// updates `(name, pane)`, ranks the names of each window (count descending, then name ascending),
/// keeps the first `top`, and writes each window's result with `report`. Operators are named after
/// `name` (`"HotPages/top"`, `"HotPages/sink"`).
pub fn count_and_rank_named<'s, W>(
    panes: VecCollection<'s, u64, (String, u64)>,
    windows: Windows,
    top: usize,
    name: &str,
    report: W,
    output: Option<Output>,
) -> ProbeHandle<u64>
where
    W: WindowReport<Row = Ranked<String>>,
{
    // The dictionary: a name is inserted with its pane and retracted when the last window of that
    // pane is purged; `distinct` keeps one row per name while any of its panes is alive.
    let names = panes
        .clone()
        .inner
        .flat_map(move |((key, pane), t, r)| {
            let last_end = windows
                .ends_of_pane(pane)
                .last()
                .expect("a pane has windows");
            let id = name_id(&key);
            [
                ((id, key.clone()), t, r),
                ((id, key), max(t, windows.purge_time(last_end)), -r),
            ]
        })
        .as_collection()
        .distinct();
    let ids = panes.map(|(key, pane)| (name_id(&key), pane));
    let counts = expand_panes(ids, windows)
        .count()
        .map(|((end, id), count)| (id, (end, count)))
        .join_map(names, |_id, &(end, count), key| ((end, key.clone()), count));
    let ranked = top_n(counts, top, &format!("{name}/top"));
    sink::windows(ranked, &format!("{name}/sink"), windows, report, output)
}
