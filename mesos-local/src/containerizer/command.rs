//! The built-in command executor: runs a command task's command as a
//! container and reports the task's states as Mesos's `mesos-executor`
//! (`src/launcher/executor.cpp`) would, in process instead of as a separate
//! executor binary.
//!
//! `TASK_STARTING`, then `TASK_RUNNING` ("Command started (pid N)"), then
//! `TASK_FINISHED` on exit 0, `TASK_FAILED` otherwise, `TASK_KILLED` after a
//! kill (SIGTERM to the process group, the kill policy's grace period,
//! SIGKILL); messages "Command exited with status N" / "Command terminated
//! with signal Terminated". `TASK_KILLING` precedes a kill when the
//! framework has the `TASK_KILLING_STATE` capability.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use mesos_proto::v1::{task_status, ExecutorId, TaskId, TaskState, TaskStatus};
use tokio::sync::Notify;

use super::{Container, ContainerExit, Containerizer, LaunchRequest};

/// The command executor's default kill grace period.
pub(crate) const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);

/// The agent's kill of a command task, shared by the agent and the task's
/// runner. Only the first kill counts (the command executor ignores a kill
/// while one is under way); one small allocation per task, where a channel
/// cost a block of slots.
#[derive(Debug, Clone, Default)]
pub(crate) struct KillRequest(Arc<KillShared>);

#[derive(Debug, Default)]
struct KillShared {
    /// The first kill's grace period override (`None` inside: the task's
    /// kill policy, else the default).
    grace: OnceLock<Option<Duration>>,
    woken: Notify,
}

impl KillRequest {
    /// Asks the task to die; `grace` overrides its kill policy. A kill
    /// after the first is ignored.
    pub(crate) fn kill(&self, grace: Option<Duration>) {
        if self.0.grace.set(grace).is_ok() {
            // Kept as a permit when the runner is not waiting yet.
            self.0.woken.notify_one();
        }
    }

    /// Waits for the first kill; returns its grace period override.
    pub(crate) async fn requested(&self) -> Option<Duration> {
        loop {
            if let Some(grace) = self.0.grace.get() {
                return *grace;
            }
            self.0.woken.notified().await;
        }
    }
}

/// What a command task reports to the agent, in this order: `Launched` (or
/// `LaunchFailed`, the end), status updates, `Exited`.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived
pub(crate) enum CommandEvent {
    /// The container runs.
    Launched(Arc<dyn Container>),
    /// The container could not be launched (nothing else follows).
    LaunchFailed(String),
    /// A status update from the "executor" (uuid and timestamp set).
    Update(Box<CommandUpdate>),
    /// The container ended (after the terminal update).
    Exited(ContainerExit),
}

/// One command task to run.
pub(crate) struct CommandTask {
    pub(crate) containerizer: Arc<dyn Containerizer>,
    /// Boxed: the runner's future keeps room for what it holds for as long
    /// as the task runs, and the request is gone once launched.
    pub(crate) request: Box<LaunchRequest>,
    pub(crate) task_id: TaskId,
    /// The task's kill policy grace period, if any.
    pub(crate) kill_grace: Option<Duration>,
    /// The framework has `TASK_KILLING_STATE`.
    pub(crate) task_killing: bool,
}

/// A status update's uuid (see [`fast_uuid`]).
pub(crate) fn new_uuid() -> Bytes {
    Bytes::copy_from_slice(fast_uuid().as_bytes())
}

/// A random (version 4) uuid from the thread's fast generator, for ids that
/// only have to differ (status update uuids, container ids): the OS
/// generator cost a system call each. Never for a secret.
pub(crate) fn fast_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid()
}

pub(crate) fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// A status update of the command executor, as its runner reports it: the
/// agent makes the `TaskStatus` of it ([`CommandUpdate::into_status`]) when
/// it takes it, so that an update waiting in the agent's queue is a quarter
/// of one (no copies of the task id, no room for fields it never sets).
#[derive(Debug)]
pub(crate) struct CommandUpdate {
    state: TaskState,
    message: Option<String>,
    /// The container's end, for the terminal update.
    exit: Option<ContainerExit>,
    /// When the executor sent it.
    timestamp: f64,
    uuid: Bytes,
}

