//! What the four commands share: the API key (option, `REDASH_API_KEY`, prompt), the client,
//! progress bars on a terminal's stderr only, and one-line errors with an exit code.

use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tonalytica::{ApiError, Auth, Client, ClientConfig, Secret};

/// The environment variable the toolbelt scripts read the key from.
pub const API_KEY_ENV: &str = "REDASH_API_KEY";

/// A command's failure: one line on stderr and exit status 1.
#[derive(Debug)]
pub struct ToolError(pub String);

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

impl ToolError {
    /// An API failure during `what`, with a hint for the 404 a bad key gives.
    pub fn api<E>(what: &str, error: ApiError<E>) -> Self {
        let hint = match &error {
            ApiError::NotFound { message, .. }
                if message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("Couldn't find resource")) =>
            {
                " (check the API key and the URL: the server answers 404 to an unknown key)"
            }
            _ => "",
        };
        ToolError(format!("{what}: {error}{hint}"))
    }
}

impl From<std::io::Error> for ToolError {
    fn from(e: std::io::Error) -> Self {
        ToolError(format!("I/O error: {e}"))
    }
}

/// The key from `--api-key`, else `REDASH_API_KEY`, else a prompt (`API Key: ` on stderr, one
/// line from stdin), like click's `envvar=` + `prompt=`.
pub fn resolve_api_key(option: Option<String>) -> Result<Secret, ToolError> {
    if let Some(key) = option.filter(|k| !k.is_empty()) {
        return Ok(Secret::new(key));
    }
    if let Ok(key) = std::env::var(API_KEY_ENV) {
        if !key.is_empty() {
            return Ok(Secret::new(key));
        }
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "API Key: ");
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let key = line.trim_end_matches(['\r', '\n']).to_string();
    if key.is_empty() {
        return Err(ToolError(format!(
            "no API key: pass --api-key or set {API_KEY_ENV}"
        )));
    }
    Ok(Secret::new(key))
}

/// The base URL for requests: the argument without trailing slashes (the Python scripts send
/// `//api/...` when it has one).
pub fn request_base(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// A client sending `Authorization: Key <key>`.
pub fn client(url: &str, key: Secret) -> Result<Client, ToolError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ToolError(format!(
            "the URL must start with http:// or https://, got `{url}`"
        )));
    }
    let http = ClientConfig::new()
        .build()
        .map_err(|e| ToolError(format!("cannot set up HTTPS: {e}")))?;
    Ok(Client::new_with_client(
        &request_base(url),
        http,
        Auth::api_key(key),
    ))
}

/// A progress bar on stderr when stderr is a terminal, hidden otherwise.
pub fn progress(label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}") {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar.set_message(label.to_string());
    bar
}

/// Runs a command on a multi-threaded runtime and turns its outcome into the exit status.
pub fn run<F>(command: F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), ToolError>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A datetime the way the server writes it (`redash.utils.JSONEncoder`): ISO 8601, fractional
/// seconds cut to milliseconds and only when non-zero, `Z` for UTC.
pub fn server_datetime(t: &chrono::DateTime<chrono::Utc>) -> String {
    let seconds = chrono::SecondsFormat::Secs;
    if t.timestamp_subsec_nanos() == 0 {
        t.to_rfc3339_opts(seconds, true)
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_print_like_the_server() {
        let t: chrono::DateTime<chrono::Utc> =
            "2023-06-01T10:00:00.123Z".parse().unwrap_or_default();
        assert_eq!(server_datetime(&t), "2023-06-01T10:00:00.123Z");
        let t: chrono::DateTime<chrono::Utc> = "2023-06-01T10:00:00Z".parse().unwrap_or_default();
        assert_eq!(server_datetime(&t), "2023-06-01T10:00:00Z");
    }

    #[test]
    fn bad_key_errors_say_what_to_check() {
        let e = ToolError::api::<()>(
            "listing queries",
            ApiError::NotFound {
                message: Some("Couldn't find resource. Please login and try again.".into()),
                body: None,
            },
        );
        assert_eq!(
            e.to_string(),
            "listing queries: not found (404): Couldn't find resource. Please login and try again. (check the API key and the URL: the server answers 404 to an unknown key)"
        );
    }
}
