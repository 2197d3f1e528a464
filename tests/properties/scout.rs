//! Every response model of `scout` (Scout): decoding arbitrary and mutated bytes never
//! panics, and the documented examples decode and survive a JSON round trip.

use ::scout::types;
use ::scout::API as API_DESCRIPTION;
use proptest::prelude::*;

use crate::{any_bytes, any_json, config, mutations, Api, Model};

const API: Api = Api {
    spec: "scout.yaml",
    generated: include_str!("../../crates/scout/src/generated.rs"),
    models: MODELS,
    examples: EXAMPLES,
    undecodable: UNDECODABLE,
    seeds: SEEDS,
};

/// Every type the client decodes a response body into (success bodies and error bodies).
const MODELS: &[Model] = &[
    model!(Vec<types::ActionFacet>),
    model!(Vec<types::Mission>),
    model!(Vec<types::Robot>),
    model!(Vec<types::RobotFacet>),
    model!(Vec<types::SiteDock>),
    model!(Vec<types::SiteElement>),
    model!(Vec<types::SiteWalk>),
    model!(types::LoginResponse),
    model!(types::Mission),
    model!(types::MissionFacets),
    model!(types::Robot),
    model!(types::RobotCreated),
    model!(types::Run),
    model!(types::RunCapture),
    model!(types::RunCapturePage),
    model!(types::RunEvent),
    model!(types::RunEventPage),
    model!(types::RunPage),
    model!(types::SiteDock),
    model!(types::SiteElement),
    model!(types::SiteWalk),
    model!(types::SystemTime),
    model!(types::UndocumentedJson),
];

/// Each (operation, status) with JSON examples in the spec → the model the client decodes it into.
const EXAMPLES: &[(&str, &str, Model)] = &[
    ("create_session", "200", model!(types::LoginResponse)),
    ("list_missions", "200", model!(Vec<types::Mission>)),
    ("get_mission", "200", model!(types::Mission)),
    ("list_robots", "200", model!(Vec<types::Robot>)),
    ("create_robot", "200", model!(types::RobotCreated)),
    ("get_robot", "200", model!(types::Robot)),
    ("list_runs", "200", model!(types::RunPage)),
    ("get_run", "200", model!(types::Run)),
    ("list_run_events", "200", model!(types::RunEventPage)),
    ("get_run_event", "200", model!(types::RunEvent)),
    ("list_run_captures", "200", model!(types::RunCapturePage)),
    ("get_run_capture", "200", model!(types::RunCapture)),
    ("list_action_facets", "200", model!(Vec<types::ActionFacet>)),
    (
        "list_mission_action_facets",
        "200",
        model!(Vec<types::ActionFacet>),
    ),
    ("list_mission_facets", "200", model!(types::MissionFacets)),
    ("list_robot_facets", "200", model!(Vec<types::RobotFacet>)),
    ("list_site_walks", "200", model!(Vec<types::SiteWalk>)),
    ("create_site_walk", "200", model!(types::SiteWalk)),
    ("get_site_walk", "200", model!(types::SiteWalk)),
    (
        "create_site_element",
        "200",
        model!(Vec<types::SiteElement>),
    ),
    ("get_site_element", "200", model!(types::SiteElement)),
    ("create_site_dock", "200", model!(Vec<types::SiteDock>)),
    ("get_site_dock", "200", model!(types::SiteDock)),
    ("get_system_time", "200", model!(types::SystemTime)),
];

/// Documented examples that do not decode into their model, with the reason.
const UNDECODABLE: &[(&str, &str, &str, &str)] = &[];

/// Valid bodies for models the spec has no example of.
const SEEDS: &[(Model, &str)] = &[];

api_properties!();

// Not checked: every `403` example (all operations) is `text/plain`; the client decodes no error
// body of Scout (`Error<()>`, no error arm).
