//! funnel: the shopping funnel per hour and per day, overall and per category.
//!
//! Business rule (the tutorial's "偏好统计" direction, which it never built): over the rows of
//! `UserBehavior.csv`, for each 1 h tumbling window and each day (days start at 00:00 in
//! `--day-tz`, UTC+8 by default), overall and for each category: the distinct users and the events
//! of each behaviour (pv, fav, cart, buy), the conversion rates `users who did X / users who
//! viewed` for X in fav, cart, buy, and per day the repeat-purchase rate `buyers with >= 2 buys /
//! buyers`. A conversion rate is not an ordered path: a user who bought in a window counts as a
//! buyer even without a view in it (the rate can exceed 1).
//!
//! The dataflow: each event is counted in four scopes (its hour and its day, overall and in its
//! category). The users are sharded over the workers; per window (an hour, a day), each worker
//! remembers how many events of each step each of its users had, overall and per category, and
//! turns each event into changes of the scopes' sums (a new user who viewed, one more view, a
//! second buy: [`fold_per_window`]); a `count` adds the workers' shares, a `reduce` makes one row
//! per scope; the window sink. Days are unions of hours (`--day-tz` must be a whole number of
//! windows away from UTC), so a day's result is printed with the hour window that ends with it.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use differential_dataflow::Hashable;
use differential_dataflow::input::Input;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::time::calendar::{DAY_MS, Days};
use crate::engine::options::{ClusterArgs, HOUR, OutputArgs, TumblingArgs};
use crate::engine::input::event_time::Lateness;
use crate::engine::output::Output;
use crate::engine::input::records::{Behavior, UserBehavior};
use crate::engine::runner;
use crate::engine::sink::{self, WindowReport};
use crate::engine::time::time_fmt::{Zone, format_ms};
use crate::engine::operators::window_fold::{WindowFold, fold_per_window};
use crate::engine::time::windows::Window;


/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<UserBehavior as Record>::NAME];

/// funnel's windows: 1 h tumbling (the hours of the funnel); in-order input, no allowed lateness.
type EventTime = TumblingArgs<HOUR>;

/// Shopping funnel per hour and per day, overall and per category: users, events, conversion.
///
/// Windows are tumbling, of --window; a day must be a whole number of windows. Output rows, per
/// window end: the hour window (overall, then each category by id), then, when the window ends a
/// day in `--day-tz`, the day (overall, then each category). Conversion rates
/// are `users_fav / users_pv`, `users_cart / users_pv`, `users_buy / users_pv` among the users of
/// the same scope (empty when nobody viewed); they are not ordered paths. `repeat_rate` (days
/// only) is `repeat_buyers / users_buy`, a repeat buyer having two or more buys that day in that
/// scope. Late records follow the window rule: one whose hour window is purged is late (counted
/// in neither its hour nor its day, so that days stay unions of hours).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// UserBehavior csv (`userId,itemId,categoryId,behavior,ts`), or `-` for stdin.
    /// Default: the sample in data/.
    pub input: Option<String>,
    #[command(flatten)]
    pub time: EventTime,
    /// Zone in which days start at 00:00 (UTC+8: the dataset's zone): an offset or an IANA name
    /// (Asia/Shanghai). Must always be a whole number of windows away from UTC.
    #[arg(long, default_value = "+08:00", allow_hyphen_values = true)]
    pub day_tz: String,
    /// Only the overall rows, no per-category rows.
    #[arg(long)]
    pub overall_only: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// The funnel's steps, in funnel order.
const STEPS: [Behavior; 4] = [Behavior::Pv, Behavior::Fav, Behavior::Cart, Behavior::Buy];

fn step(b: Behavior) -> usize {
    STEPS
        .iter()
        .position(|s| *s == b)
        .expect("every behaviour is a step")
}

/// Whether a scope is a window of `--window` or a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Span {
    Window,
    Day,
}

/// Where an event counts: a window (or day) ending at `end`, overall (`None`) or in a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Scope {
    end: u64,
    span: Span,
    category: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Metric {
    Users(usize),
    Events(usize),
    RepeatBuyers,
}

/// One scope's funnel; rows sort as printed (window before day, overall before categories).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Counts {
    span: Span,
    category: Option<u32>,
    start: u64,
    users: [u64; 4],
    events: [u64; 4],
    repeat_buyers: Option<u64>,
}

