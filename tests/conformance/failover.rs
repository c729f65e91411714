//! Scenario 7: a framework with a failover timeout survives the loss of its
//! scheduler: a new subscription with the same framework id finds the task
//! still running; TEARDOWN then ends it.

use std::time::Duration;

use mesos_proto::v1::TaskState;
use mesos_scheduler::SchedulerEvent;

use crate::harness::{assert_reconciliation_answer, Framework, Target};

crate::conformance!(failover_keeps_tasks_running);

async fn failover_keeps_tasks_running(target: Target) {
    let failover_timeout = Duration::from_secs(60);
    let mut first = Framework::subscribe(&target, |f| f.failover_timeout(failover_timeout)).await;
    let (task_id, agent_id) = first.launch_sleeper(&target, "sleep").await;
    let framework_id = first.framework_id.clone();
    // The scheduler "dies": its connection goes away.
    drop(first);

    let mut second = Framework::subscribe(&target, |f| {
        f.failover_timeout(failover_timeout)
            .id(framework_id.clone())
    })
    .await;
    assert_eq!(second.framework_id, framework_id);
    second
        .client
        .reconcile(vec![(task_id.clone(), Some(agent_id.clone()))])
        .await
        .expect("RECONCILE accepted after failover");
    let status = second
        .wait_for(
            Duration::from_secs(10),
            "the reconciliation answer",
            |e| match e {
                SchedulerEvent::Update(s) if s.task_id == task_id && s.uuid.is_none() => {
                    Some(s.clone())
                }
                _ => None,
            },
        )
        .await;
    assert_reconciliation_answer(&status, TaskState::TaskRunning);
    second.teardown().await;
}
