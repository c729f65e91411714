//! `SchedulerClient`: every scheduler call, on the current subscription.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http::Uri;
use mesos_proto::v1::scheduler::Call;
use mesos_proto::v1::{
    offer, AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, KillPolicy, OfferId, Request,
    TaskId, TaskInfo, TaskStatus,
};

use tracing::Instrument;

use crate::acks::{PendingAck, PendingAcks};
use crate::{calls, telemetry, Error};

/// The subscription calls are made on: which master, with which stream id,
/// as which framework.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) url: Uri,
    pub(crate) stream_id: String,
    pub(crate) framework_id: FrameworkId,
}

/// The master's URL without user-info.
impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("url", &mesos_http::RedactedUrl(&self.url))
            .field("stream_id", &self.stream_id)
            .field("framework_id", &self.framework_id)
            .finish()
    }
}

/// State shared by a connection and its clients.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) http: mesos_http::Client,
    /// Shared, so that every call reads it without copying its strings.
    pub(crate) session: RwLock<Option<Arc<Session>>>,
    /// Set once TEARDOWN was accepted: the framework is gone, so the
    /// connection ends instead of resubscribing.
    pub(crate) torn_down: AtomicBool,
    /// Acknowledgements to send again after the next SUBSCRIBED.
    pub(crate) pending_acks: PendingAcks,
    /// Offers received and not yet accepted, declined or rescinded.
    pub(crate) held_offers: crate::offers::HeldOffers,
    /// The span of the latest subscription (none before the first
    /// SUBSCRIBE): the parent of every call's and every dispatched event's.
    pub(crate) span: RwLock<tracing::Span>,
}

impl Shared {
    pub(crate) fn session(&self) -> Option<Arc<Session>> {
        match self.session.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The span of the latest subscription.
    pub(crate) fn span(&self) -> tracing::Span {
        match self.span.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_span(&self, span: tracing::Span) {
        match self.span.write() {
            Ok(mut guard) => *guard = span,
            Err(poisoned) => *poisoned.into_inner() = span,
        }
    }

    /// Opens the span of a new subscription to `master`, a child of
    /// `parent`, and makes it the latest.
    pub(crate) fn new_span(
        &self,
        parent: &tracing::Span,
        framework_id: Option<&str>,
        master: &Uri,
    ) -> tracing::Span {
        let span = telemetry::subscription_span(parent, framework_id, master);
        self.set_span(span.clone());
        span
    }

    pub(crate) fn is_torn_down(&self) -> bool {
        self.torn_down.load(Ordering::Acquire)
    }

    pub(crate) fn set_session(&self, session: Option<Session>) {
        // Offers belong to the subscription that received them.
        self.held_offers.clear();
        let session = session.map(Arc::new);
        match self.session.write() {
            Ok(mut guard) => *guard = session,
            Err(poisoned) => *poisoned.into_inner() = session,
        }
    }
}

/// Makes scheduler calls on the current subscription: cheap to clone,
/// `Send + Sync`, usable from any task.
///
/// Every call is its own POST carrying the subscription's `Mesos-Stream-Id`
/// and framework id; it resolves when the master has accepted it (`202`), or
/// fails with a typed [`Error`]. While there is no subscription (before
/// SUBSCRIBED, or while reconnecting) calls fail at once with
/// [`Error::NotSubscribed`] instead of vanishing.
#[derive(Clone)]
pub struct SchedulerClient {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for SchedulerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchedulerClient")
            .field("session", &self.shared.session())
            .finish()
    }
}

impl SchedulerClient {
    /// The framework id of the current subscription.
    pub fn framework_id(&self) -> Option<FrameworkId> {
        self.shared.session().map(|s| s.framework_id.clone())
    }

    /// How many acknowledgements are kept, undelivered, for the next
    /// subscription (see [`acknowledge`](Self::acknowledge)).
    pub fn pending_acknowledgements(&self) -> usize {
        self.shared.pending_acks.len()
    }

    /// How many offers the framework holds on the current subscription:
    /// received and not yet accepted, declined or rescinded (also the gauge
    /// `mesos_scheduler_offers_held` with the `metrics` feature). Offers a
    /// framework holds are resources no other framework can use.
    pub fn offers_held(&self) -> usize {
        self.shared.held_offers.len()
    }

    /// True while subscribed.
    pub fn is_subscribed(&self) -> bool {
        self.shared.session().is_some()
    }

