//! `OfferManagerHandle`: an [`OfferManager`] run by a tokio task.

use std::fmt;
use std::time::Instant;

use mesos_scheduler::proto::v1::scheduler::Call;
use mesos_scheduler::proto::v1::{Offer, OfferId};
use mesos_scheduler::{SchedulerClient, SchedulerEvent};

use super::{OfferCounters, OfferManager};
use crate::runner::{Machine, Runner, StartError};

impl Machine for OfferManager {
    fn poll_due(&mut self, now: Instant) -> Vec<Call> {
        OfferManager::poll_due(self, now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        OfferManager::next_deadline(self)
    }

    fn call_failed(&mut self, call: &Call, now: Instant) {
        OfferManager::call_failed(self, call, now);
    }
}

/// An [`OfferManager`] whose DECLINE, SUPPRESS and REVIVE calls a tokio
/// task sends through a [`SchedulerClient`] when they are due. Cheap to
/// clone; the task ends when the last clone is dropped.
///
/// Feed it the subscription's events ([`observe`](Self::observe) for the
/// stream API; [`subscribed`](Self::subscribed), [`offers`](Self::offers),
/// [`rescinded`](Self::rescinded), [`disconnected`](Self::disconnected)
/// from a [`Scheduler`](mesos_scheduler::Scheduler)'s callbacks), report
/// pending work with [`set_pending`](Self::set_pending), and
/// [`take`](Self::take) each offer before accepting or declining it.
///
/// ```no_run
/// use futures::StreamExt;
/// use mesos_framework::offers::{roles_of, OfferConfig, OfferManager, OfferManagerHandle};
/// use mesos_scheduler::proto::v1::FrameworkInfo;
/// use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let framework = FrameworkInfo::builder("root", "disciplined").role("web").build()?;
/// let roles = roles_of(&framework);
/// let (client, mut events) = subscribe(SchedulerConfig::new(["http://127.0.0.1:5050"], framework)?)?;
/// let offers = OfferManagerHandle::new(OfferManager::new(OfferConfig::default(), roles)?);
/// offers.start(client.clone())?;
/// offers.set_pending("web", 2); // two tasks to place
/// while let Some(event) = events.next().await {
///     let event = event?;
///     offers.observe(&event);
///     if let SchedulerEvent::Offers(received) = &event {
///         for offer in received {
///             if offers.take(&offer.id) {
///                 // ... launch on it with client.launch_tasks, then
///                 // offers.set_pending("web", remaining)
///             }
///         }
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OfferManagerHandle {
    runner: Runner<OfferManager>,
}

impl fmt::Debug for OfferManagerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfferManagerHandle")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl OfferManagerHandle {
    /// A handle on `manager`; nothing is sent before
    /// [`start`](Self::start).
    pub fn new(manager: OfferManager) -> Self {
        OfferManagerHandle {
            runner: Runner::new(manager),
        }
    }

    /// Starts the task that sends the calls through `client` (on the
    /// current tokio runtime). Only the first call starts it.
    pub fn start(&self, client: SchedulerClient) -> Result<(), StartError> {
        self.runner.start(client)
    }

    /// See [`OfferManager::set_pending`].
    pub fn set_pending(&self, role: &str, pending: usize) {
        self.runner.with(|m, _| m.set_pending(role, pending));
    }

    /// See [`OfferManager::take`].
    pub fn take(&self, offer_id: &OfferId) -> bool {
        self.runner.with(|m, _| m.take(offer_id))
    }

    /// See [`OfferManager::on_subscribed`].
    pub fn subscribed(&self) {
        self.runner.with(|m, now| m.on_subscribed(now));
    }

    /// See [`OfferManager::on_offers`].
    pub fn offers(&self, offers: &[Offer]) {
        self.runner.with(|m, now| m.on_offers(now, offers));
    }

    /// See [`OfferManager::on_rescind`].
    pub fn rescinded(&self, offer_id: &OfferId) {
        self.runner.with(|m, _| m.on_rescind(offer_id));
    }

    /// See [`OfferManager::on_disconnected`].
    pub fn disconnected(&self) {
        self.runner.with(|m, _| m.on_disconnected());
    }

    /// See [`OfferManager::observe`].
    pub fn observe(&self, event: &SchedulerEvent) {
        self.runner.with(|m, now| m.observe(event, now));
    }

    /// See [`OfferManager::counters`].
    pub fn counters(&self) -> OfferCounters {
        self.runner.read(OfferManager::counters)
    }

    /// Runs `f` on the manager (for what the other methods do not cover),
    /// then lets the task send whatever became due.
    pub fn with<R>(&self, f: impl FnOnce(&mut OfferManager) -> R) -> R {
        self.runner.with(|m, _| f(m))
    }
}
