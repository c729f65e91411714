//! The spans of a small run, captured by a test `Layer`.

use mesos_test_support::telemetry::{SpanCapture, SpanRecord};

use super::{cluster, on_this_thread, probe, wait_for, Seen};

#[test]
fn a_small_run_has_subscription_call_and_event_spans() {
    let capture = SpanCapture::global();
    let (framework_id, master) = on_this_thread(async {
        let cluster = cluster().await;
        // User-info in the URL must never reach a span.
        let master = cluster
            .master_url()
            .replacen("http://", "http://fw:hunter2@", 1);
        let (driver, mut seen) = probe(&master, "spans", None);
        driver.start();
        wait_for(&mut seen, |s| matches!(s, Seen::Declined)).await;
        let framework_id = driver.client().framework_id().expect("subscribed").value;
        driver.stop(false).await;
        (
            framework_id,
            format!("{}/api/v1/scheduler", cluster.master_url()),
        )
    });

    let captured = capture.captured();
    let scheduler: Vec<(usize, &SpanRecord)> = captured
        .spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.target.starts_with("mesos_scheduler"))
        .collect();
    let subscriptions: Vec<_> = scheduler
        .iter()
        .filter(|(_, s)| s.name == "subscription" && s.field("master") == Some(master.as_str()))
        .collect();
    assert_eq!(subscriptions.len(), 1, "{scheduler:#?}");
    let (sub_index, subscription) = *subscriptions[0];
    let ours: Vec<(usize, &SpanRecord)> = scheduler
        .iter()
        .filter(|(_, s)| s.parent == Some(sub_index))
        .copied()
        .collect();
    assert_eq!(
        subscription.field("framework_id"),
        Some(framework_id.as_str())
    );
    assert_eq!(subscription.field("master"), Some(master.as_str()));
    assert!(
        subscription
            .field("stream_id")
            .is_some_and(|id| !id.is_empty()),
        "{subscription:?}"
    );

    let call = |kind: &str| {
        ours.iter()
            .find(|(_, s)| s.name == "call" && s.field("call") == Some(kind))
            .map(|(_, s)| (*s).clone())
            .unwrap_or_else(|| panic!("a {kind} call span in {ours:#?}"))
    };
    for kind in ["SUBSCRIBE", "DECLINE", "TEARDOWN"] {
        let span = call(kind);
        assert_eq!(span.field("outcome"), Some("ok"), "{span:?}");
        let latency: f64 = span
            .field("latency_ms")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("latency_ms recorded: {span:?}"));
        assert!(latency >= 0.0, "{span:?}");
        assert_eq!(span.parent, Some(sub_index), "{span:?}");
    }

    let offers = ours
        .iter()
        .find(|(_, s)| s.name == "event" && s.field("event") == Some("OFFERS"))
        .map(|(_, s)| *s)
        .unwrap_or_else(|| panic!("an OFFERS event span in {ours:#?}"));
    assert_eq!(offers.parent, Some(sub_index), "{offers:?}");

    // A log event of the connection carries the framework id through the
    // subscription span instead of repeating it.
    let subscribed = captured
        .events
        .iter()
        .find(|e| e.message == "subscribed" && e.scope.contains(&sub_index))
        .expect("the `subscribed` log event");
    assert!(subscribed.scope.contains(&sub_index), "{subscribed:?}");

    for span in &captured.spans {
        for value in span.fields.values() {
            assert!(!value.contains("hunter2"), "a secret in {span:?}");
        }
    }
}
