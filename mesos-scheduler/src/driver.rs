//! `SchedulerDriver`: runs a [`Scheduler`] over a subscription.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use mesos_proto::v1::{
    offer, AgentId, ExecutorId, Filters, FrameworkInfo, KillPolicy, OfferId, OperationStatus,
    Request, Status, TaskId, TaskInfo, TaskStatus,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    subscribe, Error, Scheduler, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription,
};

/// The Rust `MesosSchedulerDriver`: connects a [`Scheduler`] to a master and
/// calls it for every event; its methods make the scheduler calls.
///
/// Cheap to clone (`Arc` inside), `Send + Sync`. The life cycle is the
/// classic one, with the classic [`Status`] values: `start` →
/// `DRIVER_RUNNING`; `stop` → `DRIVER_STOPPED`; `abort` (or an ERROR from
/// the master) → `DRIVER_ABORTED`; `join` waits for either; `run` is `start`
/// then `join`.
///
/// ```no_run
/// use async_trait::async_trait;
/// use mesos_proto::v1::{FrameworkInfo, Offer, Status};
/// use mesos_scheduler::{Scheduler, SchedulerConfig, SchedulerDriver};
///
/// struct DeclineAll;
///
/// #[async_trait]
/// impl Scheduler for DeclineAll {
///     async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
///         let ids = offers.into_iter().map(|o| o.id).collect();
///         let _ = driver.decline_offers(ids, None).await;
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let framework = FrameworkInfo::builder("root", "decline-all").build()?;
/// let config = SchedulerConfig::new(["http://127.0.0.1:5050"], framework)?;
/// let driver = SchedulerDriver::new(DeclineAll, config)?;
/// let status = driver.run().await;
/// std::process::exit(if status == Status::DriverStopped { 0 } else { 1 });
/// # }
/// ```
#[derive(Clone)]
#[doc(alias = "MesosSchedulerDriver")]
pub struct SchedulerDriver {
    inner: Arc<Inner>,
}

struct Inner {
    client: SchedulerClient,
    implicit_acks: bool,
    status: watch::Sender<Status>,
    cancel: CancellationToken,
    pending: Mutex<Option<(Box<dyn Scheduler>, Subscription)>>,
}

impl fmt::Debug for SchedulerDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerDriver")
            .field("status", &*self.inner.status.borrow())
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

impl SchedulerDriver {
    /// A driver for `scheduler` with `config`; nothing connects until
    /// [`start`](Self::start).
    pub fn new(scheduler: impl Scheduler, config: SchedulerConfig) -> Result<Self, Error> {
        let implicit_acks = config.implicit_acknowledgements;
        let (client, subscription) = subscribe(config)?;
        let (status, _) = watch::channel(Status::DriverNotStarted);
        Ok(SchedulerDriver {
            inner: Arc::new(Inner {
                client,
                implicit_acks,
                status,
                cancel: CancellationToken::new(),
                pending: Mutex::new(Some((Box::new(scheduler), subscription))),
            }),
        })
    }

    /// The current status.
    pub fn status(&self) -> Status {
        *self.inner.status.borrow()
    }

    /// The call client this driver uses (for code that holds no driver).
    pub fn client(&self) -> &SchedulerClient {
        &self.inner.client
    }

    /// Starts the event loop on the current tokio runtime. Returns
    /// `DRIVER_RUNNING`, or the unchanged status if already started.
    pub fn start(&self) -> Status {
        let taken = match self.inner.pending.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some((scheduler, subscription)) = taken else {
            return self.status();
        };
        self.inner.status.send_replace(Status::DriverRunning);
        let driver = self.clone();
        tokio::spawn(async move { driver.event_loop(scheduler, subscription).await });
        Status::DriverRunning
    }

    /// Stops the driver. With `failover == false` the framework is torn down
    /// first (TEARDOWN: all its tasks are killed); with `true` it only
    /// disconnects, so a new driver with the same framework id can take over
    /// within the failover timeout. Returns `DRIVER_STOPPED` (or the status
    /// if the driver was not running).
    pub async fn stop(&self, failover: bool) -> Status {
        let current = self.status();
        if current != Status::DriverRunning {
            return current;
        }
        if !failover {
            if let Err(e) = self.inner.client.teardown().await {
                tracing::warn!(error = %e, "TEARDOWN failed while stopping");
            }
        }
        self.inner.status.send_replace(Status::DriverStopped);
        self.inner.cancel.cancel();
        Status::DriverStopped
    }

