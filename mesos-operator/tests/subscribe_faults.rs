//! SUBSCRIBE's fault paths with a fake master: a stream that ends or falls
//! silent is reported and opened again, a leader redirect is followed, a
//! refusal ends the stream.

mod support;

use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use mesos_operator::proto::master::{event, Event};
use mesos_operator::{ClientBuilder, Error, MasterEvents, MediaType};
use support::{agent_removed, bare, subscribed, FakeMaster, Reply};

async fn next(events: &mut MasterEvents) -> Option<Result<Event, Error>> {
    tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("an item within 20 s")
}

fn kind(item: Option<Result<Event, Error>>) -> event::Type {
    match item {
        Some(Ok(event)) => event.r#type(),
        other => panic!("expected an event, got {other:?}"),
    }
}

fn client(url: &str, media: MediaType) -> mesos_operator::MasterClient {
    ClientBuilder::new([url])
        .media_type(media)
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .heartbeat_multiplier(2)
        .master()
        .unwrap()
}

#[tokio::test]
async fn a_closed_stream_is_reported_then_opened_again() {
    for media in [MediaType::Protobuf, MediaType::Json] {
        let master = FakeMaster::start(|_, n| match n {
            0 => Reply::Events {
                events: vec![subscribed(15.0), agent_removed("a1")],
                hold: false,
            },
            _ => Reply::Events {
                events: vec![subscribed(15.0), bare(event::Type::Heartbeat)],
                hold: true,
            },
        })
        .await;
        let mut events = client(&master.url, media).subscribe();
        assert_eq!(kind(next(&mut events).await), event::Type::Subscribed);
        assert_eq!(kind(next(&mut events).await), event::Type::AgentRemoved);
        match next(&mut events).await {
            Some(Err(Error::Disconnected { reason })) => {
                assert!(reason.contains("closed"), "{reason}")
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        assert_eq!(kind(next(&mut events).await), event::Type::Subscribed);
        assert_eq!(kind(next(&mut events).await), event::Type::Heartbeat);
        assert_eq!(master.received(), ["SUBSCRIBE", "SUBSCRIBE"]);
    }
}

#[tokio::test]
async fn a_silent_stream_trips_the_heartbeat_watchdog() {
    // SUBSCRIBED announces 50 ms heartbeats, then nothing comes.
    let master = FakeMaster::start(|_, n| Reply::Events {
        events: vec![subscribed(if n == 0 { 0.05 } else { 15.0 })],
        hold: true,
    })
    .await;
    let mut events = client(&master.url, MediaType::Protobuf).subscribe();
    assert_eq!(kind(next(&mut events).await), event::Type::Subscribed);
    match next(&mut events).await {
        Some(Err(error @ Error::Disconnected { .. })) => {
            assert!(error.is_retryable());
            assert!(error.to_string().contains("no event"), "{error}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert_eq!(kind(next(&mut events).await), event::Type::Subscribed);
}

#[tokio::test]
async fn subscribe_follows_the_leader_and_retries_while_none_leads() {
    let leader = FakeMaster::start(|call, n| match n {
        _ if !support::is_subscribe(call) => Reply::Response(Box::new(support::healthy())),
        0 => Reply::Status(StatusCode::SERVICE_UNAVAILABLE, "No leader elected"),
        _ => Reply::Events {
            events: vec![subscribed(15.0)],
            hold: true,
        },
    })
    .await;
    let location = format!("//{}/api/v1", leader.url.trim_start_matches("http://"));
    let follower = FakeMaster::start(move |_, _| Reply::Redirect(location.clone())).await;
    let master = client(&follower.url, MediaType::Json);
    let mut events = master.subscribe();
    match next(&mut events).await {
        Some(Err(error)) => {
            assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
            assert!(error.is_retryable());
        }
        other => panic!("expected the 503, got {other:?}"),
    }
    assert_eq!(kind(next(&mut events).await), event::Type::Subscribed);
    // A master answering 503 is not remembered: the retry starts from the
    // configured masters again, and is redirected again.
    assert_eq!(follower.received(), ["SUBSCRIBE", "SUBSCRIBE"]);
    assert_eq!(leader.received(), ["SUBSCRIBE", "SUBSCRIBE"]);
    assert!(master.leader_url().unwrap().starts_with(&leader.url));
    // Calls now go to the remembered leader directly.
    assert!(master.get_health().await.unwrap().healthy);
    assert_eq!(follower.received().len(), 2);
    assert_eq!(leader.received().last(), Some(&"GET_HEALTH"));
}

#[tokio::test]
async fn a_refusal_ends_the_stream() {
    let master = FakeMaster::start(|_, _| {
        Reply::Status(StatusCode::UNAUTHORIZED, "Authentication required")
    })
    .await;
    let mut events = client(&master.url, MediaType::Protobuf).subscribe();
    match next(&mut events).await {
        Some(Err(error)) => {
            assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
            assert!(!error.is_retryable());
        }
        other => panic!("expected the 401, got {other:?}"),
    }
    assert!(next(&mut events).await.is_none());
}
