//! OAuth 2.0 access tokens with one-time, rotating refresh tokens, as an [`Authorizer`].
//!
//! Written for servers like Django OAuth Toolkit with refresh-token rotation and reuse
//! protection, where presenting an already-used refresh token revokes the whole token family:
//!
//! - **Grants**: resource-owner password (a public client sends `client_id` only) and client
//!   credentials; the client secret goes in the form body or as HTTP Basic
//!   ([`ClientAuthentication`]).
//! - **Single flight**: one gate per credential covers refresh and store, so however many tasks
//!   find the token expired (or rejected), exactly one token request goes out and the rest use its
//!   result. Requests whose token is still valid never wait for a proactive refresh.
//! - **Proactive refresh** `margin` (default 5 min, at most half the lifetime, minus a little
//!   jitter) before expiry, expiry measured from when the token request was *sent*. If a proactive
//!   refresh fails while the access token is still valid, the token keeps being used and the
//!   refresh is retried later with backoff, at most [`MAX_PROACTIVE_FAILURES`] times.
//! - **401**: [`Authorizer::renew`] refreshes once (unless another task already replaced the
//!   rejected token) and `hooks::exec` resends once.
//! - **Rotation**: a refresh token is taken out of memory *and* out of the [`TokenStore`] before it
//!   is sent, so it is never sent twice — not even when the response is lost or the process
//!   crashes; the new tokens are saved to the store before they are used. A refresh that fails
//!   (`invalid_grant`, lost response, 5xx) falls back to the configured grant, or, without one,
//!   fails with [`TokenError::ReauthenticationRequired`]. Only a connection that could not be
//!   opened (the token never left the machine) gives the refresh token back.
//! - **Placement** ([`TokenPlacement`]): `Authorization: Bearer` (default), `?access_token=`, or an
//!   `access_token` form-body field; exactly one of them, any other copy is removed.
//! - **Secrets** (tokens, password, client secret) are [`Secret`]s and never appear in `Debug`,
//!   `Display`, errors or logs; token-endpoint errors never carry URLs or response bodies.
//!
//! ```no_run
//! use analytics_auth::oauth2::{FileTokenStore, OAuth2};
//! use analytics_auth::rate_limit::{Limit, RateLimiter, RetryPolicy, SendPolicy};
//! use analytics_auth::Auth;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let oauth = OAuth2::builder("https://query.scanalyticsinc.com/o/token/", "client-id")
//!     .password("user", "password")
//!     .token_store(FileTokenStore::new("tokens.json"))
//!     .send_policy(
//!         SendPolicy::new()
//!             .with_limiter(RateLimiter::new([Limit::per_minute(176), Limit::per_hour(1176)]))
//!             .with_retry(RetryPolicy::default()),
//!     )
//!     .build()?;
//! let auth = Auth::custom(oauth); // hand to any generated `Client::new_with_client`
//! # let _ = auth;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures::future::BoxFuture;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::api::{KeyLocation, SchemeKind, SecurityScheme};
use crate::credentials::{AuthError, Authorizer};
use crate::rate_limit::SendPolicy;
use crate::secret::Secret;

/// Proactive refreshes that may fail in a row before the client waits for the token to expire.
pub const MAX_PROACTIVE_FAILURES: u32 = 3;

/// Default time before expiry at which the token is refreshed.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// First wait after a failed proactive refresh (doubled after each further failure).
const PROACTIVE_RETRY: Duration = Duration::from_secs(30);

/// Token-endpoint responses are read up to this size.
const TOKEN_RESPONSE_LIMIT: usize = 64 * 1024;

const FORM: &str = "application/x-www-form-urlencoded";

/// How a new token is obtained when there is no (usable) refresh token.
#[derive(Clone)]
#[non_exhaustive]
pub enum Grant {
    /// Resource-owner password credentials (RFC 6749 §4.3).
    Password { username: String, password: Secret },
    /// Client credentials (RFC 6749 §4.4); needs a client secret. No refresh token is issued.
    ClientCredentials,
}

impl Grant {
    fn name(&self) -> &'static str {
        match self {
            Grant::Password { .. } => "password",
            Grant::ClientCredentials => "client_credentials",
        }
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Password { .. } => {
                f.write_str("Password { username: [redacted], password: [redacted] }")
            }
            Grant::ClientCredentials => f.write_str("ClientCredentials"),
        }
    }
}

