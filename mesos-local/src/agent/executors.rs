//! The agent's state machine: frameworks, executors, tasks, the status
//! update manager. One task owns it all (no locks): the master's messages,
//! the executor API's calls and the containers' events arrive as [`Input`]s.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use mesos_proto::v1::executor::{call, event, Event};
use mesos_proto::v1::{
    framework_info, network_info, task_status, AgentId, AgentInfo, ContainerId, ExecutorId,
    ExecutorInfo, FrameworkId, FrameworkInfo, KillPolicy, NetworkInfo, TaskGroupInfo, TaskId,
    TaskInfo, TaskState, TaskStatus,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::env::ExecutorEnv;
use super::sandbox;
use super::status_updates::{is_terminal, Accepted, StatusUpdateManager};
use crate::containerizer::command::{
    new_uuid, now_seconds, CommandControl, CommandEvent, CommandTask,
};
use crate::containerizer::{
    Container, ContainerExit, Containerizer, LaunchKind, LaunchRequest, TaskBehavior,
};
use crate::protocol::{FromAgent, ToAgent};

/// After an executor's shutdown grace period: SIGTERM, then SIGKILL after this.
const KILL_ESCALATION: Duration = Duration::from_secs(1);

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
}

type Reply<T> = oneshot::Sender<Result<T, Rejection>>;

/// Everything the agent task reacts to, besides the master's messages.
pub(crate) enum Input {
    Subscribe {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        subscribe: call::Subscribe,
        reply: Reply<mpsc::UnboundedReceiver<Event>>,
    },
    Update {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        status: TaskStatus,
        reply: Reply<()>,
    },
    Message {
        framework_id: FrameworkId,
        executor_id: ExecutorId,
        data: Bytes,
        reply: Reply<()>,
    },
    Launched {
        key: ExecKey,
        container_id: String,
        result: Result<Arc<dyn Container>, String>,
    },
    Exited {
        key: ExecKey,
        container_id: String,
        exit: ContainerExit,
    },
    CommandUpdate {
        key: ExecKey,
        container_id: String,
        status: TaskStatus,
    },
    EmulatedTaskEnd {
        key: ExecKey,
        container_id: String,
        task_id: TaskId,
        exit: ContainerExit,
    },
    ShutdownGraceOver {
        key: ExecKey,
        container_id: String,
    },
    /// The agent "process" went down / came back.
    SetStopped {
        stopped: bool,
        done: oneshot::Sender<()>,
    },
}

/// (framework id, executor id).
pub(crate) type ExecKey = (String, String);

/// The containers an agent started, for `kill_all` (sync, from `Drop`).
#[derive(Default)]
pub(crate) struct Registry {
    inner: Mutex<RegistryInner>,
}

#[derive(Default)]
struct RegistryInner {
    killed: bool,
    containers: HashMap<String, Arc<dyn Container>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, RegistryInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a live container; kills it at once if `kill_all` happened.
    fn insert(&self, container: &Arc<dyn Container>) {
        let mut inner = self.lock();
        if inner.killed {
            drop(inner);
            let _ = container.signal(rustix::process::Signal::KILL.as_raw());
            return;
        }
        inner
            .containers
            .insert(container.id().value.clone(), container.clone());
    }

    fn remove(&self, container_id: &str) {
        self.lock().containers.remove(container_id);
    }

    /// SIGKILL to every container, now and for any launched later.
    pub(crate) fn kill_all(&self) {
        let containers: Vec<Arc<dyn Container>> = {
            let mut inner = self.lock();
            inner.killed = true;
            inner.containers.drain().map(|(_, c)| c).collect()
        };
        for container in containers {
            if let Err(e) = container.signal(rustix::process::Signal::KILL.as_raw()) {
                tracing::warn!(container_id = %container.id().value, error = %e, "SIGKILL failed");
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.lock()
            .containers
            .values()
            .filter_map(|c| c.pid())
            .collect()
    }
}

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
    Command {
        control: mpsc::UnboundedSender<CommandControl>,
    },
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
}

struct Executor {
    info: ExecutorInfo,
    container_id: ContainerId,
    directory: PathBuf,
    kind: Kind,
    state: ExecState,
    container: Option<Arc<dyn Container>>,
    stream: Option<mpsc::UnboundedSender<Event>>,
    queued: Vec<Launch>,
    tasks: HashMap<String, TaskEntry>,
    /// Task infos of delivered tasks (to requeue on resubscription).
    infos: HashMap<String, TaskInfo>,
    /// Events to send once the executor (re)subscribes.
    deferred: Vec<Event>,
}

impl Executor {
    fn send(&mut self, event: Event) -> bool {
        let Some(stream) = &self.stream else {
            return false;
        };
        if stream.send(event).is_err() {
            self.stream = None;
            return false;
        }
        true
    }

    /// Sends now, or once the executor (re)subscribes.
    fn send_or_defer(&mut self, event: Event) {
        if self.state == ExecState::Registering || !self.send(event.clone()) {
            self.deferred.push(event);
        }
    }

