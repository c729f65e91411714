//! The driver under faults, against a scripted fake master over real HTTP:
//! panicking callbacks, absurd heartbeat intervals, a master that accepts
//! and drops every subscription, and `stop` while a callback runs.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use mesos_http::MediaType;
use mesos_proto::v1::scheduler::{call, event, Event};
use mesos_proto::v1::{FrameworkId, MasterInfo, Offer, OfferId, Status};
use mesos_scheduler::{
    subscribe, Error, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerEvent,
};
use support::{framework, record, subscribed, FakeMaster};
use tokio::sync::mpsc;

/// How long anything expected may take before a test fails.
const WAIT: Duration = Duration::from_secs(10);

fn config(master: &FakeMaster) -> SchedulerConfig {
    SchedulerConfig::new([master.url.as_str()], framework())
        .expect("config")
        .backoff(Duration::from_millis(50), Duration::from_millis(400))
}

fn offers() -> Event {
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers {
            offers: vec![Offer {
                id: OfferId { value: "o1".into() },
                ..Default::default()
            }],
        }),
        ..Default::default()
    }
}

/// Panics in `registered` or `resource_offers`, as told.
struct Panics {
    in_registered: bool,
}

#[async_trait]
impl Scheduler for Panics {
    async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
        if self.in_registered {
            panic!("registered as {} and gave up", id.value);
        }
    }

    async fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Offer>) {
        let n = offers.len();
        panic!("{}", format!("cannot handle {n} offer(s)"));
    }
}

#[tokio::test]
async fn a_panicking_callback_ends_run_as_aborted_with_the_panic() {
    for in_registered in [true, false] {
        let mut master = FakeMaster::start(vec![], None).await;
        let driver = SchedulerDriver::new(Panics { in_registered }, config(&master)).unwrap();
        let run = tokio::spawn({
            let driver = driver.clone();
            async move { driver.run().await }
        });
        let stream = master.next_stream().await;
        stream
            .send(record(MediaType::Protobuf, &subscribed("fw-p", 15.0)))
            .unwrap();
        stream.send(record(MediaType::Protobuf, &offers())).unwrap();
        let status = tokio::time::timeout(WAIT, run)
            .await
            .expect("run() returns after a panic")
            .unwrap();
        assert_eq!(status, Status::DriverAborted);
        let failure = driver.failure().expect("failure() names the panic");
        let Error::Panicked { during, message } = failure.as_ref() else {
            panic!("{failure:?}")
        };
        if in_registered {
            assert_eq!(*during, "registered callback");
            assert_eq!(message, "registered as fw-p and gave up");
        } else {
            assert_eq!(*during, "resource_offers callback");
            assert_eq!(message, "cannot handle 1 offer(s)");
        }
        assert_eq!(driver.join().await, Status::DriverAborted);
    }
}

/// Reports the offers it gets.
struct Reports(mpsc::UnboundedSender<Vec<Offer>>);

#[async_trait]
impl Scheduler for Reports {
    async fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Offer>) {
        let _ = self.0.send(offers);
    }
}

#[tokio::test]
async fn absurd_heartbeat_intervals_neither_panic_nor_hang() {
    for absurd in [1e20, -5.0, f64::NAN, 18446744073709551615.0] {
        // The driver keeps working...
        let mut master = FakeMaster::start(vec![], None).await;
        let (tx, mut offers_seen) = mpsc::unbounded_channel();
        let driver = SchedulerDriver::new(Reports(tx), config(&master)).unwrap();
        driver.start();
        let stream = master.next_stream().await;
        stream
            .send(record(MediaType::Protobuf, &subscribed("fw-h", absurd)))
            .unwrap();
        stream.send(record(MediaType::Protobuf, &offers())).unwrap();
        let got = tokio::time::timeout(WAIT, offers_seen.recv())
            .await
            .unwrap_or_else(|_| panic!("no offers after heartbeat {absurd}"));
        assert_eq!(got.map(|o| o.len()), Some(1));
        assert_eq!(driver.status(), Status::DriverRunning);
        assert_eq!(
            tokio::time::timeout(WAIT, driver.stop(true)).await.unwrap(),
            Status::DriverStopped
        );

        // ...and its watchdog is the configured default, not hours or zero:
        // a master silent after SUBSCRIBED is left within a few defaults.
        let mut master = FakeMaster::start(vec![], None).await;
        let cfg = config(&master)
            .default_heartbeat(Duration::from_millis(100))
            .heartbeat_multiplier(2);
        let (_client, mut events) = subscribe(cfg).unwrap();
        let reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Ok(Some(event)) = tokio::time::timeout(WAIT, events.next()).await {
                let event = event.expect("no fatal error");
                let done = matches!(event, SchedulerEvent::Disconnected { .. });
                seen.push(event);
                if done {
                    break;
                }
            }
            seen
        });
        let stream = master.next_stream().await;
        stream
            .send(record(MediaType::Protobuf, &subscribed("fw-h", absurd)))
            .unwrap();
        let seen = reader.await.unwrap();
        assert!(
            matches!(
                seen.as_slice(),
                [
                    SchedulerEvent::Subscribed {
                        heartbeat_interval: None,
                        ..
                    },
                    SchedulerEvent::Disconnected { .. }
                ]
            ),
            "heartbeat {absurd}: {seen:?}"
        );
        drop(stream);
    }
}

