//! Command tasks: a task without an executor runs under the agent's own
//! command runner (as Mesos's command executor), started through the
//! containerizer once its sandbox is prepared.

use std::sync::Arc;
use std::time::Duration;

use mesos_proto::resources::Resources;
use mesos_proto::v1::resource::AllocationInfo;
use mesos_proto::v1::{
    framework_info, CommandInfo, DurationInfo, ExecutorId, ExecutorInfo, FrameworkId,
    FrameworkInfo, TaskInfo, TaskState,
};

use crate::containerizer::command::{CommandEvent, CommandTask, KillRequest};
use crate::containerizer::LaunchKind;

use super::launch::{launch_request, prepare, LaunchSource, KILLED_DURING_LAUNCH};
use super::{has_capability, kill_grace, AgentState, ExecKey, Input, Kind, TaskEntry};

/// The executor the real agent generates for a command task (its id the
/// task's, its command and resources the task's).
pub(super) fn executor_info(framework_id: &str, task: &TaskInfo) -> ExecutorInfo {
    ExecutorInfo {
        executor_id: ExecutorId {
            value: task.task_id.value.clone(),
        },
        framework_id: Some(FrameworkId {
            value: framework_id.to_string(),
        }),
        name: Some(executor_name(task)),
        command: Some(task.command.clone().unwrap_or_default()),
        resources: task.resources.clone(),
        ..Default::default()
    }
}

/// A command task's executor as the real agent shows it in its operator
/// API (`Slave::getExecutorInfo` at 1.11.0): the task's container, labels
/// and discovery; its command's URIs, environment and user; the task's id
/// as `source`; a shutdown grace period of the task's kill grace plus 2 s
/// (the reaper's longest interval, 1 s, and 1 s more); and as resources
/// the command executor's allowance, 0.1 cpus and 32 MB, allocated to the
/// task's role. Its command runs `mesos-executor` (the real agent gives its
/// path in `--launcher_dir`; mesos-local runs the task's command itself
/// and has none).
#[allow(deprecated)]
pub(super) fn shown_executor_info(framework_id: &str, task: &TaskInfo) -> ExecutorInfo {
    let command = task.command.as_ref();
    let role = task
        .resources
        .iter()
        .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()));
    let resources = Resources::new()
        .with_cpus(COMMAND_EXECUTOR_CPUS)
        .with_mem(COMMAND_EXECUTOR_MEM_MB)
        .into_vec()
        .into_iter()
        .map(|mut resource| {
            resource.allocation_info = role.clone().map(|role| AllocationInfo { role: Some(role) });
            resource
        })
        .collect();
    let shutdown_grace_period = kill_grace(task.kill_policy.as_ref()).map(|grace| DurationInfo {
        nanoseconds: i64::try_from((grace + Duration::from_secs(2)).as_nanos()).unwrap_or(i64::MAX),
    });
    ExecutorInfo {
        executor_id: ExecutorId {
            value: task.task_id.value.clone(),
        },
        framework_id: Some(FrameworkId {
            value: framework_id.to_string(),
        }),
        command: Some(CommandInfo {
            uris: command.map(|c| c.uris.clone()).unwrap_or_default(),
            environment: command.and_then(|c| c.environment.clone()),
            user: command.and_then(|c| c.user.clone()),
            shell: Some(false),
            value: Some("mesos-executor".to_string()),
            arguments: vec!["mesos-executor".to_string()],
        }),
        container: task.container.clone(),
        resources,
        name: Some(executor_name(task)),
        source: Some(task.task_id.value.clone()),
        discovery: task.discovery.clone(),
        shutdown_grace_period,
        labels: task.labels.clone(),
        ..Default::default()
    }
}

/// The cpus the real agent adds for a command task's executor
/// (`DEFAULT_EXECUTOR_CPUS`, `src/slave/constants.hpp` at 1.11.0).
const COMMAND_EXECUTOR_CPUS: f64 = 0.1;
/// Its memory, MB (`DEFAULT_EXECUTOR_MEM`).
const COMMAND_EXECUTOR_MEM_MB: f64 = 32.0;

