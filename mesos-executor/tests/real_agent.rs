//! Interop with a real Mesos 1.11 master + agent: a minimal v1 scheduler
//! launches the `test_executor` example as a custom executor and checks
//! TASK_RUNNING, TASK_FINISHED and a framework message round trip.
//!
//! Runs only when `MESOS_INTEROP_MASTER` names a master, e.g.
//! `MESOS_INTEROP_MASTER=http://127.0.0.1:5050 cargo test -p mesos-executor --test real_agent`;
//! otherwise reports `SKIPPED` (a failure with `MESOS_RS_REQUIRE_ENV=1`).

use std::path::PathBuf;
use std::time::Duration;

use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{CommandInfo, ExecutorId, ExecutorInfo, TaskId, TaskInfo, TaskState};
use mesos_test_support::scheduler::{scalar, RawScheduler};

/// The `test_executor` example, built with the same cargo and target dir.
fn build_test_executor() -> PathBuf {
    mesos_test_support::example_binary("test_executor")
}

#[tokio::test]
async fn test_executor_runs_under_the_real_agent() {
    let Some(master) = mesos_test_support::environment::interop_master("") else {
        return;
    };
    let executable = build_test_executor();
    let executable = executable.to_string_lossy().into_owned();

    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let mut scheduler =
        RawScheduler::subscribe(&master, &user, "mesos-executor real_agent test").await;

    let task_id = TaskId {
        value: format!("rust-test-task-{}", std::process::id()),
    };
    let executor_id = ExecutorId {
        value: format!("rust-test-executor-{}", std::process::id()),
    };
    let echo = bytes::Bytes::from_static(b"ping from the scheduler");

    let mut launched = false;
    let mut states = Vec::new();
    let mut echoed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let outcome = tokio::time::timeout_at(deadline, async {
        while let Some(event) = scheduler.next_event().await {
            match event.r#type() {
                event::Type::Offers if !launched => {
                    let fw = scheduler.framework_id().cloned().expect("SUBSCRIBED first");
                    let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) else {
                        continue;
                    };
                    let task = TaskInfo {
                        name: "rust test task".into(),
                        task_id: task_id.clone(),
                        agent_id: offer.agent_id.clone(),
                        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
                        executor: Some(Box::new(ExecutorInfo {
                            executor_id: executor_id.clone(),
                            framework_id: Some(fw.clone()),
                            name: Some("rust test executor".into()),
                            command: Some(CommandInfo {
                                shell: Some(false),
                                value: Some(executable.clone()),
                                arguments: vec![executable.clone()],
                                ..Default::default()
                            }),
                            resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
                            ..Default::default()
                        })),
                        ..Default::default()
                    };
                    scheduler.launch(&offer, vec![task]).await;
                    launched = true;
                }
                event::Type::Update => {
                    let status = event.update.expect("update payload").status;
                    assert_eq!(status.task_id, task_id, "{status:?}");
                    let state = status.state();
                    println!("task state {} ({:?})", state.as_str_name(), status.message);
                    scheduler.acknowledge(&status).await;
                    if state == TaskState::TaskRunning {
                        let mut message = scheduler.call(call::Type::Message);
                        message.message = Some(call::Message {
                            agent_id: status.agent_id.clone().expect("agent id"),
                            executor_id: executor_id.clone(),
                            data: echo.clone(),
                        });
                        scheduler.send(&message).await;
                    }
                    states.push(state);
                }
                event::Type::Message => {
                    let message = event.message.expect("message payload");
                    assert_eq!(message.executor_id, executor_id);
                    assert_eq!(message.data, echo);
                    echoed = true;
                }
                event::Type::Failure | event::Type::Error => {
                    panic!("unexpected event: {event:?}");
                }
                _ => {}
            }
            if echoed && states.contains(&TaskState::TaskFinished) {
                return;
            }
        }
        panic!("the master closed the scheduler stream");
    })
    .await;

    scheduler.teardown().await;
    assert!(
        outcome.is_ok(),
        "timed out: launched={launched} states={states:?} echoed={echoed}"
    );
    assert_eq!(
        states,
        vec![TaskState::TaskRunning, TaskState::TaskFinished],
        "the scheduler sees RUNNING then FINISHED"
    );
    assert!(echoed);
}
