//! Breaking-change classification between two versions of a spec, for `cargo xtask diff`.
//!
//! Direction matters: a request narrowed (new required parameter, smaller range, fewer enum
//! values) breaks callers; a response narrowed (field removed, field no longer required, new
//! enum value a closed client enum cannot read, newly nullable) breaks readers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::problem::pointer;
use crate::spec::METHODS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    Breaking,
    Compatible,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub impact: Impact,
    pub at: String,
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.impact {
            Impact::Breaking => "BREAKING",
            Impact::Compatible => "compatible",
        };
        write!(f, "{tag:<10} {}: {}", self.at, self.what)
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub changes: Vec<Change>,
}

impl Report {
    pub fn breaking(&self) -> bool {
        self.changes.iter().any(|c| c.impact == Impact::Breaking)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Unchanged,
    Compatible,
    BreakingWithMajorBump,
    BreakingWithoutMajorBump,
}

impl Verdict {
    pub fn blocks(self) -> bool {
        self == Verdict::BreakingWithoutMajorBump
    }

    pub fn summary(self) -> &'static str {
        match self {
            Verdict::Unchanged => "no API changes",
            Verdict::Compatible => "compatible changes",
            Verdict::BreakingWithMajorBump => "breaking changes, major version bumped",
            Verdict::BreakingWithoutMajorBump => "BREAKING changes without a major version bump",
        }
    }
}

pub fn verdict(report: &Report, old_version: &str, new_version: &str) -> Verdict {
    if report.changes.is_empty() {
        Verdict::Unchanged
    } else if !report.breaking() {
        Verdict::Compatible
    } else if major(new_version) > major(old_version) {
        Verdict::BreakingWithMajorBump
    } else {
        Verdict::BreakingWithoutMajorBump
    }
}

fn major(version: &str) -> u64 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

struct Ctx<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    changes: Vec<Change>,
}

impl Ctx<'_> {
    fn push(&mut self, impact: Impact, at: &str, what: impl Into<String>) {
        self.changes.push(Change {
            impact,
            at: at.to_string(),
            what: what.into(),
        });
    }
}

/// Compares two spec documents.
pub fn compare(old: &Value, new: &Value) -> Report {
    let mut ctx = Ctx {
        old_root: old,
        new_root: new,
        changes: Vec::new(),
    };
    let old_ops = operations(old);
    let new_ops = operations(new);
    for (key, (at, old_op)) in &old_ops {
        let id = old_op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("?");
        match new_ops.get(key) {
            None => ctx.push(
                Impact::Breaking,
                at,
                format!("operation `{id}` ({} {}) removed", key.0, key.1),
            ),
            Some((_, new_op)) => compare_operation(&mut ctx, at, old_op, new_op),
        }
    }
    for (key, (at, op)) in &new_ops {
        if !old_ops.contains_key(key) {
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("?");
            ctx.push(
                Impact::Compatible,
                at,
                format!("operation `{id}` ({} {}) added", key.0, key.1),
            );
        }
    }
    if security_schemes(old) != security_schemes(new) {
        ctx.push(
            Impact::Breaking,
            "/components/securitySchemes",
            "security schemes changed",
        );
    }
    Report {
        changes: ctx.changes,
    }
}

type Operations<'a> = BTreeMap<(String, String), (String, &'a Value)>;

fn operations(doc: &Value) -> Operations<'_> {
    let mut out = BTreeMap::new();
    let global = doc.get("security");
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let _ = global;
                out.insert(
                    (method.to_uppercase(), path.clone()),
                    (pointer(["paths", path, method]), op),
                );
            }
        }
    }
    out
}

fn security_schemes(doc: &Value) -> Option<&Value> {
    doc.pointer("/components/securitySchemes")
}

