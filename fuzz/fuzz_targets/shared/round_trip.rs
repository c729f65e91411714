//! The body the event targets share: a message decoded from arbitrary bytes
//! in both media types through the crate's codec, then re-encoded in both
//! media types and decoded again. Included with `#[path]` (not a target).

use mesos_proto::codec::WireMessage;
use mesos_proto::MediaType;

/// Decodes `data` as `M` in each media type and round-trips what decodes.
pub fn decode_and_reencode<M: WireMessage>(data: &[u8]) {
    for media in [MediaType::Protobuf, MediaType::Json] {
        let Ok(message) = media.decode::<M>(data) else {
            continue;
        };
        for out in [MediaType::Protobuf, MediaType::Json] {
            if let Ok(bytes) = out.encode(&message) {
                let _ = out.decode::<M>(&bytes);
            }
        }
    }
}
