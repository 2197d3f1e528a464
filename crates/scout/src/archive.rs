//! Downloads streamed to a file: run archives (`GET /run_archives/{runId}`, a zip of all events,
//! images and metadata of a run) and the CSV of summary run stats (`GET /runs/?format=csv`).
//! Chunks are written as they arrive, so memory use does not grow with the body's size.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use progenitor_client::ClientInfo;

use crate::generated::Client;
use crate::ApiError;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The request failed or the server refused it (403, 500 "Could not generate file.", …), or
    /// the body was cut short.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The file could not be written.
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Downloads to files.
pub trait ArchiveExt {
    /// Streams the zip archive of run `run_id` into `path` and returns the number of bytes
    /// written. The data goes to `<path>.part` first, which is renamed to `path` only when the
    /// whole body has arrived (and removed on failure), so `path` never holds a partial archive.
    fn download_run_archive(
        &self,
        run_id: &str,
        path: impl AsRef<Path>,
    ) -> impl std::future::Future<Output = Result<u64, DownloadError>>;

    /// Streams `GET /runs/?format=csv&…` (summary run stats as CSV; the generated `list_runs`
    /// only parses the JSON form) into `path`, like [`ArchiveExt::download_run_archive`].
    /// `query` holds `list_runs`' other filters by their wire names, list filters already
    /// comma-separated, e.g. `[("robots", "spot1,spot2"), ("startTime", "2023-06-05T00:00:00Z")]`.
    fn download_runs_csv(
        &self,
        query: &[(&str, &str)],
        path: impl AsRef<Path>,
    ) -> impl std::future::Future<Output = Result<u64, DownloadError>>;
}

impl ArchiveExt for Client {
    async fn download_run_archive(
        &self,
        run_id: &str,
        path: impl AsRef<Path>,
    ) -> Result<u64, DownloadError> {
        let path = path.as_ref();
        let response = self
            .get_run_archive()
            .run_id(run_id)
            .send()
            .await
            .map_err(ApiError::from)?;
        save(response.into_inner(), path).await
    }

    async fn download_runs_csv(
        &self,
        query: &[(&str, &str)],
        path: impl AsRef<Path>,
    ) -> Result<u64, DownloadError> {
        const OPERATION: &str = "list_runs";
        let mut url = reqwest::Url::parse(&format!("{}/runs/", self.baseurl()))
            .map_err(|e| ApiError::InvalidInput(format!("base URL: {e}")))?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().filter(|(k, _)| *k != "format"))
            .append_pair("format", "csv");
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        request.headers_mut().insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("text/csv, */*"),
        );
        analytics_auth::hooks::pre(self.inner(), &crate::API, OPERATION, &mut request)
            .await
            .map_err(|e| ApiError::from(progenitor_client::Error::<()>::Custom(e.to_string())))?;
        let response = analytics_auth::hooks::exec(
            self.client(),
            self.inner(),
            &crate::API,
            OPERATION,
            request,
        )
        .await
        .map_err(ApiError::from)?;
        if !response.status().is_success() {
            return Err(
                ApiError::from(progenitor_client::Error::<()>::UnexpectedResponse(response)).into(),
            );
        }
        let body = progenitor_client::ByteStream::new(Box::pin(response.bytes_stream()));
        save(body, path.as_ref()).await
    }
}

/// Writes `body` to `<path>.part`, then renames it to `path`; removes the part file on failure.
async fn save(body: progenitor_client::ByteStream, path: &Path) -> Result<u64, DownloadError> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    match write_stream(body, &part).await {
        Ok(written) => {
            tokio::fs::rename(&part, path)
                .await
                .map_err(|source| DownloadError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            Ok(written)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(e)
        }
    }
}

async fn write_stream(
    mut body: progenitor_client::ByteStream,
    part: &Path,
) -> Result<u64, DownloadError> {
    let io = |source| DownloadError::Io {
        path: part.to_path_buf(),
        source,
    };
    let file = tokio::fs::File::create(part).await.map_err(io)?;
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(ApiError::from)?;
        file.write_all(&chunk).await.map_err(io)?;
        written += chunk.len() as u64;
    }
    file.flush().await.map_err(io)?;
    file.into_inner().sync_all().await.map_err(io)?;
    Ok(written)
}
