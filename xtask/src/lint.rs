//! `cargo xtask lint`: what other teams need from a spec beyond what our generator needs.
//!
//! 1. structure: OpenAPI 3.0.x, every `$ref` resolves, unique operationIds (shared with regenerate);
//! 2. examples: every `example`/`examples` value validates against its schema (JSON Schema draft 4
//!    via the `jsonschema` crate, with OpenAPI's `nullable` translated);
//! 3. house rules: operations have operationId, summary, one declared tag, description and an
//!    error response; every schema property has a description; servers and security are
//!    declared; no component is unused.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::problem::{escape_segment, pointer, walk_objects, Problem};
use crate::spec::{Spec, METHODS};

/// Lints one loaded spec; an empty list means it is clean.
pub fn lint(spec: &Spec) -> Vec<Problem> {
    let mut problems = Vec::new();
    examples(spec, &mut problems);
    operations(spec, &mut problems);
    property_descriptions(spec, &mut problems);
    servers_and_security(spec, &mut problems);
    unused_components(spec, &mut problems);
    problems
}

fn problem(
    spec: &Spec,
    at: impl Into<String>,
    rule: &str,
    message: impl Into<String>,
    fix: &str,
) -> Problem {
    Problem::new(&spec.file, at, format!("[{rule}] {}", message.into()), fix)
}

// ---------------------------------------------------------------------------------------------
// Examples

/// The spec as a JSON Schema document: OpenAPI 3.0's `nullable: true` becomes a `null` type.
fn as_json_schema(node: &Value) -> Value {
    match node {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), as_json_schema(v)))
                .collect();
            if out.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert(
                        "type".into(),
                        Value::Array(vec![Value::String(t), Value::String("null".into())]),
                    );
                }
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
                if out.contains_key("$ref")
                    || out.contains_key("allOf")
                    || out.contains_key("oneOf")
                    || out.contains_key("anyOf")
                {
                    let inner = Value::Object(out.clone());
                    let mut wrapper = Map::new();
                    wrapper.insert(
                        "anyOf".into(),
                        Value::Array(vec![inner, serde_json::json!({"type": "null"})]),
                    );
                    return Value::Object(wrapper);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(as_json_schema).collect()),
        other => other.clone(),
    }
}

fn examples(spec: &Spec, problems: &mut Vec<Problem>) {
    let document = as_json_schema(&spec.raw);
    for (schema_at, example_at, value) in collect_examples(&spec.raw) {
        let mut root = document.clone();
        if let Value::Object(map) = &mut root {
            map.insert(
                "$ref".into(),
                Value::String(format!("#{}", uri_fragment(&schema_at))),
            );
        }
        let validator = match jsonschema::draft4::new(&root) {
            Ok(v) => v,
            Err(e) => {
                problems.push(problem(
                    spec,
                    &schema_at,
                    "example-schema",
                    format!("the schema cannot be compiled: {e}"),
                    "fix the schema",
                ));
                continue;
            }
        };
        let value = resolve_example(&spec.raw, &value);
        for error in validator.iter_errors(&value) {
            problems.push(problem(
                spec,
                &example_at,
                "example-valid",
                format!(
                    "example does not match its schema at `{}`: {error}",
                    error.instance_path()
                ),
                "correct the example or the schema",
            ));
        }
    }
}

/// A JSON pointer as a URI fragment: `{id}` → `%7Bid%7D`.
fn uri_fragment(pointer: &str) -> String {
    pointer
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `examples` entries may be `$ref`s to `components/examples`.
fn resolve_example(root: &Value, example: &Value) -> Value {
    match example.get("$ref").and_then(Value::as_str) {
        Some(r) => root
            .pointer(r.trim_start_matches('#'))
            .and_then(|e| e.get("value"))
            .cloned()
            .unwrap_or(Value::Null),
        None => example.clone(),
    }
}

/// (schema pointer, example pointer, example value) for every example in the document.
fn collect_examples(root: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    walk_objects(root, &["example"], &mut |at, map, key| {
        // A property named `example` is a schema, not an example.
        if key == Some("properties") {
            return;
        }
        let has_schema = map.contains_key("schema");
        let schema_like = has_schema
            || ["type", "$ref", "oneOf", "allOf", "anyOf", "properties"]
                .iter()
                .any(|k| map.contains_key(*k));
        if !schema_like {
            return;
        }
        let schema_at = if has_schema {
            format!("{at}/schema")
        } else {
            at.to_string()
        };
        if let Some(example) = map.get("example") {
            out.push((schema_at.clone(), format!("{at}/example"), example.clone()));
        }
        if let (true, Some(Value::Object(examples))) = (has_schema, map.get("examples")) {
            for (name, ex) in examples {
                let value = if ex.get("$ref").is_some() {
                    ex.clone()
                } else {
                    ex.get("value").cloned().unwrap_or(Value::Null)
                };
                out.push((
                    schema_at.clone(),
                    format!("{at}/examples/{}/value", escape_segment(name)),
                    value,
                ));
            }
        }
    });
    out
}

// ---------------------------------------------------------------------------------------------
// House rules

fn operations(spec: &Spec, problems: &mut Vec<Problem>) {
    let declared: BTreeSet<&str> = spec
        .raw
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let Some(paths) = spec.raw.get("paths").and_then(Value::as_object) else {
        return;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = pointer(["paths", path, method]);
            for field in ["operationId", "summary", "description"] {
                if op
                    .get(field)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.trim().is_empty())
                {
                    problems.push(problem(
                        spec,
                        &at,
                        "operation-fields",
                        format!("{} {path} has no {field}", method.to_uppercase()),
                        "add it",
                    ));
                }
            }
            match op.get("tags").and_then(Value::as_array) {
                Some(tags) if !tags.is_empty() => {
                    for tag in tags.iter().filter_map(Value::as_str) {
                        if !declared.contains(tag) {
                            problems.push(problem(
                                spec,
                                format!("{at}/tags"),
                                "tag-declared",
                                format!("tag `{tag}` is not declared in the top-level `tags`"),
                                "declare it with a description",
                            ));
                        }
                    }
                }
                _ => problems.push(problem(
                    spec,
                    &at,
                    "operation-fields",
                    format!("{} {path} has no tag", method.to_uppercase()),
                    "add one tag",
                )),
            }
            let has_error = op
                .get("responses")
                .and_then(Value::as_object)
                .is_some_and(|r| {
                    r.keys()
                        .any(|code| code.starts_with('4') || code.starts_with('5'))
                });
            if !has_error {
                problems.push(problem(
                    spec,
                    format!("{at}/responses"),
                    "error-response",
                    format!(
                        "{} {path} documents no error response",
                        method.to_uppercase()
                    ),
                    "document the 4xx/5xx the server sends",
                ));
            }
        }
    }
}

