//! Decoding large answers: a ~10 MB TONalytica query result and a 20 000-row Serenytics
//! formatted-data answer, each into the generated types, against `serde_json::from_slice` of
//! the same bytes into the same types; peak memory of each over the body size.
//!
//! Three speeds per API: serde_json alone on bytes in memory; the client's decode path on a
//! response already received (the code the generated method runs after the last byte arrives:
//! the transport's buffer, then decoding); and whole calls over loopback, client against plain
//! `reqwest` + `serde_json`. Memory: each figure in a fresh child process, after a small warm-up
//! call on the same connection, as the peak RSS above the level before the decode.
//!
//! ```sh
//! cargo bench -p client-benches --bench decode [tonalytica|serenytics]
//! ```
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_benches::{leak, median, peak_growth, result, run_modes, runtime, serve, Answer};

const RUNS: usize = 15;

fn main() {
    run_modes(
        "DECODE_BENCH_MODE",
        &[
            "tonalytica-speed",
            "tonalytica-memory-serde_json",
            "tonalytica-memory-client",
            "tonalytica-memory-reqwest",
            "serenytics-speed",
            "serenytics-memory-serde_json",
            "serenytics-memory-client",
            "serenytics-memory-reqwest",
            "serenytics-memory-generated-send_checked",
        ],
        |mode| {
            runtime().block_on(async {
                match mode {
                    "tonalytica-speed" => tonalytica::speed().await,
                    "tonalytica-memory-serde_json" => tonalytica::memory("serde_json").await,
                    "tonalytica-memory-client" => tonalytica::memory("client").await,
                    "tonalytica-memory-reqwest" => tonalytica::memory("reqwest").await,
                    "serenytics-speed" => serenytics::speed().await,
                    "serenytics-memory-serde_json" => serenytics::memory("serde_json").await,
                    "serenytics-memory-client" => serenytics::memory("client").await,
                    "serenytics-memory-reqwest" => serenytics::memory("reqwest").await,
                    other => serenytics::memory(other).await,
                }
            })
        },
    );
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// Prints one speed line and its `RESULT`.
fn speed_line(section: &str, label: &str, bytes: usize, d: Duration) -> f64 {
    println!(
        "  {label:<64} {:>7.1} ms {:>6.0} MB/s",
        d.as_secs_f64() * 1e3,
        mb_per_s(bytes, d)
    );
    result(section, label, mb_per_s(bytes, d), "MB/s");
    d.as_secs_f64()
}

fn memory_line(section: &str, label: &str, growth: u64, body: usize, rows: usize) {
    println!(
        "  peak RSS growth, {label:<40} {:>6.1} MB = {:.2}x the {:.1} MB body ({rows} rows)",
        growth as f64 / 1e6,
        growth as f64 / body as f64,
        body as f64 / 1e6
    );
    result(
        section,
        &format!("peak memory / body, {label}"),
        growth as f64 / body as f64,
        "x",
    );
}

/// A received response around `body`, as the transport hands it to the generated code.
fn received(body: &bytes::Bytes) -> reqwest::Response {
    let mut response = http::Response::new(reqwest::Body::from(body.clone()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    reqwest::Response::from(response)
}

mod tonalytica {
    use super::*;
    use ::tonalytica::{types, Auth, Client, ClientConfig};
    use progenitor_client::ClientInfo;
    use progenitor_client::ResponseValue;

    const TARGET_BYTES: usize = 10_000_000;
    const SECTION: &str = "decode: TONalytica 10 MB query result";

    /// A query result of about 10 MB with the column kinds Redash sends, written as text in the
    /// server's formatting (`", "` and `": "` separators).
    pub fn body() -> Vec<u8> {
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

    async fn start(body: &'static [u8]) -> String {
        serve(Arc::new(move |line: &str| {
            if line.contains("/api/query_results/") {
                Answer::Json(body)
            } else {
                Answer::Json(b"{}")
            }
        }))
        .await
    }

    fn client(base: &str) -> Client {
        let http = ClientConfig::new()
            .with_timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        Client::new_with_client(base, http, Auth::api_key("bench-key"))
    }

    async fn fetch(c: &Client) -> types::QueryResultEnvelope {
        c.get_query_result()
            .query_result_id(11)
            .send()
            .await
            .unwrap()
            .into_inner()
    }

    fn rows(r: &types::QueryResultEnvelope) -> usize {
        r.query_result.data.as_ref().map_or(0, |d| d.rows.len())
    }

    pub async fn speed() {
        let bytes = body();
        let shared = bytes::Bytes::from(bytes.clone());
        let body: &'static [u8] = leak(bytes);
        let n = body.len();
        let base = start(body).await;
        let c = client(&base);
        let plain = reqwest::Client::new();
        let url = format!("{base}/api/query_results/11");
        let row_count = rows(&fetch(&c).await);
        let (mut raw, mut path, mut call, mut plain_call) = (vec![], vec![], vec![], vec![]);
        for _ in 0..RUNS {
            let t = Instant::now();
            let parsed: types::QueryResultEnvelope = serde_json::from_slice(body).unwrap();
            raw.push(t.elapsed());
            std::hint::black_box(parsed);

            let t = Instant::now();
            let parsed =
                ResponseValue::<types::QueryResultEnvelope>::from_response::<()>(received(&shared))
                    .await
                    .unwrap();
            path.push(t.elapsed());
            std::hint::black_box(parsed);

            let t = Instant::now();
            std::hint::black_box(fetch(&c).await);
            call.push(t.elapsed());

            let t = Instant::now();
            let b = plain.get(&url).send().await.unwrap().bytes().await.unwrap();
            let parsed: types::QueryResultEnvelope = serde_json::from_slice(&b).unwrap();
            plain_call.push(t.elapsed());
            std::hint::black_box(parsed);
        }
        println!("{SECTION}: {n} bytes, {row_count} rows, median of {RUNS}");
        let raw = speed_line(
            SECTION,
            "serde_json::from_slice (bytes in memory)",
            n,
            median(raw),
        );
        let path = speed_line(
            SECTION,
            "client decode path (response received)",
            n,
            median(path),
        );
        let call = speed_line(SECTION, "client call over loopback", n, median(call));
        let plain = speed_line(
            SECTION,
            "reqwest + serde_json call over loopback",
            n,
            median(plain_call),
        );
        ratios(SECTION, raw, path, call, plain);
    }

    pub async fn memory(mode: &str) {
        let bytes = body();
        let n = bytes.len();
        if mode == "serde_json" {
            let (growth, r) = peak_growth(async {
                serde_json::from_slice::<types::QueryResultEnvelope>(&bytes).unwrap()
            })
            .await;
            memory_line(SECTION, "serde_json::from_slice", growth, n, rows(&r));
            return;
        }
        let base = start(leak(bytes)).await;
        let c = client(&base);
        let _ = c.get_config().send().await; // warm the connection
        if mode == "client" {
            let (growth, r) = peak_growth(fetch(&c)).await;
            memory_line(SECTION, "client call", growth, n, rows(&r));
        } else {
            let url = format!("{base}/api/query_results/11");
            let (growth, r) = peak_growth(async {
                let b = c
                    .client()
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                serde_json::from_slice::<types::QueryResultEnvelope>(&b).unwrap()
            })
            .await;
            memory_line(SECTION, "reqwest + serde_json call", growth, n, rows(&r));
        }
    }
}

fn ratios(section: &str, raw: f64, path: f64, call: f64, plain: f64) {
    println!(
        "  throughput ratios: decode path / serde_json {:.2} (goal >= 0.9); call / reqwest+serde_json call {:.2}; call / serde_json alone {:.2}",
        raw / path,
        plain / call,
        raw / call
    );
    result(section, "ratio decode path / serde_json", raw / path, "x");
    result(
        section,
        "ratio call / reqwest+serde_json call",
        plain / call,
        "x",
    );
    result(section, "ratio call / serde_json alone", raw / call, "x");
}

mod serenytics {
    use super::*;
    use ::serenytics::{
        decode_formatted_data, types, Auth, CheckedSend, Client, ClientConfig, FormattedDataExt,
    };
    use progenitor_client::ClientInfo;

    const ROWS: usize = 20_000;
    const COUNTRIES: [&str; 4] = ["FR", "US", "UK", "DE"];
    const SECTION: &str = "decode: Serenytics 20 000-row formatted data";

    /// A 20 000-row answer with six columns of the kinds the server sends.
    pub fn body() -> Vec<u8> {
        let mut out = Vec::with_capacity(1 << 21);
        out.extend_from_slice(
            br#"{"status": "ok", "columns_titles": [{"name": "Date", "type": "datetime", "datetime_format": "%Y-%m-%d"}, {"name": "Country", "type": "str"}, {"name": "Category", "type": "str"}, {"name": "Quantity", "type": "int"}, {"name": "Price", "type": "float"}, {"name": "Flag", "type": "str"}], "data": ["#,
        );
        for i in 0..ROWS {
            let flag = match (i % 10, i % 3) {
                (0, _) => "null",
                (_, 0) => "true",
                _ => "false",
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

    async fn start(body: &'static [u8]) -> String {
        serve(Arc::new(move |line: &str| {
            if line.starts_with("POST /api/formatted_data/") {
                Answer::Json(body)
            } else {
                Answer::Json(br#"{"status": "pending"}"#)
            }
        }))
        .await
    }

    fn client(base: &str) -> Client {
        let http = ClientConfig::new()
            .with_timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        Client::new_with_client(base, http, Auth::api_key("bench-key"))
    }

    fn rows(r: &types::FormattedDataResult) -> usize {
        r.data.as_ref().map_or(0, |d| d.len())
    }

    pub async fn speed() {
        let bytes = body();
        let shared = bytes::Bytes::from(bytes.clone());
        let body: &'static [u8] = leak(bytes);
        let n = body.len();
        let base = start(body).await;
        let c = client(&base);
        let request = types::FormattedDataRequest::default();
        let uuid = uuid::Uuid::nil();
        let plain = reqwest::Client::new();
        let url = format!("{base}/api/formatted_data/{uuid}");
        let (mut raw, mut path, mut call, mut plain_call) = (vec![], vec![], vec![], vec![]);
        for _ in 0..RUNS * 2 {
            let t = Instant::now();
            let parsed: types::FormattedDataResult = serde_json::from_slice(body).unwrap();
            raw.push(t.elapsed());
            assert_eq!(rows(&parsed), ROWS);

            let t = Instant::now();
            let parsed = decode_formatted_data(&received(&shared).bytes().await.unwrap()).unwrap();
            path.push(t.elapsed());
            assert_eq!(rows(&parsed), ROWS);

            let t = Instant::now();
            let parsed = c.formatted_data(uuid, &request).await.unwrap();
            call.push(t.elapsed());
            assert_eq!(rows(&parsed), ROWS);

            let t = Instant::now();
            let b = plain
                .post(&url)
                .json(&request)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let parsed: types::FormattedDataResult = serde_json::from_slice(&b).unwrap();
            plain_call.push(t.elapsed());
            assert_eq!(rows(&parsed), ROWS);
        }
        println!("{SECTION}: {n} bytes, {ROWS} rows, median of {}", RUNS * 2);
        let raw = speed_line(
            SECTION,
            "serde_json::from_slice (bytes in memory)",
            n,
            median(raw),
        );
        let path = speed_line(
            SECTION,
            "client decode path (response received)",
            n,
            median(path),
        );
        let call = speed_line(SECTION, "client call over loopback", n, median(call));
        let plain = speed_line(
            SECTION,
            "reqwest + serde_json call over loopback",
            n,
            median(plain_call),
        );
        ratios(SECTION, raw, path, call, plain);
    }

    pub async fn memory(mode: &str) {
        let bytes = body();
        let n = bytes.len();
        let request = types::FormattedDataRequest::default();
        let uuid = uuid::Uuid::nil();
        if mode == "serde_json" {
            let (growth, r) = peak_growth(async {
                serde_json::from_slice::<types::FormattedDataResult>(&bytes).unwrap()
            })
            .await;
            memory_line(SECTION, "serde_json::from_slice", growth, n, rows(&r));
            return;
        }
        let base = start(leak(bytes)).await;
        let c = client(&base);
        let _ = c.get_task().task_id("warm").send().await; // warm the connection
        if mode == "client" {
            let (growth, r) = peak_growth(c.formatted_data(uuid, &request)).await;
            memory_line(
                SECTION,
                "client.formatted_data()",
                growth,
                n,
                rows(&r.unwrap()),
            );
        } else if mode == "reqwest" {
            let url = format!("{base}/api/formatted_data/{uuid}");
            let (growth, r) = peak_growth(async {
                let b = c
                    .client()
                    .post(&url)
                    .json(&request)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                serde_json::from_slice::<types::FormattedDataResult>(&b).unwrap()
            })
            .await;
            memory_line(SECTION, "reqwest + serde_json call", growth, n, rows(&r));
        } else {
            let call = c
                .query_formatted_data()
                .uuid(uuid)
                .body(request)
                .send_checked();
            let (growth, r) = peak_growth(call).await;
            memory_line(
                SECTION,
                "generated query_formatted_data().send_checked()",
                growth,
                n,
                rows(&r.unwrap()),
            );
        }
    }
}
