//! [`CookieSession`]: a cookie session with a CSRF header (Boston Dynamics Scout 3.x).
//!
//! The flow (Scout API docs, "Authentication"):
//! 1. `GET https://{host}/` answers with `Set-Cookie` headers, one of them `x-csrf-token`;
//! 2. `POST https://{host}/api/v0/login`, form `username=…&password=…`, header
//!    `x-csrf-token: <that cookie>`, all cookies of step 1, authenticates the cookie jar;
//! 3. every later request sends the cookies and the `x-csrf-token` header.
//!
//! Sessions expire (after two weeks) and the server then answers **403**. On a 403 the session
//! logs in again once — single-flight: concurrent callers that were rejected with the same
//! session wait for that one login — and `hooks::exec` resends the request once. A 403 on the
//! resent request is returned as [`crate::ApiError::Forbidden`]. A 403 for a session that was
//! established less than [`CookieSession::with_relogin_cooldown`] ago is taken as "not allowed"
//! rather than "expired" and does not log in again (so a permission error cannot cause a login
//! per request).
//!
//! The password, cookies and CSRF token are kept as [`Secret`]s: `Debug`, errors and logs never
//! show them, and the headers that carry them are marked sensitive.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::api::{KeyLocation, SchemeKind, SecurityScheme};
use crate::credentials::{AuthError, Authorizer};
use crate::secret::Secret;

/// Name of the cookie that holds the CSRF token, and of the header it is copied into.
pub const CSRF_NAME: &str = "x-csrf-token";

/// Default for [`CookieSession::with_relogin_cooldown`].
pub const DEFAULT_RELOGIN_COOLDOWN: Duration = Duration::from_secs(30);

/// Characters of a rejected login's body kept in [`SessionError::LoginRejected`].
const MESSAGE_CHARS: usize = 200;

/// Why a login failed. Never contains the password, cookies or CSRF token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The host is not a usable URL (`scout.example`, `scout.example:8443`,
    /// `https://scout.example`, `http://127.0.0.1:8080` are).
    #[error("invalid host `{0}`")]
    InvalidHost(String),
    /// The request of step `stage` did not complete (connection, TLS, timeout).
    #[error("{stage} failed: {reason}")]
    Transport { stage: &'static str, reason: String },
    /// `GET /` did not set the `x-csrf-token` cookie.
    #[error("GET / answered {status} without setting the `x-csrf-token` cookie")]
    NoCsrfCookie { status: StatusCode },
    /// The server refused the login (wrong credentials: 401; CSRF mismatch: 403; 429; 500).
    #[error("login rejected ({status}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    LoginRejected {
        status: StatusCode,
        message: Option<String>,
    },
}

/// One authenticated cookie jar.
struct Jar {
    /// `name → value`, in the order the server set them.
    cookies: Vec<(String, Secret)>,
    /// The `Cookie` request header value, precomputed.
    header: Secret,
    /// The `x-csrf-token` cookie's value.
    csrf: Secret,
    established: Instant,
}

