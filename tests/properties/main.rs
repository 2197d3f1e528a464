//! Property tests: decoders never panic on arbitrary or mutated bytes, response models survive a
//! JSON round trip, and the error helpers accept any input.
//!
//! The MONARC stats specific properties live here; every generated crate has its own module that
//! covers all of its response models (see [`Api`]).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use analytics_auth::{message_of, retry_after};
use proptest::prelude::*;
use proptest::sample::Index;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

/// A response model: the name of the type as written in `generated.rs` (`types::Query`,
/// `Vec<types::Robot>`) and its decoders. Built with [`model!`].
#[derive(Debug, Clone, Copy)]
struct Model {
    name: &'static str,
    /// Decodes bytes the way the client does (`serde_json::from_slice`); errors are fine.
    decode: fn(&[u8]),
    /// Decodes a documented example and checks the JSON round trip, see [`roundtrip`].
    roundtrip: fn(&Value) -> Result<(), String>,
}

macro_rules! model {
    ($t:ty) => {
        $crate::Model {
            name: stringify!($t),
            decode: $crate::decode::<$t>,
            roundtrip: $crate::roundtrip::<$t>,
        }
    };
}

/// The tests every API module runs against its `API` tables: completeness, documented examples,
/// and arbitrary, JSON and mutated bytes into every decoder.
macro_rules! api_properties {
    () => {
        #[test]
        fn every_response_model_is_covered() {
            API.check_completeness();
        }

        #[test]
        fn operations_are_in_lookup_order() {
            crate::check_lookup_order(&API_DESCRIPTION);
        }

        #[test]
        fn documented_examples_decode_and_round_trip() {
            API.check_examples();
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn decoders_accept_arbitrary_bytes(bytes in any_bytes()) {
                API.decode_all(&bytes);
            }

            #[test]
            fn decoders_accept_arbitrary_json(value in any_json()) {
                API.decode_all(value.to_string().as_bytes());
            }

            #[test]
            fn decoders_accept_mutated_examples((seed, muts) in mutations()) {
                API.decode_mutated(seed, &muts);
            }
        }
    };
}

/// The generated table is sorted the way `ApiDescription::operation` searches it, and every
/// operation is found.
fn check_lookup_order(api: &analytics_auth::ApiDescription) {
    for pair in api.operations.windows(2) {
        assert_eq!(
            analytics_auth::operation_order(pair[0].id, pair[1].id),
            std::cmp::Ordering::Less,
            "{}: {} before {}",
            api.title,
            pair[0].id,
            pair[1].id
        );
    }
    for op in api.operations {
        assert!(
            api.operation(op.id)
                .is_some_and(|found| std::ptr::eq(found, op)),
            "{}: {}",
            api.title,
            op.id
        );
    }
    assert!(api.operation("no_such_operation").is_none());
}

mod monarc_stats;
mod scanalytics;
mod scout;
mod serenytics;
mod serenytics_data_api;
mod tonalytica;

fn decode<T: DeserializeOwned>(bytes: &[u8]) {
    let _ = serde_json::from_slice::<T>(bytes);
}

/// Decodes `example` (from its bytes, as the client does), encodes the model to a JSON value and
/// decodes that value again: both encodings must be equal (`decode(encode(decode(x))) ==
/// decode(x)` at the `Value` level; never field access, the representation of some fields may
/// change). The re-encoded bytes must decode to the same value as well.
fn roundtrip<T: DeserializeOwned + Serialize>(example: &Value) -> Result<(), String> {
    let bytes = serde_json::to_vec(example).unwrap();
    let first: T = serde_json::from_slice(&bytes).map_err(|e| format!("does not decode: {e}"))?;
    let encoded = serde_json::to_value(&first).map_err(|e| format!("does not encode: {e}"))?;
    let again: T = serde_json::from_value(encoded.clone())
        .map_err(|e| format!("its encoding {encoded} does not decode: {e}"))?;
    let reencoded = serde_json::to_value(&again).map_err(|e| format!("does not re-encode: {e}"))?;
    if reencoded != encoded {
        return Err(format!(
            "round trip changes the value: {encoded} became {reencoded}"
        ));
    }
    let from_bytes: T = serde_json::from_slice(&serde_json::to_vec(&first).unwrap())
        .map_err(|e| format!("its encoded bytes do not decode: {e}"))?;
    let from_bytes = serde_json::to_value(&from_bytes).unwrap();
    if from_bytes != encoded {
        return Err(format!(
            "byte round trip changes the value: {encoded} became {from_bytes}"
        ));
    }
    Ok(())
}

