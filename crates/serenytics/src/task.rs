//! Waiting for asynchronous tasks (`{"task_id": ...}` answers) with a bounded, cancellable wait.
//!
//! The official client polls `GET /api/task/{task_id}` every second, forever. [`TaskPolicy`] polls
//! at a chosen interval, gives up after an overall timeout ([`Error::TaskTimedOut`]), stops when a
//! cancellation future completes ([`Error::TaskCancelled`]) and reports a task that finished with
//! `errors` as [`Error::TaskFailed`] (`errors[0]` is the message).
//!
//! ```rust,no_run
//! # async fn run(client: serenytics::Client) -> Result<(), serenytics::Error> {
//! use std::time::Duration;
//! use serenytics::{types, TaskPolicy};
//! let task = client
//!     .reload_data_source_from_file()
//!     .uuid(uuid::Uuid::nil())
//!     .body(types::ReloadFromFileRequest { async_: Some(true) })
//!     .send()
//!     .await?
//!     .into_inner();
//! let policy = TaskPolicy::new().interval(Duration::from_secs(2)).timeout(Duration::from_secs(600));
//! let result = policy.wait(&client, &task.task_id).await?;
//! println!("finished: {:?}", result.extra);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::time::Duration;

use futures::future::{self, Either};

use crate::error::Error;
use crate::generated::{types, Client};

/// How to wait for a task: poll interval and overall timeout. `Copy`, cheap to share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskPolicy {
    interval: Duration,
    timeout: Duration,
}

impl Default for TaskPolicy {
    /// Every second (as the official client), for at most 10 minutes.
    fn default() -> Self {
        TaskPolicy {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(600),
        }
    }
}

impl TaskPolicy {
    pub fn new() -> Self {
        Self::default()
    }

    /// Time between two polls (the first poll is immediate).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Overall limit of the wait, polls included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn interval_value(&self) -> Duration {
        self.interval
    }

    pub fn timeout_value(&self) -> Duration {
        self.timeout
    }

    /// Polls until the task finishes or the timeout runs out. Returns the finished task's body
    /// (`status` plus the operation-specific fields in `extra`).
    pub async fn wait(
        &self,
        client: &Client,
        task_id: &str,
    ) -> Result<types::TaskSucceeded, Error> {
        self.wait_or_cancel(client, task_id, future::pending::<()>())
            .await
    }

    /// As [`TaskPolicy::wait`], and stops with [`Error::TaskCancelled`] as soon as `cancel`
    /// completes (e.g. `token.cancelled()` of a `tokio_util` `CancellationToken`, or a oneshot
    /// receiver). The task keeps running on the server.
    pub async fn wait_or_cancel(
        &self,
        client: &Client,
        task_id: &str,
        cancel: impl Future<Output = ()>,
    ) -> Result<types::TaskSucceeded, Error> {
        let polling = tokio::time::timeout(self.timeout, self.poll(client, task_id));
        let polling = std::pin::pin!(polling);
        let cancel = std::pin::pin!(cancel);
        match future::select(polling, cancel).await {
            Either::Left((Ok(outcome), _)) => outcome,
            Either::Left((Err(_elapsed), _)) => Err(Error::TaskTimedOut {
                task_id: task_id.to_string(),
                waited: self.timeout,
            }),
            Either::Right(((), _)) => Err(Error::TaskCancelled {
                task_id: task_id.to_string(),
            }),
        }
    }

    /// Runs a script the way the official client does when it waits: `run` with `"async": true`
    /// (a synchronous HTTP call is cut after 5 minutes), then polls `GET .../state` at this
    /// policy's interval until the script no longer runs, and returns the newest log
    /// (`GET .../logs`, `objects[0]`). A log with status `FAILURE` is [`Error::ScriptFailed`]; the
    /// timeout gives [`Error::TaskTimedOut`] with the script's uuid as `task_id`.
    pub async fn run_script(
        &self,
        client: &Client,
        uuid: uuid::Uuid,
        params: serde_json::Map<String, serde_json::Value>,
    ) -> Result<types::ScriptLog, Error> {
        use crate::checked::CheckedSend;
        client
            .run_script()
            .uuid(uuid)
            .body(types::ScriptRunRequest {
                async_: Some(true),
                extra: params,
            })
            .send_checked()
            .await?;
        let waiting = async {
            while client.get_script_state().uuid(uuid).send().await?.running {
                tokio::time::sleep(self.interval).await;
            }
            Ok::<_, Error>(())
        };
        tokio::time::timeout(self.timeout, waiting)
            .await
            .map_err(|_| Error::TaskTimedOut {
                task_id: uuid.to_string(),
                waited: self.timeout,
            })??;
        let logs = client
            .list_script_logs()
            .uuid(uuid)
            .send()
            .await?
            .into_inner();
        let log = logs
            .objects
            .into_iter()
            .next()
            .ok_or_else(|| Error::Protocol("the script finished but has no log".to_string()))?;
        if log.status == "FAILURE" {
            return Err(Error::ScriptFailed { log: Box::new(log) });
        }
        Ok(log)
    }

    async fn poll(&self, client: &Client, task_id: &str) -> Result<types::TaskSucceeded, Error> {
        loop {
            match client
                .get_task()
                .task_id(task_id)
                .send()
                .await?
                .into_inner()
            {
                types::Task::Pending(_) => tokio::time::sleep(self.interval).await,
                types::Task::Failed(failed) => {
                    return Err(Error::TaskFailed {
                        task_id: task_id.to_string(),
                        errors: failed.errors,
                    })
                }
                types::Task::Succeeded(done) => return Ok(done),
            }
        }
    }
}
