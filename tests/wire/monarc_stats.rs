//! Wire-level tests of the MONARC Stats client against a local server each test starts.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use futures::TryStreamExt;
use monarc_stats::{
    types, ApiError, Auth, ClientConfig, ClientPagesExt, Cmp, ListStatsFilterExt, Org, StatsFilter,
    Text, Time,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workspace_tests::{raw_server, received};

const KEY: &str = "canary-key-SylsDTZTBk2zAkg016vW";

fn stats_json(id: &str, day: i64) -> serde_json::Value {
    json!({
        "uuid": "76a3999f-ab22-4008-a540-f68082f44cb2", "organization": "CASES",
        "anr": "00000000-0000-4000-8000-000000000002", "type": "risk",
        "day": day, "week": 1, "month": 1, "year": 2020,
        "data": {"what": "you want", "super": "cool"},
        "created_at": "2020-05-11T21:56:49.584000", "updated_at": "2020-05-11T21:56:49",
        "id": id
    })
}

fn client(server: &MockServer) -> monarc_stats::Client {
    monarc_stats::Client::new_with_client(
        &format!("{}/api/v2", server.uri()),
        ClientConfig::new().build().unwrap(),
        Auth::api_key(KEY),
    )
}

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

const UA: &str = "user-agent: analytics-clients/0.1.0";

#[tokio::test]
async fn list_organizations_sends_no_key_and_parses_the_envelope() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/organizations/",
        json_response(200, json!({"data": [{"name": "CASES"}], "has_more": false})),
    )
    .await;

    let page = client(&server)
        .list_organizations()
        .skip(5u64)
        .limit(std::num::NonZeroU64::new(10).unwrap())
        .fields(vec!["name".to_string(), "token".to_string()])
        .send()
        .await
        .unwrap()
        .into_inner();

    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].name, "CASES");
    assert!(!page.has_more);
    // Organizations are unauthenticated: the key must not be sent there.
    assert_eq!(
        received(&server).await,
        format!("GET /api/v2/organizations/?_fields=name%2Ctoken&_limit=10&_skip=5\naccept: application/json\n{UA}\n--\n")
    );
}

#[tokio::test]
async fn create_organization_posts_json_and_reports_field_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/organizations/"))
        .respond_with(json_response(200, json!({"name": "CASES"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        "/api/v2/organizations/",
        json_response(400, json!({"field-errors": {"token": "Field is required"}})),
    )
    .await;
    let c = client(&server);

    let body = types::OrganizationCreate {
        name: "CASES".into(),
        token: "oypvIaGU7uvu".into(),
    };
    let created = c
        .create_organization()
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.name, "CASES");

    let err = ApiError::from(c.create_organization().body(body).send().await.unwrap_err());
    match &err {
        ApiError::InvalidRequest {
            status,
            message,
            body: Some(_),
        } => {
            assert_eq!(status.as_u16(), 400);
            assert_eq!(message.as_deref(), Some("token: Field is required"));
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "invalid request (400 Bad Request): token: Field is required"
    );
    let one = format!(
        "POST /api/v2/organizations/\naccept: application/json\ncontent-length: 39\ncontent-type: application/json\n{UA}\n\n{{\"name\":\"CASES\",\"token\":\"oypvIaGU7uvu\"}}\n--\n"
    );
    assert_eq!(received(&server).await, format!("{one}{one}"));
}

#[tokio::test]
async fn get_organization_encodes_the_name_and_maps_404() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/organizations/CASES/",
        json_response(200, json!({"name": "CASES"})),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/v2/organizations/NO%20SUCH/",
        json_response(
            404,
            json!({"error": "Empty query: Organization matching query does not exist."}),
        ),
    )
    .await;
    let c = client(&server);

    let org = c
        .get_organization()
        .name("CASES")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(org.name, "CASES");
    let err = ApiError::from(
        c.get_organization()
            .name("NO SUCH")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(&err, ApiError::NotFound { message: Some(m), body: Some(_) } if m == "Empty query: Organization matching query does not exist."),
        "{err:?}"
    );
    assert_eq!(
        received(&server).await,
        format!("GET /api/v2/organizations/CASES/\naccept: application/json\n{UA}\n--\nGET /api/v2/organizations/NO%20SUCH/\naccept: application/json\n{UA}\n--\n")
    );
}

