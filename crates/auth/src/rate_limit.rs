//! Client-side rate limiting and `429 Too Many Requests` retries.
//!
//! A [`SendPolicy`] belongs to one client (all its clones share it, and several clients of the
//! same server account can share one): [`crate::hooks::exec`] passes every send — first attempts,
//! credential resends and 429 retries alike — through its [`RateLimiter`], and retries an
//! *idempotent* request that got a 429 after the server's `Retry-After` plus jitter, bounded by a
//! [`RetryPolicy`].
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
use reqwest::{Request, Response, StatusCode};

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

/// How 429 answers to idempotent requests are retried.
///
/// Each wait is the server's `Retry-After` (or, without one, an exponential backoff from
/// `base_delay`) plus a random jitter of up to 10 % (at least up to 100 ms), never less than
/// `Retry-After`. A request is given up — the 429 is returned to the caller — after
/// `max_retries` retries, when one wait would exceed `max_wait`, or when the waits together would
/// exceed `total_wait`. Non-idempotent requests are never retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub max_wait: Duration,
    pub total_wait: Duration,
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            max_wait: Duration::from_secs(60),
            total_wait: Duration::from_secs(120),
            base_delay: Duration::from_secs(1),
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

    /// The wait before retry number `attempt + 1`, or `None` to give up. `waited` is the time
    /// already spent waiting for this request.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        waited: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_retries {
            return None;
        }
        let base = retry_after.unwrap_or_else(|| {
            self.base_delay
                .saturating_mul(1u32 << attempt.min(16))
                .min(self.max_wait)
        });
        if base > self.max_wait {
            return None;
        }
        let spread = (base / 10).max(Duration::from_millis(100));
        let delay = base + spread.mul_f64(fastrand::f64());
        (waited + delay <= self.total_wait).then_some(delay)
    }
}

/// What [`crate::hooks::exec`] does around each send for one client: the limiter every send
/// waits for, and the 429 retry policy. Clones share the limiter.
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

/// Sends `request` under `policy`: waits for the limiter before every attempt and retries an
/// idempotent request after a 429 as the retry policy allows. Transport errors never carry the
/// URL (it may hold a query-string token).
pub async fn send(
    client: &reqwest::Client,
    policy: Option<&SendPolicy>,
    idempotent: bool,
    request: Request,
) -> reqwest::Result<Response> {
    let Some(policy) = policy else {
        return client.execute(request).await.map_err(|e| e.without_url());
    };
    let retry = policy.retry.filter(|_| idempotent);
    let mut request = request;
    let mut attempt = 0;
    let mut waited = Duration::ZERO;
    loop {
        let again = retry.and_then(|_| request.try_clone());
        if let Some(limiter) = &policy.limiter {
            limiter.acquire().await;
        }
        let response = client.execute(request).await.map_err(|e| e.without_url())?;
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            return Ok(response);
        }
        let (Some(next), Some(retry)) = (again, retry) else {
            return Ok(response);
        };
        let Some(delay) = retry.delay(attempt, retry_after(response.headers()), waited) else {
            return Ok(response);
        };
        tracing::debug!(
            attempt = attempt + 1,
            delay_ms = delay.as_millis() as u64,
            "429 Too Many Requests: retrying after Retry-After"
        );
        drop(response);
        tokio::time::sleep(delay).await;
        waited += delay;
        attempt += 1;
        request = next;
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the servers in this workspace).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
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
        Box::pin(async { Ok(()) })
    }

    fn send_policy(&self) -> Option<&SendPolicy> {
        Some(&self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_honour_retry_after_and_bounds() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            let d = p
                .delay(0, Some(Duration::from_secs(2)), Duration::ZERO)
                .unwrap();
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_millis(2200),
                "{d:?}"
            );
        }
        assert_eq!(
            p.delay(3, Some(Duration::from_secs(1)), Duration::ZERO),
            None
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(61)), Duration::ZERO),
            None
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(50)), Duration::from_secs(100)),
            None
        );
        assert_eq!(RetryPolicy::never().delay(0, None, Duration::ZERO), None);
    }

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
