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
//!   know: a newer master may send either.
//!
//! The JSON mapping is done by [`prost_reflect`] over the schema's descriptors
//! ([`FILE_DESCRIPTOR_SET`](crate::FILE_DESCRIPTOR_SET)), not by hand.
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
//!     r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"example"}}}"#
//! );
//! let back: Call = MediaType::Json.decode(&json)?;
//! assert_eq!(back, call);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, SerializeOptions};

/// A protobuf message of the Mesos schema that the codecs can carry.
///
/// Implemented for every generated type (they all implement [`prost::Name`]).
pub trait WireMessage: prost::Message + prost::Name + Default {}

impl<T: prost::Message + prost::Name + Default> WireMessage for T {}

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
            MediaType::Json => json::encode(message).map(Bytes::from),
        }
    }

    /// Decodes one message of type `M` from `bytes` in this media type.
    pub fn decode<M: WireMessage>(self, bytes: &[u8]) -> Result<M, DecodeError> {
        match self {
            MediaType::Protobuf => M::decode(bytes).map_err(|source| DecodeError::Protobuf {
                message_type: M::full_name(),
                source,
            }),
            MediaType::Json => json::decode(bytes),
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
    /// The JSON serializer failed.
    #[error("JSON encoding of {message_type} failed")]
    Json {
        /// Fully qualified protobuf name of the type.
        message_type: String,
        /// What the serializer reported.
        #[source]
        source: serde_json::Error,
    },
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
    json::pool()
        .get_message_by_name(name)
        .ok_or_else(|| SchemaError {
            message_type: name.to_string(),
        })
}

mod json {
    use super::*;

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
            DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).unwrap_or_default()
        })
    }

    fn descriptor<M: WireMessage>() -> Result<prost_reflect::MessageDescriptor, SchemaError> {
        let name = M::full_name();
        pool()
            .get_message_by_name(&name)
            .ok_or(SchemaError { message_type: name })
    }

    pub(super) fn encode<M: WireMessage>(message: &M) -> Result<Vec<u8>, EncodeError> {
        let desc = descriptor::<M>()?;
        let mut dynamic = DynamicMessage::new(desc);
        // Re-reading our own encoding cannot fail for a schema type; if it ever
        // did, the type would not match its descriptor.
        dynamic.transcode_from(message).map_err(|_| SchemaError {
            message_type: M::full_name(),
        })?;
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

    pub(super) fn decode<M: WireMessage>(bytes: &[u8]) -> Result<M, DecodeError> {
        let desc = descriptor::<M>()?;
        let options = DeserializeOptions::new().deny_unknown_fields(false);
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let json_error = |source| DecodeError::Json {
            message_type: M::full_name(),
            source,
        };
        let dynamic = DynamicMessage::deserialize_with_options(desc, &mut deserializer, &options)
            .map_err(json_error)?;
        deserializer.end().map_err(json_error)?;
        dynamic
            .transcode_to::<M>()
            .map_err(|source| DecodeError::Protobuf {
                message_type: M::full_name(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;

    #[test]
    fn descriptor_set_loads_and_has_every_api_message() {
        let pool = DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).expect("valid descriptors");
        for name in [
            "mesos.v1.TaskInfo",
            "mesos.v1.scheduler.Call",
            "mesos.v1.scheduler.Event",
            "mesos.v1.executor.Call",
            "mesos.v1.executor.Event",
        ] {
            assert!(pool.get_message_by_name(name).is_some(), "{name} missing");
        }
    }

    #[test]
    fn mime_types_round_trip() {
        for media in [MediaType::Protobuf, MediaType::Json] {
            assert_eq!(MediaType::from_mime(media.mime()), Some(media));
        }
        assert_eq!(
            MediaType::from_mime("Application/X-Protobuf"),
            Some(MediaType::Protobuf)
        );
        assert_eq!(MediaType::from_mime(""), None);
    }

    #[test]
    fn json_uses_mesos_conventions() {
        let status = v1::TaskStatus {
            task_id: v1::TaskId { value: "t1".into() },
            state: v1::TaskState::TaskRunning as i32,
            uuid: Some(Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef])),
            timestamp: Some(1.5),
            ..Default::default()
        };
        let json = MediaType::Json.encode(&status).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "task_id": {"value": "t1"},
                "state": "TASK_RUNNING",
                "uuid": "3q2+7w==",
                "timestamp": 1.5
            })
        );
        let offer_id = v1::scheduler::Call {
            framework_id: Some(v1::FrameworkId { value: "f".into() }),
            r#type: Some(v1::scheduler::call::Type::Revive as i32),
            ..Default::default()
        };
        let back: v1::scheduler::Call = MediaType::Json
            .decode(&MediaType::Json.encode(&offer_id).unwrap())
            .unwrap();
        assert_eq!(back, offer_id);
    }

    #[test]
    fn json_64_bit_integers_are_numbers() {
        let range = v1::value::Range {
            begin: 31000,
            end: 1 << 40,
        };
        let json = MediaType::Json.encode(&range).unwrap();
        assert_eq!(&json[..], br#"{"begin":31000,"end":1099511627776}"#);
        // Strings are accepted too, as the proto JSON mapping allows.
        let parsed: v1::value::Range = MediaType::Json
            .decode(br#"{"begin":"31000","end":31005}"#)
            .unwrap();
        assert_eq!(
            parsed,
            v1::value::Range {
                begin: 31000,
                end: 31005
            }
        );
    }

    #[test]
    fn json_ignores_unknown_fields_and_enum_values() {
        let event: v1::scheduler::Event = MediaType::Json
            .decode(br#"{"type":"HEARTBEAT","from_the_future":{"x":1}}"#)
            .unwrap();
        assert_eq!(
            event.r#type,
            Some(v1::scheduler::event::Type::Heartbeat as i32)
        );
        let info: v1::MasterInfo = MediaType::Json
            .decode(
                br#"{"id":"m","ip":16777343,"port":5050,
                     "capabilities":[{"type":"AGENT_UPDATE"},{},{"type":"NOT_YET_INVENTED"}]}"#,
            )
            .unwrap();
        assert_eq!(info.capabilities.len(), 3);
        assert_eq!(info.capabilities[1].r#type, None);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let err = MediaType::Json
            .decode::<v1::scheduler::Event>(b"{\"type\":")
            .unwrap_err();
        assert!(
            matches!(err, DecodeError::Json { ref message_type, .. } if message_type == "mesos.v1.scheduler.Event")
        );
        let err = MediaType::Json
            .decode::<v1::scheduler::Event>(b"{} trailing")
            .unwrap_err();
        assert!(matches!(err, DecodeError::Json { .. }));
        let err = MediaType::Protobuf
            .decode::<v1::scheduler::Event>(&[0x0a, 0xff])
            .unwrap_err();
        assert!(matches!(err, DecodeError::Protobuf { .. }));
    }
}
