//! Client-side rate limiting.
//!
//! A [`SendPolicy`] belongs to one client (all its clones share it, and several clients of the
//! same server account can share one): [`crate::hooks::exec`] passes every send — first attempts,
//! credential resends and retries alike — through its [`RateLimiter`]. It may also carry a
//! [`RetryPolicy`] that replaces the client's (see [`crate::Transport`]).
//!
//! The limiter is [`governor`]'s GCRA with a small burst, one bucket per window (e.g. per minute
//! *and* per hour). GCRA with burst `b` and emission interval `T` admits at most `b + ⌊W/T⌋`
//! requests in any window of length `W`; [`Limit`] picks `T = W / (max − b − 1)`, so that even
//! with two buckets acquired one after the other no window of length `W` ever sees more than `max`
//! sends (a plain `Quota::per_minute(180)` would admit up to 359 in one minute). Time comes from
//! `tokio::time`, so tests can run the limiter on paused (virtual) time.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::Quota;
use reqwest::Request;

pub use crate::retry::RetryPolicy;

/// At most `max` requests in any window of length `per`, in bursts of at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    max: u32,
    per: Duration,
    burst: u32,
}

impl Limit {
    /// At most `max` requests in any window of length `per`. The burst defaults to
    /// `min(5, max / 4)` (at least 1).
    pub fn new(max: u32, per: Duration) -> Self {
        let max = max.max(1);
        Limit {
            max,
            per,
            burst: (max / 4).clamp(1, 5),
        }
    }

    pub fn per_minute(max: u32) -> Self {
        Self::new(max, Duration::from_secs(60))
    }

    pub fn per_hour(max: u32) -> Self {
        Self::new(max, Duration::from_secs(3600))
    }

    /// Requests that may go out back to back after a quiet period (at least 1).
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    pub fn max(&self) -> u32 {
        self.max
    }

    pub fn per(&self) -> Duration {
        self.per
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The steady rate leaves room for the burst and for one request admitted by another bucket
    /// just before this one (see the module docs).
    fn quota(&self) -> Quota {
        let burst = self.burst.min(self.max.saturating_sub(2)).max(1);
        let steady = self.max.saturating_sub(burst + 1).max(1);
        let period = (self.per / steady).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// governor's clock on `tokio::time`, so that paused test time drives the limiter too.
#[derive(Debug, Clone)]
struct TokioClock {
    origin: tokio::time::Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        // Start at 1 s so that the first request never sits at governor's zero reference.
        Nanos::from(self.origin.elapsed() + Duration::from_secs(1))
    }
}

type Gcra = governor::RateLimiter<
    NotKeyed,
    InMemoryState,
    TokioClock,
    governor::middleware::NoOpMiddleware<Nanos>,
>;

/// Rate limiter over one or more [`Limit`]s; cheap to clone, clones share the buckets.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<LimiterInner>,
}

struct LimiterInner {
    limits: Vec<Limit>,
    buckets: Vec<Gcra>,
    clock: TokioClock,
    /// FIFO gate: one caller at a time takes cells from all buckets, so waiting callers are
    /// served in arrival order and the per-window bounds hold across buckets.
    gate: tokio::sync::Mutex<()>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.inner.limits)
            .finish()
    }
}

impl RateLimiter {
    pub fn new(limits: impl IntoIterator<Item = Limit>) -> Self {
        let clock = TokioClock {
            origin: tokio::time::Instant::now(),
        };
        let limits: Vec<Limit> = limits.into_iter().collect();
        let buckets = limits
            .iter()
            .map(|l| governor::RateLimiter::direct_with_clock(l.quota(), clock.clone()))
            .collect();
        RateLimiter {
            inner: Arc::new(LimiterInner {
                limits,
                buckets,
                clock,
                gate: tokio::sync::Mutex::new(()),
            }),
        }
    }

    pub fn limits(&self) -> &[Limit] {
        &self.inner.limits
    }

    /// Waits until one more request may be sent under every limit, and counts it.
    pub async fn acquire(&self) {
        let _gate = self.inner.gate.lock().await;
        for bucket in &self.inner.buckets {
            while let Err(not_until) = bucket.check() {
                let wait = not_until.wait_time_from(self.inner.clock.now());
                tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
            }
        }
    }
}

/// What [`crate::hooks::exec`] does around each send for one client: the limiter every send
/// waits for, and optionally a retry policy that replaces the client's. Clones share the limiter.
#[derive(Debug, Clone, Default)]
pub struct SendPolicy {
    limiter: Option<RateLimiter>,
    retry: Option<RetryPolicy>,
}

impl SendPolicy {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    pub fn limiter(&self) -> Option<&RateLimiter> {
        self.limiter.as_ref()
    }

    pub fn retry(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref()
    }
}

/// A credential-less [`crate::Authorizer`] that only carries a [`SendPolicy`]: requests go out
/// without credentials (like `Auth::none()`) but rate limited, e.g. at an API's anonymous limit.
#[derive(Debug, Clone)]
pub struct Unauthenticated {
    policy: SendPolicy,
}

impl Unauthenticated {
    pub fn new(policy: SendPolicy) -> Self {
        Unauthenticated { policy }
    }
}

impl crate::Authorizer for Unauthenticated {
    fn satisfies(&self, _scheme: &crate::SecurityScheme) -> bool {
        true
    }

    fn authorize<'a>(
        &'a self,
        _scheme: &'a crate::SecurityScheme,
        _request: &'a mut Request,
    ) -> futures::future::BoxFuture<'a, Result<(), crate::AuthError>> {
        crate::authorized(Ok(()))
    }

    fn send_policy(&self) -> Option<&SendPolicy> {
        Some(&self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limiter_keeps_every_window_under_max() {
        let limiter = RateLimiter::new([Limit::per_minute(20).with_burst(3)]);
        let start = tokio::time::Instant::now();
        let mut times = Vec::new();
        for _ in 0..100 {
            limiter.acquire().await;
            times.push(start.elapsed());
        }
        assert_eq!(times[..3], [Duration::ZERO; 3]);
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(60))
                .count();
            assert!(in_window <= 20, "{in_window} in the minute from {t:?}");
        }
        // Not much slower than that either: after the burst of 3, a steady 16 per minute
        // (20 less the burst and one spare), so 97 more take about 6 minutes.
        assert!(times[99] < Duration::from_secs(7 * 60), "{:?}", times[99]);
    }
}
