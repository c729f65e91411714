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

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mesos_proto::v1::{task_status, ExecutorId, TaskId, TaskState, TaskStatus};
use tokio::sync::mpsc;

use super::{Container, ContainerExit, Containerizer, LaunchRequest};

/// The command executor's default kill grace period.
pub(crate) const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);

/// What the agent tells a running command task.
#[derive(Debug)]
pub(crate) enum CommandControl {
    /// Kill the task; `grace` overrides the task's kill policy.
    Kill { grace: Option<Duration> },
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
    Update(TaskStatus),
    /// The container ended (after the terminal update).
    Exited(ContainerExit),
}

/// One command task to run.
pub(crate) struct CommandTask {
    pub(crate) containerizer: Arc<dyn Containerizer>,
    pub(crate) request: LaunchRequest,
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

/// A status update of the command executor for `task_id`.
fn command_status(task_id: &TaskId, state: TaskState, message: Option<String>) -> TaskStatus {
    TaskStatus {
        task_id: task_id.clone(),
        state: state as i32,
        message,
        source: Some(task_status::Source::Executor as i32),
        executor_id: Some(ExecutorId {
            value: task_id.value.clone(),
        }),
        timestamp: Some(now_seconds()),
        uuid: Some(new_uuid()),
        ..Default::default()
    }
}

impl CommandTask {
    /// Runs the task to its end; `emit` gets every event.
    pub(crate) async fn run(
        self,
        mut control: mpsc::UnboundedReceiver<CommandControl>,
        emit: impl Fn(CommandEvent) + Send,
    ) {
        let CommandTask {
            containerizer,
            request,
            task_id: task,
            kill_grace,
            task_killing,
        } = self;
        let task_id = task.value.clone();
        // The request is the containerizer's from here on.
        let container: Arc<dyn Container> = match containerizer.launch(request).await {
            Ok(container) => Arc::from(container),
            Err(e) => {
                tracing::warn!(task_id, error = %e, "command task launch failed");
                emit(CommandEvent::LaunchFailed(e.to_string()));
                return;
            }
        };
        emit(CommandEvent::Launched(container.clone()));
        let update = |state: TaskState, message: Option<String>, exit: Option<&ContainerExit>| {
            let mut status = command_status(&task, state, message);
            container.annotate_status(&mut status, exit);
            CommandEvent::Update(status)
        };
        emit(update(TaskState::TaskStarting, None, None));
        let started = container
            .pid()
            .map(|pid| format!("Command started (pid {pid})"));
        emit(update(TaskState::TaskRunning, started, None));

        let mut killed = false;
        let mut control_open = true;
        let exit = loop {
            tokio::select! {
                exit = container.wait() => break exit,
                message = control.recv(), if control_open && !killed => match message {
                    Some(CommandControl::Kill { grace }) => {
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
                    None => control_open = false,
                },
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
}