/// Settings of every property: few cases, the whole target must stay fast in debug builds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

/// Arbitrary bytes, as a server could send them.
fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        // Strings that look like the values models parse further: dates, UUIDs, numbers.
        prop_oneof![
            Just("2023-06-09T10:12:13.456Z"),
            Just("2020-05-11T21:56:49"),
            Just("2023-06-09"),
            Just("76a3999f-ab22-4008-a540-f68082f44cb2"),
            Just("1e400"),
            Just("-0"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One byte mutation: what to do, where, and the byte involved.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    Flip(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

/// A few byte mutations applied in order to one of the seeds (picked by the index).
fn mutations() -> impl Strategy<Value = (Index, Vec<Mutation>)> {
    let one = prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, bit)| Mutation::Flip(i, 1 << bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        // Bytes that change the JSON structure are the interesting insertions.
        (
            any::<Index>(),
            prop::sample::select(b"{}[]\",:-0.e\\ ".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
    ];
    (any::<Index>(), prop::collection::vec(one, 1..6))
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        match *m {
            Mutation::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), b),
            _ if bytes.is_empty() => {}
            Mutation::Flip(i, mask) => {
                let i = i.index(bytes.len());
                bytes[i] ^= mask;
            }
            Mutation::Delete(i) => {
                bytes.remove(i.index(bytes.len()));
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
        }
    }
    bytes
}

/// A documented example of a response body.
#[derive(Debug)]
struct SpecExample {
    operation: String,
    status: String,
    content_type: String,
    /// `example`, the key in `examples`, or `schema.example` for the example of the schema.
    name: String,
    value: Value,
}

/// A generated crate under test: its spec, its generated code and the hand-written tables.
#[derive(Debug)]
struct Api {
    /// File name in `specs/`.
    spec: &'static str,
    /// Text of `crates/<api>/src/generated.rs`.
    generated: &'static str,
    /// Every response model (success and error) the client decodes into.
    models: &'static [Model],
    /// (operation, status) with JSON examples in the spec → the model the client decodes into.
    examples: &'static [(&'static str, &'static str, Model)],
    /// (operation, status, example name, why it cannot decode): documented examples that do
    /// not decode into their model. The test checks they still fail.
    undecodable: &'static [(&'static str, &'static str, &'static str, &'static str)],
    /// Hand-written valid bodies (model, JSON) for models without any example in the spec.
    seeds: &'static [(Model, &'static str)],
}

impl Api {
    fn decode_all(&self, bytes: &[u8]) {
        for model in self.models {
            (model.decode)(bytes);
        }
    }

    /// The JSON response examples of the spec plus the hand-written seeds, as bytes.
    fn seed_bytes(&self) -> Vec<Vec<u8>> {
        let mut seeds: Vec<Vec<u8>> = spec_examples(self.spec)
            .iter()
            .filter(|e| is_json(&e.content_type))
            .map(|e| serde_json::to_vec(&e.value).unwrap())
            .collect();
        seeds.extend(self.seeds.iter().map(|(_, s)| s.as_bytes().to_vec()));
        seeds
    }

    fn decode_mutated(&self, seed: Index, mutations: &[Mutation]) {
        static SEEDS: Cache<Vec<u8>> = OnceLock::new();
        let seeds = cached(&SEEDS, self.spec, || self.seed_bytes());
        assert!(!seeds.is_empty(), "{}: no seeds to mutate", self.spec);
        let bytes = mutate(seeds[seed.index(seeds.len())].clone(), mutations);
        self.decode_all(&bytes);
    }

