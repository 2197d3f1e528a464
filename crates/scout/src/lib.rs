#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub use analytics_auth::{ApiError, Auth, ClientConfig};
pub use generated::*;