impl CommandUpdate {
    fn new(state: TaskState, message: Option<String>, exit: Option<ContainerExit>) -> Self {
        CommandUpdate {
            state,
            message,
            exit,
            timestamp: now_seconds(),
            uuid: new_uuid(),
        }
    }

    /// The update the command executor of `task_id` sends (its executor
    /// id is the task's), annotated by the task's `container` when the
    /// agent still holds it.
    pub(crate) fn into_status(
        self,
        task_id: &str,
        container: Option<&dyn Container>,
    ) -> TaskStatus {
        let mut status = TaskStatus {
            task_id: TaskId {
                value: task_id.to_string(),
            },
            state: self.state as i32,
            message: self.message,
            source: Some(task_status::Source::Executor as i32),
            executor_id: Some(ExecutorId {
                value: task_id.to_string(),
            }),
            timestamp: Some(self.timestamp),
            uuid: Some(self.uuid),
            ..Default::default()
        };
        if let Some(container) = container {
            container.annotate_status(&mut status, self.exit.as_ref());
        }
        status
    }
}

impl CommandTask {
    /// Runs the task to its end; `emit` gets every event.
    pub(crate) async fn run(self, kill: KillRequest, emit: impl Fn(CommandEvent) + Send) {
        let CommandTask {
            containerizer,
            request,
            task_id: task,
            kill_grace,
            task_killing,
        } = self;
        let task_id = task.value.clone();
        // The request is the containerizer's from here on.
        let container: Arc<dyn Container> = match containerizer.launch(*request).await {
            Ok(container) => Arc::from(container),
            Err(e) => {
                tracing::warn!(task_id, error = %e, "command task launch failed");
                emit(CommandEvent::LaunchFailed(e.to_string()));
                return;
            }
        };
        emit(CommandEvent::Launched(container.clone()));
        let update = |state: TaskState, message: Option<String>, exit: Option<&ContainerExit>| {
            CommandEvent::Update(Box::new(CommandUpdate::new(state, message, exit.copied())))
        };
        emit(update(TaskState::TaskStarting, None, None));
        let started = container
            .pid()
            .map(|pid| format!("Command started (pid {pid})"));
        emit(update(TaskState::TaskRunning, started, None));

        let mut killed = false;
        let exit = loop {
            tokio::select! {
                exit = container.wait() => break exit,
                grace = kill.requested(), if !killed => {
                    killed = true;
                    if task_killing {
                        emit(update(TaskState::TaskKilling, None, None));
                    }
                    let grace = grace.or(kill_grace).unwrap_or(DEFAULT_KILL_GRACE);
                    tracing::info!(task_id, ?grace, "killing the command task");
                    let container = container.clone();
                    tokio::spawn(async move {
                        container.kill(grace).await;
                    });
                }
            }
        };
        let state = if killed {
            TaskState::TaskKilled
        } else if exit.success() {
            TaskState::TaskFinished
        } else {
            TaskState::TaskFailed
        };
        tracing::info!(task_id, %exit, state = state.as_str_name(), "command task ended");
        emit(update(state, Some(format!("Command {exit}")), Some(&exit)));
        emit(CommandEvent::Exited(exit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_uuids_are_random_version_4_uuids() {
        let a = fast_uuid();
        let b = fast_uuid();
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.get_version(), Some(uuid::Version::Random));
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
        assert_eq!(new_uuid().len(), 16);
    }

    #[tokio::test]
    async fn a_kill_before_the_runner_waits_is_seen_and_only_the_first_counts() {
        let kill = KillRequest::default();
        let agent_side = kill.clone();
        agent_side.kill(Some(Duration::from_secs(7)));
        agent_side.kill(None);
        assert_eq!(kill.requested().await, Some(Duration::from_secs(7)));
        // Asked again (a runner that waited in an earlier stage): the same.
        assert_eq!(kill.requested().await, Some(Duration::from_secs(7)));
    }

    #[tokio::test]
    async fn a_waiting_runner_wakes_on_a_kill() {
        let kill = KillRequest::default();
        let agent_side = kill.clone();
        let runner = tokio::spawn(async move { kill.requested().await });
        tokio::task::yield_now().await;
        agent_side.kill(None);
        let grace = tokio::time::timeout(Duration::from_secs(10), runner)
            .await
            .expect("woken")
            .expect("runner");
        assert_eq!(grace, None);
    }
}
