//! The two functions every generated `ClientHooks` implementation forwards to.

use bytes::Bytes;
use futures::StreamExt;
use reqwest::{Request, Response};
use tracing::Instrument;

use std::time::Duration;

use crate::api::{ApiDescription, Operation};
use crate::body;
use crate::credentials::{Auth, AuthError};
use crate::error::retry_after;
use crate::retry::Attempt;

/// progenitor adds `api-version: <info.version>` to every request; none of our APIs define it.
const PROGENITOR_VERSION_HEADER: &str = "api-version";

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

/// Before sending: check bounded query parameters, send array parameters the way the spec says,
/// drop progenitor's version header and apply the credential the operation needs.
pub async fn pre(
    auth: &Auth,
    api: &ApiDescription,
    operation_id: &str,
    request: &mut Request,
) -> Result<(), HookError> {
    request.headers_mut().remove(PROGENITOR_VERSION_HEADER);
    if let Some(operation) = api.operation(operation_id) {
        check_query_ranges(operation, request.url())?;
        join_comma_separated(operation, request.url_mut());
    }
    authorize(auth, api, operation_id, request).await?;
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
    if operation.comma_separated.is_empty() {
        return;
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in url.query_pairs() {
        let joined = operation.comma_separated.contains(&k.as_ref());
        match pairs.iter_mut().find(|(name, _)| joined && *name == k) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            None => pairs.push((k.into_owned(), v.into_owned())),
        }
    }
    if pairs.is_empty() {
        url.set_query(None);
    } else {
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
    let Some(authorizer) = auth.authorizer() else {
        return Ok(());
    };
    if operation.security.is_empty() {
        return Ok(());
    }
    for alternative in operation.security {
        let schemes: Option<Vec<_>> = alternative.iter().map(|name| api.scheme(name)).collect();
        let Some(schemes) = schemes else { continue };
        if schemes.iter().all(|s| authorizer.satisfies(s)) {
            for scheme in schemes {
                authorizer.authorize(scheme, request).await?;
            }
            return Ok(());
        }
    }
    Err(AuthError::NoMatchingScheme {
        operation: operation_id.to_string(),
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
/// a renewable credential — one renewal and resend. Bodies are then read within the body limits:
/// JSON bodies whole (so that decoding needs no second copy), error bodies up to
/// [`ERROR_BODY_LIMIT`], streamed bodies watched for stalls. Errors never carry the URL, which
/// may hold a query-string key.
pub async fn exec(
    client: &reqwest::Client,
    auth: &Auth,
    api: &ApiDescription,
    operation_id: &str,
    request: Request,
) -> reqwest::Result<Response> {
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
    async move {
        let started = tokio::time::Instant::now();
        let renewable = auth.authorizer().filter(|a| a.can_renew());
        let renewal = renewable.and_then(|_| request.try_clone());
        let idempotent = operation.is_some_and(|o| o.is_idempotent());
        let mut response = send(client, auth, idempotent, request).await?;

        if let (Some(mut again), Some(authorizer)) = (renewal, renewable) {
            let status = response.status();
            if matches!(status.as_u16(), 401 | 403)
                && authorizer.renew(status, &again).await.unwrap_or(false)
            {
                // The renewed credential replaces the old one in place.
                if authorize(auth, api, operation_id, &mut again).await.is_ok() {
                    response = send(client, auth, idempotent, again).await?;
                }
            }
        }
        let span = tracing::Span::current();
        span.record("status", response.status().as_u16());
        span.record("duration_ms", started.elapsed().as_millis() as u64);

        let limits = auth.transport().body_limits();
        if !response.status().is_success() {
            Ok(buffer_error_body(response, limits.stall_timeout).await)
        } else if operation.is_some_and(|o| o.streams_body) {
            Ok(body::watch(response, limits.stall_timeout))
        } else {
            Ok(body::buffer(response, limits).await)
        }
    }
    .instrument(span)
    .await
}

/// One logical send: waits for the credential's rate limiter (if any) before every attempt and
/// retries transient failures as the retry policy and budget allow. A request whose body cannot
/// be cloned (a stream) is sent once.
async fn send(
    client: &reqwest::Client,
    auth: &Auth,
    idempotent: bool,
    request: Request,
) -> reqwest::Result<Response> {
    let transport = auth.transport();
    #[cfg(feature = "rate-limit")]
    let send_policy = auth.authorizer().and_then(|a| a.send_policy());
    #[cfg(feature = "rate-limit")]
    let policy = send_policy
        .and_then(|p| p.retry().copied())
        .unwrap_or(*transport.retry());
    #[cfg(not(feature = "rate-limit"))]
    let policy = *transport.retry();
    let budget = transport.retry_budget();

    let mut request = request;
    let mut retries = 0;
    let mut waited = Duration::ZERO;
    loop {
        let next = if retries < policy.max_retries {
            request.try_clone()
        } else {
            None
        };
        #[cfg(feature = "rate-limit")]
        if let Some(limiter) = send_policy
            .and_then(|p| p.limiter())
            .or(transport.rate_limiter())
        {
            limiter.acquire().await;
        }
        tracing::Span::current().record("attempt", retries + 1);
        let result = client.execute(request).await.map_err(|e| e.without_url());
        let attempt = match &result {
            Ok(response) => Attempt::of_status(response.status()),
            Err(error) => Attempt::of_error(error),
        };
        if attempt == Attempt::Final {
            budget.record_success();
            return result;
        }
        budget.record_failure();
        let server_wait = result.as_ref().ok().and_then(|r| retry_after(r.headers()));
        let retry = match next {
            Some(next) if attempt.may_retry(idempotent) && budget.allows_retry() => policy
                .delay(retries, server_wait, waited)
                .map(|delay| (delay, next)),
            _ => None,
        };
        let Some((delay, next)) = retry else {
            return result;
        };
        tracing::debug!(
            attempt = retries + 1,
            delay_ms = delay.as_millis() as u64,
            outcome = ?attempt,
            "retrying"
        );
        drop(result);
        tokio::time::sleep(delay).await;
        waited += delay;
        retries += 1;
        request = next;
    }
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
