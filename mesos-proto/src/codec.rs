//! Protobuf and JSON encoding of Mesos messages, as the real master and agent
//! speak them.
//!
//! Mesos serves its v1 APIs in two media types, chosen per request by the
//! `Content-Type` (what the client sends) and `Accept` (what it wants back)
//! headers:
//!
//! - [`MediaType::Protobuf`] (`application/x-protobuf`): the binary protobuf
//!   encoding, done by prost.
//! - [`MediaType::Json`] (`application/json`): the JSON mapping Mesos uses,
//!   which is the proto JSON mapping with the `.proto` field names
//!   (`framework_id`, not `frameworkId`), enum values by name, `bytes` as
//!   base64 and 64-bit integers as plain JSON numbers. Fields this schema does
//!   not know are ignored when decoding, and so are enum values it does not
//!   know: a newer master may send either. As Mesos's JSON writer (stout's
//!   `JSON::Protobuf`) does, an unset field that has an explicit proto2
//!   default is written with it (`FrameworkInfo.checkpoint: false`,
//!   `CommandInfo.shell: true`...), so it comes back set
//!   ([`with_explicit_defaults`]). Mesos's JSON knows no proto3 well-known
//!   types: the `google.protobuf.Duration` of the master's `DRAIN_AGENT` is
//!   written `{"seconds":10,"nanos":5}`, as a plain message.
//!
//! The JSON mapping is code generated from the `.proto` files for every
//! message ([`JsonMessage`]): it writes and reads prost's structs directly.
//! The tests hold it equal, message by message, to the same mapping done by
//! [`prost_reflect`] over the schema's descriptors
//! ([`FILE_DESCRIPTOR_SET`](crate::FILE_DESCRIPTOR_SET)).
//!
//! ```
//! use mesos_proto::v1::scheduler::{call, Call};
//! use mesos_proto::v1::FrameworkInfo;
//! use mesos_proto::MediaType;
//!
//! let call = Call {
//!     r#type: Some(call::Type::Subscribe as i32),
//!     subscribe: Some(call::Subscribe {
//!         framework_info: FrameworkInfo {
//!             user: "root".into(),
//!             name: "example".into(),
//!             ..Default::default()
//!         },
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let json = MediaType::Json.encode(&call)?;
//! assert_eq!(
//!     std::str::from_utf8(&json).unwrap(),
//!     r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"example","failover_timeout":0.0,"checkpoint":false}}}"#
//! );
//! let back: Call = MediaType::Json.decode(&json)?;
//! assert_eq!(back, mesos_proto::codec::with_explicit_defaults(&call)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
#[cfg(test)]
use prost_reflect::{DeserializeOptions, SerializeOptions};

pub use crate::json::JsonMessage;

/// A protobuf message of the Mesos schema that the codecs can carry.
///
/// Implemented for every generated type (they all implement [`prost::Name`]
/// and [`JsonMessage`]).
pub trait WireMessage: prost::Message + prost::Name + Default + JsonMessage {}

impl<T: prost::Message + prost::Name + Default + JsonMessage> WireMessage for T {}

/// The two media types of the Mesos v1 HTTP APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MediaType {
    /// `application/x-protobuf`: binary protobuf. The default, and the
    /// cheaper of the two to encode and decode.
    #[default]
    Protobuf,
    /// `application/json`: the JSON mapping described in the [module
    /// docs](self).
    Json,
}

