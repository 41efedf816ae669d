//! hot-pages: the most requested URLs of a web server log in each sliding window (the tutorial's
//! NetworkFlowAnalysis / HotPages).
//!
//! Business rule: of the `GET` lines of `apache.log`, count the requests of each URL over 1 min
//! windows sliding by 5 s, and print the 5 most requested URLs of each window; ties go to the
//! URL that sorts first (as a string). The log is out of order by up to a minute, so the
//! watermark trails the latest time by 3 s and windows accept late lines for 1 min more: a
//! window prints its first result when the watermark passes its end, then its corrected result
//! (`update: true`) each time late lines change it. The tutorial's Flink code:
//!
//! ```scala
//! dataStream.filter(_.method == "GET")
//!   .assignTimestampsAndWatermarks(new BoundedOutOfOrdernessTimestampExtractor(Time.seconds(3)))
//!   .keyBy(_.url)
//!   .timeWindow(Time.minutes(10), Time.seconds(5))
//!   .allowedLateness(Time.minutes(1))
//!   .sideOutputLateData(lateTag)
//!   .aggregate(new PageCountAgg(), new PageCountWindowResult())
//!   .keyBy(_.windowEnd)
//!   .process(new TopNHotPages(3))
//! ```
//!
//! URLs are counted on 64-bit ids; each window keeps a URL's name once, for ranking
//! (`engine::operators::hashed_keys`).

use std::cmp::Reverse;
use std::sync::Arc;

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, MINUTE, OutputArgs, SECOND, SlidingArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::operators::hashed_keys::{NamedPane, name_id, ranked_names};
use crate::engine::input::records::ApacheLogEvent;
use crate::engine::runner;
use crate::engine::sink::{self, WindowReport};
use crate::engine::operators::topn::Ranked;
use crate::engine::time::windows::Window;

/// What `--exclude-static` drops: URLs whose path (before any `?query`) ends with one of these,
/// in any letter case.
pub const STATIC_SUFFIXES: [&str; 4] = [".css", ".js", ".png", ".ico"];

/// What `uba hot-pages --help` adds after the flags.
const HELP: &str = "\
Reads a web server log (`ip - - dd/MM/yyyy:HH:mm:ss +zzzz METHOD url`, space-separated, as
apache.log). Each time is read in the zone its line gives (+0000, +0200, ...) and kept as an
instant; windows are aligned to the epoch in UTC (--tz only changes how text output prints
times). Only GET lines are counted; the others still move the watermark. A URL is any valid
UTF-8 text (non-ASCII included); a line that is not valid UTF-8, has a bad date or zone, or does
not have 7 fields is rejected with its line number.

Ranking: count descending, then URL ascending (as strings, byte order), never by an internal id.
Each window prints its top N when the watermark passes its end, then again in full (update: true)
each time late lines change it, until --allowed-lateness after its end; lines later than that go
to the late side output (--late FILE).";

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<ApacheLogEvent as Record>::NAME];

/// hot-pages' windows: 1 min sliding by 5 s; the log is out of order by up to 3 s, and windows
/// accept late lines for 1 min more.
type EventTime = SlidingArgs<MINUTE, { 5 * SECOND }, { 3 * SECOND }, MINUTE>;

/// Top N URLs by GET requests in each sliding window of a web server log (HotPages).
#[derive(clap::Args, Debug)]
#[command(after_long_help = HELP)]
pub struct Args {
    /// Web server log file like apache.log, or `-` for stdin.
    #[arg(required_unless_present = "inputs", conflicts_with = "inputs")]
    pub input: Option<String>,
    #[command(flatten)]
    pub time: EventTime,
    /// How many URLs to print per window.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Drops static resources: URLs ending in .css, .js, .png or .ico (before any `?query`, in
    /// any letter case). They are counted as filtered.
    #[arg(long)]
    pub exclude_static: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Whether a URL is a static resource in the sense of `--exclude-static`.
pub fn is_static(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or(url).as_bytes();
    STATIC_SUFFIXES.iter().any(|suffix| {
        path.len() >= suffix.len()
            && path[path.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    })
}

/// One row of the output.
#[derive(Serialize)]
pub struct HotPage<'a> {
    pub window_start: u64,
    pub window_end: u64,
    pub rank: usize,
    pub url: &'a str,
    pub count: isize,
    pub update: bool,
    pub emitted_at: u64,
}

struct Report;

impl WindowReport for Report {
    type Value = Ranked<Arc<str>>;
    type Row<'a> = HotPage<'a>;
    fn title(&self) -> String {
        "hot pages by GET requests".into()
    }
    fn row<'a>(
        &'a self,
        w: Window,
        rank: usize,
        (Reverse(count), url): &'a Ranked<Arc<str>>,
        update: bool,
        emitted_at: u64,
    ) -> HotPage<'a> {
        HotPage {
            window_start: w.start,
            window_end: w.end,
            rank,
            url,
            count: *count,
            update,
            emitted_at,
        }
    }
    fn text(&self, rank: usize, (Reverse(count), url): &Ranked<Arc<str>>) -> String {
        format!("No.{rank}: {url}, {count} requests")
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let windows = args.time.windows()?;
    if args.top == 0 {
        return Err("--top must be at least 1".into());
    }
    let (top, out_of_orderness, exclude_static) =
        (args.top, args.time.out_of_orderness(), args.exclude_static);

    runner::execute(
        &[crate::jobs::inputs::named_input(&args.input)],
        &args.cluster,
        &args.output,
        move |worker, ctx| {
            let output = ctx.output();
            let (requests, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (requests, panes) = scope.new_collection::<NamedPane, isize>();
                let top = ranked_names(panes, windows, top, "HotPages");
                (
                    requests,
                    sink::windows(top, "HotPages/sink", windows, Report, output),
                )
            });
            ctx.feed(
                0,
                requests,
                out_of_orderness,
                Lateness::Windowed(windows),
                move |e: &ApacheLogEvent| {
                    e.method == "GET" && !(exclude_static && is_static(&e.url))
                },
                move |e, t| {
                    let id_pane = (name_id(&e.url), windows.pane(e.ts));
                    ((id_pane, e.url), windows.pane_time(e.ts, t))
                },
            );
            probe
        },
    )
}

#[cfg(test)]
mod tests {
    use super::is_static;

    #[test]
    fn static_resources_are_recognised_before_the_query_string() {
        assert!(is_static("/style2.css"));
        assert!(is_static("/a/b.JS"));
        assert!(is_static("/images/x.png?v=3"));
        assert!(is_static("/favicon.ico"));
        assert!(!is_static("/blog/tags/puppet?flav=rss20"));
        assert!(!is_static("/projects/xdotool/"));
        assert!(!is_static("/doc/x.html?f=a.png"));
    }
}