    /// Sends any call (its `framework_id` is filled in).
    pub async fn call(&self, call: Call) -> Result<(), Error> {
        self.call_with_response(Box::new(call)).await.map(|_| ())
    }

    /// Sends `call` and returns the answer. The call is boxed so that the
    /// future stays small: a `Call` holds every kind of call inline (a few
    /// KiB), and a framework spawns a future per call in flight.
    async fn call_with_response(
        &self,
        mut call: Box<Call>,
    ) -> Result<mesos_http::CallResponse, Error> {
        let kind = calls::type_name(&call);
        let timing = telemetry::call(&self.shared.span(), kind);
        let Some(session) = self.shared.session() else {
            timing.finish("not_subscribed");
            return Err(Error::NotSubscribed);
        };
        call.framework_id = Some(session.framework_id.clone());
        let answer = self
            .shared
            .http
            .call(&session.url, &*call, Some(&session.stream_id))
            .instrument(timing.span().clone())
            .await;
        timing.finish_with(&answer);
        if answer.is_ok() {
            self.shared
                .held_offers
                .released(calls::offers_answered(&call));
        }
        answer.map_err(|source| Error::Call { call: kind, source })
    }

    /// ACCEPT offers with operations (any `Offer.Operation` type).
    pub async fn accept(
        &self,
        offer_ids: Vec<OfferId>,
        operations: Vec<offer::Operation>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.call(calls::accept(offer_ids, operations, filters))
            .await
    }

    /// Launches `tasks` on `offer_ids` (ACCEPT with one LAUNCH).
    pub async fn launch_tasks(
        &self,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.call(calls::launch(offer_ids, tasks, filters)).await
    }

    /// DECLINE offers.
    pub async fn decline(
        &self,
        offer_ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.call(calls::decline(offer_ids, filters)).await
    }

    /// ACCEPT_INVERSE_OFFERS.
    pub async fn accept_inverse_offers(
        &self,
        inverse_offer_ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.call(calls::accept_inverse_offers(inverse_offer_ids, filters))
            .await
    }

    /// DECLINE_INVERSE_OFFERS.
    pub async fn decline_inverse_offers(
        &self,
        inverse_offer_ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.call(calls::decline_inverse_offers(inverse_offer_ids, filters))
            .await
    }

    /// KILL a task, optionally with a kill policy overriding the task's.
    pub async fn kill(
        &self,
        task_id: TaskId,
        agent_id: Option<AgentId>,
        kill_policy: Option<KillPolicy>,
    ) -> Result<(), Error> {
        self.call(calls::kill(task_id, agent_id, kill_policy)).await
    }

    /// SHUTDOWN an executor.
    pub async fn shutdown_executor(
        &self,
        executor_id: ExecutorId,
        agent_id: AgentId,
    ) -> Result<(), Error> {
        self.call(calls::shutdown(executor_id, agent_id)).await
    }

    /// REVIVE offers for `roles` (empty: all).
    pub async fn revive(&self, roles: Vec<String>) -> Result<(), Error> {
        self.call(calls::revive(roles)).await
    }

    /// SUPPRESS offers for `roles` (empty: all).
    pub async fn suppress(&self, roles: Vec<String>) -> Result<(), Error> {
        self.call(calls::suppress(roles)).await
    }

    /// ACKNOWLEDGE a status update. Statuses without a `uuid` (generated by
    /// the master, e.g. for reconciliation) need no acknowledgement: `Ok`
    /// without sending anything.
    ///
    /// An acknowledgement that cannot be delivered now (not subscribed, the
    /// connection broke, the master is failing over: see
    /// [`Error::is_transient`]) is not an error: it is kept and sent again
    /// right after the next SUBSCRIBED, as long as no newer update of the
    /// task arrived meanwhile (at most
    /// [`MAX_PENDING_ACKNOWLEDGEMENTS`](crate::MAX_PENDING_ACKNOWLEDGEMENTS)
    /// are kept; past that, the error is returned). Other refusals (e.g.
    /// `400` for an unknown update) are returned.
    pub async fn acknowledge(&self, status: &TaskStatus) -> Result<(), Error> {
        let (Some(uuid), Some(agent_id)) = (status.uuid.clone(), status.agent_id.clone()) else {
            return Ok(());
        };
        self.send_ack(status.task_id.clone(), PendingAck { agent_id, uuid })
            .await
    }

