//! order-timeout: orders not paid within 15 minutes of their creation (the tutorial's
//! OrderTimeout / OrderTimeoutWithoutCep).
//!
//! Business rule, per order, where the earliest create `c` and the earliest pay `p` decide:
//! - `paid`: `c <= p <= c + 15 min`, reported at `p`;
//! - `timeout`: no such pay, reported at `c + 15 min` (`timeout_at`);
//! - `paid_late`: `p > c + 15 min` (the order had already timed out), reported at `p`;
//! - `pay_without_create`: no create at or before `p`, reported at `p` (once the frontier passes
//!   `p`, no such create can arrive any more); also a pay more than `--retention` after its
//!   order's create, whose state is gone by then.
//!
//! Every create gets `paid` or `timeout`, every earliest pay `paid`, `paid_late` or
//! `pay_without_create` (so a pay before its order's create is reported without create, and the
//! create then times out). Further creates and pays of an order are counted on stderr, not
//! reported. Out-of-orderness 0 (the tutorial's ascending timestamps): a record behind the
//! watermark goes to the late side output.
//!
//! The tutorial's CEP pattern:
//!
//! ```scala
//! Pattern.begin[OrderEvent]("begin").where(_.eventType == "create")
//!   .followedBy("follow").where(_.eventType == "pay")
//!   .within(Time.minutes(15))
//! ```
//!
//! Per order, a small state machine in event time ([`keyed_process`]): the times of its latest
//! create and pay decide which events are the earliest, the kept create waits for its pay until
//! its deadline, and the order is forgotten once the retention has passed its last event.

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, OutOfOrderness, OutputArgs, duration_ms};
use crate::engine::input::event_time::Lateness;
use crate::engine::output::Output;
use crate::engine::operators::patterns::{Seq, Token, tally};
use crate::engine::operators::process::{Emit, KeyedProcess, Next, keyed_process};
use crate::engine::input::records::{OrderEvent, OrderKind};
use crate::engine::runner;
use crate::engine::sink::{self, AppendReport};

/// The outcomes, as `--only` names them.
pub const OUTCOMES: [&str; 4] = ["paid", "timeout", "paid_late", "pay_without_create"];

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<OrderEvent as Record>::NAME];

/// order-timeout's event time: in-order input.
type EventTime = OutOfOrderness;

/// Orders paid in time, timed out, paid late, or paid without a create (OrderTimeout).
///
/// The earliest create c and earliest pay p of an order decide: `paid` (c <= p <= c +
/// timeout, at p), `timeout` (at c + timeout), `paid_late` (after the timeout, at p),
/// `pay_without_create` (no create at or before p, or p more than --retention after it).
/// Bounds are inclusive; further events of an order are counted on stderr. Every record
/// behind the watermark goes to the late output.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// OrderLog csv (`orderId,create|pay,txId,ts`), or `-` for stdin.
    #[arg(required_unless_present = "inputs", conflicts_with = "inputs")]
    pub input: Option<String>,
    /// How long after its create an order may be paid (inclusive).
    #[arg(long, default_value = "15m", value_parser = duration_ms)]
    pub timeout: u64,
    /// How long after its create an order's state is kept: a later pay is a pay without create,
    /// and a later create starts the order anew. At least --timeout.
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
    Paid,
    Timeout,
    PaidLate,
    PayWithoutCreate,
}

/// One decided outcome of an order.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
struct Decided {
    order_id: u64,
    outcome: Outcome,
    create: Option<u64>,
    pay: Option<u64>,
    tx_id: Option<Token>,
    timeout_at: Option<u64>,
}

/// One row of the output; empty cells where a column does not apply to the outcome.
#[derive(Serialize)]
pub struct OrderRow {
    pub order_id: u64,
    pub outcome: &'static str,
    pub create_ts: Option<u64>,
    pub pay_ts: Option<u64>,
    pub tx_id: Option<String>,
    pub timeout_at: Option<u64>,
    pub emitted_at: u64,
}

struct Report;

impl AppendReport for Report {
    type Value = Decided;
    type Row = OrderRow;
    fn outcome(&self, row: &Decided) -> &'static str {
        OUTCOMES[row.outcome as usize]
    }
    fn row(&self, row: &Decided, emitted_at: u64) -> OrderRow {
        OrderRow {
            order_id: row.order_id,
            outcome: self.outcome(row),
            create_ts: row.create,
            pay_ts: row.pay,
            tx_id: row.tx_id.as_ref().map(|t| t.to_string()),
            timeout_at: row.timeout_at,
            emitted_at,
        }
    }
    fn text(&self, out: &Output, row: &Decided, _: u64) -> String {
        let time = |t: Option<u64>| t.map(|t| out.time(t)).unwrap_or_default();
        let tx = row.tx_id.as_ref().map(Token::as_str).unwrap_or_default();
        let what = match row.outcome {
            Outcome::Paid => format!(
                "paid at {} (created {}, tx {tx})",
                time(row.pay),
                time(row.create)
            ),
            Outcome::Timeout => format!(
                "timeout at {} (created {})",
                time(row.timeout_at),
                time(row.create)
            ),
            Outcome::PaidLate => format!(
                "paid late at {} (created {}, timed out {}, tx {tx})",
                time(row.pay),
                time(row.create),
                time(row.timeout_at)
            ),
            Outcome::PayWithoutCreate => {
                format!("pay without create at {} (tx {tx})", time(row.pay))
            }
        };
        format!("order {}: {what}", row.order_id)
    }
}

