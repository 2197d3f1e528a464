//! Wire-level tests of the Scout client: every operation's request bytes and parsed response,
//! the cookie + CSRF login flow, re-login on expiry (single-flight), secret hygiene, TLS with a
//! self-signed server (CA, pinning, fail closed) and archive streaming.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scout::{
    types, ApiError, ArchiveExt, Auth, ClientConfig, CookieSession, ScoutPagesExt, SessionError,
    TimeWindow,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use workspace_tests::received;

const PASSWORD: &str = "pw-canary-Q7mX2v9LkP";
const UA: &str = "user-agent: analytics-clients/0.1.0";
/// What every authenticated request carries after the standard login of [`Wire::start`].
const AUTH: &str = "cookie: x-csrf-token=CSRF123; sid=S1\nuser-agent: analytics-clients/0.1.0\nx-csrf-token: CSRF123";

fn json_response(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

fn text_response(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "text/plain")
}

/// `GET /` sets the CSRF cookie and an anonymous session; `POST /api/v0/login` authenticates
/// the session as `sid`.
async fn mount_login(server: &MockServer, sid: &str) {
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200)
                .append_header("set-cookie", "x-csrf-token=CSRF123; Path=/")
                .append_header("set-cookie", "sid=anon; Path=/; HttpOnly")
                .set_body_raw("<html></html>", "text/html"),
        )
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v0/login"))
        .respond_with(
            json_response(200, json!({"username": "admin"})).append_header(
                "set-cookie",
                format!("sid={sid}; Path=/; HttpOnly").as_str(),
            ),
        )
        .mount(server)
        .await;
}

/// A logged-in client whose server has forgotten the login, ready for one exchange at a time.
struct Wire {
    server: MockServer,
    client: scout::Client,
}

impl Wire {
    async fn start() -> Wire {
        let server = MockServer::start().await;
        mount_login(&server, "S1").await;
        let (client, _session) =
            scout::login(&ClientConfig::new(), &server.uri(), "admin", PASSWORD)
                .await
                .unwrap();
        server.reset().await;
        Wire { server, client }
    }

    /// Forgets earlier requests and mocks; `verb route` answers `response`.
    async fn serve(&self, verb: &str, route: &str, response: ResponseTemplate) {
        self.server.reset().await;
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(response)
            .expect(1)
            .mount(&self.server)
            .await;
    }

    async fn sent(&self) -> String {
        received(&self.server).await
    }
}

/// `METHOD path`, the JSON `accept`, the session headers.
fn get(line: &str) -> String {
    format!("{line}\naccept: application/json\n{AUTH}\n--\n")
}

/// `METHOD path`, `accept: */*` (no typed body), the session headers.
fn bare(line: &str) -> String {
    format!("{line}\naccept: */*\n{AUTH}\n--\n")
}

/// `METHOD path` with a JSON body.
fn with_json(line: &str, body: &str) -> String {
    format!(
        "{line}\naccept: application/json\ncontent-length: {}\ncontent-type: application/json\n{AUTH}\n\n{body}\n--\n",
        body.len()
    )
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_flow_on_the_wire() {
    let server = MockServer::start().await;
    mount_login(&server, "S1").await;
    Mock::given(method("GET"))
        .and(path("/api/v0/robots"))
        .respond_with(json_response(200, json!([{"hostname": "spot1"}])))
        .mount(&server)
        .await;

    let (client, session) = scout::login(&ClientConfig::new(), &server.uri(), "admin", PASSWORD)
        .await
        .unwrap();
    let robots = client.list_robots().send().await.unwrap().into_inner();

    assert_eq!(robots[0].hostname.as_deref(), Some("spot1"));
    assert_eq!(session.login_count(), 1);
    assert_eq!(session.username(), "admin");
    let body = format!("username=admin&password={PASSWORD}");
    assert_eq!(
        received(&server).await,
        format!(
            "GET /\naccept: */*\n{UA}\n--\n\
             POST /api/v0/login\naccept: application/json\ncontent-length: {}\n\
             content-type: application/x-www-form-urlencoded\n\
             cookie: x-csrf-token=CSRF123; sid=anon\n{UA}\nx-csrf-token: CSRF123\n\n{body}\n--\n\
             GET /api/v0/robots\naccept: application/json\n{AUTH}\n--\n",
            body.len()
        )
    );
}

#[tokio::test]
async fn login_without_csrf_cookie_or_with_wrong_password_is_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let http = ClientConfig::new().build().unwrap();
    let err = CookieSession::login(&http, &server.uri(), "admin", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::NoCsrfCookie {
            status: reqwest::StatusCode::OK
        }
    );

    server.reset().await;
    mount_login(&server, "S1").await;
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).append_header("set-cookie", "x-csrf-token=C"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v0/login"))
        .respond_with(text_response(
            401,
            &format!("Unauthorized: admin/{PASSWORD} is not valid"),
        ))
        .mount(&server)
        .await;
    let err = CookieSession::login(&http, &server.uri(), "admin", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "login rejected (401 Unauthorized): Unauthorized: admin/[redacted] is not valid"
    );
}

/// The server's view of sessions: `sid=S<n>` is valid while `n` is the current generation.
#[derive(Clone, Default)]
struct Sessions {
    logins: Arc<AtomicU64>,
    valid: Arc<AtomicU64>,
    api_calls: Arc<AtomicU64>,
    rejected: Arc<AtomicU64>,
    /// When true, even a valid session gets 403 (a permission problem, not expiry).
    deny_all: Arc<std::sync::atomic::AtomicBool>,
}

struct LoginResponder(Sessions);
impl Respond for LoginResponder {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.logins.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.valid.store(n, Ordering::SeqCst);
        json_response(200, json!({"username": "admin"}))
            .append_header("set-cookie", format!("sid=S{n}; Path=/").as_str())
    }
}

struct ApiResponder(Sessions);
impl Respond for ApiResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.api_calls.fetch_add(1, Ordering::SeqCst);
        let valid = format!("sid=S{}", self.0.valid.load(Ordering::SeqCst));
        let cookie = request
            .headers
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let csrf_ok = request.headers.get("x-csrf-token").is_some();
        let allowed = !self.0.deny_all.load(Ordering::SeqCst);
        if allowed && csrf_ok && cookie.split("; ").any(|c| c == valid) {
            json_response(200, json!([{"hostname": "spot1"}]))
                // Slow enough that the 50 callers overlap.
                .set_delay(Duration::from_millis(20))
        } else {
            self.0.rejected.fetch_add(1, Ordering::SeqCst);
            // Late enough that all 50 callers have sent their request with the expired session
            // before the first rejection starts the re-login.
            text_response(403, "Forbidden").set_delay(Duration::from_millis(50))
        }
    }
}

