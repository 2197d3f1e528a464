//! Job status codes and [`fetch_fresh_result`](ClientJobsExt::fetch_fresh_result): execute a
//! saved query, poll its job with a [`PollPolicy`] and return the typed result.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::generated::{types, Client};
use crate::ApiError;

/// The error text of a job cancelled with `DELETE /api/jobs/{job_id}` (the server reports 4).
pub const CANCELLED_BY_USER: &str = "Query cancelled by user.";

/// A job's status code (`types::JobStatus` is the generated newtype over the integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// 1: queued, waiting to be executed.
    Pending,
    /// 2: executing.
    Started,
    /// 3: finished; `query_result_id` holds the result id.
    Success,
    /// 4: failed, or cancelled (`error` says which).
    Failure,
    /// 5: documented as CANCELLED; the server never sends it.
    Cancelled,
}

impl JobState {
    /// The wire code (1..=5).
    pub fn code(self) -> i64 {
        match self {
            JobState::Pending => 1,
            JobState::Started => 2,
            JobState::Success => 3,
            JobState::Failure => 4,
            JobState::Cancelled => 5,
        }
    }

    /// Whether the job is still queued or running (the front end polls while 1 or 2).
    pub fn is_running(self) -> bool {
        matches!(self, JobState::Pending | JobState::Started)
    }
}

/// A status code outside 1..=5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown job status {0} (expected 1..=5)")]
pub struct UnknownJobStatus(pub i64);

impl TryFrom<i64> for JobState {
    type Error = UnknownJobStatus;
    fn try_from(code: i64) -> Result<Self, Self::Error> {
        Ok(match code {
            1 => JobState::Pending,
            2 => JobState::Started,
            3 => JobState::Success,
            4 => JobState::Failure,
            5 => JobState::Cancelled,
            other => return Err(UnknownJobStatus(other)),
        })
    }
}

impl From<&types::JobStatus> for JobState {
    fn from(status: &types::JobStatus) -> Self {
        // The generated newtype only admits 1..=5.
        JobState::try_from(**status).unwrap_or(JobState::Failure)
    }
}

impl From<JobState> for types::JobStatus {
    fn from(state: JobState) -> Self {
        types::JobStatus::try_from(state.code()).unwrap_or_else(|_| unreachable!("1..=5"))
    }
}

impl types::Job {
    /// The status as an enum.
    pub fn state(&self) -> JobState {
        JobState::from(&self.status)
    }

    /// The error text (`""` unless failed); a schema job's error object gives its `message`.
    pub fn error_text(&self) -> &str {
        match &self.error {
            types::JobErrorValue::String(s) => s,
            types::JobErrorValue::SchemaJobError(e) => &e.message,
        }
    }

    /// The new query result's id, once a query job has finished.
    pub fn result_id(&self) -> Option<i64> {
        match &self.query_result_id {
            types::JobQueryResultId::Variant0(id) => *id,
            types::JobQueryResultId::Variant1(_) => None,
        }
    }
}

/// Cancels a [`fetch_fresh_result`](ClientJobsExt::fetch_fresh_result) from another task.
/// Clones share one flag.
#[derive(Debug, Clone)]
pub struct CancelToken {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    pub fn new() -> Self {
        CancelToken {
            sender: Arc::new(watch::channel(false).0),
        }
    }

    /// Stops every fetch that holds this token at its next await point.
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.sender.borrow()
    }

    /// Completes once [`CancelToken::cancel`] has been called.
    pub async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives as long as `self`, so `wait_for` cannot fail.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }
}

/// How to poll a job: the interval grows geometrically from `initial_interval` by `multiplier`
/// up to `max_interval`; the whole fetch (execution request, polls, result download) gives up
/// after `timeout`; `cancel` stops it early. On giving up (timeout or cancel) the job is
/// cancelled on the server when `cancel_job_on_give_up` is set (best effort, needs a user key).
#[derive(Debug, Clone)]
pub struct PollPolicy {
    pub initial_interval: Duration,
    pub multiplier: f64,
    pub max_interval: Duration,
    pub timeout: Duration,
    pub cancel: Option<CancelToken>,
    pub cancel_job_on_give_up: bool,
}

impl Default for PollPolicy {
    /// 500 ms, ×1.5 per poll, at most 10 s between polls, 5 minutes in all.
    fn default() -> Self {
        PollPolicy {
            initial_interval: Duration::from_millis(500),
            multiplier: 1.5,
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
            cancel: None,
            cancel_job_on_give_up: true,
        }
    }
}

