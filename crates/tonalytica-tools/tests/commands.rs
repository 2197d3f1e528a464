//! The four binaries, run as processes against a local mock server: arguments, environment,
//! requests sent, stdout, files written, exit codes.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "canaryUserKeyZx81Lq0PpW3sN7dT5vYb2cR9mA4e";

fn user(id: i64, name: &str) -> Value {
    json!({
        "id": id, "name": name, "email": format!("{}@example.org", name.to_lowercase()),
        "profile_image_url": "https://www.gravatar.com/avatar/x", "groups": [1],
        "updated_at": "2023-06-01T09:00:00.001Z", "created_at": "2023-01-10T12:00:00Z",
        "disabled_at": null, "is_disabled": false, "active_at": null,
        "is_invitation_pending": false, "is_email_verified": true, "auth_type": "password"
    })
}

fn list_item(id: i64, name: &str, sql: &str, ds: i64, result: Option<i64>) -> Value {
    json!({
        "id": id, "latest_query_data_id": result, "name": name, "description": null,
        "query": sql, "query_hash": "4d8e3f1c9a0b2e7d6c5b4a3f2e1d0c9b", "schedule": null,
        "api_key": "Vx3kP9qLm2Zr8TbN4cYw7HdJ1sFgA6eKuQ0oRtXi", "is_archived": false,
        "is_draft": false, "updated_at": "2023-06-01T10:00:00.123Z",
        "created_at": "2023-05-30T08:15:42Z", "data_source_id": ds,
        "options": {"parameters": []}, "version": 1, "tags": [], "is_safe": true,
        "user": user(1, "Alice"), "last_modified_by_id": 1, "retrieved_at": null,
        "runtime": null, "is_favorite": false
    })
}

fn full_query(id: i64, name: &str, visualizations: Value) -> Value {
    let mut q = list_item(id, name, "SELECT 1", 1, None);
    let o = q.as_object_mut().unwrap();
    for k in ["last_modified_by_id", "retrieved_at", "runtime"] {
        o.remove(k);
    }
    o.insert("last_modified_by".into(), Value::Null);
    o.insert("visualizations".into(), visualizations);
    q
}

fn viz(id: i64, options: Value) -> Value {
    json!({"id": id, "type": "TABLE", "name": "Table", "description": null, "options": options,
           "updated_at": "2023-06-01T10:00:00Z", "created_at": "2023-06-01T10:00:00Z"})
}

fn dashboard(id: i64, slug: &str, name: &str, tags: Value, widgets: Value) -> Value {
    json!({
        "id": id, "slug": slug, "name": name, "user_id": 1,
        "user": {"id": 1, "name": "Alice", "email": "alice@example.org", "profile_image_url": "x"},
        "layout": [], "dashboard_filters_enabled": false, "widgets": widgets, "options": {},
        "is_archived": false, "is_draft": false, "tags": tags,
        "updated_at": "2023-06-01T10:00:00Z", "created_at": "2023-06-01T10:00:00Z", "version": 1
    })
}

fn text_widget(id: i64, text: &str) -> Value {
    json!({"id": id, "width": 1, "options": {"position": {"col": 0}}, "dashboard_id": 3,
           "text": text, "updated_at": "2023-06-01T10:00:00Z", "created_at": "2023-06-01T10:00:00Z"})
}

fn viz_widget(id: i64, visualization: Value) -> Value {
    json!({"id": id, "width": 1, "options": {"position": {"col": 3}}, "dashboard_id": 3,
           "text": "", "visualization": visualization,
           "updated_at": "2023-06-01T10:00:00Z", "created_at": "2023-06-01T10:00:00Z"})
}

fn page(results: Vec<Value>) -> Value {
    json!({"count": results.len(), "page": 1, "page_size": 100, "results": results})
}

async fn serve(server: &MockServer, verb: &str, route: &str, body: Value) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Every request: `METHOD path?query [auth]` and the body, one block each.
async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let query = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            let auth = r
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_default();
            let auth = if auth == format!("Key {KEY}") {
                "key"
            } else {
                "NO KEY"
            };
            let body = String::from_utf8_lossy(&r.body);
            format!("{} {}{} [{auth}] {body}", r.method, r.url.path(), query)
                .trim_end()
                .to_string()
        })
        .collect()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tonalytica-tools-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a binary with `args` in `dir`, `REDASH_API_KEY` set or not, stdin closed.
