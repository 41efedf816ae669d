//! Distinct-count sketches (Bloom filter, HyperLogLog), kept per window in one operator.
//!
//! A sketch answers "how many distinct keys" in memory that does not grow with the keys: a Bloom
//! filter of `m` bits (sparse while few bits are set, so a small window does not take `m / 8`
//! bytes), or `2^p` HyperLogLog registers. Both are estimated from their state only (set bits,
//! register values), never from the order in which keys arrived, and the updates of a window are
//! all sent to one worker: the answer is the same for any `-w`, `-n` or batch size.
//!
//! Sketches are, with `ranked_windows`, the documented exceptions to "state is an
//! arrangement" (`docs/event-time.md`, "State"): [`per_window`] keeps them in an operator, one per
//! live window, and drops each at its purge time.

use std::cmp::max;
use std::collections::{BTreeMap, HashSet};

use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::{Capability, Operator};

use crate::engine::operators::capability::hold_earliest;
use crate::engine::time::windows::Windows;

/// A 64-bit mix (SplitMix64's finalizer): a bijection, so distinct keys keep distinct hashes,
/// with well-spread bits, the same on every platform and every run.
pub fn mix64(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A set of keys that can only grow and answers its approximate size.
pub trait Sketch: 'static {
    /// Adds a key, given as a well-mixed 64-bit hash (see [`mix64`]).
    fn insert(&mut self, hash: u64);
    /// The estimated number of distinct keys inserted, from the sketch's state only.
    fn estimate(&self) -> f64;
}

/// The sketches a job can choose, with their parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SketchKind {
    /// `bits` bits, `hashes` bit positions per key.
    Bloom { bits: u64, hashes: u32 },
    /// `2^precision` registers.
    HyperLogLog { precision: u8 },
}

impl SketchKind {
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            SketchKind::Bloom { bits, hashes } => {
                if !(64..=1 << 40).contains(&bits) {
                    return Err("--bloom-bits must be between 64 and 2^40".into());
                }
                if !(1..=32).contains(&hashes) {
                    return Err("--bloom-hashes must be between 1 and 32".into());
                }
            }
            SketchKind::HyperLogLog { precision } => {
                if !(4..=18).contains(&precision) {
                    return Err("--hll-precision must be between 4 and 18".into());
                }
            }
        }
        Ok(())
    }

    /// An empty sketch of this kind.
    pub fn empty(&self) -> Box<dyn Sketch + Send> {
        match *self {
            SketchKind::Bloom { bits, hashes } => Box::new(Bloom::new(bits, hashes)),
            SketchKind::HyperLogLog { precision } => Box::new(HyperLogLog::new(precision)),
        }
    }

    /// The relative standard error the parameters promise for `n` distinct keys.
    pub fn standard_error(&self, n: f64) -> f64 {
        match *self {
            // Whang, Vander-Zanden, Taylor (1990), linear counting: with load t = k n / m,
            // SE(n^) / n = sqrt(m' (e^t - t - 1)) / n where m' = m / k.
            SketchKind::Bloom { bits, hashes } => {
                let m = bits as f64 / f64::from(hashes);
                let t = n / m;
                (m * (t.exp() - t - 1.0)).sqrt() / n
            }
            SketchKind::HyperLogLog { precision } => 1.04 / f64::from(1u32 << precision).sqrt(),
        }
    }
}

/// A Bloom filter used as a counter: the tutorial's 2^29-bit Redis bitmap, estimated from the
/// number `X` of set bits as `n = -(m / k) ln(1 - X / m)` (Swamidass and Baldi, 2007), which does
/// not depend on the order of the keys (the tutorial's "count when not seen yet" did).
///
/// The bits are a hash set of positions while that is smaller than the bitmap (8 bytes per set
/// bit against `m / 8` bytes), then the bitmap: memory is `min(8 k n, m / 8)` bytes.
pub struct Bloom {
    bits: u64,
    hashes: u32,
    sparse: Option<HashSet<u64>>,
    dense: Vec<u64>,
    set: u64,
}

impl Bloom {
    pub fn new(bits: u64, hashes: u32) -> Self {
        Bloom {
            bits,
            hashes,
            sparse: Some(HashSet::new()),
            dense: Vec::new(),
            set: 0,
        }
    }

    /// Sets one bit; counts it if it was clear.
    fn set_bit(&mut self, position: u64) {
        match &mut self.sparse {
            Some(positions) => {
                if positions.insert(position) {
                    self.set += 1;
                }
                if self.set * 64 > self.bits {
                    let mut dense = vec![0u64; self.bits.div_ceil(64) as usize];
                    for p in positions.drain() {
                        dense[(p / 64) as usize] |= 1 << (p % 64);
                    }
                    self.dense = dense;
                    self.sparse = None;
                }
            }
            None => {
                let (word, bit) = ((position / 64) as usize, 1u64 << (position % 64));
                if self.dense[word] & bit == 0 {
                    self.dense[word] |= bit;
                    self.set += 1;
                }
            }
        }
    }
}