    fn live_tasks(&self) -> Vec<String> {
        self.tasks
            .iter()
            .filter(|(_, t)| !is_terminal(t.state as i32))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

struct Framework {
    info: FrameworkInfo,
    executors: HashMap<String, Executor>,
    /// task id → executor id.
    task_executor: HashMap<String, String>,
    shutting_down: bool,
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

fn duration_of(info: Option<&mesos_proto::v1::DurationInfo>) -> Option<Duration> {
    info.map(|d| Duration::from_nanos(u64::try_from(d.nanoseconds).unwrap_or(0)))
}

fn kill_grace(policy: Option<&KillPolicy>) -> Option<Duration> {
    duration_of(policy.and_then(|p| p.grace_period.as_ref()))
}

/// The agent's state, owned by its task.
pub(crate) struct AgentState {
    id: Identity,
    to_master: mpsc::UnboundedSender<FromAgent>,
    input: mpsc::UnboundedSender<Input>,
    registry: Arc<Registry>,
    updates: StatusUpdateManager,
    /// [`StatusUpdateManager::pending_total`], published after every step
    /// for [`Agent::unacknowledged_updates`](super::Agent::unacknowledged_updates).
    unacknowledged: Arc<AtomicUsize>,
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
    ) -> Self {
        AgentState {
            id,
            to_master,
            input,
            registry,
            updates: StatusUpdateManager::new(status_update_retry),
            unacknowledged,
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
        loop {
            let deadline = self.updates.next_deadline();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(message) = from_master.recv() => self.on_master(message),
                Some(input) = inputs.recv() => self.on_input(input),
                _ = sleep_until(deadline) => {
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

    fn forward(&self, framework_id: &str, status: TaskStatus) {
        let _ = self.to_master.send(FromAgent::StatusUpdate {
            agent_id: self.id.agent_id.clone(),
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            status,
        });
    }

    // ---------------------------------------------------------------- master

    fn on_master(&mut self, message: ToAgent) {
        match message {
            ToAgent::RunTask { framework, task } => self.run_task(framework, task),
            ToAgent::RunTaskGroup {
                framework,
                executor,
                task_group,
            } => self.run_on_executor(framework, executor, Launch::Group(task_group)),
            ToAgent::KillTask {
                framework_id,
                task_id,
                kill_policy,
            } => self.kill_task(&framework_id.value, &task_id, kill_policy),
            ToAgent::ShutdownExecutor {
                framework_id,
                executor_id,
            } => self.shutdown_executor(&framework_id.value, &executor_id.value),
            ToAgent::ShutdownFramework { framework_id } => {
                self.shutdown_framework(&framework_id.value)
            }
            ToAgent::FrameworkMessage {
                framework_id,
                executor_id,
                data,
            } => self.framework_message(&framework_id.value, &executor_id.value, data),
            ToAgent::StatusUpdateAcknowledged {
                framework_id,
                task_id,
                uuid,
            } => self.acknowledged(&framework_id.value, &task_id.value, &uuid),
            ToAgent::FrameworkSubscribed { framework_id } => {
                if !self.stopped {
                    for (fw, status) in self
                        .updates
                        .heads(Some(&framework_id.value), Instant::now())
                    {
                        self.forward(&fw, status);
                    }
                }
            }
        }
    }

    fn framework_entry(&mut self, framework: FrameworkInfo) -> Option<&mut Framework> {
        let framework_id = framework
            .id
            .as_ref()
            .map(|id| id.value.clone())
            .unwrap_or_default();
        if framework_id.is_empty() {
            tracing::warn!("a framework without id; ignored");
            return None;
        }
        let entry = self
            .frameworks
            .entry(framework_id)
            .or_insert_with(|| Framework {
                info: framework.clone(),
                executors: HashMap::new(),
                task_executor: HashMap::new(),
                shutting_down: false,
            });
        if entry.shutting_down {
            if !entry.executors.is_empty() {
                return None;
            }
            entry.shutting_down = false;
        }
        entry.info = framework;
        Some(entry)
    }

    fn run_task(&mut self, framework: FrameworkInfo, mut task: TaskInfo) {
        if task.agent_id.value.is_empty() {
            task.agent_id = self.id.agent_id.clone();
        }
        if let Some(executor) = task.executor.as_deref().cloned() {
            self.run_on_executor(framework, executor, Launch::Task(Box::new(task)));
        } else if task.command.is_some() {
            self.run_command_task(framework, task);
        } else {
            let framework_id = framework.id.clone().unwrap_or_default().value;
            self.agent_update(
                &framework_id,
                &task.task_id,
                None,
                TaskState::TaskError,
                task_status::Reason::TaskInvalid,
                "Task has neither an executor nor a command",
            );
        }
    }

    /// An update generated by the agent itself (SOURCE_AGENT).
    fn agent_update(
        &mut self,
        framework_id: &str,
        task_id: &TaskId,
        executor_id: Option<&str>,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
    ) {
        tracing::info!(
            framework_id,
            task_id = task_id.value,
            state = state.as_str_name(),
            reason = reason.as_str_name(),
            message,
            "agent status update"
        );
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message.to_string()),
            source: Some(task_status::Source::Agent as i32),
            reason: Some(reason as i32),
            agent_id: Some(self.id.agent_id.clone()),
            executor_id: executor_id.map(|e| ExecutorId {
                value: e.to_string(),
            }),
            timestamp: Some(now_seconds()),
            uuid: Some(new_uuid()),
            ..Default::default()
        };
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            if let Some(executor) = executor_id.and_then(|e| framework.executors.get_mut(e)) {
                if let Some(entry) = executor.tasks.get_mut(&task_id.value) {
                    entry.state = state;
                }
            }
        }
        self.enqueue(framework_id, status);
    }

    /// Into the status update manager; sends the head if it is new.
    fn enqueue(&mut self, framework_id: &str, status: TaskStatus) -> Accepted {
        if self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.shutting_down)
        {
            tracing::debug!(
                framework_id,
                "dropping an update of a framework being shut down"
            );
            return Accepted::Duplicate;
        }
        let accepted = self.updates.update(framework_id, status, Instant::now());
        if let Accepted::New(Some(head)) = &accepted {
            if !self.stopped {
                self.forward(framework_id, head.clone());
            }
        }
        accepted
    }

    fn new_executor(&self, framework_id: &str, info: ExecutorInfo, kind: Kind) -> Executor {
        let container_id = ContainerId {
            value: uuid::Uuid::new_v4().to_string(),
            parent: None,
        };
        let directory = sandbox::executor_run_directory(
            &self.id.work_dir,
            &self.id.agent_id.value,
            framework_id,
            &info.executor_id.value,
            &container_id.value,
        );
        Executor {
            info,
            container_id,
            directory,
            kind,
            state: ExecState::Registering,
            container: None,
            stream: None,
            queued: Vec::new(),
            tasks: HashMap::new(),
            infos: HashMap::new(),
            deferred: Vec::new(),
        }
    }

    fn launch_request(
        &self,
        framework: &FrameworkInfo,
        executor: &Executor,
        kind: LaunchKind,
        task: Option<&TaskInfo>,
    ) -> LaunchRequest {
        let framework_id = framework.id.clone().unwrap_or_default().value;
        let command = match task {
            Some(task) => task.command.clone().unwrap_or_default(),
            None => executor.info.command.clone().unwrap_or_default(),
        };
        let grace = duration_of(executor.info.shutdown_grace_period.as_ref())
            .unwrap_or(self.id.executor_shutdown_grace);
        let environment = ExecutorEnv {
            ip: self.id.ip,
            port: self.id.port,
            agent_id: &self.id.agent_id,
            agent_pid: &self.id.pid,
            framework,
            framework_id: &framework_id,
            executor_id: &executor.info.executor_id,
            directory: &executor.directory,
            shutdown_grace: grace,
            command_env: command.environment.as_ref(),
        }
        .build();
        let mut request = LaunchRequest::new(
            executor.container_id.clone(),
            kind,
            command.clone(),
            executor.directory.clone(),
        );
        request.framework = framework.clone();
        request.executor = executor.info.clone();
        request.task = task.cloned();
        request.container = match task {
            Some(task) => task.container.as_deref().cloned(),
            None => executor.info.container.as_deref().cloned(),
        };
        request.environment = environment;
        request.resources = match task {
            Some(task) => task.resources.clone(),
            None => executor.info.resources.clone(),
        };
        request.user = command
            .user
            .clone()
            .or_else(|| Some(framework.user.clone()).filter(|u| !u.is_empty()));
        request
    }

    fn run_command_task(&mut self, framework: FrameworkInfo, task: TaskInfo) {
        let Some(framework_id) = framework.id.clone().map(|id| id.value) else {
            return;
        };
        let task_id = task.task_id.value.clone();
        let exists = self.frameworks.get(&framework_id).is_some_and(|f| {
            f.executors.contains_key(&task_id) || f.task_executor.contains_key(&task_id)
        });
        if exists {
            tracing::warn!(
                framework_id,
                task_id,
                "task or executor id already in use; ignored"
            );
            return;
        }
        // The executor the real agent generates for a command task.
        let command = task.command.clone().unwrap_or_default();
        let info = ExecutorInfo {
            executor_id: ExecutorId {
                value: task_id.clone(),
            },
            framework_id: Some(FrameworkId {
                value: framework_id.clone(),
            }),
            name: Some(format!(
                "Command Executor (Task: {task_id}) (Command: sh -c '{}')",
                command.value.clone().unwrap_or_default()
            )),
            command: Some(command),
            resources: task.resources.clone(),
            ..Default::default()
        };
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let mut executor = self.new_executor(
            &framework_id,
            info,
            Kind::Command {
                control: control_tx,
            },
        );
        executor.tasks.insert(
            task_id.clone(),
            TaskEntry {
                state: TaskState::TaskStaging,
                delivered: true,
            },
        );
        executor.infos.insert(task_id.clone(), task.clone());
        let request =
            self.launch_request(&framework, &executor, LaunchKind::CommandTask, Some(&task));
        let key: ExecKey = (framework_id.clone(), task_id.clone());
        let container_id = executor.container_id.value.clone();
        let runner = CommandTask {
            containerizer: self.id.containerizer.clone(),
            request,
            task_id: task.task_id.clone(),
            kill_grace: kill_grace(task.kill_policy.as_ref()),
            task_killing: has_capability(
                &framework,
                framework_info::capability::Type::TaskKillingState,
            ),
        };
        let directory = executor.directory.clone();
        let Some(fw) = self.framework_entry(framework) else {
            return;
        };
        fw.task_executor.insert(task_id.clone(), task_id.clone());
        fw.executors.insert(task_id.clone(), executor);
        tracing::info!(
            framework_id,
            task_id,
            container_id,
            "launching command task"
        );
        let input = self.input.clone();
        let wants_sandbox = self.id.containerizer.uses_sandbox();
        tokio::spawn(async move {
            if let Err(error) = sandbox::create(&directory, wants_sandbox).await {
                let _ = input.send(Input::Launched {
                    key,
                    container_id,
                    result: Err(error),
                });
                return;
            }
            let emit = move |event: CommandEvent| {
                let message = match event {
                    CommandEvent::Launched(c) => Input::Launched {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        result: Ok(c),
                    },
                    CommandEvent::LaunchFailed(e) => Input::Launched {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        result: Err(e),
                    },
                    CommandEvent::Update(status) => Input::CommandUpdate {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        status,
                    },
                    CommandEvent::Exited(exit) => Input::Exited {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        exit,
                    },
                };
                let _ = input.send(message);
            };
            runner.run(control_rx, emit).await;
        });
    }

    fn run_on_executor(
        &mut self,
        framework: FrameworkInfo,
        mut info: ExecutorInfo,
        launch: Launch,
    ) {
        let Some(framework_id) = framework.id.clone().map(|id| id.value) else {
            return;
        };
        info.framework_id.get_or_insert_with(|| FrameworkId {
            value: framework_id.clone(),
        });
        let executor_id = info.executor_id.value.clone();
        let tasks: Vec<TaskInfo> = match &launch {
            Launch::Task(task) => vec![(**task).clone()],
            Launch::Group(group) => group.tasks.clone(),
        };
        let lost = lost_state(&framework);
        let new_executor = !self
            .frameworks
            .get(&framework_id)
            .is_some_and(|f| f.executors.contains_key(&executor_id));
        let fresh =
            new_executor.then(|| self.new_executor(&framework_id, info.clone(), Kind::Custom));
        let mut request = None;
        if let Some(executor) = &fresh {
            request = Some(self.launch_request(&framework, executor, LaunchKind::Executor, None));
        }
        let agent_id = self.id.agent_id.clone();
        let Some(fw) = self.framework_entry(framework) else {
            tracing::warn!(
                framework_id,
                executor_id,
                "framework is shutting down; tasks dropped"
            );
            return;
        };
        if let Some(executor) = fresh {
            fw.executors.insert(executor_id.clone(), executor);
        }
        let Some(executor) = fw.executors.get_mut(&executor_id) else {
            return;
        };
        if executor.state == ExecState::Terminating {
            for task in &tasks {
                let task_id = task.task_id.clone();
                self.agent_update(
                    &framework_id,
                    &task_id,
                    Some(&executor_id),
                    lost,
                    task_status::Reason::ExecutorTerminated,
                    "Executor terminating",
                );
            }
            return;
        }
        for mut task in tasks {
            if task.agent_id.value.is_empty() {
                task.agent_id = agent_id.clone();
            }
            fw.task_executor
                .insert(task.task_id.value.clone(), executor_id.clone());
            executor.tasks.insert(
                task.task_id.value.clone(),
                TaskEntry {
                    state: TaskState::TaskStaging,
                    delivered: false,
                },
            );
            executor.infos.insert(task.task_id.value.clone(), task);
        }
        executor.queued.push(launch);
        let container_id = executor.container_id.value.clone();
        let directory = executor.directory.clone();
        self.deliver(&framework_id, &executor_id);

        if let Some(request) = request {
            tracing::info!(
                framework_id,
                executor_id,
                container_id,
                "launching executor"
            );
            let key: ExecKey = (framework_id, executor_id);
            let input = self.input.clone();
            let containerizer = self.id.containerizer.clone();
            tokio::spawn(async move {
                let result = match sandbox::create(&directory, containerizer.uses_sandbox()).await {
                    Err(error) => Err(error),
                    Ok(()) => containerizer
                        .launch(request)
                        .await
                        .map(Arc::from)
                        .map_err(|e| e.to_string()),
                };
                let container = result.as_ref().ok().cloned();
                let _ = input.send(Input::Launched {
                    key: key.clone(),
                    container_id: container_id.clone(),
                    result,
                });
                if let Some(container) = container {
                    let exit = container.wait().await;
                    let _ = input.send(Input::Exited {
                        key,
                        container_id,
                        exit,
                    });
                }
            });
        }
    }

    /// Sends the queued launches of an executor if it can take them.
    fn deliver(&mut self, framework_id: &str, executor_id: &str) {
        let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        else {
            return;
        };
        match executor.kind {
            Kind::Emulated(behavior) => {
                if executor.container.is_none() {
                    return;
                }
                let launches: Vec<Launch> = executor.queued.drain(..).collect();
                let mut started = Vec::new();
                for launch in launches {
                    let tasks = match launch {
                        Launch::Task(task) => vec![*task],
                        Launch::Group(group) => group.tasks,
                    };
                    for task in tasks {
                        if let Some(entry) = executor.tasks.get_mut(&task.task_id.value) {
                            entry.delivered = true;
                        }
                        started.push(task.task_id);
                    }
                }
                let container_id = executor.container_id.value.clone();
                for task_id in started {
                    self.emulated_start(
                        framework_id,
                        executor_id,
                        &container_id,
                        task_id,
                        behavior,
                    );
                }
            }
            Kind::Custom if executor.state == ExecState::Running && executor.stream.is_some() => {
                let launches: Vec<Launch> = executor.queued.drain(..).collect();
                for launch in launches {
                    let (ev, ids) = match launch {
                        Launch::Task(task) => {
                            let ids = vec![task.task_id.value.clone()];
                            let mut ev = event(event::Type::Launch);
                            ev.launch = Some(event::Launch { task: *task });
                            (ev, ids)
                        }
                        Launch::Group(task_group) => {
                            let ids = task_group
                                .tasks
                                .iter()
                                .map(|t| t.task_id.value.clone())
                                .collect();
                            let mut ev = event(event::Type::LaunchGroup);
                            ev.launch_group = Some(event::LaunchGroup { task_group });
                            (ev, ids)
                        }
                    };
                    for id in ids {
                        if let Some(entry) = executor.tasks.get_mut(&id) {
                            entry.delivered = true;
                        }
                    }
                    if !executor.send(ev) {
                        tracing::warn!(
                            framework_id,
                            executor_id,
                            "executor stream closed while launching"
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn emulated_start(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        task_id: TaskId,
        behavior: TaskBehavior,
    ) {
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: TaskState::TaskRunning as i32,
            source: Some(task_status::Source::Executor as i32),
            timestamp: Some(now_seconds()),
            uuid: Some(new_uuid()),
            ..Default::default()
        };
        self.executor_update(framework_id, executor_id, status, false);
        let (after, exit) = match behavior {
            TaskBehavior::Finish { after } => (after, ContainerExit::exited(0)),
            TaskBehavior::Fail { after, code } => (after, ContainerExit::exited(code)),
            TaskBehavior::RunUntilKilled => return,
        };
        let input = self.input.clone();
        let key: ExecKey = (framework_id.to_string(), executor_id.to_string());
        let container_id = container_id.to_string();
        tokio::spawn(async move {
            if !after.is_zero() {
                tokio::time::sleep(after).await;
            }
            let _ = input.send(Input::EmulatedTaskEnd {
                key,
                container_id,
                task_id,
                exit,
            });
        });
    }

    fn emulated_end(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        task_id: &TaskId,
        state: TaskState,
        message: String,
    ) {
        let live = self
            .frameworks
            .get(framework_id)
            .and_then(|f| f.executors.get(executor_id))
            .and_then(|e| e.tasks.get(&task_id.value))
            .is_some_and(|t| !is_terminal(t.state as i32));
        if !live {
            return;
        }
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message),
            source: Some(task_status::Source::Executor as i32),
            timestamp: Some(now_seconds()),
            uuid: Some(new_uuid()),
            ..Default::default()
        };
        self.executor_update(framework_id, executor_id, status, false);
    }

    /// An update from an executor (over the API, or played by the agent):
    /// the agent's fields are filled in as the real agent does.
    fn executor_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        mut status: TaskStatus,
        forward_ack: bool,
    ) -> Accepted {
        let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        else {
            return Accepted::Duplicate;
        };
        status.agent_id = Some(self.id.agent_id.clone());
        status.executor_id = Some(executor.info.executor_id.clone());
        status.source = Some(task_status::Source::Executor as i32);
        if status.timestamp.is_none() {
            status.timestamp = Some(now_seconds());
        }
        let mut container_status = status.container_status.take().unwrap_or_default();
        container_status.container_id = Some(executor.container_id.clone());
        if let Some(pid) = executor.container.as_ref().and_then(|c| c.pid()) {
            container_status.executor_pid = Some(pid);
        }
        if container_status.network_infos.is_empty() {
            container_status.network_infos.push(NetworkInfo {
                ip_addresses: vec![network_info::IpAddress {
                    protocol: Some(if self.id.ip.is_ipv4() {
                        network_info::Protocol::IPv4
                    } else {
                        network_info::Protocol::IPv6
                    } as i32),
                    ip_address: Some(self.id.ip.to_string()),
                }],
                ..Default::default()
            });
        }
        status.container_status = Some(container_status);
        let state = TaskState::try_from(status.state).unwrap_or(TaskState::TaskUnknown);
        let uuid = status.uuid.clone().unwrap_or_default();
        let task_id = status.task_id.clone();
        let accepted = self.enqueue(framework_id, status);
        let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        else {
            return accepted;
        };
        if matches!(accepted, Accepted::New(_)) {
            // Latest state as received (a duplicate carries an older one).
            if let Some(entry) = executor.tasks.get_mut(&task_id.value) {
                entry.state = state;
            }
        }
        if forward_ack {
            // As the real agent (`Slave::___statusUpdate`): the executor's
            // update is acknowledged once the status update manager has it,
            // duplicates included, whatever the scheduler does.
            let mut ev = event(event::Type::Acknowledged);
            ev.acknowledged = Some(event::Acknowledged { task_id, uuid });
            executor.send_or_defer(ev);
        }
        accepted
    }

    fn kill_task(&mut self, framework_id: &str, task_id: &TaskId, kill_policy: Option<KillPolicy>) {
        enum Action {
            Command(mpsc::UnboundedSender<CommandControl>),
            Emulated,
            Undelivered,
            Event,
        }
        let Some(framework) = self.frameworks.get(framework_id) else {
            tracing::warn!(
                framework_id,
                task_id = task_id.value,
                "kill for an unknown framework; ignored"
            );
            return;
        };
        let lost = lost_state(&framework.info);
        let executor = framework
            .task_executor
            .get(&task_id.value)
            .and_then(|e| framework.executors.get(e));
        let Some(executor) = executor else {
            tracing::warn!(
                framework_id,
                task_id = task_id.value,
                "kill for an unknown task"
            );
            self.agent_update(
                framework_id,
                task_id,
                None,
                lost,
                task_status::Reason::ExecutorTerminated,
                "Cannot find executor",
            );
            return;
        };
        let executor_id = executor.info.executor_id.value.clone();
        let Some(entry) = executor.tasks.get(&task_id.value) else {
            return;
        };
        if is_terminal(entry.state as i32) {
            tracing::debug!(
                framework_id,
                task_id = task_id.value,
                "kill for a terminal task; ignored"
            );
            return;
        }
        let action = match &executor.kind {
            Kind::Command { control } => Action::Command(control.clone()),
            Kind::Emulated(_) => Action::Emulated,
            Kind::Custom if !entry.delivered || executor.state == ExecState::Registering => {
                Action::Undelivered
            }
            Kind::Custom => Action::Event,
        };
        tracing::info!(
            framework_id,
            executor_id,
            task_id = task_id.value,
            "killing task"
        );
        match action {
            Action::Command(control) => {
                let _ = control.send(CommandControl::Kill {
                    grace: kill_grace(kill_policy.as_ref()),
                });
            }
            Action::Emulated => {
                self.emulated_end(
                    framework_id,
                    &executor_id,
                    task_id,
                    TaskState::TaskKilled,
                    "Command terminated with signal Terminated".into(),
                );
            }
            Action::Undelivered => {
                // Not delivered yet: the agent kills it itself.
                if let Some(executor) = self.executor_mut(framework_id, &executor_id) {
                    let id = task_id.value.clone();
                    executor.queued.retain_mut(|launch| match launch {
                        Launch::Task(t) => t.task_id.value != id,
                        Launch::Group(g) => {
                            g.tasks.retain(|t| t.task_id.value != id);
                            !g.tasks.is_empty()
                        }
                    });
                }
                self.agent_update(
                    framework_id,
                    task_id,
                    Some(&executor_id),
                    TaskState::TaskKilled,
                    task_status::Reason::TaskKilledDuringLaunch,
                    "Killed before delivery to the executor",
                );
                let idle = self
                    .executor_mut(framework_id, &executor_id)
                    .is_some_and(|e| {
                        e.state == ExecState::Registering && e.live_tasks().is_empty()
                    });
                if idle {
                    // As the real agent: an executor left without tasks
                    // before it registered is shut down.
                    self.shutdown_executor(framework_id, &executor_id);
                }
            }
            Action::Event => {
                if let Some(executor) = self.executor_mut(framework_id, &executor_id) {
                    let mut ev = event(event::Type::Kill);
                    ev.kill = Some(event::Kill {
                        task_id: task_id.clone(),
                        kill_policy,
                    });
                    executor.send_or_defer(ev);
                }
            }
        }
    }

    fn executor_mut(&mut self, framework_id: &str, executor_id: &str) -> Option<&mut Executor> {
        self.frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
    }

    fn shutdown_executor(&mut self, framework_id: &str, executor_id: &str) {
        let default_grace = self.id.executor_shutdown_grace;
        let input = self.input.clone();
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            tracing::warn!(
                framework_id,
                executor_id,
                "shutdown of an unknown executor; ignored"
            );
            return;
        };
        if executor.state == ExecState::Terminating {
            return;
        }
        let previous = executor.state;
        executor.state = ExecState::Terminating;
        tracing::info!(framework_id, executor_id, "shutting down executor");
        match &executor.kind {
            Kind::Command { control } => {
                let _ = control.send(CommandControl::Kill { grace: None });
            }
            Kind::Emulated(_) => {
                let container = executor.container.clone();
                for task in executor.live_tasks() {
                    let task_id = TaskId { value: task };
                    self.emulated_end(
                        framework_id,
                        executor_id,
                        &task_id,
                        TaskState::TaskKilled,
                        "Executor shut down".into(),
                    );
                }
                if let Some(container) = container {
                    tokio::spawn(async move {
                        container.destroy().await;
                    });
                }
            }
            Kind::Custom => {
                let grace = duration_of(executor.info.shutdown_grace_period.as_ref())
                    .unwrap_or(default_grace);
                let subscribed =
                    previous == ExecState::Running && executor.send(event(event::Type::Shutdown));
                match (&executor.container, subscribed) {
                    (Some(container), false) => {
                        let container = container.clone();
                        tokio::spawn(async move {
                            container.kill(KILL_ESCALATION).await;
                        });
                    }
                    (None, _) => {} // killed as soon as the launch completes
                    (Some(_), true) => {
                        let key: ExecKey = (framework_id.to_string(), executor_id.to_string());
                        let container_id = executor.container_id.value.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(grace).await;
                            let _ = input.send(Input::ShutdownGraceOver { key, container_id });
                        });
                    }
                }
            }
        }
    }

    fn shutdown_framework(&mut self, framework_id: &str) {
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        tracing::info!(framework_id, "shutting down framework");
        let executors: Vec<String> = framework.executors.keys().cloned().collect();
        for executor_id in &executors {
            self.shutdown_executor(framework_id, executor_id);
        }
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            framework.shutting_down = true;
        }
        self.updates.remove_framework(framework_id);
        if executors.is_empty() {
            self.frameworks.remove(framework_id);
        }
    }

