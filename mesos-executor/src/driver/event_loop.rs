//! The driver's event loop: subscriptions, the resubscription backoff,
//! event dispatch to the [`Executor`], heartbeats and shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use mesos_http::{Backoff, CallbackEnd, EventStream};
use mesos_proto::v1::executor::{call, event, Event};
use mesos_proto::v1::Status;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::ExecutorDriver;
use crate::connection::{self, AttemptError};
use crate::{telemetry, Error, Executor};
use mesos_http::error_chain as chain;
use tracing::Instrument;

/// How a subscription ended.
enum End {
    /// `stop`/`abort`.
    Cancelled,
    /// SHUTDOWN handled.
    Shutdown,
    /// The stream broke or ended, or the subscription went stale (an
    /// update was not delivered on it).
    Lost {
        reason: String,
        /// When the next SUBSCRIBE may go: set when the backoff delay was
        /// already drawn while the stale subscription still delivered
        /// events; `None`: draw it now.
        resubscribe_at: Option<Instant>,
    },
}

/// A subscription that went stale (an update was not delivered on it) is
/// given up only after the backoff delay, and its stream, still open,
/// delivers events meanwhile: a LAUNCH the agent sends in that time
/// reaches the executor instead of a closed connection (where Mesos's
/// agent would drop it and, at the next SUBSCRIBE, end the task
/// TASK_LOST as unknown to the executor).
struct StaleWait<'a> {
    backoff: &'a mut Backoff,
    /// When the subscription was established.
    since: Instant,
    /// When to resubscribe; `None` while the subscription is not stale.
    resubscribe_at: Option<Instant>,
}

impl StaleWait<'_> {
    /// The subscription went stale: draws the backoff delay.
    fn start(&mut self) {
        self.backoff.session_ended(self.since.elapsed());
        let delay = self.backoff.next_delay();
        tracing::info!(
            ?delay,
            "a status update was not delivered; resubscribing after the delay, \
             still delivering this stream's events meanwhile"
        );
        self.resubscribe_at = Some(Instant::now() + delay);
    }
}

/// Resolves at `at`, or never when `at` is `None`.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The first resubscription delay and the floor of every later one
/// (smaller when the cap is smaller).
const SUBSCRIPTION_BACKOFF_INITIAL: Duration = Duration::from_millis(100);

/// How long a subscription must have lasted for its loss to start the
/// backoff over.
const SUBSCRIPTION_STABLE_AFTER: Duration = Duration::from_secs(10);

/// Delays between (re)subscription attempts, as [`Backoff`] describes:
/// attempt `n` waits a random duration in `[max(100ms, cap_n / 2), cap_n]`
/// where `cap_n = min(max, 100ms × 2ⁿ)`. The jitter keeps many executors on
/// one restarted agent from resubscribing in lockstep; `max` is
/// `MESOS_SUBSCRIPTION_BACKOFF_MAX`.
fn subscription_backoff(max: Duration) -> Backoff {
    Backoff::new(SUBSCRIPTION_BACKOFF_INITIAL.min(max), max).stable_after(SUBSCRIPTION_STABLE_AFTER)
}

/// `now + after`, or a deadline decades away when that overflows (a
/// `MESOS_RECOVERY_TIMEOUT` of a billion weeks means "never").
fn deadline_after(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365 * 30)))
        .unwrap_or(now)
}

/// A fresh random (version 4) UUID, as the 16 bytes Mesos expects.
pub(super) fn new_uuid() -> Bytes {
    Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())
}