/// The name of a command task's executor, as the real agent makes it
/// (`Slave::getExecutorInfo`): the task id and the command, cut to its first
/// 12 bytes and `...` when longer than 15 (here at a character boundary).
pub(super) fn executor_name(task: &TaskInfo) -> String {
    let command = task.command.clone().unwrap_or_default();
    let shown = |text: &str| {
        if text.len() > 15 {
            let mut end = 12;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}...", &text[..end])
        } else {
            text.to_string()
        }
    };
    let what = match (command.shell(), command.value.as_deref()) {
        (true, None) => "(Command: NO COMMAND)".to_string(),
        (true, Some(value)) => format!("(Command: sh -c '{}')", shown(value)),
        (false, None) => "(Command: NO EXECUTABLE)".to_string(),
        (false, Some(value)) => {
            // As upstream: the value, ", ", the arguments (so a command
            // without arguments ends in ", ").
            let args = format!("{value}, {}", command.arguments.join(", "));
            format!("(Command: [{}])", shown(&args))
        }
    };
    format!("Command Executor (Task: {}) {what}", task.task_id.value)
}

impl AgentState {
    pub(super) fn run_command_task(&mut self, framework: Arc<FrameworkInfo>, task: Arc<TaskInfo>) {
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
        let kill = KillRequest::default();
        let mut executor = self.new_executor(
            &framework_id,
            task.task_id.value.clone(),
            None,
            Kind::Command { kill: kill.clone() },
        );
        // Shared by every input this task sends.
        let key: Arc<ExecKey> = Arc::new((framework_id.clone(), task_id.clone()));
        let container_id: Arc<str> = Arc::from(executor.container_id.value.as_str());
        // The launch request is made when the runner first runs: a burst
        // of launches spawns runners faster than the runtime polls them,
        // and a request (environment, generated executor, copies of the
        // task's command and resources) is several times what it is made
        // from: the framework and the task, shared with their records here.
        // Boxed, and gone once made.
        let source = Box::new((
            Arc::clone(&self.id),
            Arc::clone(&framework),
            Arc::clone(&task),
            executor.container_id.clone(),
        ));
        let kill_grace = kill_grace(task.kill_policy.as_ref());
        let task_killing = has_capability(
            &framework,
            framework_info::capability::Type::TaskKillingState,
        );
        let containerizer = self.id.containerizer.clone();
        executor.tasks.insert(
            task_id.clone(),
            TaskEntry {
                state: TaskState::TaskStaging,
                delivered: true,
                statuses: Vec::new(),
                info: task,
            },
        );
        let Some(fw) = self.framework_entry(framework) else {
            return;
        };
        fw.executors.insert(task_id.clone(), Box::new(executor));
        tracing::info!(
            framework_id,
            task_id,
            container_id = &*container_id,
            "launching command task"
        );
        let input = self.input.clone();
        let wants_sandbox = self.id.containerizer.uses_sandbox();
        let registry = self.registry.clone();
        let fetcher = self.id.fetcher.clone();
        tokio::spawn(async move {
            let runner = {
                let (identity, framework, task, container_id) = *source;
                let request = launch_request(
                    &identity,
                    LaunchSource {
                        framework: &framework,
                        executor_id: &ExecutorId {
                            value: task.task_id.value.clone(),
                        },
                        container_id: &container_id,
                        given: None,
                        auth_token: None,
                        kind: LaunchKind::CommandTask,
                        task: Some(&task),
                    },
                );
                CommandTask {
                    containerizer,
                    request: Box::new(request),
                    task_id: task.task_id.clone(),
                    kill_grace,
                    task_killing,
                }
            };
            let prepared = tokio::select! {
                prepared = prepare(&registry, &fetcher, &runner.request, wants_sandbox) => prepared,
                // Killed before its launch (the agent reported it): a fetch
                // in flight is dropped.
                _ = kill.requested() => Err(KILLED_DURING_LAUNCH.to_string()),
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
                    CommandEvent::Update(update) => Input::CommandUpdate {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        update,
                    },
                    CommandEvent::Exited(exit) => Input::Exited {
                        key: key.clone(),
                        container_id: container_id.clone(),
                        exit,
                    },
                };
                let _ = input.send(message);
            };
            runner.run(kill, emit).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use mesos_proto::v1::{environment, Environment, KillPolicy, Label, Labels, TaskId};

    use super::*;

    fn task(command: Option<CommandInfo>) -> TaskInfo {
        TaskInfo {
            task_id: TaskId { value: "t1".into() },
            command,
            ..Default::default()
        }
    }

    fn shell(value: &str) -> Option<CommandInfo> {
        Some(CommandInfo {
            value: Some(value.into()),
            ..Default::default()
        })
    }

    #[test]
    fn command_executor_names_are_the_real_agents() {
        let cases = [
            // Seen on a real Mesos 1.11 agent (mesos-proto's operator samples).
            (
                shell("sleep 40"),
                "Command Executor (Task: t1) (Command: sh -c 'sleep 40')",
            ),
            // 15 bytes stay whole; 16 are cut to 12 and "...".
            (
                shell("123456789012345"),
                "Command Executor (Task: t1) (Command: sh -c '123456789012345')",
            ),
            (
                shell("1234567890123456"),
                "Command Executor (Task: t1) (Command: sh -c '123456789012...')",
            ),
            // A cut never splits a character.
            (
                shell("12345678901é3456"),
                "Command Executor (Task: t1) (Command: sh -c '12345678901...')",
            ),
            (None, "Command Executor (Task: t1) (Command: NO COMMAND)"),
            (
                Some(CommandInfo {
                    shell: Some(false),
                    value: Some("/bin/echo".into()),
                    arguments: vec!["echo".into(), "hi".into()],
                    ..Default::default()
                }),
                "Command Executor (Task: t1) (Command: [/bin/echo, e...])",
            ),
            (
                Some(CommandInfo {
                    shell: Some(false),
                    value: Some("/bin/ls".into()),
                    ..Default::default()
                }),
                "Command Executor (Task: t1) (Command: [/bin/ls, ])",
            ),
            (
                Some(CommandInfo {
                    shell: Some(false),
                    ..Default::default()
                }),
                "Command Executor (Task: t1) (Command: NO EXECUTABLE)",
            ),
        ];
        for (command, name) in cases {
            assert_eq!(executor_name(&task(command)), name);
        }
    }

    /// As a real Mesos 1.11 agent showed the executor of a task of 0.01
    /// cpus and 1 MB (GET_EXECUTORS, observed): the command executor's
    /// allowance as resources, the task as `source`; and, from
    /// `Slave::getExecutorInfo`, what it takes from the task.
    #[test]
    #[allow(deprecated)]
    fn the_shown_command_executor_is_the_real_agents() {
        let mut launched = task(shell("true"));
        launched.resources = Resources::new()
            .with_cpus(0.01)
            .with_mem(1.0)
            .into_vec()
            .into_iter()
            .map(|mut r| {
                r.allocation_info = Some(AllocationInfo {
                    role: Some("web".into()),
                });
                r
            })
            .collect();
        let environment = Environment {
            variables: vec![environment::Variable {
                name: "V".into(),
                value: Some("1".into()),
                ..Default::default()
            }],
        };
        let command = launched.command.as_mut().unwrap();
        command.environment = Some(environment.clone());
        command.user = Some("nobody".into());
        launched.kill_policy = Some(KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: 3_000_000_000,
            }),
        });
        launched.labels = Some(Labels {
            labels: vec![Label {
                key: "k".into(),
                value: Some("v".into()),
            }],
        });

