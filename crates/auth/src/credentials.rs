//! [`Auth`]: the credential a client sends, behind one small trait so that the three kinds used
//! in this workspace fit the same hooks.
//!
//! | kind | type | APIs | renews on |
//! | --- | --- | --- | --- |
//! | static API key (header or query, optional prefix) | [`ApiKey`] | MONARC, Serenytics, TONalytica | never |
//! | OAuth2 access token with rotating refresh token | [`crate::oauth2::OAuth2`] | Scanalytics | expiry (proactively) and 401: refresh once (single-flight), resend once |
//! | cookie session with CSRF header | [`crate::CookieSession`] | Scout | 403: log in once (single-flight), resend once |
//!
//! The generated crates never see the kind: their hooks call [`Authorizer::authorize`] before a
//! request and [`Authorizer::renew`] when the server rejects the credential.

use std::fmt;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::StatusCode;

use crate::api::{KeyLocation, SchemeKind, SecurityScheme};
use crate::body::BodyLimits;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::transport::Transport;

/// Why a credential could not be applied or renewed. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The operation needs a scheme this credential does not provide.
    #[error("operation `{operation}` needs one of the security schemes [{schemes}], which this credential does not provide")]
    NoMatchingScheme { operation: String, schemes: String },
    /// The operation id is not in the API description (a generator bug).
    #[error("operation `{0}` is not in the API description")]
    UnknownOperation(String),
    /// The credential cannot be put into a header (e.g. it contains a newline).
    #[error("the credential for scheme `{scheme}` is not a valid HTTP header value")]
    InvalidHeaderValue { scheme: String },
    /// The credential is no longer valid and cannot be renewed without the user.
    #[error("re-authentication needed: {0}")]
    ReauthenticationRequired(String),
    /// The credential could not be obtained or renewed right now (token endpoint unreachable or
    /// refusing for another reason than the grant), or cannot be placed in this request.
    #[error("credential unavailable: {0}")]
    Unavailable(String),
}

/// A credential that can authorize requests. Implementations must not print secrets in `Debug`.
pub trait Authorizer: Send + Sync + fmt::Debug + 'static {
    /// Whether this credential can satisfy `scheme`.
    fn satisfies(&self, scheme: &SecurityScheme) -> bool;

    /// Puts the credential into `request` as `scheme` says. Replaces any earlier value, so a
    /// resent request carries exactly one credential.
    fn authorize<'a>(
        &'a self,
        scheme: &'a SecurityScheme,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>>;

    /// Whether [`Authorizer::renew`] can ever succeed. When false, requests are not kept for a
    /// resend (no clone per request).
    fn can_renew(&self) -> bool {
        false
    }

    /// The server rejected `rejected` (as it was sent, credential included) with `status`.
    /// Renew the credential if this kind can (refresh a token, log in again) and return
    /// `Ok(true)` to resend the request once. Compare the credential in `rejected` with the current
    /// one first: when another task has already renewed it, just return `Ok(true)`.
    fn renew<'a>(
        &'a self,
        status: StatusCode,
        rejected: &'a reqwest::Request,
    ) -> BoxFuture<'a, Result<bool, AuthError>> {
        let _ = (status, rejected);
        Box::pin(async { Ok(false) })
    }

    #[cfg(feature = "rate-limit")]
    /// The client-side rate limiter and 429 retry policy of the client this credential belongs
    /// to; [`crate::hooks::exec`] applies it to every send. Default: none.
    fn send_policy(&self) -> Option<&crate::rate_limit::SendPolicy> {
        None
    }
}

/// The credential of one client; cheap to clone, shared by all clones.
#[derive(Clone)]
pub struct Auth {
    authorizer: Option<Arc<dyn Authorizer>>,
    transport: Transport,
}

impl Auth {
    /// No credentials: operations are sent as they are (some servers disable auth).
    pub fn none() -> Self {
        crate::config::ensure_crypto_provider();
        Auth {
            authorizer: None,
            transport: Transport::default(),
        }
    }

    /// A static API key, placed wherever the operation's API-key scheme says (header, query
    /// parameter, with the scheme's prefix).
    pub fn api_key(key: impl Into<Secret>) -> Self {
        Self::custom(ApiKey {
            key: key.into(),
            only_scheme: None,
            header: OnceLock::new(),
        })
    }

    /// A static API key for one named scheme only (e.g. TONalytica's `ApiKeyQuery` to send the
    /// key as `?api_key=` instead of the `Authorization` header).
    pub fn api_key_for_scheme(scheme: &str, key: impl Into<Secret>) -> Self {
        Self::custom(ApiKey {
            key: key.into(),
            only_scheme: Some(scheme.to_string()),
            header: OnceLock::new(),
        })
    }

