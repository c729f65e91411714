//! Integration tests of the RecordIO framing: real Mesos streams, every way of
//! splitting them, every error, and property tests.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::executor::block_on;
use futures::stream::{self, Stream, StreamExt};
use mesos_proto::recordio::{
    encode_record, RecordIoCodec, RecordIoError, RecordStream, DEFAULT_MAX_RECORD_LEN,
};
use mesos_proto::v1::scheduler::{event, Event};
use proptest::prelude::*;
use prost::Message;

/// `POST /api/v1/scheduler` SUBSCRIBE response body from a real Mesos 1.11
/// master, JSON: SUBSCRIBED, HEARTBEAT, OFFERS.
const JSON_STREAM: &[u8] = include_bytes!("data/subscribe-stream.recordio");
/// The same with `Accept: application/x-protobuf`.
const PROTOBUF_STREAM: &[u8] = include_bytes!("data/subscribe-stream-protobuf.recordio");

/// Everything an input produces: its records, then the error that ended it
/// (if any).
#[derive(Debug, PartialEq)]
struct Outcome {
    records: Vec<Bytes>,
    error: Option<String>,
}

impl Outcome {
    fn ok(records: Vec<Bytes>) -> Self {
        Self {
            records,
            error: None,
        }
    }
}

/// Feeds `chunks` one by one to the inherent decoder, then signals the end.
fn decode_chunks<'a>(
    mut codec: RecordIoCodec,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Outcome {
    let mut buf = BytesMut::new();
    let mut records = Vec::new();
    let error = |e: RecordIoError| Some(format!("{e:?}"));
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(record)) => records.push(record),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        records,
                        error: error(e),
                    }
                }
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => return Outcome::ok(records),
            Err(e) => {
                return Outcome {
                    records,
                    error: error(e),
                }
            }
        }
    }
}

/// The same through [`RecordStream`] over `futures::stream::iter`, checking
/// that nothing follows an error or the end.
fn stream_chunks<'a>(codec: RecordIoCodec, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let chunks: Vec<Result<Bytes, Infallible>> = chunks
        .into_iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut records = RecordStream::with_codec(stream::iter(chunks), codec);
    let mut outcome = Outcome::ok(Vec::new());
    while let Some(item) = block_on(records.next()) {
        match item {
            Ok(record) => outcome.records.push(record),
            Err(e) => {
                outcome.error = Some(format!("{e:?}"));
                break;
            }
        }
    }
    assert!(block_on(records.next()).is_none(), "stream not fused");
    outcome
}

/// Splits `data` at the (sorted, deduplicated) `points`.
fn split_at_points<'a>(data: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = points.iter().map(|&p| p.min(data.len())).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for point in points {
        chunks.push(&data[start..point]);
        start = point;
    }
    chunks.push(&data[start..]);
    chunks
}

fn encode_all(records: &[Vec<u8>]) -> Vec<u8> {
    let mut dst = BytesMut::new();
    for record in records {
        encode_record(record, &mut dst);
    }
    dst.to_vec()
}

// ---------------------------------------------------------------------------
// Real streams

