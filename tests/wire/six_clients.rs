//! Shared by the `resilience` and `wire_redaction` test binaries: a scripted raw-TCP server on
//! the test's own runtime (works on paused time) and the six clients behind one small enum, each
//! with "one simple GET" and "one POST", so that every scenario runs for every client.
#![allow(dead_code)] // each binary uses a different part

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use analytics_auth::oauth2::{MemoryTokenStore, OAuth2, StoredToken};
use analytics_auth::{ApiError, Auth, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// The server

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Req {
    /// When it arrived (tokio time: paused time in paused tests).
    pub at: Instant,
    /// `GET /path?query HTTP/1.1`
    pub line: String,
    /// Request line and headers, as received.
    pub head: String,
    pub body: String,
}

impl Req {
    pub fn method(&self) -> &str {
        self.line.split(' ').next().unwrap_or_default()
    }

    /// Path and query.
    pub fn target(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or_default()
    }

    pub fn path(&self) -> &str {
        self.target().split('?').next().unwrap_or_default()
    }

    /// The value of a header (first one, name case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// What the server does with one request.
pub enum Reply {
    /// `status`, `content-type: application/json`, `content-length`, the extra headers, `body`.
    Json(u16, Vec<(&'static str, String)>, String),
    /// These bytes (status line included), then the connection is closed.
    Raw(Vec<u8>),
    /// These bytes, then nothing more, the connection kept open.
    RawThenHang(Vec<u8>),
    /// Close the connection without answering (FIN).
    Close,
    /// Reset the connection without answering (RST).
    Reset,
    /// Never answer; keep the connection open.
    Hang,
    /// 200, chunked, a JSON array that never ends, written as fast as the client reads.
    Endless,
}

pub fn json(status: u16, body: impl Into<String>) -> Reply {
    Reply::Json(status, Vec::new(), body.into())
}

pub type Handler = Arc<dyn Fn(usize, &Req) -> Reply + Send + Sync>;

/// A scripted HTTP/1.1 server. Scout's login routes (`GET /`, `POST /api/v0/login`) are answered
/// by the server itself and are logged apart; the handler sees every other request with its
/// index (0, 1, …).
#[derive(Clone)]
pub struct LocalServer {
    pub addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
    logins: Arc<Mutex<Vec<Req>>>,
    /// Bytes of [`Reply::Endless`] bodies written.
    pub endless_bytes: Arc<AtomicU64>,
    /// Set when a [`Reply::Endless`] write failed (the client went away).
    pub endless_stopped: Arc<AtomicBool>,
    pub connections: Arc<AtomicUsize>,
}

/// The cookies Scout's login sets on every [`LocalServer`] by default.
pub const SCOUT_CSRF: &str = "csrf-Ztq81";
pub const SCOUT_SID: &str = "sid-Pq4mX";

impl LocalServer {
    pub async fn start(handler: Handler) -> Self {
        Self::start_with_session(handler, SCOUT_CSRF, SCOUT_SID).await
    }

    pub async fn start_with_session(handler: Handler, csrf: &str, sid: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = LocalServer {
            addr,
            log: Arc::default(),
            logins: Arc::default(),
            endless_bytes: Arc::default(),
            endless_stopped: Arc::default(),
            connections: Arc::default(),
        };
        let this = server.clone();
        let csrf = csrf.to_string();
        let sid = sid.to_string();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                this.connections.fetch_add(1, Ordering::SeqCst);
                let this = this.clone();
                let handler = handler.clone();
                let (csrf, sid) = (csrf.clone(), sid.clone());
                tokio::spawn(async move { this.serve(socket, handler, &csrf, &sid).await });
            }
        });
        server
    }

    async fn serve(&self, mut socket: TcpStream, handler: Handler, csrf: &str, sid: &str) {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 8192];
        loop {
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
            let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
            buf.drain(..head_end + length);
            let req = Req {
                at: Instant::now(),
                line: head.lines().next().unwrap_or_default().to_string(),
                head,
                body,
            };
            let reply = match (req.method(), req.path()) {
                ("GET", "/") => {
                    self.logins.lock().unwrap().push(req);
                    Reply::Json(
                        200,
                        vec![
                            ("set-cookie", format!("x-csrf-token={csrf}; Path=/")),
                            ("set-cookie", "sid=anon; Path=/; HttpOnly".to_string()),
                        ],
                        "{}".into(),
                    )
                }
                ("POST", "/api/v0/login") => {
                    self.logins.lock().unwrap().push(req);
                    Reply::Json(
                        200,
                        vec![("set-cookie", format!("sid={sid}; Path=/; HttpOnly"))],
                        r#"{"username": "admin"}"#.into(),
                    )
                }
                _ => {
                    let index = {
                        let mut log = self.log.lock().unwrap();
                        log.push(req.clone());
                        log.len() - 1
                    };
                    handler(index, &req)
                }
            };
            match reply {
                Reply::Json(status, headers, body) => {
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&body);
                    if socket.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
                Reply::Raw(bytes) => {
                    let _ = socket.write_all(&bytes).await;
                    let _ = socket.shutdown().await;
                    return;
                }
                Reply::RawThenHang(bytes) => {
                    let _ = socket.write_all(&bytes).await;
                    std::future::pending::<()>().await;
                }
                Reply::Close => return,
                Reply::Reset => {
                    let _ = socket.set_zero_linger();
                    return;
                }
                Reply::Hang => std::future::pending::<()>().await,
                Reply::Endless => {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n3\r\n[0,\r\n";
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let piece = "0,".repeat(32 * 1024);
                    let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
                    loop {
                        if socket.write_all(chunk.as_bytes()).await.is_err() {
                            self.endless_stopped.store(true, Ordering::SeqCst);
                            return;
                        }
                        self.endless_bytes
                            .fetch_add(piece.len() as u64, Ordering::SeqCst);
                    }
                }
            }
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request except Scout's login routes.
    pub fn log(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// Scout's login requests.
    pub fn logins(&self) -> Vec<Req> {
        self.logins.lock().unwrap().clone()
    }
}

/// A handler answering every request the same way.
pub fn always(reply: impl Fn() -> Reply + Send + Sync + 'static) -> Handler {
    Arc::new(move |_, _| reply())
}

/// reqwest without timers of its own (paused-time tests): tokio jumps to the next timer whenever
/// the runtime idles, so reqwest's timeouts would fire while I/O is in flight.
pub fn paused_http() -> reqwest::Client {
    analytics_auth::ensure_crypto_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(None)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent("analytics-clients/0.1.0")
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The six clients

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Monarc,
    Serenytics,
    /// The Serenytics data API (its own spec and keys).
    SerenyticsData,
    Tonalytica,
    Scout,
    Scanalytics,
}

pub const ALL: [Api; 6] = [
    Api::Monarc,
    Api::Serenytics,
    Api::SerenyticsData,
    Api::Tonalytica,
    Api::Scout,
    Api::Scanalytics,
];

pub const DS: &str = "a58d07c4-5f47-4b43-8fad-4f654f299d48";

impl Api {
    /// The path of the GET (no query).
    pub fn get_path(self) -> &'static str {
        match self {
            Api::Monarc => "/api/v2/stats/",
            Api::Serenytics => "/api/folder",
            Api::SerenyticsData => "/data-api/datasources_list",
            Api::Tonalytica => "/api/queries/tags",
            Api::Scout => "/api/v0/robots",
            Api::Scanalytics => "/v1/whoami",
        }
    }

    /// The operation id of the GET.
    pub fn get_operation(self) -> &'static str {
        match self {
            Api::Monarc => "list_stats",
            Api::Serenytics => "list_folders",
            Api::SerenyticsData => "list_datasources",
            Api::Tonalytica => "list_query_tags",
            Api::Scout => "list_robots",
            Api::Scanalytics => "get_current_user",
        }
    }

    /// The path of the POST.
    pub fn post_path(self) -> String {
        match self {
            Api::Monarc => "/api/v2/stats/".into(),
            Api::Serenytics => "/api/folder".into(),
            Api::SerenyticsData => format!("/data-api/query-model/{DS}"),
            Api::Tonalytica => "/api/queries/format".into(),
            Api::Scout => "/api/v0/robots".into(),
            Api::Scanalytics => "/o/token/".into(),
        }
    }

    /// A 200 body the GET parses.
    pub fn ok_body(self) -> &'static str {
        match self {
            Api::Monarc => r#"{"data": [], "has_more": false}"#,
            Api::Serenytics => {
                r#"{"objects": [{"uuid": "f1", "name": "n", "resource_type": "datasource"}]}"#
            }
            Api::SerenyticsData => {
                r#"[{"uuid": "a58d07c4-5f47-4b43-8fad-4f654f299d48", "name": "sales"}]"#
            }
            Api::Tonalytica => r#"{"tags": [{"name": "users", "count": 2}]}"#,
            Api::Scout => r#"[{"hostname": "spot1"}]"#,
            Api::Scanalytics => {
                r#"{"email": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe", "timezone": "UTC", "id": 7}"#
            }
        }
    }

    /// A 200 body of the GET's shape with a value its schema does not allow (unknown enum value
    /// or a wrong type deep inside), when the response has such a field.
    pub fn bad_value_body(self) -> &'static str {
        match self {
            Api::Monarc => r#"{"data": [], "has_more": "maybe"}"#,
            Api::Serenytics => {
                r#"{"objects": [{"uuid": "f1", "name": "n", "resource_type": "no-such-type"}]}"#
            }
            Api::SerenyticsData => r#"{"uuid": "not an array"}"#,
            Api::Tonalytica => r#"{"tags": [{"name": "users", "count": "two"}]}"#,
            Api::Scout => r#"[{"hostname": ["spot1"]}]"#,
            Api::Scanalytics => r#"{"email": 5, "id": "seven"}"#,
        }
    }

    /// A body of the GET's shape with `inner` as the value of a typed field.
    pub fn nest(self, inner: &str) -> String {
        match self {
            Api::Monarc => format!(r#"{{"data": {inner}, "has_more": false}}"#),
            Api::Serenytics => format!(r#"{{"objects": {inner}}}"#),
            Api::SerenyticsData => format!("[{inner}]"),
            Api::Tonalytica => format!(r#"{{"tags": {inner}}}"#),
            Api::Scout => format!(r#"[{{"hostname": {inner}}}]"#),
            Api::Scanalytics => format!(r#"{{"email": {inner}}}"#),
        }
    }

    fn base(self, uri: &str) -> String {
        match self {
            Api::Monarc => format!("{uri}/api/v2"),
            Api::SerenyticsData => format!("{uri}/data-api"),
            Api::Scout => format!("{uri}/api/v0"),
            _ => uri.to_string(),
        }
    }
}

/// The secrets one client is built with.
#[derive(Debug, Clone)]
pub struct Creds {
    /// API key (MONARC, Serenytics, data API, TONalytica) or OAuth2 access token (Scanalytics).
    pub key: String,
    /// TONalytica: send the key as `?api_key=` instead of the `Authorization` header.
    pub query_key: bool,
    /// Scanalytics: refresh token and client secret.
    pub refresh_token: Option<String>,
    pub client_secret: Option<String>,
    /// Scout: the password and the server (base URI) to log in at.
    pub password: String,
    pub login_at: Option<String>,
    /// Scout: the session cookie the server sets at login.
    pub scout_sid: String,
}

impl Default for Creds {
    fn default() -> Self {
        Creds {
            key: "key-9Hq2rT".into(),
            query_key: false,
            refresh_token: None,
            client_secret: None,
            password: "pw-Lk2s9".into(),
            login_at: None,
            scout_sid: SCOUT_SID.into(),
        }
    }
}

impl Creds {
    /// What an authenticated request of `api` carries (in a header or the query).
    pub fn on_the_wire(&self, api: Api) -> String {
        match api {
            Api::Scout => self.scout_sid.clone(),
            _ => self.key.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub enum AnyClient {
    Monarc(monarc_stats::Client),
    Serenytics(serenytics::Client),
    DataApi(serenytics_data_api::Client),
    Tonalytica(tonalytica::Client),
    Scout(scout::Client),
    Scanalytics(scanalytics::Client),
}

/// The client of `api` for the server at `uri` (`http://127.0.0.1:port`).
pub async fn client(api: Api, uri: &str, http: reqwest::Client, transport: Transport) -> AnyClient {
    client_with(api, uri, http, transport, &Creds::default()).await
}

pub async fn client_with(
    api: Api,
    uri: &str,
    http: reqwest::Client,
    transport: Transport,
    creds: &Creds,
) -> AnyClient {
    let base = api.base(uri);
    match api {
        Api::Monarc => AnyClient::Monarc(monarc_stats::Client::new_with_client(
            &base,
            http,
            Auth::api_key(creds.key.as_str()).with_transport(transport),
        )),
        Api::Serenytics => AnyClient::Serenytics(serenytics::Client::new_with_client(
            &base,
            http,
            Auth::api_key(creds.key.as_str()).with_transport(transport),
        )),
        Api::SerenyticsData => AnyClient::DataApi(serenytics_data_api::Client::new_with_client(
            &base,
            http,
            Auth::api_key(creds.key.as_str()).with_transport(transport),
        )),
        Api::Tonalytica => {
            let auth = if creds.query_key {
                Auth::api_key_for_scheme(tonalytica::QUERY_KEY_SCHEME, creds.key.as_str())
            } else {
                Auth::api_key(creds.key.as_str())
            };
            AnyClient::Tonalytica(tonalytica::Client::new_with_client(
                &base,
                http,
                auth.with_transport(transport),
            ))
        }
        Api::Scout => {
            let login_at = creds.login_at.as_deref().unwrap_or(uri);
            let session = analytics_auth::CookieSession::login(
                &http,
                login_at,
                "admin",
                creds.password.as_str(),
            )
            .await
            .unwrap();
            AnyClient::Scout(scout::Client::new_with_client(
                &base,
                http,
                Auth::custom(session).with_transport(transport),
            ))
        }
        Api::Scanalytics => {
            let store = MemoryTokenStore::with_token(StoredToken {
                access_token: Some(creds.key.as_str().into()),
                expires_at: Some(std::time::SystemTime::now() + Duration::from_secs(86_400)),
                refresh_token: creds.refresh_token.as_deref().map(Into::into),
            });
            let mut builder = OAuth2::builder(format!("{uri}/o/token/"), "cid")
                .token_store(store)
                .http_client(http.clone());
            if let Some(secret) = &creds.client_secret {
                builder = builder.client_secret(secret.as_str());
            }
            AnyClient::Scanalytics(scanalytics::Client::new_with_client(
                &base,
                http,
                Auth::custom(builder.build().unwrap()).with_transport(transport),
            ))
        }
    }
}

/// The typed error of a call, reduced to what the tests compare, with its `Display` and `Debug`.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub shown: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited(Option<Duration>),
    InvalidRequest(u16),
    Unexpected(u16),
    InvalidResponse,
    Transport { connect: bool, timeout: bool },
    BodyTooLarge(usize),
    BodyStalled(Duration),
    Auth,
    InvalidInput,
    Other,
}

fn failure<E: std::fmt::Debug>(error: ApiError<E>) -> Failure {
    let shown = format!("{error}\n{error:?}");
    let kind = match &error {
        ApiError::Unauthorized { .. } => Kind::Unauthorized,
        ApiError::Forbidden { .. } => Kind::Forbidden,
        ApiError::NotFound { .. } => Kind::NotFound,
        ApiError::RateLimited { retry_after, .. } => Kind::RateLimited(*retry_after),
        ApiError::InvalidRequest { status, .. } => Kind::InvalidRequest(status.as_u16()),
        ApiError::UnexpectedResponse { status, .. } => Kind::Unexpected(status.as_u16()),
        ApiError::InvalidResponse { .. } => Kind::InvalidResponse,
        ApiError::Transport(e) => Kind::Transport {
            connect: e.is_connect(),
            timeout: e.is_timeout(),
        },
        ApiError::BodyTooLarge { limit } => Kind::BodyTooLarge(*limit),
        ApiError::BodyStalled { after } => Kind::BodyStalled(*after),
        ApiError::Auth(_) => Kind::Auth,
        ApiError::InvalidInput(_) => Kind::InvalidInput,
        _ => Kind::Other,
    };
    Failure { kind, shown }
}

macro_rules! call {
    ($future:expr) => {
        $future
            .await
            .map(|ok| format!("{ok:?}"))
            .map_err(|e| failure(ApiError::from(e)))
    };
}

impl AnyClient {
    /// The POST when `post`, else the GET.
    pub async fn call(&self, post: bool) -> Result<String, Failure> {
        if post {
            self.post().await
        } else {
            self.get().await
        }
    }

    /// The simple GET; `Ok` holds the `Debug` of the response.
    pub async fn get(&self) -> Result<String, Failure> {
        match self {
            AnyClient::Monarc(c) => call!(c.list_stats().send()),
            AnyClient::Serenytics(c) => call!(c.list_folders().send()),
            AnyClient::DataApi(c) => call!(c.list_datasources().send()),
            AnyClient::Tonalytica(c) => call!(c.list_query_tags().send()),
            AnyClient::Scout(c) => call!(c.list_robots().send()),
            AnyClient::Scanalytics(c) => call!(c.get_current_user().send()),
        }
    }

    /// The POST.
    pub async fn post(&self) -> Result<String, Failure> {
        match self {
            AnyClient::Monarc(c) => {
                let body = monarc_stats::types::StatsCreate::builder()
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
                    .data(serde_json::json!({}));
                call!(c.create_stats().body(body).send())
            }
            AnyClient::Serenytics(c) => call!(c
                .create_folder()
                .body(serenytics::types::FolderCreate {
                    name: "f".into(),
                    resource_type: serenytics::types::FolderResourceType::Datasource,
                })
                .send()),
            AnyClient::DataApi(c) => call!(c
                .query_datasource_model()
                .datasource_uuid(DS.parse::<uuid::Uuid>().unwrap())
                .send()),
            AnyClient::Tonalytica(c) => call!(c
                .format_query()
                .body(tonalytica::types::QueryText {
                    query: Some("select 1".into()),
                })
                .send()),
            AnyClient::Scout(c) => call!(c
                .create_robot()
                .body(scout::types::RobotCreate {
                    hostname: Some("192.168.80.3".into()),
                    nickname: Some("spot1".into()),
                    username: Some("scout".into()),
                    password: Some("pw".into()),
                })
                .send()),
            AnyClient::Scanalytics(c) => {
                use scanalytics::types;
                let body = types::ClientCredentialsGrantRequest::builder()
                    .grant_type(types::ClientCredentialsGrantRequestGrantType::ClientCredentials)
                    .client_id(Some("cid".to_string()));
                call!(c
                    .create_token()
                    .body(types::ClientCredentialsGrantRequest::try_from(body).unwrap())
                    .send())
            }
        }
    }
}
