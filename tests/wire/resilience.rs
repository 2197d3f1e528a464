//! The transport policy of every client against misbehaving local servers: what the server sees
//! (how many requests, when) and which typed error the caller gets. Each scenario runs for all
//! six clients (one simple GET and one POST each, see `six_clients.rs`). Waits run on paused
//! tokio time; the few real-time tests (connect timeout, redirects, memory) are short.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod six_clients;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use analytics_auth::{BodyLimits, ClientConfig, Transport};
use six_clients::{
    always, client, client_with, json, paused_http, Api, Creds, Kind, LocalServer, Reply, Req, ALL,
};
use tokio::sync::RwLock;
use tokio::time::Instant;

/// Memory-measuring tests run alone (write lock); every other test holds a read lock.
static MEMORY: RwLock<()> = RwLock::const_new(());

/// Slack for server-side timestamps on paused time (I/O takes no paused time; this only covers
/// rounding).
const SLACK: Duration = Duration::from_millis(50);

fn gaps(log: &[Req]) -> Vec<Duration> {
    log.windows(2).map(|w| w[1].at - w[0].at).collect()
}

/// A fresh client of `api` for `server` on paused time (no reqwest timers), default policy.
async fn paused_client(api: Api, server: &LocalServer) -> six_clients::AnyClient {
    client(api, &server.uri(), paused_http(), Transport::default()).await
}

fn rate_limited(after: &str) -> Reply {
    Reply::Json(
        429,
        vec![("retry-after", after.to_string())],
        r#"{"message": "slow down"}"#.into(),
    )
}

// ---------------------------------------------------------------------------------------------
// 1. 429 and Retry-After

#[tokio::test(start_paused = true)]
async fn retry_after_is_waited_out_and_attempts_stop_at_three() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        // Never recovers: 3 attempts, each at least Retry-After after the previous one.
        let server = LocalServer::start(always(|| rate_limited("2"))).await;
        let c = paused_client(api, &server).await;
        let err = c.get().await.unwrap_err();
        assert_eq!(
            err.kind,
            Kind::RateLimited(Some(Duration::from_secs(2))),
            "{api:?}: {}",
            err.shown
        );
        let log = server.log();
        assert_eq!(log.len(), 3, "{api:?}");
        for gap in gaps(&log) {
            // Never shortened; jitter adds at most 10 % (at least 100 ms): ≤ 2.2 s.
            assert!(
                gap >= Duration::from_secs(2) && gap <= Duration::from_millis(2200) + SLACK,
                "{api:?}: {gap:?}"
            );
        }

        // Recovers: the second attempt, 2 s later, succeeds.
        let server = LocalServer::start(Arc::new(move |i, _: &Req| {
            if i == 0 {
                rate_limited("2")
            } else {
                json(200, api.ok_body())
            }
        }))
        .await;
        let c = paused_client(api, &server).await;
        c.get().await.unwrap();
        let log = server.log();
        assert_eq!(log.len(), 2, "{api:?}");
        assert!(gaps(&log)[0] >= Duration::from_secs(2), "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_cap_is_returned_at_once() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(always(|| rate_limited("3600"))).await;
        let c = paused_client(api, &server).await;
        let start = Instant::now();
        let err = c.get().await.unwrap_err();
        assert_eq!(
            err.kind,
            Kind::RateLimited(Some(Duration::from_secs(3600))),
            "{api:?}: {}",
            err.shown
        );
        assert_eq!(server.count(), 1, "{api:?}");
        assert!(start.elapsed() < Duration::from_secs(1), "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_honoured() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(Arc::new(move |i, _: &Req| {
            if i == 0 {
                // HTTP dates have whole seconds: 4 s from now is at least 3 s from now.
                let when = SystemTime::now() + Duration::from_secs(4);
                rate_limited(&httpdate_fmt(when))
            } else {
                json(200, api.ok_body())
            }
        }))
        .await;
        let c = paused_client(api, &server).await;
        c.get().await.unwrap();
        let log = server.log();
        assert_eq!(log.len(), 2, "{api:?}");
        let gap = gaps(&log)[0];
        assert!(
            gap >= Duration::from_secs(3) && gap <= Duration::from_millis(4400) + SLACK,
            "{api:?}: {gap:?}"
        );
    }
}

/// RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn httpdate_fmt(when: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(when)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// 2. 502/503/504 on GET

#[tokio::test(start_paused = true)]
async fn unavailable_gets_are_retried_with_bounded_backoff_then_succeed() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        for status in [502, 503, 504] {
            let server = LocalServer::start(Arc::new(move |i, _: &Req| {
                if i < 2 {
                    json(status, r#"{"message": "unavailable"}"#)
                } else {
                    json(200, api.ok_body())
                }
            }))
            .await;
            let c = paused_client(api, &server).await;
            c.get().await.unwrap();
            let log = server.log();
            assert_eq!(log.len(), 3, "{api:?} {status}");
            let g = gaps(&log);
            // Full jitter under 250 ms × 2ⁿ.
            assert!(g[0] <= Duration::from_millis(250) + SLACK, "{api:?} {g:?}");
            assert!(g[1] <= Duration::from_millis(500) + SLACK, "{api:?} {g:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn unavailable_gets_give_up_after_three_attempts() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        for status in [502, 503, 504] {
            let server =
                LocalServer::start(always(move || json(status, r#"{"message": "down"}"#))).await;
            let c = paused_client(api, &server).await;
            let err = c.get().await.unwrap_err();
            assert_eq!(err.kind, Kind::Unexpected(status), "{api:?}: {}", err.shown);
            let log = server.log();
            assert_eq!(log.len(), 3, "{api:?} {status}");
            let g = gaps(&log);
            assert!(g[0] <= Duration::from_millis(250) + SLACK, "{api:?} {g:?}");
            assert!(g[1] <= Duration::from_millis(500) + SLACK, "{api:?} {g:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. POST is sent once; connect failures

#[tokio::test(start_paused = true)]
async fn a_post_answered_503_or_429_is_sent_once() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(always(|| json(503, r#"{"message": "down"}"#))).await;
        let c = paused_client(api, &server).await;
        let err = c.post().await.unwrap_err();
        assert_eq!(err.kind, Kind::Unexpected(503), "{api:?}: {}", err.shown);
        let log = server.log();
        assert_eq!(log.len(), 1, "{api:?}");
        assert_eq!(log[0].method(), "POST");
        assert_eq!(log[0].path(), api.post_path());

        let server = LocalServer::start(always(|| rate_limited("1"))).await;
        let c = paused_client(api, &server).await;
        let err = c.post().await.unwrap_err();
        assert_eq!(
            err.kind,
            Kind::RateLimited(Some(Duration::from_secs(1))),
            "{api:?}: {}",
            err.shown
        );
        assert_eq!(server.count(), 1, "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_connection_reset_after_the_request_was_read() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        // POST: the server may have acted on it; never sent again.
        let server = LocalServer::start(always(|| Reply::Reset)).await;
        let c = paused_client(api, &server).await;
        let err = c.post().await.unwrap_err();
        assert_eq!(
            err.kind,
            Kind::Transport {
                connect: false,
                timeout: false
            },
            "{api:?}: {}",
            err.shown
        );
        assert_eq!(server.count(), 1, "{api:?}");
        assert_eq!(server.log()[0].path(), api.post_path());

        // GET: idempotent, tried three times.
        let server = LocalServer::start(always(|| Reply::Reset)).await;
        let c = paused_client(api, &server).await;
        let err = c.get().await.unwrap_err();
        assert!(
            matches!(err.kind, Kind::Transport { connect: false, .. }),
            "{api:?}: {}",
            err.shown
        );
        assert_eq!(server.count(), 3, "{api:?}");
    }
}

/// Counts the `retrying` events the hooks log (the only witness of attempts nobody received).
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test(start_paused = true)]
async fn connection_refused_is_a_typed_connect_error_within_the_policy() {
    let _shared = MEMORY.read().await;
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // This test's runtime is single-threaded: every task runs under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    // Scout logs in at a live server; the calls then go to a port nobody listens on.
    let live = LocalServer::start(always(|| json(200, "{}"))).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let creds = Creds {
        login_at: Some(live.uri()),
        ..Creds::default()
    };
    for api in ALL {
        for post in [true, false] {
            let c = client_with(
                api,
                &format!("http://{closed}"),
                paused_http(),
                Transport::default(),
                &creds,
            )
            .await;
            logs.take();
            let start = Instant::now();
            let err = c.call(post).await.unwrap_err();
            assert!(
                matches!(err.kind, Kind::Transport { connect: true, .. }),
                "{api:?}: {}",
                err.shown
            );
            let logged = logs.take();
            // Nothing was sent, so even a POST may go again: 1 + max_retries attempts.
            let retries = logged.matches("retrying").count();
            assert_eq!(retries, 2, "{api:?} post={post}:\n{logged}");
            // Two backoffs: ≤ 250 ms + 500 ms.
            assert!(
                start.elapsed() <= Duration::from_millis(750) + SLACK,
                "{api:?}"
            );
        }
    }
    assert_eq!(live.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Client errors are final

/// An error body every API's documented error schemas accept.
const CLIENT_ERROR: &str = r#"{"error": "nope", "message": "nope", "detail": "nope"}"#;

#[tokio::test(start_paused = true)]
async fn client_errors_are_sent_once() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        for status in [400u16, 401, 403, 404, 422] {
            for post in [false, true] {
                let server = LocalServer::start(always(move || json(status, CLIENT_ERROR))).await;
                let c = paused_client(api, &server).await;
                let err = c.call(post).await.unwrap_err();
                let expected = match status {
                    401 => Kind::Unauthorized,
                    403 => Kind::Forbidden,
                    404 => Kind::NotFound,
                    s => Kind::InvalidRequest(s),
                };
                assert_eq!(
                    err.kind, expected,
                    "{api:?} {status} post={post}: {}",
                    err.shown
                );
                assert_eq!(server.count(), 1, "{api:?} {status} post={post}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Retry budget

#[tokio::test(start_paused = true)]
async fn an_outage_costs_only_a_few_retries_over_1000_gets() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let start = Instant::now();
        let server = LocalServer::start(Arc::new(move |_, req: &Req| {
            if req.at - start < Duration::from_secs(10) {
                json(503, r#"{"message": "outage"}"#)
            } else {
                json(200, api.ok_body())
            }
        }))
        .await;
        let c = paused_client(api, &server).await;
        // 10 clones (one budget) × 100 sequential GETs, concurrently.
        let workers: Vec<_> = (0..10)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move {
                    let mut kinds = Vec::new();
                    for _ in 0..100 {
                        kinds.push(c.get().await.unwrap_err().kind);
                    }
                    kinds
                })
            })
            .collect();
        for worker in workers {
            for kind in worker.await.unwrap() {
                assert_eq!(kind, Kind::Unexpected(503), "{api:?}");
            }
        }
        let seen = server.count();
        assert!((1000..=1200).contains(&seen), "{api:?}: {seen} requests");
        assert!(seen <= 1010, "{api:?}: {seen} requests (budget ~5 retries)");
        assert!(start.elapsed() < Duration::from_secs(10), "{api:?}");

        // After the outage one call is one request again.
        tokio::time::sleep_until(start + Duration::from_secs(10)).await;
        c.get().await.unwrap();
        assert_eq!(server.count(), seen + 1, "{api:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Connect timeout, broken bodies

/// A listener whose accept queue is full: the kernel drops further SYNs, so a connect never
/// completes (on 127.0.0.1, offline). Keep the returned values alive.
async fn blackhole() -> (tokio::net::TcpListener, Vec<std::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut filling = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => filling.push(s),
            Err(_) => break,
        }
    }
    (listener, filling)
}

#[tokio::test]
async fn a_connect_that_never_completes_is_a_typed_connect_timeout() {
    let _shared = MEMORY.read().await;
    let live = LocalServer::start(always(|| json(200, "{}"))).await;
    let (listener, _filling) = blackhole().await;
    let addr = listener.local_addr().unwrap();
    let creds = Creds {
        login_at: Some(live.uri()),
        ..Creds::default()
    };
    let calls = ALL.map(|api| {
        let creds = creds.clone();
        async move {
            let http = ClientConfig::new()
                .with_connect_timeout(Duration::from_millis(300))
                .build()
                .unwrap();
            let c = client_with(
                api,
                &format!("http://{addr}"),
                http,
                Transport::default(),
                &creds,
            )
            .await;
            let started = std::time::Instant::now();
            let err = c.get().await.unwrap_err();
            (api, err, started.elapsed())
        }
    });
    for (api, err, took) in futures::future::join_all(calls).await {
        assert_eq!(
            err.kind,
            Kind::Transport {
                connect: true,
                timeout: true
            },
            "{api:?}: {}",
            err.shown
        );
        assert!(err.shown.contains("timed out"), "{api:?}: {}", err.shown);
        // Three connect attempts of 300 ms (connect failures are retried), two backoffs.
        assert!(took >= Duration::from_millis(900), "{api:?}: {took:?}");
    }
    assert_eq!(live.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_abandoned_after_the_stall_timeout() {
    let _shared = MEMORY.read().await;
    let limits = BodyLimits {
        max_bytes: 1 << 20,
        stall_timeout: Duration::from_secs(5),
    };
    for api in ALL {
        let server = LocalServer::start(always(|| {
            Reply::RawThenHang(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[{\"a\""
                    .to_vec(),
            )
        }))
        .await;
        let c = client(
            api,
            &server.uri(),
            paused_http(),
            Transport::default().with_body_limits(limits),
        )
        .await;
        let start = Instant::now();
        let err = c.get().await.unwrap_err();
        assert_eq!(
            err.kind,
            Kind::BodyStalled(Duration::from_secs(5)),
            "{api:?}: {}",
            err.shown
        );
        assert!(start.elapsed() >= Duration::from_secs(5), "{api:?}");
        assert!(start.elapsed() < Duration::from_secs(6), "{api:?}");
        assert_eq!(server.count(), 1, "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_truncated_body_is_a_typed_error() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(always(|| {
            Reply::Raw(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{\"hostname\": \"sp"
                    .to_vec(),
            )
        }))
        .await;
        let c = paused_client(api, &server).await;
        let err = c.get().await.unwrap_err();
        assert!(
            matches!(
                err.kind,
                Kind::Transport { connect: false, .. } | Kind::InvalidResponse
            ),
            "{api:?}: {}",
            err.shown
        );
        assert_eq!(server.count(), 1, "{api:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn malformed_json_is_an_invalid_response() {
    let _shared = MEMORY.read().await;
    let deep_arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    for api in ALL {
        // Deeper than serde_json's recursion limit, at the top and inside a typed field. (An
        // unknown field is skipped without being parsed into anything, so Scanalytics' all-optional
        // `CurrentUser` rightly accepts `{"a": <deep>}`: the nesting goes into a known field.)
        let mut bodies: Vec<String> = vec![
            "1e400".into(),
            "[1e400]".into(),
            api.nest("1e400"),
            deep_arrays.clone(),
            api.nest(&deep_arrays),
            api.nest(&deep_objects),
            format!("{}[", api.ok_body()),
            "".into(),
        ];
        // The data API's results are free-form JSON: any value has the right type.
        if api != Api::SerenyticsData {
            bodies.extend([
                r#""a string""#.into(),
                "true".into(),
                api.bad_value_body().into(),
            ]);
        }
        for body in bodies {
            let b = body.clone();
            let server = LocalServer::start(always(move || json(200, b.clone()))).await;
            let c = paused_client(api, &server).await;
            let short: String = body.chars().take(60).collect();
            let err = c
                .get()
                .await
                .err()
                .unwrap_or_else(|| panic!("{api:?}: {short} was accepted"));
            assert_eq!(
                err.kind,
                Kind::InvalidResponse,
                "{api:?} {short}: {}",
                err.shown
            );
            assert_eq!(server.count(), 1, "{api:?} {short}");
        }
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn an_endless_body_stops_at_max_bytes_with_bounded_memory() {
    let _alone = MEMORY.write().await;
    let limits = BodyLimits {
        max_bytes: 1 << 20,
        stall_timeout: Duration::from_secs(5),
    };
    let mut rss_before = None;
    for api in ALL {
        let server = LocalServer::start(always(|| Reply::Endless)).await;
        let c = client(
            api,
            &server.uri(),
            ClientConfig::new().build().unwrap(),
            Transport::default().with_body_limits(limits),
        )
        .await;
        // The first call warms up (allocator arenas, connection pool), then RSS is the baseline.
        for _ in 0..2 {
            let err = c.get().await.unwrap_err();
            assert_eq!(
                err.kind,
                Kind::BodyTooLarge(1 << 20),
                "{api:?}: {}",
                err.shown
            );
            rss_before.get_or_insert_with(rss_kib);
        }
        // The client went away: the server's writes fail soon after the limit.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !server.endless_stopped.load(Ordering::SeqCst) {
            assert!(
                std::time::Instant::now() < deadline,
                "{api:?}: still reading"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let sent = server.endless_bytes.load(Ordering::SeqCst);
        assert!(sent >= 1 << 20, "{api:?}: {sent}");
        // What the client read plus socket buffers; far from endless.
        assert!(sent < 64 << 20, "{api:?}: {sent}");
        assert_eq!(server.count(), 2, "{api:?}");
    }
    let grown = rss_kib().saturating_sub(rss_before.unwrap());
    assert!(grown < 8 * 1024, "RSS grew by {grown} KiB");
}

const BOMB: &[u8] = include_bytes!("../fixtures/gzip-bomb-100MiB.gz");

#[tokio::test]
async fn a_gzip_bomb_is_not_decoded() {
    let _alone = MEMORY.write().await;
    let before = rss_kib();
    for api in ALL {
        let server = LocalServer::start(always(|| {
            let mut raw = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                BOMB.len()
            )
            .into_bytes();
            raw.extend_from_slice(BOMB);
            Reply::Raw(raw)
        }))
        .await;
        let c = client(
            api,
            &server.uri(),
            ClientConfig::new().build().unwrap(),
            Transport::default(),
        )
        .await;
        let err = c.get().await.unwrap_err();
        assert_eq!(err.kind, Kind::InvalidResponse, "{api:?}: {}", err.shown);
        let log = server.log();
        assert_eq!(log.len(), 1, "{api:?}");
        // The client does not ask for compressed bodies.
        let accept_encoding = log[0].header("accept-encoding").unwrap_or_default();
        assert!(
            !accept_encoding.contains("gzip"),
            "{api:?}: {accept_encoding}"
        );
    }
    // 100 MiB decoded would show; the compressed 100 KiB does not.
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 16 * 1024, "RSS grew by {grown} KiB");
}

// ---------------------------------------------------------------------------------------------
// 7. Redirects

fn redirect(location: String) -> Reply {
    Reply::Json(302, vec![("location", location)], "{}".into())
}

fn assert_no_referer(servers: &[&LocalServer]) {
    for server in servers {
        for req in server.log().iter().chain(server.logins().iter()) {
            assert_eq!(req.header("referer"), None, "{}", req.head);
        }
    }
}

#[tokio::test]
async fn redirects_are_not_followed_by_default() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let elsewhere = LocalServer::start(always(move || json(200, api.ok_body()))).await;
        let target = format!("{}/landing", elsewhere.uri());
        let server = LocalServer::start(always(move || redirect(target.clone()))).await;
        let c = client(
            api,
            &server.uri(),
            ClientConfig::new().build().unwrap(),
            Transport::default(),
        )
        .await;
        let err = c.get().await.unwrap_err();
        assert_eq!(err.kind, Kind::Unexpected(302), "{api:?}: {}", err.shown);
        assert_eq!(server.count(), 1, "{api:?}");
        assert_eq!(elsewhere.count() + elsewhere.logins().len(), 0, "{api:?}");
        assert_no_referer(&[&server, &elsewhere]);
    }
}

#[tokio::test]
async fn same_origin_redirects_are_followed_with_the_credential() {
    let _shared = MEMORY.read().await;
    let creds = Creds::default();
    for api in ALL {
        let server = LocalServer::start(Arc::new(move |_, req: &Req| {
            if req.path() == "/moved" {
                json(200, api.ok_body())
            } else {
                redirect("/moved".into())
            }
        }))
        .await;
        let http = ClientConfig::new()
            .with_same_origin_redirects(5)
            .build()
            .unwrap();
        let c = client_with(api, &server.uri(), http, Transport::default(), &creds).await;
        c.get().await.unwrap();
        let log = server.log();
        assert_eq!(log.len(), 2, "{api:?}");
        assert_eq!(log[0].path(), api.get_path());
        assert_eq!(log[1].path(), "/moved");
        assert!(
            log[1].head.contains(&creds.on_the_wire(api)),
            "{api:?}: the credential did not reach the second path:\n{}",
            log[1].head
        );
        assert_no_referer(&[&server]);
    }
}

#[tokio::test]
async fn cross_origin_redirects_are_not_followed() {
    let _shared = MEMORY.read().await;
    let header_key = Creds::default();
    let query_key = Creds {
        query_key: true,
        ..Creds::default()
    };
    let cases = ALL
        .iter()
        .map(|api| (*api, &header_key))
        .chain([(Api::Tonalytica, &query_key)]);
    for (api, creds) in cases {
        let elsewhere = LocalServer::start(always(move || json(200, api.ok_body()))).await;
        let uri = elsewhere.uri();
        let server = LocalServer::start(Arc::new(move |_, req: &Req| {
            // Same path and query on another origin (port).
            redirect(format!("{uri}{}", req.target()))
        }))
        .await;
        let http = ClientConfig::new()
            .with_same_origin_redirects(5)
            .build()
            .unwrap();
        let c = client_with(api, &server.uri(), http, Transport::default(), creds).await;
        let err = c.get().await.unwrap_err();
        assert_eq!(err.kind, Kind::Unexpected(302), "{api:?}: {}", err.shown);
        assert_eq!(server.count(), 1, "{api:?}");
        // Not a single request: no Authorization, X-API-KEY, cookie or api_key query there.
        assert_eq!(elsewhere.count() + elsewhere.logins().len(), 0, "{api:?}");
        assert!(
            server.log()[0].head.contains(&creds.on_the_wire(api)),
            "{api:?}"
        );
        assert_no_referer(&[&server, &elsewhere]);
    }
}

#[tokio::test]
async fn a_redirect_loop_is_a_typed_error_after_at_most_six_requests() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(always(|| redirect("/loop".into()))).await;
        let http = ClientConfig::new()
            .with_same_origin_redirects(5)
            .build()
            .unwrap();
        let c = client(api, &server.uri(), http, Transport::default()).await;
        let err = c.get().await.unwrap_err();
        assert!(
            matches!(err.kind, Kind::Transport { connect: false, .. }),
            "{api:?}: {}",
            err.shown
        );
        let seen = server.count();
        assert!(seen <= 6, "{api:?}: {seen} requests for one call");
        assert_no_referer(&[&server]);
    }
}

// ---------------------------------------------------------------------------------------------
// 8. A rate limiter on any client

#[tokio::test(start_paused = true)]
async fn a_transport_rate_limiter_holds_every_client_under_its_quota() {
    use analytics_auth::rate_limit::{Limit, RateLimiter};
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(always(move || json(200, api.ok_body()))).await;
        let limiter = RateLimiter::new([Limit::per_minute(10).with_burst(2)]);
        let c = client(
            api,
            &server.uri(),
            paused_http(),
            Transport::default().with_rate_limiter(limiter),
        )
        .await;
        let start = tokio::time::Instant::now();
        for _ in 0..25 {
            c.clone().get().await.unwrap();
        }
        let log: Vec<Req> = server
            .log()
            .into_iter()
            .filter(|r| {
                r.path()
                    .ends_with(api.get_path().rsplit('/').next().unwrap_or(""))
            })
            .collect();
        assert_eq!(log.len(), 25, "{api:?}");
        for (i, first) in log.iter().enumerate() {
            let in_window = log[i..]
                .iter()
                .take_while(|r| r.at - first.at < Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 10,
                "{api:?}: {in_window} requests within a minute"
            );
        }
        // Not needlessly slow either: 2 at once, then about 7 per minute.
        assert!(start.elapsed() < Duration::from_secs(4 * 60), "{api:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Concurrency

/// Every client's calls are `Send` futures (they run on spawned tasks of a multi-threaded
/// runtime) and clones of one client share its connection pool and policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_run_on_spawned_tasks() {
    let _shared = MEMORY.read().await;
    for api in ALL {
        let server = LocalServer::start(always(move || json(200, api.ok_body()))).await;
        let http = analytics_auth::ClientConfig::new().build().unwrap();
        let c = Arc::new(client(api, &server.uri(), http, Transport::default()).await);
        let expected = c.get().await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move { c.get().await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), expected, "{api:?}");
        }
        assert_eq!(server.log().len(), 9, "{api:?}");
    }
}
