//! Taobao-like user behaviour: the shape of the tutorial's 100M-row file, plus the latent structure
//! (favourite categories, short sessions) that a recommender can find again.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{Jitter, Scatter, Trait, Zipf, base_time, check_pool, check_rate, rng};
use super::sink::{Fail, Sink, follow};

/// Rows of user behaviour in the tutorial's `UserBehavior.csv` format.
#[derive(clap::Args, Debug)]
pub struct UserBehaviorGen {
    /// Number of rows to write; required unless --follow, which otherwise runs until interrupted.
    #[arg(long)]
    pub rows: Option<u64>,
    /// Seed of the random streams: the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file, or a Kafka topic (`kafka://HOST:PORT/TOPIC`, one record a row) [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Size of the item catalogue (the Taobao file has 4,162,024 items).
    #[arg(long, default_value_t = 4_162_024)]
    pub items: u64,
    /// Number of users (the Taobao file has 987,994).
    #[arg(long, default_value_t = 987_994)]
    pub users: u64,
    /// Number of categories (the Taobao file has 9,439); every item belongs to exactly one.
    #[arg(long, default_value_t = 9_439)]
    pub categories: u64,
    /// Rows per second of event time: 128/s spreads 100M rows over the dataset's nine days.
    #[arg(long, default_value_t = 128.0)]
    pub rate: f64,
    /// Event time of the first row, epoch seconds (default: 2017-11-25 00:00 in UTC+8).
    #[arg(long, default_value_t = 1_511_539_200)]
    pub start: u64,
    /// Zipf exponent of category and item popularity: higher makes the hot items hotter.
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// Zipf exponent of user activity: 0 makes all users equally active.
    #[arg(long, default_value_t = 0.5)]
    pub user_zipf: f64,
    /// Moves each timestamp back by up to this much (uniformly), to exercise out-of-orderness.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = super::draw::parse_duration)]
    pub disorder: Duration,
    /// Fraction of rows whose timestamp is bogus (half near 1970, half in 2037), as in the real
    /// file, which a job must survive.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub bogus_rate: f64,
    /// Writes each row when its time comes on the wall clock (--rate rows a second), stamped
    /// with that time (--start is ignored), and flushes at once, so that a job reading a pipe
    /// sees a live stream: `uba gen user-behavior --follow --rate 500 | uba hot-items -`.
    #[arg(long)]
    pub follow: bool,
}

/// Share of a user's events drawn from their favourite categories.
const LOYALTY: f64 = 0.8;
/// Sessions open at once: at 128 rows/s a six-event session spans about a minute of event time.
const SESSIONS: usize = 1024;
/// A session ends after each event with this probability (mean length 6 events).
const SESSION_END: f64 = 1.0 / 6.0;
/// The dataset's behaviour mix, by share.
const MIX: [(f64, &str); 4] = [
    (0.896, "pv"),
    (0.055, "cart"),
    (0.029, "fav"),
    (0.020, "buy"),
];
/// 2037-01-01 00:00 UTC.
const YEAR_2037: u64 = 2_114_380_800;

impl UserBehaviorGen {
    pub(super) fn plan(&self) -> Result<Plan, String> {
        check_rate(self.rate)?;
        if self.rows.is_none() && !self.follow {
            return Err("user-behavior needs --rows N, unless --follow is given".into());
        }
        check_pool("--items", self.items)?;
        check_pool("--users", self.users)?;
        check_pool("--categories", self.categories)?;
        if self.items < self.categories {
            return Err(format!(
                "--items ({}) must be at least --categories ({}), so that no category is empty",
                self.items, self.categories
            ));
        }
        if !(0.0..=1.0).contains(&self.bogus_rate) {
            return Err(format!(
                "--bogus-rate must be a fraction between 0 and 1, not {}",
                self.bogus_rate
            ));
        }
        let per_cat = self.items / self.categories;
        Ok(Plan {
            rows: self.rows,
            follow: self.follow,
            seed: self.seed,
            rate: self.rate,
            start: self.start,
            bogus_rate: self.bogus_rate,
            cats: self.categories,
            rem: self.items % self.categories,
            cat_zipf: Zipf::new(self.categories, self.zipf)?,
            big: Zipf::new(per_cat + 1, self.zipf)?,
            small: Zipf::new(per_cat, self.zipf)?,
            user_zipf: Zipf::new(self.users, self.user_zipf)?,
            item_ids: Scatter::new(self.items, 0, 0x1753),
            cat_ids: Scatter::new(self.categories, 0, 0x3a7f),
            user_ids: Scatter::new(self.users, 0, 0x5c21),
            rng: rng(self.seed, 0),
            jitter: Jitter::new(self.seed, self.disorder.as_secs()),
        })
    }
}

