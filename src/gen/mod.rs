//! Seeded generators for every input of the jobs, so that tests and benchmarks can use inputs far
//! larger than the public samples, with known traits (skew, disorder, fraud, late payments), and get
//! the same bytes back from the same arguments on any machine.
//!
//! Randomness comes from ChaCha8 (portable, value-stable) with one stream per purpose, so that
//! turning on disorder or bogus timestamps moves the timestamps of the same rows instead of producing
//! different rows. Zipf draws use floating point; the platform's `powf`/`exp` could in principle
//! round differently elsewhere, which would change a rare draw, never the format.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;

mod ad_clicks;
mod apache_log;
mod login;
mod marketing;
mod orders;
#[cfg(test)]
mod tests;
mod user_behavior;

pub use ad_clicks::AdClickGen;
pub use apache_log::ApacheLogGen;
pub use login::LoginGen;
pub use marketing::MarketingGen;
pub use orders::OrdersGen;
pub use user_behavior::UserBehaviorGen;

/// The inputs the generator can produce, one per input format of the jobs.
#[derive(clap::Subcommand, Debug)]
pub enum GenCommand {
    /// Taobao-like `userId,itemId,categoryId,behavior,ts` rows (the hot-items, pv, uv and
    /// recommendation input), with skewed popularity and per-user favourite categories.
    UserBehavior(UserBehaviorGen),
    /// Web server log lines `ip - - dd/MM/yyyy:HH:mm:ss +0000 METHOD url` (the hot-pages input).
    ApacheLog(ApacheLogGen),
    /// `userId,ip,success|fail,ts` logins with bursts of failures from attackers (login-fail).
    Login(LoginGen),
    /// `orderId,create|pay,txId,ts` orders, optionally with their payment receipts (order-timeout,
    /// tx-match).
    Orders(OrdersGen),
    /// `userId,adId,province,city,ts` ad clicks with a few click-fraud pairs (ad-stats).
    AdClicks(AdClickGen),
    /// `userId,behavior,channel,ts_ms` app-marketing events, optionally paced to the wall clock.
    Marketing(MarketingGen),
}

