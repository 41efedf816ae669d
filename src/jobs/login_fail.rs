//! login-fail: users who fail to log in several times in a row within seconds (the tutorial's
//! LoginFail / LoginFailWithCep).
//!
//! Business rule: per user, in event-time order (equal times in input order), N consecutive
//! `fail` events (no `success` of that user between them, from any IP) whose first and last are
//! at most T apart, inclusive. Every such run is reported, overlapping ones too: three fails in
//! 2 s give two matches for N = 2. A match is decided at its last fail. Defaults N = 2, T = 2 s,
//! out-of-orderness 3 s; a login behind the watermark goes to the late side output (its match,
//! if any, is not guessed).
//!
//! The tutorial's CEP pattern:
//!
//! ```scala
//! Pattern.begin[LoginEvent]("begin").where(_.eventType == "fail")
//!   .next("next").where(_.eventType == "fail")
//!   .within(Time.seconds(2))
//! ```
//!
//! Per user, a small state machine in event time ([`keyed_process`]): the run of consecutive
//! failures so far, forgotten once T has passed its last failure.

use std::collections::VecDeque;

use differential_dataflow::input::Input;
use serde::Serialize;

use crate::engine::input::records::Record;
use crate::engine::status::failure::Failure;
use crate::engine::options::{ClusterArgs, OutOfOrderness, OutputArgs, SECOND, duration_ms};
use crate::engine::input::event_time::Lateness;
use crate::engine::output::Output;
use crate::engine::operators::patterns::{Seq, Token};
use crate::engine::operators::process::{Emit, KeyedProcess, Next, keyed_process};
use crate::engine::input::records::{LoginEvent, LoginOutcome};
use crate::engine::runner;
use crate::engine::sink::{self, AppendReport};

/// The input formats this job reads, for the hint when a file of another format is given.
pub const READS: &[&str] = &[<LoginEvent as Record>::NAME];

/// login-fail's event time: the log is out of order by up to 3 s.
type EventTime = OutOfOrderness<{ 3 * SECOND }>;

/// Users who fail to log in N times in a row within T (the tutorial's LoginFail).
///
/// Per user, in event-time order (equal times in input order): N consecutive `fail` events,
/// no `success` between them, from any IP, the first and the last at most T apart
/// (inclusive). Every run is reported, overlapping ones too, at its last fail. A login behind
/// the watermark goes to the late output.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// LoginLog csv (`userId,ip,success|fail,ts`), or `-` for stdin.
    #[arg(required_unless_present = "inputs", conflicts_with = "inputs")]
    pub input: Option<String>,
    /// How many consecutive failed logins make a match (at least 2).
    #[arg(long, default_value_t = 2)]
    pub fails: usize,
    /// The most time between the first and the last failure of a match (inclusive).
    #[arg(long, default_value = "2s", value_parser = duration_ms)]
    pub within: u64,
    #[command(flatten)]
    pub time: EventTime,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// A login as the pattern sees it.
type Login = (LoginOutcome, Token);

/// N consecutive failures of one user.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
struct Match {
    first: u64,
    last: u64,
    ips: Vec<Token>,
}

/// One row of the output.
#[derive(Serialize)]
pub struct LoginFailRow {
    pub user_id: u64,
    pub first_fail: u64,
    pub last_fail: u64,
    pub fails: usize,
    /// The IPs of the failures, in order, separated by spaces.
    pub ips: String,
    pub emitted_at: u64,
}

struct Report;

impl AppendReport for Report {
    type Value = (u64, Match);
    type Row = LoginFailRow;
    fn outcome(&self, _: &(u64, Match)) -> &'static str {
        "match"
    }
    fn row(&self, (user, m): &(u64, Match), emitted_at: u64) -> LoginFailRow {
        LoginFailRow {
            user_id: *user,
            first_fail: m.first,
            last_fail: m.last,
            fails: m.ips.len(),
            ips: join(&m.ips, " "),
            emitted_at,
        }
    }
    fn text(&self, out: &Output, (user, m): &(u64, Match), _: u64) -> String {
        format!(
            "user {user}: {} failed logins from {} to {} (ips {})",
            m.ips.len(),
            out.time(m.first),
            out.time(m.last),
            join(&m.ips, ", ")
        )
    }
}

fn join(ips: &[Token], separator: &str) -> String {
    ips.iter()
        .map(Token::as_str)
        .collect::<Vec<_>>()
        .join(separator)
}

/// One user's state machine: the run of consecutive failures that a next failure may complete.
struct Runs {
    fails: usize,
    within: u64,
}

impl KeyedProcess for Runs {
    type Key = u64;
    type Event = Login;
    /// The user's latest consecutive failures (time, ip), at most `fails` of them.
    type State = VecDeque<(u64, Token)>;
    type Out = (u64, Match);

    fn step(
        &mut self,
        &user: &u64,
        run: &mut VecDeque<(u64, Token)>,
        time: u64,
        logins: &[Seq<Login>],
        out: &mut Emit<(u64, Match)>,
    ) -> Next {
        for login in logins {
            let (outcome, ip) = &login.event;
            if *outcome == LoginOutcome::Success {
                run.clear();
                continue;
            }
            if run.len() == self.fails {
                run.pop_front();
            }
            run.push_back((time, ip.clone()));
            let first = run[0].0;
            if run.len() == self.fails && time - first <= self.within {
                let ips = run.iter().map(|(_, ip)| ip.clone()).collect();
                out.push((user, Match { first, last: time, ips }));
            }
        }
        // Once `within` has passed its last failure, the run can be part of no match.
        match run.back() {
            Some((last, _)) => Next::Idle { until: last + self.within + 1 },
            None => Next::Forget,
        }
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.fails < 2 {
        return Err("--fails must be at least 2".into());
    }

    runner::execute(
        &[crate::jobs::inputs::named_input(&args.input)],
        &args.cluster,
        &args.output,
        move |worker, ctx| {
            let output = ctx.output();
            let (logins, probe) = worker.dataflow::<u64, _, _>(|scope| {
                let (input, logins) = scope.new_collection::<(u64, Seq<Login>), isize>();
                let matches = keyed_process(logins, "LoginFail/runs", Runs { fails: args.fails, within: args.within });
                let probe = sink::append(matches, "LoginFail/sink", Report, None, output);
                (input, probe)
            });
            // A match is N consecutive fails within --within: nothing older counts.
            ctx.state_reaches_back(args.within);
            ctx.feed_with_origin(
                0,
                logins,
                args.time.out_of_orderness,
                Lateness::Strict,
                |_: &LoginEvent| true,
                move |l, t, origin| {
                    (
                        (
                            l.user_id,
                            Seq::at(t, origin, (l.outcome, Token::new(&l.ip))),
                        ),
                        t,
                    )
                },
            );
            probe
        },
    )
}
