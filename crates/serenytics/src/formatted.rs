//! A single-pass decoder for `formatted_data` answers (up to 20 000 rows).
//!
//! The generated `query_formatted_data()` decodes its 200 answer into the untagged enum
//! `FormattedDataResponse`: serde first buffers the whole document into an intermediate tree, then
//! tries each variant against it. [`decode_formatted_data`] reads the same bytes once, straight
//! into the same result type, and decides success or application error from `status`.
//! [`FormattedDataExt::formatted_data`] is `query_formatted_data().send_checked()` with this
//! decoder (same request bytes, same credential handling, same errors).

use std::future::Future;

use analytics_auth::{hooks, ApiError};
use progenitor_client::ClientInfo;
use reqwest::header::{HeaderValue, ACCEPT};
use serde::Deserialize;

use crate::error::Error;
use crate::generated::{types, Client, API};

/// Every member either variant of `FormattedDataResponse` can hold, read in one pass.
#[derive(Deserialize)]
struct Wire {
    status: String,
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    columns_titles: Vec<types::ColumnTitle>,
    #[serde(default)]
    data: Option<analytics_auth::rows::Rows>,
}

/// Decodes a `formatted_data` 200 body: `status: ok` gives the result, `status: error` gives
/// [`Error::Application`], anything else (malformed JSON, another status) is
/// `ApiError::InvalidResponse`.
pub fn decode_formatted_data(bytes: &[u8]) -> Result<types::FormattedDataResult, Error> {
    let invalid = |reason: String| {
        Error::Api(ApiError::InvalidResponse {
            reason,
            body: analytics_auth::RawBody(bytes::Bytes::copy_from_slice(bytes)),
        })
    };
    let wire: Wire = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    match wire.status.as_str() {
        "ok" => Ok(types::FormattedDataResult {
            columns_titles: wire.columns_titles,
            data: wire.data,
            status: types::FormattedDataResultStatus::Ok,
        }),
        "error" => Err(Error::Application {
            errors: wire.errors,
        }),
        other => Err(invalid(format!(
            "`status` is `{other}`, expected `ok` or `error`"
        ))),
    }
}

/// `client.formatted_data(uuid, &request)`: the formatted-data query with the single-pass decoder.
pub trait FormattedDataExt {
    fn formatted_data(
        &self,
        uuid: uuid::Uuid,
        request: &types::FormattedDataRequest,
    ) -> impl Future<Output = Result<types::FormattedDataResult, Error>> + Send;
}

impl FormattedDataExt for Client {
    fn formatted_data(
        &self,
        uuid: uuid::Uuid,
        request: &types::FormattedDataRequest,
    ) -> impl Future<Output = Result<types::FormattedDataResult, Error>> + Send {
        const OPERATION: &str = "query_formatted_data";
        let built = self
            .client()
            .post(format!("{}/api/formatted_data/{uuid}", self.baseurl()))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .json(request)
            .build();
        async move {
            let mut request = built.map_err(ApiError::from)?;
            hooks::pre(self.inner(), &API, OPERATION, &mut request)
                .await
                .map_err(|e| {
                    Error::from(progenitor_client::Error::<types::HttpError>::Custom(
                        e.to_string(),
                    ))
                })?;
            let response = hooks::exec(self.client(), self.inner(), &API, OPERATION, request)
                .await
                .map_err(ApiError::from)?;
            match response.status().as_u16() {
                200 => {
                    let bytes = hooks::read_body(self.inner(), response).await?;
                    decode_formatted_data(&bytes)
                }
                // The statuses the spec documents with an `HttpError` body, as the generated
                // method does.
                401 | 403 | 404 => Err(progenitor_client::Error::ErrorResponse(
                    hooks::decode::<types::HttpError, types::HttpError>(self.inner(), response)
                        .await?,
                )
                .into()),
                _ => Err(
                    progenitor_client::Error::<types::HttpError>::UnexpectedResponse(response)
                        .into(),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_the_generated_enum() {
        let bodies = [
            r#"{"status":"ok","columns_titles":[{"name":"a","type":"int"}],"data":[[1],[null]]}"#,
            r#"{"status":"ok","columns_titles":[{"name":"a"}]}"#,
            r#"{"status":"error","errors":["Storage source is empty"]}"#,
        ];
        for body in bodies {
            let generated: types::FormattedDataResponse =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
            match (generated, decode_formatted_data(body.as_bytes())) {
                (types::FormattedDataResponse::FormattedDataResult(g), Ok(ours)) => {
                    assert_eq!(
                        serde_json::to_value(g).ok(),
                        serde_json::to_value(ours).ok()
                    );
                }
                (
                    types::FormattedDataResponse::ApplicationError(g),
                    Err(Error::Application { errors }),
                ) => {
                    assert_eq!(g.errors, errors);
                }
                (g, ours) => panic!("{body}: generated {g:?}, ours {ours:?}"),
            }
        }
        for bad in [
            r#"{"status":"weird"}"#,
            r#"{"status":"ok","data":[["#,
            "<html>",
        ] {
            assert!(serde_json::from_str::<types::FormattedDataResponse>(bad).is_err());
            assert!(matches!(
                decode_formatted_data(bad.as_bytes()),
                Err(Error::Api(ApiError::InvalidResponse { .. }))
            ));
        }
    }
}
