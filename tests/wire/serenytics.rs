//! Wire-level tests of the Serenytics client against local servers each test starts: every spec
//! operation (exact request bytes and parsed result), the hand-written helpers, the bad-input
//! cases of the issue, and the two examples.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::num::NonZeroU64;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use serenytics::{
    types, ApiError, Auth, BasicLogin, BatchAction, BatchUpload, CheckedSend, Client, ClientConfig,
    Error, FormattedDataExt, ListStreams, Op, Search, SearchExt, TaskPolicy,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workspace_tests::{raw_server, received};

const KEY: &str = "canary-key-9fQ2serenyticsXk";
const UA: &str = "user-agent: analytics-clients/0.1.0";
const U1: &str = "7eef1661-6390-40c3-b326-f3056c1d4287";
const U2: &str = "5dc8508e-0946-47fc-8ed8-f67307c407f1";

fn uuid(s: &str) -> uuid::Uuid {
    s.parse().unwrap()
}

fn client_with(server: &MockServer, auth: Auth) -> Client {
    Client::new_with_client(&server.uri(), ClientConfig::new().build().unwrap(), auth)
}

/// A client without transport timeouts, for paused-time tests: the only timers are the task
/// policy's.
fn untimed_client(server: &MockServer) -> Client {
    analytics_auth::ensure_crypto_provider();
    Client::new_with_client(&server.uri(), reqwest::Client::new(), Auth::api_key(KEY))
}

fn client(server: &MockServer) -> Client {
    client_with(server, Auth::api_key(KEY))
}

