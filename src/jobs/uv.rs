//! uv: distinct visitors per tumbling window (the tutorial's NetworkFlowAnalysis / UniqueVisitor
//! and UvWithBloom).
//!
//! Business rule: count the distinct `userId`s of the `pv` rows of `UserBehavior.csv` in each 1 h
//! window, exactly or approximately. The tutorial collected each window's users into a Scala
//! `Set` (exact), then, for a day of 10^8 rows, kept a 2^29-bit Redis bitmap per window and
//! counted a user when its one bit was not set yet:
//!
//! ```scala
//! dataStream.filter(_.behavior == "pv")
//!   .map(data => ("dummyKey", data.userId))
//!   .keyBy(_._1)
//!   .timeWindow(Time.hours(1))
//!   .trigger(new MyTrigger())          // fire and purge on every element
//!   .process(new UvCountWithBloom())   // bitmap in Redis, count += 1 when the bit was 0
//! ```
//!
//! Ours: `exact` is a distinct count in the dataflow (the arrangement is the set, retracted with
//! its window); `bloom` and `hll` are sketches per window (`sketch`), estimated from their state,
//! so the answer does not depend on arrival order or `-w`; `--compare` prints the exact count
//! next to the estimate.

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, HOUR, OutputArgs, TumblingArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::input::records::{Behavior, UserBehavior};
use crate::engine::runner;
use crate::engine::sink::{self, WindowReport};
use crate::engine::operators::sketch::{self, SketchKind, mix64};
use crate::engine::time::windows::{Window, expand_panes};

/// The tutorial's Redis bitmap: 2^29 bits (64 MiB when dense).
pub const TUTORIAL_BLOOM_BITS: u64 = 1 << 29;

/// How distinct users are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// A distinct count in the dataflow: memory proportional to the users of the live windows.
    Exact,
    /// A Bloom filter per window (`--bloom-bits`, `--bloom-hashes`), estimated from its set bits.
    Bloom,
    /// HyperLogLog per window (`--hll-precision`).
    Hll,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Bloom => "bloom",
            Method::Hll => "hll",
        }
    }
}

/// What `uba uv --help` adds after the flags.
const HELP: &str = "\
Counts the distinct userIds among the pv rows of a UserBehavior csv in each tumbling window
(epoch-aligned, UTC). Rows other than pv still move the watermark; corrections and the late side
output follow the same rule as pv.

exact: a distinct count in the dataflow; memory proportional to the users of the live windows.
bloom: a Bloom filter of m = --bloom-bits bits per window, k = --bloom-hashes bits per user; the
  count is estimated from the number X of set bits as n = -(m/k) ln(1 - X/m), whatever the order of
  arrival (the tutorial counted a user when its bit was still 0, which depends on the order).
  Relative standard error about sqrt(m/k (e^t - t - 1)) / n with t = k n / m: 0.003% for a
  million users in 2^29 bits. The filter is a set of bit positions while that is smaller than the
  bitmap, so a small window does not take m/8 bytes.
hll: HyperLogLog, 2^p one-byte registers per window (p = --hll-precision), Ertl's improved
  estimator; relative standard error 1.04 / sqrt(2^p): 0.81% for p = 14.
Estimates are rounded to whole users and are the same for any -w / -n.";

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<UserBehavior as Record>::NAME];

/// uv's windows: 1 h tumbling; in-order input, no allowed lateness.
type EventTime = TumblingArgs<HOUR>;

