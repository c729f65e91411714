//! Event decoding and call encoding through the full path (RecordIO framing
//! over 16 KiB chunks + the media type codec), next to bare
//! `prost::Message::decode` of the same records (the ceiling).
//!
//! Also each event encoded in each media type (the master's side).
//!
//! `cargo bench -p mesos-proto --bench codec`; results in BENCHMARKS.md.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mesos_proto::recordio::{encode_record, RecordIoCodec};
use mesos_proto::resources::Resources;
use mesos_proto::v1::scheduler::{call, event, Call, Event};
use mesos_proto::v1::{
    value, AgentId, Attribute, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus,
};
use mesos_proto::MediaType;
use prost::Message;

const EVENTS: usize = 100_000;
const CHUNK: usize = 16 * 1024;

fn offer(i: usize) -> Offer {
    let resources = Resources::parse("cpus:4;mem:4096;disk:10000;ports:[31000-31099,31200-32000]")
        .map(Resources::into_vec)
        .unwrap_or_default();
    Offer {
        id: OfferId {
            value: format!("6f9c7f5e-1a0b-4c2d-9e8f-7a6b5c4d3e2f-O{i}"),
        },
        framework_id: FrameworkId {
            value: "6f9c7f5e-1a0b-4c2d-9e8f-7a6b5c4d3e2f-0000".into(),
        },
        agent_id: AgentId {
            value: format!("6f9c7f5e-1a0b-4c2d-9e8f-7a6b5c4d3e2f-S{}", i % 50),
        },
        hostname: format!("agent-{}.example.com", i % 50),
        resources,
        attributes: vec![
            Attribute {
                name: "rack".into(),
                r#type: value::Type::Text as i32,
                text: Some(value::Text {
                    value: format!("rack-{}", i % 8),
                }),
                ..Default::default()
            },
            Attribute {
                name: "zone".into(),
                r#type: value::Type::Text as i32,
                text: Some(value::Text {
                    value: "eu-west-1a".into(),
                }),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// A realistic mix: OFFERS (10 offers each), UPDATE and HEARTBEAT.
fn events() -> Vec<Event> {
    (0..EVENTS)
        .map(|i| match i % 3 {
            0 => Event {
                r#type: Some(event::Type::Offers as i32),
                offers: Some(event::Offers {
                    offers: (0..10).map(|j| offer(i * 10 + j)).collect(),
                }),
                ..Default::default()
            },
            1 => Event {
                r#type: Some(event::Type::Update as i32),
                update: Some(event::Update {
                    status: TaskStatus {
                        task_id: TaskId {
                            value: format!("task-{i}"),
                        },
                        state: TaskState::TaskRunning as i32,
                        agent_id: Some(AgentId {
                            value: "agent-1".into(),
                        }),
                        uuid: Some(Bytes::from_static(&[7; 16])),
                        timestamp: Some(1_795_300_000.123),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
            _ => Event {
                r#type: Some(event::Type::Heartbeat as i32),
                ..Default::default()
            },
        })
        .collect()
}

fn stream(media: MediaType, events: &[Event]) -> (Vec<Bytes>, Vec<Bytes>) {
    let mut all = BytesMut::new();
    let mut records = Vec::with_capacity(events.len());
    for e in events {
        let bytes = media.encode(e).expect("encodes");
        encode_record(&bytes, &mut all);
        records.push(bytes);
    }
    let all = all.freeze();
    let chunks = (0..all.len())
        .step_by(CHUNK)
        .map(|s| all.slice(s..(s + CHUNK).min(all.len())))
        .collect();
    (chunks, records)
}

fn decode_path(c: &mut Criterion) {
    let events = events();
    let mut group = c.benchmark_group("decode_100k_events");
    group.sample_size(10);
    for media in [MediaType::Protobuf, MediaType::Json] {
        let (chunks, records) = stream(media, &events);
        let total: usize = chunks.iter().map(Bytes::len).sum();
        group.throughput(Throughput::Bytes(total as u64));
        group.bench_with_input(
            BenchmarkId::new("recordio+codec", format!("{media:?}")),
            &chunks,
            |b, chunks| {
                b.iter(|| {
                    let mut codec = RecordIoCodec::new();
                    let mut buf = BytesMut::new();
                    let mut n = 0usize;
                    for chunk in chunks {
                        buf.extend_from_slice(chunk);
                        while let Some(record) = codec.decode(&mut buf).expect("framing") {
                            let event: Event = media.decode(&record).expect("event");
                            n += usize::from(event.r#type.is_some());
                        }
                    }
                    assert_eq!(n, EVENTS);
                })
            },
        );
        if media == MediaType::Protobuf {
            group.bench_with_input(
                BenchmarkId::new("bare_prost", "Protobuf"),
                &records,
                |b, records| {
                    b.iter(|| {
                        let mut n = 0usize;
                        for record in records {
                            let event = Event::decode(record.as_ref()).expect("event");
                            n += usize::from(event.r#type.is_some());
                        }
                        assert_eq!(n, EVENTS);
                    })
                },
            );
        }
    }
    group.finish();
}

fn encode_calls(c: &mut Criterion) {
    let calls: Vec<Call> = (0..10_000)
        .map(|i| Call {
            framework_id: Some(FrameworkId {
                value: "6f9c7f5e-1a0b-4c2d-9e8f-7a6b5c4d3e2f-0000".into(),
            }),
            r#type: Some(call::Type::Acknowledge as i32),
            acknowledge: Some(call::Acknowledge {
                agent_id: AgentId {
                    value: "agent-1".into(),
                },
                task_id: TaskId {
                    value: format!("task-{i}"),
                },
                uuid: Bytes::from_static(&[7; 16]),
            }),
            ..Default::default()
        })
        .collect();
    let mut group = c.benchmark_group("encode_10k_acknowledge_calls");
    group.sample_size(10);
    group.throughput(Throughput::Elements(calls.len() as u64));
    for media in [MediaType::Protobuf, MediaType::Json] {
        group.bench_function(format!("{media:?}"), |b| {
            b.iter(|| {
                calls
                    .iter()
                    .map(|c| media.encode(c).expect("encodes").len())
                    .sum::<usize>()
            })
        });
    }
    group.bench_function("bare_prost", |b| {
        b.iter(|| calls.iter().map(|c| c.encode_to_vec().len()).sum::<usize>())
    });
    group.finish();
}

/// The master's side of the stream: each event encoded in each media type.
fn encode_events(c: &mut Criterion) {
    let events = events();
    let mut group = c.benchmark_group("encode_100k_events");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    for media in [MediaType::Protobuf, MediaType::Json] {
        group.bench_function(format!("{media:?}"), |b| {
            b.iter(|| {
                events
                    .iter()
                    .map(|e| media.encode(e).expect("encodes").len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, decode_path, encode_calls, encode_events);
}
criterion_main!(group::benches);
