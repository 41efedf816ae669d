//! parse: reads an input through the same reader as every job and does nothing else.
//!
//! The benchmarks divide a job's throughput by this pass's: it is the cost of reading, parsing,
//! the bogus-time guard, the watermark and the accounting, with an empty dataflow behind them.

use differential_dataflow::input::Input;

use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, OutputArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::input::records::{self, Record};
use crate::engine::runner::{self, Context};

/// The record formats `uba parse` reads.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RecordKind {
    UserBehavior,
    ApacheLog,
    Login,
    Orders,
    Receipts,
    AdClicks,
    Marketing,
}

/// The input formats this job reads: any (it is told which), so it is never the hint.
pub const READS: &[&str] = &[];

/// Reads an input and does nothing else: the parse-only pass the benchmarks compare against.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The input file, or `-` for stdin.
    #[arg(required_unless_present = "inputs", conflicts_with = "inputs")]
    pub input: Option<String>,
    /// The format of its lines.
    #[arg(long, value_enum, default_value_t = RecordKind::UserBehavior)]
    pub record: RecordKind,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let record = args.record;
    runner::execute(
        &[crate::jobs::inputs::named_input(&args.input)],
        &args.cluster,
        &args.output,
        move |worker, ctx| match record {
            RecordKind::UserBehavior => parse_only::<records::UserBehavior>(worker, ctx),
            RecordKind::ApacheLog => parse_only::<records::ApacheLogEvent>(worker, ctx),
            RecordKind::Login => parse_only::<records::LoginEvent>(worker, ctx),
            RecordKind::Orders => parse_only::<records::OrderEvent>(worker, ctx),
            RecordKind::Receipts => parse_only::<records::ReceiptEvent>(worker, ctx),
            RecordKind::AdClicks => parse_only::<records::AdClickEvent>(worker, ctx),
            RecordKind::Marketing => parse_only::<records::MarketingEvent>(worker, ctx),
        },
    )
}

/// Every record is read, then counted as filtered: nothing enters the dataflow.
fn parse_only<R: Record>(
    worker: &mut timely::worker::Worker,
    ctx: &mut Context,
) -> timely::dataflow::ProbeHandle<u64> {
    let (input, probe) = worker.dataflow::<u64, _, _>(|scope| {
        let (input, records) = scope.new_collection::<(), isize>();
        (input, records.probe().0)
    });
    ctx.feed(0, input, 0, Lateness::Strict, |_: &R| false, |_, t| ((), t));
    probe
}
