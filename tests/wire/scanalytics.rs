//! Wire-level tests of the scanalytics client against local servers (issue 5).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use analytics_auth::oauth2::{
    is_reauthentication_required, ClientAuthentication, FileTokenStore, MemoryTokenStore, OAuth2,
    StoredToken, TokenPlacement, TokenStore,
};
use analytics_auth::rate_limit::{Limit, RateLimiter, RetryPolicy, SendPolicy};
use scanalytics::{types, ApiError, Auth, ClientBuilder, ClientConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workspace_tests::received;

const UA: &str = "user-agent: analytics-clients/0.1.0";

/// How a form POST to the token endpoint renders in `received()`.
fn token_post(body: &str) -> String {
    format!(
        "POST /o/token/\naccept: application/json\ncontent-length: {}\ncontent-type: application/x-www-form-urlencoded\n{UA}\n\n{body}\n--\n",
        body.len()
    )
}

fn json_response(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

fn token_json(access: &str, refresh: Option<&str>, expires_in: u64) -> serde_json::Value {
    let mut v = json!({"access_token": access, "expires_in": expires_in, "token_type": "Bearer", "scope": "read"});
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    v
}

fn user_json() -> serde_json::Value {
    json!({"email": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe", "timezone": "America/Chicago", "id": 7})
}

/// No client-side limit (tests that are not about limiting run at full speed).
fn unlimited() -> RateLimiter {
    RateLimiter::new([])
}

fn stored(access: Option<&str>, expires_in: i64, refresh: Option<&str>) -> StoredToken {
    let now = SystemTime::now();
    StoredToken {
        access_token: access.map(Into::into),
        expires_at: Some(if expires_in >= 0 {
            now + Duration::from_secs(expires_in as u64)
        } else {
            now - Duration::from_secs((-expires_in) as u64)
        }),
        refresh_token: refresh.map(Into::into),
    }
}

fn refresh_of(store: &MemoryTokenStore) -> Option<String> {
    store
        .get()
        .and_then(|t| t.refresh_token)
        .map(|s| s.expose().to_string())
}

/// Drops a wiremock server from a task that may have used up its tokio budget: wiremock
/// verifies on drop inside `futures::executor::block_on`, where tokio's semaphore keeps
/// answering `Pending` to a task without budget, and the drop would spin forever.
async fn drop_server(server: MockServer) {
    tokio::task::unconstrained(async move { drop(server) }).await;
}

async fn mount_whoami(server: &MockServer, bearer: &str, status: u16, times: u64) {
    let body = if status == 200 {
        user_json()
    } else {
        json!({"detail": "Authentication credentials were not provided."})
    };
    Mock::given(method("GET"))
        .and(path("/v1/whoami"))
        .and(header("authorization", format!("Bearer {bearer}").as_str()))
        .respond_with(json_response(status, body))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_token(server: &MockServer, body_part: &str, response: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/o/token/"))
        .and(body_string_contains(body_part))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

// ---------------------------------------------------------------------------------------------
// Grants

#[tokio::test]
async fn password_grant_public_client_then_whoami() {
    let server = MockServer::start().await;
    mount_token(
        &server,
        "grant_type=password",
        json_response(
            200,
            token_json(
                "74ahOtYDfbFgcoeletKizsMMiNe8W2",
                Some("8PzBAcr5tnAmwBrTxoc26HLvqCJh7p"),
                86400,
            ),
        ),
        1,
    )
    .await;
    mount_whoami(&server, "74ahOtYDfbFgcoeletKizsMMiNe8W2", 200, 1).await;
    let store = MemoryTokenStore::new();
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .password("cid", "jane@example.com", "p&ss w0rd")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();

    let me = client.get_current_user().send().await.unwrap().into_inner();
    assert_eq!(me.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(me.first_name.as_deref(), Some("Jane"));
    assert_eq!(me.last_name.as_deref(), Some("Doe"));
    assert_eq!(me.timezone.as_deref(), Some("America/Chicago"));
    assert_eq!(
        refresh_of(&store).as_deref(),
        Some("8PzBAcr5tnAmwBrTxoc26HLvqCJh7p")
    );

    assert_eq!(
        received(&server).await,
        token_post("grant_type=password&username=jane%40example.com&password=p%26ss+w0rd&client_id=cid")
            + &format!("GET /v1/whoami\naccept: application/json\nauthorization: Bearer 74ahOtYDfbFgcoeletKizsMMiNe8W2\n{UA}\n--\n")
    );
}

#[tokio::test]
async fn client_credentials_in_body_and_as_http_basic() {
    for basic in [false, true] {
        let server = MockServer::start().await;
        mount_token(
            &server,
            "grant_type=client_credentials",
            json_response(200, token_json("ccAccess", None, 86400)),
            1,
        )
        .await;
        mount_whoami(&server, "ccAccess", 200, 1).await;
        let store = MemoryTokenStore::new();
        let mut builder = ClientBuilder::new()
            .base_url(server.uri())
            .client_credentials("my client", "s3cret/+")
            .token_store(store.clone())
            .rate_limiter(unlimited());
        if basic {
            builder = builder.client_authentication(ClientAuthentication::HttpBasic);
        }
        let client = builder.build().unwrap();
        client.get_current_user().send().await.unwrap();
        // No refresh token for client credentials.
        let saved = store.get().unwrap();
        assert_eq!(saved.refresh_token, None);
        assert_eq!(saved.access_token.unwrap().expose(), "ccAccess");

        let wire = received(&server).await;
        let token_request = format!("{}--\n", wire.split("--\n").next().unwrap());
        if basic {
            // base64("my+client:s3cret%2F%2B"): both parts form-urlencoded first (RFC 6749 §2.3.1).
            assert_eq!(
                token_request,
                token_post("grant_type=client_credentials").replace(
                    "accept: application/json\n",
                    "accept: application/json\nauthorization: Basic bXkrY2xpZW50OnMzY3JldCUyRiUyQg==\n"
                )
            );
        } else {
            assert_eq!(
                token_request,
                token_post(
                    "grant_type=client_credentials&client_id=my+client&client_secret=s3cret%2F%2B"
                )
            );
        }
    }
}

#[tokio::test]
async fn token_placements_query_and_never_both() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/whoami"))
        .and(query_param("access_token", "qTok"))
        .respond_with(json_response(200, user_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("qTok"),
            3600,
            Some("r"),
        )))
        .token_placement(TokenPlacement::Query)
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    client.get_current_user().send().await.unwrap();
    assert_eq!(
        received(&server).await,
        format!("GET /v1/whoami?access_token=qTok\naccept: application/json\n{UA}\n--\n")
    );

    // The form-body placement needs a form body; GET routes refuse it instead of sending nothing.
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("qTok"),
            3600,
            Some("r"),
        )))
        .token_placement(TokenPlacement::FormBody)
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    let err = ApiError::from(client.get_current_user().send().await.unwrap_err());
    assert!(
        matches!(&err, ApiError::Auth(m) if m.contains("form-body token placement")),
        "{err}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Rotation, single flight, 401, invalid_grant, lost responses

#[tokio::test]
async fn rotation_across_several_refreshes_is_stored_before_use() {
    let server = MockServer::start().await;
    // Every token lives 0 s, so every call refreshes with the newest refresh token, once each.
    for n in 1..=4 {
        mount_token(
            &server,
            &format!("refresh_token=RT{n}&"),
            json_response(
                200,
                token_json(&format!("AT{}", n + 1), Some(&format!("RT{}", n + 1)), 0),
            ),
            1,
        )
        .await;
        mount_whoami(&server, &format!("AT{}", n + 1), 200, 1).await;
    }
    let store = MemoryTokenStore::with_token(stored(None, 0, Some("RT1")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .refresh_token("cid", "RT-unused-store-wins")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    for n in 1..=4 {
        assert_eq!(refresh_of(&store), Some(format!("RT{n}")));
        client.get_current_user().send().await.unwrap();
        let saved = store.get().unwrap();
        assert_eq!(
            saved.refresh_token.unwrap().expose(),
            format!("RT{}", n + 1)
        );
        assert_eq!(saved.access_token.unwrap().expose(), format!("AT{}", n + 1));
    }
    // Per refresh: one save that forgets the spent token before sending it, one with the new pair.
    assert_eq!(store.saves(), 8);
    let wire = received(&server).await;
    assert!(
        wire.contains(&token_post(
            "grant_type=refresh_token&refresh_token=RT1&client_id=cid"
        )),
        "{wire}"
    );
    for n in 1..=4 {
        assert_eq!(
            wire.matches(&format!("refresh_token=RT{n}&")).count(),
            1,
            "{wire}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_calls_with_an_expired_token_refresh_exactly_once() {
    let server = MockServer::start().await;
    mount_token(
        &server,
        "grant_type=refresh_token&refresh_token=RT1&",
        json_response(200, token_json("AT2", Some("RT2"), 86400))
            .set_delay(Duration::from_millis(200)),
        1,
    )
    .await;
    mount_whoami(&server, "AT2", 200, 200).await;
    let store = MemoryTokenStore::with_token(stored(Some("AT1"), -10, Some("RT1")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .refresh_token("cid", "unused")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_current_user().send().await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.url.path() == "/o/token/")
            .count(),
        1
    );
    assert_eq!(requests.len(), 201);
    assert_eq!(refresh_of(&store).as_deref(), Some("RT2"));
    server.verify().await;
    drop_server(server).await;
}

#[tokio::test]
async fn unauthorized_refreshes_once_and_resends_once() {
    let server = MockServer::start().await;
    mount_whoami(&server, "AT1", 401, 1).await;
    mount_token(
        &server,
        "refresh_token=RT1&",
        json_response(200, token_json("AT2", Some("RT2"), 86400)),
        1,
    )
    .await;
    mount_whoami(&server, "AT2", 200, 1).await;
    let store = MemoryTokenStore::with_token(stored(Some("AT1"), 3600, Some("RT1")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .refresh_token("cid", "unused")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    client.get_current_user().send().await.unwrap();
    assert_eq!(
        received(&server).await,
        format!(
            "GET /v1/whoami\naccept: application/json\nauthorization: Bearer AT1\n{UA}\n--\n{}\
             GET /v1/whoami\naccept: application/json\nauthorization: Bearer AT2\n{UA}\n--\n",
            token_post("grant_type=refresh_token&refresh_token=RT1&client_id=cid")
        )
    );
    server.verify().await;
}

#[tokio::test]
async fn a_second_401_after_the_resend_is_returned_not_retried() {
    let server = MockServer::start().await;
    mount_whoami(&server, "AT1", 401, 1).await;
    mount_token(
        &server,
        "refresh_token=RT1&",
        json_response(200, token_json("AT2", Some("RT2"), 86400)),
        1,
    )
    .await;
    mount_whoami(&server, "AT2", 401, 1).await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            3600,
            Some("RT1"),
        )))
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    let err = ApiError::from(client.get_current_user().send().await.unwrap_err());
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    server.verify().await;
}

#[tokio::test]
async fn used_refresh_token_falls_back_to_the_password_grant() {
    let server = MockServer::start().await;
    mount_token(
        &server,
        "refresh_token=RTold&",
        json_response(400, json!({"error": "invalid_grant"})),
        1,
    )
    .await;
    mount_token(
        &server,
        "grant_type=password",
        json_response(200, token_json("AT9", Some("RT9"), 86400)),
        1,
    )
    .await;
    mount_whoami(&server, "AT9", 200, 1).await;
    let store = MemoryTokenStore::with_token(stored(None, 0, Some("RTold")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .password("cid", "jane", "pw")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    client.get_current_user().send().await.unwrap();
    assert_eq!(refresh_of(&store).as_deref(), Some("RT9"));
    server.verify().await;
}

#[tokio::test]
async fn used_refresh_token_without_credentials_is_a_typed_reauthentication_error() {
    let server = MockServer::start().await;
    mount_token(
        &server,
        "refresh_token=RTold&",
        json_response(400, json!({"error": "invalid_grant"})),
        1,
    )
    .await;
    let store = MemoryTokenStore::with_token(stored(None, 0, Some("RTold")));
    let oauth = OAuth2::builder(format!("{}/o/token/", server.uri()), "cid")
        .token_store(store.clone())
        .build()
        .unwrap();
    let client = scanalytics::Client::new_with_client(
        &server.uri(),
        ClientConfig::new().build().unwrap(),
        Auth::custom(oauth.clone()),
    );
    for _ in 0..2 {
        let err = ApiError::from(client.get_current_user().send().await.unwrap_err());
        assert!(is_reauthentication_required(&err), "{err}");
    }
    // The typed error straight from the credential.
    assert!(matches!(
        oauth.access_token().await,
        Err(analytics_auth::oauth2::TokenError::ReauthenticationRequired(_))
    ));
    // The used refresh token went out once and is gone from the store.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(refresh_of(&store), None);
    server.verify().await;
}

/// A scripted HTTP/1.1 server on the test's own runtime (works on paused time), recording when
/// each request arrived. A handler returning `None` closes the connection without answering;
/// status 0 keeps it open without ever answering.
#[derive(Clone)]
struct LocalServer {
    addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<(tokio::time::Instant, String)>>>,
}

type Handler =
    Arc<dyn Fn(&str, &str) -> Option<(u16, Vec<(&'static str, String)>, String)> + Send + Sync>;

impl LocalServer {
    async fn start(handler: Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Arc<Mutex<Vec<(tokio::time::Instant, String)>>> = Arc::default();
        let server_log = log.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let handler = handler.clone();
                let log = server_log.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = vec![0u8; 8192];
                    loop {
                        // One request: head, then Content-Length bytes of body.
                        let head_end = loop {
                            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        while buf.len() < head_end + length {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body =
                            String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
                        buf.drain(..head_end + length);
                        let line = head.lines().next().unwrap_or_default().to_string();
                        log.lock()
                            .unwrap()
                            .push((tokio::time::Instant::now(), format!("{line} {body}")));
                        let Some((status, headers, body)) = handler(&head, &body) else {
                            return;
                        };
                        if status == 0 {
                            // Never answer (keep the connection open).
                            std::future::pending::<()>().await;
                        }
                        let mut out = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
                        for (k, v) in headers {
                            out.push_str(&format!("{k}: {v}\r\n"));
                        }
                        out.push_str("\r\n");
                        out.push_str(&body);
                        if socket.write_all(out.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        LocalServer { addr, log }
    }

    fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log(&self) -> Vec<(tokio::time::Instant, String)> {
        self.log.lock().unwrap().clone()
    }
}

/// reqwest without timers of its own: on paused time tokio jumps to the next timer whenever the
/// runtime idles, so request timeouts and pool-idle timers would fire while I/O is in flight.
fn paused_http() -> reqwest::Client {
    analytics_auth::ensure_crypto_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(None)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("analytics-clients/0.1.0")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_lost_refresh_response_is_never_retried_with_the_same_token() {
    // The refresh is answered by closing the connection; the password grant works.
    let server = LocalServer::start(Arc::new(|target: &str, body: &str| {
        if target.starts_with("POST /o/token/") {
            if body.contains("grant_type=refresh_token") {
                return None;
            }
            return Some((
                200,
                vec![],
                token_json("ATpw", Some("RTpw"), 86400).to_string(),
            ));
        }
        Some((200, vec![], user_json().to_string()))
    }))
    .await;
    let store = MemoryTokenStore::with_token(stored(None, 0, Some("RT1")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .password("cid", "jane", "pw")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    client.get_current_user().send().await.unwrap();
    client.get_current_user().send().await.unwrap();
    let log: Vec<String> = server.log().into_iter().map(|(_, l)| l).collect();
    assert_eq!(
        log,
        [
            "POST /o/token/ HTTP/1.1 grant_type=refresh_token&refresh_token=RT1&client_id=cid",
            "POST /o/token/ HTTP/1.1 grant_type=password&username=jane&password=pw&client_id=cid",
            "GET /v1/whoami HTTP/1.1 ",
            "GET /v1/whoami HTTP/1.1 ",
        ]
    );
    assert_eq!(refresh_of(&store).as_deref(), Some("RTpw"));

    // Without a grant to fall back to: re-authentication needed, and RT1 is not sent again.
    let store = MemoryTokenStore::with_token(stored(None, 0, Some("RT1")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(store.clone())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    for _ in 0..2 {
        let err = ApiError::from(client.get_current_user().send().await.unwrap_err());
        assert!(is_reauthentication_required(&err), "{err}");
    }
    assert_eq!(server.log().len(), 5);
    assert_eq!(refresh_of(&store), None);
}

#[tokio::test]
async fn after_a_lost_refresh_response_a_restart_from_the_file_store_does_not_reuse_the_token() {
    let server = LocalServer::start(Arc::new(|target: &str, _body: &str| {
        assert!(target.starts_with("POST /o/token/"));
        None
    }))
    .await;
    let dir = std::env::temp_dir().join(format!("scanalytics-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.json");
    FileTokenStore::new(&path)
        .save(&stored(None, 0, Some("RT1")))
        .unwrap();
    let build = || {
        ClientBuilder::new()
            .base_url(server.uri())
            .stored_tokens("cid")
            .token_store(FileTokenStore::new(&path))
            .rate_limiter(unlimited())
            .build()
            .unwrap()
    };
    let err = ApiError::from(build().get_current_user().send().await.unwrap_err());
    assert!(is_reauthentication_required(&err), "{err}");
    assert_eq!(server.log().len(), 1);
    // The file no longer holds RT1: a restarted process cannot send it again.
    assert!(!std::fs::read_to_string(&path).unwrap().contains("RT1"));
    let err = ApiError::from(build().get_current_user().send().await.unwrap_err());
    assert!(is_reauthentication_required(&err), "{err}");
    assert_eq!(server.log().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failed_proactive_refresh_keeps_the_valid_token() {
    // The token lives 1 h; the refresh (due 5 min before expiry) fails with a 500.
    let server = LocalServer::start(Arc::new(|target: &str, body: &str| {
        if target.starts_with("POST /o/token/") {
            assert!(body.contains("grant_type=client_credentials"));
            return Some((500, vec![], "{}".into()));
        }
        Some((200, vec![], user_json().to_string()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .client_credentials("cid", "sec")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            3600,
            None,
        )))
        .http_client(paused_http())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    client.get_current_user().send().await.unwrap();
    tokio::time::advance(Duration::from_secs(3600 - 200)).await;
    // Due: one refresh attempt fails, the call still succeeds with AT1; the next call within
    // the backoff does not try again.
    client.get_current_user().send().await.unwrap();
    client.get_current_user().send().await.unwrap();
    let token_requests = || {
        server
            .log()
            .iter()
            .filter(|(_, l)| l.starts_with("POST"))
            .count()
    };
    assert_eq!(token_requests(), 1);
    assert_eq!(server.log().len(), 4);
    // Retried after 30 s, then after 60 s more; after the third failure not again until expiry.
    tokio::time::advance(Duration::from_secs(31)).await;
    client.get_current_user().send().await.unwrap();
    assert_eq!(token_requests(), 2);
    tokio::time::advance(Duration::from_secs(61)).await;
    client.get_current_user().send().await.unwrap();
    assert_eq!(token_requests(), 3);
    tokio::time::advance(Duration::from_secs(60)).await;
    client.get_current_user().send().await.unwrap();
    assert_eq!(token_requests(), 3);
    // Expired: now a failure reaches the caller (as a credential error, not a 401 from the API).
    tokio::time::advance(Duration::from_secs(60)).await;
    let err = ApiError::from(client.get_current_user().send().await.unwrap_err());
    assert!(
        matches!(&err, ApiError::Auth(m) if m.contains("token endpoint answered 500")),
        "{err}"
    );
    assert_eq!(token_requests(), 4);
}

#[tokio::test(start_paused = true)]
async fn the_token_is_refreshed_before_it_expires() {
    let server = LocalServer::start(Arc::new(|target: &str, body: &str| {
        if target.starts_with("POST /o/token/") {
            assert!(body.contains("refresh_token=RT1&"), "{body}");
            return Some((
                200,
                vec![],
                token_json("AT2", Some("RT2"), 3600).to_string(),
            ));
        }
        Some((200, vec![], user_json().to_string()))
    }))
    .await;
    let store = MemoryTokenStore::with_token(stored(Some("AT1"), 3600, Some("RT1")));
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(store.clone())
        .http_client(paused_http())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    client.get_current_user().send().await.unwrap();
    // 10 minutes before expiry: not yet due (margin 5 min).
    tokio::time::advance(Duration::from_secs(3000)).await;
    client.get_current_user().send().await.unwrap();
    assert_eq!(refresh_of(&store).as_deref(), Some("RT1"));
    // 4 minutes before expiry: refreshed first, and the call already uses the new token.
    tokio::time::advance(Duration::from_secs(360)).await;
    client.get_current_user().send().await.unwrap();
    assert_eq!(refresh_of(&store).as_deref(), Some("RT2"));
    let log: Vec<String> = server.log().into_iter().map(|(_, l)| l).collect();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log[2].starts_with("POST /o/token/"), "{log:?}");
}

#[tokio::test(start_paused = true)]
async fn a_slow_proactive_refresh_does_not_hold_up_other_requests() {
    // The token endpoint never answers; whoami does.
    let server = LocalServer::start(Arc::new(|target: &str, _body: &str| {
        if target.starts_with("POST /o/token/") {
            return Some((0, vec![], String::new()));
        }
        Some((200, vec![], user_json().to_string()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            3600,
            Some("RT1"),
        )))
        .http_client(paused_http())
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    tokio::time::advance(Duration::from_secs(3400)).await;
    let stuck = tokio::spawn({
        let client = client.clone();
        async move { client.get_current_user().send().await.map(|_| ()) }
    });
    let mut polls = 0;
    while !server
        .log()
        .iter()
        .any(|(_, l)| l.starts_with("POST /o/token/"))
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
        polls += 1;
        assert!(polls < 1000, "the refresh never started");
    }
    // Another call goes through with the still-valid token while the refresh hangs.
    let other = client.get_current_user().send();
    tokio::pin!(other);
    let mut polls = 0;
    loop {
        if let std::task::Poll::Ready(result) = futures::poll!(&mut other) {
            result.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        polls += 1;
        assert!(polls < 1000, "a request waited for the proactive refresh");
    }
    assert!(!stuck.is_finished());
    stuck.abort();
    let log: Vec<String> = server.log().into_iter().map(|(_, l)| l).collect();
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("GET /v1/whoami"))
            .count(),
        1,
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_401s_for_the_same_token_refresh_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/whoami"))
        .and(header("authorization", "Bearer AT1"))
        .respond_with(json_response(
            401,
            json!({"detail": "Authentication credentials were not provided."}),
        ))
        .mount(&server)
        .await;
    mount_token(
        &server,
        "refresh_token=RT1&",
        json_response(200, token_json("AT2", Some("RT2"), 86400))
            .set_delay(Duration::from_millis(100)),
        1,
    )
    .await;
    mount_whoami(&server, "AT2", 200, 50).await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            3600,
            Some("RT1"),
        )))
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    // Released together, most tasks send AT1 before the first 401 is back; every one of them
    // then finds AT1 already replaced (or waits for the one refresh in flight) and just resends.
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                client.get_current_user().send().await.map(|_| ())
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let requests = server.received_requests().await.unwrap();
    let with = |token: &str| {
        requests
            .iter()
            .filter(|r| {
                r.headers
                    .get("authorization")
                    .is_some_and(|v| v == format!("Bearer {token}").as_str())
            })
            .count()
    };
    eprintln!("{} of 50 calls were rejected with AT1", with("AT1"));
    assert!(with("AT1") >= 1);
    assert_eq!(with("AT2"), 50);
    server.verify().await; // exactly one token request
    drop_server(server).await;
}

// ---------------------------------------------------------------------------------------------
// 429 and the client-side rate limiter (paused time)

#[tokio::test(start_paused = true)]
async fn too_many_requests_waits_retry_after_then_succeeds() {
    let hits = Arc::new(Mutex::new(0));
    let h = hits.clone();
    let server = LocalServer::start(Arc::new(move |target: &str, _body: &str| {
        if target.starts_with("GET /v1/whoami") {
            let mut n = h.lock().unwrap();
            *n += 1;
            if *n == 1 {
                return Some((
                    429,
                    vec![("retry-after", "2".to_string())],
                    json!({"detail": "Request was throttled. Expected available in 2 seconds."})
                        .to_string(),
                ));
            }
            return Some((200, vec![], user_json().to_string()));
        }
        Some((429, vec![("retry-after", "2".to_string())], "{}".into()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            86400,
            None,
        )))
        .http_client(paused_http())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let me = client.get_current_user().send().await.unwrap().into_inner();
    assert_eq!(me.first_name.as_deref(), Some("Jane"));
    let log = server.log();
    assert_eq!(log.len(), 2);
    let gap = log[1].0 - log[0].0;
    assert!(
        gap >= Duration::from_secs(2) && gap <= Duration::from_millis(2300),
        "{gap:?}"
    );
    assert!(start.elapsed() <= RetryPolicy::default().total_wait);

    // POST (create_token) is not idempotent: its 429 comes back at once, without a retry.
    let body = types::ClientCredentialsGrantRequest::builder()
        .grant_type(types::ClientCredentialsGrantRequestGrantType::ClientCredentials)
        .client_id(Some("cid".to_string()))
        .client_secret(Some("sec".to_string()));
    let err = ApiError::from(
        client
            .create_token()
            .body(types::ClientCredentialsGrantRequest::try_from(body).unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(err, ApiError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2)),
        "{err}"
    );
    assert_eq!(server.log().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_budget_is_returned_at_once() {
    let server = LocalServer::start(Arc::new(|_: &str, _: &str| {
        Some((429, vec![("retry-after", "3600".to_string())], "{}".into()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            86400,
            None,
        )))
        .http_client(paused_http())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = ApiError::from(client.list_deployments().send().await.unwrap_err());
    assert!(matches!(err, ApiError::RateLimited { .. }), "{err}");
    assert_eq!(server.log().len(), 1);
    assert!(start.elapsed() < Duration::from_secs(1));
}

/// The most requests the server saw in any window of length `window`.
fn max_in_window(times: &[tokio::time::Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

#[tokio::test(start_paused = true)]
async fn the_limiter_holds_a_burst_of_1000_calls_under_the_limits() {
    let server = LocalServer::start(Arc::new(|_: &str, _: &str| {
        Some((200, vec![], user_json().to_string()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            7 * 86400,
            None,
        )))
        .http_client(paused_http())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let calls = (0..1000).map(|_| {
        let client = client.clone();
        async move { client.get_current_user().send().await.map(|_| ()) }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let times: Vec<_> = server.log().into_iter().map(|(t, _)| t).collect();
    assert_eq!(times.len(), 1000);
    let per_minute = max_in_window(&times, Duration::from_secs(60));
    let per_hour = max_in_window(&times, Duration::from_secs(3600));
    assert!(per_minute <= 180, "{per_minute} requests in one minute");
    assert!(per_hour <= 1200, "{per_hour} requests in one hour");
    // Small bursts: never more than 5 requests within one second.
    assert!(max_in_window(&times, Duration::from_secs(1)) <= 5);
    // And not needlessly slow: 1000 requests at ~1170/h take about 51 minutes.
    let took = *times.last().unwrap() - start;
    assert!(took < Duration::from_secs(55 * 60), "{took:?}");
    eprintln!("1000 calls: {took:?}, max {per_minute}/min, {per_hour}/h");
}

/// A server that enforces Scanalytics' limits the way its sliding window does: a request is
/// refused with 429 when 180 were accepted in the last minute or 1200 in the last hour.
#[tokio::test(start_paused = true)]
async fn two_thousand_calls_against_a_sliding_window_see_no_429_and_use_the_quota() {
    let accepted: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let refused = Arc::new(Mutex::new(0usize));
    let (a, r) = (accepted.clone(), refused.clone());
    let server = LocalServer::start(Arc::new(move |_: &str, _: &str| {
        let now = tokio::time::Instant::now();
        let mut accepted = a.lock().unwrap();
        let within = |window: u64| {
            accepted
                .iter()
                .filter(|t| now.duration_since(**t) < Duration::from_secs(window))
                .count()
        };
        if within(60) >= 180 || within(3600) >= 1200 {
            *r.lock().unwrap() += 1;
            return Some((429, vec![("retry-after", "60".to_string())], "{}".into()));
        }
        accepted.push(now);
        Some((200, vec![], user_json().to_string()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            7 * 86400,
            None,
        )))
        .http_client(paused_http())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let calls = (0..2000).map(|_| {
        let client = client.clone();
        async move { client.get_current_user().send().await.map(|_| ()) }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(*refused.lock().unwrap(), 0, "the server refused requests");
    let accepted = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 2000);
    // The hourly quota binds: at least 90 % of it is used in the first hour.
    let first_hour = accepted
        .iter()
        .filter(|t| t.duration_since(start) < Duration::from_secs(3600))
        .count();
    assert!(first_hour >= 1080, "{first_hour} calls in the first hour");
    assert!(first_hour <= 1200, "{first_hour} calls in the first hour");
}

#[tokio::test(start_paused = true)]
async fn anonymous_clients_stay_under_20_per_minute() {
    let server = LocalServer::start(Arc::new(|_: &str, _: &str| {
        Some((200, vec![], "[]".into()))
    }))
    .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .http_client(paused_http())
        .build()
        .unwrap();
    let calls = (0..100).map(|_| {
        let client = client.clone();
        async move { client.list_deployments().send().await.map(|_| ()) }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let times: Vec<_> = server.log().into_iter().map(|(t, _)| t).collect();
    assert!(max_in_window(&times, Duration::from_secs(60)) <= 20);
    assert!(server
        .log()
        .iter()
        .all(|(_, l)| l == "GET /v1/deployment/list HTTP/1.1 "));
}

#[tokio::test(start_paused = true)]
async fn clones_and_clients_share_one_limiter() {
    let server = LocalServer::start(Arc::new(|_: &str, _: &str| {
        Some((200, vec![], "[]".into()))
    }))
    .await;
    let shared = RateLimiter::new([Limit::per_minute(10).with_burst(2)]);
    let build = || {
        ClientBuilder::new()
            .base_url(server.uri())
            .http_client(paused_http())
            .rate_limiter(shared.clone())
            .build()
            .unwrap()
    };
    let (a, b) = (build(), build());
    let calls = (0..30).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { client.list_deployments().send().await.map(|_| ()) }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let times: Vec<_> = server.log().into_iter().map(|(t, _)| t).collect();
    assert!(max_in_window(&times, Duration::from_secs(60)) <= 10);
}

// ---------------------------------------------------------------------------------------------
// Secrets never leak

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_appear_in_debug_display_errors_or_logs() {
    const PASSWORD: &str = "pw-canary-Zq81";
    const SECRET: &str = "cs-canary-Uu27";
    const RT1: &str = "rt1-canary-Ab12";
    const RT2: &str = "rt2-canary-Cd34";
    const AT1: &str = "at1-canary-Ef56";
    const AT2: &str = "at2-canary-Gh78";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // Global, not `set_default`: with tests running on parallel threads, a thread-scoped
    // subscriber can miss events whose callsite interest another thread cached first.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = MockServer::start().await;
    mount_token(
        &server,
        "grant_type=password",
        json_response(200, token_json(AT1, Some(RT1), 0)),
        1,
    )
    .await;
    mount_token(
        &server,
        &format!("refresh_token={RT1}"),
        json_response(200, token_json(AT2, Some(RT2), 86400)),
        1,
    )
    .await;
    // Query placement: 401 for the token in the URL, then a truncated 200 body.
    Mock::given(method("GET"))
        .and(path("/v1/whoami"))
        .respond_with(json_response(
            401,
            json!({"detail": "Authentication credentials were not provided."}),
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .password("cid", "jane", PASSWORD)
        .client_secret(SECRET)
        .token_placement(TokenPlacement::Query)
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    let unauthorized = ApiError::from(client.get_current_user().send().await.unwrap_err());
    assert!(matches!(unauthorized, ApiError::Unauthorized { .. }));

    // A body cut short: reqwest's error would name the URL, which holds `access_token=`.
    let raw = LocalServer::start(Arc::new(|_: &str, _: &str| None)).await;
    let oauth = OAuth2::builder(format!("{}/o/token/", server.uri()), "cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some(AT2),
            3600,
            Some(RT2),
        )))
        .placement(TokenPlacement::Query)
        .send_policy(SendPolicy::new())
        .build()
        .unwrap();
    let lost_client = scanalytics::Client::new_with_client(
        &raw.uri(),
        ClientConfig::new().build().unwrap(),
        Auth::custom(oauth.clone()),
    );
    let transport = ApiError::from(lost_client.get_current_user().send().await.unwrap_err());
    assert!(matches!(transport, ApiError::Transport(_)), "{transport}");
    // A 200 whose body is cut short (read by the generated code, after the hooks).
    let truncated = workspace_tests::raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"email\"",
    )
    .await;
    let truncated_client = scanalytics::Client::new_with_client(
        &format!("http://{truncated}"),
        ClientConfig::new().build().unwrap(),
        Auth::custom(oauth.clone()),
    );
    let cut = ApiError::from(
        truncated_client
            .get_current_user()
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(cut, ApiError::Transport(_)), "{cut}");

    // A refused password: the error names the grant, not the password.
    let refusing = MockServer::start().await;
    mount_token(
        &refusing,
        "grant_type=password",
        json_response(
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid credentials given."}),
        ),
        1,
    )
    .await;
    let refused_client = ClientBuilder::new()
        .base_url(refusing.uri())
        .password("cid", "jane", PASSWORD)
        .rate_limiter(unlimited())
        .build()
        .unwrap();
    let refused = ApiError::from(refused_client.get_current_user().send().await.unwrap_err());
    assert!(refused.to_string().contains("invalid_grant"), "{refused}");

    let text = format!(
        "{client:?}\n{lost_client:?}\n{oauth:?}\n{unauthorized}\n{unauthorized:?}\n{transport}\n{transport:?}\n{cut}\n{cut:?}\n{refused}\n{refused:?}\n{}",
        String::from_utf8_lossy(&captured.0.lock().unwrap())
    );
    assert!(
        text.contains("oauth2: token request"),
        "tracing output was captured: {text}"
    );
    for secret in [PASSWORD, SECRET, RT1, RT2, AT1, AT2] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Every operation: request bytes and parsed responses

fn static_client(server: &MockServer) -> scanalytics::Client {
    ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            86400,
            None,
        )))
        .rate_limiter(unlimited())
        .build()
        .unwrap()
}

#[tokio::test]
async fn create_token_sends_the_form_and_parses_both_outcomes() {
    let server = MockServer::start().await;
    mount_token(
        &server,
        "grant_type=password",
        json_response(
            200,
            token_json(
                "74ahOtYDfbFgcoeletKizsMMiNe8W2",
                Some("8PzBAcr5tnAmwBrTxoc26HLvqCJh7p"),
                86400,
            ),
        ),
        1,
    )
    .await;
    mount_token(
        &server,
        "grant_type=refresh_token",
        json_response(400, json!({"error": "invalid_grant"})),
        1,
    )
    .await;
    let client = static_client(&server);
    let password = types::PasswordGrantRequest::builder()
        .grant_type(types::PasswordGrantRequestGrantType::Password)
        .username("USERNAME")
        .password("PASSWORD")
        .client_id(Some("CLIENT_ID".to_string()));
    let token = client
        .create_token()
        .body(types::PasswordGrantRequest::try_from(password).unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(token.access_token, "74ahOtYDfbFgcoeletKizsMMiNe8W2");
    assert_eq!(token.expires_in, 86400);
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.scope.as_deref(), Some("read"));
    assert_eq!(
        token.refresh_token.as_deref(),
        Some("8PzBAcr5tnAmwBrTxoc26HLvqCJh7p")
    );

    let refresh = types::RefreshTokenGrantRequest::builder()
        .grant_type(types::RefreshTokenGrantRequestGrantType::RefreshToken)
        .refresh_token("8PzBAcr5tnAmwBrTxoc26HLvqCJh7p")
        .client_id(Some("CLIENT_ID".to_string()));
    let err = client
        .create_token()
        .body(types::RefreshTokenGrantRequest::try_from(refresh).unwrap())
        .send()
        .await
        .unwrap_err();
    let err = ApiError::from(err);
    match &err {
        ApiError::InvalidRequest {
            status,
            body: Some(types::CreateTokenErrorBody::OAuthError(e)),
            ..
        } => {
            assert_eq!(status.as_u16(), 400);
            assert_eq!(e.error, "invalid_grant");
        }
        other => panic!("{other:?}"),
    }
    // The token endpoint gets no access token.
    assert_eq!(
        received(&server).await,
        token_post("client_id=CLIENT_ID&grant_type=password&password=PASSWORD&username=USERNAME")
            + &token_post("client_id=CLIENT_ID&grant_type=refresh_token&refresh_token=8PzBAcr5tnAmwBrTxoc26HLvqCJh7p")
    );
}

#[tokio::test]
async fn list_deployments_accepts_an_array_or_an_envelope() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/deployment/list"))
        .respond_with(json_response(200, json!([{"key": "D1", "name": "Lobby"}])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/deployment/list"))
        .respond_with(json_response(
            200,
            json!({"count": 1, "next": null, "previous": null, "results": [{"key": "D1"}]}),
        ))
        .mount(&server)
        .await;
    let client = static_client(&server);
    match client.list_deployments().send().await.unwrap().into_inner() {
        types::DeploymentList::Array(items) => {
            assert_eq!(items.len(), 1);
            assert_eq!(serde_json::to_value(&items[0]).unwrap()["name"], "Lobby");
        }
        other => panic!("{other:?}"),
    }
    match client.list_deployments().send().await.unwrap().into_inner() {
        types::DeploymentList::Object(map) => assert_eq!(map["count"], 1),
        other => panic!("{other:?}"),
    }
    let one = format!(
        "GET /v1/deployment/list\naccept: application/json\nauthorization: Bearer AT1\n{UA}\n--\n"
    );
    assert_eq!(received(&server).await, one.repeat(2));
}

#[tokio::test]
async fn get_visit_aggregates_sends_the_window_and_parses_buckets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/aggregate/1AMDJ/visits/1h"))
        .respond_with(json_response(
            200,
            json!([{"time": "2018-03-01T13:00:00", "visits": 12}]),
        ))
        .mount(&server)
        .await;
    let client = static_client(&server);
    let visits = client
        .get_visit_aggregates()
        .array_key("1AMDJ")
        .bucket("1h")
        .start("2018-03-01T12:45:00")
        .end("2018-03-08T16:45:00")
        .timezone("America/Chicago")
        .send()
        .await
        .unwrap()
        .into_inner();
    match visits {
        types::VisitAggregates::Array(buckets) => assert_eq!(buckets[0]["visits"], 12),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        received(&server).await,
        format!("GET /v1/aggregate/1AMDJ/visits/1h?end=2018-03-08T16%3A45%3A00&start=2018-03-01T12%3A45%3A00&timezone=America%2FChicago\naccept: application/json\nauthorization: Bearer AT1\n{UA}\n--\n")
    );
    // A bucket that does not match `<#><unit>` is refused before sending.
    let err = client
        .get_visit_aggregates()
        .array_key("1AMDJ")
        .bucket("hourly")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(ApiError::from(err), ApiError::InvalidInput(_)));
}

#[tokio::test]
async fn documented_errors_of_the_data_routes_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/whoami"))
        .respond_with(json_response(
            403,
            json!({"detail": "You do not have permission to perform this action."}),
        ))
        .mount(&server)
        .await;
    let client = ClientBuilder::new()
        .base_url(server.uri())
        .stored_tokens("cid")
        .token_store(MemoryTokenStore::with_token(stored(
            Some("AT1"),
            86400,
            None,
        )))
        .rate_limiter(unlimited())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = ApiError::from(client.get_current_user().send().await.unwrap_err());
    match err {
        ApiError::Forbidden {
            message,
            body: Some(body),
        } => {
            assert_eq!(
                message.as_deref(),
                Some("You do not have permission to perform this action.")
            );
            assert_eq!(body.detail.as_deref(), message.as_deref());
        }
        other => panic!("{other:?}"),
    }
    // 403 is not a token problem: no refresh, no resend.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
