//! [`ClusterState`]: agents, frameworks and tasks, folded from the master's
//! `SUBSCRIBE` events, within fixed bounds.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use mesos_proto::v1::master::response::{get_agents, get_frameworks, GetState};
use mesos_proto::v1::master::{event, Event};
use mesos_proto::v1::{FrameworkInfo, Task, TaskState, TaskStatus};

/// How much a [`ClusterState`] keeps. What comes past a bound is dropped
/// (and counted in [`ClusterState::dropped`]); completed tasks and
/// frameworks keep the most recent ones.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StateLimits {
    /// Registered agents. Default: 50 000.
    pub max_agents: usize,
    /// Active frameworks. Default: 10 000.
    pub max_frameworks: usize,
    /// Frameworks removed, most recent kept. Default: 100.
    pub max_completed_frameworks: usize,
    /// Tasks not terminal yet. Default: 500 000.
    pub max_active_tasks: usize,
    /// Terminal tasks, most recent kept. Default: 1 000.
    pub max_completed_tasks: usize,
    /// Status updates kept per task, most recent kept. Default: 8.
    pub max_statuses_per_task: usize,
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits {
            max_agents: 50_000,
            max_frameworks: 10_000,
            max_completed_frameworks: 100,
            max_active_tasks: 500_000,
            max_completed_tasks: 1_000,
            max_statuses_per_task: 8,
        }
    }
}

/// A task's identity: task IDs are unique within a framework only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    /// The framework ID.
    pub framework_id: String,
    /// The task ID.
    pub task_id: String,
}

impl TaskKey {
    fn of(task: &Task) -> Self {
        TaskKey {
            framework_id: task.framework_id.value.clone(),
            task_id: task.task_id.value.clone(),
        }
    }
}

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (framework {})", self.task_id, self.framework_id)
    }
}

/// What one event changed in a [`ClusterState`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// `SUBSCRIBED`: the state was replaced by the master's snapshot.
    Snapshot {
        /// Registered agents.
        agents: usize,
        /// Active frameworks.
        frameworks: usize,
        /// Tasks not terminal.
        tasks: usize,
    },
    /// A task was added (`TASK_ADDED`).
    TaskAdded {
        /// The task.
        key: TaskKey,
        /// Its state.
        state: TaskState,
    },
    /// A task changed state (`TASK_UPDATED`); a terminal state moved it to
    /// the completed tasks.
    TaskUpdated {
        /// The task.
        key: TaskKey,
        /// The state before (`None`: the task was not known).
        previous: Option<TaskState>,
        /// The task's state now: the master's latest, which may already be
        /// past the update that caused this event (a TASK_RUNNING update
        /// processed after the task finished reports TASK_FINISHED here).
        state: TaskState,
        /// The state of the status update that caused this event.
        update: TaskState,
    },
    /// An agent registered (`AGENT_ADDED`).
    AgentAdded {
        /// Its ID.
        agent_id: String,
        /// Its hostname.
        hostname: String,
    },
    /// An agent was removed (`AGENT_REMOVED`).
    AgentRemoved {
        /// Its ID.
        agent_id: String,
    },
    /// A framework subscribed (`FRAMEWORK_ADDED`).
    FrameworkAdded {
        /// Its ID.
        framework_id: String,
        /// Its name.
        name: String,
    },
    /// A framework changed (`FRAMEWORK_UPDATED`: re-subscribed, disconnected, ...).
    FrameworkUpdated {
        /// Its ID.
        framework_id: String,
    },
    /// A framework was removed (`FRAMEWORK_REMOVED`).
    FrameworkRemoved {
        /// Its ID.
        framework_id: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Snapshot {
                agents,
                frameworks,
                tasks,
            } => write!(
                f,
                "snapshot: {agents} agents, {frameworks} frameworks, {tasks} active tasks"
            ),
            Change::TaskAdded { key, state } => {
                write!(f, "task {key} added: {}", state.as_str_name())
            }
            Change::TaskUpdated {
                key,
                previous,
                state,
                ..
            } => match previous {
                Some(previous) => write!(
                    f,
                    "task {key}: {} -> {}",
                    previous.as_str_name(),
                    state.as_str_name()
                ),
                None => write!(f, "task {key}: {}", state.as_str_name()),
            },
            Change::AgentAdded { agent_id, hostname } => {
                write!(f, "agent {agent_id} ({hostname}) added")
            }
            Change::AgentRemoved { agent_id } => write!(f, "agent {agent_id} removed"),
            Change::FrameworkAdded { framework_id, name } => {
                write!(f, "framework {framework_id} ({name}) added")
            }
            Change::FrameworkUpdated { framework_id } => {
                write!(f, "framework {framework_id} updated")
            }
            Change::FrameworkRemoved { framework_id } => {
                write!(f, "framework {framework_id} removed")
            }
        }
    }
}

