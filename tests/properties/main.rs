//! Property tests: decoders never panic on arbitrary or mutated bytes, response models survive a
//! JSON round trip, and the error helpers accept any input.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use analytics_auth::{message_of, retry_after};
use monarc_stats::types;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid MONARC stats object with arbitrary field values.
fn stats() -> impl Strategy<Value = Value> {
    (
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        "[a-z]{1,20}",
        "[A-Z]{1,10}",
        "[0-9a-f]{24}",
        any_json(),
        any::<bool>(),
    )
        .prop_map(|(day, week, month, year, kind, org, id, data, fraction)| {
            let ts = if fraction {
                "2020-05-11T21:56:49.584000"
            } else {
                "2020-05-11T21:56:49"
            };
            json!({
                "uuid": "76a3999f-ab22-4008-a540-f68082f44cb2", "organization": org,
                "anr": "00000000-0000-4000-8000-000000000002", "type": kind,
                "day": day, "week": week, "month": month, "year": year, "data": data,
                "created_at": ts, "updated_at": ts, "id": id
            })
        })
}

/// Decodes `bytes` as every MONARC response model; only errors are allowed, never a panic.
fn decode_all(bytes: &[u8]) {
    let _ = serde_json::from_slice::<types::Stats>(bytes);
    let _ = serde_json::from_slice::<types::StatsList>(bytes);
    let _ = serde_json::from_slice::<types::Organization>(bytes);
    let _ = serde_json::from_slice::<types::OrganizationList>(bytes);
    let _ = serde_json::from_slice::<types::Error>(bytes);
    let _ = serde_json::from_slice::<types::FieldErrors>(bytes);
    let _ = serde_json::from_slice::<types::CreateStatsErrorBody>(bytes);
}

proptest! {
    #[test]
    fn decoders_accept_arbitrary_bytes_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoders_accept_arbitrary_json_without_panicking(value in any_json()) {
        decode_all(value.to_string().as_bytes());
    }

    #[test]
    fn decoders_accept_mutated_valid_bodies(body in stats(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = serde_json::to_vec(&json!({"data": [body], "has_more": true})).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        decode_all(&bytes);
        bytes.truncate(i);
        decode_all(&bytes);
    }

    #[test]
    fn stats_survive_a_json_round_trip(body in stats()) {
        let parsed: types::Stats = serde_json::from_value(body.clone()).unwrap();
        let again = serde_json::to_value(&parsed).unwrap();
        prop_assert_eq!(&again, &body);
        let reparsed: types::Stats = serde_json::from_value(again).unwrap();
        prop_assert_eq!(serde_json::to_value(reparsed).unwrap(), body);
    }

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
}
