//! How an agent runs executors and command tasks.
//!
//! An agent hands every executor it starts, and every command task (a
//! `TaskInfo` with a `command` and no `executor`), to a [`Containerizer`] as
//! a [`LaunchRequest`]; the containerizer answers with a [`Container`], a
//! handle the agent uses to wait for the container's end, to signal it and
//! to destroy it.
//!
//! The implementations that come with the crate:
//!
//! - [`ProcessContainerizer`]: real child
//!   processes, each in its own process group, with a clean environment, the
//!   sandbox as working directory and `stdout`/`stderr` files in the sandbox,
//!   as the Mesos containerizer with the posix launcher.
//! - `DockerContainerizer` (feature `docker`, on by default; the
//!   [`default_containerizer`] then): containers whose `ContainerInfo` is of
//!   type `DOCKER` run on the real Docker engine, everything else goes to a
//!   [`ProcessContainerizer`], as an agent with
//!   `--containerizers=docker,mesos`.
//! - [`FakeContainerizer`]: no processes at all; command tasks and executors
//!   follow a scripted lifecycle ([`TaskBehavior`]), cheap enough for tens of
//!   thousands of tasks.
//!
//! Other crates (e.g. a Docker containerizer) implement the same two traits.
//!
//! # Command tasks
//!
//! A real agent runs a command task under the `mesos-executor` binary (the
//! command executor). Here the agent plays the command executor itself, in
//! process: it launches the *command* as the container (with
//! [`LaunchKind::CommandTask`]) and reports `TASK_STARTING`, `TASK_RUNNING`
//! and the terminal state from the container's [`ContainerExit`], exactly as
//! the command executor would. A containerizer therefore only ever runs the
//! task's command, never an executor binary, for command tasks.
//!
//! # Fetching `CommandInfo.uris`
//!
//! Before [`Containerizer::launch`] is called (for every containerizer
//! whose [`Containerizer::uses_sandbox`] is true), the agent fetches the
//! URIs of the executor's or command task's `CommandInfo` into the sandbox,
//! in order, with Mesos's semantics (`docs/fetcher.md`): local paths and
//! `file://` copied, `http://`/`https://` downloaded (at most 10 redirects;
//! by default 4 GiB and 10 minutes per URI, failing after 60 s without
//! progress: see [`FetcherConfig`](crate::FetcherConfig)), other schemes
//! refused; `executable` sets
//! mode 0755; otherwise `extract` (default true) unpacks `.tar`, `.tgz`,
//! `.tar.gz`, `.tbz2`, `.tar.bz2`, `.txz`, `.tar.xz` and `.zip` archives
//! into the sandbox, refusing entries that would land outside it;
//! `output_file` names the file inside the sandbox. The fetcher's log lines
//! are appended to the sandbox's `stderr`. A failed fetch ends the task
//! `TASK_FAILED` (`REASON_CONTAINER_LAUNCH_FAILED`, `SOURCE_AGENT`) with
//! `Failed to launch container: Failed to fetch all URIs for container
//! '<id>': Failed to fetch '<uri>': <why>`. A URI with `cache` goes through
//! the agent's fetcher cache (per user, keyed by URI, downloaded once,
//! least recently used entries evicted beyond
//! [`FetcherConfig::cache_size`](crate::FetcherConfig::cache_size)).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mesos_proto::v1::{
    CommandInfo, ContainerId, ContainerInfo, ExecutorInfo, FrameworkInfo, Resource, TaskInfo,
    TaskStatus,
};
use rustix::process::Signal;

pub(crate) mod command;
#[cfg(feature = "docker")]
mod docker;
mod fake;
pub(crate) mod process;

#[cfg(feature = "docker")]
pub use docker::{is_docker_launch, DockerContainerizer, DEFAULT_TEARDOWN_TIMEOUT};
pub use fake::FakeContainerizer;
pub use process::ProcessContainerizer;

/// What a [`LaunchRequest`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LaunchKind {
    /// A custom executor (`TaskInfo.executor`, or the executor of a task
    /// group): the process is expected to subscribe to the agent's v1
    /// executor API using the environment in [`LaunchRequest::environment`].
    Executor,
    /// The command of a command task: the agent itself plays the command
    /// executor and reports the task's states from the container's exit.
    CommandTask,
}

