//! The agent's dispatch: each message from the master and each [`Input`]
//! routed to the `impl AgentState` that handles it.

use super::*;

impl AgentState {
    // ---------------------------------------------------------------- master

    pub(super) fn on_master(&mut self, message: ToAgent) {
        match message {
            ToAgent::RunTask { framework, task } => {
                self.launches.record(&framework, [&*task]);
                self.run_task(framework, task)
            }
            ToAgent::RunTaskGroup {
                framework,
                executor,
                task_group,
            } => {
                self.launches.record(&framework, &task_group.tasks);
                self.run_on_executor(framework, executor, Launch::Group(task_group))
            }
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
            ToAgent::Reregister { reply } => {
                let _ = reply.send(self.report());
            }
            ToAgent::Sandbox { path, reply } => {
                let _ = reply.send(self.sandbox_of(&path));
            }
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

    // ---------------------------------------------------------------- inputs

    pub(super) fn on_input(&mut self, input: Input) {
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
                    reply.send(self.api_update(&framework_id.value, &executor_id.value, *status));
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
                update,
            } => {
                // A command task's executor id is its task id. Not for a
                // task killed before its launch (the command executor of
                // the real agent would never have run it).
                let executor = self.executor(&key);
                let ended = executor
                    .and_then(|e| e.tasks.get(&key.1))
                    .is_some_and(|t| t.state.is_terminal());
                if self.executor_matches(&key, &container_id) && !ended {
                    let container = executor.and_then(|e| e.container.clone());
                    let status = update.into_status(&key.1, container.as_deref());
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
            Input::RegistrationTimeout { key, container_id } => {
                let registering = self.executor_matches(&key, &container_id)
                    && self
                        .executor(&key)
                        .is_some_and(|e| e.state == ExecState::Registering);
                if registering {
                    tracing::warn!(
                        framework_id = key.0,
                        executor_id = key.1,
                        timeout = ?EXECUTOR_REGISTRATION_TIMEOUT,
                        "executor did not subscribe in time; shutting it down"
                    );
                    if let Some(executor) = self.executor_mut(&key.0, &key.1) {
                        executor.pending_termination = Some((
                            task_status::Reason::ExecutorRegistrationTimeout,
                            format!(
                                "Executor did not register within {}",
                                mesos_proto::duration::format_duration(
                                    EXECUTOR_REGISTRATION_TIMEOUT
                                )
                            ),
                        ));
                    }
                    self.shutdown_executor(&key.0, &key.1);
                }
            }
            Input::Operator(query) => self.operator(query),
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
}
