//! The issue's benchmark (not a test; nothing here asserts on time):
//!
//! 1. Decoding a 20 000-row `formatted_data` answer: the client end to end (a loopback server
//!    serves the bytes) against `serde_json::from_slice` of the same bytes into the same type
//!    outside the client; peak memory of the client call over the body size.
//! 2. A batch upload of 1 000 000 rows through `BatchUpload` to a loopback server that discards
//!    the bodies: rows/s and resident memory along the way (flat means bounded).
//!
//! The baseline for (1) is serde_json decoding into the generated `FormattedDataResponse` (an
//! untagged enum, which serde buffers before choosing a variant); `decode_formatted_data` is the
//! crate's single-pass decoder into the same result type, which `client.formatted_data()` uses.
//!
//! Memory is read from `/proc/self/status` (`VmRSS`, `VmHWM`), so each measurement runs in a
//! fresh child process of this binary (`VmHWM` is a process-wide high-water mark).
//!
//! ```sh
//! cargo bench -p serenytics --bench formatted_data
//! ```
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use serenytics::{
    decode_formatted_data, types, Auth, BatchAction, BatchUpload, CheckedSend, Client,
    FormattedDataExt, Row,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ROWS: usize = 20_000;
const BATCH_ROWS: u64 = 1_000_000;
const CHUNK: usize = 10_000;
const DECODE_RUNS: u32 = 20;
const COUNTRIES: [&str; 4] = ["FR", "US", "UK", "DE"];

/// `VmRSS` or `VmHWM` in KiB (0 when /proc is unavailable).
fn proc_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// A 20 000-row answer with six columns of the kinds the server sends. Written as text (no
/// intermediate JSON tree), so that building it leaves no freed heap for the decode to reuse
/// unseen by the RSS figures.
fn body() -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(1 << 20);
    out.extend_from_slice(
        br#"{"status": "ok", "columns_titles": [{"name": "Date", "type": "datetime", "datetime_format": "%Y-%m-%d"}, {"name": "Country", "type": "str"}, {"name": "Category", "type": "str"}, {"name": "Quantity", "type": "int"}, {"name": "Price", "type": "float"}, {"name": "Flag", "type": "str"}], "data": ["#,
    );
    for i in 0..ROWS {
        let flag = if i % 10 == 0 {
            "null"
        } else if i % 3 == 0 {
            "true"
        } else {
            "false"
        };
        write!(
            out,
            r#"{}["2024-{:02}-{:02}", "{}", "Category {}", {}, {:?}, {flag}]"#,
            if i == 0 { "" } else { ", " },
            i % 12 + 1,
            i % 28 + 1,
            COUNTRIES[i % 4],
            i % 37,
            i as i64 * 7,
            i as f64 * 1.25,
        )
        .unwrap();
    }
    out.extend_from_slice(b"]}");
    out
}