/// Where a confidential client's secret goes in token requests (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthentication {
    /// `client_id` and `client_secret` form fields (the default).
    #[default]
    RequestBody,
    /// `Authorization: Basic base64(urlencode(client_id):urlencode(client_secret))`.
    HttpBasic,
}

/// Where the access token goes in API requests (RFC 6750 §2). Exactly one placement is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenPlacement {
    /// `Authorization: Bearer <token>` (the default).
    #[default]
    Header,
    /// The `access_token` query parameter. The token then is part of the URL: this crate keeps
    /// URLs out of errors and logs, but proxies and server logs may record it.
    Query,
    /// An `access_token` field appended to a form-encoded (`application/x-www-form-urlencoded`)
    /// request body. Requests without such a body (e.g. `GET`) fail with
    /// [`AuthError::Unavailable`].
    FormBody,
}

/// What a [`TokenStore`] keeps. `Debug` shows only which parts are present.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredToken {
    pub access_token: Option<Secret>,
    /// When the access token expires (wall clock, for use after a restart).
    pub expires_at: Option<SystemTime>,
    /// The one valid refresh token, if any. `None` after it has been sent.
    pub refresh_token: Option<Secret>,
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &Option<Secret>| if s.is_some() { "[redacted]" } else { "None" };
        f.debug_struct("StoredToken")
            .field(
                "access_token",
                &format_args!("{}", shown(&self.access_token)),
            )
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &format_args!("{}", shown(&self.refresh_token)),
            )
            .finish()
    }
}

/// Why a [`TokenStore`] failed. Must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token store: {0}")]
pub struct StoreError(pub String);

/// Durable home of the tokens, supplied by the caller. `save` is called with the newest tokens
/// before they are used, and with the refresh token removed before it is sent, so after a crash
/// `load` never returns a refresh token that has already been presented to the server.
/// Implementations should replace the stored value atomically.
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    fn load(&self) -> Result<Option<StoredToken>, StoreError>;
    fn save(&self, token: &StoredToken) -> Result<(), StoreError>;
}

/// A [`TokenStore`] in memory; clones share the value (handy in tests to watch rotations).
#[derive(Debug, Clone, Default)]
pub struct MemoryTokenStore {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    token: Option<StoredToken>,
    saves: usize,
}

impl MemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that starts with `token`.
    pub fn with_token(token: StoredToken) -> Self {
        let store = Self::new();
        store.lock().token = Some(token);
        store
    }

    /// The value last saved.
    pub fn get(&self) -> Option<StoredToken> {
        self.lock().token.clone()
    }

    /// How many times `save` was called.
    pub fn saves(&self) -> usize {
        self.lock().saves
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<StoredToken>, StoreError> {
        Ok(self.get())
    }

    fn save(&self, token: &StoredToken) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.token = Some(token.clone());
        inner.saves += 1;
        Ok(())
    }
}

/// A [`TokenStore`] in one JSON file, replaced atomically: each save writes a temporary file in
/// the same directory (mode 0600 on Unix), flushes it to disk and renames it over the old file.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FileFormat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