fn effective_security(doc: &Value, op: &Value) -> BTreeSet<Vec<String>> {
    let list = op.get("security").or_else(|| doc.get("security"));
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|req| {
            let mut names: Vec<String> = req.keys().cloned().collect();
            names.sort();
            names
        })
        .collect()
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut current = node;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) => match root.pointer(r.trim_start_matches('#')) {
                Some(target) => current = target,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

fn compare_operation(ctx: &mut Ctx<'_>, at: &str, old: &Value, new: &Value) {
    if effective_security(ctx.old_root, old) != effective_security(ctx.new_root, new) {
        ctx.push(Impact::Breaking, at, "authentication requirement changed");
    }

    // Parameters, keyed by (in, name).
    let params = |root: &Value, op: &Value| -> BTreeMap<(String, String), Value> {
        op.get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| resolve(root, p).clone())
            .filter_map(|p| {
                let key = (
                    p.get("in")?.as_str()?.to_string(),
                    p.get("name")?.as_str()?.to_string(),
                );
                Some((key, p))
            })
            .collect()
    };
    let old_params = params(ctx.old_root, old);
    let new_params = params(ctx.new_root, new);
    for (key, old_p) in &old_params {
        let here = format!("{at}/parameters/{}:{}", key.0, key.1);
        match new_params.get(key) {
            None => ctx.push(
                Impact::Breaking,
                &here,
                format!("{} parameter `{}` removed", key.0, key.1),
            ),
            Some(new_p) => {
                let was = old_p.get("required") == Some(&Value::Bool(true));
                let now = new_p.get("required") == Some(&Value::Bool(true));
                if !was && now {
                    ctx.push(
                        Impact::Breaking,
                        &here,
                        format!("{} parameter `{}` became required", key.0, key.1),
                    );
                }
                if let (Some(o), Some(n)) = (old_p.get("schema"), new_p.get("schema")) {
                    compare_schema(ctx, &format!("{here}/schema"), o, n, Direction::Request, 0);
                }
            }
        }
    }
    for (key, new_p) in &new_params {
        if !old_params.contains_key(key) {
            let here = format!("{at}/parameters/{}:{}", key.0, key.1);
            if new_p.get("required") == Some(&Value::Bool(true)) {
                ctx.push(
                    Impact::Breaking,
                    &here,
                    format!("new required {} parameter `{}`", key.0, key.1),
                );
            } else {
                ctx.push(
                    Impact::Compatible,
                    &here,
                    format!("new optional {} parameter `{}`", key.0, key.1),
                );
            }
        }
    }

    // Request body.
    let body =
        |root: &'_ Value, op: &'_ Value| op.get("requestBody").map(|b| resolve(root, b).clone());
    match (body(ctx.old_root, old), body(ctx.new_root, new)) {
        (None, Some(b)) if b.get("required") == Some(&Value::Bool(true)) => ctx.push(
            Impact::Breaking,
            &format!("{at}/requestBody"),
            "new required request body",
        ),
        (Some(_), None) => ctx.push(
            Impact::Breaking,
            &format!("{at}/requestBody"),
            "request body removed",
        ),
        (Some(o), Some(n)) => {
            for (media, o_mt) in o
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                match n.pointer(&format!(
                    "/content/{}",
                    media.replace('~', "~0").replace('/', "~1")
                )) {
                    None => ctx.push(
                        Impact::Breaking,
                        &format!("{at}/requestBody"),
                        format!("request media type {media} removed"),
                    ),
                    Some(n_mt) => {
                        if let (Some(os), Some(ns)) = (o_mt.get("schema"), n_mt.get("schema")) {
                            compare_schema(
                                ctx,
                                &format!("{at}/requestBody/{media}"),
                                os,
                                ns,
                                Direction::Request,
                                0,
                            );
                        }
                    }
                }
            }
        }
        _ => {}
    }

    // Responses.
    let responses = |op: &Value| {
        op.get("responses")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let old_r = responses(old);
    let new_r = responses(new);
    for (code, o) in &old_r {
        let here = format!("{at}/responses/{code}");
        match new_r.get(code) {
            None if code.starts_with('2') => ctx.push(
                Impact::Breaking,
                &here,
                format!("success response {code} removed"),
            ),
            None => ctx.push(
                Impact::Compatible,
                &here,
                format!("response {code} no longer documented"),
            ),
            Some(n) => {
                let o = resolve(ctx.old_root, o).clone();
                let n = resolve(ctx.new_root, n).clone();
                if let (Some(os), Some(ns)) = (
                    o.pointer("/content/application~1json/schema"),
                    n.pointer("/content/application~1json/schema"),
                ) {
                    compare_schema(ctx, &here, os, ns, Direction::Response, 0);
                }
            }
        }
    }
    for code in new_r.keys() {
        if !old_r.contains_key(code) {
            ctx.push(
                Impact::Compatible,
                &format!("{at}/responses/{code}"),
                format!("response {code} documented"),
            );
        }
    }
}

