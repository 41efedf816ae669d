//! ad-stats: ad clicks per province in sliding windows, after a click-fraud blacklist (the
//! tutorial's AdStatisticsByGeo with its FilterBlackListUser).
//!
//! Business rule: of the clicks of `AdClickLog.csv` (`userId, adId, province, city, ts`), each
//! (user, ad) pair may click `--max-clicks` (100) times a day, a day starting at 00:00 in
//! `--day-tz` (UTC+8) and decided by the click's event time. The first 100 clicks of a pair and day
//! pass; the 101st raises one blacklist warning (`outcome: blacklist`) and it and every later click
//! of that pair and day are dropped; the next day the pair starts again from zero. The clicks that
//! pass are counted per province over 1 h windows sliding by 5 s (`outcome: count`). The
//! tutorial's Flink job:
//!
//! ```scala
//! val filterBlackListStream = adEventStream.keyBy(data => (data.userId, data.adId))
//!   .process(new FilterBlackListUser(100))   // count in keyed state, reset by a timer at
//!                                            // the next midnight (UTC+8, processing time)
//! filterBlackListStream.keyBy(_.province)
//!   .timeWindow(Time.hours(1), Time.seconds(5))
//!   .aggregate(new AdCountAgg(), new AdCountResult())
//! ```
//!
//! # Which clicks are "the first 100"
//!
//! Flink counted in arrival order and reset on a processing-time timer. Here the order is the
//! event-time order in which clicks enter the dataflow: by their insertion time (the click's own
//! time, or its input's watermark for a late click that still has a window to join, as the
//! windowed rule of `docs/event-time.md` says), then by input order. A decision must never change once
//! made. A plain `count` per (user, ad, day) followed by `filter(count > 100)` and an antijoin of
//! the clicks against that blacklist would, when the 101st click arrives, blacklist the pair for
//! the whole day and retract its first 100 clicks from every window they had already been
//! counted in, at the time of the 101st click. Instead, the clicks of a (user, ad, day) are taken
//! in the order `(insertion time, input sequence)`: a click inserted later sorts after every click
//! already there, so the first 101 in that order never change once seen, and each pair and day is
//! counted in that order ([`first_per_period`]): the first 100 pass, the 101st is the warning;
//! neither can be retracted by a later click.
//!
//! # State
//!
//! A count per (user, ad, day), until no click of its day can still enter: the last window of a
//! click ends at most one window size after its day, so that is `end(d) + window + allowed
//! lateness`. (The first design kept every click of the pair and day in a `reduce` until then:
//! 716 MB for 1M bench clicks; a keyed state machine per pair and day, 208 MB; a day's counts
//! packed with their pairs in 8 bytes each, 55 MB, and 87 MB for 10M clicks, a full day of 3.5M
//! pairs.)

use std::cmp::Reverse;

use differential_dataflow::input::Input;
use differential_dataflow::AsCollection;
use serde::{Deserialize, Serialize};
use timely::dataflow::operators::vec::{Filter, Map};

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::time::calendar::Days;
use crate::engine::operators::patterns::Seq;
use crate::engine::operators::quota::first_per_period;
use crate::engine::options::{ClusterArgs, HOUR, OutputArgs, SECOND, SlidingArgs};
use crate::engine::sink::combined::{self, Reports};
use crate::engine::input::event_time::Lateness;
use crate::engine::output::Output;
use crate::engine::input::records::AdClickEvent;
use crate::engine::input::token::Token;
use crate::engine::runner;
use crate::engine::sink::{AppendReport, WindowReport};
use crate::engine::operators::topn::Ranked;
use crate::engine::operators::window_count::ranked_counts;
use crate::engine::time::windows::Window;


/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<AdClickEvent as Record>::NAME];

/// ad-stats' windows: 1 h sliding by 5 s; in-order input, no allowed lateness.
type EventTime = SlidingArgs<HOUR, { 5 * SECOND }>;