pub(super) fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl ExecutorDriver {
    /// An update sent on subscription `generation` was not delivered: if
    /// that is still the current subscription, end it and subscribe again
    /// (the SUBSCRIBE carries every unacknowledged update).
    pub(super) fn mark_stale(&self, generation: u64) {
        let mut shared = self.shared();
        if shared.subscribed && shared.generation == generation {
            shared.stale = true;
            drop(shared);
            self.inner.resubscribe.notify_one();
        }
    }

    /// Sends a HEARTBEAT call in `tasks` (owned by the session, so it never
    /// outlives the driver), unless the previous one is still in flight.
    fn heartbeat(&self, tasks: &mut JoinSet<()>) {
        while tasks.try_join_next().is_some() {}
        if !tasks.is_empty() {
            telemetry::heartbeat_missed();
            tracing::debug!("previous HEARTBEAT still in flight; skipping one");
            return;
        }
        let driver = self.clone();
        tasks.spawn(
            async move {
                let call = connection::call(&driver.inner.config, call::Type::Heartbeat);
                if let Err(e) = driver.post(&call).await {
                    tracing::debug!(error = %chain(&e), "HEARTBEAT call failed");
                }
            }
            .in_current_span(),
        );
    }

    /// Runs the callback `during` names unless stop/abort interrupts it. A
    /// panic in it aborts the driver with [`Error::Panicked`]. False when
    /// interrupted (or panicked).
    async fn guarded(&self, during: &'static str, callback: impl Future<Output = ()>) -> bool {
        match mesos_http::run_callback(callback, self.inner.cancel.cancelled()).await {
            CallbackEnd::Returned => !self.inner.cancel.is_cancelled(),
            CallbackEnd::Interrupted => false,
            CallbackEnd::Panicked(message) => {
                tracing::error!(during, %message, "an executor callback panicked; aborting");
                self.fail(Error::Panicked { during, message });
                self.request(Status::DriverAborted);
                false
            }
        }
    }

    /// Calls `Executor::shutdown`, for at most the grace period.
    async fn shutdown_executor(&self, executor: &mut Box<dyn Executor>) {
        let grace = self.inner.config.shutdown_grace_period();
        let finished = tokio::time::timeout(
            grace,
            self.guarded("shutdown callback", executor.shutdown(self)),
        )
        .await;
        if finished.is_err() {
            tracing::warn!(
                ?grace,
                "Executor::shutdown did not return within the grace period"
            );
        }
    }

    pub(super) fn fail(&self, error: Error) {
        tracing::error!(error = %chain(&error), "executor driver failed");
        self.shared().failure.get_or_insert_with(|| Arc::new(error));
    }

    fn requested(&self) -> Option<Status> {
        self.shared().requested
    }

    pub(super) async fn run_loop(&self, mut executor: Box<dyn Executor>) -> Status {
        let _ = self.inner.loop_task.set(tokio::task::id());
        let outcome = self.subscriptions(&mut executor).await;
        self.shared().subscribed = false;
        self.requested().unwrap_or(outcome)
    }

    async fn subscriptions(&self, executor: &mut Box<dyn Executor>) -> Status {
        let config = &self.inner.config;
        let mut backoff = subscription_backoff(config.subscription_backoff_max());
        let mut registered = false;
        let mut deadline = deadline_after(config.recovery_timeout());
        loop {
            let payload = self.shared().book.subscribe();
            tracing::info!(
                unacknowledged_tasks = payload.unacknowledged_tasks.len(),
                unacknowledged_updates = payload.unacknowledged_updates.len(),
                "subscribing to the agent"
            );
            let attempt = tokio::select! {
                _ = self.inner.cancel.cancelled() => return Status::DriverStopped,
                attempt = connection::subscribe(&self.inner.client, config, payload) => attempt,
            };
            let subscribed = match attempt {
                Ok(subscribed) => subscribed,
                Err(AttemptError::Fatal(error)) => {
                    let message = chain(&error);
                    self.fail(error);
                    self.guarded("error callback", executor.error(self, message))
                        .await;
                    return Status::DriverAborted;
                }
                Err(AttemptError::Shutdown) => {
                    tracing::info!("the agent answered SUBSCRIBE with SHUTDOWN");
                    self.shutdown_executor(executor).await;
                    return Status::DriverStopped;
                }
                Err(AttemptError::Retry(error)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return self.give_up(executor, error, registered).await;
                    }
                    let delay = backoff.next_delay().min(deadline - now);
                    tracing::warn!(error = %chain(&error), ?delay, "SUBSCRIBE failed; retrying");
                    tokio::select! {
                        _ = self.inner.cancel.cancelled() => return Status::DriverStopped,
                        _ = tokio::time::sleep(delay) => continue,
                    }
                }
            };
            let info = subscribed.info;
            let since = Instant::now();
            {
                let mut shared = self.shared();
                shared.subscribed = true;
                shared.stale = false;
                shared.generation += 1;
                if let Some(id) = info.agent_info.id.clone() {
                    shared.agent_id = Some(id);
                }
            }
            tracing::info!(agent = %info.agent_info.hostname, reregistered = registered, "subscribed");
            let completed = if registered {
                self.guarded(
                    "reregistered callback",
                    executor.reregistered(self, info.agent_info),
                )
                .await
            } else {
                registered = true;
                self.guarded(
                    "registered callback",
                    executor.registered(
                        self,
                        info.executor_info,
                        info.framework_info,
                        info.agent_info,
                    ),
                )
                .await
            };
            let end = if completed {
                self.session(executor, subscribed.events, &mut backoff, since)
                    .await
            } else {
                End::Cancelled
            };
            self.shared().subscribed = false;
            match end {
                End::Cancelled => return Status::DriverStopped,
                End::Shutdown => return Status::DriverStopped,
                End::Lost {
                    reason,
                    resubscribe_at,
                } => {
                    telemetry::reconnect();
                    tracing::warn!(
                        reason,
                        checkpoint = config.checkpoint(),
                        "disconnected from the agent"
                    );
                    let resubscribe_at = resubscribe_at.unwrap_or_else(|| {
                        backoff.session_ended(since.elapsed());
                        Instant::now() + backoff.next_delay()
                    });
                    if !self
                        .guarded("disconnected callback", executor.disconnected(self))
                        .await
                    {
                        return Status::DriverStopped;
                    }
                    if !config.checkpoint() {
                        self.shutdown_executor(executor).await;
                        return Status::DriverStopped;
                    }
                    deadline = deadline_after(config.recovery_timeout());
                    tokio::select! {
                        _ = self.inner.cancel.cancelled() => return Status::DriverStopped,
                        _ = tokio::time::sleep_until(resubscribe_at) => {}
                    }
                }
            }
        }
    }

    /// The agent stayed unreachable until the deadline.
    async fn give_up(
        &self,
        executor: &mut Box<dyn Executor>,
        last: Error,
        registered: bool,
    ) -> Status {
        let timeout = self.inner.config.recovery_timeout();
        tracing::error!(error = %chain(&last), ?timeout, "giving up on the agent");
        if registered {
            // As Mesos's library: the recovery timeout shuts the executor down.
            self.fail(Error::RecoveryTimeout { timeout });
            self.shutdown_executor(executor).await;
            Status::DriverStopped
        } else {
            let message = chain(&last);
            self.fail(last);
            self.guarded("error callback", executor.error(self, message))
                .await;
            Status::DriverAborted
        }
    }

    /// Delivers the events of one subscription (established at `since`)
    /// until it ends.
    async fn session(
        &self,
        executor: &mut Box<dyn Executor>,
        mut events: EventStream<Event>,
        backoff: &mut Backoff,
        since: Instant,
    ) -> End {
        let interval = self
            .inner
            .config
            .heartbeat_interval()
            .max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(deadline_after(interval), interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heartbeats = JoinSet::new();
        let mut stale = StaleWait {
            backoff,
            since,
            resubscribe_at: None,
        };
        let end = self
            .deliver_events(
                executor,
                &mut events,
                &mut heartbeat,
                &mut heartbeats,
                &mut stale,
            )
            .await;
        heartbeats.shutdown().await;
        end
    }

    async fn deliver_events(
        &self,
        executor: &mut Box<dyn Executor>,
        events: &mut EventStream<Event>,
        heartbeat: &mut tokio::time::Interval,
        heartbeats: &mut JoinSet<()>,
        stale: &mut StaleWait<'_>,
    ) -> End {
        let lost = |reason: String, resubscribe_at| End::Lost {
            reason,
            resubscribe_at,
        };
        loop {
            let next = tokio::select! {
                biased;
                _ = self.inner.cancel.cancelled() => return End::Cancelled,
                _ = self.inner.resubscribe.notified() => {
                    if self.shared().stale && stale.resubscribe_at.is_none() {
                        stale.start();
                    }
                    continue;
                }
                _ = sleep_until_some(stale.resubscribe_at) => {
                    return lost(
                        "a status update was not delivered on this subscription".into(),
                        stale.resubscribe_at,
                    );
                }
                _ = heartbeat.tick() => {
                    self.heartbeat(heartbeats);
                    continue;
                }
                next = events.next() => next,
            };
            let completed = match next {
                None => {
                    return lost(
                        "the agent closed the event stream".into(),
                        stale.resubscribe_at,
                    )
                }
                Some(Err(e @ mesos_http::Error::Decode { .. })) => {
                    let message = format!("undecodable event: {}", chain(&e));
                    tracing::warn!(message, "skipping event");
                    self.guarded("error callback", executor.error(self, message))
                        .await
                }
                Some(Err(e)) => return lost(chain(&e), stale.resubscribe_at),
                Some(Ok(event)) => match self.dispatch(executor, event).await {
                    Some(end) => return end,
                    None => !self.inner.cancel.is_cancelled(),
                },
            };
            if !completed {
                return End::Cancelled;
            }
        }
    }

    /// One event → bookkeeping and one callback. `Some` ends the session.
    async fn dispatch(&self, executor: &mut Box<dyn Executor>, event: Event) -> Option<End> {
        let kind =
            event::Type::try_from(event.r#type.unwrap_or_default()).unwrap_or(event::Type::Unknown);
        telemetry::event_received(kind.as_str_name());
        self.deliver(executor, kind, event)
            .instrument(telemetry::event_span(kind.as_str_name()))
            .await
    }

    async fn deliver(
        &self,
        executor: &mut Box<dyn Executor>,
        kind: event::Type,
        event: Event,
    ) -> Option<End> {
        tracing::debug!("event");
        let completed = match kind {
            event::Type::Launch => match event.launch {
                Some(launch) => {
                    self.shared().book.launched(launch.task.clone());
                    self.guarded(
                        "launch_task callback",
                        executor.launch_task(self, launch.task),
                    )
                    .await
                }
                None => true,
            },
            event::Type::LaunchGroup => match event.launch_group {
                Some(group) => {
                    {
                        let mut shared = self.shared();
                        for task in &group.task_group.tasks {
                            shared.book.launched(task.clone());
                        }
                    }
                    self.guarded(
                        "launch_group callback",
                        executor.launch_group(self, group.task_group),
                    )
                    .await
                }
                None => true,
            },
            event::Type::Kill => match event.kill {
                Some(kill) => {
                    self.guarded(
                        "kill_task callback",
                        executor.kill_task(self, kill.task_id, kill.kill_policy),
                    )
                    .await
                }
                None => true,
            },
            event::Type::Acknowledged => match event.acknowledged {
                Some(ack) => {
                    let known = self.shared().book.acknowledged(&ack.task_id, &ack.uuid);
                    if !known {
                        tracing::debug!(
                            task_id = ack.task_id.value,
                            "acknowledgement of an unknown update"
                        );
                    }
                    self.guarded(
                        "acknowledged callback",
                        executor.acknowledged(self, ack.task_id, ack.uuid),
                    )
                    .await
                }
                None => true,
            },
            event::Type::Message => match event.message {
                Some(message) => {
                    self.guarded(
                        "framework_message callback",
                        executor.framework_message(self, message.data),
                    )
                    .await
                }
                None => true,
            },
            event::Type::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                self.guarded("error callback", executor.error(self, message))
                    .await
            }
            event::Type::Shutdown => {
                tracing::info!("SHUTDOWN from the agent");
                self.shutdown_executor(executor).await;
                return Some(End::Shutdown);
            }
            event::Type::Subscribed | event::Type::Heartbeat => true,
            event::Type::Unknown => {
                tracing::warn!(r#type = ?event.r#type, "ignoring an event of unknown type");
                true
            }
        };
        if completed {
            None
        } else {
            Some(End::Cancelled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_delays_grow_and_stay_within_the_cap() {
        let max = Duration::from_secs(2);
        let mut backoff = subscription_backoff(max);
        let mut bound = SUBSCRIPTION_BACKOFF_INITIAL;
        for _ in 0..64 {
            let delay = backoff.next_delay();
            assert!(
                delay <= bound && delay >= bound / 2,
                "{delay:?} vs {bound:?}"
            );
            bound = (bound * 2).min(max);
        }
        backoff.reset();
        assert!(backoff.next_delay() <= SUBSCRIPTION_BACKOFF_INITIAL);
    }

    #[test]
    fn subscription_backoff_with_zero_and_tiny_caps() {
        let mut zero = subscription_backoff(Duration::ZERO);
        assert_eq!(zero.next_delay(), Duration::ZERO);
        let mut tiny = subscription_backoff(Duration::from_millis(10));
        for _ in 0..10 {
            assert!(tiny.next_delay() <= Duration::from_millis(10));
        }
    }
}
