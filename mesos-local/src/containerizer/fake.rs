//! The fake containerizer: containers without processes, following a script.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mesos_proto::v1::ContainerId;
use rustix::process::Signal;
use tokio::sync::watch;

use super::{
    Container, ContainerExit, Containerizer, ContainerizerError, EmulatedExecutor, LaunchKind,
    LaunchRequest, TaskBehavior,
};

/// A containerizer that starts no process (for scale tests and fast
/// scheduler tests):
///
/// - a command task's container "runs" as [`FakeContainerizer::command_tasks`]
///   says: ends with exit 0 after a delay (`TASK_FINISHED`), with an exit
///   code (`TASK_FAILED`), or only when killed (`TASK_KILLED`); the agent
///   reports `TASK_STARTING`/`TASK_RUNNING` before, as for real commands;
/// - an executor's container is an [`EmulatedExecutor`]: the agent answers
///   each task launched on it with `TASK_RUNNING`, then follows
///   [`FakeContainerizer::executor_tasks`]; the container ends when the
///   executor is shut down (or killed).
///
/// No sandbox directory is created on disk (the path is still reported).
/// Any `SIGTERM`, `SIGKILL`, `SIGINT`, `SIGQUIT` or `SIGHUP` ends a fake
/// container at once, as killed by that signal. Default: every task finishes
/// at once.
#[derive(Debug)]
pub struct FakeContainerizer {
    command_tasks: TaskBehavior,
    executor_tasks: TaskBehavior,
    launch_delay: Duration,
    launches: AtomicUsize,
}

impl Default for FakeContainerizer {
    fn default() -> Self {
        FakeContainerizer::new()
    }
}

impl FakeContainerizer {
    /// Every task (command task or on an executor) finishes at once.
    pub fn new() -> FakeContainerizer {
        let finish = TaskBehavior::Finish {
            after: Duration::ZERO,
        };
        FakeContainerizer {
            command_tasks: finish,
            executor_tasks: finish,
            launch_delay: Duration::ZERO,
            launches: AtomicUsize::new(0),
        }
    }

    /// What command tasks do.
    #[must_use]
    pub fn command_tasks(mut self, behavior: TaskBehavior) -> Self {
        self.command_tasks = behavior;
        self
    }

    /// What tasks launched on (emulated) executors do.
    #[must_use]
    pub fn executor_tasks(mut self, behavior: TaskBehavior) -> Self {
        self.executor_tasks = behavior;
        self
    }

    /// How long each launch takes. Default: none.
    #[must_use]
    pub fn launch_delay(mut self, delay: Duration) -> Self {
        self.launch_delay = delay;
        self
    }

    /// How many containers were launched so far.
    pub fn launches(&self) -> usize {
        self.launches.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl Containerizer for FakeContainerizer {
    /// Nothing runs in a fake container: no sandbox directory is made.
    fn uses_sandbox(&self) -> bool {
        false
    }

    async fn launch(
        &self,
        request: LaunchRequest,
    ) -> Result<Box<dyn Container>, ContainerizerError> {
        if !self.launch_delay.is_zero() {
            tokio::time::sleep(self.launch_delay).await;
        }
        self.launches.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        let exit = Arc::new(tx);
        let emulated = match request.kind {
            LaunchKind::CommandTask => {
                let ending = match self.command_tasks {
                    TaskBehavior::Finish { after } => Some((after, ContainerExit::exited(0))),
                    TaskBehavior::Fail { after, code } => {
                        Some((after, ContainerExit::exited(code)))
                    }
                    TaskBehavior::RunUntilKilled => None,
                };
                match ending {
                    // Ended at once: no task to wait for it.
                    Some((after, status)) if after.is_zero() => end(&exit, status),
                    Some((after, status)) => {
                        let exit = exit.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            end(&exit, status);
                        });
                    }
                    None => {}
                }
                None
            }
            _ => Some(EmulatedExecutor::new(self.executor_tasks)),
        };
        Ok(Box::new(FakeContainer {
            id: request.container_id,
            exit,
            exit_rx: rx,
            emulated,
        }))
    }
}

fn end(exit: &watch::Sender<Option<ContainerExit>>, status: ContainerExit) {
    exit.send_if_modified(|current| {
        if current.is_none() {
            *current = Some(status);
            true
        } else {
            false
        }
    });
}

#[derive(Debug)]
struct FakeContainer {
    id: ContainerId,
    exit: Arc<watch::Sender<Option<ContainerExit>>>,
    exit_rx: watch::Receiver<Option<ContainerExit>>,
    emulated: Option<EmulatedExecutor>,
}

#[async_trait]
impl Container for FakeContainer {
    fn id(&self) -> &ContainerId {
        &self.id
    }

    fn pid(&self) -> Option<u32> {
        None
    }

    async fn wait(&self) -> ContainerExit {
        let mut rx = self.exit_rx.clone();
        let result = match rx.wait_for(Option::is_some).await {
            Ok(value) => value.unwrap_or_else(ContainerExit::unknown),
            Err(_) => ContainerExit::unknown(),
        };
        result
    }

    fn signal(&self, signal: i32) -> Result<(), ContainerizerError> {
        let ends = [
            Signal::TERM,
            Signal::KILL,
            Signal::INT,
            Signal::QUIT,
            Signal::HUP,
        ];
        if ends.iter().any(|s| s.as_raw() == signal) {
            end(&self.exit, ContainerExit::signaled(signal));
        }
        Ok(())
    }

    fn emulated_executor(&self) -> Option<EmulatedExecutor> {
        self.emulated
    }
}

#[cfg(test)]
mod tests {
    use mesos_proto::v1::CommandInfo;

    use super::*;

    fn request(kind: LaunchKind) -> LaunchRequest {
        LaunchRequest::new(
            ContainerId {
                value: "c1".into(),
                parent: None,
            },
            kind,
            CommandInfo::default(),
            "/nonexistent",
        )
    }

    #[tokio::test]
    async fn scripted_command_containers() {
        let fake = FakeContainerizer::new().command_tasks(TaskBehavior::Fail {
            after: Duration::from_millis(20),
            code: 4,
        });
        let c = fake.launch(request(LaunchKind::CommandTask)).await.unwrap();
        assert_eq!(c.pid(), None);
        assert!(c.emulated_executor().is_none());
        assert_eq!(c.wait().await.code(), Some(4));
        assert_eq!(fake.launches(), 1);

        let fake = FakeContainerizer::new().command_tasks(TaskBehavior::RunUntilKilled);
        let c = fake.launch(request(LaunchKind::CommandTask)).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(50), c.wait())
            .await
            .is_err());
        let exit = c.kill(Duration::from_secs(1)).await;
        assert_eq!(exit.signal(), Some(Signal::TERM.as_raw()));
        // The first end sticks.
        c.signal(Signal::KILL.as_raw()).unwrap();
        assert_eq!(c.wait().await.signal(), Some(Signal::TERM.as_raw()));
    }

    #[tokio::test]
    async fn executors_are_emulated_until_destroyed() {
        let fake = FakeContainerizer::new().executor_tasks(TaskBehavior::RunUntilKilled);
        let c = fake.launch(request(LaunchKind::Executor)).await.unwrap();
        assert_eq!(
            c.emulated_executor(),
            Some(EmulatedExecutor::new(TaskBehavior::RunUntilKilled))
        );
        assert!(tokio::time::timeout(Duration::from_millis(30), c.wait())
            .await
            .is_err());
        assert_eq!(c.destroy().await.signal(), Some(Signal::KILL.as_raw()));
    }
}
