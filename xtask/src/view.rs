//! The *generation view*: a copy of a spec, rewritten in memory so that progenitor can generate it.
//!
//! The published specs stay faithful to the APIs; progenitor 0.15.1 cannot take some faithful
//! constructs (it panics or errors on them). Each rule below rewrites one such construct, records
//! what it did (the records are snapshot-tested), and keeps the wire behaviour correct:
//!
//! | rule | construct | rewrite | what the caller sees |
//! | --- | --- | --- | --- |
//! | `inline-refs` | `$ref` to a response, parameter or request body | inlined | nothing |
//! | `default-response` | `default` next to explicit responses | dropped | that status becomes an unexpected response, status kept |
//! | `json-media-type` | `application/problem+json`, `…; charset=utf-8` | key normalised to `application/json` | typed body |
//! | `untyped-error` | an error response without a JSON body (HTML pages, empty bodies) | dropped | `UnexpectedResponse` with the status |
//! | `merge-error-bodies` | error responses with different JSON schemas | one `oneOf` component `<Op>ErrorBody` | an untagged enum |
//! | `merge-success-bodies` | success responses with different JSON schemas | one `oneOf` component `<Op>Response` | an untagged enum |
//! | `raw-success` | success responses mixing JSON, empty and other media | every success made `application/octet-stream` | a byte stream |
//! | `cookie-parameter` | `in: cookie` parameter | dropped | the auth glue's cookie jar sends it |
//! | `content-parameter` | parameter with `content:` (JSON in a query string) | `schema: string` | the caller passes the encoded JSON (hand-written helpers encode it) |
//! | `symbol-enum` | string enum with a value that has no letter or digit (`==`, `<`) | enum dropped, plain string | a `String` (hand-written helpers offer the typed enum) |
//! | `one-request-media-type` | request body with several media types | JSON kept (else the first) | that encoding |
//! | `form-encoding` | `encoding` on a form body | dropped | serde_urlencoded encoding |
//! | `type-name-collision` | an inline property schema whose generated name (`<Schema><Property>`) is also a component's name | titled `<Schema><Property>Value` | the same type under that name |
//! | `field-name-collision` | two properties with the same Rust name (`async` and its alias `async_`) | the later one dropped | only the first can be set |
//!
//! Constructs with no safe rewrite (e.g. `multipart/form-data` bodies) are reported as problems.

use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use openapiv3::{
    Components, MediaType, OpenAPI, Operation, Parameter, ParameterSchemaOrContent, PathItem,
    ReferenceOr, RequestBody, Response, Schema, SchemaKind, StatusCode, Type,
};

use crate::problem::{pointer, Problem};
use crate::spec::Spec;

/// One rewrite applied to one place of a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub rule: &'static str,
    pub pointer: String,
    pub detail: String,
}

impl fmt::Display for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<22} {}: {}", self.rule, self.pointer, self.detail)
    }
}

/// The rewritten document and the list of what was rewritten.
#[derive(Debug, Clone)]
pub struct View {
    pub openapi: OpenAPI,
    pub rewrites: Vec<Rewrite>,
}

const JSON: &str = "application/json";
const OCTET_STREAM: &str = "application/octet-stream";

