//! Reading response bodies with bounded memory and time.
//!
//! JSON bodies are read whole before decoding, into one buffer sized from `Content-Length`, so a
//! 10 MB result takes 10 MB while it is decoded (reqwest would hold the chunks and a copy).
//! Bodies that announce at most 64 KiB are left to reqwest, within the client's read timeout
//! (see [`crate::ClientConfig::with_read_timeout`]). A body
//! over [`BodyLimits::max_bytes`] is not read further, and a body that stops arriving for
//! [`BodyLimits::stall_timeout`] is abandoned; either way the call fails with
//! `ApiError::BodyTooLarge` / `ApiError::BodyStalled`. Streamed bodies (CSV, archives) are not
//! buffered or size-limited, only watched for stalls.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
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

/// Bodies up to this size with a `Content-Length` are left to reqwest: buffering them here would
/// cost more than it saves, and they stall within the client's read timeout.
const SMALL_BODY: u64 = 64 * 1024;

/// Whether `response` announces a body small enough to read without the transport's buffer.
pub(crate) fn is_small(response: &Response, limits: BodyLimits) -> bool {
    response
        .content_length()
        .is_some_and(|n| n <= SMALL_BODY.min(limits.max_bytes as u64))
}

/// Reads the whole body (within `limits`) and returns the response around it, as one chunk.
/// On failure the returned response's body yields the error when read.
pub(crate) async fn buffer(response: Response, limits: BodyLimits) -> Response {
    let announced = response.content_length();
    let (parts, body) = split(response);
    let result = match announced {
        Some(n) if n > limits.max_bytes as u64 => Err(BodyError::TooLarge {
            limit: limits.max_bytes,
        }
        .into()),
        _ => read_all(body, announced, limits).await,
    };
    match result {
        Ok(bytes) => rebuild(parts, reqwest::Body::from(bytes)),
        Err(error) => rebuild(
            parts,
            reqwest::Body::wrap_stream(futures::stream::once(async move {
                Err::<Bytes, BoxError>(error)
            })),
        ),
    }
}

/// The response with its body watched for stalls, otherwise untouched.
pub(crate) fn watch(response: Response, stall_timeout: Duration) -> Response {
    let (parts, body) = split(response);
    let watched = futures::stream::unfold(Some(body), move |state| async move {
        let mut body = state?;
        match tokio::time::timeout(stall_timeout, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
            Ok(Some(Err(e))) => Some((Err(BoxError::from(e.without_url())), None)),
            Ok(None) => None,
            Err(_) => Some((
                Err(BodyError::Stalled {
                    after: stall_timeout,
                }
                .into()),
                None,
            )),
        }
    });
    rebuild(parts, reqwest::Body::wrap_stream(watched))
}

async fn read_all(
    mut body: impl Stream<Item = reqwest::Result<Bytes>> + Unpin,
    announced: Option<u64>,
    limits: BodyLimits,
) -> Result<Bytes, BoxError> {
    let too_large = || -> BoxError {
        BodyError::TooLarge {
            limit: limits.max_bytes,
        }
        .into()
    };
    let Some(first) = next(&mut body, limits.stall_timeout).await? else {
        return Ok(Bytes::new());
    };
    if first.len() > limits.max_bytes {
        return Err(too_large());
    }
    let Some(second) = next(&mut body, limits.stall_timeout).await? else {
        // A body in one chunk is kept as it is, without a copy.
        return Ok(first);
    };
    let capacity = announced.map_or(0, |n| n as usize).min(limits.max_bytes);
    let mut buffer = Vec::with_capacity(capacity.max(first.len() + second.len()));
    buffer.extend_from_slice(&first);
    drop(first);
    let mut piece = Some(second);
    while let Some(chunk) = piece {
        if buffer.len() + chunk.len() > limits.max_bytes {
            return Err(too_large());
        }
        buffer.extend_from_slice(&chunk);
        drop(chunk);
        piece = next(&mut body, limits.stall_timeout).await?;
    }
    Ok(Bytes::from(buffer))
}

async fn next(
    body: &mut (impl Stream<Item = reqwest::Result<Bytes>> + Unpin),
    stall_timeout: Duration,
) -> Result<Option<Bytes>, BoxError> {
    match tokio::time::timeout(stall_timeout, body.next()).await {
        Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
        Ok(Some(Err(e))) => Err(e.without_url().into()),
        Ok(None) => Ok(None),
        Err(_) => Err(BodyError::Stalled {
            after: stall_timeout,
        }
        .into()),
    }
}

type Parts = (http::StatusCode, http::Version, http::HeaderMap, http::Extensions);

fn split(
    response: Response,
) -> (
    Parts,
    impl Stream<Item = reqwest::Result<Bytes>> + Unpin + Send + 'static,
) {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let extensions = response.extensions().clone();
    (
        (status, version, headers, extensions),
        response.bytes_stream(),
    )
}

/// A response with the same status, version, headers and extensions around a new body. It has no
/// URL, so it cannot leak a query-string key.
pub(crate) fn rebuild(
    (status, version, headers, extensions): Parts,
    body: reqwest::Body,
) -> Response {
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    *rebuilt.extensions_mut() = extensions;
    Response::from(rebuilt)
}
