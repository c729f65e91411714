//! Durable framework state (feature `state`): what a scheduler must still
//! know after a crash to fail over without losing or duplicating tasks.
//!
//! A [`StateStore`] keeps three things:
//!
//! - the **framework id** the master assigned: a restarted scheduler
//!   SUBSCRIBEs with it, within the framework's `failover_timeout`, and
//!   gets its running tasks back instead of registering as a new
//!   framework;
//! - **launch intents**: the `TaskInfo` of each launch, recorded *before*
//!   the ACCEPT that launches it is sent, then marked
//!   [`Launched`](IntentPhase::Launched) once the master took the call or
//!   [`Dropped`](IntentPhase::Dropped) when it certainly did not. After a
//!   crash, an intent without a known task state may or may not have
//!   reached the master: it is reconciled, never blindly launched again, so
//!   that a task id is launched at most once;
//! - the **last known state** of each task (its latest `TaskStatus`), to
//!   reconcile after a restart.
//!
//! [`Recovery::load`] turns what a store holds into a restart plan: the
//! framework id to subscribe with and the tasks to reconcile explicitly.
//!
//! Stores: [`MemoryStateStore`] (tests; nothing survives the process),
//! [`FileStateStore`] (a directory, atomic writes with fsync and rename)
//! and, with the `zookeeper` feature, `ZooKeeperStateStore` (znodes, for
//! schedulers that move between machines).
//!
//! # Restarting: framework id, SUBSCRIBE, reconcile
//!
//! ```no_run
//! use futures::StreamExt;
//! use mesos_framework::state::{FileStateStore, Recovery, StateStore};
//! use mesos_proto::v1::{FrameworkInfo, TaskState};
//! use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = FileStateStore::open("/var/lib/my-framework/state")?;
//!
//! // 1. What the previous run left: its framework id, the tasks to ask about.
//! let plan = Recovery::load(&store).await?;
//!
//! // 2. SUBSCRIBE with the stored id: within `failover_timeout` the master
//! //    gives the running tasks back to this new instance.
//! let mut framework = FrameworkInfo::builder("root", "my-framework")
//!     .failover_timeout(Duration::from_secs(7 * 24 * 3600));
//! if let Some(id) = plan.framework_id.clone() {
//!     framework = framework.id(id);
//! }
//! let config = SchedulerConfig::new(["http://m1:5050"], framework.build()?)?;
//! let (client, mut events) = subscribe(config)?;
//!
//! while let Some(event) = events.next().await {
//!     match event? {
//!         SchedulerEvent::Subscribed { framework_id, .. } => {
//!             store.set_framework_id(&framework_id).await?;
//!             // 3. Reconcile every task that may run, including each launch
//!             //    whose ACCEPT may or may not have reached the master.
//!             client.reconcile(plan.reconcile.clone()).await?;
//!         }
//!         SchedulerEvent::Update(status) => {
//!             let gone = matches!(
//!                 status.state(),
//!                 TaskState::TaskLost | TaskState::TaskUnknown | TaskState::TaskDropped | TaskState::TaskGone
//!             );
//!             // The task's state is known: its intent has served.
//!             store.record_status(&status).await?;
//!             client.acknowledge(&status).await?;
//!             if gone {
//!                 // It does not run: launch a replacement under a NEW task id.
//!             }
//!         }
//!         SchedulerEvent::Offers(offers) => {
//!             // Launching (`task` built for one of the offers):
//!             //   store.record_intent(&task).await?;        // before the ACCEPT
//!             //   match client.launch_tasks(offer_ids, vec![task.clone()], None).await {
//!             //       Ok(()) => store.mark_launched(&task.task_id).await?,
//!             //       Err(_) => {} // unknown: stays pending, reconciled after a restart
//!             //   }
//!             let ids = offers.into_iter().map(|o| o.id).collect();
//!             client.decline(ids, None).await?;
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Values and format
//!
//! Values are Mesos's protobuf messages (`FrameworkID`, `TaskInfo`,
//! `TaskStatus`) rather than opaque bytes: reconciliation needs the task
//! and agent ids they carry, the stores can check that an entry holds the
//! task it is named after, and binary protobuf round-trips every field.
//! Each entry is one versioned, checksummed record (see [`codec`]), so a
//! future format can be told apart and migrated, and a damaged entry is a
//! [`StateError::Corrupt`] naming it, never data.
//!
//! # Bounds
//!
//! [`StoreLimits`]: an entry (one encoded record) is at most
//! `max_entry_bytes` (default 512 KiB; a ZooKeeper store also stays under
//! ZooKeeper's 1 MB znode limit), and a store holds at most `max_intents`
//! intents and `max_tasks` task states (default 10 000 each). Task ids name
//! entries: at most [`codec::MAX_KEY_LEN`] bytes once encoded.

