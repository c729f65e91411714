//! Master tests: Tasks and frameworks over time: kill, reconciliation, failover, teardown, agents' messages and removal.

use super::*;

#[tokio::test]
async fn master_kill_reaches_agent_and_unknown_task_is_lost() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("kill")).await;
    launch(&mut h, &mut s, "t1").await;
    s.ok(calls::kill(TaskId { value: "t1".into() }, None, None))
        .await;
    match h.agent_next_real(0).await {
        ToAgent::KillTask {
            task_id,
            framework_id,
            ..
        } => {
            assert_eq!(task_id.value, "t1");
            assert_eq!(framework_id, s.id);
        }
        other => panic!("expected KillTask, got {other:?}"),
    }
    s.ok(calls::kill(
        TaskId {
            value: "ghost".into(),
        },
        None,
        None,
    ))
    .await;
    let status = s.update().await;
    assert_eq!(status.task_id.value, "ghost");
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(status.reason(), Reason::Reconciliation);
    assert_eq!(
        status.message.as_deref(),
        Some("Reconciliation: Task is unknown")
    );
}

#[tokio::test]
async fn master_reconcile_explicit_implicit_unknown() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("reconcile")).await;
    let agent = launch(&mut h, &mut s, "t1").await;
    h.update(0, &s.id, "t1", TaskState::TaskRunning);
    assert_eq!(s.update().await.state(), TaskState::TaskRunning);

    s.ok(calls::reconcile(vec![(
        TaskId { value: "t1".into() },
        None,
    )]))
    .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskRunning);
    assert_eq!(status.reason(), Reason::Reconciliation);
    assert_eq!(status.source(), Source::Master);
    assert_eq!(
        status.message.as_deref(),
        Some("Reconciliation: Latest task state")
    );
    assert_eq!(status.agent_id.as_ref(), Some(&agent));
    assert!(status.uuid.is_none());

    s.ok(calls::reconcile(vec![])).await;
    let status = s.update().await;
    assert_eq!(status.task_id.value, "t1");
    assert_eq!(status.state(), TaskState::TaskRunning);

    s.ok(calls::reconcile(vec![(
        TaskId {
            value: "ghost".into(),
        },
        Some(agent.clone()),
    )]))
    .await;
    let status = s.update().await;
    assert_eq!(status.task_id.value, "ghost");
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(
        status.message.as_deref(),
        Some("Reconciliation: Task is unknown to the agent")
    );
}

#[tokio::test]
async fn master_failover_within_timeout_keeps_tasks() {
    let mut h = start(Options::default()).await;
    let mut info = framework("failover");
    info.failover_timeout = Some(60.0);
    let mut s = h.subscribe(info.clone()).await;
    launch(&mut h, &mut s, "t1").await;

    // A second scheduler instance takes over.
    info.id = Some(s.id.clone());
    let mut s2 = h.subscribe(info.clone()).await;
    assert_eq!(s2.id, s.id);
    assert_ne!(s2.stream_id, s.stream_id);
    let old = s.until_closed().await;
    assert!(
        old.iter().any(|e| e
            .error
            .as_ref()
            .is_some_and(|e| e.message == "Framework failed over")),
        "{old:?}"
    );
    match h.agent_next(0).await {
        ToAgent::FrameworkSubscribed { framework_id } => assert_eq!(framework_id, s.id),
        other => panic!("expected FrameworkSubscribed, got {other:?}"),
    }
    let e = s
        .call(calls::reconcile(vec![]))
        .await
        .expect_err("old stream id");
    assert_eq!(error_text(&e).0, 400);
    // Updates reach the new stream; the task is still there.
    h.update(0, &s2.id, "t1", TaskState::TaskRunning);
    assert_eq!(s2.update().await.state(), TaskState::TaskRunning);

    // Disconnect and come back within the timeout: tasks kept.
    drop(s2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.master.state_json()["frameworks"][0]["connected"], false);
    let mut s3 = h.subscribe(info).await;
    s3.ok(calls::reconcile(vec![])).await;
    let status = s3.update().await;
    assert_eq!(status.task_id.value, "t1");
    assert_eq!(status.state(), TaskState::TaskRunning);
    assert!(h
        .agent_drain(0)
        .iter()
        .any(|m| matches!(m, ToAgent::FrameworkSubscribed { .. })));
}