impl FileTokenStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl TokenStore for FileTokenStore {
    fn load(&self) -> Result<Option<StoredToken>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError(format!(
                    "cannot read {}: {e}",
                    self.path.display()
                )))
            }
        };
        // serde_json's messages can quote values: report only the position.
        let file: FileFormat = serde_json::from_slice(&bytes).map_err(|e| {
            StoreError(format!(
                "{} is not a token file (line {}, column {})",
                self.path.display(),
                e.line(),
                e.column()
            ))
        })?;
        Ok(Some(StoredToken {
            access_token: file.access_token.map(Secret::new),
            expires_at: file.expires_at.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            refresh_token: file.refresh_token.map(Secret::new),
        }))
    }

    fn save(&self, token: &StoredToken) -> Result<(), StoreError> {
        use std::io::Write as _;
        let file = FileFormat {
            access_token: token.access_token.as_ref().map(|s| s.expose().to_string()),
            expires_at: token
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            refresh_token: token.refresh_token.as_ref().map(|s| s.expose().to_string()),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|_| StoreError("cannot encode the tokens".into()))?;
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".into());
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let io =
            |what: &str, e: std::io::Error| StoreError(format!("{what} {}: {e}", tmp.display()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let result = (|| {
            let mut f = options.open(&tmp).map_err(|e| io("cannot create", e))?;
            f.write_all(&json).map_err(|e| io("cannot write", e))?;
            f.sync_all().map_err(|e| io("cannot flush", e))?;
            std::fs::rename(&tmp, &self.path)
                .map_err(|e| StoreError(format!("cannot replace {}: {e}", self.path.display())))?;
            // Make the rename itself durable (best effort; not every platform can).
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Why no access token could be obtained. Never contains a token, password or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No refresh token is left (or it was refused) and no grant is configured to get a new one:
    /// the user has to authenticate again.
    #[error("re-authentication needed: {0}")]
    ReauthenticationRequired(String),
    /// The token endpoint refused the request (RFC 6749 §5.2), e.g. `invalid_grant` for a wrong
    /// password or `invalid_client` for a bad client secret.
    #[error("token endpoint refused the {grant} grant ({status}): {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        grant: &'static str,
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// Any other status from the token endpoint (5xx, 429, an HTML page).
    #[error("token endpoint answered {status} to the {grant} grant")]
    UnexpectedStatus { grant: &'static str, status: u16 },
    /// A 200 whose body is not a bearer token response.
    #[error("invalid token response to the {grant} grant: {reason}")]
    InvalidResponse { grant: &'static str, reason: String },
    /// The token request did not complete. `sent` is false when no connection could be opened,
    /// i.e. the request certainly never reached the server.
    #[error("token request ({grant} grant) failed: {message}")]
    Transport {
        grant: &'static str,
        sent: bool,
        message: String,
    },
}

impl TokenError {
    fn is_invalid_grant(&self) -> bool {
        matches!(self, TokenError::Rejected { error, .. } if error == "invalid_grant")
    }
}

impl From<TokenError> for AuthError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::ReauthenticationRequired(reason) => {
                AuthError::ReauthenticationRequired(reason)
            }
            e @ TokenError::Rejected { .. } => AuthError::ReauthenticationRequired(e.to_string()),
            e => AuthError::Unavailable(e.to_string()),
        }
    }
}

/// Whether an API call failed because the user must authenticate again (see
/// [`TokenError::ReauthenticationRequired`]); the generated clients report credential failures
/// as `ApiError::Auth(message)`.
pub fn is_reauthentication_required<E>(error: &crate::ApiError<E>) -> bool {
    matches!(error, crate::ApiError::Auth(m) if m.starts_with("re-authentication needed"))
}

/// Configuration of an [`OAuth2`] credential; see [`OAuth2::builder`].
pub struct OAuth2Builder {
    token_url: String,
    client_id: String,
    client_secret: Option<Secret>,
    client_authentication: ClientAuthentication,
    grant: Option<Grant>,
    refresh_token: Option<Secret>,
    scope: Option<String>,
    placement: TokenPlacement,
    margin: Duration,
    store: Option<Arc<dyn TokenStore>>,
    http: Option<reqwest::Client>,
    send_policy: Option<SendPolicy>,
}

impl fmt::Debug for OAuth2Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Builder")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("grant", &self.grant)
            .field("refresh_token", &self.refresh_token)
            .field("placement", &self.placement)
            .finish_non_exhaustive()
    }
}

/// Why an [`OAuth2`] credential could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuth2BuildError {
    #[error("the token URL is not a valid http(s) URL")]
    InvalidTokenUrl,
    #[error("the client-credentials grant needs a client secret")]
    MissingClientSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
}

