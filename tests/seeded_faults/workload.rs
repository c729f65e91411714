//! The workload of one seed: which tasks, the [`Scheduler`] that launches
//! them and records every status update, and the [`Work`] they share, which
//! outlives driver failovers (as a real framework's persistent state).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mesos_proto::builders::{filters, CommandInfoBuilder};
use mesos_proto::v1::task_status::Reason;
use mesos_proto::v1::{
    ExecutorInfo, FrameworkId, MasterInfo, Offer, TaskInfo, TaskState, TaskStatus,
};
use mesos_scheduler::{Scheduler, SchedulerDriver};
use tokio::time::Instant;

/// Resources of each task (and of the test executor).
const TASK_CPUS: f64 = 0.1;
const TASK_MEM: f64 = 32.0;

/// Long-running tasks are killed this long after they were seen running.
const KILL_AFTER: Duration = Duration::from_millis(1500);

/// At most this many tasks per offer, so that both agents get some.
const TASKS_PER_OFFER: usize = 3;

/// What a task does, and so how it must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `sleep 0.2; exit 0`: TASK_FINISHED.
    Quick,
    /// `exit 3`: TASK_FAILED.
    Failing,
    /// A task of the `test_executor` example: TASK_FINISHED.
    Executor,
    /// `sleep 1000`, killed by the framework once running: TASK_KILLED.
    LongRunning,
}

impl Kind {
    /// The terminal state a task of this kind must reach.
    pub fn expected(self) -> TaskState {
        match self {
            Kind::Quick | Kind::Executor => TaskState::TaskFinished,
            Kind::Failing => TaskState::TaskFailed,
            Kind::LongRunning => TaskState::TaskKilled,
        }
    }

    fn shell(self) -> Option<&'static str> {
        match self {
            Kind::Quick => Some("sleep 0.2; exit 0"),
            Kind::Failing => Some("exit 3"),
            Kind::LongRunning => Some("echo $$ > \"$MESOS_SANDBOX/pid\"; exec sleep 1000"),
            Kind::Executor => None,
        }
    }
}

/// One task to launch.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its id (a relaunch after a failed ACCEPT gets a new one).
    pub id: String,
    /// What it does.
    pub kind: Kind,
    /// Not launched before this.
    pub release: Instant,
}

/// One status update the scheduler got.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Which driver (0, 1, ... counting failovers) delivered it.
    pub driver: usize,
    /// The task.
    pub task_id: String,
    /// Its state.
    pub state: TaskState,
    /// Its reason, if any.
    pub reason: Option<Reason>,
    /// Its uuid (absent on the master's own updates).
    pub uuid: Option<Bytes>,
    /// The pid of the task's process or executor, when given.
    pub pid: Option<u32>,
}

/// Everything the framework knows, shared by its successive drivers.
#[derive(Debug, Default)]
pub struct Work {
    /// Tasks not launched yet.
    pub queue: VecDeque<Spec>,
    /// Tasks in an ACCEPT not answered yet (neither queued nor launched:
    /// still to finish).
    pub in_flight: BTreeMap<String, Spec>,
    /// Tasks whose ACCEPT was answered 202.
    pub launched: BTreeMap<String, Spec>,
    /// Tasks whose ACCEPT failed: maybe launched (relaunched under a new
    /// id either way).
    pub uncertain: BTreeMap<String, Spec>,
    /// Every status update, in order.
    pub updates: Vec<Seen>,
    /// The framework id each driver registered with.
    pub registrations: Vec<String>,
    /// ERROR events and fatal errors the drivers reported.
    pub errors: Vec<String>,
    /// Long-running tasks seen running, and when.
    pub running_since: BTreeMap<String, Instant>,
    /// When each long-running task was last asked to be killed.
    pub killed_at: BTreeMap<String, Instant>,
    relaunches: usize,
}

impl Work {
    /// The workload every seed runs, released in waves over the fault
    /// window from `start` (so faults meet traffic throughout).
    pub fn new(start: Instant) -> Self {
        let waves: [(u64, &[(&str, Kind)]); 4] = [
            (
                0,
                &[
                    ("quick-0", Kind::Quick),
                    ("exec-0", Kind::Executor),
                    ("long-0", Kind::LongRunning),
                ],
            ),
            (
                1200,
                &[
                    ("quick-1", Kind::Quick),
                    ("exec-1", Kind::Executor),
                    ("failing-0", Kind::Failing),
                ],
            ),
            (
                2400,
                &[
                    ("quick-2", Kind::Quick),
                    ("exec-2", Kind::Executor),
                    ("long-1", Kind::LongRunning),
                ],
            ),
            (
                3600,
                &[("quick-3", Kind::Quick), ("exec-3", Kind::Executor)],
            ),
        ];
        Work {
            queue: waves
                .iter()
                .flat_map(|(at, tasks)| {
                    tasks.iter().map(move |(id, kind)| Spec {
                        id: id.to_string(),
                        kind: *kind,
                        release: start + Duration::from_millis(*at),
                    })
                })
                .collect(),
            ..Work::default()
        }
    }

