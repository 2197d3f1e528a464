//! CSV results read record by record as the body arrives, never holding the whole body.
//!
//! The server writes CSV with Python's `csv.DictWriter` (RFC 4180 quoting, `\r\n` line ends,
//! a header row of column names first). Parsing is `csv-core`'s, which reads what Python's
//! `csv` module reads: quoted fields with embedded commas, quotes (`""`) and line breaks, quotes
//! inside unquoted fields kept literally, records split across network chunks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt};

use crate::generated::{types, Client};
use crate::ApiError;

/// One record is never allowed to grow beyond this (a body without line ends would otherwise
/// be buffered whole).
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Why a CSV stream stopped. Never contains the URL (or a query-string key).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The request failed (bad key: 404, no cached result: 404, …).
    #[error("{0}")]
    Api(ApiError<types::Error>),
    /// The body was cut short or the connection failed mid-body.
    #[error("the CSV body could not be read: {0}")]
    Transport(reqwest::Error),
    /// Record `record` (0 is the header row) is longer than [`MAX_RECORD_BYTES`].
    #[error("CSV record {record} is longer than {MAX_RECORD_BYTES} bytes")]
    RecordTooLong { record: u64 },
    /// A field of record `record` is not UTF-8.
    #[error("CSV record {record} is not valid UTF-8")]
    InvalidUtf8 { record: u64 },
}

/// A stream of CSV records (`Vec<String>`, one per row; the first is the header row).
pub struct CsvRecords {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    reader: csv_core::Reader,
    chunk: Bytes,
    at: usize,
    field_bytes: Vec<u8>,
    field_ends: Vec<usize>,
    used: usize,
    ends_used: usize,
    records: u64,
    body_done: bool,
    finished: bool,
}

impl std::fmt::Debug for CsvRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRecords")
            .field("records", &self.records)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl CsvRecords {
    /// Records of any byte stream (e.g. the `ByteStream` of `get_query_result_csv`).
    pub fn new<S>(body: S) -> Self
    where
        S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    {
        CsvRecords {
            body: body.boxed(),
            reader: csv_core::Reader::new(),
            chunk: Bytes::new(),
            at: 0,
            field_bytes: vec![0; 1024],
            field_ends: vec![0; 32],
            used: 0,
            ends_used: 0,
            records: 0,
            body_done: false,
            finished: false,
        }
    }

    /// Records read so far.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    fn take_record(&mut self) -> Result<Vec<String>, CsvError> {
        let record = self.records;
        self.records += 1;
        let mut fields = Vec::with_capacity(self.ends_used);
        let mut start = 0;
        for &end in &self.field_ends[..self.ends_used] {
            let bytes = self.field_bytes[start..end].to_vec();
            fields.push(String::from_utf8(bytes).map_err(|_| CsvError::InvalidUtf8 { record })?);
            start = end;
        }
        self.used = 0;
        self.ends_used = 0;
        Ok(fields)
    }

    /// Feeds the parser from the current chunk. `Some` when a record is complete or the input
    /// ended.
    fn step(&mut self) -> Option<Result<Option<Vec<String>>, CsvError>> {
        loop {
            let input = &self.chunk[self.at..];
            let input_empty = input.is_empty();
            if input_empty && !self.body_done {
                return None;
            }
            let (result, read, written, ends) = self.reader.read_record(
                input,
                &mut self.field_bytes[self.used..],
                &mut self.field_ends[self.ends_used..],
            );
            self.at += read;
            // csv-core keeps the record's output position itself: `ends` are record offsets.
            self.used += written;
            self.ends_used += ends;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {
                    if self.body_done && input_empty {
                        // Not expected from csv-core at the end of input; end rather than spin.
                        self.finished = true;
                        return Some(Ok(None));
                    }
                    if self.body_done {
                        continue;
                    }
                    return None;
                }
                csv_core::ReadRecordResult::OutputFull => {
                    if self.field_bytes.len() >= MAX_RECORD_BYTES {
                        self.finished = true;
                        return Some(Err(CsvError::RecordTooLong {
                            record: self.records,
                        }));
                    }
                    let grown = (self.field_bytes.len() * 2).min(MAX_RECORD_BYTES);
                    self.field_bytes.resize(grown, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let grown = self.field_ends.len() * 2;
                    self.field_ends.resize(grown, 0);
                }
                csv_core::ReadRecordResult::Record => return Some(self.take_record().map(Some)),
                csv_core::ReadRecordResult::End => {
                    self.finished = true;
                    return Some(Ok(None));
                }
            }
        }
    }
}

