//! Requests per second of each generated client against raw `reqwest` + `serde_json` on the same
//! loopback server, with the same HTTP client, credential header and response type: sequential
//! calls, and 32 calls in flight. The raw side formats each request's URL, as a caller with an id
//! must, but does not check the id.
//!
//! Each side runs in processes of its own, raw and generated alternating, [`PROCESSES`] of each:
//! run in one process, either side's rounds changed the other's (an A/A run of the generated
//! client against itself measured 1.00, while raw ran faster after generated rounds than it ran
//! alone). A process warms up (connections included) and then times rounds of calls; its rate is
//! that of its median round, and a side's rate is the median over its processes.
//!
//! ```sh
//! cargo bench -p client-benches --bench throughput [-- N]   # N requests per side (default 4000)
//! ```
//! `THROUGHPUT_ONLY=<part of a name>` compares only the clients whose name contains it;
//! `THROUGHPUT_ROUNDS=1` also prints each process's rate.
//! `CLIENT_OVERHEAD_ONLY=raw|generated` runs only one API's calls, for callgrind: MONARC's, or
//! `CLIENT_OVERHEAD_API=tonalytica|scanalytics`; sequential, or 32 in flight with
//! `CLIENT_OVERHEAD_CONCURRENT=1`.
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_benches::{median, result, serve_on_own_thread, Answer};
use futures::StreamExt;

/// Processes per side.
const PROCESSES: usize = 5;

/// Set in a child process: the side it measures.
const SIDE: &str = "THROUGHPUT_SIDE";

const BLOCK: usize = 100;
const CONCURRENCY: usize = 32;
const KEY: &str = "bench-key";

const MONARC_STATS: &[u8] = br#"{"uuid": "76a3999f-ab22-4008-a540-f68082f44cb2", "organization": "CASES", "anr": "00000000-0000-4000-8000-000000000002", "type": "risk", "day": 1, "week": 1, "month": 1, "year": 2020, "data": {"what": "you want", "super": "cool"}, "created_at": "2020-05-11T21:56:49.584000", "updated_at": "2020-05-11T21:56:49.584000", "id": "5eb9ca210381f6f321022ae6"}"#;
const TONALYTICA_JOB: &[u8] = br#"{"job": {"id": "9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11", "updated_at": 0, "status": 1, "error": "", "result": null, "query_result_id": null}}"#;
const SERENYTICS_TASK: &[u8] = br#"{"status": "pending"}"#;
const DATA_API_SOURCES: &[u8] =
    br#"[{"uuid": "3f1c1c2e-0d4b-4b8e-9a51-6f1f2b7c9d10", "name": "sales"}]"#;
const SCOUT_ROBOT: &[u8] =
    br#"{"robotIndex": 0, "hostname": "192.168.80.3", "nickname": "spot1", "username": "scout"}"#;
const SCANALYTICS_USER: &[u8] = br#"{"email": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe", "timezone": "America/Chicago"}"#;

fn main() {
    let requests: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4000);
    let child = std::env::var(SIDE).is_ok() || std::env::var_os("CLIENT_OVERHEAD_ONLY").is_some();
    if !child {
        run_processes(requests);
        return;
    }
    // The client on this thread, the server on another: one core each.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(requests));
}