#[test]
fn json_sample_decodes_to_subscribed_heartbeat_offers() {
    let outcome = decode_chunks(RecordIoCodec::new(), [JSON_STREAM]);
    assert_eq!(outcome.error, None);
    let texts: Vec<&str> = outcome
        .records
        .iter()
        .map(|r| std::str::from_utf8(r).unwrap())
        .collect();
    assert_eq!(texts.len(), 3);
    assert!(
        texts[0].starts_with(r#"{"type":"SUBSCRIBED""#),
        "{}",
        texts[0]
    );
    assert_eq!(texts[1], r#"{"type":"HEARTBEAT"}"#);
    assert!(texts[2].starts_with(r#"{"type":"OFFERS""#), "{}", texts[2]);
    // Every record is a whole JSON document.
    for text in texts {
        serde_json::from_str::<serde_json::Value>(text).unwrap();
    }
    // The lengths add up to the whole file: prefixes "431\n", "20\n", "671\n".
    let total: usize = outcome.records.iter().map(Bytes::len).sum();
    assert_eq!(total + 4 + 3 + 4, JSON_STREAM.len());
}

#[test]
fn protobuf_sample_decodes_to_scheduler_events() {
    let outcome = decode_chunks(RecordIoCodec::new(), [PROTOBUF_STREAM]);
    assert_eq!(outcome.error, None);
    let events: Vec<Event> = outcome
        .records
        .iter()
        .map(|r| Event::decode(r.clone()).unwrap())
        .collect();
    let types: Vec<event::Type> = events.iter().map(Event::r#type).collect();
    assert_eq!(
        types,
        [
            event::Type::Subscribed,
            event::Type::Heartbeat,
            event::Type::Offers
        ]
    );
    let subscribed = events[0].subscribed.as_ref().unwrap();
    assert_eq!(
        subscribed.framework_id.value,
        "2795a194-70dd-4d84-b261-fd5c42d3e610-0002"
    );
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(15.0));
    let offers = &events[2].offers.as_ref().unwrap().offers;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].hostname, "localhost");
    let names: Vec<&str> = offers[0]
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["ports", "cpus", "mem", "disk"]);
}

#[test]
fn samples_decode_the_same_at_every_split_point() {
    for data in [JSON_STREAM, PROTOBUF_STREAM] {
        let whole = decode_chunks(RecordIoCodec::new(), [data]);
        assert_eq!(whole.records.len(), 3);
        for point in 0..=data.len() {
            let (a, b) = data.split_at(point);
            assert_eq!(
                decode_chunks(RecordIoCodec::new(), [a, b]),
                whole,
                "split at {point}"
            );
        }
        // One byte at a time, through both interfaces.
        assert_eq!(decode_chunks(RecordIoCodec::new(), data.chunks(1)), whole);
        assert_eq!(stream_chunks(RecordIoCodec::new(), data.chunks(1)), whole);
        assert_eq!(stream_chunks(RecordIoCodec::new(), data.chunks(7)), whole);
    }
}

#[test]
fn samples_fit_comfortably_under_the_default_maximum() {
    assert_eq!(DEFAULT_MAX_RECORD_LEN, 8 * 1024 * 1024);
    assert_eq!(
        RecordIoCodec::new().max_record_len(),
        DEFAULT_MAX_RECORD_LEN
    );
    // ...and a limit below the SUBSCRIBED event's 431 bytes rejects it.
    let outcome = decode_chunks(RecordIoCodec::new().with_max_record_len(430), [JSON_STREAM]);
    assert!(outcome.records.is_empty());
    assert_eq!(
        outcome.error.as_deref(),
        Some("RecordTooLarge { len: 431, max: 430 }")
    );
}

// ---------------------------------------------------------------------------
// Framing

#[test]
fn many_records_in_one_chunk() {
    let records: Vec<Vec<u8>> = (0..100).map(|i| vec![b'0' + (i % 10) as u8; i]).collect();
    let data = encode_all(&records);
    let outcome = decode_chunks(RecordIoCodec::new(), [&data[..]]);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.records, records);
}

#[test]
fn zero_length_records() {
    let outcome = decode_chunks(RecordIoCodec::new(), [&b"0\n0\n2\n{}0\n"[..]]);
    assert_eq!(
        outcome,
        Outcome::ok(vec![
            Bytes::new(),
            Bytes::new(),
            Bytes::from("{}"),
            Bytes::new()
        ])
    );
    let outcome = stream_chunks(RecordIoCodec::new(), [&b"0"[..], b"\n"]);
    assert_eq!(outcome, Outcome::ok(vec![Bytes::new()]));
}

#[test]
fn records_are_split_off_the_buffer_without_copying() {
    let mut buf = BytesMut::from(&b"3\nabc2\nde"[..]);
    let start = buf.as_ptr() as usize;
    let mut codec = RecordIoCodec::new();
    let first = codec.decode(&mut buf).unwrap().unwrap();
    let second = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(first.as_ptr() as usize, start + 2);
    assert_eq!(second.as_ptr() as usize, start + 7);
}

// ---------------------------------------------------------------------------
// Errors

