//! Acknowledgements that could not be delivered (no subscription, a broken
//! connection, a master failing over), kept and sent again after the next
//! SUBSCRIBED while the update they acknowledge is still the task's latest.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use mesos_proto::v1::{AgentId, TaskId};

use crate::telemetry;

/// How many undelivered acknowledgements are kept at most (one per task:
/// only a task's latest update needs one). Past it, `acknowledge` reports
/// the failure instead of keeping more.
pub const MAX_PENDING_ACKNOWLEDGEMENTS: usize = 100_000;

/// One undelivered acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingAck {
    pub(crate) agent_id: AgentId,
    pub(crate) uuid: Bytes,
}

/// Undelivered acknowledgements by task (bounded).
#[derive(Debug, Default)]
pub(crate) struct PendingAcks {
    by_task: Mutex<HashMap<TaskId, PendingAck>>,
}

impl PendingAcks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<TaskId, PendingAck>> {
        self.by_task
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Keeps `ack` for `task_id` (replacing an older one). False when full.
    pub(crate) fn keep(&self, task_id: TaskId, ack: PendingAck) -> bool {
        let mut map = self.map();
        if map.len() >= MAX_PENDING_ACKNOWLEDGEMENTS && !map.contains_key(&task_id) {
            return false;
        }
        if map.insert(task_id, ack).is_none() {
            telemetry::pending_acknowledgements(1);
        }
        true
    }

    /// An update `uuid` for `task_id` arrived. An agent sends a task's next
    /// update only once the one before was acknowledged, so an update with
    /// another uuid means a kept acknowledgement is no longer current. An
    /// update without a uuid (a reconciliation answer or the master's own)
    /// says nothing of that: the agent still waits for the acknowledgement
    /// of its latest update, which stays kept.
    pub(crate) fn update_arrived(&self, task_id: &TaskId, uuid: Option<&Bytes>) {
        let Some(uuid) = uuid else {
            return;
        };
        let mut map = self.map();
        if map.get(task_id).is_some_and(|pending| pending.uuid != uuid) {
            map.remove(task_id);
            telemetry::pending_acknowledgements(-1);
        }
    }

    /// Takes every kept acknowledgement (to send them again).
    pub(crate) fn take_all(&self) -> Vec<(TaskId, PendingAck)> {
        let taken: Vec<_> = self.map().drain().collect();
        telemetry::pending_acknowledgements(-(taken.len() as isize));
        taken
    }

    /// Puts back an acknowledgement that failed again, unless a newer one
    /// (or a newer update) replaced it meanwhile.
    pub(crate) fn put_back(&self, task_id: TaskId, ack: PendingAck) {
        let mut map = self.map();
        if !map.contains_key(&task_id) && map.len() < MAX_PENDING_ACKNOWLEDGEMENTS {
            map.insert(task_id, ack);
            telemetry::pending_acknowledgements(1);
        }
    }

    /// How many are kept.
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }
}

/// What a dropped driver kept no longer waits.
impl Drop for PendingAcks {
    fn drop(&mut self) {
        let left = self.map().len();
        if left > 0 {
            telemetry::pending_acknowledgements(-(left as isize));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> TaskId {
        TaskId { value: id.into() }
    }

    fn ack(uuid: &'static [u8]) -> PendingAck {
        PendingAck {
            agent_id: AgentId { value: "a".into() },
            uuid: Bytes::from_static(uuid),
        }
    }

    #[test]
    fn a_newer_update_supersedes_the_kept_acknowledgement() {
        let acks = PendingAcks::default();
        assert!(acks.keep(task("t1"), ack(b"u1")));
        assert!(acks.keep(task("t2"), ack(b"u2")));
        acks.update_arrived(&task("t1"), Some(&Bytes::from_static(b"u1")));
        assert_eq!(acks.len(), 2, "the same update again: still current");
        acks.update_arrived(&task("t1"), Some(&Bytes::from_static(b"u3")));
        assert_eq!(acks.len(), 1, "t1's kept acknowledgement is superseded");
        acks.update_arrived(&task("t2"), None);
        assert_eq!(
            acks.take_all(),
            vec![(task("t2"), ack(b"u2"))],
            "a reconciliation answer (no uuid) leaves the agent's update unacknowledged"
        );
    }

    #[test]
    fn put_back_never_overwrites_a_newer_one() {
        let acks = PendingAcks::default();
        acks.keep(task("t1"), ack(b"old"));
        let taken = acks.take_all();
        acks.keep(task("t1"), ack(b"new"));
        for (task_id, pending) in taken {
            acks.put_back(task_id, pending);
        }
        assert_eq!(acks.take_all(), vec![(task("t1"), ack(b"new"))]);
    }

    #[test]
    fn bounded() {
        let acks = PendingAcks::default();
        for i in 0..MAX_PENDING_ACKNOWLEDGEMENTS {
            assert!(acks.keep(task(&i.to_string()), ack(b"u")));
        }
        assert!(!acks.keep(task("one too many"), ack(b"u")));
        assert!(acks.keep(task("0"), ack(b"v")), "replacing is fine");
    }
}
