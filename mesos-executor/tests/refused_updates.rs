//! Status updates the agent refuses (`403` after a restart, `503` while it
//! recovers, `400` for a malformed one), against a fake agent: what the
//! driver keeps, resends and reports, and what it still delivers while it
//! waits to resubscribe.

mod support;

use http::StatusCode;
use mesos_executor::{Error, Status};
use mesos_proto::v1::executor::call;
use mesos_proto::v1::{TaskId, TaskState, TaskStatus};
use support::*;

/// The next SUBSCRIBE's payload, after a refused update: no UPDATE may
/// come before it (later updates wait for it, to keep their order).
async fn next_subscribe(agent: &mut FakeAgent) -> call::Subscribe {
    loop {
        let call = agent.next_call().await;
        match call.r#type() {
            call::Type::Subscribe => return call.subscribe.expect("payload"),
            call::Type::Update => panic!("an update overtook the refused one"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn an_update_refused_with_403_or_503_is_kept_and_resent_after_resubscribing() {
    init_logs();
    // 403: after an agent restart, the agent may not know the subscription
    // yet; 503: the agent is recovering. Either way the stream stays open.
    for refusal in [
        (StatusCode::FORBIDDEN, "Executor is not subscribed"),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Agent has not finished recovery",
        ),
    ] {
        let mut agent = FakeAgent::start(Mode::Agent).await;
        let config = agent.config();
        let (driver, mut seen) = registered_with_checkpointing(&mut agent, config).await;
        agent.answer_update(Some(refusal));
        agent.send(launch("t1"));
        let refused = update_status(&agent.next(call::Type::Update).await);
        agent.answer_update(None);

        // The driver gives up the subscription and resubscribes with the
        // refused update (and everything sent after it) unacknowledged;
        // later updates wait for that SUBSCRIBE, to keep their order.
        let resent: Vec<_> = next_subscribe(&mut agent)
            .await
            .unacknowledged_updates
            .into_iter()
            .map(|u| u.status)
            .collect();
        let states: Vec<_> = resent.iter().map(TaskStatus::state).collect();
        assert_eq!(resent.first(), Some(&refused), "{refusal:?}: {resent:?}");
        assert_eq!(
            states,
            [TaskState::TaskRunning, TaskState::TaskFinished],
            "{refusal:?}"
        );
        seen.until(|s| *s == Seen::Reregistered).await;
        assert_eq!(driver.status(), Status::DriverRunning);
        assert_eq!(driver.stop().await, Status::DriverStopped);
    }
}

#[tokio::test]
async fn an_update_refused_with_400_is_reported_and_not_resent() {
    init_logs();
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let config = agent.config();
    let (driver, _seen) = registered_with_checkpointing(&mut agent, config).await;

    agent.answer_update(Some((StatusCode::BAD_REQUEST, "malformed")));
    let task = TaskId { value: "t9".into() };
    let err = driver
        .send_status_update(status(&task, TaskState::TaskRunning))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Update { task_id, source } if task_id == "t9" && source.status() == Some(StatusCode::BAD_REQUEST)),
        "{err:?}"
    );
    agent.answer_update(None);
    agent.drop_stream();
    let again = agent.next(call::Type::Subscribe).await.subscribe.unwrap();
    assert!(again.unacknowledged_updates.is_empty(), "{again:?}");
    assert_eq!(driver.stop().await, Status::DriverStopped);
}

#[tokio::test]
async fn a_launch_sent_while_waiting_to_resubscribe_reaches_the_executor() {
    init_logs();
    // The agent refuses an update (503) and, its stream still open, sends
    // the next LAUNCH right after. The driver waits its backoff delay before
    // resubscribing; closing the stream at once would leave the LAUNCH to a
    // closed connection, where Mesos's agent drops it and, at the next
    // SUBSCRIBE that does not list the task, ends it TASK_LOST.
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let config = agent.config();
    let (driver, mut seen) = registered_with_checkpointing(&mut agent, config).await;
    agent.answer_update(Some((
        StatusCode::SERVICE_UNAVAILABLE,
        "Agent has not finished recovery",
    )));
    agent.send(launch("t1"));
    let refused = update_status(&agent.next(call::Type::Update).await);
    assert_eq!(refused.task_id.value, "t1");
    agent.answer_update(None);
    agent.send(launch("t2"));
    seen.until(|s| *s == Seen::Launched("t2".into())).await;

    // The SUBSCRIBE that follows lists t2 (no update of it acknowledged)
    // and carries every update sent meanwhile, t1's first.
    let resubscribe = next_subscribe(&mut agent).await;
    let tasks: Vec<&str> = resubscribe
        .unacknowledged_tasks
        .iter()
        .map(|t| t.task_id.value.as_str())
        .collect();
    assert!(tasks.contains(&"t2"), "{tasks:?}");
    let updates: Vec<(String, TaskState)> = resubscribe
        .unacknowledged_updates
        .iter()
        .map(|u| (u.status.task_id.value.clone(), u.status.state()))
        .collect();
    assert_eq!(
        updates.first(),
        Some(&("t1".into(), TaskState::TaskRunning))
    );
    assert!(
        updates.contains(&("t2".into(), TaskState::TaskFinished)),
        "{updates:?}"
    );
    seen.until(|s| *s == Seen::Reregistered).await;
    assert_eq!(driver.stop().await, Status::DriverStopped);
}