async fn session_server(sessions: &Sessions) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200).append_header("set-cookie", "x-csrf-token=CSRF123"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v0/login"))
        .respond_with(LoginResponder(sessions.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v0/robots"))
        .respond_with(ApiResponder(sessions.clone()))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_session_relogs_in_once_for_50_concurrent_callers() {
    let sessions = Sessions::default();
    let server = session_server(&sessions).await;
    let (client, session) = scout::login(&ClientConfig::new(), &server.uri(), "admin", PASSWORD)
        .await
        .unwrap();
    session.set_relogin_cooldown(Duration::ZERO);
    assert_eq!(
        client
            .list_robots()
            .send()
            .await
            .unwrap()
            .into_inner()
            .len(),
        1
    );

    // The session expires on the server.
    sessions.valid.store(0, Ordering::SeqCst);
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_robots().send().await.map(|r| r.into_inner()) })
    });
    let results = futures::future::join_all(calls).await;

    for result in results {
        assert_eq!(
            result.unwrap().unwrap()[0].hostname.as_deref(),
            Some("spot1")
        );
    }
    assert_eq!(
        sessions.logins.load(Ordering::SeqCst),
        2,
        "one login + one re-login"
    );
    assert_eq!(session.login_count(), 2);
    assert_eq!(sessions.rejected.load(Ordering::SeqCst), 50);
    // 1 before expiry, 50 rejected, 50 resent.
    assert_eq!(sessions.api_calls.load(Ordering::SeqCst), 101);
}