/// One output record: csv / json.
#[derive(Serialize)]
pub struct FunnelRow {
    pub window_start: u64,
    pub window_end: u64,
    pub span: &'static str,
    pub category_id: Option<u32>,
    pub users_pv: u64,
    pub users_fav: u64,
    pub users_cart: u64,
    pub users_buy: u64,
    pub events_pv: u64,
    pub events_fav: u64,
    pub events_cart: u64,
    pub events_buy: u64,
    pub fav_rate: Option<f64>,
    pub cart_rate: Option<f64>,
    pub buy_rate: Option<f64>,
    pub repeat_buyers: Option<u64>,
    pub repeat_rate: Option<f64>,
    pub update: bool,
    pub emitted_at: u64,
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

struct Report {
    day_zone: Zone,
    /// `--day-tz` as the user wrote it.
    day_tz: String,
}

impl WindowReport for Report {
    type Value = Counts;
    type Row<'a> = FunnelRow;
    fn title(&self) -> String {
        "funnel".into()
    }
    fn row(&self, w: Window, _rank: usize, row: &Counts, update: bool, emitted_at: u64) -> FunnelRow {
        let [users_pv, users_fav, users_cart, users_buy] = row.users;
        let [events_pv, events_fav, events_cart, events_buy] = row.events;
        FunnelRow {
            window_start: row.start,
            window_end: w.end,
            span: match row.span {
                Span::Window => "window",
                Span::Day => "day",
            },
            category_id: row.category,
            users_pv,
            users_fav,
            users_cart,
            users_buy,
            events_pv,
            events_fav,
            events_cart,
            events_buy,
            fav_rate: ratio(users_fav, users_pv),
            cart_rate: ratio(users_cart, users_pv),
            buy_rate: ratio(users_buy, users_pv),
            repeat_buyers: row.repeat_buyers,
            repeat_rate: row.repeat_buyers.and_then(|r| ratio(r, users_buy)),
            update,
            emitted_at,
        }
    }
    fn text(&self, _rank: usize, row: &Counts) -> String {
        let scope = match row.category {
            None => "all categories".to_owned(),
            Some(c) => format!("category {c}"),
        };
        let span = match row.span {
            Span::Window => String::new(),
            Span::Day => {
                let day = format_ms(row.start, self.day_zone.offset_at(row.start));
                format!("day {} ({}) | ", &day[..10], self.day_tz)
            }
        };
        let steps: Vec<String> = STEPS
            .iter()
            .enumerate()
            .map(|(i, b)| format!("{} {}/{}", b.name(), row.users[i], row.events[i]))
            .collect();
        let pct = |part: u64| match ratio(part, row.users[0]) {
            Some(r) => format!("{:.1}%", r * 100.0),
            None => "-".into(),
        };
        let mut line = format!(
            "{span}{scope} | users/events {} | fav {} cart {} buy {} of viewers",
            steps.join(" "),
            pct(row.users[1]),
            pct(row.users[2]),
            pct(row.users[3]),
        );
        if let Some(repeat) = row.repeat_buyers {
            match ratio(repeat, row.users[3]) {
                Some(r) => line.push_str(&format!(" | repeat buyers {repeat} ({:.1}%)", r * 100.0)),
                None => line.push_str(" | repeat buyers 0"),
            }
        }
        line
    }
}

/// A window of the funnel: an hour (`--window`) or the day it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Period {
    end: u64,
    span: Span,
}

/// What one worker remembers of its users in one window: the events of each step, overall
/// and per category.
#[derive(Default)]
struct Seen {
    users: HashMap<u64, [u32; 4], foldhash::fast::FixedState>,
    in_category: HashMap<(u32, u64), [u32; 4], foldhash::fast::FixedState>,
}

/// The funnel's sums: per scope, the users and events of each step, and the repeat buyers.
struct Steps {
    days: Days,
    lateness: u64,
    overall_only: bool,
}

/// (user, category, behaviour, end of its hour window)
type Event = (u64, u32, Behavior, u64);

impl WindowFold for Steps {
    type Record = Event;
    type Window = Period;
    type State = Seen;
    type Sum = (Scope, Metric);

    fn shard(&self, (user, ..): &Event) -> u64 {
        user.hashed()
    }

    fn windows(&self, &(_, _, _, end): &Event, windows: &mut Vec<Period>) {
        windows.push(Period {
            end,
            span: Span::Window,
        });
        windows.push(Period {
            end: self.days.end(end - 1),
            span: Span::Day,
        });
    }

