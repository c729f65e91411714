//! KILL, ACKNOWLEDGE and RECONCILE.

use mesos_proto::v1::scheduler::call;
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{AgentId, ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus};

use crate::master::ids::master_status;
use crate::master::state::{Framework, State, Task};
use crate::protocol::ToAgent;

/// What the real master answers for a task it does not know: TASK_LOST,
/// or for a PARTITION_AWARE framework TASK_GONE (the agent is known and
/// does not run it) or TASK_UNKNOWN (no such agent).
pub(super) fn unknown_task_status(
    state: &State,
    framework: &Framework,
    task_id: &TaskId,
    agent_id: Option<&AgentId>,
) -> TaskStatus {
    let aware = framework.partition_aware();
    let pick = |partition_aware: TaskState| {
        if aware {
            partition_aware
        } else {
            TaskState::TaskLost
        }
    };
    match agent_id.filter(|a| state.agent(&a.value).is_some()) {
        Some(agent_id) => master_status(
            task_id,
            Some(agent_id),
            pick(TaskState::TaskGone),
            Reason::Reconciliation,
            "Reconciliation: Task is unknown to the agent",
        ),
        None => master_status(
            task_id,
            None,
            pick(TaskState::TaskUnknown),
            Reason::Reconciliation,
            "Reconciliation: Task is unknown",
        ),
    }
}

pub(super) fn kill_task(state: &State, framework_id: &str, kill: call::Kill) {
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    match framework.holdings.tasks().get(&kill.task_id.value) {
        Some(task) => {
            tracing::info!(%framework_id, task_id = %kill.task_id.value, "killing task");
            state.send_to_agent(
                &task.agent_id,
                ToAgent::KillTask {
                    framework_id: framework.framework_id(),
                    task_id: kill.task_id,
                    kill_policy: kill.kill_policy,
                },
            );
        }
        // Terminal, but its terminal update not acknowledged yet: the real
        // master still holds the task and forwards the kill, which the
        // agent ignores. Nothing to do: the framework gets (and is resent)
        // the terminal update; "Task is unknown" would contradict it.
        None if framework
            .completed_tasks
            .get(&kill.task_id.value)
            .is_some_and(|t| !t.terminal_acked) =>
        {
            tracing::info!(%framework_id, task_id = %kill.task_id.value, "kill of a task already terminal; ignored");
        }
        None => {
            framework.send_update(unknown_task_status(
                state,
                framework,
                &kill.task_id,
                kill.agent_id.as_ref(),
            ));
        }
    }
}

pub(super) fn acknowledge(state: &mut State, framework_id: &str, ack: call::Acknowledge) {
    if let Some(framework) = state.frameworks.get_mut(framework_id) {
        if let Some(task) = framework.completed_tasks.get_mut(&ack.task_id.value) {
            if task.latest().and_then(|s| s.uuid.as_ref()) == Some(&ack.uuid) {
                task.terminal_acked = true;
            }
        }
    }
    state.send_to_agent(
        &ack.agent_id.value,
        ToAgent::StatusUpdateAcknowledged {
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            task_id: ack.task_id,
            uuid: ack.uuid,
        },
    );
}

pub(super) fn reconciliation_status(task: &Task) -> TaskStatus {
    let mut status = master_status(
        &task.info.task_id,
        Some(&AgentId {
            value: task.agent_id.clone(),
        }),
        task.state,
        Reason::Reconciliation,
        "Reconciliation: Latest task state",
    );
    // As the real master (`Master::reconcile`): the task's executor id;
    // health and check status of the latest status; the container status
    // of the latest status that has one; no labels.
    status.executor_id = task.executor_id.as_ref().map(|value| ExecutorId {
        value: value.clone(),
    });
    if let Some(latest) = task.latest() {
        status.healthy = latest.healthy;
        status.check_status = latest.check_status;
    }
    status.container_status = task
        .statuses
        .iter()
        .rev()
        .find_map(|s| s.container_status.clone());
    status
}

/// A task the framework still knows of: non-terminal, or terminal with
/// its terminal update not acknowledged yet.
pub(super) fn known_task<'a>(framework: &'a Framework, task_id: &str) -> Option<&'a Task> {
    framework
        .holdings
        .tasks()
        .get(task_id)
        .map(|t| &**t)
        .or_else(|| {
            framework
                .completed_tasks
                .get(task_id)
                .filter(|t| !t.terminal_acked)
        })
}

pub(super) fn reconcile_tasks(state: &State, framework_id: &str, tasks: &[call::reconcile::Task]) {
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    if tasks.is_empty() {
        for task in framework.holdings.tasks().values() {
            framework.send_update(reconciliation_status(task));
        }
        for task in framework
            .completed_tasks
            .iter()
            .filter(|t| !t.terminal_acked)
        {
            framework.send_update(reconciliation_status(task));
        }
        return;
    }
    for wanted in tasks {
        let status = match known_task(framework, &wanted.task_id.value) {
            Some(task) => reconciliation_status(task),
            None => {
                unknown_task_status(state, framework, &wanted.task_id, wanted.agent_id.as_ref())
            }
        };
        framework.send_update(status);
    }
}