async fn run(bin: &'static str, args: Vec<String>, env_key: bool, dir: &Path) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(bin);
        cmd.args(&args)
            .current_dir(&dir)
            .env_remove("REDASH_API_KEY")
            .stdin(std::process::Stdio::null());
        if env_key {
            cmd.env("REDASH_API_KEY", KEY);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn export_queries_writes_one_file_per_query_with_the_key_from_the_environment() {
    let server = MockServer::start().await;
    let q1 = list_item(
        1,
        "Active users",
        "SELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id",
        1,
        Some(10),
    );
    let mut q2 = list_item(2, "Orphan", "SELECT 2", 1, None);
    q2["data_source_id"] = Value::Null;
    q2["updated_at"] = json!("2023-06-02T08:00:00Z");
    // Two pages of one: `page * page_size >= count` decides.
    Mock::given(method("GET"))
        .and(path("/api/queries"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"count": 101, "page": 1, "page_size": 100, "results": [q1]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/queries"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"count": 101, "page": 2, "page_size": 100, "results": [q2]})),
        )
        .mount(&server)
        .await;
    let dir = scratch_dir("export");
    // A trailing slash on the URL must not double the slash of the request path.
    let out = run(
        env!("CARGO_BIN_EXE_export-queries"),
        vec![format!("{}/", server.uri())],
        true,
        &dir,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
    assert_eq!(
        std::fs::read_to_string(dir.join("query_1.sql")).unwrap(),
        "/*\nName: Active users\nData source: 1\nCreated By: Alice\nLast Updated At: 2023-06-01T10:00:00.123Z\n*/\nSELECT u.id FROM users u\nJOIN events e ON u.id = e.user_id"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("query_2.sql")).unwrap(),
        "/*\nName: Orphan\nData source: None\nCreated By: Alice\nLast Updated At: 2023-06-02T08:00:00Z\n*/\nSELECT 2"
    );
    assert_eq!(
        requests(&server).await,
        vec![
            "GET /api/queries?page=1&page_size=100 [key]",
            "GET /api/queries?page=2&page_size=100 [key]",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_key_is_one_line_and_exit_status_1_without_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"message": "Couldn't find resource. Please login and try again."}),
        ))
        .mount(&server)
        .await;
    let dir = scratch_dir("badkey");
    let out = run(
        env!("CARGO_BIN_EXE_export-queries"),
        vec![server.uri(), "--api-key".into(), KEY.into()],
        false,
        &dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: listing queries: not found (404): Couldn't find resource. Please login and try again. (check the API key and the URL: the server answers 404 to an unknown key)\n"
    );
    assert!(!stderr(&out).contains(KEY));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    // No key anywhere: a clear message instead of a prompt that cannot be answered.
    let out = run(
        env!("CARGO_BIN_EXE_gdpr-scrub"),
        vec![server.uri(), "alice".into()],
        false,
        &dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "API Key: error: no API key: pass --api-key or set REDASH_API_KEY\n"
    );
}

async fn find_tables_server(schema: Value) -> MockServer {
    let server = MockServer::start().await;
    serve(&server, "GET", "/api/data_sources/1/schema", schema).await;
    serve(
        &server,
        "GET",
        "/api/queries",
        page(vec![
            list_item(
                1,
                "a",
                "SELECT * FROM users u JOIN events e ON u.id = e.uid",
                1,
                None,
            ),
            list_item(2, "b", "SELECT * FROM other_ds_table", 2, None),
            list_item(
                3,
                "c",
                "select count(*) from users where x in (select 1 from secret)",
                1,
                None,
            ),
        ]),
    )
    .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn find_tables_prints_the_summary_or_the_pairs() {
    let schema = json!({"schema": [
        {"name": "users", "columns": ["id"]},
        {"name": "events", "columns": [{"name": "uid", "type": "integer"}]}
    ]});
    let server = find_tables_server(schema).await;
    let dir = scratch_dir("find");
    let args = vec![server.uri(), KEY.to_string(), "1".to_string()];
    let out = run(env!("CARGO_BIN_EXE_find-tables"), args.clone(), false, &dir).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\n\n table | number of queries\n------ | -----------------\n users |                 2\nevents |                 1\n\n\n"
    );
    assert_eq!(
        requests(&server).await,
        vec![
            "GET /api/data_sources/1/schema [key]",
            "GET /api/queries?page=1&page_size=100 [key]",
        ]
    );

    let mut detail = args.clone();
    detail.push("--detail".into());
    let out = run(env!("CARGO_BIN_EXE_find-tables"), detail, false, &dir).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1,users\n1,events\n3,users\n");

    // Schema not cached (a job): no filtering, as in the toolbelt.
    let job = json!({"job": {"id": "9f0a5c1e-3b7d-4c43-9a59-5c4f0d2f6a11", "updated_at": 0,
        "status": 1, "error": "", "result": null, "query_result_id": null}});
    let server = find_tables_server(job).await;
    let mut detail = vec![
        server.uri(),
        KEY.to_string(),
        "1".to_string(),
        "--detail".into(),
    ];
    let out = run(
        env!("CARGO_BIN_EXE_find-tables"),
        detail.clone(),
        false,
        &dir,
    )
    .await;
    assert_eq!(stdout(&out), "1,users\n1,events\n3,users\n3,secret\n");

    // No tables at all: the Python script crashes in max(); we say so.
    let server = find_tables_server(json!({"schema": [{"name": "nothing", "columns": []}]})).await;
    detail[0] = server.uri();
    detail.pop();
    let out = run(env!("CARGO_BIN_EXE_find-tables"), detail, false, &dir).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: no table names found in the 2 queries of data source 1\n"
    );

    // A non-numeric data source id is refused before any request.
    let out = run(
        env!("CARGO_BIN_EXE_find-tables"),
        vec![server.uri(), KEY.into(), "one".into()],
        false,
        &dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'one' for '<DATA_SOURCE_ID>'"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gdpr_scrub_prints_matching_query_and_dashboard_urls() {
    let server = MockServer::start().await;
    let mut tagged = list_item(3, "Tagged", "SELECT 3", 1, None);
    tagged["tags"] = json!(["owner:Bob@Example.org"]);
    serve(
        &server,
        "GET",
        "/api/queries",
        page(vec![
            list_item(
                1,
                "Emails",
                "SELECT * FROM users WHERE email = 'alice@example.org'",
                1,
                Some(10),
            ),
            list_item(2, "Results", "SELECT 2", 1, Some(20)),
            tagged,
            list_item(4, "Clean", "SELECT 4", 1, Some(40)),
        ]),
    )
    .await;
    let result = |id: i64, value: &str| {
        json!({"query_result": {"id": id, "query_hash": "h", "query": "SELECT", "data_source_id": 1,
            "runtime": 0.1, "retrieved_at": "2023-06-01T10:00:00Z",
            "data": {"columns": [{"name": "email", "friendly_name": "email", "type": "string"}],
                     "rows": [{"email": value}]}}})
    };
    serve(
        &server,
        "GET",
        "/api/query_results/20",
        result(20, "ALICE@example.org"),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/query_results/40",
        result(40, "carol@example.org"),
    )
    .await;
    let restricted = json!({"id": 9, "width": 1, "dashboard_id": 4, "options": {},
        "created_at": "2023-06-01T10:00:00Z", "updated_at": "2023-06-01T10:00:00Z", "restricted": true});
    serve(
        &server,
        "GET",
        "/api/dashboards",
        page(vec![
            dashboard(
                3,
                "sales-overview",
                "Sales overview",
                json!([]),
                Value::Null,
            ),
            dashboard(4, "ops", "Ops", json!([]), Value::Null),
            dashboard(
                5,
                "alice-example-org",
                "alice@example.org",
                json!([]),
                Value::Null,
            ),
        ]),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/dashboards/3",
        dashboard(
            3,
            "sales-overview",
            "Sales overview",
            json!([]),
            json!([text_widget(1, "Contact: Alice@Example.org")]),
        ),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/dashboards/4",
        dashboard(
            4,
            "ops",
            "Ops",
            json!([]),
            json!([restricted, text_widget(2, "nothing here")]),
        ),
    )
    .await;
    let dir = scratch_dir("gdpr");
    let host = server.uri();
    let out = run(
        env!("CARGO_BIN_EXE_gdpr-scrub"),
        vec![
            host.clone(),
            "Alice@example.org".into(),
            "bob@example.org".into(),
            "--api-key".into(),
            KEY.into(),
        ],
        false,
        &dir,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "Queries\n{host}/queries/1\n{host}/queries/2\n{host}/queries/3\nDashboards\n{host}/dashboards/sales-overview\n{host}/dashboards/alice-example-org\n"
        )
    );
    assert_eq!(
        requests(&server).await,
        vec![
            "GET /api/queries?page=1&page_size=100 [key]",
            "GET /api/query_results/20 [key]",
            "GET /api/query_results/40 [key]",
            "GET /api/dashboards?page=1&page_size=100 [key]",
            "GET /api/dashboards/3 [key]",
            "GET /api/dashboards/4 [key]",
        ]
    );
}