    /// Fails when a response model of `generated.rs` is missing from the tables, when a table
    /// names a type the client does not decode into, or when the example table does not match
    /// the examples of the spec.
    fn check_completeness(&self) {
        let operations = parse_generated(self.generated);
        let mut problems = Vec::new();

        let decoded: BTreeSet<String> = operations
            .values()
            .flat_map(|arms| arms.values().cloned())
            .filter(|ty| ty.contains("types::"))
            .collect();
        let covered: BTreeSet<String> = self.models.iter().map(|m| normalize(m.name)).collect();
        for missing in decoded.difference(&covered) {
            problems.push(format!("response model {missing} is missing from MODELS"));
        }
        for extra in covered.difference(&decoded) {
            problems.push(format!(
                "{extra} in MODELS is not a response model of the client"
            ));
        }

        let table: BTreeMap<(&str, &str), String> = self
            .examples
            .iter()
            .map(|(op, status, m)| ((*op, *status), normalize(m.name)))
            .collect();
        if table.len() != self.examples.len() {
            problems.push("EXAMPLES has duplicate (operation, status) entries".into());
        }
        for ((op, status), name) in &table {
            match operations.get(*op).and_then(|arms| arms.get(*status)) {
                Some(ty) if ty == name => {}
                Some(ty) => problems.push(format!(
                    "EXAMPLES maps ({op}, {status}) to {name}, the client decodes {ty}"
                )),
                None => problems.push(format!(
                    "EXAMPLES has ({op}, {status}), the client does not decode that response"
                )),
            }
        }
        let mut with_examples = BTreeSet::new();
        for e in spec_examples(self.spec) {
            let ty = operations
                .get(&e.operation)
                .and_then(|arms| arms.get(&e.status));
            if let Some(ty) = ty.filter(|ty| ty.contains("types::") && is_json(&e.content_type)) {
                with_examples.insert((e.operation.as_str(), e.status.as_str()));
                if !table.contains_key(&(e.operation.as_str(), e.status.as_str())) {
                    problems.push(format!(
                        "example {} of ({}, {}) is missing from EXAMPLES (decodes into {ty})",
                        e.name, e.operation, e.status
                    ));
                }
            }
        }
        for key in table.keys() {
            if !with_examples.contains(key) {
                problems.push(format!(
                    "EXAMPLES has {key:?}, the spec has no example for it"
                ));
            }
        }
        for (model, _) in self.seeds {
            if !covered.contains(&normalize(model.name)) {
                problems.push(format!("seed for {}, not a response model", model.name));
            }
        }
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            self.spec,
            problems.join("\n")
        );
    }

    /// Every documented example decodes into its model and survives the JSON round trip,
    /// except the listed undecodable ones, which must still fail.
    fn check_examples(&self) {
        let mut problems = Vec::new();
        let mut checked = 0;
        for e in spec_examples(self.spec) {
            let Some((_, _, model)) = self
                .examples
                .iter()
                .find(|(op, status, _)| *op == e.operation && *status == e.status)
            else {
                continue; // not decoded into a typed model (see check_completeness)
            };
            if !is_json(&e.content_type) {
                continue;
            }
            checked += 1;
            let known = self.undecodable.iter().any(|(op, status, name, _)| {
                *op == e.operation && *status == e.status && *name == e.name
            });
            match ((model.roundtrip)(&e.value), known) {
                (Ok(()), false) | (Err(_), true) => {}
                (Ok(()), true) => problems.push(format!(
                    "example {} of ({}, {}) decodes now: remove it from UNDECODABLE",
                    e.name, e.operation, e.status
                )),
                (Err(why), false) => problems.push(format!(
                    "example {} of ({}, {}) into {}: {why}",
                    e.name, e.operation, e.status, model.name
                )),
            }
        }
        for (model, seed) in self.seeds {
            checked += 1;
            if let Err(why) = (model.roundtrip)(&serde_json::from_str(seed).unwrap()) {
                problems.push(format!("seed {seed} into {}: {why}", model.name));
            }
        }
        assert!(checked > 0, "{}: no example checked", self.spec);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            self.spec,
            problems.join("\n")
        );
    }
}

fn is_json(content_type: &str) -> bool {
    content_type == "application/json" || content_type.ends_with("+json")
}

