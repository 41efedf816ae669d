//! Seeded generators for every input of the jobs, so that tests and benchmarks can use inputs far
//! larger than the public samples, with known traits (skew, disorder, fraud, late payments), and get
//! the same bytes back from the same arguments on any machine.
//!
//! Randomness comes from ChaCha8 (portable, value-stable) with one stream per purpose, so that
//! turning on disorder or bogus timestamps moves the timestamps of the same rows instead of producing
//! different rows. Zipf draws use floating point; the platform's `powf`/`exp` could in principle
//! round differently elsewhere, which would change a rare draw, never the format.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

mod ad_clicks;
mod apache_log;
mod draw;
mod login;
mod marketing;
mod orders;
mod sink;
#[cfg(test)]
mod tests;
mod user_behavior;

pub use ad_clicks::AdClickGen;
pub use apache_log::ApacheLogGen;
pub use login::LoginGen;
pub use marketing::MarketingGen;
pub use orders::OrdersGen;
pub use user_behavior::UserBehaviorGen;

use sink::{Fail, Sink};

/// The inputs the generator can produce, one per input format of the jobs.
#[derive(clap::Subcommand, Debug)]
pub enum GenCommand {
    /// Taobao-like `userId,itemId,categoryId,behavior,ts` rows (the hot-items, pv, uv and
    /// recommendation input), with skewed popularity and per-user favourite categories.
    UserBehavior(UserBehaviorGen),
    /// Web server log lines `ip - - dd/MM/yyyy:HH:mm:ss +0000 METHOD url` (the hot-pages input).
    ApacheLog(ApacheLogGen),
    /// `userId,ip,success|fail,ts` logins with bursts of failures from attackers (login-fail).
    Login(LoginGen),
    /// `orderId,create|pay,txId,ts` orders, optionally with their payment receipts (order-timeout,
    /// tx-match).
    Orders(OrdersGen),
    /// `userId,adId,province,city,ts` ad clicks with a few click-fraud pairs (ad-stats).
    AdClicks(AdClickGen),
    /// `userId,behavior,channel,ts_ms` app-marketing events, optionally paced to the wall clock.
    Marketing(MarketingGen),
}

/// Runs one generator. The error is one sentence for the user; a reader that goes away early
/// (`| head`) is not an error.
pub fn run(cmd: &GenCommand) -> Result<(), String> {
    match cmd {
        GenCommand::UserBehavior(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::ApacheLog(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::Login(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::Orders(a) => {
            let mut plan = a.plan()?;
            let mut receipts = match &a.receipts {
                Some(path) => Sink::open(path)?,
                None => Sink::new(Box::new(io::sink()) as Box<dyn Write>, "nowhere"),
            };
            to_file(&a.out, |out| {
                plan.write(out, &mut receipts)?;
                receipts.flush()
            })
        }
        GenCommand::AdClicks(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
        GenCommand::Marketing(a) => {
            let mut plan = a.plan()?;
            to_file(&a.out, |out| plan.write(out))
        }
    }
}

/// Opens `--out` (stdout when absent or `-`), runs `body`, flushes, and turns a write error into a
/// sentence, except a closed pipe, which means the reader has seen enough.
fn to_file(
    path: &Option<PathBuf>,
    body: impl FnOnce(&mut Sink<Box<dyn Write>>) -> Result<(), Fail>,
) -> Result<(), String> {
    let mut out = match path {
        Some(p) if p.as_path() != Path::new("-") => Sink::open(p)?,
        _ => Sink::new(Box::new(io::stdout().lock()) as Box<dyn Write>, "stdout"),
    };
    match body(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(Fail { err, .. }) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(Fail { name, err }) => Err(format!("cannot write to {name}: {err}")),
    }
}
