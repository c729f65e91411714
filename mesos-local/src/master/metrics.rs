//! `GET /metrics/snapshot`: the real master's metric names (Mesos 1.11,
//! `master/*`) for what mesos-local models, as a JSON object of numbers
//! (every value a float, as libprocess writes them).
//!
//! One difference, by construction: the real master counts a task in
//! `master/tasks_<terminal state>` by the state of the update that made it
//! terminal, and an agent's resent update may make it terminal through its
//! `latest_state` while its own state is still `TASK_RUNNING` (the task
//! finished before the scheduler acknowledged RUNNING): such a task is
//! counted in no global terminal counter (seen on Mesos 1.11; its
//! per-framework counter counts it). mesos-local's agents send no
//! `latest_state`, so every task that ends is counted once.

use mesos_proto::v1::TaskState;
use serde_json::{Map, Value};

use super::ids;
use super::state::State;

/// The master's counters (the gauges are computed from the state).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    tasks_finished: u64,
    tasks_failed: u64,
    tasks_killed: u64,
    tasks_lost: u64,
    tasks_error: u64,
    tasks_dropped: u64,
    tasks_gone: u64,
    tasks_gone_by_operator: u64,
    tasks_unreachable: u64,
    slave_registrations: u64,
    slave_reregistrations: u64,
}

impl Counters {
    /// A task reached the terminal `state` (counted once per task: callers
    /// call this on the transition only).
    pub(crate) fn task_terminal(&mut self, state: TaskState) {
        let counter = match state {
            TaskState::TaskFinished => &mut self.tasks_finished,
            TaskState::TaskFailed => &mut self.tasks_failed,
            TaskState::TaskKilled => &mut self.tasks_killed,
            TaskState::TaskLost => &mut self.tasks_lost,
            TaskState::TaskError => &mut self.tasks_error,
            TaskState::TaskDropped => &mut self.tasks_dropped,
            TaskState::TaskGone => &mut self.tasks_gone,
            TaskState::TaskGoneByOperator => &mut self.tasks_gone_by_operator,
            TaskState::TaskUnreachable => &mut self.tasks_unreachable,
            _ => return,
        };
        *counter += 1;
    }

    /// `n` agents registered for the first time.
    pub(crate) fn agents_registered(&mut self, n: usize) {
        self.slave_registrations += n as u64;
    }

    /// An agent re-registered (with a newly elected master).
    pub(crate) fn agent_reregistered(&mut self) {
        self.slave_reregistrations += 1;
    }
}

/// Counts of tasks by state, for the gauges.
#[derive(Default)]
struct Live {
    staging: u64,
    starting: u64,
    running: u64,
    killing: u64,
    unreachable: u64,
}

/// The snapshot: `elected` tells whether this master leads.
pub(crate) fn snapshot(state: &State, elected: bool) -> Value {
    let mut live = Live::default();
    let (mut active, mut connected) = (0u64, 0u64);
    for framework in state.frameworks.values() {
        active += u64::from(framework.active);
        connected += u64::from(framework.connected());
        for task in framework.holdings.tasks().values() {
            match task.state {
                TaskState::TaskStaging => live.staging += 1,
                TaskState::TaskStarting => live.starting += 1,
                TaskState::TaskRunning => live.running += 1,
                TaskState::TaskKilling => live.killing += 1,
                TaskState::TaskUnreachable => live.unreachable += 1,
                _ => {}
            }
        }
    }
    let frameworks = state.frameworks.len() as u64;
    let c = &state.counters;
    let mut map = Map::new();
    let mut put = |name: &str, value: f64| {
        map.insert(format!("master/{name}"), Value::from(value));
    };
    put("elected", if elected { 1.0 } else { 0.0 });
    put("uptime_secs", (ids::now_secs() - state.start_time).max(0.0));
    put("frameworks_active", active as f64);
    put("frameworks_inactive", (frameworks - active) as f64);
    put("frameworks_connected", connected as f64);
    put("frameworks_disconnected", (frameworks - connected) as f64);
    let agents = state.agents.len() as f64;
    put("slaves_active", agents);
    put("slaves_connected", agents);
    put("slaves_inactive", 0.0);
    put("slaves_disconnected", 0.0);
    put("slaves_unreachable", 0.0);
    put("slave_registrations", c.slave_registrations as f64);
    put("slave_reregistrations", c.slave_reregistrations as f64);
    put("slave_removals", state.removed_agents.len() as f64);
    put("tasks_staging", live.staging as f64);
    put("tasks_starting", live.starting as f64);
    put("tasks_running", live.running as f64);
    put("tasks_killing", live.killing as f64);
    put(
        "tasks_unreachable",
        (live.unreachable + c.tasks_unreachable) as f64,
    );
    put("tasks_finished", c.tasks_finished as f64);
    put("tasks_failed", c.tasks_failed as f64);
    put("tasks_killed", c.tasks_killed as f64);
    put("tasks_lost", c.tasks_lost as f64);
    put("tasks_error", c.tasks_error as f64);
    put("tasks_dropped", c.tasks_dropped as f64);
    put("tasks_gone", c.tasks_gone as f64);
    put("tasks_gone_by_operator", c.tasks_gone_by_operator as f64);
    put("outstanding_offers", state.offers.len() as f64);
    let mut total = mesos_proto::resources::Resources::new();
    let mut used = mesos_proto::resources::Resources::new();
    for agent in &state.agents {
        total += &agent.total;
        used += state.used_on(&agent.id);
    }
    for name in ["cpus", "gpus", "mem", "disk"] {
        let total = total.scalar(name).unwrap_or(0.0);
        let used = used.scalar(name).unwrap_or(0.0);
        put(&format!("{name}_total"), total);
        put(&format!("{name}_used"), used);
        put(
            &format!("{name}_percent"),
            if total > 0.0 { used / total } else { 0.0 },
        );
    }
    Value::Object(map)
}
