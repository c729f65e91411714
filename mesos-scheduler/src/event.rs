//! The events a framework sees: the wire `Event` as a Rust enum, plus the
//! connection's own events.

use std::time::Duration;

use bytes::Bytes;
use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::{
    AgentId, ExecutorId, FrameworkId, InverseOffer, MasterInfo, Offer, OfferId, OperationStatus,
    TaskStatus,
};

/// One event of a scheduler subscription.
///
/// The master's events (`Event.type` with its payload) become one variant
/// each, so a `match` replaces `event.offers.unwrap()`;
/// [`Disconnected`](SchedulerEvent::Disconnected) is the connection's own.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SchedulerEvent {
    /// SUBSCRIBED: the framework is (re)registered with the master.
    Subscribed {
        /// The framework's id (assigned on first subscription).
        framework_id: FrameworkId,
        /// The master's heartbeat interval.
        heartbeat_interval: Option<Duration>,
        /// The leading master.
        master_info: Option<MasterInfo>,
        /// False for the first SUBSCRIBED of this connection object, true for
        /// every resubscription after a disconnection.
        resubscribed: bool,
    },
    /// OFFERS: resources offered to the framework.
    Offers(Vec<Offer>),
    /// INVERSE_OFFERS: requests to give resources back (maintenance).
    InverseOffers(Vec<InverseOffer>),
    /// RESCIND: an offer is no longer valid.
    Rescind(OfferId),
    /// RESCIND_INVERSE_OFFER: an inverse offer is no longer valid.
    RescindInverseOffer(OfferId),
    /// UPDATE: a task's status changed. Acknowledge it when it carries a
    /// `uuid` (the driver does so by default).
    Update(TaskStatus),
    /// UPDATE_OPERATION_STATUS: an offer operation's status changed.
    OperationUpdate(OperationStatus),
    /// MESSAGE: a framework message from an executor.
    Message {
        /// The agent the executor runs on.
        agent_id: AgentId,
        /// The executor that sent it.
        executor_id: ExecutorId,
        /// The bytes it sent.
        data: Bytes,
    },
    /// FAILURE: an agent was lost (`executor_id` absent) or an executor
    /// terminated (`executor_id` present, with its wait `status`).
    Failure {
        /// The agent.
        agent_id: Option<AgentId>,
        /// The executor, if an executor failed.
        executor_id: Option<ExecutorId>,
        /// The executor's wait status, when known.
        status: Option<i32>,
    },
    /// ERROR: the master reports an unrecoverable error for this framework
    /// (Mesos recommends aborting). The subscription ends after it.
    Error(String),
    /// HEARTBEAT: the master is alive (the connection watches for these by
    /// itself; most frameworks ignore them).
    Heartbeat,
    /// The connection to the master was lost (stream ended, broke, or missed
    /// heartbeats); the subscription reconnects with backoff and resubscribes
    /// with the framework id. Calls fail with `NotSubscribed` until the next
    /// `Subscribed`.
    Disconnected {
        /// Why, as text (the transport error, or the heartbeat timeout).
        reason: String,
    },
}

impl SchedulerEvent {
    /// Converts a wire event. `None` for an event without its payload or of
    /// a type this SDK does not know (logged by the caller).
    pub fn from_wire(event: Event, resubscribed: bool) -> Option<Self> {
        use event::Type;
        Some(match event.r#type() {
            Type::Subscribed => {
                let s = event.subscribed?;
                SchedulerEvent::Subscribed {
                    framework_id: s.framework_id,
                    heartbeat_interval: s
                        .heartbeat_interval_seconds
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .map(Duration::from_secs_f64),
                    master_info: s.master_info,
                    resubscribed,
                }
            }
            Type::Offers => SchedulerEvent::Offers(event.offers?.offers),
            Type::InverseOffers => {
                SchedulerEvent::InverseOffers(event.inverse_offers?.inverse_offers)
            }
            Type::Rescind => SchedulerEvent::Rescind(event.rescind?.offer_id),
            Type::RescindInverseOffer => {
                SchedulerEvent::RescindInverseOffer(event.rescind_inverse_offer?.inverse_offer_id)
            }
            Type::Update => SchedulerEvent::Update(event.update?.status),
            Type::UpdateOperationStatus => {
                SchedulerEvent::OperationUpdate(event.update_operation_status?.status)
            }
            Type::Message => {
                let m = event.message?;
                SchedulerEvent::Message {
                    agent_id: m.agent_id,
                    executor_id: m.executor_id,
                    data: m.data,
                }
            }
            Type::Failure => {
                let f = event.failure?;
                SchedulerEvent::Failure {
                    agent_id: f.agent_id,
                    executor_id: f.executor_id,
                    status: f.status,
                }
            }
            Type::Error => SchedulerEvent::Error(event.error?.message),
            Type::Heartbeat => SchedulerEvent::Heartbeat,
            Type::Unknown => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_become_variants() {
        let wire = Event {
            r#type: Some(event::Type::Rescind as i32),
            rescind: Some(event::Rescind {
                offer_id: OfferId { value: "o1".into() },
            }),
            ..Default::default()
        };
        assert_eq!(
            SchedulerEvent::from_wire(wire, false),
            Some(SchedulerEvent::Rescind(OfferId { value: "o1".into() }))
        );
        let missing = Event {
            r#type: Some(event::Type::Offers as i32),
            ..Default::default()
        };
        assert_eq!(SchedulerEvent::from_wire(missing, false), None);
        let unknown = Event {
            r#type: Some(99),
            ..Default::default()
        };
        assert_eq!(SchedulerEvent::from_wire(unknown, false), None);
    }
}
