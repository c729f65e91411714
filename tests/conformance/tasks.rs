//! Scenarios 2 and 5: a command task runs to TASK_FINISHED with every update
//! acknowledged (and not re-sent), and a long task is killed.

use std::time::Duration;

use mesos_proto::v1::{task_status, TaskState};
use mesos_scheduler::SchedulerEvent;

use crate::harness::{command_task, lifecycle_rank, Framework, Target};

crate::conformance!(command_task_runs_to_finished, long_task_is_killed);

async fn command_task_runs_to_finished(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    let offer = framework.wait_offer_fitting_task().await;
    let task_id = target.task_id("echo");
    framework
        .launch(&offer, command_task("echo", &task_id, &offer, "echo hello"))
        .await;

    let last = framework
        .wait_for(Duration::from_secs(30), "a terminal update", |e| match e {
            SchedulerEvent::Update(s) if s.task_id == task_id && s.state().is_terminal() => {
                Some(s.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(last.state(), TaskState::TaskFinished, "{last:?}");

    let updates = framework.updates_of(&task_id);
    let states: Vec<TaskState> = updates.iter().map(|s| s.state()).collect();
    assert!(
        states.contains(&TaskState::TaskRunning),
        "TASK_RUNNING before TASK_FINISHED: {states:?}"
    );
    assert!(
        states
            .windows(2)
            .all(|w| lifecycle_rank(w[0]) < lifecycle_rank(w[1])),
        "updates in life-cycle order, each once: {states:?}"
    );
    for status in &updates {
        assert!(
            status.uuid.is_some(),
            "executor updates carry a uuid: {status:?}"
        );
        assert_eq!(status.source(), task_status::Source::Executor, "{status:?}");
        assert_eq!(
            status.agent_id.as_ref(),
            Some(&offer.agent_id),
            "{status:?}"
        );
    }

    // Every update was acknowledged as it arrived: none comes again.
    framework
        .assert_quiet(
            Duration::from_secs(2),
            "a re-sent update",
            |e| matches!(e, SchedulerEvent::Update(s) if s.task_id == task_id),
        )
        .await;
    framework.teardown().await;
}

async fn long_task_is_killed(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    let (task_id, agent_id) = framework.launch_sleeper(&target, "sleep").await;
    framework
        .client
        .kill(task_id.clone(), Some(agent_id), None)
        .await
        .expect("KILL accepted");
    let killed = framework
        .wait_task_state(&task_id, TaskState::TaskKilled, Duration::from_secs(20))
        .await;
    assert!(killed.uuid.is_some(), "{killed:?}");
    let states: Vec<TaskState> = framework
        .updates_of(&task_id)
        .iter()
        .map(|s| s.state())
        .collect();
    assert!(
        states
            .windows(2)
            .all(|w| lifecycle_rank(w[0]) < lifecycle_rank(w[1])),
        "updates in life-cycle order: {states:?}"
    );
    framework.teardown().await;
}