use std::fmt;

use async_trait::async_trait;
use mesos_proto::v1::{AgentId, FrameworkId, TaskId, TaskInfo, TaskState, TaskStatus};

pub mod codec;
mod file;
mod memory;
mod rules;
#[cfg(feature = "zookeeper")]
mod zookeeper;

pub use codec::{DecodeError, KeyError, RecordKind};
pub use file::FileStateStore;
pub use memory::MemoryStateStore;
#[cfg(feature = "zookeeper")]
pub use zookeeper::{ZooKeeperStateStore, ZooKeeperStoreOptions, ZNODE_DATA_LIMIT};

/// Where a launch intent stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntentPhase {
    /// Recorded; the ACCEPT may or may not have reached the master.
    Pending,
    /// The master took the ACCEPT that launches the task.
    Launched,
    /// The launch certainly did not happen (the ACCEPT was never sent, or
    /// the master refused it): the task may be launched again.
    Dropped,
}

impl fmt::Display for IntentPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IntentPhase::Pending => "pending",
            IntentPhase::Launched => "launched",
            IntentPhase::Dropped => "dropped",
        })
    }
}

/// A launch as recorded before its ACCEPT: the task and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchIntent {
    /// The task as launched (its id and agent id name it for
    /// reconciliation).
    pub task: TaskInfo,
    /// Where the launch stands.
    pub phase: IntentPhase,
}

/// Bounds of a store, checked on every write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreLimits {
    /// The largest entry (one encoded record), in bytes. Default 512 KiB.
    pub max_entry_bytes: usize,
    /// The most launch intents held at once. Default 10 000.
    pub max_intents: usize,
    /// The most task states held at once. Default 10 000.
    pub max_tasks: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_entry_bytes: 512 * 1024,
            max_intents: 10_000,
            max_tasks: 10_000,
        }
    }
}

impl StoreLimits {
    /// Sets the largest entry, in bytes.
    pub fn max_entry_bytes(mut self, bytes: usize) -> Self {
        self.max_entry_bytes = bytes;
        self
    }

    /// Sets the most intents held at once.
    pub fn max_intents(mut self, count: usize) -> Self {
        self.max_intents = count;
        self
    }

    /// Sets the most task states held at once.
    pub fn max_tasks(mut self, count: usize) -> Self {
        self.max_tasks = count;
        self
    }
}

