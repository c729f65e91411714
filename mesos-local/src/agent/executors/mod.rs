//! The agent's state machine: frameworks, executors, tasks, the status
//! update manager. One task owns it all (no locks): the master's messages,
//! the executor API's calls and the containers' events arrive as [`Input`]s.
//!
//! This module holds the types; `dispatch` routes each message
//! (`on_master`, `on_input`); the behaviour is split by responsibility, each
//! an `impl AgentState`: `launch` (frameworks and executors started,
//! launches delivered, launch outcomes), `command_task` (command tasks), `api` (the executor API's SUBSCRIBE and
//! UPDATE, framework messages), `updates` (status updates and
//! acknowledgements), `teardown` (kills, shutdowns, exits); `registry` is
//! the set of live containers `kill_all` reaches synchronously.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use mesos_proto::v1::executor::{call, event, Event};
use mesos_proto::v1::{
    framework_info, task_status, AgentId, AgentInfo, ContainerId, ExecutorId, ExecutorInfo,
    FrameworkId, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::launches::LaunchLog;
use super::status_updates::StatusUpdateManager;
use crate::containerizer::command::{CommandUpdate, KillRequest};
use crate::containerizer::{Container, ContainerExit, Containerizer, TaskBehavior};
use crate::protocol::{FromAgent, ToAgent};
use crate::queue::{EventReceiver, EventSender, SendError};

mod api;
mod command_task;
mod dispatch;
mod launch;
pub(crate) mod operator;
mod registry;
mod report;
mod task_map;
mod teardown;
mod updates;

pub(crate) use registry::Registry;
use task_map::TaskMap;

/// After an executor's shutdown grace period: SIGTERM, then SIGKILL after this.
const KILL_ESCALATION: Duration = Duration::from_secs(1);

/// How long a custom executor may take to subscribe before the agent
/// shuts it down (the real agent's `--executor_registration_timeout`
/// default).
const EXECUTOR_REGISTRATION_TIMEOUT: Duration = Duration::from_secs(60);

/// An executor API call refused: the HTTP status and the explanation.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Rejection {
    fn bad_request(message: impl Into<String>) -> Self {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn unavailable(message: impl Into<String>) -> Self {
        Rejection {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, Rejection>>;

/// Everything the agent task reacts to, besides the master's messages.
pub(crate) enum Input {
    Subscribe {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        subscribe: call::Subscribe,
        reply: Reply<EventReceiver<Event>>,
    },
    Update {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        /// Boxed, as in `CommandUpdate`.
        status: Box<TaskStatus>,
        reply: Reply<()>,
    },
    Message {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Bytes,
        reply: Reply<()>,
    },
    Launched {
        key: Arc<ExecKey>,
        container_id: Arc<str>,
        result: Result<Arc<dyn Container>, String>,
    },
    Exited {
        key: Arc<ExecKey>,
        container_id: Arc<str>,
        exit: ContainerExit,
    },
    CommandUpdate {
        key: Arc<ExecKey>,
        container_id: Arc<str>,
        /// Boxed: a busy agent's queue holds thousands of inputs.
        update: Box<CommandUpdate>,
    },
    EmulatedTaskEnd {
        key: Arc<ExecKey>,
        container_id: Arc<str>,
        task_id: TaskId,
        exit: ContainerExit,
    },
    ShutdownGraceOver {
        key: Arc<ExecKey>,
        container_id: Arc<str>,
    },
    /// [`EXECUTOR_REGISTRATION_TIMEOUT`] after a custom executor started.
    RegistrationTimeout {
        key: Arc<ExecKey>,
        container_id: Arc<str>,
    },
    /// An operator API call that reads the agent's state.
    Operator(operator::Query),
    /// The agent "process" went down / came back.
    SetStopped {
        stopped: bool,
        done: oneshot::Sender<()>,
    },
}

/// (framework id, executor id). An [`Input`] about a container shares its
/// key and container id with the container's other inputs (one allocation
/// each per container, however many inputs it sends).
pub(crate) type ExecKey = (String, String);

/// Static facts of the agent the state machine needs.
pub(crate) struct Identity {
    pub(crate) info: AgentInfo,
    pub(crate) agent_id: AgentId,
    pub(crate) pid: String,
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
    pub(crate) work_dir: PathBuf,
    pub(crate) containerizer: Arc<dyn Containerizer>,
    pub(crate) executor_shutdown_grace: Duration,
    /// Bound of each executor stream's queue.
    pub(crate) max_queued_events: usize,
    /// See [`StatusUpdateManager::has_room`].
    pub(crate) max_pending_updates: usize,
    /// Executor authentication tokens (issued to custom executors when on).
    pub(crate) tokens: Arc<crate::auth::ExecutorTokens>,
    /// Fetches `CommandInfo.uris` into sandboxes (and keeps the cache).
    pub(crate) fetcher: Arc<crate::fetcher::Fetcher>,
    /// `LIBPROCESS_SSL_*` for executors of an agent serving `https://`.
    pub(crate) tls_env: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExecState {
    /// Launched (or launching), not subscribed yet.
    Registering,
    /// Subscribed at least once (the stream may be cut).
    Running,
    /// Being shut down.
    Terminating,
}

enum Kind {
    /// A process that subscribes over the executor API.
    Custom,
    /// The agent plays the command executor of this command task.
    Command { kill: KillRequest },
    /// The agent plays the executor ([`crate::containerizer::EmulatedExecutor`]).
    Emulated(TaskBehavior),
}

enum Launch {
    Task(Box<TaskInfo>),
    Group(TaskGroupInfo),
}

struct TaskEntry {
    state: TaskState,
    /// Sent to the executor (LAUNCH / LAUNCH_GROUP) or started.
    delivered: bool,
    /// The updates taken for it (the operator API's `statuses`), at most
    /// as many as the master keeps.
    statuses: Vec<Arc<TaskStatus>>,
    /// Its info, for re-registering with a new leading master (see
    /// `report`) and for the operator API; a command task's is shared with
    /// its runner until the launch request is made.
    info: Arc<TaskInfo>,
}

struct Executor {
    /// Its id (a command task's executor's is the task's id).
    id: ExecutorId,
    /// The info the framework gave a custom executor. A command task's
    /// executor has none kept: it is made from its task where it is shown
    /// or launched ([`Executor::info`]), so the task is kept once.
    given: Option<Box<ExecutorInfo>>,
    container_id: ContainerId,
    kind: Kind,
    state: ExecState,
    container: Option<Arc<dyn Container>>,
    stream: Option<EventSender<Event>>,
    /// Bound of its stream's queue and of `deferred`.
    max_queued: usize,
    queued: Vec<Launch>,
    /// Its tasks until their terminal update is acknowledged.
    tasks: TaskMap<TaskEntry>,
    /// Events to send once the executor (re)subscribes.
    deferred: Vec<Event>,
    /// Its `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` (revoked when dropped).
    token: Option<crate::auth::IssuedToken>,
    /// Whether it ever sent a status update (the real agent's
    /// `everSentTask`, with its delivered live tasks).
    sent_updates: bool,
    /// Why the agent is ending it, for its live tasks' updates (the real
    /// agent's `pendingTermination`): a registration timeout.
    pending_termination: Option<(task_status::Reason, String)>,
}

impl Executor {
    fn send(&mut self, event: Event) -> bool {
        let Some(stream) = &self.stream else {
            return false;
        };
        match stream.send(event) {
            Ok(()) => true,
            Err(SendError::Overflow { capacity }) => {
                tracing::warn!(
                    executor_id = self.id.value,
                    queued = capacity,
                    "executor is not reading its event stream; closing the stream and dropping its queue"
                );
                self.stream = None;
                false
            }
            Err(SendError::Ended(_)) => {
                self.stream = None;
                false
            }
        }
    }

    /// Sends now, or once the executor (re)subscribes (at most
    /// `max_queued` events wait; later ones are dropped).
    fn send_or_defer(&mut self, event: Event) {
        if self.state == ExecState::Registering || !self.send(event.clone()) {
            if self.deferred.len() >= self.max_queued {
                tracing::warn!(
                    executor_id = self.id.value,
                    deferred = self.deferred.len(),
                    "too many events waiting for the executor to subscribe; event dropped"
                );
                return;
            }
            self.deferred.push(event);
        }
    }

    /// Its info whole; `framework_id` is its framework's (see `given`).
    fn info(&self, framework_id: &str) -> ExecutorInfo {
        let command_task = self.tasks.get(&self.id.value).map(|task| &*task.info);
        executor_info(framework_id, &self.id, self.given.as_deref(), command_task)
    }

    /// Its name: the framework's for a custom executor, the generated one
    /// of a command task's.
    fn name(&self) -> Option<String> {
        match (&self.given, self.tasks.get(&self.id.value)) {
            (Some(info), _) => info.name.clone(),
            (None, Some(task)) => Some(command_task::executor_name(&task.info)),
            (None, None) => None,
        }
    }

    /// Its shutdown grace period, when its info sets one.
    fn shutdown_grace(&self) -> Option<Duration> {
        given_shutdown_grace(self.given.as_deref())
    }

    /// Issues its authentication token if it is a custom executor (the
    /// only kind that calls the executor API) and tokens are on.
    fn with_token(mut self, tokens: &Arc<crate::auth::ExecutorTokens>, framework_id: &str) -> Self {
        if matches!(self.kind, Kind::Custom) {
            self.token = tokens.issue(framework_id, &self.id.value);
        }
        self
    }

    /// Whether it was ever given a task it has not lost since: a delivered
    /// task still live, or any status update of its own (the real agent's
    /// `Executor::everSentTask`).
    fn ever_sent_task(&self) -> bool {
        self.sent_updates
            || self
                .tasks
                .values()
                .any(|t| t.delivered && !t.state.is_terminal())
    }

    fn live_tasks(&self) -> Vec<String> {
        self.tasks
            .iter()
            .filter(|(_, t)| !t.state.is_terminal())
            .map(|(id, _)| id.clone())
            .collect()
    }
}

struct Framework {
    /// Shared with the master's record and the launches of its tasks.
    info: Arc<FrameworkInfo>,
    /// Boxed: the map's free slots then cost a pointer, not a whole
    /// executor (one per command task).
    executors: HashMap<String, Box<Executor>>,
    /// task id → executor id, for the tasks of custom executors (a
    /// command task's executor has the task's id: see `executor_of`).
    task_executor: HashMap<String, String>,
    shutting_down: bool,
}

impl Framework {
    /// The id of the executor that runs `task_id`, while it has one.
    fn executor_of<'a>(&'a self, task_id: &'a str) -> Option<&'a str> {
        match self.task_executor.get(task_id) {
            Some(executor_id) => Some(executor_id),
            None => self
                .executors
                .get(task_id)
                .filter(|e| matches!(e.kind, Kind::Command { .. }))
                .map(|_| task_id),
        }
    }
}

fn event(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn has_capability(framework: &FrameworkInfo, capability: framework_info::capability::Type) -> bool {
    framework
        .capabilities
        .iter()
        .any(|c| c.r#type == Some(capability as i32))
}

/// TASK_DROPPED for partition-aware frameworks, TASK_LOST otherwise.
fn lost_state(framework: &FrameworkInfo) -> TaskState {
    if has_capability(framework, framework_info::capability::Type::PartitionAware) {
        TaskState::TaskDropped
    } else {
        TaskState::TaskLost
    }
}

/// An executor's info whole: the framework's (`given`) for a custom
/// executor, the one made from its task for a command task's, else its id
/// and framework only.
fn executor_info(
    framework_id: &str,
    executor_id: &ExecutorId,
    given: Option<&ExecutorInfo>,
    command_task: Option<&TaskInfo>,
) -> ExecutorInfo {
    match (given, command_task) {
        (Some(info), _) => info.clone(),
        (None, Some(task)) => command_task::executor_info(framework_id, task),
        (None, None) => ExecutorInfo {
            executor_id: executor_id.clone(),
            framework_id: Some(FrameworkId {
                value: framework_id.to_string(),
            }),
            ..Default::default()
        },
    }
}

/// The shutdown grace period a custom executor's info sets, if any.
fn given_shutdown_grace(given: Option<&ExecutorInfo>) -> Option<Duration> {
    given.and_then(|info| duration_of(info.shutdown_grace_period.as_ref()))
}

fn duration_of(info: Option<&mesos_proto::v1::DurationInfo>) -> Option<Duration> {
    info.map(|d| Duration::from_nanos(u64::try_from(d.nanoseconds).unwrap_or(0)))
}

fn kill_grace(policy: Option<&KillPolicy>) -> Option<Duration> {
    duration_of(policy.and_then(|p| p.grace_period.as_ref()))
}

/// The agent's state, owned by its task.
pub(crate) struct AgentState {
    /// Shared with the command tasks' runners (see `command_task`).
    id: Arc<Identity>,
    to_master: mpsc::UnboundedSender<FromAgent>,
    input: mpsc::UnboundedSender<Input>,
    registry: Arc<Registry>,
    updates: StatusUpdateManager,
    /// [`StatusUpdateManager::pending_total`], published after every step
    /// for [`Agent::unacknowledged_updates`](super::Agent::unacknowledged_updates).
    unacknowledged: Arc<AtomicUsize>,
    /// How many times the master sent each task.
    launches: Arc<LaunchLog>,
    frameworks: HashMap<String, Framework>,
    stopped: bool,
}

impl AgentState {
    pub(crate) fn new(
        id: Identity,
        to_master: mpsc::UnboundedSender<FromAgent>,
        input: mpsc::UnboundedSender<Input>,
        registry: Arc<Registry>,
        status_update_retry: Duration,
        unacknowledged: Arc<AtomicUsize>,
        launches: Arc<LaunchLog>,
    ) -> Self {
        AgentState {
            id: Arc::new(id),
            to_master,
            input,
            registry,
            updates: StatusUpdateManager::new(status_update_retry),
            unacknowledged,
            launches,
            frameworks: HashMap::new(),
            stopped: false,
        }
    }

    /// Runs until `shutdown`; then kills every container.
    pub(crate) async fn run(
        mut self,
        mut from_master: mpsc::UnboundedReceiver<ToAgent>,
        mut inputs: mpsc::UnboundedReceiver<Input>,
        shutdown: CancellationToken,
    ) {
        let agent_id = self.id.agent_id.value.clone();
        // One shutdown future and one resend timer for the loop's life
        // (the timer is reset when the next resend deadline changes), not
        // new ones for every message.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        let resend = tokio::time::sleep_until(Instant::now());
        tokio::pin!(resend);
        let mut armed = None;
        loop {
            let deadline = self.updates.next_deadline();
            if deadline != armed {
                if let Some(at) = deadline {
                    resend.as_mut().reset(at);
                }
                armed = deadline;
            }
            tokio::select! {
                _ = &mut cancelled => break,
                Some(message) = from_master.recv() => self.on_master(message),
                Some(input) = inputs.recv() => self.on_input(input),
                _ = &mut resend, if armed.is_some() => {
                    let due = self.updates.due(Instant::now());
                    if !self.stopped {
                        for (framework_id, status) in due {
                            tracing::debug!(agent_id, framework_id, task_id = status.task_id.value, "resending status update");
                            self.forward(&framework_id, status);
                        }
                    }
                }
            }
            self.unacknowledged
                .store(self.updates.pending_total(), Ordering::Relaxed);
        }
        tracing::info!(agent_id, "agent shutting down; killing its containers");
        self.registry.kill_all();
    }

    fn forward(&self, framework_id: &str, status: Arc<TaskStatus>) {
        let _ = self.to_master.send(FromAgent::StatusUpdate {
            agent_id: self.id.agent_id.clone(),
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            status,
        });
    }

    fn executor(&self, key: &ExecKey) -> Option<&Executor> {
        self.frameworks
            .get(&key.0)
            .and_then(|f| f.executors.get(&key.1))
            .map(|e| &**e)
    }

    fn executor_matches(&self, key: &ExecKey, container_id: &str) -> bool {
        self.executor(key)
            .is_some_and(|e| e.container_id.value == container_id)
    }

    fn executor_mut(&mut self, framework_id: &str, executor_id: &str) -> Option<&mut Executor> {
        self.frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
            .map(|e| &mut **e)
    }
}
