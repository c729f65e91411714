//! `SchedulerDriver`: runs a [`Scheduler`] over a subscription.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use mesos_http::CallbackEnd;
use mesos_proto::v1::{
    offer, AgentId, ExecutorId, Filters, FrameworkInfo, KillPolicy, OfferId, OperationStatus,
    Request, Status, TaskId, TaskInfo, TaskStatus,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    subscribe, telemetry, Error, Scheduler, SchedulerClient, SchedulerConfig, SchedulerEvent,
    Subscription,
};

/// The Rust `MesosSchedulerDriver`: connects a [`Scheduler`] to a master and
/// calls it for every event; its methods make the scheduler calls.
///
/// Cheap to clone (`Arc` inside), `Send + Sync`. The life cycle is the
/// classic one, with the classic [`Status`] values: `start` →
/// `DRIVER_RUNNING`; `stop` → `DRIVER_STOPPED`; `abort` → `DRIVER_ABORTED`;
/// `join` waits for either; `run` is `start` then `join`.
///
/// The driver always ends: an ERROR from the master, a subscription refused
/// for good, or a panic in a callback (caught, never unwinding into your
/// runtime) ends it as `DRIVER_ABORTED` with the cause in
/// [`failure`](SchedulerDriver::failure). `stop`, `abort` and `join` return
/// only once the event loop and every callback have finished.
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
    stop_grace_period: Duration,
    status: watch::Sender<Status>,
    /// True once the event loop and every callback have finished.
    finished: watch::Sender<bool>,
    cancel: CancellationToken,
    pending: Mutex<Option<(Box<dyn Scheduler>, Subscription)>>,
    failure: Mutex<Option<Arc<Error>>>,
    /// The event loop's task: calls from it (from a callback) never wait
    /// for the loop to finish.
    loop_task: OnceLock<tokio::task::Id>,
}

impl fmt::Debug for SchedulerDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerDriver")
            .field("status", &*self.inner.status.borrow())
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

/// The callback an event is delivered to, for naming a panic.
fn callback_name(event: &SchedulerEvent) -> &'static str {
    match event {
        SchedulerEvent::Subscribed {
            resubscribed: false,
            ..
        } => "registered callback",
        SchedulerEvent::Subscribed { .. } => "reregistered callback",
        SchedulerEvent::Offers(_) => "resource_offers callback",
        SchedulerEvent::InverseOffers(_) => "inverse_offers callback",
        SchedulerEvent::Rescind(_) => "offer_rescinded callback",
        SchedulerEvent::RescindInverseOffer(_) => "inverse_offer_rescinded callback",
        SchedulerEvent::Update(_) => "status_update callback",
        SchedulerEvent::OperationUpdate(_) => "operation_status_update callback",
        SchedulerEvent::Message { .. } => "framework_message callback",
        SchedulerEvent::Failure { .. } => "executor_lost/agent_lost callback",
        SchedulerEvent::Error(_) => "error callback",
        SchedulerEvent::Heartbeat => "heartbeat",
        SchedulerEvent::Disconnected { .. } => "disconnected callback",
    }
}

impl SchedulerDriver {
    /// A driver for `scheduler` with `config`; nothing connects until
    /// [`start`](Self::start).
    pub fn new(scheduler: impl Scheduler, config: SchedulerConfig) -> Result<Self, Error> {
        let implicit_acks = config.implicit_acknowledgements;
        let stop_grace_period = config.stop_grace_period;
        let (client, subscription) = subscribe(config)?;
        let (status, _) = watch::channel(Status::DriverNotStarted);
        let (finished, _) = watch::channel(false);
        Ok(SchedulerDriver {
            inner: Arc::new(Inner {
                client,
                implicit_acks,
                stop_grace_period,
                status,
                finished,
                cancel: CancellationToken::new(),
                pending: Mutex::new(Some((Box::new(scheduler), subscription))),
                failure: Mutex::new(None),
                loop_task: OnceLock::new(),
            }),
        })
    }

    /// The current status.
    pub fn status(&self) -> Status {
        *self.inner.status.borrow()
    }

    /// Why the driver aborted, if it did for a reason of its own: a
    /// callback panicked ([`Error::Panicked`]), the master sent an ERROR
    /// ([`Error::Master`]) or refused the subscription for good
    /// ([`Error::Subscribe`]). `None` after [`stop`](Self::stop) or
    /// [`abort`](Self::abort).
    pub fn failure(&self) -> Option<Arc<Error>> {
        lock(&self.inner.failure).clone()
    }

    /// The call client this driver uses (for code that holds no driver).
    pub fn client(&self) -> &SchedulerClient {
        &self.inner.client
    }

    /// Starts the event loop on the current tokio runtime. Returns
    /// `DRIVER_RUNNING`, or the unchanged status if already started; outside
    /// a runtime the driver aborts with [`Error::NoRuntime`].
    pub fn start(&self) -> Status {
        let Some((scheduler, subscription)) = lock(&self.inner.pending).take() else {
            return self.status();
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.fail(Error::NoRuntime);
            self.inner.status.send_replace(Status::DriverAborted);
            self.inner.finished.send_replace(true);
            return Status::DriverAborted;
        };
        self.inner.status.send_replace(Status::DriverRunning);
        let driver = self.clone();
        let supervisor = self.clone();
        // Whatever ends the event loop (even a panic in the driver itself),
        // the status leaves DRIVER_RUNNING and `join` returns.
        mesos_http::spawn_supervised(
            &runtime,
            async move { driver.event_loop(scheduler, subscription).await },
            move |ended| {
                if let Err(message) = ended {
                    let _in = supervisor.inner.client.shared.span().entered();
                    tracing::error!(%message, "the scheduler driver's event loop failed");
                    supervisor.fail(Error::Panicked {
                        during: "event loop",
                        message,
                    });
                }
                supervisor.finish(Status::DriverAborted);
                supervisor.inner.finished.send_replace(true);
            },
        );
        Status::DriverRunning
    }

