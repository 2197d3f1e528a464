//! [`Transport`]: the per-client policy the hooks apply around every send, beyond what the
//! reqwest client itself does (timeouts, TLS and redirects live in [`crate::ClientConfig`]).

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
