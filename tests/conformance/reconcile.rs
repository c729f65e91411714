//! Scenario 6: explicit and implicit reconciliation of a running task, and
//! explicit reconciliation of a task the master never heard of.

use std::time::Duration;

use mesos_proto::v1::{TaskId, TaskState};
use mesos_scheduler::SchedulerEvent;

use crate::harness::{assert_reconciliation_answer, Framework, Target};

crate::conformance!(reconcile_explicit_implicit_and_unknown);

async fn reconcile_explicit_implicit_and_unknown(target: Target) {
    let mut framework = Framework::subscribe(&target, |f| f).await;
    let (task_id, agent_id) = framework.launch_sleeper(&target, "sleep").await;
    let within = Duration::from_secs(10);

    // Explicit: the master answers with the task's latest state.
    framework
        .client
        .reconcile(vec![(task_id.clone(), Some(agent_id.clone()))])
        .await
        .expect("explicit RECONCILE accepted");
    let explicit = framework
        .wait_for(within, "the explicit reconciliation answer", |e| match e {
            SchedulerEvent::Update(s) if s.task_id == task_id => Some(s.clone()),
            _ => None,
        })
        .await;
    assert_reconciliation_answer(&explicit, TaskState::TaskRunning);
    assert_eq!(explicit.agent_id.as_ref(), Some(&agent_id), "{explicit:?}");

    // Implicit: every task the master knows of this framework.
    framework
        .client
        .reconcile(Vec::new())
        .await
        .expect("implicit RECONCILE accepted");
    let implicit = framework
        .wait_for(within, "the implicit reconciliation answer", |e| match e {
            SchedulerEvent::Update(s) if s.task_id == task_id => Some(s.clone()),
            SchedulerEvent::Update(s) => {
                panic!("implicit reconciliation of a task we never launched: {s:?}")
            }
            _ => None,
        })
        .await;
    assert_reconciliation_answer(&implicit, TaskState::TaskRunning);

    // Unknown task on a registered agent: a framework without PARTITION_AWARE
    // hears TASK_LOST (TASK_GONE with that capability).
    let unknown = TaskId::from(format!("{}-never-launched", task_id.value));
    framework
        .client
        .reconcile(vec![(unknown.clone(), Some(agent_id.clone()))])
        .await
        .expect("explicit RECONCILE of an unknown task accepted");
    let answer = framework
        .wait_for(within, "the answer about an unknown task", |e| match e {
            SchedulerEvent::Update(s) if s.task_id == unknown => Some(s.clone()),
            _ => None,
        })
        .await;
    assert_reconciliation_answer(&answer, TaskState::TaskLost);

    // Unknown task without an agent: TASK_LOST too (TASK_UNKNOWN when
    // partition-aware).
    let nowhere = TaskId::from(format!("{}-nowhere", task_id.value));
    framework
        .client
        .reconcile(vec![(nowhere.clone(), None)])
        .await
        .expect("explicit RECONCILE without agent accepted");
    let answer = framework
        .wait_for(
            within,
            "the answer about an unknown task without agent",
            |e| match e {
                SchedulerEvent::Update(s) if s.task_id == nowhere => Some(s.clone()),
                _ => None,
            },
        )
        .await;
    assert_reconciliation_answer(&answer, TaskState::TaskLost);
    framework.teardown().await;
}
