//! tx-match: payments against the payment channel's receipts (the tutorial's TxMatch /
//! TxMatchByJoin).
//!
//! Business rule, per txId, where its earliest pay `p` (an `OrderLog.csv` pay) and its earliest
//! receipt `r` (`ReceiptLog.csv`) decide:
//! - `matched`: `p - 3 s <= r <= p + 5 s` (both bounds flags, inclusive), reported at `max(p, r)`;
//! - `unmatched_pay`: no such receipt, reported at `p + 5 s`;
//! - `unmatched_receipt`: no such pay, reported at `r + 3 s`.
//!
//! The two inputs have their own watermarks (out-of-orderness 0, as the tutorial's ascending
//! timestamps); the job's frontier is their minimum, and a finished input no longer holds it back.
//! Further pays and receipts of a txId within the retention are counted on stderr, not reported.
//!
//! The tutorial connected the two streams and kept the unmatched side in state until an
//! event-time timer 5 s (pay) or 3 s (receipt) later; its other version is an interval join:
//!
//! ```scala
//! orderStream.intervalJoin(receiptStream).between(Time.seconds(-3), Time.seconds(5))
//! ```
//!
//! The tutorial's run matched 38 of the sample's 40 pays only because its wall-clock watermarks
//! never fired during the run: in event time most sample receipts come more than 3 s before their
//! pay. Per txId, a small state machine in event time ([`keyed_process`]): its earliest pays and
//! receipts wait for each other until their bounds have passed, and the txId is forgotten once the
//! retention has passed its last event.

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, OutOfOrderness, OutputArgs, duration_ms};
use crate::engine::input::event_time::Lateness;
use crate::engine::output::Output;
use crate::engine::operators::patterns::{Seq, Token, tally};
use crate::engine::operators::process::{Emit, KeyedProcess, Next, keyed_process};
use crate::engine::input::records::{OrderEvent, OrderKind, ReceiptEvent};
use crate::engine::runner;
use crate::engine::sink::{self, AppendReport};

/// The outcomes, as `--only` names them.
pub const OUTCOMES: [&str; 3] = ["matched", "unmatched_pay", "unmatched_receipt"];

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<OrderEvent as Record>::NAME, <ReceiptEvent as Record>::NAME];

/// tx-match's event time: in-order inputs.
type EventTime = OutOfOrderness;

/// Pays matched against payment receipts by txId, within bounds (the tutorial's TxMatch).
///
/// The earliest pay p and receipt r of a txId match when p - before <= r <= p + after
/// (inclusive), reported at max(p, r); otherwise `unmatched_pay` at p + after and
/// `unmatched_receipt` at r + before. Each input has its own watermark; the job's is their
/// minimum. Decided in event time: on the sample most receipts come more than 3 s before
/// their pay (try --receipt-before 30m).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// OrderLog csv (`orderId,create|pay,txId,ts`; pays with a txId are used), or `-`.
    pub orders: String,
    /// ReceiptLog csv (`txId,payChannel,ts`), or `-`.
    pub receipts: String,
    /// How long before its pay a receipt still matches (inclusive).
    #[arg(long, default_value = "3s", value_parser = duration_ms)]
    pub receipt_before: u64,
    /// How long after its pay a receipt still matches (inclusive).
    #[arg(long, default_value = "5s", value_parser = duration_ms)]
    pub receipt_after: u64,
    /// How long the earliest pay (receipt) of a txId is remembered: a later one is counted, not
    /// matched; one after that starts the txId anew.
    #[arg(long, default_value = "24h", value_parser = duration_ms)]
    pub retention: u64,
    #[command(flatten)]
    pub time: EventTime,
    /// Print only these outcomes (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = OUTCOMES)]
    pub only: Option<Vec<String>>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
enum Outcome {
    Matched,
    UnmatchedPay,
    UnmatchedReceipt,
}

/// A pay: its order. A receipt: its payment channel.
type Pay = Seq<u64>;
type Receipt = Seq<Token>;

