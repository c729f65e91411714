//! The RecordIO decoder, fed in arbitrary chunkings with a small maximum
//! record length.
//!
//! Input: byte 0 picks the maximum record length, byte 1 seeds the chunk
//! boundaries, the rest is the stream. The same stream is decoded
//! - in one piece,
//! - in chunks whose sizes come from byte 1,
//! - through `RecordStream` over those chunks, and
//! - through `tokio_util::codec::FramedRead`,
//!
//! and all four must agree: the same records, then the same outcome
//! (clean end, or an error of the same kind).

#![no_main]

use bytes::{Bytes, BytesMut};
use futures::executor::block_on_stream;
use libfuzzer_sys::fuzz_target;
use mesos_proto::recordio::{RecordIoCodec, RecordIoError, RecordStream};
use tokio_util::codec::FramedRead;

/// How a decode ended, compared across decoders.
#[derive(Debug, PartialEq)]
enum End {
    Clean,
    Error(String),
}

fn describe(error: &RecordIoError) -> String {
    // The framing variants carry no transport state, so their Display text
    // identifies them (kind and position) exactly.
    assert!(
        error.is_framing(),
        "transport error from in-memory bytes: {error:?}"
    );
    error.to_string()
}

/// Decodes `chunks` with one codec and one buffer, as a connection would.
fn decode_chunks<'a>(
    codec: &mut RecordIoCodec,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> (Vec<Bytes>, End) {
    let max = codec.max_record_len();
    let mut buf = BytesMut::new();
    let mut records = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(record)) => {
                    assert!(record.len() <= max, "record over the maximum");
                    records.push(record);
                }
                Ok(None) => break,
                Err(error) => {
                    // The codec stays at the offending byte.
                    let again = codec.decode(&mut buf).expect_err("error is sticky");
                    assert_eq!(describe(&again), describe(&error));
                    return (records, End::Error(describe(&error)));
                }
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => return (records, End::Clean),
            Err(error) => return (records, End::Error(describe(&error))),
        }
    }
}

/// Chunk lengths from a tiny xorshift generator seeded by `seed`: the low
/// two bits choose the scale (1 byte, up to 3, up to 16, up to 200).
fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let scale = [1usize, 3, 16, 200][usize::from(seed & 3)];
    let mut state = u32::from(seed) | 0x9e37_7900;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = (state as usize % scale + 1).min(rest.len());
        let (head, tail) = rest.split_at(len);
        out.push(head);
        rest = tail;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [max_byte, seed, stream @ ..] = data else {
        return;
    };
    // 0..=254 * 4 bytes, or unbounded-ish for 255.
    let max = if *max_byte == 255 {
        usize::MAX
    } else {
        usize::from(*max_byte) * 4
    };
    let codec = RecordIoCodec::new().with_max_record_len(max);

    let whole = decode_chunks(&mut codec.clone(), std::iter::once(stream));
    let pieces = chunks(stream, *seed);
    let chunked = decode_chunks(&mut codec.clone(), pieces.iter().copied());
    assert_eq!(whole, chunked, "chunking changed the result");

    // RecordStream over the same chunks.
    let source = futures::stream::iter(
        pieces
            .iter()
            .map(|chunk| Ok::<_, std::io::Error>(Bytes::copy_from_slice(chunk))),
    );
    let mut records = Vec::new();
    let mut end = End::Clean;
    for item in block_on_stream(RecordStream::with_codec(source, codec.clone())) {
        match item {
            Ok(record) => records.push(record),
            Err(error) => {
                end = End::Error(describe(&error));
                break;
            }
        }
    }
    assert_eq!(whole, (records, end), "RecordStream disagrees");

    // tokio-util's FramedRead over an in-memory reader.
    let mut records = Vec::new();
    let mut end = End::Clean;
    for item in block_on_stream(FramedRead::new(stream, codec)) {
        match item {
            Ok(record) => records.push(record),
            Err(error) => {
                end = End::Error(describe(&error));
                break;
            }
        }
    }
    assert_eq!(whole, (records, end), "FramedRead disagrees");
});