/// A type as written in `generated.rs` or by `stringify!`, without spaces and `::std::vec::`.
fn normalize(ty: &str) -> String {
    let ty: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    ty.replace("::std::vec::Vec<", "Vec<")
}

/// operation id → status → the type the client decodes that response body into, read from the
/// `send` methods of the builders in `generated.rs`.
fn parse_generated(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    // Hand-written replacements of schemas (`crate::formatted::FormattedDataResponse`) are
    // re-exported from `types` under the schema's name: read them as `types::<name>`.
    let reexports: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub use crate::"))
        .filter_map(|rest| {
            let path = rest.trim_end_matches(';');
            let name = path.rsplit("::").next()?;
            Some((format!("crate::{path}"), format!("types::{name}")))
        })
        .collect();
    let as_in_types = |ty: &str| {
        reexports
            .iter()
            .fold(ty.to_owned(), |ty, (from, to)| ty.replace(from, to))
    };
    let mut operations = BTreeMap::new();
    for send in text.split("pub async fn send(").skip(1) {
        let start = send.find("-> Result<").unwrap() + "-> Result<".len();
        let mut depth = 1;
        let end = start
            + send[start..]
                .find(|c| {
                    match c {
                        '<' => depth += 1,
                        '>' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .unwrap();
        let signature = normalize(&send[start..end]);
        let signature = signature.trim_end_matches(',');
        let mut depth = 0;
        let comma = signature
            .find(|c| {
                match c {
                    '<' => depth += 1,
                    '>' => depth -= 1,
                    _ => {}
                }
                c == ',' && depth == 0
            })
            .unwrap();
        let success = &signature[..comma];
        let error = &signature[comma + 1..];
        let success = as_in_types(&success["ResponseValue<".len()..success.len() - 1]);
        let error = as_in_types(&error["Error<".len()..error.len() - 1]);

        let id_at = send.find("operation_id: \"").unwrap() + "operation_id: \"".len();
        let id = &send[id_at..id_at + send[id_at..].find('"').unwrap()];
        let body_at = send.find("match status {").unwrap();
        let mut arms: Vec<(String, String)> = Vec::new();
        for line in send[body_at..].lines().skip(1) {
            let line = line.trim();
            if line.starts_with("_ =>") {
                break;
            }
            match line.split_once("u16 =>") {
                Some((status, rest))
                    if status.len() == 3 && status.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    arms.push((status.to_owned(), rest.to_owned()));
                }
                _ => {
                    if let Some((_, text)) = arms.last_mut() {
                        text.push_str(line);
                    }
                }
            }
        }
        let decoded = arms
            .into_iter()
            .filter(|(_, text)| {
                text.contains("analytics_auth::hooks::decode(")
                    || text.contains("analytics_auth::hooks::decode_with(")
            })
            .map(|(status, text)| {
                let ty = if text.contains("Error::ErrorResponse") {
                    &error
                } else {
                    &success
                };
                (status, ty.clone())
            })
            .collect();
        operations.insert(id.to_owned(), decoded);
    }
    assert!(!operations.is_empty(), "no operation found in generated.rs");
    operations
}

/// Values computed once per spec file for the whole test binary.
type Cache<T> = OnceLock<Mutex<HashMap<&'static str, &'static [T]>>>;

fn cached<T>(
    cache: &'static Cache<T>,
    key: &'static str,
    init: impl FnOnce() -> Vec<T>,
) -> &'static [T] {
    cache
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key)
        .or_insert_with(|| Vec::leak(init()))
}

