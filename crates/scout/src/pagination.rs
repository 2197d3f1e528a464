//! Page streams over runs, run events and run captures.
//!
//! Scout's paged envelope is `{limit, offset, total, resources}`, but only `runs/` documents an
//! `offset` parameter (api-notes §3). So:
//! - [`ScoutPagesExt::runs_stream`] pages with `limit` + `offset` until a short page or `total`;
//! - [`ScoutPagesExt::run_events_stream`] and [`ScoutPagesExt::run_captures_stream`] page through
//!   a **time window** on `createdAt`, newest first (`orderBy=-created_at`, as the official
//!   utilities do): each next page asks for `endCreatedAt` = the oldest `createdAt` seen + 1 ms and
//!   skips the items at that boundary it has already yielded, so items sharing a millisecond are
//!   neither lost nor repeated.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, Stream, TryStreamExt};

use crate::generated::{builder, types, Client};
use crate::ApiError;

/// The server's default page size (`limit`), also ours.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// `[start, end)` on the items' `createdAt` (`startCreatedAt` ≥, `endCreatedAt` <).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeWindow {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        TimeWindow { start, end }
    }

    /// The `length` up to `end`, e.g. `TimeWindow::last(Duration::days(1), Utc::now())`.
    pub fn last(length: Duration, end: DateTime<Utc>) -> Self {
        TimeWindow {
            start: end - length,
            end,
        }
    }
}

/// Page streams over the three paged collections. `customize` sets filters on the request
/// builder (e.g. `|b| b.robots(vec!["spot1".into()])`); the paging parameters (`limit`, `offset`,
/// and for the windowed streams `startCreatedAt`, `endCreatedAt`, `orderBy`) are set after it and
/// win.
pub trait ScoutPagesExt {
    /// Every run matching the filters, `page_size` (≥ 1) at a time, in the server's order
    /// (`orderBy`, default `newest`).
    fn runs_stream<'a, F>(
        &'a self,
        page_size: u32,
        customize: F,
    ) -> impl Stream<Item = Result<types::Run, ApiError>> + 'a
    where
        F: Fn(builder::ListRuns<'a>) -> builder::ListRuns<'a> + 'a;

    /// Every run event created in `window`, newest first, `page_size` (≥ 1) at a time.
    fn run_events_stream<'a, F>(
        &'a self,
        window: TimeWindow,
        page_size: u32,
        customize: F,
    ) -> impl Stream<Item = Result<types::RunEvent, ApiError>> + 'a
    where
        F: Fn(builder::ListRunEvents<'a>) -> builder::ListRunEvents<'a> + 'a;

    /// Every run capture created in `window`, newest first, `page_size` (≥ 1) at a time
    /// (Scout 3.3).
    fn run_captures_stream<'a, F>(
        &'a self,
        window: TimeWindow,
        page_size: u32,
        customize: F,
    ) -> impl Stream<Item = Result<types::RunCapture, ApiError>> + 'a
    where
        F: Fn(builder::ListRunCaptures<'a>) -> builder::ListRunCaptures<'a> + 'a;
}

impl ScoutPagesExt for Client {
    fn runs_stream<'a, F>(
        &'a self,
        page_size: u32,
        customize: F,
    ) -> impl Stream<Item = Result<types::Run, ApiError>> + 'a
    where
        F: Fn(builder::ListRuns<'a>) -> builder::ListRuns<'a> + 'a,
    {
        stream::try_unfold(
            (Some(0u64), customize),
            move |(offset, customize)| async move {
                let Some(offset) = offset else {
                    return Ok::<_, ApiError>(None);
                };
                let limit = checked(page_size)?;
                let page = customize(self.list_runs())
                    .limit(i64::from(limit))
                    .offset(offset as i64)
                    .send()
                    .await?
                    .into_inner();
                let got = page.resources.len() as u64;
                let next = offset + got;
                let more =
                    got >= u64::from(limit) && page.total.is_none_or(|total| (next as i64) < total);
                let cursor = more.then_some(next);
                Ok(Some((
                    stream::iter(page.resources.into_iter().map(Ok)),
                    (cursor, customize),
                )))
            },
        )
        .try_flatten()
    }

    fn run_events_stream<'a, F>(
        &'a self,
        window: TimeWindow,
        page_size: u32,
        customize: F,
    ) -> impl Stream<Item = Result<types::RunEvent, ApiError>> + 'a
    where
        F: Fn(builder::ListRunEvents<'a>) -> builder::ListRunEvents<'a> + 'a,
    {
        windowed(window, page_size, move |start, end, limit| {
            let request = customize(self.list_run_events())
                .start_created_at(start)
                .end_created_at(end)
                .order_by("-created_at")
                .limit(i64::from(limit));
            async move { Ok(request.send().await?.into_inner().resources) }
        })
    }

    fn run_captures_stream<'a, F>(
        &'a self,
        window: TimeWindow,
        page_size: u32,
        customize: F,
    ) -> impl Stream<Item = Result<types::RunCapture, ApiError>> + 'a
    where
        F: Fn(builder::ListRunCaptures<'a>) -> builder::ListRunCaptures<'a> + 'a,
    {
        windowed(window, page_size, move |start, end, limit| {
            let request = customize(self.list_run_captures())
                .start_created_at(start)
                .end_created_at(end)
                .order_by("-created_at")
                .limit(i64::from(limit));
            async move { Ok(request.send().await?.into_inner().resources) }
        })
    }
}