/// Everything a containerizer needs to start one container.
///
/// The agent fills every field; a containerizer must not assume anything it
/// does not read here (it is never told about other containers).
///
/// Its `Debug` shows no environment value (variables, and the task's and
/// executor's `CommandInfo`, may carry secrets such as
/// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`): only the variables' names.
#[derive(Clone)]
#[non_exhaustive]
pub struct LaunchRequest {
    /// The container's id (a fresh UUID, also the last part of the sandbox
    /// path, `.../runs/<container id>`).
    pub container_id: ContainerId,
    /// Executor or command task.
    pub kind: LaunchKind,
    /// The framework the container belongs to.
    pub framework: FrameworkInfo,
    /// The executor. For a command task, the executor the real agent would
    /// have generated (executor id = task id; its `command` is the task's).
    pub executor: ExecutorInfo,
    /// The task, for [`LaunchKind::CommandTask`].
    pub task: Option<TaskInfo>,
    /// What to run: `shell` (default true) runs `sh -c <value>`; otherwise
    /// `value` is executed with `arguments` as its complete argv
    /// (`arguments[0]` is argv\[0\]), as the real agent does.
    pub command: CommandInfo,
    /// The container settings (`ContainerInfo`: Docker image, volumes,
    /// ...) of the executor or of the command task, if any.
    pub container: Option<ContainerInfo>,
    /// The complete environment of the process: the agent's own
    /// environment must not be inherited. Contains `MESOS_*`,
    /// `LIBPROCESS_*`, `PATH` and the `CommandInfo.environment` variables.
    pub environment: BTreeMap<String, String>,
    /// The sandbox (exists when `launch` is called): the working directory
    /// of the process, where its `stdout` and `stderr` files belong.
    pub sandbox: PathBuf,
    /// The resources of the executor (or task) the container runs.
    pub resources: Vec<Resource>,
    /// The user the command should run as (`CommandInfo.user`, else
    /// `FrameworkInfo.user`); the bundled containerizers run everything as
    /// the agent's own user.
    pub user: Option<String>,
}

impl std::fmt::Debug for LaunchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchRequest")
            .field("container_id", &self.container_id.value)
            .field("kind", &self.kind)
            .field(
                "framework_id",
                &self.framework.id.as_ref().map(|id| &id.value),
            )
            .field("executor_id", &self.executor.executor_id.value)
            .field("task_id", &self.task.as_ref().map(|t| &t.task_id.value))
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("sandbox", &self.sandbox)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl LaunchRequest {
    /// A request with the given essentials; every other field is empty.
    pub fn new(
        container_id: ContainerId,
        kind: LaunchKind,
        command: CommandInfo,
        sandbox: impl Into<PathBuf>,
    ) -> LaunchRequest {
        LaunchRequest {
            container_id,
            kind,
            framework: FrameworkInfo::default(),
            executor: ExecutorInfo::default(),
            task: None,
            command,
            container: None,
            environment: BTreeMap::new(),
            sandbox: sandbox.into(),
            resources: Vec::new(),
            user: None,
        }
    }
}

/// How a container ended: a POSIX wait status, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContainerExit {
    status: Option<i32>,
}

impl ContainerExit {
    /// From a raw wait status (as `waitpid` returns it).
    pub fn from_wait_status(status: i32) -> ContainerExit {
        ContainerExit {
            status: Some(status),
        }
    }

    /// A normal exit with `code` (0..=255).
    pub fn exited(code: i32) -> ContainerExit {
        ContainerExit {
            status: Some((code & 0xff) << 8),
        }
    }

    /// Death by `signal`.
    pub fn signaled(signal: i32) -> ContainerExit {
        ContainerExit {
            status: Some(signal & 0x7f),
        }
    }

    /// The end is not known (e.g. the process was reaped elsewhere).
    pub fn unknown() -> ContainerExit {
        ContainerExit { status: None }
    }

    /// The raw wait status, as the scheduler's FAILURE event reports it.
    pub fn wait_status(&self) -> Option<i32> {
        self.status
    }

    /// The exit code, if the process exited normally.
    pub fn code(&self) -> Option<i32> {
        self.status
            .filter(|s| s & 0x7f == 0)
            .map(|s| (s >> 8) & 0xff)
    }

    /// The signal that killed the process, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.status
            .filter(|s| {
                let sig = s & 0x7f;
                sig != 0 && sig != 0x7f
            })
            .map(|s| s & 0x7f)
    }

    /// True for an exit with code 0.
    pub fn success(&self) -> bool {
        self.code() == Some(0)
    }
}

/// As Mesos's `WSTRINGIFY`: `exited with status 1`, `terminated with
/// signal Killed`.
impl fmt::Display for ContainerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code(), self.signal()) {
            (Some(code), _) => write!(f, "exited with status {code}"),
            (None, Some(signal)) => write!(f, "terminated with signal {}", signal_name(signal)),
            _ => match self.status {
                Some(raw) => write!(f, "wait status {raw}"),
                None => f.write_str("terminated for an unknown reason"),
            },
        }
    }
}

