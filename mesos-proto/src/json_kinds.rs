//! What Mesos's JSON reader (stout's `protobuf::parse`) refuses that the
//! proto3 JSON mapping accepts: an enum field given as a number
//! (`{"type": 7}`). Mesos answers such a call `400` with "Not expecting a
//! JSON number for field 'type'"; so does [`MediaType::Json`] decoding
//! here, before the message is built.
//!
//! [`MediaType::Json`]: crate::MediaType::Json

use prost_reflect::{Kind, MessageDescriptor};
use serde_json::Value;

/// The first enum field of `value` (a JSON form of `descriptor`), at any
/// depth, given as something other than a name; as Mesos words it.
pub(crate) fn numeric_enum(descriptor: &MessageDescriptor, value: &Value) -> Option<String> {
    let Value::Object(object) = value else {
        return None;
    };
    for (name, item) in object {
        let Some(field) = descriptor.get_field_by_name(name) else {
            continue;
        };
        let items: Vec<&Value> = match item {
            Value::Array(list) if field.is_list() => list.iter().collect(),
            other => vec![other],
        };
        match field.kind() {
            Kind::Enum(_) => {
                if let Some(kind) = items.iter().find_map(|v| not_a_name(v)) {
                    return Some(format!(
                        "Not expecting a JSON {kind} for field '{}'",
                        field.name()
                    ));
                }
            }
            Kind::Message(inner) if !field.is_map() => {
                for item in items {
                    if let Some(message) = numeric_enum(&inner, item) {
                        return Some(message);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// How stout names a JSON value that is not a string (`None` for a string
/// or null, which the mapping treats as unset).
fn not_a_name(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(_) | Value::Null => None,
        Value::Number(_) => Some("number"),
        Value::Bool(_) => Some("boolean"),
        Value::Object(_) => Some("object"),
        Value::Array(_) => Some("array"),
    }
}
