//! `ExecutorDriver`: runs an [`Executor`] against the agent's v1 executor API.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use mesos_http::Client;
use mesos_proto::v1::executor::call;
use mesos_proto::v1::task_status::Source;
use mesos_proto::v1::{AgentId, Status, TaskId, TaskState, TaskStatus};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::updates::Unacknowledged;
use crate::{connection, telemetry};
use crate::{Error, Executor, ExecutorConfig};
use tracing::Instrument;

mod event_loop;

use event_loop::{new_uuid, now_seconds};
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
    /// The subscription's span: around the event loop, the parent of every
    /// call's.
    span: tracing::Span,
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

impl ExecutorDriver {
    /// A driver for `executor`; nothing happens until [`start`](Self::start).
    pub fn new(executor: impl Executor, config: ExecutorConfig) -> Result<ExecutorDriver, Error> {
        let mut client = Client::builder()
            .media_type(config.media_type())
            .request_timeout(config.request_timeout());
        if let Some(credentials) = config.credentials() {
            client = client.credentials(credentials.clone());
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = config.tls() {
            client = client.tls(tls.clone());
        }
        let client = client.build().map_err(Error::Client)?;
        let agent_id = config.agent_id().cloned();
        let span = telemetry::subscription_span(
            config.framework_id(),
            config.executor_id(),
            config.agent_url(),
        );
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
                span,
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
        let supervisor = self.clone();
        // Whatever ends the event loop (even a panic in the driver itself),
        // the status leaves DRIVER_RUNNING and `join` returns.
        mesos_http::spawn_supervised(
            &runtime,
            async move { driver.run_loop(executor).await }.instrument(self.inner.span.clone()),
            move |ended| {
                let status = ended.unwrap_or_else(|message| {
                    supervisor.fail(Error::Panicked {
                        during: "event loop",
                        message,
                    });
                    Status::DriverAborted
                });
                let _in = supervisor.inner.span.enter();
                tracing::info!(status = status.as_str_name(), "executor driver finished");
                supervisor.inner.status.send_replace(status);
            },
        );
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
    pub async fn send_status_update(&self, status: TaskStatus) -> Result<(), Error> {
        // Its logs carry the subscription's fields, even from another task.
        self.update(status)
            .instrument(self.inner.span.clone())
            .await
    }

    async fn update(&self, mut status: TaskStatus) -> Result<(), Error> {
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
        match self.post(&call).await {
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
        self.post(&call).await.map(|_| ()).map_err(Error::Message)
    }

    /// POSTs `call` to the agent, in a call span of the subscription's.
    async fn post(
        &self,
        call: &mesos_proto::v1::executor::Call,
    ) -> Result<mesos_http::CallResponse, mesos_http::Error> {
        let timing = telemetry::call(&self.inner.span, call.r#type().as_str_name());
        let answer = self
            .inner
            .client
            .call(self.inner.config.agent_url(), call, None)
            .instrument(timing.span().clone())
            .await;
        timing.finish_with(&answer);
        answer
    }
}