#[test]
fn non_digit_in_prefix() {
    for outcome in [
        decode_chunks(RecordIoCodec::new(), [&b"12a\nxxxxxxxxxxxx"[..]]),
        stream_chunks(RecordIoCodec::new(), [&b"1"[..], b"2a", b"\n"]),
    ] {
        assert!(outcome.records.is_empty());
        assert_eq!(
            outcome.error.as_deref(),
            Some("InvalidLengthByte { byte: 97, position: 2 }")
        );
    }
}

#[test]
fn empty_prefix() {
    let outcome = decode_chunks(RecordIoCodec::new(), [&b"2\nok\n2\nok"[..]]);
    assert_eq!(outcome.records, [&b"ok"[..]]);
    assert_eq!(
        outcome.error.as_deref(),
        Some("InvalidLengthByte { byte: 10, position: 0 }")
    );
}

#[test]
fn prefix_with_too_many_digits() {
    // 20 ones still fit in a u64 (u64::MAX is 18446744073709551615); the
    // 21st digit is rejected without waiting for the newline.
    let prefix = [b'1'; 25];
    let mut codec = RecordIoCodec::new();
    let mut buf = BytesMut::from(&prefix[..]);
    let error = codec.decode(&mut buf).unwrap_err();
    assert!(
        matches!(error, RecordIoError::LengthPrefixTooLong { digits: 21 }),
        "{error:?}"
    );
    assert!(error.is_framing());

    // All zeros do not overflow, but 21 digits are still too many.
    let zeros = [b'0'; 25];
    let outcome = stream_chunks(RecordIoCodec::new(), zeros.chunks(4));
    assert_eq!(
        outcome.error.as_deref(),
        Some("LengthPrefixTooLong { digits: 21 }")
    );
}

#[test]
fn record_over_the_maximum_is_refused_before_its_body_arrives() {
    let codec = RecordIoCodec::new().with_max_record_len(10);
    assert_eq!(codec.max_record_len(), 10);

    let mut decoder = codec.clone();
    let mut buf = BytesMut::from(&b"10\n0123456789"[..]);
    assert_eq!(
        decoder.decode(&mut buf).unwrap().unwrap(),
        &b"0123456789"[..]
    );
    buf.extend_from_slice(b"11\n");
    let error = decoder.decode(&mut buf).unwrap_err();
    assert!(
        matches!(error, RecordIoError::RecordTooLarge { len: 11, max: 10 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "record of 11 bytes exceeds the maximum of 10 bytes"
    );

    // Through RecordStream: the inner stream never delivers the body, yet
    // the error comes out.
    let header = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"11\n"))]);
    let mut records = RecordStream::with_codec(header.chain(stream::pending()), codec);
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    match Pin::new(&mut records).poll_next(&mut cx) {
        Poll::Ready(Some(Err(RecordIoError::RecordTooLarge { len: 11, max: 10 }))) => {}
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    assert!(matches!(
        Pin::new(&mut records).poll_next(&mut cx),
        Poll::Ready(None)
    ));
}

#[test]
fn stream_ending_mid_prefix() {
    let expected = Some("Truncated { expected: None, received: 2 }");
    let outcome = decode_chunks(RecordIoCodec::new(), [&b"1\nx"[..], b"12"]);
    assert_eq!(outcome.records, [&b"x"[..]]);
    assert_eq!(outcome.error.as_deref(), expected);
    let outcome = stream_chunks(RecordIoCodec::new(), [&b"1\nx1"[..], b"2"]);
    assert_eq!(outcome.records, [&b"x"[..]]);
    assert_eq!(outcome.error.as_deref(), expected);
}

