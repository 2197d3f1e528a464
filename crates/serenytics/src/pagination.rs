//! Streams over every object of a list operation.
//!
//! The official client reads only the first answer. Flask-Restless (which the list format comes
//! from) pages lists with `page` / `results_per_page` and answers `page` / `total_pages`; nothing
//! public says whether Serenytics does. These streams handle both: the first request is the one
//! the official client sends (no `page`); while the answer says `page < total_pages`, the next
//! page is requested. An answer without those fields is the whole list.

use std::num::NonZeroU64;

use futures::stream::{self, Stream, TryStreamExt};

use crate::error::Error;
use crate::filter::{Search, SearchExt};
use crate::generated::{types, Client};

/// One page: the objects, and `(page, total_pages)` when the server pages.
type Page<T> = (Vec<T>, Option<i64>, Option<i64>);

/// Where a listing stands between pages.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// The first request (no `page` parameter).
    First,
    Page(u64),
    Done,
}

/// Streams of every object of the six list operations. `search` is applied to each page;
/// `per_page` is sent as `results_per_page` when given.
pub trait ListStreams {
    fn web_apps_stream(
        &self,
        search: Option<Search>,
        per_page: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::WebApp, Error>> + Send + '_;
    fn scripts_stream(
        &self,
        search: Option<Search>,
        per_page: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::Script, Error>> + Send + '_;
    fn data_sources_stream(
        &self,
        search: Option<Search>,
        per_page: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::DataSource, Error>> + Send + '_;
    fn folders_stream(
        &self,
        search: Option<Search>,
        per_page: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::Folder, Error>> + Send + '_;
    fn users_stream(
        &self,
        search: Option<Search>,
        per_page: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::User, Error>> + Send + '_;
    fn user_groups_stream(
        &self,
        search: Option<Search>,
        per_page: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<types::UsersGroup, Error>> + Send + '_;
}

macro_rules! list_stream {
    ($name:ident, $op:ident, $item:ident) => {
        fn $name(
            &self,
            search: Option<Search>,
            per_page: Option<NonZeroU64>,
        ) -> impl Stream<Item = Result<types::$item, Error>> + Send + '_ {
            pages(move |page| {
                let mut request = self.$op();
                if let Some(search) = &search {
                    request = request.search(search);
                }
                if let Some(per_page) = per_page {
                    request = request.results_per_page(per_page);
                }
                if let Some(page) = page {
                    request = request.page(page);
                }
                async move {
                    let list = request.send().await?.into_inner();
                    Ok((list.objects, list.page, list.total_pages))
                }
            })
        }
    };
}

impl ListStreams for Client {
    list_stream!(web_apps_stream, list_web_apps, WebApp);
    list_stream!(scripts_stream, list_scripts, Script);
    list_stream!(data_sources_stream, list_data_sources, DataSource);
    list_stream!(folders_stream, list_folders, Folder);
    list_stream!(users_stream, list_users, User);
    list_stream!(user_groups_stream, list_user_groups, UsersGroup);
}

/// Drives `fetch(page)` (None: the first request, without `page`) until the last page.
fn pages<'a, T, F, Fut>(fetch: F) -> impl Stream<Item = Result<T, Error>> + Send + 'a
where
    T: Send + 'a,
    F: Fn(Option<NonZeroU64>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<Page<T>, Error>> + Send + 'a,
{
    stream::try_unfold((Next::First, fetch), |(next, fetch)| async move {
        let requested = match next {
            Next::Done => return Ok(None),
            Next::First => None,
            Next::Page(n) => NonZeroU64::new(n),
        };
        let (items, page, total_pages) = fetch(requested).await?;
        let following = match (page, total_pages) {
            (Some(page), Some(total)) if page < total => {
                let page = u64::try_from(page).unwrap_or(0);
                if requested.is_some_and(|r| r.get() != page) || page == 0 {
                    // The server did not serve the page we asked for: stop rather than loop.
                    return Err(Error::Protocol(format!(
                        "asked for page {}, got page {page}",
                        requested.map_or(1, NonZeroU64::get)
                    )));
                }
                Next::Page(page + 1)
            }
            _ => Next::Done,
        };
        Ok(Some((
            stream::iter(items.into_iter().map(Ok)),
            (following, fetch),
        )))
    })
    .try_flatten()
}
