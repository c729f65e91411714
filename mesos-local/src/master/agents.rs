//! What the master does with its agents' messages (status updates,
//! executor messages, executor exits) and with an agent removed for good.

use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{AgentId, TaskState};

use super::ids::master_status;
use super::state::{Effects, State};
use crate::protocol::FromAgent;

/// One message from an agent.
pub(crate) fn handle(state: &mut State, fx: &mut Effects, message: FromAgent) {
    let from = match &message {
        FromAgent::StatusUpdate { agent_id, .. }
        | FromAgent::ExecutorMessage { agent_id, .. }
        | FromAgent::ExecutorTerminated { agent_id, .. } => agent_id,
    };
    if state.agent(&from.value).is_none() {
        // A removed agent (its processes are being killed): the master has
        // already reported it lost; nothing it says reaches frameworks.
        tracing::debug!(agent_id = %from.value, "message from a removed agent dropped");
        return;
    }
    match message {
        FromAgent::StatusUpdate {
            agent_id,
            framework_id,
            mut status,
        } => {
            let Some(framework) = state.frameworks.get_mut(&framework_id.value) else {
                tracing::debug!(
                    framework_id = %framework_id.value,
                    task_id = %status.task_id.value,
                    "status update for an unknown framework dropped"
                );
                return;
            };
            if status.agent_id.is_none() {
                status.agent_id = Some(agent_id.clone());
            }
            let state_now = TaskState::try_from(status.state).unwrap_or(TaskState::TaskLost);
            let task_id = status.task_id.value.clone();
            let runs_on = framework
                .holdings
                .tasks()
                .get(&task_id)
                .or_else(|| framework.completed_tasks.get(&task_id))
                .map(|t| t.agent_id.as_str());
            if runs_on.is_some_and(|on| on != agent_id.value) {
                // Isolation: only the agent that runs a task speaks for it.
                tracing::warn!(
                    framework_id = %framework_id.value,
                    %task_id,
                    from = %agent_id.value,
                    runs_on = runs_on.unwrap_or_default(),
                    "status update from an agent that does not run the task; dropped"
                );
                return;
            }
            if let Some(task) = framework.holdings.task_mut(&task_id) {
                task.state = state_now;
                task.push_status(status.clone());
                if state_now.is_terminal() {
                    if let Some(task) = framework.holdings.remove_task(&task_id) {
                        framework.completed_tasks.push(task);
                    }
                    fx.allocate = true;
                }
            } else if let Some(task) = framework.completed_tasks.get_mut(&task_id) {
                // A resend of a terminal update: nothing changes but its uuid.
                if let Some(latest) = task.statuses.last_mut() {
                    if latest.state == status.state {
                        latest.uuid = status.uuid.clone();
                    }
                }
            }
            tracing::debug!(
                framework_id = %framework_id.value,
                %task_id,
                state = state_now.as_str_name(),
                connected = framework.connected(),
                "status update"
            );
            // Disconnected: dropped; the agent resends until acknowledged.
            framework.send_update(status);
        }
        FromAgent::ExecutorMessage {
            agent_id,
            framework_id,
            executor_id,
            data,
        } => {
            if let Some(framework) = state.frameworks.get(&framework_id.value) {
                framework.send(Event {
                    r#type: Some(event::Type::Message as i32),
                    message: Some(event::Message {
                        agent_id,
                        executor_id,
                        data,
                    }),
                    ..Event::default()
                });
            }
        }
        FromAgent::ExecutorTerminated {
            agent_id,
            framework_id,
            executor_id,
            status,
        } => {
            let Some(framework) = state.frameworks.get_mut(&framework_id.value) else {
                return;
            };
            tracing::info!(
                framework_id = %framework_id.value,
                agent_id = %agent_id.value,
                executor_id = %executor_id.value,
                ?status,
                "executor terminated"
            );
            if framework
                .holdings
                .remove_executor(&agent_id.value, &executor_id.value)
                .is_some()
            {
                fx.allocate = true;
            }
            framework.send(Event {
                r#type: Some(event::Type::Failure as i32),
                failure: Some(event::Failure {
                    agent_id: Some(agent_id),
                    executor_id: Some(executor_id),
                    status,
                }),
                ..Event::default()
            });
        }
    }
}

/// The agent is gone for good: offers rescinded, FAILURE to the frameworks
/// that ran something there, its tasks lost (TASK_GONE for PARTITION_AWARE
/// frameworks), its resources leave the cluster.
pub(crate) fn remove_agent(state: &mut State, fx: &mut Effects, agent_id: &AgentId) {
    let Some(index) = state.agents.iter().position(|a| a.id == agent_id.value) else {
        tracing::debug!(agent_id = %agent_id.value, "remove of an unknown agent ignored");
        return;
    };
    tracing::info!(agent_id = %agent_id.value, "removing agent");
    state.remove_offers_where(true, |o| o.agent_id == agent_id.value);
    let agent = state.agents.remove(index);
    for framework in state.frameworks.values_mut() {
        let lost: Vec<String> = framework
            .holdings
            .tasks()
            .values()
            .filter(|t| t.agent_id == agent_id.value)
            .map(|t| t.info.task_id.value.clone())
            .collect();
        let had_executors = framework
            .holdings
            .executors()
            .keys()
            .any(|(a, _)| *a == agent_id.value);
        framework.holdings.remove_executors(Some(&agent_id.value));
        if lost.is_empty() && !had_executors {
            continue;
        }
        framework.send(Event {
            r#type: Some(event::Type::Failure as i32),
            failure: Some(event::Failure {
                agent_id: Some(agent_id.clone()),
                executor_id: None,
                status: None,
            }),
            ..Event::default()
        });
        let state_lost = if framework.partition_aware() {
            TaskState::TaskGone
        } else {
            TaskState::TaskLost
        };
        for task_id in lost {
            let Some(mut task) = framework.holdings.remove_task(&task_id) else {
                continue;
            };
            let status = master_status(
                &task.info.task_id,
                Some(agent_id),
                state_lost,
                Reason::AgentRemoved,
                format!("Agent {} removed", agent_id.value),
            );
            task.state = state_lost;
            task.push_status(status.clone());
            task.terminal_acked = true;
            framework.completed_tasks.push(task);
            framework.send_update(status);
        }
    }
    state.removed_agents.push(agent);
    fx.allocate = true;
}