#[tokio::test]
async fn a_master_dropping_every_subscription_sees_backoff_grow_to_the_cap() {
    let floor = Duration::from_millis(50);
    let cap = Duration::from_millis(400);
    let mut master = FakeMaster::start(vec![], None).await;
    let (_client, mut events) = subscribe(config(&master)).unwrap();
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = events.next().await {} });
    let mut arrivals = Vec::new();
    for _ in 0..20 {
        let stream = master.next_stream().await;
        let subscribe = master.next_call().await;
        assert_eq!(subscribe.call.r#type(), call::Type::Subscribe);
        arrivals.push(subscribe.at);
        // SUBSCRIBED, then the connection is gone (a flapping leader).
        stream
            .send(record(MediaType::Protobuf, &subscribed("fw-s", 15.0)))
            .unwrap();
        drop(stream);
    }
    reader.abort();
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|gap| *gap >= floor),
        "a retry came sooner than the floor: {gaps:?}"
    );
    // Ceilings 50, 100, 200, 400 ms, then the cap: from the fifth retry on,
    // every gap is at least half the cap (equal jitter).
    assert!(
        gaps[4..].iter().all(|gap| *gap >= cap / 2),
        "the backoff did not grow to the cap: {gaps:?}"
    );
}

/// Holds `resource_offers` until the driver drops it, noting when it ended.
struct Slow {
    entered: mpsc::UnboundedSender<()>,
    ended: Arc<AtomicBool>,
    blocking: bool,
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Scheduler for Slow {
    async fn resource_offers(&mut self, _: &SchedulerDriver, _: Vec<Offer>) {
        let _ended = SetOnDrop(self.ended.clone());
        let _ = self.entered.send(());
        if self.blocking {
            // A callback that cannot be interrupted: stop waits for it.
            std::thread::sleep(Duration::from_millis(300));
        } else {
            std::future::pending::<()>().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_returns_only_after_the_running_callback_ended() {
    for blocking in [true, false] {
        let mut master = FakeMaster::start(vec![], None).await;
        let (entered, mut entered_rx) = mpsc::unbounded_channel();
        let ended = Arc::new(AtomicBool::new(false));
        let scheduler = Slow {
            entered,
            ended: ended.clone(),
            blocking,
        };
        let cfg = config(&master).stop_grace_period(Duration::from_millis(100));
        let driver = SchedulerDriver::new(scheduler, cfg).unwrap();
        driver.start();
        let stream = master.next_stream().await;
        stream
            .send(record(MediaType::Protobuf, &subscribed("fw-t", 15.0)))
            .unwrap();
        stream.send(record(MediaType::Protobuf, &offers())).unwrap();
        tokio::time::timeout(WAIT, entered_rx.recv())
            .await
            .expect("resource_offers entered");
        let stopped = tokio::time::timeout(WAIT, driver.stop(true))
            .await
            .expect("stop() returns");
        assert_eq!(stopped, Status::DriverStopped);
        assert!(
            ended.load(Ordering::SeqCst),
            "stop() returned while resource_offers was running (blocking: {blocking})"
        );
    }
}

/// Stops the driver from inside a callback.
struct StopsItself;

#[async_trait]
impl Scheduler for StopsItself {
    async fn registered(
        &mut self,
        driver: &SchedulerDriver,
        _: &FrameworkId,
        _: Option<&MasterInfo>,
    ) {
        assert_eq!(driver.stop(true).await, Status::DriverStopped);
        // join from a callback cannot wait for itself: it answers at once.
        assert_eq!(driver.join().await, Status::DriverStopped);
    }
}

#[tokio::test]
async fn stop_and_join_from_a_callback_do_not_deadlock() {
    let mut master = FakeMaster::start(vec![], None).await;
    let driver = SchedulerDriver::new(StopsItself, config(&master)).unwrap();
    let run = tokio::spawn({
        let driver = driver.clone();
        async move { driver.run().await }
    });
    let stream = master.next_stream().await;
    stream
        .send(record(MediaType::Protobuf, &subscribed("fw-x", 15.0)))
        .unwrap();
    let status = tokio::time::timeout(WAIT, run)
        .await
        .expect("run returns")
        .unwrap();
    assert_eq!(status, Status::DriverStopped);
    assert!(driver.failure().is_none());
}

async fn next(seen: &mut mpsc::UnboundedReceiver<SchedulerEvent>) -> SchedulerEvent {
    tokio::time::timeout(WAIT, seen.recv())
        .await
        .expect("an event in time")
        .expect("stream open")
}

/// Subscribes through the stream API with explicit acknowledgements; the
/// master answers ACKNOWLEDGE with 503 while failing over, then drops the
/// stream. Returns the calls the master received after resubscription up to
/// (and without) the REVIVE the test sends once resubscribed.
async fn acks_after_failover(updates: &[(&'static str, &'static [u8])]) -> Vec<call::Type> {
    let mut master = FakeMaster::start(vec![], None).await;
    let (client, mut events) = subscribe(config(&master)).unwrap();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        while let Some(Ok(event)) = events.next().await {
            let _ = seen_tx.send(event);
        }
    });
    let stream = master.next_stream().await;
    stream
        .send(record(MediaType::Protobuf, &subscribed("fw-a", 15.0)))
        .unwrap();
    assert!(matches!(
        next(&mut seen).await,
        SchedulerEvent::Subscribed { .. }
    ));
    master.set_call_status(Some((
        http::StatusCode::SERVICE_UNAVAILABLE,
        "master failing over",
    )));
    for (task, uuid) in updates {
        stream
            .send(record(MediaType::Protobuf, &support::update(task, uuid)))
            .unwrap();
        let SchedulerEvent::Update(status) = next(&mut seen).await else {
            panic!("expected an update")
        };
        client
            .acknowledge(&status)
            .await
            .expect("an undeliverable acknowledgement is kept, not an error");
    }
    let kept = client.pending_acknowledgements();
    master.set_call_status(None);
    drop(stream);
    assert!(matches!(
        next(&mut seen).await,
        SchedulerEvent::Disconnected { .. }
    ));
    while master.calls.try_recv().is_ok() {}
    let stream = master.next_stream().await;
    stream
        .send(record(MediaType::Protobuf, &subscribed("fw-a", 15.0)))
        .unwrap();
    assert!(matches!(
        next(&mut seen).await,
        SchedulerEvent::Subscribed { .. }
    ));
    client.revive(vec![]).await.unwrap();
    let mut calls = Vec::new();
    loop {
        let received = master.next_call().await;
        match received.call.r#type() {
            call::Type::Revive => break,
            call::Type::Acknowledge => {
                let ack = received.call.acknowledge.unwrap();
                calls.push((ack.task_id.value, ack.uuid));
            }
            _ => {}
        }
    }
    reader.abort();
    assert_eq!(client.pending_acknowledgements(), 0);
    let resent: Vec<_> = calls.iter().map(|_| call::Type::Acknowledge).collect();
    // Each resent acknowledgement is the task's latest update.
    for (task, uuid) in &calls {
        let latest = updates.iter().rev().find(|(t, _)| t == task).unwrap().1;
        assert_eq!(uuid.as_ref(), latest, "{task}");
    }
    assert!(kept >= resent.len());
    resent
}

#[tokio::test]
async fn explicit_acknowledgements_are_retried_across_a_reconnection() {
    let resent = acks_after_failover(&[("t1", b"u1"), ("t2", b"u2")]).await;
    assert_eq!(resent.len(), 2, "both acknowledgements sent again");
}

#[tokio::test]
async fn a_newer_update_supersedes_an_undelivered_acknowledgement() {
    // t1's first update was acknowledged (undeliverably), then a newer one
    // came: only the newer one's acknowledgement is still current.
    let resent = acks_after_failover(&[("t1", b"u1"), ("t1", b"u2")]).await;
    assert_eq!(resent.len(), 1);
}
