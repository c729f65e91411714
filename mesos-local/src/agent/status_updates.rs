//! The status update manager (as `src/slave/task_status_update_manager.cpp`):
//! one ordered stream of updates per framework and task; only the head of a
//! stream is in flight to the master, resent every `retry` until the
//! scheduler's acknowledgement arrives, then the next one goes.
//!
//! Pure bookkeeping: the agent sends what the methods return. An update is
//! kept behind an [`Arc`]: what goes to the master, each resend and the
//! task's records share it instead of copying it.

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use mesos_proto::v1::TaskStatus;
use tokio::time::Instant;

/// The most updates an agent's status update manager holds unacknowledged,
/// and the most streams it keeps, before it refuses executors' updates
/// (the agent's own are always taken): a bound on what an executor can
/// make the agent keep, far above any workload (the executor-updates
/// benchmark keeps 20,000 in flight). Mesos 1.11 keeps them unbounded.
pub(crate) const MAX_PENDING_UPDATES: usize = 100_000;

/// A stream's key: its framework id and task id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct StreamKey {
    framework_id: String,
    task_id: String,
}

/// A stream key as its two ids, so that a stream is found from borrowed
/// ids (an update or an acknowledgement builds no key).
trait KeyView {
    fn ids(&self) -> (&str, &str);
}

impl KeyView for StreamKey {
    fn ids(&self) -> (&str, &str) {
        (&self.framework_id, &self.task_id)
    }
}

impl KeyView for (&str, &str) {
    fn ids(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

// A key and its view hash and compare alike (the `Borrow` contract).
impl Hash for dyn KeyView + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (framework_id, task_id) = self.ids();
        framework_id.hash(state);
        task_id.hash(state);
    }
}

impl PartialEq for dyn KeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.ids() == other.ids()
    }
}

impl Eq for dyn KeyView + '_ {}

impl Hash for StreamKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn KeyView).hash(state);
    }
}

/// The map's key type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SharedKey(Arc<StreamKey>);

impl<'a> Borrow<dyn KeyView + 'a> for SharedKey {
    fn borrow(&self) -> &(dyn KeyView + 'a) {
        &*self.0
    }
}

fn view<'a>(framework_id: &'a str, task_id: &'a str) -> (&'a str, &'a str) {
    (framework_id, task_id)
}

/// An update's uuid. The executor API and the agent only make 16-byte
/// uuids (the API refuses others), kept here as one number instead of a
/// shared buffer each.
type Uuid = u128;

/// `bytes` as a [`Uuid`], if it is one.
fn uuid_of(bytes: &[u8]) -> Option<Uuid> {
    <[u8; 16]>::try_from(bytes).ok().map(Uuid::from_be_bytes)
}

/// The uuid of an update taken by [`StatusUpdateManager::update`] (only
/// those with one are).
fn status_uuid(status: &TaskStatus) -> Option<Uuid> {
    status.uuid.as_deref().and_then(uuid_of)
}

#[derive(Debug)]
struct Pending {
    /// Shared with what was sent to the master (and the task's records);
    /// its uuid and state are read from it.
    status: Arc<TaskStatus>,
    last_sent: Option<Instant>,
}

impl Pending {
    fn uuid(&self) -> Option<Uuid> {
        status_uuid(&self.status)
    }
}

/// A stream's received uuids: a vector while few (a task's stream has two
/// or three updates), a hash set beyond [`UuidSet::FEW`] (an executor may
/// send many).
#[derive(Debug)]
enum UuidSet {
    Few(Vec<Uuid>),
    /// Boxed so that the set is the size of a vector (every stream has
    /// one; few ever grow past the vector).
    #[allow(clippy::box_collection)]
    Many(Box<HashSet<Uuid>>),
}

impl UuidSet {
    const FEW: usize = 8;

    fn new() -> Self {
        // Room for a task's usual two updates (running, then terminal).
        UuidSet::Few(Vec::with_capacity(2))
    }

