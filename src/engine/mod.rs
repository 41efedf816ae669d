//! The event-time machinery every job is built from, written once.
//!
//! Reading order: [`records`] (the input formats and their parsers), [`source`] and
//! [`event_time`] (one reader per input file: watermark, lateness, accounting), [`windows`] and
//! [`temporal`] (how a window or an interval of event time is represented in a differential
//! collection), the operators ([`window_count`], [`topn`], [`ranked_windows`], [`hashed_keys`],
//! [`sketch`], [`window_fold`], [`patterns`], [`process`], [`quota`], [`broadcast`]), the sinks ([`sink`], [`combined_sink`], [`keyed`]) and what they write to
//! ([`output`], [`side`]), and [`runner`], which runs a job's dataflow on timely's workers with
//! the [`options`] every job shares. The contract all of this implements is `docs/event-time.md`.
//!
//! The engine names no job and no command line: jobs are built on it, the command line on them.

pub mod broadcast;
pub mod calendar;
pub mod combined_sink;
pub mod database;
pub mod event_time;
pub mod failure;
pub mod hashed_keys;
pub mod keyed;
pub mod latency;
pub mod options;
pub mod output;
pub mod patterns;
pub mod process;
pub mod progress;
pub mod quota;
pub mod ranked_windows;
pub mod records;
pub mod report;
pub mod runner;
pub mod side;
pub mod sink;
pub mod sketch;
pub mod source;
pub mod table;
pub mod table_row;
pub mod temporal;
pub mod time_fmt;
pub mod topn;
pub mod window_count;
pub mod window_fold;
pub mod windows;
