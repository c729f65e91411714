//! A SUBSCRIBE built with mesos-proto and POSTed by the mesos-http client
//! (hyper 1.x) is accepted by the real master, and the RecordIO decoder reads
//! its event stream: SUBSCRIBED, then OFFERS. Both media types.

use std::time::Duration;

use futures::StreamExt;
use mesos_http::{parse_url, Client, MediaType};
use mesos_proto::v1::scheduler::{call, event, Call, Event};
use mesos_proto::v1::FrameworkInfo;
use mesos_tests::interop_master;

fn subscribe_call() -> Call {
    Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: "root".into(),
                name: "mesos-rs interop".into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn subscribe_and_read_offers(media: MediaType) {
    let Some(master) = interop_master(&format!("subscribe_{media:?}")) else {
        return;
    };
    let client = Client::builder().media_type(media).build().expect("client");
    let url = parse_url(&format!("{master}/api/v1/scheduler")).expect("master URL");
    let mut sub = client
        .subscribe::<_, Event>(&url, &subscribe_call())
        .await
        .expect("subscribed");
    let stream_id = sub
        .stream_id
        .clone()
        .expect("the master issues a Mesos-Stream-Id");

    let mut seen = Vec::new();
    let mut framework_id = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains(&event::Type::Offers) {
        let event = tokio::time::timeout_at(deadline, sub.events.next())
            .await
            .expect("SUBSCRIBED and OFFERS within 30 s")
            .expect("stream open")
            .expect("valid event");
        if let Some(subscribed) = &event.subscribed {
            framework_id = Some(subscribed.framework_id.clone());
        }
        if let Some(offers) = &event.offers {
            let offer = offers.offers.first().expect("at least one offer");
            assert!(
                offer.resources.iter().any(|r| r.name == "cpus"),
                "{offer:?}"
            );
        }
        seen.push(event.r#type());
    }
    assert_eq!(seen[0], event::Type::Subscribed, "first event: {seen:?}");

    // A follow-up call on a pooled connection, with the stream id: accepted.
    let teardown = Call {
        framework_id,
        r#type: Some(call::Type::Teardown as i32),
        ..Default::default()
    };
    let answer = client
        .call(&url, &teardown, Some(&stream_id))
        .await
        .expect("TEARDOWN accepted");
    assert_eq!(answer.status, http::StatusCode::ACCEPTED);
    // And the master ends our event stream once the framework is gone.
    let rest: Vec<_> = tokio::time::timeout(Duration::from_secs(10), sub.events.collect())
        .await
        .expect("stream ends after TEARDOWN");
    assert!(
        rest.iter().all(Result::is_ok),
        "stream ended cleanly: {rest:?}"
    );
}

#[tokio::test]
async fn protobuf_subscribe_yields_subscribed_and_offers() {
    subscribe_and_read_offers(MediaType::Protobuf).await;
}

#[tokio::test]
async fn json_subscribe_yields_subscribed_and_offers() {
    subscribe_and_read_offers(MediaType::Json).await;
}

#[tokio::test]
async fn a_call_with_a_wrong_stream_id_is_a_bad_request() {
    let Some(master) = interop_master("wrong_stream_id") else {
        return;
    };
    let client = Client::builder().build().expect("client");
    let url = parse_url(&format!("{master}/api/v1/scheduler")).expect("master URL");
    let mut sub = client
        .subscribe::<_, Event>(&url, &subscribe_call())
        .await
        .expect("subscribed");
    let first = sub.events.next().await.expect("event").expect("valid");
    let framework_id = first.subscribed.expect("SUBSCRIBED first").framework_id;
    let revive = Call {
        framework_id: Some(framework_id.clone()),
        r#type: Some(call::Type::Revive as i32),
        ..Default::default()
    };
    let err = client
        .call(&url, &revive, Some("00000000-0000-0000-0000-000000000000"))
        .await
        .expect_err("the real master refuses a foreign stream id");
    assert!(err.status().is_some_and(|s| s.is_client_error()), "{err:?}");
    let teardown = Call {
        r#type: Some(call::Type::Teardown as i32),
        ..revive
    };
    let stream_id = sub.stream_id.clone().expect("stream id");
    client
        .call(&url, &teardown, Some(&stream_id))
        .await
        .expect("TEARDOWN accepted");
}
