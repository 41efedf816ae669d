//! recommend: item-to-item collaborative filtering over a sliding horizon, kept current as events
//! arrive, with an offline evaluation against the popularity baseline.
//!
//! Business rule (the tutorial's "偏好统计" direction, which it never built): two items are related
//! when the same user interacted with both (any behaviour) within the horizon. With `R(u)` the
//! user's recent items (the last `--max-user-items` distinct items they touched in the horizon),
//! `n_i` the number of users with `i` in `R(u)` and `co(i, j)` the number with both:
//!
//! ```text
//! sim(i, j)   = round(1e9 * co(i, j) / sqrt(n_i * n_j))          (cosine, fixed point)
//! score(u, j) = sum over i in R(u), i != j, j among the N nearest neighbours of i, of sim(i, j)
//! ```
//!
//! (the N = `--neighbours` nearest neighbours of an item: by similarity, ties to the smaller id).
//!
//! A user's list: the `--top` items by score (ties to the smaller item id), without the items the
//! user bought within the horizon. Items the user merely viewed may be recommended (re-visits are
//! what carts are made of). Fixed point makes scores exact integers, so sums do not depend on the
//! order in which a worker adds them.
//!
//! The dataflow: events visible for the horizon (`temporal`); a `reduce` per user keeps `R(u)`;
//! `n_i` is a count over it and `co(i, j)` a self-join of it on the user, counted: one event
//! changes only the pairs of its user (at most `2 M` of them). Scores are a join of `R(u)` with
//! the similarities; one `reduce` per user sums each candidate's, drops the bought items and keeps
//! the top K. A change of `n_i` changes every `sim(i, ·)` and so the scores of every user who
//! holds `i`: that ripple, not the pairs, is what a busy item costs. So only `--changes` follows
//! every event through the model (events visible for the horizon, `temporal`); the lists at the
//! last input time (the default) are computed once, from each user's events still in the horizon
//! then ([`Horizons`]), and `--evaluate T` builds the model once, at `T`. Computed once, the pairs
//! are never records: each worker counts the pairs of the items it owns, item by item, from every
//! user's `R(u)` (`per_item_cooccurrence`), and keeps each item's N nearest; each worker then
//! scores its users against the whole table of neighbours (`per_key_with_table`).
//!
//! `--evaluate T`: the model learns from the events before `T` (those still in the horizon at
//! `T`, frozen there); the users who cart or buy after `T` are the test users; hit rate at K is
//! the share of them whose list holds at least one item they carted or bought after `T`; coverage
//! is the share of the training items that appear in some list. The popularity baseline is the
//! same for every user: the K items with the most training events.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use differential_dataflow::VecCollection;
use differential_dataflow::input::Input;
use foldhash::fast::FixedState;
use serde::{Deserialize, Serialize};

use crate::engine::input::event_time::Lateness;
use crate::engine::operators::broadcast::{Table, per_key_with_table};
use crate::engine::operators::cooccurrence::per_item_cooccurrence;
use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, OutOfOrderness, OutputArgs, duration_ms};
use crate::engine::sink::keyed::{KeyedReport, Mode, keyed};
use crate::engine::output::Output;
use crate::engine::input::records::{Behavior, UserBehavior};
use crate::engine::operators::patterns::Seq;
use crate::engine::operators::process::{Emit, KeyedProcess, Next, keyed_process_to_last_input};
use crate::engine::runner;
use crate::engine::sink;
use crate::engine::time::temporal::{Horizon, InHorizon};
use crate::engine::operators::topn::{Ranked, top_n};

/// Similarities are fixed point: this many units make 1.0.
pub const SCALE: f64 = 1e9;

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<UserBehavior as Record>::NAME];

/// recommend's event time: in-order input.
type EventTime = OutOfOrderness;

