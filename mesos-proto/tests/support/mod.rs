//! Helpers shared by the tests that decode what a real Mesos sent.
#![allow(dead_code)] // each test crate uses a part

use mesos_proto::codec::WireMessage;
use mesos_proto::MediaType;

/// The contents of `tests/data/<name>`.
pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// JSON numbers compared by value (`32` and `32.0` are the same number).
pub fn normalized(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalized(v))).collect())
        }
        other => other,
    }
}

/// Whether `small` is `big` with some object fields left out (at any depth).
pub fn is_subset(small: &serde_json::Value, big: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (small, big) {
        (Value::Object(s), Value::Object(b)) => s
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|bv| is_subset(v, bv))),
        (Value::Array(s), Value::Array(b)) => {
            s.len() == b.len() && s.iter().zip(b).all(|(s, b)| is_subset(s, b))
        }
        (s, b) => s == b,
    }
}

/// Decodes `json` as `M` and encodes it again: the message, our JSON bytes,
/// and our JSON and the original as values.
fn reencoded<M: WireMessage>(
    json: &[u8],
) -> (M, bytes::Bytes, serde_json::Value, serde_json::Value) {
    let msg: M = MediaType::Json
        .decode(json)
        .expect("real Mesos JSON decodes");
    let again = MediaType::Json.encode(&msg).expect("encodes");
    let original: serde_json::Value = serde_json::from_slice(json).expect("sample is JSON");
    let ours: serde_json::Value = serde_json::from_slice(&again).expect("we emit JSON");
    (msg, again, ours, original)
}

/// `msg` survives its protobuf encoding.
fn assert_protobuf_round_trip<M: WireMessage + PartialEq + std::fmt::Debug>(msg: &M) {
    let proto = MediaType::Protobuf.encode(msg).expect("encodes");
    let back: M = MediaType::Protobuf.decode(&proto).expect("decodes");
    assert_eq!(&back, msg);
}

/// The records of a RecordIO capture (`tests/data/<name>`), each decoded as
/// an `M` in `media`.
pub fn recordio_messages<M: WireMessage>(name: &str, media: MediaType) -> Vec<M> {
    let mut buf = bytes::BytesMut::from(&data(name)[..]);
    let mut codec = mesos_proto::recordio::RecordIoCodec::new();
    let mut messages = Vec::new();
    while let Some(record) = codec.decode_eof(&mut buf).expect("valid RecordIO") {
        messages.push(media.decode(&record).expect("valid message"));
    }
    messages
}

/// Decodes `json` (written by Mesos) as `M`, checks that re-encoding gives
/// the same JSON and that the protobuf encoding round-trips; returns the
/// message.
pub fn check_json<M: WireMessage + PartialEq + std::fmt::Debug>(json: &[u8]) -> M {
    check_json_as(json, true)
}

/// As [`check_json`]; `by_mesos: false` for JSON a client wrote, which
/// lacks the fields with explicit defaults that Mesos's writer (and ours)
/// adds: then ours must hold the original, plus only such fields.
pub fn check_json_as<M: WireMessage + PartialEq + std::fmt::Debug>(
    json: &[u8],
    by_mesos: bool,
) -> M {
    let (msg, again, ours, original) = reencoded::<M>(json);
    if by_mesos {
        assert_eq!(normalized(ours), normalized(original));
    } else {
        let (ours, original) = (normalized(ours), normalized(original));
        assert!(
            is_subset(&original, &ours),
            "{ours} lacks some of {original}"
        );
        let back: M = MediaType::Json.decode(&again).expect("ours decodes");
        assert_eq!(MediaType::Json.encode(&back).expect("encodes"), again);
    }
    assert_protobuf_round_trip(&msg);
    msg
}

/// Decodes `json` (a Mesos operator API response) as `M` and re-encodes it;
/// everything we write must be in Mesos's JSON. Returns the message and the
/// paths (`a.b[].c`) of what Mesos wrote that we do not: its operator
/// responses carry empty arrays (skipped here, they decode to the same
/// message) and some fields of its internal (v0) messages that the v1 schema
/// lacks, which every decoder drops.
pub fn check_operator_json<M: WireMessage + PartialEq + std::fmt::Debug>(
    json: &[u8],
) -> (M, std::collections::BTreeSet<String>) {
    let (msg, _, ours, original) = reencoded::<M>(json);
    let (ours, original) = (normalized(ours), normalized(original));
    assert!(is_subset(&ours, &original), "{ours} is not in {original}");
    let mut missing = std::collections::BTreeSet::new();
    missing_paths(&original, &ours, "", &mut missing);
    assert_protobuf_round_trip(&msg);
    (msg, missing)
}

/// Collects the paths of `mesos` absent from (or different in) `ours`,
/// empty arrays aside.
fn missing_paths(
    mesos: &serde_json::Value,
    ours: &serde_json::Value,
    path: &str,
    out: &mut std::collections::BTreeSet<String>,
) {
    use serde_json::Value;
    match (mesos, ours) {
        (Value::Object(m), Value::Object(o)) => {
            for (key, value) in m {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match o.get(key) {
                    _ if value.as_array().is_some_and(Vec::is_empty) => {}
                    Some(inner) => missing_paths(value, inner, &here, out),
                    None => {
                        out.insert(here);
                    }
                }
            }
        }
        (Value::Array(m), Value::Array(o)) if m.len() == o.len() => {
            for (m, o) in m.iter().zip(o) {
                missing_paths(m, o, &format!("{path}[]"), out);
            }
        }
        (m, o) if m == o => {}
        _ => {
            out.insert(format!("{path} (differs)"));
        }
    }
}