async fn clone_server(widgets: Value) -> MockServer {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/dashboards",
        page(vec![dashboard(
            3,
            "sales-overview",
            "Sales overview",
            json!(["sales"]),
            Value::Null,
        )]),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/dashboards/3",
        dashboard(
            3,
            "sales-overview",
            "Sales overview",
            json!(["sales"]),
            widgets,
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/dashboards",
        dashboard(
            7,
            "copy-of-sales-overview",
            "Copy of: Sales overview",
            json!([]),
            Value::Null,
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/dashboards/7",
        dashboard(
            7,
            "copy-of-sales-overview",
            "Copy of: Sales overview",
            json!(["sales"]),
            json!([]),
        ),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/queries/1",
        full_query(
            1,
            "Active users",
            json!([viz(11, json!({})), viz(12, json!({"x": 1}))]),
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/queries/1/fork",
        full_query(
            21,
            "Copy of (#1) Active users",
            json!([viz(31, json!({})), viz(32, json!({"x": 1}))]),
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/queries/21",
        full_query(
            21,
            "Copy: Active users",
            json!([viz(31, json!({})), viz(32, json!({"x": 1}))]),
        ),
    )
    .await;
    serve(&server, "POST", "/api/widgets", text_widget(50, "")).await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn clone_dashboard_and_queries_copies_by_slug_on_this_server() {
    let q1 = full_query(1, "Active users", json!([]));
    let widgets = json!([
        viz_widget(1, {
            let mut v = viz(12, json!({"x": 1}));
            v["query"] = q1.clone();
            v
        }),
        text_widget(2, "Notes"),
        viz_widget(3, {
            let mut v = viz(11, json!({}));
            v["query"] = q1;
            v
        }),
    ]);
    let server = clone_server(widgets).await;
    let dir = scratch_dir("clone");
    let out = run(
        env!("CARGO_BIN_EXE_clone-dashboard-and-queries"),
        vec![server.uri(), "sales-overview".into(), "Copy: ".into()],
        true,
        &dir,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        requests(&server).await,
        vec![
            "GET /api/dashboards?page=1&page_size=100 [key]",
            "GET /api/dashboards/3 [key]",
            r#"POST /api/dashboards [key] {"name":"Copy of: Sales overview"}"#,
            r#"POST /api/dashboards/7 [key] {"tags":["sales"]}"#,
            "GET /api/queries/1 [key]",
            "POST /api/queries/1/fork [key]",
            r#"POST /api/queries/21 [key] {"name":"Copy: Active users"}"#,
            r#"POST /api/widgets [key] {"dashboard_id":7,"options":{"position":{"col":3}},"text":"","visualization_id":32,"width":1}"#,
            r#"POST /api/widgets [key] {"dashboard_id":7,"options":{"position":{"col":0}},"text":"Notes","visualization_id":null,"width":1}"#,
            r#"POST /api/widgets [key] {"dashboard_id":7,"options":{"position":{"col":3}},"text":"","visualization_id":31,"width":1}"#,
        ]
    );

    // A restricted widget: refused before anything is created.
    let restricted = json!([{"id": 9, "width": 1, "dashboard_id": 3, "options": {},
        "created_at": "2023-06-01T10:00:00Z", "updated_at": "2023-06-01T10:00:00Z", "restricted": true}]);
    let server = clone_server(restricted).await;
    let out = run(
        env!("CARGO_BIN_EXE_clone-dashboard-and-queries"),
        vec![
            server.uri(),
            "3".into(),
            "X".into(),
            "--api-key".into(),
            KEY.into(),
        ],
        false,
        &dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: dashboard 3 has 1 widget(s) on queries this key cannot view; nothing was copied\n"
    );
    assert_eq!(requests(&server).await, vec!["GET /api/dashboards/3 [key]"]);

    // An unknown slug.
    let out = run(
        env!("CARGO_BIN_EXE_clone-dashboard-and-queries"),
        vec![server.uri(), "nope".into(), "X".into()],
        true,
        &dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: no dashboard with the slug `nope`"),
        "{}",
        stderr(&out)
    );
}
