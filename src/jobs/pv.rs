//! pv: page views per tumbling window (the tutorial's NetworkFlowAnalysis / PageView).
//!
//! Business rule: count the `pv` rows of `UserBehavior.csv` in each 1 h window. The tutorial's
//! Flink code:
//!
//! ```scala
//! dataStream.filter(_.behavior == "pv")
//!   .map(data => ("pv", 1))
//!   .keyBy(_._1)
//!   .timeWindow(Time.hours(1))
//!   .sum(1)
//! ```
//!
//! The count is the windowed count of one key, so it is `count_and_rank` with the unit key and
//! no top N.

use std::cmp::Reverse;

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, HOUR, OutputArgs, TumblingArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::input::records::{Behavior, UserBehavior};
use crate::engine::runner;
use crate::engine::sink::{self, WindowReport};
use crate::engine::operators::topn::Ranked;
use crate::engine::operators::window_count::ranked_counts;
use crate::engine::time::windows::Window;

/// What `uba pv --help` adds after the flags.
const HELP: &str = "\
Counts the pv rows of a UserBehavior csv in each tumbling window (epoch-aligned, UTC; --tz only
changes how text output prints times). Rows other than pv still move the watermark. A window with
no pv row prints nothing. Each window prints its count when the watermark passes its end, then
again (update: true) each time late rows change it, until --allowed-lateness after its end; rows
later than that go to the late side output (--late FILE).";

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<UserBehavior as Record>::NAME];

/// pv's windows: 1 h tumbling; in-order input, no allowed lateness.
type EventTime = TumblingArgs<HOUR>;

/// Page views (`pv` rows) per tumbling window (PageView).
#[derive(clap::Args, Debug)]
#[command(after_long_help = HELP)]
pub struct Args {
    /// UserBehavior csv (`userId,itemId,categoryId,behavior,ts`), or `-` for stdin.
    /// Default: the sample in data/.
    pub input: Option<String>,
    #[command(flatten)]
    pub time: EventTime,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// One row of the output.
#[derive(Serialize)]
pub struct PageViews {
    pub window_start: u64,
    pub window_end: u64,
    pub pv: isize,
    pub update: bool,
    pub emitted_at: u64,
}

struct Report;

impl WindowReport for Report {
    type Value = Ranked<()>;
    type Row<'a> = PageViews;
    fn title(&self) -> String {
        "page views".into()
    }
    fn row(
        &self,
        w: Window,
        _rank: usize,
        &(Reverse(pv), ()): &Ranked<()>,
        update: bool,
        emitted_at: u64,
    ) -> PageViews {
        PageViews {
            window_start: w.start,
            window_end: w.end,
            pv,
            update,
            emitted_at,
        }
    }
    fn text(&self, _rank: usize, &(Reverse(pv), ()): &Ranked<()>) -> String {
        format!("pv: {pv}")
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let windows = args.time.windows()?;
    let input = crate::jobs::inputs::input_or_sample(&args.input, &args.cluster)?;

    runner::execute(&[input], &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let (views, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (views, panes) = scope.new_collection::<((), u64), isize>();
            let counts = ranked_counts(panes, windows, None, "PageViews");
            (
                views,
                sink::windows(counts, "PageViews/sink", windows, Report, output),
            )
        });
        ctx.feed(
            0,
            views,
            args.time.out_of_orderness(),
            Lateness::Windowed(windows),
            |b: &UserBehavior| b.behavior == Behavior::Pv,
            move |b, t| (((), windows.pane(b.ts)), windows.pane_time(b.ts, t)),
        );
        probe
    })
}
