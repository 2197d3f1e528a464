#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub mod filter;
pub mod pagination;

pub use analytics_auth::{ApiError, Auth, ClientConfig, Secret};
pub use filter::{Cmp, ListStatsFilterExt, Org, StatsFilter, Text, Time};
pub use generated::*;
pub use pagination::ClientPagesExt;