    /// Adds `uuid`; false if it was there already.
    fn insert(&mut self, uuid: Uuid) -> bool {
        match self {
            UuidSet::Few(few) if few.contains(&uuid) => false,
            UuidSet::Few(few) if few.len() < Self::FEW => {
                few.push(uuid);
                true
            }
            UuidSet::Few(few) => {
                let mut many: HashSet<Uuid> = few.drain(..).collect();
                many.insert(uuid);
                *self = UuidSet::Many(Box::new(many));
                true
            }
            UuidSet::Many(many) => many.insert(uuid),
        }
    }
}

#[derive(Debug)]
struct Stream {
    /// Its key, shared with its timers.
    key: SharedKey,
    pending: VecDeque<Pending>,
    /// The uuids received. Those no longer pending were acknowledged (in
    /// order, as only the head is): an acknowledgement changes no set.
    received: UuidSet,
    terminal_acknowledged: bool,
}

impl Stream {
    /// Marks the head sent now and returns it, with its resend timer.
    fn send_head(
        &mut self,
        timers: &mut Timers,
        retry: Duration,
        now: Instant,
    ) -> Option<Arc<TaskStatus>> {
        let head = self.pending.front_mut()?;
        head.last_sent = Some(now);
        let uuid = head.uuid()?;
        timers.push(Reverse((now + retry, self.key.clone(), uuid)));
        Some(Arc::clone(&head.status))
    }
}

/// Resend deadlines: (due, stream, uuid).
type Timers = BinaryHeap<Reverse<(Instant, SharedKey, Uuid)>>;

/// What [`StatusUpdateManager::update`] did with an update.
#[derive(Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived
pub(crate) enum Accepted {
    /// New; send this now (it is the stream's head), or `None` (queued
    /// behind the head).
    New(Option<Arc<TaskStatus>>),
    /// Seen before and not acknowledged yet: nothing to do.
    Duplicate,
    /// Seen and already acknowledged by the scheduler.
    AlreadyAcknowledged,
}

/// What an acknowledgement did.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Acknowledged {
    /// The next head, to send now.
    pub(crate) next: Option<Arc<TaskStatus>>,
    /// The stream ended (terminal update acknowledged, nothing pending):
    /// the task can be forgotten.
    pub(crate) finished: bool,
}

/// All streams of one agent.
#[derive(Debug)]
pub(crate) struct StatusUpdateManager {
    retry: Duration,
    streams: HashMap<SharedKey, Stream>,
    /// Resend deadlines (lazily invalidated: one per update sent, kept
    /// until due).
    timers: Timers,
    /// Updates pending in all streams (kept as they come and go: the agent
    /// publishes it after every step, and summing 10,000 streams each time
    /// was most of an agent's CPU at 100,000 tasks).
    pending_total: usize,
}

impl StatusUpdateManager {
    pub(crate) fn new(retry: Duration) -> Self {
        StatusUpdateManager {
            retry: retry.max(Duration::from_millis(1)),
            streams: HashMap::new(),
            timers: BinaryHeap::new(),
            pending_total: 0,
        }
    }

