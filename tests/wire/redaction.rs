//! Secrets in logs: every client call at TRACE level, with a canary key, under a global
//! subscriber that captures everything this process logs (its own test binary, so no other test
//! shares the subscriber or the callsite interest cache).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod six_clients;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use analytics_auth::{BodyLimits, RetryPolicy, Transport};
use monarc_stats::{types, ApiError, Auth, ClientConfig};
use serde_json::json;
use six_clients::{client_with, json, paused_http, Api, Creds, LocalServer, Reply, Req, ALL};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "canary-key-7e1f0b3a9c";

async fn serve(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

fn json_response(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// A `MakeWriter` that keeps everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

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

/// Everything this process logs at TRACE, span closings (with all their fields) included. The
/// global subscriber is installed once for all tests of this binary.
fn global_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

/// MONARC successes and failures at TRACE level: the key shows up in no log line, no `Debug` and
/// no `Display`.
#[test]
fn the_key_never_appears_in_logs_debug_or_display() {
    let logs = global_logs();
    let mut shown = String::new();
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let server = MockServer::start().await;
            serve(
                &server,
                "GET",
                "/api/v2/stats/",
                json_response(401, json!({"error": "Unauthorized"})),
            )
            .await;
            serve(
                &server,
                "GET",
                "/api/v2/stats/5eb9ca210381f6f321022ae6/",
                json_response(
                    200,
                    json!({
                        "uuid": "76a3999f-ab22-4008-a540-f68082f44cb2", "organization": "CASES",
                        "anr": "00000000-0000-4000-8000-000000000002", "type": "risk",
                        "day": 1, "week": 1, "month": 1, "year": 2020, "data": {},
                        "created_at": "2020-05-11T21:56:49", "updated_at": "2020-05-11T21:56:49",
                        "id": "5eb9ca210381f6f321022ae6"
                    }),
                ),
            )
            .await;
            serve(
                &server,
                "POST",
                "/api/v2/stats/",
                ResponseTemplate::new(500).set_body_raw("<h1>boom</h1>", "text/html"),
            )
            .await;
            let c = monarc_stats::Client::new_with_client(
                &format!("{}/api/v2", server.uri()),
                ClientConfig::new().build().unwrap(),
                Auth::api_key(KEY),
            );
            shown.push_str(&format!("{c:?}\n"));
            let e = ApiError::from(c.list_stats().send().await.unwrap_err());
            shown.push_str(&format!("{e}\n{e:?}\n"));
            let ok = c
                .get_stats()
                .id("5eb9ca210381f6f321022ae6")
                .send()
                .await
                .unwrap();
            shown.push_str(&format!("{ok:?}\n"));
            let body = types::StatsCreate::builder()
                .anr(
                    "00000000-0000-4000-8000-000000000002"
                        .parse::<uuid::Uuid>()
                        .unwrap(),
                )
                .type_("risk")
                .day(1)
                .week(1)
                .month(1)
                .year(2020)
                .data(json!({}));
            let e = ApiError::from(c.create_stats().body(body).send().await.unwrap_err());
            shown.push_str(&format!("{e}\n{e:?}\n"));
            let refused =
                monarc_stats::Client::new("http://127.0.0.1:9/api/v2", Auth::api_key(KEY));
            let e = ApiError::from(refused.list_stats().send().await.unwrap_err());
            shown.push_str(&format!("{e}\n{e:?}\n"));
        });
    }
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("api_request") && logs.contains("operation=\"get_stats\""),
        "the client logged nothing:\n{logs}"
    );
    assert!(!logs.contains(KEY), "the key is in the logs:\n{logs}");
    assert!(
        !shown.contains(KEY),
        "the key is in Debug/Display output:\n{shown}"
    );
    assert!(shown.contains("could not connect"), "{shown}");
}

