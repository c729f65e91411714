//! The agent's state as its operator API shows it: GET_STATE and its parts
//! (GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS), GET_CONTAINERS, and the
//! sandbox a READ_FILE path names.
//!
//! Differences from a real agent (documented choices): completed
//! frameworks, executors and tasks are not kept once their executor is
//! gone (the real agent keeps a bounded history); containers carry no
//! resource statistics.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use mesos_proto::v1::agent::call::Type as CallType;
use mesos_proto::v1::agent::response::{
    get_containers, get_executors, get_frameworks, GetContainers, GetExecutors, GetFrameworks,
    GetState, GetTasks, Type as ResponseType,
};
use mesos_proto::v1::agent::Response;
use mesos_proto::v1::{
    ContainerStatus, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, Task, TaskStatus,
};
use tokio::sync::oneshot;

use super::{command_task, AgentState, Executor, Framework, Kind};

/// A question of the operator API to the agent's task.
pub(crate) enum Query {
    /// GET_STATE, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS or
    /// GET_CONTAINERS.
    Read {
        kind: CallType,
        reply: oneshot::Sender<Response>,
    },
    /// The file a READ_FILE path names: the sandbox it is in, and the file.
    Sandbox {
        path: String,
        reply: oneshot::Sender<Option<(PathBuf, PathBuf)>>,
    },
}

/// Records `status` with its task (see [`crate::master::state::push_status`]).
pub(super) fn record_status(framework: &mut Framework, status: &Arc<TaskStatus>) {
    let task_id = &status.task_id.value;
    // A command task's executor has the task's id.
    let executor_id = framework
        .task_executor
        .get(task_id)
        .map_or(task_id.as_str(), String::as_str);
    let entry = framework
        .executors
        .get_mut(executor_id)
        .and_then(|e| e.tasks.get_mut(task_id));
    if let Some(entry) = entry {
        crate::master::state::push_status(&mut entry.statuses, Arc::clone(status));
    }
}

/// An executor's info as the real agent shows it: a command task's is the
/// command executor's the real agent generates
/// ([`command_task::shown_executor_info`]).
fn shown_info(executor: &Executor, framework_id: &str) -> ExecutorInfo {
    match (&executor.kind, executor.tasks.get(&executor.id.value)) {
        (Kind::Command { .. }, Some(task)) => {
            command_task::shown_executor_info(framework_id, &task.info)
        }
        _ => executor.info(framework_id),
    }
}

impl AgentState {
    pub(super) fn operator(&self, query: Query) {
        match query {
            Query::Read { kind, reply } => {
                let _ = reply.send(self.read(kind));
            }
            Query::Sandbox { path, reply } => {
                let _ = reply.send(self.sandbox_of(&path));
            }
        }
    }

    fn read(&self, kind: CallType) -> Response {
        let mut response = Response::default();
        let kind = match kind {
            CallType::GetFrameworks => {
                response.get_frameworks = Some(self.get_frameworks());
                ResponseType::GetFrameworks
            }
            CallType::GetExecutors => {
                response.get_executors = Some(self.get_executors());
                ResponseType::GetExecutors
            }
            CallType::GetTasks => {
                response.get_tasks = Some(self.get_tasks());
                ResponseType::GetTasks
            }
            CallType::GetContainers => {
                response.get_containers = Some(self.get_containers());
                ResponseType::GetContainers
            }
            _ => {
                response.get_state = Some(GetState {
                    get_tasks: Some(self.get_tasks()),
                    get_executors: Some(self.get_executors()),
                    get_frameworks: Some(self.get_frameworks()),
                });
                ResponseType::GetState
            }
        };
        response.r#type = Some(kind as i32);
        response
    }

    fn live_frameworks(&self) -> impl Iterator<Item = &Framework> {
        self.frameworks.values().filter(|f| !f.shutting_down)
    }

    fn get_frameworks(&self) -> GetFrameworks {
        GetFrameworks {
            frameworks: self
                .live_frameworks()
                .map(|f| get_frameworks::Framework {
                    framework_info: FrameworkInfo::clone(&f.info),
                })
                .collect(),
            completed_frameworks: Vec::new(),
        }
    }