#[tokio::test]
async fn second_403_is_a_typed_error_and_fresh_sessions_do_not_relogin() {
    let sessions = Sessions::default();
    let server = session_server(&sessions).await;
    let (client, session) = scout::login(&ClientConfig::new(), &server.uri(), "admin", PASSWORD)
        .await
        .unwrap();
    sessions.deny_all.store(true, Ordering::SeqCst);

    // Old enough to count as expired: one re-login, one resend, then a typed error.
    session.set_relogin_cooldown(Duration::ZERO);
    let err = ApiError::from(client.list_robots().send().await.unwrap_err());
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err:?}");
    assert_eq!(err.status(), Some(reqwest::StatusCode::FORBIDDEN));
    assert_eq!(sessions.logins.load(Ordering::SeqCst), 2);
    assert_eq!(sessions.api_calls.load(Ordering::SeqCst), 2);

    // A session just established that is refused is "not allowed", not "expired": no re-login.
    session.set_relogin_cooldown(Duration::from_secs(3600));
    let err = ApiError::from(client.list_robots().send().await.unwrap_err());
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err:?}");
    assert_eq!(sessions.logins.load(Ordering::SeqCst), 2);
    assert_eq!(sessions.api_calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn failed_relogin_returns_the_403_without_looping() {
    let sessions = Sessions::default();
    let server = session_server(&sessions).await;
    let (client, session) = scout::login(&ClientConfig::new(), &server.uri(), "admin", PASSWORD)
        .await
        .unwrap();
    session.set_relogin_cooldown(Duration::ZERO);
    sessions.valid.store(0, Ordering::SeqCst);
    // The password was changed: login now answers 401.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).append_header("set-cookie", "x-csrf-token=C2"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v0/login"))
        .respond_with(text_response(401, "Unauthorized"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v0/robots"))
        .respond_with(ApiResponder(sessions.clone()))
        .expect(1)
        .mount(&server)
        .await;

    let err = ApiError::from(client.list_robots().send().await.unwrap_err());
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err:?}");
    assert_eq!(session.login_count(), 1);
    server.verify().await;
}

// ---------------------------------------------------------------------------------------------
// Secrets never shown
// ---------------------------------------------------------------------------------------------

/// Records every tracing event and span field, formatted with `Debug`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);
impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.0.lock().unwrap();
        out.push_str(span.metadata().name());
        out.push(' ');
        span.record(&mut Fields(&mut out));
        out.push('\n');
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        event.record(&mut Fields(&mut out));
        out.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn password_cookies_and_csrf_token_never_in_debug_errors_or_logs() {
    const CSRF: &str = "csrf-canary-8dK2pQ";
    const SID: &str = "sid-canary-Vb71Hs";
    let capture = Capture::default();
    let _guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(capture.clone()));

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200)
                .append_header("set-cookie", format!("x-csrf-token={CSRF}").as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v0/login"))
        .respond_with(
            json_response(200, json!({"username": "admin"}))
                .append_header("set-cookie", format!("sid={SID}").as_str()),
        )
        .mount(&server)
        .await;
    // Every API call is refused, echoing the cookies it got.
    Mock::given(method("GET"))
        .and(path("/api/v0/robots"))
        .respond_with(
            text_response(403, "Forbidden")
                .append_header("set-cookie", format!("sid={SID}").as_str()),
        )
        .mount(&server)
        .await;

    let (client, session) = scout::login(&ClientConfig::new(), &server.uri(), "admin", PASSWORD)
        .await
        .unwrap();
    session.set_relogin_cooldown(Duration::ZERO);
    let err = ApiError::from(client.list_robots().send().await.unwrap_err());

    // A rejected login whose body echoes the password.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200)
                .append_header("set-cookie", format!("x-csrf-token={CSRF}").as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v0/login"))
        .respond_with(text_response(401, &format!("bad password {PASSWORD}")))
        .mount(&server)
        .await;
    let http = ClientConfig::new().build().unwrap();
    let login_err = CookieSession::login(&http, &server.uri(), "admin", PASSWORD)
        .await
        .unwrap_err();

    let shown = format!(
        "{session:?} {session:#?} {client:?} {auth:?} {err} {err:?} {login_err} {login_err:?} {logs}",
        auth = Auth::custom(session.clone()),
        logs = capture.0.lock().unwrap(),
    );
    for canary in [PASSWORD, CSRF, SID] {
        assert!(!shown.contains(canary), "{canary} leaked in:\n{shown}");
    }
    assert!(shown.contains("[redacted]"));
    // The logs did record the flow (so the check above is not vacuous).
    assert!(shown.contains("logging in again"), "{shown}");
    assert_eq!(session.login_count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Every operation: request bytes and parsed response
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_session_operation() {
    let w = Wire::start().await;
    w.serve(
        "POST",
        "/api/v0/login",
        json_response(200, json!({"username": "admin"})),
    )
    .await;
    let out = w
        .client
        .create_session()
        .x_csrf_token("CSRF123")
        .body(types::LoginForm {
            username: "admin".into(),
            password: "p w".into(),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.username.as_deref(), Some("admin"));
    // `security: []`: the generated operation sends only what it is given (no session cookie).
    assert_eq!(
        w.sent().await,
        format!(
            "POST /api/v0/login\naccept: application/json\ncontent-length: 27\n\
             content-type: application/x-www-form-urlencoded\n{UA}\nx-csrf-token: CSRF123\n\n\
             password=p+w&username=admin\n--\n"
        )
    );
}

#[tokio::test]
async fn missions() {
    let w = Wire::start().await;
    let mission = json!({"uuid": "m-uuid", "mission_id": "m-id", "name": "Boiler", "saved_at": "2023-06-05T19:29:35.066Z"});
    w.serve(
        "GET",
        "/api/v0/missions",
        json_response(200, json!([mission])),
    )
    .await;
    let list = w.client.list_missions().send().await.unwrap().into_inner();
    assert_eq!(list[0].mission_id.as_deref(), Some("m-id"));
    assert_eq!(
        list[0].saved_at.map(|t| t.to_rfc3339()),
        Some("2023-06-05T19:29:35.066+00:00".to_string())
    );
    assert_eq!(w.sent().await, get("GET /api/v0/missions"));

    w.serve(
        "GET",
        "/api/v0/missions/m%20uuid",
        json_response(200, mission),
    )
    .await;
    let one = w
        .client
        .get_mission()
        .mission_id("m uuid")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.name.as_deref(), Some("Boiler"));
    assert_eq!(w.sent().await, get("GET /api/v0/missions/m%20uuid"));

    w.serve(
        "DELETE",
        "/api/v0/missions/m-uuid",
        ResponseTemplate::new(200),
    )
    .await;
    w.client
        .delete_mission()
        .mission_id("m-uuid")
        .send()
        .await
        .unwrap();
    assert_eq!(w.sent().await, bare("DELETE /api/v0/missions/m-uuid"));

    w.serve(
        "DELETE",
        "/api/v0/missions/m-uuid",
        text_response(500, "Could not delete mission."),
    )
    .await;
    let err = ApiError::from(
        w.client
            .delete_mission()
            .mission_id("m-uuid")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err.to_string(),
        "unexpected response 500 Internal Server Error (text/plain): Could not delete mission."
    );
}

#[tokio::test]
async fn robots() {
    let w = Wire::start().await;
    let robot = json!({"robotIndex": 0, "hostname": "192.168.80.3", "nickname": "spot1", "username": "scout"});
    w.serve("GET", "/api/v0/robots", json_response(200, json!([robot])))
        .await;
    let list = w.client.list_robots().send().await.unwrap().into_inner();
    assert_eq!(list[0].robot_index, Some(0));
    assert_eq!(w.sent().await, get("GET /api/v0/robots"));

    w.serve(
        "POST",
        "/api/v0/robots",
        json_response(200, json!({"robotIndex": 3})),
    )
    .await;
    let created = w
        .client
        .create_robot()
        .body(types::RobotCreate {
            hostname: Some("192.168.80.3".into()),
            nickname: Some("spot1".into()),
            username: Some("scout".into()),
            password: Some("pw".into()),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.robot_index, Some(3));
    assert_eq!(
        w.sent().await,
        with_json(
            "POST /api/v0/robots",
            r#"{"hostname":"192.168.80.3","nickname":"spot1","password":"pw","username":"scout"}"#
        )
    );

    w.serve(
        "GET",
        "/api/v0/robots/192.168.80.3",
        json_response(200, robot),
    )
    .await;
    let one = w
        .client
        .get_robot()
        .robot_hostname("192.168.80.3")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.nickname.as_deref(), Some("spot1"));
    assert_eq!(w.sent().await, get("GET /api/v0/robots/192.168.80.3"));

    w.serve(
        "GET",
        "/api/v0/robots/nope",
        text_response(404, "Could not find robot"),
    )
    .await;
    let err = ApiError::from(
        w.client
            .get_robot()
            .robot_hostname("nope")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");

    w.serve(
        "DELETE",
        "/api/v0/robots/192.168.80.3",
        ResponseTemplate::new(200),
    )
    .await;
    w.client
        .delete_robot()
        .robot_hostname("192.168.80.3")
        .send()
        .await
        .unwrap();
    assert_eq!(w.sent().await, bare("DELETE /api/v0/robots/192.168.80.3"));
}

fn run_json(uuid: &str, end: serde_json::Value) -> serde_json::Value {
    json!({
        "actionCount": 12, "pendingActionCount": 0, "uuid": uuid, "runType": "mission",
        "startTime": "2023-06-05T19:29:35.066Z", "endTime": end,
        "robotHostname": "192.168.80.3", "robotSerial": "spot-BD-1", "robotNickname": "spot1",
        "operatorId": "admin", "missionStatus": "SUCCESS", "missionName": "Boiler",
        "robotSoftwareMajorVersion": 3, "robotSoftwareMinorVersion": 3,
        "robotSoftwarePatchVersion": 2, "robotSoftwareGitHash": "6a03ae12"
    })
}

#[tokio::test]
async fn runs() {
    let w = Wire::start().await;
    let page = json!({"limit": 5, "offset": 10, "total": 42, "resources": [run_json("r1", json!("2023-06-05T19:52:10.000Z"))]});
    w.serve("GET", "/api/v0/runs/", json_response(200, page))
        .await;
    let t = chrono::DateTime::parse_from_rfc3339("2023-06-05T19:29:35.066Z")
        .unwrap()
        .to_utc();
    let out = w
        .client
        .list_runs()
        .start_time(t)
        .end_time(t)
        .modified_at(t)
        .missions(vec!["Boiler room".to_string(), "Roof".to_string()])
        .robots(vec!["spot1".to_string(), "spot2".to_string()])
        .types(vec![
            types::ListRunsTypesItem::try_from(0).unwrap(),
            types::ListRunsTypesItem::try_from(1).unwrap(),
        ])
        .robot_hostname("h")
        .robot_nickname("n")
        .robot_serial("s")
        .limit(5)
        .offset(10)
        .order_by("newest")
        .format(types::ListRunsFormat::Json)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (out.limit, out.offset, out.total),
        (Some(5), Some(10), Some(42))
    );
    let run = &out.resources[0];
    assert_eq!(run.mission_status.as_deref(), Some("SUCCESS"));
    assert_eq!(run.robot_software_git_hash.as_deref(), Some("6a03ae12"));
    assert!(run.end_time.is_some());
    let ts = "2023-06-05T19%3A29%3A35.066Z";
    assert_eq!(
        w.sent().await,
        get(&format!(
            "GET /api/v0/runs/?endTime={ts}&format=json&limit=5&missions=Boiler+room%2CRoof&modifiedAt={ts}\
             &offset=10&orderBy=newest&robotHostname=h&robotNickname=n&robotSerial=s\
             &robots=spot1%2Cspot2&startTime={ts}&types=0%2C1"
        ))
    );

    // A run in progress: `endTime` null (and other fields missing).
    w.serve(
        "GET",
        "/api/v0/runs/r2",
        json_response(
            200,
            json!({"uuid": "r2", "endTime": null, "missionStatus": "RUNNING"}),
        ),
    )
    .await;
    let run = w
        .client
        .get_run()
        .run_uuid("r2")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(run.end_time, None);
    assert_eq!(run.action_count, None);
    assert_eq!(w.sent().await, get("GET /api/v0/runs/r2"));
}

fn event_json(uuid: &str, created_at: &str) -> serde_json::Value {
    json!({
        "uuid": uuid, "runUuid": "r1", "time": "2023-06-05T19:31:02.000Z", "createdAt": created_at,
        "actionName": "Gauge 1", "actionRunArchiveFileUrl": "/data/a.zip", "error": 0,
        "actionUuid": "a1", "missionName": "Boiler", "metadataFileUrl": "/data/m.json",
        "eventType": "daq",
        "dataCaptures": [{"uuid": "c1", "dataUrl": "/data/c1.jpg", "keyResults": [{"value": 42}], "channelName": "ptz"}]
    })
}

#[tokio::test]
async fn run_events_and_captures() {
    let w = Wire::start().await;
    let t = chrono::DateTime::parse_from_rfc3339("2023-06-05T19:29:35.066Z")
        .unwrap()
        .to_utc();
    let ts = "2023-06-05T19%3A29%3A35.066Z";
    w.serve(
        "GET",
        "/api/v0/run_events/",
        json_response(200, json!({"limit": 20, "offset": 0, "total": 1, "resources": [event_json("e1", "2023-06-05T19:31:05.412Z")]})),
    )
    .await;
    let page = w
        .client
        .list_run_events()
        .uuid("e1")
        .run_uuid("r1")
        .action_uuid("a1")
        .robot_hostname("h")
        .robot_nickname("n")
        .robot_serial("s")
        .mission_name("Boiler")
        .start_time(t)
        .end_time(t)
        .start_created_at(t)
        .end_created_at(t)
        .limit(20)
        .order_by("-created_at")
        .send()
        .await
        .unwrap()
        .into_inner();
    let event = &page.resources[0];
    assert_eq!(event.event_type, Some(types::RunEventEventType::Daq));
    assert_eq!(
        event.data_captures[0].data_url.as_deref(),
        Some("/data/c1.jpg")
    );
    assert_eq!(event.data_captures[0].key_results[0]["value"], json!(42));
    assert_eq!(
        w.sent().await,
        get(&format!(
            "GET /api/v0/run_events/?actionUuid=a1&endCreatedAt={ts}&endTime={ts}&limit=20\
             &missionName=Boiler&orderBy=-created_at&robotHostname=h&robotNickname=n&robotSerial=s\
             &runUuid=r1&startCreatedAt={ts}&startTime={ts}&uuid=e1"
        ))
    );

    w.serve(
        "GET",
        "/api/v0/run_events/e1",
        json_response(200, event_json("e1", "2023-06-05T19:31:05.412Z")),
    )
    .await;
    let one = w
        .client
        .get_run_event()
        .run_event_uuid("e1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.action_name.as_deref(), Some("Gauge 1"));
    assert_eq!(w.sent().await, get("GET /api/v0/run_events/e1"));

    let capture = json!({"time": "2023-06-05T19:31:02.000Z", "uuid": "c1", "runEventUuid": "e1",
        "dataUrl": "/data/c1.jpg", "createdAt": "2023-06-05T19:31:05.412Z", "keyResults": [],
        "channelName": "ptz", "actionChannelRunFlagUuid": "f1"});
    w.serve(
        "GET",
        "/api/v0/run_captures/",
        json_response(
            200,
            json!({"limit": 20, "offset": 0, "total": 1, "resources": [capture]}),
        ),
    )
    .await;
    let page = w
        .client
        .list_run_captures()
        .uuid("c1")
        .run_event_uuid("e1")
        .action_uuid("a1")
        .action_name("Gauge 1")
        .robot_hostname("h")
        .robot_nickname("n")
        .robot_serial("s")
        .mission_name("Boiler")
        .start_created_at(t)
        .end_created_at(t)
        .limit(20)
        .order_by("-created_at")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.resources[0].run_event_uuid.as_deref(), Some("e1"));
    assert_eq!(
        w.sent().await,
        get(&format!(
            "GET /api/v0/run_captures/?actionName=Gauge+1&actionUuid=a1&endCreatedAt={ts}&limit=20\
             &missionName=Boiler&orderBy=-created_at&robotHostname=h&robotNickname=n&robotSerial=s\
             &runEventUuid=e1&startCreatedAt={ts}&uuid=c1"
        ))
    );

    w.serve(
        "GET",
        "/api/v0/run_captures/c1",
        json_response(200, capture),
    )
    .await;
    let one = w
        .client
        .get_run_capture()
        .run_capture_uuid("c1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.channel_name.as_deref(), Some("ptz"));
    assert_eq!(w.sent().await, get("GET /api/v0/run_captures/c1"));
}

#[tokio::test]
async fn run_archive_bytes() {
    let w = Wire::start().await;
    w.serve(
        "GET",
        "/api/v0/run_archives/r1",
        ResponseTemplate::new(200).set_body_raw(b"PK\x03\x04zip".to_vec(), "application/zip"),
    )
    .await;
    let body = w
        .client
        .get_run_archive()
        .run_id("r1")
        .send()
        .await
        .unwrap()
        .into_inner();
    let bytes: Vec<u8> =
        futures::TryStreamExt::try_concat(futures::TryStreamExt::map_ok(body.into_inner(), |b| {
            b.to_vec()
        }))
        .await
        .unwrap();
    assert_eq!(bytes, b"PK\x03\x04zip");
    assert_eq!(w.sent().await, bare("GET /api/v0/run_archives/r1"));
}

#[tokio::test]
async fn run_facets() {
    let w = Wire::start().await;
    let actions = json!([{"id": "a1", "name": "Gauge 1", "channels": ["ptz", "thermal"]}]);
    w.serve(
        "GET",
        "/api/v0/runs/facets/actions",
        json_response(200, actions.clone()),
    )
    .await;
    let out = w
        .client
        .list_action_facets()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].channels, ["ptz", "thermal"]);
    assert_eq!(w.sent().await, get("GET /api/v0/runs/facets/actions"));

    w.serve(
        "GET",
        "/api/v0/runs/facets/actions/Boiler%20room",
        json_response(200, actions),
    )
    .await;
    let out = w
        .client
        .list_mission_action_facets()
        .mission_name("Boiler room")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].name.as_deref(), Some("Gauge 1"));
    assert_eq!(
        w.sent().await,
        get("GET /api/v0/runs/facets/actions/Boiler%20room")
    );

    // Scout 3.2 shape, then the 3.3 envelope.
    w.serve(
        "GET",
        "/api/v0/runs/facets/missions",
        json_response(200, json!([{"mission_name": "Boiler"}])),
    )
    .await;
    let out = w
        .client
        .list_mission_facets()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(out, types::MissionFacets::Array(ref items) if items.len() == 1),
        "{out:?}"
    );
    assert_eq!(w.sent().await, get("GET /api/v0/runs/facets/missions"));
    w.serve(
        "GET",
        "/api/v0/runs/facets/missions",
        json_response(200, json!({"limit": 20, "offset": 0, "total": 1, "resources": [{"missionName": "Boiler", "sessionCount": 42, "lastRunStartTime": "2023-06-05T19:29:35.066Z"}]})),
    )
    .await;
    let out = w
        .client
        .list_mission_facets()
        .send()
        .await
        .unwrap()
        .into_inner();
    let types::MissionFacets::MissionFacetPage(page) = out else {
        panic!("{out:?}")
    };
    assert_eq!(page.resources[0].session_count, Some(42));

    w.serve(
        "GET",
        "/api/v0/runs/facets/robots",
        json_response(
            200,
            json!([{"robot_hostname": "h", "robot_serial": "s", "robot_nickname": "n"}]),
        ),
    )
    .await;
    let out = w
        .client
        .list_robot_facets()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].robot_serial.as_deref(), Some("s"));
    assert_eq!(w.sent().await, get("GET /api/v0/runs/facets/robots"));
}

