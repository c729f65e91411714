//! Golden tests: messages captured from a real Apache Mesos 1.11.0 master and
//! agent (see `tests/data/`, copied from the team's `mesos-samples`) decode,
//! and re-encode to the same JSON and to equivalent protobuf.

mod support;

use mesos_proto::recordio::RecordIoCodec;
use mesos_proto::v1::{executor, scheduler};
use mesos_proto::MediaType;
use support::{check_json, check_json_as, data, recordio_messages};

fn lines(name: &str) -> Vec<Vec<u8>> {
    data(name)
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn scheduler_event_types(events: &[scheduler::Event]) -> Vec<scheduler::event::Type> {
    events.iter().map(|e| e.r#type()).collect()
}

#[test]
fn launch_scheduler_events() {
    use scheduler::event::Type::*;
    let events: Vec<scheduler::Event> = lines("launch-scheduler-events.jsonl")
        .iter()
        .map(|l| check_json(l))
        .collect();
    assert_eq!(
        scheduler_event_types(&events),
        [Subscribed, Heartbeat, Offers, Update, Update]
    );
    let subscribed = events[0].subscribed.as_ref().expect("payload");
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(15.0));
    let master = subscribed.master_info.as_ref().expect("master_info");
    assert_eq!(master.ip, 16_777_343, "legacy packed IPv4 127.0.0.1");
    // The third capability is an enum value unknown to Mesos's own JSON
    // mapping, emitted as `{}`: it decodes to a capability without a type.
    assert_eq!(master.capabilities.len(), 3);
    assert_eq!(master.capabilities[2].r#type, None);
    let states: Vec<_> = events[3..]
        .iter()
        .map(|e| e.update.as_ref().expect("update").status.state())
        .collect();
    assert_eq!(
        states,
        [
            mesos_proto::v1::TaskState::TaskRunning,
            mesos_proto::v1::TaskState::TaskFinished
        ]
    );
}

#[test]
fn command_task_and_failure_events() {
    for file in [
        "command-task-scheduler-events.jsonl",
        "executor-exits-without-subscribing-events.jsonl",
    ] {
        for line in lines(file) {
            check_json::<scheduler::Event>(&line);
        }
    }
    let failure: Vec<scheduler::Event> = lines("executor-exits-without-subscribing-events.jsonl")
        .iter()
        .map(|l| check_json(l))
        .collect();
    assert!(failure
        .iter()
        .any(|e| e.r#type() == scheduler::event::Type::Failure));
}

#[test]
fn launch_scheduler_calls() {
    use scheduler::call::Type::*;
    // Written by the probe scheduler (Python), not by Mesos.
    let calls: Vec<scheduler::Call> = lines("launch-scheduler-calls.jsonl")
        .iter()
        .map(|l| check_json_as(l, false))
        .collect();
    let types: Vec<_> = calls.iter().map(scheduler::Call::r#type).collect();
    assert_eq!(
        types,
        [Subscribe, Accept, Acknowledge, Acknowledge, Teardown]
    );
    let accept = calls[1].accept.as_ref().expect("accept");
    assert_eq!(
        accept.filters.as_ref().and_then(|f| f.refuse_seconds),
        Some(1.0)
    );
}

#[test]
fn executor_events() {
    use executor::event::Type::*;
    let events: Vec<executor::Event> = lines("executor-events.jsonl")
        .iter()
        .map(|l| check_json(l))
        .collect();
    let types: Vec<_> = events.iter().map(executor::Event::r#type).collect();
    assert_eq!(types, [Subscribed, Launch, Acknowledged, Acknowledged]);
}

/// The events of a SUBSCRIBE body, as the master streamed it.
fn stream_events(name: &str, media: MediaType) -> Vec<scheduler::Event> {
    recordio_messages(name, media)
}

#[test]
fn subscribe_streams_in_both_media_types() {
    use scheduler::event::Type::*;
    let json = stream_events("subscribe-stream.recordio", MediaType::Json);
    let proto = stream_events("subscribe-stream-protobuf.recordio", MediaType::Protobuf);
    assert_eq!(
        scheduler_event_types(&json),
        [Subscribed, Heartbeat, Offers]
    );
    assert_eq!(scheduler_event_types(&proto)[..2], [Subscribed, Heartbeat]);
    // The two captures come from different runs, so ids differ; the offered
    // resources are the agent's and must agree.
    let offered = |events: &[scheduler::Event]| {
        let offers = events
            .iter()
            .find_map(|e| e.offers.clone())
            .expect("OFFERS");
        let mut resources = offers.offers[0].resources.clone();
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        resources
    };
    assert_eq!(offered(&json), offered(&proto));
    // Protobuf records re-encode byte for byte.
    let mut buf = bytes::BytesMut::from(&data("subscribe-stream-protobuf.recordio")[..]);
    let mut codec = RecordIoCodec::new();
    while let Some(record) = codec.decode_eof(&mut buf).expect("valid RecordIO") {
        let event: scheduler::Event = MediaType::Protobuf.decode(&record).expect("event");
        let again = MediaType::Protobuf.encode(&event).expect("encodes");
        assert_eq!(again, record);
    }
}

/// `ShrinkToFit` on what the real master sent (statuses with container
/// network infos, offers with ranges and attributes): every repeated field
/// ends at its length, and the message is unchanged.
#[test]
fn shrink_to_fit_keeps_real_events_equal_and_tight() {
    use mesos_proto::v1::TaskStatus;
    use mesos_proto::ShrinkToFit;
    let mut events: Vec<scheduler::Event> = lines("command-task-scheduler-events.jsonl")
        .iter()
        .map(|l| MediaType::Json.decode(l).expect("real Mesos JSON decodes"))
        .collect();
    events.extend(stream_events(
        "subscribe-stream-protobuf.recordio",
        MediaType::Protobuf,
    ));
    let mut statuses = 0;
    for event in &mut events {
        let decoded = event.clone();
        event.shrink_to_fit();
        assert_eq!(*event, decoded);
        if let Some(status) = event.update.as_ref().map(|u| &u.status) {
            let tight = |s: &TaskStatus| {
                s.container_status.as_ref().is_none_or(|c| {
                    c.network_infos.capacity() == c.network_infos.len()
                        && c.network_infos
                            .iter()
                            .all(|n| n.ip_addresses.capacity() == n.ip_addresses.len())
                })
            };
            assert!(tight(status), "{status:?}");
            statuses += 1;
        }
        if let Some(offers) = &event.offers {
            for offer in &offers.offers {
                assert_eq!(offer.resources.capacity(), offer.resources.len());
            }
        }
    }
    assert!(statuses > 0, "the sample holds status updates");
}