/// Items and categories are ranks underneath: category rank `c` holds the item ranks
/// `c, c + cats, c + 2 cats, ...` (within-category rank `k` is item rank `k * cats + c`), so
/// an item's category is arithmetic, and a popular category's popular items are globally popular.
pub(super) struct Plan {
    rows: Option<u64>,
    follow: bool,
    seed: u64,
    rate: f64,
    start: u64,
    bogus_rate: f64,
    cats: u64,
    /// Categories `0..rem` hold one item more than the others.
    rem: u64,
    cat_zipf: Zipf,
    big: Zipf,
    small: Zipf,
    user_zipf: Zipf,
    item_ids: Scatter,
    cat_ids: Scatter,
    user_ids: Scatter,
    rng: ChaCha8Rng,
    jitter: Jitter,
}

#[derive(Clone, Copy)]
struct Session {
    user: u64,
    cat: u64,
    /// Item ids viewed in this session (a ring of the last four): carts, favs and buys pick one.
    seen: [u64; 4],
    n_seen: usize,
}

impl Plan {
    fn item(&mut self, cat: u64) -> u64 {
        let within = if cat < self.rem {
            &self.big
        } else {
            &self.small
        };
        let k = within.rank(&mut self.rng);
        self.item_ids.id(k * self.cats + cat)
    }

    /// A user's 1-3 favourite categories are a function of (seed, user); the session takes one of
    /// them, or, now and then, any category.
    fn session(&mut self) -> Session {
        let user = self.user_zipf.rank(&mut self.rng);
        let cat = if self.rng.random::<f64>() < LOYALTY {
            let mut traits = Trait::of(self.seed, 0xfa70, user);
            let favourites = traits.random_range(1..=3);
            let chosen = self.rng.random_range(0..favourites);
            let mut cat = 0;
            for _ in 0..=chosen {
                cat = self.cat_zipf.rank(&mut traits);
            }
            cat
        } else {
            self.cat_zipf.rank(&mut self.rng)
        };
        Session {
            user: self.user_ids.id(user),
            cat,
            seen: [0; 4],
            n_seen: 0,
        }
    }

    fn timestamp(&mut self, base: u64) -> u64 {
        if self.bogus_rate > 0.0 && self.jitter.rng.random::<f64>() < self.bogus_rate {
            let r = &mut self.jitter.rng;
            return if r.random() {
                r.random_range(0..86_400)
            } else {
                YEAR_2037 + r.random_range(0..31_536_000)
            };
        }
        self.jitter.apply(base)
    }

    pub(super) fn write<W: Write>(&mut self, out: &mut Sink<W>) -> Result<(), Fail> {
        let mut sessions: Vec<Session> = (0..SESSIONS).map(|_| self.session()).collect();
        if self.follow {
            return follow(out, self.rows, self.rate, |out, i, wall_ms| {
                self.row(out, &mut sessions, i, wall_ms / 1000)
            });
        }
        for i in 0..self.rows.unwrap_or(u64::MAX) {
            self.row(out, &mut sessions, i, self.start)?;
        }
        Ok(())
    }

    /// Row `i`, at `rate` rows a second of event time from `start` (epoch seconds).
    fn row<W: Write>(
        &mut self,
        out: &mut Sink<W>,
        sessions: &mut [Session],
        i: u64,
        start: u64,
    ) -> Result<(), Fail> {
        let slot = self.rng.random_range(0..SESSIONS);
        let mut s = sessions[slot];
        let behavior = super::draw::pick(&mut self.rng, &MIX);
        let item = if behavior == "pv" || s.n_seen == 0 {
            let item = self.item(s.cat);
            s.seen[s.n_seen % 4] = item;
            s.n_seen += 1;
            item
        } else {
            s.seen[self.rng.random_range(0..s.n_seen.min(4))]
        };
        sessions[slot] = if self.rng.random::<f64>() < SESSION_END {
            self.session()
        } else {
            s
        };
        let ts = self.timestamp(base_time(start, i, self.rate));
        out.num(s.user)
            .text(",")
            .num(item)
            .text(",")
            .num(self.cat_ids.id(s.cat));
        out.text(",").text(behavior).text(",").num(ts).end()
    }
}
