//! ACCEPT and DECLINE: offers validated and consumed, refusal filters.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use http::StatusCode;
use mesos_proto::resources::Resources;
use mesos_proto::v1::offer::operation::Type as OperationType;
use mesos_proto::v1::scheduler::call;
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{ExecutorInfo, Filters, TaskInfo, TaskState, TaskStatus};

use crate::master::ids::master_status;
use crate::master::state::{Effects, Framework, State};

use super::launch::{launch_group, launch_one};
use super::Reply;

/// The default of `Filters.refuse_seconds`.
const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

/// How long a filter holds (None: no filter).
pub(super) fn refuse_for(filters: Option<&Filters>) -> Option<Duration> {
    let seconds = filters
        .and_then(|f| f.refuse_seconds)
        .unwrap_or(DEFAULT_REFUSE_SECONDS);
    if seconds.is_nan() || seconds <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds.min(365.0 * 86400.0)).ok()
}

pub(super) fn install_filter(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    filters: Option<&Filters>,
) {
    let Some(duration) = refuse_for(filters) else {
        return;
    };
    if let (Some(framework), Some(until)) = (
        state.frameworks.get_mut(framework_id),
        Instant::now().checked_add(duration),
    ) {
        framework.filters.insert(agent_id.to_string(), until);
    }
}

pub(super) fn decline_offers(
    state: &mut State,
    fx: &mut Effects,
    framework_id: &str,
    offer_ids: &[mesos_proto::v1::OfferId],
    filters: Option<&Filters>,
) {
    for offer_id in offer_ids {
        let key = state.find_offer(&offer_id.value);
        let Some(key) = key.filter(|k| {
            state
                .offers
                .get(k)
                .is_some_and(|o| o.framework_id == framework_id)
        }) else {
            tracing::debug!(%framework_id, offer_id = %offer_id.value, "decline of an unknown offer ignored");
            continue;
        };
        if let Some(offer) = state.remove_offer(key, false) {
            install_filter(state, framework_id, &offer.agent_id, filters);
            fx.allocate = true;
        }
    }
}

pub(super) fn operation_name(op: &mesos_proto::v1::offer::Operation) -> &'static str {
    op.r#type
        .and_then(|t| OperationType::try_from(t).ok())
        .unwrap_or(OperationType::Unknown)
        .as_str_name()
}

pub(super) fn operation_tasks(op: &mesos_proto::v1::offer::Operation) -> Vec<&TaskInfo> {
    match op.r#type.and_then(|t| OperationType::try_from(t).ok()) {
        Some(OperationType::Launch) => op.launch.iter().flat_map(|l| l.task_infos.iter()).collect(),
        Some(OperationType::LaunchGroup) => op
            .launch_group
            .iter()
            .flat_map(|l| l.task_group.tasks.iter())
            .collect(),
        _ => Vec::new(),
    }
}

/// Offer ids must be outstanding offers of this framework, distinct, on
/// one agent (the real master's messages).
pub(super) fn validate_offers(
    state: &State,
    framework_id: &str,
    offer_ids: &[mesos_proto::v1::OfferId],
) -> Result<(), String> {
    let mut seen = HashSet::new();
    let mut agent: Option<&str> = None;
    for offer_id in offer_ids {
        if !seen.insert(offer_id.value.as_str()) {
            return Err(format!("Duplicate offer {} in offer list", offer_id.value));
        }
        let offer = state
            .find_offer(&offer_id.value)
            .and_then(|k| state.offers.get(&k))
            .filter(|o| o.framework_id == framework_id)
            .ok_or_else(|| format!("Offer {} is no longer valid", offer_id.value))?;
        match agent {
            Some(a) if a != offer.agent_id => {
                return Err("Aggregated offers must belong to one single agent".to_string())
            }
            _ => agent = Some(&offer.agent_id),
        }
    }
    if offer_ids.is_empty() {
        return Err("No offers specified".to_string());
    }
    Ok(())
}

pub(super) fn send_update(state: &State, framework_id: &str, status: TaskStatus) {
    if let Some(framework) = state.frameworks.get(framework_id) {
        framework.send_update(status);
    }
}

pub(super) fn task_error(state: &State, framework_id: &str, task: &TaskInfo, message: &str) {
    task_error_for(state, framework_id, task, Reason::TaskInvalid, message);
}