#[tokio::test]
async fn update_organization_puts_the_token() {
    let server = MockServer::start().await;
    serve(
        &server,
        "PUT",
        "/api/v2/organizations/CASES/",
        json_response(200, json!({"name": "CASES"})),
    )
    .await;

    let org = client(&server)
        .update_organization()
        .name("CASES")
        .body(types::OrganizationUpdate {
            token: Some("new-token".into()),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(org.name, "CASES");
    assert_eq!(
        received(&server).await,
        format!("PUT /api/v2/organizations/CASES/\naccept: application/json\ncontent-length: 21\ncontent-type: application/json\n{UA}\n\n{{\"token\":\"new-token\"}}\n--\n")
    );
}

#[tokio::test]
async fn list_stats_sends_the_key_and_typed_filters() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/",
        json_response(
            200,
            json!({"data": [stats_json("5eb9ca210381f6f321022ae6", 1)], "has_more": true}),
        ),
    )
    .await;

    let filter = StatsFilter::new()
        .month(Cmp::Gt(2))
        .month(Cmp::Lt(8))
        .type_(Text::Eq("risk".into()))
        .organization(Org::Eq("CASES".into()))
        .created_at(Time::Gt("2020-05-12T22:29:42.362000".into()));
    let page = client(&server)
        .list_stats()
        .filter(&filter)
        .send()
        .await
        .unwrap()
        .into_inner();

    assert!(page.has_more);
    let s = &page.data[0];
    assert_eq!((s.day, s.week, s.month, s.year), (1, 1, 1, 2020));
    assert_eq!(s.organization, "CASES");
    assert_eq!(s.data, json!({"what": "you want", "super": "cool"}));
    assert_eq!(s.id.as_str(), "5eb9ca210381f6f321022ae6");
    assert_eq!(
        received(&server).await,
        format!("GET /api/v2/stats/?created_at__gt=2020-05-12T22%3A29%3A42.362000&month__gt=2&month__lt=8&organization=CASES&type=risk\naccept: application/json\n{UA}\nx-api-key: {KEY}\n--\n")
    );
}

