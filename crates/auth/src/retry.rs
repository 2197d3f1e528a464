//! When a failed send is tried again, and how long to wait first.
//!
//! [`RetryPolicy`] decides per call: which failures are retried (transient ones only, and only
//! when sending twice is safe), how many times, and the wait before each retry — the server's
//! `Retry-After` when it sent one, otherwise full-jitter exponential backoff. [`RetryBudget`]
//! decides per client: retries stop while most recent sends fail, so that an outage does not
//! multiply traffic (gRPC's retry throttling: each failure costs a token, each success earns a
//! tenth of one, retries need more than half the tokens).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::StatusCode;

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// An answer that ends the call (success or a final error such as 400/401/404), or an error
    /// that would repeat (a redirect loop).
    Final,
    /// 502, 503 or 504: the server or a proxy in front of it is briefly unavailable.
    Unavailable,
    /// 429 Too Many Requests.
    RateLimited,
    /// No connection was made: nothing was sent, so even a POST may go again.
    ConnectFailed,
    /// The connection broke or timed out after the request may have been sent.
    SendFailed,
}

impl Attempt {
    pub fn of_status(status: StatusCode) -> Self {
        match status.as_u16() {
            502..=504 => Attempt::Unavailable,
            429 => Attempt::RateLimited,
            _ => Attempt::Final,
        }
    }

    pub fn of_error(error: &reqwest::Error) -> Self {
        if error.is_redirect() || error.is_builder() {
            // A redirect loop or a request that cannot be built fails the same way again.
            Attempt::Final
        } else if error.is_connect() {
            Attempt::ConnectFailed
        } else {
            Attempt::SendFailed
        }
    }

    /// Whether trying again is safe: nothing was sent, or the method is idempotent.
    pub fn may_retry(self, idempotent: bool) -> bool {
        match self {
            Attempt::Final => false,
            Attempt::ConnectFailed => true,
            Attempt::Unavailable | Attempt::RateLimited | Attempt::SendFailed => idempotent,
        }
    }
}

/// How one call is retried. Waits use `tokio::time`, so paused test time drives them.
///
/// A call is given up — the last answer or error goes to the caller — after `max_retries`
/// retries, when a `Retry-After` exceeds `max_retry_after` (a 429 then becomes
/// `ApiError::RateLimited` at once instead of a long sleep), or when the waits together would
/// exceed `total_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2: at most 3 attempts).
    pub max_retries: u32,
    /// First backoff step (default 250 ms); step `n` is `base_delay × 2ⁿ`, capped.
    pub base_delay: Duration,
    /// Cap of one backoff step (default 8 s).
    pub max_backoff: Duration,
    /// Longest `Retry-After` the client waits out (default 30 s).
    pub max_retry_after: Duration,
    /// Cap of all waits of one call together (default 60 s).
    pub total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            total_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    pub fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    pub fn with_max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    pub fn with_total_wait(mut self, total_wait: Duration) -> Self {
        self.total_wait = total_wait;
        self
    }

    /// Full-jitter backoff before retry number `retry + 1`: uniform in
    /// `0..=min(max_backoff, base_delay × 2^retry)`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << retry.min(20))
            .min(self.max_backoff);
        ceiling.mul_f64(fastrand::f64())
    }

    /// The wait before retry number `retry + 1`, or `None` to give up. `waited` is the time this
    /// call already spent waiting. A `Retry-After` is never shortened: the wait is that plus a
    /// jitter of up to 10 % (at least up to 100 ms), so that clients told the same time spread out.
    pub fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        waited: Duration,
    ) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let delay = match retry_after {
            Some(after) if after > self.max_retry_after => return None,
            Some(after) => {
                let spread = (after / 10).max(Duration::from_millis(100));
                after + spread.mul_f64(fastrand::f64())
            }
            None => self.backoff(retry),
        };
        (waited + delay <= self.total_wait).then_some(delay)
    }
}

/// Tokens that retries spend, shared by every clone of a client. Starts full (`max_tokens`);
/// every failed attempt costs one token, every other answer earns `token_ratio`; a retry is
/// allowed only while more than half the tokens are left. Under a total outage a client therefore
/// retries about `max_tokens / 2` times and then sends each request once, until answers succeed
/// again.
#[derive(Debug)]
pub struct RetryBudget {
    /// Thousandths of a token.
    milli_tokens: AtomicU32,
    max_milli: u32,
    earn_milli: u32,
}