fn property_descriptions(spec: &Spec, problems: &mut Vec<Problem>) {
    walk_objects(&spec.raw, &["example", "examples"], &mut |at, map, _| {
        let Some(Value::Object(props)) = map.get("properties") else {
            return;
        };
        for (name, prop) in props {
            // A bare `$ref` cannot carry a description in 3.0; the target's counts.
            let target = match prop.get("$ref").and_then(Value::as_str) {
                Some(r) => spec.raw.pointer(r.trim_start_matches('#')).unwrap_or(prop),
                None => prop,
            };
            let described = target
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if !described {
                problems.push(problem(
                    spec,
                    format!("{at}/properties/{}", escape_segment(name)),
                    "property-description",
                    format!("property `{name}` has no description"),
                    "describe it (wrap a $ref in allOf to describe it)",
                ));
            }
        }
    });
}

fn servers_and_security(spec: &Spec, problems: &mut Vec<Problem>) {
    if spec
        .raw
        .get("servers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        problems.push(problem(
            spec,
            "/servers",
            "servers",
            "no servers declared",
            "declare the server URL, with variables for the host",
        ));
    }
    let schemes = spec
        .raw
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    if schemes.is_none_or(Map::is_empty) {
        problems.push(problem(
            spec,
            "/components/securitySchemes",
            "security",
            "no security schemes declared",
            "declare how the API authenticates",
        ));
    }
    let global = spec.raw.get("security").is_some();
    if !global {
        let Some(paths) = spec.raw.get("paths").and_then(Value::as_object) else {
            return;
        };
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    if op.get("security").is_none() {
                        problems.push(problem(
                            spec,
                            pointer(["paths", path, method]),
                            "security",
                            "no security requirement (and no top-level `security`)",
                            "say which scheme applies, or `security: []`",
                        ));
                    }
                }
            }
        }
    }
}

fn unused_components(spec: &Spec, problems: &mut Vec<Problem>) {
    let mut refs = BTreeSet::new();
    collect_refs(&spec.raw, &mut refs);
    // Security schemes are referenced by name from `security` requirements.
    let mut scheme_uses = BTreeSet::new();
    let mut requirement_lists: Vec<&Value> = spec.raw.get("security").into_iter().collect();
    if let Some(paths) = spec.raw.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for method in METHODS {
                if let Some(sec) = item.get(method).and_then(|op| op.get("security")) {
                    requirement_lists.push(sec);
                }
            }
        }
    }
    for list in requirement_lists {
        for requirement in list.as_array().into_iter().flatten() {
            if let Some(map) = requirement.as_object() {
                scheme_uses.extend(map.keys().cloned());
            }
        }
    }
    let Some(components) = spec.raw.get("components").and_then(Value::as_object) else {
        return;
    };
    for (section, entries) in components {
        let Some(entries) = entries.as_object() else {
            continue;
        };
        for name in entries.keys() {
            let used = if section == "securitySchemes" {
                scheme_uses.contains(name)
            } else {
                refs.contains(&format!("#/components/{section}/{}", escape_segment(name)))
            };
            if !used {
                problems.push(problem(
                    spec,
                    pointer(["components", section, name]),
                    "unused-component",
                    format!("`{name}` is never used"),
                    "use it or remove it",
                ));
            }
        }
    }
}

fn collect_refs(node: &Value, out: &mut BTreeSet<String>) {
    walk_objects(node, &[], &mut |_, map, _| {
        if let Some(Value::String(r)) = map.get("$ref") {
            out.insert(r.clone());
        }
    });
}
