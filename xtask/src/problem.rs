//! One problem found in a spec, reported as `file#pointer: what — what to do`.

use std::fmt;

/// A problem that stops generation. Every problem names the spec file and a JSON pointer into it,
/// so that the author can jump to the spot; `hint` says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub pointer: String,
    pub message: String,
    pub hint: String,
}

impl Problem {
    pub fn new(
        file: impl Into<String>,
        pointer: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Problem {
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.file, self.pointer, self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (fix: {})", self.hint)?;
        }
        Ok(())
    }
}

/// Escapes one JSON-pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`.
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from raw segments.
pub fn pointer<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    segments
        .into_iter()
        .map(|s| format!("/{}", escape_segment(s)))
        .collect()
}

/// Calls `visit(pointer, object, key it sits under)` for every JSON object in `node`, depth
/// first. Subtrees under a key in `skip` (e.g. `example` values, which are data, not spec) are not
/// entered.
pub fn walk_objects<'a>(
    node: &'a serde_json::Value,
    skip: &[&str],
    visit: &mut impl FnMut(&str, &'a serde_json::Map<String, serde_json::Value>, Option<&str>),
) {
    fn go<'a>(
        node: &'a serde_json::Value,
        at: &mut String,
        key: Option<&str>,
        skip: &[&str],
        visit: &mut impl FnMut(&str, &'a serde_json::Map<String, serde_json::Value>, Option<&str>),
    ) {
        match node {
            serde_json::Value::Object(map) => {
                visit(at, map, key);
                for (k, child) in map {
                    if skip.contains(&k.as_str()) {
                        continue;
                    }
                    let len = at.len();
                    at.push('/');
                    at.push_str(&escape_segment(k));
                    go(child, at, Some(k), skip, visit);
                    at.truncate(len);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    go(child, at, None, skip, visit);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    go(node, &mut String::new(), None, skip, visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_slashes_and_tildes() {
        assert_eq!(
            pointer(["paths", "/stats/{id}/", "get"]),
            "/paths/~1stats~1{id}~1/get"
        );
        assert_eq!(escape_segment("a~b"), "a~0b");
    }

    #[test]
    fn display_names_file_pointer_and_fix() {
        let p = Problem::new(
            "specs/x.yaml",
            "/openapi",
            "OpenAPI 3.1.0 is not supported",
            "write 3.0.3",
        );
        assert_eq!(
            p.to_string(),
            "specs/x.yaml#/openapi: OpenAPI 3.1.0 is not supported (fix: write 3.0.3)"
        );
    }
}
