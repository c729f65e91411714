//! Fault paths of the scheduler connection, against a scripted fake master:
//! redirects, 503s, heartbeat stalls, broken and oversized streams, 400 and
//! 401 answers, calls while not subscribed.

mod support;

use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use mesos_http::MediaType;
use mesos_proto::v1::scheduler::call;
use mesos_scheduler::{subscribe, Error, SchedulerConfig, SchedulerEvent, Subscription};
use support::{framework, heartbeat, record, subscribed, FakeMaster, Reply};

fn config(masters: &[&str]) -> SchedulerConfig {
    SchedulerConfig::new(masters.iter().copied(), framework())
        .expect("config")
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
}

async fn next(events: &mut Subscription) -> Result<SchedulerEvent, Error> {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("stream open")
}

#[tokio::test]
async fn follows_a_redirect_to_the_leading_master() {
    let mut leader = FakeMaster::start(vec![], None).await;
    let location = format!(
        "//{}/api/v1/scheduler",
        leader.url.trim_start_matches("http://")
    );
    let mut follower = FakeMaster::start(
        vec![Reply::Status(StatusCode::TEMPORARY_REDIRECT, location)],
        None,
    )
    .await;

    let (client, mut events) = subscribe(config(&[&follower.url])).unwrap();
    let pending = tokio::spawn(async move {
        let first = next(&mut events).await;
        (first, events)
    });
    assert_eq!(
        follower.next_call().await.call.r#type(),
        call::Type::Subscribe
    );
    let stream = leader.next_stream().await;
    stream
        .send(record(MediaType::Protobuf, &subscribed("fw-1", 15.0)))
        .unwrap();
    let (first, _events) = pending.await.unwrap();
    assert!(
        matches!(first.unwrap(), SchedulerEvent::Subscribed { ref framework_id, .. } if framework_id.value == "fw-1")
    );

    // Calls now go to the leader, with the stream id and framework id.
    let _ = leader.next_call().await; // the SUBSCRIBE itself
    client.revive(vec![]).await.unwrap();
    let revive = leader.next_call().await;
    assert_eq!(revive.call.r#type(), call::Type::Revive);
    assert_eq!(revive.stream_id.as_deref(), Some("stream-1"));
    assert_eq!(revive.call.framework_id.unwrap().value, "fw-1");
}

#[tokio::test]
async fn retries_after_503_and_tries_the_next_master() {
    let mut master = FakeMaster::start(
        vec![
            Reply::Status(StatusCode::SERVICE_UNAVAILABLE, "no leader".into()),
            Reply::Status(StatusCode::SERVICE_UNAVAILABLE, "no leader".into()),
        ],
        None,
    )
    .await;
    // A dying master first in the list (accepts and closes every
    // connection): it is tried in turn with the healthy one.
    let (dead, dead_tries) = support::closing_master().await;
    let (_client, mut events) = subscribe(config(&[&dead, &master.url])).unwrap();
    let pending = tokio::spawn(async move { next(&mut events).await });
    let stream = master.next_stream().await;
    stream
        .send(record(MediaType::Protobuf, &subscribed("fw-2", 15.0)))
        .unwrap();
    assert!(matches!(
        pending.await.unwrap().unwrap(),
        SchedulerEvent::Subscribed { .. }
    ));
    let mut subscribes = 0;
    while let Ok(received) = master.calls.try_recv() {
        subscribes += usize::from(received.call.r#type() == call::Type::Subscribe);
    }
    assert_eq!(subscribes, 3, "two 503s, then success");
    assert_eq!(
        dead_tries.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "the dying master is tried before each attempt on the other"
    );
}

type Sink = tokio::sync::mpsc::UnboundedSender<bytes::Bytes>;

/// Subscribes, then breaks the stream with `break_it` (which keeps the
/// stream open by returning its sink, or ends it by dropping it); checks that the
/// subscription reports `Disconnected` and resubscribes as the same framework.
async fn reconnects_after(
    media: MediaType,
    heartbeat_seconds: f64,
    max_record_len: usize,
    break_it: impl FnOnce(Sink) -> Option<Sink>,
) -> String {
    let mut master = FakeMaster::start(vec![], None).await;
    let cfg = config(&[&master.url])
        .media_type(media)
        .heartbeat_multiplier(2)
        .max_record_len(max_record_len);
    let (client, mut events) = subscribe(cfg).unwrap();
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            let event = next(&mut events).await.expect("no fatal error");
            let done = matches!(
                event,
                SchedulerEvent::Subscribed {
                    resubscribed: true,
                    ..
                }
            );
            seen.push(event);
            if done {
                return seen;
            }
        }
    });
    let first = master.next_stream().await;
    first
        .send(record(media, &subscribed("fw-3", heartbeat_seconds)))
        .unwrap();
    first.send(record(media, &heartbeat())).unwrap();
    let _ = master.next_call().await; // first SUBSCRIBE
    let _kept_open = break_it(first);

    let resubscribe = master.next_call().await;
    assert_eq!(resubscribe.call.r#type(), call::Type::Subscribe);
    let info = resubscribe
        .call
        .subscribe
        .as_ref()
        .unwrap()
        .framework_info
        .clone();
    assert_eq!(
        info.id.unwrap().value,
        "fw-3",
        "resubscribe carries the framework id"
    );
    assert_eq!(resubscribe.call.framework_id.unwrap().value, "fw-3");
    assert!(!client.is_subscribed(), "no session while reconnecting");
    assert!(matches!(
        client.revive(vec![]).await,
        Err(Error::NotSubscribed)
    ));

    let second = master.next_stream().await;
    second
        .send(record(media, &subscribed("fw-3", 15.0)))
        .unwrap();
    let seen = reader.await.unwrap();
    assert!(matches!(
        seen[0],
        SchedulerEvent::Subscribed {
            resubscribed: false,
            ..
        }
    ));
    assert!(matches!(seen[1], SchedulerEvent::Heartbeat));
    let SchedulerEvent::Disconnected { reason } = &seen[2] else {
        panic!("expected Disconnected, got {seen:?}")
    };
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(client.is_subscribed());
    reason.clone()
}