type Order = Seq<(OrderKind, Token)>;

/// One order's state machine; each step emits `Some(outcome)`, or `None` for a create or pay that
/// is not its order's earliest (counted, not reported).
struct Orders {
    timeout: u64,
    retention: u64,
}

/// What an order remembers: the times of its latest create and pay (an event is the earliest
/// unless one of its kind came within the retention before it), and its kept create.
#[derive(Default)]
struct OrderState {
    last_create: Option<u64>,
    last_pay: Option<u64>,
    /// The earliest create: a pay within the retention after it finds it.
    kept: Option<u64>,
    /// Whether the kept create waits for its pay (a timeout at `kept + timeout`).
    waiting: bool,
}

impl KeyedProcess for Orders {
    type Key = u64;
    type Event = (OrderKind, Token);
    type State = OrderState;
    type Out = Option<Decided>;

    fn step(
        &mut self,
        &order_id: &u64,
        s: &mut OrderState,
        time: u64,
        events: &[Order],
        out: &mut Emit<Option<Decided>>,
    ) -> Next {
        let earliest = |last: &mut Option<u64>| {
            let first = last.is_none_or(|l| l + self.retention < time);
            *last = Some(time);
            first
        };
        // A create and a pay of the same time find each other, whatever their lines' order.
        for _ in events.iter().filter(|e| e.event.0 == OrderKind::Create) {
            if earliest(&mut s.last_create) {
                (s.kept, s.waiting) = (Some(time), true);
            } else {
                out.push(None);
            }
        }
        for pay in events.iter().filter(|e| e.event.0 == OrderKind::Pay) {
            if !earliest(&mut s.last_pay) {
                out.push(None);
                continue;
            }
            let tx_id = Some(pay.event.1.clone());
            let decided = match s.kept.filter(|&c| time <= c + self.retention) {
                Some(c) if time <= c + self.timeout => {
                    s.waiting = false;
                    Decided { order_id, outcome: Outcome::Paid, create: Some(c), pay: Some(time), tx_id, timeout_at: None }
                }
                Some(c) => Decided { order_id, outcome: Outcome::PaidLate, create: Some(c), pay: Some(time), tx_id, timeout_at: Some(c + self.timeout) },
                None => Decided { order_id, outcome: Outcome::PayWithoutCreate, create: None, pay: Some(time), tx_id, timeout_at: None },
            };
            out.push(Some(decided));
        }
        if let Some(c) = s.kept.filter(|&c| s.waiting && c + self.timeout <= time) {
            s.waiting = false;
            let timeout_at = Some(c + self.timeout);
            out.push(Some(Decided { order_id, outcome: Outcome::Timeout, create: Some(c), pay: None, tx_id: None, timeout_at }));
        }
        match s.kept {
            Some(c) if s.waiting => Next::At(c + self.timeout),
            _ => {
                let last = s.last_create.max(s.last_pay).expect("an order has an event");
                Next::Idle { until: last + self.retention + 1 }
            }
        }
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.retention < args.timeout {
        return Err("--retention must be at least --timeout".into());
    }
    let (timeout, retention, out_of_orderness) =
        (args.timeout, args.retention, args.time.out_of_orderness);
    let only = args.only.clone();

    runner::execute(
        &[crate::jobs::inputs::named_input(&args.input)],
        &args.cluster,
        &args.output,
        move |worker, ctx| {
            let output = ctx.output();
            let reports = output.is_some();
            let only = only.clone();
            let (orders, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (input, events) = scope.new_collection::<(u64, Order), isize>();
                let steps = keyed_process(events, "OrderTimeout/orders", Orders { timeout, retention });
                let results = steps.clone().flat_map(|step| step);
                let further = steps.filter(Option::is_none);
                let probe = sink::append(results, "OrderTimeout/sink", Report, only, output);
                tally(further, "OrderTimeout/further", reports, &probe, |n| {
                    (n > 0).then(|| format!("order-timeout: {n} further creates or pays of orders (not the earliest) counted, not reported"))
                });
                (input, probe)
            });
            // Whether a create or pay is its order's earliest depends on the one before within the
            // retention, and that one's on its own: a replay that starts mid-chain decides its
            // first event anew, which differs only until two retentions have passed it.
            ctx.state_reaches_back(2 * retention);
            ctx.feed_with_origin(
                0,
                orders,
                out_of_orderness,
                Lateness::Strict,
                |_: &OrderEvent| true,
                move |o, t, origin| {
                    (
                        (
                            o.order_id,
                            Seq::at(t, origin, (o.kind, Token::new(&o.tx_id))),
                        ),
                        t,
                    )
                },
            );
            probe
        },
    )
}