/// Distinct users among `pv` rows per tumbling window: exact, Bloom filter or HyperLogLog (UniqueVisitor).
#[derive(clap::Args, Debug)]
#[command(after_long_help = HELP)]
pub struct Args {
    /// UserBehavior csv (`userId,itemId,categoryId,behavior,ts`), or `-` for stdin.
    /// Default: the sample in data/.
    pub input: Option<String>,
    /// How to count distinct users.
    #[arg(long, value_enum, default_value_t = Method::Exact)]
    pub method: Method,
    /// With --method bloom: bits of the Bloom filter per window (allocated only as bits get
    /// set). Default 536870912 (2^29, the tutorial's).
    #[arg(long)]
    pub bloom_bits: Option<u64>,
    /// With --method bloom: bits set per user in the Bloom filter. Default 1 (the tutorial's).
    #[arg(long)]
    pub bloom_hashes: Option<u32>,
    /// With --method hll: HyperLogLog precision p, 2^p registers, 4 to 18. Default 14.
    #[arg(long)]
    pub hll_precision: Option<u8>,
    /// Also count exactly, and print the exact count and the relative error of the estimate.
    #[arg(long)]
    pub compare: bool,
    #[command(flatten)]
    pub time: EventTime,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// A window's result: the count (or estimate), and the exact count with `--compare`.
type Visitors = (u64, Option<u64>);

/// One row of the output; `exact` and `relative_error` are empty without `--compare`.
#[derive(Serialize)]
pub struct UniqueVisitors {
    pub window_start: u64,
    pub window_end: u64,
    pub method: &'static str,
    pub uv: u64,
    pub exact: Option<u64>,
    pub relative_error: Option<f64>,
    pub update: bool,
    pub emitted_at: u64,
}

struct Report {
    method: Method,
}

/// `(estimate - exact) / exact`.
fn relative_error(estimate: u64, exact: u64) -> f64 {
    (estimate as f64 - exact as f64) / exact as f64
}

impl WindowReport for Report {
    type Value = Visitors;
    type Row<'a> = UniqueVisitors;
    fn title(&self) -> String {
        format!("unique visitors ({})", self.method.name())
    }
    fn row(
        &self,
        w: Window,
        _rank: usize,
        &(uv, exact): &Visitors,
        update: bool,
        emitted_at: u64,
    ) -> UniqueVisitors {
        UniqueVisitors {
            window_start: w.start,
            window_end: w.end,
            method: self.method.name(),
            uv,
            exact,
            relative_error: exact.map(|e| relative_error(uv, e)),
            update,
            emitted_at,
        }
    }
    fn text(&self, _rank: usize, &(uv, exact): &Visitors) -> String {
        match exact {
            None => format!("uv: {uv}"),
            Some(e) => format!(
                "uv: {uv} (exact {e}, error {:+.4}%)",
                100.0 * relative_error(uv, e)
            ),
        }
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let windows = args.time.windows()?;
    // A sketch's flag with another method would be ignored: say so rather than run without it.
    for (flag, given, applies_to) in [
        ("--bloom-bits", args.bloom_bits.is_some(), Method::Bloom),
        ("--bloom-hashes", args.bloom_hashes.is_some(), Method::Bloom),
        ("--hll-precision", args.hll_precision.is_some(), Method::Hll),
    ] {
        if given && args.method != applies_to {
            return Err(format!(
                "{flag} applies to --method {}, not to --method {}",
                applies_to.name(),
                args.method.name()
            )
            .into());
        }
    }
    let kind = match args.method {
        Method::Exact if args.compare => {
            return Err(
                "--compare compares an approximation: use it with --method bloom or hll".into(),
            );
        }
        Method::Exact => None,
        Method::Bloom => Some(SketchKind::Bloom {
            bits: args.bloom_bits.unwrap_or(TUTORIAL_BLOOM_BITS),
            hashes: args.bloom_hashes.unwrap_or(1),
        }),
        Method::Hll => Some(SketchKind::HyperLogLog {
            precision: args.hll_precision.unwrap_or(14),
        }),
    };
    if let Some(kind) = kind {
        kind.validate()?;
    }
    let input = crate::jobs::inputs::input_or_sample(&args.input, &args.cluster)?;
    let (out_of_orderness, compare, method) =
        (args.time.out_of_orderness(), args.compare, args.method);

    runner::execute(&[input], &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let (visits, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (visits, users) = scope.new_collection::<(u64, u64), isize>();
            // The exact count: the distinct (window, user) pairs of the live windows, counted.
            let exact = (kind.is_none() || compare).then(|| {
                expand_panes(users.clone(), windows)
                    .distinct()
                    .map(|(end, _user)| end)
                    .count()
                    .map(|(end, n)| (end, n as u64))
            });
            let estimate = kind.map(|kind| {
                let hashes = users.map(|(user, pane)| (mix64(user), pane));
                sketch::per_window(hashes, windows, kind, &format!("Uv/{}", method.name()))
            });
            let rows = match (exact, estimate) {
                (Some(exact), None) => exact.map(|(end, n)| (end, (n, None))),
                (None, Some(estimate)) => estimate.map(|(end, n)| (end, (n, None))),
                (Some(exact), Some(estimate)) => {
                    estimate.join_map(exact, |&end, &n, &e| (end, (n, Some(e))))
                }
                (None, None) => unreachable!("exact runs when no sketch does"),
            };
            let report = Report { method };
            (
                visits,
                sink::windows(rows, "Uv/sink", windows, report, output),
            )
        });
        ctx.feed(
            0,
            visits,
            out_of_orderness,
            Lateness::Windowed(windows),
            |b: &UserBehavior| b.behavior == Behavior::Pv,
            move |b, t| ((b.user_id, windows.pane(b.ts)), windows.pane_time(b.ts, t)),
        );
        probe
    })
}