#[tokio::test]
async fn master_teardown_closes_stream_and_removed_framework_gets_error() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("teardown")).await;
    launch(&mut h, &mut s, "t1").await;
    s.ok(calls::teardown()).await;
    let _ = s.until_closed().await;
    match h.agent_next_real(0).await {
        ToAgent::ShutdownFramework { framework_id } => assert_eq!(framework_id, s.id),
        other => panic!("expected ShutdownFramework, got {other:?}"),
    }
    let state = h.master.state_json();
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
    assert_eq!(state["completed_frameworks"][0]["id"], s.id.value);
    assert_eq!(
        state["completed_frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_KILLED"
    );
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
    let e = s.call(calls::reconcile(vec![])).await.expect_err("gone");
    assert_eq!(error_text(&e), (400, "Framework cannot be found".into()));

    let mut info = framework("teardown");
    info.id = Some(s.id.clone());
    let sub = h
        .client
        .subscribe::<Call, Event>(&h.url, &calls::subscribe(info))
        .await
        .expect("200");
    let mut again = Sched {
        client: h.client.clone(),
        url: h.url.clone(),
        stream_id: String::new(),
        events: sub.events,
        id: s.id.clone(),
    };
    let events = again.until_closed().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].error.as_ref().map(|e| e.message.as_str()),
        Some("Framework has been removed")
    );
}

#[tokio::test]
async fn master_disconnect_without_failover_timeout_removes_framework() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("gone")).await;
    launch(&mut h, &mut s, "t1").await;
    let id = s.id.clone();
    drop(s);
    match h.agent_next_real(0).await {
        ToAgent::ShutdownFramework { framework_id } => assert_eq!(framework_id, id),
        other => panic!("expected ShutdownFramework, got {other:?}"),
    }
    assert_eq!(
        h.master.state_json()["completed_frameworks"][0]["id"],
        id.value
    );
}

#[tokio::test]
async fn master_fail_over_keeps_frameworks_that_resubscribe() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("leader-change")).await;
    launch(&mut h, &mut s, "t1").await;
    h.master.fail_over();
    let _ = s.until_closed().await;
    let e = s
        .call(calls::reconcile(vec![]))
        .await
        .expect_err("stream gone");
    assert_eq!(error_text(&e), (403, "Framework is not subscribed".into()));
    assert!(!h
        .agent_drain(0)
        .iter()
        .any(|m| matches!(m, ToAgent::ShutdownFramework { .. })));
    let mut info = framework("leader-change");
    info.id = Some(s.id.clone());
    let mut s2 = h.subscribe(info).await;
    s2.ok(calls::reconcile(vec![])).await;
    assert_eq!(s2.update().await.task_id.value, "t1");

    // kill_connections: same, but failover_timeout 0 applies.
    h.master.kill_connections();
    let _ = s2.until_closed().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h
        .agent_drain(0)
        .iter()
        .any(|m| matches!(m, ToAgent::ShutdownFramework { .. })));
}

#[tokio::test]
async fn master_agent_messages_reach_the_scheduler() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("messages")).await;
    let offers = s.offers().await;
    let mut task = command_task("t1", &offers[0].agent_id, cpus_mem(1.0, 64.0));
    task.command = None;
    task.executor = Some(Box::new(ExecutorInfo {
        executor_id: ExecutorId {
            value: "exec".into(),
        },
        command: Some(CommandInfo {
            value: Some("./executor".into()),
            ..CommandInfo::default()
        }),
        resources: cpus_mem(0.5, 32.0),
        ..ExecutorInfo::default()
    }));
    s.ok(calls::launch(offer_ids(&offers), vec![task], None))
        .await;
    let _ = h.agent_next_real(0).await;
    assert_eq!(
        h.master.state_json()["slaves"][0]["used_resources"]["cpus"],
        1.5
    );

    s.ok(calls::message(
        agent_id(0),
        ExecutorId {
            value: "exec".into(),
        },
        Bytes::from_static(b"ping"),
    ))
    .await;
    match h.agent_next_real(0).await {
        ToAgent::FrameworkMessage {
            data, executor_id, ..
        } => {
            assert_eq!(&data[..], b"ping");
            assert_eq!(executor_id.value, "exec");
        }
        other => panic!("expected FrameworkMessage, got {other:?}"),
    }
    h.to_master
        .send(FromAgent::ExecutorMessage {
            agent_id: agent_id(0),
            framework_id: s.id.clone(),
            executor_id: ExecutorId {
                value: "exec".into(),
            },
            data: Bytes::from_static(b"pong"),
        })
        .expect("send");
    let message = s
        .next_of(EventType::Message)
        .await
        .message
        .expect("message");
    assert_eq!(&message.data[..], b"pong");

    s.ok(calls::shutdown(
        ExecutorId {
            value: "exec".into(),
        },
        agent_id(0),
    ))
    .await;
    assert!(matches!(
        h.agent_next_real(0).await,
        ToAgent::ShutdownExecutor { .. }
    ));
    h.update(0, &s.id, "t1", TaskState::TaskKilled);
    h.executor_terminated(0, &s.id, "exec", Some(9));
    let failure = s
        .next_of(EventType::Failure)
        .await
        .failure
        .expect("failure");
    assert_eq!(
        failure.executor_id.map(|e| e.value).as_deref(),
        Some("exec")
    );
    assert_eq!(failure.status, Some(9));
    assert_eq!(
        h.master.state_json()["slaves"][0]["used_resources"]["cpus"],
        0.0
    );
}

