//! Scheduler events (`mesos.v1.scheduler.Event`) decoded from arbitrary
//! bytes in both media types, re-encoded in both and decoded again
//! (`shared/round_trip.rs`).
//!
//! The conversion to `SchedulerEvent` is in `scheduler_event_convert`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::v1::scheduler::Event;

#[path = "shared/round_trip.rs"]
mod round_trip;

fuzz_target!(|data: &[u8]| round_trip::decode_and_reencode::<Event>(data));