    /// Stops the event loop at once without tearing the framework down.
    /// Returns `DRIVER_ABORTED` (or the status if not running).
    pub fn abort(&self) -> Status {
        let current = self.status();
        if current != Status::DriverRunning {
            return current;
        }
        self.inner.status.send_replace(Status::DriverAborted);
        self.inner.cancel.cancel();
        Status::DriverAborted
    }

    /// Waits until the driver is stopped or aborted (returns at once if it
    /// was never started). Do not await from a scheduler callback.
    pub async fn join(&self) -> Status {
        let mut rx = self.inner.status.subscribe();
        let result = rx
            .wait_for(|s| !matches!(s, Status::DriverRunning))
            .await
            .map(|s| *s);
        result.unwrap_or(Status::DriverAborted)
    }

    /// `start` then `join`.
    pub async fn run(&self) -> Status {
        self.start();
        self.join().await
    }

    async fn event_loop(self, mut scheduler: Box<dyn Scheduler>, mut events: Subscription) {
        loop {
            let next = tokio::select! {
                biased;
                _ = self.inner.cancel.cancelled() => break,
                next = events.next() => next,
            };
            match next {
                Some(Ok(event)) => {
                    let fatal = matches!(event, SchedulerEvent::Error(_));
                    self.dispatch(scheduler.as_mut(), event).await;
                    if fatal {
                        self.abort();
                        break;
                    }
                }
                Some(Err(e)) => {
                    let message = mesos_http::error_chain(&e);
                    tracing::error!(error = %message, "subscription failed; aborting");
                    scheduler.error(&self, message).await;
                    self.abort();
                    break;
                }
                None => {
                    self.abort();
                    break;
                }
            }
        }
    }

    async fn dispatch(&self, scheduler: &mut dyn Scheduler, event: SchedulerEvent) {
        match event {
            SchedulerEvent::Subscribed {
                framework_id,
                master_info,
                resubscribed,
                ..
            } => {
                if resubscribed {
                    scheduler.reregistered(self, master_info.as_ref()).await;
                } else {
                    scheduler
                        .registered(self, &framework_id, master_info.as_ref())
                        .await;
                }
            }
            SchedulerEvent::Offers(offers) => scheduler.resource_offers(self, offers).await,
            SchedulerEvent::InverseOffers(offers) => scheduler.inverse_offers(self, offers).await,
            SchedulerEvent::Rescind(id) => scheduler.offer_rescinded(self, id).await,
            SchedulerEvent::RescindInverseOffer(id) => {
                scheduler.inverse_offer_rescinded(self, id).await
            }
            SchedulerEvent::Update(status) => {
                let ack = self.inner.implicit_acks.then(|| status.clone());
                scheduler.status_update(self, status).await;
                // A callback that stopped or aborted the driver has ended the
                // subscription: nothing left to acknowledge on.
                let ack = ack.filter(|_| self.status() == Status::DriverRunning);
                if let Some(status) = ack {
                    if let Err(e) = self.inner.client.acknowledge(&status).await {
                        tracing::warn!(error = %e, task = %status.task_id.value, "implicit acknowledgement failed; Mesos will resend the update");
                    }
                }
            }
            SchedulerEvent::OperationUpdate(status) => {
                scheduler.operation_status_update(self, status).await;
            }
            SchedulerEvent::Message {
                agent_id,
                executor_id,
                data,
            } => {
                scheduler
                    .framework_message(self, executor_id, agent_id, data)
                    .await;
            }
            SchedulerEvent::Failure {
                agent_id,
                executor_id: Some(executor_id),
                status,
            } => {
                scheduler
                    .executor_lost(self, executor_id, agent_id, status)
                    .await;
            }
            SchedulerEvent::Failure {
                agent_id: Some(agent_id),
                executor_id: None,
                ..
            } => {
                scheduler.agent_lost(self, agent_id).await;
            }
            SchedulerEvent::Failure { .. } | SchedulerEvent::Heartbeat => {}
            SchedulerEvent::Error(message) => scheduler.error(self, message).await,
            SchedulerEvent::Disconnected { .. } => scheduler.disconnected(self).await,
        }
    }

