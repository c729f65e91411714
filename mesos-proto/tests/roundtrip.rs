//! Every scheduler and executor Call and Event type, and every master and
//! agent operator Call, Response and Event type, with every field of its
//! payload filled in (recursively), survives a round trip through both media
//! types unchanged.
//!
//! The messages are built from the schema itself (via reflection), so a type
//! added to the `.proto` files is covered without touching this test.

use std::collections::BTreeSet;

use bytes::Bytes;
use mesos_proto::codec::{with_explicit_defaults, WireMessage};
use mesos_proto::v1::{agent, executor, master, scheduler};
use mesos_proto::{MediaType, FILE_DESCRIPTOR_SET};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value,
};

fn pool() -> DescriptorPool {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("descriptor set decodes")
}

/// A value for a singular field of the given kind; `depth` bounds recursion
/// (several Mesos messages are recursive, e.g. `Value`/`ContainerInfo`).
fn sample(kind: &Kind, depth: usize, salt: u32) -> Option<Value> {
    Some(match kind {
        Kind::Double => Value::F64(1.5 + f64::from(salt)),
        Kind::Float => Value::F32(2.25),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(-7 - salt as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(-9_007_199_254_740_993),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(31_000 + salt),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(9_007_199_254_740_993 + u64::from(salt)),
        Kind::Bool => Value::Bool(true),
        Kind::String => Value::String(format!("s{salt}-ü")),
        Kind::Bytes => Value::Bytes(Bytes::from(vec![0, 0xff, salt as u8, b'\n'])),
        Kind::Enum(e) => {
            // The last value is never the zero/UNKNOWN default.
            Value::EnumNumber(e.values().last()?.number())
        }
        Kind::Message(m) => {
            if depth == 0 {
                return None;
            }
            Value::Message(filled(m, depth - 1))
        }
    })
}

/// A message with every field set (one member per oneof).
fn filled(desc: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut msg = DynamicMessage::new(desc.clone());
    let mut oneofs_done = BTreeSet::new();
    for field in desc.fields() {
        if let Some(oneof) = field.containing_oneof() {
            if !oneofs_done.insert(oneof.full_name().to_string()) {
                continue;
            }
        }
        if let Some(value) = field_value(&field, depth) {
            msg.set_field(&field, value);
        }
    }
    msg
}

fn field_value(field: &FieldDescriptor, depth: usize) -> Option<Value> {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            return None;
        };
        let key_field = entry.map_entry_key_field();
        let value = sample(&entry.map_entry_value_field().kind(), depth, 1)?;
        let key = match key_field.kind() {
            Kind::String => MapKey::String("key".into()),
            Kind::Int32 => MapKey::I32(3),
            Kind::Int64 => MapKey::I64(3),
            Kind::Uint32 => MapKey::U32(3),
            Kind::Uint64 => MapKey::U64(3),
            Kind::Bool => MapKey::Bool(true),
            _ => return None,
        };
        return Some(Value::Map([(key, value)].into_iter().collect()));
    }
    if field.is_list() {
        let items: Vec<Value> = (0..2)
            .filter_map(|i| sample(&field.kind(), depth, i))
            .collect();
        return (!items.is_empty()).then_some(Value::List(items));
    }
    sample(&field.kind(), depth, 0)
}

/// For each value of `<message>.Type`, a message with that type and the
/// payload field of the same (lower-case) name filled in.
fn every_type<M: WireMessage>() -> Vec<(String, M, bool)> {
    let pool = pool();
    let desc = pool
        .get_message_by_name(&M::full_name())
        .expect("message in schema");
    let type_enum = pool
        .get_enum_by_name(&format!("{}.Type", M::full_name()))
        .expect("Type enum");
    let mut out = Vec::new();
    for value in type_enum.values() {
        if value.number() == 0 {
            continue; // UNKNOWN
        }
        let mut msg = DynamicMessage::new(desc.clone());
        msg.set_field_by_name("type", Value::EnumNumber(value.number()));
        let payload = desc.get_field_by_name(&value.name().to_lowercase());
        if let Some(payload) = &payload {
            let v = field_value(payload, 6).expect("payload value");
            msg.set_field(payload, v);
        }
        // Calls carry the framework id (scheduler) or framework + executor id.
        for common in ["framework_id", "executor_id"] {
            if let Some(f) = desc.get_field_by_name(common) {
                let v = field_value(&f, 2).expect("id value");
                msg.set_field(&f, v);
            }
        }
        let typed: M = msg.transcode_to().expect("dynamic message transcodes");
        out.push((value.name().to_string(), typed, payload.is_some()));
    }
    out
}

