#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub mod archive;
pub mod pagination;

pub use analytics_auth::{
    ApiError, Auth, CertificateFingerprint, ClientConfig, ConfigError, CookieSession, Secret,
    SessionError,
};
pub use archive::{ArchiveExt, DownloadError};
pub use generated::*;
pub use pagination::{ScoutPagesExt, TimeWindow};

/// Why [`login`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The transport settings are unusable (a bad CA file, fingerprint or identity).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The login flow failed (unreachable host, TLS failure, rejected credentials).
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Builds the HTTP client from `config`, logs in to the Scout at `host` (`scout.example[:port]`,
/// HTTPS; or a URL with a scheme) and returns a client for `https://{host}/api/v0` that sends the
/// session cookies and the `x-csrf-token` header with every request and logs in again once when
/// the session has expired (403). The [`CookieSession`] is returned too (e.g. for
/// [`CookieSession::login_count`] or downloads of host-relative `dataUrl`s).
pub async fn login(
    config: &ClientConfig,
    host: &str,
    username: &str,
    password: impl Into<Secret>,
) -> Result<(Client, CookieSession), LoginError> {
    let http = config.build()?;
    let session = CookieSession::login(&http, host, username, password).await?;
    let client = client_for(&session, http);
    Ok((client, session))
}

/// A client for the session's host that authorizes every request with `session`.
pub fn client_for(session: &CookieSession, http: reqwest::Client) -> Client {
    let base = format!("{}api/v0", session.origin());
    Client::new_with_client(&base, http, Auth::custom(session.clone()))
}
