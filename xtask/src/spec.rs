//! Loading a spec: YAML → JSON value → structural checks → `openapiv3::OpenAPI`.
//!
//! Every failure becomes a [`Problem`] naming the file and a JSON pointer (or the YAML line), so
//! that a broken spec gives one clear line per problem and never a panic.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::problem::{pointer, Problem};

/// A spec that parsed and passed the structural checks.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Path as shown to people, relative to the workspace root (`specs/monarc-stats.yaml`).
    pub file: String,
    /// File stem, which is also the crate directory name (`monarc-stats`).
    pub name: String,
    /// Hex SHA-256 of the file's bytes, written into generated headers.
    pub sha256: String,
    /// The document as plain JSON, for checks that the typed model cannot express.
    pub raw: Value,
    /// The typed document.
    pub openapi: openapiv3::OpenAPI,
}

/// Reads and checks one spec file. `display` is the path used in messages.
pub fn load(path: &Path, display: &str) -> Result<Spec, Vec<Problem>> {
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Problem::new(
            display,
            "",
            format!("cannot read the file: {e}"),
            "check the path",
        )]
    })?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    parse(&bytes, display, &name)
}

/// Parses spec bytes (the testable core of [`load`]).
pub fn parse(bytes: &[u8], file: &str, name: &str) -> Result<Spec, Vec<Problem>> {
    let sha256 = hex(&Sha256::digest(bytes));
    let text = std::str::from_utf8(bytes).map_err(|e| {
        vec![Problem::new(
            file,
            "",
            format!("not UTF-8: {e}"),
            "save the file as UTF-8",
        )]
    })?;
    let raw: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        vec![Problem::new(
            file,
            "",
            format!("invalid YAML{at}: {e}"),
            "fix the YAML syntax",
        )]
    })?;

    let mut problems = Vec::new();
    check_version(&raw, file, &mut problems);
    if !problems.is_empty() {
        // Nothing else is meaningful for a document of another version.
        return Err(problems);
    }
    check_refs(&raw, file, &mut problems);
    check_operation_ids(&raw, file, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }

    let openapi: openapiv3::OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let ptr = path_to_pointer(e.path());
        vec![Problem::new(
            file,
            ptr,
            format!("not a valid OpenAPI 3.0 document here: {}", e.inner()),
            "compare this node with the OpenAPI 3.0.3 specification",
        )]
    })?;

    Ok(Spec {
        file: file.to_string(),
        name: name.to_string(),
        sha256,
        raw,
        openapi,
    })
}

fn check_version(raw: &Value, file: &str, problems: &mut Vec<Problem>) {
    match raw.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        Some(v) => problems.push(Problem::new(
            file,
            "/openapi",
            format!("OpenAPI {v} is not supported"),
            "write the spec as OpenAPI 3.0.3 (progenitor reads 3.0.x only)",
        )),
        None => problems.push(Problem::new(
            file,
            "/openapi",
            "missing `openapi` version field",
            "start the document with `openapi: 3.0.3`",
        )),
    }
}

/// Every `$ref` must be local (`#/...`) and must resolve.
fn check_refs(root: &Value, file: &str, problems: &mut Vec<Problem>) {
    crate::problem::walk_objects(root, &[], &mut |at, map, _| {
        let Some(Value::String(target)) = map.get("$ref") else {
            return;
        };
        match target.strip_prefix('#') {
            Some(local) if root.pointer(local).is_some() => {}
            Some(_) => problems.push(Problem::new(
                file,
                format!("{at}/$ref"),
                format!("dangling $ref `{target}`: nothing at that pointer"),
                "point the $ref at an existing component or add the component",
            )),
            None => problems.push(Problem::new(
                file,
                format!("{at}/$ref"),
                format!("external $ref `{target}` is not supported"),
                "inline the referenced document into this spec's components",
            )),
        }
    });
}