/// Ad clicks per province in sliding windows, after a click-fraud blacklist (AdStatisticsByGeo).
///
/// Per (user, ad) and per day (00:00 to 24:00 in --day-tz, by the click's event time), the
/// first --max-clicks clicks pass; the next one raises one warning (`outcome: blacklist`:
/// user_id, ad_id, day, clicks_so_far, first_blocked_at) and it and the pair's later clicks
/// that day are dropped; the next day starts from zero. "First" is the order in which clicks
/// enter event time: their own time, or the watermark for a late click that still joins a
/// window; equal times in input order. A click that passed is never taken back. The clicks
/// that pass are counted per province in each window (`outcome: count`), ordered by count
/// descending, then province ascending. A late click with no window left goes to the late
/// output and does not count toward the limit. Both outcomes share one output (one csv
/// header; `--only` picks one).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ad clicks csv (`userId,adId,province,city,ts` with ts in seconds), or `-` for stdin.
    #[arg(required_unless_present = "inputs", conflicts_with = "inputs")]
    pub input: Option<String>,
    /// Clicks a (user, ad) pair may make per day; the next one raises the blacklist warning and
    /// it and the pair's later clicks that day are dropped.
    #[arg(long, default_value_t = 100)]
    pub max_clicks: usize,
    /// Zone whose midnight starts a day for the blacklist: an offset (UTC, +08:00, -0500) or an
    /// IANA name (Asia/Shanghai; a day with a daylight saving change is 23 or 25 hours).
    #[arg(long, default_value = "+08:00", allow_hyphen_values = true)]
    pub day_tz: String,
    #[command(flatten)]
    pub time: EventTime,
    /// Only write these outcomes: count, blacklist (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_parser = [COUNT, BLACKLIST])]
    pub only: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

const COUNT: &str = "count";
const BLACKLIST: &str = "blacklist";

/// A click as the filter sees it. It enters the filter as a [`Seq`] of its insertion time and
/// input order, the order that decides which clicks are the first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Click {
    ts: u64,
    province: Token,
}

/// A (user, ad) and a day.
type Pair = ((u64, u64), i64);

/// One blacklist warning: the (user, ad) pair that passed the limit on `day`, and its first
/// dropped click.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Warning {
    user_id: u64,
    ad_id: u64,
    day: i64,
    clicks_so_far: usize,
    first_blocked_at: u64,
}

/// One row of the output: a province's count in a window, or a blacklist warning (one csv header
/// for both; the cells of the other outcome are empty).
#[derive(Serialize, Default)]
pub struct AdStatsRow<'a> {
    pub outcome: &'static str,
    pub window_start: Option<u64>,
    pub window_end: Option<u64>,
    pub province: Option<&'a str>,
    pub count: Option<isize>,
    pub update: Option<bool>,
    pub user_id: Option<u64>,
    pub ad_id: Option<u64>,
    pub day: Option<String>,
    pub clicks_so_far: Option<usize>,
    pub first_blocked_at: Option<u64>,
    pub emitted_at: u64,
}

struct ByProvince;

impl WindowReport for ByProvince {
    type Value = Ranked<Token>;
    type Row<'a> = AdStatsRow<'a>;
    fn title(&self) -> String {
        "ad clicks by province".into()
    }
    fn row<'a>(
        &'a self,
        w: Window,
        _rank: usize,
        (Reverse(count), province): &'a Ranked<Token>,
        update: bool,
        emitted_at: u64,
    ) -> AdStatsRow<'a> {
        AdStatsRow {
            outcome: COUNT,
            window_start: Some(w.start),
            window_end: Some(w.end),
            province: Some(province.as_str()),
            count: Some(*count),
            update: Some(update),
            emitted_at,
            ..Default::default()
        }
    }
    fn text(&self, _rank: usize, (Reverse(count), province): &Ranked<Token>) -> String {
        format!("{province}: {count}")
    }
}

struct Blacklist {
    days: Days,
    day_tz: String,
}

