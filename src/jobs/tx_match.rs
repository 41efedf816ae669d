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
//! pay. Differentially: a pay is visible for 5 s, a receipt for 3 s; they match when both are
//! visible at once; a pay (receipt) delayed by 5 s (3 s), antijoined against the matched txIds,
//! is unmatched.

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::records::Record;
use crate::engine::failure::Failure;
use crate::engine::options::{ClusterArgs, OutputArgs, duration_ms};
use crate::engine::event_time::Lateness;
use crate::engine::output::Output;
use crate::engine::patterns::{Patterns, Seq, Token, tally};
use crate::engine::records::{OrderEvent, OrderKind, ReceiptEvent};
use crate::engine::runner;
use crate::engine::sink::{self, AppendReport};
use crate::engine::temporal::Temporal;

/// The outcomes, as `--only` names them.
pub const OUTCOMES: [&str; 3] = ["matched", "unmatched_pay", "unmatched_receipt"];

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<OrderEvent as Record>::NAME, <ReceiptEvent as Record>::NAME];

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
    /// Bounded out-of-orderness of each input: its watermark trails its latest time by this much.
    #[arg(long, default_value = "0", value_parser = duration_ms)]
    pub out_of_orderness: u64,
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
    let (retention, out_of_orderness) = (args.retention, args.out_of_orderness);
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
            let (pay_input, all_pays) = scope.new_collection::<(Token, Pay), isize>();
            let (receipt_input, all_receipts) = scope.new_collection::<(Token, Receipt), isize>();
            let pays = all_pays.clone().firsts(retention, "TxMatch/first-pay");
            let receipts = all_receipts.clone().firsts(retention, "TxMatch/first-receipt");
            let further = all_pays.concat(pays.clone().negate()).map(|_| ()).concat(
                all_receipts.concat(receipts.clone().negate()).map(|_| ()),
            );

            // Both visible at once: the receipt is within [p - before, p + after].
            let matched = pays.clone().visible_for(after).join_map(
                receipts.clone().visible_for(before),
                |tx, p, r| (tx.clone(), p.clone(), r.clone()),
            );
            let matched = matched.decided(move |(_, p, r)| (p.ts + after).min(r.ts + before) + 1);
            // A match is known until both sides' deadlines have passed.
            let settled = matched.clone().visible_until(move |(_, p, r)| (p.ts + after).max(r.ts + before) + 1)
                .map(|(tx, _, _)| tx)
                .arrange_by_self_named("TxMatch/settled");
            let unmatched_pays = pays.delayed(after).absent(&settled).map(move |(tx_id, p)| Decided {
                tx_id,
                outcome: Outcome::UnmatchedPay,
                decided_at: p.ts + after,
                pay: Some(p),
                receipt: None,
            });
            let unmatched_receipts = receipts.delayed(before).absent(&settled).map(move |(tx_id, r)| Decided {
                tx_id,
                outcome: Outcome::UnmatchedReceipt,
                decided_at: r.ts + before,
                pay: None,
                receipt: Some(r),
            });
            let matched = matched.map(|(tx_id, p, r)| Decided {
                tx_id,
                outcome: Outcome::Matched,
                decided_at: p.ts.max(r.ts),
                pay: Some(p),
                receipt: Some(r),
            });

            let unmatched = unmatched_pays.concat(unmatched_receipts).decided(|row| row.decided_at + 1);
            let probe = sink::append(matched.concat(unmatched), "TxMatch/sink", Report, only, output);
            tally(further, "TxMatch/further", reports, &probe, |n| {
                (n > 0).then(|| format!("tx-match: {n} further pays or receipts of a txId (not the earliest) counted, not reported"))
            });
            (pay_input, receipt_input, probe)
        });
        ctx.feed_with_origin(
            0,
            pay_input,
            out_of_orderness,
            Lateness::Strict,
            |o: &OrderEvent| o.kind == OrderKind::Pay && !o.tx_id.is_empty(),
            move |o, t, origin| ((Token::new(&o.tx_id), Seq::at(t, origin, o.order_id)), t),
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
                        Seq::at(t, origin, Token::new(&r.pay_channel)),
                    ),
                    t,
                )
            },
        );
        probe
    })
}
