//! What the generated code calls around each request: [`pre`] and [`exec`] (from its
//! `ClientHooks` implementation) and [`decode`] (in place of progenitor's
//! `ResponseValue::from_response`, which reads bodies without limits). Hand-written helpers that
//! build their own requests use the same three, or [`read_body`]. xtask also routes progenitor's
//! query parameters through [`query_param`] and writes URLs with [`url()`] and [`PathSegment`].

use bytes::Bytes;
use futures::StreamExt;
use progenitor_client::ResponseValue;
use reqwest::{Request, Response};
use tracing::Instrument;

use std::time::Duration;

use crate::api::{ApiDescription, Operation};
use crate::body::{self, ReadError};
use crate::credentials::{Auth, AuthError};
use crate::error::{retry_after, ApiError};
use crate::retry::{Attempt, RetryBudget};

pub use crate::path::{url, PathSegment};
pub use crate::query::query_param;

/// Error bodies are kept up to this size (the rest is dropped) so that errors can show an excerpt
/// and typed error bodies can be parsed without an unbounded read.
pub const ERROR_BODY_LIMIT: usize = 256 * 1024;

/// The body of a non-success response, read by [`exec`] and attached to the response so that
/// [`crate::ApiError`] can show an excerpt synchronously.
#[derive(Debug, Clone)]
pub struct ErrorBody(pub Bytes);

/// Why [`pre`] refused to send a request. Its `Display` is what the generated code puts into
/// `Error::Custom`; [`crate::ApiError`] reads it back into `InvalidInput` or `Auth`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("{prefix}{0}", prefix = INVALID_INPUT_PREFIX)]
    InvalidInput(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Marks an `Error::Custom` message as a client-side validation failure.
pub(crate) const INVALID_INPUT_PREFIX: &str = "invalid input: ";

/// Before sending: check bounded query parameters, send array parameters the way the spec says
/// and apply the credential the operation needs.
pub async fn pre(
    auth: &Auth,
    api: &ApiDescription,
    operation_id: &str,
    request: &mut Request,
) -> Result<(), HookError> {
    let operation = api
        .operation(operation_id)
        .ok_or_else(|| AuthError::UnknownOperation(operation_id.to_string()))?;
    check_query_ranges(operation, request.url())?;
    join_comma_separated(operation, request.url_mut());
    authorize_operation(auth, api, operation, request).await?;
    Ok(())
}

fn check_query_ranges(operation: &Operation, url: &url::Url) -> Result<(), HookError> {
    for range in operation.query_ranges {
        for (_, value) in url.query_pairs().filter(|(k, _)| k == range.name) {
            let n: i64 = value.parse().map_err(|_| {
                HookError::InvalidInput(format!(
                    "`{}` must be an integer, got `{value}`",
                    range.name
                ))
            })?;
            let below = range.min.is_some_and(|min| n < min);
            let above = range.max.is_some_and(|max| n > max);
            if below || above {
                let min = range.min.map_or("…".to_string(), |m| m.to_string());
                let max = range.max.map_or("…".to_string(), |m| m.to_string());
                return Err(HookError::InvalidInput(format!(
                    "`{}` of `{}` must be in {min}..={max}, got {n}",
                    range.name, operation.id
                )));
            }
        }
    }
    Ok(())
}

/// `a=x&a=y` → `a=x,y` for the operation's comma-separated parameters, keeping pair order.
fn join_comma_separated(operation: &Operation, url: &mut url::Url) {
    if operation.comma_separated.is_empty() || url.query().is_none() {
        return;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut joined_any = false;
    for (k, v) in url.query_pairs() {
        let joined = operation.comma_separated.contains(&k.as_ref());
        match pairs.iter_mut().find(|(name, _)| joined && *name == k) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&v);
                joined_any = true;
            }
            None => pairs.push((k.into_owned(), v.into_owned())),
        }
    }
    if joined_any {
        url.query_pairs_mut().clear().extend_pairs(&pairs);
    }
}

/// Chooses the first alternative of the operation's security requirement that the credential
/// satisfies and applies it. Without a credential the request goes out as it is.
pub async fn authorize(
    auth: &Auth,
    api: &ApiDescription,
    operation_id: &str,
    request: &mut Request,
) -> Result<(), AuthError> {
    let operation = api
        .operation(operation_id)
        .ok_or_else(|| AuthError::UnknownOperation(operation_id.to_string()))?;
    authorize_operation(auth, api, operation, request).await
}