impl Jar {
    fn new(cookies: Vec<(String, Secret)>) -> Option<Self> {
        let csrf = cookies
            .iter()
            .find(|(name, _)| name == CSRF_NAME)
            .map(|(_, v)| v.clone())?;
        let header = cookies
            .iter()
            .map(|(n, v)| format!("{n}={}", v.expose()))
            .collect::<Vec<_>>()
            .join("; ");
        Some(Jar {
            cookies,
            header: Secret::new(header),
            csrf,
            established: Instant::now(),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    origin: url::Url,
    username: String,
    password: Secret,
    jar: RwLock<Arc<Jar>>,
    login_lock: tokio::sync::Mutex<()>,
    /// Milliseconds; see [`CookieSession::with_relogin_cooldown`].
    relogin_cooldown_ms: AtomicU64,
    logins: AtomicU64,
}

/// A logged-in Scout session, usable as `Auth::custom(session)`. Cheap to clone; clones share the
/// cookie jar (one re-login serves all of them).
#[derive(Clone)]
pub struct CookieSession {
    inner: Arc<Inner>,
}

impl fmt::Debug for CookieSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cookies = self.inner.jar.read().map(|j| j.cookies.len()).unwrap_or(0);
        f.debug_struct("CookieSession")
            .field("origin", &self.inner.origin.as_str())
            .field("username", &self.inner.username)
            .field("password", &self.inner.password)
            .field("cookies", &format_args!("[redacted; {cookies} cookies]"))
            .field("csrf_token", &format_args!("[redacted]"))
            .field("logins", &self.login_count())
            .finish()
    }
}

impl CookieSession {
    /// Logs in: `GET {host}/` for the CSRF cookie, then `POST {host}/api/v0/login` with the form
    /// and the `x-csrf-token` header. `http` should come from [`crate::ClientConfig::build`] (its
    /// TLS settings, e.g. a custom CA, apply to the login too). `host` is `scout.example[:port]`
    /// (HTTPS) or a URL with an explicit scheme.
    pub async fn login(
        http: &reqwest::Client,
        host: &str,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Self, SessionError> {
        crate::config::ensure_crypto_provider();
        let origin = parse_origin(host)?;
        let username = username.into();
        let password = password.into();
        let jar = perform_login(http, &origin, &username, &password).await?;
        Ok(CookieSession {
            inner: Arc::new(Inner {
                http: http.clone(),
                origin,
                username,
                password,
                jar: RwLock::new(Arc::new(jar)),
                login_lock: tokio::sync::Mutex::new(()),
                relogin_cooldown_ms: AtomicU64::new(DEFAULT_RELOGIN_COOLDOWN.as_millis() as u64),
                logins: AtomicU64::new(1),
            }),
        })
    }

    /// A 403 for a session younger than this is not treated as expiry (no re-login). Default
    /// [`DEFAULT_RELOGIN_COOLDOWN`]. Applies to every clone of this session.
    pub fn with_relogin_cooldown(self, cooldown: Duration) -> Self {
        self.set_relogin_cooldown(cooldown);
        self
    }

    /// Like [`CookieSession::with_relogin_cooldown`], on a shared session.
    pub fn set_relogin_cooldown(&self, cooldown: Duration) {
        let ms = u64::try_from(cooldown.as_millis()).unwrap_or(u64::MAX);
        self.inner.relogin_cooldown_ms.store(ms, Ordering::SeqCst);
    }

    /// How many logins this session has performed (1 after [`CookieSession::login`]).
    pub fn login_count(&self) -> u64 {
        self.inner.logins.load(Ordering::SeqCst)
    }

    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// `https://host[:port]/`, the origin requests go to (also the base of host-relative paths
    /// such as `RunCapture.dataUrl`).
    pub fn origin(&self) -> &url::Url {
        &self.inner.origin
    }

    /// Adds the session's cookies and CSRF header to a request built by hand (e.g. a download
    /// of a host-relative `dataUrl`).
    pub fn apply(&self, headers: &mut HeaderMap) {
        let jar = self.current();
        if let Ok(v) = sensitive(jar.header.expose()) {
            headers.insert(COOKIE, v);
        }
        if let Ok(v) = sensitive(jar.csrf.expose()) {
            headers.insert(CSRF_NAME, v);
        }
    }

    fn current(&self) -> Arc<Jar> {
        match self.inner.jar.read() {
            Ok(jar) => Arc::clone(&jar),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, jar: Jar) {
        let jar = Arc::new(jar);
        match self.inner.jar.write() {
            Ok(mut slot) => *slot = jar,
            Err(poisoned) => *poisoned.into_inner() = jar,
        }
    }

    /// Whether `rejected` carried the current jar's cookies (not an older session's).
    fn carried_current(&self, rejected: &reqwest::Request) -> bool {
        let jar = self.current();
        rejected
            .headers()
            .get(COOKIE)
            .is_some_and(|v| v.as_bytes() == jar.header.expose().as_bytes())
    }

    async fn relogin(&self, rejected: &reqwest::Request) -> Result<bool, AuthError> {
        if !self.carried_current(rejected) {
            // Another caller has already logged in again (or the request predates it).
            return Ok(true);
        }
        let _guard = self.inner.login_lock.lock().await;
        if !self.carried_current(rejected) {
            return Ok(true);
        }
        let age = self.current().established.elapsed();
        let cooldown = Duration::from_millis(self.inner.relogin_cooldown_ms.load(Ordering::SeqCst));
        if age < cooldown {
            tracing::debug!(
                age_ms = age.as_millis() as u64,
                "403 for a fresh session: not allowed rather than expired; not logging in again"
            );
            return Ok(false);
        }
        tracing::info!(
            origin = self.inner.origin.as_str(),
            username = %self.inner.username,
            "session rejected (expired?): logging in again"
        );
        let jar = perform_login(
            &self.inner.http,
            &self.inner.origin,
            &self.inner.username,
            &self.inner.password,
        )
        .await
        .map_err(|e| AuthError::ReauthenticationRequired(e.to_string()))?;
        self.inner.logins.fetch_add(1, Ordering::SeqCst);
        self.replace(jar);
        Ok(true)
    }
}

impl Authorizer for CookieSession {
    fn satisfies(&self, scheme: &SecurityScheme) -> bool {
        match scheme.kind {
            SchemeKind::ApiKey {
                location: KeyLocation::Cookie,
                ..
            } => true,
            SchemeKind::ApiKey {
                location: KeyLocation::Header,
                parameter,
                ..
            } => parameter.eq_ignore_ascii_case(CSRF_NAME),
            _ => false,
        }
    }

    fn authorize<'a>(
        &'a self,
        scheme: &'a SecurityScheme,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        crate::authorized(self.authorize_now(scheme, request))
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
            if status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED {
                return Ok(false);
            }
            self.relogin(rejected).await
        })
    }
}

