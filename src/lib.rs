//! uba: the jobs of the Flink "UserBehaviorAnalysis" tutorial on timely and differential dataflow.
//!
//! Three layers, each depending only on the ones below it:
//! - [`engine`]: the event-time contract of `docs/event-time.md`, implemented once (sources,
//!   windows, operators, sinks, the runner). It names no job and no command line.
//! - [`jobs`]: one module per job, each reading top to bottom as the dataflow it builds, and the
//!   registry that lists them.
//! - [`cli`]: the `uba` command line, job files, and the local cluster launcher.
//!
//! [`generate`] (the sample data generators) stands alone.

pub mod cli;
pub mod engine;
#[path = "gen/mod.rs"]
pub mod generate;
pub mod jobs;