async fn run(n: usize) {
    let base = serve_on_own_thread(Arc::new(|line: &str| {
        let path = line.split(' ').nth(1).unwrap_or_default();
        Answer::Json(if path.starts_with("/api/v2/stats/") {
            MONARC_STATS
        } else if path.starts_with("/api/jobs/") {
            TONALYTICA_JOB
        } else if path.starts_with("/api/task/") {
            SERENYTICS_TASK
        } else if path.starts_with("/datasources_list") {
            DATA_API_SOURCES
        } else if path.starts_with("/robots/") {
            SCOUT_ROBOT
        } else if path.starts_with("/v1/whoami") {
            SCANALYTICS_USER
        } else {
            b"{}"
        })
    }));
    let http = analytics_auth::ClientConfig::new().build().unwrap();
    // A hand-written call formats its URL from the id it is given, as the generated one does.
    let raw = |path: &'static str, header: &'static str, value: &'static str| {
        let http = http.clone();
        let base = base.clone();
        move || {
            let request = http
                .get(format!("{base}{path}"))
                .header(header, value)
                .header("accept", "application/json");
            async move {
                request
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            }
        }
    };

    if let Ok(only) = std::env::var("CLIENT_OVERHEAD_ONLY") {
        let generated = only == "generated";
        match std::env::var("CLIENT_OVERHEAD_API").as_deref() {
            Ok("tonalytica") => {
                let c = tonalytica::Client::new_with_client(
                    &base,
                    http.clone(),
                    tonalytica::Auth::api_key(KEY),
                );
                let raw_call = raw(
                    "/api/jobs/9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11",
                    "authorization",
                    "Key bench-key",
                );
                overhead_loop(n, || async {
                    if generated {
                        c.get_job().job_id(JOB_ID).send().await.unwrap();
                    } else {
                        let b = raw_call().await;
                        serde_json::from_slice::<tonalytica::types::JobEnvelope>(&b).unwrap();
                    }
                })
                .await;
            }
            Ok("scanalytics") => {
                let c = scanalytics::Client::new_with_client(
                    &base,
                    http.clone(),
                    analytics_auth::Auth::custom(StaticBearer),
                );
                let raw_call = raw("/v1/whoami", "authorization", "Bearer bench-token");
                overhead_loop(n, || async {
                    if generated {
                        c.get_current_user().send().await.unwrap();
                    } else {
                        let b = raw_call().await;
                        serde_json::from_slice::<scanalytics::types::CurrentUser>(&b).unwrap();
                    }
                })
                .await;
            }
            _ => {
                let c = monarc_stats::Client::new_with_client(
                    &format!("{base}/api/v2"),
                    http.clone(),
                    monarc_stats::Auth::api_key(KEY),
                );
                let raw_call = raw("/api/v2/stats/5eb9ca210381f6f321022ae6/", "x-api-key", KEY);
                overhead_loop(n, || async {
                    if generated {
                        c.get_stats().id(STATS_ID).send().await.unwrap();
                    } else {
                        let b = raw_call().await;
                        serde_json::from_slice::<monarc_stats::types::Stats>(&b).unwrap();
                    }
                })
                .await;
            }
        }
        return;
    }

    {
        let c = monarc_stats::Client::new_with_client(
            &format!("{base}/api/v2"),
            http.clone(),
            monarc_stats::Auth::api_key(KEY),
        );
        let raw_call = raw("/api/v2/stats/5eb9ca210381f6f321022ae6/", "x-api-key", KEY);
        compare(
            "monarc-stats get_stats",
            n,
            || async {
                assert_eq!(c.get_stats().id(STATS_ID).send().await.unwrap().day, 1);
            },
            || async {
                let b = raw_call().await;
                let s: monarc_stats::types::Stats = serde_json::from_slice(&b).unwrap();
                assert_eq!(s.day, 1);
            },
        )
        .await;
    }
    {
        let c = tonalytica::Client::new_with_client(
            &base,
            http.clone(),
            tonalytica::Auth::api_key(KEY),
        );
        let raw_call = raw(
            "/api/jobs/9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11",
            "authorization",
            "Key bench-key",
        );
        compare(
            "tonalytica get_job",
            n,
            || async {
                c.get_job().job_id(JOB_ID).send().await.unwrap();
            },
            || async {
                let b = raw_call().await;
                serde_json::from_slice::<tonalytica::types::JobEnvelope>(&b).unwrap();
            },
        )
        .await;
    }
    {
        let c = serenytics::Client::new_with_client(
            &base,
            http.clone(),
            serenytics::Auth::api_key(KEY),
        );
        let raw_call = raw("/api/task/task-1", "x-api-key", KEY);
        compare(
            "serenytics get_task",
            n,
            || async {
                c.get_task().task_id("task-1").send().await.unwrap();
            },
            || async {
                let b = raw_call().await;
                serde_json::from_slice::<serenytics::types::Task>(&b).unwrap();
            },
        )
        .await;
    }
    {
        let c = serenytics_data_api::Client::new_with_client(
            &base,
            http.clone(),
            serenytics_data_api::Auth::api_key(KEY),
        );
        let raw_call = raw("/datasources_list", "x-api-key", KEY);
        compare(
            "serenytics-data-api list_datasources",
            n,
            || async {
                c.list_datasources().send().await.unwrap();
            },
            || async {
                let b = raw_call().await;
                serde_json::from_slice::<serenytics_data_api::types::DatasourcesList>(&b).unwrap();
            },
        )
        .await;
    }
    {
        // Scout's credential is a session cookie; neither side sends one here.
        let c = scout::Client::new_with_client(&base, http.clone(), scout::Auth::none());
        let raw_call = raw("/robots/spot1", "x-bench", "none");
        compare(
            "scout get_robot",
            n,
            || async {
                c.get_robot().robot_hostname("spot1").send().await.unwrap();
            },
            || async {
                let b = raw_call().await;
                serde_json::from_slice::<scout::types::Robot>(&b).unwrap();
            },
        )
        .await;
    }
    {
        let c = scanalytics::Client::new_with_client(
            &base,
            http.clone(),
            analytics_auth::Auth::custom(StaticBearer),
        );
        let raw_call = raw("/v1/whoami", "authorization", "Bearer bench-token");
        compare(
            "scanalytics get_current_user",
            n,
            || async {
                c.get_current_user().send().await.unwrap();
            },
            || async {
                let b = raw_call().await;
                serde_json::from_slice::<scanalytics::types::CurrentUser>(&b).unwrap();
            },
        )
        .await;
    }
}

