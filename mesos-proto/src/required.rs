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

use prost_reflect::{
    Cardinality, DynamicMessage, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};

use crate::codec::{descriptor_of, MediaType, WireMessage};

/// The paths of the `required` fields missing in `bytes`, a message of type
/// `M` encoded in `media`, in protobuf's order (a message's own fields, then
/// those of its sub-messages). Empty when none is missing, and also when the
/// bytes do not decode at all (decoding reports that).
pub fn missing_required_fields<M: WireMessage>(media: MediaType, bytes: &[u8]) -> Vec<String> {
    let Ok(descriptor) = descriptor_of::<M>() else {
        return Vec::new();
    };
    if media == MediaType::Protobuf && complete_on_the_wire(bytes, &descriptor, 0) {
        return Vec::new();
    }
    exact(media, bytes, descriptor)
}

/// The missing fields, found in the message built from `bytes`.
fn exact(media: MediaType, bytes: &[u8], descriptor: MessageDescriptor) -> Vec<String> {
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

/// Deeper than this, the exact (slower) check decides.
const WIRE_DEPTH: u32 = 32;

/// The next field of an encoded message at `pos`: its number and, for a
/// length-delimited one, its payload. `None` for malformed bytes.
fn next_field<'a>(buf: &'a [u8], pos: &mut usize) -> Option<(u64, Option<&'a [u8]>)> {
    use crate::cost::protobuf::{skip, varint};

    let key = varint(buf, pos).ok()?;
    let payload = match key & 7 {
        0 => varint(buf, pos).map(|_| None),
        1 => skip(buf, pos, 8).map(|_| None),
        5 => skip(buf, pos, 4).map(|_| None),
        2 => varint(buf, pos)
            .and_then(|len| skip(buf, pos, len))
            .map(|start| Some(&buf[start..*pos])),
        _ => return None,
    };
    Some((key >> 3, payload.ok()?))
}

/// Whether every `required` field is present, walking the encoded message
/// without building it: true only when each occurrence of each message field
/// is complete by itself (then the merged message is too). `false` means "not
/// shown": missing fields, malformed bytes, field numbers past 255 or depth
/// past [`WIRE_DEPTH`]; the exact check then decides.
fn complete_on_the_wire(buf: &[u8], desc: &MessageDescriptor, depth: u32) -> bool {
    if depth > WIRE_DEPTH {
        return false;
    }
    let mut seen = [0u64; 4];
    let mut pos = 0;
    while pos < buf.len() {
        let Some((number, payload)) = next_field(buf, &mut pos) else {
            return false;
        };
        let Ok(number) = u32::try_from(number) else {
            return false;
        };
        if let Some(bits) = seen.get_mut((number / 64) as usize) {
            *bits |= 1 << (number % 64);
        }
        let (Some(payload), Some(field)) = (payload, desc.get_field(number)) else {
            continue;
        };
        if let Kind::Message(inner) = field.kind() {
            if !complete_on_the_wire(payload, &inner, depth + 1) {
                return false;
            }
            if field.is_map() && !map_value_present(payload, &inner) {
                return false;
            }
        }
    }
    desc.fields()
        .filter(|f| f.cardinality() == Cardinality::Required)
        .all(|f| {
            let n = f.number();
            seen.get((n / 64) as usize)
                .is_some_and(|bits| bits & (1 << (n % 64)) != 0)
        })
}

/// A map entry whose value is a message must carry it (an absent value is a
/// default message, whose own required fields are then missing).
fn map_value_present(entry: &[u8], entry_desc: &MessageDescriptor) -> bool {
    let value = entry_desc.map_entry_value_field();
    if !matches!(value.kind(), Kind::Message(_)) {
        return true;
    }
    let mut pos = 0;
    while pos < entry.len() {
        match next_field(entry, &mut pos) {
            Some((number, _)) if number == u64::from(value.number()) => return true,
            Some(_) => {}
            None => return false,
        }
    }
    false
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
    use prost::Message as _;

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

    /// The wire walk says "complete" exactly when the message built from
    /// the bytes misses nothing, for seeded random messages of every type
    /// (fields, required ones included, left out at random).
    #[test]
    fn the_wire_walk_agrees_with_the_built_message() {
        struct Agree(crate::json::tests::Rng, usize);
        impl crate::json::tests::EachMessage for Agree {
            fn visit<M: WireMessage + std::fmt::Debug>(&mut self) {
                let desc =
                    crate::codec::descriptor_by_name(&M::full_name()).expect("in the schema");
                for _ in 0..12 {
                    let bytes = crate::json::tests::random(&mut self.0, &desc, 3).encode_to_vec();
                    let missing = exact(MediaType::Protobuf, &bytes, desc.clone());
                    self.1 += usize::from(!missing.is_empty());
                    assert_eq!(
                        complete_on_the_wire(&bytes, &desc, 0),
                        missing.is_empty(),
                        "{}: {missing:?}",
                        M::full_name()
                    );
                }
            }
        }
        let mut agree = Agree(crate::json::tests::Rng(0x0123_4567_89ab_cdef), 0);
        crate::json::generated::for_each_message(&mut agree);
        assert!(agree.1 > 100, "only {} samples missed a field", agree.1);
    }

    #[test]
    fn undecodable_bytes_report_nothing() {
        assert!(missing_required_fields::<Call>(MediaType::Json, b"{").is_empty());
    }
}