/// What went wrong with a [`StateStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A file operation failed.
    #[error("state store: {operation} of {path:?} failed")]
    Io {
        /// What was done: `write`, `rename`, `read`, `fsync`, ...
        operation: &'static str,
        /// On which file or directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stored entry is damaged or not a record of this library.
    #[error("state store: {location} is corrupt")]
    Corrupt {
        /// The file or znode.
        location: String,
        /// What is wrong with it.
        #[source]
        source: DecodeError,
    },
    /// A task id cannot name an entry.
    #[error("state store: task id {task_id:?} cannot be stored")]
    InvalidTaskId {
        /// The task id.
        task_id: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// An entry is larger than the store takes.
    #[error("state store: the entry for {location} is {len} bytes, more than the {max} allowed")]
    EntryTooLarge {
        /// The file, znode or entry.
        location: String,
        /// Its encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The store holds as many entries of this kind as it may.
    #[error("state store: already {max} {kind} entries, the most allowed")]
    TooManyEntries {
        /// `intents` or `tasks`.
        kind: &'static str,
        /// The limit.
        max: usize,
    },
    /// An intent other than this one is already recorded for the task id
    /// (a task id is launched at most once).
    #[error("state store: a launch intent for task {task_id:?} is already recorded")]
    IntentExists {
        /// The task id.
        task_id: String,
    },
    /// The task id already has a stored state: it was launched before.
    #[error("state store: task {task_id:?} already has a stored state (a task id is launched at most once)")]
    TaskIdInUse {
        /// The task id.
        task_id: String,
    },
    /// No intent is recorded for the task id.
    #[error("state store: no launch intent is recorded for task {task_id:?}")]
    NoIntent {
        /// The task id.
        task_id: String,
    },
    /// The intent cannot move to that phase (a launched intent is never
    /// dropped, a dropped one never launched).
    #[error("state store: the launch intent of task {task_id:?} is {from} and cannot become {to}")]
    InvalidTransition {
        /// The task id.
        task_id: String,
        /// Its phase.
        from: IntentPhase,
        /// The phase asked for.
        to: IntentPhase,
    },
    /// Another process holds the store (its lock file).
    #[error("state store: {path:?} is locked by another process")]
    Locked {
        /// The lock file.
        path: std::path::PathBuf,
    },
    /// A ZooKeeper operation failed.
    #[cfg(feature = "zookeeper")]
    #[error("state store: ZooKeeper {operation} of {path:?} failed")]
    ZooKeeper {
        /// What was done: `create`, `get`, `set`, `delete`, `list`.
        operation: &'static str,
        /// On which znode.
        path: String,
        /// The client's error.
        #[source]
        source: zookeeper_client::Error,
    },
    /// No ZooKeeper session could be opened.
    #[cfg(feature = "zookeeper")]
    #[error("state store: could not open a ZooKeeper session")]
    Connect(#[source] mesos_zookeeper::ZkError),
    /// A compare-and-set kept losing to concurrent writers.
    #[error("state store: {location} kept changing under a compare-and-set")]
    Contended {
        /// The file or znode.
        location: String,
    },
}

/// Durable framework state: the framework id, launch intents and the last
/// known task states (see the [module documentation](self)).
///
/// Every method is safe to call concurrently from several tasks; each
/// write is durable when it returns `Ok` (fsynced, or acknowledged by a
/// ZooKeeper quorum). Removing what is not there is not an error.
#[async_trait]
pub trait StateStore: Send + Sync + fmt::Debug {
    /// The stored framework id, if any.
    async fn framework_id(&self) -> Result<Option<FrameworkId>, StateError>;

    /// Stores the framework id (replacing any other).
    async fn set_framework_id(&self, id: &FrameworkId) -> Result<(), StateError>;

    /// Forgets the framework id (the framework was removed, or tore down).
    async fn clear_framework_id(&self) -> Result<(), StateError>;

    /// Records the intent to launch `task`, as
    /// [`Pending`](IntentPhase::Pending): call it before sending the ACCEPT
    /// that launches it.
    ///
    /// # Errors
    /// [`StateError::IntentExists`] when another intent is recorded for the
    /// task id (recording the same pending intent again is `Ok`: a retried
    /// write), [`StateError::TaskIdInUse`] when the task id has a stored
    /// state.
    async fn record_intent(&self, task: &TaskInfo) -> Result<(), StateError>;

    /// Marks the intent launched: the master took the ACCEPT. Idempotent.
    ///
    /// # Errors
    /// [`StateError::NoIntent`], or [`StateError::InvalidTransition`] for a
    /// dropped intent.
    async fn mark_launched(&self, task_id: &TaskId) -> Result<(), StateError>;

    /// Marks the intent dropped: the ACCEPT certainly did not launch it.
    /// Idempotent.
    ///
    /// # Errors
    /// [`StateError::NoIntent`], or [`StateError::InvalidTransition`] for a
    /// launched intent.
    async fn mark_dropped(&self, task_id: &TaskId) -> Result<(), StateError>;

    /// Forgets the intent (its task's state is known, or it was dropped).
    async fn remove_intent(&self, task_id: &TaskId) -> Result<(), StateError>;

    /// Every recorded intent, in task id order.
    async fn intents(&self) -> Result<Vec<LaunchIntent>, StateError>;

    /// Stores `status` as its task's last known state (replacing the
    /// previous one).
    async fn put_task_state(&self, status: &TaskStatus) -> Result<(), StateError>;

    /// Forgets a task's state (the task ended and is no longer needed).
    async fn remove_task_state(&self, task_id: &TaskId) -> Result<(), StateError>;

    /// Every stored task state, in task id order.
    async fn task_states(&self) -> Result<Vec<TaskStatus>, StateError>;

    /// Stores a status update's state, then forgets the task's intent:
    /// once the state is known, the intent has served (a crash between
    /// the two leaves both, which [`Recovery::load`] reads the same way).
    async fn record_status(&self, status: &TaskStatus) -> Result<(), StateError> {
        self.put_task_state(status).await?;
        self.remove_intent(&status.task_id).await
    }
}

/// A restart plan computed from a [`StateStore`]: subscribe with
/// `framework_id`, then reconcile `reconcile` explicitly.
///
/// - a non-terminal stored task state is reconciled (with its agent id);
/// - a pending or launched intent without a stored state is reconciled
///   with the agent of its `TaskInfo`, and listed in `unresolved`: its
///   task may be running. Do not launch its task id again; if the master
///   answers `TASK_LOST`, `TASK_UNKNOWN`, `TASK_DROPPED` or `TASK_GONE`, it
///   does not run, and a replacement gets a new task id;
/// - a dropped intent is in `relaunchable`: its task never launched.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Recovery {
    /// The framework id to SUBSCRIBE with (`None`: register anew).
    pub framework_id: Option<FrameworkId>,
    /// The tasks to reconcile explicitly (task id, agent id), each once.
    pub reconcile: Vec<(TaskId, Option<AgentId>)>,
    /// Intents whose launch is unknown and whose task has no stored state.
    pub unresolved: Vec<LaunchIntent>,
    /// Tasks of dropped intents: never launched.
    pub relaunchable: Vec<TaskInfo>,
    /// Every stored task state, terminal ones included.
    pub known: Vec<TaskStatus>,
}

impl Recovery {
    /// Reads `store` and computes the plan.
    pub async fn load(store: &dyn StateStore) -> Result<Recovery, StateError> {
        let framework_id = store.framework_id().await?;
        let intents = store.intents().await?;
        let known = store.task_states().await?;
        Ok(Recovery::plan(framework_id, intents, known))
    }

    /// The plan for what a store holds.
    pub fn plan(
        framework_id: Option<FrameworkId>,
        intents: Vec<LaunchIntent>,
        known: Vec<TaskStatus>,
    ) -> Recovery {
        let mut reconcile = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for status in &known {
            seen.insert(status.task_id.value.clone());
            let terminal = TaskState::try_from(status.state).is_ok_and(TaskState::is_terminal);
            if !terminal {
                reconcile.push((status.task_id.clone(), status.agent_id.clone()));
            }
        }
        let mut unresolved = Vec::new();
        let mut relaunchable = Vec::new();
        for intent in intents {
            match intent.phase {
                IntentPhase::Dropped => relaunchable.push(intent.task),
                IntentPhase::Pending | IntentPhase::Launched => {
                    if seen.insert(intent.task.task_id.value.clone()) {
                        reconcile.push((
                            intent.task.task_id.clone(),
                            Some(intent.task.agent_id.clone()),
                        ));
                        unresolved.push(intent);
                    }
                }
            }
        }
        Recovery {
            framework_id,
            reconcile,
            unresolved,
            relaunchable,
            known,
        }
    }
}
