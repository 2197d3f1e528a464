//! `Default` for the request types whose every field is optional but that keep unknown members in
//! a flattened `extra` map (typify derives no `Default` for those), so that
//! `types::FormattedDataRequest { order: Some(..), ..Default::default() }` works. The literals
//! name every field: a field added to the spec breaks this file at compile time.

// The derive would have to go into generated code, which is not edited by hand.
#![allow(clippy::derivable_impls)]

use crate::generated::types;

impl Default for types::FormattedDataRequest {
    fn default() -> Self {
        types::FormattedDataRequest {
            data_processing_pipeline: Vec::new(),
            format: None,
            only_headers: None,
            order: None,
            extra: Default::default(),
        }
    }
}

impl Default for types::PipelineStep {
    fn default() -> Self {
        types::PipelineStep {
            group_by: Vec::new(),
            limit: None,
            order_by: Vec::new(),
            select: Vec::new(),
            where_: Vec::new(),
            extra: Default::default(),
        }
    }
}

impl Default for types::ScriptRunRequest {
    fn default() -> Self {
        types::ScriptRunRequest {
            async_: None,
            extra: Default::default(),
        }
    }
}

impl Default for types::WebAppJsonContent {
    fn default() -> Self {
        types::WebAppJsonContent {
            css_content: None,
            global_static_filters: Default::default(),
            header_mode: None,
            html_header: None,
            tabs: Vec::new(),
            version: None,
            extra: Default::default(),
        }
    }
}

impl Default for types::WebAppUpdate {
    fn default() -> Self {
        types::WebAppUpdate {
            folder_uuid: None,
            json_content: None,
            name: None,
            uuid: None,
            extra: Default::default(),
        }
    }
}

impl Default for types::DataSourceJsonContent {
    fn default() -> Self {
        types::DataSourceJsonContent {
            advanced_options: None,
            join_config: Vec::new(),
            measures: Default::default(),
            separator: None,
            extra: Default::default(),
        }
    }
}

impl Default for types::DataSourceUpdate {
    fn default() -> Self {
        types::DataSourceUpdate {
            json_content: None,
            name: None,
            original_file_name: None,
            type_: None,
            uuid: None,
            extra: Default::default(),
        }
    }
}
