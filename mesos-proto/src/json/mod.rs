//! Mesos's JSON mapping, done directly on prost's structs.
//!
//! Every message of the schema implements [`JsonMessage`] with code
//! generated from the `.proto` files (`codegen/src/json.rs`): a writer that
//! walks the struct and a reader that fills one from `serde_json`'s parser,
//! with no dynamic message in between. The rules are those of
//! [`MediaType::Json`](crate::MediaType::Json), described in
//! [`codec`](crate::codec).

pub(crate) mod read;
pub(crate) mod write;

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, Visitor};

/// A message that has Mesos's JSON mapping: every message of the Mesos v1
/// schema (generated), and `google.protobuf.Duration` as Mesos writes it
/// (`{"seconds":10,"nanos":5}`).
///
/// Use it through [`MediaType::Json`](crate::MediaType::Json); the methods
/// are the generated halves it calls.
pub trait JsonMessage: Default {
    /// Appends `self` as a JSON object to `out`.
    fn write_json(&self, out: &mut Vec<u8>);

    /// Sets the fields of `self` from the entries of a JSON object.
    ///
    /// # Errors
    ///
    /// A value of the wrong JSON type for its field, or an enum given as
    /// anything but a name.
    fn read_json<'de, A: MapAccess<'de>>(&mut self, map: A) -> Result<(), A::Error>;
}

/// `message` as JSON text.
pub(crate) fn encode<M: JsonMessage>(message: &M, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    message.write_json(&mut out);
    out
}

/// Reads one message of type `M`, a JSON object with nothing after it.
pub(crate) fn decode<M: JsonMessage>(bytes: &[u8]) -> Result<M, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    deserializer
        .deserialize_map(TopLevel::<M>(PhantomData))
        .and_then(|message| deserializer.end().map(|()| message))
        .map_err(|error| as_mesos_reports(bytes, error))
}

/// The error Mesos would report first. Mesos parses the whole text before
/// it looks at a field, so a syntax error anywhere comes before a value of
/// the wrong type; and its message for an enum given as a number carries no
/// position.
fn as_mesos_reports(bytes: &[u8], error: serde_json::Error) -> serde_json::Error {
    if !error.is_data() {
        return error;
    }
    if let Err(syntax) = serde_json::from_slice::<IgnoredAny>(bytes) {
        return syntax;
    }
    let text = error.to_string();
    if text.starts_with(read::NOT_A_NAME) {
        let position = format!(" at line {} column {}", error.line(), error.column());
        if let Some(message) = text.strip_suffix(&position) {
            return de::Error::custom(message);
        }
    }
    error
}

struct TopLevel<M>(PhantomData<fn() -> M>);

impl<'de, M: JsonMessage> Visitor<'de> for TopLevel<M> {
    type Value = M;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<M, A::Error> {
        let mut message = M::default();
        message.read_json(map)?;
        Ok(message)
    }
}

/// Mesos knows no well-known types: a `Duration` is a plain message with
/// proto3 fields (written when not zero).
impl JsonMessage for prost_types::Duration {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut object = write::Object::begin(out);
        if self.seconds != 0 {
            write::i64(object.key(b"\"seconds\":"), &self.seconds);
        }
        if self.nanos != 0 {
            write::i32(object.key(b"\"nanos\":"), &self.nanos);
        }
        object.end();
    }

    fn read_json<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<read::Key<'de>>()? {
            match key.as_str() {
                "seconds" => {
                    if let Some(v) = map.next_value_seed(read::I64)? {
                        self.seconds = v;
                    }
                }
                "nanos" => {
                    if let Some(v) = map.next_value_seed(read::I32)? {
                        self.nanos = v;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[allow(deprecated, clippy::all, clippy::pedantic)]
pub(crate) mod generated {
    include!("../generated/json_mapping.rs");
}

#[cfg(test)]
pub(crate) mod tests;