    fn framework_message(&mut self, framework_id: &str, executor_id: &str, data: Bytes) {
        let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        else {
            tracing::warn!(
                framework_id,
                executor_id,
                "framework message for an unknown executor; dropped"
            );
            return;
        };
        match executor.kind {
            Kind::Emulated(_) => {
                let _ = self.to_master.send(FromAgent::ExecutorMessage {
                    agent_id: self.id.agent_id.clone(),
                    framework_id: FrameworkId {
                        value: framework_id.to_string(),
                    },
                    executor_id: executor.info.executor_id.clone(),
                    data,
                });
            }
            _ => {
                let mut ev = event(event::Type::Message);
                ev.message = Some(event::Message { data });
                if !executor.send(ev) {
                    tracing::warn!(
                        framework_id,
                        executor_id,
                        "executor not connected; framework message dropped"
                    );
                }
            }
        }
    }

    fn acknowledged(&mut self, framework_id: &str, task_id: &str, uuid: &[u8]) {
        let Some(ack) = self
            .updates
            .acknowledge(framework_id, task_id, uuid, Instant::now())
        else {
            tracing::debug!(
                framework_id,
                task_id,
                "acknowledgement of an unknown update; ignored"
            );
            return;
        };
        if let Some(next) = ack.next {
            if !self.stopped {
                self.forward(framework_id, next);
            }
        }
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        let executor_id = framework.task_executor.get(task_id).cloned();
        let executor = executor_id
            .as_ref()
            .and_then(|e| framework.executors.get_mut(e));
        if let Some(executor) = executor {
            if ack.finished {
                executor.tasks.remove(task_id);
                executor.infos.remove(task_id);
            }
        }
        if ack.finished {
            framework.task_executor.remove(task_id);
        }
    }

