//! One module per job, each reading top to bottom as the dataflow it builds.

pub mod hot_items;
pub mod login_fail;
pub mod order_timeout;
pub mod tx_match;
