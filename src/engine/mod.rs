//! The event-time machinery every job is built from, written once, in rooms by the stage of the
//! data's trip. Each stage imports only the stages below it (checked in `.ci/run`):
//!
//! ```text
//! runner, options      run a job: workers, inputs, output, summary; the flags every job shares
//! peers, control       a cluster's connections, and its control plane
//!   sink               a collection's changes become rows          (output, time, status)
//!   operators          the dataflow operators                      (input, time, status)
//!   input  |  output   lines become records  |  rows go somewhere  (time, status)
//!   time   |  status   the vocabulary of event time  |  what any stage reports to  (nothing)
//! ```
//!
//! Reading order follows a record: [`input`] (the formats and their parsers, one reader per
//! input with its watermark, lateness and accounting), [`time`] (windows, intervals and horizons
//! of event time as differential collections), [`operators`] (counting, ranking, folding, keyed
//! state machines), [`sink`] (a result's changes, in time order, as rows) and [`output`] (stdout,
//! files, databases), with [`status`] (failures and exit codes, progress, latency, the stop
//! flag) beside them all, and [`runner`], which runs a job's dataflow on timely's workers with
//! the [`options`] every job shares, the [`peers`] a cluster's process connects to (under a
//! deadline, after a handshake, watched for silence), and a [`control`] plane on which the
//! processes of a cluster agree on their inputs and hear of a stop in any of them. The contract
//! all of this implements is `docs/event-time.md`.
//!
//! The engine names no job and no command line: jobs are built on it, the command line on them.

pub mod control;
pub mod input;
pub mod operators;
pub mod options;
pub mod output;
pub mod peers;
pub mod runner;
pub mod sink;
pub mod status;
pub mod time;
