//! The operator API's SUBSCRIBE: every subscriber gets SUBSCRIBED (the
//! GET_STATE snapshot and the heartbeat interval), then the master's
//! changes as they happen (TASK_ADDED, TASK_UPDATED, AGENT_ADDED,
//! AGENT_REMOVED, FRAMEWORK_ADDED/UPDATED/REMOVED) and a HEARTBEAT every
//! interval.
//!
//! Each subscriber has its own bounded queue ([`crate::queue`]): one that
//! does not read is cut (its queue dropped, its stream ended) when the
//! queue is full; the master never waits for it.

use std::sync::Arc;
use std::time::Duration;

use mesos_proto::v1::master::event::{self, Type};
use mesos_proto::v1::master::Event;
use mesos_proto::v1::{AgentId, FrameworkId, FrameworkInfo, TaskState, TaskStatus};

use super::state::{agent_proto, framework_proto, get_state, task_proto};
use crate::master::state::{State, Task};
use crate::master::Core;
use crate::queue::{self, EventReceiver, EventSender, SendError};

/// The open operator subscriptions of a master.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    senders: Vec<EventSender<Event>>,
}

/// How many operator subscriptions a master serves at once (a new one
/// beyond it is refused with 503).
pub(crate) const MAX_SUBSCRIBERS: usize = 1024;

impl Subscribers {
    /// Whether nobody listens (events need not be built).
    pub(crate) fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// Sends `event` to every subscriber; a subscriber whose queue is full
    /// is cut, one that went away is forgotten.
    pub(crate) fn send(&mut self, event: &Event) {
        self.senders.retain(|tx| match tx.send(event.clone()) {
            Ok(()) => true,
            Err(SendError::Overflow { capacity }) => {
                tracing::warn!(
                    queued = capacity,
                    "operator subscriber is not reading its event stream; closing it"
                );
                false
            }
            Err(SendError::Ended(_)) => false,
        });
    }
}

fn event(kind: Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Event::default()
    }
}

/// A new subscription: SUBSCRIBED queued first. `None` when
/// [`MAX_SUBSCRIBERS`] are already served.
pub(crate) fn subscribe(state: &mut State) -> Option<(EventSender<Event>, EventReceiver<Event>)> {
    state.operator.senders.retain(|tx| tx.ended_how().is_none());
    if state.operator.senders.len() >= MAX_SUBSCRIBERS {
        return None;
    }
    let (tx, rx) = queue::channel(state.max_queued_events);
    let subscribed = Event {
        subscribed: Some(event::Subscribed {
            get_state: Some(get_state(state, true)),
            heartbeat_interval_seconds: Some(state.heartbeat_interval.as_secs_f64()),
        }),
        ..event(Type::Subscribed)
    };
    // A fresh queue of at least one slot takes the first event.
    let _ = tx.send(subscribed);
    state.operator.senders.push(tx.clone());
    Some((tx, rx))
}

/// Heartbeats a subscription until it ends or the master stops.
pub(crate) async fn heartbeat(core: Arc<Core>, tx: EventSender<Event>, interval: Duration) {
    let interval = interval.max(Duration::from_millis(10));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        tokio::select! {
            _ = core.shutdown.cancelled() => {
                tx.close();
                return;
            }
            how = tx.ended() => {
                tracing::debug!(?how, "operator subscription ended");
                return;
            }
            _ = ticks.tick() => {
                if tx.send(event(Type::Heartbeat)).is_err() {
                    return;
                }
            }
        }
    }
}

/// TASK_ADDED for a task just recorded.
pub(crate) fn task_added(state: &mut State, task: &Task) {
    if state.operator.is_empty() {
        return;
    }
    let added = Event {
        task_added: Some(event::TaskAdded {
            task: task_proto(task),
        }),
        ..event(Type::TaskAdded)
    };
    state.operator.send(&added);
}

/// TASK_UPDATED: `status` changed the task's latest state to `latest`.
pub(crate) fn task_updated(
    state: &mut State,
    framework_id: &str,
    status: &TaskStatus,
    latest: TaskState,
) {
    if state.operator.is_empty() {
        return;
    }
    let mut status = status.clone();
    status.data = None;
    let updated = Event {
        task_updated: Some(event::TaskUpdated {
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            status,
            state: latest as i32,
        }),
        ..event(Type::TaskUpdated)
    };
    state.operator.send(&updated);
}

/// FRAMEWORK_ADDED (`added`) or FRAMEWORK_UPDATED for a registered
/// framework.
pub(crate) fn framework_changed(state: &mut State, framework_id: &str, added: bool) {
    if state.operator.is_empty() {
        return;
    }
    let Some(framework) = state.frameworks.get(framework_id) else {
        return;
    };
    let framework = framework_proto(state, framework, true);
    let changed = if added {
        Event {
            framework_added: Some(event::FrameworkAdded { framework }),
            ..event(Type::FrameworkAdded)
        }
    } else {
        Event {
            framework_updated: Some(event::FrameworkUpdated { framework }),
            ..event(Type::FrameworkUpdated)
        }
    };
    state.operator.send(&changed);
}

/// FRAMEWORK_REMOVED.
pub(crate) fn framework_removed(state: &mut State, info: &FrameworkInfo) {
    if state.operator.is_empty() {
        return;
    }
    let removed = Event {
        framework_removed: Some(event::FrameworkRemoved {
            framework_info: info.clone(),
        }),
        ..event(Type::FrameworkRemoved)
    };
    state.operator.send(&removed);
}

/// AGENT_ADDED for a registered agent.
pub(crate) fn agent_added(state: &mut State, agent_id: &str) {
    if state.operator.is_empty() {
        return;
    }
    let Some(agent) = state.agent(agent_id) else {
        return;
    };
    let added = Event {
        agent_added: Some(event::AgentAdded {
            agent: agent_proto(state, agent),
        }),
        ..event(Type::AgentAdded)
    };
    state.operator.send(&added);
}

/// AGENT_REMOVED.
pub(crate) fn agent_removed(state: &mut State, agent_id: &AgentId) {
    if state.operator.is_empty() {
        return;
    }
    let removed = Event {
        agent_removed: Some(event::AgentRemoved {
            agent_id: agent_id.clone(),
        }),
        ..event(Type::AgentRemoved)
    };
    state.operator.send(&removed);
}