    /// Stops the driver. With `failover == false` the framework is torn down
    /// first (TEARDOWN: all its tasks are killed); with `true` it only
    /// disconnects, so a new driver with the same framework id can take over
    /// within the failover timeout. Returns `DRIVER_STOPPED` (or the status
    /// if the driver was not running) once the event loop and any callback
    /// in progress have finished (a callback still running after the
    /// [stop grace period](SchedulerConfig::stop_grace_period) is dropped at
    /// its next `.await`). Called from a callback, it returns at once and
    /// the driver stops when the callback returns.
    pub async fn stop(&self, failover: bool) -> Status {
        let current = self.status();
        if current != Status::DriverRunning {
            return current;
        }
        if !failover {
            if let Err(e) = self.inner.client.teardown().await {
                self.inner.client.shared.span().in_scope(|| {
                    tracing::warn!(error = %e, "TEARDOWN failed while stopping");
                });
            }
        }
        self.finish(Status::DriverStopped);
        self.wait_finished().await;
        self.status()
    }

    /// Stops the event loop without tearing the framework down. Returns
    /// `DRIVER_ABORTED` (or the status if not running) once the event loop
    /// and any callback in progress have finished, like
    /// [`stop`](Self::stop).
    pub async fn abort(&self) -> Status {
        let current = self.status();
        if current != Status::DriverRunning {
            return current;
        }
        self.finish(Status::DriverAborted);
        self.wait_finished().await;
        self.status()
    }

    /// Waits until the driver is stopped or aborted and its event loop and
    /// callbacks have finished (returns at once if it was never started).
    /// From a callback it cannot wait for itself: it returns the current
    /// status at once.
    pub async fn join(&self) -> Status {
        if self.status() == Status::DriverNotStarted {
            return Status::DriverNotStarted;
        }
        self.wait_finished().await;
        self.status()
    }

    /// `start` then `join`.
    pub async fn run(&self) -> Status {
        self.start();
        self.join().await
    }

    /// Leaves DRIVER_RUNNING for `status` (the first such request wins) and
    /// tells the event loop to end.
    fn finish(&self, status: Status) {
        self.inner.status.send_if_modified(|current| {
            let running = *current == Status::DriverRunning;
            if running {
                *current = status;
            }
            running
        });
        self.inner.cancel.cancel();
    }

    fn fail(&self, error: Error) {
        lock(&self.inner.failure).get_or_insert_with(|| Arc::new(error));
    }

    fn in_event_loop(&self) -> bool {
        tokio::task::try_id().is_some_and(|id| self.inner.loop_task.get() == Some(&id))
    }

    async fn wait_finished(&self) {
        if self.in_event_loop() {
            return;
        }
        let mut finished = self.inner.finished.subscribe();
        let _ = finished.wait_for(|done| *done).await;
    }

    async fn event_loop(self, mut scheduler: Box<dyn Scheduler>, mut events: Subscription) {
        let _ = self.inner.loop_task.set(tokio::task::id());
        loop {
            let next = tokio::select! {
                biased;
                _ = self.inner.cancel.cancelled() => break,
                next = events.next() => next,
            };
            match next {
                Some(Ok(event)) => {
                    let fatal = match &event {
                        SchedulerEvent::Error(message) => Some(message.clone()),
                        _ => None,
                    };
                    if !self.deliver(scheduler.as_mut(), event).await {
                        break;
                    }
                    if let Some(message) = fatal {
                        self.fail(Error::Master(message));
                        self.finish(Status::DriverAborted);
                        break;
                    }
                }
                Some(Err(e)) => {
                    let message = mesos_http::error_chain(&e);
                    self.inner.client.shared.span().in_scope(|| {
                        tracing::error!(error = %message, "subscription failed; aborting");
                    });
                    self.fail(e);
                    self.deliver(scheduler.as_mut(), SchedulerEvent::Error(message))
                        .await;
                    self.finish(Status::DriverAborted);
                    break;
                }
                None => {
                    let end = if self.inner.client.shared.is_torn_down() {
                        Status::DriverStopped
                    } else {
                        Status::DriverAborted
                    };
                    self.finish(end);
                    break;
                }
            }
        }
    }

    /// Runs the callback for `event`; once the driver is stopped, it has the
    /// stop grace period left to finish. A panic in it aborts the driver
    /// with [`Error::Panicked`]. False when the loop must end.
    async fn deliver(&self, scheduler: &mut dyn Scheduler, event: SchedulerEvent) -> bool {
        let span = telemetry::event_span(&self.inner.client.shared.span(), event.type_name());
        self.deliver_in_span(scheduler, event)
            .instrument(span)
            .await
    }

    async fn deliver_in_span(&self, scheduler: &mut dyn Scheduler, event: SchedulerEvent) -> bool {
        let during = callback_name(&event);
        let callback = self.dispatch(scheduler, event);
        let interrupt = async {
            self.inner.cancel.cancelled().await;
            tokio::time::sleep(self.inner.stop_grace_period).await;
        };
        match mesos_http::run_callback(callback, interrupt).await {
            CallbackEnd::Returned => !self.inner.cancel.is_cancelled(),
            CallbackEnd::Interrupted => false,
            CallbackEnd::Panicked(message) => {
                tracing::error!(during, %message, "a scheduler callback panicked; aborting");
                self.fail(Error::Panicked { during, message });
                self.finish(Status::DriverAborted);
                false
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

/// Locks `mutex`; a poisoned lock only means a panic elsewhere while it was
/// held, and what it guards is consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
