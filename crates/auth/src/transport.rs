//! [`Transport`]: the per-client policy the hooks apply around every send, beyond what the
//! reqwest client itself does (timeouts, TLS and redirects live in [`crate::ClientConfig`]):
//! retries, the retry budget, body limits and, with the `rate-limit` feature, a rate limiter.

use std::sync::Arc;

use crate::body::BodyLimits;
use crate::retry::{RetryBudget, RetryPolicy};

/// Retries, the retry budget and body limits of one client. Clones share the budget, so every
/// clone of a client spends from the same tokens.
///
/// ```
/// use std::time::Duration;
/// use analytics_auth::{Auth, BodyLimits, RetryPolicy, Transport};
///
/// let auth = Auth::api_key("key").with_transport(
///     Transport::default()
///         .with_retry(RetryPolicy::default().with_max_retries(4))
///         .with_body_limits(BodyLimits { max_bytes: 8 << 20, stall_timeout: Duration::from_secs(10) }),
/// );
/// assert_eq!(auth.transport().retry().max_retries, 4);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Transport {
    retry: RetryPolicy,
    budget: Arc<RetryBudget>,
    body: BodyLimits,
    #[cfg(feature = "rate-limit")]
    limiter: Option<crate::rate_limit::RateLimiter>,
}

impl Transport {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A fresh budget (tokens are not carried over from the previous one).
    pub fn with_retry_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Arc::new(budget);
        self
    }

    pub fn with_body_limits(mut self, body: BodyLimits) -> Self {
        self.body = body;
        self
    }

    /// Every send of this client (first attempts and retries) waits for `limiter`; clones of the
    /// limiter share its buckets, so one limiter can hold several clients under one quota.
    /// A credential's own limiter (`Authorizer::send_policy`) takes precedence.
    #[cfg(feature = "rate-limit")]
    pub fn with_rate_limiter(mut self, limiter: crate::rate_limit::RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    #[cfg(feature = "rate-limit")]
    pub fn rate_limiter(&self) -> Option<&crate::rate_limit::RateLimiter> {
        self.limiter.as_ref()
    }

    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    pub fn retry_budget(&self) -> &RetryBudget {
        &self.budget
    }

    pub fn body_limits(&self) -> BodyLimits {
        self.body
    }
}