    fn fires_at(&self, period: Period) -> u64 {
        period.end - 1
    }

    fn purged_at(&self, period: Period) -> u64 {
        period.end + self.lateness
    }

    fn fold(
        &self,
        Period { end, span }: Period,
        seen: &mut Seen,
        &(user, category, behavior, _): &Event,
        diff: isize,
        sums: &mut Vec<((Scope, Metric), isize)>,
    ) {
        let s = step(behavior);
        let mut count = |category: Option<u32>, steps: &mut [u32; 4]| {
            let scope = Scope {
                end,
                span,
                category,
            };
            let before = steps[s] as isize;
            let after = before + diff;
            steps[s] = after as u32;
            sums.push(((scope, Metric::Events(s)), diff));
            let users = isize::from(after > 0) - isize::from(before > 0);
            if users != 0 {
                sums.push(((scope, Metric::Users(s)), users));
            }
            if span == Span::Day && behavior == Behavior::Buy {
                let repeat = isize::from(after >= 2) - isize::from(before >= 2);
                if repeat != 0 {
                    sums.push(((scope, Metric::RepeatBuyers), repeat));
                }
            }
        };
        count(None, seen.users.entry(user).or_default());
        if !self.overall_only {
            count(Some(category), seen.in_category.entry((category, user)).or_default());
        }
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let days = Days::parse(&args.day_tz)?;
    let zone = days.zone();
    let window = args.time.size.window;
    if window == 0 || !DAY_MS.is_multiple_of(window) {
        return Err(format!("--window ({window} ms) must divide a day").into());
    }
    if !days.aligned_to(window) {
        return Err(format!(
            "--day-tz {} is not always a whole number of windows away from UTC: days must be unions of windows",
            args.day_tz
        )
        .into());
    }
    let day_tz = args.day_tz.clone();
    let windows = args.time.windows()?;
    let input = crate::jobs::inputs::input_or_sample(&args.input, &args.cluster)?;
    let (overall_only, out_of_orderness, lateness) = (
        args.overall_only,
        args.time.out_of_orderness(),
        windows.lateness,
    );

    runner::execute(&[input], &args.cluster, &args.output, move |worker, ctx| {
        let output: Option<Output> = ctx.output();
        let (events, probe) = worker.dataflow::<u64, _, _>(|scope| {
            // (user, category, behaviour, end of its window), at the window's last millisecond.
            let (events, hourly) = scope.new_collection::<(u64, u32, Behavior, u64), isize>();

            let sums = fold_per_window(
                hourly,
                "Funnel/users",
                Steps {
                    days,
                    lateness,
                    overall_only,
                },
            );
            let rows = sums
                .count()
                .map(|((scope, metric), n)| (scope, (metric, n)))
                .reduce_named("Funnel/rows", move |scope: &Scope, metrics, out| {
                    let start = match scope.span {
                        Span::Window => scope.end - windows.size,
                        Span::Day => days.start(days.of(scope.end - 1)),
                    };
                    let mut row = Counts {
                        span: scope.span,
                        category: scope.category,
                        start,
                        users: [0; 4],
                        events: [0; 4],
                        repeat_buyers: (scope.span == Span::Day).then_some(0),
                    };
                    for &(&(metric, n), _) in metrics {
                        match metric {
                            Metric::Users(s) => row.users[s] = n as u64,
                            Metric::Events(s) => row.events[s] = n as u64,
                            Metric::RepeatBuyers => row.repeat_buyers = Some(n as u64),
                        }
                    }
                    out.push((row, 1));
                })
                .map(|(scope, row)| (scope.end, row));
            (
                events,
                sink::windows(
                    rows,
                    "Funnel/sink",
                    windows,
                    Report {
                        day_zone: zone,
                        day_tz: day_tz.clone(),
                    },
                    output,
                ),
            )
        });
        // A day's scopes hold its users' steps since the day began (25 h where a zone's day is
        // longer): a resume replays the day and the windows' lateness.
        ctx.state_reaches_back(25 * HOUR + windows.lateness);
        ctx.feed(
            0,
            events,
            out_of_orderness,
            Lateness::Windowed(windows),
            |_: &UserBehavior| true,
            move |b, t| {
                let end = (b.ts / windows.size + 1) * windows.size;
                ((b.user_id, b.category_id, b.behavior, end), t.max(end - 1))
            },
        );
        probe
    })
}
