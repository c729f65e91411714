//! The scheduler API's semantics: SUBSCRIBE (new, failover, removed),
//! disconnection and framework removal, and every other call, applied to
//! the [`State`] under its lock. Status codes and messages are the real
//! master's (checked against a running Mesos 1.11 master).
//!
//! Modules: `offers` (ACCEPT, DECLINE, filters), `launch` (the tasks and
//! task groups of an ACCEPT), `tasks` (KILL, ACKNOWLEDGE, RECONCILE).

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mesos_proto::v1::scheduler::call::Type as CallType;
use mesos_proto::v1::scheduler::{event, Call, Event};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{AgentId, FrameworkId, FrameworkInfo, TaskState};
use tokio_util::sync::CancellationToken;

use crate::master::ids::{self, master_status};
use crate::master::operator::subscribe as operator;
use crate::master::outgoing::SchedulerEvent;
use crate::master::state::{Connection, Effects, FailoverTimer, Framework, State, Watch};
use crate::master::validation::validate_framework_info;
use crate::protocol::ToAgent;
use crate::queue::{self, EventReceiver};

mod launch;
mod offers;
mod tasks;

use offers::{accept, decline_offers};
use tasks::{acknowledge, kill_task, reconcile_tasks};

/// How long frameworks get to resubscribe after a simulated leader
/// failover, whatever their failover_timeout (the real master waits
/// `agent_reregister_timeout`, 10 minutes, before giving up on them).
pub(crate) const FAILOVER_GRACE: Duration = Duration::from_secs(600);

/// How many completed frameworks the state keeps (`--max_completed_frameworks`).
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// The longest failover timer actually armed (about 31 years): longer
/// valid timeouts wait this long.
const MAX_FAILOVER_TIMER_SECS: f64 = 1e9;

/// Whether the real master takes this `failover_timeout`: its
/// `Duration::create` refuses what does not fit in int64 nanoseconds.
fn valid_failover_timeout(seconds: f64) -> bool {
    const MAX_NANOS: f64 = 9.223_372_036_854_775e18;
    !seconds.is_nan() && (seconds * 1e9).abs() <= MAX_NANOS
}