    /// Takes a new update (it must carry a 16-byte uuid; one is never
    /// invented here). Updates after a terminal one are still delivered in
    /// order, as Mesos does.
    pub(crate) fn update(
        &mut self,
        framework_id: &str,
        status: Arc<TaskStatus>,
        now: Instant,
    ) -> Accepted {
        let Some(uuid) = status_uuid(&status) else {
            return Accepted::Duplicate;
        };
        let ids = view(framework_id, &status.task_id.value);
        let ids = &ids as &dyn KeyView;
        if !self.streams.contains_key(ids) {
            let key = SharedKey(Arc::new(StreamKey {
                framework_id: framework_id.to_string(),
                task_id: status.task_id.value.clone(),
            }));
            let stream = Stream {
                key: key.clone(),
                // Room for the usual two updates (a VecDeque's first
                // growth makes room for four).
                pending: VecDeque::with_capacity(2),
                received: UuidSet::new(),
                terminal_acknowledged: false,
            };
            self.streams.insert(key, stream);
        }
        let Some(stream) = self.streams.get_mut(ids) else {
            return Accepted::Duplicate;
        };
        if !stream.received.insert(uuid) {
            return if stream.pending.iter().any(|p| p.uuid() == Some(uuid)) {
                Accepted::Duplicate
            } else {
                Accepted::AlreadyAcknowledged
            };
        }
        self.pending_total += 1;
        stream.pending.push_back(Pending {
            status,
            last_sent: None,
        });
        if stream.pending.len() == 1 {
            Accepted::New(stream.send_head(&mut self.timers, self.retry, now))
        } else {
            Accepted::New(None)
        }
    }

    /// The scheduler acknowledged `uuid`; `None` when it is not the head of
    /// a known stream (late or duplicate acknowledgement).
    pub(crate) fn acknowledge(
        &mut self,
        framework_id: &str,
        task_id: &str,
        uuid: &[u8],
        now: Instant,
    ) -> Option<Acknowledged> {
        let ids = view(framework_id, task_id);
        let ids = &ids as &dyn KeyView;
        let stream = self.streams.get_mut(ids)?;
        let uuid = uuid_of(uuid)?;
        if stream.pending.front().and_then(Pending::uuid) != Some(uuid) {
            return None;
        }
        let head = stream.pending.pop_front()?;
        self.pending_total = self.pending_total.saturating_sub(1);
        if head.status.state().is_terminal() {
            stream.terminal_acknowledged = true;
        }
        let mut result = Acknowledged::default();
        if stream.pending.is_empty() {
            if stream.terminal_acknowledged {
                self.streams.remove(ids);
                result.finished = true;
            }
        } else {
            result.next = stream.send_head(&mut self.timers, self.retry, now);
        }
        Some(result)
    }

    /// The heads of every stream of `framework_id` (all frameworks: `None`),
    /// marked sent now.
    pub(crate) fn heads(
        &mut self,
        framework_id: Option<&str>,
        now: Instant,
    ) -> Vec<(String, Arc<TaskStatus>)> {
        let (timers, retry) = (&mut self.timers, self.retry);
        self.streams
            .values_mut()
            .filter(|s| framework_id.is_none_or(|f| s.key.0.framework_id == f))
            .filter_map(|s| {
                let status = s.send_head(timers, retry, now)?;
                Some((s.key.0.framework_id.clone(), status))
            })
            .collect()
    }

