//! The executor API's calls (SUBSCRIBE, UPDATE) and framework messages
//! to executors.

use std::collections::HashSet;

use crate::queue::{self, EventReceiver};
use bytes::Bytes;
use http::StatusCode;
use mesos_proto::v1::executor::{call, Event};
use mesos_proto::v1::{task_status, FrameworkId, FrameworkInfo, TaskId, TaskState, TaskStatus};

use crate::protocol::FromAgent;

use super::{event, lost_state, AgentState, ExecState, Executor, Kind, Rejection};
use crate::containerizer::command::now_seconds;

impl AgentState {
    pub(super) fn registered_executor(
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

    pub(super) fn subscribe(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        subscribe: call::Subscribe,
    ) -> Result<EventReceiver<Event>, Rejection> {
        let agent_info = self.id.info.clone();
        let max_queued = self.id.max_queued_events;
        let framework = self
            .frameworks
            .get_mut(framework_id)
            .ok_or_else(|| Rejection::bad_request("Framework cannot be found"))?;
        let framework_info = FrameworkInfo::clone(&framework.info);
        let executor = framework
            .executors
            .get_mut(executor_id)
            .filter(|e| matches!(e.kind, Kind::Custom))
            .ok_or_else(|| Rejection::bad_request("Executor cannot be found"))?;
        let (tx, rx) = queue::channel(max_queued);
        let resubscribe = executor.state != ExecState::Registering;
        tracing::info!(
            framework_id,
            executor_id,
            resubscribe,
            unacknowledged_tasks = subscribe.unacknowledged_tasks.len(),
            unacknowledged_updates = subscribe.unacknowledged_updates.len(),
            "executor subscribed"
        );
        if executor.state == ExecState::Terminating {
            executor.stream = Some(tx);
            executor.send(event(event::Type::Shutdown));
            return Ok(rx);
        }
        executor.state = ExecState::Running;
        // Not connected yet: what the steps below send the executor (the
        // acknowledgements of its unacknowledged updates) waits until
        // SUBSCRIBED is out, as the real agent's come after it.
        executor.stream = None;
        // As the real agent (`Slave::subscribe`): the unacknowledged
        // updates first (the status update manager drops duplicates), ...
        for update in subscribe.unacknowledged_updates {
            let status = update.status;
            if status
                .uuid
                .as_ref()
                .is_none_or(|u| !crate::master::validation::valid_uuid(u))
            {
                continue;
            }
            // Past the bound it stays with the executor, which sends it
            // again in its next SUBSCRIBE.
            if !self.has_room_for(framework_id, executor_id, &status) {
                continue;
            }
            self.executor_api_update(framework_id, executor_id, status);
        }
        // ... then its delivered tasks still staging that the executor
        // does not list were lost on the way: TASK_LOST (TASK_DROPPED for
        // partition-aware frameworks) ...
        let known: HashSet<&str> = subscribe
            .unacknowledged_tasks
            .iter()
            .map(|t| t.task_id.value.as_str())
            .collect();
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return Ok(rx);
        };
        let lost = lost_state(&framework.info);
        let Some(executor) = framework.executors.get_mut(executor_id) else {
            return Ok(rx);
        };
        let unknown: Vec<TaskId> = executor
            .tasks
            .iter()
            .filter(|(id, entry)| {
                entry.delivered
                    && entry.state == TaskState::TaskStaging
                    && !known.contains(id.as_str())
            })
            .map(|(id, _)| TaskId { value: id.clone() })
            .collect();
        for task_id in &unknown {
            tracing::info!(
                framework_id,
                executor_id,
                task_id = task_id.value,
                state = lost.as_str_name(),
                "task unknown to the resubscribed executor"
            );
            self.agent_update(
                framework_id,
                task_id,
                Some(executor_id),
                lost,
                task_status::Reason::AgentRestarted,
                "Task launched during agent restart",
            );
        }
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return Ok(rx);
        };
        executor.stream = Some(tx);
        // ... and an executor never given a task, whose queued tasks were
        // all killed, is shut down instead of subscribed.
        if !executor.ever_sent_task() && executor.queued.is_empty() {
            tracing::info!(
                framework_id,
                executor_id,
                "executor has no task to run; shutting it down"
            );
            self.shutdown_executor(framework_id, executor_id);
            return Ok(rx);
        }
        let mut subscribed = event(event::Type::Subscribed);
        subscribed.subscribed = Some(event::Subscribed {
            executor_info: executor.info(framework_id),
            framework_info,
            agent_info,
            container_id: Some(executor.container_id.clone()),
        });
        executor.send(subscribed);
        let deferred: Vec<Event> = executor.deferred.drain(..).collect();
        for ev in deferred {
            executor.send_or_defer(ev);
        }
        self.deliver(framework_id, executor_id);
        Ok(rx)
    }

    /// An executor's update (UPDATE call, or SUBSCRIBE's unacknowledged
    /// updates), as the real agent's `Slave::statusUpdate` takes it: the
    /// executor of the task (whichever executor of the framework sent it)
    /// has its fields added and gets the acknowledgement; an update of a
    /// task no executor has is forwarded as it came, with no
    /// acknowledgement.
    fn executor_api_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        mut status: TaskStatus,
    ) {
        let owner = self.frameworks.get(framework_id).and_then(|f| {
            f.executor_of(&status.task_id.value)
                .filter(|owner| f.executors.contains_key(*owner))
                .map(str::to_string)
        });
        if let Some(owner) = owner {
            if owner != executor_id {
                tracing::warn!(
                    framework_id,
                    executor_id,
                    owner,
                    task_id = status.task_id.value,
                    "update for a task of another executor"
                );
            }
            self.executor_update(framework_id, &owner, status, true);
            return;
        }
        tracing::warn!(
            framework_id,
            executor_id,
            task_id = status.task_id.value,
            "update for a task the executor does not know; forwarded as is"
        );
        status.agent_id = Some(self.id.agent_id.clone());
        if status.timestamp.is_none() {
            status.timestamp = Some(now_seconds());
        }
        self.enqueue(framework_id, status);
    }

    /// Whether the status update manager takes `status` from an executor
    /// (see [`StatusUpdateManager::has_room`]); logs a refusal.
    ///
    /// [`StatusUpdateManager::has_room`]: crate::agent::status_updates::StatusUpdateManager::has_room
    fn has_room_for(&self, framework_id: &str, executor_id: &str, status: &TaskStatus) -> bool {
        let max = self.id.max_pending_updates;
        let room = self
            .updates
            .has_room(framework_id, &status.task_id.value, max);
        if !room {
            tracing::warn!(
                framework_id,
                executor_id,
                task_id = status.task_id.value,
                max,
                "executor update refused: too many unacknowledged status updates on this agent"
            );
        }
        room
    }

    pub(super) fn api_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        status: TaskStatus,
    ) -> Result<(), Rejection> {
        self.registered_executor(framework_id, executor_id)?;
        if !self.has_room_for(framework_id, executor_id, &status) {
            return Err(Rejection::unavailable(format!(
                "Too many unacknowledged status updates on this agent (at most {}): \
                 send it again once the scheduler has acknowledged some",
                self.id.max_pending_updates
            )));
        }
        self.executor_api_update(framework_id, executor_id, status);
        Ok(())
    }

    pub(super) fn framework_message(&mut self, framework_id: &str, executor_id: &str, data: Bytes) {
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
                    executor_id: executor.id.clone(),
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
}