/// TASK_ERROR for `task`, with `reason` (`REASON_TASK_GROUP_INVALID` for
/// every task of an invalid task group, as the real master).
pub(super) fn task_error_for(
    state: &State,
    framework_id: &str,
    task: &TaskInfo,
    reason: Reason,
    message: &str,
) {
    tracing::info!(%framework_id, task_id = %task.task_id.value, %message, "task invalid");
    send_update(
        state,
        framework_id,
        master_status(
            &task.task_id,
            Some(&task.agent_id),
            TaskState::TaskError,
            reason,
            message,
        ),
    );
}

pub(super) fn accept(
    state: &mut State,
    fx: &mut Effects,
    framework_id: &str,
    accept: call::Accept,
) -> Reply {
    let is_launch = |op: &mesos_proto::v1::offer::Operation| {
        matches!(
            op.r#type.and_then(|t| OperationType::try_from(t).ok()),
            Some(OperationType::Launch | OperationType::LaunchGroup)
        )
    };
    let unsupported: Vec<&str> = accept
        .operations
        .iter()
        .filter(|op| !is_launch(op))
        .map(operation_name)
        .collect();
    if !unsupported.is_empty() && !accept.operations.iter().any(is_launch) {
        return Reply::Error(
            StatusCode::BAD_REQUEST,
            format!(
                "Operation {} is not supported by mesos-local",
                unsupported.join(", ")
            ),
        );
    }
    if let Err(message) = validate_offers(state, framework_id, &accept.offer_ids) {
        tracing::info!(%framework_id, %message, "ACCEPT with invalid offers");
        // The valid ones among them are recovered.
        let ids: HashSet<&str> = accept.offer_ids.iter().map(|o| o.value.as_str()).collect();
        state.remove_offers_where(false, |o| {
            o.framework_id == framework_id && ids.contains(o.id.as_str())
        });
        fx.allocate = true;
        let partition_aware = state
            .frameworks
            .get(framework_id)
            .is_some_and(Framework::partition_aware);
        let lost = if partition_aware {
            TaskState::TaskDropped
        } else {
            TaskState::TaskLost
        };
        for op in &accept.operations {
            for task in operation_tasks(op) {
                send_update(
                    state,
                    framework_id,
                    master_status(
                        &task.task_id,
                        Some(&task.agent_id),
                        lost,
                        Reason::InvalidOffers,
                        format!("Task launched with invalid offers: {message}"),
                    ),
                );
            }
        }
        return Reply::Accepted;
    }
    let mut offered = Resources::new();
    let mut agent_id = String::new();
    let mut role = String::from("*");
    for offer_id in &accept.offer_ids {
        if let Some(offer) = state
            .find_offer(&offer_id.value)
            .and_then(|k| state.remove_offer(k, false))
        {
            offered += &offer.resources;
            agent_id = offer.agent_id;
            role = offer.role;
        }
    }
    let mut remaining = offered;
    let mut launched: HashSet<String> = HashSet::new();
    let mut new_executors: BTreeMap<String, ExecutorInfo> = BTreeMap::new();
    for op in accept.operations {
        match op.r#type.and_then(|t| OperationType::try_from(t).ok()) {
            Some(OperationType::Launch) => {
                for task in op.launch.map(|l| l.task_infos).unwrap_or_default() {
                    launch_one(
                        state,
                        framework_id,
                        &agent_id,
                        &role,
                        task,
                        &mut remaining,
                        &mut launched,
                        &mut new_executors,
                    );
                }
            }
            Some(OperationType::LaunchGroup) => {
                let Some(group) = op.launch_group else {
                    continue;
                };
                launch_group(
                    state,
                    framework_id,
                    &agent_id,
                    &role,
                    *group,
                    &mut remaining,
                    &mut launched,
                    &mut new_executors,
                );
            }
            _ => tracing::warn!(
                %framework_id,
                operation = operation_name(&op),
                "operation not supported by mesos-local; skipped"
            ),
        }
    }
    if !remaining.is_empty() {
        install_filter(state, framework_id, &agent_id, accept.filters.as_ref());
    }
    fx.allocate = true;
    Reply::Accepted
}
