//! Agent tests: updates an executor sends for tasks not its own, and calls
//! with enum values no Mesos version has, answered as the real agent
//! answers them.

use super::executor_api::next_event;
use super::*;

/// Two executors of one framework; executor `a` resubscribes claiming an
/// unacknowledged update of `b`'s task: as the real agent (whose
/// `Slave::subscribe` hands every listed update to `statusUpdate`, which
/// finds the task's executor), both are forwarded, `b1`'s as `b`'s.
#[tokio::test]
async fn subscribe_unacknowledged_updates_are_all_forwarded() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    for (executor, task) in [("a", "a1"), ("b", "b1")] {
        h.send(ToAgent::RunTask {
            framework: framework(false),
            task: Arc::new(executor_task(task, &shell_executor(executor, "sleep 1000"))),
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = mesos_http::parse_url(&h.url()).unwrap();
    let mut subscribe = executor_call(call::Type::Subscribe, "a");
    subscribe.subscribe = Some(call::Subscribe {
        unacknowledged_updates: vec![
            call::Update {
                status: executor_status("b1", TaskState::TaskFailed as i32),
            },
            call::Update {
                status: executor_status("a1", TaskState::TaskRunning as i32),
            },
        ],
        ..Default::default()
    });
    let subscription = executor_client()
        .subscribe::<Call, Event>(&url, &subscribe)
        .await
        .unwrap();
    let mut events = subscription.events;
    let first = next_event(&mut events).await;
    assert_eq!(first.r#type, Some(event::Type::Subscribed as i32));
    let mut updates = vec![h.update().await, h.update().await];
    updates.sort_by(|x, y| x.task_id.value.cmp(&y.task_id.value));
    assert_eq!(updates[0].task_id.value, "a1", "{updates:?}");
    assert_eq!(state(&updates[0]), TaskState::TaskRunning);
    assert!(updates[0].container_status.is_some(), "{updates:?}");
    assert_eq!(updates[1].task_id.value, "b1", "{updates:?}");
    assert_eq!(state(&updates[1]), TaskState::TaskFailed);
    assert!(updates[1].container_status.is_some(), "{updates:?}");
}

/// Enum values out of range: a task state (UPDATE, or SUBSCRIBE's
/// unacknowledged updates) or a call type. The real 1.11 agent drops the
/// unknown value while parsing: `state` is required, so the body does not
/// parse; `type` is optional, so the call has none.
#[tokio::test]
async fn unknown_enum_values_are_400_as_the_real_agent() {
    let mut h = harness(default_containerizer(), Duration::from_secs(60)).await;
    h.send(ToAgent::RunTask {
        framework: framework(false),
        task: Arc::new(executor_task("e1", &shell_executor("e", "sleep 1000"))),
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = mesos_http::parse_url(&h.url()).unwrap();
    let client = executor_client();

    let mut update = executor_call(call::Type::Update, "e");
    update.update = Some(call::Update {
        status: executor_status("e1", 999),
    });
    let err = client.call(&url, &update, None).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST), "{err}");
    assert!(
        err.to_string()
            .contains("Failed to parse body into Call protobuf"),
        "{err}"
    );

    let mut subscribe = executor_call(call::Type::Subscribe, "e");
    subscribe.subscribe = Some(call::Subscribe {
        unacknowledged_updates: vec![call::Update {
            status: executor_status("e1", 999),
        }],
        ..Default::default()
    });
    let err = client
        .subscribe::<Call, Event>(&url, &subscribe)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST), "{err}");

    let mut unknown = executor_call(call::Type::Heartbeat, "e");
    unknown.r#type = Some(999);
    let err = client.call(&url, &unknown, None).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST), "{err}");
    assert!(
        err.to_string()
            .contains("Failed to validate Executor::Call: Expecting 'type' to be present"),
        "{err}"
    );
    // None of it reached the agent's state: no update was reported.
    h.quiet(Duration::from_millis(300)).await;
}