/// Derives the generation view of `spec`.
pub fn derive(spec: &Spec) -> Result<View, Vec<Problem>> {
    let mut openapi = spec.openapi.clone();
    let components = openapi.components.clone().unwrap_or_default();
    let mut ctx = Ctx {
        file: &spec.file,
        components: &components,
        rewrites: Vec::new(),
        problems: Vec::new(),
        new_schemas: BTreeMap::new(),
    };

    for (path, item) in openapi.paths.paths.iter_mut() {
        let ReferenceOr::Item(item) = item else {
            // Rejected earlier by `spec::parse`.
            continue;
        };
        let shared = std::mem::take(&mut item.parameters);
        let shared: Vec<_> = shared
            .into_iter()
            .filter_map(|p| ctx.parameter(p, &pointer(["paths", path, "parameters"])))
            .collect();
        item.parameters = shared;
        for (method, op) in operations_mut(item) {
            ctx.operation(path, method, op);
        }
    }

    // Schemas anywhere in components (symbol enums, name collisions).
    if let Some(c) = openapi.components.as_mut() {
        let component_names: std::collections::BTreeSet<String> =
            c.schemas.keys().cloned().collect();
        for (name, schema) in c.schemas.iter_mut() {
            if let ReferenceOr::Item(schema) = schema {
                ctx.name_collisions(name, schema, &component_names);
            }
        }
        for (name, schema) in c.schemas.iter_mut() {
            if let ReferenceOr::Item(schema) = schema {
                ctx.schema(schema, &pointer(["components", "schemas", name]));
            }
        }
        // Responses, parameters and bodies are inlined; their component copies stay unused.
        c.responses.clear();
        c.parameters.clear();
        c.request_bodies.clear();
    }
    if !ctx.new_schemas.is_empty() {
        let c = openapi.components.get_or_insert_with(Components::default);
        for (name, schema) in std::mem::take(&mut ctx.new_schemas) {
            c.schemas.insert(name, ReferenceOr::Item(schema));
        }
    }

    if ctx.problems.is_empty() {
        Ok(View {
            openapi,
            rewrites: ctx.rewrites,
        })
    } else {
        Err(ctx.problems)
    }
}

/// Mutable access to every operation of a path item, with its lower-case method.
pub fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    let PathItem {
        get,
        put,
        post,
        delete,
        options,
        head,
        patch,
        trace,
        ..
    } = item;
    [
        ("get", get),
        ("put", put),
        ("post", post),
        ("delete", delete),
        ("options", options),
        ("head", head),
        ("patch", patch),
        ("trace", trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
    .collect()
}

struct Ctx<'a> {
    file: &'a str,
    components: &'a Components,
    rewrites: Vec<Rewrite>,
    problems: Vec<Problem>,
    new_schemas: BTreeMap<String, Schema>,
}