impl MediaType {
    /// The MIME type, as sent in `Content-Type` and `Accept` headers.
    pub const fn mime(self) -> &'static str {
        match self {
            MediaType::Protobuf => "application/x-protobuf",
            MediaType::Json => "application/json",
        }
    }

    /// Parses a `Content-Type` or `Accept` header value (parameters such as
    /// `; charset=utf-8` are ignored, case does not matter). Returns `None`
    /// for anything that is neither media type.
    ///
    /// ```
    /// use mesos_proto::MediaType;
    /// assert_eq!(MediaType::from_mime("application/json; charset=utf-8"), Some(MediaType::Json));
    /// assert_eq!(MediaType::from_mime("text/html"), None);
    /// ```
    pub fn from_mime(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/x-protobuf") {
            Some(MediaType::Protobuf)
        } else if essence.eq_ignore_ascii_case("application/json") {
            Some(MediaType::Json)
        } else {
            None
        }
    }

    /// Encodes `message` in this media type.
    pub fn encode<M: WireMessage>(self, message: &M) -> Result<Bytes, EncodeError> {
        match self {
            MediaType::Protobuf => Ok(Bytes::from(message.encode_to_vec())),
            MediaType::Json => Ok(Bytes::from(crate::json::encode(
                message,
                message.encoded_len() * 2 + 16,
            ))),
        }
    }

    /// Decodes one message of type `M` from `bytes` in this media type.
    pub fn decode<M: WireMessage>(self, bytes: &[u8]) -> Result<M, DecodeError> {
        match self {
            MediaType::Protobuf => M::decode(bytes).map_err(|source| DecodeError::Protobuf {
                message_type: M::full_name(),
                source,
            }),
            MediaType::Json => crate::json::decode(bytes).map_err(|source| DecodeError::Json {
                message_type: M::full_name(),
                source,
            }),
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// A message could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not a valid protobuf encoding of the expected type.
    #[error("invalid protobuf for {message_type}")]
    Protobuf {
        /// Fully qualified protobuf name of the expected type.
        message_type: String,
        /// What prost reported.
        #[source]
        source: prost::DecodeError,
    },
    /// The bytes are not valid JSON, or not a JSON form of the expected type.
    #[error("invalid JSON for {message_type}")]
    Json {
        /// Fully qualified protobuf name of the expected type.
        message_type: String,
        /// What the JSON parser reported (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The type is not part of the Mesos schema this crate carries.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// A message could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The type is not part of the Mesos schema this crate carries.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The JSON serializer failed. The generated JSON writer cannot fail;
    /// the variant stays for callers that match on it.
    #[error("JSON encoding of {message_type} failed")]
    Json {
        /// Fully qualified protobuf name of the type.
        message_type: String,
        /// What the serializer reported.
        #[source]
        source: serde_json::Error,
    },
}

/// `message` with each unset singular field that has an explicit proto2
/// default (`[default = ...]`, not deprecated) set to that default, at
/// every depth: what decoding its [`MediaType::Json`] encoding gives back,
/// since the JSON carries such fields as Mesos's own JSON writer does.
///
/// ```
/// use mesos_proto::codec::with_explicit_defaults;
/// use mesos_proto::v1::FrameworkInfo;
/// let info = FrameworkInfo { user: "root".into(), name: "f".into(), ..Default::default() };
/// let filled = with_explicit_defaults(&info).unwrap();
/// assert_eq!(filled.checkpoint, Some(false));
/// assert_eq!(filled.failover_timeout, Some(0.0));
/// assert_eq!(filled.hostname, None); // no explicit default
/// ```
pub fn with_explicit_defaults<M: WireMessage>(message: &M) -> Result<M, SchemaError> {
    reflect::with_explicit_defaults(message)
}

/// The JSON codec was asked for a type it has no descriptor for.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message_type} is not a message of the Mesos v1 schema")]
pub struct SchemaError {
    /// The fully qualified name that was looked up.
    pub message_type: String,
}

/// The descriptor of a message of the Mesos schema, by its full name.
pub(crate) fn descriptor_by_name(
    name: &str,
) -> Result<prost_reflect::MessageDescriptor, SchemaError> {
    reflect::pool()
        .get_message_by_name(name)
        .ok_or_else(|| SchemaError {
            message_type: name.to_string(),
        })
}

/// The descriptor of `M`, found without building its full name anew (a
/// server looks it up for every call it reads).
pub(crate) fn descriptor_of<M: prost::Name>(
) -> Result<prost_reflect::MessageDescriptor, SchemaError> {
    thread_local! {
        static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    NAME.with_borrow_mut(|name| {
        name.clear();
        name.push_str(M::PACKAGE);
        name.push('.');
        name.push_str(M::NAME);
        descriptor_by_name(name)
    })
}

/// The JSON mapping done by `prost_reflect` over the descriptors: the
/// reference the generated mapping is tested against, and the explicit
/// defaults.
pub(crate) mod reflect {
    use super::*;

    #[cfg(test)]
    const SERIALIZE: SerializeOptions = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .use_enum_numbers(false)
        .skip_default_fields(true);

    pub(crate) fn pool() -> &'static DescriptorPool {
        static POOL: OnceLock<DescriptorPool> = OnceLock::new();
        POOL.get_or_init(|| {
            // The descriptor set is generated with the code and checked by the
            // codegen drift test and by this crate's tests; an empty pool (which
            // would turn every JSON call into a SchemaError) is the fallback.
            mesos_json_pool(crate::FILE_DESCRIPTOR_SET).unwrap_or_default()
        })
    }

    /// Where `google.protobuf.Duration` lives in the JSON codec's pool.
    const PLAIN_DURATION_PACKAGE: &str = "mesos_rs.plain.google.protobuf";

    /// The schema as Mesos's JSON sees it. Mesos (stout's `JSON::Protobuf`
    /// and `protobuf::parse`) knows no well-known types: the
    /// `google.protobuf.Duration` of `master.Call.DrainAgent.max_grace_period`
    /// is an ordinary message there, `{"seconds":10,"nanos":5}`, not the
    /// proto3 JSON string `"10.000000005s"`. Moving it out of the
    /// `google.protobuf` package turns off prost-reflect's special mapping;
    /// the binary encoding, which the transcoding goes through, is unchanged.
    /// (A real 1.11 master answers `"max_grace_period":"10s"` with 400
    /// "Not expecting a JSON string for field 'max_grace_period'".)
    pub(super) fn mesos_json_pool(bytes: &[u8]) -> Option<DescriptorPool> {
        use prost::Message as _;
        use prost_reflect::prost_types::{DescriptorProto, FileDescriptorSet};

        fn retarget(message: &mut DescriptorProto, from: &str, to: &str) {
            for field in &mut message.field {
                if field.type_name.as_deref() == Some(from) {
                    field.type_name = Some(to.to_string());
                }
            }
            for nested in &mut message.nested_type {
                retarget(nested, from, to);
            }
        }

        let mut fds = FileDescriptorSet::decode(bytes).ok()?;
        let from = ".google.protobuf.Duration";
        let to = format!(".{PLAIN_DURATION_PACKAGE}.Duration");
        for file in &mut fds.file {
            if file.name() == "google/protobuf/duration.proto" {
                file.package = Some(PLAIN_DURATION_PACKAGE.to_string());
            }
            for message in &mut file.message_type {
                retarget(message, from, &to);
            }
        }
        DescriptorPool::from_file_descriptor_set(fds).ok()
    }

    fn descriptor<M: WireMessage>() -> Result<prost_reflect::MessageDescriptor, SchemaError> {
        let name = M::full_name();
        pool()
            .get_message_by_name(&name)
            .ok_or(SchemaError { message_type: name })
    }

    /// `message` as a dynamic message with its explicit defaults written.
    fn dynamic_with_defaults<M: WireMessage>(message: &M) -> Result<DynamicMessage, SchemaError> {
        let desc = descriptor::<M>()?;
        let mut dynamic = DynamicMessage::new(desc);
        // Re-reading our own encoding cannot fail for a schema type; if it ever
        // did, the type would not match its descriptor.
        dynamic.transcode_from(message).map_err(|_| SchemaError {
            message_type: M::full_name(),
        })?;
        as_mesos_writes(&mut dynamic);
        Ok(dynamic)
    }

    pub(super) fn with_explicit_defaults<M: WireMessage>(message: &M) -> Result<M, SchemaError> {
        dynamic_with_defaults(message)?
            .transcode_to::<M>()
            .map_err(|_| SchemaError {
                message_type: M::full_name(),
            })
    }

    #[cfg(test)]
    pub(crate) fn encode<M: WireMessage>(message: &M) -> Result<Vec<u8>, EncodeError> {
        let dynamic = dynamic_with_defaults(message)?;
        let mut out = Vec::with_capacity(message.encoded_len() * 2 + 16);
        let mut serializer = serde_json::Serializer::new(&mut out);
        dynamic
            .serialize_with_options(&mut serializer, &SERIALIZE)
            .map_err(|source| EncodeError::Json {
                message_type: M::full_name(),
                source,
            })?;
        Ok(out)
    }

    /// Makes `message` what Mesos's JSON writer (stout's `JSON::Protobuf`)
    /// writes, at every depth, in one walk:
    /// - each unset singular field that has an explicit proto2 default
    ///   (`[default = ...]`) and is not deprecated is set to it, so that the
    ///   JSON carries `FrameworkInfo.checkpoint: false`, `failover_timeout: 0`,
    ///   `Environment.Variable.type: "VALUE"`... (fields without one stay
    ///   absent);
    /// - each enum value the schema does not name is left out (cleared, or
    ///   dropped from a repeated field): Mesos's writer cannot name it either
    ///   (a `MasterInfo.Capability` of a type its `v1` schema lacks is
    ///   written `{}`), and Mesos's reader refuses an enum given as a number.
    fn as_mesos_writes(message: &mut DynamicMessage) {
        let descriptor = prost_reflect::ReflectMessage::descriptor(&*message);
        for field in descriptor.fields() {
            if !message.has_field(&field) {
                let proto = field.field_descriptor_proto();
                let deprecated = proto.options.as_ref().is_some_and(|o| o.deprecated());
                if !field.is_list()
                    && !field.is_map()
                    && proto.default_value.is_some()
                    && !deprecated
                    && field.containing_oneof().is_none()
                {
                    message.set_field(&field, Value::default_value_for_field(&field));
                }
                continue;
            }
            if let prost_reflect::Kind::Enum(kind) = field.kind() {
                let known =
                    |v: &Value| matches!(v, Value::EnumNumber(n) if kind.get_value(*n).is_some());
                match message.get_field_mut(&field) {
                    Value::List(items) => items.retain(known),
                    value if !known(value) => message.clear_field(&field),
                    _ => {}
                }
                continue;
            }
            match message.get_field_mut(&field) {
                Value::Message(inner) => as_mesos_writes(inner),
                Value::List(items) => {
                    for item in items {
                        if let Value::Message(inner) = item {
                            as_mesos_writes(inner);
                        }
                    }
                }
                Value::Map(entries) => {
                    for value in entries.values_mut() {
                        if let Value::Message(inner) = value {
                            as_mesos_writes(inner);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn decode<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
        let desc = descriptor::<M>()?;
        let options = DeserializeOptions::new().deny_unknown_fields(false);
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let json_error = |source| DecodeError::Json {
            message_type: M::full_name(),
            source,
        };
        let value = <serde_json::Value as serde::Deserialize>::deserialize(&mut deserializer)
            .map_err(json_error)?;
        deserializer.end().map_err(json_error)?;
        if let Some(message) = crate::json_kinds::numeric_enum(&desc, &value) {
            return Err(json_error(serde::de::Error::custom(message)));
        }
        let dynamic =
            DynamicMessage::deserialize_with_options(desc, value, &options).map_err(json_error)?;
        dynamic
            .transcode_to::<M>()
            .map_err(|source| DecodeError::Protobuf {
                message_type: M::full_name(),
                source,
            })
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