impl CookieSession {
    /// The cookie and CSRF token go in synchronously.
    fn authorize_now(
        &self,
        scheme: &SecurityScheme,
        request: &mut reqwest::Request,
    ) -> Result<(), AuthError> {
        let jar = self.current();
        let invalid = || AuthError::InvalidHeaderValue {
            scheme: scheme.name.to_string(),
        };
        match scheme.kind {
            SchemeKind::ApiKey {
                location: KeyLocation::Cookie,
                ..
            } => {
                let value = sensitive(jar.header.expose()).map_err(|_| invalid())?;
                request.headers_mut().insert(COOKIE, value);
            }
            SchemeKind::ApiKey {
                location: KeyLocation::Header,
                ..
            } => {
                let value = sensitive(jar.csrf.expose()).map_err(|_| invalid())?;
                request.headers_mut().insert(CSRF_NAME, value);
            }
            _ => {}
        }
        Ok(())
    }
}

fn sensitive(value: &str) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut v = HeaderValue::from_str(value)?;
    v.set_sensitive(true);
    Ok(v)
}

fn parse_origin(host: &str) -> Result<url::Url, SessionError> {
    let host = host.trim().trim_end_matches('/');
    let text = if host.contains("://") {
        host.to_string()
    } else {
        format!("https://{host}")
    };
    let url = url::Url::parse(&text).map_err(|_| SessionError::InvalidHost(host.to_string()))?;
    if !matches!(url.scheme(), "https" | "http")
        || url.host().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(SessionError::InvalidHost(host.to_string()));
    }
    let mut origin = url;
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    Ok(origin)
}

