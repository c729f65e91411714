//! The Docker executor: one task, one `docker run`, as Mesos 1.11's
//! `mesos-docker-executor` (upstream `src/docker/executor.cpp`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mesos_executor::{Executor, ExecutorDriver};
use mesos_proto::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, NetworkInfo, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use tokio::sync::watch;

use crate::docker::Docker;
use crate::flags::Flags;
use crate::spec::ContainerDns;

mod task;

/// How often `docker inspect` is retried until the container has started.
pub const DOCKER_INSPECT_DELAY: Duration = Duration::from_millis(500);
/// How long the executor waits for the terminal update's acknowledgement
/// before it stops anyway (Mesos's fail-safe).
pub const DEFAULT_TERMINAL_ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the container's stdout and stderr go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The executor's own stdout/stderr (under an agent: the sandbox's
    /// `stdout`/`stderr` files), as Mesos does.
    Inherit,
    /// Appended to `<dir>/stdout` and `<dir>/stderr`.
    Files(PathBuf),
}

/// Everything the Docker executor needs besides the agent connection.
#[derive(Debug, Clone)]
pub struct DockerExecutorConfig {
    /// The CLI and engine.
    pub docker: Docker,
    /// The container's name (`--container`).
    pub container: String,
    /// The sandbox on the host (`--sandbox_directory`).
    pub sandbox_directory: String,
    /// The sandbox inside the container (`--mapped_directory`).
    pub mapped_directory: String,
    /// Grace period of `docker stop` when the kill policy has none, and
    /// budget of SHUTDOWN.
    pub grace_period: Duration,
    /// `--task_environment`.
    pub task_environment: BTreeMap<String, String>,
    /// `--default_container_dns`.
    pub default_container_dns: Option<ContainerDns>,
    /// `--cgroups_enable_cfs`.
    pub cgroups_enable_cfs: bool,
    /// Where the container's output goes.
    pub output: Output,
    /// How long to wait for the acknowledgement of the terminal update
    /// before stopping the driver.
    pub terminal_ack_timeout: Duration,
    /// Remove the container (`docker rm -f -v`) once it has exited.
    pub remove_container: bool,
}

impl DockerExecutorConfig {
    /// A configuration with Mesos's defaults: `/mnt/mesos/sandbox`, a 5 s
    /// grace period, output inherited, container removed at the end.
    pub fn new(
        docker: Docker,
        container: impl Into<String>,
        sandbox_directory: impl Into<String>,
    ) -> DockerExecutorConfig {
        DockerExecutorConfig {
            docker,
            container: container.into(),
            sandbox_directory: sandbox_directory.into(),
            mapped_directory: crate::spec::DEFAULT_MAPPED_DIRECTORY.into(),
            grace_period: mesos_executor::DEFAULT_SHUTDOWN_GRACE_PERIOD,
            task_environment: BTreeMap::new(),
            default_container_dns: None,
            cgroups_enable_cfs: false,
            output: Output::Inherit,
            terminal_ack_timeout: DEFAULT_TERMINAL_ACK_TIMEOUT,
            remove_container: true,
        }
    }

    /// From the command line, the sandbox directory (`--sandbox_directory`
    /// or the executor's sandbox) and the shutdown grace period from the
    /// executor environment.
    pub fn from_flags(
        flags: &Flags,
        sandbox_directory: String,
        shutdown_grace_period: Duration,
    ) -> DockerExecutorConfig {
        let mut docker = Docker::new(&flags.docker);
        if let Some(socket) = &flags.docker_socket {
            docker = docker.with_socket(socket.clone());
        }
        let docker = docker.with_engine_api();
        DockerExecutorConfig {
            mapped_directory: flags.mapped_directory.clone(),
            grace_period: flags.grace_period(shutdown_grace_period),
            task_environment: flags.task_environment.clone(),
            default_container_dns: flags.default_container_dns.clone(),
            cgroups_enable_cfs: flags.cgroups_enable_cfs,
            ..DockerExecutorConfig::new(docker, flags.container.clone(), sandbox_directory)
        }
    }
}