/// The HTTP methods an OpenAPI 3.0 path item may hold, in document order.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn check_operation_ids(raw: &Value, file: &str, problems: &mut Vec<Problem>) {
    let Some(paths) = raw.get("paths").and_then(Value::as_object) else {
        problems.push(Problem::new(
            file,
            "/paths",
            "missing `paths`",
            "add a `paths:` object",
        ));
        return;
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (path, item) in paths {
        if item.get("$ref").is_some() {
            problems.push(Problem::new(
                file,
                pointer(["paths", path]),
                "a path item `$ref` is not supported by the generator",
                "write the path item inline",
            ));
            continue;
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = pointer(["paths", path, method]);
            match op.get("operationId").and_then(Value::as_str) {
                None => problems.push(Problem::new(
                    file,
                    at,
                    format!("{} {path} has no operationId", method.to_uppercase()),
                    "add a unique snake_case `operationId`",
                )),
                Some(id) => {
                    if let Some(first) = seen.get(id) {
                        problems.push(Problem::new(
                            file,
                            format!("{at}/operationId"),
                            format!("duplicate operationId `{id}` (first used at {first})"),
                            "give every operation its own operationId",
                        ));
                    } else {
                        seen.insert(id.to_string(), at);
                    }
                }
            }
        }
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&crate::problem::escape_segment(key));
            }
            Segment::Enum { variant } => {
                out.push('/');
                out.push_str(variant);
            }
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(yaml: &str) -> Vec<String> {
        parse(yaml.as_bytes(), "specs/t.yaml", "t")
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const MINIMAL: &str = "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths: {}\n";

    #[test]
    fn minimal_spec_loads_and_is_hashed() {
        let spec = parse(MINIMAL.as_bytes(), "specs/t.yaml", "t").unwrap();
        assert_eq!(spec.sha256.len(), 64);
        assert_eq!(spec.openapi.info.title, "t");
    }

    #[test]
    fn invalid_yaml_names_the_line() {
        let e = errors("openapi: 3.0.3\ninfo: [unclosed\n");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("specs/t.yaml#: invalid YAML at line "),
            "{e:?}"
        );
    }

    #[test]
    fn openapi_31_is_rejected() {
        let e = errors("openapi: 3.1.0\ninfo: {title: t, version: 1.0.0}\npaths: {}\n");
        assert_eq!(
            e,
            ["specs/t.yaml#/openapi: OpenAPI 3.1.0 is not supported (fix: write the spec as OpenAPI 3.0.3 (progenitor reads 3.0.x only))"]
        );
    }

    #[test]
    fn dangling_and_external_refs_are_reported() {
        let e = errors(
            "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200': {$ref: '#/components/responses/Nope'}\n        '404': {$ref: 'other.yaml#/x'}\n",
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains(
            "#/paths/~1a/get/responses/200/$ref: dangling $ref `#/components/responses/Nope`"
        ));
        assert!(e[1].contains("external $ref `other.yaml#/x`"));
    }

    #[test]
    fn missing_and_duplicate_operation_ids_are_reported() {
        let e = errors(
            "openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths:\n  /a:\n    get: {operationId: x, responses: {'200': {description: ok}}}\n    post: {responses: {'200': {description: ok}}}\n  /b:\n    get: {operationId: x, responses: {'200': {description: ok}}}\n",
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("#/paths/~1a/post: POST /a has no operationId"));
        assert!(e[1].contains(
            "#/paths/~1b/get/operationId: duplicate operationId `x` (first used at /paths/~1a/get)"
        ));
    }

    #[test]
    fn structural_errors_carry_a_pointer() {
        let e = errors("openapi: 3.0.3\ninfo: {title: t, version: {major: 1}}\npaths: {}\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("specs/t.yaml#/info/version: not a valid OpenAPI 3.0 document here: invalid type: map"), "{e:?}");
        // Inside `paths` the typed model flattens extensions, so the pointer stops at `/paths`.
        let e = errors("openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths:\n  /a:\n    get: {operationId: a, responses: {'200': {description: 5, content: 7}}}\n");
        assert!(
            e[0].starts_with("specs/t.yaml#/paths: not a valid OpenAPI 3.0 document here"),
            "{e:?}"
        );
    }
}
