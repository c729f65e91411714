//! proto2 `required` fields, checked as Mesos checks them.
//!
//! prost fills a missing `required` field with its default, so a decoded
//! message cannot tell "absent" from "empty". The real master and agent use
//! the C++ protobuf library, which refuses a message that lacks one: a JSON
//! call gets `Missing required fields: subscribe.framework_info.user`, a
//! protobuf call fails to parse. [`missing_required_fields`] finds them in
//! the encoded bytes, with protobuf's own path syntax
//! (`FindInitializationErrors`: `a.b`, `list[2].c`).
//!
//! ```
//! use mesos_proto::v1::scheduler::Call;
//! use mesos_proto::{required, MediaType};
//!
//! let body = br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x"}}}"#;
//! assert_eq!(
//!     required::missing_required_fields::<Call>(MediaType::Json, body),
//!     vec!["subscribe.framework_info.user".to_string()]
//! );
//! ```

use prost_reflect::{Cardinality, DynamicMessage, Kind, MapKey, ReflectMessage, Value};

use crate::codec::{descriptor_by_name, MediaType, WireMessage};

/// The paths of the `required` fields missing in `bytes`, a message of type
/// `M` encoded in `media`, in protobuf's order (a message's own fields, then
/// those of its sub-messages). Empty when none is missing, and also when the
/// bytes do not decode at all (decoding reports that).
pub fn missing_required_fields<M: WireMessage>(media: MediaType, bytes: &[u8]) -> Vec<String> {
    let Ok(descriptor) = descriptor_by_name(&M::full_name()) else {
        return Vec::new();
    };
    let dynamic = match media {
        MediaType::Protobuf => DynamicMessage::decode(descriptor, bytes).ok(),
        MediaType::Json => {
            let options = prost_reflect::DeserializeOptions::new().deny_unknown_fields(false);
            let mut deserializer = serde_json::Deserializer::from_slice(bytes);
            DynamicMessage::deserialize_with_options(descriptor, &mut deserializer, &options).ok()
        }
    };
    let mut missing = Vec::new();
    if let Some(dynamic) = dynamic {
        collect(&dynamic, "", &mut missing);
    }
    missing
}

fn collect(message: &DynamicMessage, prefix: &str, missing: &mut Vec<String>) {
    let descriptor = message.descriptor();
    for field in descriptor.fields() {
        if field.cardinality() == Cardinality::Required && !message.has_field(&field) {
            missing.push(format!("{prefix}{}", field.name()));
        }
    }
    let mut fields: Vec<_> = descriptor.fields().collect();
    fields.sort_by_key(|f| f.number());
    for field in fields {
        if !matches!(field.kind(), Kind::Message(_)) || !message.has_field(&field) {
            continue;
        }
        match &*message.get_field(&field) {
            Value::Message(sub) => collect(sub, &format!("{prefix}{}.", field.name()), missing),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Message(sub) = item {
                        collect(sub, &format!("{prefix}{}[{i}].", field.name()), missing);
                    }
                }
            }
            Value::Map(entries) => {
                let mut entries: Vec<(&MapKey, &Value)> = entries.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (i, (_, value)) in entries.into_iter().enumerate() {
                    if let Value::Message(sub) = value {
                        collect(
                            sub,
                            &format!("{prefix}{}[{i}].value.", field.name()),
                            missing,
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::scheduler::Call;

    #[test]
    fn complete_messages_miss_nothing() {
        let body =
            br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"x"}}}"#;
        assert!(missing_required_fields::<Call>(MediaType::Json, body).is_empty());
    }

    #[test]
    fn nested_and_repeated_paths() {
        let body = br#"{"type":"SUBSCRIBE","subscribe":{}}"#;
        assert_eq!(
            missing_required_fields::<Call>(MediaType::Json, body),
            vec!["subscribe.framework_info".to_string()]
        );
        let body = br#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"offer_ids":[{"value":"a"},{}]}}"#;
        assert_eq!(
            missing_required_fields::<Call>(MediaType::Json, body),
            vec!["decline.offer_ids[1].value".to_string()]
        );
    }

    #[test]
    fn protobuf_bodies_are_checked_too() {
        // type: SUBSCRIBE, subscribe: { framework_info: { name: "x" } }
        let body = [0x10, 0x01, 0x1a, 0x05, 0x0a, 0x03, 0x12, 0x01, b'x'];
        assert_eq!(
            missing_required_fields::<Call>(MediaType::Protobuf, &body),
            vec!["subscribe.framework_info.user".to_string()]
        );
    }

    #[test]
    fn undecodable_bytes_report_nothing() {
        assert!(missing_required_fields::<Call>(MediaType::Json, b"{").is_empty());
    }
}