impl OAuth2Builder {
    /// Uses the password grant (a public client unless [`Self::client_secret`] is set too).
    pub fn password(mut self, username: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.grant = Some(Grant::Password {
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// Uses the client-credentials grant with `secret`.
    pub fn client_credentials(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self.grant = Some(Grant::ClientCredentials);
        self
    }

    /// The client secret of a confidential client (sent with every token request).
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    pub fn client_authentication(mut self, how: ClientAuthentication) -> Self {
        self.client_authentication = how;
        self
    }

    /// A refresh token to start from (used when the store has none).
    pub fn refresh_token(mut self, token: impl Into<Secret>) -> Self {
        self.refresh_token = Some(token.into());
        self
    }

    /// `scope` sent with password and client-credentials requests.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    pub fn placement(mut self, placement: TokenPlacement) -> Self {
        self.placement = placement;
        self
    }

    /// Refresh this long before expiry (capped at half the token's lifetime).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The HTTP client for token requests (default: [`crate::ClientConfig`]'s, redirects off).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Rate limiter and 429 retries for the API requests this credential authorizes.
    pub fn send_policy(mut self, policy: SendPolicy) -> Self {
        self.send_policy = Some(policy);
        self
    }

    /// Loads the store (if any) and returns the credential; no request is made yet.
    pub fn build(self) -> Result<OAuth2, OAuth2BuildError> {
        let url =
            url::Url::parse(&self.token_url).map_err(|_| OAuth2BuildError::InvalidTokenUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OAuth2BuildError::InvalidTokenUrl);
        }
        if matches!(self.grant, Some(Grant::ClientCredentials)) && self.client_secret.is_none() {
            return Err(OAuth2BuildError::MissingClientSecret);
        }
        let http = match self.http {
            Some(h) => h,
            None => crate::ClientConfig::new().build()?,
        };
        let store: Arc<dyn TokenStore> = match self.store {
            Some(s) => s,
            None => Arc::new(MemoryTokenStore::new()),
        };
        let mut state = State::default();
        let mut access = None;
        let stored = store.load()?;
        if let Some(stored) = stored {
            let now = Instant::now();
            match (stored.access_token, stored.expires_at) {
                (Some(token), Some(expires_at)) => {
                    // An expired access token is dropped; the refresh token may still work.
                    if let Ok(left) = expires_at.duration_since(SystemTime::now()) {
                        access = Some(Access::new(token, now, Some(left), self.margin));
                    }
                }
                // Unknown lifetime: used until the server answers 401.
                (Some(token), None) => access = Some(Access::new(token, now, None, self.margin)),
                (None, _) => {}
            }
            state.refresh = stored.refresh_token;
        }
        if state.refresh.is_none() {
            state.refresh = self.refresh_token;
        }
        Ok(OAuth2 {
            inner: Arc::new(Inner {
                token_url: url,
                client_id: self.client_id,
                client_secret: self.client_secret,
                client_authentication: self.client_authentication,
                grant: self.grant,
                scope: self.scope,
                placement: self.placement,
                margin: self.margin,
                store,
                http,
                send_policy: self.send_policy,
                access: Mutex::new(access),
                gate: tokio::sync::Mutex::new(state),
            }),
        })
    }
}

/// An OAuth 2.0 credential; cheap to clone (clones share tokens and the lock). Use it with
/// `Auth::custom(oauth2)`.
#[derive(Clone)]
pub struct OAuth2 {
    inner: Arc<Inner>,
}

struct Inner {
    token_url: url::Url,
    client_id: String,
    client_secret: Option<Secret>,
    client_authentication: ClientAuthentication,
    grant: Option<Grant>,
    scope: Option<String>,
    placement: TokenPlacement,
    margin: Duration,
    store: Arc<dyn TokenStore>,
    http: reqwest::Client,
    send_policy: Option<SendPolicy>,
    /// The current access token; read by every request, held only for a copy.
    access: Mutex<Option<Access>>,
    /// The single-flight gate: whoever holds it is the only one who may spend the refresh token
    /// or request a new token.
    gate: tokio::sync::Mutex<State>,
}

/// What only the holder of the gate touches.
#[derive(Default)]
struct State {
    /// The one unused refresh token. Taken out before it is sent.
    refresh: Option<Secret>,
    proactive_failures: u32,
    next_proactive_attempt: Option<Instant>,
}

#[derive(Clone)]
struct Access {
    token: Secret,
    expires_at: Option<Instant>,
    refresh_at: Option<Instant>,
}

impl Access {
    fn new(token: Secret, from: Instant, lifetime: Option<Duration>, margin: Duration) -> Self {
        let expires_at = lifetime.map(|l| from + l);
        let refresh_at = lifetime.map(|l| {
            let margin = margin.min(l / 2);
            // Up to 10 % less margin, so that a fleet of clients does not refresh in step.
            let jitter = (margin / 10).mul_f64(fastrand::f64());
            from + (l - margin) + jitter
        });
        Access {
            token,
            expires_at,
            refresh_at,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    fn due(&self, now: Instant) -> bool {
        self.refresh_at.is_some_and(|r| now >= r)
    }
}

impl fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("OAuth2")
            .field("token_url", &i.token_url.as_str())
            .field("client_id", &i.client_id)
            .field("client_secret", &i.client_secret)
            .field("client_authentication", &i.client_authentication)
            .field("grant", &i.grant)
            .field("placement", &i.placement)
            .field("store", &i.store)
            .field("send_policy", &i.send_policy)
            .finish_non_exhaustive()
    }
}

/// A parsed 200 from the token endpoint. No `Debug`: it holds tokens.
struct TokenResponse {
    access_token: Secret,
    expires_in: Option<u64>,
    refresh_token: Option<Secret>,
}

#[derive(serde::Deserialize)]
struct RawTokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawTokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

enum TokenRequest<'a> {
    Refresh(&'a Secret),
    Grant(&'a Grant),
}

impl OAuth2 {
    /// Starts the configuration of a credential for the token endpoint `token_url` (e.g.
    /// `https://host/o/token/`) and OAuth client `client_id`.
    pub fn builder(token_url: impl Into<String>, client_id: impl Into<String>) -> OAuth2Builder {
        OAuth2Builder {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: None,
            client_authentication: ClientAuthentication::default(),
            grant: None,
            refresh_token: None,
            scope: None,
            placement: TokenPlacement::default(),
            margin: DEFAULT_REFRESH_MARGIN,
            store: None,
            http: None,
            send_policy: None,
        }
    }

    pub fn placement(&self) -> TokenPlacement {
        self.inner.placement
    }

    /// A valid access token, obtaining or refreshing one first if needed (single flight).
    pub async fn access_token(&self) -> Result<Secret, TokenError> {
        let now = Instant::now();
        if let Some(access) = self.current().filter(|a| !a.expired(now)) {
            if !access.due(now) {
                return Ok(access.token);
            }
            // Due for a proactive refresh. Only one task does it; the others (and this one, if
            // the refresh fails) go on with the still-valid token instead of waiting.
            let Ok(mut state) = self.inner.gate.try_lock() else {
                return Ok(access.token);
            };
            let current = self.current().filter(|a| !a.expired(now));
            let still_due = current.as_ref().is_some_and(|a| a.due(now))
                && state.next_proactive_attempt.is_none_or(|t| now >= t);
            if !still_due {
                return Ok(current.map_or(access.token, |a| a.token));
            }
            if let Err(e) = self.obtain(&mut state).await {
                state.proactive_failures += 1;
                let failures = state.proactive_failures;
                state.next_proactive_attempt = if failures >= MAX_PROACTIVE_FAILURES {
                    // Give up until the token expires.
                    access.expires_at
                } else {
                    Some(now + PROACTIVE_RETRY * (1 << (failures - 1)))
                };
                tracing::warn!(
                    error = %e,
                    failures,
                    "oauth2: proactive token refresh failed; using the current token until it expires"
                );
            }
            return Ok(self.current().map_or(access.token, |a| a.token));
        }
        // No valid token: wait for the gate; whoever had it may have refreshed already.
        let mut state = self.inner.gate.lock().await;
        if let Some(access) = self.current().filter(|a| !a.expired(Instant::now())) {
            return Ok(access.token);
        }
        self.obtain(&mut state).await?;
        self.current()
            .map(|a| a.token)
            .ok_or_else(|| TokenError::ReauthenticationRequired("no access token".into()))
    }

    fn current(&self) -> Option<Access> {
        self.inner
            .access
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_current(&self, access: Option<Access>) {
        *self.inner.access.lock().unwrap_or_else(|p| p.into_inner()) = access;
    }

    /// The current access token as the store keeps it, with `refresh_token`.
    fn stored(&self, refresh_token: Option<Secret>) -> StoredToken {
        let access = self.current();
        StoredToken {
            access_token: access.as_ref().map(|a| a.token.clone()),
            expires_at: access.and_then(|a| system_time(a.expires_at)),
            refresh_token,
        }
    }

    /// Gets a new access token: with the refresh token if there is one (spending it), else — or
    /// when that fails — with the configured grant. Called with the state lock held.
    async fn obtain(&self, state: &mut State) -> Result<(), TokenError> {
        let inner = &self.inner;
        let mut refresh_failure = None;
        if let Some(refresh) = state.refresh.take() {
            // Spent from here on: forget it durably before it goes on the wire.
            self.save(&self.stored(None));
            let sent_at = Instant::now();
            match self.token_request(TokenRequest::Refresh(&refresh)).await {
                Ok(response) => {
                    self.accept(state, response, sent_at);
                    return Ok(());
                }
                Err(TokenError::Transport { sent: false, .. }) => {
                    // Never reached the server: the refresh token is still good.
                    self.save(&self.stored(Some(refresh.clone())));
                    state.refresh = Some(refresh);
                    return Err(TokenError::Transport {
                        grant: "refresh_token",
                        sent: false,
                        message: "could not connect to the token endpoint".into(),
                    });
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        invalid_grant = e.is_invalid_grant(),
                        "oauth2: refresh failed; the refresh token is spent and will not be sent again"
                    );
                    refresh_failure = Some(e);
                }
            }
        }
        let Some(grant) = &inner.grant else {
            return Err(TokenError::ReauthenticationRequired(match refresh_failure {
                Some(e) => format!("the refresh failed ({e}) and no password or client credentials are configured"),
                None => "no refresh token and no password or client credentials are configured".into(),
            }));
        };
        let sent_at = Instant::now();
        let response = self.token_request(TokenRequest::Grant(grant)).await?;
        self.accept(state, response, sent_at);
        Ok(())
    }

    /// Saves the new tokens, then makes them current.
    fn accept(&self, state: &mut State, response: TokenResponse, sent_at: Instant) {
        let lifetime = response.expires_in.map(Duration::from_secs);
        let access = Access::new(response.access_token, sent_at, lifetime, self.inner.margin);
        self.save(&StoredToken {
            access_token: Some(access.token.clone()),
            expires_at: system_time(access.expires_at),
            refresh_token: response.refresh_token.clone(),
        });
        tracing::debug!(
            expires_in = response.expires_in,
            refresh_token = response.refresh_token.is_some(),
            "oauth2: new access token"
        );
        self.set_current(Some(access));
        state.refresh = response.refresh_token;
        state.proactive_failures = 0;
        state.next_proactive_attempt = None;
    }

    fn save(&self, token: &StoredToken) {
        if let Err(e) = self.inner.store.save(token) {
            // The tokens stay usable in memory; a restart would need to authenticate again.
            tracing::error!(error = %e, "oauth2: could not save tokens to the token store");
        }
    }

    async fn token_request(&self, request: TokenRequest<'_>) -> Result<TokenResponse, TokenError> {
        let inner = &self.inner;
        let grant = match request {
            TokenRequest::Refresh(_) => "refresh_token",
            TokenRequest::Grant(g) => g.name(),
        };
        let (body, basic) = self.token_form(&request, grant)?;
        let mut builder = inner
            .http
            .post(inner.token_url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, FORM)
            .body(body);
        if let Some(value) = basic {
            builder = builder.header(AUTHORIZATION, value);
        }
        tracing::debug!(grant, "oauth2: token request");
        let transport = |e: reqwest::Error| TokenError::Transport {
            grant,
            sent: !e.is_connect(),
            message: e.without_url().to_string(),
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let body = read_limited(response).await.map_err(transport)?;
        tracing::debug!(grant, status = status.as_u16(), "oauth2: token response");
        parse_token_response(grant, status, &body)
    }

    /// The form body and the HTTP Basic header (if used) of a token request.
    fn token_form(
        &self,
        request: &TokenRequest<'_>,
        grant: &'static str,
    ) -> Result<(String, Option<HeaderValue>), TokenError> {
        let inner = &self.inner;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", grant);
        match request {
            TokenRequest::Refresh(token) => {
                form.append_pair("refresh_token", token.expose());
            }
            TokenRequest::Grant(Grant::Password { username, password }) => {
                form.append_pair("username", username);
                form.append_pair("password", password.expose());
            }
            TokenRequest::Grant(Grant::ClientCredentials) => {}
        }
        if let (Some(scope), TokenRequest::Grant(_)) = (&inner.scope, request) {
            form.append_pair("scope", scope);
        }
        let mut basic = None;
        match (&inner.client_secret, inner.client_authentication) {
            (Some(secret), ClientAuthentication::HttpBasic) => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(&inner.client_id), enc(secret.expose()));
                let mut value = HeaderValue::from_str(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
                .map_err(|_| TokenError::InvalidResponse {
                    grant,
                    reason: "the client credentials cannot be sent as HTTP Basic".into(),
                })?;
                value.set_sensitive(true);
                basic = Some(value);
            }
            (secret, _) => {
                form.append_pair("client_id", &inner.client_id);
                if let Some(secret) = secret {
                    form.append_pair("client_secret", secret.expose());
                }
            }
        }
        Ok((form.finish(), basic))
    }

    /// The token `rejected` carried, wherever it was placed.
    fn token_in(&self, rejected: &reqwest::Request) -> Option<String> {
        if let Some(v) = rejected.headers().get(AUTHORIZATION) {
            let v = v.to_str().ok()?;
            return v
                .get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| v[7..].to_string());
        }
        if let Some((_, v)) = rejected
            .url()
            .query_pairs()
            .find(|(k, _)| k == "access_token")
        {
            return Some(v.into_owned());
        }
        let body = rejected.body()?.as_bytes()?;
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    }
}

/// Reads a token-endpoint answer. Errors never quote the body (it may hold tokens).
fn parse_token_response(
    grant: &'static str,
    status: StatusCode,
    body: &[u8],
) -> Result<TokenResponse, TokenError> {
    if status == StatusCode::OK {
        let raw: RawTokenResponse =
            serde_json::from_slice(body).map_err(|e| TokenError::InvalidResponse {
                grant,
                reason: format!(
                    "not a token response ({:?} at line {}, column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            })?;
        if !raw.token_type.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::InvalidResponse {
                grant,
                reason: format!("token type `{}` is not Bearer", raw.token_type),
            });
        }
        return Ok(TokenResponse {
            access_token: Secret::new(raw.access_token),
            expires_in: raw.expires_in,
            refresh_token: raw.refresh_token.map(Secret::new),
        });
    }
    match serde_json::from_slice::<RawTokenError>(body) {
        Ok(e) if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS => {
            Err(TokenError::Rejected {
                grant,
                status: status.as_u16(),
                error: e.error,
                description: e.error_description,
            })
        }
        _ => Err(TokenError::UnexpectedStatus {
            grant,
            status: status.as_u16(),
        }),
    }
}

fn system_time(at: Option<Instant>) -> Option<SystemTime> {
    let at = at?;
    let now = Instant::now();
    Some(if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    })
}

async fn read_limited(response: reqwest::Response) -> reqwest::Result<Vec<u8>> {
    use futures::StreamExt as _;
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = TOKEN_RESPONSE_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == TOKEN_RESPONSE_LIMIT {
            break;
        }
    }
    Ok(body)
}

