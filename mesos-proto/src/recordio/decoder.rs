//! The incremental RecordIO decoder.

use bytes::{Buf, Bytes, BytesMut};

use super::{encode_record, RecordIoError, DEFAULT_MAX_RECORD_LEN, MAX_LENGTH_DIGITS};

/// The most [`RecordIoCodec::decode`] reserves ahead for a record whose
/// length is known but whose payload has not all arrived: the default
/// maximum record length, so that a decoder configured with a far larger
/// maximum does not try to allocate what a peer's length prefix claims.
const MAX_RESERVE_AHEAD: usize = DEFAULT_MAX_RECORD_LEN;

/// An incremental, bounded RecordIO decoder (and encoder).
///
/// Bytes go into a caller-owned [`BytesMut`]; [`decode`](Self::decode) takes
/// whole records out of its front as they complete. Chunks may be split at any
/// byte and may hold many records. The codec remembers where it is, so each
/// byte of a length prefix is examined once and a large record being received
/// in many chunks is not rescanned: once its length is known, every further
/// call is a single comparison until all of it has arrived.
///
/// Digits of a length prefix are consumed from the buffer as they are read,
/// so the same buffer must be passed to every call for one stream.
///
/// Records come out as [`Bytes`] split off the buffer, without copying.
///
/// # Errors and resynchronisation
///
/// A malformed stream is reported as soon as the offending byte is seen (see
/// [`RecordIoError`]). The codec then stays at that byte: calling
/// [`decode`](Self::decode) again returns the same error. RecordIO has no
/// marker to resynchronise on, so the caller should drop the stream (and, for
/// Mesos, resubscribe).
#[derive(Debug, Clone)]
pub struct RecordIoCodec {
    max_record_len: usize,
    state: State,
}

/// Where the decoder is within the current record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the length prefix. The `digits` digits read so far have been
    /// consumed from the buffer and accumulated into `value`.
    Head { digits: usize, value: u64 },
    /// The header has been consumed and checked against the maximum; the
    /// payload is `len` bytes long and starts at the front of the buffer.
    Data(usize),
}

impl State {
    const START: Self = Self::Head {
        digits: 0,
        value: 0,
    };
}

impl Default for RecordIoCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordIoCodec {
    /// A codec that accepts records up to [`DEFAULT_MAX_RECORD_LEN`] bytes.
    #[must_use]
    pub fn new() -> Self {
        Self {
            max_record_len: DEFAULT_MAX_RECORD_LEN,
            state: State::START,
        }
    }

    /// Sets the longest record, in bytes, the decoder accepts. Longer records
    /// fail with [`RecordIoError::RecordTooLarge`]. Encoding is not limited.
    #[must_use]
    pub fn with_max_record_len(mut self, max_record_len: usize) -> Self {
        self.max_record_len = max_record_len;
        self
    }

    /// The longest record, in bytes, the decoder accepts.
    #[must_use]
    pub fn max_record_len(&self) -> usize {
        self.max_record_len
    }

