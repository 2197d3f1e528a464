#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub mod batch;
pub mod checked;
mod defaults;
pub mod error;
pub mod filter;
pub mod formatted;
pub mod login;
pub mod pagination;
pub mod task;

pub use analytics_auth::{ApiError, Auth, ClientConfig, Secret};
pub use batch::{BatchAction, BatchReport, BatchUpload, ChunkOutcome, Row};
pub use checked::CheckedSend;
pub use error::Error;
pub use filter::{Op, Search, SearchExt};
pub use formatted::{decode_formatted_data, FormattedDataExt};
pub use generated::*;
pub use login::BasicLogin;
pub use pagination::ListStreams;
pub use task::TaskPolicy;

/// The `embeddedPayload` of `generate_pdf`'s `webapp_query_string`: base64 of the JSON text of a
/// template payload.
pub fn embedded_payload(payload: &serde_json::Value) -> String {
    login::base64(payload.to_string().as_bytes())
}
