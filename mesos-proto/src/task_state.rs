//! Facts about task states that every layer needs.

use crate::v1::TaskState;

impl TaskState {
    /// True for the states after which a task never changes again:
    /// `TASK_FINISHED`, `TASK_FAILED`, `TASK_KILLED`, `TASK_ERROR`,
    /// `TASK_LOST`, `TASK_DROPPED`, `TASK_GONE` and
    /// `TASK_GONE_BY_OPERATOR` (as Mesos's `protobuf::isTerminalState`).
    /// `TASK_UNREACHABLE` and `TASK_UNKNOWN` are not terminal: a task in
    /// them may still come back.
    ///
    /// ```
    /// use mesos_proto::v1::TaskState;
    /// assert!(TaskState::TaskFinished.is_terminal());
    /// assert!(!TaskState::TaskUnreachable.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::TaskFinished
                | TaskState::TaskFailed
                | TaskState::TaskKilled
                | TaskState::TaskError
                | TaskState::TaskLost
                | TaskState::TaskDropped
                | TaskState::TaskGone
                | TaskState::TaskGoneByOperator
        )
    }
}
