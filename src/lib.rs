//! uba: the jobs of the Flink "UserBehaviorAnalysis" tutorial on timely and differential dataflow.
//!
//! The engine (`records`, `source`, `event_time`, `windows`, `topn`, `sink`, `output`, `runner`)
//! implements the event-time contract of `DESIGN.md` once; each module of `jobs` only describes
//! what its job computes.

pub mod cli;
pub mod cluster;
pub mod combined_sink;
pub mod event_time;
#[path = "gen/mod.rs"]
pub mod generate;
pub mod interned;
pub mod jobs;
pub mod keyed;
pub mod latency;
pub mod output;
pub mod patterns;
pub mod records;
pub mod runner;
pub mod side;
pub mod sink;
pub mod sketch;
pub mod source;
pub mod temporal;
pub mod time_fmt;
pub mod topn;
pub mod windows;

/// The path of the sample input in `data/`: relative to the working directory when it is there
/// (a clone), else where the crate was built (`cargo run` from elsewhere).
pub fn sample_path() -> String {
    let relative = jobs::hot_items::SAMPLE;
    if std::path::Path::new(relative).exists() {
        relative.to_owned()
    } else {
        format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))
    }
}
