//! Bookkeeping of what the agent has not acknowledged yet: status updates
//! (until their ACKNOWLEDGED arrives) and launched tasks (until a terminal
//! update for them is acknowledged). Both go back to the agent in the next
//! SUBSCRIBE, so that nothing is lost across an agent restart.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use mesos_proto::v1::executor::call;
use mesos_proto::v1::{TaskId, TaskInfo};

use crate::telemetry;

/// Unacknowledged tasks and updates, in the order they were launched/sent.
#[derive(Debug, Default)]
pub(crate) struct Unacknowledged {
    tasks: Vec<TaskInfo>,
    updates: BTreeMap<u64, call::Update>,
    by_uuid: HashMap<Bytes, u64>,
    next: u64,
}

impl Unacknowledged {
    /// A task the agent asked us to launch.
    pub(crate) fn launched(&mut self, task: TaskInfo) {
        if let Some(known) = self.tasks.iter_mut().find(|t| t.task_id == task.task_id) {
            *known = task;
        } else {
            self.tasks.push(task);
        }
        self.changed();
    }

    /// An update about to be sent.
    pub(crate) fn sent(&mut self, update: call::Update) {
        if let Some(uuid) = update.status.uuid.clone() {
            self.by_uuid.insert(uuid, self.next);
        }
        self.updates.insert(self.next, update);
        self.next += 1;
        self.changed();
    }

    /// Forgets an update the agent refused (so it is not resent forever).
    pub(crate) fn refused(&mut self, task_id: &TaskId, uuid: &[u8]) {
        self.take(task_id, uuid);
        self.changed();
    }

    /// The agent acknowledged the update `uuid` of `task_id`. Returns false
    /// when no such update was pending (a duplicate acknowledgement).
    pub(crate) fn acknowledged(&mut self, task_id: &TaskId, uuid: &[u8]) -> bool {
        let Some(update) = self.take(task_id, uuid) else {
            return false;
        };
        if update.status.state().is_terminal() {
            self.tasks.retain(|t| t.task_id != *task_id);
        }
        self.changed();
        true
    }

    /// Reports the new sizes (gauges of the `metrics` feature).
    fn changed(&self) {
        telemetry::unacknowledged(self.updates.len(), self.tasks.len());
    }

    fn take(&mut self, task_id: &TaskId, uuid: &[u8]) -> Option<call::Update> {
        let seq = *self.by_uuid.get(uuid)?;
        if self.updates.get(&seq)?.status.task_id != *task_id {
            return None;
        }
        self.by_uuid.remove(uuid);
        self.updates.remove(&seq)
    }

    /// The SUBSCRIBE payload carrying everything still unacknowledged.
    pub(crate) fn subscribe(&self) -> call::Subscribe {
        call::Subscribe {
            unacknowledged_tasks: self.tasks.clone(),
            unacknowledged_updates: self.updates.values().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use mesos_proto::v1::{TaskState, TaskStatus};

    use super::*;

    fn task(id: &str) -> TaskInfo {
        TaskInfo {
            task_id: TaskId { value: id.into() },
            name: id.into(),
            ..Default::default()
        }
    }

    fn update(id: &str, state: TaskState, uuid: u8) -> call::Update {
        call::Update {
            status: TaskStatus {
                task_id: TaskId { value: id.into() },
                state: state as i32,
                uuid: Some(vec![uuid; 16].into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn updates_stay_until_acknowledged_and_tasks_until_terminal_ack() {
        let mut book = Unacknowledged::default();
        book.launched(task("t1"));
        book.sent(update("t1", TaskState::TaskRunning, 1));
        book.sent(update("t1", TaskState::TaskFinished, 2));
        let sub = book.subscribe();
        assert_eq!(sub.unacknowledged_tasks.len(), 1);
        assert_eq!(sub.unacknowledged_updates.len(), 2);

        let t1 = TaskId { value: "t1".into() };
        assert!(book.acknowledged(&t1, &[1; 16]));
        assert!(!book.acknowledged(&t1, &[1; 16]), "duplicate ack");
        assert_eq!(book.subscribe().unacknowledged_tasks.len(), 1);
        assert!(book.acknowledged(&t1, &[2; 16]));
        let sub = book.subscribe();
        assert!(sub.unacknowledged_tasks.is_empty());
        assert!(sub.unacknowledged_updates.is_empty());
    }

    #[test]
    fn out_of_order_acknowledgements_keep_the_rest_in_sending_order() {
        let mut book = Unacknowledged::default();
        for uuid in 1..=5 {
            book.sent(update(&format!("t{uuid}"), TaskState::TaskRunning, uuid));
        }
        let t3 = TaskId { value: "t3".into() };
        assert!(
            !book.acknowledged(&TaskId { value: "t1".into() }, &[3; 16]),
            "uuid of another task"
        );
        assert!(book.acknowledged(&t3, &[3; 16]));
        assert!(book.acknowledged(&TaskId { value: "t1".into() }, &[1; 16]));
        let left: Vec<String> = book
            .subscribe()
            .unacknowledged_updates
            .into_iter()
            .map(|u| u.status.task_id.value)
            .collect();
        assert_eq!(left, ["t2", "t4", "t5"]);
    }

    #[test]
    fn refused_updates_are_dropped() {
        let mut book = Unacknowledged::default();
        book.sent(update("t1", TaskState::TaskRunning, 1));
        book.refused(&TaskId { value: "t1".into() }, &[1; 16]);
        assert!(book.subscribe().unacknowledged_updates.is_empty());
    }
}