impl Ctx<'_> {
    fn rewrite(&mut self, rule: &'static str, pointer: String, detail: impl Into<String>) {
        self.rewrites.push(Rewrite {
            rule,
            pointer,
            detail: detail.into(),
        });
    }

    fn operation(&mut self, path: &str, method: &str, op: &mut Operation) {
        let at = pointer(["paths", path, method]);
        let op_name = op.operation_id.clone().unwrap_or_default();

        let params = std::mem::take(&mut op.parameters);
        op.parameters = params
            .into_iter()
            .filter_map(|p| self.parameter(p, &format!("{at}/parameters")))
            .collect();

        if let Some(body) = op.request_body.take() {
            op.request_body = self.request_body(body, &format!("{at}/requestBody"));
        }

        self.responses(op, &at, &op_name);
    }

    fn parameter(
        &mut self,
        param: ReferenceOr<Parameter>,
        at: &str,
    ) -> Option<ReferenceOr<Parameter>> {
        let mut param = match param {
            ReferenceOr::Reference { reference } => {
                match resolve(&reference, "parameters", &self.components.parameters) {
                    Some(p) => {
                        self.rewrite(
                            "inline-refs",
                            at.to_string(),
                            format!("parameter {reference}"),
                        );
                        p.clone()
                    }
                    None => return Some(ReferenceOr::Reference { reference }),
                }
            }
            ReferenceOr::Item(p) => p,
        };
        let name = param.parameter_data_ref().name.clone();
        if let Parameter::Cookie { .. } = param {
            self.rewrite(
                "cookie-parameter",
                at.to_string(),
                format!("cookie `{name}` dropped: the session's cookie jar sends it"),
            );
            return None;
        }
        let data = parameter_data_mut(&mut param);
        if let ParameterSchemaOrContent::Content(content) = &data.format {
            let media = content.keys().next().cloned().unwrap_or_default();
            self.rewrite(
                "content-parameter",
                at.to_string(),
                format!("`{name}` ({media} in the parameter) passed as an encoded string"),
            );
            data.format = ParameterSchemaOrContent::Schema(ReferenceOr::Item(string_schema()));
        }
        if let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) = &mut data.format {
            self.schema(schema, &format!("{at}/{name}/schema"));
        }
        Some(ReferenceOr::Item(param))
    }

    fn request_body(
        &mut self,
        body: ReferenceOr<RequestBody>,
        at: &str,
    ) -> Option<ReferenceOr<RequestBody>> {
        let mut body = match body {
            ReferenceOr::Reference { reference } => {
                match resolve(&reference, "requestBodies", &self.components.request_bodies) {
                    Some(b) => {
                        self.rewrite(
                            "inline-refs",
                            at.to_string(),
                            format!("request body {reference}"),
                        );
                        b.clone()
                    }
                    None => return Some(ReferenceOr::Reference { reference }),
                }
            }
            ReferenceOr::Item(b) => b,
        };
        self.normalise_json_keys(&mut body.content, at);
        if body.content.len() > 1 {
            let keep = if body.content.contains_key(JSON) {
                JSON.to_string()
            } else {
                body.content.keys().next().cloned().unwrap_or_default()
            };
            let dropped: Vec<_> = body
                .content
                .keys()
                .filter(|k| **k != keep)
                .cloned()
                .collect();
            self.rewrite(
                "one-request-media-type",
                at.to_string(),
                format!("kept {keep}, dropped {}", dropped.join(", ")),
            );
            body.content.retain(|k, _| *k == keep);
        }
        for (media, mt) in body.content.iter_mut() {
            if media.starts_with("multipart/") {
                self.problems.push(Problem::new(
                    self.file,
                    format!("{at}/content/{}", crate::problem::escape_segment(media)),
                    format!("{media} request bodies cannot be generated by progenitor"),
                    "keep the operation in the spec and add a hand-written helper; teach xtask's view to skip this body",
                ));
            }
            if !mt.encoding.is_empty() {
                self.rewrite(
                    "form-encoding",
                    at.to_string(),
                    format!("encoding of {media} dropped"),
                );
                mt.encoding.clear();
            }
            if let Some(ReferenceOr::Item(schema)) = mt.schema.as_mut() {
                self.schema(schema, &format!("{at}/content/schema"));
            }
        }
        Some(ReferenceOr::Item(body))
    }

    fn normalise_json_keys(&mut self, content: &mut IndexMap<String, MediaType>, at: &str) {
        let keys: Vec<String> = content.keys().cloned().collect();
        for key in keys {
            let essence = key
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let is_json = essence == JSON
                || (essence.starts_with("application/") && essence.ends_with("+json"));
            if is_json && key != JSON && !content.contains_key(JSON) {
                if let Some(mt) = content.shift_remove(&key) {
                    self.rewrite(
                        "json-media-type",
                        at.to_string(),
                        format!("{key} read as {JSON}"),
                    );
                    content.insert(JSON.to_string(), mt);
                }
            }
        }
    }

    fn responses(&mut self, op: &mut Operation, at: &str, op_name: &str) {
        let at_responses = format!("{at}/responses");
        // Inline references and normalise media types first.
        let mut all: Vec<(Option<StatusCode>, Response)> = Vec::new();
        let default = op.responses.default.take();
        for (code, r) in std::mem::take(&mut op.responses.responses)
            .into_iter()
            .map(|(c, r)| (Some(c), r))
            .chain(default.map(|r| (None, r)))
        {
            let label = code
                .as_ref()
                .map_or("default".to_string(), ToString::to_string);
            let here = format!("{at_responses}/{label}");
            let mut response = match r {
                ReferenceOr::Reference { reference } => {
                    match resolve(&reference, "responses", &self.components.responses) {
                        Some(r) => {
                            self.rewrite(
                                "inline-refs",
                                here.clone(),
                                format!("response {reference}"),
                            );
                            r.clone()
                        }
                        None => continue, // reported by spec::parse
                    }
                }
                ReferenceOr::Item(r) => r,
            };
            self.normalise_json_keys(&mut response.content, &here);
            all.push((code, response));
        }

        let has_explicit = all.iter().any(|(c, _)| c.is_some());
        let mut successes = Vec::new();
        let mut errors = Vec::new();
        for (code, response) in all {
            match code {
                None if has_explicit => self.rewrite(
                    "default-response",
                    format!("{at_responses}/default"),
                    "dropped: other statuses arrive as unexpected responses with their status",
                ),
                None => {
                    // Only `default`: progenitor treats it as success and error alike.
                    successes.push((StatusCode::Range(2), response.clone()));
                    errors.push((StatusCode::Range(4), response.clone()));
                    errors.push((StatusCode::Range(5), response));
                    self.rewrite(
                        "default-response",
                        format!("{at_responses}/default"),
                        "split into 2XX, 4XX and 5XX",
                    );
                }
                Some(code) if is_success(&code) => successes.push((code, response)),
                Some(code) => errors.push((code, response)),
            }
        }

        // Errors: keep JSON bodies only, merged into one schema.
        let mut kept_errors: Vec<(StatusCode, Response)> = Vec::new();
        for (code, response) in errors {
            if json_schema(&response).is_some() {
                kept_errors.push((code, response));
            } else {
                let media = media_label(&response);
                self.rewrite(
                    "untyped-error",
                    format!("{at_responses}/{code}"),
                    format!("{media} error dropped: arrives as an unexpected response keeping status {code}"),
                );
            }
        }
        self.merge_schemas(
            &mut kept_errors,
            &at_responses,
            op_name,
            "ErrorBody",
            "merge-error-bodies",
        );

        // Successes: one kind only.
        let kinds: std::collections::BTreeSet<&'static str> =
            successes.iter().map(|(_, r)| success_kind(r)).collect();
        if kinds.len() > 1 {
            for (code, response) in successes.iter_mut() {
                response.content = IndexMap::from([(
                    OCTET_STREAM.to_string(),
                    MediaType {
                        schema: Some(ReferenceOr::Item(binary_schema())),
                        ..MediaType::default()
                    },
                )]);
                let _ = code;
            }
            let codes: Vec<String> = successes.iter().map(|(c, _)| c.to_string()).collect();
            self.rewrite(
                "raw-success",
                at_responses.clone(),
                format!(
                    "{} mix {} bodies: returned as a byte stream",
                    codes.join(", "),
                    kinds.into_iter().collect::<Vec<_>>().join(" and ")
                ),
            );
        } else {
            self.merge_schemas(
                &mut successes,
                &at_responses,
                op_name,
                "Response",
                "merge-success-bodies",
            );
        }

        for (code, response) in successes.iter_mut().chain(kept_errors.iter_mut()) {
            for mt in response.content.values_mut() {
                if mt.schema.is_none() {
                    self.rewrite(
                        "untyped-json",
                        format!("{at_responses}/{code}"),
                        "JSON body without schema read as any JSON value",
                    );
                    mt.schema = Some(ReferenceOr::Item(Schema {
                        schema_data: Default::default(),
                        schema_kind: SchemaKind::Any(Default::default()),
                    }));
                }
                if let Some(ReferenceOr::Item(schema)) = mt.schema.as_mut() {
                    let ptr = format!("{at_responses}/{code}/schema");
                    self.schema(schema, &ptr);
                }
            }
        }

        op.responses.responses = successes
            .into_iter()
            .chain(kept_errors)
            .map(|(c, r)| (c, ReferenceOr::Item(r)))
            .collect();
        op.responses.default = None;
    }

    /// When responses carry different JSON schemas, replaces them with one `oneOf` component.
    fn merge_schemas(
        &mut self,
        responses: &mut [(StatusCode, Response)],
        at: &str,
        op_name: &str,
        suffix: &str,
        rule: &'static str,
    ) {
        let mut distinct: Vec<ReferenceOr<Schema>> = Vec::new();
        for (_, r) in responses.iter() {
            if let Some(s) = json_schema(r) {
                if !distinct.iter().any(|d| same(d, s)) {
                    distinct.push(s.clone());
                }
            }
        }
        if distinct.len() < 2 {
            return;
        }
        // One level of `oneOf` members, so that `oneOf[A, B]` and `A` merge into `oneOf[A, B]`.
        let mut members: Vec<ReferenceOr<Schema>> = Vec::new();
        for s in distinct {
            let parts = match s {
                ReferenceOr::Item(Schema {
                    schema_kind: SchemaKind::OneOf { one_of },
                    ..
                }) => one_of,
                other => vec![other],
            };
            for p in parts {
                if !members.iter().any(|m| same(m, &p)) {
                    members.push(p);
                }
            }
        }
        let distinct = members;
        let name = format!("{}{suffix}", pascal(op_name));
        let codes: Vec<String> = responses.iter().map(|(c, _)| c.to_string()).collect();
        self.rewrite(
            rule,
            at.to_string(),
            format!(
                "{} merged into `{name}` (oneOf of {} schemas)",
                codes.join(", "),
                distinct.len()
            ),
        );
        self.new_schemas.insert(
            name.clone(),
            Schema {
                schema_data: Default::default(),
                schema_kind: SchemaKind::OneOf { one_of: distinct },
            },
        );
        for (_, r) in responses.iter_mut() {
            if let Some(mt) = r.content.get_mut(JSON) {
                mt.schema = Some(ReferenceOr::Reference {
                    reference: format!("#/components/schemas/{name}"),
                });
            }
        }
    }

    /// Names the generator would give twice: an inline property type named like a component, or
    /// two properties with one Rust field name.
    fn name_collisions(
        &mut self,
        component: &str,
        schema: &mut Schema,
        components: &std::collections::BTreeSet<String>,
    ) {
        let SchemaKind::Type(Type::Object(object)) = &mut schema.schema_kind else {
            return;
        };
        let at = pointer(["components", "schemas", component]);
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut dropped = Vec::new();
        for prop in object.properties.keys() {
            let field = rust_field_name(prop);
            match fields.get(&field) {
                Some(first) => {
                    self.rewrite(
                        "field-name-collision",
                        format!("{at}/properties/{}", crate::problem::escape_segment(prop)),
                        format!("`{prop}` dropped: its Rust field name `{field}` is already taken by `{first}`"),
                    );
                    dropped.push(prop.clone());
                }
                None => {
                    fields.insert(field, prop.clone());
                }
            }
        }
        object.properties.retain(|p, _| !dropped.contains(p));
        object.required.retain(|p| !dropped.contains(p));
        for (prop, value) in object.properties.iter_mut() {
            let ReferenceOr::Item(inner) = value else {
                continue;
            };
            let generated = format!("{}{}", pascal(component), pascal(prop));
            if components.contains(&generated) && names_a_type(inner) {
                let title = format!("{generated}Value");
                self.rewrite(
                    "type-name-collision",
                    format!("{at}/properties/{}", crate::problem::escape_segment(prop)),
                    format!("inline type would be named `{generated}` like the component; titled `{title}`"),
                );
                inner.schema_data.title = Some(title);
            }
        }
    }

    /// Rewrites inside one schema, recursively.
    fn schema(&mut self, schema: &mut Schema, at: &str) {
        match &mut schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                let symbolic = s
                    .enumeration
                    .iter()
                    .flatten()
                    .any(|v| !v.chars().any(|c| c.is_ascii_alphanumeric()));
                if symbolic {
                    let values: Vec<&str> =
                        s.enumeration.iter().flatten().map(String::as_str).collect();
                    self.rewrite(
                        "symbol-enum",
                        at.to_string(),
                        format!("enum [{}] read as a string", values.join(", ")),
                    );
                    s.enumeration.clear();
                }
            }
            SchemaKind::Type(Type::Object(o)) => {
                for (name, prop) in o.properties.iter_mut() {
                    if let ReferenceOr::Item(p) = prop {
                        self.schema(
                            p,
                            &format!("{at}/properties/{}", crate::problem::escape_segment(name)),
                        );
                    }
                }
                if let Some(openapiv3::AdditionalProperties::Schema(s)) =
                    o.additional_properties.as_mut()
                {
                    if let ReferenceOr::Item(s) = s.as_mut() {
                        self.schema(s, &format!("{at}/additionalProperties"));
                    }
                }
            }
            SchemaKind::Type(Type::Array(a)) => {
                if let Some(ReferenceOr::Item(items)) = a.items.as_mut() {
                    self.schema(items, &format!("{at}/items"));
                }
            }
            SchemaKind::OneOf { one_of: list }
            | SchemaKind::AllOf { all_of: list }
            | SchemaKind::AnyOf { any_of: list } => {
                for (i, s) in list.iter_mut().enumerate() {
                    if let ReferenceOr::Item(s) = s {
                        self.schema(s, &format!("{at}/{i}"));
                    }
                }
            }
            SchemaKind::Not { not } => {
                if let ReferenceOr::Item(s) = not.as_mut() {
                    self.schema(s, &format!("{at}/not"));
                }
            }
            SchemaKind::Any(any) => {
                for (name, prop) in any.properties.iter_mut() {
                    if let ReferenceOr::Item(p) = prop {
                        self.schema(
                            p,
                            &format!("{at}/properties/{}", crate::problem::escape_segment(name)),
                        );
                    }
                }
                for (i, s) in any
                    .one_of
                    .iter_mut()
                    .chain(any.any_of.iter_mut())
                    .chain(any.all_of.iter_mut())
                    .enumerate()
                {
                    if let ReferenceOr::Item(s) = s {
                        self.schema(s, &format!("{at}/{i}"));
                    }
                }
                if let Some(ReferenceOr::Item(items)) = any.items.as_mut() {
                    self.schema(items, &format!("{at}/items"));
                }
                let symbolic = any
                    .enumeration
                    .iter()
                    .filter_map(|v| v.as_str())
                    .any(|v| !v.chars().any(|c| c.is_ascii_alphanumeric()));
                if symbolic {
                    self.rewrite(
                        "symbol-enum",
                        at.to_string(),
                        "enum with symbol values read as any value",
                    );
                    any.enumeration.clear();
                }
            }
            _ => {}
        }
    }
}