async fn authorize_operation(
    auth: &Auth,
    api: &ApiDescription,
    operation: &Operation,
    request: &mut Request,
) -> Result<(), AuthError> {
    let Some(authorizer) = auth.authorizer() else {
        return Ok(());
    };
    if operation.security.is_empty() {
        return Ok(());
    }
    for alternative in operation.security {
        let satisfied = alternative
            .iter()
            .all(|name| api.scheme(name).is_some_and(|s| authorizer.satisfies(s)));
        if satisfied {
            for scheme in alternative.iter().filter_map(|name| api.scheme(name)) {
                authorizer.authorize(scheme, request).await?;
            }
            return Ok(());
        }
    }
    Err(AuthError::NoMatchingScheme {
        operation: operation.id.to_string(),
        schemes: operation
            .security
            .iter()
            .map(|alt| alt.join(" + "))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Sends the request under the client's [`crate::Transport`]: rate limit (when the credential
/// has one), retries of transient failures within the retry budget, and — when the server rejects
/// a renewable credential — one renewal and resend. Error bodies are then read, up to
/// [`ERROR_BODY_LIMIT`]; streamed bodies are watched for stalls; JSON bodies are left to
/// [`decode`]. Errors never carry the URL, which may hold a query-string key.
///
/// The request is held in one place for the whole call (the future every call awaits and moves
/// stays small: async functions keep each by-value argument twice).
pub fn exec<'a>(
    client: &'a reqwest::Client,
    auth: &'a Auth,
    api: &'a ApiDescription,
    operation_id: &'a str,
    mut request: Request,
) -> impl std::future::Future<Output = reqwest::Result<Response>> + Send + 'a {
    let operation = api.operation(operation_id);
    let span = tracing::debug_span!(
        "api_request",
        api = api.title,
        operation = operation_id,
        method = operation.map_or("", |o| o.method),
        path = operation.map_or("", |o| o.path),
        status = tracing::field::Empty,
        attempt = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let recorder = span.clone();
    async move {
        // Nothing is recorded (or timed) unless a subscriber wants the span.
        let started = (!recorder.is_disabled()).then(tokio::time::Instant::now);
        let renewable = auth.authorizer().filter(|a| a.can_renew());
        // Boxed: only renewable credentials keep a copy, and the future stays small without.
        let renewal = renewable.and_then(|_| request.try_clone().map(Box::new));
        let idempotent = operation.is_some_and(|o| o.is_idempotent());
        let response = send(client, auth, idempotent, &mut request, &recorder).await?;
        // Responses are passed on by value, never borrowed here: a borrowed local would keep its
        // room in this future through every later await.
        let response = match renewable.zip(renewal) {
            Some((authorizer, again)) => match verdict(response) {
                Verdict::Accepted(response) => response,
                // Boxed: a rare path that would otherwise enlarge every call's future.
                Verdict::Rejected(rejected) => {
                    Box::pin(renew_and_resend(
                        client,
                        auth,
                        api,
                        operation_id,
                        authorizer,
                        *again,
                        idempotent,
                        &recorder,
                        rejected,
                    ))
                    .await?
                }
            },
            None => response,
        };
        let stall_timeout = auth.transport().body_limits().stall_timeout;
        match finish(response, operation, started, &recorder, stall_timeout) {
            Ok(response) => Ok(response),
            Err(buffering) => Ok(buffering.await),
        }
    }
    .instrument(span)
}

/// Whether the server rejected the credential (401 or 403); takes the response by value so that
/// [`exec`] never borrows it.
enum Verdict {
    Accepted(Response),
    Rejected(Response),
}

fn verdict(response: Response) -> Verdict {
    match response.status().as_u16() {
        401 | 403 => Verdict::Rejected(response),
        _ => Verdict::Accepted(response),
    }
}

/// A buffered error body (boxed: the error path's future would otherwise set the size of every
/// call's future).
type Buffering = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

/// Records the answer on the span and prepares its body: a success is passed on (a streamed one
/// watched for stalls, a JSON one left to [`decode`]); an error's body is read by the returned
/// future, up to [`ERROR_BODY_LIMIT`].
fn finish(
    response: Response,
    operation: Option<&Operation>,
    started: Option<tokio::time::Instant>,
    recorder: &tracing::Span,
    stall_timeout: Duration,
) -> Result<Response, Buffering> {
    if let Some(started) = started {
        recorder.record("status", response.status().as_u16());
        recorder.record("duration_ms", started.elapsed().as_millis() as u64);
    }
    if !response.status().is_success() {
        Err(Box::pin(buffer_error_body(response, stall_timeout)))
    } else if operation.is_some_and(|o| o.streams_body) {
        Ok(body::watch(response, stall_timeout))
    } else {
        Ok(response)
    }
}

/// After a 401/403 with a renewable credential: renews it and, when that worked, sends `again`
/// (the request as first sent) once more with the new credential; otherwise keeps `rejected`.
#[allow(clippy::too_many_arguments)]
async fn renew_and_resend(
    client: &reqwest::Client,
    auth: &Auth,
    api: &ApiDescription,
    operation_id: &str,
    authorizer: &dyn crate::Authorizer,
    mut again: Request,
    idempotent: bool,
    recorder: &tracing::Span,
    rejected: Response,
) -> reqwest::Result<Response> {
    let status = rejected.status();
    if !authorizer.renew(status, &again).await.unwrap_or(false) {
        return Ok(rejected);
    }
    // The renewed credential replaces the old one in place.
    if authorize(auth, api, operation_id, &mut again)
        .await
        .is_err()
    {
        return Ok(rejected);
    }
    drop(rejected);
    send(client, auth, idempotent, &mut again, recorder).await
}

/// Reads a JSON body within the client's body limits and decodes it, as progenitor's
/// `ResponseValue::from_response` does without limits (xtask puts calls to this in its place).
/// A body limit comes back as `ResponseBodyError` carrying a [`crate::BodyError`].
pub fn decode<'a, T, E>(
    auth: &'a Auth,
    response: Response,
) -> impl std::future::Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> + 'a
where
    T: serde::de::DeserializeOwned + 'a,
    E: 'a,
{
    decode_with(auth, response, |body: &Bytes| serde_json::from_slice(body))
}

/// [`decode`] with a decoder of the caller's, which gets the whole body (a type that keeps parts
/// of the body instead of copying them, e.g. with [`crate::rows::Rows::from_array_in`]). xtask
/// uses it for replaced types that name their own decoder.
pub fn decode_with<'a, T, E, P>(
    auth: &'a Auth,
    mut response: Response,
    parse: P,
) -> impl std::future::Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> + 'a
where
    T: 'a,
    E: 'a,
    P: FnOnce(&Bytes) -> Result<T, serde_json::Error> + 'a,
{
    use progenitor_client::Error;
    // A plain function returning the future: an async one would hold the response twice.
    async move {
        let body = match body::read(&mut response, auth.transport().body_limits()).await {
            Ok(body) => body,
            Err(ReadError::Transport(e)) => return Err(Error::ResponseBodyError(e)),
            Err(ReadError::Limit(limit)) => {
                // Boxed: an error path that would otherwise double the future of every call.
                let converting = Box::pin(body::into_reqwest_error(limit));
                return Err(match converting.await {
                    Ok(e) => Error::ResponseBodyError(e),
                    Err(limit) => Error::Custom(limit.to_string()),
                });
            }
        };
        let inner = parse(&body).map_err(|e| Error::InvalidResponsePayload(body, e))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        Ok(ResponseValue::new(inner, status, headers))
    }
}

