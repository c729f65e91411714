//! The tasks and task groups of an ACCEPT: validated, checked against the
//! offered resources, recorded, sent to the agent.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use mesos_proto::resources::Resources;
use mesos_proto::v1::resource::AllocationInfo;
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{ExecutorInfo, FrameworkId, Resource, TaskInfo, TaskState};
use mesos_proto::ShrinkToFit as _;

use crate::master::state::{flat, Executor, State, Task};
use crate::master::validation::{validate_executor, validate_task, TaskContext};
use crate::protocol::ToAgent;

use super::offers::{task_error, task_error_for};

/// Task resources with the new executor's (if it is not running yet).
pub(super) fn needed_resources(
    task: &TaskInfo,
    executor: Option<&ExecutorInfo>,
    executor_is_new: bool,
) -> Resources {
    let mut needed = flat(&task.resources);
    if let (Some(executor), true) = (executor, executor_is_new) {
        needed += flat(&executor.resources);
    }
    needed
}

/// Gives each of `resources` without an `allocation_info` the offer's
/// (`role`), as the real master does to every launch before it goes to
/// the agent (`injectAllocationInfo`), MULTI_ROLE framework or not.
fn inject_allocation_info(resources: &mut [Resource], role: &str) {
    for resource in resources.iter_mut().filter(|r| r.allocation_info.is_none()) {
        resource.allocation_info = Some(AllocationInfo {
            role: Some(role.to_string()),
        });
    }
}

/// [`inject_allocation_info`] into a task's resources and its executor's.
fn inject_into_task(task: &mut TaskInfo, role: &str) {
    inject_allocation_info(&mut task.resources, role);
    if let Some(executor) = task.executor.as_mut() {
        inject_allocation_info(&mut executor.resources, role);
    }
}

pub(super) fn record_task(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    role: &str,
    info: Arc<TaskInfo>,
    executor_id: Option<String>,
) {
    // Operator subscribers hear of it (copied only when there are some).
    let notify = !state.operator.is_empty();
    if let Some(framework) = state.frameworks.get_mut(framework_id) {
        let task = Task {
            info,
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            executor_id,
            state: TaskState::TaskStaging,
            statuses: Vec::new(),
            role: role.to_string(),
            terminal_acked: false,
        };
        let added = notify.then(|| task.clone());
        framework.holdings.add_task(task);
        if let Some(task) = added {
            crate::master::operator::subscribe::task_added(state, &task);
        }
    }
}

pub(super) fn record_executor(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    executor: &ExecutorInfo,
) {
    if let Some(framework) = state.frameworks.get_mut(framework_id) {
        framework.holdings.add_executor(Executor {
            info: executor.clone(),
            agent_id: agent_id.to_string(),
            resources: flat(&executor.resources),
        });
    }
}