#[tokio::test]
async fn site_walks() {
    let w = Wire::start().await;
    let walk = json!({"uuid": "w1", "name": "Boiler room", "siteElementIds": ["el1"], "siteDockIds": {}, "preferRecordedRoutes": true});
    w.serve(
        "GET",
        "/api/v0/site_walks/",
        json_response(200, json!([walk])),
    )
    .await;
    let out = w
        .client
        .list_site_walks()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].site_element_ids, ["el1"]);
    assert_eq!(w.sent().await, get("GET /api/v0/site_walks/"));

    w.serve(
        "POST",
        "/api/v0/site_walks",
        json_response(200, walk.clone()),
    )
    .await;
    let body: types::SiteWalk =
        serde_json::from_value(json!({"uuid": "w1", "name": "Boiler room"})).unwrap();
    let out = w
        .client
        .create_site_walk()
        .body(types::CreateSiteWalkBody::SiteWalk(body))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.prefer_recorded_routes, Some(true));
    assert_eq!(
        w.sent().await,
        with_json(
            "POST /api/v0/site_walks",
            r#"{"name":"Boiler room","uuid":"w1"}"#
        )
    );

    w.serve("GET", "/api/v0/site_walks/w1", json_response(200, walk))
        .await;
    let out = w
        .client
        .get_site_walk()
        .uuid("w1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.name.as_deref(), Some("Boiler room"));
    assert_eq!(w.sent().await, get("GET /api/v0/site_walks/w1"));

    w.serve(
        "DELETE",
        "/api/v0/site_walks/w1",
        ResponseTemplate::new(200),
    )
    .await;
    w.client.delete_site_walk().uuid("w1").send().await.unwrap();
    assert_eq!(w.sent().await, bare("DELETE /api/v0/site_walks/w1"));

    w.serve(
        "POST",
        "/api/v0/site_walks/export_as_walk/w1",
        json_response(200, json!({"walk": {"elements": []}})),
    )
    .await;
    let out = w
        .client
        .export_site_walk()
        .uuid("w1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.0, json!({"walk": {"elements": []}}));
    assert_eq!(
        w.sent().await,
        get("POST /api/v0/site_walks/export_as_walk/w1")
    );

    w.serve(
        "POST",
        "/api/v0/site_walks/import_from_walk",
        json_response(200, json!({"uuid": "w2"})),
    )
    .await;
    let out = w
        .client
        .import_site_walk()
        .body(types::UndocumentedJson(json!({"walk": {"elements": []}})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.0["uuid"], "w2");
    assert_eq!(
        w.sent().await,
        with_json(
            "POST /api/v0/site_walks/import_from_walk",
            r#"{"walk":{"elements":[]}}"#
        )
    );
}

#[tokio::test]
async fn site_elements_and_docks() {
    let w = Wire::start().await;
    let element = json!({"uuid": "el1", "name": "Gauge 1", "waypointId": "wp", "waypointMaxDistance": 0.5, "waypointMaxYaw": 0.2, "action": {}});
    w.serve(
        "GET",
        "/api/v0/site_elements/",
        json_response(200, json!([element])),
    )
    .await;
    let out = w
        .client
        .list_site_elements()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].waypoint_max_distance, Some(0.5));
    assert_eq!(w.sent().await, get("GET /api/v0/site_elements/"));

    w.serve(
        "POST",
        "/api/v0/site_elements",
        json_response(200, json!([element])),
    )
    .await;
    let body: Vec<types::SiteElement> =
        serde_json::from_value(json!([{"uuid": "el1", "name": "Gauge 1"}])).unwrap();
    let out = w
        .client
        .create_site_element()
        .body(types::CreateSiteElementBody::Array(body))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].waypoint_id.as_deref(), Some("wp"));
    assert_eq!(
        w.sent().await,
        with_json(
            "POST /api/v0/site_elements",
            r#"[{"name":"Gauge 1","uuid":"el1"}]"#
        )
    );

    w.serve(
        "GET",
        "/api/v0/site_elements/el1",
        json_response(200, element),
    )
    .await;
    let out = w
        .client
        .get_site_element()
        .uuid("el1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.waypoint_max_yaw, Some(0.2));
    assert_eq!(w.sent().await, get("GET /api/v0/site_elements/el1"));

    let dock = json!({"uuid": "d1", "name": "520", "dockedWaypointId": "wp", "targetPrepPose": {}});
    w.serve(
        "GET",
        "/api/v0/site_docks/",
        json_response(200, json!([dock])),
    )
    .await;
    let out = w
        .client
        .list_site_docks()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].name.as_deref(), Some("520"));
    assert_eq!(w.sent().await, get("GET /api/v0/site_docks/"));

    w.serve(
        "POST",
        "/api/v0/site_docks",
        json_response(200, json!([dock])),
    )
    .await;
    let body: types::SiteDock =
        serde_json::from_value(json!({"uuid": "d1", "name": "520"})).unwrap();
    let out = w
        .client
        .create_site_dock()
        .body(types::CreateSiteDockBody::SiteDock(body))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out[0].docked_waypoint_id.as_deref(), Some("wp"));
    assert_eq!(
        w.sent().await,
        with_json("POST /api/v0/site_docks", r#"{"name":"520","uuid":"d1"}"#)
    );

    w.serve("GET", "/api/v0/site_docks/d1", json_response(200, dock))
        .await;
    let out = w
        .client
        .get_site_dock()
        .uuid("d1")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.uuid.as_deref(), Some("d1"));
    assert_eq!(w.sent().await, get("GET /api/v0/site_docks/d1"));
}

