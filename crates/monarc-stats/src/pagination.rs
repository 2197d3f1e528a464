//! Streams over every page of a list: `_skip += len(data)` until `has_more` is false.

use std::num::NonZeroU64;

use futures::stream::{self, Stream, TryStreamExt};

use crate::filter::StatsFilter;
use crate::generated::{types, Client};
use crate::ApiError;

/// The server's default page size (`_limit`), also ours.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// Where a listing stands between pages.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    skip: u64,
    done: bool,
}

/// Page streams over the two list operations.
pub trait ClientPagesExt {
    /// Every stats object matching `filter`, fetched `page_size` at a time (1..=1000; a size out
    /// of range yields one `ApiError::InvalidInput` and sends nothing).
    fn stats_stream(
        &self,
        filter: StatsFilter,
        page_size: u64,
    ) -> impl Stream<Item = Result<types::Stats, ApiError<types::Error>>> + '_;

    /// Every organization, fetched `page_size` at a time (1..=100).
    fn organizations_stream(
        &self,
        page_size: u64,
    ) -> impl Stream<Item = Result<types::Organization, ApiError<types::Error>>> + '_;
}

impl ClientPagesExt for Client {
    fn stats_stream(
        &self,
        filter: StatsFilter,
        page_size: u64,
    ) -> impl Stream<Item = Result<types::Stats, ApiError<types::Error>>> + '_ {
        pages("list_stats", page_size, move |skip, limit| {
            let request = filter.apply(self.list_stats().skip(skip).limit(limit));
            async move {
                let page = request.send().await?.into_inner();
                Ok((page.data, page.has_more))
            }
        })
    }

    fn organizations_stream(
        &self,
        page_size: u64,
    ) -> impl Stream<Item = Result<types::Organization, ApiError<types::Error>>> + '_ {
        pages("list_organizations", page_size, move |skip, limit| {
            let request = self.list_organizations().skip(skip).limit(limit);
            async move {
                let page = request.send().await?.into_inner();
                Ok((page.data, page.has_more))
            }
        })
    }
}

/// Checks `page_size` against the spec's bounds of the operation's `_limit`.
fn checked_limit(operation_id: &str, page_size: u64) -> Result<NonZeroU64, ApiError<types::Error>> {
    let range = crate::API
        .operation(operation_id)
        .and_then(|op| op.query_ranges.iter().find(|r| r.name == "_limit"));
    let (min, max) = range.map_or((1, i64::MAX), |r| {
        (r.min.unwrap_or(1), r.max.unwrap_or(i64::MAX))
    });
    i64::try_from(page_size)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .and_then(|_| NonZeroU64::new(page_size))
        .ok_or_else(|| {
            ApiError::InvalidInput(format!(
                "page size for `{operation_id}` must be in {min}..={max}, got {page_size}"
            ))
        })
}

/// Drives `fetch(skip, limit) -> (items, has_more)` until the server says there is no more.
fn pages<'a, T, F, Fut>(
    operation_id: &'static str,
    page_size: u64,
    fetch: F,
) -> impl Stream<Item = Result<T, ApiError<types::Error>>> + 'a
where
    T: 'a,
    F: Fn(u64, NonZeroU64) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<(Vec<T>, bool), ApiError<types::Error>>> + 'a,
{
    stream::try_unfold(
        (
            Cursor {
                skip: 0,
                done: false,
            },
            fetch,
        ),
        move |(cursor, fetch)| async move {
            if cursor.done {
                return Ok(None);
            }
            let limit = checked_limit(operation_id, page_size)?;
            let (items, has_more) = fetch(cursor.skip, limit).await?;
            if has_more && items.is_empty() {
                // `_skip` would not advance: stop instead of asking for the same page forever.
                return Err(ApiError::InvalidResponse {
                    reason: "the server reported more items but sent an empty page".to_string(),
                    body: analytics_auth::RawBody(Default::default()),
                });
            }
            let next = Cursor {
                skip: cursor.skip + items.len() as u64,
                done: !has_more,
            };
            Ok(Some((
                stream::iter(items.into_iter().map(Ok)),
                (next, fetch),
            )))
        },
    )
    .try_flatten()
}
