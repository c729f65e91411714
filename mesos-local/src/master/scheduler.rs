//! The scheduler API's semantics: SUBSCRIBE (new, failover, removed),
//! disconnection and framework removal, and every other call, applied to
//! the [`State`] under its lock. Status codes and messages are the real
//! master's (checked against a running Mesos 1.11 master).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use http::StatusCode;
use mesos_proto::resources::Resources;
use mesos_proto::v1::offer::operation::Type as OperationType;
use mesos_proto::v1::scheduler::call::Type as CallType;
use mesos_proto::v1::scheduler::{call, event, Call, Event};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{
    AgentId, ExecutorInfo, Filters, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ids::{self, master_status};
use super::state::{flat, Connection, Effects, Executor, Framework, State, Task, Watch};
use super::validation::{validate_executor, validate_task, TaskContext};
use crate::protocol::ToAgent;

/// How long frameworks get to resubscribe after a simulated leader
/// failover, whatever their failover_timeout (the real master waits
/// `agent_reregister_timeout`, 10 minutes, before giving up on them).
pub(crate) const FAILOVER_GRACE: Duration = Duration::from_secs(600);

/// How many completed frameworks the state keeps (`--max_completed_frameworks`).
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// The default of `Filters.refuse_seconds`.
const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

/// The answer to a non-SUBSCRIBE call.
#[derive(Debug)]
pub(crate) enum Reply {
    /// 202 Accepted.
    Accepted,
    /// 200 OK with no body.
    Ok,
    /// An error status with a plain-text message.
    Error(StatusCode, String),
}

/// A new scheduler stream.
#[derive(Debug)]
pub(crate) struct NewStream {
    pub(crate) stream_id: String,
    pub(crate) rx: mpsc::UnboundedReceiver<Event>,
    pub(crate) token: CancellationToken,
}

fn heartbeat() -> Event {
    Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Event::default()
    }
}

fn error_event(message: &str) -> Event {
    Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error {
            message: message.to_string(),
        }),
        ..Event::default()
    }
}

/// SUBSCRIBE (already validated).
pub(crate) fn subscribe(state: &mut State, fx: &mut Effects, call: Call) -> NewStream {
    let subscribe = call.subscribe.unwrap_or_default();
    let mut info = subscribe.framework_info;
    let (tx, rx) = mpsc::unbounded_channel();
    let token = CancellationToken::new();
    let stream_id = uuid::Uuid::new_v4().to_string();
    let stream = NewStream {
        stream_id: stream_id.clone(),
        rx,
        token: token.clone(),
    };

    let requested = info
        .id
        .as_ref()
        .map(|id| id.value.clone())
        .filter(|id| !id.is_empty());
    if let Some(id) = requested.as_deref() {
        if state.removed_frameworks.contains(id) {
            tracing::info!(framework_id = %id, "removed framework tried to resubscribe");
            let _ = tx.send(error_event("Framework has been removed"));
            token.cancel();
            return stream;
        }
    }
    let id = match requested {
        Some(id) => id,
        None => {
            let id = ids::framework_id(&state.master_id, state.next_framework);
            state.next_framework += 1;
            id
        }
    };
    info.id = Some(FrameworkId { value: id.clone() });
    let conn = Connection {
        stream_id: stream_id.clone(),
        tx: tx.clone(),
        token: token.clone(),
    };
    let resubscribed = state.frameworks.contains_key(&id);
    let framework = state
        .frameworks
        .entry(id.clone())
        .or_insert_with(|| Framework::new(id.clone(), info.clone()));
    if resubscribed {
        if let Some(old) = framework.conn.take() {
            old.send(error_event("Framework failed over"));
            old.close();
        }
        framework.reregistered_time = Some(ids::now_secs());
        framework.filters.clear();
    }
    framework.info = info;
    framework.conn = Some(conn);
    framework.active = true;
    framework.generation += 1;
    framework.suppressed = subscribe.suppressed_roles.into_iter().collect();
    tracing::info!(
        framework_id = %id,
        name = %framework.info.name,
        %stream_id,
        resubscribed,
        "framework subscribed"
    );
    let _ = tx.send(Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId { value: id.clone() },
            heartbeat_interval_seconds: Some(state.heartbeat_interval.as_secs_f64()),
            master_info: Some(state.master_info.clone()),
        }),
        ..Event::default()
    });
    let _ = tx.send(heartbeat());
    // Offers made to the previous connection are void.
    state.remove_offers_where(false, |o| o.framework_id == id);
    if resubscribed || call.framework_id.is_some() {
        // Agents resend the updates the framework has not acknowledged.
        state.broadcast(&ToAgent::FrameworkSubscribed {
            framework_id: FrameworkId { value: id.clone() },
        });
    }
    fx.watch.push(Watch {
        framework_id: id,
        stream_id,
        tx,
        token,
    });
    fx.allocate = true;
    stream
}

