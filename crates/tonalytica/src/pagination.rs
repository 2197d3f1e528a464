//! Streams over every page of the paginated lists (`page`, `page_size`; envelope
//! `{"count", "page", "page_size", "results"}`), the way the official clients loop: request page
//! `p`, stop when `p * page_size >= count`.

use std::future::Future;
use std::num::NonZeroU64;

use futures::stream::{self, Stream, TryStreamExt};

use crate::generated::{builder, types, Client};
use crate::ApiError;

/// The page size the official clients' `paginate` helpers use.
pub const DEFAULT_PAGE_SIZE: u64 = 100;
/// The server's bounds for `page_size` (400 `Page size is out of range (1-250).` otherwise).
pub const PAGE_SIZE_RANGE: std::ops::RangeInclusive<u64> = 1..=250;

/// Checks `page_size` against the spec's bounds for the operation (1..=250).
pub fn checked_page_size(
    operation_id: &str,
    page_size: u64,
) -> Result<NonZeroU64, ApiError<types::Error>> {
    let range = crate::API
        .operation(operation_id)
        .and_then(|op| op.query_ranges.iter().find(|r| r.name == "page_size"));
    let (min, max) = range.map_or((1, 250), |r| (r.min.unwrap_or(1), r.max.unwrap_or(250)));
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

/// Drives `fetch(page, page_size) -> (items, count)` from page 1 until
/// `page * page_size >= count` (or an empty page). A page size out of range yields one
/// `ApiError::InvalidInput` and sends nothing.
pub fn paginate<'a, T, F, Fut>(
    operation_id: &'static str,
    page_size: u64,
    fetch: F,
) -> impl Stream<Item = Result<T, ApiError<types::Error>>> + 'a
where
    T: 'a,
    F: Fn(NonZeroU64, NonZeroU64) -> Fut + 'a,
    Fut: Future<Output = Result<(Vec<T>, i64), ApiError<types::Error>>> + 'a,
{
    stream::try_unfold((Some(1u64), fetch), move |(page, fetch)| async move {
        let Some(page) = page else {
            return Ok::<_, ApiError<types::Error>>(None);
        };
        let size = checked_page_size(operation_id, page_size)?;
        let number = NonZeroU64::new(page).unwrap_or(NonZeroU64::MIN);
        let (items, count) = fetch(number, size).await?;
        let seen = page.saturating_mul(size.get());
        let count = u64::try_from(count).unwrap_or(0);
        let next = (!items.is_empty() && seen < count).then_some(page + 1);
        Ok(Some((
            stream::iter(items.into_iter().map(Ok)),
            (next, fetch),
        )))
    })
    .try_flatten()
}

macro_rules! page_streams {
    ($( $(#[$doc:meta])* $name:ident, $with:ident, $op:ident, $builder:ident, $item:ty; )*) => {
        /// Page streams over the paginated lists. The `_with` forms take a function that sets the
        /// list's filters (`q`, `tags`, `order`, …) on each page's request; `page` and
        /// `page_size` are set by the stream.
        pub trait ClientPagesExt {
            $(
                $(#[$doc])*
                fn $name(
                    &self,
                    page_size: u64,
                ) -> impl Stream<Item = Result<$item, ApiError<types::Error>>> + '_;

                $(#[$doc])*
                fn $with<F>(
                    &self,
                    page_size: u64,
                    configure: F,
                ) -> impl Stream<Item = Result<$item, ApiError<types::Error>>> + '_
                where
                    F: for<'b> Fn(builder::$builder<'b>) -> builder::$builder<'b> + 'static;
            )*
        }

        impl ClientPagesExt for Client {
            $(
                fn $name(
                    &self,
                    page_size: u64,
                ) -> impl Stream<Item = Result<$item, ApiError<types::Error>>> + '_ {
                    self.$with(page_size, |b| b)
                }

                fn $with<F>(
                    &self,
                    page_size: u64,
                    configure: F,
                ) -> impl Stream<Item = Result<$item, ApiError<types::Error>>> + '_
                where
                    F: for<'b> Fn(builder::$builder<'b>) -> builder::$builder<'b> + 'static,
                {
                    paginate(stringify!($op), page_size, move |page, size| {
                        let request = configure(self.$op()).page(page).page_size(size);
                        async move {
                            let page = request.send().await?.into_inner();
                            Ok((page.results, page.count))
                        }
                    })
                }
            )*
        }
    };
}

page_streams! {
    /// Every query (`GET /api/queries`: drafts included, archived excluded).
    queries_stream, queries_stream_with, list_queries, ListQueries, types::QueryListItem;
    /// The caller's queries (`GET /api/queries/my`).
    my_queries_stream, my_queries_stream_with, list_my_queries, ListMyQueries, types::QueryListItem;
    /// The caller's favorite queries (`GET /api/queries/favorites`).
    favorite_queries_stream, favorite_queries_stream_with, list_favorite_queries, ListFavoriteQueries, types::QueryListItem;
    /// Archived queries (`GET /api/queries/archive`, admins only on TONalytica).
    archived_queries_stream, archived_queries_stream_with, list_archived_queries, ListArchivedQueries, types::QueryListItem;
    /// Every dashboard the caller can see (`GET /api/dashboards`).
    dashboards_stream, dashboards_stream_with, list_dashboards, ListDashboards, types::Dashboard;
    /// The caller's dashboards (`GET /api/dashboards/my`).
    my_dashboards_stream, my_dashboards_stream_with, list_my_dashboards, ListMyDashboards, types::Dashboard;
    /// The caller's favorite dashboards (`GET /api/dashboards/favorites`).
    favorite_dashboards_stream, favorite_dashboards_stream_with, list_favorite_dashboards, ListFavoriteDashboards, types::Dashboard;
    /// Users (`GET /api/users`; on TONalytica a non-admin sees only themself).
    users_stream, users_stream_with, list_users, ListUsers, types::UserListItem;
}
