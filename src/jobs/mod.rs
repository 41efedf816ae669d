//! One module per job, each reading top to bottom as the dataflow it builds.

pub mod funnel;
pub mod hot_items;
pub mod recommend;
pub mod user_profile;