/// Round-trips every type; `without_payload` names the types that carry no
/// payload message (all others must have one of the same name).
fn assert_round_trips<M: WireMessage + std::fmt::Debug + PartialEq>(
    expected_types: usize,
    without_payload: &[&str],
) {
    let all = every_type::<M>();
    assert_eq!(all.len(), expected_types, "{} types", M::full_name());
    let bare: Vec<&str> = all.iter().filter(|t| !t.2).map(|t| t.0.as_str()).collect();
    assert_eq!(
        bare,
        without_payload,
        "{} types without payload",
        M::full_name()
    );
    for (name, msg, has_payload) in all {
        for media in [MediaType::Protobuf, MediaType::Json] {
            let bytes = media.encode(&msg).expect("encodes");
            let back: M = media
                .decode(&bytes)
                .unwrap_or_else(|e| panic!("{} {name} via {media}: {e:?}", M::full_name()));
            if media == MediaType::Protobuf {
                assert_eq!(back, msg, "{} {name} via {media}", M::full_name());
            } else {
                // JSON carries the fields with explicit defaults (as Mesos
                // writes them): they come back set.
                let expected = with_explicit_defaults(&msg).expect("a schema type");
                assert_eq!(back, expected, "{} {name} via {media}", M::full_name());
            }
        }
        // The payload really was populated (not an empty shell).
        if has_payload {
            let desc = pool()
                .get_message_by_name(&M::full_name())
                .expect("in schema");
            let dynamic = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice()).unwrap();
            let payload = dynamic.get_field_by_name(&name.to_lowercase()).unwrap();
            let payload = payload.as_message().expect("payload is a message");
            assert!(payload.fields().count() > 0, "{name} payload is empty");
        }
    }
}

#[test]
fn scheduler_calls_round_trip() {
    // SUBSCRIBE .. UPDATE_FRAMEWORK: 17 call types in Mesos 1.11.
    assert_round_trips::<scheduler::Call>(17, &["TEARDOWN"]);
}

#[test]
fn scheduler_events_round_trip() {
    // SUBSCRIBED .. HEARTBEAT: 11 event types.
    assert_round_trips::<scheduler::Event>(11, &["HEARTBEAT"]);
}

#[test]
fn executor_calls_round_trip() {
    // SUBSCRIBE, UPDATE, MESSAGE, HEARTBEAT.
    assert_round_trips::<executor::Call>(4, &["HEARTBEAT"]);
}

#[test]
fn executor_events_round_trip() {
    // SUBSCRIBED, LAUNCH, LAUNCH_GROUP, KILL, ACKNOWLEDGED, MESSAGE, ERROR,
    // SHUTDOWN, HEARTBEAT.
    assert_round_trips::<executor::Event>(9, &["SHUTDOWN", "HEARTBEAT"]);
}

#[test]
fn master_calls_round_trip() {
    // GET_HEALTH .. MARK_AGENT_GONE: 39 call types in Mesos 1.11; the
    // parameterless ones carry no payload message.
    assert_round_trips::<master::Call>(
        39,
        &[
            "GET_HEALTH",
            "GET_FLAGS",
            "GET_VERSION",
            "GET_LOGGING_LEVEL",
            "GET_STATE",
            "GET_AGENTS",
            "GET_FRAMEWORKS",
            "GET_EXECUTORS",
            "GET_TASKS",
            "GET_ROLES",
            "GET_WEIGHTS",
            "GET_MASTER",
            "SUBSCRIBE",
            "GET_MAINTENANCE_STATUS",
            "GET_MAINTENANCE_SCHEDULE",
            "GET_QUOTA",
            "GET_OPERATIONS",
        ],
    );
}

#[test]
fn master_responses_round_trip() {
    // One response type per GET_* call that answers with a body: 19.
    assert_round_trips::<master::Response>(19, &[]);
}

#[test]
fn master_events_round_trip() {
    // SUBSCRIBED, TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
    // FRAMEWORK_ADDED, FRAMEWORK_UPDATED, FRAMEWORK_REMOVED, HEARTBEAT.
    assert_round_trips::<master::Event>(9, &["HEARTBEAT"]);
}

#[test]
fn agent_calls_round_trip() {
    // GET_HEALTH .. PRUNE_IMAGES: 32 call types in Mesos 1.11.
    assert_round_trips::<agent::Call>(
        32,
        &[
            "GET_HEALTH",
            "GET_FLAGS",
            "GET_VERSION",
            "GET_LOGGING_LEVEL",
            "GET_STATE",
            "GET_FRAMEWORKS",
            "GET_EXECUTORS",
            "GET_TASKS",
            "GET_AGENT",
            "GET_RESOURCE_PROVIDERS",
            "GET_OPERATIONS",
        ],
    );
}

#[test]
fn agent_responses_round_trip() {
    // One response type per agent call that answers with a body: 17.
    assert_round_trips::<agent::Response>(17, &[]);
}

#[test]
fn agent_process_io_round_trips() {
    // The records of ATTACH_CONTAINER_INPUT/OUTPUT and the nested container
    // sessions: DATA and CONTROL.
    assert_round_trips::<agent::ProcessIo>(2, &[]);
}

#[test]
fn json_field_names_are_the_proto_names() {
    let (_, call, _) = every_type::<scheduler::Call>()
        .into_iter()
        .find(|(n, _, _)| n == "ACKNOWLEDGE")
        .expect("ACKNOWLEDGE");
    let json: serde_json::Value =
        serde_json::from_slice(&MediaType::Json.encode(&call).unwrap()).unwrap();
    let ack = &json["acknowledge"];
    assert!(ack["agent_id"].is_object(), "{json}");
    assert!(ack["task_id"].is_object(), "{json}");
    assert!(ack["uuid"].is_string(), "bytes are base64 strings: {json}");
    assert_eq!(json["type"], "ACKNOWLEDGE");
}
