//! user-profile: each user's behaviour over a sliding horizon, kept current as events arrive.
//!
//! Business rule (the tutorial's "偏好统计" direction, which it never built): per user, over the
//! events of the last `--horizon` (1 day) of event time: the events of each behaviour, the three
//! categories with the highest weighted score (pv 1, fav 2, cart 3, buy 4 by default), the time
//! of the latest event, and a segment:
//!
//! - `repeat-buyer`: two or more buys in the horizon;
//! - `buyer`: one buy;
//! - `intent`: carts or favourites, no buy;
//! - `browser`: views only;
//! - `dormant`: the user's last event has just left the horizon (printed once, with zero counts
//!   and the old last-active time; the user is then forgotten).
//!
//! The dataflow: every event is visible from its own time for the horizon (`temporal::Horizon`);
//! a `reduce` per user turns the visible events into the profile; the per-key sink prints each
//! profile when it changes (at the times of the user's events, and when one of them leaves the
//! horizon), or the snapshot at the latest event time.

use std::collections::HashMap;

use differential_dataflow::input::Input;
use serde::{Deserialize, Serialize};

use crate::engine::records::Record;
use crate::engine::failure::Failure;
use crate::engine::options::{ClusterArgs, OutputArgs, duration_ms};
use crate::engine::keyed::{KeyedReport, Mode, keyed};
use crate::engine::output::Output;
use crate::engine::records::{Behavior, UserBehavior};
use crate::engine::runner;
use crate::engine::temporal::Horizon;

/// How many categories a profile names.
const TOP_CATEGORIES: usize = 3;

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<UserBehavior as Record>::NAME];

/// Per-user profile over a sliding horizon: behaviour counts, top categories, segment.
///
/// A profile is printed (`update: false` the first time, `true` after) at every event time at
/// which it changes: when one of the user's events arrives, and when one leaves the horizon
/// (`ts + horizon`). Segments, from the events in the horizon: repeat-buyer (>= 2 buys), buyer
/// (1 buy), intent (carts or favs, no buy), browser (views only); dormant is printed once when the
/// user's last event leaves the horizon. Top categories: by weighted score, ties to the smaller
/// category id. A late event counts while its horizon lasts (it enters at the watermark).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// UserBehavior csv (`userId,itemId,categoryId,behavior,ts`), or `-` for stdin.
    /// Default: the sample in data/.
    pub input: Option<String>,
    /// How long an event counts in its user's profile.
    #[arg(long, default_value = "1d", value_parser = duration_ms)]
    pub horizon: u64,
    /// Weight of a view in a category's score.
    #[arg(long, default_value_t = 1)]
    pub weight_pv: u64,
    /// Weight of a favourite.
    #[arg(long, default_value_t = 2)]
    pub weight_fav: u64,
    /// Weight of a cart.
    #[arg(long, default_value_t = 3)]
    pub weight_cart: u64,
    /// Weight of a buy.
    #[arg(long, default_value_t = 4)]
    pub weight_buy: u64,
    /// Print only the profiles at the latest event time, once, at the end of input.
    #[arg(long)]
    pub snapshot: bool,
    /// Only these users' profiles (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub users: Vec<u64>,
    /// Bounded out-of-orderness of the input: the watermark trails the latest time by this much.
    #[arg(long, default_value = "0", value_parser = duration_ms)]
    pub out_of_orderness: u64,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// A user's profile over the horizon.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Profile {
    /// Events per behaviour: pv, fav, cart, buy.
    counts: [u64; 4],
    /// Up to three `(category, score)`, best first.
    top: Vec<(u32, u64)>,
    last_active: u64,
}

fn index(b: Behavior) -> usize {
    match b {
        Behavior::Pv => 0,
        Behavior::Fav => 1,
        Behavior::Cart => 2,
        Behavior::Buy => 3,
    }
}

impl Profile {
    fn segment(&self) -> &'static str {
        match self.counts {
            [_, _, _, buys] if buys >= 2 => "repeat-buyer",
            [_, _, _, 1] => "buyer",
            [_, favs, carts, _] if favs + carts > 0 => "intent",
            _ => "browser",
        }
    }
}

/// One output record: csv / json.
#[derive(Serialize)]
pub struct ProfileRow {
    pub user_id: u64,
    pub segment: &'static str,
    pub pv: u64,
    pub fav: u64,
    pub cart: u64,
    pub buy: u64,
    pub category_1: Option<u32>,
    pub score_1: Option<u64>,
    pub category_2: Option<u32>,
    pub score_2: Option<u64>,
    pub category_3: Option<u32>,
    pub score_3: Option<u64>,
    pub last_active: u64,
    pub update: bool,
    pub emitted_at: u64,
}

