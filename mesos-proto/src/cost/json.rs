//! JSON walked through serde against the descriptors, building nothing.

use std::fmt;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::protobuf::SCALAR_ELEMENT;
use super::{Counter, Stop};

pub(super) fn walk_json(
    bytes: &[u8],
    desc: MessageDescriptor,
    counter: &Counter,
) -> Result<(), Stop> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = JsonMessage {
        desc,
        depth: 1,
        counter,
    };
    seed.deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|e| e.to_string())
}

/// A JSON value that should be a message of type `desc`.
struct JsonMessage<'c> {
    desc: MessageDescriptor,
    depth: u32,
    counter: &'c Counter,
}

/// A JSON value of field `field` (list, map or single).
struct JsonField<'c> {
    field: FieldDescriptor,
    depth: u32,
    counter: &'c Counter,
}

/// One value of a field's type (an element, a map value, a single value).
struct JsonValue<'c> {
    kind: Kind,
    depth: u32,
    counter: &'c Counter,
    /// Heap bytes of a scalar element (lists); 0 for a single value.
    element: usize,
}

fn limit_error<E: serde::de::Error>(stop: Stop) -> E {
    E::custom(stop)
}

impl<'de> DeserializeSeed<'de> for JsonMessage<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonMessage<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} object", self.desc.full_name())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.counter
            .message(&self.desc, self.depth)
            .map_err(limit_error)?;
        while let Some(key) = map.next_key::<String>()? {
            let field = self
                .desc
                .get_field_by_json_name(&key)
                .or_else(|| self.desc.get_field_by_name(&key));
            match field {
                Some(field) => map.next_value_seed(JsonField {
                    field,
                    depth: self.depth,
                    counter: self.counter,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    // Anything else is not a message: the decoder refuses it (or, for
    // `null`, leaves the field unset); nothing is built.
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for JsonField<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let counter = self.counter;
        let depth = self.depth;
        if self.field.is_map() {
            let Kind::Message(entry) = self.field.kind() else {
                return deserializer.deserialize_any(IgnoredAny).map(drop);
            };
            let value = entry.map_entry_value_field();
            return deserializer.deserialize_any(JsonMap {
                entry,
                value: value.kind(),
                depth,
                counter,
            });
        }
        let element = if self.field.is_list() {
            SCALAR_ELEMENT
        } else {
            0
        };
        let value = JsonValue {
            kind: self.field.kind(),
            depth,
            counter,
            element,
        };
        if self.field.is_list() {
            deserializer.deserialize_any(JsonList(value))
        } else {
            value.deserialize(deserializer)
        }
    }
}

impl<'de> DeserializeSeed<'de> for JsonValue<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.kind {
            Kind::Message(desc) => JsonMessage {
                desc,
                depth: self.depth + 1,
                counter: self.counter,
            }
            .deserialize(deserializer),
            _ => {
                deserializer.deserialize_any(IgnoredAny)?;
                self.counter.bytes(self.element).map_err(limit_error)
            }
        }
    }
}

/// The JSON array of a repeated field.
struct JsonList<'c>(JsonValue<'c>);

impl<'de> Visitor<'de> for JsonList<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let JsonValue {
            kind,
            depth,
            counter,
            element,
        } = self.0;
        while seq
            .next_element_seed(JsonValue {
                kind: kind.clone(),
                depth,
                counter,
                element,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// The JSON object of a map field: each entry is a message instance.
struct JsonMap<'c> {
    entry: MessageDescriptor,
    value: Kind,
    depth: u32,
    counter: &'c Counter,
}

impl<'de> Visitor<'de> for JsonMap<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            self.counter
                .message(&self.entry, self.depth + 1)
                .map_err(limit_error)?;
            map.next_value_seed(JsonValue {
                kind: self.value.clone(),
                depth: self.depth + 1,
                counter: self.counter,
                element: 0,
            })?;
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}