    /// Takes up to `n` released tasks from the queue.
    /// Up to `n` released tasks, now in flight until
    /// [`accepted`](Self::accepted) says how their ACCEPT ended.
    fn take_released(&mut self, n: usize, now: Instant) -> Vec<Spec> {
        let mut taken = Vec::new();
        while taken.len() < n && self.queue.front().is_some_and(|s| s.release <= now) {
            taken.extend(self.queue.pop_front());
        }
        for spec in &taken {
            self.in_flight.insert(spec.id.clone(), spec.clone());
        }
        taken
    }

    /// Tasks taken but not sent (no task could be built for the offer):
    /// first in the queue again.
    fn put_back(&mut self, specs: Vec<Spec>) {
        for spec in specs.into_iter().rev() {
            self.in_flight.remove(&spec.id);
            self.queue.push_front(spec);
        }
    }

    /// The ACCEPT of `spec` was answered 202 (`launched`) or failed.
    fn accepted(&mut self, spec: Spec, launched: bool) {
        self.in_flight.remove(&spec.id);
        if launched {
            self.launched.insert(spec.id.clone(), spec);
        } else {
            self.requeue(spec);
        }
    }

    /// The spec of a task the framework tried to launch.
    pub fn spec(&self, task_id: &str) -> Option<&Spec> {
        self.launched
            .get(task_id)
            .or_else(|| self.uncertain.get(task_id))
    }

    /// Whether the master refused `task_id`'s launch for an offer no longer
    /// valid (a terminal update with REASON_INVALID_OFFERS, the task's only
    /// terminal state at the framework).
    pub fn refused_as_invalid(&self, task_id: &str) -> bool {
        let terminal = self.terminal_states(task_id);
        terminal.len() == 1
            && self.updates.iter().any(|s| {
                s.task_id == task_id
                    && s.state.is_terminal()
                    && s.reason == Some(Reason::InvalidOffers)
            })
    }

    /// The distinct terminal states the framework got for `task_id`.
    pub fn terminal_states(&self, task_id: &str) -> BTreeSet<TaskState> {
        self.updates
            .iter()
            .filter(|s| s.task_id == task_id && s.state.is_terminal())
            .map(|s| s.state)
            .collect()
    }

    /// Tasks that must still reach a terminal state: every launched task,
    /// and every uncertain one the framework heard of.
    pub fn unfinished(&self) -> Vec<String> {
        let heard = |id: &str| self.updates.iter().any(|s| s.task_id == id);
        self.queue
            .iter()
            .map(|s| format!("{} (not launched)", s.id))
            .chain(
                self.in_flight
                    .keys()
                    .map(|id| format!("{id} (ACCEPT unanswered)")),
            )
            .chain(
                self.launched
                    .keys()
                    .chain(self.uncertain.keys().filter(|id| heard(id)))
                    .filter(|id| self.terminal_states(id).is_empty())
                    .cloned(),
            )
            .collect()
    }

