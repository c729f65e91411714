//! `ReconcilerHandle`: a [`Reconciler`] run by a tokio task.

use std::fmt;
use std::time::Instant;

use mesos_scheduler::proto::v1::scheduler::Call;
use mesos_scheduler::proto::v1::{AgentId, TaskId, TaskStatus};
use mesos_scheduler::{SchedulerClient, SchedulerEvent};

use super::{Progress, ReconcileEvent, Reconciler};
use crate::runner::{Machine, Runner, StartError};

impl Machine for Reconciler {
    fn poll_due(&mut self, now: Instant) -> Vec<Call> {
        Reconciler::poll_due(self, now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        Reconciler::next_deadline(self)
    }
}

/// A [`Reconciler`] whose RECONCILE calls a tokio task sends through a
/// [`SchedulerClient`] at the times they are due. Cheap to clone; the task
/// ends when the last clone is dropped.
///
/// Feed it the subscription's events — from a
/// [`Scheduler`](mesos_scheduler::Scheduler)'s callbacks
/// ([`subscribed`](Self::subscribed) in `registered` and `reregistered`,
/// [`update`](Self::update) in `status_update`,
/// [`disconnected`](Self::disconnected)), or every event of the stream API
/// through [`observe`](Self::observe) — and act on the
/// [`ReconcileEvent`]s they return. A failed call is not retried by
/// itself: the explicit rounds re-ask whoever has not answered, and the
/// next SUBSCRIBED starts over.
///
/// With the stream API:
///
/// ```no_run
/// use futures::StreamExt;
/// use mesos_framework::reconcile::{ReconcileEvent, Reconciler, ReconcilerConfig, ReconcilerHandle};
/// use mesos_scheduler::proto::v1::{FrameworkInfo, TaskId};
/// use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let framework = FrameworkInfo::builder("root", "reconciling").build()?;
/// let (client, mut events) = subscribe(SchedulerConfig::new(["http://127.0.0.1:5050"], framework)?)?;
/// let reconciler = ReconcilerHandle::new(Reconciler::new(ReconcilerConfig::default())?);
/// reconciler.track(TaskId::from("restored-from-my-store"), None);
/// reconciler.start(client.clone())?;
/// while let Some(event) = events.next().await {
///     let event = event?;
///     for news in reconciler.observe(&event) {
///         if let ReconcileEvent::Unknown(status) = news {
///             println!("the master does not know {}: relaunch it", status.task_id.value);
///         }
///     }
///     if let SchedulerEvent::Update(status) = &event {
///         client.acknowledge(status).await?;
///     }
/// }
/// # Ok(()) }
/// ```
///
/// With the driver, start it from `registered` (the driver's client exists
/// by then):
///
/// ```no_run
/// use mesos_framework::reconcile::{ReconcileEvent, ReconcilerHandle};
/// use mesos_scheduler::proto::v1::{FrameworkId, MasterInfo, TaskStatus};
/// use mesos_scheduler::{async_trait, Scheduler, SchedulerDriver};
///
/// struct App { reconciler: ReconcilerHandle }
///
/// #[async_trait]
/// impl Scheduler for App {
///     async fn registered(&mut self, driver: &SchedulerDriver, _: &FrameworkId, _: Option<&MasterInfo>) {
///         let _ = self.reconciler.start(driver.client().clone());
///         self.reconciler.subscribed();
///     }
///     async fn reregistered(&mut self, _: &SchedulerDriver, _: Option<&MasterInfo>) {
///         self.reconciler.subscribed();
///     }
///     async fn disconnected(&mut self, _: &SchedulerDriver) {
///         self.reconciler.disconnected();
///     }
///     async fn status_update(&mut self, _: &SchedulerDriver, status: TaskStatus) {
///         for news in self.reconciler.update(&status) {
///             if let ReconcileEvent::Unknown(lost) = news {
///                 println!("relaunch {}", lost.task_id.value);
///             }
///         }
///     }
/// }
/// ```
#[derive(Clone)]
pub struct ReconcilerHandle {
    runner: Runner<Reconciler>,
}

impl fmt::Debug for ReconcilerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconcilerHandle")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl ReconcilerHandle {
    /// A handle on `reconciler`; nothing is sent before
    /// [`start`](Self::start).
    pub fn new(reconciler: Reconciler) -> Self {
        ReconcilerHandle {
            runner: Runner::new(reconciler),
        }
    }

    /// Starts the task that sends the calls through `client` (on the
    /// current tokio runtime). Only the first call starts it; later ones
    /// return `Ok` and change nothing.
    pub fn start(&self, client: SchedulerClient) -> Result<(), StartError> {
        self.runner.start(client)
    }

    /// See [`Reconciler::track`].
    pub fn track(&self, task_id: TaskId, agent_id: Option<AgentId>) {
        self.runner.with(|r, _| r.track(task_id, agent_id));
    }

    /// See [`Reconciler::forget`].
    pub fn forget(&self, task_id: &TaskId) -> bool {
        self.runner.with(|r, _| r.forget(task_id))
    }

    /// See [`Reconciler::on_subscribed`].
    pub fn subscribed(&self) -> Vec<ReconcileEvent> {
        self.runner.with(|r, now| r.on_subscribed(now))
    }

    /// See [`Reconciler::on_update`].
    pub fn update(&self, status: &TaskStatus) -> Vec<ReconcileEvent> {
        self.runner.with(|r, _| r.on_update(status))
    }

    /// See [`Reconciler::on_disconnected`].
    pub fn disconnected(&self) {
        self.runner.with(|r, _| r.on_disconnected());
    }

    /// See [`Reconciler::observe`].
    pub fn observe(&self, event: &SchedulerEvent) -> Vec<ReconcileEvent> {
        self.runner.with(|r, now| r.observe(event, now))
    }

    /// See [`Reconciler::progress`].
    pub fn progress(&self) -> Progress {
        self.runner.read(Reconciler::progress)
    }

    /// Runs `f` on the reconciler (for what the other methods do not
    /// cover), then lets the task send whatever became due.
    pub fn with<R>(&self, f: impl FnOnce(&mut Reconciler) -> R) -> R {
        self.runner.with(|r, _| f(r))
    }
}