impl Sketch for Bloom {
    fn insert(&mut self, hash: u64) {
        // Kirsch-Mitzenmacher double hashing: positions h1 + i h2 (mod m).
        let (h1, h2) = (hash, mix64(hash) | 1);
        for i in 0..u64::from(self.hashes) {
            self.set_bit(h1.wrapping_add(i.wrapping_mul(h2)) % self.bits);
        }
    }

    fn estimate(&self) -> f64 {
        let (m, x, k) = (self.bits as f64, self.set as f64, f64::from(self.hashes));
        if self.set >= self.bits {
            return m * m.ln() / k; // saturated: the estimator diverges; report its last finite value
        }
        -(m / k) * (1.0 - x / m).ln()
    }
}

/// HyperLogLog with `2^p` one-byte registers, estimated with Ertl's improved estimator ("New
/// cardinality estimation algorithms for HyperLogLog sketches", 2017, algorithm 6): unbiased
/// from 0 to far beyond 10^9 keys without the empirical bias tables of HLL++, relative standard
/// error `1.04 / sqrt(2^p)`. Registers only grow (`max`), so the state does not depend on order.
pub struct HyperLogLog {
    precision: u8,
    registers: Vec<u8>,
}

impl HyperLogLog {
    pub fn new(precision: u8) -> Self {
        HyperLogLog {
            precision,
            registers: vec![0; 1 << precision],
        }
    }
}

impl Sketch for HyperLogLog {
    fn insert(&mut self, hash: u64) {
        let p = u32::from(self.precision);
        let index = (hash >> (64 - p)) as usize;
        let q = 64 - p;
        // The position of the first 1 in the remaining q bits, q + 1 when they are all 0.
        let rest = hash << p;
        let rank = if rest == 0 {
            q + 1
        } else {
            rest.leading_zeros() + 1
        };
        self.registers[index] = max(self.registers[index], rank as u8);
    }

