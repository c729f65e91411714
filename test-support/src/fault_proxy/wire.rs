//! Just enough of the Mesos v1 APIs to act on what crosses the proxy: the
//! type of each call and event, and the status updates and
//! acknowledgements they carry.

use bytes::Bytes;
use mesos_proto::v1::{executor, scheduler, TaskStatus};
use mesos_proto::MediaType;

/// Which v1 API a proxy stands in front of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/api/v1/scheduler` on a master.
    Scheduler,
    /// `/api/v1/executor` on an agent.
    Executor,
}

/// What an event is, as far as faults care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// SUBSCRIBED (never dropped, delayed behind others or reordered).
    Subscribed,
    /// HEARTBEAT.
    Heartbeat,
    /// A scheduler UPDATE.
    Update,
    /// A scheduler OFFERS.
    Offers,
    /// An executor ACKNOWLEDGED.
    Acknowledged,
    /// Anything else (or an event the proxy could not decode).
    Other,
}

/// One status update as the proxy saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusSeen {
    /// The task.
    pub task_id: String,
    /// Its state (`TASK_RUNNING`, ...).
    pub state: String,
    /// The update's uuid (absent on the master's own updates, such as
    /// reconciliation answers).
    pub uuid: Option<Bytes>,
    /// The agent, when named.
    pub agent_id: Option<String>,
    /// The reason (`REASON_RECONCILIATION`, ...), when given.
    pub reason: Option<String>,
}

impl StatusSeen {
    fn of(status: &TaskStatus) -> Self {
        StatusSeen {
            task_id: status.task_id.value.clone(),
            state: status.state().as_str_name().to_string(),
            uuid: status.uuid.clone(),
            agent_id: status.agent_id.as_ref().map(|a| a.value.clone()),
            reason: status
                .reason
                .map(|_| status.reason().as_str_name().to_string()),
        }
    }
}

/// A decoded event's essentials.
#[derive(Debug, Clone)]
pub(crate) struct EventInfo {
    pub(crate) kind: EventKind,
    pub(crate) name: &'static str,
    /// The framework id of a scheduler SUBSCRIBED.
    pub(crate) framework_id: Option<String>,
    /// The status of a scheduler UPDATE.
    pub(crate) update: Option<StatusSeen>,
}

/// A decoded call's essentials.
#[derive(Debug, Clone)]
pub(crate) struct CallInfo {
    pub(crate) name: &'static str,
    pub(crate) framework_id: Option<String>,
    /// `(task, uuid)` of a scheduler ACKNOWLEDGE.
    pub(crate) ack: Option<(String, Bytes)>,
    /// The status of an executor UPDATE.
    pub(crate) update: Option<StatusSeen>,
}

impl CallInfo {
    pub(crate) fn is_subscribe(&self) -> bool {
        self.name == "SUBSCRIBE"
    }
}

impl Api {
    /// The essentials of event `record` in `media`; an undecodable record
    /// is [`EventKind::Other`] (the proxy relays what it does not understand).
    pub(crate) fn event(self, media: MediaType, record: &[u8]) -> EventInfo {
        let unknown = EventInfo {
            kind: EventKind::Other,
            name: "UNDECODABLE",
            framework_id: None,
            update: None,
        };
        match self {
            Api::Scheduler => {
                use scheduler::event::Type;
                let Ok(event) = media.decode::<scheduler::Event>(record) else {
                    return unknown;
                };
                let kind = match event.r#type() {
                    Type::Subscribed => EventKind::Subscribed,
                    Type::Heartbeat => EventKind::Heartbeat,
                    Type::Update => EventKind::Update,
                    Type::Offers => EventKind::Offers,
                    _ => EventKind::Other,
                };
                EventInfo {
                    kind,
                    name: event.r#type().as_str_name(),
                    framework_id: event
                        .subscribed
                        .as_ref()
                        .map(|s| s.framework_id.value.clone()),
                    update: event.update.as_ref().map(|u| StatusSeen::of(&u.status)),
                }
            }
            Api::Executor => {
                use executor::event::Type;
                let Ok(event) = media.decode::<executor::Event>(record) else {
                    return unknown;
                };
                let kind = match event.r#type() {
                    Type::Subscribed => EventKind::Subscribed,
                    Type::Heartbeat => EventKind::Heartbeat,
                    Type::Acknowledged => EventKind::Acknowledged,
                    _ => EventKind::Other,
                };
                EventInfo {
                    kind,
                    name: event.r#type().as_str_name(),
                    framework_id: None,
                    update: None,
                }
            }
        }
    }

    /// The essentials of call `body` in `media`, or `None` when it does not
    /// decode (the proxy then forwards it untouched and unrecorded).
    pub(crate) fn call(self, media: MediaType, body: &[u8]) -> Option<CallInfo> {
        match self {
            Api::Scheduler => {
                let call = media.decode::<scheduler::Call>(body).ok()?;
                Some(CallInfo {
                    name: call.r#type().as_str_name(),
                    framework_id: call.framework_id.as_ref().map(|f| f.value.clone()),
                    ack: call
                        .acknowledge
                        .as_ref()
                        .map(|a| (a.task_id.value.clone(), a.uuid.clone())),
                    update: None,
                })
            }
            Api::Executor => {
                let call = media.decode::<executor::Call>(body).ok()?;
                Some(CallInfo {
                    name: call.r#type().as_str_name(),
                    framework_id: Some(call.framework_id.value.clone()),
                    ack: None,
                    update: call.update.as_ref().map(|u| StatusSeen::of(&u.status)),
                })
            }
        }
    }
}
