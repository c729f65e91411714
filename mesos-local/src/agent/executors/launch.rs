//! Launching: frameworks and executors come into being, executors are
//! started through the containerizer (command tasks: `command_task`),
//! queued launches are delivered, and the launch's outcome is applied.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use mesos_proto::v1::{
    task_status, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId,
    TaskInfo, TaskState,
};

use crate::agent::env::ExecutorEnv;
use crate::agent::sandbox;
use crate::containerizer::{Container, LaunchKind, LaunchRequest};
use crate::fetcher;

use super::{
    event, executor_info, given_shutdown_grace, lost_state, AgentState, ExecKey, ExecState,
    Executor, Framework, Identity, Input, Kind, Launch, Registry, TaskEntry, TaskMap,
    KILL_ESCALATION,
};

/// What a launch that finds the agent torn down reports (nobody reads it
/// once the agent's loop has ended).
pub(super) const TORN_DOWN: &str = "the agent is shutting down";

/// Why a command task's launch stopped when the task was killed while its
/// URIs were fetched (its TASK_KILLED is already reported).
pub(super) const KILLED_DURING_LAUNCH: &str = "the task was killed during its launch";

/// The steps before a launch: the sandbox, created unless the agent was
/// torn down meanwhile (then nothing is created and the launch stops), and
/// the command's URIs fetched into it (see [`crate::fetcher`]). A failed
/// fetch is reported as the real agent's containerizer does; a teardown
/// during the fetch abandons it.
pub(super) async fn prepare(
    registry: &Arc<Registry>,
    fetcher: &fetcher::Fetcher,
    request: &LaunchRequest,
    wanted: bool,
) -> Result<(), String> {
    match registry
        .create_sandbox(request.sandbox.clone(), wanted)
        .await
    {
        Some(result) => result?,
        None => return Err(TORN_DOWN.to_string()),
    }
    if !wanted || request.command.uris.is_empty() {
        return Ok(());
    }
    // A teardown abandons the fetch (its download is dropped).
    tokio::select! {
        fetched = fetcher.fetch_all(&request.command.uris, &request.sandbox, request.user.as_deref()) => {
            fetched.map_err(|failure| {
                format!(
                    "Failed to fetch all URIs for container '{}': {failure}",
                    request.container_id.value
                )
            })
        }
        () = registry.torn_down() => Err(TORN_DOWN.to_string()),
    }
}