/// The documented response examples of `specs/<file>`, read once.
fn spec_examples(file: &'static str) -> &'static [SpecExample] {
    static CACHE: Cache<SpecExample> = OnceLock::new();
    cached(&CACHE, file, || read_spec_examples(file))
}

fn read_spec_examples(file: &str) -> Vec<SpecExample> {
    let path = format!("{}/../specs/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let spec = yaml_to_json(serde_yaml_ng::from_str(&text).unwrap());
    let resolve = |v: &Value| -> Value {
        let mut v = v.clone();
        while let Some(Value::String(r)) = v.get("$ref") {
            let pointer = r.strip_prefix('#').unwrap();
            let target = spec
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{file}: dangling {r}"));
            v = target.clone();
        }
        v
    };
    let mut examples = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue; // `parameters`, `summary`, … of the path item
            };
            let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
                continue;
            };
            for (status, response) in responses {
                let response = resolve(response);
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                for (content_type, media) in content {
                    let mut found = Vec::new();
                    if let Some(v) = media.get("example") {
                        found.push(("example".to_owned(), v.clone()));
                    }
                    if let Some(named) = media.get("examples").and_then(Value::as_object) {
                        for (name, example) in named {
                            if let Some(v) = resolve(example).get("value") {
                                found.push((name.clone(), v.clone()));
                            }
                        }
                    }
                    if let Some(v) = media
                        .get("schema")
                        .map(&resolve)
                        .and_then(|s| s.get("example").cloned())
                    {
                        found.push(("schema.example".to_owned(), v));
                    }
                    examples.extend(found.into_iter().map(|(name, value)| SpecExample {
                        operation: id.to_owned(),
                        status: status.clone(),
                        content_type: content_type.clone(),
                        name,
                        value,
                    }));
                }
            }
        }
    }
    examples
}

/// YAML → JSON; mapping keys become strings (`200:` is a status, not a number).
fn yaml_to_json(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64().unwrap())
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        other => panic!("unsupported mapping key {other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn error_messages_are_found_in_any_json(value in any_json()) {
        let _ = message_of(&value);
    }

    #[test]
    fn retry_after_accepts_any_header_value(value in "[ -~]{0,40}") {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(v) = value.parse() {
            headers.insert("retry-after", v);
            let parsed = retry_after(&headers);
            if let Ok(seconds) = value.trim().parse::<u64>() {
                prop_assert_eq!(parsed, Some(std::time::Duration::from_secs(seconds)));
            }
        }
    }

    #[test]
    fn retry_waits_stay_within_the_policy(
        retry in 0u32..40,
        base_ms in 1u64..5_000,
        cap_ms in 1u64..60_000,
        server_wait in proptest::option::of(0u64..120),
        waited_ms in 0u64..120_000,
    ) {
        use std::time::Duration;
        let policy = analytics_auth::RetryPolicy::default()
            .with_max_retries(5)
            .with_base_delay(Duration::from_millis(base_ms));
        let policy = analytics_auth::RetryPolicy { max_backoff: Duration::from_millis(cap_ms), ..policy };
        // Full jitter: never above the exponential step, never above the cap.
        let step = Duration::from_millis(base_ms).saturating_mul(1 << retry.min(20));
        prop_assert!(policy.backoff(retry) <= step.min(policy.max_backoff));
        let waited = Duration::from_millis(waited_ms);
        let server_wait = server_wait.map(Duration::from_secs);
        match policy.delay(retry, server_wait, waited) {
            // Refused only past a limit: the retries, the server's wait, or the total wait, which
            // a server's wait can pass once its jitter (up to 10 %, at least 100 ms) is added.
            None => {
                let jittered_past_total = server_wait.is_some_and(|w| {
                    waited + w + (w / 10).max(Duration::from_millis(100)) > policy.total_wait
                });
                prop_assert!(
                    retry >= policy.max_retries
                        || server_wait.is_some_and(|w| w > policy.max_retry_after)
                        || jittered_past_total
                        || server_wait.is_none()
                )
            }
            Some(delay) => {
                prop_assert!(retry < policy.max_retries);
                prop_assert!(waited + delay <= policy.total_wait);
                if let Some(wait) = server_wait {
                    // A server's wait is honoured, never shortened, and jittered by at most 10 %
                    // (at least 100 ms).
                    prop_assert!(delay >= wait);
                    prop_assert!(delay <= wait + (wait / 10).max(Duration::from_millis(100)));
                }
            }
        }
    }

    #[test]
    fn byte_mutations_stay_in_bounds(bytes in any_bytes(), (_, muts) in mutations()) {
        let len = bytes.len();
        let inserted = muts.iter().filter(|m| matches!(m, Mutation::Insert(..))).count();
        prop_assert!(mutate(bytes, &muts).len() <= len + inserted);
    }
}
