//! Counting on ids, ranking on names: the windowed top N for keys that are long strings (URLs).
//!
//! Each name is hashed once to a 64-bit id ([`name_id`]) when it is read; each window counts on
//! ids (a map from id to count, [`ranked_windows`](super::ranked_windows)) and keeps a name once
//! per id, cloned only when the id is new in the window. The ranking is on names: ties are broken by the
//! name string, never by the id.
//!
//! A ranked name is an `Arc<str>`: a window's rows are rewritten at each correction (about one row
//! per input line in hot-pages), and each row written was a copy of its name, allocated, sorted
//! and freed on its way to the sink; now it is a reference count.
//!
//! Two names with the same 64-bit id (probability about `n^2 / 2^65` for `n` live names: 3e-8 for
//! a million) would be counted together, under the name that came first into the window; this is
//! the price of never hashing or comparing the strings for counting.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use differential_dataflow::VecCollection;

use crate::engine::operators::ranked_windows::{PaneUpdate, rank_per_window};
use crate::engine::operators::topn::Ranked;
use crate::engine::time::windows::Windows;

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
    type Key = Arc<str>;
    fn id(&self) -> &u64 {
        &self.0.0
    }
    fn pane(&self) -> u64 {
        self.0.1
    }
    fn key(&self) -> Arc<str> {
        Arc::from(self.1.as_str())
    }
}

/// [`ranked_counts`](crate::engine::operators::window_count::ranked_counts) for string keys:
/// counts each name per window from pane updates [`NamedPane`], ranks the names of each window
/// (count descending, then name ascending) and keeps the first `top`, for any allowed lateness:
/// `(window_end, (count, name))`. Operators are named after `name` (`"HotPages/windows"`).
pub fn ranked_names<'s>(
    panes: VecCollection<'s, u64, NamedPane>,
    windows: Windows,
    top: usize,
    name: &str,
) -> VecCollection<'s, u64, (u64, Ranked<Arc<str>>)> {
    rank_per_window(panes, windows, Some(top), &format!("{name}/windows"))
}
