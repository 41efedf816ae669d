//! What every stage may report to: how a run fails (one sentence, an exit code), the progress
//! line, end-to-end latency, the stop flag set by Ctrl-C, what is running (the job, its
//! arguments, the build); and what `--http` serves of it all: metrics, health, the latest
//! results, the server. It imports no other stage of the engine, so any stage can use it.

pub mod checkpoints;
pub mod failure;
pub mod health;
pub mod http;
pub mod introspection;
pub mod invocation;
pub mod latency;
pub mod live;
pub mod metrics;
pub mod progress;
pub mod stop;