/// A double as C++ `operator<<` prints it (`%g`, 6 significant digits):
/// `1e+10`, `9.5e+09`, `inf`.
fn cpp_double(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "nan".to_string()
        } else if value > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let scientific = format!("{value:.5e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-5..6).contains(&exponent) {
        let fixed = format!("{value:.*}", usize::try_from(5 - exponent).unwrap_or(0));
        return trim_zeros(&fixed).to_string();
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{}e{sign}{:02}", trim_zeros(mantissa), exponent.abs())
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

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
    pub(crate) rx: EventReceiver<SchedulerEvent>,
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

/// With authentication on: a SUBSCRIBE's `FrameworkInfo.principal` must be
/// the authenticated principal, and is set to it when absent (as the real
/// master does, with a warning).
pub(crate) fn claim_principal(call: &mut Call, principal: &str) -> Result<(), String> {
    let info = &mut call
        .subscribe
        .get_or_insert_with(Default::default)
        .framework_info;
    match info.principal.as_deref() {
        Some(given) if given != principal => Err(format!(
            "Authenticated principal '{principal}' does not match principal '{given}' set in \
             `FrameworkInfo`"
        )),
        Some(_) => Ok(()),
        None => {
            tracing::warn!(
                principal,
                "setting 'principal' in FrameworkInfo: the framework authenticated with it \
                 but did not set it"
            );
            info.principal = Some(principal.to_string());
            Ok(())
        }
    }
}

/// SUBSCRIBE (already validated).
pub(crate) fn subscribe(state: &mut State, fx: &mut Effects, call: Call) -> NewStream {
    let subscribe = call.subscribe.unwrap_or_default();
    let mut info = subscribe.framework_info;
    let (tx, rx) = queue::channel(state.max_queued_events);
    let stream_id = uuid::Uuid::new_v4().to_string();
    let stream = NewStream {
        stream_id: stream_id.clone(),
        rx,
    };
    if let Err(message) = validate_framework_info(&info) {
        tracing::info!(%message, "subscription refused");
        let _ = tx.send(error_event(&message).into());
        tx.close();
        return stream;
    }
    if let Some(timeout) = info
        .failover_timeout
        .filter(|t| !valid_failover_timeout(*t))
    {
        // As the real master (its `Duration::create` fails): an ERROR event.
        let message = format!(
            "The framework failover_timeout ({}) is invalid",
            cpp_double(timeout)
        );
        tracing::info!(%message, "subscription refused");
        let _ = tx.send(error_event(&message).into());
        tx.close();
        return stream;
    }

    let requested = info
        .id
        .as_ref()
        .map(|id| id.value.clone())
        .filter(|id| !id.is_empty());
    if let Some(id) = requested.as_deref() {
        if state.removed_frameworks.contains(id) {
            tracing::info!(framework_id = %id, "removed framework tried to resubscribe");
            let _ = tx.send(error_event("Framework has been removed").into());
            tx.close();
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
    if let Some(existing) = state.frameworks.get(&id) {
        if existing.info.principal != info.principal {
            // As the real master's `validateUpdate`: another principal
            // cannot take a framework over.
            tracing::warn!(
                framework_id = %id,
                registered = ?existing.info.principal,
                requested = ?info.principal,
                "framework tried to resubscribe with another principal; refused"
            );
            let _ = tx.send(error_event("Changing framework's principal is not allowed.").into());
            tx.close();
            return stream;
        }
    }
    info.id = Some(FrameworkId { value: id.clone() });
    let conn = Connection {
        stream_id: stream_id.clone(),
        tx: tx.clone(),
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
    framework.info = Arc::new(info);
    framework.conn = Some(conn.clone());
    framework.active = true;
    framework.generation += 1;
    framework.cancel_failover_timer();
    framework.suppressed = subscribe.suppressed_roles.into_iter().collect();
    tracing::info!(
        framework_id = %id,
        name = %framework.info.name,
        %stream_id,
        resubscribed,
        "framework subscribed"
    );
    let _ = tx.send(
        Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: id.clone() },
                heartbeat_interval_seconds: Some(state.heartbeat_interval.as_secs_f64()),
                master_info: Some(state.master_info.clone()),
            }),
            ..Event::default()
        }
        .into(),
    );
    let _ = tx.send(heartbeat().into());
    operator::framework_changed(state, &id, !resubscribed);
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
        conn,
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
        .map(|t| Duration::from_secs_f64(t.min(MAX_FAILOVER_TIMER_SECS)))
        .unwrap_or(Duration::ZERO)
        .max(grace);
    tracing::info!(%framework_id, failover_timeout = ?timeout, "framework disconnected");
    state.remove_offers_where(false, |o| o.framework_id == framework_id);
    fx.allocate = true;
    if timeout.is_zero() {
        remove_framework(state, fx, framework_id);
    } else if let Some(framework) = state.frameworks.get_mut(framework_id) {
        // One timer per framework: a newer disconnection replaces it.
        let cancel = CancellationToken::new();
        framework.cancel_failover_timer();
        framework.failover_timer = Some(cancel.clone());
        fx.failover_timers.push(FailoverTimer {
            framework_id: framework_id.to_string(),
            generation,
            delay: timeout,
            cancel,
        });
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
    framework.cancel_failover_timer();
    framework.active = false;
    state.remove_offers_where(false, |o| o.framework_id == framework_id);
    state.broadcast(&ToAgent::ShutdownFramework {
        framework_id: framework.framework_id(),
    });
    let tasks = framework.holdings.take_tasks();
    let mut updated = Vec::new();
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
        state.counters.task_terminal(TaskState::TaskKilled);
        if task.latest().is_none_or(|l| l.state != status.state) {
            updated.push(status.clone());
        }
        task.push_own_status(status);
        task.terminal_acked = true;
        framework.completed_tasks.push(*task);
    }
    for status in &updated {
        operator::task_updated(state, framework_id, status, TaskState::TaskKilled);
    }
    framework.holdings.remove_executors(None);
    framework.unregistered_time = Some(ids::now_secs());
    state.removed_frameworks.insert(framework_id.to_string());
    let mut info = FrameworkInfo::clone(&framework.info);
    info.id = Some(framework.framework_id());
    operator::framework_removed(state, &info);
    state.completed_frameworks.push(framework);
    if state.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
        state.completed_frameworks.remove(0);
    }
    fx.allocate = true;
}

/// The checks every non-SUBSCRIBE call passes first, in the real master's
/// order: known framework (400), the authenticated principal is the
/// framework's (400, with authentication on), subscribed (403), stream id
/// (400).
pub(crate) fn check_caller(
    state: &State,
    call: &Call,
    stream_id: Option<&str>,
    principal: Option<&str>,
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
    if let Some(principal) = principal {
        let registered = framework.info.principal.as_deref().unwrap_or("");
        if registered != principal {
            return Err(Reply::Error(
                StatusCode::BAD_REQUEST,
                format!(
                    "Authenticated principal '{principal}' does not match principal \
                     '{registered}' set in `FrameworkInfo`"
                ),
            ));
        }
    }
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
            let current = state.frameworks.get(id).map(|f| f.info.user.clone());
            if let Some(current) = current.filter(|user| *user != info.user) {
                return Reply::Error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is \
                         unsupported; attempted to update from '{current}' to '{}'",
                        info.user
                    ),
                );
            }
            if let Err(message) = validate_framework_info(&info) {
                return Reply::Error(StatusCode::BAD_REQUEST, message);
            }
            if let Some(framework) = state.frameworks.get_mut(id) {
                framework.info = Arc::new(info);
                framework.suppressed = update.suppressed_roles.into_iter().collect();
            }
            state.remove_offers_where(true, |o| o.framework_id == id);
            operator::framework_changed(state, id, false);
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
