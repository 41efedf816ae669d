//! hot-items: the top N items by page views in each sliding window (the tutorial's HotItems).
//!
//! Business rule: of the `pv` rows of `UserBehavior.csv`, count the views of each item over 1 h
//! windows sliding by 5 min, and print the 5 most viewed items of each window when it closes;
//! ties go to the smaller item id. The tutorial's Flink SQL:
//!
//! ```sql
//! SELECT * FROM (
//!   SELECT *, ROW_NUMBER() OVER (PARTITION BY windowEnd ORDER BY cnt DESC) AS row_num
//!   FROM (SELECT itemId, HOP_END(ts, INTERVAL '5' MINUTE, INTERVAL '1' HOUR) AS windowEnd,
//!                COUNT(itemId) AS cnt
//!         FROM UserBehavior WHERE behavior = 'pv'
//!         GROUP BY itemId, HOP(ts, INTERVAL '5' MINUTE, INTERVAL '1' HOUR)))
//! WHERE row_num <= 5
//! ```

use std::cmp::Reverse;

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, HOUR, MINUTE, OutputArgs, SlidingArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::input::records::{Behavior, UserBehavior};
use crate::engine::runner;
use crate::engine::sink::{self, WindowReport};
use crate::engine::operators::topn::Ranked;
use crate::engine::operators::window_count::ranked_counts;
use crate::engine::time::windows::Window;

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<UserBehavior as Record>::NAME];

/// hot-items' windows: 1 h sliding by 5 min; in-order input, no allowed lateness.
type EventTime = SlidingArgs<HOUR, { 5 * MINUTE }>;

/// Top N items by page views in each sliding window (the tutorial's HotItems).
///
/// Counts the `pv` rows of each item over windows of --window sliding by --slide (aligned to
/// the epoch, UTC) and prints the --top items of each window when the watermark passes its
/// end. Ties: count descending, then item id ascending (as numbers). Other behaviours move the
/// watermark but are not counted. With no INPUT it reads the sample in data/.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// UserBehavior csv (`userId,itemId,categoryId,behavior,ts`), or `-` for stdin.
    /// Default: the sample in data/.
    pub input: Option<String>,
    #[command(flatten)]
    pub time: EventTime,
    /// How many items to print per window.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// One row of the output.
#[derive(Serialize)]
pub struct HotItem {
    pub window_start: u64,
    pub window_end: u64,
    pub rank: usize,
    pub item_id: u64,
    pub count: isize,
    pub update: bool,
    pub emitted_at: u64,
}

struct Report;

impl WindowReport for Report {
    type Value = Ranked<u64>;
    type Row<'a> = HotItem;
    fn title(&self) -> String {
        "hot items by page views".into()
    }
    fn row(
        &self,
        w: Window,
        rank: usize,
        &(Reverse(count), item_id): &Ranked<u64>,
        update: bool,
        emitted_at: u64,
    ) -> HotItem {
        HotItem {
            window_start: w.start,
            window_end: w.end,
            rank,
            item_id,
            count,
            update,
            emitted_at,
        }
    }
    fn text(&self, rank: usize, &(Reverse(count), item_id): &Ranked<u64>) -> String {
        format!("No.{rank}: item {item_id}, {count} views")
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let windows = args.time.windows()?;
    if args.top == 0 {
        return Err("--top must be at least 1".into());
    }
    let input = crate::jobs::inputs::input_or_sample(&args.input, &args.cluster)?;

    runner::execute(&[input], &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let (views, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (views, panes) = scope.new_collection::<(u64, u64), isize>();
            let top = ranked_counts(panes, windows, Some(args.top), "HotItems");
            (
                views,
                sink::windows(top, "HotItems/sink", windows, Report, output),
            )
        });
        ctx.feed(
            0,
            views,
            args.time.out_of_orderness(),
            Lateness::Windowed(windows),
            |b: &UserBehavior| b.behavior == Behavior::Pv,
            move |b, t| ((b.item_id, windows.pane(b.ts)), windows.pane_time(b.ts, t)),
        );
        probe
    })
}
