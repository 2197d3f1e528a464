#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// The README links the `oauth2` and `rate-limit` modules, which exist only with those features.
#![cfg_attr(
    not(all(feature = "oauth2", feature = "rate-limit")),
    allow(rustdoc::broken_intra_doc_links)
)]

mod api;
mod body;
mod config;
mod credentials;
mod error;
pub mod hooks;
#[cfg(feature = "oauth2")]
pub mod oauth2;
mod path;
pub mod pattern;
mod query;
#[cfg(feature = "rate-limit")]
pub mod rate_limit;
pub mod retry;
pub mod rows;
mod secret;
mod session;
pub mod tls;
mod transport;

pub use api::{
    operation_order, ApiDescription, KeyLocation, Operation, QueryRange, SchemeKind, SecurityScheme,
};
pub use body::{BodyError, BodyLimits};
pub use config::{ensure_crypto_provider, ClientConfig, ConfigError};
pub use credentials::{authorized, ApiKey, Auth, AuthError, Authorizer};
pub use error::{message_of, retry_after, ApiError, RawBody};
pub use hooks::HookError;
pub use retry::{RetryBudget, RetryPolicy};
pub use secret::Secret;
pub use session::{CookieSession, SessionError, DEFAULT_RELOGIN_COOLDOWN};
pub use tls::CertificateFingerprint;
pub use transport::Transport;