/// The framework's stream `stream_id` ended (client gone, or cut by the
/// master): it becomes inactive, and is removed after its failover
/// timeout (at least `grace`).
pub(crate) fn disconnect(
    state: &mut State,
    fx: &mut Effects,
    framework_id: &str,
    stream_id: Option<&str>,
    grace: Duration,
) {
    let Some(framework) = state.frameworks.get_mut(framework_id) else {
        return;
    };
    match (&framework.conn, stream_id) {
        (Some(conn), Some(expected)) if conn.stream_id != expected => return,
        (None, _) => return,
        _ => {}
    }
    framework.close_connection();
    framework.active = false;
    framework.generation += 1;
    let generation = framework.generation;
    let timeout = framework
        .info
        .failover_timeout
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_secs_f64(t.min(1e9)))
        .unwrap_or(Duration::ZERO)
        .max(grace);
    tracing::info!(%framework_id, failover_timeout = ?timeout, "framework disconnected");
    state.remove_offers_where(false, |o| o.framework_id == framework_id);
    fx.allocate = true;
    if timeout.is_zero() {
        remove_framework(state, fx, framework_id);
    } else {
        fx.failover_timers
            .push((framework_id.to_string(), generation, timeout));
    }
}

/// The failover timer of `generation` fired.
pub(crate) fn failover_expired(
    state: &mut State,
    fx: &mut Effects,
    framework_id: &str,
    generation: u64,
) {
    let expired = state
        .frameworks
        .get(framework_id)
        .is_some_and(|f| f.generation == generation && !f.connected());
    if expired {
        tracing::info!(%framework_id, "framework failover timeout expired");
        remove_framework(state, fx, framework_id);
    }
}

/// Removes a framework for good (TEARDOWN, failover timeout): its stream
/// closes, its offers go, agents shut it down, its tasks are killed.
pub(crate) fn remove_framework(state: &mut State, fx: &mut Effects, framework_id: &str) {
    let Some(mut framework) = state.frameworks.remove(framework_id) else {
        return;
    };
    tracing::info!(%framework_id, tasks = framework.holdings.tasks().len(), "removing framework");
    framework.close_connection();
    framework.active = false;
    state.remove_offers_where(false, |o| o.framework_id == framework_id);
    state.broadcast(&ToAgent::ShutdownFramework {
        framework_id: framework.framework_id(),
    });
    let tasks = framework.holdings.take_tasks();
    for (_, mut task) in tasks {
        let status = master_status(
            &task.info.task_id,
            Some(&AgentId {
                value: task.agent_id.clone(),
            }),
            TaskState::TaskKilled,
            Reason::FrameworkRemoved,
            format!("Framework {framework_id} removed"),
        );
        task.state = TaskState::TaskKilled;
        task.statuses.push(status);
        task.terminal_acked = true;
        framework.completed_tasks.push(task);
    }
    framework.holdings.remove_executors(None);
    framework.unregistered_time = Some(ids::now_secs());
    state.removed_frameworks.insert(framework_id.to_string());
    state.completed_frameworks.push(framework);
    if state.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
        state.completed_frameworks.remove(0);
    }
    fx.allocate = true;
}

