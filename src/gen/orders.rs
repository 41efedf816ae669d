//! Orders like `OrderLog.csv` and their payment receipts like `ReceiptLog.csv`, with every case
//! order-timeout and tx-match must tell apart: paid in time, paid late, never paid, paid without a
//! create, receipts early, late, missing, and receipts for no pay.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::draw::{Jitter, base_time, check_rate, pick, rng};
use super::sink::{Fail, Sink};

/// Order events in the tutorial's `OrderLog.csv` format, and optionally their receipts.
#[derive(clap::Args, Debug)]
pub struct OrdersGen {
    /// Number of order-file rows to write (creates and pays together).
    #[arg(long)]
    pub rows: u64,
    /// Seed of the random streams: the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file for the orders [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the payment receipts (`txId,payChannel,ts`, in time order) to this file, for
    /// tx-match; without it they are computed the same way and dropped.
    #[arg(long, value_name = "FILE")]
    pub receipts: Option<PathBuf>,
    /// New orders per second of event time.
    #[arg(long, default_value_t = 0.5)]
    pub rate: f64,
    /// Event time of the first order, epoch seconds (default: the sample's first).
    #[arg(long, default_value_t = 1_558_430_842)]
    pub start: u64,
    /// Moves each order-file timestamp back by up to this much (uniformly); receipts stay in order.
    #[arg(long, value_name = "DUR", default_value = "0s", value_parser = super::draw::parse_duration)]
    pub disorder: Duration,
}

/// The order-timeout deadline the pay delays are drawn around.
const DEADLINE: u64 = 15 * 60;
/// What becomes of an order, by share.
const FATE: [(f64, Fate); 4] = [
    (0.80, Fate::OnTime),
    (0.05, Fate::Late),
    (0.13, Fate::Unpaid),
    (0.02, Fate::PayOnly),
];
/// Share of pays without a receipt, and of orders that bring a receipt for no pay.
const NO_RECEIPT: f64 = 0.05;
const STRAY_RECEIPT: f64 = 0.01;
/// A receipt arrives this many seconds before (negative) or after its pay: beyond tx-match's
/// -3 s..+5 s on both sides, so both unmatched outcomes occur.
const RECEIPT_OFFSET: std::ops::RangeInclusive<i64> = -5..=10;
const CHANNELS: [(f64, &str); 2] = [(0.55, "wechat"), (0.45, "alipay")];
const FIRST_ORDER: u64 = 34_729;

#[derive(Clone, Copy, PartialEq)]
enum Fate {
    OnTime,
    Late,
    Unpaid,
    PayOnly,
}

impl OrdersGen {
    pub(super) fn plan(&self) -> Result<Plan, String> {
        check_rate(self.rate)?;
        Ok(Plan {
            rows: self.rows,
            rate: self.rate,
            start: self.start,
            rng: rng(self.seed, 0),
            receipt_rng: rng(self.seed, 2),
            jitter: Jitter::new(self.seed, self.disorder.as_secs()),
            orders: BinaryHeap::new(),
            receipts: BinaryHeap::new(),
            seq: 0,
            tx: 0,
        })
    }
}

pub(super) struct Plan {
    rows: u64,
    rate: f64,
    start: u64,
    rng: ChaCha8Rng,
    receipt_rng: ChaCha8Rng,
    jitter: Jitter,
    /// (time, seq, order id, tx number; 0 for a create).
    orders: BinaryHeap<Reverse<(u64, u64, u64, u64)>>,
    /// (time, seq, tx number, channel).
    receipts: BinaryHeap<Reverse<(u64, u64, u64, &'static str)>>,
    seq: u64,
    tx: u64,
}

/// A short, unique, random-looking transaction id: the tx number through a bijection of
/// `0..2^45`, in 9 base-36 digits (36^9 > 2^45).
fn tx_id(n: u64) -> [u8; 9] {
    let mask = (1u64 << 45) - 1;
    let mut x = n.wrapping_mul(0x5DEE_CE66_D1CE_4E5B) & mask;
    x ^= x >> 23;
    x = x.wrapping_mul(0x2545_F491_4F6C_DD1D) & mask;
    let mut id = [0u8; 9];
    for c in id.iter_mut().rev() {
        *c = b"0123456789abcdefghijklmnopqrstuvwxyz"[(x % 36) as usize];
        x /= 36;
    }
    id
}

impl Plan {
    fn next_tx(&mut self) -> u64 {
        self.tx += 1;
        self.tx
    }

    fn order_event(&mut self, time: u64, order: u64, tx: u64) {
        self.seq += 1;
        self.orders.push(Reverse((time, self.seq, order, tx)));
    }

    fn receipt(&mut self, time: u64, tx: u64) {
        self.seq += 1;
        let channel = pick(&mut self.receipt_rng, &CHANNELS);
        self.receipts.push(Reverse((time, self.seq, tx, channel)));
    }

    /// Writes receipts up to `until`: no receipt learnt later can be earlier than the last order
    /// event minus 5 s, so the receipts file stays in time order.
    fn write_receipts<R: Write>(&mut self, receipts: &mut Sink<R>, until: u64) -> Result<(), Fail> {
        while let Some(&Reverse((t, _, tx, channel))) = self.receipts.peek() {
            if t > until {
                break;
            }
            self.receipts.pop();
            receipts.buf.extend_from_slice(&tx_id(tx));
            receipts.text(",").text(channel).text(",").num(t).end()?;
        }
        Ok(())
    }

    pub(super) fn write<W: Write, R: Write>(
        &mut self,
        out: &mut Sink<W>,
        receipts: &mut Sink<R>,
    ) -> Result<(), Fail> {
        let mut written = 0;
        let mut order = FIRST_ORDER;
        let mut i = 0;
        'births: while written < self.rows {
            let born = base_time(self.start, i, self.rate);
            i += 1;
            match pick(&mut self.rng, &FATE) {
                Fate::PayOnly => {
                    let tx = self.next_tx();
                    self.order_event(born, order, tx);
                }
                fate => {
                    self.order_event(born, order, 0);
                    let delay = match fate {
                        Fate::OnTime => {
                            Some((self.rng.random::<f64>().powi(2) * DEADLINE as f64) as u64)
                        }
                        Fate::Late => Some(self.rng.random_range(DEADLINE + 1..=4 * DEADLINE)),
                        _ => None,
                    };
                    if let Some(delay) = delay {
                        let tx = self.next_tx();
                        self.order_event(born + delay, order, tx);
                    }
                }
            }
            order += 1;
            if self.receipt_rng.random::<f64>() < STRAY_RECEIPT {
                let tx = self.next_tx();
                let at = born + self.receipt_rng.random_range(0..=10);
                self.receipt(at, tx);
            }
            while let Some(&Reverse((t, _, id, tx))) = self.orders.peek() {
                if t > born {
                    break;
                }
                self.orders.pop();
                let ts = self.jitter.apply(t);
                if tx == 0 {
                    out.num(id).text(",create,,").num(ts).end()?;
                } else {
                    out.num(id).text(",pay,");
                    out.buf.extend_from_slice(&tx_id(tx));
                    out.text(",").num(ts).end()?;
                    if self.receipt_rng.random::<f64>() >= NO_RECEIPT {
                        let offset = self.receipt_rng.random_range(RECEIPT_OFFSET);
                        self.receipt(t.saturating_add_signed(offset), tx);
                    }
                }
                self.write_receipts(receipts, t.saturating_sub(5))?;
                written += 1;
                if written == self.rows {
                    break 'births;
                }
            }
        }
        self.write_receipts(receipts, u64::MAX)
    }
}
