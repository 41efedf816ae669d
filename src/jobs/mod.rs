//! One module per job, each reading top to bottom as the dataflow it builds.

pub mod ad_stats;
pub mod app_marketing;
pub mod funnel;
pub mod hot_items;
pub mod hot_pages;
pub mod login_fail;
pub mod order_timeout;
pub mod parse;
pub mod pv;
pub mod recommend;
pub mod tx_match;
pub mod user_profile;
pub mod uv;
