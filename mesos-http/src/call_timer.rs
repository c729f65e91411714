//! [`CallTimer`]: the end of a call's span (outcome, latency) and, with the
//! `metrics` feature, its counter and histogram; shared by the scheduler
//! and executor drivers.

use std::time::{Duration, Instant};

use tracing::Span;

use crate::Error;

/// The metric names a [`CallTimer`] records under (feature `metrics`; they
/// are ignored without it): a counter labelled `call` and `outcome`, and a
/// histogram of seconds labelled `call`.
#[derive(Debug, Clone, Copy)]
pub struct CallMetrics {
    /// The counter of calls, by `call` and `outcome`.
    pub calls_total: &'static str,
    /// The histogram of call latencies in seconds, by `call`.
    pub duration_seconds: &'static str,
}

/// Times one call and records how it ended on its span (and, with the
/// `metrics` feature, in the [`CallMetrics`] it was given).
///
/// The span is the caller's (so it carries the caller's target and name)
/// and must declare the fields `outcome` and `latency_ms`, left empty until
/// [`finish`](CallTimer::finish) records them: `outcome` a short word
/// (`ok`, or [`Error::outcome`]), `latency_ms` the milliseconds from
/// [`new`](CallTimer::new) to `finish`, as a float.
///
/// ```
/// use mesos_http::{CallMetrics, CallTimer};
/// use tracing::field::Empty;
///
/// const METRICS: CallMetrics = CallMetrics {
///     calls_total: "my_calls_total",
///     duration_seconds: "my_call_duration_seconds",
/// };
/// let span = tracing::debug_span!("call", call = "REVIVE", outcome = Empty, latency_ms = Empty);
/// let timer = CallTimer::new(span, "REVIVE", METRICS);
/// // ... send the call inside `timer.span()` ...
/// let elapsed = timer.finish("ok");
/// assert!(elapsed.as_secs() < 60);
/// ```
#[derive(Debug)]
pub struct CallTimer {
    span: Span,
    call: &'static str,
    metrics: CallMetrics,
    started: Instant,
}

impl CallTimer {
    /// Starts timing the call of type `call` that `span` describes.
    pub fn new(span: Span, call: &'static str, metrics: CallMetrics) -> Self {
        CallTimer {
            span,
            call,
            metrics,
            started: Instant::now(),
        }
    }

    /// The call's span, to instrument the request with.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records `outcome` and the latency on the span (and the metrics),
    /// logs `call answered` (DEBUG) inside it, and returns the latency.
    pub fn finish(self, outcome: &'static str) -> Duration {
        let elapsed = self.started.elapsed();
        self.span.record("outcome", outcome);
        self.span
            .record("latency_ms", elapsed.as_secs_f64() * 1000.0);
        self.span.in_scope(|| tracing::debug!("call answered"));
        #[cfg(feature = "metrics")]
        {
            metrics::counter!(self.metrics.calls_total, "call" => self.call, "outcome" => outcome)
                .increment(1);
            metrics::histogram!(self.metrics.duration_seconds, "call" => self.call)
                .record(elapsed.as_secs_f64());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (self.call, self.metrics);
        elapsed
    }

    /// [`finish`](Self::finish) with `ok` for a success, else the error's
    /// [`outcome`](Error::outcome).
    pub fn finish_with<T>(self, answer: &Result<T, Error>) -> Duration {
        self.finish(answer.as_ref().map_or_else(Error::outcome, |_| "ok"))
    }
}