/// Puts `token` into `request` at `placement`, removing it from the other placements.
fn place(
    placement: TokenPlacement,
    token: &Secret,
    request: &mut reqwest::Request,
) -> Result<(), AuthError> {
    let form_body = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with(FORM))
        && request.body().is_some_and(|b| b.as_bytes().is_some());
    if placement == TokenPlacement::FormBody && !form_body {
        return Err(AuthError::Unavailable(
            "the form-body token placement needs a form-encoded request body; use the header or query placement for this operation".into(),
        ));
    }
    // Never two copies: clear every placement first.
    request.headers_mut().remove(AUTHORIZATION);
    remove_query_pair(request.url_mut(), "access_token");
    // The body is rewritten only to add the token or to take an old one out.
    let body_pairs: Option<Vec<(String, String)>> = form_body
        .then(|| {
            request
                .body()
                .and_then(|b| b.as_bytes())
                .unwrap_or_default()
        })
        .filter(|bytes| {
            placement == TokenPlacement::FormBody
                || url::form_urlencoded::parse(bytes).any(|(k, _)| k == "access_token")
        })
        .map(|bytes| {
            url::form_urlencoded::parse(bytes)
                .filter(|(k, _)| k != "access_token")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        });
    match placement {
        TokenPlacement::Header => {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    AuthError::InvalidHeaderValue {
                        scheme: "oauth2".into(),
                    }
                })?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        TokenPlacement::Query => {
            request
                .url_mut()
                .query_pairs_mut()
                .append_pair("access_token", token.expose());
        }
        TokenPlacement::FormBody => {}
    }
    if let Some(pairs) = body_pairs {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(&pairs);
        if placement == TokenPlacement::FormBody {
            form.append_pair("access_token", token.expose());
        }
        let body = form.finish();
        request.headers_mut().insert(
            reqwest::header::CONTENT_LENGTH,
            HeaderValue::from(body.len()),
        );
        *request.body_mut() = Some(body.into());
    }
    Ok(())
}

