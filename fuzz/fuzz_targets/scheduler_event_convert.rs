//! Scheduler events decoded from arbitrary bytes in both media types, then
//! converted with `SchedulerEvent::from_wire`, as the scheduler driver does
//! with every event of its subscription.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::v1::scheduler::Event;
use mesos_proto::MediaType;
use mesos_scheduler::SchedulerEvent;

fuzz_target!(|data: &[u8]| {
    for media in [MediaType::Protobuf, MediaType::Json] {
        if let Ok(event) = media.decode::<Event>(data) {
            for resubscribed in [false, true] {
                let _ = SchedulerEvent::from_wire(event.clone(), resubscribed);
            }
        }
    }
});
