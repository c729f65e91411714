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
        /// The master's heartbeat interval, when it sent a usable one (see
        /// [`heartbeat_interval`]); `None` means the configured default
        /// applies.
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

/// The shortest heartbeat interval taken from a master; shorter ones are
/// raised to it (a watchdog firing every few microseconds would only make
/// the framework reconnect in a loop).
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(10);

/// The longest heartbeat interval taken from a master (Mesos's own is 15 s);
/// a longer one is refused, as it would leave a dead connection undetected
/// for hours.
pub const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3600);

/// Why a master's `heartbeat_interval_seconds` was not used.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidHeartbeat {
    /// NaN or infinite.
    #[error("heartbeat_interval_seconds {0} is not a finite number")]
    NotFinite(f64),
    /// Zero or negative.
    #[error("heartbeat_interval_seconds {0} is not positive")]
    NotPositive(f64),
    /// Longer than [`MAX_HEARTBEAT_INTERVAL`].
    #[error("heartbeat_interval_seconds {0} exceeds the maximum of {max} s", max = MAX_HEARTBEAT_INTERVAL.as_secs())]
    TooLong(f64),
}

/// Validates a master's `heartbeat_interval_seconds`: a finite, positive
/// number of seconds up to [`MAX_HEARTBEAT_INTERVAL`]; values under
/// [`MIN_HEARTBEAT_INTERVAL`] are raised to it. Never panics.
///
/// ```
/// use std::time::Duration;
/// use mesos_scheduler::{heartbeat_interval, InvalidHeartbeat};
///
/// assert_eq!(heartbeat_interval(15.0), Ok(Duration::from_secs(15)));
/// assert_eq!(heartbeat_interval(1e20), Err(InvalidHeartbeat::TooLong(1e20)));
/// assert!(matches!(heartbeat_interval(f64::NAN), Err(InvalidHeartbeat::NotFinite(_))));
/// assert_eq!(heartbeat_interval(-5.0), Err(InvalidHeartbeat::NotPositive(-5.0)));
/// ```
pub fn heartbeat_interval(seconds: f64) -> Result<Duration, InvalidHeartbeat> {
    if !seconds.is_finite() {
        return Err(InvalidHeartbeat::NotFinite(seconds));
    }
    if seconds <= 0.0 {
        return Err(InvalidHeartbeat::NotPositive(seconds));
    }
    if seconds > MAX_HEARTBEAT_INTERVAL.as_secs_f64() {
        return Err(InvalidHeartbeat::TooLong(seconds));
    }
    // In range, so the conversion cannot fail; keep it checked anyway.
    let interval =
        Duration::try_from_secs_f64(seconds).map_err(|_| InvalidHeartbeat::TooLong(seconds))?;
    Ok(interval.max(MIN_HEARTBEAT_INTERVAL))
}

impl SchedulerEvent {
    /// The event's type as Mesos names it (`SUBSCRIBED`, `OFFERS`,
    /// `UPDATE`, ...), or `DISCONNECTED` for the connection's own event:
    /// the `event` field of the driver's `event` span.
    pub fn type_name(&self) -> &'static str {
        match self {
            SchedulerEvent::Subscribed { .. } => "SUBSCRIBED",
            SchedulerEvent::Offers(_) => "OFFERS",
            SchedulerEvent::InverseOffers(_) => "INVERSE_OFFERS",
            SchedulerEvent::Rescind(_) => "RESCIND",
            SchedulerEvent::RescindInverseOffer(_) => "RESCIND_INVERSE_OFFER",
            SchedulerEvent::Update(_) => "UPDATE",
            SchedulerEvent::OperationUpdate(_) => "UPDATE_OPERATION_STATUS",
            SchedulerEvent::Message { .. } => "MESSAGE",
            SchedulerEvent::Failure { .. } => "FAILURE",
            SchedulerEvent::Error(_) => "ERROR",
            SchedulerEvent::Heartbeat => "HEARTBEAT",
            SchedulerEvent::Disconnected { .. } => "DISCONNECTED",
        }
    }

    /// Converts a wire event. `None` for an event without its payload or of
    /// a type this SDK does not know (logged by the caller).
    pub fn from_wire(event: Event, resubscribed: bool) -> Option<Self> {
        use event::Type;
        Some(match event.r#type() {
            Type::Subscribed => {
                let s = event.subscribed?;
                SchedulerEvent::Subscribed {
                    framework_id: s.framework_id,
                    heartbeat_interval: s.heartbeat_interval_seconds.and_then(|seconds| {
                        heartbeat_interval(seconds)
                            .inspect_err(|e| {
                                tracing::warn!(error = %e, "ignoring the master's heartbeat interval; the configured default applies");
                            })
                            .ok()
                    }),
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
    fn absurd_heartbeat_intervals_are_refused_or_clamped() {
        let subscribed = |seconds: f64| Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: "f".into() },
                heartbeat_interval_seconds: Some(seconds),
                ..Default::default()
            }),
            ..Default::default()
        };
        let interval = |seconds: f64| match SchedulerEvent::from_wire(subscribed(seconds), false) {
            Some(SchedulerEvent::Subscribed {
                heartbeat_interval, ..
            }) => heartbeat_interval,
            other => panic!("{other:?}"),
        };
        for absurd in [
            1e20,
            f64::MAX,
            18446744073709551615.0,
            -5.0,
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(interval(absurd), None, "{absurd}");
        }
        assert_eq!(interval(1e-300), Some(MIN_HEARTBEAT_INTERVAL));
        assert_eq!(interval(3600.0), Some(MAX_HEARTBEAT_INTERVAL));
        assert_eq!(interval(0.5), Some(Duration::from_millis(500)));
    }

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
