//! The issue's decode benchmark (not a test; nothing asserts on time): a ~10 MB
//! `{"query_result": …}` body decoded by the client end to end (a loopback server serves the
//! bytes) against `serde_json::from_slice` of the same bytes into the same type, and the peak
//! resident memory of each over the body size.
//!
//! Memory is `VmHWM` from `/proc/self/status`, a process-wide high-water mark, so each memory
//! measurement runs in a fresh child process of this binary.
//!
//! ```sh
//! cargo bench -p tonalytica --bench decode_result
//! ```
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tonalytica::{types, Auth, Client, ClientConfig};

const TARGET_BYTES: usize = 10_000_000;
const RUNS: u32 = 15;

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

/// A query result of about 10 MB with the column kinds Redash sends, written straight into one
/// buffer (so that building it does not raise the memory high-water mark above the body).
fn body() -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(TARGET_BYTES + 64 * 1024);
    out.extend_from_slice(br#"{"query_result": {"id": 11, "query_hash": "9c0e2b6f5a4d3c2b1a0f9e8d7c6b5a49", "query": "SELECT * FROM users", "data": {"columns": [{"name": "id", "friendly_name": "id", "type": "integer"}, {"name": "email", "friendly_name": "email", "type": "string"}, {"name": "signed_up", "friendly_name": "signed_up", "type": "datetime"}, {"name": "revenue", "friendly_name": "revenue", "type": "float"}, {"name": "active", "friendly_name": "active", "type": "boolean"}, {"name": "country", "friendly_name": "country", "type": null}], "rows": ["#);
    let mut i = 0u64;
    while out.len() < TARGET_BYTES {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        let country = if i.is_multiple_of(10) {
            "null".to_string()
        } else {
            format!("\"{}\"", ["NL", "FR", "US"][(i % 3) as usize])
        };
        write!(
            out,
            r#"{{"id": {i}, "email": "user{i}@example.org", "signed_up": "2023-06-{:02}T10:{:02}:00.123Z", "revenue": {:?}, "active": {}, "country": {country}}}"#,
            i % 28 + 1,
            i % 60,
            i as f64 * 1.25,
            i.is_multiple_of(3)
        )
        .unwrap();
        i += 1;
    }
    out.extend_from_slice(
        br#"]}, "data_source_id": 1, "runtime": 1.5, "retrieved_at": "2023-06-09T10:12:15.204Z"}}"#,
    );
    out
}

/// HTTP/1.1 keep-alive server answering every GET with `answer`.
async fn serve(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer: &'static [u8] = Box::leak(answer.into_boxed_slice());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    }
                    pending.clear();
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
    let http = ClientConfig::new()
        .with_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    Client::new_with_client(base, http, Auth::api_key("bench-key"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn fetch(c: &Client) -> types::QueryResultEnvelope {
    c.get_query_result()
        .query_result_id(11)
        .send()
        .await
        .unwrap()
        .into_inner()
}

async fn speed() {
    let bytes = body();
    let base = serve(bytes.clone()).await;
    let c = client(&base);
    let rows = fetch(&c)
        .await
        .query_result
        .data
        .as_ref()
        .unwrap()
        .rows
        .len();
    let http = reqwest::Client::new();
    let url = format!("{base}/api/query_results/11");
    let (mut raw, mut via, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let body = http.get(&url).send().await.unwrap().bytes().await.unwrap();
        let parsed: types::QueryResultEnvelope = serde_json::from_slice(&body).unwrap();
        plain.push(t.elapsed());
        std::hint::black_box(parsed);
        let t = Instant::now();
        let parsed: types::QueryResultEnvelope = serde_json::from_slice(&bytes).unwrap();
        raw.push(t.elapsed());
        std::hint::black_box(parsed);
        let t = Instant::now();
        let parsed = fetch(&c).await;
        via.push(t.elapsed());
        std::hint::black_box(parsed);
    }
    let (raw, via, plain) = (median(raw), median(via), median(plain));
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "body: {} bytes, {rows} rows, median of {RUNS} runs",
        bytes.len()
    );
    println!(
        "serde_json::from_slice -> QueryResultEnvelope: {:.1} ms ({:.0} MB/s)",
        raw.as_secs_f64() * 1e3,
        mb / raw.as_secs_f64()
    );
    println!(
        "client get_query_result().send() over loopback: {:.1} ms ({:.0} MB/s)",
        via.as_secs_f64() * 1e3,
        mb / via.as_secs_f64()
    );
    println!(
        "plain reqwest get + bytes + serde_json::from_slice over loopback: {:.1} ms ({:.0} MB/s)",
        plain.as_secs_f64() * 1e3,
        mb / plain.as_secs_f64()
    );
    println!(
        "throughput ratio client / plain reqwest: {:.2}",
        plain.as_secs_f64() / via.as_secs_f64()
    );
    println!(
        "throughput ratio client / serde_json: {:.2} (issue target: >= 0.9)",
        raw.as_secs_f64() / via.as_secs_f64()
    );
}

async fn memory(through_client: bool) {
    let bytes = body();
    let size = bytes.len() as u64;
    let rows;
    let before;
    if through_client {
        let base = serve(bytes).await; // the server owns the only copy
        let c = client(&base);
        let _ = c.get_config().send().await; // warm the connection
        before = proc_kib("VmHWM:");
        rows = fetch(&c)
            .await
            .query_result
            .data
            .as_ref()
            .unwrap()
            .rows
            .len();
    } else {
        before = proc_kib("VmHWM:");
        let parsed: types::QueryResultEnvelope = serde_json::from_slice(&bytes).unwrap();
        rows = parsed.query_result.data.as_ref().unwrap().rows.len();
    }
    let peak = proc_kib("VmHWM:").saturating_sub(before) * 1024;
    println!(
        "{}: peak resident growth {:.1} MB for a {:.1} MB body ({:.2}x; {rows} rows)",
        if through_client {
            "client get_query_result().send()"
        } else {
            "serde_json::from_slice (body already in memory)"
        },
        peak as f64 / 1e6,
        size as f64 / 1e6,
        peak as f64 / size as f64
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match std::env::args().nth(1).as_deref() {
        Some("--child-speed") => runtime.block_on(speed()),
        Some("--child-memory-client") => runtime.block_on(memory(true)),
        Some("--child-memory-raw") => runtime.block_on(memory(false)),
        _ => {
            let me = std::env::current_exe().unwrap();
            for arg in [
                "--child-speed",
                "--child-memory-raw",
                "--child-memory-client",
            ] {
                let status = std::process::Command::new(&me).arg(arg).status().unwrap();
                assert!(status.success(), "{arg} failed");
            }
        }
    }
}