/// Steps 1 and 2 of the flow; returns the authenticated jar.
async fn perform_login(
    http: &reqwest::Client,
    origin: &url::Url,
    username: &str,
    password: &Secret,
) -> Result<Jar, SessionError> {
    let transport = |stage: &'static str| {
        move |e: reqwest::Error| SessionError::Transport {
            stage,
            reason: error_chain(&e.without_url()),
        }
    };
    // Step 1: the CSRF cookie (and a not yet authenticated session cookie).
    let first = http
        .get(origin.clone())
        .header(ACCEPT, "*/*")
        .send()
        .await
        .map_err(transport("GET /"))?;
    let status = first.status();
    let mut cookies = Vec::new();
    merge_set_cookies(&mut cookies, first.headers());
    drop(first);
    let Some(pre) = Jar::new(cookies) else {
        return Err(SessionError::NoCsrfCookie { status });
    };

    // Step 2: the form, with the CSRF header and the cookies.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("username", username)
        .append_pair("password", password.expose())
        .finish();
    let login_url = origin
        .join("api/v0/login")
        .map_err(|_| SessionError::InvalidHost(origin.to_string()))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let invalid_cookie = |_| SessionError::Transport {
        stage: "POST /api/v0/login",
        reason: "a cookie set by GET / is not a valid header value".to_string(),
    };
    headers.insert(
        CSRF_NAME,
        sensitive(pre.csrf.expose()).map_err(invalid_cookie)?,
    );
    headers.insert(
        COOKIE,
        sensitive(pre.header.expose()).map_err(invalid_cookie)?,
    );
    let response = http
        .post(login_url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(transport("POST /api/v0/login"))?;
    let status = response.status();
    let mut cookies = pre.cookies;
    merge_set_cookies(&mut cookies, response.headers());
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        let message = short_message(&text, password);
        tracing::warn!(%status, username, "login rejected");
        return Err(SessionError::LoginRejected { status, message });
    }
    drop(response);
    tracing::debug!(username, "logged in");
    Jar::new(cookies).ok_or(SessionError::NoCsrfCookie { status })
}

/// Applies the `Set-Cookie` headers to `jar` (by name; `Max-Age=0` or an empty value deletes).
fn merge_set_cookies(jar: &mut Vec<(String, Secret)>, headers: &HeaderMap) {
    for header in headers.get_all(SET_COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        let mut parts = text.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            continue;
        };
        let name = name.trim().to_string();
        let value = value.trim().to_string();
        if name.is_empty() {
            continue;
        }
        let deleted = value.is_empty()
            || parts.any(|attr| {
                let attr = attr.trim().to_ascii_lowercase();
                attr == "max-age=0" || attr.starts_with("max-age=-")
            });
        jar.retain(|(n, _)| *n != name);
        if !deleted {
            jar.push((name, Secret::new(value)));
        }
    }
}

/// A one-line excerpt of a rejected login's body, with the password scrubbed in case the server
/// echoes the form.
fn short_message(text: &str, password: &Secret) -> Option<String> {
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !password.expose().is_empty() {
        line = line.replace(password.expose(), "[redacted]");
    }
    if line.is_empty() {
        return None;
    }
    if line.chars().count() > MESSAGE_CHARS {
        line = line.chars().take(MESSAGE_CHARS).collect::<String>() + "…";
    }
    Some(line)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_headers_update_the_jar() {
        let mut jar = Vec::new();
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("x-csrf-token=C1; Path=/"),
        );
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("sid=S1; HttpOnly; Secure"),
        );
        merge_set_cookies(&mut jar, &h);
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, HeaderValue::from_static("sid=S2; Path=/"));
        h.append(SET_COOKIE, HeaderValue::from_static("old=; Max-Age=0"));
        merge_set_cookies(&mut jar, &h);
        let shown: Vec<String> = jar
            .iter()
            .map(|(n, v)| format!("{n}={}", v.expose()))
            .collect();
        assert_eq!(shown, ["x-csrf-token=C1", "sid=S2"]);
        let jar = Jar::new(jar).map(|j| j.header.expose().to_string());
        assert_eq!(jar.as_deref(), Some("x-csrf-token=C1; sid=S2"));
    }

    #[test]
    fn hosts_become_origins() {
        let o = |h: &str| parse_origin(h).map(|u| u.to_string());
        assert_eq!(o("scout.example").as_deref(), Ok("https://scout.example/"));
        assert_eq!(
            o("scout.example:8443/").as_deref(),
            Ok("https://scout.example:8443/")
        );
        assert_eq!(
            o("http://127.0.0.1:9000").as_deref(),
            Ok("http://127.0.0.1:9000/")
        );
        assert!(o("ftp://x").is_err());
        assert!(o("https://user:pw@x").is_err());
    }

    #[test]
    fn login_messages_never_echo_the_password() {
        let pw = Secret::new("hunter2-canary");
        assert_eq!(
            short_message("bad  password hunter2-canary\n", &pw).as_deref(),
            Some("bad password [redacted]")
        );
        assert_eq!(short_message("  ", &pw), None);
    }
}