fn parameter_data_mut(p: &mut Parameter) -> &mut openapiv3::ParameterData {
    match p {
        Parameter::Query { parameter_data, .. }
        | Parameter::Header { parameter_data, .. }
        | Parameter::Path { parameter_data, .. }
        | Parameter::Cookie { parameter_data, .. } => parameter_data,
    }
}

fn resolve<'a, T>(
    reference: &str,
    section: &str,
    map: &'a IndexMap<String, ReferenceOr<T>>,
) -> Option<&'a T> {
    let name = reference.strip_prefix(&format!("#/components/{section}/"))?;
    match map.get(name)? {
        ReferenceOr::Item(item) => Some(item),
        ReferenceOr::Reference { reference } => resolve(reference, section, map),
    }
}

fn is_success(code: &StatusCode) -> bool {
    match code {
        StatusCode::Code(c) => (200..300).contains(c),
        StatusCode::Range(r) => *r == 2,
    }
}

fn json_schema(r: &Response) -> Option<&ReferenceOr<Schema>> {
    r.content.get(JSON).and_then(|m| m.schema.as_ref())
}

fn success_kind(r: &Response) -> &'static str {
    if r.content.is_empty() {
        "empty"
    } else if r.content.contains_key(JSON) {
        "JSON"
    } else {
        "raw"
    }
}