/// The cluster as the master's `SUBSCRIBE` events describe it: registered
/// agents, active (and recently removed) frameworks, active (and recently
/// completed) tasks.
///
/// Feed it every event of [`MasterClient::subscribe`](crate::MasterClient::subscribe)
/// with [`apply`](Self::apply): `SUBSCRIBED` replaces everything with the
/// master's snapshot (also after a resubscription), the other events update
/// it. Everything is bounded by [`StateLimits`].
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    limits: StateLimits,
    agents: BTreeMap<String, get_agents::Agent>,
    frameworks: BTreeMap<String, get_frameworks::Framework>,
    completed_frameworks: VecDeque<FrameworkInfo>,
    tasks: BTreeMap<TaskKey, Task>,
    completed_tasks: VecDeque<Task>,
    dropped: u64,
}

impl ClusterState {
    /// An empty state with the default [`StateLimits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty state with `limits`.
    pub fn with_limits(limits: StateLimits) -> Self {
        ClusterState {
            limits,
            ..Self::default()
        }
    }

    /// The registered agents, by agent ID.
    pub fn agents(&self) -> &BTreeMap<String, get_agents::Agent> {
        &self.agents
    }

    /// The active frameworks, by framework ID.
    pub fn frameworks(&self) -> &BTreeMap<String, get_frameworks::Framework> {
        &self.frameworks
    }

    /// The most recently removed frameworks, oldest first.
    pub fn completed_frameworks(&self) -> &VecDeque<FrameworkInfo> {
        &self.completed_frameworks
    }

    /// The tasks not in a terminal state (pending, running, unreachable...).
    pub fn tasks(&self) -> &BTreeMap<TaskKey, Task> {
        &self.tasks
    }

    /// The most recently completed (terminal) tasks, oldest first.
    pub fn completed_tasks(&self) -> &VecDeque<Task> {
        &self.completed_tasks
    }

    /// A task, active or recently completed.
    pub fn task(&self, key: &TaskKey) -> Option<&Task> {
        self.tasks.get(key).or_else(|| {
            self.completed_tasks
                .iter()
                .rev()
                .find(|t| TaskKey::of(t) == *key)
        })
    }