const STATS_ID: &str = "5eb9ca210381f6f321022ae6";
const JOB_ID: &str = "9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11";

/// An OAuth2 access token that never expires (the token endpoint is not what is measured).
#[derive(Debug)]
struct StaticBearer;

impl analytics_auth::Authorizer for StaticBearer {
    fn satisfies(&self, scheme: &analytics_auth::SecurityScheme) -> bool {
        matches!(scheme.kind, analytics_auth::SchemeKind::OAuth2)
    }

    fn authorize<'a>(
        &'a self,
        _scheme: &'a analytics_auth::SecurityScheme,
        request: &'a mut reqwest::Request,
    ) -> futures::future::BoxFuture<'a, Result<(), analytics_auth::AuthError>> {
        request.headers_mut().insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_static("Bearer bench-token"),
        );
        analytics_auth::authorized(Ok(()))
    }
}

/// In a child process: sequential and 32-in-flight requests/s of the side it measures, as
/// `RATE<TAB>name<TAB>mode<TAB>side<TAB>rate` lines. The rate is that of the median round, so that a
/// pause of the machine in one round does not decide it.
async fn compare<G, GF, R, RF>(name: &str, n: usize, generated: G, raw: R)
where
    G: Fn() -> GF,
    GF: Future<Output = ()>,
    R: Fn() -> RF,
    RF: Future<Output = ()>,
{
    if std::env::var("THROUGHPUT_ONLY").is_ok_and(|only| !name.contains(&only)) {
        return;
    }
    match std::env::var(SIDE).as_deref() {
        Ok("generated") => measure(name, n, "generated", generated).await,
        _ => measure(name, n, "raw", raw).await,
    }
}

async fn measure<F: Fn() -> Fut, Fut: Future<Output = ()>>(
    name: &str,
    n: usize,
    side: &str,
    call: F,
) {
    for _ in 0..200 {
        call().await;
    }
    let mut times = Vec::new();
    for _ in 0..n.div_ceil(BLOCK) {
        times.push(sequential(&call).await);
    }
    println!(
        "RATE\t{name}\tsequential\t{side}\t{}",
        BLOCK as f64 / median(times).as_secs_f64()
    );
    // The pool grows from one connection to 32 in the first concurrent rounds; connecting is not
    // what is measured.
    for _ in 0..2 {
        concurrent(&call).await;
    }
    let mut times = Vec::new();
    for _ in 0..n.div_ceil(CONCURRENT_ROUND).max(3) {
        times.push(concurrent(&call).await);
    }
    println!(
        "RATE\t{name}\t32 concurrent\t{side}\t{}",
        CONCURRENT_ROUND as f64 / median(times).as_secs_f64()
    );
}

