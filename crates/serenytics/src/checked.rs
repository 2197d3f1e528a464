//! `send_checked()`: the operations whose HTTP 200 may carry `{"status": "error"}`, with that case
//! turned into [`Error::Application`] and the success shape returned directly.
//!
//! ```rust,no_run
//! # async fn run(client: serenytics::Client, uuid: uuid::Uuid) -> Result<(), serenytics::Error> {
//! use serenytics::{types, CheckedSend};
//! let body = types::FormattedDataRequest { only_headers: Some(true), ..Default::default() };
//! let result = client.query_formatted_data().uuid(uuid).body(body).send_checked().await?;
//! println!("{} columns", result.columns_titles.len());
//! # Ok(()) }
//! ```

use std::future::Future;

use crate::error::Error;
use crate::generated::{builder, types};

/// Sends the request and returns the success shape; HTTP 200 with `status: error` is an `Err`.
pub trait CheckedSend {
    /// The success shape of the operation's 200 response.
    type Output;
    fn send_checked(self) -> impl Future<Output = Result<Self::Output, Error>> + Send;
}

macro_rules! checked {
    ($builder:ident, $response:ident, $ok:ident) => {
        impl CheckedSend for builder::$builder<'_> {
            type Output = types::$ok;
            fn send_checked(self) -> impl Future<Output = Result<types::$ok, Error>> + Send {
                async move {
                    match self.send().await?.into_inner() {
                        types::$response::$ok(ok) => Ok(ok),
                        types::$response::ApplicationError(e) => Err(e.into()),
                    }
                }
            }
        }
    };
}

checked!(
    QueryFormattedData,
    FormattedDataResponse,
    FormattedDataResult
);
checked!(BatchDataSourceRows, BatchResponse, BatchResult);
checked!(RunScript, ScriptRunResponse, ScriptRunResult);
checked!(GenerateWebAppPdf, GeneratePdfResponse, GeneratePdfResult);
checked!(
    ExportDataSourceData,
    ExportSourceDataResponse,
    ExportSourceDataResult
);
checked!(
    ListWebAppDataSources,
    WebAppDataSourcesResponse,
    WebAppDataSources
);
checked!(InvalidateDataSourceCache, StatusResponse, StatusOk);
checked!(ReloadDataSource, StatusResponse, StatusOk);
