//! What decoding a message would cost, found without decoding it.
//!
//! A body limit counts wire bytes, but decoding can cost far more memory
//! than it reads: an empty sub-message in a repeated field is 2 bytes of
//! protobuf (3 of JSON, `{},`) and a whole struct once decoded (an
//! `Offer.Operation` is about 500 bytes), so 16 MiB of empty operations in
//! one ACCEPT would decode into gigabytes. [`MediaType::decode_cost`] walks
//! the encoding against the schema's descriptors — the protobuf wire format
//! tag by tag, JSON through serde without building anything — and counts
//! the message instances and an estimate of the memory the decoded value
//! would hold, stopping as soon as a [`DecodeLimits`] is passed.
//! [`MediaType::decode_bounded`] decodes only what passes.
//!
//! The estimate is deliberately simple: each message instance costs a flat
//! size derived from its fields (about what prost's struct takes), each
//! element of a repeated scalar 8 bytes, each string or bytes value its
//! length. It is within a small factor of the real allocation for the Mesos
//! schema, and it is proportional to what decoding would really do, which
//! is what a limit needs.
//!
//! ```
//! use mesos_proto::cost::DecodeLimits;
//! use mesos_proto::v1::scheduler::Call;
//! use mesos_proto::MediaType;
//!
//! // 100,000 empty `operations` in an ACCEPT: 400 kB on the wire.
//! let mut body = vec![0x10, 0x03]; // type: ACCEPT
//! let mut accept = Vec::new();
//! for _ in 0..100_000 {
//!     accept.extend_from_slice(&[0x12, 0x00]); // operations: {}
//! }
//! body.push(0x22); // accept (field 4, length-delimited)
//! let mut len = accept.len();
//! while len >= 0x80 {
//!     body.push((len as u8) | 0x80);
//!     len >>= 7;
//! }
//! body.push(len as u8);
//! body.extend_from_slice(&accept);
//!
//! let limits = DecodeLimits::default().max_bytes(8 << 20);
//! assert!(MediaType::Protobuf.decode_cost::<Call>(&body, &limits).is_err());
//! assert!(MediaType::Protobuf.decode_bounded::<Call>(&body, &limits).is_err());
//! ```

use std::cell::Cell;

use prost_reflect::{Kind, MessageDescriptor};

use crate::codec::{DecodeError, MediaType, SchemaError, WireMessage};

mod json;
pub(crate) mod protobuf;
#[cfg(test)]
mod tests;

use json::walk_json;
use protobuf::walk_protobuf;

/// How much one decode may cost. Defaults: [`DEFAULT_MAX_MESSAGES`],
/// [`DEFAULT_MAX_DECODED_BYTES`], [`DEFAULT_MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeLimits {
    /// Message instances (the message itself, each sub-message, each
    /// element of a repeated message field).
    pub max_messages: usize,
    /// Estimated memory of the decoded value, in bytes.
    pub max_bytes: usize,
    /// Nesting of sub-messages.
    pub max_depth: u32,
}

/// Default of [`DecodeLimits::max_messages`]: 1,000,000.
pub const DEFAULT_MAX_MESSAGES: usize = 1_000_000;
/// Default of [`DecodeLimits::max_bytes`]: 64 MiB.
pub const DEFAULT_MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;
/// Default of [`DecodeLimits::max_depth`]: 64 (prost refuses beyond 100).
pub const DEFAULT_MAX_DEPTH: u32 = 64;

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_bytes: DEFAULT_MAX_DECODED_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl DecodeLimits {
    /// With `max_messages` message instances at most.
    #[must_use]
    pub fn max_messages(mut self, max: usize) -> Self {
        self.max_messages = max;
        self
    }

    /// With an estimated decoded size of `max` bytes at most.
    #[must_use]
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// With sub-messages nested `max` deep at most.
    #[must_use]
    pub fn max_depth(mut self, max: u32) -> Self {
        self.max_depth = max;
        self
    }
}

/// What decoding would cost (as far as the walk went).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeCost {
    /// Message instances.
    pub messages: usize,
    /// Estimated memory of the decoded value, in bytes.
    pub bytes: usize,
    /// Deepest nesting seen.
    pub depth: u32,
}