    // ---------------------------------------------------------------- inputs

    fn on_input(&mut self, input: Input) {
        match input {
            Input::Subscribe {
                framework_id,
                executor_id,
                subscribe,
                reply,
            } => {
                let _ =
                    reply.send(self.subscribe(&framework_id.value, &executor_id.value, subscribe));
            }
            Input::Update {
                framework_id,
                executor_id,
                status,
                reply,
            } => {
                let _ =
                    reply.send(self.api_update(&framework_id.value, &executor_id.value, status));
            }
            Input::Message {
                framework_id,
                executor_id,
                data,
                reply,
            } => {
                let result = self
                    .registered_executor(&framework_id.value, &executor_id.value)
                    .map(|_| ());
                if result.is_ok() {
                    let _ = self.to_master.send(FromAgent::ExecutorMessage {
                        agent_id: self.id.agent_id.clone(),
                        framework_id,
                        executor_id,
                        data,
                    });
                }
                let _ = reply.send(result);
            }
            Input::Launched {
                key,
                container_id,
                result,
            } => self.launched(&key, &container_id, result),
            Input::Exited {
                key,
                container_id,
                exit,
            } => self.exited(&key, &container_id, exit),
            Input::CommandUpdate {
                key,
                container_id,
                status,
            } => {
                if self.executor_matches(&key, &container_id) {
                    self.executor_update(&key.0, &key.1, status, false);
                }
            }
            Input::EmulatedTaskEnd {
                key,
                container_id,
                task_id,
                exit,
            } => {
                if self.executor_matches(&key, &container_id) {
                    let state = if exit.success() {
                        TaskState::TaskFinished
                    } else {
                        TaskState::TaskFailed
                    };
                    self.emulated_end(&key.0, &key.1, &task_id, state, format!("Command {exit}"));
                }
            }
            Input::ShutdownGraceOver { key, container_id } => {
                if self.executor_matches(&key, &container_id) {
                    if let Some(container) = self.executor(&key).and_then(|e| e.container.clone()) {
                        tracing::info!(
                            framework_id = key.0,
                            executor_id = key.1,
                            "shutdown grace period over; killing the executor"
                        );
                        tokio::spawn(async move {
                            container.kill(KILL_ESCALATION).await;
                        });
                    }
                }
            }
            Input::SetStopped { stopped, done } => {
                self.stopped = stopped;
                if stopped {
                    for framework in self.frameworks.values_mut() {
                        for executor in framework.executors.values_mut() {
                            executor.stream = None;
                        }
                    }
                } else {
                    for (framework_id, status) in self.updates.heads(None, Instant::now()) {
                        self.forward(&framework_id, status);
                    }
                }
                let _ = done.send(());
            }
        }
    }

