//! The random draws every generator shares: one ChaCha8 stream per purpose, base times at a
//! rate, bounded disorder, Zipf popularity, ids that hide popularity, per-entity traits, and the
//! checks of the flags that size them.

use std::time::Duration;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;

/// Parses `1h`, `5m 30s`, `250ms` or `0` (a clap value parser).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration like 5s or 1h: {e}"))
}

/// One independent ChaCha8 stream per purpose (rows, disorder, pools, ...).
pub(super) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Row `i`'s base time: `rate` rows per unit of time after `start`, truncated to whole units.
pub(super) fn base_time(start: u64, i: u64, rate: f64) -> u64 {
    start.saturating_add((i as f64 / rate) as u64)
}

pub(super) fn check_rate(rate: f64) -> Result<(), String> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(format!(
            "--rate must be a positive number of events per second, not {rate}"
        ))
    }
}

pub(super) fn check_pool(flag: &str, n: u64) -> Result<(), String> {
    if n == 0 {
        Err(format!("{flag} must be at least 1"))
    } else {
        Ok(())
    }
}

/// Bounded disorder: moves each timestamp back by a uniform amount in `[0, max]`, from its own
/// random stream so that the rows themselves stay those of an ordered run.
pub(super) struct Jitter {
    pub(super) rng: ChaCha8Rng,
    max: u64,
}

impl Jitter {
    pub(super) fn new(seed: u64, max: u64) -> Self {
        Jitter {
            rng: rng(seed, 1),
            max,
        }
    }

    pub(super) fn apply(&mut self, t: u64) -> u64 {
        if self.max == 0 {
            t
        } else {
            t.saturating_sub(self.rng.random_range(0..=self.max))
        }
    }
}

/// Zipf-distributed ranks `0..n`, rank 0 the most frequent.
pub(super) struct Zipf {
    dist: rand_distr::Zipf<f64>,
    n: u64,
}

impl Zipf {
    pub(super) fn new(n: u64, s: f64) -> Result<Self, String> {
        let dist = rand_distr::Zipf::new(n as f64, s).map_err(|e| {
            format!("cannot build a Zipf distribution over {n} with exponent {s}: {e}")
        })?;
        Ok(Zipf { dist, n })
    }

    pub(super) fn rank<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        (self.dist.sample(rng) as u64).clamp(1, self.n) - 1
    }
}

/// Turns ranks into ids that do not reveal popularity (the most popular item is not id 1): a
/// bijection of `0..2^bits` (odd multiply, xorshift, odd multiply), so ids stay distinct, plus 1.
#[derive(Clone, Copy)]
pub(super) struct Scatter {
    pub(super) bits: u32,
    salt: u64,
}

impl Scatter {
    /// Ids below `2^bits`, at least `min_bits` and enough for `n` ranks.
    pub(super) fn new(n: u64, min_bits: u32, salt: u64) -> Self {
        let bits = (64 - n.saturating_sub(1).leading_zeros())
            .max(min_bits)
            .clamp(1, 63);
        Scatter { bits, salt }
    }

    pub(super) fn id(self, rank: u64) -> u64 {
        let mask = (1u64 << self.bits) - 1;
        let mut x = rank
            .wrapping_add(self.salt)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            & mask;
        x ^= x >> self.bits.div_ceil(2);
        x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93) & mask;
        x + 1
    }
}

/// SplitMix64's finaliser: per-entity traits (a user's favourite categories, home IP) are a pure
/// function of the seed and the entity, so they need no table and never change with row order.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A tiny RNG seeded from `mix(seed, entity)`, for drawing an entity's traits with the usual
/// distributions.
pub(super) struct Trait(u64);

impl Trait {
    pub(super) fn of(seed: u64, salt: u64, entity: u64) -> Self {
        Trait(mix(seed ^ mix(salt ^ mix(entity))))
    }
}

impl RngCore for Trait {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A public-looking IPv4 address (first octet 1..=223, not 10 or 127).
pub(super) fn random_ip<R: Rng + ?Sized>(rng: &mut R) -> u32 {
    let first = loop {
        let a: u32 = rng.random_range(1..=223);
        if a != 10 && a != 127 {
            break a;
        }
    };
    (first << 24) | rng.random_range(0..1 << 24)
}

/// Picks from `(weight, value)` pairs whose weights sum to 1.
pub(super) fn pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, table: &[(f64, T)]) -> T {
    let mut u: f64 = rng.random();
    for &(w, v) in table {
        if u < w {
            return v;
        }
        u -= w;
    }
    table[table.len() - 1].1
}