/// Why an encoding was refused before decoding.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CostError {
    /// It holds more message instances than allowed.
    #[error("{message_type} holds more than {limit} messages")]
    TooManyMessages {
        /// Fully qualified protobuf name of the expected type.
        message_type: String,
        /// The limit.
        limit: usize,
    },
    /// Its decoded form would take more memory than allowed.
    #[error("{message_type} would take more than {limit} bytes once decoded")]
    TooLarge {
        /// Fully qualified protobuf name of the expected type.
        message_type: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Its sub-messages nest deeper than allowed.
    #[error("{message_type} nests sub-messages more than {limit} deep")]
    TooDeep {
        /// Fully qualified protobuf name of the expected type.
        message_type: String,
        /// The limit.
        limit: u32,
    },
    /// The encoding is not valid (decoding would fail too).
    #[error("invalid encoding of {message_type}: {reason}")]
    Malformed {
        /// Fully qualified protobuf name of the expected type.
        message_type: String,
        /// What is wrong.
        reason: String,
    },
    /// The type is not part of the Mesos schema this crate carries.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// [`MediaType::decode_bounded`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoundedDecodeError {
    /// Refused before decoding: it would cost too much.
    #[error(transparent)]
    Cost(CostError),
    /// Decoding failed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl MediaType {
    /// Walks `bytes` as an encoding of `M` and returns what decoding it
    /// would cost, or the first limit it passes. An invalid encoding is
    /// [`CostError::Malformed`], with what the walk had counted until then
    /// within the limits.
    pub fn decode_cost<M: WireMessage>(
        self,
        bytes: &[u8],
        limits: &DecodeLimits,
    ) -> Result<DecodeCost, CostError> {
        let desc = crate::codec::descriptor_of::<M>()?;
        let counter = Counter {
            limits: *limits,
            cost: Cell::new(DecodeCost::default()),
            over: Cell::new(None),
        };
        let result = match self {
            MediaType::Protobuf => walk_protobuf(bytes, &desc, 1, &counter),
            MediaType::Json => walk_json(bytes, desc, &counter),
        };
        let over = counter.over.take();
        match (over, result) {
            (Some(over), _) => Err(over.into_error(M::full_name(), limits)),
            (None, Ok(())) => Ok(counter.cost.get()),
            (None, Err(reason)) => Err(CostError::Malformed {
                message_type: M::full_name(),
                reason,
            }),
        }
    }

    /// Decodes `bytes` as an `M` if [`decode_cost`](Self::decode_cost)
    /// finds it within `limits`. An invalid encoding is decoded anyway (the
    /// walk counted everything before the fault, within the limits) so the
    /// error is the decoder's own. A type without a descriptor in the
    /// schema cannot be walked: it is decoded unbounded.
    pub fn decode_bounded<M: WireMessage>(
        self,
        bytes: &[u8],
        limits: &DecodeLimits,
    ) -> Result<M, BoundedDecodeError> {
        match self.decode_cost::<M>(bytes, limits) {
            Ok(_) | Err(CostError::Malformed { .. } | CostError::Schema(_)) => {
                Ok(self.decode::<M>(bytes)?)
            }
            Err(e) => Err(BoundedDecodeError::Cost(e)),
        }
    }
}

/// Which limit was passed.
#[derive(Debug, Clone, Copy)]
enum Over {
    Messages,
    Bytes,
    Depth,
}

impl Over {
    fn into_error(self, message_type: String, limits: &DecodeLimits) -> CostError {
        match self {
            Over::Messages => CostError::TooManyMessages {
                message_type,
                limit: limits.max_messages,
            },
            Over::Bytes => CostError::TooLarge {
                message_type,
                limit: limits.max_bytes,
            },
            Over::Depth => CostError::TooDeep {
                message_type,
                limit: limits.max_depth,
            },
        }
    }
}

/// Running totals; `over` is set (and the walk stops) at the first limit.
struct Counter {
    limits: DecodeLimits,
    cost: Cell<DecodeCost>,
    over: Cell<Option<Over>>,
}

/// The walk stops: a limit was passed, or the encoding is invalid.
pub(crate) type Stop = String;

impl Counter {
    fn stop(&self, over: Over) -> Stop {
        self.over.set(Some(over));
        "limit".to_string()
    }

    fn bytes(&self, n: usize) -> Result<(), Stop> {
        let mut cost = self.cost.get();
        cost.bytes = cost.bytes.saturating_add(n);
        self.cost.set(cost);
        if cost.bytes > self.limits.max_bytes {
            return Err(self.stop(Over::Bytes));
        }
        Ok(())
    }

    fn message(&self, desc: &MessageDescriptor, depth: u32) -> Result<(), Stop> {
        if depth > self.limits.max_depth {
            return Err(self.stop(Over::Depth));
        }
        let mut cost = self.cost.get();
        cost.messages += 1;
        cost.depth = cost.depth.max(depth);
        self.cost.set(cost);
        if cost.messages > self.limits.max_messages {
            return Err(self.stop(Over::Messages));
        }
        self.bytes(flat_size(desc))
    }
}

/// About what prost's struct for `desc` takes: a slot per field (boxed or
/// inline sub-messages alike, as the instances are counted on their own).
fn flat_size(desc: &MessageDescriptor) -> usize {
    let fields: usize = desc
        .fields()
        .map(|field| {
            if field.is_list() || field.is_map() {
                24
            } else {
                match field.kind() {
                    Kind::Message(_) => 40,
                    Kind::String | Kind::Bytes => 24,
                    _ => 16,
                }
            }
        })
        .sum();
    (8 + fields).max(32)
}