    /// Launches `tasks` using `offer_ids` (ACCEPT with one LAUNCH operation;
    /// unused resources are declined with `filters`).
    pub async fn launch_tasks(
        &self,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.inner
            .client
            .launch_tasks(offer_ids, tasks, filters)
            .await
    }

    /// ACCEPT offers with any operations (LAUNCH, LAUNCH_GROUP, RESERVE,
    /// UNRESERVE, CREATE, DESTROY, GROW_VOLUME, SHRINK_VOLUME, ...).
    pub async fn accept_offers(
        &self,
        offer_ids: Vec<OfferId>,
        operations: Vec<offer::Operation>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.inner
            .client
            .accept(offer_ids, operations, filters)
            .await
    }

    /// Declines one offer.
    pub async fn decline_offer(
        &self,
        offer_id: OfferId,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.inner.client.decline(vec![offer_id], filters).await
    }

    /// Declines several offers.
    pub async fn decline_offers(
        &self,
        offer_ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.inner.client.decline(offer_ids, filters).await
    }

    /// Accepts inverse offers.
    pub async fn accept_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.inner.client.accept_inverse_offers(ids, filters).await
    }

    /// Declines inverse offers.
    pub async fn decline_inverse_offers(
        &self,
        ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.inner.client.decline_inverse_offers(ids, filters).await
    }

    /// Kills a task, optionally with a kill policy overriding the task's.
    pub async fn kill_task(
        &self,
        task_id: TaskId,
        agent_id: Option<AgentId>,
        kill_policy: Option<KillPolicy>,
    ) -> Result<(), Error> {
        self.inner.client.kill(task_id, agent_id, kill_policy).await
    }

    /// Shuts an executor down.
    pub async fn shutdown_executor(
        &self,
        executor_id: ExecutorId,
        agent_id: AgentId,
    ) -> Result<(), Error> {
        self.inner
            .client
            .shutdown_executor(executor_id, agent_id)
            .await
    }

    /// Removes filters and asks for offers again (for `roles`; empty: all).
    pub async fn revive_offers(&self, roles: Vec<String>) -> Result<(), Error> {
        self.inner.client.revive(roles).await
    }

    /// Stops offers (for `roles`; empty: all) until revived.
    pub async fn suppress_offers(&self, roles: Vec<String>) -> Result<(), Error> {
        self.inner.client.suppress(roles).await
    }

    /// Acknowledges a status update (with implicit acknowledgements off).
    pub async fn acknowledge_status_update(&self, status: &TaskStatus) -> Result<(), Error> {
        self.inner.client.acknowledge(status).await
    }

    /// Acknowledges an operation status update.
    pub async fn acknowledge_operation_status(
        &self,
        status: &OperationStatus,
    ) -> Result<(), Error> {
        self.inner.client.acknowledge_operation_status(status).await
    }

    /// Reconciles tasks: explicit for `tasks`, implicit (the master sends the
    /// latest state of every task it knows) when `tasks` is empty.
    pub async fn reconcile_tasks(
        &self,
        tasks: Vec<(TaskId, Option<AgentId>)>,
    ) -> Result<(), Error> {
        self.inner.client.reconcile(tasks).await
    }

    /// Reconciles operations; returns the master's answer.
    pub async fn reconcile_operations(
        &self,
        operations: Vec<mesos_proto::v1::scheduler::call::reconcile_operations::Operation>,
    ) -> Result<mesos_proto::v1::scheduler::Response, Error> {
        self.inner.client.reconcile_operations(operations).await
    }

    /// Sends a framework message to an executor.
    pub async fn send_framework_message(
        &self,
        executor_id: ExecutorId,
        agent_id: AgentId,
        data: Bytes,
    ) -> Result<(), Error> {
        self.inner.client.message(agent_id, executor_id, data).await
    }

    /// Asks the allocator for resources.
    pub async fn request_resources(&self, requests: Vec<Request>) -> Result<(), Error> {
        self.inner.client.request(requests).await
    }

    /// Updates the framework's info (roles, capabilities, ...).
    pub async fn update_framework(&self, framework: FrameworkInfo) -> Result<(), Error> {
        self.inner.client.update_framework(framework).await
    }
}
