//! The `Scheduler` trait: what a framework does when the master speaks.

use async_trait::async_trait;
use bytes::Bytes;
use mesos_proto::v1::{
    AgentId, ExecutorId, FrameworkId, InverseOffer, MasterInfo, Offer, OfferId, OperationStatus,
    TaskStatus,
};

use crate::SchedulerDriver;

/// A framework's scheduler: the callbacks of `MesosSchedulerDriver`, as async
/// methods with do-nothing defaults (implement only what you need).
///
/// # Contract
/// - **One at a time, in order.** The driver calls these methods from one
///   task, one after another, in the order the master sent the events; a
///   method is never called while another is running. Long work should be
///   spawned (the driver is cheap to clone and may be moved into tasks).
/// - **Driver calls are safe from callbacks.** Every [`SchedulerDriver`]
///   method may be called (and awaited) from inside a callback without
///   deadlock: calls are independent HTTP requests, and `stop`/`abort` only
///   signal the event loop (it ends once the current callback returns).
///   Only [`SchedulerDriver::join`]/[`run`](SchedulerDriver::run) must not be
///   awaited from a callback (they wait for the loop that runs it).
/// - **Acknowledgements.** With implicit acknowledgements (the default), the
///   driver acknowledges each status update carrying a `uuid` right after
///   [`status_update`](Scheduler::status_update) returns; if the method
///   panics the task is not acknowledged and Mesos will resend the update.
///   With `implicit_acknowledgements(false)`, call
///   [`SchedulerDriver::acknowledge_status_update`] yourself.
/// - **Disconnections.** After [`disconnected`](Scheduler::disconnected) the
///   driver reconnects by itself and calls
///   [`reregistered`](Scheduler::reregistered) once it has resubscribed;
///   calls made in between fail with
///   [`Error::NotSubscribed`](crate::Error::NotSubscribed).
#[async_trait]
pub trait Scheduler: Send + 'static {
    /// The framework subscribed for the first time in this driver (a new
    /// framework id, or a failover to an existing one).
    async fn registered(
        &mut self,
        _driver: &SchedulerDriver,
        _framework_id: &FrameworkId,
        _master_info: Option<&MasterInfo>,
    ) {
    }

    /// The framework resubscribed after a disconnection (possibly to a new
    /// leading master).
    async fn reregistered(&mut self, _driver: &SchedulerDriver, _master_info: Option<&MasterInfo>) {
    }

    /// The connection to the master was lost; the driver is reconnecting.
    async fn disconnected(&mut self, _driver: &SchedulerDriver) {}

    /// Resources are offered. Accept (launch) or decline each offer; an offer
    /// left unanswered is held until the master rescinds it.
    async fn resource_offers(&mut self, _driver: &SchedulerDriver, _offers: Vec<Offer>) {}

    /// The master asks for resources back (maintenance windows).
    async fn inverse_offers(&mut self, _driver: &SchedulerDriver, _offers: Vec<InverseOffer>) {}

    /// An offer is no longer valid (already accepted elsewhere, timed out,
    /// agent lost).
    async fn offer_rescinded(&mut self, _driver: &SchedulerDriver, _offer_id: OfferId) {}

    /// An inverse offer is no longer valid.
    async fn inverse_offer_rescinded(&mut self, _driver: &SchedulerDriver, _offer_id: OfferId) {}

    /// A task's status changed.
    async fn status_update(&mut self, _driver: &SchedulerDriver, _status: TaskStatus) {}

    /// An offer operation's status changed (operations with an id).
    async fn operation_status_update(
        &mut self,
        _driver: &SchedulerDriver,
        _status: OperationStatus,
    ) {
    }

    /// An executor sent a framework message.
    async fn framework_message(
        &mut self,
        _driver: &SchedulerDriver,
        _executor_id: ExecutorId,
        _agent_id: AgentId,
        _data: Bytes,
    ) {
    }

    /// An agent was lost; its tasks are reported through status updates.
    async fn agent_lost(&mut self, _driver: &SchedulerDriver, _agent_id: AgentId) {}

    /// An executor terminated; `status` is its wait status when known.
    async fn executor_lost(
        &mut self,
        _driver: &SchedulerDriver,
        _executor_id: ExecutorId,
        _agent_id: Option<AgentId>,
        _status: Option<i32>,
    ) {
    }

    /// An unrecoverable error: the master sent ERROR, or refused the
    /// subscription. The driver aborts after this returns.
    async fn error(&mut self, _driver: &SchedulerDriver, _message: String) {}
}
