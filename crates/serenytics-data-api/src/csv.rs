//! `query_datasource_csv`: `POST /query-data/{uuid}` with `format: csv`, returning the CSV bytes.
//!
//! The generated `query_datasource_data` types its 200 answer as JSON (the spec's
//! `application/json` branch); with `format: csv` the server answers `text/csv`, which this method
//! returns untouched, with the same credential handling and error classification.

use std::future::Future;

use analytics_auth::{hooks, ApiError};
use bytes::Bytes;
use progenitor_client::ClientInfo;
use reqwest::header::{HeaderValue, ACCEPT};

use crate::generated::{types, Client, API};

/// The CSV variant of `query_datasource_data`.
pub trait QueryCsvExt {
    /// Sends `query` with `format` set to `csv` and returns the body.
    fn query_datasource_csv(
        &self,
        datasource_uuid: uuid::Uuid,
        query: types::DataQuery,
    ) -> impl Future<Output = Result<Bytes, ApiError<types::DataApiError>>> + Send;
}

impl QueryCsvExt for Client {
    fn query_datasource_csv(
        &self,
        datasource_uuid: uuid::Uuid,
        mut query: types::DataQuery,
    ) -> impl Future<Output = Result<Bytes, ApiError<types::DataApiError>>> + Send {
        const OPERATION: &str = "query_datasource_data";
        query.format = Some(types::DataQueryFormat::Csv);
        let url = format!("{}/query-data/{datasource_uuid}", self.baseurl());
        let request = self
            .client()
            .post(url)
            .header(ACCEPT, HeaderValue::from_static("text/csv"))
            .json(&query)
            .build();
        async move {
            let mut request = request.map_err(ApiError::from)?;
            hooks::pre(self.inner(), &API, OPERATION, &mut request)
                .await
                .map_err(|e| ApiError::from(progenitor_client::Error::Custom(e.to_string())))?;
            let response = hooks::exec(self.client(), self.inner(), &API, OPERATION, request)
                .await
                .map_err(ApiError::from)?;
            if !response.status().is_success() {
                return Err(ApiError::from(progenitor_client::Error::<
                    types::DataApiError,
                >::UnexpectedResponse(
                    response
                )));
            }
            hooks::read_body(self.inner(), response).await
        }
    }
}

// The derive would have to go into generated code, which is not edited by hand.
#[allow(clippy::derivable_impls)]
impl Default for types::DataQuery {
    fn default() -> Self {
        types::DataQuery {
            format: None,
            extra: Default::default(),
        }
    }
}