#[tokio::test]
async fn master_remove_agent_loses_its_tasks() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("agent-gone")).await;
    launch(&mut h, &mut s, "t1").await;
    h.master.trigger_allocation();
    let offers = s.offers().await;
    h.master.remove_agent(&agent_id(0));
    let mut saw = (false, false, false);
    while saw != (true, true, true) {
        let event = s.next().await;
        match kind(&event) {
            EventType::Rescind => {
                assert_eq!(
                    event.rescind.map(|r| r.offer_id),
                    Some(offers[0].id.clone())
                );
                saw.0 = true;
            }
            EventType::Failure => saw.1 = true,
            EventType::Update => {
                let status = event.update.expect("update").status;
                assert_eq!(status.state(), TaskState::TaskLost);
                assert_eq!(status.reason(), Reason::AgentRemoved);
                saw.2 = true;
            }
            _ => {}
        }
    }
    let state = h.master.state_json();
    assert_eq!(state["activated_slaves"], 0.0);
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_LOST"
    );

    // What the removed agent still says (its dying processes) is dropped.
    h.update(0, &s.id, "t1", TaskState::TaskFailed);
    h.executor_terminated(0, &s.id, "exec", Some(9));
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Some(Ok(event))) = tokio::time::timeout_at(deadline, s.events.next()).await {
        assert!(
            !matches!(kind(&event), EventType::Failure | EventType::Update),
            "from a removed agent: {event:?}"
        );
    }
    let state = h.master.state_json();
    assert_eq!(
        state["frameworks"][0]["completed_tasks"][0]["statuses"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{state}"
    );
}

#[tokio::test]
async fn master_refuses_a_failover_timeout_the_real_master_cannot_represent() {
    let h = start(Options::default()).await;
    for (timeout, text) in [(1e10, "1e+10"), (1e300, "1e+300")] {
        let mut info = framework("absurd");
        info.failover_timeout = Some(timeout);
        let sub = h
            .client
            .subscribe::<Call, Event>(&h.url, &calls::subscribe(info))
            .await
            .expect("200");
        let mut s = Sched {
            client: h.client.clone(),
            url: h.url.clone(),
            stream_id: String::new(),
            events: sub.events,
            id: FrameworkId::default(),
        };
        let events = s.until_closed().await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].error.as_ref().map(|e| e.message.clone()),
            Some(format!(
                "The framework failover_timeout ({text}) is invalid"
            ))
        );
    }
    // Nine years and a half is still a Mesos duration.
    let mut info = framework("long");
    info.failover_timeout = Some(3e8);
    let _s = h.subscribe(info).await;
    assert_eq!(
        h.master.state_json()["frameworks"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn master_drops_an_update_from_an_agent_that_does_not_run_the_task() {
    let mut h = start(Options {
        agents: 2,
        ..Options::default()
    })
    .await;
    let mut s = h.subscribe(framework("isolated")).await;
    let agent = launch(&mut h, &mut s, "t1").await;
    let (runs, other) = if agent == agent_id(0) { (0, 1) } else { (1, 0) };
    h.update(runs, &s.id, "t1", TaskState::TaskRunning);
    assert_eq!(s.update().await.state(), TaskState::TaskRunning);
    // A forged terminal update from the other agent.
    h.update(other, &s.id, "t1", TaskState::TaskFinished);
    s.none_of(EventType::Update, Duration::from_millis(300))
        .await;
    let state = h.master.state_json();
    assert_eq!(
        state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING",
        "{state}"
    );
}

#[tokio::test]
async fn master_kill_of_a_terminal_unacknowledged_task_is_not_lost() {
    let mut h = start(Options::default()).await;
    let mut s = h.subscribe(framework("kill-terminal")).await;
    let agent = launch(&mut h, &mut s, "t1").await;
    let uuid = h.update(0, &s.id, "t1", TaskState::TaskKilled);
    assert_eq!(s.update().await.state(), TaskState::TaskKilled);
    // A KILL that crossed the terminal update: no contradicting TASK_LOST.
    s.ok(calls::kill(TaskId { value: "t1".into() }, None, None))
        .await;
    s.none_of(EventType::Update, Duration::from_millis(300))
        .await;
    // Once acknowledged the task is gone: a KILL is answered "unknown".
    s.ok(calls::acknowledge(
        agent,
        TaskId { value: "t1".into() },
        uuid,
    ))
    .await;
    s.ok(calls::kill(TaskId { value: "t1".into() }, None, None))
        .await;
    let status = s.update().await;
    assert_eq!(status.state(), TaskState::TaskLost);
    assert_eq!(status.reason(), Reason::Reconciliation);
}