/// What the windowed pager needs to know about an item.
trait Created {
    fn created_at(&self) -> Option<&str>;
    fn uuid(&self) -> Option<&str>;
}

impl Created for types::RunEvent {
    fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }
    fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }
}

impl Created for types::RunCapture {
    fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }
    fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }
}

fn checked(page_size: u32) -> Result<u32, ApiError> {
    if page_size == 0 {
        Err(ApiError::InvalidInput(
            "page size must be at least 1".to_string(),
        ))
    } else {
        Ok(page_size)
    }
}

fn invalid(reason: String) -> ApiError {
    ApiError::InvalidResponse {
        reason,
        body: analytics_auth::RawBody(Default::default()),
    }
}

/// Where a windowed listing stands between pages.
struct Cursor {
    /// Exclusive upper bound of the next request.
    end: DateTime<Utc>,
    /// Uuids already yielded whose `createdAt` is ≥ `end - 1 ms` (they come again).
    boundary: HashSet<String>,
    done: bool,
}

fn windowed<'a, T, F, Fut>(
    window: TimeWindow,
    page_size: u32,
    fetch: F,
) -> impl Stream<Item = Result<T, ApiError>> + 'a
where
    T: Created + 'a,
    F: Fn(DateTime<Utc>, DateTime<Utc>, u32) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<Vec<T>, ApiError>> + 'a,
{
    let cursor = Cursor {
        end: window.end,
        boundary: HashSet::new(),
        done: window.start >= window.end,
    };
    stream::try_unfold((cursor, fetch), move |(cursor, fetch)| async move {
        if cursor.done {
            return Ok::<_, ApiError>(None);
        }
        let limit = checked(page_size)?;
        let items = fetch(window.start, cursor.end, limit).await?;
        let full = items.len() >= limit as usize;
        let mut oldest: Option<DateTime<Utc>> = None;
        let mut fresh = Vec::with_capacity(items.len());
        let mut stamped = Vec::with_capacity(items.len());
        for item in items {
            let text = item.created_at().ok_or_else(|| {
                invalid("an item without `createdAt` in a windowed listing".into())
            })?;
            let at = DateTime::parse_from_rfc3339(text)
                .map_err(|e| invalid(format!("`createdAt` `{text}` is not an ISO time: {e}")))?
                .with_timezone(&Utc);
            oldest = Some(oldest.map_or(at, |o| o.min(at)));
            let seen = item.uuid().is_some_and(|u| cursor.boundary.contains(u));
            if !seen {
                stamped.push((at, item.uuid().map(str::to_string)));
                fresh.push(item);
            }
        }
        let next = match oldest {
            Some(oldest) if full => {
                if fresh.is_empty() {
                    return Err(invalid(format!(
                        "more than {limit} items share the createdAt millisecond {oldest}; \
                         use a larger page size"
                    )));
                }
                // Ask again for the boundary millisecond, skipping what was already yielded.
                let end = oldest + Duration::milliseconds(1);
                let mut boundary: HashSet<String> = if end == cursor.end {
                    cursor.boundary
                } else {
                    HashSet::new()
                };
                boundary.extend(
                    stamped
                        .into_iter()
                        .filter(|(at, _)| *at < end)
                        .filter_map(|(_, uuid)| uuid),
                );
                Cursor {
                    end,
                    boundary,
                    done: end <= window.start,
                }
            }
            _ => Cursor {
                end: cursor.end,
                boundary: HashSet::new(),
                done: true,
            },
        };
        Ok(Some((
            stream::iter(fresh.into_iter().map(Ok)),
            (next, fetch),
        )))
    })
    .try_flatten()
}
