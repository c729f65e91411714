//! Tracing spans and (feature `metrics`) metrics of the executor side:
//! what the crate documentation's *Observability* section lists.

use mesos_proto::v1::{ExecutorId, FrameworkId};
use tracing::field::Empty;
use tracing::Span;

/// The span of the driver's subscription to its agent (see the crate docs).
pub(crate) fn subscription_span(
    framework_id: &FrameworkId,
    executor_id: &ExecutorId,
    agent: &http::Uri,
) -> Span {
    tracing::info_span!(
        "subscription",
        framework_id = %framework_id.value,
        executor_id = %executor_id.value,
        agent = %mesos_http::RedactedUrl(agent),
    )
}

/// The span of one event dispatched to the executor (in the current span).
pub(crate) fn event_span(event: &'static str) -> Span {
    tracing::debug_span!("event", event)
}

/// Where call counts and latencies go.
const CALL_METRICS: mesos_http::CallMetrics = mesos_http::CallMetrics {
    calls_total: "mesos_executor_calls_total",
    duration_seconds: "mesos_executor_call_duration_seconds",
};

/// Starts timing one call of type `call`, its span a child of `parent`
/// (the subscription's).
pub(crate) fn call(parent: &Span, call: &'static str) -> mesos_http::CallTimer {
    let span =
        tracing::debug_span!(parent: parent, "call", call, outcome = Empty, latency_ms = Empty);
    mesos_http::CallTimer::new(span, call, CALL_METRICS)
}

/// An event of type `kind` arrived from the agent.
pub(crate) fn event_received(kind: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_executor_events_total", "event" => kind).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// A SUBSCRIBE is about to be sent.
pub(crate) fn subscribe_attempt() {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_executor_subscribe_attempts_total").increment(1);
}

/// The subscription was lost and will be reopened.
pub(crate) fn reconnect() {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_executor_reconnects_total").increment(1);
}

/// A HEARTBEAT call was skipped: the previous one was still in flight.
pub(crate) fn heartbeat_missed() {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_executor_heartbeat_misses_total").increment(1);
}

/// The bookkeeping now holds `updates` unacknowledged updates and `tasks`
/// unacknowledged tasks.
pub(crate) fn unacknowledged(updates: usize, tasks: usize) {
    #[cfg(feature = "metrics")]
    {
        metrics::gauge!("mesos_executor_unacknowledged_updates").set(updates as f64);
        metrics::gauge!("mesos_executor_unacknowledged_tasks").set(tasks as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (updates, tasks);
}
