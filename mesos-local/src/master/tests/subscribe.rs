//! Master tests: Subscription, stream ids, heartbeats, other calls and the state endpoints.

use super::*;

#[tokio::test]
async fn master_subscribe_events_have_the_real_masters_shape() {
    let h = start(Options::default()).await;
    let sub = h
        .client
        .subscribe::<Call, Event>(&h.url, &calls::subscribe(framework("shape")))
        .await
        .expect("subscribe");
    let stream_id = sub.stream_id.clone().expect("stream id");
    assert!(uuid::Uuid::parse_str(&stream_id).is_ok(), "{stream_id}");
    let mut s = Sched {
        client: h.client.clone(),
        url: h.url.clone(),
        stream_id,
        events: sub.events,
        id: FrameworkId::default(),
    };
    let subscribed = s.raw_next().await.expect("SUBSCRIBED");
    s.id = subscribed
        .subscribed
        .clone()
        .expect("subscribed")
        .framework_id;
    let (ours, value) = event_shape(&subscribed);
    assert_eq!(ours, json_shape(REAL_SUBSCRIBED));
    assert_eq!(
        value["subscribed"]["framework_id"]["value"],
        format!("{MASTER_ID}-0000")
    );
    assert_eq!(value["subscribed"]["master_info"]["ip"], 16777343);
    assert_eq!(value["subscribed"]["master_info"]["version"], "1.11.0");
    assert_eq!(value["subscribed"]["master_info"]["hostname"], "localhost");
    assert_eq!(
        value["subscribed"]["master_info"]["pid"],
        format!("master@{}", h.master.addr)
    );
    assert_eq!(
        kind(&s.raw_next().await.expect("HEARTBEAT")),
        EventType::Heartbeat
    );
    let offers = s.next_of(EventType::Offers).await;
    let (ours, value) = event_shape(&offers);
    assert_eq!(ours, json_shape(REAL_OFFERS));
    let offer = &value["offers"]["offers"][0];
    assert_eq!(offer["id"]["value"], format!("{MASTER_ID}-O0"));
    assert_eq!(offer["url"]["path"], "/slave(1)");
    assert_eq!(offer["url"]["address"]["port"], 40000);
    assert_eq!(offer["resources"][0]["role"], "*");

    // A MULTI_ROLE framework gets allocation_info as well.
    let mut info = framework("multi");
    info.roles = vec!["*".into()];
    info.capabilities = vec![Capability {
        r#type: Some(FrameworkCapability::MultiRole as i32),
    }];
    let mut s2 = h.subscribe(info).await;
    s.ok(calls::decline(
        vec![OfferId {
            value: format!("{MASTER_ID}-O0"),
        }],
        refuse(60.0),
    ))
    .await;
    let offers = s2.next_of(EventType::Offers).await;
    let (ours, _) = event_shape(&offers);
    assert_eq!(ours, json_shape(REAL_OFFERS_MULTI_ROLE));
}

#[tokio::test]
async fn master_protobuf_subscription_works() {
    let h = start(Options::default()).await;
    let client = Client::builder()
        .media_type(MediaType::Protobuf)
        .build()
        .expect("client");
    let mut s = h.subscribe_with(framework("pb"), client).await;
    assert_eq!(s.offers().await.len(), 1);
    s.ok(calls::reconcile(vec![])).await;
}

#[tokio::test]
async fn master_stream_id_and_subscription_are_enforced() {
    let h = start(Options::default()).await;
    let mut info = framework("enforce");
    info.failover_timeout = Some(60.0);
    let s = h.subscribe(info).await;
    let mut call = calls::reconcile(vec![]);
    call.framework_id = Some(s.id.clone());

    let missing = h
        .client
        .call(&h.url, &call, None)
        .await
        .expect_err("no stream id");
    assert_eq!(
        error_text(&missing),
        (
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header".into()
        )
    );
    let wrong = h
        .client
        .call(&h.url, &call, Some("bogus"))
        .await
        .expect_err("wrong stream id");
    assert_eq!(
        error_text(&wrong),
        (
            400,
            format!(
                "The stream ID 'bogus' included in this request didn't match the stream ID currently associated with framework ID {}",
                s.id.value
            )
        )
    );
    let mut unknown = call.clone();
    unknown.framework_id = Some(FrameworkId {
        value: "nope".into(),
    });
    let e = h
        .client
        .call(&h.url, &unknown, Some(&s.stream_id))
        .await
        .expect_err("unknown framework");
    assert_eq!(error_text(&e), (400, "Framework cannot be found".into()));
    let mut no_id = call.clone();
    no_id.framework_id = None;
    let e = h
        .client
        .call(&h.url, &no_id, Some(&s.stream_id))
        .await
        .expect_err("no framework id");
    assert_eq!(
        error_text(&e),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present".into()
        )
    );
    // The /master/api/v1/scheduler alias works too.
    let alias: http::Uri = format!("{}/master/api/v1/scheduler", h.master.url)
        .parse()
        .expect("url");
    let ok = h
        .client
        .call(&alias, &call, Some(&s.stream_id))
        .await
        .expect("alias");
    assert_eq!(ok.status.as_u16(), 202);

    // Disconnected (failover_timeout 60 s): 403 until it resubscribes.
    let stream_id = s.stream_id.clone();
    drop(s);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let e = h
        .client
        .call(&h.url, &call, Some(&stream_id))
        .await
        .expect_err("not subscribed");
    assert_eq!(error_text(&e), (403, "Framework is not subscribed".into()));
}