    /// Takes the next complete record off the front of `src`.
    ///
    /// Returns `Ok(None)` when `src` does not yet hold the rest of a record
    /// (append more bytes and call again), and `Ok(Some(record))` for each
    /// record, including empty ones; call it in a loop until it returns
    /// `Ok(None)`, as one chunk may complete several records.
    ///
    /// # Errors
    ///
    /// [`InvalidLengthByte`](RecordIoError::InvalidLengthByte),
    /// [`LengthPrefixTooLong`](RecordIoError::LengthPrefixTooLong) or
    /// [`RecordTooLarge`](RecordIoError::RecordTooLarge) if the stream is
    /// malformed or over the limit. The error is repeated by later calls.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, RecordIoError> {
        let len = match self.state {
            State::Data(len) => len,
            State::Head { digits, value } => match self.read_head(src, digits, value)? {
                Some(len) => len,
                None => return Ok(None),
            },
        };
        if src.len() < len {
            // Making room for the rest of the record up front saves
            // regrowing. `len` has been checked against the maximum, but that
            // may be set far above what can be allocated (`usize::MAX` for
            // "no limit"), and the bytes may never come: reserve at most
            // `MAX_RESERVE_AHEAD` and let the buffer grow past it as they do.
            src.reserve((len - src.len()).min(MAX_RESERVE_AHEAD));
            return Ok(None);
        }
        self.state = State::START;
        Ok(Some(src.split_to(len).freeze()))
    }

    /// Like [`decode`](Self::decode), for when the stream has ended and no
    /// more bytes will be appended to `src`.
    ///
    /// Returns the next complete record if there is one, and `Ok(None)` once
    /// `src` is empty and no record is in progress, i.e. the stream ended
    /// cleanly between records.
    ///
    /// # Errors
    ///
    /// Those of [`decode`](Self::decode), and
    /// [`Truncated`](RecordIoError::Truncated) if the stream ended inside a
    /// length prefix or a payload.
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, RecordIoError> {
        if let Some(record) = self.decode(src)? {
            return Ok(Some(record));
        }
        match self.state {
            State::Head { digits: 0, .. } => Ok(None),
            State::Head { digits, .. } => Err(RecordIoError::Truncated {
                expected: None,
                received: digits,
            }),
            State::Data(len) => Err(RecordIoError::Truncated {
                expected: Some(len as u64),
                received: src.len(),
            }),
        }
    }

    /// Appends `record` to `dst` as one RecordIO record; the same as
    /// [`encode_record`](super::encode_record).
    pub fn encode(&self, record: &[u8], dst: &mut BytesMut) {
        encode_record(record, dst);
    }

    /// Reads length-prefix bytes from the front of `src`, consuming them,
    /// starting from `digits` digits already read with value `value`.
    ///
    /// Returns the record length once the `\n` has been consumed (the state is
    /// then `Data`), or `None` if `src` ran out first (the state then records
    /// the digits read). On error, the state and `src` are left at the
    /// offending byte so that the next call reports it again.
    fn read_head(
        &mut self,
        src: &mut BytesMut,
        mut digits: usize,
        mut value: u64,
    ) -> Result<Option<usize>, RecordIoError> {
        let mut result = Ok(None);
        let mut consumed = 0;
        for &byte in src.iter() {
            if byte == b'\n' && digits > 0 {
                result = self.check_len(value).map(Some);
                if result.is_ok() {
                    consumed += 1;
                }
                break;
            }
            if !byte.is_ascii_digit() {
                result = Err(RecordIoError::InvalidLengthByte {
                    byte,
                    position: digits,
                });
                break;
            }
            let next = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(byte - b'0')));
            match next {
                Some(next) if digits < MAX_LENGTH_DIGITS => value = next,
                _ => {
                    result = Err(RecordIoError::LengthPrefixTooLong { digits: digits + 1 });
                    break;
                }
            }
            digits += 1;
            consumed += 1;
        }
        src.advance(consumed);
        self.state = match result {
            Ok(Some(len)) => State::Data(len),
            _ => State::Head { digits, value },
        };
        result
    }

    /// Checks a declared record length against the maximum.
    fn check_len(&self, len: u64) -> Result<usize, RecordIoError> {
        let too_large = RecordIoError::RecordTooLarge {
            len,
            max: self.max_record_len,
        };
        match usize::try_from(len) {
            Ok(len) if len <= self.max_record_len => Ok(len),
            _ => Err(too_large),
        }
    }
}

#[cfg(feature = "codec")]
impl tokio_util::codec::Decoder for RecordIoCodec {
    type Item = Bytes;
    type Error = RecordIoError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, RecordIoError> {
        RecordIoCodec::decode(self, src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, RecordIoError> {
        RecordIoCodec::decode_eof(self, src)
    }
}

#[cfg(feature = "codec")]
impl tokio_util::codec::Encoder<Bytes> for RecordIoCodec {
    type Error = RecordIoError;

    fn encode(&mut self, record: Bytes, dst: &mut BytesMut) -> Result<(), RecordIoError> {
        encode_record(&record, dst);
        Ok(())
    }
}

#[cfg(feature = "codec")]
impl<'a> tokio_util::codec::Encoder<&'a [u8]> for RecordIoCodec {
    type Error = RecordIoError;

    fn encode(&mut self, record: &'a [u8], dst: &mut BytesMut) -> Result<(), RecordIoError> {
        encode_record(record, dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(bytes: &[u8]) -> BytesMut {
        BytesMut::from(bytes)
    }

    #[test]
    fn prefix_digits_are_consumed_once_and_remembered() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"12");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert!(src.is_empty());
        assert_eq!(
            codec.state,
            State::Head {
                digits: 2,
                value: 12
            }
        );

        src.extend_from_slice(b"3");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert_eq!(
            codec.state,
            State::Head {
                digits: 3,
                value: 123
            }
        );

        src.extend_from_slice(b"\nab");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert_eq!(codec.state, State::Data(123));
        assert_eq!(&src[..], b"ab");
    }

    #[test]
    fn waiting_for_payload_reserves_the_rest_and_keeps_the_state() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"1000\nabc");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert_eq!(codec.state, State::Data(1000));
        assert!(src.capacity() >= 1000);
        // Another call without new bytes changes nothing.
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert_eq!(&src[..], b"abc");
        src.extend_from_slice(&[b'x'; 997]);
        let record = codec.decode(&mut src).unwrap().unwrap();
        assert_eq!(record.len(), 1000);
        assert_eq!(&record[..3], b"abc");
        assert_eq!(codec.state, State::START);
        assert!(src.is_empty());
    }

