//! The dataflow operators jobs are built from, one family per file: windowed counts and their
//! ranking ([`window_count`], [`sliding_top`], [`topn`], [`ranked_windows`], [`hashed_keys`]), sketches and
//! folds per window ([`sketch`], [`window_fold`]), keyed state machines and sequence patterns
//! ([`process`], [`patterns`], [`quota`]), tables every worker holds ([`broadcast`]),
//! co-occurrence counts ([`cooccurrence`]) and the sums they take in arrays ([`dense_sums`]), and
//! the capability helpers they share
//! ([`capability`]). They import [`input`](super::input), [`time`](super::time) and
//! [`status`](super::status), never a sink or an output.

pub mod broadcast;
pub mod capability;
pub mod cooccurrence;
pub mod dense_sums;
pub mod hashed_keys;
pub mod patterns;
pub mod process;
pub mod quota;
pub mod ranked_windows;
pub mod sketch;
pub mod sliding_top;
pub mod topn;
pub mod window_count;
pub mod window_fold;