        let info = shown_executor_info("fw", &launched);
        assert_eq!(info.executor_id.value, "t1");
        assert_eq!(info.framework_id.unwrap().value, "fw");
        assert_eq!(info.source.as_deref(), Some("t1"));
        assert_eq!(
            info.name.as_deref(),
            Some("Command Executor (Task: t1) (Command: sh -c 'true')")
        );
        let shown: Vec<(String, f64, Option<String>)> = info
            .resources
            .iter()
            .map(|r| {
                let role = r.allocation_info.as_ref().and_then(|a| a.role.clone());
                (r.name.clone(), r.scalar.map_or(0.0, |s| s.value), role)
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("cpus".to_string(), 0.1, Some("web".to_string())),
                ("mem".to_string(), 32.0, Some("web".to_string())),
            ]
        );
        let command = info.command.unwrap();
        assert_eq!(command.value.as_deref(), Some("mesos-executor"));
        assert_eq!(command.arguments, ["mesos-executor"]);
        assert_eq!(command.shell, Some(false));
        assert_eq!(command.environment, Some(environment));
        assert_eq!(command.user.as_deref(), Some("nobody"));
        assert_eq!(
            info.shutdown_grace_period.map(|d| d.nanoseconds),
            Some(5_000_000_000)
        );
        assert_eq!(info.labels, launched.labels);

        // Without a kill policy or an allocation: neither is shown.
        let plain = shown_executor_info("fw", &task(shell("true")));
        assert_eq!(plain.shutdown_grace_period, None);
        assert!(plain.resources.iter().all(|r| r.allocation_info.is_none()));
    }
}
