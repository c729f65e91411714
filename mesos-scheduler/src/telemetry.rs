//! Tracing spans and (feature `metrics`) metrics of the scheduler side:
//! what the crate documentation's *Observability* section lists.

use tracing::field::Empty;
use tracing::Span;

/// The span of one subscription (one SUBSCRIBE and, once the master
/// accepts it, its event stream), a child of `parent`: `framework_id` when
/// known (else recorded at SUBSCRIBED), `master` without user-info,
/// `stream_id` recorded when the answer arrives. Each field is recorded
/// once, so a subscriber that appends recorded values (as `fmt` does)
/// keeps a bounded text per span.
pub(crate) fn subscription_span(
    parent: &Span,
    framework_id: Option<&str>,
    master: &http::Uri,
) -> Span {
    let span = tracing::info_span!(
        parent: parent,
        "subscription",
        framework_id = Empty,
        master = %mesos_http::RedactedUrl(master),
        stream_id = Empty
    );
    if let Some(id) = framework_id {
        span.record("framework_id", id);
    }
    span
}

/// Where call counts and latencies go.
const CALL_METRICS: mesos_http::CallMetrics = mesos_http::CallMetrics {
    calls_total: "mesos_scheduler_calls_total",
    duration_seconds: "mesos_scheduler_call_duration_seconds",
};

/// Starts timing one call of type `call`, its span a child of `parent`
/// (the subscription's).
pub(crate) fn call(parent: &Span, call: &'static str) -> mesos_http::CallTimer {
    let span =
        tracing::debug_span!(parent: parent, "call", call, outcome = Empty, latency_ms = Empty);
    mesos_http::CallTimer::new(span, call, CALL_METRICS)
}

/// The span of one event dispatched to the scheduler, a child of the
/// subscription's span `parent`.
pub(crate) fn event_span(parent: &Span, event: &'static str) -> Span {
    tracing::debug_span!(parent: parent, "event", event)
}

/// An event of type `kind` arrived from the master.
pub(crate) fn event_received(kind: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_scheduler_events_total", "event" => kind).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// A SUBSCRIBE is about to be sent.
pub(crate) fn subscribe_attempt() {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_scheduler_subscribe_attempts_total").increment(1);
}

/// The connection was lost and will be reopened.
pub(crate) fn reconnect() {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_scheduler_reconnects_total").increment(1);
}

/// No event for too many heartbeat intervals.
pub(crate) fn heartbeat_missed() {
    #[cfg(feature = "metrics")]
    metrics::counter!("mesos_scheduler_heartbeat_misses_total").increment(1);
}

/// `delta` more (or fewer) offers are held.
pub(crate) fn offers_held(delta: isize) {
    gauge_add("mesos_scheduler_offers_held", delta);
}

/// `delta` more (or fewer) acknowledgements wait for the next subscription.
pub(crate) fn pending_acknowledgements(delta: isize) {
    gauge_add("mesos_scheduler_pending_acknowledgements", delta);
}

/// Moves the gauge `name` by `delta`.
fn gauge_add(name: &'static str, delta: isize) {
    #[cfg(feature = "metrics")]
    {
        let gauge = metrics::gauge!(name);
        if delta >= 0 {
            gauge.increment(delta as f64);
        } else {
            gauge.decrement(delta.unsigned_abs() as f64);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (name, delta);
}
