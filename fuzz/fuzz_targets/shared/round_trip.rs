//! The body the event targets share: a message decoded from arbitrary bytes
//! in both media types through the crate's codec, then re-encoded in both
//! media types and decoded again. Included with `#[path]` (not a target).

use mesos_proto::codec::WireMessage;
use mesos_proto::MediaType;

/// Decodes `data` as `M` in each media type and round-trips what decodes:
/// what the codec writes, it reads back, and after one round trip the text
/// no longer changes (the first one may: explicit defaults are written,
/// enum values the schema does not name are left out).
pub fn decode_and_reencode<M: WireMessage>(data: &[u8]) {
    for media in [MediaType::Protobuf, MediaType::Json] {
        let Ok(message) = media.decode::<M>(data) else {
            continue;
        };
        for out in [MediaType::Protobuf, MediaType::Json] {
            let bytes = out.encode(&message).expect("a decoded message encodes");
            let once = out.decode::<M>(&bytes).expect("the codec reads what it writes");
            let first = out.encode(&once).expect("encodes");
            let twice = out.decode::<M>(&first).expect("the codec reads what it writes");
            let second = out.encode(&twice).expect("encodes");
            assert_eq!(first, second, "a second round trip through {out} changed the text");
        }
    }
}