/// Item-to-item collaborative filtering over a sliding horizon; `--evaluate T` against popularity.
///
/// Prints each user's list (rank, item, score = sum of fixed-point cosine similarities, 1e9 =
/// 1.0) as of the latest event time (default), or every change of it (`--changes`); ties go to
/// the smaller item id. `--max-user-items M` bounds a user's cost (M^2 pairs) at the price of
/// forgetting their older items within the horizon. `--evaluate T` (epoch seconds or an ISO
/// date-time such as 2017-11-26T02:30:00Z) prints hit rate at K and coverage for the model and
/// for the popularity baseline instead of lists.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// UserBehavior csv (`userId,itemId,categoryId,behavior,ts`), or `-` for stdin.
    /// Default: the sample in data/.
    pub input: Option<String>,
    /// How long an interaction relates items.
    #[arg(long, default_value = "1d", value_parser = duration_ms)]
    pub horizon: u64,
    /// Length of each user's list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Only a user's last M distinct items in the horizon count (by time, then item id).
    #[arg(long, default_value_t = 50)]
    pub max_user_items: usize,
    /// Each item keeps only its N most similar items (ties to the smaller id) as candidates.
    #[arg(long, default_value_t = 20)]
    pub neighbours: usize,
    /// Print every change of the lists instead of the lists at the latest event time (not with
    /// --evaluate, which prints rates, not lists).
    #[arg(long, conflicts_with = "evaluate")]
    pub changes: bool,
    /// Only these users' lists (comma-separated ids); every user's events still train the model.
    /// Not with --evaluate, which tests every user who carts or buys after T.
    #[arg(long, value_delimiter = ',', conflicts_with = "evaluate")]
    pub users: Vec<u64>,
    /// Learn before T, test on the carts and buys from T on (epoch seconds or ISO date-time).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    pub evaluate: Option<u64>,
    #[command(flatten)]
    pub time: EventTime,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `1511663400` (epoch seconds), `2017-11-26T02:30:00Z`, `2017-11-26T10:30:00+08:00` or
/// `2017-11-26 02:30:00` (UTC), as epoch milliseconds.
pub fn parse_instant(s: &str) -> Result<u64, String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return secs
            .checked_mul(1000)
            .ok_or_else(|| format!("'{s}' is too large"));
    }
    let t = time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| {
            time::PrimitiveDateTime::parse(
                s,
                format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            )
            .map(|t| t.assume_utc())
        })
        .map_err(|_| {
            format!("'{s}' is neither epoch seconds nor a date-time like 2017-11-26T02:30:00Z")
        })?;
    u64::try_from(t.unix_timestamp() * 1000).map_err(|_| format!("'{s}' is before 1970"))
}

/// The fixed-point cosine similarity of two items.
fn similarity(co: isize, n_i: isize, n_j: isize) -> isize {
    (co as f64 / ((n_i as f64) * (n_j as f64)).sqrt() * SCALE).round() as isize
}

type Event = (u64, (u64, u64, Behavior)); // (user, (ts, item, behaviour))

/// Each user's events in the horizon, for lists wanted only at the last input time: kept until
/// then, and given to the model all at once, at that time, as what the model reads of a user:
/// `R(u)` and the items bought. The model is then computed once, over the events visible at that
/// time (the same lists as computing it at every event: each of its operators is a function of
/// the collection at a time), instead of following each event and each expiry: a change of `n_i`
/// ripples into the scores of every user who holds `i`.
struct Horizons {
    horizon: Horizon,
    max_user_items: usize,
}

impl KeyedProcess for Horizons {
    type Key = u64;
    type Event = (u64, Behavior);
    /// `(item, behaviour)` at their times.
    type State = InHorizon<(u64, Behavior)>;
    /// `(user, (item, bought))`: the user's recent items `R(u)` (`false`), and the items they
    /// bought (`true`), at the last input time.
    type Out = (u64, (u64, bool));

    fn step(
        &mut self,
        _user: &u64,
        events: &mut InHorizon<(u64, Behavior)>,
        time: u64,
        arrived: &[Seq<(u64, Behavior)>],
        _out: &mut Emit<(u64, (u64, bool))>,
    ) -> Next {
        for e in arrived {
            events.enter(e.ts, e.event);
        }
        events.leave(self.horizon, time, drop);
        let latest = events.latest().expect("an event in its horizon");
        Next::Idle {
            until: latest + self.horizon.length,
        }
    }