impl Default for RetryBudget {
    /// 10 tokens, 0.1 earned per success (gRPC's example values).
    fn default() -> Self {
        Self::new(10, 0.1)
    }
}

impl RetryBudget {
    pub fn new(max_tokens: u32, token_ratio: f64) -> Self {
        let max_milli = max_tokens.saturating_mul(1000);
        RetryBudget {
            milli_tokens: AtomicU32::new(max_milli),
            max_milli,
            earn_milli: (token_ratio.clamp(0.0, 1000.0) * 1000.0) as u32,
        }
    }

    /// Records an attempt that failed in a retryable way.
    pub fn record_failure(&self) {
        let _ = self
            .milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_sub(1000))
            });
    }

    /// Records an answer that ends a call.
    pub fn record_success(&self) {
        let max = self.max_milli;
        let earn = self.earn_milli;
        let _ = self
            .milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(earn).min(max))
            });
    }

    /// Whether a retry may be sent now.
    pub fn allows_retry(&self) -> bool {
        self.milli_tokens.load(Ordering::Relaxed) > self.max_milli / 2
    }

    /// Tokens left, for diagnostics.
    pub fn tokens(&self) -> f64 {
        f64::from(self.milli_tokens.load(Ordering::Relaxed)) / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_never_shortened_and_capped() {
        let p = RetryPolicy::default();
        for _ in 0..200 {
            let d = p
                .delay(0, Some(Duration::from_secs(2)), Duration::ZERO)
                .unwrap();
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_millis(2200),
                "{d:?}"
            );
        }
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(1)), Duration::ZERO),
            None
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(31)), Duration::ZERO),
            None
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(20)), Duration::from_secs(45)),
            None
        );
        assert_eq!(RetryPolicy::never().delay(0, None, Duration::ZERO), None);
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_cap() {
        let p = RetryPolicy::default();
        for retry in 0..10 {
            let ceiling = (Duration::from_millis(250) * (1 << retry)).min(Duration::from_secs(8));
            let samples: Vec<Duration> = (0..300).map(|_| p.backoff(retry)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "retry {retry}");
            // Spread over the whole range, not clustered at the top.
            assert!(samples.iter().any(|d| *d < ceiling / 4), "retry {retry}");
            assert!(
                samples.iter().any(|d| *d > ceiling * 3 / 4),
                "retry {retry}"
            );
        }
    }

    #[test]
    fn only_safe_attempts_are_retried() {
        use Attempt::*;
        assert_eq!(
            Attempt::of_status(StatusCode::SERVICE_UNAVAILABLE),
            Unavailable
        );
        assert_eq!(Attempt::of_status(StatusCode::BAD_GATEWAY), Unavailable);
        assert_eq!(Attempt::of_status(StatusCode::GATEWAY_TIMEOUT), Unavailable);
        assert_eq!(
            Attempt::of_status(StatusCode::TOO_MANY_REQUESTS),
            RateLimited
        );
        for status in [200, 201, 400, 401, 403, 404, 422, 500, 501] {
            let a = Attempt::of_status(StatusCode::from_u16(status).unwrap());
            assert_eq!(a, Final, "{status}");
            assert!(!a.may_retry(true));
        }
        assert!(ConnectFailed.may_retry(false));
        for a in [Unavailable, RateLimited, SendFailed] {
            assert!(a.may_retry(true) && !a.may_retry(false), "{a:?}");
        }
    }

    #[test]
    fn budget_stops_retries_during_an_outage_and_recovers() {
        let budget = RetryBudget::default();
        let mut retries = 0;
        for _ in 0..1000 {
            budget.record_failure();
            while budget.allows_retry() {
                retries += 1;
                budget.record_failure();
            }
        }
        assert!(retries <= 5, "{retries} retries in an outage");
        for _ in 0..60 {
            budget.record_success();
        }
        assert!(budget.allows_retry(), "{}", budget.tokens());
        for _ in 0..1000 {
            budget.record_success();
        }
        assert_eq!(budget.tokens(), 10.0);
    }
}