    fn executor(&self, key: &ExecKey) -> Option<&Executor> {
        self.frameworks
            .get(&key.0)
            .and_then(|f| f.executors.get(&key.1))
    }

    fn executor_matches(&self, key: &ExecKey, container_id: &str) -> bool {
        self.executor(key)
            .is_some_and(|e| e.container_id.value == container_id)
    }

    fn registered_executor(
        &mut self,
        framework_id: &str,
        executor_id: &str,
    ) -> Result<&mut Executor, Rejection> {
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| Rejection::bad_request("Framework cannot be found"))?;
        let executor = framework
            .executors
            .get_mut(executor_id)
            .filter(|e| matches!(e.kind, Kind::Custom))
            .ok_or_else(|| Rejection::bad_request("Executor cannot be found"))?;
        if executor.state == ExecState::Registering {
            return Err(Rejection {
                status: StatusCode::FORBIDDEN,
                message: "Executor is not subscribed".into(),
            });
        }
        Ok(executor)
    }

    fn subscribe(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        subscribe: call::Subscribe,
    ) -> Result<mpsc::UnboundedReceiver<Event>, Rejection> {
        let agent_info = self.id.info.clone();
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| Rejection::bad_request("Framework cannot be found"))?;
        let framework_info = framework.info.clone();
        let executor = framework
            .executors
            .get_mut(executor_id)
            .filter(|e| matches!(e.kind, Kind::Custom))
            .ok_or_else(|| Rejection::bad_request("Executor cannot be found"))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let resubscribe = executor.state != ExecState::Registering;
        tracing::info!(
            framework_id,
            executor_id,
            resubscribe,
            unacknowledged_tasks = subscribe.unacknowledged_tasks.len(),
            unacknowledged_updates = subscribe.unacknowledged_updates.len(),
            "executor subscribed"
        );
        executor.stream = Some(tx);
        if executor.state == ExecState::Terminating {
            executor.send(event(event::Type::Shutdown));
            return Ok(rx);
        }
        executor.state = ExecState::Running;
        // Tasks sent on a stream that was cut before the executor saw them:
        // deliver them again.
        let known: HashSet<&str> = subscribe
            .unacknowledged_tasks
            .iter()
            .map(|t| t.task_id.value.as_str())
            .collect();
        let mut requeue = Vec::new();
        for (id, entry) in executor.tasks.iter_mut() {
            if entry.delivered
                && entry.state == TaskState::TaskStaging
                && !known.contains(id.as_str())
            {
                entry.delivered = false;
                if let Some(info) = executor.infos.get(id) {
                    requeue.push(Launch::Task(Box::new(info.clone())));
                }
            }
        }
        executor.queued.splice(0..0, requeue);
        let mut subscribed = event(event::Type::Subscribed);
        subscribed.subscribed = Some(event::Subscribed {
            executor_info: executor.info.clone(),
            framework_info,
            agent_info,
            container_id: Some(executor.container_id.clone()),
        });
        executor.send(subscribed);
        let deferred: Vec<Event> = executor.deferred.drain(..).collect();
        // Unacknowledged updates the agent may not have (lost with the old
        // connection): the status update manager drops duplicates.
        for update in subscribe.unacknowledged_updates {
            let status = update.status;
            if status
                .uuid
                .as_ref()
                .is_none_or(|u| uuid::Uuid::from_slice(u).is_err())
            {
                continue;
            }
            self.executor_update(framework_id, executor_id, status, true);
        }
        self.deliver(framework_id, executor_id);
        if let Some(executor) = self
            .frameworks
            .get_mut(framework_id)
            .and_then(|f| f.executors.get_mut(executor_id))
        {
            for ev in deferred {
                executor.send_or_defer(ev);
            }
        }
        Ok(rx)
    }

    fn api_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        status: TaskStatus,
    ) -> Result<(), Rejection> {
        let executor = self.registered_executor(framework_id, executor_id)?;
        if !executor.tasks.contains_key(&status.task_id.value) {
            return Err(Rejection::bad_request(format!(
                "Task {} is not known to executor {executor_id}",
                status.task_id.value
            )));
        }
        self.executor_update(framework_id, executor_id, status, true);
        Ok(())
    }

    fn launched(
        &mut self,
        key: &ExecKey,
        container_id: &str,
        result: Result<Arc<dyn Container>, String>,
    ) {
        let (framework_id, executor_id) = (key.0.as_str(), key.1.as_str());
        if !self.executor_matches(key, container_id) {
            if let Ok(container) = result {
                tokio::spawn(async move {
                    container.destroy().await;
                });
            }
            return;
        }
        match result {
            Ok(container) => {
                self.registry.insert(&container);
                let Some(executor) = self
                    .frameworks
                    .get_mut(framework_id)
                    .and_then(|f| f.executors.get_mut(executor_id))
                else {
                    return;
                };
                executor.container = Some(container.clone());
                if matches!(executor.kind, Kind::Custom) {
                    if let Some(emulated) = container.emulated_executor() {
                        executor.kind = Kind::Emulated(emulated.tasks);
                        if executor.state == ExecState::Registering {
                            executor.state = ExecState::Running;
                        }
                    }
                }
                if executor.state == ExecState::Terminating {
                    if matches!(executor.kind, Kind::Emulated(_)) {
                        executor.state = ExecState::Running;
                        self.shutdown_executor(framework_id, executor_id);
                    } else if matches!(executor.kind, Kind::Custom) {
                        tokio::spawn(async move {
                            container.kill(KILL_ESCALATION).await;
                        });
                    }
                    return;
                }
                self.deliver(framework_id, executor_id);
            }
            Err(message) => {
                tracing::warn!(
                    framework_id,
                    executor_id,
                    error = message,
                    "container launch failed"
                );
                let Some(framework) = self.frameworks.get_mut(framework_id) else {
                    return;
                };
                let Some(executor) = framework.executors.remove(executor_id) else {
                    return;
                };
                let custom = matches!(executor.kind, Kind::Custom);
                let live = executor.live_tasks();
                for task in &live {
                    framework.task_executor.remove(task);
                }
                if custom {
                    self.executor_terminated_message(
                        framework_id,
                        &executor.info.executor_id,
                        None,
                    );
                }
                for task in live {
                    self.agent_update(
                        framework_id,
                        &TaskId { value: task },
                        Some(executor_id),
                        TaskState::TaskFailed,
                        task_status::Reason::ContainerLaunchFailed,
                        &format!("Failed to launch container: {message}"),
                    );
                }
                self.cleanup_framework(framework_id);
            }
        }
    }

    fn executor_terminated_message(
        &self,
        framework_id: &str,
        executor_id: &ExecutorId,
        status: Option<i32>,
    ) {
        let _ = self.to_master.send(FromAgent::ExecutorTerminated {
            agent_id: self.id.agent_id.clone(),
            framework_id: FrameworkId {
                value: framework_id.to_string(),
            },
            executor_id: executor_id.clone(),
            status,
        });
    }

    fn exited(&mut self, key: &ExecKey, container_id: &str, exit: ContainerExit) {
        let (framework_id, executor_id) = (key.0.as_str(), key.1.as_str());
        self.registry.remove(container_id);
        if !self.executor_matches(key, container_id) {
            return;
        }
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        let Some(executor) = framework.executors.remove(executor_id) else {
            return;
        };
        tracing::info!(framework_id, executor_id, container_id, %exit, "executor terminated");
        let command = matches!(executor.kind, Kind::Command { .. });
        let live = executor.live_tasks();
        for task in executor.tasks.keys() {
            framework.task_executor.remove(task);
        }
        if !command {
            self.executor_terminated_message(
                framework_id,
                &executor.info.executor_id,
                exit.wait_status(),
            );
        }
        let reason = if command {
            task_status::Reason::CommandExecutorFailed
        } else {
            task_status::Reason::ExecutorTerminated
        };
        for task in live {
            // Keep the task → executor mapping until its updates are done.
            if let Some(framework) = self.frameworks.get_mut(framework_id) {
                framework.task_executor.remove(&task);
            }
            self.agent_update(
                framework_id,
                &TaskId { value: task },
                Some(executor_id),
                TaskState::TaskFailed,
                reason,
                "Executor terminated",
            );
        }
        self.cleanup_framework(framework_id);
    }

    fn cleanup_framework(&mut self, framework_id: &str) {
        if self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.shutting_down && f.executors.is_empty())
        {
            self.frameworks.remove(framework_id);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