    fn finish(
        &mut self,
        &user: &u64,
        events: &mut InHorizon<(u64, Behavior)>,
        time: u64,
        out: &mut Emit<(u64, (u64, bool))>,
    ) {
        let mut seen: Vec<(u64, u64)> = Vec::new();
        let mut bought: Vec<u64> = Vec::new();
        for &(ts, (item, behavior)) in events.at(self.horizon, time) {
            seen.push((ts, item));
            if behavior == Behavior::Buy {
                bought.push(item);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        bought.sort_unstable();
        bought.dedup();
        let recent = recent_items(seen.iter().rev().map(|&(_, item)| item), self.max_user_items);
        for item in recent {
            out.push((user, (item, false)));
        }
        for item in bought {
            out.push((user, (item, true)));
        }
    }
}

/// `R(u)`: the first `max_user_items` distinct items of a user's items, newest (time, item) first.
fn recent_items(newest_first: impl Iterator<Item = u64>, max_user_items: usize) -> Vec<u64> {
    let mut kept: Vec<u64> = Vec::with_capacity(max_user_items);
    for item in newest_first {
        if kept.len() == max_user_items {
            break;
        }
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

/// Sorts `rows` and keeps the first `k`: a selection first, so only the kept rows are sorted.
fn first_k<T: Ord>(rows: &mut Vec<T>, k: usize) {
    if rows.len() > k {
        rows.select_nth_unstable(k);
        rows.truncate(k);
    }
    rows.sort_unstable();
}

/// One user's candidates: their similarities summed per item, and the items the user bought.
#[derive(Default)]
struct Scores {
    sums: HashMap<u64, isize, FixedState>,
    bought: Vec<u64>,
}

impl Scores {
    fn add(&mut self, item: u64, similarity: isize) {
        *self.sums.entry(item).or_default() += similarity;
    }

    /// The user's list: the top `k` by score (ties to the smaller item id), without the items
    /// the user bought and without zero scores. Leaves the scores empty for the next user (the
    /// map reused: growing one per user was a tenth of the model's instructions).
    fn top(&mut self, k: usize) -> Vec<Ranked<u64>> {
        for item in self.bought.drain(..) {
            self.sums.remove(&item);
        }
        let mut scored: Vec<Ranked<u64>> = self
            .sums
            .drain()
            .filter(|&(_, score)| score != 0)
            .map(|(item, score)| (Reverse(score), item))
            .collect();
        first_k(&mut scored, k);
        scored
    }
}

/// `R(u)` of each user of `visible`: the last M distinct items, walking back from the latest
/// (time, item).
fn recent<'s>(
    visible: VecCollection<'s, u64, Event>,
    max_user_items: usize,
) -> VecCollection<'s, u64, (u64, u64)> {
    visible
        .map(|(user, (ts, item, _))| (user, (ts, item)))
        .reduce_named("Recommend/recent", move |_user, events, out| {
            let newest_first = events.iter().rev().map(|&(&(_, item), _)| item);
            let kept = recent_items(newest_first, max_user_items);
            out.extend(kept.into_iter().map(|item| (item, 1)));
        })
}

/// The items each user of `visible` bought.
fn bought<'s>(visible: VecCollection<'s, u64, Event>) -> VecCollection<'s, u64, (u64, u64)> {
    visible
        .filter(|(_, (_, _, b))| *b == Behavior::Buy)
        .map(|(user, (_, item, _))| (user, item))
        .distinct()
}

/// Each item's nearest neighbours as every worker holds them, items numbered densely: an item's
/// neighbours are one slice of an array, found with one lookup, and a candidate is a `u32`.
struct Nearest {
    /// Item `x` is `names[x]`; its neighbours are `rows[starts[x]..starts[x + 1]]` (items met
    /// only as neighbours have none), as `(x of the neighbour, similarity)`.
    ids: HashMap<u64, u32, FixedState>,
    names: Vec<u64>,
    starts: Vec<usize>,
    rows: Vec<(u32, isize)>,
}

impl Nearest {
    /// Lays out the table of neighbours: each item's one row, its neighbours by rank.
    fn new(table: &Table<u64, Vec<(u64, isize)>>) -> Self {
        let mut ids: HashMap<u64, u32, FixedState> = HashMap::default();
        let mut names = Vec::new();
        let mut number = |item: u64| {
            *ids.entry(item).or_insert_with(|| {
                names.push(item);
                (names.len() - 1) as u32
            })
        };
        // The items with neighbours first, so that their numbers are their places in `starts`.
        for (&item, _) in table.iter() {
            number(item);
        }
        let (mut starts, mut rows) = (vec![0], Vec::new());
        for (_, lists) in table.iter() {
            for (list, m) in lists {
                rows.extend(list.iter().map(|&(j, s)| (number(j), s * m)));
            }
            starts.push(rows.len());
        }
        starts.resize(names.len() + 1, rows.len());
        Nearest {
            ids,
            names,
            starts,
            rows,
        }
    }

