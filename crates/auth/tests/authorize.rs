//! How `hooks::pre` places credentials, checks query bounds and joins list parameters, on plain
//! `reqwest::Request`s (no server needed: nothing is sent).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use analytics_auth::{
    hooks, ApiDescription, Auth, AuthError, HookError, KeyLocation, Operation, QueryRange,
    SchemeKind, SecurityScheme,
};

static API: ApiDescription = ApiDescription {
    title: "Test API",
    version: "1.0.0",
    // In `operation_order`: by length, then bytewise.
    operations: &[
        Operation {
            id: "get_query",
            method: "GET",
            path: "/api/queries/{id}",
            security: &[&["KeyHeader"], &["KeyQuery"]],
            query_ranges: &[],
            comma_separated: &[],
            streams_body: false,
        },
        Operation {
            id: "token_only",
            method: "POST",
            path: "/o/token/",
            security: &[&["Bearer"]],
            query_ranges: &[],
            comma_separated: &[],
            streams_body: false,
        },
        Operation {
            id: "list_queries",
            method: "GET",
            path: "/api/queries",
            security: &[&["KeyHeader"], &["KeyQuery"]],
            query_ranges: &[QueryRange {
                name: "page_size",
                min: Some(1),
                max: Some(250),
            }],
            comma_separated: &["ids"],
            streams_body: false,
        },
        Operation {
            id: "public_status",
            method: "GET",
            path: "/status",
            security: &[],
            query_ranges: &[],
            comma_separated: &[],
            streams_body: false,
        },
    ],
    security_schemes: &[
        SecurityScheme {
            name: "KeyHeader",
            kind: SchemeKind::ApiKey {
                location: KeyLocation::Header,
                parameter: "Authorization",
                prefix: "Key ",
            },
        },
        SecurityScheme {
            name: "KeyQuery",
            kind: SchemeKind::ApiKey {
                location: KeyLocation::Query,
                parameter: "api_key",
                prefix: "",
            },
        },
        SecurityScheme {
            name: "Bearer",
            kind: SchemeKind::Http { scheme: "bearer" },
        },
    ],
};

fn request(url: &str) -> reqwest::Request {
    reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap())
}

async fn pre(auth: &Auth, op: &str, url: &str) -> Result<reqwest::Request, HookError> {
    let mut r = request(url);
    hooks::pre(auth, &API, op, &mut r).await.map(|()| r)
}

#[tokio::test]
async fn the_first_satisfiable_scheme_wins_with_its_prefix() {
    let r = pre(&Auth::api_key("k-1"), "get_query", "http://h/api/queries/7")
        .await
        .unwrap();
    assert_eq!(r.headers()["authorization"], "Key k-1");
    assert!(r.headers()["authorization"].is_sensitive());
    assert_eq!(r.url().as_str(), "http://h/api/queries/7");
}

#[tokio::test]
async fn a_scheme_can_be_chosen_and_query_keys_replace_earlier_ones() {
    let auth = Auth::api_key_for_scheme("KeyQuery", "k 2&x");
    let r = pre(
        &auth,
        "get_query",
        "http://h/api/queries/7?api_key=old&max_age=0",
    )
    .await
    .unwrap();
    assert_eq!(r.url().query(), Some("max_age=0&api_key=k+2%26x"));
    assert!(
        r.headers().get("authorization").is_none(),
        "never both placements"
    );
}

#[tokio::test]
async fn public_operations_get_no_credential() {
    let r = pre(&Auth::api_key("k"), "public_status", "http://h/status")
        .await
        .unwrap();
    assert!(r.headers().get("authorization").is_none());
    assert_eq!(r.url().query(), None);
}

#[tokio::test]
async fn a_credential_of_the_wrong_kind_is_refused_without_showing_it() {
    let err = pre(
        &Auth::api_key("secret-canary"),
        "token_only",
        "http://h/o/token/",
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        HookError::Auth(AuthError::NoMatchingScheme {
            operation: "token_only".into(),
            schemes: "Bearer".into()
        })
    );
    assert!(!format!("{err} {err:?}").contains("secret-canary"));
    // No credential at all: sent as it is, the server decides.
    pre(&Auth::none(), "token_only", "http://h/o/token/")
        .await
        .unwrap();
}

#[tokio::test]
async fn bounded_query_parameters_are_checked_before_sending() {
    pre(
        &Auth::none(),
        "list_queries",
        "http://h/api/queries?page_size=250",
    )
    .await
    .unwrap();
    let err = pre(
        &Auth::none(),
        "list_queries",
        "http://h/api/queries?page_size=251",
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: `page_size` of `list_queries` must be in 1..=250, got 251"
    );
    let err = pre(
        &Auth::none(),
        "list_queries",
        "http://h/api/queries?page_size=0",
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: `page_size` of `list_queries` must be in 1..=250, got 0"
    );
}

#[tokio::test]
async fn list_parameters_are_joined_with_commas_in_place() {
    let r = pre(
        &Auth::none(),
        "list_queries",
        "http://h/api/queries?ids=1&page=2&ids=3",
    )
    .await
    .unwrap();
    assert_eq!(r.url().query(), Some("ids=1%2C3&page=2"));
    let r = pre(&Auth::none(), "list_queries", "http://h/api/queries")
        .await
        .unwrap();
    assert_eq!(
        r.url().as_str(),
        "http://h/api/queries",
        "no empty `?` added"
    );
}

#[tokio::test]
async fn unknown_operations_are_a_clear_error() {
    let err = pre(&Auth::api_key("k"), "nope", "http://h/")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "operation `nope` is not in the API description"
    );
}
