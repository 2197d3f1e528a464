//! [`Error`]: every way a Serenytics call can fail, including the two the HTTP status hides.
//!
//! Serenytics answers HTTP 200 with `{"status": "error", "errors": [...]}` on several routes
//! (`formatted_data`, `batch`, script `run`, `generate_pdf`, `export_source_data`,
//! `web_app/{uuid}/data_sources`, `invalidate_cache`, `reload`). The generated methods return those
//! bodies as the `ApplicationError` variant of the operation's response enum; the
//! [`CheckedSend`](crate::CheckedSend) methods turn them into [`Error::Application`].

use std::time::Duration;

use analytics_auth::ApiError;

use crate::generated::types;

/// The error of the hand-written helpers (and of `send_checked`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP-level failure: 401/403/404/429/4xx with the server's message, HTML error pages and
    /// other unexpected statuses, malformed or truncated JSON, transport errors.
    #[error(transparent)]
    Api(#[from] ApiError<types::HttpError>),
    /// HTTP 200 with `status: error`: the operation failed. `errors[0]` is the main message.
    #[error("Serenytics reported an error: {}", first_or_unknown(.errors))]
    Application { errors: Vec<String> },
    /// A task finished with an `errors` key.
    #[error("task {task_id} failed: {}", first_or_unknown(.errors))]
    TaskFailed {
        task_id: String,
        errors: Vec<String>,
    },
    /// The task (or script run) was still pending when the policy's overall timeout ran out.
    #[error("task {task_id} still pending after {} s", .waited.as_secs())]
    TaskTimedOut { task_id: String, waited: Duration },
    /// The caller cancelled the wait (the task itself keeps running on the server).
    #[error("waiting for task {task_id} was cancelled")]
    TaskCancelled { task_id: String },
    /// A script run finished with status `FAILURE`; the log has its stdout, stderr and exit code.
    #[error("script run failed (return code {:?})", .log.return_code)]
    ScriptFailed { log: Box<types::ScriptLog> },
    /// The server answered something the protocol does not allow (e.g. an asynchronous batch
    /// without a `task_id`).
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

fn first_or_unknown(errors: &[String]) -> &str {
    errors.first().map_or("(no message given)", String::as_str)
}

impl Error {
    /// The server's main message: `errors[0]` of an application or task error, or the message of
    /// an HTTP error body (a JSON string, or `errors[0]` of an object).
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Application { errors } | Error::TaskFailed { errors, .. } => {
                errors.first().map(String::as_str)
            }
            Error::Api(e) => http_error_message(e),
            _ => None,
        }
    }

    /// The HTTP status of an [`Error::Api`], when the server answered.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Error::Api(e) => e.status(),
            _ => None,
        }
    }
}

/// `errors[0]` or the string of a typed [`types::HttpError`] body, else the generic message.
fn http_error_message(e: &ApiError<types::HttpError>) -> Option<&str> {
    let body = match e {
        ApiError::Unauthorized { body, .. }
        | ApiError::Forbidden { body, .. }
        | ApiError::NotFound { body, .. }
        | ApiError::InvalidRequest { body, .. } => body.as_ref(),
        _ => None,
    };
    match body {
        Some(types::HttpError::String(s)) => Some(s.as_str()),
        Some(types::HttpError::HttpErrorObject(o)) => o
            .errors
            .first()
            .map(String::as_str)
            .or(o.message.as_deref()),
        None => e.message(),
    }
}

impl From<progenitor_client::Error<types::HttpError>> for Error {
    fn from(e: progenitor_client::Error<types::HttpError>) -> Self {
        Error::Api(ApiError::from(e))
    }
}

impl From<types::ApplicationError> for Error {
    fn from(e: types::ApplicationError) -> Self {
        Error::Application { errors: e.errors }
    }
}
