//! App-marketing events: the tutorial fed app-marketing from an unseeded random source on the wall
//! clock; this one is seeded, and can still play live (`--follow`) for a streaming demo.

use std::io::Write;
use std::path::PathBuf;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{check_pool, check_rate, pick, rng};
use super::sink::{Fail, Sink, follow};

/// App-marketing events `userId,behavior,channel,ts` with `ts` in epoch milliseconds.
#[derive(clap::Args, Debug)]
pub struct MarketingGen {
    /// Number of rows to write; required unless --follow, which otherwise runs until interrupted.
    #[arg(long)]
    pub rows: Option<u64>,
    /// Seed of the random streams: the same arguments always give the same rows (with
    /// --follow, the same rows at different times).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file, or a Kafka topic (`kafka://HOST:PORT/TOPIC`, one record a row) [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Events per second: timestamps are 1000/rate ms apart (the tutorial's source made about 50).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Event time of the first row, epoch milliseconds (ignored with --follow).
    #[arg(long, default_value_t = 1_511_658_000_000)]
    pub start: u64,
    /// Number of users.
    #[arg(long, default_value_t = 100_000)]
    pub users: u64,
    /// Writes each row when its time comes on the wall clock, stamped with that time, and flushes
    /// at once, so that a job reading a pipe sees a live stream.
    #[arg(long)]
    pub follow: bool,
}

const BEHAVIORS: [(f64, &str); 4] = [
    (0.55, "CLICK"),
    (0.25, "DOWNLOAD"),
    (0.15, "INSTALL"),
    (0.05, "UNINSTALL"),
];
const CHANNELS: [(f64, &str); 4] = [
    (0.30, "AppStore"),
    (0.25, "HuaweiStore"),
    (0.25, "wechat"),
    (0.20, "weibo"),
];

impl MarketingGen {
    pub(super) fn plan(&self) -> Result<Plan, String> {
        check_rate(self.rate)?;
        check_pool("--users", self.users)?;
        if self.rows.is_none() && !self.follow {
            return Err("marketing needs --rows N, unless --follow is given".into());
        }
        Ok(Plan {
            rng: rng(self.seed, 0),
            rows: self.rows,
            rate: self.rate,
            start: self.start,
            users: self.users,
            follow: self.follow,
        })
    }
}

pub(super) struct Plan {
    rng: ChaCha8Rng,
    rows: Option<u64>,
    rate: f64,
    start: u64,
    users: u64,
    follow: bool,
}

impl Plan {
    fn row<W: Write>(&mut self, out: &mut Sink<W>, i: u64, start: u64) -> Result<(), Fail> {
        let user = self.rng.random_range(1..=self.users);
        let behavior = pick(&mut self.rng, &BEHAVIORS);
        let channel = pick(&mut self.rng, &CHANNELS);
        let ts = start.saturating_add((i as f64 * 1000.0 / self.rate) as u64);
        out.num(user)
            .text(",")
            .text(behavior)
            .text(",")
            .text(channel)
            .text(",")
            .num(ts)
            .end()
    }

    pub(super) fn write<W: Write>(&mut self, out: &mut Sink<W>) -> Result<(), Fail> {
        if self.follow {
            return follow(out, self.rows, self.rate, |out, i, wall_ms| {
                self.row(out, i, wall_ms)
            });
        }
        for i in 0..self.rows.unwrap_or(u64::MAX) {
            self.row(out, i, self.start)?;
        }
        Ok(())
    }
}