/// Where the one task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Phase {
    /// No LAUNCH yet.
    #[default]
    Idle,
    /// Image check / pull, building the command line.
    Preparing,
    /// `docker run` started; waiting for inspect.
    Launched,
    /// Inspect done (TASK_RUNNING sent unless killed), or it failed.
    Inspected,
    /// The terminal update was sent.
    Terminated,
    /// The container was removed (or never existed): nothing is left.
    Done,
}

#[derive(Debug, Default)]
struct State {
    phase: Phase,
    task_id: Option<TaskId>,
    kill_policy: Option<KillPolicy>,
    framework: Option<FrameworkInfo>,
    killed: bool,
    killed_by_timeout: bool,
    /// A kill arrived before the container was started.
    kill_requested: bool,
    network_info: Option<NetworkInfo>,
    updates_sent: usize,
    updates_acknowledged: usize,
}

#[derive(Debug)]
struct Shared {
    config: DockerExecutorConfig,
    state: watch::Sender<State>,
}

/// The Docker executor, an [`Executor`] for [`ExecutorDriver`]: on LAUNCH
/// it runs the task's container attached (`docker run --name <container>`,
/// output to [`Output`]), sends TASK_STARTING, then TASK_RUNNING with the
/// inspect output as `data` and the container's IP in
/// `container_status.network_infos`, then TASK_FINISHED (exit 0),
/// TASK_FAILED ("Container exited with status N") or TASK_KILLED; KILL is
/// `docker stop -t <grace>` (the kill policy's grace period, else the
/// configured one); SHUTDOWN kills the task and returns once the container
/// is gone. The container is removed at the end, and the driver is stopped
/// once the terminal update is acknowledged.
///
/// Clone it (or keep a [`handle`](DockerExecutor::handle)) before handing
/// it to the driver, to [`cleanup`](DockerExecutor::cleanup) after the
/// driver ends.
#[derive(Debug, Clone)]
pub struct DockerExecutor {
    shared: Arc<Shared>,
}

impl DockerExecutor {
    /// An executor with `config`.
    pub fn new(config: DockerExecutorConfig) -> DockerExecutor {
        DockerExecutor {
            shared: Arc::new(Shared {
                config,
                state: watch::Sender::new(State::default()),
            }),
        }
    }

    /// Another handle on the same executor.
    pub fn handle(&self) -> DockerExecutor {
        self.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &DockerExecutorConfig {
        &self.shared.config
    }

    /// Makes sure nothing is left behind after the driver ended: waits up
    /// to `wait` for the task's run to finish, then force-removes the
    /// container if it still exists.
    pub async fn cleanup(&self, wait: Duration) {
        let shared = &self.shared;
        let phase = shared.state.borrow().phase;
        if phase == Phase::Idle || phase == Phase::Done {
            return;
        }
        let mut rx = shared.state.subscribe();
        let _ = tokio::time::timeout(wait, rx.wait_for(|s| s.phase == Phase::Done)).await;
        if shared.state.borrow().phase != Phase::Done {
            remove(shared).await;
        }
    }
}

async fn remove(shared: &Shared) {
    if !shared.config.remove_container {
        return;
    }
    match shared
        .config
        .docker
        .rm(&shared.config.container, true)
        .await
    {
        Ok(()) => tracing::info!(container = shared.config.container, "container removed"),
        Err(crate::DockerError::NoSuchContainer(_)) => {}
        Err(e) => {
            tracing::warn!(container = shared.config.container, error = %e, "could not remove the container")
        }
    }
}

fn status(task_id: &TaskId, state: TaskState, message: Option<String>) -> TaskStatus {
    TaskStatus {
        task_id: task_id.clone(),
        state: state as i32,
        message,
        ..Default::default()
    }
}

#[async_trait]
impl Executor for DockerExecutor {
    async fn registered(
        &mut self,
        _driver: &ExecutorDriver,
        _executor_info: ExecutorInfo,
        framework_info: FrameworkInfo,
        agent_info: AgentInfo,
    ) {
        tracing::info!(agent = agent_info.hostname, "registered docker executor");
        self.shared
            .state
            .send_modify(|s| s.framework = Some(framework_info));
    }