    /// A user's list from their `held` rows (`R(u)` and the items bought, `(item, bought)`): the
    /// top `k` by score (ties to the smaller item id), without the items the user bought and
    /// without zero scores.
    ///
    /// The candidates are summed in a small map, a few hundred entries that stay in the cache,
    /// not in an array over every item (2.5M at 10M rows), where each addition misses it.
    fn list(
        &self,
        held: &[((u64, bool), isize)],
        k: usize,
        sums: &mut HashMap<u32, isize, FixedState>,
        out: &mut Vec<Ranked<u64>>,
    ) {
        for &((i, bought), n) in held {
            if let (false, Some(&x)) = (bought, self.ids.get(&i)) {
                let x = x as usize;
                for &(y, s) in &self.rows[self.starts[x]..self.starts[x + 1]] {
                    *sums.entry(y).or_default() += s * n;
                }
            }
        }
        for &((i, bought), _) in held {
            if let (true, Some(&y)) = (bought, self.ids.get(&i)) {
                sums.remove(&y);
            }
        }
        out.extend(
            sums.drain()
                .filter(|&(_, score)| score != 0)
                .map(|(y, score)| (Reverse(score), self.names[y as usize])),
        );
        first_k(out, k);
    }
}

/// The lists computed at the one time they are read (at the last input time, at `T` of an
/// evaluation), from `trained` (every user's `R(u)`) and `held` (`R(u)` and the bought items,
/// `(user, (item, bought))`, of the users who get a list): `(user, (Reverse(score), item))`,
/// top `k`. Neither the pairs nor the candidates are ever records: each item's neighbours are
/// counted item by item from the users' items (one record per item: its neighbours, by rank),
/// and each user's candidates summed against the table of neighbours that every worker holds.
fn lists_once<'s>(
    trained: VecCollection<'s, u64, (u64, u64)>,
    held: VecCollection<'s, u64, (u64, (u64, bool))>,
    k: usize,
    neighbours: usize,
) -> VecCollection<'s, u64, (u64, Ranked<u64>)> {
    let mut ranked: Vec<Ranked<u64>> = Vec::new();
    let nearest = per_item_cooccurrence(trained, "Recommend/neighbours", move |_i, n_i, co, out| {
        ranked.extend(
            co.iter()
                .map(|&(j, co, n_j)| (Reverse(similarity(co, n_i, n_j)), j)),
        );
        first_k(&mut ranked, neighbours);
        if !ranked.is_empty() {
            out.push(ranked.drain(..).map(|(Reverse(s), j)| (j, s)).collect());
        }
    });
    // Reused from user to user: growing a map per user was a tenth of the model's instructions.
    let mut sums = HashMap::default();
    per_key_with_table(
        held,
        nearest,
        "Recommend/top",
        Nearest::new,
        move |_user, held, nearest: &Nearest, out| nearest.list(held, k, &mut sums, out),
    )
}

/// The lists of the users of `queries`, kept current through every event and expiry of
/// `visible` (`--changes`): `(user, (Reverse(score), item))`, top `k`.
fn lists_following<'s>(
    visible: VecCollection<'s, u64, Event>,
    queries: VecCollection<'s, u64, u64>,
    k: usize,
    max_user_items: usize,
    neighbours: usize,
) -> VecCollection<'s, u64, (u64, Ranked<u64>)> {
    let recent = recent(visible.clone(), max_user_items);
    let by_user = recent.clone().arrange_by_key();
    let popularity = recent.clone().map(|(_, item)| item).count(); // (i, n_i)
    // Counted and scored once per unordered pair (half the pairs to sort and join), then both
    // ways: `similarity` is symmetric.
    let cooccurrence = by_user
        .clone()
        .join_core(by_user, |_user, i, j| (i < j).then_some((*i, *j)))
        .count(); // ((i, j), co), i < j
    let similar = cooccurrence
        .map(|((i, j), co)| (i, (j, co)))
        .join_map(popularity.clone(), |&i, &(j, co), &n_i| (j, (i, co, n_i)))
        .join_map(popularity, |&j, &(i, co, n_i), &n_j| {
            ((i, j), similarity(co, n_i, n_j))
        })
        .flat_map(|((i, j), s)| [((i, j), s), ((j, i), s)]);
    // Only each item's nearest neighbours: a user's candidates stay within M * N items. One
    // `reduce` per item (the engine's two-level top-N serves small changes to big groups; here
    // an item's neighbours change with its popularity, all at once).
    let nearest = similar
        .map(|((i, j), s)| (i, (Reverse(s), j)))
        .reduce_named("Recommend/neighbours", move |_i, ranked, out| {
            out.extend(ranked.iter().take(neighbours).map(|&(&row, n)| (row, n)));
        })
        .map(|(i, (Reverse(s), j))| (i, (j, s)));
    let bought = bought(visible);
    let recent = recent.semijoin(queries);
    // Per user, its candidates `(j, Some(sim))` and bought items `(j, None)`: one `reduce` sums,
    // drops and ranks (a count per (user, j), an antijoin and a top-N arranged the candidates
    // three times).
    let candidates = recent
        .map(|(user, item)| (item, user))
        .join_map(nearest, |_i, &user, &(j, s)| (user, (j, Some(s))));
    candidates
        .concat(bought.map(|(user, item)| (user, (item, None))))
        .reduce_named("Recommend/top", move |_user, values, out| {
            let mut scores = Scores::default();
            for &(&(item, sim), n) in values {
                match sim {
                    Some(sim) => scores.add(item, sim * n),
                    None => scores.bought.push(item),
                }
            }
            out.extend(scores.top(k).into_iter().map(|row| (row, 1)));
        })
}

