//! Kills, shutdowns and exits: KILL, executor and framework shutdown, a
//! container's end.

use mesos_proto::v1::{task_status, ExecutorId, FrameworkId, KillPolicy, TaskId, TaskState};
use std::sync::Arc;

use crate::containerizer::command::KillRequest;
use crate::containerizer::ContainerExit;
use crate::protocol::FromAgent;

use super::{
    event, kill_grace, lost_state, AgentState, ExecKey, ExecState, Input, Kind, Launch,
    KILL_ESCALATION,
};

impl AgentState {
    pub(super) fn kill_task(
        &mut self,
        framework_id: &str,
        task_id: &TaskId,
        kill_policy: Option<KillPolicy>,
    ) {
        enum Action {
            Command(KillRequest),
            /// A command task whose URIs are still being fetched or whose
            /// container is still starting: the real agent's command
            /// executor has not registered yet.
            CommandUndelivered(KillRequest),
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
            .executor_of(&task_id.value)
            .and_then(|e| framework.executors.get(e));
        let Some(executor) = executor else {
            if self.updates.pending(framework_id, &task_id.value) > 0 {
                // Its executor is gone but its (terminal) updates are not
                // acknowledged yet: the real agent still holds the task
                // (`Executor::terminatedTasks`) and ignores the kill.
                tracing::debug!(
                    framework_id,
                    task_id = task_id.value,
                    "kill for a task whose executor terminated; ignored"
                );
                return;
            }
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
        let executor_id = executor.id.value.clone();
        let Some(entry) = executor.tasks.get(&task_id.value) else {
            return;
        };
        if entry.state.is_terminal() {
            tracing::debug!(
                framework_id,
                task_id = task_id.value,
                "kill for a terminal task; ignored"
            );
            return;
        }
        let action = match &executor.kind {
            Kind::Command { kill } if executor.container.is_none() => {
                Action::CommandUndelivered(kill.clone())
            }
            Kind::Command { kill } => Action::Command(kill.clone()),
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
            Action::Command(kill) => kill.kill(kill_grace(kill_policy.as_ref())),
            Action::CommandUndelivered(kill) => {
                // The launch is abandoned (a fetch in flight is dropped, a
                // container that started meanwhile is killed) and the task
                // ends as the real agent ends a task killed before its
                // executor registered.
                kill.kill(None);
                self.kill_undelivered(framework_id, &executor_id, task_id);
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
            Action::Undelivered => self.kill_undelivered(framework_id, &executor_id, task_id),
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

    /// KILL of a task not delivered to its executor yet: the agent kills it
    /// itself and, as the real agent (`Slave::kill`), every task of its
    /// group with it (the group is launched together or not at all).
    fn kill_undelivered(&mut self, framework_id: &str, executor_id: &str, task_id: &TaskId) {
        let mut killed = vec![task_id.clone()];
        // The real agent words the message for a group so only while the
        // executor has not subscribed.
        let mut group_wording = false;
        if let Some(executor) = self.executor_mut(framework_id, executor_id) {
            let registering = executor.state == ExecState::Registering;
            let id = task_id.value.as_str();
            executor.queued.retain(|launch| match launch {
                Launch::Task(t) => t.task_id.value != id,
                Launch::Group(g) if g.tasks.iter().any(|t| t.task_id.value == id) => {
                    killed = g.tasks.iter().map(|t| t.task_id.clone()).collect();
                    group_wording = registering;
                    false
                }
                Launch::Group(_) => true,
            });
        }
        let message = if group_wording {
            "A task within the task group was killed before delivery to the executor"
        } else {
            "Killed before delivery to the executor"
        };
        for task in &killed {
            self.agent_update(
                framework_id,
                task,
                Some(executor_id),
                TaskState::TaskKilled,
                task_status::Reason::TaskKilledDuringLaunch,
                message,
            );
        }
        // As the real agent, the executor stays: it is shut down when it
        // subscribes (having no task) or when its registration times out.
    }

    pub(super) fn shutdown_executor(&mut self, framework_id: &str, executor_id: &str) {
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
            Kind::Command { kill } => kill.kill(None),
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
                let grace = executor.shutdown_grace().unwrap_or(default_grace);
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
                        let key = Arc::new((framework_id.to_string(), executor_id.to_string()));
                        let container_id = Arc::from(executor.container_id.value.as_str());
                        tokio::spawn(async move {
                            tokio::time::sleep(grace).await;
                            let _ = input.send(Input::ShutdownGraceOver { key, container_id });
                        });
                    }
                }
            }
        }
    }

    pub(super) fn shutdown_framework(&mut self, framework_id: &str) {
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

    pub(super) fn executor_terminated_message(
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

    pub(super) fn exited(&mut self, key: &ExecKey, container_id: &str, exit: ContainerExit) {
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
            self.executor_terminated_message(framework_id, &executor.id, exit.wait_status());
        }
        let (reason, message) = match executor.pending_termination {
            Some((reason, message)) => (reason, message),
            None if command => (
                task_status::Reason::CommandExecutorFailed,
                "Executor terminated".to_string(),
            ),
            None => (
                task_status::Reason::ExecutorTerminated,
                "Executor terminated".to_string(),
            ),
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
                &message,
            );
        }
        self.cleanup_framework(framework_id);
    }

    pub(super) fn cleanup_framework(&mut self, framework_id: &str) {
        if self
            .frameworks
            .get(framework_id)
            .is_some_and(|f| f.shutting_down && f.executors.is_empty())
        {
            self.frameworks.remove(framework_id);
        }
    }
}
