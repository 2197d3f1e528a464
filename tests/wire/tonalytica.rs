//! Wire-level tests of the TONalytica client against local servers (issue 4): every operation
//! with both key placements (request bytes and parsed result), the helpers (page streams, job
//! polling, CSV streaming) and the bad-input cases.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tonalytica::{
    types, ApiError, Auth, Client, ClientConfig, ClientCsvExt, ClientJobsExt, ClientPagesExt,
    CsvError, FetchError, JobState, PollPolicy, QUERY_KEY_SCHEME,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workspace_tests::{raw_server, received};

/// A query key (40 alphanumerics in real life); it must never show up in output or errors.
const KEY: &str = "canaryQueryKey7Tq7ZLb3xYp0Wn5RkSecret40c";
const UA: &str = "user-agent: analytics-clients/0.1.0";
const JOB_ID: &str = "9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// `Auth::api_key`: `Authorization: Key <key>`.
    Header,
    /// `Auth::api_key_for_scheme("ApiKeyQuery", …)`: `?api_key=<key>`.
    Query,
}

fn client_for(base: &str, placement: Placement) -> Client {
    let auth = match placement {
        Placement::Header => Auth::api_key(KEY),
        Placement::Query => Auth::api_key_for_scheme(QUERY_KEY_SCHEME, KEY),
    };
    Client::new_with_client(base, ClientConfig::new().build().unwrap(), auth)
}

