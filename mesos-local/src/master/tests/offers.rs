//! Master tests: Offers: launching, filters, suppression, invalid tasks and offers, fair sharing, offer timeout.

use super::*;

#[tokio::test]
async fn master_launch_runs_task_forwards_updates_and_acks() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("launch")).await;
    let agent = launch(&mut h, &mut s, "t1").await;

    let state = h.master.state_json();
    let task = &state["frameworks"][0]["tasks"][0];
    assert_eq!(task["state"], "TASK_STAGING");
    assert_eq!(task["slave_id"], agent.value);
    assert_eq!(state["frameworks"][0]["used_resources"]["cpus"], 1.0);

    let uuid = h.update(0, &s.id, "t1", TaskState::TaskRunning);
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskRunning);
    assert_eq!(status.uuid.as_ref(), Some(&uuid));
    s.ok(calls::acknowledge(
        agent.clone(),
        TaskId { value: "t1".into() },
        uuid.clone(),
    ))
    .await;
    match h.agent_next_real(0).await {
        ToAgent::StatusUpdateAcknowledged {
            task_id,
            uuid: acked,
            framework_id,
        } => {
            assert_eq!(task_id.value, "t1");
            assert_eq!(acked, uuid);
            assert_eq!(framework_id, s.id);
        }
        other => panic!("expected an acknowledgement, got {other:?}"),
    }
    assert_eq!(
        h.master.state_json()["frameworks"][0]["tasks"][0]["state"],
        "TASK_RUNNING"
    );

    h.update(0, &s.id, "t1", TaskState::TaskFinished);
    assert_eq!(s.update().await.state(), TaskState::TaskFinished);
    let state = h.master.state_json();
    assert_eq!(
        state["frameworks"][0]["tasks"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_FINISHED"
    );
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["statuses"][1]["state"],
        "TASK_FINISHED"
    );
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
}

#[tokio::test]
async fn master_accept_remainder_is_reoffered_after_filter() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("remainder")).await;
    let offers = s.offers().await;
    let task = command_task("t", &offers[0].agent_id, cpus_mem(1.0, 128.0));
    s.ok(calls::launch(offer_ids(&offers), vec![task], refuse(0.0)))
        .await;
    let _ = h.agent_next_real(0).await;
    let offers = s.offers().await;
    let left: Resources = offers[0].resources.clone().into();
    assert_eq!(left.cpus(), Some(3.0));
    assert_eq!(left.mem(), Some(3968.0));
}

#[tokio::test]
async fn master_decline_filter_holds_until_revive() {
    let h = start(Options::default()).await;
    let mut s = h.subscribe(framework("decline")).await;
    let offers = s.offers().await;
    s.ok(calls::decline(offer_ids(&offers), refuse(60.0))).await;
    h.master.trigger_allocation();
    s.none_of(EventType::Offers, Duration::from_millis(500))
        .await;
    s.ok(calls::revive(vec![])).await;
    let offers = s.offers().await;
    assert_eq!(offers.len(), 1);

    // A short filter expires on its own.
    s.ok(calls::decline(offer_ids(&offers), refuse(0.3))).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    h.master.trigger_allocation();
    assert_eq!(s.offers().await.len(), 1);
}

#[tokio::test]
async fn master_suppress_stops_offers_until_revive() {
    let h = start(Options::default()).await;
    let mut s = h.subscribe(framework("suppress")).await;
    let offers = s.offers().await;
    s.ok(calls::suppress(vec![])).await;
    s.ok(calls::decline(offer_ids(&offers), refuse(0.0))).await;
    h.master.trigger_allocation();
    s.none_of(EventType::Offers, Duration::from_millis(500))
        .await;
    s.ok(calls::revive(vec!["*".into()])).await;
    assert_eq!(s.offers().await.len(), 1);
}

#[tokio::test]
async fn master_invalid_tasks_get_task_error() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("invalid")).await;
    let offers = s.offers().await;
    let agent = offers[0].agent_id.clone();
    let mut both = command_task("both", &agent, cpus_mem(0.1, 32.0));
    both.executor = Some(Box::new(ExecutorInfo {
        executor_id: ExecutorId { value: "e".into() },
        command: Some(CommandInfo::default()),
        ..ExecutorInfo::default()
    }));
    let tasks = vec![
        command_task("ok", &agent, cpus_mem(0.1, 32.0)),
        command_task("ok", &agent, cpus_mem(0.1, 32.0)),
        command_task("big", &agent, cpus_mem(100.0, 32.0)),
        command_task("nores", &agent, vec![]),
        both,
        command_task(
            "wrong-agent",
            &AgentId {
                value: "elsewhere".into(),
            },
            cpus_mem(0.1, 32.0),
        ),
    ];
    s.ok(calls::launch(offer_ids(&offers), tasks, refuse(0.0)))
        .await;
    let mut errors = Vec::new();
    for _ in 0..5 {
        let status = s.update().await;
        assert_eq!(status.state(), TaskState::TaskError, "{status:?}");
        assert_eq!(status.source(), Source::Master);
        assert_eq!(status.reason(), Reason::TaskInvalid);
        assert!(status.uuid.is_none());
        errors.push((
            status.task_id.value.clone(),
            status.message.clone().unwrap_or_default(),
        ));
    }
    let message = |id: &str| {
        errors
            .iter()
            .find(|(t, _)| t == id)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    assert_eq!(message("ok"), "Task has duplicate ID: ok");
    assert!(
        message("big").starts_with("Total resources cpus:100"),
        "{}",
        message("big")
    );
    assert!(message("big").contains("is more than available"));
    assert_eq!(message("nores"), "Task uses no resources");
    assert_eq!(
        message("both"),
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
    );
    assert_eq!(message("wrong-agent"), "Task uses invalid agent: elsewhere");
    match h.agent_next_real(0).await {
        ToAgent::RunTask { task, .. } => assert_eq!(task.task_id.value, "ok"),
        other => panic!("expected RunTask, got {other:?}"),
    }
    // A task id still active is a duplicate in a later ACCEPT too.
    h.master.trigger_allocation();
    let offers = s.offers().await;
    s.ok(calls::launch(
        offer_ids(&offers),
        vec![command_task("ok", &agent, cpus_mem(0.1, 32.0))],
        None,
    ))
    .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskError);
    assert_eq!(status.message.as_deref(), Some("Task has duplicate ID: ok"));
}