/// `strsignal(3)` of glibc for the common signals.
pub(crate) fn signal_name(signal: i32) -> String {
    const NAMES: [(Signal, &str); 17] = [
        (Signal::HUP, "Hangup"),
        (Signal::INT, "Interrupt"),
        (Signal::QUIT, "Quit"),
        (Signal::ILL, "Illegal instruction"),
        (Signal::TRAP, "Trace/breakpoint trap"),
        (Signal::ABORT, "Aborted"),
        (Signal::BUS, "Bus error"),
        (Signal::FPE, "Floating point exception"),
        (Signal::KILL, "Killed"),
        (Signal::USR1, "User defined signal 1"),
        (Signal::SEGV, "Segmentation fault"),
        (Signal::USR2, "User defined signal 2"),
        (Signal::PIPE, "Broken pipe"),
        (Signal::ALARM, "Alarm clock"),
        (Signal::TERM, "Terminated"),
        (Signal::XCPU, "CPU time limit exceeded"),
        (Signal::XFSZ, "File size limit exceeded"),
    ];
    NAMES
        .iter()
        .find(|(sig, _)| sig.as_raw() == signal)
        .map_or_else(
            || format!("Unknown signal {signal}"),
            |(_, name)| (*name).to_string(),
        )
}

/// Why a launch (or a signal) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerizerError {
    /// An I/O step failed (creating the output files, spawning, ...).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The request asks for something this containerizer cannot do (e.g. a
    /// Docker image on the process containerizer, no command).
    #[error("{0}")]
    Unsupported(String),
    /// Any other failure, explained.
    #[error("{0}")]
    Other(String),
}

/// What tasks do on a fake ([`FakeContainerizer`]) container or emulated
/// executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskBehavior {
    /// Finish successfully (exit 0, `TASK_FINISHED`) after this delay.
    Finish {
        /// How long the task runs.
        after: Duration,
    },
    /// Fail (exit `code`, `TASK_FAILED`) after this delay.
    Fail {
        /// How long the task runs.
        after: Duration,
        /// The exit code reported.
        code: i32,
    },
    /// Keep running until killed (`TASK_KILLED`).
    RunUntilKilled,
}

/// A container that asks the agent to play its executor in process: no
/// process subscribes; the agent answers every task launched on it with
/// `TASK_RUNNING` and then follows [`EmulatedExecutor::tasks`]; kills give
/// `TASK_KILLED`, framework messages are echoed back to the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EmulatedExecutor {
    /// What every task launched on this executor does.
    pub tasks: TaskBehavior,
}

impl EmulatedExecutor {
    /// An emulated executor whose tasks behave as `tasks`.
    pub fn new(tasks: TaskBehavior) -> EmulatedExecutor {
        EmulatedExecutor { tasks }
    }
}

/// Runs executors and command tasks for an agent.
///
/// # Contract
///
/// - [`launch`](Containerizer::launch) is called once per container, from
///   the agent's tokio runtime, possibly concurrently for many requests.
///   It returns once the container runs (its process was spawned); an
///   `Err` becomes `TASK_FAILED` / `REASON_CONTAINER_LAUNCH_FAILED` for the
///   tasks involved.
/// - The container must run with exactly [`LaunchRequest::environment`],
///   in [`LaunchRequest::sandbox`], and must be killable as a whole
///   (children included) through [`Container::signal`].
/// - Implementations must not block the runtime for long, must never panic
///   on what a framework sent (commands, images, ...), and must be usable
///   behind an `Arc` by several agents at once.
#[async_trait]
pub trait Containerizer: Send + Sync + 'static {
    /// Starts the container described by `request`.
    async fn launch(
        &self,
        request: LaunchRequest,
    ) -> Result<Box<dyn Container>, ContainerizerError>;

    /// Called once when a cluster using this containerizer starts, before
    /// any launch: removes what a previous run left behind (e.g. orphan
    /// Docker containers under this containerizer's own name prefix). An
    /// `Err` is logged; the cluster starts anyway. Default: nothing.
    async fn recover(&self) -> Result<(), ContainerizerError> {
        Ok(())
    }

    /// Called (synchronously, possibly without a runtime) when a cluster
    /// using this containerizer is dropped, after every agent signalled its
    /// containers: destroys whatever this containerizer still runs or is
    /// still launching. Must not block for long, and never without a bound
    /// (it may run on a runtime's worker: the Docker containerizer waits
    /// for its CLI until a deadline, through `block_in_place` on a
    /// multi-thread runtime). Default: nothing.
    fn destroy_all(&self) {}

    /// Whether containers of this containerizer use their sandbox directory
    /// ([`LaunchRequest::sandbox`]): when `true` (the default) the agent
    /// creates it, with its parents, before [`launch`](Containerizer::launch),
    /// as the real agent does. A containerizer that runs nothing there (the
    /// fake one) returns `false` and saves the directories.
    fn uses_sandbox(&self) -> bool {
        true
    }
}

