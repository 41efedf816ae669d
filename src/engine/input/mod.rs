//! Where records enter: the input formats and their parsers ([`records`]), one reader per input
//! ([`source`]) deciding in line order the watermark and lateness ([`event_time`]) and writing
//! the rejected and late lines ([`side`]); short text fields kept inline ([`token`]); a file read as it grows ([`follow`]); a Kafka topic's
//! partitions ([`kafka`]). It imports only [`time`](super::time) and [`status`](super::status);
//! it knows nothing of where results go.

pub mod event_time;
pub mod follow;
pub mod kafka;
pub mod records;
pub mod side;
pub mod source;
pub mod token;
