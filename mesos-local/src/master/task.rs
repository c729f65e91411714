//! A task as the master keeps it: its shared info, its statuses (bounded
//! as the real master bounds them) and the resources it counts.

use std::sync::Arc;

use mesos_proto::resources::Resources;
use mesos_proto::v1::{Resource, TaskInfo, TaskState, TaskStatus};
use mesos_proto::ShrinkToFit as _;

/// A task the master knows of.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    /// As launched, its resources with their allocation info: when launched
    /// through this master, shared with the agent's record of the task
    /// (one copy of a live task's info in the cluster, not two).
    pub(crate) info: Arc<TaskInfo>,
    pub(crate) framework_id: String,
    pub(crate) agent_id: String,
    pub(crate) executor_id: Option<String>,
    pub(crate) state: TaskState,
    /// The statuses received so far (state JSON `statuses`), shared with
    /// the agent's records of them when they are alike (see [`push_status`]).
    pub(crate) statuses: Vec<Arc<TaskStatus>>,
    pub(crate) role: String,
    /// The terminal update has been acknowledged: the task is forgotten by
    /// reconciliation (as the real master removes it).
    pub(crate) terminal_acked: bool,
}

/// The statuses a task keeps at most (the oldest go first).
pub(crate) const MAX_TASK_STATUSES: usize = 32;

impl Task {
    /// The resources it uses, as the master counts them ([`flat`]: made
    /// from its info when needed rather than kept beside it).
    pub(crate) fn resources(&self) -> Resources {
        flat(&self.info.resources)
    }

    pub(crate) fn latest(&self) -> Option<&TaskStatus> {
        self.statuses.last().map(|s| &**s)
    }

    /// Records a status (see [`push_status`]).
    pub(crate) fn push_status(&mut self, status: Arc<TaskStatus>) {
        push_status(&mut self.statuses, status);
    }

    /// Records a status of the master's own (see [`push_status`]).
    pub(crate) fn push_own_status(&mut self, mut status: TaskStatus) {
        status.shrink_to_fit();
        push_status(&mut self.statuses, Arc::new(status));
    }
}

/// Records a status as the real master does (`Master::updateTask`): a
/// status of the same state as the latest replaces it, and `data` is not
/// kept. At most [`MAX_TASK_STATUSES`] are kept, without spare capacity
/// (a task keeps them for its life; most have three or four): `status`
/// is kept as it is, shared, unless it has `data` (then a copy without
/// it is), so it should have been shrunk to fit before it was shared.
pub(crate) fn push_status(statuses: &mut Vec<Arc<TaskStatus>>, status: Arc<TaskStatus>) {
    let status = if status.data.is_some() {
        let mut kept = TaskStatus::clone(&status);
        kept.data = None;
        kept.shrink_to_fit();
        Arc::new(kept)
    } else {
        status
    };
    if statuses.last().is_some_and(|l| l.state == status.state) {
        statuses.pop();
    }
    if statuses.len() >= MAX_TASK_STATUSES {
        statuses.remove(0);
    }
    statuses.reserve_exact(1);
    statuses.push(status);
}

/// Resources as the master keeps them: no allocation info, legacy `role:
/// "*"` dropped (both mean "unreserved").
#[allow(deprecated)]
pub(crate) fn flat(resources: &[Resource]) -> Resources {
    let mut flat: Resources = resources
        .iter()
        .cloned()
        .map(|mut r| {
            r.allocation_info = None;
            if r.role.as_deref() == Some("*") && r.reservations.is_empty() {
                r.role = None;
            }
            r
        })
        .collect();
    // Kept with its task for the task's life: no spare capacity.
    flat.shrink_to_fit();
    flat
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::TaskId;

    #[test]
    fn task_statuses_are_bounded_as_the_real_masters() {
        let mut task = Task {
            info: Arc::default(),
            framework_id: "f".into(),
            agent_id: "a".into(),
            executor_id: None,
            state: TaskState::TaskRunning,
            statuses: Vec::new(),
            role: "*".into(),
            terminal_acked: false,
        };
        let status = |state: TaskState| TaskStatus {
            task_id: TaskId { value: "t".into() },
            state: state as i32,
            data: Some(vec![0u8; 1024].into()),
            ..TaskStatus::default()
        };
        task.push_status(Arc::new(status(TaskState::TaskStarting)));
        for _ in 0..10_000 {
            task.push_own_status(status(TaskState::TaskRunning));
        }
        assert_eq!(task.statuses.len(), 2);
        assert!(task.statuses.iter().all(|s| s.data.is_none()));
        for i in 0..100 {
            let state = if i % 2 == 0 {
                TaskState::TaskRunning
            } else {
                TaskState::TaskStarting
            };
            task.push_status(Arc::new(status(state)));
        }
        assert_eq!(task.statuses.len(), MAX_TASK_STATUSES);
    }
}