fn json_response(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

async fn serve(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

/// A server answering `route` with `status` and the JSON `body`.
async fn server_for(verb: &str, route: &str, status: u16, body: Value) -> MockServer {
    let server = MockServer::start().await;
    serve(&server, verb, route, json_response(status, body)).await;
    server
}

/// The expected rendering of one request: `line` (`GET /api/x?q=1`), the standard headers
/// (`accept: application/json`, user agent, the API key unless `key` is false) plus `extra`,
/// sorted as `received` sorts them, and the body with its content length and JSON type.
fn req(line: &str, key: bool, extra: &[&str], body: Option<&str>) -> String {
    let mut headers: Vec<String> = vec!["accept: application/json".into(), UA.into()];
    if key {
        headers.push(format!("x-api-key: {KEY}"));
    }
    headers.extend(extra.iter().map(|h| h.to_string()));
    if let Some(b) = body {
        headers.push(format!("content-length: {}", b.len()));
        if !extra.iter().any(|h| h.starts_with("content-type")) {
            headers.push("content-type: application/json".into());
        }
    }
    headers.sort();
    let mut out = format!("{line}\n");
    for h in headers {
        out.push_str(&h);
        out.push('\n');
    }
    if let Some(b) = body {
        out.push_str(&format!("\n{b}\n"));
    }
    out.push_str("--\n");
    out
}

fn web_app(uuid: &str, name: &str) -> Value {
    json!({"uuid": uuid, "name": name, "folder_uuid": null,
           "jsonContent": {"version": 9, "tabs": [{"widgets": []}], "dashboard_variables": {"a": 1}},
           "owner": "john@doe.com"})
}

fn script(uuid: &str, name: &str) -> Value {
    json!({"uuid": uuid, "name": name, "code": "print(1)", "kind": "GENERIC_PYTHON", "folder_uuid": "f1"})
}

fn data_source(uuid: &str, name: &str) -> Value {
    json!({"uuid": uuid, "name": name, "type": "Storage", "token": "997877c6358621beb1f86dc320ac822b9f069760",
           "jsonContent": {"advanced_options": "{\"force_types\": {}}", "unknown_option": true}})
}

// ---------------------------------------------------------------------------------------------
// Web apps
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_web_apps_sends_the_typed_search_and_paging() {
    let server = server_for(
        "GET",
        "/api/web_app",
        200,
        json!({"objects": [web_app(U1, "Sales")], "num_results": 1, "page": 2, "total_pages": 2}),
    )
    .await;
    let list = client(&server)
        .list_web_apps()
        .search(&Search::new().filter("name", Op::NeSymbol, "x"))
        .page(NonZeroU64::new(2).unwrap())
        .results_per_page(NonZeroU64::new(50).unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.objects[0].name, "Sales");
    assert_eq!(
        (list.num_results, list.page, list.total_pages),
        (Some(1), Some(2), Some(2))
    );
    // Fields the spec does not name are kept, for backups and read-modify-write.
    assert_eq!(list.objects[0].extra["owner"], "john@doe.com");
    let content = list.objects[0].json_content.as_ref().unwrap();
    assert_eq!(content.extra["dashboard_variables"], json!({"a": 1}));
    assert_eq!(
        received(&server).await,
        req(
            "GET /api/web_app?page=2&q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22name%22%2C%22op%22%3A%22%21%3D%22%2C%22val%22%3A%22x%22%7D%5D%7D&results_per_page=50",
            true,
            &[],
            None
        )
    );
}

#[tokio::test]
async fn create_get_update_delete_web_app() {
    let server = MockServer::start().await;
    let route = format!("/api/web_app/{U1}");
    serve(
        &server,
        "POST",
        "/api/web_app",
        json_response(201, web_app(U1, "New")),
    )
    .await;
    serve(
        &server,
        "GET",
        &route,
        json_response(200, web_app(U1, "New")),
    )
    .await;
    serve(
        &server,
        "PUT",
        &route,
        json_response(200, web_app(U1, "Renamed")),
    )
    .await;
    serve(&server, "DELETE", &route, ResponseTemplate::new(204)).await;
    let c = client(&server);

    let created = c
        .create_web_app()
        .body(types::WebAppCreate {
            name: "New".into(),
            json_content: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let fetched = c
        .get_web_app()
        .uuid(uuid(U1))
        .send()
        .await
        .unwrap()
        .into_inner();
    // Read-modify-write keeps the unknown fields.
    let mut update: types::WebAppUpdate =
        serde_json::from_value(serde_json::to_value(&fetched).unwrap()).unwrap();
    update.name = Some("Renamed".into());
    let updated = c
        .update_web_app()
        .uuid(uuid(U1))
        .body(update)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.name, "Renamed");
    let deleted = c.delete_web_app().uuid(uuid(U1)).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 204);

    let put_body = format!(
        r#"{{"jsonContent":{{"tabs":[{{"widgets":[]}}],"version":9,"dashboard_variables":{{"a":1}}}},"name":"Renamed","uuid":"{U1}","owner":"john@doe.com"}}"#
    );
    assert_eq!(
        received(&server).await,
        [
            req("POST /api/web_app", true, &[], Some(r#"{"name":"New"}"#)),
            req(&format!("GET {route}"), true, &[], None),
            req(&format!("PUT {route}"), true, &[], Some(&put_body)),
            req(&format!("DELETE {route}"), true, &[], None),
        ]
        .concat()
    );
}

#[tokio::test]
async fn clone_embed_variables_sharing() {
    let server = MockServer::start().await;
    let base = format!("/api/web_app/{U1}");
    serve(
        &server,
        "POST",
        &format!("{base}/clone"),
        json_response(200, web_app(U2, "Copy")),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/embed"),
        json_response(
            200,
            json!({"embeddedPayload": "e8d5d2cd-60cb-453a-97e7-0eb43cc7d67f",
                   "embeddedUrl": "https://app.serenytics.com/api/web_app/x?embeddedPayload=e8d5", "status": "ok"}),
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/dashboard_variables"),
        json_response(201, web_app(U1, "Sales")),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/sharings"),
        json_response(201, json!({})),
    )
    .await;
    let c = client(&server);

    let clone = c
        .clone_web_app()
        .uuid(uuid(U1))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(clone.uuid, uuid(U2));
    let embed = c
        .embed_web_app()
        .uuid(uuid(U1))
        .body(types::EmbedRequest {
            expire_in: NonZeroU64::new(86400).unwrap(),
            payload: json!({"quarter": "Q2"}).as_object().cloned().unwrap(),
            nb_max_embed: NonZeroU64::new(1),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(embed
        .embedded_url
        .starts_with("https://app.serenytics.com/"));
    let vars = c
        .set_dashboard_variables()
        .uuid(uuid(U1))
        .body(types::DashboardVariablesRequest {
            dashboard_variables: json!({"business_unit": "UK"}).as_object().cloned().unwrap(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(vars.status().as_u16(), 201);
    let shared = c
        .share_web_app()
        .uuid(uuid(U1))
        .body(types::ShareRequest {
            username_to_share_with: "john@doe.com".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status().as_u16(), 201);

    assert_eq!(
        received(&server).await,
        [
            req(&format!("POST {base}/clone"), true, &[], None),
            req(
                &format!("POST {base}/embed"),
                true,
                &[],
                Some(r#"{"expire_in":86400,"nb_max_embed":1,"payload":{"quarter":"Q2"}}"#)
            ),
            req(
                &format!("POST {base}/dashboard_variables"),
                true,
                &[],
                Some(r#"{"dashboard_variables":{"business_unit":"UK"}}"#)
            ),
            req(
                &format!("POST {base}/sharings"),
                true,
                &[],
                Some(r#"{"username_to_share_with":"john@doe.com"}"#)
            ),
        ]
        .concat()
    );
}

#[tokio::test]
async fn web_app_data_sources_and_pdf_check_the_status() {
    let server = MockServer::start().await;
    let base = format!("/api/web_app/{U1}");
    Mock::given(method("GET"))
        .and(path(format!("{base}/data_sources")))
        .respond_with(json_response(
            200,
            json!({"status": "ok", "objects": [{"uuid": U2, "name": "sales"}]}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "GET",
        &format!("{base}/data_sources"),
        json_response(200, json!({"status": "error", "errors": ["no access"]})),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/generate_pdf"),
        json_response(200, json!({"status": "ok", "stdout": []})),
    )
    .await;
    let c = client(&server);

    let sources = c
        .list_web_app_data_sources()
        .uuid(uuid(U1))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(sources.objects[0].name, "sales");
    let err = c
        .list_web_app_data_sources()
        .uuid(uuid(U1))
        .send_checked()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Application { errors } if errors == &["no access"]),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "Serenytics reported an error: no access");

    let payload = serenytics::embedded_payload(&json!({"__country__": "France"}));
    assert_eq!(payload, "eyJfX2NvdW50cnlfXyI6IkZyYW5jZSJ9");
    let pdf = c
        .generate_web_app_pdf()
        .uuid(uuid(U1))
        .body(types::GeneratePdfRequest {
            store_pdf: Some(false),
            webapp_query_string: Some(types::GeneratePdfRequestWebappQueryString {
                embedded_payload: Some(payload),
            }),
            tabs_options: None,
        })
        .send_checked()
        .await
        .unwrap();
    assert_eq!(pdf.status, types::GeneratePdfResultStatus::Ok);

    assert_eq!(
        received(&server).await,
        [
            req(&format!("GET {base}/data_sources"), true, &[], None),
            req(&format!("GET {base}/data_sources"), true, &[], None),
            req(
                &format!("POST {base}/generate_pdf"),
                true,
                &[],
                Some(r#"{"store_pdf":false,"webapp_query_string":{"embeddedPayload":"eyJfX2NvdW50cnlfXyI6IkZyYW5jZSJ9"}}"#)
            ),
        ]
        .concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn scripts_list_create_get() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/script",
        json_response(
            200,
            json!({"objects": [script(U1, "job")], "num_results": 1}),
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/script",
        json_response(201, script(U1, "job")),
    )
    .await;
    serve(
        &server,
        "GET",
        &format!("/api/script/{U1}"),
        json_response(200, script(U1, "job")),
    )
    .await;
    let c = client(&server);

    let list = c
        .list_scripts()
        .search(&Search::new().eq("name", "job"))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (list.num_results, list.objects[0].code.as_deref()),
        (1, Some("print(1)"))
    );
    let created = c
        .create_script()
        .body(types::ScriptCreate {
            name: "job".into(),
            code: Some("print(1)".into()),
            kind: Some("GENERIC_PYTHON".into()),
            schedule_infos: Some(String::new()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let got = c
        .get_script()
        .uuid(uuid(U1))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.folder_uuid.as_deref(), Some("f1"));

    assert_eq!(
        received(&server).await,
        [
            req(
                "GET /api/script?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22name%22%2C%22op%22%3A%22eq%22%2C%22val%22%3A%22job%22%7D%5D%7D",
                true,
                &[],
                None
            ),
            req(
                "POST /api/script",
                true,
                &[],
                Some(r#"{"code":"print(1)","kind":"GENERIC_PYTHON","name":"job","schedule_infos":""}"#)
            ),
            req(&format!("GET /api/script/{U1}"), true, &[], None),
        ]
        .concat()
    );
}

#[tokio::test]
async fn run_script_sends_params_and_async_and_checks_status() {
    let server = MockServer::start().await;
    let route = format!("/api/script/{U1}/run");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(json_response(
            200,
            json!({"status": "ok", "text": "Script launched"}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        &route,
        json_response(200, json!({"status": "error", "errors": ["Script failed"]})),
    )
    .await;
    let c = client(&server);

    let mut body = types::ScriptRunRequest {
        async_: Some(true),
        extra: Default::default(),
    };
    body.extra.insert("param1".into(), json!(120));
    let ok = c
        .run_script()
        .uuid(uuid(U1))
        .body(body)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(ok.text.as_deref(), Some("Script launched"));
    let err = c
        .run_script()
        .uuid(uuid(U1))
        .async_(false)
        .body(types::ScriptRunRequest {
            async_: None,
            extra: Default::default(),
        })
        .send_checked()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("Script failed"));

    assert_eq!(
        received(&server).await,
        [
            req(
                &format!("POST {route}"),
                true,
                &[],
                Some(r#"{"async":true,"param1":120}"#)
            ),
            req(&format!("POST {route}?async_=false"), true, &[], Some("{}")),
        ]
        .concat()
    );
}

#[tokio::test]
async fn run_script_as_a_webhook_sends_the_token_in_the_query_only() {
    let server = server_for(
        "POST",
        &format!("/api/script/{U1}/run"),
        200,
        json!({"status": "ok"}),
    )
    .await;
    let c = client_with(
        &server,
        Auth::api_key_for_scheme("ScriptWebhookToken", "script-token-1"),
    );
    c.run_script()
        .uuid(uuid(U1))
        .body(types::ScriptRunRequest {
            async_: None,
            extra: Default::default(),
        })
        .send_checked()
        .await
        .unwrap();
    assert_eq!(
        received(&server).await,
        req(
            &format!("POST /api/script/{U1}/run?token=script-token-1"),
            false,
            &[],
            Some("{}")
        )
    );
}

#[tokio::test]
async fn script_state_logs_and_storage() {
    let server = MockServer::start().await;
    let base = format!("/api/script/{U1}");
    serve(
        &server,
        "GET",
        &format!("{base}/state"),
        json_response(200, json!({"running": false})),
    )
    .await;
    serve(
        &server,
        "GET",
        &format!("{base}/logs"),
        json_response(
            200,
            json!({"objects": [{"started_at": "2024-01-31T08:00:00", "finished_at": null, "status": "SUCCESS",
                                "stdout": "hi", "stderr": "", "return_code": null}]}),
        ),
    )
    .await;
    serve(
        &server,
        "GET",
        &format!("{base}/storage"),
        json_response(200, json!({"processed_ids": [1, 2]})),
    )
    .await;
    serve(
        &server,
        "PUT",
        &format!("{base}/storage"),
        json_response(200, json!({})),
    )
    .await;
    let c = client(&server);

    assert!(
        !c.get_script_state()
            .uuid(uuid(U1))
            .send()
            .await
            .unwrap()
            .running
    );
    let logs = c
        .list_script_logs()
        .uuid(uuid(U1))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (logs.objects[0].status.as_str(), logs.objects[0].return_code),
        ("SUCCESS", None)
    );
    let stored = c
        .get_script_storage()
        .uuid(uuid(U1))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.0, json!({"processed_ids": [1, 2]}));
    c.set_script_storage()
        .uuid(uuid(U1))
        .body(types::ScriptStorageData(
            json!({"last_run": {"__type__": "datetime", "value": "2024-01-31T08:00:00"}}),
        ))
        .send()
        .await
        .unwrap();

    assert_eq!(
        received(&server).await,
        [
            req(&format!("GET {base}/state"), true, &[], None),
            req(&format!("GET {base}/logs"), true, &[], None),
            req(&format!("GET {base}/storage"), true, &[], None),
            req(
                &format!("PUT {base}/storage"),
                true,
                &[],
                Some(r#"{"last_run":{"__type__":"datetime","value":"2024-01-31T08:00:00"}}"#)
            ),
        ]
        .concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Data sources
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn data_source_crud() {
    let server = MockServer::start().await;
    let route = format!("/api/data_source/{U2}");
    serve(
        &server,
        "GET",
        "/api/data_source",
        json_response(
            200,
            json!({"objects": [data_source(U2, "s")], "num_results": 1}),
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/data_source",
        json_response(201, data_source(U2, "s")),
    )
    .await;
    serve(
        &server,
        "GET",
        &route,
        json_response(200, data_source(U2, "s")),
    )
    .await;
    serve(
        &server,
        "PUT",
        &route,
        json_response(200, data_source(U2, "t")),
    )
    .await;
    serve(&server, "DELETE", &route, ResponseTemplate::new(204)).await;
    let c = client(&server);

    let list = c.list_data_sources().send().await.unwrap().into_inner();
    assert_eq!(list.objects[0].type_, "Storage");
    let created = c
        .create_data_source()
        .body(types::DataSourceCreate {
            name: "s".into(),
            type_: "Storage".into(),
            json_content: Some(Default::default()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let got = c
        .get_data_source()
        .uuid(uuid(U2))
        .send()
        .await
        .unwrap()
        .into_inner();
    let content = got.json_content.unwrap();
    assert_eq!(
        content.advanced_options.as_deref(),
        Some("{\"force_types\": {}}")
    );
    assert_eq!(content.extra["unknown_option"], true);
    let updated = c
        .update_data_source()
        .uuid(uuid(U2))
        .body(types::DataSourceUpdate {
            name: Some("t".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.name, "t");
    assert_eq!(
        c.delete_data_source()
            .uuid(uuid(U2))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );

    assert_eq!(
        received(&server).await,
        [
            req("GET /api/data_source", true, &[], None),
            req(
                "POST /api/data_source",
                true,
                &[],
                Some(r#"{"jsonContent":{},"name":"s","type":"Storage"}"#)
            ),
            req(&format!("GET {route}"), true, &[], None),
            req(&format!("PUT {route}"), true, &[], Some(r#"{"name":"t"}"#)),
            req(&format!("DELETE {route}"), true, &[], None),
        ]
        .concat()
    );
}

#[tokio::test]
async fn invalidate_cache_push_and_reload_users_metadata() {
    let server = MockServer::start().await;
    let base = format!("/api/data_source/{U2}");
    let token = "997877c6358621beb1f86dc320ac822b9f069760";
    serve(
        &server,
        "POST",
        &format!("{base}/invalidate_cache"),
        json_response(200, json!({"status": "ok"})),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/push/{token}"),
        json_response(200, json!({})),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/reload_users_metadata"),
        json_response(200, json!({})),
    )
    .await;
    let c = client(&server);

    c.invalidate_data_source_cache()
        .uuid(uuid(U2))
        .send_checked()
        .await
        .unwrap();
    let row = json!({"event": "New Alert", "price": "12000"})
        .as_object()
        .cloned()
        .unwrap();
    c.push_data_source_row()
        .uuid(uuid(U2))
        .token(token)
        .body(types::PushRow(row))
        .send()
        .await
        .unwrap();
    c.reload_users_metadata()
        .uuid(uuid(U2))
        .send()
        .await
        .unwrap();

    assert_eq!(
        received(&server).await,
        [
            req(&format!("POST {base}/invalidate_cache"), true, &[], None),
            // The push URL is authenticated by its token: no API key goes out.
            req(
                &format!("POST {base}/push/{token}"),
                false,
                &[],
                Some(r#"{"event":"New Alert","price":"12000"}"#)
            ),
            req(
                &format!("POST {base}/reload_users_metadata"),
                true,
                &[],
                None
            ),
        ]
        .concat()
    );
}

#[tokio::test]
async fn reloads_return_tasks() {
    let server = MockServer::start().await;
    let base = format!("/api/data_source/{U2}");
    for op in ["reload_from_file", "update_from_file", "reload_from_s3"] {
        serve(
            &server,
            "POST",
            &format!("{base}/{op}"),
            json_response(200, json!({"task_id": op})),
        )
        .await;
    }
    serve(
        &server,
        "POST",
        &format!("{base}/reload"),
        json_response(200, json!({"status": "error", "errors": ["gone"]})),
    )
    .await;
    let c = client(&server);

    let t1 = c
        .reload_data_source_from_file()
        .uuid(uuid(U2))
        .body(types::ReloadFromFileRequest { async_: Some(true) })
        .send()
        .await
        .unwrap()
        .into_inner();
    let t2 = c
        .update_data_source_from_file()
        .uuid(uuid(U2))
        .body(types::UpdateFromFileRequest {
            primary_key: "id".into(),
            async_: Some(true),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let mut force = std::collections::BTreeMap::new();
    force.insert("sales".to_string(), types::ForceTypesValue::Float);
    let t3 = c
        .reload_data_source_from_s3()
        .uuid(uuid(U2))
        .body(types::ReloadFromS3Request {
            async_: Some(true),
            s3_bucket: "my-bucket".into(),
            s3_key: "sales.csv".into(),
            s3_csv_separator: Some(";".into()),
            s3_region: None,
            s3_credentials: None,
            force_types: Some(types::ForceTypes(force)),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        [t1.task_id, t2.task_id, t3.task_id],
        ["reload_from_file", "update_from_file", "reload_from_s3"]
    );
    let rows = types::ReloadRows(vec![json!({"year": 2015}).as_object().cloned().unwrap()]);
    let err = c
        .reload_data_source()
        .uuid(uuid(U2))
        .body(rows)
        .send_checked()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("gone"));

    assert_eq!(
        received(&server).await,
        [
            req(&format!("POST {base}/reload_from_file"), true, &[], Some(r#"{"async":true}"#)),
            req(&format!("POST {base}/update_from_file"), true, &[], Some(r#"{"async":true,"primary_key":"id"}"#)),
            req(
                &format!("POST {base}/reload_from_s3"),
                true,
                &[],
                Some(r#"{"async":true,"force_types":{"sales":"float"},"s3_bucket":"my-bucket","s3_csv_separator":";","s3_key":"sales.csv"}"#)
            ),
            req(&format!("POST {base}/reload"), true, &[], Some(r#"[{"year":2015}]"#)),
        ]
        .concat()
    );
}

#[tokio::test]
async fn export_sign_and_upload_file() {
    let server = MockServer::start().await;
    let base = format!("/api/data_source/{U2}");
    serve(
        &server,
        "POST",
        &format!("{base}/export_source_data"),
        json_response(200, json!({"status": "ok", "csv_url": "https://files.example/x.csv", "output_file_format": "csv"})),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/data_source/sign_s3/",
        json_response(200, json!({"status": "error"})),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("{base}/file"),
        json_response(201, json!({})),
    )
    .await;
    let c = client(&server);

    let export = c
        .export_data_source_data()
        .uuid(uuid(U2))
        .body(types::ExportSourceDataRequest {
            export_format: Some(types::ExportSourceDataRequestExportFormat::Csv),
            send_email: Some(false),
            csv_separator: Some("|".into()),
            add_quotes: Some(false),
        })
        .send_checked()
        .await
        .unwrap();
    assert_eq!(export.csv_url, "https://files.example/x.csv");
    let sign = c
        .sign_data_source_s3_upload()
        .s3_object_type("csv/gz")
        .s3_object_name(uuid(U2))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(sign, types::DataSourceS3SignResponse::S3Unavailable(_)),
        "{sign:?}"
    );
    let uploaded = c
        .upload_data_source_file()
        .uuid(uuid(U2))
        .body(reqwest::Body::from("a,b\n1,2\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status().as_u16(), 201);

    assert_eq!(
        received(&server).await,
        [
            req(
                &format!("POST {base}/export_source_data"),
                true,
                &[],
                Some(r#"{"add_quotes":false,"csv_separator":"|","export_format":"csv","send_email":false}"#)
            ),
            req(&format!("GET /api/data_source/sign_s3/?s3_object_name={U2}&s3_object_type=csv%2Fgz"), true, &[], None),
            req(&format!("POST {base}/file"), true, &["content-type: application/octet-stream"], Some("a,b\n1,2\n")),
        ]
        .concat()
    );
}

#[tokio::test]
async fn batch_operation_shapes_and_application_errors() {
    let server = MockServer::start().await;
    let route = format!("/api/data_source/{U2}/batch");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(json_response(
            200,
            json!({"status": "ok", "task_id": "57727bb1b321731d9439b8bd"}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        &route,
        json_response(
            200,
            json!({"status": "error", "errors": ["invalid data \"3,4\" was pushed and is incompatible with current table column types"]}),
        ),
    )
    .await;
    let c = client(&server);
    let row = |v: Value| v.as_object().cloned().unwrap();
    let body = types::BatchRequest {
        async_: Some(true),
        operations: vec![
            types::BatchInsertOperation {
                action: types::BatchInsertOperationAction::Insert,
                rows: vec![row(json!({"id": 1}))],
            }
            .into(),
            types::BatchInsertOrUpdateOperation {
                action: types::BatchInsertOrUpdateOperationAction::InsertOrUpdate,
                primary_key: "id".into(),
                rows: vec![row(json!({"id": 1, "q": 50}))],
            }
            .into(),
            types::BatchDeleteOperation {
                action: types::BatchDeleteOperationAction::Delete,
                primary_key: "id".into(),
                rows: vec![row(json!({"id": 2}))],
            }
            .into(),
        ],
    };
    let ok = c
        .batch_data_source_rows()
        .uuid(uuid(U2))
        .body(body.clone())
        .send_checked()
        .await
        .unwrap();
    assert_eq!(ok.task_id.as_deref(), Some("57727bb1b321731d9439b8bd"));
    let err = c
        .batch_data_source_rows()
        .uuid(uuid(U2))
        .body(body)
        .send_checked()
        .await
        .unwrap_err();
    assert!(err.message().unwrap().starts_with("invalid data \"3,4\""));

    let sent = r#"{"async":true,"operations":[{"action":"insert","rows":[{"id":1}]},{"action":"insertOrUpdate","primaryKey":"id","rows":[{"id":1,"q":50}]},{"action":"delete","primaryKey":"id","rows":[{"id":2}]}]}"#;
    let one = req(&format!("POST {route}"), true, &[], Some(sent));
    assert_eq!(received(&server).await, format!("{one}{one}"));
}

// ---------------------------------------------------------------------------------------------
// Formatted data, tasks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn formatted_data_request_and_response_are_typed() {
    let server = MockServer::start().await;
    let route = format!("/api/formatted_data/{U2}");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(json_response(
            200,
            json!({"status": "ok",
                   "columns_titles": [{"name": "Date", "type": "datetime", "datetime_format": "%Y-%m-%d"},
                                      {"name": "Quantity", "type": "int"}],
                   "data": [["2024-01-01", 3], ["2024-01-02", null]]}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        &route,
        json_response(
            200,
            json!({"status": "error", "errors": ["Storage source is empty"]}),
        ),
    )
    .await;
    let c = client(&server);

    let request = types::FormattedDataRequest {
        order: Some("row_by_row".into()),
        data_processing_pipeline: vec![types::PipelineStep {
            group_by: vec![types::ColumnRef::String("Country".into())],
            select: vec![
                types::ColumnRef::String("Country".into()),
                types::ColumnRef::QueryColumn(types::QueryColumn {
                    name: "Quantity".into(),
                    agg_function: Some("sum".into()),
                    measure_uuid: None,
                    extra: Default::default(),
                }),
            ],
            where_: vec![types::WhereCondition {
                name: "Price".into(),
                op: ">".into(),
                value: Some(json!("20")),
                measure_uuid: None,
                extra: Default::default(),
            }],
            limit: Some(NonZeroU64::new(100).unwrap()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let result = c
        .query_formatted_data()
        .uuid(uuid(U2))
        .body(request.clone())
        .send_checked()
        .await
        .unwrap();
    assert_eq!(
        result.columns_titles[0].datetime_format.as_deref(),
        Some("%Y-%m-%d")
    );
    assert_eq!(
        result
            .data
            .as_ref()
            .unwrap()
            .get(1)
            .unwrap()
            .to_value()
            .unwrap(),
        json!(["2024-01-02", null])
    );
    let err = c
        .query_formatted_data()
        .uuid(uuid(U2))
        .body(request)
        .send_checked()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Application { errors } if errors[0] == "Storage source is empty")
    );

    let sent = r#"{"data_processing_pipeline":[{"group_by":["Country"],"limit":100,"select":["Country",{"agg_function":"sum","name":"Quantity"}],"where":[{"name":"Price","op":">","value":"20"}]}],"order":"row_by_row"}"#;
    let one = req(&format!("POST {route}"), true, &[], Some(sent));
    assert_eq!(received(&server).await, format!("{one}{one}"));
}

#[tokio::test]
async fn the_single_pass_formatted_data_sends_the_same_request() {
    let server = MockServer::start().await;
    let route = format!("/api/formatted_data/{U2}");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(json_response(
            200,
            json!({"status": "ok", "columns_titles": [{"name": "a", "type": "int"}], "data": [[1], [2]]}),
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        &route,
        json_response(
            200,
            json!({"status": "error", "errors": ["Storage source is empty"]}),
        ),
    )
    .await;
    let c = client(&server);
    let request = types::FormattedDataRequest {
        only_headers: Some(false),
        ..Default::default()
    };
    let fast = c.formatted_data(uuid(U2), &request).await.unwrap();
    let generated = c
        .query_formatted_data()
        .uuid(uuid(U2))
        .body(request.clone())
        .send_checked()
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&fast).unwrap(),
        serde_json::to_value(&generated).unwrap()
    );
    let err = c.formatted_data(uuid(U2), &request).await.unwrap_err();
    assert_eq!(err.message(), Some("Storage source is empty"));
    let one = req(
        &format!("POST {route}"),
        true,
        &[],
        Some(r#"{"only_headers":false}"#),
    );
    assert_eq!(received(&server).await, [one.as_str(), &one, &one].concat());

    // Errors are classified as in the generated method.
    let server = MockServer::start().await;
    serve(
        &server,
        "POST",
        &format!("/api/formatted_data/{U1}"),
        json_response(403, json!("Forbidden source")),
    )
    .await;
    serve(
        &server,
        "POST",
        &route,
        ResponseTemplate::new(500)
            .set_body_raw("<html><h1>Internal Server Error</h1></html>", "text/html"),
    )
    .await;
    let c = client(&server);
    let forbidden = c.formatted_data(uuid(U1), &request).await.unwrap_err();
    assert!(
        matches!(&forbidden, Error::Api(ApiError::Forbidden { .. })),
        "{forbidden:?}"
    );
    assert_eq!(forbidden.message(), Some("Forbidden source"));
    let html = c.formatted_data(uuid(U2), &request).await.unwrap_err();
    assert!(
        matches!(&html, Error::Api(ApiError::UnexpectedResponse { status, .. }) if status.as_u16() == 500),
        "{html:?}"
    );
}

#[tokio::test]
async fn get_task_parses_the_three_states() {
    let server = MockServer::start().await;
    for (id, body) in [
        ("p", json!({"status": "pending"})),
        ("f", json!({"status": "ok", "errors": ["boom"]})),
        ("s", json!({"status": "ok", "rows": 3})),
    ] {
        serve(
            &server,
            "GET",
            &format!("/api/task/{id}"),
            json_response(200, body),
        )
        .await;
    }
    let c = client(&server);
    let task = |id: &'static str| {
        let c = c.clone();
        async move { c.get_task().task_id(id).send().await.unwrap().into_inner() }
    };
    assert!(matches!(task("p").await, types::Task::Pending(_)));
    // `errors` wins over `status: ok`: a failed task is never taken for a success.
    assert!(matches!(task("f").await, types::Task::Failed(f) if f.errors == ["boom"]));
    assert!(matches!(task("s").await, types::Task::Succeeded(s) if s.extra["rows"] == 3));
    assert_eq!(
        received(&server).await,
        ["p", "f", "s"]
            .map(|id| req(&format!("GET /api/task/{id}"), true, &[], None))
            .concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Folders, users, groups
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn folders() {
    let server = MockServer::start().await;
    let folder = json!({"uuid": "f1", "name": "My new folder", "resource_type": "datasource"});
    serve(
        &server,
        "GET",
        "/api/folder",
        json_response(200, json!({"objects": [folder.clone()]})),
    )
    .await;
    serve(&server, "POST", "/api/folder", json_response(201, folder)).await;
    let c = client(&server);
    let list = c.list_folders().send().await.unwrap().into_inner();
    assert_eq!(
        list.objects[0].resource_type,
        types::FolderResourceType::Datasource
    );
    let created = c
        .create_folder()
        .body(types::FolderCreate {
            name: "My new folder".into(),
            resource_type: types::FolderResourceType::Datasource,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(
        received(&server).await,
        [
            req("GET /api/folder", true, &[], None),
            req(
                "POST /api/folder",
                true,
                &[],
                Some(r#"{"name":"My new folder","resource_type":"datasource"}"#)
            ),
        ]
        .concat()
    );
}

#[tokio::test]
async fn users() {
    let server = MockServer::start().await;
    let uid = "93251f96-acbb-4bb7-b101-ca628c5c21b8";
    let user = json!({"uuid": uid, "username": "john@doe.com", "category": "viewer", "login_metadata": {"business_unit": "france"}});
    serve(
        &server,
        "GET",
        "/api/user",
        json_response(200, json!({"objects": [user.clone()], "num_results": 1})),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/user",
        json_response(201, user.clone()),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/user/byname",
        json_response(200, user.clone()),
    )
    .await;
    serve(
        &server,
        "GET",
        &format!("/api/user/{uid}"),
        json_response(200, user.clone()),
    )
    .await;
    serve(
        &server,
        "PUT",
        &format!("/api/user/{uid}"),
        json_response(200, user),
    )
    .await;
    serve(
        &server,
        "DELETE",
        &format!("/api/user/{uid}"),
        ResponseTemplate::new(204),
    )
    .await;
    let c = client(&server);

    let list = c.list_users().send().await.unwrap().into_inner();
    assert_eq!(list.objects[0].category, Some(types::UserCategory::Viewer));
    let created = c
        .create_user()
        .body(types::UserCreate {
            username: "john@doe.com".into(),
            password: "myStrongPassword".into(),
            category: types::UserCategory::Viewer,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let by_name = c
        .get_user_by_name()
        .username("john@doe.com")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_name.uuid, uuid(uid));
    c.get_user().uuid(uuid(uid)).send().await.unwrap();
    c.update_user()
        .uuid(uuid(uid))
        .body(types::UserUpdate {
            category: Some(types::UserCategory::Studio),
            login_metadata: json!({"business_unit": "france"})
                .as_object()
                .cloned()
                .unwrap(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.delete_user()
            .uuid(uuid(uid))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );

    assert_eq!(
        received(&server).await,
        [
            req("GET /api/user", true, &[], None),
            req("POST /api/user", true, &[], Some(r#"{"category":"viewer","password":"myStrongPassword","username":"john@doe.com"}"#)),
            req("GET /api/user/byname?username=john%40doe.com", true, &[], None),
            req(&format!("GET /api/user/{uid}"), true, &[], None),
            req(&format!("PUT /api/user/{uid}"), true, &[], Some(r#"{"category":"studio","login_metadata":{"business_unit":"france"}}"#)),
            req(&format!("DELETE /api/user/{uid}"), true, &[], None),
        ]
        .concat()
    );
}

#[tokio::test]
async fn user_groups() {
    let server = MockServer::start().await;
    let gid = "8dee7842-3596-494b-8fa6-c81c50e9574d";
    let group = json!({"uuid": gid, "name": "marketing team"});
    serve(
        &server,
        "GET",
        "/api/usersgroup",
        json_response(200, json!({"objects": [group.clone()]})),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/usersgroup/byname",
        json_response(200, group),
    )
    .await;
    serve(
        &server,
        "GET",
        &format!("/api/usersgroup/{gid}/list_of_users"),
        json_response(
            200,
            json!({"objects": [{"uuid": U1, "username": "john@doe.com"}]}),
        ),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("/api/usersgroup/{gid}/adduser"),
        json_response(201, json!({})),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("/api/usersgroup/{gid}/removeuser"),
        ResponseTemplate::new(204),
    )
    .await;
    serve(
        &server,
        "DELETE",
        &format!("/api/usersgroup/{gid}"),
        ResponseTemplate::new(204),
    )
    .await;
    let c = client(&server);

    assert_eq!(
        c.list_user_groups().send().await.unwrap().objects[0].name,
        "marketing team"
    );
    assert_eq!(
        c.get_user_group_by_name()
            .name("marketing team")
            .send()
            .await
            .unwrap()
            .uuid,
        uuid(gid)
    );
    let users = c
        .list_user_group_users()
        .uuid(uuid(gid))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(users.objects[0].username, "john@doe.com");
    let added = c
        .add_user_to_group()
        .uuid(uuid(gid))
        .body(types::AddUserRequest {
            username_to_add: "john@doe.com".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(added.status().as_u16(), 201);
    let removed = c
        .remove_user_from_group()
        .uuid(uuid(gid))
        .body(types::RemoveUserRequest {
            username_to_remove: "john@doe.com".into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status().as_u16(), 204);
    c.delete_user_group().uuid(uuid(gid)).send().await.unwrap();

    assert_eq!(
        received(&server).await,
        [
            req("GET /api/usersgroup", true, &[], None),
            req(
                "GET /api/usersgroup/byname?name=marketing+team",
                true,
                &[],
                None
            ),
            req(
                &format!("GET /api/usersgroup/{gid}/list_of_users"),
                true,
                &[],
                None
            ),
            req(
                &format!("POST /api/usersgroup/{gid}/adduser"),
                true,
                &[],
                Some(r#"{"username_to_add":"john@doe.com"}"#)
            ),
            req(
                &format!("POST /api/usersgroup/{gid}/removeuser"),
                true,
                &[],
                Some(r#"{"username_to_remove":"john@doe.com"}"#)
            ),
            req(&format!("DELETE /api/usersgroup/{gid}"), true, &[], None),
        ]
        .concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Messaging, files, key bootstrap
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn email_slack_and_files() {
    let server = MockServer::start().await;
    let fid = "3f2b8c1e-5d7a-4e9b-8f60-2a1c9d4e7b35";
    serve(
        &server,
        "POST",
        "/api/email",
        json_response(200, json!({"task_id": "t-mail"})),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/integrations/slack/post_msg",
        json_response(200, json!({})),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/sign_s3_file/",
        json_response(200, json!({"status": "ok", "signed_request": "https://s3.example/put", "server_side_object_name": "abc"})),
    )
    .await;
    serve(
        &server,
        "POST",
        &format!("/api/upload_file/{fid}"),
        json_response(201, json!({})),
    )
    .await;
    let c = client(&server);

    let task = c
        .send_email()
        .body(types::EmailRequest {
            subject: "Weekly".into(),
            recipients: vec!["john@doe.com".into()],
            html: "<p>hi</p>".into(),
            web_app_uuid: Some(uuid(U1)),
            pdf_file_name: Some("report.pdf".into()),
            from_address: None,
            file_to_attach_uuid: None,
            file_to_attach_name: None,
            dashboard_payload: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(task.task_id, "t-mail");
    c.send_slack_message()
        .body(types::SlackMessageRequest {
            channel: "#reports".into(),
            text_msg: "done".into(),
            attachments: None,
        })
        .send()
        .await
        .unwrap();
    let sign = c
        .sign_s3_file_upload()
        .s3_object_type("application/octet-stream")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(sign, types::FileS3SignResponse::FileS3Signature(s) if s.server_side_object_name == "abc")
    );
    let up = c
        .upload_file()
        .file_uuid(uuid(fid))
        .body(reqwest::Body::from(vec![0u8, 1, 2]))
        .send()
        .await
        .unwrap();
    assert_eq!(up.status().as_u16(), 201);

    let mut expected = [
        req(
            "POST /api/email",
            true,
            &[],
            Some(&format!(r#"{{"html":"<p>hi</p>","pdf_file_name":"report.pdf","recipients":["john@doe.com"],"subject":"Weekly","web_app_uuid":"{U1}"}}"#)),
        ),
        req("POST /api/integrations/slack/post_msg", true, &[], Some(r##"{"channel":"#reports","text_msg":"done"}"##)),
        req("GET /api/sign_s3_file/?s3_object_type=application%2Foctet-stream", true, &[], None),
    ]
    .concat();
    expected.push_str(&format!(
        "POST /api/upload_file/{fid}\naccept: application/json\ncontent-length: 3\ncontent-type: application/octet-stream\n{UA}\nx-api-key: {KEY}\n\n\u{0}\u{1}\u{2}\n--\n"
    ));
    assert_eq!(received(&server).await, expected);
}

#[tokio::test]
async fn key_bootstrap_uses_basic_login_then_the_session_token() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/token",
        json_response(200, json!({"token": "session-1"})),
    )
    .await;
    serve(
        &server,
        "POST",
        "/api/api_key",
        json_response(200, json!({"api_key": "new-key"})),
    )
    .await;
    let login = client_with(&server, Auth::custom(BasicLogin::new("john@doe.com", "pw")));
    let token = login.get_token().send().await.unwrap().into_inner().token;
    let session = client_with(&server, Auth::api_key_for_scheme("SessionTokenAuth", token));
    let key = session
        .create_api_key()
        .send()
        .await
        .unwrap()
        .into_inner()
        .api_key;
    assert_eq!(key, "new-key");
    assert_eq!(
        received(&server).await,
        [
            req(
                "GET /api/token",
                false,
                &["authorization: Basic am9obkBkb2UuY29tOnB3"],
                None
            ),
            req(
                "POST /api/api_key",
                false,
                &["x-auth-token: session-1"],
                None
            ),
        ]
        .concat()
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers: pages, tasks, batches
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn streams_follow_total_pages() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/data_source"))
        .and(query_param("page", "2"))
        .respond_with(json_response(
            200,
            json!({"objects": [data_source(U1, "b")], "num_results": 2, "page": 2, "total_pages": 2}),
        ))
        .mount(&server)
        .await;
    serve(
        &server,
        "GET",
        "/api/data_source",
        json_response(200, json!({"objects": [data_source(U2, "a")], "num_results": 2, "page": 1, "total_pages": 2})),
    )
    .await;
    let c = client(&server);
    let all: Vec<types::DataSource> = c
        .data_sources_stream(None, Some(NonZeroU64::new(1).unwrap()))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(
        received(&server).await,
        [
            req("GET /api/data_source?results_per_page=1", true, &[], None),
            req(
                "GET /api/data_source?page=2&results_per_page=1",
                true,
                &[],
                None
            ),
        ]
        .concat()
    );

    // Without paging fields, the first answer is the whole list.
    let server = server_for(
        "GET",
        "/api/folder",
        200,
        json!({"objects": [{"uuid": "f", "name": "n", "resource_type": "script"}]}),
    )
    .await;
    let folders: Vec<_> = client(&server)
        .folders_stream(None, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(
        received(&server).await,
        req("GET /api/folder", true, &[], None)
    );
}

#[tokio::test]
async fn task_policy_polls_until_done() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/task/t1"))
        .respond_with(json_response(200, json!({"status": "pending"})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    serve(
        &server,
        "GET",
        "/api/task/t1",
        json_response(200, json!({"status": "ok", "imported": 10})),
    )
    .await;
    let c = untimed_client(&server);
    // Real time (a paused clock would jump to the timeout while a poll is in flight); nothing
    // below asserts on durations.
    let done = TaskPolicy::new()
        .interval(Duration::from_millis(5))
        .timeout(Duration::from_secs(60))
        .wait(&c, "t1")
        .await
        .unwrap();
    assert_eq!(done.extra["imported"], 10);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_server_that_ignores_page_stops_the_stream_with_an_error() {
    let server = server_for(
        "GET",
        "/api/script",
        200,
        json!({"objects": [script(U1, "job")], "num_results": 3, "page": 1, "total_pages": 3}),
    )
    .await;
    let c = client(&server);
    let items: Vec<Result<types::Script, Error>> = c.scripts_stream(None, None).collect().await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(
        matches!(&items[1], Err(Error::Protocol(m)) if m == "asked for page 2, got page 1"),
        "{:?}",
        items[1]
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_task_that_never_finishes_is_bounded_by_the_timeout() {
    let server = server_for(
        "GET",
        "/api/task/forever",
        200,
        json!({"status": "pending"}),
    )
    .await;
    let c = untimed_client(&server);
    let err = TaskPolicy::new()
        .interval(Duration::from_secs(1))
        .timeout(Duration::from_secs(30))
        .wait(&c, "forever")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TaskTimedOut { task_id, waited } if task_id == "forever" && *waited == Duration::from_secs(30)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "task forever still pending after 30 s");
}

#[tokio::test(start_paused = true)]
async fn a_task_wait_can_be_cancelled() {
    let server = server_for("GET", "/api/task/t", 200, json!({"status": "pending"})).await;
    let c = untimed_client(&server);
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    drop(tx);
    let err = TaskPolicy::new()
        .wait_or_cancel(&c, "t", async {
            let _ = rx.await;
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TaskCancelled { .. }), "{err:?}");
}

#[tokio::test]
async fn run_script_and_wait_like_the_official_client() {
    let server = MockServer::start().await;
    let base = format!("/api/script/{U1}");
    serve(
        &server,
        "POST",
        &format!("{base}/run"),
        json_response(200, json!({"status": "ok", "text": "Script launched"})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/state")))
        .respond_with(json_response(200, json!({"running": true})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "GET",
        &format!("{base}/state"),
        json_response(200, json!({"running": false})),
    )
    .await;
    let log = |status: &str| json!({"objects": [{"started_at": "a", "finished_at": "b", "status": status, "stdout": "out", "stderr": "err", "return_code": 1}]});
    Mock::given(method("GET"))
        .and(path(format!("{base}/logs")))
        .respond_with(json_response(200, log("SUCCESS")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "GET",
        &format!("{base}/logs"),
        json_response(200, log("FAILURE")),
    )
    .await;
    let c = client(&server);
    let policy = TaskPolicy::new().interval(Duration::from_millis(5));
    let mut params = serde_json::Map::new();
    params.insert("p".into(), json!(1));

    let ok = policy
        .run_script(&c, uuid(U1), params.clone())
        .await
        .unwrap();
    assert_eq!(ok.stdout, "out");
    assert_eq!(
        received(&server).await,
        [
            req(
                &format!("POST {base}/run"),
                true,
                &[],
                Some(r#"{"async":true,"p":1}"#)
            ),
            req(&format!("GET {base}/state"), true, &[], None),
            req(&format!("GET {base}/state"), true, &[], None),
            req(&format!("GET {base}/logs"), true, &[], None),
        ]
        .concat()
    );
    let err = policy.run_script(&c, uuid(U1), params).await.unwrap_err();
    assert!(
        matches!(&err, Error::ScriptFailed { log } if log.stderr == "err"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_task_with_errors_is_a_typed_failure() {
    let server = server_for(
        "GET",
        "/api/task/t2",
        200,
        json!({"status": "error", "errors": ["import failed", "detail"]}),
    )
    .await;
    let err = TaskPolicy::new()
        .wait(&client(&server), "t2")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TaskFailed { task_id, errors } if task_id == "t2" && errors.len() == 2),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("import failed"));
    assert_eq!(err.to_string(), "task t2 failed: import failed");
}

fn rows(n: u64) -> impl futures::Stream<Item = serenytics::Row> {
    futures::stream::iter((0..n).map(|i| json!({"id": i}).as_object().cloned().unwrap()))
}

#[tokio::test]
async fn batch_upload_chunks_every_row_exactly_once() {
    let server = server_for(
        "POST",
        &format!("/api/data_source/{U2}/batch"),
        200,
        json!({"status": "ok"}),
    )
    .await;
    let c = client(&server);
    let report = BatchUpload::new(&c, uuid(U2))
        .chunk_rows(2)
        .run(BatchAction::Insert, rows(5))
        .await;
    assert_eq!(
        (
            report.chunks.len(),
            report.rows_confirmed(),
            report.rows_failed()
        ),
        (3, 5, 0)
    );
    assert_eq!(
        report
            .chunks
            .iter()
            .map(|c| (c.first_row, c.rows))
            .collect::<Vec<_>>(),
        [(0, 2), (2, 2), (4, 1)]
    );
    let body = |ids: &str| {
        format!(r#"{{"async":false,"operations":[{{"action":"insert","rows":[{ids}]}}]}}"#)
    };
    let route = format!("POST /api/data_source/{U2}/batch");
    assert_eq!(
        received(&server).await,
        [
            req(&route, true, &[], Some(&body(r#"{"id":0},{"id":1}"#))),
            req(&route, true, &[], Some(&body(r#"{"id":2},{"id":3}"#))),
            req(&route, true, &[], Some(&body(r#"{"id":4}"#))),
        ]
        .concat()
    );
    assert_eq!(report.into_result().unwrap(), 5);
}

#[tokio::test]
async fn batch_upload_reports_the_failed_chunk_and_stops() {
    let server = MockServer::start().await;
    let route = format!("/api/data_source/{U2}/batch");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(json_response(200, json!({"status": "ok"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        &route,
        json_response(200, json!({"status": "error", "errors": ["bad row"]})),
    )
    .await;
    let c = client(&server);
    let action = BatchAction::Delete {
        primary_key: "id".into(),
    };
    let report = BatchUpload::new(&c, uuid(U2))
        .chunk_rows(3)
        .run(action.clone(), rows(10))
        .await;
    assert!(report.stopped_early);
    assert_eq!((report.rows_confirmed(), report.rows_failed()), (3, 3));
    let failed: Vec<_> = report
        .failures()
        .map(|c| (c.index, c.first_row, c.rows))
        .collect();
    assert_eq!(failed, [(1, 3, 3)]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // Going on after errors: every chunk is still sent once.
    let report = BatchUpload::new(&c, uuid(U2))
        .chunk_rows(3)
        .continue_on_error(true)
        .run(action, rows(10))
        .await;
    assert_eq!(
        (
            report.chunks.len(),
            report.rows_confirmed() + report.rows_failed()
        ),
        (4, 10)
    );
    assert!(matches!(
        report.into_result().unwrap_err(),
        Error::Application { .. }
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 6);
}

#[tokio::test]
async fn asynchronous_batch_waits_for_each_chunk_task() {
    let server = MockServer::start().await;
    serve(
        &server,
        "POST",
        &format!("/api/data_source/{U2}/batch"),
        json_response(200, json!({"status": "ok", "task_id": "b1"})),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/task/b1",
        json_response(200, json!({"status": "ok"})),
    )
    .await;
    let c = untimed_client(&server);
    let report = BatchUpload::new(&c, uuid(U2))
        .chunk_rows(2)
        .asynchronous(TaskPolicy::new().interval(Duration::from_millis(5)))
        .run(
            BatchAction::InsertOrUpdate {
                primary_key: "id".into(),
            },
            rows(3),
        )
        .await;
    assert_eq!(report.into_result().unwrap(), 3);
    let lines: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    let batch = format!("POST /api/data_source/{U2}/batch");
    assert_eq!(
        lines,
        [
            batch.as_str(),
            "GET /api/task/b1",
            batch.as_str(),
            "GET /api/task/b1"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_uuid_is_a_typed_not_found() {
    let server = server_for(
        "GET",
        &format!("/api/data_source/{U1}"),
        404,
        json!("Unknown data source"),
    )
    .await;
    let err: Error = client(&server)
        .get_data_source()
        .uuid(uuid(U1))
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(
        matches!(
            &err,
            Error::Api(ApiError::NotFound {
                body: Some(types::HttpError::String(_)),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Unknown data source"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn bad_key_is_unauthorized_and_never_shows_the_key() {
    let server = server_for(
        "GET",
        "/api/web_app",
        401,
        json!({"errors": ["Invalid API key"]}),
    )
    .await;
    let c = client(&server);
    let err: Error = c.list_web_apps().send().await.unwrap_err().into();
    assert!(
        matches!(&err, Error::Api(ApiError::Unauthorized { .. })),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Invalid API key"));
    for text in [
        err.to_string(),
        format!("{err:?}"),
        format!("{c:?}"),
        format!("{:?}", Auth::api_key(KEY)),
    ] {
        assert!(!text.contains(KEY), "{text}");
    }
}

#[tokio::test]
async fn malformed_json_is_an_invalid_response() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/folder",
        ResponseTemplate::new(200).set_body_raw("{\"objects\": [", "application/json"),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/user",
        ResponseTemplate::new(200).set_body_raw("{\"objects\": 5}", "application/json"),
    )
    .await;
    let c = client(&server);
    for err in [
        Error::from(c.list_folders().send().await.unwrap_err()),
        Error::from(c.list_users().send().await.unwrap_err()),
    ] {
        assert!(
            matches!(&err, Error::Api(ApiError::InvalidResponse { .. })),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn truncated_json_is_a_transport_error() {
    let addr = raw_server(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"status\": \"ok\", \"data\": [[1").await;
    let c = Client::new_with_client(
        &format!("http://{addr}"),
        ClientConfig::new().build().unwrap(),
        Auth::api_key(KEY),
    );
    let err = c
        .query_formatted_data()
        .uuid(uuid(U2))
        .body(types::FormattedDataRequest::default())
        .send_checked()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(ApiError::Transport(_))),
        "{err:?}"
    );
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn html_error_page_is_an_unexpected_response() {
    let server = MockServer::start().await;
    serve(
        &server,
        "POST",
        &format!("/api/formatted_data/{U2}"),
        ResponseTemplate::new(502).set_body_raw(
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "text/html",
        ),
    )
    .await;
    let err = client(&server)
        .query_formatted_data()
        .uuid(uuid(U2))
        .body(types::FormattedDataRequest::default())
        .send_checked()
        .await
        .unwrap_err();
    match &err {
        Error::Api(ApiError::UnexpectedResponse {
            status,
            content_type,
            excerpt,
            ..
        }) => {
            assert_eq!(status.as_u16(), 502);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert!(excerpt.contains("502 Bad Gateway"));
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn email_rate_limit_is_a_typed_429() {
    let server = MockServer::start().await;
    serve(
        &server,
        "POST",
        "/api/email",
        json_response(429, json!({"errors": ["Too many emails sent"]}))
            .insert_header("retry-after", "60"),
    )
    .await;
    let err: Error = client(&server)
        .send_email()
        .body(types::EmailRequest {
            subject: "s".into(),
            recipients: vec![],
            html: String::new(),
            web_app_uuid: None,
            pdf_file_name: None,
            from_address: None,
            file_to_attach_uuid: None,
            file_to_attach_name: None,
            dashboard_payload: None,
        })
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(
        matches!(&err, Error::Api(ApiError::RateLimited { retry_after: Some(d), .. }) if *d == Duration::from_secs(60)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Examples, run against a local server
// ---------------------------------------------------------------------------------------------

#[path = "../../crates/serenytics/examples/backup.rs"]
mod backup_example;
#[path = "../../crates/serenytics/examples/export_csv.rs"]
mod export_csv_example;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("serenytics-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn backup_example_writes_every_dashboard_and_script() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/web_app",
        json_response(
            200,
            json!({"objects": [web_app(U1, "Sales / 2024"), web_app(U2, "Ops")], "num_results": 2}),
        ),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/script",
        json_response(
            200,
            json!({"objects": [script(U1, "nightly")], "num_results": 1}),
        ),
    )
    .await;
    let dir = temp_dir("backup");
    let summary = backup_example::backup(&client(&server), &dir)
        .await
        .unwrap();
    assert_eq!((summary.web_apps, summary.scripts), (2, 1));
    let sales = dir.join(format!("web_apps/Sales _ 2024-{U1}.json"));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&sales).unwrap()).unwrap();
    // The backup is the server's object, unknown fields included (a known field that is null is
    // written as absent).
    let mut expected = web_app(U1, "Sales / 2024");
    expected.as_object_mut().unwrap().remove("folder_uuid");
    assert_eq!(saved, expected);
    assert_eq!(
        std::fs::read_to_string(dir.join(format!("scripts/nightly-{U1}.py"))).unwrap(),
        "print(1)"
    );
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("scripts/nightly-{U1}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        meta,
        json!({"uuid": U1, "name": "nightly", "kind": "GENERIC_PYTHON", "folder_uuid": "f1"})
    );
    assert_eq!(summary.files.len(), 4);
    assert_eq!(
        received(&server).await,
        [
            req("GET /api/web_app", true, &[], None),
            req("GET /api/script", true, &[], None)
        ]
        .concat()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn export_csv_example_writes_the_rows() {
    let server = MockServer::start().await;
    let route = format!("/api/formatted_data/{U2}");
    Mock::given(method("POST"))
        .and(path(route.clone()))
        .respond_with(json_response(
            200,
            json!({"status": "ok", "columns_titles": [{"name": "country", "type": "str"}, {"name": "n, total", "type": "int"}]}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        &route,
        json_response(
            200,
            json!({"status": "ok", "data": [["FR", 3], ["say \"hi\"", null], ["a\nb", 1.5]]}),
        ),
    )
    .await;
    let mut out = Vec::new();
    let rows = export_csv_example::export_csv(&client(&server), uuid(U2), &mut out)
        .await
        .unwrap();
    assert_eq!(rows, 3);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "country,\"n, total\"\nFR,3\n\"say \"\"hi\"\"\",\n\"a\nb\",1.5\n"
    );
    assert_eq!(
        received(&server).await,
        [
            req(&format!("POST {route}"), true, &[], Some(r#"{"only_headers":true}"#)),
            req(
                &format!("POST {route}"),
                true,
                &[],
                Some(r#"{"data_processing_pipeline":[{"select":["country","n, total"]}],"order":"row_by_row"}"#)
            ),
        ]
        .concat()
    );
}

#[tokio::test]
async fn export_csv_example_reports_an_empty_storage() {
    let server = server_for(
        "POST",
        &format!("/api/formatted_data/{U2}"),
        200,
        json!({"status": "error", "errors": ["Storage source is empty"]}),
    )
    .await;
    let err = export_csv_example::export_csv(&client(&server), uuid(U2), &mut Vec::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Serenytics reported an error: Storage source is empty"
    );
}

// ---------------------------------------------------------------------------------------------
// data-api (separate spec, separate keys)
// ---------------------------------------------------------------------------------------------

mod data_api {
    use super::*;
    use serenytics_data_api::{types as dt, QueryCsvExt};

    const DKEY: &str = "data-api-key-canary-77";
    const DS: &str = "a58d07c4-5f47-4b43-8fad-4f654f299d48";

    fn data_client(server: &MockServer) -> serenytics_data_api::Client {
        serenytics_data_api::Client::new_with_client(
            &format!("{}/data-api", server.uri()),
            ClientConfig::new().build().unwrap(),
            serenytics_data_api::Auth::api_key(DKEY),
        )
    }

    fn dreq(line: &str, extra: &[&str], body: Option<&str>) -> String {
        req(line, false, extra, body)
            .replace(&format!("{UA}\n"), &format!("{UA}\nx-api-key: {DKEY}\n"))
    }

    #[tokio::test]
    async fn every_operation_and_the_csv_variant() {
        let server = MockServer::start().await;
        serve(
            &server,
            "GET",
            "/data-api/datasources_list",
            json_response(200, json!([{"uuid": DS, "name": "sales"}])),
        )
        .await;
        serve(
            &server,
            "POST",
            &format!("/data-api/query-model/{DS}"),
            json_response(
                200,
                json!({"columns": [{"name": "country", "type": "str"}]}),
            ),
        )
        .await;
        Mock::given(method("POST"))
            .and(path(format!("/data-api/query-data/{DS}")))
            .and(wiremock::matchers::body_partial_json(
                json!({"format": "csv"}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_raw("country\nFR\n", "text/csv"))
            .mount(&server)
            .await;
        serve(
            &server,
            "POST",
            &format!("/data-api/query-data/{DS}"),
            json_response(200, json!([["FR"]])),
        )
        .await;
        let c = data_client(&server);

        let list = c.list_datasources().send().await.unwrap().into_inner();
        assert_eq!(list.0[0]["name"], "sales");
        let model = c
            .query_datasource_model()
            .datasource_uuid(uuid(DS))
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(model.0["columns"][0]["type"], "str");
        let mut query = dt::DataQuery {
            format: Some(dt::DataQueryFormat::Json),
            ..Default::default()
        };
        query.extra.insert("limit".into(), json!(10));
        let data = c
            .query_datasource_data()
            .datasource_uuid(uuid(DS))
            .body(query)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(data.0, json!([["FR"]]));
        let csv = c
            .query_datasource_csv(uuid(DS), dt::DataQuery::default())
            .await
            .unwrap();
        assert_eq!(&csv[..], b"country\nFR\n");

        assert_eq!(
            received(&server).await,
            [
                dreq("GET /data-api/datasources_list", &[], None),
                dreq(&format!("POST /data-api/query-model/{DS}"), &[], None),
                dreq(
                    &format!("POST /data-api/query-data/{DS}"),
                    &[],
                    Some(r#"{"format":"json","limit":10}"#)
                ),
                dreq(
                    &format!("POST /data-api/query-data/{DS}"),
                    &[],
                    Some(r#"{"format":"csv"}"#)
                )
                .replace("accept: application/json", "accept: text/csv"),
            ]
            .concat()
        );
    }

    #[tokio::test]
    async fn an_unauthorised_key_is_a_typed_401_without_the_key() {
        let server = MockServer::start().await;
        serve(
            &server,
            "POST",
            &format!("/data-api/query-data/{DS}"),
            json_response(401, json!({"message": "Invalid key"})),
        )
        .await;
        let c = data_client(&server);
        let err = ApiError::from(
            c.query_datasource_data()
                .datasource_uuid(uuid(DS))
                .body(dt::DataQuery::default())
                .send()
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(&err, ApiError::Unauthorized { message: Some(m), .. } if m == "Invalid key"),
            "{err:?}"
        );
        let csv_err = c
            .query_datasource_csv(uuid(DS), dt::DataQuery::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&csv_err, ApiError::Unauthorized { message: Some(m), .. } if m == "Invalid key"),
            "{csv_err:?}"
        );
        for text in [
            err.to_string(),
            format!("{err:?}"),
            csv_err.to_string(),
            format!("{csv_err:?}"),
        ] {
            assert!(!text.contains(DKEY), "{text}");
        }
    }
}
