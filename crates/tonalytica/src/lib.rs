#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub mod csv;
pub mod jobs;
pub mod pagination;

pub use analytics_auth::{ApiError, Auth, ClientConfig, Secret};
pub use csv::{ClientCsvExt, CsvError, CsvRecords};
pub use generated::*;
pub use jobs::{CancelToken, ClientJobsExt, FetchError, JobState, PollPolicy, UnknownJobStatus};
pub use pagination::{ClientPagesExt, DEFAULT_PAGE_SIZE};

/// The name of the security scheme that sends the key as the `api_key` query parameter, for
/// [`Auth::api_key_for_scheme`].
pub const QUERY_KEY_SCHEME: &str = "ApiKeyQuery";
/// The name of the security scheme that sends `Authorization: Key <key>` (what
/// [`Auth::api_key`] picks first).
pub const HEADER_KEY_SCHEME: &str = "KeyAuth";