#[tokio::test]
async fn heartbeat_stall_reconnects_with_the_framework_id() {
    for media in [MediaType::Protobuf, MediaType::Json] {
        // 0.1 s heartbeats × 2: silence for 0.2 s means a dead connection.
        let reason = reconnects_after(media, 0.1, 1 << 20, Some).await;
        assert!(reason.contains("heartbeat"), "{reason}");
    }
}

#[tokio::test]
async fn stream_cut_mid_record_reconnects() {
    let reason = reconnects_after(MediaType::Json, 15.0, 1 << 20, |stream| {
        stream
            .send(bytes::Bytes::from_static(b"100\n{\"type\":"))
            .unwrap();
        None // the body ends mid-record
    })
    .await;
    assert!(
        reason.contains("malformed") || reason.contains("failed"),
        "{reason}"
    );
}

#[tokio::test]
async fn oversized_record_reconnects() {
    let reason = reconnects_after(MediaType::Protobuf, 15.0, 1024, |stream| {
        stream.send(bytes::Bytes::from_static(b"999999\n")).unwrap();
        Some(stream)
    })
    .await;
    assert!(reason.contains("999999"), "{reason}");
}

#[tokio::test]
async fn a_400_on_subscribe_is_a_typed_error_with_the_message() {
    let master = FakeMaster::start(
        vec![Reply::Status(
            StatusCode::BAD_REQUEST,
            "Framework 'name' is not set".into(),
        )],
        None,
    )
    .await;
    let (_client, mut events) = subscribe(config(&[&master.url])).unwrap();
    let err = next(&mut events).await.unwrap_err();
    let Error::Subscribe(mesos_http::Error::BadRequest { message, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(message, "Framework 'name' is not set");
    assert!(
        events.next().await.is_none(),
        "the subscription ends: no blind retry"
    );
}

#[tokio::test]
async fn a_401_on_subscribe_is_an_auth_error() {
    let master = FakeMaster::start(
        vec![Reply::Status(
            StatusCode::UNAUTHORIZED,
            "auth required".into(),
        )],
        None,
    )
    .await;
    let (_client, mut events) = subscribe(config(&[&master.url])).unwrap();
    let err = next(&mut events).await.unwrap_err();
    assert!(
        err.transport().is_some_and(mesos_http::Error::is_auth),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_400_on_a_call_surfaces_the_masters_message() {
    let mut master = FakeMaster::start(
        vec![],
        Some((StatusCode::BAD_REQUEST, "Offer o1 is no longer valid")),
    )
    .await;
    let (client, mut events) = subscribe(config(&[&master.url])).unwrap();
    assert!(
        matches!(client.revive(vec![]).await, Err(Error::NotSubscribed)),
        "before SUBSCRIBED"
    );
    let pending = tokio::spawn(async move {
        let first = next(&mut events).await;
        (first, events)
    });
    let stream = master.next_stream().await;
    stream
        .send(record(MediaType::Protobuf, &subscribed("fw-4", 15.0)))
        .unwrap();
    let (first, _events) = pending.await.unwrap();
    assert!(first.is_ok());
    let err = client.decline(vec![], None).await.unwrap_err();
    let Error::Call {
        call,
        source: mesos_http::Error::BadRequest { message, .. },
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*call, message.as_str()),
        ("DECLINE", "Offer o1 is no longer valid")
    );
}
