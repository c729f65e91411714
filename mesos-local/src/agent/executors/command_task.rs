//! Command tasks: a task without an executor runs under the agent's own
//! command runner (as Mesos's command executor), started through the
//! containerizer once its sandbox is prepared.

use mesos_proto::v1::{
    framework_info, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskInfo, TaskState,
};
use tokio::sync::mpsc;

use crate::containerizer::command::{CommandControl, CommandEvent, CommandTask};
use crate::containerizer::LaunchKind;

use super::launch::{prepare, KILLED_DURING_LAUNCH};
use super::{has_capability, kill_grace, AgentState, ExecKey, Input, Kind, TaskEntry};

impl AgentState {
    pub(super) fn run_command_task(&mut self, framework: FrameworkInfo, task: TaskInfo) {
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
                statuses: Vec::new(),
            },
        );
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
        executor.infos.insert(task_id.clone(), Box::new(task));
        let Some(fw) = self.framework_entry(framework) else {
            return;
        };
        fw.task_executor.insert(task_id.clone(), task_id.clone());
        fw.executors.insert(task_id.clone(), Box::new(executor));
        tracing::info!(
            framework_id,
            task_id,
            container_id,
            "launching command task"
        );
        let input = self.input.clone();
        let wants_sandbox = self.id.containerizer.uses_sandbox();
        let registry = self.registry.clone();
        let fetcher = self.id.fetcher.clone();
        tokio::spawn(async move {
            let mut control_rx = control_rx;
            let prepared = tokio::select! {
                prepared = prepare(&registry, &fetcher, &runner.request, wants_sandbox) => prepared,
                // Killed before its launch (the agent reported it): a fetch
                // in flight is dropped.
                Some(CommandControl::Kill { .. }) = control_rx.recv() => {
                    Err(KILLED_DURING_LAUNCH.to_string())
                }
            };
            if let Err(error) = prepared {
                let _ = input.send(Input::Launched {
                    key,
                    container_id,
                    result: Err(error),
                });
                return;
            }
            let emit = move |event: CommandEvent| {
                let message = match event {
                    CommandEvent::Launched(c) => {
                        // Recorded (or killed, after a teardown) at once.
                        registry.insert(&c);
                        Input::Launched {
                            key: key.clone(),
                            container_id: container_id.clone(),
                            result: Ok(c),
                        }
                    }
                    CommandEvent::LaunchFailed(e) => Input::Launched {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        result: Err(e),
                    },
                    CommandEvent::Update(status) => Input::CommandUpdate {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        status: Box::new(status),
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
}
