//! Observability: the tracing spans and the metrics of a small run against
//! mesos-local through real HTTP, and mesos-local's `/metrics/snapshot`
//! (compared with a real master's key names when `MESOS_INTEROP_MASTER`
//! names one).
//!
//! Each test runs on a current-thread runtime, so that a tracing subscriber
//! set as the thread's default (or a metrics recorder set as the thread's
//! local one) sees everything the driver does.

mod metrics;
mod snapshot;
mod spans;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use mesos_proto::builders::{filters, CommandInfoBuilder};
use mesos_proto::v1::{FrameworkInfo, Offer, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver};
use tokio::sync::mpsc;

/// Upper bound of one run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// What the probe scheduler reports.
#[derive(Debug)]
enum Seen {
    /// Offers were declined (the DECLINE call was answered).
    Declined,
    /// A status update, in this state.
    Update(TaskState),
}

/// Launches one command task (`true`) from the first offer when `launch`
/// is set, declines every other offer, and reports to `seen`.
struct Probe {
    launch: Option<&'static str>,
    seen: mpsc::UnboundedSender<Seen>,
}

#[async_trait]
impl Scheduler for Probe {
    async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            if let Some(task_id) = self.launch.take() {
                let task = TaskInfo::builder(task_id, task_id)
                    .agent_id(&offer.agent_id)
                    .cpus(0.1)
                    .mem(32.0)
                    .command(CommandInfoBuilder::shell("true"))
                    .build()
                    .expect("a valid task");
                driver
                    .launch_tasks(vec![offer.id], vec![task], Some(filters(Duration::ZERO)))
                    .await
                    .expect("ACCEPT");
                continue;
            }
            driver
                .decline_offer(offer.id, Some(filters(Duration::from_secs(1))))
                .await
                .expect("DECLINE");
            let _ = self.seen.send(Seen::Declined);
        }
    }

    async fn status_update(&mut self, _: &SchedulerDriver, status: TaskStatus) {
        let _ = self.seen.send(Seen::Update(status.state()));
    }
}

/// A driver for the probe on `master` (which may carry user-info).
fn probe(
    master: &str,
    name: &str,
    launch: Option<&'static str>,
) -> (SchedulerDriver, mpsc::UnboundedReceiver<Seen>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let framework = FrameworkInfo::builder("root", name)
        .build()
        .expect("a valid framework");
    let config = SchedulerConfig::new([master], framework).expect("a valid configuration");
    let driver = SchedulerDriver::new(Probe { launch, seen: tx }, config).expect("a driver");
    (driver, rx)
}

/// Waits (at most [`RUN_TIMEOUT`]) for the first report `wanted` accepts.
async fn wait_for(rx: &mut mpsc::UnboundedReceiver<Seen>, wanted: impl Fn(&Seen) -> bool) -> Seen {
    tokio::time::timeout(RUN_TIMEOUT, async {
        loop {
            let seen = rx.recv().await.expect("the driver is running");
            if wanted(&seen) {
                return seen;
            }
        }
    })
    .await
    .expect("reported within the run timeout")
}

/// Runs `body` on a fresh current-thread runtime.
fn on_this_thread<T>(body: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(body)
}

/// A mesos-local cluster with one agent and a short allocation interval.
async fn cluster() -> mesos_local::LocalCluster {
    mesos_local::LocalCluster::builder()
        .docker(false)
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap_or_else(|e| panic!("mesos-local starts: {}", mesos_http::error_chain(&e)))
}

/// With their spans inside, the drivers' futures stay `Send` (they may be
/// spawned).
#[test]
fn driver_futures_stay_send() {
    fn send<T: Send>(_: &T) {}
    struct Idle;
    #[async_trait]
    impl mesos_executor::Executor for Idle {}

    let (scheduler, _) = probe("http://127.0.0.1:1", "send", None);
    send(&scheduler.run());
    send(&scheduler.stop(false));
    send(&scheduler.client().decline(Vec::new(), None));
    let config = mesos_executor::ExecutorConfig::builder(
        "http://127.0.0.1:1/slave(1)/api/v1/executor",
        mesos_proto::v1::FrameworkId::from("fw"),
        mesos_proto::v1::ExecutorId::from("ex"),
    )
    .build()
    .expect("a valid configuration");
    let executor = mesos_executor::ExecutorDriver::new(Idle, config).expect("a driver");
    send(&executor.run());
    send(&executor.stop());
    send(&executor.send_status_update(TaskStatus::default()));
    send(&executor.send_framework_message(bytes::Bytes::new()));
}
