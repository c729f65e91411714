//! [`MemoryStateStore`]: the store for tests and for frameworks that need
//! no durability.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use mesos_proto::v1::{FrameworkId, TaskId, TaskInfo, TaskStatus};

use super::rules::{self, INTENTS, TASKS};
use super::{codec, IntentPhase, LaunchIntent, StateError, StateStore, StoreLimits};

/// A [`StateStore`] in memory: nothing survives the process. It applies
/// the same rules and [`StoreLimits`] as the durable stores (entry sizes
/// are those of the encoded records), so that code tested against it
/// behaves the same on them. Clones share the same state.
#[derive(Clone, Debug, Default)]
pub struct MemoryStateStore {
    inner: Arc<Mutex<Memory>>,
    limits: StoreLimits,
}

#[derive(Debug, Default)]
struct Memory {
    framework_id: Option<FrameworkId>,
    intents: BTreeMap<String, LaunchIntent>,
    tasks: BTreeMap<String, TaskStatus>,
}

impl MemoryStateStore {
    /// An empty store with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with `limits`.
    pub fn with_limits(limits: StoreLimits) -> Self {
        MemoryStateStore {
            inner: Arc::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Memory> {
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn transition(&self, task_id: &TaskId, to: IntentPhase) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        let mut memory = self.lock();
        let intent = memory
            .intents
            .get_mut(&key)
            .ok_or_else(|| StateError::NoIntent {
                task_id: task_id.value.clone(),
            })?;
        if rules::transition(&task_id.value, intent.phase, to)? {
            intent.phase = to;
        }
        Ok(())
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn framework_id(&self) -> Result<Option<FrameworkId>, StateError> {
        Ok(self.lock().framework_id.clone())
    }

    async fn set_framework_id(&self, id: &FrameworkId) -> Result<(), StateError> {
        let len = codec::encode_framework_id(id).len();
        rules::check_size("framework id", len, self.limits.max_entry_bytes)?;
        self.lock().framework_id = Some(id.clone());
        Ok(())
    }

    async fn clear_framework_id(&self) -> Result<(), StateError> {
        self.lock().framework_id = None;
        Ok(())
    }

    async fn record_intent(&self, task: &TaskInfo) -> Result<(), StateError> {
        let key = rules::key(&task.task_id.value)?;
        let intent = LaunchIntent {
            task: task.clone(),
            phase: IntentPhase::Pending,
        };
        let len = codec::encode_intent(&intent).len();
        rules::check_size(&format!("intent {key}"), len, self.limits.max_entry_bytes)?;
        let mut memory = self.lock();
        if let Some(existing) = memory.intents.get(&key) {
            return rules::record_over(existing, task);
        }
        if memory.tasks.contains_key(&key) {
            return Err(StateError::TaskIdInUse {
                task_id: task.task_id.value.clone(),
            });
        }
        rules::check_count(INTENTS, memory.intents.len(), &self.limits)?;
        memory.intents.insert(key, intent);
        Ok(())
    }

    async fn mark_launched(&self, task_id: &TaskId) -> Result<(), StateError> {
        self.transition(task_id, IntentPhase::Launched)
    }

    async fn mark_dropped(&self, task_id: &TaskId) -> Result<(), StateError> {
        self.transition(task_id, IntentPhase::Dropped)
    }

    async fn remove_intent(&self, task_id: &TaskId) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        self.lock().intents.remove(&key);
        Ok(())
    }

    async fn intents(&self) -> Result<Vec<LaunchIntent>, StateError> {
        let mut intents: Vec<LaunchIntent> = self.lock().intents.values().cloned().collect();
        intents.sort_by(|a, b| a.task.task_id.value.cmp(&b.task.task_id.value));
        Ok(intents)
    }

    async fn put_task_state(&self, status: &TaskStatus) -> Result<(), StateError> {
        let key = rules::key(&status.task_id.value)?;
        let len = codec::encode_task_state(status).len();
        rules::check_size(&format!("task {key}"), len, self.limits.max_entry_bytes)?;
        let mut memory = self.lock();
        if !memory.tasks.contains_key(&key) {
            rules::check_count(TASKS, memory.tasks.len(), &self.limits)?;
        }
        memory.tasks.insert(key, status.clone());
        Ok(())
    }

    async fn remove_task_state(&self, task_id: &TaskId) -> Result<(), StateError> {
        let key = rules::key(&task_id.value)?;
        self.lock().tasks.remove(&key);
        Ok(())
    }

    async fn task_states(&self) -> Result<Vec<TaskStatus>, StateError> {
        let mut states: Vec<TaskStatus> = self.lock().tasks.values().cloned().collect();
        states.sort_by(|a, b| a.task_id.value.cmp(&b.task_id.value));
        Ok(states)
    }
}
