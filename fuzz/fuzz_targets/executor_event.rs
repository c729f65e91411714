//! Executor events (`mesos.v1.executor.Event`) decoded from arbitrary
//! bytes in both media types through the crate's codec, then re-encoded in
//! both media types and decoded again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::v1::executor::Event;
use mesos_proto::MediaType;

fuzz_target!(|data: &[u8]| {
    for media in [MediaType::Protobuf, MediaType::Json] {
        let Ok(event) = media.decode::<Event>(data) else {
            continue;
        };
        for out in [MediaType::Protobuf, MediaType::Json] {
            if let Ok(bytes) = out.encode(&event) {
                let _ = out.decode::<Event>(&bytes);
            }
        }
    }
});
