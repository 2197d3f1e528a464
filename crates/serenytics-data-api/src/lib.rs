#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub mod csv;

pub use analytics_auth::{ApiError, Auth, ClientConfig, Secret};
pub use csv::QueryCsvExt;
pub use generated::*;
