//! Mesos's RecordIO stream framing, incremental and bounded.
//!
//! The scheduler and executor HTTP APIs stream their events as RecordIO: every
//! record is its length in bytes as ASCII decimal digits, a single `\n`, then
//! exactly that many bytes of payload (one protobuf or JSON message). Records
//! follow each other with no separator, and a record of length zero (`0\n`)
//! is legal. For example, `20\n{"type":"HEARTBEAT"}2\n{}` holds two records.
//!
//! - [`RecordIoCodec`] is an incremental decoder: feed it bytes as they come,
//!   split anywhere, and it hands out whole records without copying them. With
//!   the `codec` feature (on by default) it is also a
//!   `tokio_util::codec::{Decoder, Encoder}`.
//! - [`RecordStream`] turns a stream of byte chunks (an HTTP response body,
//!   say) into a stream of records, without tokio-util.
//! - [`encode_record`] frames one record.
//!
//! Decoding is bounded: a record longer than
//! [`RecordIoCodec::max_record_len`] (by default [`DEFAULT_MAX_RECORD_LEN`])
//! is rejected as soon as its length prefix has been read, before any of it
//! is buffered. A malformed stream cannot be resynchronised (there is no
//! record marker to search for), so after a [framing
//! error](RecordIoError::is_framing) the caller should drop the connection and
//! reconnect.
//!
//! # Example
//!
//! Two records arriving in three chunks that split both the length prefix and
//! the payload:
//!
//! ```
//! use bytes::BytesMut;
//! use mesos_proto::recordio::RecordIoCodec;
//!
//! let mut codec = RecordIoCodec::new();
//! let mut buf = BytesMut::new();
//! let mut records = Vec::new();
//!
//! for chunk in [&b"2"[..], b"0\n{\"type\":\"HEART", b"BEAT\"}2\n{}"] {
//!     buf.extend_from_slice(chunk);
//!     while let Some(record) = codec.decode(&mut buf)? {
//!         records.push(record);
//!     }
//! }
//! // The stream has ended: nothing may be left half read.
//! assert_eq!(codec.decode_eof(&mut buf)?, None);
//!
//! assert_eq!(records, [&b"{\"type\":\"HEARTBEAT\"}"[..], b"{}"]);
//! # Ok::<(), mesos_proto::recordio::RecordIoError>(())
//! ```

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};

mod decoder;
mod stream;

pub use decoder::RecordIoCodec;
pub use stream::RecordStream;

/// The default upper bound, in bytes, on the length of one decoded record.
///
/// The length prefix comes from the peer, so without a bound a broken or
/// hostile master or agent could make the decoder buffer gigabytes for a
/// single record. 8 MiB still leaves room for big events: an `OFFERS` event
/// carries one offer per agent, each typically around a kilobyte, so it fits
/// several thousand of them, while the worst case stays harmless. Change it
/// with [`RecordIoCodec::with_max_record_len`].
pub const DEFAULT_MAX_RECORD_LEN: usize = 8 * 1024 * 1024;

/// The most digits a length prefix may have: `u64::MAX` has 20.
///
/// Longer prefixes (even ones padded with leading zeros) are rejected with
/// [`RecordIoError::LengthPrefixTooLong`] before the `\n` arrives.
pub(crate) const MAX_LENGTH_DIGITS: usize = 20;

