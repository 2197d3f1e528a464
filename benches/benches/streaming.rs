//! Large transfers in bounded memory: a Serenytics batch upload of 1 000 000 rows (rows streamed
//! in, chunks of 10 000 out) and a 200 MB Scout run-archive download to a file. Resident memory
//! is sampled along the way; flat means the transfer does not hold the data.
//!
//! ```sh
//! cargo bench -p client-benches --bench streaming [batch|archive]
//! ```
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::sync::Arc;
use std::time::{Duration, Instant};

use client_benches::{proc_kib, reset_peak_rss, result, run_modes, runtime, serve, Answer};
use futures::StreamExt;

const BATCH_ROWS: u64 = 1_000_000;
const CHUNK: usize = 10_000;
const ARCHIVE_BYTES: u64 = 200_000_000;
const COUNTRIES: [&str; 4] = ["FR", "US", "UK", "DE"];

fn main() {
    run_modes(
        "STREAMING_BENCH_MODE",
        &["serenytics-batch", "scout-archive"],
        |mode| {
            runtime().block_on(async {
                match mode {
                    "serenytics-batch" => batch_upload().await,
                    _ => archive_download().await,
                }
            })
        },
    );
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn batch_upload() {
    use serenytics::{BatchAction, BatchUpload, Row};
    let base = serve(Arc::new(|_: &str| Answer::Json(br#"{"status": "ok"}"#))).await;
    let http = serenytics::ClientConfig::new()
        .with_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let c = serenytics::Client::new_with_client(&base, http, serenytics::Auth::api_key("k"));
    reset_peak_rss();
    let start_rss = proc_kib("VmRSS");
    let mut samples = Vec::new();
    let rows = futures::stream::iter(0..BATCH_ROWS).map(|i| {
        if i % 100_000 == 0 {
            samples.push((i, proc_kib("VmRSS")));
        }
        let mut row = Row::new();
        row.insert("id".into(), serde_json::json!(i));
        row.insert(
            "country".into(),
            serde_json::json!(COUNTRIES[(i % 4) as usize]),
        );
        row.insert(
            "name".into(),
            serde_json::json!(format!("customer {}", i % 1000)),
        );
        row.insert("quantity".into(), serde_json::json!(i % 17));
        row
    });
    let t = Instant::now();
    let report = BatchUpload::new(&c, uuid::Uuid::nil())
        .chunk_rows(CHUNK)
        .run(BatchAction::Insert, rows)
        .await;
    let elapsed = t.elapsed();
    let confirmed = report.into_result().unwrap();
    assert_eq!(confirmed, BATCH_ROWS);
    let peak = proc_kib("VmHWM");
    let line: Vec<String> = samples
        .iter()
        .map(|(i, kib)| format!("{}k:{:.1}", i / 1000, mib(*kib)))
        .collect();
    println!(
        "serenytics batch upload: {confirmed} rows in chunks of {CHUNK}, {:.2} s, {:.0} rows/s",
        elapsed.as_secs_f64(),
        confirmed as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  RSS (MiB) at row: start:{:.1} {}; peak {:.1} MiB",
        mib(start_rss),
        line.join(" "),
        mib(peak)
    );
    let section = "streaming: Serenytics batch upload, 1 000 000 rows";
    result(
        section,
        "rows/s",
        confirmed as f64 / elapsed.as_secs_f64(),
        "rows/s",
    );
    result(section, "peak RSS", mib(peak), "MiB");
    result(
        section,
        "peak RSS growth",
        mib(peak.saturating_sub(start_rss)),
        "MiB",
    );
}

async fn archive_download() {
    use scout::ArchiveExt;
    let base = serve(Arc::new(|line: &str| {
        if line.contains("/run_archives/") {
            Answer::Stream { len: ARCHIVE_BYTES }
        } else {
            Answer::Json(b"{}")
        }
    }))
    .await;
    let http = scout::ClientConfig::new()
        .with_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let c = scout::Client::new_with_client(&base, http, scout::Auth::none());
    let dir = std::env::temp_dir().join(format!("scout-archive-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.zip");
    reset_peak_rss();
    let start_rss = proc_kib("VmRSS");
    let t = Instant::now();
    let written = c.download_run_archive("run-1", &path).await.unwrap();
    let elapsed = t.elapsed();
    let peak = proc_kib("VmHWM");
    assert_eq!(written, ARCHIVE_BYTES);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), ARCHIVE_BYTES);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "scout run archive: {} MB to a file in {:.2} s ({:.0} MB/s); RSS start {:.1} MiB, peak {:.1} MiB",
        ARCHIVE_BYTES / 1_000_000,
        elapsed.as_secs_f64(),
        ARCHIVE_BYTES as f64 / 1e6 / elapsed.as_secs_f64(),
        mib(start_rss),
        mib(peak)
    );
    let section = "streaming: Scout 200 MB run archive";
    result(
        section,
        "MB/s",
        ARCHIVE_BYTES as f64 / 1e6 / elapsed.as_secs_f64(),
        "MB/s",
    );
    result(section, "peak RSS", mib(peak), "MiB");
    result(
        section,
        "peak RSS growth",
        mib(peak.saturating_sub(start_rss)),
        "MiB",
    );
}