fn remove_query_pair(url: &mut url::Url, name: &str) {
    if !url.query_pairs().any(|(k, _)| k == name) {
        return;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(&kept);
    }
}

impl Authorizer for OAuth2 {
    fn satisfies(&self, scheme: &SecurityScheme) -> bool {
        match scheme.kind {
            SchemeKind::OAuth2 | SchemeKind::OpenIdConnect => true,
            SchemeKind::Http { scheme } => scheme.eq_ignore_ascii_case("bearer"),
            SchemeKind::ApiKey {
                location: KeyLocation::Query,
                parameter,
                ..
            } => parameter == "access_token",
            SchemeKind::ApiKey { .. } => false,
        }
    }

    fn authorize<'a>(
        &'a self,
        _scheme: &'a SecurityScheme,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            let token = self.access_token().await?;
            place(self.inner.placement, &token, request)
        })
    }

    fn can_renew(&self) -> bool {
        true
    }

    fn renew<'a>(
        &'a self,
        status: StatusCode,
        rejected: &'a reqwest::Request,
    ) -> BoxFuture<'a, Result<bool, AuthError>> {
        Box::pin(async move {
            if status != StatusCode::UNAUTHORIZED {
                return Ok(false);
            }
            let Some(sent) = self.token_in(rejected) else {
                return Ok(false);
            };
            let mut state = self.inner.gate.lock().await;
            if self.current().is_some_and(|c| c.token.expose() != sent) {
                // Another task renewed the token already.
                return Ok(true);
            }
            tracing::debug!("oauth2: access token rejected with 401; renewing once");
            self.set_current(None);
            self.obtain(&mut state).await?;
            Ok(true)
        })
    }

    fn send_policy(&self) -> Option<&SendPolicy> {
        self.inner.send_policy.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap())
    }

    #[test]
    fn placements_never_duplicate_the_token() {
        let token = Secret::new("tok");
        let mut r = get("http://h/v1/whoami?access_token=old&x=1");
        place(TokenPlacement::Header, &token, &mut r).unwrap();
        assert_eq!(r.url().as_str(), "http://h/v1/whoami?x=1");
        assert_eq!(r.headers()[AUTHORIZATION], "Bearer tok");
        assert!(r.headers()[AUTHORIZATION].is_sensitive());

        place(TokenPlacement::Query, &token, &mut r).unwrap();
        assert_eq!(r.url().as_str(), "http://h/v1/whoami?x=1&access_token=tok");
        assert!(r.headers().get(AUTHORIZATION).is_none());
        place(TokenPlacement::Query, &Secret::new("new"), &mut r).unwrap();
        assert_eq!(r.url().as_str(), "http://h/v1/whoami?x=1&access_token=new");

        assert!(matches!(
            place(TokenPlacement::FormBody, &token, &mut get("http://h/")),
            Err(AuthError::Unavailable(_))
        ));
        let mut post = reqwest::Request::new(reqwest::Method::POST, "http://h/f".parse().unwrap());
        post.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
        post.headers_mut()
            .insert(AUTHORIZATION, HeaderValue::from_static("Bearer stale"));
        *post.body_mut() = Some("a=1&access_token=old".into());
        place(TokenPlacement::FormBody, &token, &mut post).unwrap();
        assert!(post.headers().get(AUTHORIZATION).is_none());
        assert_eq!(
            post.body().unwrap().as_bytes().unwrap(),
            b"a=1&access_token=tok"
        );
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let o = OAuth2::builder("http://127.0.0.1:1/o/token/", "client-id")
            .password("user-canary", "password-canary")
            .client_secret("secret-canary")
            .refresh_token("refresh-canary")
            .build()
            .unwrap();
        let text = format!(
            "{o:?} {:?}",
            StoredToken {
                access_token: Some("access-canary".into()),
                expires_at: None,
                refresh_token: Some("refresh-canary".into()),
            }
        );
        for canary in [
            "user-canary",
            "password-canary",
            "secret-canary",
            "refresh-canary",
            "access-canary",
        ] {
            assert!(!text.contains(canary), "{canary} in {text}");
        }
    }

    #[test]
    fn file_store_replaces_atomically_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("oauth2-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = FileTokenStore::new(dir.join("tokens.json"));
        assert_eq!(store.load().unwrap(), None);
        let token = StoredToken {
            access_token: Some("a1".into()),
            expires_at: Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
            refresh_token: Some("r1".into()),
        };
        store.save(&token).unwrap();
        store
            .save(&StoredToken {
                refresh_token: Some("r2".into()),
                ..token.clone()
            })
            .unwrap();
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.refresh_token.unwrap().expose(), "r2");
        assert_eq!(loaded.expires_at, token.expires_at);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("tokens.json")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
