//! Secrets in logs: every client call at TRACE level, with a canary key, under a global
//! subscriber that captures everything this process logs (its own test binary, so no other test
//! shares the subscriber or the callsite interest cache).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use monarc_stats::{types, ApiError, Auth, ClientConfig};
use serde_json::json;
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

/// MONARC successes and failures at TRACE level: the key shows up in no log line, no `Debug` and
/// no `Display`.
#[test]
fn the_key_never_appears_in_logs_debug_or_display() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
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
