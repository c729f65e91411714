//! What the master does with its agents' messages (status updates,
//! executor messages, executor exits) and with an agent removed for good.

use std::sync::Arc;

use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{AgentId, TaskState};

use super::ids::master_status;
use super::operator::subscribe as operator;
use super::state::{flat, AgentSlot, Effects, Executor, Framework, State, Task};
use crate::protocol::{AgentLink, AgentReport, FromAgent};

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
            let notify = !state.operator.is_empty();
            let Some(framework) = state.frameworks.get_mut(&framework_id.value) else {
                tracing::debug!(
                    framework_id = %framework_id.value,
                    task_id = %status.task_id.value,
                    "status update for an unknown framework dropped"
                );
                return;
            };
            if status.agent_id.is_none() {
                std::sync::Arc::make_mut(&mut status).agent_id = Some(agent_id.clone());
            }
            let state_now = TaskState::try_from(status.state).unwrap_or(TaskState::TaskLost);
            let task_id = status.task_id.value.as_str();
            // Isolation: only the agent that runs a task speaks for it.
            let foreign = |runs_on: &str| {
                let foreign = runs_on != agent_id.value;
                if foreign {
                    tracing::warn!(
                        framework_id = %framework_id.value,
                        %task_id,
                        from = %agent_id.value,
                        runs_on,
                        "status update from an agent that does not run the task; dropped"
                    );
                }
                foreign
            };
            let mut operator_update = false;
            if let Some(task) = framework.holdings.task_mut(task_id) {
                if foreign(&task.agent_id) {
                    return;
                }
                // Subscribers hear of every new state (Master::updateTask).
                operator_update = notify && task.latest().is_none_or(|l| l.state != status.state);
                task.state = state_now;
                task.push_status(status.clone());
                if state_now.is_terminal() {
                    state.counters.task_terminal(state_now);
                    if let Some(task) = framework.holdings.remove_task(task_id) {
                        framework.completed_tasks.push(task);
                    }
                    fx.allocate = true;
                }
            } else if let Some(task) = framework.completed_tasks.get_mut(task_id) {
                if foreign(&task.agent_id) {
                    return;
                }
                // A resend of a terminal update: nothing changes but its uuid.
                if let Some(latest) = task.statuses.last_mut() {
                    if latest.state == status.state && latest.uuid != status.uuid {
                        std::sync::Arc::make_mut(latest).uuid = status.uuid.clone();
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
            framework.send_shared_update(&status);
            if operator_update {
                operator::task_updated(state, &framework_id.value, &status, state_now);
            }
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

/// Why an agent leaves the cluster for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Removed (its process is gone).
    Removed,
    /// Marked gone by the operator (MARK_AGENT_GONE).
    MarkedGone,
}

/// The agent is gone for good: offers rescinded, FAILURE to the frameworks
/// that ran something there, its tasks lost (TASK_GONE for PARTITION_AWARE
/// frameworks), its resources leave the cluster.
/// The agent's process went away (`active` false) or came back, as Mesos
/// 1.11's master learns when its link to the agent breaks or the agent
/// reregisters (`Master::deactivate`): a deactivated agent's outstanding
/// offers are rescinded and its resources are offered to nobody until it is
/// back; its tasks stay.
pub(crate) fn set_agent_active(state: &mut State, fx: &mut Effects, agent_id: &str, active: bool) {
    let Some(agent) = state.agents.get_mut(agent_id) else {
        return;
    };
    if agent.active == active {
        return;
    }
    agent.active = active;
    if active {
        tracing::info!(agent_id, "agent reactivated");
        fx.allocate = true;
    } else {
        tracing::info!(agent_id, "agent deactivated: its offers are rescinded");
        state.remove_offers_where(true, |o| o.agent_id == agent_id);
    }
}

pub(crate) fn remove_agent(state: &mut State, fx: &mut Effects, agent_id: &AgentId) {
    remove_agent_as(state, fx, agent_id, Removal::Removed);
}

/// [`remove_agent`]; an agent marked gone has its tasks end as Mesos 1.11's
/// `Master::markGone` ends them: TASK_LOST (REASON_AGENT_REMOVED), or
/// TASK_GONE_BY_OPERATOR (REASON_AGENT_REMOVED_BY_OPERATOR) for
/// PARTITION_AWARE frameworks, "Agent has been marked gone".
pub(crate) fn remove_agent_as(
    state: &mut State,
    fx: &mut Effects,
    agent_id: &AgentId,
    removal: Removal,
) {
    if state.agent(&agent_id.value).is_none() {
        tracing::debug!(agent_id = %agent_id.value, "remove of an unknown agent ignored");
        return;
    }
    tracing::info!(agent_id = %agent_id.value, "removing agent");
    state.remove_offers_where(true, |o| o.agent_id == agent_id.value);
    let Some(agent) = state.agents.remove(&agent_id.value) else {
        return;
    };
    let mut updated = Vec::new();
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
        let (state_lost, reason) = match (framework.partition_aware(), removal) {
            (false, _) => (TaskState::TaskLost, Reason::AgentRemoved),
            (true, Removal::Removed) => (TaskState::TaskGone, Reason::AgentRemoved),
            (true, Removal::MarkedGone) => (
                TaskState::TaskGoneByOperator,
                Reason::AgentRemovedByOperator,
            ),
        };
        let message = match removal {
            Removal::Removed => format!("Agent {} removed", agent_id.value),
            Removal::MarkedGone => "Agent has been marked gone".to_string(),
        };
        for task_id in lost {
            let Some(mut task) = framework.holdings.remove_task(&task_id) else {
                continue;
            };
            let status = master_status(
                &task.info.task_id,
                Some(agent_id),
                state_lost,
                reason,
                message.clone(),
            );
            task.state = state_lost;
            state.counters.task_terminal(state_lost);
            task.push_own_status(status.clone());
            task.terminal_acked = true;
            framework.completed_tasks.push(task);
            framework.send_update(status.clone());
            updated.push((framework.id.clone(), status, state_lost));
        }
    }
    for (framework_id, status, latest) in updated {
        operator::task_updated(state, &framework_id, &status, latest);
    }
    operator::agent_removed(state, agent_id);
    state.removed_agents.push(agent);
    fx.allocate = true;
}

/// An agent re-registers with a newly elected master (which starts with no
/// framework state): it is registered with what it reports, so that its
/// executors' and live tasks' resources stay in use (never offered twice)
/// and the tasks show in `/master/state` and answer reconciliation. A
/// framework it reports that this master does not know is added as
/// disconnected (as Mesos recovers it from its agents) until it
/// resubscribes with its id.
pub(crate) fn reregister(
    state: &mut State,
    fx: &mut Effects,
    link: AgentLink,
    report: Option<AgentReport>,
    now: f64,
) {
    let agent_id = link.info.id.clone().map(|id| id.value).unwrap_or_default();
    if state.agent(&agent_id).is_none() {
        state.agents.push(AgentSlot::new(link, now));
        state.counters.agent_reregistered();
        operator::agent_added(state, &agent_id);
    }
    fx.allocate = true;
    let Some(report) = report else {
        tracing::warn!(%agent_id, "the agent did not report what it runs; registered as empty");
        return;
    };
    if report.stopped {
        set_agent_active(state, fx, &agent_id, false);
    }
    for reported in report.frameworks {
        let Some(id) = reported.info.id.as_ref().map(|id| id.value.clone()) else {
            continue;
        };
        if state.removed_frameworks.contains(&id) {
            continue;
        }
        let framework = state
            .frameworks
            .entry(id.clone())
            .or_insert_with(|| Framework::new(id.clone(), reported.info.clone()));
        for executor in reported.executors {
            let key = (agent_id.clone(), executor.executor_id.value.clone());
            if !framework.holdings.executors().contains_key(&key) {
                framework.holdings.add_executor(Executor {
                    resources: flat(&executor.resources),
                    info: executor,
                    agent_id: agent_id.clone(),
                });
            }
        }
        let default_role = framework.roles().into_iter().next().unwrap_or_default();
        for task in reported.tasks {
            if framework
                .holdings
                .tasks()
                .contains_key(&task.info.task_id.value)
            {
                continue;
            }
            let role = task
                .info
                .resources
                .iter()
                .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
                .unwrap_or_else(|| default_role.clone());
            framework.holdings.add_task(Task {
                info: Arc::new(task.info),
                framework_id: id.clone(),
                agent_id: agent_id.clone(),
                executor_id: task.executor_id.map(|e| e.value),
                state: task.state,
                statuses: Vec::new(),
                role,
                terminal_acked: false,
            });
        }
    }
    tracing::info!(%agent_id, "agent re-registered");
}
