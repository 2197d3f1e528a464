//! `formatted_data` answers (up to 20 000 rows), read in one pass with the rows left in the body.
//!
//! progenitor would decode the 200 answer of `query_formatted_data()` into an untagged enum: serde
//! first buffers the whole document into an intermediate tree, then tries each variant against it
//! (seven times the body in memory for 20 000 rows). [`FormattedDataResponse`] takes that enum's
//! place in the generated code (`REPLACED_SCHEMAS` in `xtask/src/codegen.rs`, re-exported as
//! `types::FormattedDataResponse`): same variants, read once, the variant chosen by `status`. The
//! generated call decodes it with [`FormattedDataResponse::from_body`] (`REPLACED_DECODERS`),
//! which leaves the rows in the received body instead of copying them.
//! [`FormattedDataExt::formatted_data`] is `query_formatted_data().send_checked()` returning the
//! result or [`Error::Application`] directly.

use std::future::Future;

use analytics_auth::rows::Rows;
use analytics_auth::{hooks, ApiError};
use bytes::Bytes;
use progenitor_client::ClientInfo;
use reqwest::header::{HeaderValue, ACCEPT};
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::Error;
use crate::generated::{types, Client, API};

/// The 200 answer of `query_formatted_data`: the result (`status: ok`) or an application error
/// (`status: error`). Serialized like the spec's `oneOf`; deserialized in one pass. One difference
/// from an untagged enum: a member that belongs to the other shape (`errors` in a result, `data`
/// in an error) must still have its documented type.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum FormattedDataResponse {
    FormattedDataResult(types::FormattedDataResult),
    ApplicationError(types::ApplicationError),
}

impl From<types::FormattedDataResult> for FormattedDataResponse {
    fn from(value: types::FormattedDataResult) -> Self {
        Self::FormattedDataResult(value)
    }
}

impl From<types::ApplicationError> for FormattedDataResponse {
    fn from(value: types::ApplicationError) -> Self {
        Self::ApplicationError(value)
    }
}

/// Every member either shape can hold.
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

impl<'de> Deserialize<'de> for FormattedDataResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        match wire.status.as_str() {
            "ok" => Ok(Self::FormattedDataResult(types::FormattedDataResult {
                columns_titles: wire.columns_titles,
                data: wire.data,
                status: types::FormattedDataResultStatus::Ok,
            })),
            "error" => Ok(Self::ApplicationError(types::ApplicationError {
                errors: wire.errors,
                status: types::ApplicationErrorStatus::Error,
            })),
            other => Err(D::Error::custom(format!(
                "`status` is `{other}`, expected `ok` or `error`"
            ))),
        }
    }
}

impl FormattedDataResponse {
    /// Decodes a 200 body with the rows left in `body`'s buffer ([`Rows::from_array_in`]): the
    /// answer costs 4 bytes per row on top of the body, not a second copy of it. The generated
    /// `query_formatted_data()` decodes with this (`REPLACED_DECODERS` in `xtask/src/codegen.rs`).
    pub fn from_body(body: &Bytes) -> Result<FormattedDataResponse, serde_json::Error> {
        let wire: BorrowedWire<'_> = serde_json::from_slice(body)?;
        match wire.status.as_ref() {
            "ok" => Ok(Self::FormattedDataResult(types::FormattedDataResult {
                columns_titles: wire.columns_titles,
                data: wire
                    .data
                    .map(|rows| Rows::from_array_in(body, rows))
                    .transpose()?,
                status: types::FormattedDataResultStatus::Ok,
            })),
            "error" => Ok(Self::ApplicationError(types::ApplicationError {
                errors: wire.errors,
                status: types::ApplicationErrorStatus::Error,
            })),
            other => Err(serde_json::Error::custom(format!(
                "`status` is `{other}`, expected `ok` or `error`"
            ))),
        }
    }
}

/// Decodes a `formatted_data` 200 body ([`FormattedDataResponse::from_body`]): `status: ok` gives
/// the result, `status: error` gives [`Error::Application`], anything else (malformed JSON,
/// another status) is `ApiError::InvalidResponse`.
pub fn decode_formatted_data(body: &Bytes) -> Result<types::FormattedDataResult, Error> {
    match FormattedDataResponse::from_body(body) {
        Ok(FormattedDataResponse::FormattedDataResult(result)) => Ok(result),
        Ok(FormattedDataResponse::ApplicationError(e)) => Err(e.into()),
        Err(e) => Err(Error::Api(ApiError::InvalidResponse {
            reason: e.to_string(),
            body: analytics_auth::RawBody(body.clone()),
        })),
    }
}

/// [`Wire`] with the rows left in the body.
#[derive(Deserialize)]
struct BorrowedWire<'a> {
    #[serde(borrow)]
    status: std::borrow::Cow<'a, str>,
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    columns_titles: Vec<types::ColumnTitle>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
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

    /// What progenitor generates for the spec's `oneOf` (and what this module replaces).
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        FormattedDataResult(types::FormattedDataResult),
        ApplicationError(types::ApplicationError),
    }

    #[test]
    fn decodes_like_an_untagged_enum() {
        let bodies = [
            r#"{"status":"ok","columns_titles":[{"name":"a","type":"int"}],"data":[[1],[null]]}"#,
            r#"{"status":"ok","columns_titles":[{"name":"a"}]}"#,
            r#"{"status":"error","errors":["Storage source is empty"]}"#,
            "{\"status\": \"ok\", \"data\": [ [\"FR\", 1.5] ,\n [null, true]], \"columns_titles\": [{\"name\": \"c\"}]}",
        ];
        for body in bodies {
            let untagged: Untagged = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
            let ours: FormattedDataResponse =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
            let in_place = decode_formatted_data(&Bytes::copy_from_slice(body.as_bytes()));
            match (untagged, ours, in_place) {
                (
                    Untagged::FormattedDataResult(u),
                    FormattedDataResponse::FormattedDataResult(o),
                    Ok(p),
                ) => {
                    assert_eq!(serde_json::to_value(&u).ok(), serde_json::to_value(o).ok());
                    assert_eq!(serde_json::to_value(&u).ok(), serde_json::to_value(&p).ok());
                    assert_eq!(u.data, p.data);
                }
                (
                    Untagged::ApplicationError(u),
                    FormattedDataResponse::ApplicationError(o),
                    Err(Error::Application { errors: p }),
                ) => {
                    assert_eq!(u.errors, o.errors);
                    assert_eq!(u.errors, p);
                }
                (u, o, p) => panic!("{body}: untagged {u:?}, ours {o:?}, in place {p:?}"),
            }
            let round_trip = serde_json::to_string(&ours_of(body)).unwrap_or_default();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&round_trip).ok(),
                serde_json::from_str::<serde_json::Value>(body).ok(),
                "{body}"
            );
        }
        for bad in [
            r#"{"status":"weird"}"#,
            r#"{"status":"ok","data":[["#,
            "<html>",
        ] {
            assert!(serde_json::from_str::<Untagged>(bad).is_err());
            assert!(serde_json::from_str::<FormattedDataResponse>(bad).is_err());
            assert!(matches!(
                decode_formatted_data(&Bytes::copy_from_slice(bad.as_bytes())),
                Err(Error::Api(ApiError::InvalidResponse { .. }))
            ));
        }
    }

    fn ours_of(body: &str) -> FormattedDataResponse {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"))
    }
}