/// One decided outcome of a txId.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
struct Decided {
    tx_id: Token,
    outcome: Outcome,
    pay: Option<Pay>,
    receipt: Option<Receipt>,
    decided_at: u64,
}

/// One event of a txId: a pay (its order) or a receipt (its payment channel).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
enum Side {
    Pay(u64),
    Receipt(Token),
}

/// One txId's state machine; each step emits `Some(outcome)`, or `None` for a pay or receipt
/// that is not its txId's earliest (counted, not reported).
struct Txs {
    before: u64,
    after: u64,
    retention: u64,
}

/// What a txId remembers: the times of its latest pay and receipt (an event is the earliest
/// unless one of its side came within the retention before it), and its earliest pay and
/// receipt while a match is possible (a pay until `+ after`, a receipt until `+ before`), each
/// with whether it matched. One of each at most: an earliest event comes more than the
/// retention (at least `after` and `before`) after the one before it, whose wait has ended by
/// then; so no allocation per txId.
#[derive(Default)]
struct TxState {
    last_pay: Option<u64>,
    last_receipt: Option<u64>,
    pay: Option<(Pay, bool)>,
    receipt: Option<(Receipt, bool)>,
}

impl KeyedProcess for Txs {
    type Key = Token;
    type Event = Side;
    type State = TxState;
    type Out = Option<Decided>;

    fn step(
        &mut self,
        tx_id: &Token,
        s: &mut TxState,
        time: u64,
        events: &[Seq<Side>],
        out: &mut Emit<Option<Decided>>,
    ) -> Next {
        let retention = self.retention;
        let earliest = |last: &mut Option<u64>| {
            let first = last.is_none_or(|l| l + retention < time);
            *last = Some(time);
            first
        };
        let decided = |outcome, pay: Option<&Pay>, receipt: Option<&Receipt>| {
            Some(Decided {
                tx_id: tx_id.clone(),
                outcome,
                pay: pay.cloned(),
                receipt: receipt.cloned(),
                decided_at: time,
            })
        };
        // Each earliest event matches the earliest event of the other side if it is still
        // waiting: their times fit the bounds exactly when both are waiting at once.
        for event in events {
            let (ts, seq) = (event.ts, event.seq);
            match &event.event {
                Side::Pay(order) => {
                    if !earliest(&mut s.last_pay) {
                        out.push(None);
                        continue;
                    }
                    let pay = Seq { ts, seq, event: *order };
                    let found = s.receipt.as_mut().map(|(receipt, found_pay)| {
                        out.push(decided(Outcome::Matched, Some(&pay), Some(receipt)));
                        *found_pay = true;
                    });
                    debug_assert!(s.pay.is_none(), "one waiting pay at most");
                    s.pay = Some((pay, found.is_some()));
                }
                Side::Receipt(channel) => {
                    if !earliest(&mut s.last_receipt) {
                        out.push(None);
                        continue;
                    }
                    let receipt = Seq { ts, seq, event: channel.clone() };
                    let found = s.pay.as_mut().map(|(pay, found_receipt)| {
                        out.push(decided(Outcome::Matched, Some(pay), Some(&receipt)));
                        *found_receipt = true;
                    });
                    debug_assert!(s.receipt.is_none(), "one waiting receipt at most");
                    s.receipt = Some((receipt, found.is_some()));
                }
            }
        }
        // Those whose wait ends now, unmatched or not.
        let (before, after) = (self.before, self.after);
        if let Some((pay, found)) = s.pay.take_if(|(pay, _)| pay.ts + after <= time)
            && !found
        {
            out.push(decided(Outcome::UnmatchedPay, Some(&pay), None));
        }
        if let Some((receipt, found)) = s.receipt.take_if(|(r, _)| r.ts + before <= time)
            && !found
        {
            out.push(decided(Outcome::UnmatchedReceipt, None, Some(&receipt)));
        }
        let waits = s.pay.iter().map(|(p, _)| p.ts + after);
        let waits = waits.chain(s.receipt.iter().map(|(r, _)| r.ts + before));
        let last = s.last_pay.max(s.last_receipt).expect("a txId has an event");
        waits.min().map_or(Next::Idle { until: last + retention + 1 }, Next::At)
    }
}