fn json_response(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// What the server must receive for one call: `target` is path and query without the key.
fn expected(
    verb: &str,
    target: &str,
    accept: Option<&str>,
    body: Option<&str>,
    placement: Placement,
    auth: bool,
) -> String {
    let mut out = String::new();
    let target = match (placement, auth) {
        (Placement::Query, true) if target.contains('?') => format!("{target}&api_key={KEY}"),
        (Placement::Query, true) => format!("{target}?api_key={KEY}"),
        _ => target.to_string(),
    };
    out.push_str(&format!("{verb} {target}\n"));
    if let Some(accept) = accept {
        out.push_str(&format!("accept: {accept}\n"));
    }
    if placement == Placement::Header && auth {
        out.push_str(&format!("authorization: Key {KEY}\n"));
    }
    if let Some(body) = body {
        out.push_str(&format!(
            "content-length: {}\ncontent-type: application/json\n",
            body.len()
        ));
    }
    out.push_str(UA);
    out.push('\n');
    if let Some(body) = body {
        out.push_str(&format!("\n{body}\n"));
    }
    out.push_str("--\n");
    out
}

type Call = fn(Arc<Client>) -> BoxFuture<'static, String>;

/// One operation: the route the mock serves, what it answers, the call, and what must be sent
/// and parsed.
struct Case {
    op: &'static str,
    verb: &'static str,
    route: &'static str,
    target: &'static str,
    accept: Option<&'static str>,
    body: Option<&'static str>,
    response: &'static str,
    content_type: &'static str,
    auth: bool,
    call: Call,
    parsed: &'static str,
}

const JSON: Option<&str> = Some("application/json");

macro_rules! call {
    ($c:ident => $e:expr) => {
        (|$c: Arc<Client>| -> BoxFuture<'static, String> { Box::pin(async move { $e }) }) as Call
    };
}

macro_rules! case {
    ($op:literal, $verb:literal $route:literal, $target:literal, body: $body:expr, answer: $resp:expr, $call:expr, $parsed:literal) => {
        Case {
            op: $op,
            verb: $verb,
            route: $route,
            target: $target,
            accept: JSON,
            body: $body,
            response: $resp,
            content_type: "application/json",
            auth: true,
            call: $call,
            parsed: $parsed,
        }
    };
}

fn nz(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap()
}

async fn bytes_of(stream: tonalytica::ByteStream) -> String {
    let chunks: Vec<_> = stream.into_inner().try_collect().await.unwrap();
    String::from_utf8(chunks.concat()).unwrap()
}
const QUERY: &str = r#"{"id":1,"latest_query_data_id":10,"name":"Active users","description":null,"query":"SELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id","query_hash":"4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b","schedule":{"interval":3600,"until":null,"day_of_week":null,"time":null},"api_key":"Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi","is_archived":false,"is_draft":false,"updated_at":"2023-06-01T10:00:00.123Z","created_at":"2023-05-30T08:15:42Z","data_source_id":1,"options":{"apply_auto_limit":false,"parameters":[]},"version":1,"tags":["users"],"is_safe":true,"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[1,2],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password"},"last_modified_by":null,"visualizations":[{"id":1,"type":"TABLE","name":"Table","description":"","options":{},"updated_at":"2023-05-30T08:15:42Z","created_at":"2023-05-30T08:15:42Z"},{"id":2,"type":"CHART","name":"Users per day","description":"","options":{"globalSeriesType":"line"},"updated_at":"2023-05-31T09:00:00.500Z","created_at":"2023-05-31T09:00:00.500Z"}],"is_favorite":false,"can_edit":true}"#;
const QUERY_PAGE: &str = r#"{"count":1,"page":1,"page_size":25,"results":[{"id":1,"latest_query_data_id":10,"name":"Active users","description":null,"query":"SELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id","query_hash":"4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b","schedule":null,"api_key":"Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi","is_archived":false,"is_draft":false,"updated_at":"2023-06-01T10:00:00.123Z","created_at":"2023-05-30T08:15:42Z","data_source_id":1,"options":{"apply_auto_limit":false,"parameters":[]},"version":1,"tags":["users"],"is_safe":true,"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[1,2],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password"},"last_modified_by_id":1,"retrieved_at":"2023-06-09T10:12:15.204Z","runtime":0.0123,"is_favorite":false}]}"#;
const DASHBOARD: &str = r#"{"id":3,"slug":"sales-overview","name":"Sales overview","user_id":1,"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon"},"layout":[],"dashboard_filters_enabled":false,"widgets":[{"id":7,"width":1,"options":{"isHidden":false,"position":{"col":0,"row":0,"sizeX":3,"sizeY":8},"parameterMappings":{}},"dashboard_id":3,"text":"","updated_at":"2023-06-02T14:03:11.250Z","created_at":"2023-06-02T14:03:11.250Z","visualization":{"id":2,"type":"CHART","name":"Users per day","description":"","options":{"globalSeriesType":"line"},"updated_at":"2023-05-31T09:00:00.500Z","created_at":"2023-05-31T09:00:00.500Z","query":{"id":1,"latest_query_data_id":10,"name":"Active users","description":null,"query":"SELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id","query_hash":"4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b","schedule":null,"api_key":"Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi","is_archived":false,"is_draft":false,"updated_at":"2023-06-01T10:00:00.123Z","created_at":"2023-05-30T08:15:42Z","data_source_id":1,"options":{"apply_auto_limit":false,"parameters":[]},"version":1,"tags":["users"],"is_safe":true,"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[1,2],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password"},"last_modified_by":null}}},{"id":8,"width":1,"options":{"position":{"col":3,"row":0,"sizeX":3,"sizeY":3}},"dashboard_id":3,"text":"Contact sales@example.org for details.","updated_at":"2023-06-02T14:05:00Z","created_at":"2023-06-02T14:05:00Z"},{"id":9,"width":1,"options":{},"dashboard_id":3,"created_at":"2023-06-02T14:06:00Z","updated_at":"2023-06-02T14:06:00Z","restricted":true}],"options":{},"is_archived":false,"is_draft":false,"tags":["sales"],"updated_at":"2023-06-02T14:03:11.250Z","created_at":"2023-06-01T11:00:00Z","version":4,"is_favorite":false,"can_edit":true}"#;
const DASHBOARD_PAGE: &str = r#"{"count":1,"page":1,"page_size":25,"results":[{"id":3,"slug":"sales-overview","name":"Sales overview","user_id":1,"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon"},"layout":[],"dashboard_filters_enabled":false,"widgets":null,"options":{},"is_archived":false,"is_draft":false,"tags":["sales"],"updated_at":"2023-06-02T14:03:11.250Z","created_at":"2023-06-01T11:00:00Z","version":4,"is_favorite":false}]}"#;
const WIDGET: &str = r###"{"id":8,"width":1,"options":{},"dashboard_id":4,"text":"## Weekly numbers","updated_at":"2023-06-09T10:21:00.100Z","created_at":"2023-06-09T10:21:00.100Z"}"###;
const VISUALIZATION: &str = r#"{"id":5,"type":"CHART","name":"Chart","description":"","options":{},"updated_at":"2023-06-09T10:22:00.300Z","created_at":"2023-06-09T10:22:00.300Z"}"#;
const USER: &str = r#"{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[1,2],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password","api_key":"Qm7tR2vX9kLp4sWz8nBc1dFg6hJy3eUa5oIi0rTq"}"#;
const USER_PAGE: &str = r#"{"count":1,"page":1,"page_size":25,"results":[{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[{"id":1,"name":"admin"},{"id":2,"name":"default"}],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password"}]}"#;
const DATA_SOURCES: &str = r#"[{"id":1,"name":"Analytics DB","type":"pg","syntax":"sql","paused":0,"pause_reason":null,"supports_auto_limit":true,"view_only":false}]"#;
const DATA_SOURCE: &str = r#"{"id":1,"name":"Analytics DB","type":"pg","syntax":"sql","paused":0,"pause_reason":null,"supports_auto_limit":true,"view_only":false}"#;
const DATA_SOURCE_ADMIN: &str = r#"{"id":2,"name":"Analytics DB","type":"pg","syntax":"sql","paused":0,"pause_reason":null,"supports_auto_limit":true,"options":{"host":"db.internal","port":5432,"user":"redash","password":"--------","dbname":"analytics"},"queue_name":"queries","scheduled_queue_name":"scheduled_queries","groups":{"2":false}}"#;
const SCHEMA: &str = r#"{"schema":[{"name":"public.events","columns":[{"name":"created_at","type":"timestamp without time zone"},{"name":"user_id","type":"integer"}]},{"name":"public.users","columns":[{"name":"id","type":"integer"},{"name":"name","type":"text"}]}]}"#;
const SESSION: &str = r#"{"user":{"profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","id":1,"name":"Alice","email":"alice@example.org","groups":[1,2],"permissions":["create_dashboard","create_query","edit_dashboard","edit_query","view_query","view_source","execute_query","list_users","schedule_query","list_dashboards","list_alerts","list_data_sources"]},"messages":[],"org_slug":"default","client_config":{"newVersionAvailable":false,"version":"11.0.0-dev","allowScriptsInUserInput":false,"showPermissionsControl":false,"hidePlotlyModeBar":false,"disablePublicUrls":false,"allowCustomJSVisualizations":false,"autoPublishNamedQueries":true,"extendedAlertOptions":false,"mailSettingsMissing":true,"dashboardRefreshIntervals":[60,300,600,1800,3600,43200,86400],"queryRefreshIntervals":[60,300,600,900,1800,3600,7200,10800,14400,18000,21600,25200,28800,32400,36000,39600,43200,86400,604800,1209600,2592000],"googleLoginEnabled":false,"githubLoginEnabled":true,"ldapLoginEnabled":false,"pageSize":20,"pageSizeOptions":[5,10,20,50,100],"tableCellMaxJSONSize":50000,"basePath":"https://tonalytica.redoubt.online/","dateFormat":"DD/MM/YY","dateFormatList":["DD/MM/YY","MM/DD/YY","YYYY-MM-DD"],"timeFormatList":["HH:mm","HH:mm:ss","HH:mm:ss.SSS"],"dateTimeFormat":"DD/MM/YY HH:mm","integerFormat":"0,0","floatFormat":"0,0.00"}}"#;
const CONFIG: &str = r#"{"org_slug":"default","client_config":{"googleLoginEnabled":false,"githubLoginEnabled":true,"pageSize":20}}"#;
const TAGS: &str = r#"{"tags":[{"name":"users","count":2},{"name":"sales","count":1}]}"#;
const SHARE: &str = r#"{"public_url":"https://tonalytica.redoubt.online/public/dashboards/6Bq2yTn8RkWv3LcZ0pXe5AfJ9sHdM1gUoQ7iKr4N?org_slug=default","api_key":"6Bq2yTn8RkWv3LcZ0pXe5AfJ9sHdM1gUoQ7iKr4N"}"#;
const RESULT: &str = r#"{"query_result":{"id":11,"query_hash":"9c0e2b6f5a4d3c2b1a0f9e8d7c6b5a49","query":"SELECT id, name, signed_up FROM users LIMIT 2","data":{"columns":[{"name":"id","friendly_name":"id","type":"integer"},{"name":"name","friendly_name":"name","type":"string"},{"name":"signed_up","friendly_name":"signed_up","type":"date"}],"rows":[{"id":1,"name":"Alice","signed_up":"2023-06-01"},{"id":2,"name":"Bob","signed_up":"2023-06-02"}]},"data_source_id":1,"runtime":0.0123,"retrieved_at":"2023-06-09T10:12:15.204Z"}}"#;
const JOB_QUEUED: &str = r#"{"job":{"id":"9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11","updated_at":0,"status":1,"error":"","result":null,"query_result_id":null}}"#;
const JOB_STARTED: &str = r#"{"job":{"id":"9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11","updated_at":"2023-06-09T10:12:14.001","status":2,"error":"","result":null,"query_result_id":null}}"#;
const JOB_FINISHED: &str = r#"{"job":{"id":"9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11","updated_at":0,"status":3,"error":"","result":11,"query_result_id":11}}"#;
const JOB_FAILED: &str = r#"{"job":{"id":"9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11","updated_at":0,"status":4,"error":"relation \"userz\" does not exist\nLINE 1: SELECT * FROM userz\n                      ^\n","result":null,"query_result_id":null}}"#;
const JOB_CANCELLED: &str = r#"{"job":{"id":"9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11","updated_at":0,"status":4,"error":"Query cancelled by user.","result":null,"query_result_id":null}}"#;
const CSV: &str = "id,name,signed_up\r\n1,Alice,01/06/23\r\n2,Bob,02/06/23\r\n";
const TSV: &str = "id\tname\tsigned_up\r\n1\tAlice\t01/06/23\r\n2\tBob\t02/06/23\r\n";
const ALERT: &str = r#"{"id":5,"name":"Too many signups","options":{"column":"count","op":">","value":100},"state":"unknown","last_triggered_at":null,"updated_at":"2023-06-01T10:00:00.123Z","created_at":"2023-06-01T10:00:00Z","rearm":null,"query":{"id":1,"latest_query_data_id":10,"name":"Active users","description":null,"query":"SELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id","query_hash":"4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b","schedule":{"interval":3600,"until":null,"day_of_week":null,"time":null},"api_key":"Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi","is_archived":false,"is_draft":false,"updated_at":"2023-06-01T10:00:00.123Z","created_at":"2023-05-30T08:15:42Z","data_source_id":1,"options":{"apply_auto_limit":false,"parameters":[]},"version":1,"tags":["users"],"is_safe":true,"last_modified_by":null,"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[1,2],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password"}},"user":{"id":1,"name":"Alice","email":"alice@example.org","profile_image_url":"https://www.gravatar.com/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346?s=40&d=identicon","groups":[1,2],"updated_at":"2023-06-01T09:00:00.001Z","created_at":"2023-01-10T12:00:00Z","disabled_at":null,"is_disabled":false,"active_at":"2023-06-09T10:12:13Z","is_invitation_pending":false,"is_email_verified":true,"auth_type":"password"}}"#;
const RECENT: &str = r#"[{"id":1,"latest_query_data_id":10,"name":"Active users","description":null,"query":"SELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id","query_hash":"4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b","schedule":{"interval":3600,"until":null,"day_of_week":null,"time":null},"api_key":"Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi","is_archived":false,"is_draft":false,"updated_at":"2023-06-01T10:00:00.123Z","created_at":"2023-05-30T08:15:42Z","data_source_id":1,"options":{"apply_auto_limit":false,"parameters":[]},"version":1,"tags":["users"],"is_safe":true,"user_id":1,"last_modified_by_id":null,"is_favorite":false}]"#;
const PUBLIC_DASHBOARD: &str = r#"{"name":"Sales overview","layout":[],"dashboard_filters_enabled":false,"updated_at":"2023-06-01T10:00:00Z","created_at":"2023-06-01T10:00:00Z","options":{},"widgets":[{"id":1,"width":1,"options":{},"text":"Hello","updated_at":"2023-06-01T10:00:00Z","created_at":"2023-06-01T10:00:00Z"}]}"#;

const NULL: &str = "null";

fn cases() -> Vec<Case> {
    vec![
        // session
        case!("get_session", "GET" "/api/session", "/api/session", body: None, answer: SESSION,
            call!(c => { let s = c.get_session().send().await.unwrap().into_inner(); format!("{} {}", s.org_slug, s.messages.len()) }),
            "default 0"),
        Case {
            auth: false,
            ..case!("get_config", "GET" "/api/config", "/api/config", body: None, answer: CONFIG,
            call!(c => c.get_config().send().await.unwrap().into_inner().org_slug),
            "default")
        },
        // queries
        case!("list_queries", "GET" "/api/queries", "/api/queries?order=-created_at&page=2&page_size=100&q=users&tags=a&tags=b", body: None, answer: QUERY_PAGE,
            call!(c => { let p = c.list_queries().page(nz(2)).page_size(nz(100)).q("users").tags(vec!["a".to_string(), "b".to_string()]).order(types::ListQueriesOrder::XcreatedXat).send().await.unwrap().into_inner(); format!("{} {} {}", p.count, p.results.len(), p.results[0].user.name) }),
            "1 1 Alice"),
        case!("create_query", "POST" "/api/queries", "/api/queries", body: Some(r#"{"data_source_id":1,"name":"Active users","query":"SELECT 1"}"#), answer: QUERY,
            call!(c => { let q = c.create_query().body(types::QueryCreate { data_source_id: 1, query: "SELECT 1".into(), name: Some("Active users".into()), description: None, options: None, schedule: None, tags: vec![] }).send().await.unwrap().into_inner(); format!("{} {}", q.id, q.visualizations.len()) }),
            "1 2"),
        case!("search_queries", "GET" "/api/queries/search", "/api/queries/search?include_drafts=&q=", body: None, answer: "[]",
            call!(c => c.search_queries().q("").include_drafts("").send().await.unwrap().into_inner().len().to_string()),
            "0"),
        case!("list_my_queries", "GET" "/api/queries/my", "/api/queries/my?page=1", body: None, answer: QUERY_PAGE,
            call!(c => c.list_my_queries().page(nz(1)).send().await.unwrap().into_inner().results[0].name.clone()),
            "Active users"),
        case!("list_favorite_queries", "GET" "/api/queries/favorites", "/api/queries/favorites", body: None, answer: QUERY_PAGE,
            call!(c => c.list_favorite_queries().send().await.unwrap().into_inner().count.to_string()),
            "1"),
        case!("list_archived_queries", "GET" "/api/queries/archive", "/api/queries/archive?page_size=250", body: None, answer: QUERY_PAGE,
            call!(c => c.list_archived_queries().page_size(nz(250)).send().await.unwrap().into_inner().page.to_string()),
            "1"),
        case!("list_recent_queries", "GET" "/api/queries/recent", "/api/queries/recent", body: None, answer: RECENT,
            call!(c => c.list_recent_queries().send().await.unwrap().into_inner().len().to_string()),
            "1"),
        case!("list_query_tags", "GET" "/api/queries/tags", "/api/queries/tags", body: None, answer: TAGS,
            call!(c => { let t = c.list_query_tags().send().await.unwrap().into_inner(); format!("{} {}", t.tags[0].name, t.tags[0].count) }),
            "users 2"),
        case!("format_query", "POST" "/api/queries/format", "/api/queries/format", body: Some(r#"{"query":"select 1"}"#), answer: r#"{"query":"SELECT 1"}"#,
            call!(c => c.format_query().body(types::QueryText { query: Some("select 1".into()) }).send().await.unwrap().into_inner().query.unwrap()),
            "SELECT 1"),
        case!("get_query", "GET" "/api/queries/{query_id}", "/api/queries/1", body: None, answer: QUERY,
            call!(c => { let q = c.get_query().query_id(1).send().await.unwrap().into_inner(); format!("{} {:?} {}", q.name, q.can_edit, q.updated_at) }),
            "Active users Some(true) 2023-06-01 10:00:00.123 UTC"),
        case!("update_query", "POST" "/api/queries/{query_id}", "/api/queries/1", body: Some(r#"{"name":"Renamed","version":1}"#), answer: QUERY,
            call!(c => c.update_query().query_id(1).body(types::QueryUpdate { name: Some("Renamed".into()), version: Some(1), ..Default::default() }).send().await.unwrap().into_inner().id.to_string()),
            "1"),
        case!("archive_query", "DELETE" "/api/queries/{query_id}", "/api/queries/1", body: None, answer: NULL,
            call!(c => format!("{:?}", c.archive_query().query_id(1).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        case!("fork_query", "POST" "/api/queries/{query_id}/fork", "/api/queries/1/fork", body: None, answer: QUERY,
            call!(c => c.fork_query().query_id(1).send().await.unwrap().into_inner().visualizations[0].type_.clone()),
            "TABLE"),
        case!("refresh_query", "POST" "/api/queries/{query_id}/refresh", "/api/queries/1/refresh?p_country=NL", body: None, answer: JOB_QUEUED,
            call!(c => c.refresh_query().query_id(1).parameter_values([("p_country".to_string(), "NL".to_string())].into_iter().collect::<std::collections::BTreeMap<_, _>>()).send().await.unwrap().into_inner().job.state().code().to_string()),
            "1"),
        case!("regenerate_query_api_key", "POST" "/api/queries/{query_id}/regenerate_api_key", "/api/queries/1/regenerate_api_key", body: None, answer: QUERY,
            call!(c => c.regenerate_query_api_key().query_id(1).send().await.unwrap().into_inner().api_key.len().to_string()),
            "40"),
        case!("add_query_favorite", "POST" "/api/queries/{query_id}/favorite", "/api/queries/1/favorite", body: None, answer: NULL,
            call!(c => format!("{:?}", c.add_query_favorite().query_id(1).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        case!("remove_query_favorite", "DELETE" "/api/queries/{query_id}/favorite", "/api/queries/1/favorite", body: None, answer: NULL,
            call!(c => format!("{:?}", c.remove_query_favorite().query_id(1).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        // results and jobs
        case!("get_query_latest_result", "GET" "/api/queries/{query_id}/results", "/api/queries/1/results", body: None, answer: RESULT,
            call!(c => c.get_query_latest_result().query_id(1).send().await.unwrap().into_inner().query_result.data.as_ref().unwrap().rows.len().to_string()),
            "2"),
        // The docs' example body (corrected JSON): integral numbers stay integral.
        case!("execute_query", "POST" "/api/queries/{query_id}/results", "/api/queries/1/results", body: Some(r#"{"apply_auto_limit":false,"max_age":1800,"parameters":{"date_param":"2020-01-01","date_range_param":{"end":"2020-12-31","start":"2020-01-01"},"number_param":100}}"#), answer: JOB_QUEUED,
            call!(c => {
                let parameters: types::ParameterValues = serde_json::from_value(json!({"number_param": 100, "date_param": "2020-01-01", "date_range_param": {"start": "2020-01-01", "end": "2020-12-31"}})).unwrap();
                match c.execute_query().query_id(1).body(types::ExecuteQueryRequest { max_age: Some(1800), parameters: Some(parameters), apply_auto_limit: false }).send().await.unwrap().into_inner() {
                    types::ExecuteQueryResponse::JobEnvelope(j) => format!("job {:?}", j.job.state()),
                    types::ExecuteQueryResponse::QueryResultEnvelope(_) => "result".into(),
                }
            }),
            "job Pending"),
        case!("execute_adhoc_query", "POST" "/api/query_results", "/api/query_results", body: Some(r#"{"apply_auto_limit":false,"data_source_id":1,"max_age":0,"query":"SELECT 1"}"#), answer: RESULT,
            call!(c => match c.execute_adhoc_query().body(types::AdhocQueryRequest { data_source_id: 1, query: "SELECT 1".into(), max_age: Some(0), apply_auto_limit: false, parameters: None, query_id: None }).send().await.unwrap().into_inner() {
                types::ExecuteQueryResponse::QueryResultEnvelope(r) => format!("result {:?}", r.query_result.id),
                types::ExecuteQueryResponse::JobEnvelope(_) => "job".into(),
            }),
            "result Some(11)"),
        case!("get_query_result", "GET" "/api/query_results/{query_result_id}", "/api/query_results/11", body: None, answer: RESULT,
            call!(c => { let r = c.get_query_result().query_result_id(11).send().await.unwrap().into_inner().query_result; let d = r.data.as_ref().unwrap(); format!("{} {} {}", d.columns.len(), d.rows.get(0).unwrap().to_value().unwrap()["name"], r.retrieved_at) }),
            "3 \"Alice\" 2023-06-09 10:12:15.204 UTC"),
        case!("get_query_latest_result_json", "GET" "/api/queries/{query_id}/results.json", "/api/queries/1/results.json", body: None, answer: RESULT,
            call!(c => format!("{:?}", c.get_query_latest_result_json().query_id(1).send().await.unwrap().into_inner().query_result.id)),
            "Some(11)"),
        Case {
            accept: Some("*/*"),
            content_type: "text/csv; charset=UTF-8",
            ..case!("get_query_latest_result_csv", "GET" "/api/queries/{query_id}/results.csv", "/api/queries/1/results.csv", body: None, answer: CSV,
            call!(c => bytes_of(c.get_query_latest_result_csv().query_id(1).send().await.unwrap().into_inner()).await),
            "id,name,signed_up\r\n1,Alice,01/06/23\r\n2,Bob,02/06/23\r\n")
        },
        Case {
            accept: Some("*/*"),
            content_type: "text/tab-separated-values; charset=UTF-8",
            ..case!("get_query_latest_result_tsv", "GET" "/api/queries/{query_id}/results.tsv", "/api/queries/1/results.tsv", body: None, answer: TSV,
            call!(c => bytes_of(c.get_query_latest_result_tsv().query_id(1).send().await.unwrap().into_inner()).await),
            "id\tname\tsigned_up\r\n1\tAlice\t01/06/23\r\n2\tBob\t02/06/23\r\n")
        },
        Case {
            accept: Some("*/*"),
            content_type: XLSX,
            ..case!("get_query_latest_result_xlsx", "GET" "/api/queries/{query_id}/results.xlsx", "/api/queries/1/results.xlsx", body: None, answer: "PK\u{3}\u{4}",
            call!(c => bytes_of(c.get_query_latest_result_xlsx().query_id(1).send().await.unwrap().into_inner()).await),
            "PK\u{3}\u{4}")
        },
        case!("get_query_result_for_query_json", "GET" "/api/queries/{query_id}/results/{query_result_id}.json", "/api/queries/1/results/11.json", body: None, answer: RESULT,
            call!(c => c.get_query_result_for_query_json().query_id(1).query_result_id(11).send().await.unwrap().into_inner().query_result.query.unwrap()),
            "SELECT id, name, signed_up FROM users LIMIT 2"),
        Case {
            accept: Some("*/*"),
            content_type: "text/csv; charset=UTF-8",
            ..case!("get_query_result_for_query_csv", "GET" "/api/queries/{query_id}/results/{query_result_id}.csv", "/api/queries/1/results/11.csv", body: None, answer: CSV,
            call!(c => bytes_of(c.get_query_result_for_query_csv().query_id(1).query_result_id(11).send().await.unwrap().into_inner()).await),
            "id,name,signed_up\r\n1,Alice,01/06/23\r\n2,Bob,02/06/23\r\n")
        },
        Case {
            accept: Some("*/*"),
            content_type: "text/tab-separated-values; charset=UTF-8",
            ..case!("get_query_result_for_query_tsv", "GET" "/api/queries/{query_id}/results/{query_result_id}.tsv", "/api/queries/1/results/11.tsv", body: None, answer: TSV,
            call!(c => bytes_of(c.get_query_result_for_query_tsv().query_id(1).query_result_id(11).send().await.unwrap().into_inner()).await),
            "id\tname\tsigned_up\r\n1\tAlice\t01/06/23\r\n2\tBob\t02/06/23\r\n")
        },
        Case {
            accept: Some("*/*"),
            content_type: XLSX,
            ..case!("get_query_result_for_query_xlsx", "GET" "/api/queries/{query_id}/results/{query_result_id}.xlsx", "/api/queries/1/results/11.xlsx", body: None, answer: "PK\u{3}\u{4}",
            call!(c => bytes_of(c.get_query_result_for_query_xlsx().query_id(1).query_result_id(11).send().await.unwrap().into_inner()).await),
            "PK\u{3}\u{4}")
        },
        case!("get_query_result_json", "GET" "/api/query_results/{query_result_id}.json", "/api/query_results/11.json", body: None, answer: RESULT,
            call!(c => c.get_query_result_json().query_result_id(11).send().await.unwrap().into_inner().query_result.query_hash.unwrap()),
            "9c0e2b6f5a4d3c2b1a0f9e8d7c6b5a49"),
        Case {
            accept: Some("*/*"),
            content_type: "text/csv; charset=UTF-8",
            ..case!("get_query_result_csv", "GET" "/api/query_results/{query_result_id}.csv", "/api/query_results/11.csv", body: None, answer: CSV,
            call!(c => bytes_of(c.get_query_result_csv().query_result_id(11).send().await.unwrap().into_inner()).await),
            "id,name,signed_up\r\n1,Alice,01/06/23\r\n2,Bob,02/06/23\r\n")
        },
        Case {
            accept: Some("*/*"),
            content_type: "text/tab-separated-values; charset=UTF-8",
            ..case!("get_query_result_tsv", "GET" "/api/query_results/{query_result_id}.tsv", "/api/query_results/11.tsv", body: None, answer: TSV,
            call!(c => bytes_of(c.get_query_result_tsv().query_result_id(11).send().await.unwrap().into_inner()).await),
            "id\tname\tsigned_up\r\n1\tAlice\t01/06/23\r\n2\tBob\t02/06/23\r\n")
        },
        Case {
            accept: Some("*/*"),
            content_type: XLSX,
            ..case!("get_query_result_xlsx", "GET" "/api/query_results/{query_result_id}.xlsx", "/api/query_results/11.xlsx", body: None, answer: "PK\u{3}\u{4}",
            call!(c => bytes_of(c.get_query_result_xlsx().query_result_id(11).send().await.unwrap().into_inner()).await),
            "PK\u{3}\u{4}")
        },
        case!("get_job", "GET" "/api/jobs/{job_id}", "/api/jobs/9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11", body: None, answer: JOB_STARTED,
            call!(c => { let j = c.get_job().job_id(JOB_ID.parse::<uuid::Uuid>().unwrap()).send().await.unwrap().into_inner().job; format!("{:?} {:?}", j.state(), j.updated_at) }),
            "Started String(\"2023-06-09T10:12:14.001\")"),
        case!("cancel_job", "DELETE" "/api/jobs/{job_id}", "/api/jobs/9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11", body: None, answer: NULL,
            call!(c => format!("{:?}", c.cancel_job().job_id(JOB_ID.parse::<uuid::Uuid>().unwrap()).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        case!("get_query_job", "GET" "/api/queries/{query_id}/jobs/{job_id}", "/api/queries/1/jobs/9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11", body: None, answer: JOB_FINISHED,
            call!(c => { let j = c.get_query_job().query_id(1).job_id(JOB_ID.parse::<uuid::Uuid>().unwrap()).send().await.unwrap().into_inner().job; format!("{:?} {:?}", j.state(), j.result_id()) }),
            "Success Some(11)"),
        // dashboards
        case!("list_dashboards", "GET" "/api/dashboards", "/api/dashboards?order=name&page=1&page_size=25", body: None, answer: DASHBOARD_PAGE,
            call!(c => { let p = c.list_dashboards().page(nz(1)).page_size(nz(25)).order(types::ListDashboardsOrder::Name).send().await.unwrap().into_inner(); format!("{} {:?}", p.results[0].slug, p.results[0].widgets.as_ref().map(Vec::len)) }),
            "sales-overview None"),
        case!("create_dashboard", "POST" "/api/dashboards", "/api/dashboards", body: Some(r#"{"name":"Weekly"}"#), answer: DASHBOARD,
            call!(c => c.create_dashboard().body(types::DashboardCreate { name: "Weekly".into() }).send().await.unwrap().into_inner().id.to_string()),
            "3"),
        case!("list_my_dashboards", "GET" "/api/dashboards/my", "/api/dashboards/my", body: None, answer: DASHBOARD_PAGE,
            call!(c => c.list_my_dashboards().send().await.unwrap().into_inner().count.to_string()),
            "1"),
        case!("list_favorite_dashboards", "GET" "/api/dashboards/favorites", "/api/dashboards/favorites?q=sales", body: None, answer: DASHBOARD_PAGE,
            call!(c => c.list_favorite_dashboards().q("sales").send().await.unwrap().into_inner().results[0].name.clone()),
            "Sales overview"),
        case!("list_dashboard_tags", "GET" "/api/dashboards/tags", "/api/dashboards/tags", body: None, answer: TAGS,
            call!(c => c.list_dashboard_tags().send().await.unwrap().into_inner().tags.len().to_string()),
            "2"),
        Case {
            auth: false,
            ..case!("get_public_dashboard", "GET" "/api/dashboards/public/{token}", "/api/dashboards/public/tok3n", body: None, answer: PUBLIC_DASHBOARD,
            call!(c => c.get_public_dashboard().token("tok3n").send().await.unwrap().into_inner().widgets[0].text.clone().unwrap()),
            "Hello")
        },
        case!("get_dashboard", "GET" "/api/dashboards/{dashboard_id}", "/api/dashboards/3", body: None, answer: DASHBOARD,
            call!(c => { let d = c.get_dashboard().dashboard_id(3).send().await.unwrap().into_inner(); let w = d.widgets.unwrap(); format!("{} {}", w.len(), w.iter().filter(|w| w.visualization.is_some()).count()) }),
            "3 1"),
        case!("update_dashboard", "POST" "/api/dashboards/{dashboard_id}", "/api/dashboards/3", body: Some(r#"{"is_draft":false,"tags":["sales"]}"#), answer: DASHBOARD,
            call!(c => c.update_dashboard().dashboard_id(3).body(types::DashboardUpdate { is_draft: Some(false), tags: vec!["sales".into()], ..Default::default() }).send().await.unwrap().into_inner().version.to_string()),
            "4"),
        case!("archive_dashboard", "DELETE" "/api/dashboards/{dashboard_id}", "/api/dashboards/3", body: None, answer: DASHBOARD,
            call!(c => c.archive_dashboard().dashboard_id(3).send().await.unwrap().into_inner().name),
            "Sales overview"),
        case!("share_dashboard", "POST" "/api/dashboards/{dashboard_id}/share", "/api/dashboards/3/share", body: None, answer: SHARE,
            call!(c => c.share_dashboard().dashboard_id(3).send().await.unwrap().into_inner().api_key.len().to_string()),
            "40"),
        case!("unshare_dashboard", "DELETE" "/api/dashboards/{dashboard_id}/share", "/api/dashboards/3/share", body: None, answer: NULL,
            call!(c => format!("{:?}", c.unshare_dashboard().dashboard_id(3).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        case!("add_dashboard_favorite", "POST" "/api/dashboards/{dashboard_id}/favorite", "/api/dashboards/3/favorite", body: None, answer: NULL,
            call!(c => format!("{:?}", c.add_dashboard_favorite().dashboard_id(3).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        case!("remove_dashboard_favorite", "DELETE" "/api/dashboards/{dashboard_id}/favorite", "/api/dashboards/3/favorite", body: None, answer: NULL,
            call!(c => format!("{:?}", c.remove_dashboard_favorite().dashboard_id(3).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        // widgets and visualizations
        case!("create_widget", "POST" "/api/widgets", "/api/widgets", body: Some(r###"{"dashboard_id":4,"options":{},"text":"## Weekly numbers","visualization_id":null,"width":1}"###), answer: WIDGET,
            call!(c => c.create_widget().body(types::WidgetCreate { dashboard_id: 4, visualization_id: None, text: Some("## Weekly numbers".into()), options: Default::default(), width: Some(1) }).send().await.unwrap().into_inner().text.unwrap()),
            "## Weekly numbers"),
        case!("update_widget", "POST" "/api/widgets/{widget_id}", "/api/widgets/8", body: Some(r#"{"options":{},"text":"new"}"#), answer: WIDGET,
            call!(c => c.update_widget().widget_id(8).body(types::WidgetUpdate { text: "new".into(), options: Default::default() }).send().await.unwrap().into_inner().id.to_string()),
            "8"),
        case!("delete_widget", "DELETE" "/api/widgets/{widget_id}", "/api/widgets/8", body: None, answer: NULL,
            call!(c => format!("{:?}", c.delete_widget().widget_id(8).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        case!("create_visualization", "POST" "/api/visualizations", "/api/visualizations", body: Some(r#"{"description":"","name":"Chart","options":{},"query_id":1,"type":"CHART"}"#), answer: VISUALIZATION,
            call!(c => c.create_visualization().body(types::VisualizationCreate { query_id: 1, type_: "CHART".into(), name: "Chart".into(), description: Some(String::new()), options: Default::default() }).send().await.unwrap().into_inner().type_),
            "CHART"),
        case!("update_visualization", "POST" "/api/visualizations/{visualization_id}", "/api/visualizations/5", body: Some(r#"{"name":"Renamed"}"#), answer: VISUALIZATION,
            call!(c => c.update_visualization().visualization_id(5).body(types::VisualizationUpdate { name: Some("Renamed".into()), ..Default::default() }).send().await.unwrap().into_inner().id.to_string()),
            "5"),
        case!("delete_visualization", "DELETE" "/api/visualizations/{visualization_id}", "/api/visualizations/5", body: None, answer: NULL,
            call!(c => format!("{:?}", c.delete_visualization().visualization_id(5).send().await.unwrap().into_inner())),
            "JsonNull(())"),
        // data sources
        case!("list_data_sources", "GET" "/api/data_sources", "/api/data_sources", body: None, answer: DATA_SOURCES,
            call!(c => c.list_data_sources().send().await.unwrap().into_inner()[0].name.clone()),
            "Analytics DB"),
        case!("create_data_source", "POST" "/api/data_sources", "/api/data_sources", body: Some(r#"{"name":"Analytics DB","options":{"dbname":"analytics"},"type":"pg"}"#), answer: DATA_SOURCE_ADMIN,
            call!(c => c.create_data_source().body(types::DataSourceCreate { name: "Analytics DB".into(), type_: "pg".into(), options: serde_json::from_value(json!({"dbname": "analytics"})).unwrap() }).send().await.unwrap().into_inner().id.to_string()),
            "2"),
        case!("get_data_source", "GET" "/api/data_sources/{data_source_id}", "/api/data_sources/1", body: None, answer: DATA_SOURCE,
            call!(c => c.get_data_source().data_source_id(1).send().await.unwrap().into_inner().type_.unwrap()),
            "pg"),
        case!("get_data_source_schema", "GET" "/api/data_sources/{data_source_id}/schema", "/api/data_sources/1/schema?refresh=", body: None, answer: SCHEMA,
            call!(c => match c.get_data_source_schema().data_source_id(1).refresh("").send().await.unwrap().into_inner() {
                types::DataSourceSchemaResponse::SchemaEnvelope(s) => s.schema.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(","),
                types::DataSourceSchemaResponse::JobEnvelope(_) => "job".into(),
            }),
            "public.events,public.users"),
        // users
        case!("list_users", "GET" "/api/users", "/api/users?disabled=false&page=1&page_size=25", body: None, answer: USER_PAGE,
            call!(c => c.list_users().page(nz(1)).page_size(nz(25)).disabled(false).send().await.unwrap().into_inner().results.len().to_string()),
            "1"),
        case!("get_user", "GET" "/api/users/{user_id}", "/api/users/1", body: None, answer: USER,
            call!(c => c.get_user().user_id(1).send().await.unwrap().into_inner().email.clone()),
            "alice@example.org"),
        case!("disable_user", "POST" "/api/users/{user_id}/disable", "/api/users/1/disable", body: None, answer: USER,
            call!(c => c.disable_user().user_id(1).send().await.unwrap().into_inner().name.clone()),
            "Alice"),
        // alerts
        case!("list_alerts", "GET" "/api/alerts", "/api/alerts", body: None, answer: concat_alerts(),
            call!(c => c.list_alerts().send().await.unwrap().into_inner()[0].query.name.clone()),
            "Active users"),
        case!("create_alert", "POST" "/api/alerts", "/api/alerts", body: Some(r#"{"name":"Too many signups","options":{"column":"count","op":">","value":100},"query_id":1}"#), answer: ALERT,
            call!(c => c.create_alert().body(types::AlertCreate { name: "Too many signups".into(), options: serde_json::from_value(json!({"column": "count", "op": ">", "value": 100})).unwrap(), query_id: 1, rearm: None }).send().await.unwrap().into_inner().state.to_string()),
            "unknown"),
        case!("get_alert", "GET" "/api/alerts/{alert_id}", "/api/alerts/5", body: None, answer: ALERT,
            call!(c => c.get_alert().alert_id(5).send().await.unwrap().into_inner().user.name.clone()),
            "Alice"),
        case!("update_alert", "POST" "/api/alerts/{alert_id}", "/api/alerts/5", body: Some(r#"{"rearm":60}"#), answer: ALERT,
            call!(c => c.update_alert().alert_id(5).body(types::AlertUpdate { rearm: Some(60), ..Default::default() }).send().await.unwrap().into_inner().id.to_string()),
            "5"),
        case!("delete_alert", "DELETE" "/api/alerts/{alert_id}", "/api/alerts/5", body: None, answer: NULL,
            call!(c => format!("{:?}", c.delete_alert().alert_id(5).send().await.unwrap().into_inner())),
            "JsonNull(())"),
    ]
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn concat_alerts() -> &'static str {
    Box::leak(format!("[{ALERT}]").into_boxed_str())
}

#[tokio::test]
async fn every_operation_with_both_key_placements() {
    let cases = cases();
    // Every operation of the spec has a case.
    let mut covered: Vec<&str> = cases.iter().map(|c| c.op).collect();
    covered.sort_unstable();
    let mut all: Vec<&str> = tonalytica::API.operations.iter().map(|o| o.id).collect();
    all.sort_unstable();
    assert_eq!(covered, all);

    let mut failures = Vec::new();
    for case in &cases {
        for placement in [Placement::Header, Placement::Query] {
            let server = MockServer::start().await;
            let route = case
                .route
                .replace("{query_id}", "1")
                .replace("{query_result_id}", "11")
                .replace("{job_id}", JOB_ID)
                .replace("{dashboard_id}", "3")
                .replace("{token}", "tok3n")
                .replace("{widget_id}", "8")
                .replace("{visualization_id}", "5")
                .replace("{data_source_id}", "1")
                .replace("{user_id}", "1")
                .replace("{alert_id}", "5");
            Mock::given(method(case.verb))
                .and(path(route))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_raw(case.response.to_string(), case.content_type),
                )
                .mount(&server)
                .await;
            let client = Arc::new(client_for(&server.uri(), placement));
            let parsed = (case.call)(client).await;
            if parsed != case.parsed {
                failures.push(format!(
                    "{} ({placement:?}): parsed {parsed:?}, expected {:?}",
                    case.op, case.parsed
                ));
            }
            let sent = received(&server).await;
            let want = expected(
                case.verb,
                case.target,
                case.accept,
                case.body,
                placement,
                case.auth,
            );
            if sent != want {
                failures.push(format!(
                    "{} ({placement:?}): sent\n{sent}expected\n{want}",
                    case.op
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Bad input: bad key, unknown query, failing and endless jobs, odd CSV, page sizes.

const UNAUTHENTICATED: &str =
    r#"{"message": "Couldn't find resource. Please login and try again."}"#;
const NOT_FOUND: &str = r#"{"message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."}"#;

/// Neither `Display` nor `Debug` of `value` shows the key.
fn assert_no_key(value: &(impl std::fmt::Display + std::fmt::Debug)) {
    let shown = format!("{value} {value:?} {value:#?}");
    assert!(!shown.contains(KEY), "the key leaked: {shown}");
    assert!(!shown.contains("api_key="), "a keyed URL leaked: {shown}");
}

#[tokio::test]
async fn a_bad_key_is_the_servers_404_in_both_placements() {
    for placement in [Placement::Header, Placement::Query] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/session"))
            .respond_with(json_response(404, UNAUTHENTICATED))
            .mount(&server)
            .await;
        let err = ApiError::from(
            client_for(&server.uri(), placement)
                .get_session()
                .send()
                .await
                .unwrap_err(),
        );
        match &err {
            ApiError::NotFound {
                message,
                body: Some(body),
            } => {
                assert_eq!(
                    message.as_deref(),
                    Some("Couldn't find resource. Please login and try again.")
                );
                assert_eq!(body.message, message.clone().unwrap());
            }
            other => panic!("{placement:?}: expected NotFound, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "not found (404): Couldn't find resource. Please login and try again."
        );
        assert_no_key(&err);
    }
}

#[tokio::test]
async fn an_unknown_query_is_not_found_with_the_default_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/queries/999"))
        .respond_with(json_response(404, NOT_FOUND))
        .mount(&server)
        .await;
    let err = ApiError::from(
        client_for(&server.uri(), Placement::Query)
            .get_query()
            .query_id(999)
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ApiError::NotFound { .. }));
    assert!(err
        .message()
        .unwrap()
        .starts_with("The requested URL was not found"));
    assert_no_key(&err);
}

/// Mounts the execute → poll → download sequence for query 1: `polls` answers in order (the
/// last one repeats), then the result.
async fn mount_job_flow(server: &MockServer, execute: &str, polls: &[&'static str]) {
    Mock::given(method("POST"))
        .and(path("/api/queries/1/results"))
        .respond_with(json_response(200, execute))
        .mount(server)
        .await;
    for (i, answer) in polls.iter().enumerate() {
        let mock = Mock::given(method("GET"))
            .and(path(format!("/api/queries/1/jobs/{JOB_ID}")))
            .respond_with(json_response(200, answer));
        let mock = if i + 1 < polls.len() {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.with_priority(u8::try_from(i + 1).unwrap())
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/queries/1/results/11.json"))
        .respond_with(json_response(200, RESULT))
        .mount(server)
        .await;
}

fn fast_policy() -> PollPolicy {
    PollPolicy::default()
        .with_initial_interval(Duration::from_millis(1))
        .with_max_interval(Duration::from_millis(2))
        .with_timeout(Duration::from_secs(20))
}

#[tokio::test]
async fn fetch_fresh_result_posts_polls_and_downloads_with_either_key_placement() {
    for placement in [Placement::Header, Placement::Query] {
        let server = MockServer::start().await;
        mount_job_flow(
            &server,
            JOB_QUEUED,
            &[JOB_QUEUED, JOB_STARTED, JOB_FINISHED],
        )
        .await;
        let client = client_for(&server.uri(), placement);
        let parameters: types::ParameterValues =
            serde_json::from_value(json!({"country": "NL"})).unwrap();
        let result = client
            .fetch_fresh_result_with(1, Some(parameters), Some(0), &fast_policy())
            .await
            .unwrap();
        assert_eq!(result.id, Some(11));
        assert_eq!(result.data.as_ref().unwrap().rows.len(), 2);

        let body = r#"{"apply_auto_limit":false,"max_age":0,"parameters":{"country":"NL"}}"#;
        let poll = format!("/api/queries/1/jobs/{JOB_ID}");
        let want = [
            expected(
                "POST",
                "/api/queries/1/results",
                JSON,
                Some(body),
                placement,
                true,
            ),
            expected("GET", &poll, JSON, None, placement, true),
            expected("GET", &poll, JSON, None, placement, true),
            expected("GET", &poll, JSON, None, placement, true),
            expected(
                "GET",
                "/api/queries/1/results/11.json",
                JSON,
                None,
                placement,
                true,
            ),
        ]
        .concat();
        assert_eq!(received(&server).await, want, "{placement:?}");
    }
}

#[tokio::test]
async fn a_cached_result_is_returned_without_polling() {
    let server = MockServer::start().await;
    mount_job_flow(&server, RESULT, &[JOB_FINISHED]).await;
    let result = client_for(&server.uri(), Placement::Header)
        .fetch_fresh_result(1, None, None)
        .await
        .unwrap();
    assert_eq!(
        result.query_hash.as_deref(),
        Some("9c0e2b6f5a4d3c2b1a0f9e8d7c6b5a49")
    );
    assert_eq!(
        received(&server).await,
        expected(
            "POST",
            "/api/queries/1/results",
            JSON,
            Some(r#"{"apply_auto_limit":false,"max_age":null}"#),
            Placement::Header,
            true
        )
    );
}

#[tokio::test]
async fn a_job_that_errors_is_a_typed_failure_with_the_database_message() {
    let server = MockServer::start().await;
    mount_job_flow(&server, JOB_QUEUED, &[JOB_STARTED, JOB_FAILED]).await;
    let err = client_for(&server.uri(), Placement::Query)
        .fetch_fresh_result_with(1, None, Some(0), &fast_policy())
        .await
        .unwrap_err();
    match &err {
        FetchError::JobFailed { job_id, error } => {
            assert_eq!(job_id.to_string(), JOB_ID);
            assert!(
                error.starts_with("relation \"userz\" does not exist\nLINE 1:"),
                "{error}"
            );
        }
        other => panic!("expected JobFailed, got {other:?}"),
    }
    assert_no_key(&err);

    // A cancelled job (status 4 + "Query cancelled by user.") is told apart.
    let server = MockServer::start().await;
    mount_job_flow(&server, JOB_QUEUED, &[JOB_CANCELLED]).await;
    let err = client_for(&server.uri(), Placement::Header)
        .fetch_fresh_result_with(1, None, Some(0), &fast_policy())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::JobCancelled { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_execution_reports_the_job_error_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/queries/1/results"))
        .respond_with(json_response(
            400,
            r#"{"job": {"status": 4, "error": "Missing parameter value for: country"}}"#,
        ))
        .mount(&server)
        .await;
    let err = client_for(&server.uri(), Placement::Query)
        .fetch_fresh_result(1, None, Some(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Execute(ApiError::InvalidRequest { .. })),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Missing parameter value for: country"));
    assert_eq!(
        err.to_string(),
        "the query could not be executed: invalid request (400 Bad Request): Missing parameter value for: country"
    );
    assert_no_key(&err);

    // A bad key on the execution route: the server's 404.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/queries/1/results"))
        .respond_with(json_response(404, UNAUTHENTICATED))
        .mount(&server)
        .await;
    let err = client_for(&server.uri(), Placement::Query)
        .fetch_fresh_result(1, None, Some(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Execute(ApiError::NotFound { .. })),
        "{err:?}"
    );
    assert_no_key(&err);
}

/// A minimal HTTP/1.1 server on the test's own runtime (so that paused time never advances
/// while a request is in flight): answers by request line, `Connection: close`, and records the
/// request lines.
async fn in_runtime_server(
    answer: fn(&str) -> &'static str,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() < end + 4 + length {
                            continue;
                        }
                        let line = text.lines().next().unwrap_or("").to_string();
                        let body = answer(&line);
                        log.lock().unwrap().push(line);
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(response.as_bytes()).await;
                        let _ = socket.shutdown().await;
                        return;
                    }
                }
            });
        }
    });
    (base, seen)
}

#[tokio::test(start_paused = true)]
async fn a_job_that_never_finishes_times_out_and_is_cancelled() {
    let (base, seen) = in_runtime_server(|line| {
        if line.starts_with("DELETE") {
            NULL
        } else if line.starts_with("POST") {
            JOB_QUEUED
        } else {
            JOB_STARTED
        }
    })
    .await;
    let client = client_for(&base, Placement::Header);
    let policy = PollPolicy::default()
        .with_initial_interval(Duration::from_secs(1))
        .with_multiplier(2.0)
        .with_max_interval(Duration::from_secs(60))
        .with_timeout(Duration::from_secs(600));
    let start = tokio::time::Instant::now();
    let err = client
        .fetch_fresh_result_with(1, None, Some(0), &policy)
        .await
        .unwrap_err();
    match &err {
        FetchError::TimedOut { job_id, after } => {
            assert_eq!(job_id.unwrap().to_string(), JOB_ID);
            assert_eq!(*after, Duration::from_secs(600));
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_secs(600));
    assert_eq!(
        err.to_string(),
        format!("job {JOB_ID} did not finish within 600s")
    );
    // Polls at 1, 3, 7, 15, 31, 63, 123, 183, …, 543 s (the interval doubles up to 60 s; the
    // next would be at 603 s), then the job is cancelled on the server.
    let lines = seen.lock().unwrap().clone();
    let poll = format!("GET /api/queries/1/jobs/{JOB_ID} HTTP/1.1");
    assert_eq!(lines[0], "POST /api/queries/1/results HTTP/1.1");
    assert_eq!(lines.iter().filter(|l| **l == poll).count(), 14);
    assert_eq!(
        lines.last().unwrap(),
        &format!("DELETE /api/jobs/{JOB_ID} HTTP/1.1")
    );
    assert_eq!(lines.len(), 16);
}

#[tokio::test]
async fn csv_results_stream_record_by_record_with_odd_quoting() {
    let server = MockServer::start().await;
    let body =
        "id,note\r\n1,\"a, b\"\r\n2,\"say \"\"hi\"\"\"\r\n3,\"two\r\nlines\"\r\n4,x\"y\r\n5,\r\n";
    Mock::given(method("GET"))
        .and(path("/api/queries/1/results.csv"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/csv; charset=UTF-8"))
        .mount(&server)
        .await;
    let records: Vec<Vec<String>> = client_for(&server.uri(), Placement::Query)
        .latest_result_csv(1)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<Vec<String>> = [
        ["id", "note"],
        ["1", "a, b"],
        ["2", "say \"hi\""],
        ["3", "two\r\nlines"],
        ["4", "x\"y"],
        ["5", ""],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(records, expected);
    assert_eq!(
        received(&server).await,
        expected_csv_request("/api/queries/1/results.csv")
    );
}

fn expected_csv_request(target: &str) -> String {
    expected("GET", target, Some("*/*"), None, Placement::Query, true)
}

#[tokio::test]
async fn a_csv_body_cut_short_is_a_transport_error_without_the_key() {
    let addr = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: 500\r\n\r\nid,name\r\n1,Al",
    )
    .await;
    let mut records = client_for(&format!("http://{addr}"), Placement::Query)
        .query_result_csv(1, 11)
        .await
        .unwrap();
    assert_eq!(
        records.try_next().await.unwrap().unwrap(),
        vec!["id", "name"]
    );
    let err = loop {
        match records.next().await {
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e,
            None => panic!("a truncated body must be an error"),
        }
    };
    assert!(matches!(err, CsvError::Transport(_)), "{err:?}");
    assert_no_key(&err);

    // An error status on a CSV route is the typed API error.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/query_results/11.csv"))
        .respond_with(json_response(404, UNAUTHENTICATED))
        .mount(&server)
        .await;
    let err = client_for(&server.uri(), Placement::Query)
        .result_csv(11)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CsvError::Api(ApiError::NotFound { .. })),
        "{err:?}"
    );
    assert_no_key(&err);
}

#[tokio::test]
async fn connection_failures_do_not_show_the_keyed_url() {
    // Nothing listens on port 9 of 127.0.0.1.
    let client = client_for("http://127.0.0.1:9", Placement::Query);
    let err = ApiError::from(client.get_query().query_id(1).send().await.unwrap_err());
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    assert_no_key(&err);
    let err = client
        .fetch_fresh_result(1, None, Some(0))
        .await
        .unwrap_err();
    assert_no_key(&err);
    assert_no_key(
        &Auth::api_key_for_scheme(QUERY_KEY_SCHEME, KEY)
            .authorizer()
            .map(|a| format!("{a:?}"))
            .unwrap_or_default(),
    );
}

#[tokio::test]
async fn page_streams_follow_count_and_reject_bad_page_sizes_before_sending() {
    let server = MockServer::start().await;
    let item: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(QUERY_PAGE).unwrap()["results"][0].clone();
    for page in 1..=3u64 {
        let results: Vec<_> = (0..if page < 3 { 2 } else { 1 })
            .map(|i| {
                let mut q = item.clone();
                q["id"] = json!((page - 1) * 2 + i + 1);
                q
            })
            .collect();
        Mock::given(method("GET"))
            .and(path("/api/queries"))
            .and(wiremock::matchers::query_param("page", page.to_string()))
            .respond_with(json_response(
                200,
                &json!({"count": 5, "page": page, "page_size": 2, "results": results}).to_string(),
            ))
            .mount(&server)
            .await;
    }
    let client = client_for(&server.uri(), Placement::Header);
    let ids: Vec<i64> = client
        .queries_stream_with(2, |b| b.q("users"))
        .map_ok(|q| q.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    let want: String = (1..=3)
        .map(|p| {
            expected(
                "GET",
                &format!("/api/queries?page={p}&page_size=2&q=users"),
                JSON,
                None,
                Placement::Header,
                true,
            )
        })
        .collect();
    assert_eq!(received(&server).await, want);

    // Out of range: one InvalidInput, nothing sent.
    let server = MockServer::start().await;
    let client = client_for(&server.uri(), Placement::Header);
    for size in [0u64, 251] {
        let got: Vec<_> = client.dashboards_stream(size).collect().await;
        assert_eq!(got.len(), 1);
        match &got[0] {
            Err(ApiError::InvalidInput(reason)) => {
                assert_eq!(
                    reason,
                    &format!("page size for `list_dashboards` must be in 1..=250, got {size}")
                )
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    let err = ApiError::from(
        client
            .list_users()
            .page_size(nz(251))
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ApiError::InvalidInput(_)), "{err:?}");
    assert_eq!(received(&server).await, "");
}

#[test]
fn job_status_codes_are_an_enum() {
    let job: types::JobEnvelope = serde_json::from_str(JOB_CANCELLED).unwrap();
    assert_eq!(job.job.state(), JobState::Failure);
    assert_eq!(job.job.error_text(), "Query cancelled by user.");
    let job: types::JobEnvelope = serde_json::from_str(JOB_FINISHED).unwrap();
    assert_eq!(
        (job.job.state(), job.job.result_id()),
        (JobState::Success, Some(11))
    );
    assert!(serde_json::from_str::<types::JobEnvelope>(
        &JOB_QUEUED.replace("\"status\":1", "\"status\":6")
    )
    .is_err());
}