/// A minimal HTTP/1.1 keep-alive server: reads each request (headers, then `content-length`
/// bytes, discarded) and answers `answer` with `content-type: application/json`.
async fn serve(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer: &'static [u8] = Box::leak(answer.into_boxed_slice());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    // Headers.
                    let end = loop {
                        if let Some(p) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    pending.drain(..end);
                    // Body, discarded as it arrives.
                    let mut left = length;
                    let take = left.min(pending.len());
                    pending.drain(..take);
                    left -= take;
                    while left > 0 {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                let used = n.min(left);
                                left -= used;
                                pending.extend_from_slice(&buf[used..n]);
                            }
                        }
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    );
                    if socket.write_all(head.as_bytes()).await.is_err()
                        || socket.write_all(answer).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn client(base: &str) -> Client {
    Client::new_with_client(
        base,
        serenytics::ClientConfig::new()
            .with_timeout(Duration::from_secs(600))
            .build()
            .unwrap(),
        Auth::api_key("bench-key"),
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Child: median of `DECODE_RUNS` decodes of the same body, four ways.
async fn decode_speed() {
    let bytes = body();
    let base = serve(bytes.clone()).await;
    let c = client(&base);
    let uuid = uuid::Uuid::nil();
    let request = types::FormattedDataRequest::default();
    let (mut generated, mut direct, mut fast, mut checked) = (vec![], vec![], vec![], vec![]);
    for _ in 0..DECODE_RUNS {
        let t = Instant::now();
        let parsed: types::FormattedDataResponse = serde_json::from_slice(&bytes).unwrap();
        generated.push(t.elapsed());
        std::hint::black_box(parsed);

        let t = Instant::now();
        let parsed = decode_formatted_data(&bytes).unwrap();
        direct.push(t.elapsed());
        std::hint::black_box(parsed);

        let t = Instant::now();
        let result = c.formatted_data(uuid, &request).await.unwrap();
        fast.push(t.elapsed());
        assert_eq!(result.data.as_ref().map_or(0, |d| d.len()), ROWS);

        let t = Instant::now();
        let result = c
            .query_formatted_data()
            .uuid(uuid)
            .body(request.clone())
            .send_checked()
            .await
            .unwrap();
        checked.push(t.elapsed());
        assert_eq!(result.data.as_ref().map_or(0, |d| d.len()), ROWS);
    }
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "body: {} bytes, {ROWS} rows, median of {DECODE_RUNS} runs",
        bytes.len()
    );
    let show = |label: &str, d: Duration| {
        println!(
            "  {label:<68} {:>6.1} ms {:>5.0} MB/s",
            d.as_secs_f64() * 1e3,
            mb / d.as_secs_f64()
        );
        d.as_secs_f64()
    };
    let generated = show(
        "serde_json::from_slice::<FormattedDataResponse> (no client)",
        median(generated),
    );
    let direct = show(
        "serde_json via decode_formatted_data (no client)",
        median(direct),
    );
    let fast = show("client.formatted_data() over loopback", median(fast));
    let checked = show(
        "client.query_formatted_data().send_checked() over loopback",
        median(checked),
    );
    println!(
        "  throughput ratios: formatted_data()/serde_json-generated {:.2}, formatted_data()/serde_json-direct {:.2}, send_checked()/serde_json-generated {:.2}",
        generated / fast,
        direct / fast,
        generated / checked
    );
}

/// Child: one decode, peak resident memory over the baseline, against the body size.
async fn decode_memory(mode: &str) {
    let bytes = body();
    let size = bytes.len() as u64;
    let base = serve(bytes.clone()).await;
    let c = client(&base);
    // Warm the runtime and allocator with a small call to another server first (this server
    // answers every request with the large body).
    let small = serve(br#"{"status": "pending"}"#.to_vec()).await;
    let _ = client(&small).get_task().task_id("warm").send().await;
    let request = types::FormattedDataRequest::default();
    // Reset the high-water mark (building the body peaked above what is measured here).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = proc_kib("VmRSS");
    let rows = match mode {
        "generated" => {
            match serde_json::from_slice::<types::FormattedDataResponse>(&bytes).unwrap() {
                types::FormattedDataResponse::FormattedDataResult(r) => r.data.as_ref().map_or(0, |d| d.len()),
                types::FormattedDataResponse::ApplicationError(_) => 0,
            }
        }
        "direct" => decode_formatted_data(&bytes).unwrap().data.map_or(0, |d| d.len()),
        "client-fast" => c
            .formatted_data(uuid::Uuid::nil(), &request)
            .await
            .unwrap()
            .data
            .map_or(0, |d| d.len()),
        _ => c
            .query_formatted_data()
            .uuid(uuid::Uuid::nil())
            .body(request)
            .send_checked()
            .await
            .unwrap()
            .data
            .map_or(0, |d| d.len()),
    };
    let peak = proc_kib("VmHWM");
    let extra = peak.saturating_sub(before) * 1024;
    println!(
        "  peak RSS above baseline, {mode:<15} {rows} rows: {:>5.1} MB = {:.2}x the {:.2} MB body{}",
        extra as f64 / 1e6,
        extra as f64 / size as f64,
        size as f64 / 1e6,
        if reset { "" } else { " (VmHWM not reset: figure includes building the body)" }
    );
}

/// Child: 1 000 000 rows through `BatchUpload`, RSS sampled every 100 000 rows.
async fn batch_upload() {
    let base = serve(br#"{"status": "ok"}"#.to_vec()).await;
    let c = client(&base);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start_rss = proc_kib("VmRSS");
    let mut samples = Vec::new();
    let rows = futures::stream::iter(0..BATCH_ROWS).map(|i| {
        if i % 100_000 == 0 {
            samples.push((i, proc_kib("VmRSS")));
        }
        let mut row = Row::new();
        row.insert("id".into(), json!(i));
        row.insert("country".into(), json!(COUNTRIES[(i % 4) as usize]));
        row.insert("name".into(), json!(format!("customer {}", i % 1000)));
        row.insert("quantity".into(), json!(i % 17));
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
    println!(
        "batch upload: {confirmed} rows in {} chunks of {CHUNK}, {:.2} s, {:.0} rows/s",
        BATCH_ROWS as usize / CHUNK,
        elapsed.as_secs_f64(),
        confirmed as f64 / elapsed.as_secs_f64()
    );
    let line: Vec<String> = samples
        .iter()
        .map(|(i, kib)| format!("{}k:{:.1}", i / 1000, *kib as f64 / 1024.0))
        .collect();
    println!(
        "RSS (MiB) at row: start:{:.1} {}",
        start_rss as f64 / 1024.0,
        line.join(" ")
    );
    println!(
        "peak RSS (VmHWM): {:.1} MiB",
        proc_kib("VmHWM") as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Ok(mode) = std::env::var("SERENYTICS_BENCH_CHILD") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            match mode.as_str() {
                "speed" => decode_speed().await,
                m if m.starts_with("memory-") => decode_memory(&m["memory-".len()..]).await,
                "batch" => batch_upload().await,
                other => panic!("unknown mode {other}"),
            }
        });
        return;
    }
    // `cargo bench` passes `--bench`; ignore arguments.
    let _ = args;
    let exe = std::env::current_exe().unwrap();
    for mode in [
        "speed",
        "memory-generated",
        "memory-direct",
        "memory-client-fast",
        "memory-client-checked",
        "batch",
    ] {
        let out = std::process::Command::new(&exe)
            .env("SERENYTICS_BENCH_CHILD", mode)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!("{mode} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