/// One list row: csv / json.
#[derive(Serialize)]
pub struct ListRow {
    pub user_id: u64,
    pub rank: Option<usize>,
    pub item_id: Option<u64>,
    pub score: Option<isize>,
    pub update: bool,
    pub emitted_at: u64,
}

/// Writes the lists; the text lines are built in one buffer, numbers and all (`format!` of each
/// score as a float was a fifth of a run's instructions).
#[derive(Default)]
struct ListReport {
    line: RefCell<String>,
    /// The last time printed, and its text: a snapshot's lists all have the same.
    time: RefCell<Option<(u64, String)>>,
}

/// Appends `score / SCALE` to three decimals exactly as `{:.3}` prints it: in integers, which
/// round as the float does unless the score is a tie (exactly half a thousandth away from both
/// neighbours), where the float's own rounding decides.
fn push_score(line: &mut String, score: isize) {
    use std::fmt::Write;
    const THOUSANDTH: isize = (SCALE / 1000.0) as isize;
    if score < 0 || score % THOUSANDTH == THOUSANDTH / 2 || score > 1 << 52 {
        write!(line, "{:.3}", score as f64 / SCALE).expect("a String takes any text");
        return;
    }
    let thousandths = (score + THOUSANDTH / 2) / THOUSANDTH;
    line.push_str(itoa::Buffer::new().format(thousandths / 1000));
    line.push('.');
    let fraction = thousandths % 1000;
    for digit in [fraction / 100, fraction / 10 % 10, fraction % 10] {
        line.push(char::from(b'0' + digit as u8));
    }
}

impl KeyedReport for ListReport {
    type Key = u64;
    type Value = Ranked<u64>;
    fn emit(
        &self,
        out: &mut Output,
        &user: &u64,
        rows: &[Ranked<u64>],
        _: &[Ranked<u64>],
        update: bool,
        at: u64,
    ) {
        if out.wants_text() {
            let mut line = self.line.borrow_mut();
            line.clear();
            let mut time = self.time.borrow_mut();
            if time.as_ref().is_none_or(|(t, _)| *t != at) {
                *time = Some((at, out.time(at)));
            }
            line.push_str(&time.as_ref().expect("the time just formatted").1);
            line.push_str(" | user ");
            line.push_str(itoa::Buffer::new().format(user));
            line.push_str(" | ");
            if rows.is_empty() {
                line.push_str("(no list: left the horizon)");
            }
            for (n, (Reverse(score), item)) in rows.iter().enumerate() {
                if n > 0 {
                    line.push_str(", ");
                }
                line.push_str(itoa::Buffer::new().format(*item));
                line.push_str(" (");
                push_score(&mut line, *score);
                line.push(')');
            }
            if update {
                line.push_str(" | update");
            }
            out.line(&line);
        }
        // A user's list is the rows of their id; one that left the horizon has none.
        out.replace("user_id", user, true);
        if out.wants_rows() {
            {
                if rows.is_empty() {
                    out.stream_row(&ListRow {
                        user_id: user,
                        rank: None,
                        item_id: None,
                        score: None,
                        update,
                        emitted_at: at,
                    });
                }
                for (i, (Reverse(score), item)) in rows.iter().enumerate() {
                    out.row(&ListRow {
                        user_id: user,
                        rank: Some(i + 1),
                        item_id: Some(*item),
                        score: Some(*score),
                        update,
                        emitted_at: at,
                    });
                }
            }
        }
    }
}