    fn get_executors(&self) -> GetExecutors {
        GetExecutors {
            executors: self
                .live_frameworks()
                .flat_map(|f| {
                    let framework_id = f.info.id.as_ref().map_or("", |id| id.value.as_str());
                    f.executors.values().map(move |e| (framework_id, e))
                })
                .map(|(framework_id, e)| get_executors::Executor {
                    executor_info: shown_info(e, framework_id),
                })
                .collect(),
            completed_executors: Vec::new(),
        }
    }

    /// Tasks by where they are: queued (not delivered to their executor
    /// yet), launched (live), terminated (terminal, their executor still
    /// there).
    fn get_tasks(&self) -> GetTasks {
        let mut tasks = GetTasks::default();
        for framework in self.live_frameworks() {
            let framework_id = framework.info.id.clone().unwrap_or_default();
            for executor in framework.executors.values() {
                for (task_id, entry) in executor.tasks.iter() {
                    let Some(task) = self.task(&framework_id, executor, task_id) else {
                        continue;
                    };
                    if entry.state.is_terminal() {
                        tasks.terminated_tasks.push(task);
                    } else if entry.delivered {
                        tasks.launched_tasks.push(task);
                    } else {
                        tasks.queued_tasks.push(task);
                    }
                }
            }
        }
        tasks
    }

    /// A task as `mesos.v1.Task`, if its TaskInfo is still known.
    fn task(&self, framework_id: &FrameworkId, executor: &Executor, task_id: &str) -> Option<Task> {
        let entry = executor.tasks.get(task_id)?;
        let info = &entry.info;
        Some(Task {
            framework_id: framework_id.clone(),
            executor_id: (!matches!(executor.kind, Kind::Command { .. })).then(|| ExecutorId {
                value: executor.id.value.clone(),
            }),
            agent_id: self.id.agent_id.clone(),
            resources: info.resources.clone(),
            ..crate::master::operator::state::task_from_info(info, entry.state, &entry.statuses)
        })
    }

    fn get_containers(&self) -> GetContainers {
        let containers = self
            .live_frameworks()
            .flat_map(|f| {
                f.executors
                    .values()
                    .filter(|e| e.container.is_some())
                    .map(|e| (f.info.id.clone(), e))
            })
            .map(|(framework_id, executor)| get_containers::Container {
                framework_id,
                executor_id: Some(executor.id.clone()),
                executor_name: executor.name(),
                container_id: executor.container_id.clone(),
                container_status: Some(ContainerStatus {
                    container_id: Some(executor.container_id.clone()),
                    executor_pid: executor.container.as_ref().and_then(|c| c.pid()),
                    ..Default::default()
                }),
                resource_statistics: None,
            })
            .collect();
        GetContainers { containers }
    }

    /// The sandbox and file a READ_FILE path names: the virtual
    /// `/frameworks/F/executors/E/runs/latest/...` or a path inside an
    /// executor's sandbox directory, as the real agent attaches both. No
    /// `..` is followed.
    pub(super) fn sandbox_of(&self, path: &str) -> Option<(PathBuf, PathBuf)> {
        let path = Path::new(path);
        if path.components().any(|c| matches!(c, Component::ParentDir)) {
            return None;
        }
        let executors = || {
            self.live_frameworks()
                .flat_map(|f| f.executors.values().map(move |e| (f, e)))
        };
        for (framework, executor) in executors() {
            let framework_id = framework
                .info
                .id
                .as_ref()
                .map_or("", |id| id.value.as_str());
            let virtual_root = Path::new("/frameworks")
                .join(framework_id)
                .join("executors")
                .join(&executor.id.value)
                .join("runs/latest");
            let directory = self.directory_of(framework_id, executor);
            let rest = path
                .strip_prefix(&virtual_root)
                .or_else(|_| path.strip_prefix(&directory))
                .map(Path::to_path_buf);
            if let Ok(rest) = rest {
                let file = directory.join(rest);
                return Some((directory, file));
            }
        }
        None
    }
}
