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
    let max = limits.max_bytes;
    let too_large = || ReadError::Limit(BodyError::TooLarge { limit: max });
    let announced = response.content_length();
    if announced.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    // One await in a loop: each await of a future keeps a slot of its own in this one.
    let mut received = Received::Nothing;
    while let Some(chunk) = next_chunk(response, limits.stall_timeout).await? {
        received = match received {
            Received::Nothing if chunk.len() > max => return Err(too_large()),
            // All announced bytes are here: no need to wait for the end of the stream.
            Received::Nothing if announced == Some(chunk.len() as u64) => return Ok(chunk),
            Received::Nothing => Received::One(chunk),
            Received::One(first) => {
                if first.len() + chunk.len() > max {
                    return Err(too_large());
                }
                let announced = announced.map_or(0, |n| n as usize).min(max);
                let mut buffer = Vec::with_capacity(announced.max(first.len() + chunk.len()));
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&chunk);
                Received::Many(buffer)
            }
            Received::Many(mut buffer) => {
                if buffer.len() + chunk.len() > max {
                    return Err(too_large());
                }
                buffer.extend_from_slice(&chunk);
                Received::Many(buffer)
            }
        };
    }
    Ok(match received {
        Received::Nothing => Bytes::new(),
        Received::One(body) => body,
        Received::Many(buffer) => Bytes::from(buffer),
    })
}

/// What [`read`] has so far.
enum Received {
    Nothing,
    /// The first piece, as it came.
    One(Bytes),
    /// Every piece, copied into one buffer.
    Many(Vec<u8>),
}

/// The next piece of the body, waiting at most `stall_timeout` for it.
async fn next_chunk(
    response: &mut Response,
    stall_timeout: Duration,
) -> Result<Option<Bytes>, ReadError> {
    let mut chunk = std::pin::pin!(response.chunk());
    let result = match std::future::poll_fn(|cx| Poll::Ready(chunk.as_mut().poll(cx))).await {
        Poll::Ready(result) => result,
        // Boxed: the timer is larger than the rest of this future, and a piece that is already
        // here needs none.
        Poll::Pending => Box::pin(tokio::time::timeout(stall_timeout, chunk))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A response whose body arrives in `pieces`, with no length announced.
    fn streamed(pieces: &[&'static [u8]]) -> Response {
        let pieces: Vec<_> = pieces
            .iter()
            .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p)))
            .collect();
        let body = reqwest::Body::wrap_stream(futures::stream::iter(pieces));
        Response::from(http::Response::new(body))
    }

    /// A response whose body is known in advance: its length is announced.
    fn announced(body: &'static [u8]) -> Response {
        Response::from(http::Response::new(reqwest::Body::from(body)))
    }

    async fn read_all(mut response: Response, max_bytes: usize) -> Result<Bytes, String> {
        let limits = BodyLimits {
            max_bytes,
            ..BodyLimits::default()
        };
        read(&mut response, limits).await.map_err(|e| match e {
            ReadError::Limit(limit) => limit.to_string(),
            ReadError::Transport(e) => format!("transport: {e}"),
        })
    }

    #[tokio::test]
    async fn bodies_in_any_number_of_pieces_are_read_whole() {
        let read = |pieces, max| read_all(streamed(pieces), max);
        assert_eq!(read(&[], 10).await.unwrap(), Bytes::new());
        assert_eq!(read(&[b"[1]"], 10).await.unwrap(), &b"[1]"[..]);
        assert_eq!(
            read(&[b"[1,", b"2,", b"", b"3]"], 10).await.unwrap(),
            &b"[1,2,3]"[..]
        );
        assert_eq!(read(&[b"", b"[1]"], 10).await.unwrap(), &b"[1]"[..]);
        assert_eq!(read(&[b"1", b"2", b"34"], 4).await.unwrap(), &b"1234"[..]);
        assert_eq!(read_all(announced(b"{}"), 2).await.unwrap(), &b"{}"[..]);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_at_the_piece_that_passes_it() {
        let refused = "the response body is larger than the 4-byte limit";
        let read = |pieces, max| read_all(streamed(pieces), max);
        assert_eq!(read(&[b"12345"], 4).await.unwrap_err(), refused);
        assert_eq!(read(&[b"12", b"345"], 4).await.unwrap_err(), refused);
        assert_eq!(read(&[b"12", b"3", b"45"], 4).await.unwrap_err(), refused);
        assert_eq!(read_all(announced(b"12345"), 4).await.unwrap_err(), refused);
    }
}