#[tokio::test]
async fn master_heartbeats_flow() {
    let h = start(Options {
        heartbeat: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("heartbeat")).await;
    let mut beats = 0;
    while beats < 2 {
        if kind(&s.raw_next().await.expect("open")) == EventType::Heartbeat {
            beats += 1;
        }
    }
}

#[tokio::test]
async fn master_other_calls_answer_like_the_real_master() {
    let h = start(Options::default()).await;
    let s = h.subscribe(framework("others")).await;
    let mut info = framework("renamed");
    info.id = Some(s.id.clone());
    let response = s
        .call(calls::update_framework(info))
        .await
        .expect("update framework");
    assert_eq!(response.status.as_u16(), 200);
    assert_eq!(h.master.state_json()["frameworks"][0]["name"], "renamed");
    for call in [
        calls::request(vec![]),
        calls::reconcile_operations(vec![]),
        calls::acknowledge_operation_status(
            None,
            None,
            Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes()),
            mesos_proto::v1::OperationId { value: "op".into() },
        ),
    ] {
        let kind = call.r#type();
        let response = s
            .call(call)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(response.status.as_u16(), 202, "{kind:?}");
    }
    let bad_ack = Call {
        r#type: Some(CallType::Acknowledge as i32),
        acknowledge: Some(call::Acknowledge {
            agent_id: agent_id(0),
            task_id: TaskId { value: "t".into() },
            uuid: Bytes::from_static(b"xx"),
        }),
        ..Call::default()
    };
    let e = s.call(bad_ack).await.expect_err("bad uuid");
    assert_eq!(
        error_text(&e),
        (
            400,
            "Failed to validate scheduler::Call: Not a valid UUID".into()
        )
    );
}

#[tokio::test]
async fn master_state_health_version_and_404() {
    let h = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("state")).await;
    let _ = s.offers().await;
    let (status, body) = h.get("/master/state").await;
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_str(&body).expect("state json");
    assert_eq!(state["version"], "1.11.0");
    assert_eq!(state["id"], MASTER_ID);
    assert_eq!(state["pid"], format!("master@{}", h.master.addr));
    assert_eq!(state["hostname"], "localhost");
    assert_eq!(state["activated_slaves"], 2.0);
    let slave = &state["slaves"][0];
    for field in [
        "id",
        "pid",
        "hostname",
        "resources",
        "used_resources",
        "offered_resources",
        "unreserved_resources",
        "attributes",
        "active",
    ] {
        assert!(!slave[field].is_null(), "slave.{field}");
    }
    assert_eq!(slave["pid"], "slave(1)@127.0.0.1:40000");
    assert_eq!(slave["resources"]["ports"], "[31000-32000]");
    assert_eq!(slave["offered_resources"]["cpus"], 4.0);
    let fw = &state["frameworks"][0];
    for field in [
        "id",
        "name",
        "user",
        "active",
        "connected",
        "role",
        "resources",
        "used_resources",
        "offered_resources",
        "tasks",
        "offers",
        "completed_tasks",
    ] {
        assert!(!fw[field].is_null(), "framework.{field}");
    }
    assert_eq!(fw["role"], "*");
    assert_eq!(fw["offers"].as_array().map(Vec::len), Some(2));
    assert_eq!(h.get("/state").await.0, 200);
    assert_eq!(h.get("/health").await.0, 200);
    let (status, body) = h.get("/version").await;
    assert_eq!(status, 200);
    let version: serde_json::Value = serde_json::from_str(&body).expect("version json");
    assert_eq!(version["version"], "1.11.0");
    assert_eq!(h.get("/nope").await.0, 404);
}

/// An unknown `Call.type` is `400`, with the real 1.11 master's message
/// (its parser drops the unknown value, leaving no type).
#[tokio::test]
async fn unknown_call_type_is_400_as_the_real_master() {
    let h = start(Options::default()).await;
    let s = h.subscribe(framework("unknown-type")).await;
    let e = s
        .call(Call {
            r#type: Some(999),
            ..Call::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        error_text(&e),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'type' to be present".into()
        )
    );
}
