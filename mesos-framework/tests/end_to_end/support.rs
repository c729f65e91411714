//! What the end-to-end scenarios share: framework infos and configs, waits
//! with deadlines, and a pump that runs a framework's event stream in a
//! task, feeding the reconciler and the offer manager and keeping a log.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use mesos_framework::offers::OfferManagerHandle;
use mesos_framework::reconcile::{ReconcileEvent, ReconcilerHandle};
use mesos_scheduler::proto::builders::{filters, CommandInfoBuilder};
use mesos_scheduler::proto::v1::framework_info::capability::Type as Capability;
use mesos_scheduler::proto::v1::{FrameworkId, FrameworkInfo, Offer, TaskId, TaskInfo};
use mesos_scheduler::{SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};
use tokio::time::Instant;

/// The longest any single wait of a scenario may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// A framework named `name` (unique per scenario), with a failover timeout
/// (so that a second instance can take over its tasks), failing over to
/// `id` when given.
pub fn framework(name: &str, id: Option<&FrameworkId>, partition_aware: bool) -> FrameworkInfo {
    let mut builder =
        FrameworkInfo::builder("root", name).failover_timeout(Duration::from_secs(120));
    if let Some(id) = id {
        builder = builder.id(id.clone());
    }
    if partition_aware {
        builder = builder.capability(Capability::PartitionAware);
    }
    builder.build().expect("a valid FrameworkInfo")
}

/// A scheduler config for `master`, reconnecting quickly.
pub fn config(master: &str, framework: FrameworkInfo) -> SchedulerConfig {
    SchedulerConfig::new([master], framework)
        .expect("a valid config")
        .backoff(Duration::from_millis(100), Duration::from_secs(1))
}

/// A small command task sleeping on `offer`'s agent.
pub fn sleeper(task_id: &TaskId, offer: &Offer) -> TaskInfo {
    TaskInfo::builder("sleeper", task_id)
        .agent_id(&offer.agent_id)
        .cpus(0.1)
        .mem(32.0)
        .command(CommandInfoBuilder::shell("sleep 1000"))
        .build()
        .expect("a valid TaskInfo")
}

/// The next event of `events` before `deadline`.
///
/// # Panics
/// When none comes in time, the stream ends or fails.
pub async fn next_event(
    events: &mut Subscription,
    deadline: Instant,
    what: &str,
) -> SchedulerEvent {
    match tokio::time::timeout_at(deadline, events.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(e))) => panic!("the subscription failed while waiting for {what}: {e}"),
        Ok(None) => panic!("the subscription ended while waiting for {what}"),
        Err(_) => panic!("no {what} in time"),
    }
}

/// Polls `check` every 20 ms until it returns `Some`, for at most `within`.
///
/// # Panics
/// When `within` passes first.
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a pumped framework does with offers the test did not take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OfferPolicy {
    /// Nothing: they stay held (for the offer manager's lease).
    Hold,
    /// Take them from the manager and decline them, refusing for this long.
    Decline(Duration),
}

/// What a pump saw.
#[derive(Debug, Default)]
pub struct Log {
    /// Every event, in order.
    pub events: Vec<SchedulerEvent>,
    /// Every reconciler event, in order.
    pub news: Vec<ReconcileEvent>,
    /// Offers received.
    pub offers: usize,
    /// OFFERS events received.
    pub offer_events: usize,
}

/// A framework whose events a task consumes: it feeds its reconciler and
/// offer manager (when it has them), acknowledges updates (as the
/// application must: the reconciler never does), applies the offer policy
/// and logs everything.
pub struct Pumped {
    pub client: SchedulerClient,
    log: Arc<Mutex<Log>>,
    policy: Arc<Mutex<OfferPolicy>>,
    task: tokio::task::JoinHandle<()>,
}

impl Pumped {
    pub fn spawn(
        client: SchedulerClient,
        mut events: Subscription,
        reconciler: Option<ReconcilerHandle>,
        offers: Option<OfferManagerHandle>,
        policy: OfferPolicy,
    ) -> Pumped {
        let log = Arc::new(Mutex::new(Log::default()));
        let policy = Arc::new(Mutex::new(policy));
        let task = tokio::spawn({
            let (client, log, policy) = (client.clone(), log.clone(), policy.clone());
            async move {
                while let Some(Ok(event)) = events.next().await {
                    let news = reconciler
                        .as_ref()
                        .map(|r| r.observe(&event))
                        .unwrap_or_default();
                    if let Some(offers) = &offers {
                        offers.observe(&event);
                    }
                    match &event {
                        SchedulerEvent::Update(status) => {
                            let _ = client.acknowledge(status).await;
                        }
                        SchedulerEvent::Offers(received) => {
                            let policy = *policy.lock().unwrap();
                            if let OfferPolicy::Decline(refuse) = policy {
                                let ids = received
                                    .iter()
                                    .filter(|o| offers.as_ref().is_none_or(|m| m.take(&o.id)))
                                    .map(|o| o.id.clone())
                                    .collect::<Vec<_>>();
                                let _ = client.decline(ids, Some(filters(refuse))).await;
                            }
                        }
                        _ => {}
                    }
                    let mut log = log.lock().unwrap();
                    if let SchedulerEvent::Offers(received) = &event {
                        log.offers += received.len();
                        log.offer_events += 1;
                    }
                    log.news.extend(news);
                    log.events.push(event);
                }
            }
        });
        Pumped {
            client,
            log,
            policy,
            task,
        }
    }

    pub fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }

    pub fn set_policy(&self, policy: OfferPolicy) {
        *self.policy.lock().unwrap() = policy;
    }

    /// Tears the framework down and stops the pump.
    pub async fn teardown(self) {
        let _ = self.client.teardown().await;
        self.task.abort();
    }
}

impl Drop for Pumped {
    fn drop(&mut self) {
        self.task.abort();
    }
}
