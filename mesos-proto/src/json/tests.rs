//! The generated mapping against the reference one (`prost_reflect` over the
//! descriptors, `codec::reflect`): for every message type of the schema,
//! seeded random messages encode to the same bytes, and the same JSON texts
//! (as written, and perturbed the ways peers write JSON: proto3 names,
//! numbers as strings, `null`s, unknown fields and enum names, wrong types)
//! decode to the same message or fail alike.

use std::collections::BTreeSet;
use std::fmt::Debug;

use bytes::Bytes;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value};
use serde_json::Value as Json;

use crate::codec::{reflect, WireMessage};
use crate::MediaType;

/// Visits every message type (see `generated::for_each_message`).
pub(crate) trait EachMessage {
    fn visit<M: WireMessage + Debug>(&mut self);
}

/// xorshift64*: seeded, reproducible.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const STRINGS: [&str; 8] = [
    "",
    "plain",
    "quote \" backslash \\ slash /",
    "control \u{1} \n \t \u{1f}",
    "ünïcödé ✓ 🦀",
    "\u{7f} del",
    "</script>",
    "{\"json\":[1]}",
];

#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
fn scalar(rng: &mut Rng, kind: &Kind) -> Option<Value> {
    Some(match kind {
        Kind::Double => Value::F64(
            [
                0.0,
                -0.0,
                1.5,
                0.1,
                -2.5e-300,
                1e300,
                f64::MAX,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                9_007_199_254_740_993.0,
                (rng.next() >> 11) as f64 / 3.0,
            ][rng.below(12) as usize],
        ),
        Kind::Float => Value::F32(0.5),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32([0, -1, i32::MIN, i32::MAX, rng.next() as i32][rng.below(5) as usize])
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64([0, -1, i64::MIN, i64::MAX, rng.next() as i64][rng.below(5) as usize])
        }
        Kind::Uint32 | Kind::Fixed32 => {
            Value::U32([0, 1, u32::MAX, rng.next() as u32][rng.below(4) as usize])
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Value::U64([0, 1, u64::MAX, rng.next()][rng.below(4) as usize])
        }
        Kind::Bool => Value::Bool(rng.chance(50)),
        Kind::String => Value::String(STRINGS[rng.below(STRINGS.len() as u64) as usize].into()),
        Kind::Bytes => {
            let len = rng.below(6) as usize;
            Value::Bytes(Bytes::from(
                (0..len).map(|_| rng.next() as u8).collect::<Vec<_>>(),
            ))
        }
        Kind::Enum(e) => {
            let values: Vec<i32> = e.values().map(|v| v.number()).collect();
            if rng.chance(15) || values.is_empty() {
                Value::EnumNumber(1000 + rng.below(5) as i32)
            } else {
                Value::EnumNumber(values[rng.below(values.len() as u64) as usize])
            }
        }
        Kind::Message(_) => return None,
    })
}

fn value(rng: &mut Rng, kind: &Kind, depth: usize) -> Option<Value> {
    match kind {
        Kind::Message(m) if depth > 0 => Some(Value::Message(random(rng, m, depth - 1))),
        Kind::Message(_) => None,
        other => scalar(rng, other),
    }
}

fn field_value(rng: &mut Rng, field: &FieldDescriptor, depth: usize) -> Option<Value> {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            return None;
        };
        let mut map = std::collections::HashMap::new();
        // At most one entry: the reference keeps map entries in a hash map,
        // whose order is not the generated mapping's (key order).
        if rng.chance(60) {
            let key = STRINGS[rng.below(STRINGS.len() as u64) as usize];
            map.insert(
                MapKey::String(key.into()),
                value(rng, &entry.map_entry_value_field().kind(), depth)?,
            );
        }
        Some(Value::Map(map))
    } else if field.is_list() {
        let len = rng.below(4);
        let items: Vec<Value> = (0..len)
            .filter_map(|_| value(rng, &field.kind(), depth))
            .collect();
        Some(Value::List(items))
    } else {
        value(rng, &field.kind(), depth)
    }
}