/// What the evaluation sink gathers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Observed {
    /// A row of a test user's list.
    Listed(u64, Ranked<u64>),
    /// A row of the popularity baseline.
    Popular(Ranked<u64>),
    /// A test user carted or bought this item after `T`.
    Truth(u64, u64),
    /// An item of the training data.
    Trained(u64),
}

/// One evaluation result: csv / json.
#[derive(Serialize)]
pub struct EvalRow {
    pub method: &'static str,
    pub k: usize,
    pub test_users: usize,
    pub users_with_list: usize,
    pub hits: usize,
    pub hit_rate: f64,
    pub recommended_items: usize,
    pub training_items: usize,
    pub coverage: f64,
    pub emitted_at: u64,
}

#[derive(Default)]
struct Evaluation {
    observed: BTreeMap<Observed, isize>,
    last: u64,
}

impl Evaluation {
    fn finish(&self, k: usize, out: &mut Output) {
        let mut lists: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        let mut truth: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        let (mut popular, mut trained) = (BTreeSet::new(), 0usize);
        for (o, _) in self.observed.iter().filter(|(_, n)| **n > 0) {
            match o {
                Observed::Listed(u, (_, item)) => drop(lists.entry(*u).or_default().insert(*item)),
                Observed::Popular((_, item)) => drop(popular.insert(*item)),
                Observed::Truth(u, item) => drop(truth.entry(*u).or_default().insert(*item)),
                Observed::Trained(_) => trained += 1,
            }
        }
        let empty = BTreeSet::new();
        let model_hits = truth
            .iter()
            .filter(|(u, t)| !lists.get(u).unwrap_or(&empty).is_disjoint(t))
            .count();
        let popular_hits = truth.values().filter(|t| !popular.is_disjoint(t)).count();
        let recommended: BTreeSet<u64> = lists.values().flatten().copied().collect();
        let users = truth.len();
        let rate = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        for (method, hits, with_list, items) in [
            ("item-cf", model_hits, lists.len(), recommended.len()),
            (
                "popularity",
                popular_hits,
                if popular.is_empty() { 0 } else { users },
                popular.len(),
            ),
        ] {
            let r = EvalRow {
                method,
                k,
                test_users: users,
                users_with_list: with_list,
                hits,
                hit_rate: rate(hits, users),
                recommended_items: items,
                training_items: trained,
                coverage: rate(items, trained),
                emitted_at: self.last,
            };
            if out.wants_text() {
                out.line(&format!(
                    "{method}: hit rate@{k} {:.2}% ({hits} of {users} test users; {with_list} had a list), coverage {:.2}% ({items} of {trained} training items)",
                    r.hit_rate * 100.0,
                    r.coverage * 100.0
                ));
            }
            if out.wants_rows() {
                out.row(&r);
            }
        }
        out.done(self.last);
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.output.settled {
        return Err("--settled does not apply to recommend: a list can change with every event \
            until the input ends; without --changes each user's list is printed once, at the end"
            .into());
    }
    let horizon = Horizon::new(args.horizon)?;
    if args.top == 0 || args.max_user_items == 0 || args.neighbours == 0 {
        return Err("--top, --max-user-items and --neighbours must be at least 1".into());
    }
    let mode = if args.changes {
        Mode::Changes
    } else {
        Mode::Snapshot
    };
    let mut only = args.users.clone();
    only.sort_unstable();
    let input = crate::jobs::inputs::input_or_sample(&args.input, &args.cluster)?;
    let neighbours = args.neighbours;
    let (k, max_user_items, evaluate, out_of_orderness) = (
        args.top,
        args.max_user_items,
        args.evaluate,
        args.time.out_of_orderness,
    );

    runner::execute(&[input], &args.cluster, &args.output, move |worker, ctx| {
        let output = ctx.output();
        let only = only.clone();
        let (events, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (events, arrived) = scope.new_collection::<Event, isize>();
            let probe = match evaluate {
                None => {
                    let ticks = arrived.clone().map(|_| ());
                    let wanted = move |u: &u64| only.is_empty() || only.binary_search(u).is_ok();
                    let ranked = match mode {
                        // Lists as of the last input time only: what the model needs of each
                        // user's events still in the horizon then, given to it at once.
                        Mode::Snapshot => {
                            let held = keyed_process_to_last_input(
                                arrived.clone().map(|(user, (ts, item, b))| {
                                    (user, Seq { ts, seq: 0, event: (item, b) })
                                }),
                                ticks.clone(),
                                "Recommend/horizons",
                                Horizons {
                                    horizon,
                                    max_user_items,
                                },
                            );
                            let trained = held
                                .clone()
                                .filter(|(_, (_, bought))| !bought)
                                .map(|(user, (item, _))| (user, item));
                            let held = held.filter(move |(user, _)| wanted(user));
                            lists_once(trained, held, k, neighbours)
                        }
                        Mode::Changes => {
                            let visible = horizon.apply(arrived.clone(), |(_, (ts, _, _))| *ts);
                            let queries = visible.clone().map(|(user, _)| user).distinct();
                            let queries = queries.filter(move |u| wanted(u));
                            lists_following(visible, queries, k, max_user_items, neighbours)
                        }
                    };
                    keyed(
                        ranked,
                        ticks,
                        "Recommend/sink",
                        mode,
                        ListReport::default(),
                        output,
                    )
                }
                Some(t) => {
                    // Training: the events before T that are still in the horizon at T, frozen. The
                    // evaluation reads the model once the input has ended, so the training events
                    // all enter at T (or when they arrive, if later): the model is built once,
                    // not followed through every event and expiry before T.
                    let training = arrived
                        .clone()
                        .filter(move |(_, (ts, _, _))| *ts < t && ts + horizon.length > t)
                        .delay(move |time| (*time).max(t));
                    let truth = arrived
                        .filter(move |(_, (ts, _, b))| {
                            *ts >= t && matches!(b, Behavior::Cart | Behavior::Buy)
                        })
                        .map(|(user, (_, item, _))| (user, item))
                        .distinct();
                    let test_users = truth.clone().map(|(user, _)| user).distinct();
                    let trained = recent(training.clone(), max_user_items);
                    let held = trained
                        .clone()
                        .semijoin(test_users)
                        .map(|(user, item)| (user, (item, false)))
                        .concat(bought(training.clone()).map(|(user, item)| (user, (item, true))));
                    let ranked = lists_once(trained, held, k, neighbours);
                    let items = training.map(|(_, (_, item, _))| item);
                    let popular = top_n(
                        items.clone().map(|item| ((), item)).count(),
                        k,
                        "Recommend/popular",
                    );
                    let observed = ranked
                        .map(|(u, row)| Observed::Listed(u, row))
                        .concat(popular.map(|((), row)| Observed::Popular(row)))
                        .concat(truth.map(|(u, item)| Observed::Truth(u, item)))
                        .concat(items.distinct().map(Observed::Trained));
                    let state = Rc::new(RefCell::new(Evaluation::default()));
                    let at_end = state.clone();
                    let mut output = output;
                    sink::gather_and_finish(
                        observed,
                        "Recommend/evaluation",
                        move |time, changes| {
                            let mut s = state.borrow_mut();
                            s.last = time;
                            for (o, d) in changes {
                                *s.observed.entry(o).or_default() += d;
                            }
                            s.observed.retain(|_, n| *n != 0);
                        },
                        || {},
                        move || {
                            if let Some(out) = output.as_mut() {
                                at_end.borrow().finish(k, out);
                            }
                        },
                    )
                }
            };
            (events, probe)
        });
        ctx.feed(
            0,
            events,
            out_of_orderness,
            Lateness::from(horizon),
            |_: &UserBehavior| true,
            |b, t| ((b.user_id, (b.ts, b.item_id, b.behavior)), t),
        );
        probe
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores print as the float formatter prints them, ties (half a thousandth) included.
    #[test]
    fn scores_print_as_floats_do() {
        let mut line = String::new();
        let edges = (0..3000).map(|t| t * 500_000);
        let around = edges.flat_map(|e: isize| [e - 1, e, e + 1]).filter(|&s| s >= 0);
        for score in around.chain([999_999_999_999, 1_000_000_000_000, 123_456_789_012]) {
            line.clear();
            push_score(&mut line, score);
            assert_eq!(line, format!("{:.3}", score as f64 / SCALE), "score {score}");
        }
    }
}