impl PollPolicy {
    pub fn with_initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }
    /// Growth factor per poll; values below 1 are treated as 1.
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }
    pub fn with_max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }
    pub fn with_cancel_job_on_give_up(mut self, cancel: bool) -> Self {
        self.cancel_job_on_give_up = cancel;
        self
    }

    /// The wait before poll number `attempt` (0-based).
    pub fn interval(&self, attempt: u32) -> Duration {
        let factor = self
            .multiplier
            .max(1.0)
            .powi(i32::try_from(attempt).unwrap_or(i32::MAX));
        let secs = self.initial_interval.as_secs_f64() * factor;
        let max = self.max_interval.max(self.initial_interval);
        if !secs.is_finite() || secs >= max.as_secs_f64() {
            max
        } else {
            Duration::from_secs_f64(secs)
        }
    }
}

/// Why [`fetch_fresh_result`](ClientJobsExt::fetch_fresh_result) returned no result. Never
/// contains the API key.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchError {
    /// The server refused to execute the query (missing parameter, paused data source, unknown
    /// query, bad key: 404).
    Execute(ApiError<types::ExecuteQueryErrorBody>),
    /// Polling the job or downloading the result failed.
    Api(ApiError<types::Error>),
    /// The job failed (status 4); `error` is the database's message.
    JobFailed { job_id: uuid::Uuid, error: String },
    /// The job was cancelled (status 4 with `Query cancelled by user.`, or the documented 5).
    JobCancelled { job_id: uuid::Uuid },
    /// The job did not finish within the policy's timeout.
    TimedOut {
        job_id: Option<uuid::Uuid>,
        after: Duration,
    },
    /// The policy's [`CancelToken`] was cancelled.
    Aborted { job_id: Option<uuid::Uuid> },
    /// A finished job without a result id.
    InvalidResponse(String),
}

