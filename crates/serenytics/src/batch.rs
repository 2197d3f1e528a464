//! Batch insert / insertOrUpdate / delete over any number of rows, in bounded memory.
//!
//! [`BatchUpload`] pulls rows from a `Stream` (or an iterator, with [`futures::stream::iter`]),
//! holds at most one chunk of them, sends it as one `POST /api/data_source/{uuid}/batch`, and only
//! then pulls the next chunk. Each chunk is sent exactly once (never retried: a chunk whose answer
//! was lost may have been applied), so no row is sent twice; the [`BatchReport`] accounts for
//! every row pulled from the stream (sent and confirmed, or in a failed chunk with its error), so
//! none is silently lost. By default the upload stops at the first failed chunk, because later
//! operations may depend on earlier ones; [`BatchUpload::continue_on_error`] changes that.
//!
//! ```rust,no_run
//! # async fn run(client: serenytics::Client, uuid: uuid::Uuid) -> Result<(), serenytics::Error> {
//! use futures::stream;
//! use serde_json::{json, Map, Value};
//! use serenytics::{BatchAction, BatchUpload};
//!
//! let rows = (0..1_000_000).map(|i| match json!({"id": i, "quantity": i % 7}) {
//!     Value::Object(row) => row,
//!     _ => Map::new(),
//! });
//! let report = BatchUpload::new(&client, uuid)
//!     .chunk_rows(10_000)
//!     .run(BatchAction::Insert, stream::iter(rows))
//!     .await;
//! println!("{} rows confirmed, {} failed", report.rows_confirmed(), report.rows_failed());
//! report.into_result()?;
//! # Ok(()) }
//! ```

use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

use crate::checked::CheckedSend;
use crate::error::Error;
use crate::generated::{types, Client};
use crate::task::TaskPolicy;

/// One row: column name to value.
pub type Row = Map<String, Value>;

/// What to do with the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAction {
    Insert,
    /// Insert, or update the row with the same value in `primary_key`.
    InsertOrUpdate {
        primary_key: String,
    },
    /// Delete the rows whose `primary_key` value matches (rows are objects holding the key, as
    /// the official client sends them).
    Delete {
        primary_key: String,
    },
}

impl BatchAction {
    fn operation(&self, rows: Vec<Row>) -> types::BatchOperation {
        match self {
            BatchAction::Insert => types::BatchInsertOperation {
                action: types::BatchInsertOperationAction::Insert,
                rows,
            }
            .into(),
            BatchAction::InsertOrUpdate { primary_key } => types::BatchInsertOrUpdateOperation {
                action: types::BatchInsertOrUpdateOperationAction::InsertOrUpdate,
                primary_key: primary_key.clone(),
                rows,
            }
            .into(),
            BatchAction::Delete { primary_key } => types::BatchDeleteOperation {
                action: types::BatchDeleteOperationAction::Delete,
                primary_key: primary_key.clone(),
                rows,
            }
            .into(),
        }
    }
}

/// The outcome of one chunk.
#[derive(Debug)]
pub struct ChunkOutcome {
    /// 0-based chunk number.
    pub index: usize,
    /// Position of the chunk's first row in the input (0-based).
    pub first_row: u64,
    /// Number of rows in the chunk.
    pub rows: usize,
    /// `Ok` when the server confirmed the chunk (`status: ok`, and the task finished when
    /// asynchronous).
    pub result: Result<(), Error>,
}

/// Every chunk sent, in order. Rows of the input after the last chunk were not pulled.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub chunks: Vec<ChunkOutcome>,
    /// True when the upload stopped at a failed chunk; input rows after it were not pulled
    /// (the stream may or may not have had more).
    pub stopped_early: bool,
}

impl BatchReport {
    /// Rows in chunks the server confirmed.
    pub fn rows_confirmed(&self) -> u64 {
        self.chunks
            .iter()
            .filter(|c| c.result.is_ok())
            .map(|c| c.rows as u64)
            .sum()
    }

    /// Rows in failed chunks (sent once, possibly applied when the error is a transport error).
    pub fn rows_failed(&self) -> u64 {
        self.chunks
            .iter()
            .filter(|c| c.result.is_err())
            .map(|c| c.rows as u64)
            .sum()
    }

    /// The failed chunks.
    pub fn failures(&self) -> impl Iterator<Item = &ChunkOutcome> {
        self.chunks.iter().filter(|c| c.result.is_err())
    }

    /// `Err` with the first chunk's error when any chunk failed.
    pub fn into_result(self) -> Result<u64, Error> {
        let confirmed = self.rows_confirmed();
        match self.chunks.into_iter().find_map(|c| c.result.err()) {
            Some(e) => Err(e),
            None => Ok(confirmed),
        }
    }
}

/// A chunked batch upload to one storage data source.
#[derive(Debug, Clone)]
pub struct BatchUpload<'a> {
    client: &'a Client,
    uuid: uuid::Uuid,
    chunk_rows: usize,
    asynchronous: Option<TaskPolicy>,
    continue_on_error: bool,
}

impl<'a> BatchUpload<'a> {
    /// Defaults: 5 000 rows per chunk, synchronous calls (`"async": false`, as the official
    /// client), stop at the first failed chunk.
    pub fn new(client: &'a Client, uuid: uuid::Uuid) -> Self {
        BatchUpload {
            client,
            uuid,
            chunk_rows: 5_000,
            asynchronous: None,
            continue_on_error: false,
        }
    }

    /// Rows per request (at least 1).
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// Sends `"async": true` and waits for each chunk's task with `policy` before sending the
    /// next chunk (so chunks are applied in order and each task's error is reported).
    pub fn asynchronous(mut self, policy: TaskPolicy) -> Self {
        self.asynchronous = Some(policy);
        self
    }

    /// Keeps sending after a failed chunk.
    pub fn continue_on_error(mut self, yes: bool) -> Self {
        self.continue_on_error = yes;
        self
    }

    /// Sends every row of `rows` with `action`, one chunk at a time.
    pub async fn run<S>(&self, action: BatchAction, rows: S) -> BatchReport
    where
        S: Stream<Item = Row>,
    {
        let mut rows = std::pin::pin!(rows.chunks(self.chunk_rows));
        let mut report = BatchReport::default();
        let mut first_row = 0u64;
        while let Some(chunk) = rows.next().await {
            let len = chunk.len();
            let result = self.send_chunk(&action, chunk).await;
            let failed = result.is_err();
            report.chunks.push(ChunkOutcome {
                index: report.chunks.len(),
                first_row,
                rows: len,
                result,
            });
            first_row += len as u64;
            if failed && !self.continue_on_error {
                // Nothing more is pulled: the rows after this chunk stay in the input.
                report.stopped_early = true;
                break;
            }
        }
        report
    }

    async fn send_chunk(&self, action: &BatchAction, chunk: Vec<Row>) -> Result<(), Error> {
        let body = types::BatchRequest {
            async_: Some(self.asynchronous.is_some()),
            operations: vec![action.operation(chunk)],
        };
        let result = self
            .client
            .batch_data_source_rows()
            .uuid(self.uuid)
            .body(body)
            .send_checked()
            .await?;
        match (self.asynchronous, result.task_id) {
            (Some(policy), Some(task_id)) => policy.wait(self.client, &task_id).await.map(|_| ()),
            (Some(_), None) => Err(Error::Protocol(
                "asynchronous batch answered without a task_id".to_string(),
            )),
            (None, _) => Ok(()),
        }
    }
}