impl AppendReport for Blacklist {
    type Value = Warning;
    type Row = AdStatsRow<'static>;
    fn outcome(&self, _: &Warning) -> &'static str {
        BLACKLIST
    }
    fn row(&self, w: &Warning, emitted_at: u64) -> AdStatsRow<'static> {
        AdStatsRow {
            outcome: BLACKLIST,
            user_id: Some(w.user_id),
            ad_id: Some(w.ad_id),
            day: Some(self.days.date(w.day)),
            clicks_so_far: Some(w.clicks_so_far),
            first_blocked_at: Some(w.first_blocked_at),
            emitted_at,
            ..Default::default()
        }
    }
    fn text(&self, out: &Output, w: &Warning, _emitted_at: u64) -> String {
        format!(
            "blacklist: user {} clicked ad {} {} times on {} ({}); blocked from {}",
            w.user_id,
            w.ad_id,
            w.clicks_so_far,
            self.days.date(w.day),
            self.day_tz,
            out.time(w.first_blocked_at)
        )
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let windows = args.time.windows()?;
    if args.max_clicks == 0 {
        return Err("--max-clicks must be at least 1".into());
    }
    let days = Days::parse(&args.day_tz)?;
    // No click of day `d` can enter at or after this time (see "State" above).
    let forget_at = move |day: i64| days.start(day + 1) + windows.size + windows.lateness;
    let max_clicks = args.max_clicks;
    let only = (!args.only.is_empty()).then(|| args.only.clone());
    let day_tz = args.day_tz.clone();
    let out_of_orderness = args.time.out_of_orderness();

    runner::execute(
        &[crate::jobs::inputs::named_input(&args.input)],
        &args.cluster,
        &args.output,
        move |worker, ctx| {
            let output = ctx.output();
            let (clicks, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (input, clicks) = scope.new_collection::<(Pair, Seq<Click>), isize>();
                let decided = first_per_period(clicks, "AdStats/first-clicks", max_clicks, forget_at);

                let panes = decided
                    .clone()
                    .inner
                    .filter(|((_, (_, passed)), _, _)| *passed)
                    .map(move |((_, (click, _)), t, r)| {
                        let pane = windows.pane(click.ts);
                        ((click.province, pane), windows.pane_time(click.ts, t), r)
                    })
                    .as_collection()
                    // One update per province and pane before each is expanded into its windows.
                    .consolidate();
                let warnings = decided.filter(|(_, (_, passed))| !*passed).map(
                    move |(((user_id, ad_id), day), (click, _))| Warning {
                        user_id,
                        ad_id,
                        day,
                        clicks_so_far: max_clicks + 1,
                        first_blocked_at: click.ts,
                    },
                );

                let counts = ranked_counts(panes, windows, None, "AdStats");
                let reports = Reports {
                    windows: ByProvince,
                    window_outcome: COUNT,
                    events: Blacklist {
                        days,
                        day_tz: day_tz.clone(),
                    },
                    events_section: "blacklist",
                };
                let probe = combined::windows_and_events(
                    counts,
                    warnings,
                    "AdStats/sink",
                    windows,
                    reports,
                    only.clone(),
                    output,
                );
                (input, probe)
            });
            // A pair's clicks of a day decide its blacklisting: a resume replays the day (25 h
            // where a zone's day is longer) and the windows' lateness.
            ctx.state_reaches_back(25 * HOUR + windows.lateness);
            // Input order breaks ties between clicks inserted at the same time.
            ctx.feed_with_origin(
                0,
                clicks,
                out_of_orderness,
                Lateness::Windowed(windows),
                |_: &AdClickEvent| true,
                move |c, at, origin| {
                    let pair = ((c.user_id, c.ad_id), days.of(c.ts));
                    let click = Click {
                        ts: c.ts,
                        province: c.province,
                    };
                    ((pair, Seq::at(at, origin, click)), at)
                },
            );
            probe
        },
    )
}
