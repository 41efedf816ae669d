//! Top-N per group, maintained incrementally, with deterministic ties.
//!
//! One `reduce` over all keys of a window would recompute the whole group (hundreds of thousands of
//! items in a Taobao hour) whenever one count changes. Instead, as Materialize does, keys are first
//! spread over hash buckets, each bucket keeps its own top N, and the window's top N is taken over
//! the buckets' winners: a change touches one bucket of the group and one group of `N * BUCKETS`.

use std::cmp::Reverse;
use std::hash::Hash;

use differential_dataflow::{ExchangeData, Hashable, VecCollection};

/// Buckets of the first level.
const BUCKETS: u64 = 64;

/// A ranked row: sorted by count descending, then by key ascending (numbers as numbers,
/// strings as strings).
pub type Ranked<K> = (Reverse<isize>, K);

/// The top `n` keys of each group by count: `((group, key), count)` in, `(group, (count, key))`
/// out, where the rows of one group sort in rank order.
pub fn top_n<'s, G, K>(
    counts: VecCollection<'s, u64, ((G, K), isize)>,
    n: usize,
    name: &str,
) -> VecCollection<'s, u64, (G, Ranked<K>)>
where
    G: ExchangeData + Hash,
    K: ExchangeData + Hash,
{
    // Rows arrive sorted, so the top N is a prefix.
    fn first<K: Clone>(
        n: usize,
        input: &[(&Ranked<K>, isize)],
        output: &mut Vec<(Ranked<K>, isize)>,
    ) {
        output.extend(
            input
                .iter()
                .take(n)
                .map(|(row, diff)| ((*row).clone(), *diff)),
        );
    }
    counts
        .map(|((group, key), count)| {
            let bucket = key.hashed() % BUCKETS;
            ((group, bucket), (Reverse(count), key))
        })
        .reduce_named(&format!("{name}/buckets"), move |_, input, output| {
            first(n, input, output)
        })
        .map(|((group, _bucket), row)| (group, row))
        .reduce_named(name, move |_, input, output| first(n, input, output))
}