impl FetchError {
    /// The server's explanation, wherever it put it (`{"message"}` or `{"job": {"error"}}`).
    pub fn message(&self) -> Option<&str> {
        match self {
            FetchError::Execute(e) => e.message().or(match e {
                ApiError::InvalidRequest { body, .. }
                | ApiError::Forbidden { body, .. }
                | ApiError::NotFound { body, .. }
                | ApiError::Unauthorized { body, .. } => match body {
                    Some(types::ExecuteQueryErrorBody::JobErrorEnvelope(env)) => {
                        Some(env.job.error.as_str())
                    }
                    _ => None,
                },
                _ => None,
            }),
            FetchError::Api(e) => e.message(),
            FetchError::JobFailed { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Execute(e) => match (e.message(), self.message()) {
                (None, Some(job_error)) => {
                    write!(f, "the query could not be executed: {e}: {job_error}")
                }
                _ => write!(f, "the query could not be executed: {e}"),
            },
            FetchError::Api(e) => write!(f, "polling the job failed: {e}"),
            FetchError::JobFailed { job_id, error } => write!(f, "job {job_id} failed: {error}"),
            FetchError::JobCancelled { job_id } => write!(f, "job {job_id} was cancelled"),
            FetchError::TimedOut { job_id, after } => match job_id {
                Some(id) => write!(f, "job {id} did not finish within {after:?}"),
                None => write!(f, "no result within {after:?}"),
            },
            FetchError::Aborted { job_id } => match job_id {
                Some(id) => write!(f, "cancelled by the caller while waiting for job {id}"),
                None => write!(f, "cancelled by the caller"),
            },
            FetchError::InvalidResponse(reason) => write!(f, "invalid response: {reason}"),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Execute(e) => Some(e),
            FetchError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// What stopped a wait early.
enum Stop {
    Deadline,
    Cancelled,
}

/// Runs `future` unless the deadline passes or the token is cancelled first.
async fn guarded<T>(
    future: impl Future<Output = T>,
    deadline: Instant,
    cancel: Option<&CancelToken>,
) -> Result<T, Stop> {
    let cancelled = async {
        match cancel {
            Some(token) => token.cancelled().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        () = cancelled => Err(Stop::Cancelled),
        output = future => Ok(output),
        () = tokio::time::sleep_until(deadline) => Err(Stop::Deadline),
    }
}

/// Polls with `poll` until the job leaves 1/2, waiting `policy.interval(n)` before poll `n`.
/// Returns the finished (status 3) job.
pub(crate) async fn wait_for_job<F, Fut>(
    policy: &PollPolicy,
    started: Instant,
    job: types::Job,
    mut poll: F,
) -> Result<types::Job, FetchError>
where
    F: FnMut(uuid::Uuid) -> Fut,
    Fut: Future<Output = Result<types::Job, FetchError>>,
{
    let deadline = started + policy.timeout;
    let job_id = job.id;
    let give_up = |stop: Stop| match stop {
        Stop::Deadline => FetchError::TimedOut {
            job_id: Some(job_id),
            after: policy.timeout,
        },
        Stop::Cancelled => FetchError::Aborted {
            job_id: Some(job_id),
        },
    };
    let mut job = job;
    let mut attempt = 0u32;
    loop {
        match job.state() {
            JobState::Success => return Ok(job),
            JobState::Cancelled => return Err(FetchError::JobCancelled { job_id }),
            JobState::Failure if job.error_text() == CANCELLED_BY_USER => {
                return Err(FetchError::JobCancelled { job_id })
            }
            JobState::Failure => {
                return Err(FetchError::JobFailed {
                    job_id,
                    error: job.error_text().to_string(),
                })
            }
            JobState::Pending | JobState::Started => {}
        }
        let wake = Instant::now() + policy.interval(attempt);
        attempt = attempt.saturating_add(1);
        guarded(
            tokio::time::sleep_until(wake.min(deadline)),
            deadline,
            policy.cancel.as_ref(),
        )
        .await
        .map_err(give_up)?;
        if Instant::now() >= deadline {
            return Err(give_up(Stop::Deadline));
        }
        job = guarded(poll(job_id), deadline, policy.cancel.as_ref())
            .await
            .map_err(give_up)??;
    }
}

/// Executing saved queries and waiting for their jobs.
pub trait ClientJobsExt {
    /// [`fetch_fresh_result_with`](ClientJobsExt::fetch_fresh_result_with) and the default
    /// [`PollPolicy`].
    fn fetch_fresh_result(
        &self,
        query_id: i64,
        parameters: Option<types::ParameterValues>,
        max_age: Option<i64>,
    ) -> impl Future<Output = Result<types::QueryResult, FetchError>> + Send;

    /// Posts `{"parameters", "max_age"}` to `/api/queries/{query_id}/results`. A cached result
    /// (younger than `max_age` seconds; `Some(0)` always executes, `None` accepts any age) is
    /// returned as it is. Otherwise the job is polled at `/api/queries/{query_id}/jobs/{job_id}`
    /// (which, unlike `/api/jobs/{job_id}`, also accepts the query's own API key) until it
    /// finishes, fails or is cancelled, and the result is read from
    /// `/api/queries/{query_id}/results/{result_id}.json`.
    fn fetch_fresh_result_with(
        &self,
        query_id: i64,
        parameters: Option<types::ParameterValues>,
        max_age: Option<i64>,
        policy: &PollPolicy,
    ) -> impl Future<Output = Result<types::QueryResult, FetchError>> + Send;
}

impl ClientJobsExt for Client {
    async fn fetch_fresh_result(
        &self,
        query_id: i64,
        parameters: Option<types::ParameterValues>,
        max_age: Option<i64>,
    ) -> Result<types::QueryResult, FetchError> {
        self.fetch_fresh_result_with(query_id, parameters, max_age, &PollPolicy::default())
            .await
    }

    async fn fetch_fresh_result_with(
        &self,
        query_id: i64,
        parameters: Option<types::ParameterValues>,
        max_age: Option<i64>,
        policy: &PollPolicy,
    ) -> Result<types::QueryResult, FetchError> {
        let started = Instant::now();
        let deadline = started + policy.timeout;
        let cancel = policy.cancel.as_ref();
        let stopped = |stop: Stop, job_id: Option<uuid::Uuid>| match stop {
            Stop::Deadline => FetchError::TimedOut {
                job_id,
                after: policy.timeout,
            },
            Stop::Cancelled => FetchError::Aborted { job_id },
        };
        let body = types::ExecuteQueryRequest {
            apply_auto_limit: false,
            max_age,
            parameters,
        };
        let request = self.execute_query().query_id(query_id).body(body).send();
        let answer = guarded(request, deadline, cancel)
            .await
            .map_err(|s| stopped(s, None))?
            .map_err(|e| FetchError::Execute(ApiError::from(e)))?
            .into_inner();
        let job = match answer {
            types::ExecuteQueryResponse::QueryResultEnvelope(cached) => {
                return Ok(cached.query_result)
            }
            types::ExecuteQueryResponse::JobEnvelope(envelope) => envelope.job,
        };
        let job_id = job.id;
        let finished = wait_for_job(policy, started, job, |job_id| async move {
            self.get_query_job()
                .query_id(query_id)
                .job_id(job_id)
                .send()
                .await
                .map(|r| r.into_inner().job)
                .map_err(|e| FetchError::Api(ApiError::from(e)))
        })
        .await;
        let finished = match finished {
            Ok(job) => job,
            Err(e @ (FetchError::TimedOut { .. } | FetchError::Aborted { .. })) => {
                if policy.cancel_job_on_give_up {
                    // Best effort, bounded: a query key cannot cancel (404), a dead server
                    // should not keep the caller waiting.
                    let cancel_request = self.cancel_job().job_id(job_id).send();
                    let _ = tokio::time::timeout(Duration::from_secs(5), cancel_request).await;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let result_id = finished.result_id().ok_or_else(|| {
            FetchError::InvalidResponse(format!("job {job_id} finished without a result id"))
        })?;
        let download = self
            .get_query_result_for_query_json()
            .query_id(query_id)
            .query_result_id(result_id)
            .send();
        let result = guarded(download, deadline, cancel)
            .await
            .map_err(|s| stopped(s, Some(job_id)))?
            .map_err(|e| FetchError::Api(ApiError::from(e)))?;
        Ok(result.into_inner().query_result)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Mutex;

    fn job(status: i64, error: &str) -> types::Job {
        serde_json::from_value(serde_json::json!({
            "id": "6a2f2f43-6bb1-4a3e-8ad1-6b4d3c2f0a11",
            "updated_at": 0,
            "status": status,
            "error": error,
            "result": if status == 3 { serde_json::json!(7) } else { serde_json::Value::Null },
            "query_result_id": if status == 3 { serde_json::json!(7) } else { serde_json::Value::Null },
        }))
        .unwrap()
    }

    #[test]
    fn status_codes_map_both_ways() {
        for code in 1..=5 {
            let state = JobState::try_from(code).unwrap();
            assert_eq!(state.code(), code);
            assert_eq!(*types::JobStatus::from(state), code);
        }
        assert_eq!(JobState::try_from(6), Err(UnknownJobStatus(6)));
        assert!(JobState::Pending.is_running() && JobState::Started.is_running());
        assert!(!JobState::Success.is_running());
    }

    #[test]
    fn intervals_grow_and_are_capped() {
        let p = PollPolicy::default()
            .with_initial_interval(Duration::from_secs(1))
            .with_multiplier(2.0)
            .with_max_interval(Duration::from_secs(5));
        let got: Vec<u64> = (0..6).map(|n| p.interval(n).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 5, 5, 5]);
        assert_eq!(p.interval(u32::MAX), Duration::from_secs(5));
        let flat = p.clone().with_multiplier(0.5);
        assert_eq!(flat.interval(3), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn polls_on_the_backoff_schedule_until_done() {
        let policy = PollPolicy::default()
            .with_initial_interval(Duration::from_secs(1))
            .with_multiplier(2.0)
            .with_max_interval(Duration::from_secs(4));
        let start = Instant::now();
        let seen = Mutex::new(Vec::new());
        let done = wait_for_job(&policy, start, job(1, ""), |_| {
            let mut seen = seen.lock().unwrap();
            seen.push(start.elapsed().as_secs());
            let status = if seen.len() < 5 { 2 } else { 3 };
            async move { Ok(job(status, "")) }
        })
        .await
        .unwrap();
        assert_eq!(done.result_id(), Some(7));
        // Waits 1, 2, 4, 4, 4 s.
        assert_eq!(*seen.lock().unwrap(), vec![1, 3, 7, 11, 15]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_that_never_finishes_times_out() {
        let policy = PollPolicy::default()
            .with_initial_interval(Duration::from_secs(1))
            .with_multiplier(2.0)
            .with_max_interval(Duration::from_secs(8))
            .with_timeout(Duration::from_secs(30));
        let start = Instant::now();
        let polls = Mutex::new(0u32);
        let err = wait_for_job(&policy, start, job(1, ""), |_| {
            *polls.lock().unwrap() += 1;
            async { Ok(job(2, "")) }
        })
        .await
        .unwrap_err();
        assert!(
            matches!(err, FetchError::TimedOut { job_id: Some(_), after } if after == Duration::from_secs(30))
        );
        assert_eq!(start.elapsed(), Duration::from_secs(30));
        // At 1, 3, 7, 15, 23 s; the next would be at 31 s.
        assert_eq!(*polls.lock().unwrap(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_the_wait() {
        let token = CancelToken::new();
        let policy = PollPolicy::default().with_cancel(token.clone());
        let canceller = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            canceller.cancel();
        });
        let start = Instant::now();
        let err = wait_for_job(&policy, start, job(2, ""), |_| async { Ok(job(2, "")) })
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Aborted { job_id: Some(_) }));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn failures_and_cancellations_are_told_apart() {
        let policy = PollPolicy::default();
        let start = Instant::now();
        let e = wait_for_job(&policy, start, job(4, "LINE 1: selec"), |_| async {
            unreachable!()
        })
        .await
        .unwrap_err();
        assert!(matches!(&e, FetchError::JobFailed { error, .. } if error == "LINE 1: selec"));
        let e = wait_for_job(&policy, start, job(4, CANCELLED_BY_USER), |_| async {
            unreachable!()
        })
        .await
        .unwrap_err();
        assert!(matches!(e, FetchError::JobCancelled { .. }));
        let e = wait_for_job(&policy, start, job(5, ""), |_| async { unreachable!() })
            .await
            .unwrap_err();
        assert!(matches!(e, FetchError::JobCancelled { .. }));
    }
}