#[tokio::test]
async fn master_invalid_offers_lose_tasks() {
    let h = start(Options::default()).await;
    let mut s = h.subscribe(framework("invalid-offer")).await;
    let offers = s.offers().await;
    let task = command_task("t", &offers[0].agent_id, cpus_mem(0.1, 32.0));
    s.ok(calls::launch(
        vec![OfferId {
            value: "bad-offer".into(),
        }],
        vec![task.clone()],
        None,
    ))
    .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(status.reason(), Reason::InvalidOffers);
    assert_eq!(status.source(), Source::Master);
    assert_eq!(
        status.message.as_deref(),
        Some("Task launched with invalid offers: Offer bad-offer is no longer valid")
    );
    // Only RESERVE & co.: refused outright, offers untouched.
    let reserve = mesos_proto::v1::offer::Operation {
        r#type: Some(mesos_proto::v1::offer::operation::Type::Reserve as i32),
        ..Default::default()
    };
    let e = s
        .call(calls::accept(offer_ids(&offers), vec![reserve], None))
        .await
        .expect_err("400");
    assert_eq!(
        error_text(&e),
        (
            400,
            "Operation RESERVE is not supported by mesos-local".into()
        )
    );
    assert_eq!(
        h.master.state_json()["frameworks"][0]["offers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn master_fair_sharing_offers_to_the_lowest_share() {
    let mut h = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut a = h.subscribe(framework("a")).await;
    let offers = a.offers().await;
    assert_eq!(offers.len(), 2, "one framework alone gets both agents");
    let mut b = h.subscribe(framework("b")).await;
    // `a` uses all of the first agent, gives the second back.
    let (first, second): (Vec<Offer>, Vec<Offer>) =
        offers.into_iter().partition(|o| o.agent_id == agent_id(0));
    let task = command_task("big", &agent_id(0), cpus_mem(4.0, 4096.0));
    a.ok(calls::launch(offer_ids(&first), vec![task], None))
        .await;
    let _ = h.agent_next_real(0).await;
    a.ok(calls::decline(offer_ids(&second), refuse(0.0))).await;
    let offered = b.offers().await;
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].agent_id, agent_id(1));
    a.none_of(EventType::Offers, Duration::from_millis(300))
        .await;

    // Two fresh frameworks split two agents.
    let h2 = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut c = h2.subscribe(framework("c")).await;
    let all = c.offers().await;
    let mut d = h2.subscribe(framework("d")).await;
    c.ok(calls::decline(offer_ids(&all), refuse(0.0))).await;
    let mut got = std::collections::HashMap::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while got.len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::select! {
            event = c.next_of(EventType::Offers) => { got.entry("c").or_insert(event.offers.map(|o| o.offers.len()).unwrap_or(0)); }
            event = d.next_of(EventType::Offers) => { got.entry("d").or_insert(event.offers.map(|o| o.offers.len()).unwrap_or(0)); }
        }
    }
    assert_eq!(got.get("c"), Some(&1), "{got:?}");
    assert_eq!(got.get("d"), Some(&1), "{got:?}");
}

#[tokio::test]
async fn master_offer_timeout_rescinds() {
    let h = start(Options {
        offer_timeout: Some(Duration::from_millis(300)),
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("timeout")).await;
    let offers = s.offers().await;
    let rescind = s.next_of(EventType::Rescind).await;
    assert_eq!(
        rescind.rescind.map(|r| r.offer_id),
        Some(offers[0].id.clone())
    );
    // Recovered and offered again.
    assert_eq!(s.offers().await.len(), 1);
}

#[tokio::test]
async fn master_resent_updates_do_not_pile_up_in_statuses() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("resends")).await;
    launch(&mut h, &mut s, "t1").await;
    for _ in 0..3 {
        h.update(0, &s.id, "t1", TaskState::TaskRunning);
        assert_eq!(s.update().await.state(), TaskState::TaskRunning);
    }
    let statuses = |h: &Harness, list: &str| -> Vec<String> {
        h.master.state_json()["frameworks"][0][list][0]["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s["state"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(statuses(&h, "tasks"), ["TASK_RUNNING"]);
    h.update(0, &s.id, "t1", TaskState::TaskFinished);
    assert_eq!(s.update().await.state(), TaskState::TaskFinished);
    assert_eq!(
        statuses(&h, "completed_tasks"),
        ["TASK_RUNNING", "TASK_FINISHED"]
    );
}