#[test]
fn stream_ending_mid_record() {
    let expected = Some("Truncated { expected: Some(20), received: 10 }");
    let data: &[u8] = b"20\n{\"type\":\"HEARTBEAT\"}20\n{\"type\":\"H";
    let outcome = decode_chunks(RecordIoCodec::new(), [data]);
    assert_eq!(outcome.records, [&br#"{"type":"HEARTBEAT"}"#[..]]);
    assert_eq!(outcome.error.as_deref(), expected);
    let outcome = stream_chunks(RecordIoCodec::new(), data.chunks(5));
    assert_eq!(outcome.records, [&br#"{"type":"HEARTBEAT"}"#[..]]);
    assert_eq!(outcome.error.as_deref(), expected);

    let error = RecordIoCodec::new()
        .decode_eof(&mut BytesMut::from(&b"5\nab"[..]))
        .unwrap_err();
    assert!(error.is_framing());
    assert_eq!(
        error.to_string(),
        "stream ended after 2 of 5 bytes of a record"
    );
}

#[test]
fn truncation_is_reported_once_then_the_stream_ends() {
    let mut records = RecordStream::new(stream::iter([Ok::<_, Infallible>(Bytes::from_static(
        b"1\na5\nab",
    ))]));
    assert_eq!(block_on(records.next()).unwrap().unwrap(), &b"a"[..]);
    assert!(matches!(
        block_on(records.next()),
        Some(Err(RecordIoError::Truncated {
            expected: Some(5),
            received: 2
        }))
    ));
    assert!(block_on(records.next()).is_none());
    assert!(block_on(records.next()).is_none());
}

#[test]
fn source_error_is_passed_through() {
    #[derive(Debug)]
    struct Reset;
    impl std::fmt::Display for Reset {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connection reset by peer")
        }
    }
    impl std::error::Error for Reset {}

    let chunks = vec![
        Ok(Bytes::from_static(b"2\n{}3\n")),
        Err(Reset),
        Ok(Bytes::from_static(b"abc")),
    ];
    let mut records = RecordStream::new(stream::iter(chunks));
    assert_eq!(block_on(records.next()).unwrap().unwrap(), &b"{}"[..]);
    let error = block_on(records.next()).unwrap().unwrap_err();
    assert!(!error.is_framing());
    assert_eq!(error.to_string(), "the underlying byte stream failed");
    let source = std::error::Error::source(&error).unwrap();
    assert_eq!(source.to_string(), "connection reset by peer");
    assert!(source.is::<Reset>());
    // Fused: the chunk after the error is never decoded.
    assert!(block_on(records.next()).is_none());
}

#[test]
fn boxed_non_unpin_streams_can_be_wrapped() {
    let inner = stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"1\nq")) });
    let records: Vec<_> = block_on(RecordStream::new(Box::pin(inner)).collect());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].as_ref().unwrap(), &b"q"[..]);
}

// ---------------------------------------------------------------------------
// Encoding

#[test]
fn encoder_round_trip() {
    let records: Vec<Vec<u8>> = vec![
        b"{\"type\":\"HEARTBEAT\"}".to_vec(),
        Vec::new(),
        b"12\n34\n".to_vec(),
        vec![0xff; 5000],
    ];
    let mut dst = BytesMut::new();
    let codec = RecordIoCodec::new();
    for record in &records {
        codec.encode(record, &mut dst);
    }
    assert_eq!(&dst[..23], b"20\n{\"type\":\"HEARTBEAT\"}");
    assert_eq!(dst.to_vec(), encode_all(&records));
    let outcome = decode_chunks(RecordIoCodec::new(), dst.chunks(333));
    assert_eq!(
        outcome,
        Outcome::ok(records.into_iter().map(Bytes::from).collect())
    );
}

#[test]
fn encoding_the_decoded_samples_reproduces_them() {
    for data in [JSON_STREAM, PROTOBUF_STREAM] {
        let records = decode_chunks(RecordIoCodec::new(), [data]).records;
        let mut dst = BytesMut::new();
        for record in &records {
            encode_record(record, &mut dst);
        }
        assert_eq!(&dst[..], data);
    }
}

#[cfg(feature = "codec")]
mod tokio_codec {
    use super::*;
    use futures::SinkExt;
    use tokio_util::codec::{FramedRead, FramedWrite};

