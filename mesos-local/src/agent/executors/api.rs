//! The executor API's calls (SUBSCRIBE, UPDATE) and framework messages
//! to executors.

use std::collections::HashSet;

use crate::queue::{self, EventReceiver};
use bytes::Bytes;
use http::StatusCode;
use mesos_proto::v1::executor::{call, Event};
use mesos_proto::v1::{FrameworkId, TaskState, TaskStatus};

use crate::protocol::FromAgent;

use super::{event, AgentState, ExecState, Executor, Kind, Launch, Rejection};

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
        let framework_info = framework.info.clone();
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
        let own: HashSet<String> = executor.tasks.keys().cloned().collect();
        for update in subscribe.unacknowledged_updates {
            let status = update.status;
            if !own.contains(&status.task_id.value) {
                // Isolation, as the UPDATE call: only its own tasks.
                tracing::warn!(
                    framework_id,
                    executor_id,
                    task_id = status.task_id.value,
                    "unacknowledged update for a task not of this executor; dropped"
                );
                continue;
            }
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

    pub(super) fn api_update(
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
}