/// The checks every non-SUBSCRIBE call passes first, in the real master's
/// order: known framework (400), subscribed (403), stream id (400).
pub(crate) fn check_caller(
    state: &State,
    call: &Call,
    stream_id: Option<&str>,
) -> Result<(), Reply> {
    let id = call
        .framework_id
        .as_ref()
        .map(|f| f.value.as_str())
        .unwrap_or("");
    let Some(framework) = state.frameworks.get(id) else {
        return Err(Reply::Error(
            StatusCode::BAD_REQUEST,
            "Framework cannot be found".to_string(),
        ));
    };
    let Some(conn) = &framework.conn else {
        return Err(Reply::Error(
            StatusCode::FORBIDDEN,
            "Framework is not subscribed".to_string(),
        ));
    };
    match stream_id {
        None => Err(Reply::Error(
            StatusCode::BAD_REQUEST,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header".to_string(),
        )),
        Some(given) if given != conn.stream_id => Err(Reply::Error(
            StatusCode::BAD_REQUEST,
            format!(
                "The stream ID '{given}' included in this request didn't match the stream ID \
                 currently associated with framework ID {id}"
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// Any call but SUBSCRIBE, from a checked caller.
pub(crate) fn handle(state: &mut State, fx: &mut Effects, kind: CallType, call: Call) -> Reply {
    let framework_id = call
        .framework_id
        .clone()
        .map(|f| f.value)
        .unwrap_or_default();
    let id = framework_id.as_str();
    tracing::debug!(framework_id = %id, call = kind.as_str_name(), "scheduler call");
    match kind {
        CallType::Subscribe | CallType::Unknown => Reply::Error(
            StatusCode::BAD_REQUEST,
            "Failed to validate scheduler::Call: Expecting 'type' to be present".to_string(),
        ),
        CallType::Teardown => {
            remove_framework(state, fx, id);
            Reply::Accepted
        }
        CallType::Accept => accept(state, fx, id, call.accept.unwrap_or_default()),
        CallType::Decline => {
            let decline = call.decline.unwrap_or_default();
            decline_offers(state, fx, id, &decline.offer_ids, decline.filters.as_ref());
            Reply::Accepted
        }
        CallType::Revive => {
            let roles = call.revive.map(|r| r.roles).unwrap_or_default();
            if let Some(framework) = state.frameworks.get_mut(id) {
                if roles.is_empty() {
                    framework.suppressed.clear();
                } else {
                    for role in &roles {
                        framework.suppressed.remove(role);
                    }
                }
                framework.filters.clear();
            }
            fx.allocate = true;
            Reply::Accepted
        }
        CallType::Suppress => {
            let roles = call.suppress.map(|s| s.roles).unwrap_or_default();
            if let Some(framework) = state.frameworks.get_mut(id) {
                let roles = if roles.is_empty() {
                    framework.roles()
                } else {
                    roles
                };
                framework.suppressed.extend(roles);
            }
            Reply::Accepted
        }
        CallType::Kill => {
            let kill = call.kill.unwrap_or_default();
            kill_task(state, id, kill);
            Reply::Accepted
        }
        CallType::Shutdown => {
            let shutdown = call.shutdown.unwrap_or_default();
            state.send_to_agent(
                &shutdown.agent_id.value,
                ToAgent::ShutdownExecutor {
                    framework_id: FrameworkId {
                        value: framework_id.clone(),
                    },
                    executor_id: shutdown.executor_id,
                },
            );
            Reply::Accepted
        }
        CallType::Acknowledge => {
            let ack = call.acknowledge.unwrap_or_default();
            acknowledge(state, id, ack);
            Reply::Accepted
        }
        CallType::Reconcile => {
            let reconcile = call.reconcile.unwrap_or_default();
            reconcile_tasks(state, id, &reconcile.tasks);
            Reply::Accepted
        }
        CallType::Message => {
            let message = call.message.unwrap_or_default();
            state.send_to_agent(
                &message.agent_id.value,
                ToAgent::FrameworkMessage {
                    framework_id: FrameworkId {
                        value: framework_id.clone(),
                    },
                    executor_id: message.executor_id,
                    data: message.data,
                },
            );
            Reply::Accepted
        }
        CallType::UpdateFramework => {
            let update = call.update_framework.unwrap_or_default();
            let mut info = update.framework_info;
            if info.id.as_ref().is_some_and(|given| given.value != id) {
                return Reply::Error(
                    StatusCode::BAD_REQUEST,
                    "Failed to validate scheduler::Call: 'framework_id' differs from \
                     'update_framework.framework_info.id'"
                        .to_string(),
                );
            }
            info.id = Some(FrameworkId {
                value: framework_id.clone(),
            });
            if let Some(framework) = state.frameworks.get_mut(id) {
                framework.info = info;
                framework.suppressed = update.suppressed_roles.into_iter().collect();
            }
            state.remove_offers_where(true, |o| o.framework_id == id);
            fx.allocate = true;
            Reply::Ok
        }
        CallType::Request
        | CallType::AcceptInverseOffers
        | CallType::DeclineInverseOffers
        | CallType::AcknowledgeOperationStatus
        | CallType::ReconcileOperations => Reply::Accepted,
    }
}

/// How long a filter holds (None: no filter).
fn refuse_for(filters: Option<&Filters>) -> Option<Duration> {
    let seconds = filters
        .and_then(|f| f.refuse_seconds)
        .unwrap_or(DEFAULT_REFUSE_SECONDS);
    if seconds.is_nan() || seconds <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds.min(365.0 * 86400.0)).ok()
}

fn install_filter(
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

fn decline_offers(
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

fn operation_name(op: &mesos_proto::v1::offer::Operation) -> &'static str {
    op.r#type
        .and_then(|t| OperationType::try_from(t).ok())
        .unwrap_or(OperationType::Unknown)
        .as_str_name()
}

fn operation_tasks(op: &mesos_proto::v1::offer::Operation) -> Vec<&TaskInfo> {
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
fn validate_offers(
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

fn send_update(state: &State, framework_id: &str, status: TaskStatus) {
    if let Some(framework) = state.frameworks.get(framework_id) {
        framework.send_update(status);
    }
}

fn task_error(state: &State, framework_id: &str, task: &TaskInfo, message: &str) {
    tracing::info!(%framework_id, task_id = %task.task_id.value, %message, "task invalid");
    send_update(
        state,
        framework_id,
        master_status(
            &task.task_id,
            Some(&task.agent_id),
            TaskState::TaskError,
            Reason::TaskInvalid,
            message,
        ),
    );
}

fn accept(state: &mut State, fx: &mut Effects, framework_id: &str, accept: call::Accept) -> Reply {
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

/// Task resources with the new executor's (if it is not running yet).
fn needed_resources(
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

fn record_task(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    role: &str,
    task: &TaskInfo,
    executor_id: Option<String>,
) {
    if let Some(framework) = state.frameworks.get_mut(framework_id) {
        framework.holdings.add_task(Task {
            info: task.clone(),
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            executor_id,
            state: TaskState::TaskStaging,
            statuses: Vec::new(),
            resources: flat(&task.resources),
            role: role.to_string(),
            terminal_acked: false,
        });
    }
}

fn record_executor(state: &mut State, framework_id: &str, agent_id: &str, executor: &ExecutorInfo) {
    if let Some(framework) = state.frameworks.get_mut(framework_id) {
        framework.holdings.add_executor(Executor {
            info: executor.clone(),
            agent_id: agent_id.to_string(),
            resources: flat(&executor.resources),
        });
    }
}

fn executor_is_new(
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
fn launch_one(
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
    if let Some(executor) = task.executor.as_mut() {
        executor.framework_id = Some(FrameworkId {
            value: framework_id.to_string(),
        });
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
    launched.insert(task.task_id.value.clone());
    let executor_id = task.executor.as_ref().map(|e| e.executor_id.value.clone());
    if let (Some(executor), true) = (task.executor.as_deref(), new_executor) {
        new_executors.insert(executor.executor_id.value.clone(), executor.clone());
        record_executor(state, framework_id, agent_id, executor);
    }
    record_task(state, framework_id, agent_id, role, &task, executor_id);
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
fn launch_group(
    state: &mut State,
    framework_id: &str,
    agent_id: &str,
    role: &str,
    group: mesos_proto::v1::offer::operation::LaunchGroup,
    remaining: &mut Resources,
    launched: &mut HashSet<String>,
    new_executors: &mut BTreeMap<String, ExecutorInfo>,
) {
    let mut executor = group.executor;
    executor.framework_id = Some(FrameworkId {
        value: framework_id.to_string(),
    });
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
            task_error(state, framework_id, task, &message);
        }
        return;
    }
    *remaining = remaining.clone() - &needed;
    if new_executor {
        new_executors.insert(executor.executor_id.value.clone(), executor.clone());
        record_executor(state, framework_id, agent_id, &executor);
    }
    for task in &tasks {
        launched.insert(task.task_id.value.clone());
        record_task(
            state,
            framework_id,
            agent_id,
            role,
            task,
            Some(executor.executor_id.value.clone()),
        );
    }
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
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

/// The TASK_LOST the real master answers for a task it does not know.
fn unknown_task_status(state: &State, task_id: &TaskId, agent_id: Option<&AgentId>) -> TaskStatus {
    match agent_id.filter(|a| state.agent(&a.value).is_some()) {
        Some(agent_id) => master_status(
            task_id,
            Some(agent_id),
            TaskState::TaskLost,
            Reason::Reconciliation,
            "Reconciliation: Task is unknown to the agent",
        ),
        None => master_status(
            task_id,
            None,
            TaskState::TaskLost,
            Reason::Reconciliation,
            "Reconciliation: Task is unknown",
        ),
    }
}

fn kill_task(state: &State, framework_id: &str, kill: call::Kill) {
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
                &kill.task_id,
                kill.agent_id.as_ref(),
            ));
        }
    }
}

fn acknowledge(state: &mut State, framework_id: &str, ack: call::Acknowledge) {
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

fn reconciliation_status(task: &Task) -> TaskStatus {
    let mut status = master_status(
        &task.info.task_id,
        Some(&AgentId {
            value: task.agent_id.clone(),
        }),
        task.state,
        Reason::Reconciliation,
        "Reconciliation: Latest task state",
    );
    if let Some(latest) = task.latest() {
        status.container_status = latest.container_status.clone();
        status.healthy = latest.healthy;
        status.labels = latest.labels.clone();
        status.check_status = latest.check_status;
    }
    status
}

/// A task the framework still knows of: non-terminal, or terminal with
/// its terminal update not acknowledged yet.
fn known_task<'a>(framework: &'a Framework, task_id: &str) -> Option<&'a Task> {
    framework.holdings.tasks().get(task_id).or_else(|| {
        framework
            .completed_tasks
            .get(task_id)
            .filter(|t| !t.terminal_acked)
    })
}

fn reconcile_tasks(state: &State, framework_id: &str, tasks: &[call::reconcile::Task]) {
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
            None => unknown_task_status(state, &wanted.task_id, wanted.agent_id.as_ref()),
        };
        framework.send_update(status);
    }
}