    /// Long-running tasks to kill now: running, not terminal, and not
    /// asked within `again`.
    pub fn kills_due(&self, now: Instant, again: Duration) -> Vec<String> {
        self.running_since
            .iter()
            .filter(|(id, since)| {
                now.duration_since(**since) >= KILL_AFTER
                    && self.terminal_states(id).is_empty()
                    && self
                        .killed_at
                        .get(*id)
                        .is_none_or(|at| now.duration_since(*at) >= again)
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The updates of `task_id`, in order, as text (for reports); runs of
    /// one update are shown once with their count.
    pub fn history(&self, task_id: &str) -> Vec<String> {
        let shown = self
            .updates
            .iter()
            .filter(|s| s.task_id == task_id)
            .map(|s| {
                format!(
                    "{}{}{} (driver {})",
                    s.state.as_str_name(),
                    s.reason
                        .map(|r| format!(" {}", r.as_str_name()))
                        .unwrap_or_default(),
                    if s.uuid.is_some() { "" } else { " no-uuid" },
                    s.driver
                )
            });
        collapse_runs(shown)
    }

    /// The pids the updates named.
    pub fn pids(&self) -> BTreeSet<u32> {
        self.updates.iter().filter_map(|s| s.pid).collect()
    }

    fn requeue(&mut self, spec: Spec) {
        self.relaunches += 1;
        let base = spec.id.split('~').next().unwrap_or(&spec.id).to_string();
        let id = format!("{base}~{}", self.relaunches);
        self.uncertain.insert(spec.id.clone(), spec.clone());
        self.queue.push_back(Spec { id, ..spec });
    }
}

/// `a a a b` as `a ×3, b`.
pub fn collapse_runs(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut runs: Vec<(String, usize)> = Vec::new();
    for item in items {
        match runs.last_mut() {
            Some((last, n)) if *last == item => *n += 1,
            _ => runs.push((item, 1)),
        }
    }
    runs.into_iter()
        .map(|(item, n)| {
            if n == 1 {
                item
            } else {
                format!("{item} ×{n}")
            }
        })
        .collect()
}

/// The shared work.
pub type SharedWork = Arc<Mutex<Work>>;

/// Locks the shared work (a panicking holder does not stop the run).
pub fn lock(work: &SharedWork) -> MutexGuard<'_, Work> {
    work.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `test_executor` example, reaching its agent as `agent_pid`
/// (`slave(1)@ip:port`, the port a proxy's) instead of directly when given:
/// the executor environment's `MESOS_SLAVE_PID` (which the driver prefers
/// to `MESOS_AGENT_ENDPOINT`) is overridden by the command's own.
pub fn test_executor(path: &Path, agent_pid: Option<&str>) -> ExecutorInfo {
    let mut command = CommandInfoBuilder::argv(path.display().to_string(), Vec::<String>::new());
    if let Some(pid) = agent_pid {
        command = command.env("MESOS_SLAVE_PID", pid);
    }
    ExecutorInfo::builder("test-executor")
        .name("seeded faults test executor")
        .command(command)
        .cpus(TASK_CPUS)
        .mem(TASK_MEM)
        .build()
        .expect("valid ExecutorInfo")
}

/// The scheduler of one driver.
pub struct Framework {
    /// The shared work.
    pub work: SharedWork,
    /// Which driver this is (0 for the first).
    pub driver: usize,
    /// The test executor for each agent id.
    pub executors: HashMap<String, ExecutorInfo>,
}

fn fits(offer: &Offer, cpus: f64, mem: f64) -> bool {
    let scalar = |name: &str| -> f64 {
        offer
            .resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.as_ref())
            .map(|s| s.value)
            .sum()
    };
    scalar("cpus") >= cpus - 1e-9 && scalar("mem") >= mem - 1e-9
}

impl Framework {
    fn task(&self, spec: &Spec, offer: &Offer) -> Option<TaskInfo> {
        let builder = TaskInfo::builder(format!("task {}", spec.id), spec.id.as_str())
            .agent_id(&offer.agent_id)
            .cpus(TASK_CPUS)
            .mem(TASK_MEM);
        let builder = match spec.kind.shell() {
            Some(shell) => builder.command(CommandInfoBuilder::shell(shell)),
            None => builder.executor(self.executors.get(&offer.agent_id.value)?.clone()),
        };
        builder.build().ok()
    }
}

#[async_trait]
impl Scheduler for Framework {
    async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
        lock(&self.work).registrations.push(id.value.clone());
    }

    async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            // Room for the executor too, should this agent need one.
            let specs: Vec<Spec> = if fits(&offer, 4.0 * TASK_CPUS, 4.0 * TASK_MEM) {
                lock(&self.work).take_released(TASKS_PER_OFFER, Instant::now())
            } else {
                Vec::new()
            };
            let mut unbuildable = Vec::new();
            let (specs, tasks): (Vec<Spec>, Vec<TaskInfo>) = specs
                .into_iter()
                .filter_map(|s| match self.task(&s, &offer) {
                    Some(task) => Some((s, task)),
                    None => {
                        unbuildable.push(s);
                        None
                    }
                })
                .unzip();
            lock(&self.work).put_back(unbuildable);
            if tasks.is_empty() {
                let _ = driver
                    .decline_offer(offer.id, Some(filters(Duration::from_millis(500))))
                    .await;
                continue;
            }
            let result = driver
                .launch_tasks(vec![offer.id], tasks, Some(filters(Duration::ZERO)))
                .await;
            let mut work = lock(&self.work);
            for spec in specs {
                work.accepted(spec, result.is_ok());
            }
        }
    }

    async fn status_update(&mut self, _: &SchedulerDriver, status: TaskStatus) {
        let state = status.state();
        let mut work = lock(&self.work);
        let task_id = status.task_id.value.clone();
        let long = work
            .spec(&task_id)
            .is_some_and(|s| s.kind == Kind::LongRunning);
        if long && state == TaskState::TaskRunning {
            work.running_since
                .entry(task_id.clone())
                .or_insert_with(Instant::now);
        }
        work.updates.push(Seen {
            driver: self.driver,
            task_id,
            state,
            reason: status.reason.map(|_| status.reason()),
            uuid: status.uuid.clone(),
            pid: status
                .container_status
                .as_ref()
                .and_then(|c| c.executor_pid),
        });
    }

    async fn error(&mut self, _: &SchedulerDriver, message: String) {
        lock(&self.work)
            .errors
            .push(format!("driver {}: {message}", self.driver));
    }
}