    /// Found by `fuzz/` (target `recordio`): with the maximum set to
    /// `usize::MAX`, a length prefix of 6.7e15 made `decode` reserve that
    /// much up front, aborting the process on the failed allocation.
    #[test]
    fn huge_declared_length_under_an_unlimited_maximum_does_not_preallocate_it() {
        let mut codec = RecordIoCodec::new().with_max_record_len(usize::MAX);
        let mut src = buf(b"6666666666666666\nabc");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert_eq!(&src[..], b"abc");
        assert!(src.capacity() < 2 * MAX_RESERVE_AHEAD);
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert!(matches!(
            codec.decode_eof(&mut src),
            Err(RecordIoError::Truncated {
                expected: Some(6_666_666_666_666_666),
                received: 3
            })
        ));
    }

    #[test]
    fn zero_length_records_and_back_to_back_records() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"0\n0\n1\n\n3\n0\n9");
        let mut out = Vec::new();
        while let Some(record) = codec.decode(&mut src).unwrap() {
            out.push(record);
        }
        assert_eq!(out, [&b""[..], b"", b"\n", b"0\n9"]);
        assert_eq!(codec.decode_eof(&mut src).unwrap(), None);
    }

    #[test]
    fn leading_zeros_are_accepted_up_to_the_digit_limit() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"00000000000000000002\nhi");
        assert_eq!(&codec.decode(&mut src).unwrap().unwrap()[..], b"hi");

        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"000000000000000000002\nhi");
        assert!(matches!(
            codec.decode(&mut src),
            Err(RecordIoError::LengthPrefixTooLong { digits: 21 })
        ));
    }

    #[test]
    fn u64_overflow_is_a_too_long_prefix() {
        // u64::MAX is 18446744073709551615; one more overflows at digit 20.
        let mut codec = RecordIoCodec::new().with_max_record_len(usize::MAX);
        let mut src = buf(b"18446744073709551616\n");
        assert!(matches!(
            codec.decode(&mut src),
            Err(RecordIoError::LengthPrefixTooLong { digits: 20 })
        ));
        // u64::MAX itself parses, and is then over any usize-sized limit
        // on 32-bit targets or equal to it on 64-bit ones: it must not
        // allocate either way.
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"18446744073709551615\n");
        assert!(matches!(
            codec.decode(&mut src),
            Err(RecordIoError::RecordTooLarge {
                len: u64::MAX,
                max: DEFAULT_MAX_RECORD_LEN
            })
        ));
    }

    #[test]
    fn maximum_is_inclusive() {
        let mut codec = RecordIoCodec::new().with_max_record_len(3);
        let mut src = buf(b"3\nabc4\n");
        assert_eq!(&codec.decode(&mut src).unwrap().unwrap()[..], b"abc");
        assert!(matches!(
            codec.decode(&mut src),
            Err(RecordIoError::RecordTooLarge { len: 4, max: 3 })
        ));
    }

    #[test]
    fn zero_maximum_allows_only_empty_records() {
        let mut codec = RecordIoCodec::new().with_max_record_len(0);
        let mut src = buf(b"0\n1\n");
        assert_eq!(codec.decode(&mut src).unwrap().as_deref(), Some(&b""[..]));
        assert!(matches!(
            codec.decode(&mut src),
            Err(RecordIoError::RecordTooLarge { len: 1, max: 0 })
        ));
    }

    #[test]
    fn errors_are_sticky_and_point_at_the_offending_byte() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"1\nx12a\n");
        assert_eq!(&codec.decode(&mut src).unwrap().unwrap()[..], b"x");
        for _ in 0..3 {
            assert!(matches!(
                codec.decode(&mut src),
                Err(RecordIoError::InvalidLengthByte {
                    byte: b'a',
                    position: 2
                })
            ));
            assert_eq!(&src[..], b"a\n");
        }
        assert!(matches!(
            codec.decode_eof(&mut src),
            Err(RecordIoError::InvalidLengthByte { .. })
        ));
    }

    #[test]
    fn empty_prefix_is_an_invalid_newline() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"\n");
        assert!(matches!(
            codec.decode(&mut src),
            Err(RecordIoError::InvalidLengthByte {
                byte: b'\n',
                position: 0
            })
        ));
    }

    #[test]
    fn whitespace_and_signs_are_not_digits() {
        for input in [&b" 1\nx"[..], b"1 \nx", b"+1\nx", b"-1\nx", b"1\r\nx"] {
            let mut codec = RecordIoCodec::new();
            let mut src = buf(input);
            assert!(
                matches!(
                    codec.decode(&mut src),
                    Err(RecordIoError::InvalidLengthByte { .. })
                ),
                "{input:?}"
            );
        }
    }

    #[test]
    fn too_large_is_reported_at_the_newline_and_is_sticky() {
        let mut codec = RecordIoCodec::new().with_max_record_len(10);
        let mut src = buf(b"11");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        src.extend_from_slice(b"\n");
        for _ in 0..2 {
            assert!(matches!(
                codec.decode(&mut src),
                Err(RecordIoError::RecordTooLarge { len: 11, max: 10 })
            ));
        }
        // Nothing was reserved for the refused record.
        assert!(src.capacity() < 11);
    }

    #[test]
    fn eof_between_records_is_clean() {
        let mut codec = RecordIoCodec::new();
        let mut src = BytesMut::new();
        assert_eq!(codec.decode_eof(&mut src).unwrap(), None);
        let mut src = buf(b"2\nok");
        assert_eq!(
            codec.decode_eof(&mut src).unwrap().as_deref(),
            Some(&b"ok"[..])
        );
        assert_eq!(codec.decode_eof(&mut src).unwrap(), None);
    }

    #[test]
    fn eof_inside_a_prefix_or_payload_is_truncated() {
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"12");
        assert!(matches!(
            codec.decode_eof(&mut src),
            Err(RecordIoError::Truncated {
                expected: None,
                received: 2
            })
        ));

        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"12\nabc");
        assert!(matches!(
            codec.decode_eof(&mut src),
            Err(RecordIoError::Truncated {
                expected: Some(12),
                received: 3
            })
        ));

        // Right after the newline of a non-empty record: nothing received.
        let mut codec = RecordIoCodec::new();
        let mut src = buf(b"1\n");
        assert!(matches!(
            codec.decode_eof(&mut src),
            Err(RecordIoError::Truncated {
                expected: Some(1),
                received: 0
            })
        ));
    }

    #[test]
    fn clone_carries_the_state() {
        let mut codec = RecordIoCodec::new().with_max_record_len(100);
        let mut src = buf(b"5\nab");
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        let mut copy = codec.clone();
        assert_eq!(copy.max_record_len(), 100);
        src.extend_from_slice(b"cde");
        assert_eq!(
            copy.decode(&mut src).unwrap().as_deref(),
            Some(&b"abcde"[..])
        );
    }

    #[test]
    fn default_is_new() {
        assert_eq!(
            RecordIoCodec::default().max_record_len(),
            DEFAULT_MAX_RECORD_LEN
        );
        assert_eq!(RecordIoCodec::default().state, State::START);
    }

    #[test]
    fn inherent_encode_matches_encode_record() {
        let mut a = BytesMut::new();
        let mut b = BytesMut::new();
        RecordIoCodec::new().encode(b"abc", &mut a);
        encode_record(b"abc", &mut b);
        assert_eq!(a, b);
    }

    #[cfg(feature = "codec")]
    #[test]
    fn tokio_util_traits_delegate() {
        use tokio_util::codec::{Decoder, Encoder};

        let mut codec = RecordIoCodec::new();
        let mut dst = BytesMut::new();
        Encoder::encode(&mut codec, Bytes::from_static(b"one"), &mut dst).unwrap();
        Encoder::encode(&mut codec, &b""[..], &mut dst).unwrap();
        assert_eq!(&dst[..], b"3\none0\n");
        assert_eq!(
            Decoder::decode(&mut codec, &mut dst).unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            Decoder::decode_eof(&mut codec, &mut dst)
                .unwrap()
                .as_deref(),
            Some(&b""[..])
        );
        assert_eq!(Decoder::decode_eof(&mut codec, &mut dst).unwrap(), None);
    }
}
