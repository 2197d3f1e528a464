//! Requests per second of each generated client against raw `reqwest` + `serde_json` on the same
//! loopback server, with the same HTTP client, credential header and response type: sequential
//! calls, and 32 calls in flight. The raw side formats each request's URL, as a caller with an id
//! must, but does not check the id. Raw and generated alternate in short rounds so that drift hits
//! both; each side's rate is that of its median round, and the ratio is the median of the ratios of
//! rounds run back to back (a pause of the machine moves one pair, not the result).
//!
//! ```sh
//! cargo bench -p client-benches --bench throughput [-- N]   # N requests per side (default 4000)
//! ```
//! `THROUGHPUT_ONLY=<part of a name>` compares only the clients whose name contains it;
//! `THROUGHPUT_ROUNDS=1` also prints the rate of every round.
//! `CLIENT_OVERHEAD_ONLY=raw|generated` runs only one API's calls, for callgrind: MONARC's, or
//! `CLIENT_OVERHEAD_API=tonalytica|scanalytics`; sequential, or 32 in flight with
//! `CLIENT_OVERHEAD_CONCURRENT=1`.
#![allow(clippy::unwrap_used)] // a bench binary: a failed unwrap is a failed run

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_benches::{median, result, serve_on_own_thread, Answer};
use futures::StreamExt;

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

    println!(
        "requests/s on loopback, {n} requests per side, generated client vs reqwest + serde_json:"
    );
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

/// Sequential and 32-in-flight requests/s of both sides, in alternating rounds. Rates come from
/// each side's median round and the ratio from the median pair of rounds, so that a pause of the
/// machine in one round (another process, a page fault storm) does not decide the figures.
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
    for _ in 0..200 {
        generated().await;
        raw().await;
    }
    let (mut t_generated, mut t_raw) = (Vec::new(), Vec::new());
    for round in 0..n.div_ceil(BLOCK) {
        // Which side goes first alternates too.
        if round % 2 == 1 {
            t_generated.push(sequential(&generated).await);
        }
        t_raw.push(sequential(&raw).await);
        if round % 2 == 0 {
            t_generated.push(sequential(&generated).await);
        }
    }
    report(name, "sequential", BLOCK, t_raw, t_generated);

    // The pool grows from one connection to 32 in the first concurrent rounds; connecting is not
    // what is measured.
    for _ in 0..2 {
        concurrent(&generated).await;
        concurrent(&raw).await;
    }
    let (mut t_generated, mut t_raw) = (Vec::new(), Vec::new());
    for round in 0..n.div_ceil(CONCURRENT_ROUND).max(5) {
        if round % 2 == 1 {
            t_generated.push(concurrent(&generated).await);
        }
        t_raw.push(concurrent(&raw).await);
        if round % 2 == 0 {
            t_generated.push(concurrent(&generated).await);
        }
    }
    report(name, "32 concurrent", CONCURRENT_ROUND, t_raw, t_generated);
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
const CONCURRENT_ROUND: usize = CONCURRENCY * 8;

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

/// Prints one line and its `RESULT`s: each side's requests per round over its median round time,
/// and the median over round pairs (`raw[i]`, `generated[i]` ran back to back) of their ratio. The
/// spread of the pair ratios (quartiles) shows how noisy the machine was.
fn report(name: &str, mode: &str, per_round: usize, raw: Vec<Duration>, generated: Vec<Duration>) {
    let rate = |d: &Duration| per_round as f64 / d.as_secs_f64();
    if std::env::var_os("THROUGHPUT_ROUNDS").is_some() {
        let rates = |v: &[Duration]| {
            v.iter()
                .map(|d| format!("{:.0}", rate(d)))
                .collect::<Vec<_>>()
        };
        println!("    raw rounds:       {:?}", rates(&raw));
        println!("    generated rounds: {:?}", rates(&generated));
    }
    let mut pair_ratios: Vec<f64> = raw
        .iter()
        .zip(&generated)
        .map(|(r, g)| r.as_secs_f64() / g.as_secs_f64())
        .collect();
    pair_ratios.sort_by(f64::total_cmp);
    let quantile = |q: f64| pair_ratios[((pair_ratios.len() - 1) as f64 * q).round() as usize];
    let ratio = quantile(0.5);
    let raw_rps = rate(&median(raw));
    let generated_rps = rate(&median(generated));
    println!(
        "  {name:<38} {mode:<14} raw {raw_rps:>8.0}/s  generated {generated_rps:>8.0}/s  ratio {ratio:.3} (pairs {:.3}–{:.3}, medians {:.3})",
        quantile(0.25),
        quantile(0.75),
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
    result(&section, &format!("{name} ratio"), ratio, "x");
}