impl Stream for CsvRecords {
    type Item = Result<Vec<String>, CsvError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(outcome) = this.step() {
                return Poll::Ready(outcome.transpose());
            }
            match this.body.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.chunk = chunk;
                    this.at = 0;
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(CsvError::Transport(e.without_url()))));
                }
                Poll::Ready(None) => {
                    this.body_done = true;
                    this.chunk = Bytes::new();
                    this.at = 0;
                }
            }
        }
    }
}

/// CSV downloads as record streams.
pub trait ClientCsvExt {
    /// The latest cached result of a query (`GET /api/queries/{query_id}/results.csv`; works
    /// with the query's own API key).
    fn latest_result_csv(
        &self,
        query_id: i64,
    ) -> impl Future<Output = Result<CsvRecords, CsvError>> + Send;

    /// One result of a query (`GET /api/queries/{query_id}/results/{query_result_id}.csv`;
    /// works with the query's own API key).
    fn query_result_csv(
        &self,
        query_id: i64,
        query_result_id: i64,
    ) -> impl Future<Output = Result<CsvRecords, CsvError>> + Send;

    /// A result by id (`GET /api/query_results/{query_result_id}.csv`; user keys only).
    fn result_csv(
        &self,
        query_result_id: i64,
    ) -> impl Future<Output = Result<CsvRecords, CsvError>> + Send;
}

impl ClientCsvExt for Client {
    async fn latest_result_csv(&self, query_id: i64) -> Result<CsvRecords, CsvError> {
        let response = self
            .get_query_latest_result_csv()
            .query_id(query_id)
            .send()
            .await
            .map_err(|e| CsvError::Api(ApiError::from(e)))?;
        Ok(CsvRecords::new(response.into_inner().into_inner()))
    }

    async fn query_result_csv(
        &self,
        query_id: i64,
        query_result_id: i64,
    ) -> Result<CsvRecords, CsvError> {
        let response = self
            .get_query_result_for_query_csv()
            .query_id(query_id)
            .query_result_id(query_result_id)
            .send()
            .await
            .map_err(|e| CsvError::Api(ApiError::from(e)))?;
        Ok(CsvRecords::new(response.into_inner().into_inner()))
    }

    async fn result_csv(&self, query_result_id: i64) -> Result<CsvRecords, CsvError> {
        let response = self
            .get_query_result_csv()
            .query_result_id(query_result_id)
            .send()
            .await
            .map_err(|e| CsvError::Api(ApiError::from(e)))?;
        Ok(CsvRecords::new(response.into_inner().into_inner()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures::TryStreamExt;

    async fn parse(chunks: &[&'static str]) -> Vec<Vec<String>> {
        let body = futures::stream::iter(
            chunks
                .iter()
                .map(|c| Ok::<_, reqwest::Error>(Bytes::from_static(c.as_bytes())))
                .collect::<Vec<_>>(),
        );
        CsvRecords::new(body).try_collect().await.unwrap()
    }

    fn rows(expected: &[&[&str]]) -> Vec<Vec<String>> {
        expected
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[tokio::test]
    async fn odd_quoting_reads_like_pythons_csv_module() {
        let body =
            "name,note\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\"multi\r\nline\",x\"y\r\n,\r\n\"\",last";
        let expected = rows(&[
            &["name", "note"],
            &["a, b", "say \"hi\""],
            &["multi\r\nline", "x\"y"],
            &["", ""],
            &["", "last"],
        ]);
        assert_eq!(parse(&[body]).await, expected);
        // The same bytes split at every position give the same records.
        for cut in 1..body.len() {
            let (a, b) = body.split_at(cut);
            let a: &'static str = Box::leak(a.to_string().into_boxed_str());
            let b: &'static str = Box::leak(b.to_string().into_boxed_str());
            assert_eq!(parse(&[a, b]).await, expected, "split at {cut}");
        }
    }

    #[tokio::test]
    async fn wide_records_grow_the_buffers() {
        let long = "x".repeat(5000);
        let many = vec!["1"; 100].join(",");
        let body: &'static str = Box::leak(format!("{long}\r\n{many}\r\n").into_boxed_str());
        let got = parse(&[body]).await;
        assert_eq!(got[0], vec![long]);
        assert_eq!(got[1].len(), 100);
        assert_eq!(parse(&[""]).await, Vec::<Vec<String>>::new());
    }

    #[tokio::test]
    async fn invalid_utf8_is_an_error() {
        let body = futures::stream::iter(vec![Ok::<_, reqwest::Error>(Bytes::from_static(
            b"a\r\n\xff\r\n",
        ))]);
        let got: Vec<_> = CsvRecords::new(body).collect().await;
        assert!(got[0].is_ok());
        assert!(matches!(got[1], Err(CsvError::InvalidUtf8 { record: 1 })));
    }
}