/// Why a RecordIO stream could not be decoded.
///
/// The first four variants mean the stream itself is malformed or exceeds
/// the configured limits ([`is_framing`](Self::is_framing)); the stream cannot
/// be resynchronised after them. [`Io`](Self::Io) and [`Source`](Self::Source)
/// are failures of whatever delivers the bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordIoError {
    /// A byte of a record's length prefix is neither an ASCII digit nor the
    /// terminating `\n`, or the prefix is empty (the header starts with
    /// `\n`).
    #[error("invalid byte {byte:#04x} at position {position} of a record length prefix")]
    InvalidLengthByte {
        /// The offending byte.
        byte: u8,
        /// Its index within the length prefix (0 for the first byte).
        position: usize,
    },

    /// The length prefix has more digits than any record length can have, or
    /// its value does not fit in a `u64`.
    #[error("record length prefix is too long ({digits} digits)")]
    LengthPrefixTooLong {
        /// How many digits had been read when the prefix was rejected.
        digits: usize,
    },

    /// A record's declared length exceeds the decoder's maximum. Raised as
    /// soon as the length prefix has been read, before the payload arrives.
    #[error("record of {len} bytes exceeds the maximum of {max} bytes")]
    RecordTooLarge {
        /// The declared length of the record.
        len: u64,
        /// The decoder's [`max_record_len`](RecordIoCodec::max_record_len).
        max: usize,
    },

    /// The stream ended in the middle of a record.
    #[error("{}", truncated_message(*.expected, *.received))]
    Truncated {
        /// The declared length of the unfinished record, or `None` if the
        /// stream ended inside its length prefix.
        expected: Option<u64>,
        /// How much of the unfinished record had arrived: payload bytes if
        /// `expected` is `Some`, otherwise digits of the length prefix.
        received: usize,
    },

    /// An I/O error while reading the stream (raised by
    /// `tokio_util::codec::FramedRead`, which requires `From<io::Error>`).
    #[error("i/o error while reading a record stream")]
    Io(#[from] std::io::Error),

    /// The stream of chunks wrapped by [`RecordStream`] returned an error.
    #[error("the underlying byte stream failed")]
    Source(#[source] Box<dyn StdError + Send + Sync>),
}

impl RecordIoError {
    /// Whether the error means the stream is malformed or over the limits
    /// (`InvalidLengthByte`, `LengthPrefixTooLong`, `RecordTooLarge`,
    /// `Truncated`), rather than a failure of the transport (`Io`, `Source`).
    #[must_use]
    pub fn is_framing(&self) -> bool {
        match self {
            Self::InvalidLengthByte { .. }
            | Self::LengthPrefixTooLong { .. }
            | Self::RecordTooLarge { .. }
            | Self::Truncated { .. } => true,
            Self::Io(_) | Self::Source(_) => false,
        }
    }
}

fn truncated_message(expected: Option<u64>, received: usize) -> String {
    match expected {
        Some(len) => format!("stream ended after {received} of {len} bytes of a record"),
        None => format!("stream ended inside a record length prefix after {received} digits"),
    }
}

/// Appends `record` to `dst` as one RecordIO record: its length in decimal,
/// `\n`, then the bytes themselves.
///
/// ```
/// let mut dst = bytes::BytesMut::new();
/// mesos_proto::recordio::encode_record(b"{}", &mut dst);
/// mesos_proto::recordio::encode_record(b"", &mut dst);
/// assert_eq!(&dst[..], b"2\n{}0\n");
/// ```
pub fn encode_record(record: &[u8], dst: &mut BytesMut) {
    // Render the length right to left into a stack buffer.
    let mut digits = [0u8; MAX_LENGTH_DIGITS];
    let mut start = digits.len();
    // `usize` always fits in `u64` on supported targets; saturate otherwise.
    let mut len = u64::try_from(record.len()).unwrap_or(u64::MAX);
    loop {
        start -= 1;
        // `len % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (len % 10) as u8;
        len /= 10;
        if len == 0 {
            break;
        }
    }
    let prefix = &digits[start..];
    dst.reserve(prefix.len() + 1 + record.len());
    dst.put_slice(prefix);
    dst.put_u8(b'\n');
    dst.put_slice(record);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(record: &[u8]) -> Vec<u8> {
        let mut dst = BytesMut::new();
        encode_record(record, &mut dst);
        dst.to_vec()
    }

    #[test]
    fn encode_writes_decimal_length_newline_and_payload() {
        assert_eq!(encoded(b""), b"0\n");
        assert_eq!(encoded(b"x"), b"1\nx");
        assert_eq!(encoded(&[7; 10])[..3], *b"10\n");
        let big = vec![b'a'; 1234];
        let out = encoded(&big);
        assert_eq!(&out[..5], b"1234\n");
        assert_eq!(&out[5..], &big[..]);
    }

    #[test]
    fn encode_appends_to_existing_content() {
        let mut dst = BytesMut::from(&b"3\nabc"[..]);
        encode_record(b"\n9\n", &mut dst);
        assert_eq!(&dst[..], b"3\nabc3\n\n9\n");
    }

    #[test]
    fn framing_classification() {
        assert!(RecordIoError::InvalidLengthByte {
            byte: b'a',
            position: 2
        }
        .is_framing());
        assert!(RecordIoError::LengthPrefixTooLong { digits: 21 }.is_framing());
        assert!(RecordIoError::RecordTooLarge { len: 11, max: 10 }.is_framing());
        assert!(RecordIoError::Truncated {
            expected: None,
            received: 1
        }
        .is_framing());
        assert!(!RecordIoError::Io(std::io::Error::other("boom")).is_framing());
        assert!(!RecordIoError::Source("boom".into()).is_framing());
    }

    #[test]
    fn display_messages() {
        let cases = [
            (
                RecordIoError::InvalidLengthByte {
                    byte: b'a',
                    position: 2,
                },
                "invalid byte 0x61 at position 2 of a record length prefix",
            ),
            (
                RecordIoError::LengthPrefixTooLong { digits: 21 },
                "record length prefix is too long (21 digits)",
            ),
            (
                RecordIoError::RecordTooLarge { len: 11, max: 10 },
                "record of 11 bytes exceeds the maximum of 10 bytes",
            ),
            (
                RecordIoError::Truncated {
                    expected: Some(20),
                    received: 3,
                },
                "stream ended after 3 of 20 bytes of a record",
            ),
            (
                RecordIoError::Truncated {
                    expected: None,
                    received: 2,
                },
                "stream ended inside a record length prefix after 2 digits",
            ),
            (
                RecordIoError::Source("connection reset".into()),
                "the underlying byte stream failed",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn source_is_kept_for_transport_errors() {
        let error = RecordIoError::Source("connection reset".into());
        let source = error.source().map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("connection reset"));
        let error = RecordIoError::from(std::io::Error::other("eof"));
        assert!(error.source().is_some());
    }
}
