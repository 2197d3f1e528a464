//! Reading response bodies with bounded memory and time.
//!
//! JSON bodies are read whole before decoding ([`read`]), into one buffer sized from
//! `Content-Length`, so a 10 MB result takes 10 MB while it is decoded (reqwest would hold the
//! chunks and a copy). A body over [`BodyLimits::max_bytes`] is not read further, and a body that
//! stops arriving for [`BodyLimits::stall_timeout`] is abandoned; either way the call fails with
//! `ApiError::BodyTooLarge` / `ApiError::BodyStalled`. A timer is armed only while the body is
//! not already there, so a small body that came with its headers costs none. Streamed bodies
//! (CSV, archives) are not buffered or size-limited, only watched for stalls ([`watch`]).

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use reqwest::Response;

/// Limits on reading one response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest JSON body read (default 64 MiB). Streamed bodies are exempt.
    pub max_bytes: usize,
    /// Longest pause between two pieces of a body (default 30 s).
    pub stall_timeout: Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_bytes: 64 * 1024 * 1024,
            stall_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a body was abandoned. Travels inside the `reqwest::Error` the generated code sees;
/// `ApiError` finds it there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the response body is larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("the response body stalled: nothing arrived for {} s", after.as_secs_f64())]
    Stalled { after: Duration },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection failed (the error carries no URL).
    Transport(reqwest::Error),
    Limit(BodyError),
}

/// Reads the whole body of `response` within `limits`. A body in one piece is kept as it is;
/// more pieces go into one buffer sized from `Content-Length`.
pub(crate) async fn read(response: &mut Response, limits: BodyLimits) -> Result<Bytes, ReadError> {
    let too_large = ReadError::Limit(BodyError::TooLarge {
        limit: limits.max_bytes,
    });
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(too_large);
    }
    let Some(first) = next_chunk(response, limits.stall_timeout).await? else {
        return Ok(Bytes::new());
    };
    if first.len() > limits.max_bytes {
        return Err(too_large);
    }
    if announced == Some(first.len() as u64) {
        // All announced bytes are here: no need to wait for the end of the stream.
        return Ok(first);
    }
    let Some(second) = next_chunk(response, limits.stall_timeout).await? else {
        return Ok(first);
    };
    let capacity = announced.map_or(0, |n| n as usize).min(limits.max_bytes);
    let mut buffer = Vec::with_capacity(capacity.max(first.len() + second.len()));
    buffer.extend_from_slice(&first);
    drop(first);
    let mut piece = Some(second);
    while let Some(chunk) = piece {
        if buffer.len() + chunk.len() > limits.max_bytes {
            return Err(too_large);
        }
        buffer.extend_from_slice(&chunk);
        drop(chunk);
        piece = next_chunk(response, limits.stall_timeout).await?;
    }
    Ok(Bytes::from(buffer))
}

/// The next piece of the body, waiting at most `stall_timeout` for it.
async fn next_chunk(
    response: &mut Response,
    stall_timeout: Duration,
) -> Result<Option<Bytes>, ReadError> {
    let mut chunk = std::pin::pin!(response.chunk());
    let result = match std::future::poll_fn(|cx| Poll::Ready(chunk.as_mut().poll(cx))).await {
        Poll::Ready(result) => result,
        Poll::Pending => tokio::time::timeout(stall_timeout, chunk)
            .await
            .map_err(|_| {
                ReadError::Limit(BodyError::Stalled {
                    after: stall_timeout,
                })
            })?,
    };
    result.map_err(|e| ReadError::Transport(e.without_url()))
}

/// `error` inside a `reqwest::Error`, the form in which progenitor's `Error::ResponseBodyError`
/// carries body failures (`ApiError` finds it in the source chain). reqwest has no constructor
/// for its error, so a read of a body that fails with `error` makes one.
pub(crate) async fn into_reqwest_error(error: BodyError) -> Result<reqwest::Error, BodyError> {
    let carried = error.clone();
    let failing = futures::stream::once(async move { Err::<Bytes, BodyError>(carried) });
    let response = Response::from(http::Response::new(reqwest::Body::wrap_stream(failing)));
    match response.bytes().await {
        Err(e) => Ok(e),
        Ok(_) => Err(error),
    }
}

/// The response with its body watched for stalls, otherwise untouched.
pub(crate) fn watch(response: Response, stall_timeout: Duration) -> Response {
    let url = response.url().clone();
    let (mut parts, body) = http::Response::from(response).into_parts();
    keep_url(&mut parts, url);
    let watched = futures::stream::unfold(Some(body), move |state| async move {
        let mut body = state?;
        match next(&mut body, stall_timeout).await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(body))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    Response::from(http::Response::from_parts(
        parts,
        reqwest::Body::wrap_stream(watched),
    ))
}

/// Carries the response URL over the conversion to `http::Response` and back (which would
/// otherwise replace it with a placeholder, parsed anew for every response).
fn keep_url(parts: &mut http::response::Parts, url: reqwest::Url) {
    use reqwest::ResponseBuilderExt;
    if let Ok(carrier) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(carrier.into_parts().0.extensions);
    }
}

/// The next data of `body` (trailers are skipped), or an error when none arrives in time.
async fn next(
    body: &mut reqwest::Body,
    stall_timeout: Duration,
) -> Result<Option<Bytes>, BoxError> {
    loop {
        match tokio::time::timeout(stall_timeout, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
            Ok(Some(Err(e))) => return Err(e.without_url().into()),
            Ok(None) => return Ok(None),
            Err(_) => {
                return Err(BodyError::Stalled {
                    after: stall_timeout,
                }
                .into())
            }
        }
    }
}