impl AgentState {
    pub(super) fn framework_entry(
        &mut self,
        framework: Arc<FrameworkInfo>,
    ) -> Option<&mut Framework> {
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
                info: Arc::clone(&framework),
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

    pub(super) fn run_task(&mut self, framework: Arc<FrameworkInfo>, mut task: Arc<TaskInfo>) {
        if task.agent_id.value.is_empty() {
            Arc::make_mut(&mut task).agent_id = self.id.agent_id.clone();
        }
        if let Some(executor) = task.executor.as_deref().cloned() {
            let task = Box::new(Arc::unwrap_or_clone(task));
            self.run_on_executor(framework, executor, Launch::Task(task));
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

    /// An executor's sandbox (its run's directory), made from its ids when
    /// needed rather than kept with each executor.
    pub(super) fn directory_of(&self, framework_id: &str, executor: &Executor) -> PathBuf {
        run_directory(&self.id, framework_id, &executor.id, &executor.container_id)
    }

    pub(super) fn new_executor(
        &self,
        framework_id: &str,
        id: String,
        given: Option<Box<ExecutorInfo>>,
        kind: Kind,
    ) -> Executor {
        let container_id = ContainerId {
            value: crate::containerizer::command::fast_uuid().to_string(),
            parent: None,
        };
        Executor {
            id: ExecutorId { value: id },
            given,
            container_id,
            kind,
            state: ExecState::Registering,
            container: None,
            stream: None,
            max_queued: self.id.max_queued_events,
            queued: Vec::new(),
            tasks: TaskMap::default(),
            deferred: Vec::new(),
            token: None,
            sent_updates: false,
            pending_termination: None,
        }
        .with_token(&self.id.tokens, framework_id)
    }

    pub(super) fn launch_request(
        &self,
        framework: &FrameworkInfo,
        executor: &Executor,
        kind: LaunchKind,
        task: Option<&TaskInfo>,
    ) -> LaunchRequest {
        launch_request(
            &self.id,
            LaunchSource {
                framework,
                executor_id: &executor.id,
                container_id: &executor.container_id,
                given: executor.given.as_deref(),
                auth_token: executor.token.as_ref().map(|t| t.secret().expose()),
                kind,
                task,
            },
        )
    }

    pub(super) fn run_on_executor(
        &mut self,
        framework: Arc<FrameworkInfo>,
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
        let fresh = new_executor.then(|| {
            self.new_executor(
                &framework_id,
                executor_id.clone(),
                Some(Box::new(info.clone())),
                Kind::Custom,
            )
        });
        let mut request = None;
        if let Some(executor) = &fresh {
            request = Some(self.launch_request(&framework, executor, LaunchKind::Executor, None));
        }
        let Some(fw) = self.framework_entry(framework) else {
            tracing::warn!(
                framework_id,
                executor_id,
                "framework is shutting down; tasks dropped"
            );
            return;
        };
        if let Some(executor) = fresh {
            fw.executors.insert(executor_id.clone(), Box::new(executor));
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
        for task in tasks {
            fw.task_executor
                .insert(task.task_id.value.clone(), executor_id.clone());
            executor.tasks.insert(
                task.task_id.value.clone(),
                TaskEntry {
                    state: TaskState::TaskStaging,
                    delivered: false,
                    statuses: Vec::new(),
                    info: Arc::new(task),
                },
            );
        }
        executor.queued.push(launch);
        let container_id: Arc<str> = Arc::from(executor.container_id.value.as_str());
        self.deliver(&framework_id, &executor_id);

        if let Some(request) = request {
            tracing::info!(
                framework_id,
                executor_id,
                container_id = &*container_id,
                "launching executor"
            );
            let key: Arc<ExecKey> = Arc::new((framework_id, executor_id));
            let input = self.input.clone();
            let containerizer = self.id.containerizer.clone();
            let registry = self.registry.clone();
            let fetcher = self.id.fetcher.clone();
            tokio::spawn(async move {
                let result = match prepare(
                    &registry,
                    &fetcher,
                    &request,
                    containerizer.uses_sandbox(),
                )
                .await
                {
                    Err(error) => Err(error),
                    Ok(()) => containerizer
                        .launch(request)
                        .await
                        .map(Arc::from)
                        .map_err(|e| e.to_string()),
                };
                if let Ok(container) = &result {
                    // Recorded (or killed, after a teardown) at once.
                    registry.insert(container);
                }
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
    pub(super) fn deliver(&mut self, framework_id: &str, executor_id: &str) {
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

    pub(super) fn launched(
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
                // (Already in the registry: the launch recorded it.)
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
                if matches!(executor.kind, Kind::Custom) && executor.state == ExecState::Registering
                {
                    let input = self.input.clone();
                    let key = Arc::new(key.clone());
                    let container_id = Arc::from(container_id);
                    tokio::spawn(async move {
                        tokio::time::sleep(super::EXECUTOR_REGISTRATION_TIMEOUT).await;
                        let _ = input.send(Input::RegistrationTimeout { key, container_id });
                    });
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
                    self.executor_terminated_message(framework_id, &executor.id, None);
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
}

/// An executor's sandbox on the agent `id` (its run's directory).
fn run_directory(
    id: &Identity,
    framework_id: &str,
    executor_id: &ExecutorId,
    container_id: &ContainerId,
) -> PathBuf {
    sandbox::executor_run_directory(
        &id.work_dir,
        &id.agent_id.value,
        framework_id,
        &executor_id.value,
        &container_id.value,
    )
}

/// What a [`LaunchRequest`] is made from.
pub(super) struct LaunchSource<'a> {
    pub(super) framework: &'a FrameworkInfo,
    pub(super) executor_id: &'a ExecutorId,
    pub(super) container_id: &'a ContainerId,
    /// A custom executor's info (a command task's executor has none).
    pub(super) given: Option<&'a ExecutorInfo>,
    /// Its `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, if issued.
    pub(super) auth_token: Option<&'a str>,
    pub(super) kind: LaunchKind,
    /// The command task, for [`LaunchKind::CommandTask`].
    pub(super) task: Option<&'a TaskInfo>,
}

/// The request that starts `source`'s container on the agent `id`.
pub(super) fn launch_request(id: &Identity, source: LaunchSource<'_>) -> LaunchRequest {
    let LaunchSource {
        framework,
        executor_id,
        container_id,
        given,
        auth_token,
        kind,
        task,
    } = source;
    let framework_id = framework.id.clone().unwrap_or_default().value;
    let command = match task {
        Some(task) => task.command.clone().unwrap_or_default(),
        None => given
            .and_then(|info| info.command.clone())
            .unwrap_or_default(),
    };
    let grace = given_shutdown_grace(given).unwrap_or(id.executor_shutdown_grace);
    let directory = run_directory(id, &framework_id, executor_id, container_id);
    let environment = ExecutorEnv {
        ip: id.ip,
        port: id.port,
        agent_id: &id.agent_id,
        agent_pid: &id.pid,
        framework,
        framework_id: &framework_id,
        executor_id,
        directory: &directory,
        shutdown_grace: grace,
        command_env: command.environment.as_ref(),
        auth_token,
        tls_env: &id.tls_env,
    }
    .build();
    let mut request = LaunchRequest::new(container_id.clone(), kind, command.clone(), directory);
    request.framework = framework.clone();
    let command_task = task.filter(|_| kind == LaunchKind::CommandTask);
    request.executor = executor_info(&framework_id, executor_id, given, command_task);
    request.task = task.cloned();
    request.container = match task {
        Some(task) => task.container.as_deref().cloned(),
        None => given.and_then(|info| info.container.as_deref().cloned()),
    };
    request.environment = environment;
    request.resources = match task {
        Some(task) => task.resources.clone(),
        None => given.map(|info| info.resources.clone()).unwrap_or_default(),
    };
    request.user = command
        .user
        .clone()
        .or_else(|| Some(framework.user.clone()).filter(|u| !u.is_empty()));
    request
}