#[tokio::test]
async fn system_and_calendar() {
    let w = Wire::start().await;
    w.serve(
        "GET",
        "/api/v0/version/",
        json_response(200, json!({"version": "3.3.2"})),
    )
    .await;
    let out = w.client.get_version().send().await.unwrap().into_inner();
    assert_eq!(out.0["version"], "3.3.2");
    assert_eq!(w.sent().await, get("GET /api/v0/version/"));

    w.serve(
        "GET",
        "/api/v0/settings/system-time/",
        json_response(200, json!({"msSinceEpoch": 1685993375066i64})),
    )
    .await;
    let out = w
        .client
        .get_system_time()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        out.ms_since_epoch.map(|v| v.to_string()).as_deref(),
        Some("1685993375066")
    );
    assert_eq!(w.sent().await, get("GET /api/v0/settings/system-time/"));
    // The numeric-string form the official client also copes with.
    w.serve(
        "GET",
        "/api/v0/settings/system-time/",
        json_response(200, json!({"msSinceEpoch": "1685993375066"})),
    )
    .await;
    let out = w
        .client
        .get_system_time()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        out.ms_since_epoch,
        Some(types::SystemTimeMsSinceEpoch::String(_))
    ));

    w.serve(
        "GET",
        "/api/v0/calendar/schedule/",
        json_response(200, json!({"schedule": []})),
    )
    .await;
    let out = w
        .client
        .list_calendar_events()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.0, json!({"schedule": []}));
    assert_eq!(w.sent().await, get("GET /api/v0/calendar/schedule/"));

    w.serve(
        "POST",
        "/api/v0/calendar/set",
        json_response(200, json!({"ok": true})),
    )
    .await;
    let out = w
        .client
        .set_calendar_event()
        .body(types::UndocumentedJson(json!({"missionId": "m1"})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.0["ok"], true);
    assert_eq!(
        w.sent().await,
        with_json("POST /api/v0/calendar/set", r#"{"missionId":"m1"}"#)
    );

    w.serve(
        "POST",
        "/api/v0/calendar/delete",
        json_response(200, json!({"ok": true})),
    )
    .await;
    w.client
        .delete_calendar_event()
        .body(types::UndocumentedJson(json!({"eventId": "ev1"})))
        .send()
        .await
        .unwrap();
    assert_eq!(
        w.sent().await,
        with_json("POST /api/v0/calendar/delete", r#"{"eventId":"ev1"}"#)
    );
}

// ---------------------------------------------------------------------------------------------
// Page streams
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn runs_stream_pages_with_offset_until_total() {
    let w = Wire::start().await;
    w.server.reset().await;
    for (offset, uuids) in [
        ("0", vec!["r1", "r2"]),
        ("2", vec!["r3", "r4"]),
        ("4", vec!["r5"]),
    ] {
        let resources: Vec<_> = uuids.iter().map(|u| run_json(u, json!(null))).collect();
        Mock::given(method("GET"))
            .and(path("/api/v0/runs/"))
            .and(wiremock::matchers::query_param("offset", offset))
            .respond_with(json_response(
                200,
                json!({"limit": 2, "offset": offset.parse::<i64>().unwrap(), "total": 5, "resources": resources}),
            ))
            .expect(1)
            .mount(&w.server)
            .await;
    }
    let runs: Vec<types::Run> = futures::TryStreamExt::try_collect(w.client.runs_stream(2, |b| {
        b.robots(vec!["spot1".to_string(), "spot2".to_string()])
    }))
    .await
    .unwrap();
    let uuids: Vec<_> = runs.iter().filter_map(|r| r.uuid.as_deref()).collect();
    assert_eq!(uuids, ["r1", "r2", "r3", "r4", "r5"]);
    let sent = w.sent().await;
    assert!(
        sent.starts_with("GET /api/v0/runs/?limit=2&offset=0&robots=spot1%2Cspot2\n")
            || sent.starts_with("GET /api/v0/runs/?robots=spot1%2Cspot2&limit=2&offset=0\n"),
        "{sent}"
    );
}

#[tokio::test]
async fn run_events_stream_pages_by_time_window_without_losing_shared_milliseconds() {
    let w = Wire::start().await;
    w.server.reset().await;
    // Newest first; e2 and e3 share a millisecond across the page boundary.
    let pages = [
        (
            "2023-06-06T00%3A00%3A00Z",
            vec![
                ("e1", "2023-06-05T12:00:00.300Z"),
                ("e2", "2023-06-05T12:00:00.200Z"),
            ],
        ),
        (
            "2023-06-05T12%3A00%3A00.201Z",
            vec![
                ("e2", "2023-06-05T12:00:00.200Z"),
                ("e3", "2023-06-05T12:00:00.200Z"),
            ],
        ),
        (
            "2023-06-05T12%3A00%3A00.201Z",
            vec![
                ("e3", "2023-06-05T12:00:00.200Z"),
                ("e4", "2023-06-05T11:00:00Z"),
            ],
        ),
        (
            "2023-06-05T11%3A00%3A00.001Z",
            vec![("e4", "2023-06-05T11:00:00Z")],
        ),
    ];
    let served = Arc::new(AtomicU64::new(0));
    struct Pages(
        Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
        Arc<AtomicU64>,
    );
    impl Respond for Pages {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            let i = self.1.fetch_add(1, Ordering::SeqCst) as usize;
            let (end, items) = &self.0[i];
            let query = request.url.query().unwrap_or("");
            assert!(
                query.contains(&format!("endCreatedAt={end}")),
                "page {i}: {query}"
            );
            assert!(
                query.contains("startCreatedAt=2023-06-05T00%3A00%3A00Z"),
                "{query}"
            );
            assert!(query.contains("orderBy=-created_at") && query.contains("limit=2"));
            let resources: Vec<_> = items.iter().map(|(u, c)| event_json(u, c)).collect();
            json_response(
                200,
                json!({"limit": 2, "offset": 0, "total": 99, "resources": resources}),
            )
        }
    }
    Mock::given(method("GET"))
        .and(path("/api/v0/run_events/"))
        .respond_with(Pages(pages.to_vec(), served.clone()))
        .mount(&w.server)
        .await;

    let window = TimeWindow::new(
        "2023-06-05T00:00:00Z".parse().unwrap(),
        "2023-06-06T00:00:00Z".parse().unwrap(),
    );
    let events: Vec<types::RunEvent> = futures::TryStreamExt::try_collect(
        w.client.run_events_stream(window, 2, |b| b.run_uuid("r1")),
    )
    .await
    .unwrap();
    let uuids: Vec<_> = events.iter().filter_map(|e| e.uuid.as_deref()).collect();
    assert_eq!(uuids, ["e1", "e2", "e3", "e4"]);
    assert_eq!(served.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn run_captures_stream_stops_on_a_short_page() {
    let w = Wire::start().await;
    w.serve(
        "GET",
        "/api/v0/run_captures/",
        json_response(
            200,
            json!({"limit": 10, "offset": 0, "total": 1, "resources": [
                {"uuid": "c1", "createdAt": "2023-06-05T12:00:00.000Z"}
            ]}),
        ),
    )
    .await;
    let window = TimeWindow::last(
        chrono::Duration::days(1),
        "2023-06-06T00:00:00Z".parse().unwrap(),
    );
    let captures: Vec<types::RunCapture> = futures::TryStreamExt::try_collect(
        w.client
            .run_captures_stream(window, 10, |b| b.run_event_uuid("e1")),
    )
    .await
    .unwrap();
    assert_eq!(captures.len(), 1);
    let ts_start = "2023-06-05T00%3A00%3A00Z";
    let ts_end = "2023-06-06T00%3A00%3A00Z";
    assert_eq!(
        w.sent().await,
        get(&format!(
            "GET /api/v0/run_captures/?endCreatedAt={ts_end}&limit=10&orderBy=-created_at\
             &runEventUuid=e1&startCreatedAt={ts_start}"
        ))
    );
}

// ---------------------------------------------------------------------------------------------
// Archive streaming
// ---------------------------------------------------------------------------------------------

/// Peak resident set size of this process so far, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_download_streams_a_large_body_to_a_file() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SIZE: u64 = 200 * 1024 * 1024;
    // Byte i of the body is `i % 251`; a chunk of a multiple of 251 bytes is the same every time.
    const CHUNK: usize = 251 * 256;
    fn pattern() -> Vec<u8> {
        (0..CHUNK).map(|i| (i % 251) as u8).collect()
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            head.extend_from_slice(&buf[..n]);
        }
        assert!(head.starts_with(b"GET /api/v0/run_archives/r1 HTTP/1.1\r\n"));
        let header = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/zip\r\ncontent-length: {SIZE}\r\n\r\n"
        );
        socket.write_all(header.as_bytes()).await.unwrap();
        let chunk = pattern();
        let mut sent = 0u64;
        while sent < SIZE {
            let n = CHUNK.min((SIZE - sent) as usize);
            socket.write_all(&chunk[..n]).await.unwrap();
            sent += n as u64;
        }
        let _ = socket.shutdown().await;
    });

    let client = scout::Client::new_with_client(
        &format!("http://{addr}/api/v0"),
        ClientConfig::new()
            .with_timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
        Auth::none(),
    );
    let dir = std::env::temp_dir().join(format!("scout-archive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("r1.zip");
    let before = peak_rss_kib();
    let written = client.download_run_archive("r1", &file).await.unwrap();
    let after = peak_rss_kib();

    assert_eq!(written, SIZE);
    assert!(!dir.join("r1.zip.part").exists());
    assert_eq!(std::fs::metadata(&file).unwrap().len(), SIZE);
    let expected = pattern();
    let mut f = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while offset < SIZE {
        let n = CHUNK.min((SIZE - offset) as usize);
        std::io::Read::read_exact(&mut f, &mut buf[..n]).unwrap();
        assert!(
            buf[..n] == expected[..n],
            "content differs in the chunk at {offset}"
        );
        offset += n as u64;
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "archive streaming: {} MiB written; peak RSS {} KiB before, {} KiB after (growth {} KiB)",
        SIZE >> 20,
        before,
        after,
        after.saturating_sub(before)
    );
    // The whole body in memory would add 200 MiB.
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "peak RSS grew by {} KiB",
        after - before
    );
}