    /// When the next resend is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, ..))| *at)
    }

    /// The heads whose resend is due, marked sent now.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(String, Arc<TaskStatus>)> {
        let mut out = Vec::new();
        while let Some(Reverse((at, ..))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, key, uuid))) = self.timers.pop() else {
                break;
            };
            let Some(stream) = self.streams.get_mut(&*key.0 as &dyn KeyView) else {
                continue;
            };
            let Some(head) = stream.pending.front() else {
                continue;
            };
            let stale = head.uuid() != Some(uuid)
                || head.last_sent.is_some_and(|sent| sent + self.retry > now);
            if stale {
                continue;
            }
            if let Some(status) = stream.send_head(&mut self.timers, self.retry, now) {
                out.push((key.0.framework_id.clone(), status));
            }
        }
        out
    }

    /// Forgets every stream of a framework (it was shut down).
    pub(crate) fn remove_framework(&mut self, framework_id: &str) {
        let mut removed = 0;
        self.streams.retain(|k, s| {
            let keep = k.0.framework_id != framework_id;
            if !keep {
                removed += s.pending.len();
            }
            keep
        });
        self.pending_total = self.pending_total.saturating_sub(removed);
    }

    /// Whether an executor's update of `task_id` may be taken under the
    /// bound `max`: fewer than `max` updates pending in all, and fewer than
    /// `max` streams if it would open one.
    pub(crate) fn has_room(&self, framework_id: &str, task_id: &str, max: usize) -> bool {
        self.pending_total < max
            && (self.streams.len() < max
                || self
                    .streams
                    .contains_key(&view(framework_id, task_id) as &dyn KeyView))
    }

    /// How many updates of all streams are not acknowledged yet (sent or
    /// queued behind the head).
    pub(crate) fn pending_total(&self) -> usize {
        self.pending_total
    }

    /// How many updates of a task are not acknowledged yet.
    pub(crate) fn pending(&self, framework_id: &str, task_id: &str) -> usize {
        self.streams
            .get(&view(framework_id, task_id) as &dyn KeyView)
            .map_or(0, |s| s.pending.len())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use mesos_proto::v1::{TaskId, TaskState};

    use super::*;

    fn status(task: &str, state: TaskState, uuid: u8) -> Arc<TaskStatus> {
        Arc::new(TaskStatus {
            task_id: TaskId { value: task.into() },
            state: state as i32,
            uuid: Some(Bytes::from(vec![uuid; 16])),
            ..Default::default()
        })
    }

    #[test]
    fn ordered_streams_with_resend() {
        let retry = Duration::from_secs(10);
        let mut m = StatusUpdateManager::new(retry);
        let t0 = Instant::now();
        let running = status("t", TaskState::TaskRunning, 1);
        let finished = status("t", TaskState::TaskFinished, 2);
        assert_eq!(
            m.update("f", running.clone(), t0),
            Accepted::New(Some(running.clone()))
        );
        assert_eq!(m.update("f", finished.clone(), t0), Accepted::New(None));
        assert_eq!(m.update("f", running.clone(), t0), Accepted::Duplicate);
        assert_eq!(m.pending("f", "t"), 2);
        assert_eq!(m.pending_total(), 2);

        assert!(m.due(t0 + Duration::from_secs(5)).is_empty());
        let due = m.due(t0 + retry);
        assert_eq!(due, vec![("f".to_string(), running.clone())]);
        assert_eq!(m.next_deadline(), Some(t0 + retry + retry));

        // Wrong uuid: ignored.
        assert_eq!(m.acknowledge("f", "t", &[2; 16], t0), None);
        let ack = m.acknowledge("f", "t", &[1; 16], t0 + retry).unwrap();
        assert_eq!(ack.next, Some(finished.clone()));
        assert!(!ack.finished);
        // The old timer of the acknowledged head is stale: only the new
        // head comes due.
        assert_eq!(
            m.due(t0 + retry + retry),
            vec![("f".to_string(), finished.clone())]
        );
        assert_eq!(
            m.update("f", running.clone(), t0),
            Accepted::AlreadyAcknowledged
        );

        assert_eq!(
            m.heads(Some("f"), t0),
            vec![("f".to_string(), finished.clone())]
        );
        assert!(m.heads(Some("other"), t0).is_empty());
        let ack = m.acknowledge("f", "t", &[2; 16], t0).unwrap();
        assert!(ack.finished);
        assert_eq!(m.pending("f", "t"), 0);
        assert_eq!(m.pending_total(), 0);
        assert!(m.acknowledge("f", "t", &[2; 16], t0).is_none());
    }

    #[test]
    fn streams_are_told_apart_by_both_ids() {
        let mut m = StatusUpdateManager::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(matches!(
            m.update("ab", status("c", TaskState::TaskRunning, 1), t0),
            Accepted::New(Some(_))
        ));
        assert!(matches!(
            m.update("a", status("bc", TaskState::TaskRunning, 1), t0),
            Accepted::New(Some(_))
        ));
        assert_eq!((m.pending("ab", "c"), m.pending("a", "bc")), (1, 1));
        assert_eq!(m.pending("a", "b"), 0);
        assert!(m.acknowledge("ab", "bc", &[1; 16], t0).is_none());
        assert!(m.acknowledge("a", "bc", &[1; 16], t0).is_some());
        assert_eq!((m.pending("ab", "c"), m.pending("a", "bc")), (1, 0));
    }

    #[test]
    fn framework_removal() {
        let mut m = StatusUpdateManager::new(Duration::from_secs(1));
        let t0 = Instant::now();
        m.update("f", status("t", TaskState::TaskRunning, 1), t0);
        m.update("g", status("t", TaskState::TaskRunning, 1), t0);
        m.remove_framework("f");
        assert_eq!(m.pending("f", "t"), 0);
        assert_eq!(m.pending_total(), 1, "g's update is still pending");
        assert_eq!(m.due(t0 + Duration::from_secs(1)).len(), 1);
    }

    #[test]
    fn duplicates_are_told_past_the_few_uuids_a_vector_holds() {
        let mut m = StatusUpdateManager::new(Duration::from_secs(1));
        let t0 = Instant::now();
        let updates: Vec<_> = (1..=20)
            .map(|u| status("t", TaskState::TaskRunning, u))
            .collect();
        for update in &updates {
            assert!(matches!(
                m.update("f", update.clone(), t0),
                Accepted::New(_)
            ));
        }
        assert_eq!(m.pending("f", "t"), 20);
        for (n, update) in updates.iter().enumerate() {
            assert_eq!(
                m.update("f", update.clone(), t0),
                Accepted::Duplicate,
                "update {n}"
            );
        }
        // Acknowledged in order: each then seen as such, before and after
        // the set outgrew its vector.
        for update in &updates[..12] {
            let uuid = update.uuid.clone().unwrap();
            assert!(m.acknowledge("f", "t", &uuid, t0).is_some());
        }
        for (n, update) in updates.iter().enumerate() {
            let expected = if n < 12 {
                Accepted::AlreadyAcknowledged
            } else {
                Accepted::Duplicate
            };
            assert_eq!(m.update("f", update.clone(), t0), expected, "update {n}");
        }
        assert_eq!(m.pending("f", "t"), 8);
    }

    #[test]
    fn an_update_or_acknowledgement_without_a_16_byte_uuid_is_refused() {
        let mut m = StatusUpdateManager::new(Duration::from_secs(1));
        let t0 = Instant::now();
        let mut short = TaskStatus::clone(&status("t", TaskState::TaskRunning, 1));
        short.uuid = Some(Bytes::from_static(&[1; 15]));
        assert_eq!(m.update("f", Arc::new(short), t0), Accepted::Duplicate);
        assert_eq!(m.pending_total(), 0);
        m.update("f", status("t", TaskState::TaskRunning, 1), t0);
        assert!(m.acknowledge("f", "t", &[1; 15], t0).is_none());
        assert!(m.acknowledge("f", "t", &[1; 17], t0).is_none());
        assert_eq!(m.pending("f", "t"), 1);
    }

    #[test]
    fn room_is_bounded_by_pending_updates_and_by_streams() {
        let mut m = StatusUpdateManager::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(m.has_room("f", "a", 2));
        m.update("f", status("a", TaskState::TaskRunning, 1), t0);
        m.update("f", status("b", TaskState::TaskRunning, 1), t0);
        assert!(!m.has_room("f", "a", 2), "two updates pending");
        assert!(m.acknowledge("f", "a", &[1; 16], t0).is_some());
        // One pending, two streams (a's lives on until its terminal update).
        assert!(m.has_room("f", "a", 2));
        assert!(m.has_room("f", "b", 2));
        assert!(!m.has_room("f", "c", 2), "a third stream");
        assert!(!m.has_room("g", "a", 2), "a stream of another framework");
        assert!(m.has_room("f", "c", 3));
    }
}
