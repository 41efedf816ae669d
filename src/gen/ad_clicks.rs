//! Ad clicks like `AdClickLog.csv`: ordinary users clicking popular ads from their home city, and a
//! few click-fraud (user, ad) pairs that click all day long, across the UTC+8 midnight, so that
//! ad-stats' 100-clicks-a-day blacklist both triggers and resets.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{Jitter, Scatter, Trait, Zipf, base_time, check_pool, check_rate, pick, rng};
use super::sink::{Fail, Sink};

/// Ad clicks in the tutorial's `AdClickLog.csv` format.
#[derive(clap::Args, Debug)]
pub struct AdClickGen {
    /// Number of rows to write.
    #[arg(long)]
    pub rows: u64,
    /// Seed of the random streams: the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file, or a Kafka topic (`kafka://HOST:PORT/TOPIC`, one record a row) [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Ordinary clicks per second of event time (the heavy clickers' come on top).
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Event time of the first row, epoch seconds (default: 2017-11-26 09:00 in UTC+8, as the
    /// sample; the UTC+8 midnight then comes 15 h in).
    #[arg(long, default_value_t = 1_511_658_000)]
    pub start: u64,
    /// Number of users; each clicks from a home city, sometimes from elsewhere.
    #[arg(long, default_value_t = 100_000)]
    pub users: u64,
    /// Number of ads; their popularity is Zipf-skewed.
    #[arg(long, default_value_t = 5_000)]
    pub ads: u64,
    /// Number of (user, ad) pairs that click about every --heavy-every, day and night.
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub heavy_clickers: u64,
    /// Mean gap between a heavy clicker's clicks: 30 s makes about 2,880 a day, far above the
    /// blacklist's 100.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = super::draw::parse_duration)]
    pub heavy_every: Duration,
    /// Moves each timestamp back by up to this much (uniformly), to exercise late clicks.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = super::draw::parse_duration)]
    pub disorder: Duration,
}

/// Cities with their provinces, weighted roughly by online population.
const PLACES: [(f64, (&str, &str)); 12] = [
    (0.20, ("beijing", "beijing")),
    (0.16, ("shanghai", "shanghai")),
    (0.12, ("guangdong", "guangzhou")),
    (0.11, ("guangdong", "shenzhen")),
    (0.03, ("guangdong", "zhuhai")),
    (0.09, ("zhejiang", "hangzhou")),
    (0.07, ("jiangsu", "nanjing")),
    (0.05, ("henan", "zhengzhou")),
    (0.04, ("hebei", "shijiazhuang")),
    (0.05, ("sichuan", "chengdu")),
    (0.04, ("hubei", "wuhan")),
    (0.04, ("shandong", "jinan")),
];

/// Share of an ordinary user's clicks made away from home.
const AWAY: f64 = 0.05;

impl AdClickGen {
    pub(super) fn plan(&self) -> Result<Plan, String> {
        check_rate(self.rate)?;
        check_pool("--users", self.users)?;
        check_pool("--ads", self.ads)?;
        if self.heavy_clickers > self.users.min(10_000) {
            return Err("--heavy-clickers must be at most --users, and at most 10000".into());
        }
        let every = self.heavy_every.as_secs();
        if every == 0 && self.heavy_clickers > 0 {
            return Err("--heavy-every must be at least 1s".into());
        }
        let ad_zipf = Zipf::new(self.ads, 1.0)?;
        let mut setup = rng(self.seed, 2);
        let mut chosen = HashSet::new();
        let mut heavy = Vec::new();
        while (heavy.len() as u64) < self.heavy_clickers {
            let user = setup.random_range(0..self.users);
            if chosen.insert(user) {
                heavy.push((user, ad_zipf.rank(&mut setup)));
            }
        }
        let mut plan = Plan {
            args: AdClickGen { out: None, ..*self },
            user_ids: Scatter::new(self.users, 20, 0xad05),
            ad_ids: Scatter::new(self.ads, 22, 0xad1d),
            ad_zipf,
            heavy,
            next_heavy: BinaryHeap::new(),
            rng: rng(self.seed, 0),
            jitter: Jitter::new(self.seed, self.disorder.as_secs()),
        };
        for j in 0..plan.heavy.len() {
            let first = self.start + plan.rng.random_range(0..=every);
            plan.next_heavy.push(Reverse((first, j)));
        }
        Ok(plan)
    }
}

pub(super) struct Plan {
    args: AdClickGen,
    user_ids: Scatter,
    ad_ids: Scatter,
    ad_zipf: Zipf,
    /// (user rank, ad rank) of each heavy clicker.
    heavy: Vec<(u64, u64)>,
    /// (time of its next click, heavy clicker).
    next_heavy: BinaryHeap<Reverse<(u64, usize)>>,
    rng: ChaCha8Rng,
    jitter: Jitter,
}

impl Plan {
    fn home(&self, user: u64) -> (&'static str, &'static str) {
        pick(&mut Trait::of(self.args.seed, 0x4003, user), &PLACES)
    }

    pub(super) fn write<W: Write>(&mut self, out: &mut Sink<W>) -> Result<(), Fail> {
        let every = self.args.heavy_every.as_secs();
        let (mut i, mut written) = (0, 0);
        while written < self.args.rows {
            written += 1;
            let t = base_time(self.args.start, i, self.args.rate);
            let (user, ad, place, time) = match self.next_heavy.peek() {
                Some(&Reverse((due, j))) if due <= t => {
                    self.next_heavy.pop();
                    self.next_heavy
                        .push(Reverse((due + self.rng.random_range(0..=2 * every), j)));
                    let (user, ad) = self.heavy[j];
                    (user, ad, self.home(user), due)
                }
                _ => {
                    i += 1;
                    let user = self.rng.random_range(0..self.args.users);
                    let ad = self.ad_zipf.rank(&mut self.rng);
                    let place = if self.rng.random::<f64>() < AWAY {
                        pick(&mut self.rng, &PLACES)
                    } else {
                        self.home(user)
                    };
                    (user, ad, place, t)
                }
            };
            out.num(self.user_ids.id(user))
                .text(",")
                .num(self.ad_ids.id(ad))
                .text(",");
            out.text(place.0)
                .text(",")
                .text(place.1)
                .text(",")
                .num(self.jitter.apply(time))
                .end()?;
        }
        Ok(())
    }
}