/// The message of a builder parameter that failed: `message`, or `unset` when the parameter was
/// never set. xtask starts each required parameter of the generated builders as an empty message
/// (`String::new()` does not allocate; a conversion error always has a message).
pub fn unset_or(message: String, unset: &'static str) -> String {
    if message.is_empty() {
        unset.to_owned()
    } else {
        message
    }
}

/// Reads a whole body within the client's body limits, for helpers that decode it themselves.
pub async fn read_body<E>(auth: &Auth, mut response: Response) -> Result<Bytes, ApiError<E>> {
    body::read(&mut response, auth.transport().body_limits())
        .await
        .map_err(|e| match e {
            ReadError::Transport(e) => ApiError::from(e),
            ReadError::Limit(limit) => ApiError::from(limit),
        })
}

/// One logical send of `request`: waits for the credential's rate limiter (if any) before every
/// attempt and retries transient failures as the retry policy and budget allow. A request whose
/// body cannot be copied (a stream) is sent once. Afterwards `request` holds a copy (or, after the
/// last attempt, only its method and URL).
async fn send(
    client: &reqwest::Client,
    auth: &Auth,
    idempotent: bool,
    request: &mut Request,
    span: &tracing::Span,
) -> reqwest::Result<Response> {
    let transport = auth.transport();
    #[cfg(feature = "rate-limit")]
    let send_policy = auth.authorizer().and_then(|a| a.send_policy());
    #[cfg(feature = "rate-limit")]
    let policy = send_policy
        .and_then(|p| p.retry())
        .unwrap_or(transport.retry());
    #[cfg(not(feature = "rate-limit"))]
    let policy = transport.retry();
    let budget = transport.retry_budget();

    let mut retries = 0;
    let mut waited = Duration::ZERO;
    loop {
        #[cfg(feature = "rate-limit")]
        if let Some(limiter) = send_policy
            .and_then(|p| p.limiter())
            .or(transport.rate_limiter())
        {
            // Boxed: only clients with a limiter wait here, and they send a few requests a second.
            Box::pin(limiter.acquire()).await;
        }
        span.record("attempt", retries + 1);
        // The request goes out and a copy takes its place for the next attempt. The original goes
        // first because its header map has room for the headers reqwest adds; a copy's has none.
        // (Matched by value, not borrowed: a borrowed local keeps its room in the future.)
        let (last, stand_in) = match (retries < policy.max_retries)
            .then(|| copy_for_retry(request))
            .flatten()
        {
            Some(copy) => (false, copy),
            None => (
                true,
                Request::new(request.method().clone(), request.url().clone()),
            ),
        };
        let outgoing = std::mem::replace(request, stand_in);
        // In a block of its own: the answer is gone before the wait (a borrowed local would keep
        // its room in this future).
        let delay = {
            let result = client.execute(outgoing).await.map_err(|e| e.without_url());
            let attempt = settle(budget, &result);
            if last
                || attempt == Attempt::Final
                || !attempt.may_retry(idempotent)
                || !budget.allows_retry()
            {
                return result;
            }
            let server_wait = result.as_ref().ok().and_then(|r| retry_after(r.headers()));
            let Some(delay) = policy.delay(retries, server_wait, waited) else {
                return result;
            };
            tracing::debug!(
                attempt = retries + 1,
                delay_ms = delay.as_millis() as u64,
                outcome = ?attempt,
                "retrying"
            );
            delay
        };
        // Boxed: a timer is larger than the rest of this future, and only a retry needs one.
        Box::pin(tokio::time::sleep(delay)).await;
        waited += delay;
        retries += 1;
    }
}

