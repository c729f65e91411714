//! Agent tests: the bound on what an executor can make the agent keep
//! unacknowledged, through the executor API over real HTTP.

use super::*;

/// An executor's updates past the agent's bound on unacknowledged updates
/// are refused with 503 and the reason (its own task's and a task no one
/// has alike), and taken again once the scheduler acknowledged some; the
/// agent's own updates are never refused.
#[tokio::test]
async fn executor_updates_past_the_bound_are_refused_until_acknowledged() {
    const BOUND: usize = 3;
    let mut h = harness_with(default_containerizer(), Duration::from_secs(60), |config| {
        config.max_pending_updates = BOUND
    })
    .await;
    let executor = shell_executor("flood", "sleep 1000");
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(executor_task("b1", &executor)),
    });
    let client = executor_client();
    let url = mesos_http::parse_url(&h.url()).unwrap();
    let mut subscribe = executor_call(call::Type::Subscribe, "flood");
    subscribe.subscribe = Some(call::Subscribe::default());
    // The launch is asynchronous: subscribe once the agent knows the
    // executor (400 until then).
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut events = loop {
        match client.subscribe::<Call, Event>(&url, &subscribe).await {
            Ok(subscription) => break subscription.events,
            Err(e) if tokio::time::Instant::now() < deadline => {
                assert_eq!(e.status(), Some(http::StatusCode::BAD_REQUEST), "{e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the executor never subscribed: {e}"),
        }
    };
    assert_eq!(
        executor_api::next_event(&mut events).await.r#type,
        Some(event::Type::Subscribed as i32)
    );
    let update = |task: &str| {
        let mut c = executor_call(call::Type::Update, "flood");
        c.update = Some(call::Update {
            status: executor_status(task, TaskState::TaskRunning as i32),
        });
        c
    };
    for _ in 0..BOUND {
        let answer = client.call(&url, &update("b1"), None).await.unwrap();
        assert_eq!(answer.status, http::StatusCode::ACCEPTED);
    }
    for task in ["b1", "nobody's"] {
        let err = client.call(&url, &update(task), None).await.unwrap_err();
        assert_eq!(
            err.status(),
            Some(http::StatusCode::SERVICE_UNAVAILABLE),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("Too many unacknowledged status updates on this agent (at most 3)"),
            "{err}"
        );
    }
    // Only the stream's head went to the master; acknowledging it makes room.
    let head = h.update().await;
    assert_eq!(head.task_id.value, "b1");
    h.send(ToAgent::StatusUpdateAcknowledged {
        framework_id: FrameworkId { value: FW.into() },
        task_id: head.task_id.clone(),
        uuid: head.uuid.clone().unwrap(),
    });
    let next = h.update().await;
    assert_eq!(next.task_id.value, "b1");
    assert_ne!(next.uuid, head.uuid);
    let answer = client.call(&url, &update("b1"), None).await.unwrap();
    assert_eq!(answer.status, http::StatusCode::ACCEPTED);

    // At the bound again; the agent's own update (the executor shut down,
    // its live task ended by the agent) is taken past it and comes after
    // the executor's, in order.
    let err = client.call(&url, &update("b1"), None).await.unwrap_err();
    assert_eq!(
        err.status(),
        Some(http::StatusCode::SERVICE_UNAVAILABLE),
        "{err}"
    );
    h.send(ToAgent::ShutdownExecutor {
        framework_id: FrameworkId { value: FW.into() },
        executor_id: ExecutorId {
            value: "flood".into(),
        },
    });
    let mut current = next;
    let mut executor_updates = 0;
    while current.source == Some(task_status::Source::Executor as i32) {
        executor_updates += 1;
        assert!(
            executor_updates <= BOUND,
            "more executor updates than taken"
        );
        h.send(ToAgent::StatusUpdateAcknowledged {
            framework_id: FrameworkId { value: FW.into() },
            task_id: current.task_id.clone(),
            uuid: current.uuid.clone().unwrap(),
        });
        // The agent also tells the master the executor ended.
        current = loop {
            if let FromAgent::StatusUpdate { status, .. } = h.next().await {
                break TaskStatus::clone(&status);
            }
        };
    }
    assert_eq!(current.source, Some(task_status::Source::Agent as i32));
    assert_eq!(current.task_id.value, "b1");
    assert_eq!(
        executor_updates, BOUND,
        "the 2nd to 4th executor updates, then the agent's"
    );
    drop(events);
}
