//! [`ApiError`]: what went wrong with a call, as something a caller can `match` on.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use progenitor_client::Error as ProgenitorError;
use reqwest::StatusCode;
use serde_json::Value;

use crate::body::BodyError;
use crate::hooks::ErrorBody;

/// Characters of a response body kept in an error's excerpt.
const EXCERPT_CHARS: usize = 300;

/// The outcome of a failed call. `E` is the operation's documented error body type.
///
/// Convert from the generated methods' error with `?` or `ApiError::from`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError<E = ()> {
    /// 401: the credential is missing, wrong or expired.
    Unauthorized {
        message: Option<String>,
        body: Option<E>,
    },
    /// 403: the credential is valid but not allowed to do this (or, for session APIs, expired).
    Forbidden {
        message: Option<String>,
        body: Option<E>,
    },
    /// 404: no such resource (or route).
    NotFound {
        message: Option<String>,
        body: Option<E>,
    },
    /// 429: slow down. `retry_after` is the server's `Retry-After`, when it sent one.
    RateLimited {
        retry_after: Option<Duration>,
        message: Option<String>,
    },
    /// Another 4xx with a JSON body: the server refused the request, usually saying why in
    /// `message`. (A 4xx with an HTML page, such as a framework's 405, is an `UnexpectedResponse`.)
    InvalidRequest {
        status: StatusCode,
        message: Option<String>,
        body: Option<E>,
    },
    /// A status the spec does not document for this operation, a 5xx, a redirect, or an HTML
    /// error page. Keeps the status and an excerpt of the body.
    UnexpectedResponse {
        status: StatusCode,
        content_type: Option<String>,
        message: Option<String>,
        excerpt: String,
    },
    /// A documented response whose body does not match the spec (malformed or truncated JSON,
    /// wrong types). The raw body is kept in `body` but not printed.
    InvalidResponse { reason: String, body: RawBody },
    /// The request never completed: connection refused or reset, timeout, a body cut short.
    Transport(reqwest::Error),
    /// The response body is larger than the client's limit (`BodyLimits::max_bytes`); it was not
    /// read further.
    BodyTooLarge { limit: usize },
    /// The response body stopped arriving for longer than `BodyLimits::stall_timeout`.
    BodyStalled { after: Duration },
    /// The credential could not be applied or renewed.
    Auth(String),
    /// The request was rejected before sending (a parameter out of range, an unencodable value).
    InvalidInput(String),
}

/// Bytes of a response body, printed by length only (a body may hold secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct RawBody(pub Bytes);

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawBody({} bytes)", self.0.len())
    }
}

impl<E> ApiError<E> {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            ApiError::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            ApiError::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            ApiError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            ApiError::InvalidRequest { status, .. }
            | ApiError::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's own explanation, when it gave one.
    pub fn message(&self) -> Option<&str> {
        match self {
            ApiError::Unauthorized { message, .. }
            | ApiError::Forbidden { message, .. }
            | ApiError::NotFound { message, .. }
            | ApiError::RateLimited { message, .. }
            | ApiError::InvalidRequest { message, .. }
            | ApiError::UnexpectedResponse { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// Classifies a response by status; `body` is the typed body when the spec documents one.
    fn from_status(
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: Option<E>,
        message: Option<String>,
        excerpt: String,
    ) -> Self {
        match status.as_u16() {
            401 => ApiError::Unauthorized { message, body },
            403 => ApiError::Forbidden { message, body },
            404 => ApiError::NotFound { message, body },
            429 => ApiError::RateLimited {
                retry_after: retry_after(headers),
                message,
            },
            400..=499 if message.is_some() || body.is_some() => ApiError::InvalidRequest {
                status,
                message,
                body,
            },
            _ => ApiError::UnexpectedResponse {
                status,
                content_type: headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                message,
                excerpt,
            },
        }
    }
}

impl<E: serde::Serialize> From<ProgenitorError<E>> for ApiError<E> {
    fn from(error: ProgenitorError<E>) -> Self {
        match error {
            ProgenitorError::ErrorResponse(value) => {
                let status = value.status();
                let headers = value.headers().clone();
                let body = value.into_inner();
                let json = serde_json::to_value(&body).unwrap_or(Value::Null);
                let message = message_of(&json);
                let excerpt = excerpt(json.to_string().as_bytes());
                ApiError::from_status(status, &headers, Some(body), message, excerpt)
            }
            ProgenitorError::UnexpectedResponse(response) => {
                let status = response.status();
                let bytes = response
                    .extensions()
                    .get::<ErrorBody>()
                    .map(|b| b.0.clone())
                    .unwrap_or_default();
                let message = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| message_of(&v));
                ApiError::from_status(status, response.headers(), None, message, excerpt(&bytes))
            }
            ProgenitorError::InvalidResponsePayload(bytes, e) => ApiError::InvalidResponse {
                reason: e.to_string(),
                body: RawBody(bytes),
            },
            ProgenitorError::CommunicationError(e)
            | ProgenitorError::InvalidUpgrade(e)
            | ProgenitorError::ResponseBodyError(e) => ApiError::from(e),
            ProgenitorError::InvalidRequest(s) => ApiError::InvalidInput(s),
            ProgenitorError::Custom(s) => {
                match s.strip_prefix(crate::hooks::INVALID_INPUT_PREFIX) {
                    Some(reason) => ApiError::InvalidInput(reason.to_string()),
                    None => ApiError::Auth(s),
                }
            }
        }
    }
}

impl<E> From<BodyError> for ApiError<E> {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge { limit } => ApiError::BodyTooLarge { limit },
            BodyError::Stalled { after } => ApiError::BodyStalled { after },
        }
    }
}