/// The secrets of one client, each a unique canary.
fn canaries(api: Api) -> (Creds, Vec<&'static str>) {
    let mut creds = Creds::default();
    let secrets: Vec<&'static str> = match api {
        Api::Monarc => vec!["canary-monarc-key-3f9a1c"],
        Api::Serenytics => vec!["canary-serenytics-key-8b2c4d"],
        Api::SerenyticsData => vec!["canary-dataapi-key-5d7e0f"],
        // In the URL (`?api_key=`).
        Api::Tonalytica => vec!["canaryTonQueryKey6h2kPq"],
        Api::Scout => vec![SCOUT_PASSWORD, SCOUT_SID, SCOUT_CSRF],
        Api::Scanalytics => vec![
            "canary-scan-access-4r6t",
            "canary-scan-refresh-9u1i",
            "canary-scan-secret-0o5p",
            SCAN_NEW_ACCESS,
            SCAN_NEW_REFRESH,
        ],
    };
    match api {
        Api::Scout => {
            creds.password = SCOUT_PASSWORD.into();
            creds.scout_sid = SCOUT_SID.into();
        }
        Api::Scanalytics => {
            creds.key = secrets[0].into();
            creds.refresh_token = Some(secrets[1].into());
            creds.client_secret = Some(secrets[2].into());
        }
        Api::Tonalytica => {
            creds.key = secrets[0].into();
            creds.query_key = true;
        }
        _ => creds.key = secrets[0].into(),
    }
    (creds, secrets)
}

const SCOUT_PASSWORD: &str = "canary-scout-password-1q9z";
const SCOUT_SID: &str = "canary-scout-sid-7y3x";
const SCOUT_CSRF: &str = "canary-scout-csrf-2w8v";
const SCAN_NEW_ACCESS: &str = "canary-scan-access2-6y7u";
const SCAN_NEW_REFRESH: &str = "canary-scan-refresh2-3e4r";