/// One row of the output; empty cells where a column does not apply to the outcome.
#[derive(Serialize)]
pub struct TxRow {
    pub tx_id: String,
    pub outcome: &'static str,
    pub order_id: Option<u64>,
    pub pay_ts: Option<u64>,
    pub pay_channel: Option<String>,
    pub receipt_ts: Option<u64>,
    pub emitted_at: u64,
}

struct Report;

impl AppendReport for Report {
    type Value = Decided;
    type Row = TxRow;
    fn outcome(&self, row: &Decided) -> &'static str {
        OUTCOMES[row.outcome as usize]
    }
    fn row(&self, row: &Decided, emitted_at: u64) -> TxRow {
        TxRow {
            tx_id: row.tx_id.to_string(),
            outcome: self.outcome(row),
            order_id: row.pay.as_ref().map(|p| p.event),
            pay_ts: row.pay.as_ref().map(|p| p.ts),
            pay_channel: row.receipt.as_ref().map(|r| r.event.to_string()),
            receipt_ts: row.receipt.as_ref().map(|r| r.ts),
            emitted_at,
        }
    }
    fn text(&self, out: &Output, row: &Decided, _: u64) -> String {
        let pay = |p: &Pay| format!("pay of order {} at {}", p.event, out.time(p.ts));
        let receipt = |r: &Receipt| format!("{} receipt at {}", r.event, out.time(r.ts));
        let what = match (&row.pay, &row.receipt) {
            (Some(p), Some(r)) => format!("matched: {}, {}", pay(p), receipt(r)),
            (Some(p), None) => format!("unmatched pay: {}", pay(p)),
            (None, Some(r)) => format!("unmatched receipt: {}", receipt(r)),
            (None, None) => unreachable!("a row has a pay or a receipt"),
        };
        format!("tx {}: {what}", row.tx_id)
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let (before, after) = (args.receipt_before, args.receipt_after);
    let (retention, out_of_orderness) = (args.retention, args.time.out_of_orderness);
    if retention < before.max(after) {
        return Err("--retention must be at least --receipt-before and --receipt-after".into());
    }
    let only = args.only.clone();
    let inputs = [args.orders.clone(), args.receipts.clone()];

    runner::execute(&inputs, &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let reports = output.is_some();
        let only = only.clone();
        let (pay_input, receipt_input, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (pay_input, pays) = scope.new_collection::<(Token, Seq<Side>), isize>();
            let (receipt_input, receipts) = scope.new_collection::<(Token, Seq<Side>), isize>();
            let steps = keyed_process(pays.concat(receipts), "TxMatch/txs", Txs { before, after, retention });
            let results = steps.clone().flat_map(|step| step);
            let further = steps.filter(Option::is_none);
            let probe = sink::append(results, "TxMatch/sink", Report, only, output);
            tally(further, "TxMatch/further", reports, &probe, |n| {
                (n > 0).then(|| format!("tx-match: {n} further pays or receipts of a txId (not the earliest) counted, not reported"))
            });
            (pay_input, receipt_input, probe)
        });
        // As order-timeout's orders: the earliest pay and receipt are decided within the
        // retention, and a replay that starts mid-chain agrees after two retentions and bounds.
        ctx.state_reaches_back(2 * retention + before + after);
        ctx.feed_with_origin(
            0,
            pay_input,
            out_of_orderness,
            Lateness::Strict,
            |o: &OrderEvent| o.kind == OrderKind::Pay && !o.tx_id.is_empty(),
            move |o, t, origin| ((Token::new(&o.tx_id), Seq::at(t, origin, Side::Pay(o.order_id))), t),
        );
        ctx.feed_with_origin(
            1,
            receipt_input,
            out_of_orderness,
            Lateness::Strict,
            |_: &ReceiptEvent| true,
            move |r, t, origin| {
                (
                    (
                        Token::new(&r.tx_id),
                        Seq::at(t, origin, Side::Receipt(Token::new(&r.pay_channel))),
                    ),
                    t,
                )
            },
        );
        probe
    })
}