    /// How many agents, frameworks or tasks were dropped because a bound of
    /// the [`StateLimits`] was reached (completed entries that aged out do
    /// not count).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Folds `event` into the state; what it changed (`None` for
    /// heartbeats and events without their payload).
    pub fn apply(&mut self, event: &Event) -> Option<Change> {
        match event.r#type() {
            event::Type::Subscribed => {
                let snapshot = event.subscribed.as_ref()?.get_state.clone()?;
                self.reset(snapshot);
                Some(Change::Snapshot {
                    agents: self.agents.len(),
                    frameworks: self.frameworks.len(),
                    tasks: self.tasks.len(),
                })
            }
            event::Type::TaskAdded => {
                let task = event.task_added.as_ref()?.task.clone();
                let (key, state) = (TaskKey::of(&task), task.state());
                self.add_task(task);
                Some(Change::TaskAdded { key, state })
            }
            event::Type::TaskUpdated => {
                let update = event.task_updated.as_ref()?;
                Some(self.update_task(
                    update.framework_id.value.clone(),
                    &update.status,
                    update.state(),
                ))
            }
            event::Type::AgentAdded => {
                let agent = event.agent_added.as_ref()?.agent.clone();
                let change = Change::AgentAdded {
                    agent_id: agent_id(&agent),
                    hostname: agent.agent_info.hostname.clone(),
                };
                self.add_agent(agent);
                Some(change)
            }
            event::Type::AgentRemoved => {
                let agent_id = event.agent_removed.as_ref()?.agent_id.value.clone();
                self.agents.remove(&agent_id);
                Some(Change::AgentRemoved { agent_id })
            }
            event::Type::FrameworkAdded => {
                let framework = event.framework_added.as_ref()?.framework.clone();
                let framework_id = framework_id(&framework);
                let name = framework.framework_info.name.clone();
                self.put_framework(framework);
                Some(Change::FrameworkAdded { framework_id, name })
            }
            event::Type::FrameworkUpdated => {
                let framework = event.framework_updated.as_ref()?.framework.clone();
                let framework_id = framework_id(&framework);
                self.put_framework(framework);
                Some(Change::FrameworkUpdated { framework_id })
            }
            event::Type::FrameworkRemoved => {
                let info = event.framework_removed.as_ref()?.framework_info.clone();
                let framework_id = info.id.as_ref().map(|id| id.value.clone())?;
                self.frameworks.remove(&framework_id);
                push_bounded(
                    &mut self.completed_frameworks,
                    info,
                    self.limits.max_completed_frameworks,
                );
                Some(Change::FrameworkRemoved { framework_id })
            }
            event::Type::Heartbeat | event::Type::Unknown => None,
        }
    }

    fn reset(&mut self, snapshot: GetState) {
        let limits = self.limits;
        let dropped = self.dropped;
        *self = ClusterState {
            limits,
            dropped,
            ..Self::default()
        };
        for agent in snapshot.get_agents.map(|a| a.agents).unwrap_or_default() {
            self.add_agent(agent);
        }
        if let Some(frameworks) = snapshot.get_frameworks {
            for framework in frameworks.frameworks {
                self.put_framework(framework);
            }
            for done in frameworks.completed_frameworks {
                push_bounded(
                    &mut self.completed_frameworks,
                    done.framework_info,
                    limits.max_completed_frameworks,
                );
            }
        }
        if let Some(tasks) = snapshot.get_tasks {
            for task in tasks.completed_tasks {
                push_bounded(&mut self.completed_tasks, task, limits.max_completed_tasks);
            }
            // (`pending_tasks` is deprecated and always empty since Mesos 1.x.)
            for task in tasks.tasks.into_iter().chain(tasks.unreachable_tasks) {
                self.add_task(task);
            }
        }
    }

    fn add_agent(&mut self, agent: get_agents::Agent) {
        let id = agent_id(&agent);
        if self.agents.len() >= self.limits.max_agents && !self.agents.contains_key(&id) {
            self.dropped += 1;
            return;
        }
        self.agents.insert(id, agent);
    }

    fn put_framework(&mut self, framework: get_frameworks::Framework) {
        let id = framework_id(&framework);
        if self.frameworks.len() >= self.limits.max_frameworks && !self.frameworks.contains_key(&id)
        {
            self.dropped += 1;
            return;
        }
        self.frameworks.insert(id, framework);
    }

    fn add_task(&mut self, mut task: Task) {
        trim_statuses(&mut task.statuses, self.limits.max_statuses_per_task);
        if task.state().is_terminal() {
            push_bounded(
                &mut self.completed_tasks,
                task,
                self.limits.max_completed_tasks,
            );
            return;
        }
        let key = TaskKey::of(&task);
        if self.tasks.len() >= self.limits.max_active_tasks && !self.tasks.contains_key(&key) {
            self.dropped += 1;
            return;
        }
        self.tasks.insert(key, task);
    }

    fn update_task(
        &mut self,
        framework_id: String,
        status: &TaskStatus,
        state: TaskState,
    ) -> Change {
        let key = TaskKey {
            framework_id,
            task_id: status.task_id.value.clone(),
        };
        let previous = self.tasks.get(&key).map(Task::state);
        if let Some(mut task) = self.tasks.remove(&key) {
            task.set_state(state);
            task.statuses.push(status.clone());
            self.add_task(task);
        }
        Change::TaskUpdated {
            key,
            previous,
            state,
            update: status.state(),
        }
    }
}

fn agent_id(agent: &get_agents::Agent) -> String {
    agent
        .agent_info
        .id
        .as_ref()
        .map(|id| id.value.clone())
        .unwrap_or_default()
}

fn framework_id(framework: &get_frameworks::Framework) -> String {
    framework
        .framework_info
        .id
        .as_ref()
        .map(|id| id.value.clone())
        .unwrap_or_default()
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, max: usize) {
    if max == 0 {
        return;
    }
    while queue.len() >= max {
        queue.pop_front();
    }
    queue.push_back(item);
}

fn trim_statuses(statuses: &mut Vec<TaskStatus>, max: usize) {
    if statuses.len() > max {
        statuses.drain(..statuses.len() - max);
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
