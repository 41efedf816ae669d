//! Logins like `LoginLog.csv`: ordinary users who now and then mistype and retry, and attackers who
//! fail several times within seconds from changing addresses (what login-fail looks for).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{Jitter, Scatter, Trait, base_time, check_pool, check_rate, random_ip, rng};
use super::sink::{Fail, Sink};

/// Login events in the tutorial's `LoginLog.csv` format.
#[derive(clap::Args, Debug)]
pub struct LoginGen {
    /// Number of rows to write.
    #[arg(long)]
    pub rows: u64,
    /// Seed of the random streams: the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file, or a Kafka topic (`kafka://HOST:PORT/TOPIC`, one record a row) [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Number of users; each logs in from a home address, sometimes from elsewhere.
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// Ordinary logins per second of event time (retries and attacks come on top).
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Event time of the first row, epoch seconds (default: the sample's first).
    #[arg(long, default_value_t = 1_558_430_815)]
    pub start: u64,
    /// Share of ordinary logins that fail; most failures are retried 1-5 s later.
    #[arg(long, default_value_t = 0.08)]
    pub fail_rate: f64,
    /// Share of ordinary logins replaced by an attack: 3-8 failures on one account, 0-2 s
    /// apart, from changing addresses of one /16 network.
    #[arg(long, default_value_t = 0.01)]
    pub attack_rate: f64,
    /// Moves each timestamp back by up to this much (uniformly), to exercise out-of-orderness.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = super::draw::parse_duration)]
    pub disorder: Duration,
}

/// Share of failed ordinary logins that are retried.
const RETRY: f64 = 0.6;

impl LoginGen {
    pub(super) fn plan(&self) -> Result<Plan, String> {
        check_rate(self.rate)?;
        check_pool("--users", self.users)?;
        for (flag, f) in [
            ("--fail-rate", self.fail_rate),
            ("--attack-rate", self.attack_rate),
        ] {
            if !(0.0..=1.0).contains(&f) {
                return Err(format!(
                    "{flag} must be a fraction between 0 and 1, not {f}"
                ));
            }
        }
        Ok(Plan {
            args: LoginGen { out: None, ..*self },
            user_ids: Scatter::new(self.users, 14, 0x10c1),
            rng: rng(self.seed, 0),
            jitter: Jitter::new(self.seed, self.disorder.as_secs()),
            pending: BinaryHeap::new(),
            seq: 0,
        })
    }
}

/// A login scheduled for later: a retry (`attack_left == 0`) from `ip`, or the next failure of
/// an attack from the network `ip`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    time: u64,
    seq: u64,
    user: u64,
    ip: u32,
    attack_left: u8,
}

pub(super) struct Plan {
    args: LoginGen,
    user_ids: Scatter,
    rng: ChaCha8Rng,
    jitter: Jitter,
    pending: BinaryHeap<Reverse<Pending>>,
    seq: u64,
}

impl Plan {
    fn schedule(&mut self, time: u64, user: u64, ip: u32, attack_left: u8) {
        self.seq += 1;
        self.pending.push(Reverse(Pending {
            time,
            seq: self.seq,
            user,
            ip,
            attack_left,
        }));
    }

    /// Emits a login, and schedules a retry if it was an ordinary failure.
    fn login<W: Write>(
        &mut self,
        out: &mut Sink<W>,
        t: u64,
        user: u64,
        ip: u32,
    ) -> Result<(), Fail> {
        let ok = self.rng.random::<f64>() >= self.args.fail_rate;
        if !ok && self.rng.random::<f64>() < RETRY {
            let later = t + self.rng.random_range(1..=5);
            self.schedule(later, user, ip, 0);
        }
        line(out, user, ip, ok, self.jitter.apply(t))
    }

    fn attack<W: Write>(
        &mut self,
        out: &mut Sink<W>,
        t: u64,
        user: u64,
        net: u32,
        left: u8,
    ) -> Result<(), Fail> {
        if left > 1 {
            let next = t + self.rng.random_range(0..=2);
            self.schedule(next, user, net, left - 1);
        }
        let ip = net | self.rng.random_range(1..0xffff);
        line(out, user, ip, false, self.jitter.apply(t))
    }

    pub(super) fn write<W: Write>(&mut self, out: &mut Sink<W>) -> Result<(), Fail> {
        let (mut i, mut written) = (0, 0);
        while written < self.args.rows {
            written += 1;
            let t = base_time(self.args.start, i, self.args.rate);
            if let Some(Reverse(p)) = self.pending.peek()
                && p.time <= t
            {
                let Some(Reverse(p)) = self.pending.pop() else {
                    break;
                };
                if p.attack_left > 0 {
                    self.attack(out, p.time, p.user, p.ip, p.attack_left)?;
                } else {
                    self.login(out, p.time, p.user, p.ip)?;
                }
                continue;
            }
            i += 1;
            let user = self.user_ids.id(self.rng.random_range(0..self.args.users));
            if self.rng.random::<f64>() < self.args.attack_rate {
                let net = super::draw::random_ip(&mut self.rng) & 0xffff_0000;
                let fails = self.rng.random_range(3..=8);
                self.attack(out, t, user, net, fails)?;
            } else {
                let mut home = Trait::of(self.args.seed, 0x4017, user);
                let ip = if self.rng.random::<f64>() < 0.9 {
                    random_ip(&mut home)
                } else {
                    random_ip(&mut self.rng)
                };
                self.login(out, t, user, ip)?;
            }
        }
        Ok(())
    }
}

fn line<W: Write>(out: &mut Sink<W>, user: u64, ip: u32, ok: bool, ts: u64) -> Result<(), Fail> {
    out.num(user)
        .text(",")
        .ip(ip)
        .text(if ok { ",success," } else { ",fail," })
        .num(ts)
        .end()
}