#[tokio::test]
async fn archive_download_error_leaves_no_file() {
    let w = Wire::start().await;
    w.serve(
        "GET",
        "/api/v0/run_archives/r1",
        text_response(500, "Could not generate file."),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("scout-archive-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = w
        .client
        .download_run_archive("r1", dir.join("r1.zip"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Could not generate file."),
        "{err}"
    );
    assert!(!dir.join("r1.zip").exists() && !dir.join("r1.zip.part").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn runs_csv_download() {
    let w = Wire::start().await;
    let csv = "uuid,missionName\nr1,Boiler\n";
    w.serve(
        "GET",
        "/api/v0/runs/",
        ResponseTemplate::new(200).set_body_raw(csv, "text/csv"),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("scout-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("runs.csv");
    let written = w
        .client
        .download_runs_csv(&[("robots", "spot1,spot2"), ("format", "json")], &file)
        .await
        .unwrap();
    assert_eq!(written, csv.len() as u64);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), csv);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        w.sent().await,
        format!("GET /api/v0/runs/?robots=spot1%2Cspot2&format=csv\naccept: text/csv, */*\n{AUTH}\n--\n")
    );
}

// ---------------------------------------------------------------------------------------------
// TLS: a rustls server on 127.0.0.1 with a self-signed certificate
// ---------------------------------------------------------------------------------------------

struct TlsServer {
    addr: std::net::SocketAddr,
    /// HTTP requests that arrived over a completed handshake.
    requests: Arc<AtomicU64>,
}

/// Serves `[{"hostname":"spot1"}]` to every request, over TLS with `cert`.
async fn tls_server(cert: &rcgen::Certificate, key: &rcgen::KeyPair) -> TlsServer {
    tls_server_with_client_auth(cert, key, None).await
}

/// Like [`tls_server`]; with `client_root`, only clients presenting a certificate that chains to
/// it complete the handshake.
async fn tls_server_with_client_auth(
    cert: &rcgen::Certificate,
    key: &rcgen::KeyPair,
    client_root: Option<&rcgen::Certificate>,
) -> TlsServer {
    let robots: Handler = Arc::new(|_: &str| {
        let body = r#"[{"hostname":"spot1"}]"#;
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    });
    tls_server_with(cert, key, client_root, robots).await
}

/// Answers each request (given its head: request line and headers) with a raw HTTP response;
/// every connection is closed after one exchange.
type Handler = Arc<dyn Fn(&str) -> String + Send + Sync>;

async fn tls_server_with(
    cert: &rcgen::Certificate,
    key: &rcgen::KeyPair,
    client_root: Option<&rcgen::Certificate>,
    handler: Handler,
) -> TlsServer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    scout::Auth::none(); // installs the ring provider as the process default
    let chain = vec![cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_root {
        None => builder.with_no_client_auth(),
        Some(root) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(root.der().clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(chain, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicU64::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
                let text = String::from_utf8_lossy(&head[..end]).into_owned();
                // Read the body too, so that closing does not reset the connection.
                let length: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut have = head.len() - end;
                while have < length {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => have += n,
                    }
                }
                let response = handler(&text).replacen("\r\n", "\r\nconnection: close\r\n", 1);
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    TlsServer { addr, requests }
}

/// A self-signed certificate for 127.0.0.1, marked as a CA or not.
fn self_signed(is_ca: bool) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "scout test");
    if is_ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    let cert = params.self_signed(&key).unwrap();
    (cert, key)
}

/// An error and its sources, one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out = format!("{out}: {s}");
        source = s.source();
    }
    out
}

async fn robots_over_tls(
    server: &TlsServer,
    config: ClientConfig,
) -> Result<Vec<types::Robot>, ApiError> {
    let client = scout::Client::new_with_client(
        &format!("https://{}/api/v0", server.addr),
        config.build().unwrap(),
        Auth::none(),
    );
    Ok(client.list_robots().send().await?.into_inner())
}

#[tokio::test]
async fn tls_with_the_servers_certificate_as_ca_works() {
    let (cert, key) = self_signed(false);
    let server = tls_server(&cert, &key).await;
    let config = ClientConfig::new()
        .with_root_certificate_pem(cert.pem().as_bytes())
        .unwrap();
    let robots = robots_over_tls(&server, config).await.unwrap();
    assert_eq!(robots[0].hostname.as_deref(), Some("spot1"));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn tls_with_a_ca_file_works() {
    let (cert, key) = self_signed(false);
    let server = tls_server(&cert, &key).await;
    let file = std::env::temp_dir().join(format!("scout-ca-{}.pem", std::process::id()));
    std::fs::write(&file, cert.pem()).unwrap();
    let config = ClientConfig::new()
        .with_root_certificate_pem_file(&file)
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(robots_over_tls(&server, config).await.is_ok());
    let empty = ClientConfig::new().with_root_certificate_pem_file("/dev/null");
    assert_eq!(
        empty.unwrap_err().to_string(),
        "invalid PEM certificate: no certificate in `/dev/null`"
    );
    let missing = ClientConfig::new().with_root_certificate_pem_file("/nonexistent/ca.pem");
    assert!(missing
        .unwrap_err()
        .to_string()
        .starts_with("cannot read `/nonexistent/ca.pem`"));
}

#[tokio::test]
async fn tls_without_ca_or_pin_fails_closed() {
    let (cert, key) = self_signed(false);
    let server = tls_server(&cert, &key).await;
    let err = robots_over_tls(&server, ClientConfig::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    eprintln!("no CA: {}", chain(&err));
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        0,
        "no HTTP request may reach it"
    );
    assert!(!ClientConfig::new().certificate_verification_disabled());
}

#[tokio::test]
async fn tls_ca_marked_certificate_is_refused_as_root_but_works_pinned() {
    let (cert, key) = self_signed(true);
    let server = tls_server(&cert, &key).await;

    // rustls refuses a CA certificate as the server's own certificate.
    let as_root = ClientConfig::new()
        .with_root_certificate_pem(cert.pem().as_bytes())
        .unwrap();
    let err = robots_over_tls(&server, as_root).await.unwrap_err();
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    assert!(chain(&err).contains("CaUsedAsEndEntity"), "{}", chain(&err));
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);

    // Pinned by its SHA-256 fingerprint (as openssl prints it), it works.
    let fingerprint = scout::CertificateFingerprint::of_der(cert.der()).to_string();
    let pinned = ClientConfig::new()
        .with_pinned_certificate_sha256(&fingerprint)
        .unwrap();
    let robots = robots_over_tls(&server, pinned).await.unwrap();
    assert_eq!(robots[0].hostname.as_deref(), Some("spot1"));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn tls_wrong_pin_fails_closed() {
    let (cert, key) = self_signed(true);
    let server = tls_server(&cert, &key).await;
    let (other, _) = self_signed(true);
    let config = ClientConfig::new()
        .with_pinned_certificate(scout::CertificateFingerprint::of_der(other.der()))
        // A matching CA does not rescue a wrong pin: pins replace the roots.
        .with_root_certificate_pem(cert.pem().as_bytes())
        .unwrap();
    let err = robots_over_tls(&server, config).await.unwrap_err();
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    assert!(
        chain(&err).contains("ApplicationVerificationFailure"),
        "{}",
        chain(&err)
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn tls_verification_can_only_be_disabled_explicitly() {
    let (cert, key) = self_signed(true);
    let server = tls_server(&cert, &key).await;
    let config = ClientConfig::new().dangerous_disable_certificate_verification();
    assert!(config.certificate_verification_disabled());
    assert!(robots_over_tls(&server, config).await.is_ok());
}

/// A client certificate (self-signed, `clientAuth`) and its identity PEM (certificate + key).
fn client_identity() -> (rcgen::Certificate, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["scout-client".to_string()]).unwrap();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).unwrap();
    let pem = format!("{}{}", cert.pem(), key.serialize_pem());
    (cert, pem)
}

#[tokio::test]
async fn tls_client_certificate_with_ca_or_pin() {
    let (client_cert, identity) = client_identity();

    // A CA-verified server that requires the client certificate.
    let (cert, key) = self_signed(false);
    let server = tls_server_with_client_auth(&cert, &key, Some(&client_cert)).await;
    let with_ca = || {
        ClientConfig::new()
            .with_root_certificate_pem(cert.pem().as_bytes())
            .unwrap()
    };
    let err = robots_over_tls(&server, with_ca()).await.unwrap_err();
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    let config = with_ca().with_identity_pem(identity.as_bytes()).unwrap();
    assert!(robots_over_tls(&server, config).await.is_ok());
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);

    // A pinned CA-marked server that requires it: the identity goes into the pinned config.
    let (cert, key) = self_signed(true);
    let server = tls_server_with_client_auth(&cert, &key, Some(&client_cert)).await;
    let pinned = || {
        ClientConfig::new()
            .with_pinned_certificate(scout::CertificateFingerprint::of_der(cert.der()))
    };
    assert!(robots_over_tls(&server, pinned()).await.is_err());
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    let config = pinned().with_identity_pem(identity.as_bytes()).unwrap();
    let robots = robots_over_tls(&server, config).await.unwrap();
    assert_eq!(robots[0].hostname.as_deref(), Some("spot1"));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    // The identity's key never shows in Debug.
    let config = pinned().with_identity_pem(identity.as_bytes()).unwrap();
    assert!(!format!("{config:?}").contains("PRIVATE KEY"));
}

/// What `examples/last_day_run_events.rs` does, against a TLS Scout with a self-signed
/// certificate trusted through its CA file: log in, page the last day's run events, write JSON
/// lines.
#[tokio::test]
async fn example_flow_over_tls_with_a_custom_ca() {
    let (cert, key) = self_signed(false);
    let scout: Handler = Arc::new(|head: &str| {
        let line = head.lines().next().unwrap_or("");
        let has = |h: &str| head.to_ascii_lowercase().contains(h);
        let json = |extra: &str, body: &str| {
            format!(
                "HTTP/1.1 200 OK\r\n{extra}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        if line.starts_with("GET / ") {
            "HTTP/1.1 200 OK\r\nset-cookie: x-csrf-token=C1\r\nset-cookie: sid=anon\r\ncontent-length: 0\r\n\r\n".to_string()
        } else if line.starts_with("POST /api/v0/login ")
            && has("x-csrf-token: c1")
            && has("cookie: x-csrf-token=c1; sid=anon")
        {
            json("set-cookie: sid=S1\r\n", r#"{"username":"admin"}"#)
        } else if line.starts_with("GET /api/v0/run_events/?")
            && line.contains("orderBy=-created_at")
            && has("cookie: x-csrf-token=c1; sid=s1")
        {
            json(
                "",
                r#"{"limit":100,"offset":0,"total":2,"resources":[
                    {"uuid":"e2","createdAt":"2023-06-05T12:00:01.000Z","actionName":"Gauge 2"},
                    {"uuid":"e1","createdAt":"2023-06-05T12:00:00.000Z","actionName":"Gauge 1"}]}"#,
            )
        } else {
            "HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\nForbidden".to_string()
        }
    });
    let server = tls_server_with(&cert, &key, None, scout).await;
    let ca = std::env::temp_dir().join(format!("scout-example-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, cert.pem()).unwrap();

    let config = ClientConfig::new()
        .with_root_certificate_pem_file(&ca)
        .unwrap();
    std::fs::remove_file(&ca).unwrap();
    let (client, session) = scout::login(&config, &server.addr.to_string(), "admin", PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        session.origin().as_str(),
        format!("https://{}/", server.addr)
    );
    let window = TimeWindow::last(
        chrono::Duration::days(1),
        "2023-06-06T00:00:00Z".parse().unwrap(),
    );
    let events: Vec<types::RunEvent> =
        futures::TryStreamExt::try_collect(client.run_events_stream(window, 100, |b| b))
            .await
            .unwrap();
    let mut lines = Vec::new();
    for event in &events {
        serde_json::to_writer(&mut lines, event).unwrap();
        lines.push(b'\n');
    }
    assert_eq!(
        String::from_utf8(lines).unwrap(),
        "{\"actionName\":\"Gauge 2\",\"createdAt\":\"2023-06-05T12:00:01.000Z\",\"uuid\":\"e2\"}\n\
         {\"actionName\":\"Gauge 1\",\"createdAt\":\"2023-06-05T12:00:00.000Z\",\"uuid\":\"e1\"}\n"
    );
    // GET /, POST /api/v0/login, GET /api/v0/run_events/
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}
