//! app-marketing: app-store marketing events counted per channel and behaviour in sliding windows
//! (the tutorial's AppMarketingByChannel, and AppMarketingTotal with `--total`).
//!
//! Business rule: of the marketing events (`userId, behavior, channel, ts` in ms), drop
//! `UNINSTALL`, and count the others per (channel, behaviour) over 1 h windows sliding by 5 s;
//! every window prints all its (channel, behaviour) counts, most frequent first (ties by channel,
//! then behaviour `CLICK < DOWNLOAD < INSTALL`). `--total` counts all channels and behaviours
//! together instead. The tutorial's Flink job:
//!
//! ```scala
//! env.addSource(new SimulatedEventSource).assignAscendingTimestamps(_.timestamp)
//!   .filter(_.behavior != "UNINSTALL")
//!   .map(data => ((data.channel, data.behavior), 1L))
//!   .keyBy(_._1)
//!   .timeWindow(Time.hours(1), Time.seconds(10))
//!   .process(new MarketingCountByChannel())
//! ```
//!
//! (AppMarketingTotal keyed everything by one `"dummyKey"` instead.) The tutorial's source was an
//! endless random generator on the wall clock; ours is `uba gen marketing`, seeded, which with
//! `--follow` plays live into a pipe (`uba gen marketing --follow | uba app-marketing -`): the
//! reader sends a batch whenever the pipe delivers data, and the sink flushes every completed
//! time, so each window shows as soon as the stream's watermark passes its end.
//!
//! A 1 h window sliding by 5 s holds each event in 720 windows: events are counted per 5 s pane
//! first (one update per key and pane), and only pane counts are expanded into windows.

use std::cmp::Reverse;
use std::hash::Hash;

use differential_dataflow::ExchangeData;
use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, HOUR, OutputArgs, SECOND, SlidingArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::input::records::{MarketingBehavior, MarketingEvent};
use crate::engine::runner;
use crate::engine::sink::{self, WindowReport};
use crate::engine::operators::topn::Ranked;
use crate::engine::operators::window_count::ranked_counts;
use crate::engine::time::windows::{Window, Windows};

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<MarketingEvent as Record>::NAME];

/// app-marketing's windows: 1 h sliding by 5 s; in-order input, no allowed lateness.
type EventTime = SlidingArgs<HOUR, { 5 * SECOND }>;

/// Marketing events per channel and behaviour in sliding windows (AppMarketingByChannel;
/// `--total` for AppMarketingTotal); reads a live stream from stdin with `-`.
///
/// Counts the non-UNINSTALL events (UNINSTALL rows are counted as filtered, and still move
/// the watermark) per (channel, behavior) over each window, every key of a window printed,
/// ordered by count descending, then channel ascending, then behavior (CLICK, DOWNLOAD,
/// INSTALL); `--total` prints one count per window instead. Windows are aligned to the epoch
/// (UTC); a late event joins those of its windows that have not fired (or are within
/// --allowed-lateness: `update: true`), else it goes to the late output. With `-` the job
/// reads a live stream: each window is written as soon as the stream passes its end, and
/// Ctrl-C (or the end of input) fires the pending windows and writes the accounting line.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Marketing events csv (`userId,behavior,channel,ts` with ts in ms), or `-` for stdin
    /// (`uba gen marketing --follow | uba app-marketing -` runs live; Ctrl-C ends it cleanly).
    #[arg(required_unless_present = "inputs", conflicts_with = "inputs")]
    pub input: Option<String>,
    /// Count all channels and behaviours together (the tutorial's AppMarketingTotal).
    #[arg(long)]
    pub total: bool,
    #[command(flatten)]
    pub time: EventTime,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// How the output names a behaviour: as the input writes it.
fn behavior_name(b: MarketingBehavior) -> &'static str {
    match b {
        MarketingBehavior::Click => "CLICK",
        MarketingBehavior::Download => "DOWNLOAD",
        MarketingBehavior::Install => "INSTALL",
        MarketingBehavior::Uninstall => "UNINSTALL",
    }
}

/// One row of the per-channel output.
#[derive(Serialize)]
pub struct ChannelCount {
    pub window_start: u64,
    pub window_end: u64,
    pub channel: String,
    pub behavior: &'static str,
    pub count: isize,
    pub update: bool,
    pub emitted_at: u64,
}

/// One row of the `--total` output.
#[derive(Serialize)]
pub struct TotalCount {
    pub window_start: u64,
    pub window_end: u64,
    pub count: isize,
    pub update: bool,
    pub emitted_at: u64,
}

#[derive(Clone)]
struct ByChannel;

impl WindowReport for ByChannel {
    type Value = Ranked<(String, MarketingBehavior)>;
    type Row<'a> = ChannelCount;
    fn title(&self) -> String {
        "app marketing by channel and behavior".into()
    }
    fn row(
        &self,
        w: Window,
        _rank: usize,
        (Reverse(count), (channel, behavior)): &Self::Value,
        update: bool,
        emitted_at: u64,
    ) -> ChannelCount {
        ChannelCount {
            window_start: w.start,
            window_end: w.end,
            channel: channel.clone(),
            behavior: behavior_name(*behavior),
            count: *count,
            update,
            emitted_at,
        }
    }
    fn text(&self, _rank: usize, (Reverse(count), (channel, behavior)): &Self::Value) -> String {
        format!("{channel} {}: {count}", behavior_name(*behavior))
    }
}

#[derive(Clone)]
struct Total;

impl WindowReport for Total {
    type Value = Ranked<()>;
    type Row<'a> = TotalCount;
    fn title(&self) -> String {
        "app marketing, all channels".into()
    }
    fn row(
        &self,
        w: Window,
        _rank: usize,
        (Reverse(count), ()): &Self::Value,
        update: bool,
        emitted_at: u64,
    ) -> TotalCount {
        TotalCount {
            window_start: w.start,
            window_end: w.end,
            count: *count,
            update,
            emitted_at,
        }
    }
    fn text(&self, _rank: usize, (Reverse(count), ()): &Self::Value) -> String {
        format!("total: {count}")
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let windows = args.time.windows()?;
    if args.total {
        count_per_window(&args, windows, |_| (), Total, "AppMarketingTotal")
    } else {
        count_per_window(
            &args,
            windows,
            |e| (e.channel, e.behavior),
            ByChannel,
            "AppMarketingByChannel",
        )
    }
}

/// The job's dataflow: non-`UNINSTALL` events, keyed by `key`, counted per pane, then per window.
fn count_per_window<K, W>(
    args: &Args,
    windows: Windows,
    key: fn(MarketingEvent) -> K,
    report: W,
    name: &'static str,
) -> Result<(), Failure>
where
    K: ExchangeData + Hash,
    W: WindowReport<Value = Ranked<K>> + Clone + Send + Sync,
{
    let out_of_orderness = args.time.out_of_orderness();
    let inputs = [crate::jobs::inputs::named_input(&args.input)];
    runner::execute(&inputs, &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let report = report.clone();
        let (events, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (events, panes) = scope.new_collection::<(K, u64), isize>();
            let counts = ranked_counts(panes, windows, None, name);
            (
                events,
                sink::windows(counts, &format!("{name}/sink"), windows, report, output),
            )
        });
        ctx.feed(
            0,
            events,
            out_of_orderness,
            Lateness::Windowed(windows),
            |e: &MarketingEvent| e.behavior != MarketingBehavior::Uninstall,
            move |e, t| {
                let (pane, at) = (windows.pane(e.ts), windows.pane_time(e.ts, t));
                ((key(e), pane), at)
            },
        );
        probe
    })
}
