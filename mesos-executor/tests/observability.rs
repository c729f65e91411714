//! The driver's tracing spans and (feature `metrics`) metrics of a small
//! run against a fake agent: SUBSCRIBE, LAUNCH, two updates, one
//! acknowledgement.

mod support;

use mesos_executor::{ExecutorDriver, Status};
use mesos_proto::v1::executor::call;
use mesos_proto::v1::TaskStatus;
use support::*;

/// Subscribes, launches `t1` (the recorder sends RUNNING and FINISHED),
/// acknowledges RUNNING only, then stops. Returns the agent's URL.
async fn small_run() -> String {
    let mut agent = FakeAgent::start(Mode::Agent).await;
    let (executor, mut seen) = Recorder::new();
    let driver = ExecutorDriver::new(executor, agent.config().build().unwrap()).unwrap();
    driver.start();
    agent.next(call::Type::Subscribe).await;
    seen.until(|s| *s == Seen::Registered).await;
    agent.send(launch("t1"));
    let running: TaskStatus = agent.next(call::Type::Update).await.update.unwrap().status;
    agent.next(call::Type::Update).await;
    agent.send(acknowledged(&running));
    seen.until(|s| matches!(s, Seen::Acknowledged(..))).await;
    assert_eq!(driver.stop().await, Status::DriverStopped);
    agent.url()
}

fn on_this_thread<T>(body: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(body)
}

#[test]
fn a_small_run_has_subscription_call_and_event_spans() {
    use mesos_test_support::telemetry::{SpanCapture, SpanRecord};

    let capture = SpanCapture::global();
    let url = on_this_thread(small_run());
    let captured = capture.captured();
    let executor: Vec<(usize, &SpanRecord)> = captured
        .spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.target.starts_with("mesos_executor"))
        .collect();
    let subscriptions: Vec<_> = executor
        .iter()
        .filter(|(_, s)| s.name == "subscription" && s.field("agent") == Some(url.as_str()))
        .collect();
    assert_eq!(subscriptions.len(), 1, "{executor:#?}");
    let (sub_index, subscription) = *subscriptions[0];
    assert_eq!(subscription.field("framework_id"), Some(FRAMEWORK));
    assert_eq!(subscription.field("executor_id"), Some(EXECUTOR));

    let children: Vec<&SpanRecord> = executor
        .iter()
        .filter(|(_, s)| s.parent == Some(sub_index))
        .map(|(_, s)| *s)
        .collect();
    for kind in ["SUBSCRIBE", "UPDATE"] {
        let span = children
            .iter()
            .find(|s| s.name == "call" && s.field("call") == Some(kind))
            .unwrap_or_else(|| panic!("a {kind} call span in {children:#?}"));
        assert_eq!(span.field("outcome"), Some("ok"), "{span:?}");
        assert!(
            span.field("latency_ms")
                .and_then(|ms| ms.parse::<f64>().ok())
                .is_some_and(|ms| ms >= 0.0),
            "{span:?}"
        );
    }
    for kind in ["LAUNCH", "ACKNOWLEDGED"] {
        assert!(
            children
                .iter()
                .any(|s| s.name == "event" && s.field("event") == Some(kind)),
            "a {kind} event span in {children:#?}"
        );
    }
    assert!(
        captured
            .events
            .iter()
            .any(|e| e.message == "subscribed" && e.scope.contains(&sub_index)),
        "the `subscribed` log event carries the subscription's fields"
    );
}

#[cfg(feature = "metrics")]
#[test]
fn a_small_run_counts_calls_and_events() {
    use mesos_test_support::telemetry::TestRecorder;

    let recorder = TestRecorder::default();
    metrics::with_local_recorder(&recorder, || on_this_thread(small_run()));
    let shown = format!("{:#?}", recorder.counters());
    let count = |key: &str| recorder.counter(key);
    assert_eq!(
        count("mesos_executor_calls_total{call=SUBSCRIBE,outcome=ok}"),
        1,
        "{shown}"
    );
    assert_eq!(
        count("mesos_executor_subscribe_attempts_total"),
        1,
        "{shown}"
    );
    assert_eq!(
        count("mesos_executor_calls_total{call=UPDATE,outcome=ok}"),
        2,
        "{shown}"
    );
    assert_eq!(
        count("mesos_executor_events_total{event=SUBSCRIBED}"),
        1,
        "{shown}"
    );
    assert_eq!(
        count("mesos_executor_events_total{event=LAUNCH}"),
        1,
        "{shown}"
    );
    assert_eq!(
        count("mesos_executor_events_total{event=ACKNOWLEDGED}"),
        1,
        "{shown}"
    );
    assert_eq!(count("mesos_executor_reconnects_total"), 0, "{shown}");
    // FINISHED is not acknowledged: one update and its task still wait.
    assert_eq!(recorder.gauge("mesos_executor_unacknowledged_updates"), 1.0);
    assert_eq!(recorder.gauge("mesos_executor_unacknowledged_tasks"), 1.0);
}