/// The parent: [`PROCESSES`] child processes per side, alternating (the side that starts
/// alternates too), each measuring every client; then one line per client and mode.
fn run_processes(n: usize) {
    println!(
        "requests/s on loopback, {n} requests per side in {PROCESSES} processes each, generated client vs reqwest + serde_json:"
    );
    let exe = std::env::current_exe().unwrap();
    let per_process = n.div_ceil(PROCESSES).to_string();
    // (name, mode) in the order the children print them, and every rate of each side.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut rates: std::collections::HashMap<(String, String, String), Vec<f64>> =
        std::collections::HashMap::new();
    for process in 0..PROCESSES {
        let sides = if process % 2 == 0 {
            ["raw", "generated"]
        } else {
            ["generated", "raw"]
        };
        for side in sides {
            let out = std::process::Command::new(&exe)
                .arg(&per_process)
                .env(SIDE, side)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{side} process failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let fields: Vec<&str> = line.split('\t').collect();
                let ["RATE", name, mode, side, rate] = fields[..] else {
                    continue;
                };
                let key = (name.to_string(), mode.to_string());
                if !order.contains(&key) {
                    order.push(key);
                }
                let rate: f64 = rate.parse().unwrap();
                rates
                    .entry((name.into(), mode.into(), side.into()))
                    .or_default()
                    .push(rate);
            }
        }
    }
    for (name, mode) in order {
        let mut side = |s: &str| {
            rates
                .remove(&(name.clone(), mode.clone(), s.to_string()))
                .unwrap_or_default()
        };
        let (raw, generated) = (side("raw"), side("generated"));
        report(&name, &mode, raw, generated);
    }
}

/// `n` calls for callgrind: one after the other, or `CLIENT_OVERHEAD_CONCURRENT=1` for
/// [`CONCURRENCY`] in flight.
async fn overhead_loop<F: Fn() -> Fut, Fut: Future<Output = ()>>(n: usize, call: F) {
    if std::env::var_os("CLIENT_OVERHEAD_CONCURRENT").is_some() {
        futures::stream::iter(0..n)
            .for_each_concurrent(CONCURRENCY, |_| call())
            .await;
    } else {
        for _ in 0..n {
            call().await;
        }
    }
}

/// Requests per concurrent round.
const CONCURRENT_ROUND: usize = CONCURRENCY * 16;

/// Time of [`BLOCK`] calls, one after the other.
async fn sequential<F: Fn() -> Fut, Fut: Future<Output = ()>>(call: &F) -> Duration {
    let start = Instant::now();
    for _ in 0..BLOCK {
        call().await;
    }
    start.elapsed()
}

/// Time of [`CONCURRENT_ROUND`] calls, [`CONCURRENCY`] in flight.
async fn concurrent<F: Fn() -> Fut, Fut: Future<Output = ()>>(call: &F) -> Duration {
    let start = Instant::now();
    futures::stream::iter(0..CONCURRENT_ROUND)
        .for_each_concurrent(CONCURRENCY, |_| call())
        .await;
    start.elapsed()
}

/// Prints one line and its `RESULT`s: each side's median rate over its processes.
fn report(name: &str, mode: &str, raw: Vec<f64>, generated: Vec<f64>) {
    if std::env::var_os("THROUGHPUT_ROUNDS").is_some() {
        println!("    raw processes:       {raw:.0?}");
        println!("    generated processes: {generated:.0?}");
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (raw_rps, generated_rps) = (median(raw), median(generated));
    println!(
        "  {name:<38} {mode:<14} raw {raw_rps:>8.0}/s  generated {generated_rps:>8.0}/s  ratio {:.3}",
        generated_rps / raw_rps
    );
    let section = format!("requests/s, {mode}");
    result(&section, &format!("{name} raw"), raw_rps, "req/s");
    result(
        &section,
        &format!("{name} generated"),
        generated_rps,
        "req/s",
    );
    result(
        &section,
        &format!("{name} ratio"),
        generated_rps / raw_rps,
        "x",
    );
}