fn type_of(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

fn compare_schema(
    ctx: &mut Ctx<'_>,
    at: &str,
    old: &Value,
    new: &Value,
    dir: Direction,
    depth: usize,
) {
    if depth > 12 {
        return;
    }
    let old = resolve(ctx.old_root, old).clone();
    let new = resolve(ctx.new_root, new).clone();
    if old == new {
        return;
    }
    let narrow = |request: bool| {
        if request == (dir == Direction::Request) {
            Impact::Breaking
        } else {
            Impact::Compatible
        }
    };

    if type_of(&old) != type_of(&new) {
        ctx.push(
            Impact::Breaking,
            at,
            format!(
                "type changed from {} to {}",
                type_of(&old).unwrap_or("any"),
                type_of(&new).unwrap_or("any")
            ),
        );
        return;
    }
    // Enums.
    let values = |s: &Value| -> Option<BTreeSet<String>> {
        s.get("enum")
            .and_then(Value::as_array)
            .map(|v| v.iter().map(Value::to_string).collect())
    };
    match (values(&old), values(&new)) {
        (Some(o), Some(n)) => {
            let removed: Vec<_> = o.difference(&n).cloned().collect();
            let added: Vec<_> = n.difference(&o).cloned().collect();
            if !removed.is_empty() {
                ctx.push(
                    narrow(true),
                    at,
                    format!("enum values removed: {}", removed.join(", ")),
                );
            }
            if !added.is_empty() {
                ctx.push(
                    narrow(false),
                    at,
                    format!("enum values added: {}", added.join(", ")),
                );
            }
        }
        (None, Some(_)) => ctx.push(narrow(true), at, "values restricted to an enum"),
        (Some(_), None) => ctx.push(narrow(false), at, "enum restriction lifted"),
        (None, None) => {}
    }
    // Nullability.
    let nullable = |s: &Value| s.get("nullable") == Some(&Value::Bool(true));
    if nullable(&old) && !nullable(&new) {
        ctx.push(narrow(true), at, "no longer nullable");
    } else if !nullable(&old) && nullable(&new) {
        ctx.push(narrow(false), at, "became nullable");
    }
    // Bounds.
    for (key, tighter_is_greater) in [
        ("minimum", true),
        ("maximum", false),
        ("minLength", true),
        ("maxLength", false),
        ("minItems", true),
        ("maxItems", false),
    ] {
        let o = old.get(key).and_then(Value::as_f64);
        let n = new.get(key).and_then(Value::as_f64);
        let tighter = match (o, n) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => {
                if tighter_is_greater {
                    b > a
                } else {
                    b < a
                }
            }
            _ => false,
        };
        let looser = match (o, n) {
            (Some(_), None) => true,
            (Some(a), Some(b)) => {
                if tighter_is_greater {
                    b < a
                } else {
                    b > a
                }
            }
            _ => false,
        };
        if tighter {
            ctx.push(
                narrow(true),
                at,
                format!("`{key}` narrowed ({} → {})", fmt_num(o), fmt_num(n)),
            );
        } else if looser {
            ctx.push(
                narrow(false),
                at,
                format!("`{key}` widened ({} → {})", fmt_num(o), fmt_num(n)),
            );
        }
    }
    // Object properties.
    let props = |s: &Value| {
        s.get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let required = |s: &Value| -> BTreeSet<String> {
        s.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (op, np) = (props(&old), props(&new));
    let (or, nr) = (required(&old), required(&new));
    for (name, o) in &op {
        let here = format!("{at}/{name}");
        match np.get(name) {
            None if dir == Direction::Response => ctx.push(
                Impact::Breaking,
                &here,
                format!("response field `{name}` removed"),
            ),
            None => ctx.push(
                Impact::Breaking,
                &here,
                format!("request field `{name}` removed"),
            ),
            Some(n) => compare_schema(ctx, &here, o, n, dir, depth + 1),
        }
    }
    for name in np.keys() {
        if !op.contains_key(name) {
            let here = format!("{at}/{name}");
            if dir == Direction::Request && nr.contains(name) {
                ctx.push(
                    Impact::Breaking,
                    &here,
                    format!("new required request field `{name}`"),
                );
            } else {
                ctx.push(Impact::Compatible, &here, format!("field `{name}` added"));
            }
        }
    }
    for name in nr.difference(&or) {
        if op.contains_key(name) && dir == Direction::Request {
            ctx.push(
                Impact::Breaking,
                &format!("{at}/{name}"),
                format!("request field `{name}` became required"),
            );
        }
    }
    for name in or.difference(&nr) {
        if np.contains_key(name) && dir == Direction::Response {
            ctx.push(
                Impact::Breaking,
                &format!("{at}/{name}"),
                format!("response field `{name}` is no longer always sent"),
            );
        }
    }
    // Arrays.
    if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
        compare_schema(ctx, &format!("{at}/items"), o, n, dir, depth + 1);
    }
    // Compositions: compare member by member when the counts agree.
    for key in ["oneOf", "anyOf", "allOf"] {
        match (
            old.get(key).and_then(Value::as_array),
            new.get(key).and_then(Value::as_array),
        ) {
            (Some(o), Some(n)) if o.len() == n.len() => {
                for (i, (a, b)) in o.iter().zip(n).enumerate() {
                    compare_schema(ctx, &format!("{at}/{key}/{i}"), a, b, dir, depth + 1);
                }
            }
            (Some(o), Some(n)) => {
                let impact = if key == "allOf" {
                    Impact::Breaking
                } else {
                    narrow(n.len() < o.len())
                };
                ctx.push(
                    impact,
                    at,
                    format!("`{key}` went from {} to {} alternatives", o.len(), n.len()),
                );
            }
            (None, None) => {}
            _ => ctx.push(Impact::Breaking, at, format!("`{key}` composition changed")),
        }
    }
}

fn fmt_num(v: Option<f64>) -> String {
    v.map_or("none".to_string(), |v| v.to_string())
}
