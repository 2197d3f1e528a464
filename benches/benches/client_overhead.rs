//! Per-request overhead of a generated client against raw `reqwest` + `serde_json`, on the same
//! loopback server, same HTTP client settings and same response types. Run in release mode by
//! `cargo xtask bench` (or `cargo bench -p workspace-tests --bench client_overhead -- N`).
#![allow(clippy::unwrap_used)] // benchmark code: a failed unwrap is a failed run

use std::time::{Duration, Instant};

use monarc_stats::{types, Auth, ClientConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "bench-key";
const ID: &str = "5eb9ca210381f6f321022ae6";
const BLOCK: usize = 100;

fn main() {
    let requests: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(requests));
}

async fn run(requests: usize) {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let body = serde_json::json!({
        "uuid": "76a3999f-ab22-4008-a540-f68082f44cb2", "organization": "CASES",
        "anr": "00000000-0000-4000-8000-000000000002", "type": "risk",
        "day": 1, "week": 1, "month": 1, "year": 2020,
        "data": {"what": "you want", "super": "cool"},
        "created_at": "2020-05-11T21:56:49.584000", "updated_at": "2020-05-11T21:56:49.584000", "id": ID
    });
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/stats/{ID}/")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json"))
        .mount(&server)
        .await;

    let base = format!("{}/api/v2", server.uri());
    let http = ClientConfig::new().build().unwrap();
    let generated = monarc_stats::Client::new_with_client(&base, http.clone(), Auth::api_key(KEY));
    let raw_url = format!("{base}/stats/{ID}/");

    let generated_call = || async {
        let s = generated
            .get_stats()
            .id(ID)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(s.day, 1);
    };
    let raw_call = || async {
        let bytes = http
            .get(&raw_url)
            .header("x-api-key", KEY)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let s: types::Stats = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(s.day, 1);
    };

    // Profiling aid: `CLIENT_OVERHEAD_ONLY=raw|generated` runs one side only (e.g. under callgrind).
    if let Ok(only) = std::env::var("CLIENT_OVERHEAD_ONLY") {
        for _ in 0..requests {
            match only.as_str() {
                "raw" => raw_call().await,
                _ => generated_call().await,
            }
        }
        return;
    }

    // Warm up connections and allocators, then alternate blocks so drift hits both equally.
    for _ in 0..200 {
        generated_call().await;
        raw_call().await;
    }
    let (mut t_generated, mut t_raw) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..requests.div_ceil(BLOCK) {
        let start = Instant::now();
        for _ in 0..BLOCK {
            raw_call().await;
        }
        t_raw += start.elapsed();
        let start = Instant::now();
        for _ in 0..BLOCK {
            generated_call().await;
        }
        t_generated += start.elapsed();
    }
    let n = (requests.div_ceil(BLOCK) * BLOCK) as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n;
    println!("client overhead, sequential GET /stats/{{id}}/ on loopback, {n} requests each:");
    println!(
        "  raw reqwest + serde_json : {:8.1} µs/request  {:8.0} requests/s",
        per(t_raw),
        n / t_raw.as_secs_f64()
    );
    println!(
        "  monarc-stats (generated) : {:8.1} µs/request  {:8.0} requests/s",
        per(t_generated),
        n / t_generated.as_secs_f64()
    );
    println!(
        "  generated / raw time     : {:8.3}",
        t_generated.as_secs_f64() / t_raw.as_secs_f64()
    );
}
