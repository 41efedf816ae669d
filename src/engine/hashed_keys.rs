//! Counting on ids, ranking on names: the windowed top N for keys that are long strings (URLs).
//!
//! Each name is hashed once to a 64-bit id ([`name_id`]) when it is read; each window counts on
//! ids (a map from id to count, [`crate::engine::ranked_windows`]) and keeps a name once per id,
//! cloned only when the id is new in the window. The ranking is on names: ties are broken by the
//! name string, never by the id.
//!
//! Two names with the same 64-bit id (probability about `n^2 / 2^65` for `n` live names: 3e-8 for
//! a million) would be counted together, under the name that came first into the window; this is
//! the price of never hashing or comparing the strings for counting.

use std::hash::{DefaultHasher, Hash, Hasher};

use differential_dataflow::VecCollection;
use timely::dataflow::ProbeHandle;

use crate::engine::output::Output;
use crate::engine::ranked_windows::{PaneUpdate, rank_per_window};
use crate::engine::sink::{self, WindowReport};
use crate::engine::topn::Ranked;
use crate::engine::windows::Windows;

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

/// Looked up by its id, ranked by its name.
impl PaneUpdate for NamedPane {
    type Id = u64;
    type Key = String;
    fn id(&self) -> &u64 {
        &self.0.0
    }
    fn pane(&self) -> u64 {
        self.0.1
    }
    fn key(&self) -> String {
        self.1.clone()
    }
}

/// [`crate::engine::window_count::count_and_rank`] for string keys: counts each name per window
/// from pane updates [`NamedPane`], ranks the names of each window (count descending, then name
/// ascending), keeps the first `top`, and writes each window's result with `report`, for any
/// allowed lateness. Operators are named after `name` (`"HotPages/windows"`, `"HotPages/sink"`).
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
    let ranked = rank_per_window(panes, windows, Some(top), &format!("{name}/windows"));
    sink::windows(ranked, &format!("{name}/sink"), windows, report, output)
}