/// Runs one generator. The error is one sentence for the user; a reader that goes away early
/// (`| head`) is not an error.
pub fn run(cmd: &GenCommand) -> Result<(), String> {
    match cmd {
        GenCommand::UserBehavior(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::ApacheLog(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::Login(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::Orders(a) => {
            let mut plan = a.plan()?;
            let mut receipts = match &a.receipts {
                Some(path) => Sink::open(path)?,
                None => Sink::new(Box::new(io::sink()) as Box<dyn Write>, "nowhere"),
            };
            to_file(&a.out, |out| {
                plan.write(out, &mut receipts)?;
                receipts.flush()
            })
        }
        GenCommand::AdClicks(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::Marketing(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
    }
}

/// Parses `1h`, `5m 30s`, `250ms` or `0` (a clap value parser).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration like 5s or 1h: {e}"))
}

/// Opens `--out` (stdout when absent or `-`), runs `body`, flushes, and turns a write error into a
/// sentence, except a closed pipe, which means the reader has seen enough.
fn to_file(
    path: &Option<PathBuf>,
    body: impl FnOnce(&mut Sink<Box<dyn Write>>) -> Result<(), Fail>,
) -> Result<(), String> {
    let mut out = match path {
        Some(p) if p.as_path() != Path::new("-") => Sink::open(p)?,
        _ => Sink::new(Box::new(io::stdout().lock()) as Box<dyn Write>, "stdout"),
    };
    match body(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(Fail { err, .. }) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(Fail { name, err }) => Err(format!("cannot write to {name}: {err}")),
    }
}

/// A failed write, with the name of the output it went to.
struct Fail {
    name: String,
    err: io::Error,
}

/// Rows are formatted straight into one reused buffer (no `fmt` machinery, no allocation per row),
/// which is written out in large blocks: generation then runs at disk speed.
struct Sink<W: Write> {
    w: W,
    buf: Vec<u8>,
    name: String,
}

const BLOCK: usize = 1 << 20;

impl Sink<Box<dyn Write>> {
    fn open(path: &Path) -> Result<Self, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Sink::new(
            Box::new(file) as Box<dyn Write>,
            path.display().to_string(),
        ))
    }
}

impl<W: Write> Sink<W> {
    fn new(w: W, name: impl Into<String>) -> Self {
        Sink {
            w,
            buf: Vec::with_capacity(BLOCK + 4096),
            name: name.into(),
        }
    }

    fn num(&mut self, mut n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&digits[i..]);
        self
    }

    /// Two digits, zero-padded (dates and clock times).
    fn two(&mut self, n: u64) -> &mut Self {
        self.buf
            .extend_from_slice(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
        self
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    fn ip(&mut self, ip: u32) -> &mut Self {
        let [a, b, c, d] = ip.to_be_bytes();
        self.num(a.into())
            .text(".")
            .num(b.into())
            .text(".")
            .num(c.into())
            .text(".")
            .num(d.into())
    }

    /// Ends the row; writes the buffer out once it holds a block.
    fn end(&mut self) -> Result<(), Fail> {
        self.buf.push(b'\n');
        if self.buf.len() >= BLOCK {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<(), Fail> {
        let res = self.w.write_all(&self.buf);
        self.buf.clear();
        res.map_err(|err| Fail {
            name: self.name.clone(),
            err,
        })
    }

    fn flush(&mut self) -> Result<(), Fail> {
        self.drain()?;
        self.w.flush().map_err(|err| Fail {
            name: self.name.clone(),
            err,
        })
    }

    #[cfg(test)]
    fn into_inner(mut self) -> W {
        assert!(self.flush().is_ok());
        self.w
    }
}

/// One independent ChaCha8 stream per purpose (rows, disorder, pools, ...).
fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Row `i`'s base time: `rate` rows per unit of time after `start`, truncated to whole units.
fn base_time(start: u64, i: u64, rate: f64) -> u64 {
    start.saturating_add((i as f64 / rate) as u64)
}

fn check_rate(rate: f64) -> Result<(), String> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(format!(
            "--rate must be a positive number of events per second, not {rate}"
        ))
    }
}

fn check_pool(flag: &str, n: u64) -> Result<(), String> {
    if n == 0 {
        Err(format!("{flag} must be at least 1"))
    } else {
        Ok(())
    }
}

/// Bounded disorder: moves each timestamp back by a uniform amount in `[0, max]`, from its own
/// random stream so that the rows themselves stay those of an ordered run.
struct Jitter {
    rng: ChaCha8Rng,
    max: u64,
}

impl Jitter {
    fn new(seed: u64, max: u64) -> Self {
        Jitter {
            rng: rng(seed, 1),
            max,
        }
    }

    fn apply(&mut self, t: u64) -> u64 {
        if self.max == 0 {
            t
        } else {
            t.saturating_sub(self.rng.random_range(0..=self.max))
        }
    }
}

/// Zipf-distributed ranks `0..n`, rank 0 the most frequent.
struct Zipf {
    dist: rand_distr::Zipf<f64>,
    n: u64,
}

impl Zipf {
    fn new(n: u64, s: f64) -> Result<Self, String> {
        let dist = rand_distr::Zipf::new(n as f64, s).map_err(|e| {
            format!("cannot build a Zipf distribution over {n} with exponent {s}: {e}")
        })?;
        Ok(Zipf { dist, n })
    }

    fn rank<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        (self.dist.sample(rng) as u64).clamp(1, self.n) - 1
    }
}

/// Turns ranks into ids that do not reveal popularity (the most popular item is not id 1): a
/// bijection of `0..2^bits` (odd multiply, xorshift, odd multiply), so ids stay distinct, plus 1.
#[derive(Clone, Copy)]
struct Scatter {
    bits: u32,
    salt: u64,
}

impl Scatter {
    /// Ids below `2^bits`, at least `min_bits` and enough for `n` ranks.
    fn new(n: u64, min_bits: u32, salt: u64) -> Self {
        let bits = (64 - n.saturating_sub(1).leading_zeros())
            .max(min_bits)
            .clamp(1, 63);
        Scatter { bits, salt }
    }

    fn id(self, rank: u64) -> u64 {
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
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A tiny RNG seeded from `mix(seed, entity)`, for drawing an entity's traits with the usual
/// distributions.
struct Trait(u64);

impl Trait {
    fn of(seed: u64, salt: u64, entity: u64) -> Self {
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
fn random_ip<R: Rng + ?Sized>(rng: &mut R) -> u32 {
    let first = loop {
        let a: u32 = rng.random_range(1..=223);
        if a != 10 && a != 127 {
            break a;
        }
    };
    (first << 24) | rng.random_range(0..1 << 24)
}

/// Picks from `(weight, value)` pairs whose weights sum to 1.
fn pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, table: &[(f64, T)]) -> T {
    let mut u: f64 = rng.random();
    for &(w, v) in table {
        if u < w {
            return v;
        }
        u -= w;
    }
    table[table.len() - 1].1
}