/// The answer to the next API request (token requests are answered apart).
#[derive(Clone, Copy)]
enum Next {
    Ok,
    Status(u16, &'static str),
    Malformed,
}

/// Every client at TRACE: a retried 503, a success, a 401 (Scanalytics refreshes its token and
/// resends), a 500 HTML page, a malformed body, a 400 on the POST and a refused connection. No
/// canary shows up in the logs or in the `Debug`/`Display` of any client, config, `Auth`,
/// `Transport` or error; the `api_request` span records `attempt` and `status`.
#[test]
fn no_client_leaks_its_secrets_into_logs_debug_or_display() {
    let logs = global_logs();
    let mut shown = String::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let mut all_secrets = Vec::new();
    runtime.block_on(async {
        for api in ALL {
            let (creds, secrets) = canaries(api);
            all_secrets.extend(secrets.iter().map(|s| (api, *s)));
            let queue: Arc<Mutex<Vec<Next>>> = Arc::default();
            let q = queue.clone();
            let token_requests = Arc::new(AtomicUsize::new(0));
            let t = token_requests.clone();
            let handler = Arc::new(move |_: usize, req: &Req| -> Reply {
                if api == Api::Scanalytics && req.path() == "/o/token/" && req.body.contains("refresh_token=") {
                    t.fetch_add(1, Ordering::SeqCst);
                    return json(
                        200,
                        format!(
                            r#"{{"access_token": "{SCAN_NEW_ACCESS}", "refresh_token": "{SCAN_NEW_REFRESH}", "expires_in": 86400, "token_type": "Bearer"}}"#
                        ),
                    );
                }
                let next = {
                    let mut q = q.lock().unwrap();
                    if q.is_empty() { Next::Ok } else { q.remove(0) }
                };
                match next {
                    Next::Ok => json(200, api.ok_body()),
                    Next::Status(status, body) => json(status, body),
                    Next::Malformed => json(200, r#"{"objects": [{"uuid": "#),
                }
            });
            let server = LocalServer::start_with_session(handler, SCOUT_CSRF, SCOUT_SID).await;
            let transport = Transport::default()
                .with_retry(RetryPolicy::default())
                .with_body_limits(BodyLimits::default());
            let c = client_with(api, &server.uri(), paused_http(), transport.clone(), &creds).await;
            shown.push_str(&format!("{c:?}\n{transport:?}\n"));

            let calls: [(&[Next], bool); 6] = [
                (&[Next::Status(503, r#"{"message": "down"}"#), Next::Ok], false),
                (&[Next::Ok], false),
                (&[Next::Status(401, r#"{"error": "Unauthorized", "message": "bad credential", "detail": "x"}"#)], false),
                (&[Next::Status(500, "<h1>boom</h1>")], false),
                (&[Next::Malformed], false),
                (&[Next::Status(400, r#"{"error": "bad", "message": "bad", "detail": "bad"}"#)], true),
            ];
            let mut failures = 0;
            for (replies, post) in calls {
                queue.lock().unwrap().extend_from_slice(replies);
                match c.call(post).await {
                    Ok(ok) => shown.push_str(&format!("{ok}\n")),
                    Err(e) => {
                        failures += 1;
                        shown.push_str(&format!("{}\n{:?}\n", e.shown, e.kind));
                    }
                }
            }
            // Scanalytics answers the 401 by refreshing and resending (the resend succeeds).
            let expected_failures = if api == Api::Scanalytics { 3 } else { 4 };
            assert_eq!(failures, expected_failures, "{api:?}");
            assert_eq!(
                token_requests.load(Ordering::SeqCst),
                usize::from(api == Api::Scanalytics),
                "{api:?}"
            );
            // The requests did carry the secrets (so the test would see a leak).
            let wire: String = server.log().iter().map(|r| format!("{}{}", r.head, r.body)).collect();
            assert!(wire.contains(&creds.on_the_wire(api)), "{api:?}");
            shown.push_str(&format!("{c:?}\n"));

            // A refused connection.
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
            let login = Creds { login_at: Some(server.uri()), ..creds.clone() };
            let refused = client_with(api, &format!("http://{closed}"), paused_http(), Transport::default(), &login).await;
            let e = refused.get().await.unwrap_err();
            shown.push_str(&format!("{refused:?}\n{}\n{:?}\n", e.shown, e.kind));
        }
        shown.push_str(&format!(
            "{:?}\n{:?}\n{:?}\n",
            ClientConfig::new(),
            ClientConfig::new().with_same_origin_redirects(3),
            Transport::default()
        ));
        for api in ALL {
            let (creds, _) = canaries(api);
            let auth = Auth::api_key(creds.key.as_str());
            shown.push_str(&format!("{auth:?}\n"));
            let query = Auth::api_key_for_scheme(tonalytica::QUERY_KEY_SCHEME, creds.key.as_str());
            shown.push_str(&format!("{query:?}\n"));
        }
        let secret = analytics_auth::Secret::new(SCOUT_PASSWORD);
        shown.push_str(&format!("{secret:?}\n{secret}\n"));
    });
    drop(runtime);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for api in ALL {
        let operation = format!("operation=\"{}\"", api.get_operation());
        assert!(logs.contains(&operation), "{api:?} logged nothing");
    }
    for (api, secret) in &all_secrets {
        assert!(!logs.contains(secret), "{api:?}: `{secret}` is in the logs");
        assert!(
            !shown.contains(secret),
            "{api:?}: `{secret}` is in Debug/Display output:\n{shown}"
        );
    }
    // The exec span's fields, recorded during the call, show in the logs.
    assert!(logs.contains("api_request"), "{logs}");
    assert!(logs.contains("attempt=2"), "no retry attempt logged");
    // The final status of each call (the retried 503 shows in the `retrying` event instead).
    for status in ["status=200", "status=401", "status=500", "status=400"] {
        assert!(logs.contains(status), "`{status}` not logged");
    }
    assert!(logs.contains("retrying"));
    assert!(shown.contains("could not connect"), "{shown}");
}
