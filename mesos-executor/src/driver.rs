//! `ExecutorDriver`: runs an [`Executor`] against the agent's v1 executor API.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use mesos_http::{Backoff, CallbackEnd, Client, EventStream};
use mesos_proto::v1::executor::{call, event, Event};
use mesos_proto::v1::task_status::Source;
use mesos_proto::v1::{AgentId, Status, TaskId, TaskState, TaskStatus};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::connection::{self, AttemptError};
use crate::updates::Unacknowledged;
use crate::{Error, Executor, ExecutorConfig};
use mesos_http::error_chain as chain;

/// Drives an [`Executor`]: subscribes to the agent, turns events into
/// callbacks, sends status updates and framework messages, and keeps every
/// update until the agent acknowledges it.
///
/// Cheap to clone (an `Arc`), `Send + Sync`; every clone controls the same
/// driver. Needs a tokio runtime (`start`/`run` spawn one task on it).
///
/// # Lifecycle
/// [`Status::DriverNotStarted`] → [`start`](Self::start) →
/// [`Status::DriverRunning`] → one of:
/// - [`Status::DriverStopped`]: [`stop`](Self::stop) was called, the agent
///   sent SHUTDOWN (after [`Executor::shutdown`] returned or the grace period
///   ended), the connection was lost without checkpointing, or the agent
///   could not be reached again within the recovery timeout (the last two
///   call [`Executor::shutdown`] first; the recovery timeout is also kept
///   as [`failure`](Self::failure));
/// - [`Status::DriverAborted`]: [`abort`](Self::abort) was called, or a fatal
///   error (wrong endpoint, credentials refused, the agent never answered
///   within the recovery timeout): see [`failure`](Self::failure).
#[derive(Clone)]
pub struct ExecutorDriver {
    inner: Arc<Inner>,
}

struct Inner {
    config: ExecutorConfig,
    client: Client,
    shared: Mutex<Shared>,
    cancel: CancellationToken,
    status: watch::Sender<Status>,
    executor: Mutex<Option<Box<dyn Executor>>>,
    /// Wakes the session when the agent said the subscription is stale.
    resubscribe: Notify,
    /// The driver's event loop task: calls from it (from a callback) never
    /// wait for the loop to finish.
    loop_task: OnceLock<tokio::task::Id>,
}

#[derive(Default)]
struct Shared {
    subscribed: bool,
    agent_id: Option<AgentId>,
    book: Unacknowledged,
    /// What `stop`/`abort` asked for.
    requested: Option<Status>,
    failure: Option<Arc<Error>>,
    /// Counts subscriptions; an update refused on subscription `n` makes
    /// only subscription `n` stale.
    generation: u64,
    /// An update of the current subscription was not delivered (e.g. `403`
    /// after an agent restart, `503`, a broken connection): subscribe again.
    stale: bool,
}

impl fmt::Debug for ExecutorDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorDriver")
            .field("config", &self.inner.config)
            .field("status", &*self.inner.status.borrow())
            .finish_non_exhaustive()
    }
}