    async fn reregistered(&mut self, _driver: &ExecutorDriver, agent_info: AgentInfo) {
        tracing::info!(agent = agent_info.hostname, "re-registered docker executor");
    }

    async fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let first = {
            let mut first = false;
            self.shared.state.send_modify(|s| {
                if s.task_id.is_none() {
                    first = true;
                    s.task_id = Some(task.task_id.clone());
                    s.kill_policy = task.kill_policy;
                    s.phase = Phase::Preparing;
                }
            });
            first
        };
        if !first {
            let update = status(
                &task.task_id,
                TaskState::TaskFailed,
                Some("Attempted to run multiple tasks using a \"docker\" executor".into()),
            );
            self.shared.send(driver, update).await;
            return;
        }
        tracing::info!(
            task_id = task.task_id.value,
            container = self.shared.config.container,
            "starting task"
        );
        if task.health_check.is_some() || task.check.is_some() {
            tracing::warn!("health checks and checks are not supported by this executor; ignored");
        }
        self.shared
            .send(driver, status(&task.task_id, TaskState::TaskStarting, None))
            .await;
        if let Some(limit) = task
            .max_completion_time
            .as_ref()
            .and_then(|d| u64::try_from(d.nanoseconds).ok())
            .filter(|ns| *ns > 0)
        {
            let shared = self.shared.clone();
            let driver = driver.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_nanos(limit)).await;
                if shared.state.borrow().phase < Phase::Terminated {
                    tracing::info!("the task exceeded its maximum completion time");
                    shared.kill(&driver, Duration::ZERO, true).await;
                }
            });
        }
        tokio::spawn(self.shared.clone().run(driver.clone(), task));
    }

    async fn kill_task(
        &mut self,
        driver: &ExecutorDriver,
        task_id: TaskId,
        kill_policy: Option<KillPolicy>,
    ) {
        let (known, phase) = {
            let s = self.shared.state.borrow();
            (s.task_id.clone(), s.phase)
        };
        if known.as_ref() != Some(&task_id) {
            tracing::warn!(
                task_id = task_id.value,
                "KILL for a task this executor does not run"
            );
            if known.is_none() {
                // Mesos's executor terminates here (MESOS-8297).
                let update = status(
                    &task_id,
                    TaskState::TaskKilled,
                    Some("Task killed before it was launched".into()),
                );
                self.shared.send(driver, update).await;
                driver.stop().await;
            }
            return;
        }
        if phase >= Phase::Terminated {
            return;
        }
        let grace = self.shared.grace_for(kill_policy.as_ref());
        tracing::info!(task_id = task_id.value, ?grace, "received KILL");
        let shared = self.shared.clone();
        let driver = driver.clone();
        tokio::spawn(async move { shared.kill(&driver, grace, false).await });
    }

    async fn acknowledged(&mut self, _driver: &ExecutorDriver, _task_id: TaskId, _uuid: Bytes) {
        self.shared
            .state
            .send_modify(|s| s.updates_acknowledged += 1);
    }

    async fn shutdown(&mut self, driver: &ExecutorDriver) {
        tracing::info!("shutting down");
        let phase = self.shared.state.borrow().phase;
        if phase == Phase::Idle || phase == Phase::Done {
            return;
        }
        // Leave time for the terminal update before the agent's grace ends.
        let grace = self
            .shared
            .config
            .grace_period
            .saturating_sub(Duration::from_secs(2));
        let shared = self.shared.clone();
        let killer = driver.clone();
        tokio::spawn(async move { shared.kill(&killer, grace, false).await });
        let mut rx = self.shared.state.subscribe();
        let _ = rx.wait_for(|s| s.phase == Phase::Done).await;
    }

    async fn error(&mut self, _driver: &ExecutorDriver, message: String) {
        tracing::error!(message, "error from the agent");
    }
}
