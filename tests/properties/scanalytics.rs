//! Every response model of `scanalytics` (Scanalytics): decoding arbitrary and mutated bytes never
//! panics, and the documented examples decode and survive a JSON round trip.

use ::scanalytics::types;
use ::scanalytics::API as API_DESCRIPTION;
use proptest::prelude::*;

use crate::{any_bytes, any_json, config, mutations, Api, Model};

const API: Api = Api {
    spec: "scanalytics.yaml",
    generated: include_str!("../../crates/scanalytics/src/generated.rs"),
    models: MODELS,
    examples: EXAMPLES,
    undecodable: UNDECODABLE,
    seeds: SEEDS,
};

/// Every type the client decodes a response body into (success bodies and error bodies).
const MODELS: &[Model] = &[
    model!(types::ApiError),
    model!(types::CreateTokenErrorBody),
    model!(types::CurrentUser),
    model!(types::DeploymentList),
    model!(types::TokenResponse),
    model!(types::VisitAggregates),
];

/// Each (operation, status) with JSON examples in the spec → the model the client decodes it into.
const EXAMPLES: &[(&str, &str, Model)] = &[
    ("create_token", "200", model!(types::TokenResponse)),
    ("create_token", "400", model!(types::CreateTokenErrorBody)),
    ("create_token", "401", model!(types::CreateTokenErrorBody)),
    ("create_token", "429", model!(types::CreateTokenErrorBody)),
    ("get_current_user", "200", model!(types::CurrentUser)),
    ("get_current_user", "401", model!(types::ApiError)),
    ("get_current_user", "403", model!(types::ApiError)),
    ("get_current_user", "429", model!(types::ApiError)),
    ("list_deployments", "401", model!(types::ApiError)),
    ("list_deployments", "403", model!(types::ApiError)),
    ("list_deployments", "429", model!(types::ApiError)),
    ("get_visit_aggregates", "401", model!(types::ApiError)),
    ("get_visit_aggregates", "403", model!(types::ApiError)),
    ("get_visit_aggregates", "429", model!(types::ApiError)),
];

/// Documented examples that do not decode into their model, with the reason.
const UNDECODABLE: &[(&str, &str, &str, &str)] = &[];

/// Valid bodies for the models the spec has no example of (both shapes of each `anyOf`).
const SEEDS: &[(Model, &str)] = &[
    (
        model!(types::DeploymentList),
        r#"[{"id": 7, "name": "prod", "created_at": "2024-01-01T00:00:00Z"}]"#,
    ),
    (
        model!(types::DeploymentList),
        r#"{"results": [{"id": 7}], "next": null, "count": 1}"#,
    ),
    (
        model!(types::VisitAggregates),
        r#"{"buckets": [{"start": "2024-01-01T00:00:00Z", "visits": 3}]}"#,
    ),
    (
        model!(types::VisitAggregates),
        r#"[{"bucket": "2024-01-01", "count": 3}, {}]"#,
    ),
];

api_properties!();