    #[tokio::test]
    async fn framed_read_decodes_the_sample() {
        let records: Vec<_> = FramedRead::new(JSON_STREAM, RecordIoCodec::new())
            .collect()
            .await;
        let records: Vec<Bytes> = records.into_iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            records,
            decode_chunks(RecordIoCodec::new(), [JSON_STREAM]).records
        );
    }

    #[tokio::test]
    async fn framed_read_reports_truncation() {
        let data = &JSON_STREAM[..JSON_STREAM.len() - 1];
        let mut records = FramedRead::new(data, RecordIoCodec::new());
        assert!(records.next().await.unwrap().is_ok());
        assert!(records.next().await.unwrap().is_ok());
        let error = records.next().await.unwrap().unwrap_err();
        assert!(
            matches!(
                error,
                RecordIoError::Truncated {
                    expected: Some(671),
                    received: 670
                }
            ),
            "{error:?}"
        );
        assert!(records.next().await.is_none());
    }

    #[tokio::test]
    async fn framed_write_then_read_round_trips() {
        let mut out = FramedWrite::new(Vec::new(), RecordIoCodec::new());
        out.send(Bytes::from_static(b"hello")).await.unwrap();
        out.send(&b""[..]).await.unwrap();
        out.send(&b"7\n"[..]).await.unwrap();
        let written = out.into_inner();
        assert_eq!(written, b"5\nhello0\n2\n7\n");
        let records: Vec<_> = FramedRead::new(&written[..], RecordIoCodec::new())
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(records, [&b"hello"[..], b"", b"7\n"]);
    }
}

// ---------------------------------------------------------------------------
// Properties

/// Record bytes with plenty of the characters that matter to the framing.
fn framing_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        1 => Just(b'\n'),
        2 => b'0'..=b'9',
    ]
}

fn records_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(framing_byte(), 0..300), 0..20)
}

fn split_points() -> impl Strategy<Value = Vec<prop::sample::Index>> {
    prop::collection::vec(any::<prop::sample::Index>(), 0..40)
}

fn resolve(points: &[prop::sample::Index], len: usize) -> Vec<usize> {
    points.iter().map(|p| p.index(len + 1)).collect()
}

proptest! {
    #[test]
    fn encoded_records_survive_any_split(records in records_strategy(), points in split_points()) {
        let data = encode_all(&records);
        let chunks = split_at_points(&data, &resolve(&points, data.len()));
        let expected = Outcome::ok(records.iter().map(|r| Bytes::copy_from_slice(r)).collect());
        prop_assert_eq!(&decode_chunks(RecordIoCodec::new(), chunks.iter().copied()), &expected);
        prop_assert_eq!(&stream_chunks(RecordIoCodec::new(), chunks.iter().copied()), &expected);
    }

    #[test]
    fn the_maximum_stops_at_the_first_oversized_record(
        records in records_strategy(),
        max in 0usize..300,
        points in split_points(),
    ) {
        let data = encode_all(&records);
        let chunks = split_at_points(&data, &resolve(&points, data.len()));
        let codec = RecordIoCodec::new().with_max_record_len(max);
        let fitting = records.iter().take_while(|r| r.len() <= max);
        let expected = Outcome {
            records: fitting.map(|r| Bytes::copy_from_slice(r)).collect(),
            error: records
                .iter()
                .find(|r| r.len() > max)
                .map(|r| format!("RecordTooLarge {{ len: {}, max: {max} }}", r.len())),
        };
        prop_assert_eq!(&decode_chunks(codec.clone(), chunks.iter().copied()), &expected);
        prop_assert_eq!(&stream_chunks(codec, chunks.iter().copied()), &expected);
    }

    #[test]
    fn garbage_never_panics_and_splitting_does_not_matter(
        data in prop::collection::vec(framing_byte(), 0..600),
        points in split_points(),
        max in prop_oneof![Just(DEFAULT_MAX_RECORD_LEN), 0usize..50],
    ) {
        let codec = RecordIoCodec::new().with_max_record_len(max);
        let whole = decode_chunks(codec.clone(), [&data[..]]);
        let chunks = split_at_points(&data, &resolve(&points, data.len()));
        prop_assert_eq!(&decode_chunks(codec.clone(), chunks.iter().copied()), &whole);
        prop_assert_eq!(&stream_chunks(codec, chunks.iter().copied()), &whole);
        // Every record it did accept respects the limit.
        prop_assert!(whole.records.iter().all(|r| r.len() <= max));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut codec = RecordIoCodec::new();
        let mut buf = BytesMut::from(&data[..]);
        // Bounded: each call either yields a record, which consumes at least
        // its header, or ends the loop.
        for _ in 0..=data.len() {
            match codec.decode_eof(&mut buf) {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}