pub(super) fn executor_is_new(
    state: &State,
    framework_id: &str,
    agent_id: &str,
    executor_id: &str,
    new: &BTreeMap<String, ExecutorInfo>,
) -> bool {
    !new.contains_key(executor_id)
        && state.frameworks.get(framework_id).is_none_or(|f| {
            !f.holdings
                .executors()
                .contains_key(&(agent_id.to_string(), executor_id.to_string()))
        })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn launch_one(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    role: &str,
    mut task: TaskInfo,
    remaining: &mut Resources,
    launched: &mut HashSet<String>,
    new_executors: &mut BTreeMap<String, ExecutorInfo>,
) {
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    // As the real master: a LAUNCH's executor gets the framework's id
    // when it has none (a LAUNCH_GROUP's must carry it).
    if let Some(executor) = task.executor.as_mut() {
        executor.framework_id.get_or_insert_with(|| FrameworkId {
            value: framework_id.to_string(),
        });
    }
    let ctx = TaskContext {
        framework,
        agent_id,
        launched,
        new_executors,
    };
    if let Err(message) = validate_task(&task, None, &ctx) {
        task_error(state, framework_id, &task, &message);
        return;
    }
    let new_executor = task.executor.as_ref().is_some_and(|e| {
        executor_is_new(
            state,
            framework_id,
            agent_id,
            &e.executor_id.value,
            new_executors,
        )
    });
    let needed = needed_resources(&task, task.executor.as_deref(), new_executor);
    let Some(left) = remaining.checked_sub(&needed) else {
        let message = format!(
            "Total resources {needed} required by task and its executor is more than available {remaining}"
        );
        task_error(state, framework_id, &task, &message);
        return;
    };
    *remaining = left;
    inject_into_task(&mut task, role);
    launched.insert(task.task_id.value.clone());
    let executor_id = task.executor.as_ref().map(|e| e.executor_id.value.clone());
    if let (Some(executor), true) = (task.executor.as_deref(), new_executor) {
        new_executors.insert(executor.executor_id.value.clone(), executor.clone());
        record_executor(state, framework_id, agent_id, executor);
    }
    // Decoded vectors have room to spare (a task's two resources had room
    // for four): the master and the agent keep this task (one copy, shared)
    // for as long as it lives.
    task.shrink_to_fit();
    let task = Arc::new(task);
    record_task(
        state,
        framework_id,
        agent_id,
        role,
        Arc::clone(&task),
        executor_id,
    );
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    tracing::info!(%framework_id, %agent_id, task_id = %task.task_id.value, "launching task");
    let info = framework.info.clone();
    state.send_to_agent(
        agent_id,
        ToAgent::RunTask {
            framework: info,
            task,
        },
    );
}

#[allow(clippy::too_many_arguments)]
pub(super) fn launch_group(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    role: &str,
    group: mesos_proto::v1::offer::operation::LaunchGroup,
    remaining: &mut Resources,
    launched: &mut HashSet<String>,
    new_executors: &mut BTreeMap<String, ExecutorInfo>,
) {
    let mut group = group;
    let mut executor = std::mem::take(&mut group.executor);
    let tasks = group.task_group.tasks.clone();
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    let error = {
        let ctx = TaskContext {
            framework,
            agent_id,
            launched,
            new_executors,
        };
        let mut in_group = HashSet::new();
        validate_executor(&executor, &ctx).err().or_else(|| {
            tasks.iter().find_map(|task| {
                if !in_group.insert(task.task_id.value.clone()) {
                    return Some(format!("Task has duplicate ID: {}", task.task_id.value));
                }
                validate_task(task, Some(&executor), &ctx).err()
            })
        })
    };
    let new_executor = executor_is_new(
        state,
        framework_id,
        agent_id,
        &executor.executor_id.value,
        new_executors,
    );
    let mut needed = Resources::new();
    for task in &tasks {
        needed += flat(&task.resources);
    }
    if new_executor {
        needed += flat(&executor.resources);
    }
    let error = error.or_else(|| {
        (!remaining.contains(&needed)).then(|| {
            format!(
                "Total resources {needed} required by task group and its executor is more than available {remaining}"
            )
        })
    });
    if let Some(message) = error {
        for task in &tasks {
            task_error_for(
                state,
                framework_id,
                task,
                Reason::TaskGroupInvalid,
                &message,
            );
        }
        return;
    }
    *remaining = remaining.clone() - &needed;
    inject_allocation_info(&mut executor.resources, role);
    for task in &mut group.task_group.tasks {
        inject_into_task(task, role);
        // As the real master: each task of the group carries its
        // executor.
        task.executor = Some(Box::new(executor.clone()));
    }
    if new_executor {
        new_executors.insert(executor.executor_id.value.clone(), executor.clone());
        record_executor(state, framework_id, agent_id, &executor);
    }
    group.task_group.shrink_to_fit();
    executor.shrink_to_fit();
    for task in &group.task_group.tasks {
        launched.insert(task.task_id.value.clone());
        record_task(
            state,
            framework_id,
            agent_id,
            role,
            Arc::new(task.clone()),
            Some(executor.executor_id.value.clone()),
        );
    }
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    let tasks = &group.task_group.tasks;
    tracing::info!(%framework_id, %agent_id, tasks = tasks.len(), "launching task group");
    let info = framework.info.clone();
    state.send_to_agent(
        agent_id,
        ToAgent::RunTaskGroup {
            framework: info,
            executor,
            task_group: group.task_group,
        },
    );
}