    async fn send_ack(&self, task_id: TaskId, ack: PendingAck) -> Result<(), Error> {
        let call = calls::acknowledge(ack.agent_id.clone(), task_id.clone(), ack.uuid.clone());
        match self.call_with_response(Box::new(call)).await.map(|_| ()) {
            Err(e) if e.is_transient() => {
                if !self.shared.pending_acks.keep(task_id.clone(), ack) {
                    return Err(e);
                }
                tracing::debug!(task_id = %task_id.value, error = %mesos_http::error_chain(&e), "acknowledgement kept for the next subscription");
                Ok(())
            }
            other => other,
        }
    }

    /// Sends the kept acknowledgements again (right after SUBSCRIBED). Those
    /// failing transiently again stay kept; others are dropped with a log.
    pub(crate) async fn resend_pending_acks(&self) {
        let pending = self.shared.pending_acks.take_all();
        if pending.is_empty() {
            return;
        }
        tracing::info!(
            count = pending.len(),
            "resending acknowledgements not delivered before"
        );
        for (task_id, ack) in pending {
            let call = calls::acknowledge(ack.agent_id.clone(), task_id.clone(), ack.uuid.clone());
            match self.call(call).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => self.shared.pending_acks.put_back(task_id, ack),
                Err(e) => {
                    tracing::warn!(task_id = %task_id.value, error = %mesos_http::error_chain(&e), "a resent acknowledgement was refused");
                }
            }
        }
    }

    /// ACKNOWLEDGE_OPERATION_STATUS for an operation update carrying a uuid.
    pub async fn acknowledge_operation_status(
        &self,
        status: &mesos_proto::v1::OperationStatus,
    ) -> Result<(), Error> {
        let (Some(uuid), Some(operation_id)) = (status.uuid.clone(), status.operation_id.clone())
        else {
            return Ok(());
        };
        self.call(calls::acknowledge_operation_status(
            status.agent_id.clone(),
            status.resource_provider_id.clone(),
            uuid.value,
            operation_id,
        ))
        .await
    }

    /// RECONCILE: explicit for `tasks`, implicit when empty.
    pub async fn reconcile(&self, tasks: Vec<(TaskId, Option<AgentId>)>) -> Result<(), Error> {
        self.call(calls::reconcile(tasks)).await
    }

    /// RECONCILE_OPERATIONS; returns the master's response.
    pub async fn reconcile_operations(
        &self,
        operations: Vec<mesos_proto::v1::scheduler::call::reconcile_operations::Operation>,
    ) -> Result<mesos_proto::v1::scheduler::Response, Error> {
        let call = calls::reconcile_operations(operations);
        let response = self.call_with_response(Box::new(call)).await?;
        let media = self.shared.http.media_type();
        response.decode(media).map_err(|e| Error::Call {
            call: "RECONCILE_OPERATIONS",
            source: mesos_http::Error::Decode {
                endpoint: String::new(),
                source: e,
            },
        })
    }

    /// MESSAGE to an executor.
    pub async fn message(
        &self,
        agent_id: AgentId,
        executor_id: ExecutorId,
        data: Bytes,
    ) -> Result<(), Error> {
        self.call(calls::message(agent_id, executor_id, data)).await
    }

    /// REQUEST resources.
    pub async fn request(&self, requests: Vec<Request>) -> Result<(), Error> {
        self.call(calls::request(requests)).await
    }

    /// UPDATE_FRAMEWORK.
    pub async fn update_framework(&self, framework: FrameworkInfo) -> Result<(), Error> {
        self.call(calls::update_framework(framework)).await
    }

    /// TEARDOWN: ends the framework (all tasks killed). Once the master has
    /// accepted it, the subscription ends (no reconnection) and every later
    /// call fails with [`Error::NotSubscribed`].
    pub async fn teardown(&self) -> Result<(), Error> {
        self.call(calls::teardown()).await?;
        self.shared.torn_down.store(true, Ordering::Release);
        self.shared.set_session(None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_debug_hides_user_info() {
        let session = Session {
            url: mesos_http::parse_url("http://fw:hunter2@m1:5050/api/v1/scheduler").unwrap(),
            stream_id: "s".into(),
            framework_id: FrameworkId { value: "f".into() },
        };
        let text = format!("{session:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains(r#"url: "http://m1:5050/api/v1/scheduler""#),
            "{text}"
        );
    }
}
