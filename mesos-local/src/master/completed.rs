//! A framework's completed (terminal) tasks: kept for `/master/state` and
//! for the acknowledgement and reconciliation of their terminal updates,
//! oldest dropped first beyond a bound (the master's
//! `--max_completed_tasks_per_framework`), found by task id in constant time.

use std::collections::{HashMap, VecDeque};

use super::state::Task;

/// How many completed tasks a framework keeps
/// (`--max_completed_tasks_per_framework`, 1000 by default).
pub(crate) const MAX_COMPLETED_TASKS: usize = 1000;

/// Completed tasks, oldest first, at most `capacity`, indexed by task id.
#[derive(Debug)]
pub(crate) struct CompletedTasks {
    tasks: VecDeque<Task>,
    /// Sequence number of `tasks[0]`; entry `i` has number `first + i`.
    first: u64,
    /// Task id → sequence number of its newest entry (a task id may be
    /// reused once its task ended).
    index: HashMap<String, u64>,
    capacity: usize,
}

impl CompletedTasks {
    pub(crate) fn new(capacity: usize) -> CompletedTasks {
        CompletedTasks {
            tasks: VecDeque::new(),
            first: 0,
            index: HashMap::new(),
            capacity,
        }
    }

    /// Adds the newest completed task, dropping the oldest beyond capacity.
    pub(crate) fn push(&mut self, task: Task) {
        let number = self.first + self.tasks.len() as u64;
        self.index.insert(task.info.task_id.value.clone(), number);
        self.tasks.push_back(task);
        while self.tasks.len() > self.capacity {
            let Some(oldest) = self.tasks.pop_front() else {
                break;
            };
            let id = &oldest.info.task_id.value;
            if self.index.get(id) == Some(&self.first) {
                self.index.remove(id);
            }
            self.first += 1;
        }
    }

    fn position(&self, task_id: &str) -> Option<usize> {
        let number = *self.index.get(task_id)?;
        usize::try_from(number.checked_sub(self.first)?).ok()
    }

    /// The newest completed task with this id.
    pub(crate) fn get(&self, task_id: &str) -> Option<&Task> {
        self.tasks.get(self.position(task_id)?)
    }

    /// The newest completed task with this id, to change.
    pub(crate) fn get_mut(&mut self, task_id: &str) -> Option<&mut Task> {
        let position = self.position(task_id)?;
        self.tasks.get_mut(position)
    }

    /// Oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter()
    }
}

#[cfg(test)]
mod tests {
    use mesos_proto::v1::{TaskId, TaskInfo, TaskState};

    use super::*;

    fn task(id: &str, state: TaskState) -> Task {
        Task {
            info: std::sync::Arc::new(TaskInfo {
                task_id: TaskId { value: id.into() },
                ..TaskInfo::default()
            }),
            framework_id: "F".into(),
            agent_id: "A".into(),
            executor_id: None,
            state,
            statuses: Vec::new(),
            role: "*".into(),
            terminal_acked: false,
        }
    }

    #[test]
    fn bounded_oldest_first_and_found_by_id() {
        let mut completed = CompletedTasks::new(3);
        for i in 0..5 {
            completed.push(task(&format!("t{i}"), TaskState::TaskFinished));
        }
        let ids: Vec<_> = completed
            .iter()
            .map(|t| t.info.task_id.value.as_str())
            .collect();
        assert_eq!(ids, ["t2", "t3", "t4"]);
        assert!(completed.get("t1").is_none(), "dropped with its entry");
        assert_eq!(
            completed.get("t3").map(|t| t.info.task_id.value.as_str()),
            Some("t3")
        );
        if let Some(t) = completed.get_mut("t4") {
            t.terminal_acked = true;
        }
        assert!(completed.get("t4").is_some_and(|t| t.terminal_acked));
    }

    #[test]
    fn a_reused_task_id_finds_its_newest_entry_and_survives_the_old_ones_drop() {
        let mut completed = CompletedTasks::new(2);
        completed.push(task("same", TaskState::TaskFailed));
        completed.push(task("same", TaskState::TaskFinished));
        assert_eq!(
            completed.get("same").map(|t| t.state),
            Some(TaskState::TaskFinished)
        );
        // The older "same" goes; the index still points at the newer one.
        completed.push(task("other", TaskState::TaskFinished));
        assert_eq!(
            completed.get("same").map(|t| t.state),
            Some(TaskState::TaskFinished)
        );
        completed.push(task("third", TaskState::TaskFinished));
        assert!(completed.get("same").is_none());
    }
}