/// Classifies one attempt's outcome and records it in the retry budget.
fn settle(budget: &RetryBudget, result: &reqwest::Result<Response>) -> Attempt {
    let attempt = match result {
        Ok(response) => Attempt::of_status(response.status()),
        Err(error) => Attempt::of_error(error),
    };
    if attempt == Attempt::Final {
        budget.record_success();
    } else {
        budget.record_failure();
    }
    attempt
}

/// A copy of `request` to send again, or `None` when its body is a stream. A body-less request
/// (all GETs) is copied field by field: `Request::try_clone` also builds and drops an extensions
/// map on every call, which showed in the per-request cost. Requests built with
/// `RequestBuilder` carry nothing in their extensions but the timeout, which is copied.
fn copy_for_retry(request: &Request) -> Option<Request> {
    if request.body().is_some() {
        return request.try_clone();
    }
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    Some(copy)
}

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of an error response and rebuilds the response around
/// them. The rebuilt response has no URL (so it cannot leak a query-string key). A body that
/// breaks off or stalls keeps what arrived.
async fn buffer_error_body(response: Response, stall_timeout: Duration) -> Response {
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout(stall_timeout, stream.next()).await {
        let room = ERROR_BODY_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == ERROR_BODY_LIMIT {
            break;
        }
    }
    let body = Bytes::from(body);
    // The body is already decoded and may be shorter than announced.
    headers.remove(http::header::CONTENT_LENGTH);
    headers.remove(http::header::CONTENT_ENCODING);
    let mut rebuilt = http::Response::new(reqwest::Body::from(body.clone()));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    rebuilt.extensions_mut().insert(ErrorBody(body));
    Response::from(rebuilt)
}