impl<E> From<reqwest::Error> for ApiError<E> {
    /// A transport error, or the body limit it carries.
    fn from(error: reqwest::Error) -> Self {
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            match cause.downcast_ref::<BodyError>() {
                Some(limit) => return ApiError::from(limit.clone()),
                None => source = cause.source(),
            }
        }
        ApiError::Transport(error.without_url())
    }
}

impl<E> fmt::Display for ApiError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = |m: &Option<String>| m.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
        match self {
            ApiError::Unauthorized { message, .. } => {
                write!(f, "unauthorized (401){}", msg(message))
            }
            ApiError::Forbidden { message, .. } => write!(f, "forbidden (403){}", msg(message)),
            ApiError::NotFound { message, .. } => write!(f, "not found (404){}", msg(message)),
            ApiError::RateLimited {
                retry_after,
                message,
            } => {
                write!(f, "rate limited (429){}", msg(message))?;
                if let Some(d) = retry_after {
                    write!(f, "; retry after {} s", d.as_secs())?;
                }
                Ok(())
            }
            ApiError::InvalidRequest {
                status, message, ..
            } => write!(f, "invalid request ({status}){}", msg(message)),
            ApiError::UnexpectedResponse {
                status,
                content_type,
                excerpt,
                ..
            } => {
                write!(f, "unexpected response {status}")?;
                if let Some(ct) = content_type {
                    write!(f, " ({ct})")?;
                }
                if !excerpt.is_empty() {
                    write!(f, ": {excerpt}")?;
                }
                Ok(())
            }
            ApiError::InvalidResponse { reason, body } => {
                write!(
                    f,
                    "invalid response body ({} bytes): {reason}",
                    body.0.len()
                )
            }
            ApiError::Transport(e) => {
                let kind = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "could not connect"
                } else if e.is_body() || e.is_decode() {
                    "response body failed"
                } else {
                    "transport error"
                };
                write!(f, "{kind}: {e}")
            }
            ApiError::BodyTooLarge { limit } => {
                write!(f, "response body larger than the {limit}-byte limit")
            }
            ApiError::BodyStalled { after } => write!(
                f,
                "response body stalled: nothing arrived for {} s",
                after.as_secs_f64()
            ),
            ApiError::Auth(s) => write!(f, "authentication failed: {s}"),
            ApiError::InvalidInput(s) => write!(f, "invalid input: {s}"),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for ApiError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

/// `Retry-After` as a delay: either seconds (`120`) or an HTTP date, measured from now (a date in
/// the past means "now").
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The human-readable explanation in common JSON error shapes: `{"message"}`, `{"error"}`,
/// `{"error_description"}`, `{"detail"}`, `{"errors": [...]}`, `{"field-errors": {...}}`.
pub fn message_of(body: &Value) -> Option<String> {
    let obj = body.as_object()?;
    for key in [
        "message",
        "error_description",
        "error",
        "detail",
        "description",
    ] {
        if let Some(Value::String(s)) = obj.get(key) {
            return Some(s.clone());
        }
    }
    for key in ["field-errors", "errors"] {
        match obj.get(key) {
            Some(Value::Object(fields)) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}: {}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_string)
                        )
                    })
                    .collect();
                return Some(parts.join("; "));
            }
            Some(Value::Array(items)) if !items.is_empty() => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| {
                        v.as_str().map_or_else(
                            || message_of(v).unwrap_or_else(|| v.to_string()),
                            str::to_string,
                        )
                    })
                    .collect();
                return Some(parts.join("; "));
            }
            _ => {}
        }
    }
    None
}

/// The first characters of a body, whitespace collapsed, for an error message.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= EXCERPT_CHARS {
            out = out.chars().take(EXCERPT_CHARS).collect();
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_come_from_common_error_shapes() {
        assert_eq!(
            message_of(&json!({"error": "Unauthorized"})).as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(
            message_of(&json!({"message": "m", "error": "e"})).as_deref(),
            Some("m")
        );
        assert_eq!(
            message_of(&json!({"field-errors": {"anr": "Field is required", "day": "x"}}))
                .as_deref(),
            Some("anr: Field is required; day: x")
        );
        assert_eq!(
            message_of(&json!({"errors": ["a", {"message": "b"}]})).as_deref(),
            Some("a; b")
        );
        assert_eq!(message_of(&json!([1])), None);
    }

    #[test]
    fn excerpts_are_short_and_single_line() {
        assert_eq!(
            excerpt(b"<html>\n  <b>500</b>\n</html>"),
            "<html> <b>500</b> </html>"
        );
        let long = "x ".repeat(400);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
        let soon = std::time::SystemTime::now() + Duration::from_secs(90);
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(soon).parse().unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(80) && d <= Duration::from_secs(90),
            "{d:?}"
        );
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
