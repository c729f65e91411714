//! Runs a call-emitting state machine in a tokio task: sends what it has
//! due through a `SchedulerClient`, sleeps until its next deadline or until
//! the application changes it, and tells it which calls failed.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use mesos_scheduler::proto::v1::scheduler::Call;
use mesos_scheduler::{calls, SchedulerClient};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// Why a handle could not start its task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `start` was called outside a tokio runtime.
    #[error("the handle's task needs a tokio runtime (start it from within one)")]
    NoRuntime,
}

/// A state machine that emits calls (the reconciler, the offer manager).
pub(crate) trait Machine: Send + 'static {
    /// The calls due at `now`.
    fn poll_due(&mut self, now: Instant) -> Vec<Call>;
    /// When calls are next due (`None`: only after some input).
    fn next_deadline(&self) -> Option<Instant>;
    /// A call it emitted failed.
    fn call_failed(&mut self, _call: &Call, _now: Instant) {}
}

/// The time now, on tokio's clock (so that paused-time tests see it move).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

struct Shared<M> {
    machine: Mutex<M>,
    wake: Notify,
}

impl<M> Shared<M> {
    fn lock(&self) -> MutexGuard<'_, M> {
        self.machine
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Aborts the task when the last handle goes.
#[derive(Default)]
struct TaskGuard(OnceLock<AbortHandle>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Some(task) = self.0.get() {
            task.abort();
        }
    }
}

/// A state machine shared between the application and its task.
pub(crate) struct Runner<M> {
    shared: Arc<Shared<M>>,
    task: Arc<TaskGuard>,
}

impl<M> Clone for Runner<M> {
    fn clone(&self) -> Self {
        Runner {
            shared: self.shared.clone(),
            task: self.task.clone(),
        }
    }
}

impl<M: fmt::Debug> fmt::Debug for Runner<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("machine", &*self.shared.lock())
            .field("started", &self.task.0.get().is_some())
            .finish()
    }
}

impl<M: Machine> Runner<M> {
    pub(crate) fn new(machine: M) -> Self {
        Runner {
            shared: Arc::new(Shared {
                machine: Mutex::new(machine),
                wake: Notify::new(),
            }),
            task: Arc::new(TaskGuard::default()),
        }
    }

    /// Starts the task sending through `client` (once: later calls do
    /// nothing).
    pub(crate) fn start(&self, client: SchedulerClient) -> Result<(), StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        self.task.0.get_or_init(|| {
            runtime
                .spawn(run(self.shared.clone(), client))
                .abort_handle()
        });
        Ok(())
    }

    /// Runs `f` on the machine with the time now, then wakes the task (the
    /// machine may have work due).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut M, Instant) -> R) -> R {
        let result = f(&mut self.shared.lock(), now());
        self.shared.wake.notify_one();
        result
    }

    /// Reads the machine.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&M) -> R) -> R {
        f(&self.shared.lock())
    }
}

async fn run<M: Machine>(shared: Arc<Shared<M>>, client: SchedulerClient) {
    loop {
        let due = shared.lock().poll_due(now());
        for call in due {
            let kind = calls::type_name(&call);
            if let Err(e) = client.call(call.clone()).await {
                let error = mesos_scheduler::error_chain(&e);
                if e.is_transient() {
                    tracing::debug!(call = kind, %error, "call failed (not subscribed, or the connection broke)");
                } else {
                    tracing::warn!(call = kind, %error, "call refused");
                }
                shared.lock().call_failed(&call, now());
            }
        }
        let deadline = shared.lock().next_deadline();
        let woken = shared.wake.notified();
        match deadline {
            Some(at) => {
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep_until(tokio::time::Instant::from_std(at)) => {}
                }
            }
            None => woken.await,
        }
    }
}
