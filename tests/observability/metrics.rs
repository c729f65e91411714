//! The metrics of a small run, through a test recorder.

use mesos_test_support::telemetry::TestRecorder;

use super::{cluster, on_this_thread, probe, wait_for, Seen};

#[test]
fn a_small_run_counts_calls_and_events() {
    let recorder = TestRecorder::default();
    metrics::with_local_recorder(&recorder, || {
        on_this_thread(async {
            let cluster = cluster().await;
            let (driver, mut seen) = probe(cluster.master_url(), "metrics", None);
            driver.start();
            wait_for(&mut seen, |s| matches!(s, Seen::Declined)).await;
            driver.stop(false).await;
        })
    });
    let all = recorder.counters();
    let shown = format!("{all:#?}");
    assert_eq!(
        recorder.counter("mesos_scheduler_calls_total{call=SUBSCRIBE,outcome=ok}"),
        1,
        "{shown}"
    );
    assert_eq!(
        recorder.counter("mesos_scheduler_subscribe_attempts_total"),
        1,
        "{shown}"
    );
    assert_eq!(
        recorder.counter("mesos_scheduler_events_total{event=SUBSCRIBED}"),
        1,
        "{shown}"
    );
    assert!(
        recorder.counter("mesos_scheduler_events_total{event=OFFERS}") >= 1,
        "{shown}"
    );
    assert!(
        recorder.counter("mesos_scheduler_calls_total{call=DECLINE,outcome=ok}") >= 1,
        "{shown}"
    );
    assert_eq!(
        recorder.counter("mesos_scheduler_calls_total{call=TEARDOWN,outcome=ok}"),
        1,
        "{shown}"
    );
    assert_eq!(
        recorder.counter("mesos_scheduler_reconnects_total"),
        0,
        "{shown}"
    );
    assert_eq!(
        recorder.counter("mesos_scheduler_heartbeat_misses_total"),
        0,
        "{shown}"
    );
    assert!(
        all.keys()
            .all(|k| !k.contains("outcome=") || k.contains("outcome=ok")),
        "every call succeeded: {shown}"
    );
    assert_eq!(
        recorder.gauge("mesos_scheduler_pending_acknowledgements"),
        0.0
    );
}

#[test]
fn offers_are_held_until_declined() {
    use futures::StreamExt as _;
    use mesos_proto::v1::FrameworkInfo;
    use mesos_scheduler::{SchedulerConfig, SchedulerEvent};

    let recorder = TestRecorder::default();
    let (received, held_then, held_after, gauge_then) =
        metrics::with_local_recorder(&recorder, || {
            on_this_thread(async {
                let cluster = cluster().await;
                let info = FrameworkInfo::builder("root", "offers held")
                    .build()
                    .expect("a framework");
                let config = SchedulerConfig::new([cluster.master_url()], info).expect("config");
                let (client, mut events) = mesos_scheduler::subscribe(config).expect("subscribe");
                let offers = loop {
                    let event = tokio::time::timeout(super::RUN_TIMEOUT, events.next())
                        .await
                        .expect("offers in time")
                        .expect("the stream yields")
                        .expect("an event");
                    if let SchedulerEvent::Offers(offers) = event {
                        break offers;
                    }
                };
                let held_then = client.offers_held();
                let gauge_then = recorder.gauge("mesos_scheduler_offers_held");
                let ids = offers.iter().map(|o| o.id.clone()).collect();
                client.decline(ids, None).await.expect("DECLINE");
                (offers.len(), held_then, client.offers_held(), gauge_then)
            })
        });
    assert!(received >= 1);
    assert_eq!(held_then, received, "every offer received is held");
    assert_eq!(gauge_then, received as f64);
    assert_eq!(held_after, 0, "declined offers are no longer held");
    assert_eq!(recorder.gauge("mesos_scheduler_offers_held"), 0.0);
}
