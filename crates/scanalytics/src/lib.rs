#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod client_builder;
#[rustfmt::skip]
mod generated;

pub use analytics_auth::oauth2;
pub use analytics_auth::rate_limit;
pub use analytics_auth::{ApiError, Auth, ClientConfig, Secret};
pub use client_builder::{
    anonymous_limits, authenticated_limits, BuildError, ClientBuilder, DEFAULT_BASE_URL, TOKEN_PATH,
};
pub use generated::*;
