//! Every response model of `serenytics` (Serenytics): decoding arbitrary and mutated bytes never
//! panics, and the documented examples decode and survive a JSON round trip.

use ::serenytics::types;
use ::serenytics::API as API_DESCRIPTION;
use proptest::prelude::*;

use crate::{any_bytes, any_json, config, mutations, Api, Model};

const API: Api = Api {
    spec: "serenytics.yaml",
    generated: include_str!("../../crates/serenytics/src/generated.rs"),
    models: MODELS,
    examples: EXAMPLES,
    undecodable: UNDECODABLE,
    seeds: SEEDS,
};

/// Every type the client decodes a response body into (success bodies and error bodies).
const MODELS: &[Model] = &[
    model!(types::ApiKeyResult),
    model!(types::BatchResponse),
    model!(types::DataSource),
    model!(types::DataSourceList),
    model!(types::DataSourceS3SignResponse),
    model!(types::EmbedResult),
    model!(types::ExportSourceDataResponse),
    model!(types::FileS3SignResponse),
    model!(types::Folder),
    model!(types::FolderList),
    model!(types::FormattedDataResponse),
    model!(types::GeneratePdfResponse),
    model!(types::HttpError),
    model!(types::Script),
    model!(types::ScriptList),
    model!(types::ScriptLogList),
    model!(types::ScriptRunResponse),
    model!(types::ScriptState),
    model!(types::ScriptStorageData),
    model!(types::SessionToken),
    model!(types::StatusResponse),
    model!(types::Task),
    model!(types::TaskRef),
    model!(types::UndocumentedBody),
    model!(types::User),
    model!(types::UserList),
    model!(types::UsersGroup),
    model!(types::UsersGroupList),
    model!(types::WebApp),
    model!(types::WebAppDataSourcesResponse),
    model!(types::WebAppList),
];

/// Each (operation, status) with JSON examples in the spec → the model the client decodes it into.
const EXAMPLES: &[(&str, &str, Model)] = &[
    ("create_web_app", "201", model!(types::WebApp)),
    ("get_web_app", "200", model!(types::WebApp)),
    ("update_web_app", "200", model!(types::WebApp)),
    ("clone_web_app", "200", model!(types::WebApp)),
    ("embed_web_app", "200", model!(types::EmbedResult)),
    ("set_dashboard_variables", "201", model!(types::WebApp)),
    ("run_script", "200", model!(types::ScriptRunResponse)),
    ("get_script_state", "200", model!(types::ScriptState)),
    ("list_script_logs", "200", model!(types::ScriptLogList)),
    ("create_data_source", "201", model!(types::DataSource)),
    (
        "sign_data_source_s3_upload",
        "200",
        model!(types::DataSourceS3SignResponse),
    ),
    ("get_data_source", "200", model!(types::DataSource)),
    ("update_data_source", "200", model!(types::DataSource)),
    (
        "invalidate_data_source_cache",
        "200",
        model!(types::StatusResponse),
    ),
    (
        "batch_data_source_rows",
        "200",
        model!(types::BatchResponse),
    ),
    (
        "reload_data_source_from_file",
        "200",
        model!(types::TaskRef),
    ),
    (
        "update_data_source_from_file",
        "200",
        model!(types::TaskRef),
    ),
    ("reload_data_source_from_s3", "200", model!(types::TaskRef)),
    (
        "query_formatted_data",
        "200",
        model!(types::FormattedDataResponse),
    ),
    ("get_task", "200", model!(types::Task)),
    ("create_user", "201", model!(types::User)),
    ("get_user_by_name", "200", model!(types::User)),
    ("get_user", "200", model!(types::User)),
    ("update_user", "200", model!(types::User)),
    ("get_user_group_by_name", "200", model!(types::UsersGroup)),
    ("send_email", "200", model!(types::TaskRef)),
];

/// Documented examples that do not decode into their model, with the reason.
const UNDECODABLE: &[(&str, &str, &str, &str)] = &[];

/// Valid bodies for models the spec has no example of.
const SEEDS: &[(Model, &str)] = &[];

api_properties!();