/// A running (or ended) container, as its containerizer returned it.
///
/// # Contract
///
/// - [`wait`](Container::wait) may be called any number of times, also
///   concurrently, also after the end; every call returns the same
///   [`ContainerExit`] once the container's main process has ended (and was
///   reaped).
/// - [`signal`](Container::signal) is synchronous and cheap: the agent uses
///   it from `Drop` (`SIGKILL` to everything at cluster shutdown), so it
///   must work without an async runtime, must never block for long (a
///   signal that needs a subprocess, as Docker's, is spawned on the
///   current runtime when there is one, else bounded), and must reach
///   every process of the container. Signalling an ended container is not
///   an error. The agent also signals (`SIGKILL`) a container whose launch
///   returns after the agent was torn down.
/// - Once the main process has ended, nothing of the container may keep
///   running (the agent considers it destroyed).
#[async_trait]
pub trait Container: Send + Sync + fmt::Debug + 'static {
    /// The container's id (as in the request).
    fn id(&self) -> &ContainerId;

    /// The main process's pid, if there is a process (reported to schedulers
    /// as `container_status.executor_pid`).
    fn pid(&self) -> Option<u32>;

    /// Waits until the container has ended.
    async fn wait(&self) -> ContainerExit;

    /// Sends POSIX `signal` (e.g. `rustix::process::Signal::TERM.as_raw()`,
    /// 15) to every process of the
    /// container.
    fn signal(&self, signal: i32) -> Result<(), ContainerizerError>;

    /// Graceful kill: `SIGTERM`, then `SIGKILL` if the container is still
    /// running after `grace`; returns how it ended.
    async fn kill(&self, grace: Duration) -> ContainerExit {
        if let Err(e) = self.signal(Signal::TERM.as_raw()) {
            tracing::warn!(container_id = %self.id().value, error = %e, "SIGTERM failed");
        }
        match tokio::time::timeout(grace, self.wait()).await {
            Ok(exit) => exit,
            Err(_) => self.destroy().await,
        }
    }

    /// Kills everything at once (`SIGKILL`) and waits for the end.
    async fn destroy(&self) -> ContainerExit {
        if let Err(e) = self.signal(Signal::KILL.as_raw()) {
            tracing::warn!(container_id = %self.id().value, error = %e, "SIGKILL failed");
        }
        self.wait().await
    }

    /// `Some` when no executor process will subscribe and the agent must
    /// play the executor itself (see [`EmulatedExecutor`]). Only consulted
    /// for [`LaunchKind::Executor`]. Default: `None`.
    fn emulated_executor(&self) -> Option<EmulatedExecutor> {
        None
    }

    /// Lets the container shape the status updates the agent's built-in
    /// command executor reports for a command task ([`LaunchKind::CommandTask`]),
    /// so that they read as those of the executor the real agent would use
    /// for it (e.g. the Docker executor's `TASK_RUNNING` carries the
    /// container's inspect output and IP address, and its terminal updates
    /// say "Container exited with status N"). `status` arrives complete
    /// (state, message of the command executor); `exit` is the container's
    /// end for the terminal update. Default: nothing changed.
    fn annotate_status(&self, status: &mut TaskStatus, exit: Option<&ContainerExit>) {
        let _ = (status, exit);
    }
}

/// The containerizer agents use unless told otherwise: with the `docker`
/// feature a `DockerContainerizer` (Docker containers on the engine, real
/// processes for the rest, a fresh name prefix), else real processes
/// ([`ProcessContainerizer`]).
pub fn default_containerizer() -> Arc<dyn Containerizer> {
    #[cfg(feature = "docker")]
    {
        Arc::new(DockerContainerizer::new())
    }
    #[cfg(not(feature = "docker"))]
    {
        Arc::new(ProcessContainerizer::new())
    }
}

/// A [`FakeContainerizer`] with its defaults (every task finishes at once):
/// no processes at all.
pub fn fake() -> Arc<dyn Containerizer> {
    Arc::new(FakeContainerizer::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_read_like_mesos() {
        assert_eq!(ContainerExit::exited(0).to_string(), "exited with status 0");
        assert!(ContainerExit::exited(0).success());
        assert_eq!(ContainerExit::exited(3).code(), Some(3));
        assert_eq!(ContainerExit::exited(3).wait_status(), Some(768));
        let killed = ContainerExit::signaled(Signal::KILL.as_raw());
        assert_eq!(killed.signal(), Some(9));
        assert_eq!(killed.code(), None);
        assert_eq!(killed.to_string(), "terminated with signal Killed");
        assert_eq!(
            ContainerExit::signaled(Signal::TERM.as_raw()).to_string(),
            "terminated with signal Terminated"
        );
        assert_eq!(ContainerExit::unknown().wait_status(), None);
        assert!(!ContainerExit::unknown().success());
    }
}