struct Report;

impl KeyedReport for Report {
    type Key = u64;
    type Value = Profile;
    fn emit(
        &self,
        out: &mut Output,
        &user: &u64,
        rows: &[Profile],
        previous: &[Profile],
        update: bool,
        at: u64,
    ) {
        let (profile, segment) = match rows.first() {
            Some(p) => (p.clone(), p.segment()),
            None => {
                let last_active = previous.first().map_or(0, |p| p.last_active);
                let gone = Profile {
                    counts: [0; 4],
                    top: Vec::new(),
                    last_active,
                };
                (gone, "dormant")
            }
        };
        let top = |i: usize| profile.top.get(i).copied();
        if out.wants_text() {
            {
                let categories: Vec<String> = profile
                    .top
                    .iter()
                    .map(|(c, s)| format!("{c} ({s})"))
                    .collect();
                let [pv, fav, cart, buy] = profile.counts;
                let line = format!(
                    "{} | user {user} | {segment} | pv {pv} fav {fav} cart {cart} buy {buy} | top categories {} | last active {}{}",
                    out.time(at),
                    if categories.is_empty() {
                        "-".to_owned()
                    } else {
                        categories.join(", ")
                    },
                    out.time(profile.last_active),
                    if update { " | update" } else { "" },
                );
                out.line(&line);
            }
        }
        out.replace("user_id", user, false);
        if out.wants_rows() {
            out.row(&ProfileRow {
                user_id: user,
                segment,
                pv: profile.counts[0],
                fav: profile.counts[1],
                cart: profile.counts[2],
                buy: profile.counts[3],
                category_1: top(0).map(|t| t.0),
                score_1: top(0).map(|t| t.1),
                category_2: top(1).map(|t| t.0),
                score_2: top(1).map(|t| t.1),
                category_3: top(2).map(|t| t.0),
                score_3: top(2).map(|t| t.1),
                last_active: profile.last_active,
                update,
                emitted_at: at,
            });
        }
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.output.settled {
        return Err("--settled does not apply to user-profile: a profile can change with every \
            event until the input ends; --snapshot prints each user's profile once, at the end"
            .into());
    }
    let horizon = Horizon::new(args.horizon)?;
    let weights = [
        args.weight_pv,
        args.weight_fav,
        args.weight_cart,
        args.weight_buy,
    ];
    let mode = if args.snapshot {
        Mode::Snapshot
    } else {
        Mode::Changes
    };
    let mut only = args.users.clone();
    only.sort_unstable();
    let input = crate::jobs::input_or_sample(&args.input, &args.cluster)?;

    runner::execute(&[input], &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let only = only.clone();
        let (events, probe) = worker.dataflow::<u64, _, _>(|scope| {
            // (user, (ts, category, behaviour)) at the time the event enters.
            let (events, arrived) = scope.new_collection::<(u64, (u64, u32, Behavior)), isize>();
            let ticks = arrived.clone().map(|_| ());
            let arrived = arrived
                .filter(move |(user, _)| only.is_empty() || only.binary_search(user).is_ok());

            let profiles = horizon.apply(arrived, |(_, (ts, _, _))| *ts).reduce_named(
                "UserProfile/profile",
                move |_user, events, out| {
                    let mut counts = [0u64; 4];
                    let mut scores: HashMap<u32, u64> = HashMap::new();
                    for &(&(_, category, behavior), n) in events {
                        let n = n as u64;
                        counts[index(behavior)] += n;
                        *scores.entry(category).or_default() += n * weights[index(behavior)];
                    }
                    let mut top: Vec<(u32, u64)> = scores.into_iter().collect();
                    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    top.truncate(TOP_CATEGORIES);
                    // Values arrive sorted, by time first.
                    let last_active = events.last().map_or(0, |(e, _)| e.0);
                    out.push((
                        Profile {
                            counts,
                            top,
                            last_active,
                        },
                        1,
                    ));
                },
            );
            (
                events,
                keyed(profiles, ticks, "UserProfile/sink", mode, Report, output),
            )
        });
        ctx.feed(
            0,
            events,
            args.out_of_orderness,
            horizon.lateness(),
            |_: &UserBehavior| true,
            |b, t| ((b.user_id, (b.ts, b.category_id, b.behavior)), t),
        );
        probe
    })
}