    fn estimate(&self) -> f64 {
        let q = 64 - usize::from(self.precision);
        let m = self.registers.len() as f64;
        let mut histogram = vec![0u64; q + 2];
        for &r in &self.registers {
            histogram[usize::from(r)] += 1;
        }
        let mut z = m * tau(1.0 - histogram[q + 1] as f64 / m);
        for k in (1..=q).rev() {
            z = 0.5 * (z + histogram[k] as f64);
        }
        z += m * sigma(histogram[0] as f64 / m);
        m * m / (2.0 * std::f64::consts::LN_2 * z)
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// One live window of [`per_window`].
struct Live {
    sketch: Box<dyn Sketch + Send>,
    /// The estimate last emitted, if the window has fired.
    emitted: Option<u64>,
}

/// Estimates the distinct keys of each window: `(key_hash, pane)` insertions in, the rounded
/// estimate `(window_end, estimate)` out, as a collection that follows the windowed contract
/// (`docs/event-time.md`, "Windows"): first at `end - 1`, replaced at each later time a late insertion
/// changes it, retracted at the window's purge time `end + A`, when its sketch is dropped.
///
/// Insertions are applied time by time, in time order, once the frontier has passed their time;
/// all insertions of a window go to one worker (by its end), so no sketches need merging.
pub fn per_window<'s>(
    insertions: VecCollection<'s, u64, (u64, u64)>,
    windows: Windows,
    kind: SketchKind,
    name: &str,
) -> VecCollection<'s, u64, (u64, u64)> {
    // Insertions not yet applied, by time; and the windows that still hold a sketch, by end.
    let mut pending: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    let mut live: BTreeMap<u64, Live> = BTreeMap::new();
    let mut held: Option<Capability<u64>> = None;
    insertions
        .inner
        .flat_map(move |((hash, pane), t, r)| {
            if r < 0 {
                crate::engine::status::failure::fail(
                    "internal error: a sketch cannot forget a key",
                );
            }
            windows
                .ends_of_pane(pane)
                .map(move |end| ((end, hash), t, r))
        })
        .unary_frontier::<timely::container::CapacityContainerBuilder<Vec<_>>, _, _, _>(
            Exchange::new(|((end, _), _, _): &((u64, u64), u64, isize)| *end),
            name,
            move |_capability, _info| {
                move |(input, frontier), output| {
                    input.for_each(|cap, data| {
                        hold_earliest(&mut held, cap.retain_least(0).expect("a time"));
                        for ((end, hash), t, _) in data.drain(..) {
                            pending.entry(t).or_default().push((end, hash));
                        }
                    });
                    let Some(cap) = held.as_mut() else { return };
                    // The next time at which something happens: insertions, a firing, a purge.
                    let next = |pending: &BTreeMap<u64, _>, live: &BTreeMap<u64, Live>| {
                        let firing = live.iter().map(|(&end, l)| match l.emitted {
                            None => end - 1,
                            Some(_) => windows.purge_time(end),
                        });
                        pending.keys().copied().chain(firing).min()
                    };
                    while let Some(time) = next(&pending, &live) {
                        if frontier.less_equal(&time) {
                            cap.downgrade(&time);
                            return;
                        }
                        let at = cap.delayed(&time);
                        let mut session = output.session(&at);
                        let mut touched: Vec<u64> = Vec::new();
                        for (end, hash) in pending.remove(&time).unwrap_or_default() {
                            if time >= windows.purge_time(end) {
                                continue; // the window is gone; its insertion changes nothing
                            }
                            live.entry(end)
                                .or_insert_with(|| Live {
                                    sketch: kind.empty(),
                                    emitted: None,
                                })
                                .sketch
                                .insert(hash);
                            touched.push(end);
                        }
                        // Windows that fire or are purged now.
                        touched.extend(live.iter().filter_map(|(&end, l)| {
                            let due = match l.emitted {
                                None => end - 1,
                                Some(_) => windows.purge_time(end),
                            };
                            (due == time).then_some(end)
                        }));
                        touched.sort_unstable();
                        touched.dedup();
                        for end in touched {
                            let Some(window) = live.get_mut(&end) else {
                                continue;
                            };
                            if time >= windows.purge_time(end) {
                                if let Some(old) = window.emitted {
                                    session.give(((end, old), time, -1));
                                }
                                live.remove(&end);
                                continue;
                            }
                            if time < end - 1 {
                                continue; // not fired yet
                            }
                            let estimate = window.sketch.estimate().round() as u64;
                            if window.emitted != Some(estimate) {
                                if let Some(old) = window.emitted {
                                    session.give(((end, old), time, -1));
                                }
                                session.give(((end, estimate), time, 1));
                                window.emitted = Some(estimate);
                            }
                        }
                    }
                    held = None;
                }
            },
        )
        .as_collection()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(sketch: &mut dyn Sketch, n: u64) {
        for key in 0..n {
            sketch.insert(mix64(key));
        }
    }

    #[test]
    fn empty_sketches_estimate_zero() {
        assert_eq!(Bloom::new(1 << 29, 1).estimate(), 0.0);
        assert!(HyperLogLog::new(14).estimate().abs() < 1e-9);
    }

    #[test]
    fn bloom_stays_sparse_for_a_few_keys_and_counts_them() {
        let mut bloom = Bloom::new(1 << 29, 1);
        fill(&mut bloom, 10_000);
        assert!(bloom.sparse.is_some() && bloom.dense.is_empty());
        assert!((bloom.estimate() - 10_000.0).abs() < 2.0);
    }

    #[test]
    fn bloom_turns_dense_and_keeps_its_count() {
        let mut bloom = Bloom::new(1 << 16, 2);
        fill(&mut bloom, 20_000);
        assert!(bloom.sparse.is_none());
        let kind = SketchKind::Bloom {
            bits: 1 << 16,
            hashes: 2,
        };
        let error = (bloom.estimate() - 20_000.0).abs() / 20_000.0;
        assert!(error < 4.0 * kind.standard_error(20_000.0), "{error}");
    }

    #[test]
    fn hyperloglog_is_close_in_every_range() {
        for n in [10, 1_000, 30_000, 300_000] {
            let mut hll = HyperLogLog::new(12);
            fill(&mut hll, n);
            let error = (hll.estimate() - n as f64).abs() / n as f64;
            assert!(error < 4.0 * 1.04 / 64.0, "{n}: {error}");
        }
    }

    #[test]
    fn order_does_not_matter() {
        let (mut a, mut b) = (Bloom::new(1 << 12, 3), Bloom::new(1 << 12, 3));
        let (mut c, mut d) = (HyperLogLog::new(8), HyperLogLog::new(8));
        for key in 0..5_000 {
            a.insert(mix64(key));
            b.insert(mix64(4_999 - key));
            c.insert(mix64(key));
            d.insert(mix64(4_999 - key));
        }
        assert_eq!(a.estimate(), b.estimate());
        assert_eq!(c.estimate(), d.estimate());
    }
}