    /// Any other credential.
    pub fn custom(authorizer: impl Authorizer) -> Self {
        crate::config::ensure_crypto_provider();
        Auth {
            authorizer: Some(Arc::new(authorizer)),
            transport: Transport::default(),
        }
    }

    pub fn authorizer(&self) -> Option<&dyn Authorizer> {
        self.authorizer.as_deref()
    }

    /// The same credential with another transport policy (retries, retry budget, body limits).
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The same credential with another retry policy (the budget stays shared).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.transport = self.transport.with_retry(retry);
        self
    }

    /// The same credential with other response-body limits.
    pub fn with_body_limits(mut self, limits: BodyLimits) -> Self {
        self.transport = self.transport.with_body_limits(limits);
        self
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.authorizer {
            None => f.write_str("Auth::None"),
            Some(a) => f.debug_tuple("Auth").field(a).finish(),
        }
    }
}

/// A static API key.
pub struct ApiKey {
    key: Secret,
    only_scheme: Option<String>,
    /// The header of the first header scheme it was applied to, built once: a client talks to
    /// one API, whose key header does not change between requests.
    header: OnceLock<KeyHeader>,
}

/// A key header ready to insert (its value marked sensitive).
struct KeyHeader {
    scheme: &'static str,
    name: HeaderName,
    value: HeaderValue,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("key", &self.key)
            .field("only_scheme", &self.only_scheme)
            .finish()
    }
}

impl ApiKey {
    fn key_header(
        &self,
        scheme: &'static str,
        parameter: &str,
        prefix: &str,
    ) -> Result<KeyHeader, AuthError> {
        let invalid = || AuthError::InvalidHeaderValue {
            scheme: scheme.to_string(),
        };
        let name = HeaderName::from_bytes(parameter.as_bytes()).map_err(|_| invalid())?;
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.key.expose()))
            .map_err(|_| invalid())?;
        value.set_sensitive(true);
        Ok(KeyHeader {
            scheme,
            name,
            value,
        })
    }
}

impl Authorizer for ApiKey {
    fn satisfies(&self, scheme: &SecurityScheme) -> bool {
        matches!(scheme.kind, SchemeKind::ApiKey { location, .. } if location != KeyLocation::Cookie)
            && self
                .only_scheme
                .as_deref()
                .is_none_or(|only| only == scheme.name)
    }

    fn authorize<'a>(
        &'a self,
        scheme: &'a SecurityScheme,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        authorized(self.authorize_now(scheme, request))
    }
}

impl ApiKey {
    /// The key goes in synchronously: [`Authorizer::authorize`] returns [`authorized`].
    fn authorize_now(
        &self,
        scheme: &SecurityScheme,
        request: &mut reqwest::Request,
    ) -> Result<(), AuthError> {
        let SchemeKind::ApiKey {
            location,
            parameter,
            prefix,
        } = scheme.kind
        else {
            return Ok(());
        };
        match location {
            KeyLocation::Header => {
                let cached = self.header.get().filter(|h| h.scheme == scheme.name);
                let (name, value) = match cached {
                    Some(h) => (h.name.clone(), h.value.clone()),
                    None => {
                        let built = self.key_header(scheme.name, parameter, prefix)?;
                        let pair = (built.name.clone(), built.value.clone());
                        let _ = self.header.set(built);
                        pair
                    }
                };
                request.headers_mut().insert(name, value);
            }
            KeyLocation::Query => {
                let value = format!("{prefix}{}", self.key.expose());
                set_query_pair(request.url_mut(), parameter, &value);
            }
            KeyLocation::Cookie => {}
        }
        Ok(())
    }
}

/// The future [`Authorizer::authorize`] returns when the credential went in synchronously. Success
/// is a zero-sized future, which `Box::pin` does not allocate: static credentials cost no
/// allocation per request.
pub fn authorized<'a>(result: Result<(), AuthError>) -> BoxFuture<'a, Result<(), AuthError>> {
    /// `Ok(())`, ready at once.
    struct Authorized;
    impl std::future::Future for Authorized {
        type Output = Result<(), AuthError>;
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Self::Output> {
            std::task::Poll::Ready(Ok(()))
        }
    }
    match result {
        Ok(()) => Box::pin(Authorized),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    }
}

/// Sets `name=value` in the query, replacing earlier occurrences.
fn set_query_pair(url: &mut url::Url, name: &str, value: &str) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut pairs = url.query_pairs_mut();
    pairs.clear();
    for (k, v) in &kept {
        pairs.append_pair(k, v);
    }
    pairs.append_pair(name, value);
}