/// A message with each field set at random (one member per oneof at most).
pub(crate) fn random(rng: &mut Rng, desc: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(desc.clone());
    let mut oneofs = BTreeSet::new();
    for field in desc.fields() {
        if !rng.chance(70) {
            continue;
        }
        if let Some(oneof) = field.containing_oneof() {
            if !oneofs.insert(oneof.name().to_string()) {
                continue;
            }
        }
        if let Some(v) = field_value(rng, &field, depth) {
            message.set_field(&field, v);
        }
    }
    message
}

/// `text` changed the ways other writers differ: proto3 (camelCase) names,
/// integers as strings, `null`s, unknown fields, unknown enum names, and
/// now and then a value of the wrong type.
fn perturb(rng: &mut Rng, json: &mut Json) {
    match json {
        Json::Object(object) => {
            let entries: Vec<(String, Json)> = std::mem::take(object).into_iter().collect();
            for (mut key, mut value) in entries {
                if key.contains('_') && rng.chance(30) {
                    key = camel(&key);
                }
                if rng.chance(5) {
                    value = Json::Null;
                } else if rng.chance(2) {
                    value = Json::Bool(true);
                } else {
                    perturb(rng, &mut value);
                }
                object.insert(key, value);
            }
            if rng.chance(10) {
                object.insert("zz_unknown".into(), serde_json::json!({"a": [1, null]}));
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|item| perturb(rng, item)),
        Json::Number(n) if (n.is_i64() || n.is_u64()) && rng.chance(20) => {
            *json = Json::String(n.to_string());
        }
        Json::String(s)
            if !s.is_empty()
                && s.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && rng.chance(10) =>
        {
            *json = Json::String("NOT_A_VALUE_OF_THIS_ENUM".into());
        }
        _ => {}
    }
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The reference goes through prost's binary encoding, which leaves out a
/// map entry's value when it equals the type's default (`Value.Scalar` with
/// `value: 0`), so it writes such a value `{}`; the generated mapping writes
/// what the message holds (`{"value":0.0}`), as Mesos would, whose reader
/// refuses a `Scalar` without its required `value`. This turns the generated
/// text into the reference's: a map value whose every field is a required
/// one at its default (recursively) becomes `{}`.
fn as_the_reference_writes_maps(json: &mut Json, desc: &MessageDescriptor) {
    let Json::Object(object) = json else { return };
    for (key, value) in object.iter_mut() {
        let Some(field) = desc.get_field_by_name(key) else {
            continue;
        };
        let Kind::Message(inner) = field.kind() else {
            continue;
        };
        if field.is_map() {
            let value_field = inner.map_entry_value_field();
            let Kind::Message(value_desc) = value_field.kind() else {
                continue;
            };
            if let Json::Object(entries) = value {
                for entry in entries.values_mut() {
                    if holds_only_required_defaults(entry, &value_desc) {
                        *entry = serde_json::json!({});
                    } else {
                        as_the_reference_writes_maps(entry, &value_desc);
                    }
                }
            }
        } else if let Json::Array(items) = value {
            items
                .iter_mut()
                .for_each(|item| as_the_reference_writes_maps(item, &inner));
        } else {
            as_the_reference_writes_maps(value, &inner);
        }
    }
}

/// Whether the typed message `json` stands for equals its type's default.
fn holds_only_required_defaults(json: &Json, desc: &MessageDescriptor) -> bool {
    let Json::Object(object) = json else {
        return false;
    };
    object.iter().all(|(key, value)| {
        let Some(field) = desc.get_field_by_name(key) else {
            return false;
        };
        if field.cardinality() != prost_reflect::Cardinality::Required {
            return false;
        }
        match field.kind() {
            Kind::Message(inner) => holds_only_required_defaults(value, &inner),
            Kind::Enum(e) => e
                .values()
                .next()
                .is_some_and(|v| value.as_str() == Some(v.name())),
            Kind::String | Kind::Bytes => value.as_str() == Some(""),
            Kind::Bool => value.as_bool() == Some(false),
            _ => value.as_f64() == Some(0.0),
        }
    })
}

/// Both decoders on `text`: the same message, or both an error of the same
/// category.
fn same_decoding<M: WireMessage + Debug>(text: &[u8]) {
    let ours = MediaType::Json.decode::<M>(text);
    let reference = reflect::decode::<M>(text);
    match (&ours, &reference) {
        (Ok(a), Ok(b)) => assert_eq!(
            a.encode_to_vec(),
            b.encode_to_vec(),
            "{} decodes differently from {}",
            M::full_name(),
            String::from_utf8_lossy(text)
        ),
        (
            Err(crate::DecodeError::Json { source: a, .. }),
            Err(crate::DecodeError::Json { source: b, .. }),
        ) => {
            assert_eq!(
                a.classify(),
                b.classify(),
                "{}: {a} / {b} for {}",
                M::full_name(),
                String::from_utf8_lossy(text)
            );
        }
        _ => panic!(
            "{}: ours {ours:?}, reference {reference:?} for {}",
            M::full_name(),
            String::from_utf8_lossy(text)
        ),
    }
}

struct Compare {
    rng: Rng,
    samples: usize,
    types: usize,
}

impl EachMessage for Compare {
    fn visit<M: WireMessage + Debug>(&mut self) {
        self.types += 1;
        let desc = crate::codec::descriptor_by_name(&M::full_name()).expect("in the schema");
        for _ in 0..self.samples {
            let dynamic = random(&mut self.rng, &desc, 3);
            let message = dynamic.transcode_to::<M>().expect("transcodes");
            let ours = MediaType::Json.encode(&message).expect("encodes");
            let reference = reflect::encode(&message).expect("encodes");
            if ours != reference {
                // One known difference, see `as_the_reference_writes_maps`.
                let mut normalized: Json = serde_json::from_slice(&ours).expect("valid JSON");
                as_the_reference_writes_maps(&mut normalized, &desc);
                let reference: Json = serde_json::from_slice(&reference).expect("valid JSON");
                assert_eq!(
                    normalized,
                    reference,
                    "{} encodes differently",
                    M::full_name()
                );
            }
            same_decoding::<M>(&ours);
            let mut json: Json = serde_json::from_slice(&ours).expect("valid JSON");
            perturb(&mut self.rng, &mut json);
            same_decoding::<M>(json.to_string().as_bytes());
        }
    }
}

#[test]
fn every_message_type_maps_as_the_reference_does() {
    let mut compare = Compare {
        rng: Rng(0x5eed_1234_abcd_0001),
        samples: 12,
        types: 0,
    };
    super::generated::for_each_message(&mut compare);
    assert!(compare.types > 300, "only {} types visited", compare.types);
}

struct Malformed;

impl EachMessage for Malformed {
    fn visit<M: WireMessage + Debug>(&mut self) {
        for text in [
            "",
            "null",
            "[]",
            "7",
            "\"x\"",
            "{",
            "{}",
            "{} {}",
            "{\"type\":7}",
            "{\"type\":true}",
            "{\"type\":{}}",
            "{\"type\":[]}",
            "{\"type\":7,",
            "{\"a\":1,}",
            "{\"value\":[1,2]}",
            "{\"name\":5}",
            "{\"id\":\"x\"}",
            "{\"resources\":[null]}",
            "{\"resources\":{}}",
            "{\"uuid\":\"not base64!\"}",
            "{\"uuid\":\"AAEC-_8\"}",
            "{\"timestamp\":\"1.5\",\"port\":\"80\",\"port\":1.0}",
            "{\"port\":1.5}",
            "{\"labels\":{\"labels\":[{\"key\":\"k\"},null]}}",
        ] {
            same_decoding::<M>(text.as_bytes());
        }
    }
}

#[test]
fn malformed_texts_fail_alike() {
    super::generated::for_each_message(&mut Malformed);
}

/// Found by fuzzing (`scheduler_event`): a double read back from its own
/// text must be the same double. `serde_json`'s default float parser is off
/// by one unit in the last place for some values; the workspace enables its
/// `float_roundtrip` parser.
#[test]
fn doubles_read_back_exactly() {
    use crate::v1::scheduler::{event, Event};
    for value in [
        -1.565_381_340_166_627_6e265,
        0.1,
        5e-324,
        f64::MAX,
        1.0 / 3.0,
    ] {
        let event = Event {
            subscribed: Some(event::Subscribed {
                heartbeat_interval_seconds: Some(value),
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = MediaType::Json.encode(&event).expect("encodes");
        let back: Event = MediaType::Json.decode(&text).expect("decodes");
        let got = back.subscribed.and_then(|s| s.heartbeat_interval_seconds);
        assert_eq!(got.map(f64::to_bits), Some(value.to_bits()), "{value:e}");
    }
}
