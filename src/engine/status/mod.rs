//! What every stage may report to: how a run fails (one sentence, an exit code), the progress
//! line, end-to-end latency, the stop flag set by Ctrl-C, and what is running (the job, its
//! arguments, the build). It imports no other stage of the engine, so any stage can use it.

pub mod failure;
pub mod invocation;
pub mod latency;
pub mod progress;
pub mod stop;
