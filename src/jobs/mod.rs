//! One module per job, each reading top to bottom as the dataflow it builds.

pub mod ad_stats;
pub mod app_marketing;
pub mod hot_items;