fn media_label(r: &Response) -> String {
    if r.content.is_empty() {
        "empty-body".to_string()
    } else {
        r.content.keys().cloned().collect::<Vec<_>>().join("/")
    }
}

fn same(a: &ReferenceOr<Schema>, b: &ReferenceOr<Schema>) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn string_schema() -> Schema {
    Schema {
        schema_data: Default::default(),
        schema_kind: SchemaKind::Type(Type::String(Default::default())),
    }
}

fn binary_schema() -> Schema {
    Schema {
        schema_data: Default::default(),
        schema_kind: SchemaKind::Type(Type::String(openapiv3::StringType {
            format: openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary),
            ..Default::default()
        })),
    }
}

/// `list_stats` → `ListStats`.
pub fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Whether the generator turns this inline schema into a named type of its own.
fn names_a_type(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(_))
        | SchemaKind::OneOf { .. }
        | SchemaKind::AnyOf { .. }
        | SchemaKind::AllOf { .. } => true,
        SchemaKind::Type(Type::String(s)) => {
            !s.enumeration.is_empty()
                || s.pattern.is_some()
                || s.max_length.is_some()
                || s.min_length.is_some()
        }
        SchemaKind::Type(Type::Integer(i)) => !i.enumeration.is_empty(),
        SchemaKind::Any(_) => true,
        _ => false,
    }
}

/// The Rust field name the generator gives a property: snake case, keywords suffixed with `_`.
fn rust_field_name(property: &str) -> String {
    use heck::ToSnakeCase;
    let snake = property.to_snake_case();
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
        "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final",
        "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    if KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}