#[tokio::test]
async fn list_stats_maps_401_and_400() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/stats/"))
        .respond_with(json_response(401, json!({"error": "Unauthorized"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/",
        json_response(
            400,
            json!({"error": "_skip must be a non-negative integer (got \"-1\" instead)."}),
        ),
    )
    .await;
    let c = client(&server);

    let err = ApiError::from(c.list_stats().send().await.unwrap_err());
    assert!(
        matches!(&err, ApiError::Unauthorized { message: Some(m), .. } if m == "Unauthorized"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(KEY));

    let err = ApiError::from(c.list_stats().send().await.unwrap_err());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(
        err.message(),
        Some("_skip must be a non-negative integer (got \"-1\" instead).")
    );
}

#[tokio::test]
async fn out_of_range_limits_fail_before_any_request() {
    let server = MockServer::start().await;
    let c = client(&server);

    let err = ApiError::from(
        c.list_stats()
            .limit(std::num::NonZeroU64::new(1001).unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err.to_string(),
        "invalid input: `_limit` of `list_stats` must be in 1..=1000, got 1001"
    );
    let err = ApiError::from(
        c.list_organizations()
            .limit(std::num::NonZeroU64::new(101).unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err.to_string(),
        "invalid input: `_limit` of `list_organizations` must be in 1..=100, got 101"
    );
    let err = ApiError::from(c.list_stats().limit(0u64).send().await.unwrap_err());
    assert!(matches!(err, ApiError::InvalidInput(_)), "{err:?}");
    let first = c
        .stats_stream(StatsFilter::new(), 0)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        first.to_string(),
        "invalid input: page size for `list_stats` must be in 1..=1000, got 0"
    );

    // Within range is accepted.
    serve(
        &server,
        "GET",
        "/api/v2/stats/",
        json_response(200, json!({"data": [], "has_more": false})),
    )
    .await;
    c.list_stats()
        .limit(std::num::NonZeroU64::new(1000).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(received(&server).await, format!("GET /api/v2/stats/?_limit=1000\naccept: application/json\n{UA}\nx-api-key: {KEY}\n--\n"));
}

#[tokio::test]
async fn create_stats_posts_the_body_and_parses_both_error_shapes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/stats/"))
        .respond_with(json_response(
            200,
            stats_json("5eb9ca210381f6f321022ae6", 1),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/stats/"))
        .respond_with(json_response(400, json!({"field-errors": {"anr": "Could not convert to UUID: badly formed hexadecimal UUID string"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(
        &server,
        "POST",
        "/api/v2/stats/",
        json_response(400, json!({"error": "The request contains invalid JSON."})),
    )
    .await;
    let c = client(&server);

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
        .data(json!({"what": "you want", "super": "cool"}));
    let created = c
        .create_stats()
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.organization, "CASES");

    match c
        .create_stats()
        .body(body.clone())
        .send()
        .await
        .unwrap_err()
    {
        monarc_stats::Error::ErrorResponse(r) => match r.into_inner() {
            types::CreateStatsErrorBody::FieldErrors(f) => assert_eq!(
                f.field_errors["anr"],
                "Could not convert to UUID: badly formed hexadecimal UUID string"
            ),
            other => panic!("expected field errors, got {other:?}"),
        },
        other => panic!("expected an error response, got {other:?}"),
    }
    let err = ApiError::from(c.create_stats().body(body).send().await.unwrap_err());
    assert_eq!(err.message(), Some("The request contains invalid JSON."));

    let sent = "POST /api/v2/stats/\naccept: application/json\ncontent-length: 141\ncontent-type: application/json\n";
    let json_body = r#"{"anr":"00000000-0000-4000-8000-000000000002","data":{"super":"cool","what":"you want"},"day":1,"month":1,"type":"risk","week":1,"year":2020}"#;
    let one = format!("{sent}{UA}\nx-api-key: {KEY}\n\n{json_body}\n--\n");
    assert_eq!(received(&server).await, one.repeat(3));
}

#[tokio::test]
async fn get_stats_parses_the_object_and_keeps_html_500_status() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/5eb9ca210381f6f321022ae6/",
        json_response(200, stats_json("5eb9ca210381f6f321022ae6", 2)),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/5eb9ca210381f6f321022ae7/",
        json_response(
            404,
            json!({"error": "Empty query: Stats matching query does not exist."}),
        ),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/5eb9ca210381f6f321022ae8/",
        ResponseTemplate::new(500).set_body_raw("<!DOCTYPE HTML>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>", "text/html; charset=utf-8"),
    )
    .await;
    let c = client(&server);

    let s = c
        .get_stats()
        .id("5eb9ca210381f6f321022ae6")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.day, 2);
    assert_eq!(s.updated_at.as_str(), "2020-05-11T21:56:49");

    let err = ApiError::from(
        c.get_stats()
            .id("5eb9ca210381f6f321022ae7")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err.to_string(),
        "not found (404): Empty query: Stats matching query does not exist."
    );

    let err = ApiError::from(
        c.get_stats()
            .id("5eb9ca210381f6f321022ae8")
            .send()
            .await
            .unwrap_err(),
    );
    match &err {
        ApiError::UnexpectedResponse {
            status,
            content_type,
            excerpt,
            ..
        } => {
            assert_eq!(status.as_u16(), 500);
            assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
            assert!(
                excerpt.starts_with("<!DOCTYPE HTML> <title>500 Internal Server Error</title>"),
                "{excerpt}"
            );
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    let get = |id: &str| {
        format!("GET /api/v2/stats/{id}/\naccept: application/json\n{UA}\nx-api-key: {KEY}\n--\n")
    };
    assert_eq!(
        received(&server).await,
        [
            get("5eb9ca210381f6f321022ae6"),
            get("5eb9ca210381f6f321022ae7"),
            get("5eb9ca210381f6f321022ae8")
        ]
        .concat()
    );
}

#[tokio::test]
async fn malformed_json_is_an_invalid_response_without_the_body_in_messages() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/000000000000000000000001/",
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"id": "x", "day": "not-a-number""#, "application/json"),
    )
    .await;
    serve(
        &server,
        "GET",
        "/api/v2/stats/000000000000000000000002/",
        json_response(200, json!({"id": "y", "day": "seven"})),
    )
    .await;
    let c = client(&server);

    for id in ["000000000000000000000001", "000000000000000000000002"] {
        let err = ApiError::from(c.get_stats().id(id).send().await.unwrap_err());
        match &err {
            ApiError::InvalidResponse { body, .. } => assert!(!body.0.is_empty()),
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
        assert!(
            err.to_string().starts_with("invalid response body ("),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error() {
    let addr = raw_server(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"data\": [{\"name\": \"CA").await;
    let c = monarc_stats::Client::new_with_client(
        &format!("http://{addr}/api/v2"),
        ClientConfig::new().build().unwrap(),
        Auth::api_key(KEY),
    );

    let err = ApiError::from(c.list_organizations().send().await.unwrap_err());
    assert!(matches!(err, ApiError::Transport(_)), "{err:?}");
    assert!(err.to_string().starts_with("response body failed"), "{err}");
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/stats",
        ResponseTemplate::new(308)
            .insert_header("location", "http://evil.invalid/api/v2/stats/")
            .set_body_raw("<title>Redirecting...</title>", "text/html"),
    )
    .await;
    // The generated client always adds the trailing slash; a raw request on the configured HTTP
    // client shows that the 308 is returned, not followed.
    let http = ClientConfig::new().build().unwrap();
    let response = http
        .get(format!("{}/api/v2/stats", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn stats_stream_walks_every_page() {
    let server = MockServer::start().await;
    for (skip, ids, more) in [
        (
            "0",
            vec!["0000000000000000000000a1", "0000000000000000000000a2"],
            true,
        ),
        (
            "2",
            vec!["0000000000000000000000b1", "0000000000000000000000b2"],
            true,
        ),
        ("4", vec!["0000000000000000000000c1"], false),
    ] {
        let data: Vec<_> = ids.iter().map(|id| stats_json(id, 1)).collect();
        Mock::given(method("GET"))
            .and(path("/api/v2/stats/"))
            .and(wiremock::matchers::query_param("_skip", skip))
            .respond_with(json_response(200, json!({"data": data, "has_more": more})))
            .mount(&server)
            .await;
    }

    let ids: Vec<String> = client(&server)
        .stats_stream(StatsFilter::new().year(Cmp::Eq(2020)), 2)
        .map_ok(|s| s.id.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        ids,
        [
            "0000000000000000000000a1",
            "0000000000000000000000a2",
            "0000000000000000000000b1",
            "0000000000000000000000b2",
            "0000000000000000000000c1"
        ]
    );
    let page = |skip: u32| {
        format!("GET /api/v2/stats/?_limit=2&_skip={skip}&year=2020\naccept: application/json\n{UA}\nx-api-key: {KEY}\n--\n")
    };
    assert_eq!(
        received(&server).await,
        [page(0), page(2), page(4)].concat()
    );
}

#[tokio::test]
async fn organizations_stream_stops_on_an_empty_page_that_claims_more() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/api/v2/organizations/",
        json_response(200, json!({"data": [], "has_more": true})),
    )
    .await;

    let err = client(&server)
        .organizations_stream(100)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::InvalidResponse { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn generated_types_with_a_token_redact_it_in_debug() {
    let create = types::OrganizationCreate {
        name: "CASES".into(),
        token: KEY.into(),
    };
    assert_eq!(
        format!("{create:?}"),
        "OrganizationCreate { name: \"CASES\", token: \"[redacted]\" }"
    );
    let update = types::OrganizationUpdate {
        token: Some(KEY.into()),
    };
    let built = types::builder::OrganizationCreate::default()
        .name("CASES")
        .token(KEY);
    let shown = format!("{update:?} {update:#?} {built:?}");
    assert!(!shown.contains(KEY), "{shown}");
}

#[test]
fn debug_output_never_shows_the_key() {
    let c = monarc_stats::Client::new("http://127.0.0.1:1/api/v2", Auth::api_key(KEY));
    let shown = format!("{c:?} {:?}", Auth::api_key(KEY));
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[tokio::test]
async fn a_malformed_id_is_rejected_before_sending() {
    let server = MockServer::start().await;
    let err = ApiError::from(
        client(&server)
            .get_stats()
            .id("not-an-id")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ApiError::InvalidInput(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// (kind, status, message) of an error, whatever the operation's error body type.
fn summary<E>(e: ApiError<E>) -> (&'static str, Option<u16>, Option<String>) {
    let kind = match &e {
        ApiError::Unauthorized { .. } => "unauthorized",
        ApiError::NotFound { .. } => "not found",
        ApiError::InvalidRequest { .. } => "invalid request",
        ApiError::UnexpectedResponse { .. } => "unexpected response",
        _ => "other",
    };
    (
        kind,
        e.status().map(|s| s.as_u16()),
        e.message().map(str::to_string),
    )
}

/// (operation, method, path, server response, expected (kind, status, message)).
type ErrorCase = (
    &'static str,
    &'static str,
    &'static str,
    ResponseTemplate,
    (&'static str, Option<u16>, Option<&'static str>),
);

/// The documented error responses not covered above, each parsed into its typed error.
#[tokio::test]
async fn every_other_documented_error_response_is_typed() {
    let html = || {
        ResponseTemplate::new(500).set_body_raw(
            "<html><body><h1>Internal Server Error</h1></body></html>",
            "text/html",
        )
    };
    let id = "5eb9ca210381f6f321022ae6";
    let stats_body = || {
        types::StatsCreate::builder()
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
            .data(json!({}))
    };
    let cases: Vec<ErrorCase> = vec![
        (
            "list_organizations",
            "GET",
            "/api/v2/organizations/",
            json_response(
                400,
                json!({"error": "_limit must be an integer (got \"abc\" instead)."}),
            ),
            (
                "invalid request",
                Some(400),
                Some("_limit must be an integer (got \"abc\" instead)."),
            ),
        ),
        (
            "create_organization",
            "POST",
            "/api/v2/organizations/",
            html(),
            ("unexpected response", Some(500), None),
        ),
        (
            "update_organization 400",
            "PUT",
            "/api/v2/organizations/CASES/",
            json_response(400, json!({"error": "JSON data must be a dict."})),
            (
                "invalid request",
                Some(400),
                Some("JSON data must be a dict."),
            ),
        ),
        (
            "update_organization 404",
            "PUT",
            "/api/v2/organizations/NOPE/",
            json_response(
                404,
                json!({"error": "Empty query: Organization matching query does not exist."}),
            ),
            (
                "not found",
                Some(404),
                Some("Empty query: Organization matching query does not exist."),
            ),
        ),
        (
            "update_organization 500",
            "PUT",
            "/api/v2/organizations/DUP/",
            html(),
            ("unexpected response", Some(500), None),
        ),
        (
            "list_stats",
            "GET",
            "/api/v2/stats/",
            html(),
            ("unexpected response", Some(500), None),
        ),
        (
            "list_stats 405",
            "GET",
            "/api/v2/stats/",
            ResponseTemplate::new(405)
                .set_body_raw("<title>405 Method Not Allowed</title>", "text/html"),
            ("unexpected response", Some(405), None),
        ),
        (
            "create_stats 401",
            "POST",
            "/api/v2/stats/",
            json_response(401, json!({"error": "Unauthorized"})),
            ("unauthorized", Some(401), Some("Unauthorized")),
        ),
        (
            "get_stats 401",
            "GET",
            "/api/v2/stats/5eb9ca210381f6f321022ae6/",
            json_response(401, json!({"error": "Unauthorized"})),
            ("unauthorized", Some(401), Some("Unauthorized")),
        ),
    ];
    for (name, verb, route, response, expected) in cases {
        let server = MockServer::start().await;
        serve(&server, verb, route, response).await;
        let c = client(&server);
        let got = match name {
            "list_organizations" => {
                summary(c.list_organizations().send().await.unwrap_err().into())
            }
            "create_organization" => summary(
                c.create_organization()
                    .body(types::OrganizationCreate {
                        name: "DUP".into(),
                        token: "t".into(),
                    })
                    .send()
                    .await
                    .unwrap_err()
                    .into(),
            ),
            n if n.starts_with("update_organization") => {
                let org = route
                    .trim_start_matches("/api/v2/organizations/")
                    .trim_end_matches('/');
                summary(
                    c.update_organization()
                        .name(org)
                        .body(types::OrganizationUpdate {
                            token: Some("t".into()),
                        })
                        .send()
                        .await
                        .unwrap_err()
                        .into(),
                )
            }
            "list_stats" | "list_stats 405" => {
                summary(c.list_stats().send().await.unwrap_err().into())
            }
            "create_stats 401" => summary(
                c.create_stats()
                    .body(stats_body())
                    .send()
                    .await
                    .unwrap_err()
                    .into(),
            ),
            "get_stats 401" => summary(c.get_stats().id(id).send().await.unwrap_err().into()),
            other => panic!("no call for {other}"),
        };
        assert_eq!((got.0, got.1, got.2.as_deref()), expected, "{name}");
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1, "{name}: sent once");
        assert_eq!(requests[0].method.as_str(), verb, "{name}");
        assert_eq!(requests[0].url.path(), route, "{name}");
    }
}

/// Even the plain `Client::new` never follows a redirect, so the key cannot reach another origin.
#[tokio::test]
async fn a_cross_origin_redirect_is_not_followed_and_the_key_stays_home() {
    let home = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let target = format!("{}/api/v2/stats/5eb9ca210381f6f321022ae6/", elsewhere.uri());
    serve(
        &home,
        "GET",
        "/api/v2/stats/5eb9ca210381f6f321022ae6/",
        ResponseTemplate::new(307).insert_header("location", target.as_str()),
    )
    .await;
    serve(
        &elsewhere,
        "GET",
        "/api/v2/stats/5eb9ca210381f6f321022ae6/",
        json_response(200, stats_json("5eb9ca210381f6f321022ae6", 1)),
    )
    .await;

    let c = monarc_stats::Client::new(&format!("{}/api/v2", home.uri()), Auth::api_key(KEY));
    let err = ApiError::from(
        c.get_stats()
            .id("5eb9ca210381f6f321022ae6")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    assert_eq!(home.received_requests().await.unwrap().len(), 1);
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the other origin saw a request"
    );
}

/// With the `schemars` feature, generated types describe themselves as JSON Schema.
#[test]
fn generated_types_derive_json_schema_behind_the_feature() {
    let schema = serde_json::to_value(schemars::schema_for!(types::StatsList)).unwrap();
    assert_eq!(schema["title"], "StatsList");
    assert_eq!(schema["required"], json!(["data", "has_more"]));
    assert!(
        schema["definitions"]["Stats"]["properties"]["organization"].is_object(),
        "{schema}"
    );
}

#[tokio::test]
async fn a_missing_parameter_is_refused_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server);
    let refused = |e: monarc_stats::Error<types::Error>| match e {
        monarc_stats::Error::InvalidRequest(message) => message,
        other => panic!("expected InvalidRequest, got {other:?}"),
    };
    let unset = c.get_stats().send().await.unwrap_err();
    assert_eq!(refused(unset), "id was not initialized");
    let unset_then_fields = c.get_stats().fields(vec!["day".to_string()]).send();
    assert_eq!(
        refused(unset_then_fields.await.unwrap_err()),
        "id was not initialized"
    );
    assert_eq!(received(&server).await, "");
}