/// How a subscription ended.
enum End {
    /// `stop`/`abort`.
    Cancelled,
    /// SHUTDOWN handled.
    Shutdown,
    /// The stream broke or ended.
    Lost(String),
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
fn new_uuid() -> Bytes {
    let mut bytes = [0u8; 16];
    bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Bytes::copy_from_slice(&bytes)
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl ExecutorDriver {
    /// A driver for `executor`; nothing happens until [`start`](Self::start).
    pub fn new(executor: impl Executor, config: ExecutorConfig) -> Result<ExecutorDriver, Error> {
        let mut client = Client::builder()
            .media_type(config.media_type())
            .request_timeout(config.request_timeout());
        if let Some(credentials) = config.credentials() {
            client = client.credentials(credentials.clone());
        }
        let client = client.build().map_err(Error::Client)?;
        let agent_id = config.agent_id().cloned();
        Ok(ExecutorDriver {
            inner: Arc::new(Inner {
                config,
                client,
                shared: Mutex::new(Shared {
                    agent_id,
                    ..Default::default()
                }),
                cancel: CancellationToken::new(),
                status: watch::Sender::new(Status::DriverNotStarted),
                executor: Mutex::new(Some(Box::new(executor))),
                resubscribe: Notify::new(),
                loop_task: OnceLock::new(),
            }),
        })
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        // A poisoned lock only means a panic elsewhere while holding it; the
        // bookkeeping itself is always consistent between statements.
        self.inner
            .shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The configuration.
    pub fn config(&self) -> &ExecutorConfig {
        &self.inner.config
    }

    /// The current status.
    pub fn status(&self) -> Status {
        *self.inner.status.borrow()
    }

    /// Why the driver aborted (or gave up on the agent), if it did.
    pub fn failure(&self) -> Option<Arc<Error>> {
        self.shared().failure.clone()
    }

    /// Starts the driver on the current tokio runtime: subscribes to the
    /// agent and delivers events to the executor. Returns
    /// [`Status::DriverRunning`]; a second call returns the current status
    /// and does nothing. Outside a runtime the driver aborts with
    /// [`Error::NoRuntime`].
    pub fn start(&self) -> Status {
        let executor = self
            .inner
            .executor
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        let Some(executor) = executor else {
            return self.status();
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.shared().failure = Some(Arc::new(Error::NoRuntime));
            self.inner.status.send_replace(Status::DriverAborted);
            return Status::DriverAborted;
        };
        self.inner.status.send_replace(Status::DriverRunning);
        let driver = self.clone();
        let event_loop = runtime.spawn(async move { driver.run_loop(executor).await });
        // The supervisor: whatever ends the event loop (even a panic in the
        // driver itself), the status leaves DRIVER_RUNNING and `join` returns.
        let driver = self.clone();
        runtime.spawn(async move {
            let status = match event_loop.await {
                Ok(status) => status,
                Err(e) => {
                    let message = if e.is_panic() {
                        mesos_http::panic_message(e.into_panic().as_ref())
                    } else {
                        "the event loop was cancelled (runtime shutting down)".to_string()
                    };
                    driver.fail(Error::Panicked {
                        during: "event loop",
                        message,
                    });
                    Status::DriverAborted
                }
            };
            tracing::info!(status = status.as_str_name(), "executor driver finished");
            driver.inner.status.send_replace(status);
        });
        Status::DriverRunning
    }

    fn request(&self, status: Status) -> Status {
        match self.status() {
            Status::DriverRunning => {
                self.shared().requested.get_or_insert(status);
                self.inner.cancel.cancel();
                status
            }
            other => other,
        }
    }

    /// Stops the driver: the subscription is closed and the driver ends
    /// with [`Status::DriverStopped`] ([`Executor::shutdown`] is not called;
    /// a callback in progress is dropped at its next `.await`). Returns once
    /// the driver has finished (every callback and every task of the driver
    /// ended), with its final status; called from a callback, it returns at
    /// once with the status the driver is heading for. When the driver is
    /// not running, returns the current status.
    pub async fn stop(&self) -> Status {
        self.end_with(Status::DriverStopped).await
    }

    /// Like [`stop`](Self::stop), but the driver ends with
    /// [`Status::DriverAborted`].
    pub async fn abort(&self) -> Status {
        self.end_with(Status::DriverAborted).await
    }

    async fn end_with(&self, status: Status) -> Status {
        let heading = self.request(status);
        if self.in_event_loop() {
            return heading;
        }
        self.join().await
    }

    fn in_event_loop(&self) -> bool {
        tokio::task::try_id().is_some_and(|id| self.inner.loop_task.get() == Some(&id))
    }

    /// Waits until the driver has finished (every callback and every task of
    /// the driver ended) and returns its final status (immediately
    /// [`Status::DriverNotStarted`] when it was never started). From an
    /// [`Executor`] callback it cannot wait for itself: it returns the
    /// current status at once.
    pub async fn join(&self) -> Status {
        if self.in_event_loop() {
            return self.status();
        }
        let mut status = self.inner.status.subscribe();
        let result = status
            .wait_for(|s| *s != Status::DriverRunning)
            .await
            .map(|s| *s);
        result.unwrap_or(Status::DriverAborted)
    }

    /// [`start`](Self::start), then [`join`](Self::join).
    pub async fn run(&self) -> Status {
        self.start();
        self.join().await
    }

    /// Sends a status update to the agent.
    ///
    /// The driver sets a fresh random `uuid`, `source` =
    /// `SOURCE_EXECUTOR`, `timestamp` = now, and `executor_id`/`agent_id`
    /// when missing, then keeps the update until the agent acknowledges it
    /// (see [`Executor::acknowledged`]).
    ///
    /// While disconnected the update is **not** an error: it is queued and
    /// sent in the next SUBSCRIBE. When the POST fails for any reason but a
    /// `400` (a broken connection, `503`, `403` from an agent that restarted
    /// and does not know this subscription), the update is kept and the
    /// driver subscribes again at once, so the SUBSCRIBE carries it.
    /// Errors: the driver is not running, the update is invalid
    /// (`TASK_STAGING`, no task id), or the agent refused it as malformed
    /// (`400`: then it is not kept, as resending could only fail again).
    pub async fn send_status_update(&self, mut status: TaskStatus) -> Result<(), Error> {
        let current = self.status();
        if current != Status::DriverRunning {
            return Err(Error::NotRunning { status: current });
        }
        let task_id = status.task_id.value.clone();
        if task_id.is_empty() {
            return Err(Error::InvalidUpdate {
                task_id,
                reason: "no task id",
            });
        }
        if status.state() == TaskState::TaskStaging {
            return Err(Error::InvalidUpdate {
                task_id,
                reason: "executors may not send TASK_STAGING",
            });
        }
        let uuid = new_uuid();
        status.uuid = Some(uuid.clone());
        status.source = Some(Source::Executor as i32);
        status.timestamp = Some(now_seconds());
        if status.executor_id.is_none() {
            status.executor_id = Some(self.inner.config.executor_id().clone());
        }
        let (subscribed, generation) = {
            let mut shared = self.shared();
            if status.agent_id.is_none() {
                // From the SUBSCRIBED agent_info (or MESOS_SLAVE_ID before it).
                status.agent_id = shared.agent_id.clone();
            }
            shared.book.sent(call::Update {
                status: status.clone(),
            });
            // Once an update of this subscription went undelivered, later
            // ones wait for the SUBSCRIBE too: the agent must get a task's
            // updates in the order they were sent.
            (shared.subscribed && !shared.stale, shared.generation)
        };
        let state = status.state().as_str_name();
        if !subscribed {
            tracing::info!(
                task_id,
                state,
                "not subscribed: update queued for the next SUBSCRIBE"
            );
            return Ok(());
        }
        let mut call = connection::call(&self.inner.config, call::Type::Update);
        call.update = Some(call::Update { status });
        tracing::debug!(task_id, state, "sending status update");
        match self
            .inner
            .client
            .call(self.inner.config.agent_url(), &call, None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(http::StatusCode::BAD_REQUEST) => {
                // Malformed: resending it would only be refused again.
                let id = TaskId {
                    value: task_id.clone(),
                };
                self.shared().book.refused(&id, &uuid);
                Err(Error::Update { task_id, source: e })
            }
            Err(e) => {
                // Not delivered: a broken connection, an agent recovering
                // (`503`), or one that does not know this subscription
                // (`403 Executor is not subscribed` after a restart). Keep
                // the update and subscribe again at once: the SUBSCRIBE
                // carries it. (Waiting for the stream to break by itself
                // could wait forever while the stream stays healthy.)
                tracing::warn!(task_id, state, error = %chain(&e), "status update not delivered; resubscribing to resend it");
                self.mark_stale(generation);
                Ok(())
            }
        }
    }

    /// Sends `data` to the scheduler (a MESSAGE call). Fails with
    /// [`Error::NotSubscribed`] while disconnected (such messages are not
    /// queued, as in Mesos), or when the agent refuses it.
    pub async fn send_framework_message(&self, data: Bytes) -> Result<(), Error> {
        let current = self.status();
        if current != Status::DriverRunning {
            return Err(Error::NotRunning { status: current });
        }
        if !self.shared().subscribed {
            return Err(Error::NotSubscribed);
        }
        let mut call = connection::call(&self.inner.config, call::Type::Message);
        call.message = Some(call::Message { data });
        self.inner
            .client
            .call(self.inner.config.agent_url(), &call, None)
            .await
            .map(|_| ())
            .map_err(Error::Message)
    }

    /// An update sent on subscription `generation` was not delivered: if
    /// that is still the current subscription, end it and subscribe again
    /// (the SUBSCRIBE carries every unacknowledged update).
    fn mark_stale(&self, generation: u64) {
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
            tracing::debug!("previous HEARTBEAT still in flight; skipping one");
            return;
        }
        let driver = self.clone();
        tasks.spawn(async move {
            let call = connection::call(&driver.inner.config, call::Type::Heartbeat);
            if let Err(e) = driver
                .inner
                .client
                .call(driver.inner.config.agent_url(), &call, None)
                .await
            {
                tracing::debug!(error = %chain(&e), "HEARTBEAT call failed");
            }
        });
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

    fn fail(&self, error: Error) {
        tracing::error!(error = %chain(&error), "executor driver failed");
        self.shared().failure.get_or_insert_with(|| Arc::new(error));
    }

    fn requested(&self) -> Option<Status> {
        self.shared().requested
    }

    async fn run_loop(&self, mut executor: Box<dyn Executor>) -> Status {
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
                url = %mesos_http::RedactedUrl(config.agent_url()),
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
                self.session(executor, subscribed.events).await
            } else {
                End::Cancelled
            };
            self.shared().subscribed = false;
            match end {
                End::Cancelled => return Status::DriverStopped,
                End::Shutdown => return Status::DriverStopped,
                End::Lost(reason) => {
                    tracing::warn!(
                        reason,
                        checkpoint = config.checkpoint(),
                        "disconnected from the agent"
                    );
                    backoff.session_ended(since.elapsed());
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
                    let delay = backoff.next_delay();
                    tokio::select! {
                        _ = self.inner.cancel.cancelled() => return Status::DriverStopped,
                        _ = tokio::time::sleep(delay) => {}
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

    /// Delivers the events of one subscription until it ends.
    async fn session(
        &self,
        executor: &mut Box<dyn Executor>,
        mut events: EventStream<Event>,
    ) -> End {
        let interval = self
            .inner
            .config
            .heartbeat_interval()
            .max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(deadline_after(interval), interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heartbeats = JoinSet::new();
        let end = self
            .deliver_events(executor, &mut events, &mut heartbeat, &mut heartbeats)
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
    ) -> End {
        loop {
            let next = tokio::select! {
                biased;
                _ = self.inner.cancel.cancelled() => return End::Cancelled,
                _ = self.inner.resubscribe.notified() => {
                    if self.shared().stale {
                        return End::Lost("a status update was not delivered on this subscription".into());
                    }
                    continue;
                }
                _ = heartbeat.tick() => {
                    self.heartbeat(heartbeats);
                    continue;
                }
                next = events.next() => next,
            };
            let completed = match next {
                None => return End::Lost("the agent closed the event stream".into()),
                Some(Err(e @ mesos_http::Error::Decode { .. })) => {
                    let message = format!("undecodable event: {}", chain(&e));
                    tracing::warn!(message, "skipping event");
                    self.guarded("error callback", executor.error(self, message))
                        .await
                }
                Some(Err(e)) => return End::Lost(chain(&e)),
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
        tracing::debug!(event = kind.as_str_name(), "event");
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
