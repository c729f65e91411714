//! Task reconciliation as Mesos documents it (`docs/reconciliation.md`):
//! after every SUBSCRIBED, explicit reconciliation of every non-terminal
//! task the application knows, in batches, re-asking with truncated
//! exponential backoff only the tasks that have not answered since the run
//! began, until each has; then periodic implicit reconciliation.
//!
//! [`Reconciler`] is a plain state machine with an explicit clock: feed it
//! the subscription's events ([`Reconciler::observe`], or
//! [`on_subscribed`](Reconciler::on_subscribed) /
//! [`on_update`](Reconciler::on_update) /
//! [`on_disconnected`](Reconciler::on_disconnected) from a
//! [`Scheduler`](mesos_scheduler::Scheduler)'s callbacks), and send what
//! [`poll_due`](Reconciler::poll_due) returns when
//! [`next_deadline`](Reconciler::next_deadline) comes.
//! [`ReconcilerHandle`] does the sending: it runs the state machine in a
//! tokio task over a [`SchedulerClient`](mesos_scheduler::SchedulerClient),
//! with the driver or with the stream API alike.
//!
//! What it tells the application ([`ReconcileEvent`]): the tracked tasks
//! the master does not know ([`ReconcileEvent::Unknown`]: `TASK_LOST` for
//! a framework without the `PARTITION_AWARE` capability; `TASK_GONE`,
//! `TASK_GONE_BY_OPERATOR` or `TASK_UNKNOWN` for one with it), the tasks
//! the master runs that the application does not track
//! ([`ReconcileEvent::Untracked`]: kill or adopt them), and the end of each
//! explicit run ([`ReconcileEvent::Completed`]). It never acknowledges
//! anything: reconciliation answers carry no `uuid` and need none, and the
//! application's own updates stay the application's (or the driver's) to
//! acknowledge.
//!
//! Bounds: the reconciler tracks exactly the tasks the application gives
//! it ([`track`](Reconciler::track)) and forgets each when it reaches a
//! terminal state or when the application [`forget`](Reconciler::forget)s
//! it, so its memory is the application's own task count; it never adds a
//! task on its own. A run sends at most `ceil(tasks / batch_size)` calls
//! per round and at most [`ReconcilerConfig::max_rounds`] rounds, rounds
//! spaced by the backoff.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use mesos_framework::reconcile::{ReconcileEvent, Reconciler, ReconcilerConfig};
//! use mesos_scheduler::proto::v1::{task_status::Reason, TaskId, TaskState, TaskStatus};
//!
//! let mut reconciler = Reconciler::new(ReconcilerConfig::default())?;
//! reconciler.track(TaskId::from("web-1"), None);
//! reconciler.track(TaskId::from("web-2"), None);
//!
//! let t0 = Instant::now();
//! reconciler.on_subscribed(t0);
//! let calls = reconciler.poll_due(t0);
//! assert_eq!(calls.len(), 1, "one RECONCILE for both tasks");
//! assert_eq!(calls[0].reconcile.as_ref().unwrap().tasks.len(), 2);
//!
//! // The master answers: web-1 runs, web-2 it never heard of.
//! let answer = |id: &str, state: TaskState| TaskStatus {
//!     task_id: TaskId::from(id),
//!     state: state as i32,
//!     reason: Some(Reason::Reconciliation as i32),
//!     ..Default::default()
//! };
//! assert!(reconciler.on_update(&answer("web-1", TaskState::TaskRunning)).is_empty());
//! let events = reconciler.on_update(&answer("web-2", TaskState::TaskLost));
//! assert!(matches!(&events[0], ReconcileEvent::Unknown(s) if s.task_id.value == "web-2"));
//! assert!(matches!(events[1], ReconcileEvent::Completed { tasks: 2, rounds: 1 }));
//!
//! // Then implicit reconciliation (an empty RECONCILE), now and periodically.
//! let calls = reconciler.poll_due(t0 + Duration::from_millis(1));
//! assert!(calls[0].reconcile.as_ref().unwrap().tasks.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod handle;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mesos_scheduler::proto::v1::scheduler::Call;
use mesos_scheduler::proto::v1::task_status::Reason;
use mesos_scheduler::proto::v1::{AgentId, TaskId, TaskState, TaskStatus};
use mesos_scheduler::{calls, SchedulerEvent};

pub use config::{
    ReconcilerConfig, ReconcilerConfigError, DEFAULT_BATCH_SIZE, DEFAULT_IMPLICIT_PERIOD,
    DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_ROUNDS, MAX_BATCH_SIZE, MAX_INTERVAL,
};
pub use handle::ReconcilerHandle;

/// What the reconciler tells the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReconcileEvent {
    /// The master answered a reconciliation with a state saying it does not
    /// know this tracked task: `TASK_LOST` (a framework without
    /// `PARTITION_AWARE`), `TASK_GONE`, `TASK_GONE_BY_OPERATOR` or
    /// `TASK_UNKNOWN`, with `REASON_RECONCILIATION`. Relaunch it, or give
    /// it up. The terminal ones are forgotten; a task in `TASK_UNKNOWN`
    /// (which may still come back) stays tracked until the application
    /// [forgets](Reconciler::forget) it.
    Unknown(TaskStatus),
    /// A reconciliation answer (`REASON_RECONCILIATION`, non-terminal) for
    /// a task the application does not track: the master knows a task of
    /// this framework that the application forgot. Mesos advises to kill
    /// it or [track](Reconciler::track) it again.
    Untracked(TaskStatus),
    /// Every task of the explicit run has answered (or there was none to
    /// ask); implicit reconciliation follows.
    Completed {
        /// How many tasks the run asked about.
        tasks: usize,
        /// How many rounds it sent.
        rounds: u32,
    },
}

/// Where the reconciler is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Not subscribed: nothing to send.
    Idle,
    /// An explicit run is in progress.
    Explicit,
    /// Periodic implicit reconciliation.
    Implicit,
}

/// A snapshot of the reconciler's progress and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The current phase.
    pub phase: Phase,
    /// Tasks tracked.
    pub tracked: usize,
    /// Tasks of the current explicit run that have not answered yet.
    pub remaining: usize,
    /// Rounds sent in the current (or last) explicit run.
    pub rounds: u32,
    /// Explicit runs completed (every task answered).
    pub runs_completed: u64,
    /// Explicit runs given up after [`ReconcilerConfig::max_rounds`].
    pub runs_given_up: u64,
    /// Explicit RECONCILE calls emitted.
    pub explicit_calls: u64,
    /// Implicit (empty) RECONCILE calls emitted.
    pub implicit_calls: u64,
}

/// A task the application tracks.
#[derive(Debug, Clone, PartialEq)]
struct Tracked {
    task_id: TaskId,
    agent_id: Option<AgentId>,
}

#[derive(Debug, Clone)]
enum State {
    Idle,
    Explicit {
        /// When the next round goes out.
        next_round: Instant,
        /// The wait after the next round.
        backoff: Duration,
        /// Tasks asked about in this run.
        asked: usize,
    },
    Implicit {
        /// When the next implicit RECONCILE goes out.
        next: Instant,
    },
}

/// The reconciliation state machine (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Reconciler {
    config: ReconcilerConfig,
    /// Tracked tasks by id (ordered: batches are deterministic).
    tasks: BTreeMap<String, Tracked>,
    /// Tasks of the current explicit run that have not answered.
    remaining: BTreeSet<String>,
    state: State,
    /// When the state machine last ran (`on_subscribed` or `poll_due`):
    /// work due at once is due at this instant.
    last_now: Option<Instant>,
    rounds: u32,
    runs_completed: u64,
    runs_given_up: u64,
    explicit_calls: u64,
    implicit_calls: u64,
}

/// True for the reconciliation answers that mean "the master does not know
/// this task".
fn says_unknown(status: &TaskStatus) -> bool {
    is_reconciliation(status)
        && matches!(
            status.state(),
            TaskState::TaskLost
                | TaskState::TaskGone
                | TaskState::TaskGoneByOperator
                | TaskState::TaskUnknown
        )
}

fn is_reconciliation(status: &TaskStatus) -> bool {
    status.reason == Some(Reason::Reconciliation as i32)
}

impl Reconciler {
    /// A reconciler with `config`, tracking nothing, idle until
    /// [`on_subscribed`](Self::on_subscribed).
    pub fn new(config: ReconcilerConfig) -> Result<Self, ReconcilerConfigError> {
        config.validate()?;
        Ok(Reconciler {
            config,
            tasks: BTreeMap::new(),
            remaining: BTreeSet::new(),
            state: State::Idle,
            last_now: None,
            rounds: 0,
            runs_completed: 0,
            runs_given_up: 0,
            explicit_calls: 0,
            implicit_calls: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ReconcilerConfig {
        &self.config
    }

    /// Tracks a non-terminal task: one the application launched (track it
    /// before the ACCEPT goes out) or restored from its own state after a
    /// restart. `agent_id`, when known, makes the master's answer exact
    /// (`TASK_GONE` rather than `TASK_UNKNOWN` for a partition-aware
    /// framework). A task tracked during an explicit run joins the next
    /// run. Tracking a task again updates its agent.
    pub fn track(&mut self, task_id: TaskId, agent_id: Option<AgentId>) {
        let key = task_id.value.clone();
        match self.tasks.get_mut(&key) {
            Some(tracked) => {
                if agent_id.is_some() {
                    tracked.agent_id = agent_id;
                }
            }
            None => {
                self.tasks.insert(key, Tracked { task_id, agent_id });
            }
        }
    }

    /// Stops tracking a task; true if it was tracked. A task of the
    /// current explicit run no longer holds the run up.
    pub fn forget(&mut self, task_id: &TaskId) -> bool {
        self.remaining.remove(&task_id.value);
        self.tasks.remove(&task_id.value).is_some()
    }

    /// Whether `task_id` is tracked.
    pub fn is_tracked(&self, task_id: &TaskId) -> bool {
        self.tasks.contains_key(&task_id.value)
    }

    /// How many tasks are tracked.
    pub fn tracked(&self) -> usize {
        self.tasks.len()
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Idle => Phase::Idle,
            State::Explicit { .. } => Phase::Explicit,
            State::Implicit { .. } => Phase::Implicit,
        }
    }

    /// Progress and counters.
    pub fn progress(&self) -> Progress {
        Progress {
            phase: self.phase(),
            tracked: self.tasks.len(),
            remaining: self.remaining.len(),
            rounds: self.rounds,
            runs_completed: self.runs_completed,
            runs_given_up: self.runs_given_up,
            explicit_calls: self.explicit_calls,
            implicit_calls: self.implicit_calls,
        }
    }

    /// The framework (re)subscribed: a new explicit run of every tracked
    /// task begins (a run in progress is abandoned, as Mesos advises), its
    /// first round due at `now`. With nothing tracked the run is complete
    /// at once ([`ReconcileEvent::Completed`] with no task).
    pub fn on_subscribed(&mut self, now: Instant) -> Vec<ReconcileEvent> {
        self.last_now = Some(now);
        self.remaining = self.tasks.keys().cloned().collect();
        self.rounds = 0;
        if self.remaining.is_empty() {
            self.runs_completed += 1;
            self.state = State::Implicit {
                next: self.first_implicit(now),
            };
            return vec![ReconcileEvent::Completed {
                tasks: 0,
                rounds: 0,
            }];
        }
        self.state = State::Explicit {
            next_round: now,
            backoff: self.config.initial_backoff,
            asked: self.remaining.len(),
        };
        Vec::new()
    }

    /// The connection was lost: nothing is sent until the next SUBSCRIBED
    /// (which starts a new run).
    pub fn on_disconnected(&mut self) {
        self.state = State::Idle;
        self.remaining.clear();
    }

    /// A status update arrived (any: the application's own updates answer
    /// for their task as well as reconciliation answers do). Returns what
    /// the application should know (see [`ReconcileEvent`]). A tracked task
    /// in a terminal state is forgotten.
    pub fn on_update(&mut self, status: &TaskStatus) -> Vec<ReconcileEvent> {
        let mut events = Vec::new();
        let key = &status.task_id.value;
        let state = status.state();
        match self.tasks.get_mut(key) {
            Some(tracked) => {
                if let Some(agent_id) = &status.agent_id {
                    tracked.agent_id = Some(agent_id.clone());
                }
                if says_unknown(status) {
                    events.push(ReconcileEvent::Unknown(status.clone()));
                }
                if state.is_terminal() {
                    self.tasks.remove(key);
                }
            }
            None => {
                if is_reconciliation(status)
                    && !state.is_terminal()
                    && state != TaskState::TaskUnknown
                {
                    events.push(ReconcileEvent::Untracked(status.clone()));
                }
            }
        }
        if self.remaining.remove(key) && self.remaining.is_empty() {
            if let State::Explicit { asked, .. } = self.state {
                events.push(self.complete(asked));
            }
        }
        events
    }

    /// Feeds a subscription event: SUBSCRIBED, UPDATE and DISCONNECTED
    /// matter, the rest is ignored. `now` is the time of arrival.
    pub fn observe(&mut self, event: &SchedulerEvent, now: Instant) -> Vec<ReconcileEvent> {
        match event {
            SchedulerEvent::Subscribed { .. } => self.on_subscribed(now),
            SchedulerEvent::Update(status) => self.on_update(status),
            SchedulerEvent::Disconnected { .. } => {
                self.on_disconnected();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The RECONCILE calls due at `now` (none when nothing is due). After
    /// it, [`next_deadline`](Self::next_deadline) is later than `now` (or
    /// `None`).
    pub fn poll_due(&mut self, now: Instant) -> Vec<Call> {
        self.last_now = Some(now);
        match self.state.clone() {
            State::Idle => Vec::new(),
            State::Explicit {
                next_round,
                backoff,
                asked,
            } => {
                if self.remaining.is_empty() {
                    // The last unanswered tasks were forgotten.
                    self.complete(asked);
                    return self.poll_due(now);
                }
                if now < next_round {
                    return Vec::new();
                }
                if self.rounds >= self.config.max_rounds {
                    tracing::warn!(
                        unanswered = self.remaining.len(),
                        rounds = self.rounds,
                        "explicit reconciliation gave up on tasks the master did not answer for; implicit reconciliation follows"
                    );
                    self.runs_given_up += 1;
                    self.remaining.clear();
                    self.state = State::Implicit { next: now };
                    return self.poll_due(now);
                }
                self.rounds += 1;
                self.state = State::Explicit {
                    next_round: now + backoff,
                    backoff: backoff.saturating_mul(2).min(self.config.max_backoff),
                    asked,
                };
                let batches = self.batches();
                self.explicit_calls += batches.len() as u64;
                tracing::debug!(
                    round = self.rounds,
                    tasks = self.remaining.len(),
                    calls = batches.len(),
                    "explicit reconciliation round"
                );
                batches
            }
            State::Implicit { next } => {
                if now < next {
                    return Vec::new();
                }
                self.state = State::Implicit {
                    next: now + self.config.implicit_period,
                };
                self.implicit_calls += 1;
                tracing::debug!("implicit reconciliation");
                vec![calls::reconcile(Vec::new())]
            }
        }
    }

    /// When [`poll_due`](Self::poll_due) next has something to send (at or
    /// before the last `now` it saw when something is due at once); `None`
    /// while idle.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            State::Idle => None,
            State::Explicit { next_round, .. } => Some(next_round),
            State::Implicit { next } => Some(next),
        }
    }

    /// One RECONCILE per batch of the remaining tasks.
    fn batches(&self) -> Vec<Call> {
        let asked: Vec<(TaskId, Option<AgentId>)> = self
            .remaining
            .iter()
            .filter_map(|key| self.tasks.get(key))
            .map(|t| (t.task_id.clone(), t.agent_id.clone()))
            .collect();
        asked
            .chunks(self.config.batch_size)
            .map(|batch| calls::reconcile(batch.to_vec()))
            .collect()
    }

    fn complete(&mut self, asked: usize) -> ReconcileEvent {
        self.runs_completed += 1;
        let now = self.last_now.unwrap_or_else(Instant::now);
        self.state = State::Implicit {
            next: self.first_implicit(now),
        };
        tracing::info!(
            tasks = asked,
            rounds = self.rounds,
            "explicit reconciliation complete"
        );
        ReconcileEvent::Completed {
            tasks: asked,
            rounds: self.rounds,
        }
    }

    fn first_implicit(&self, now: Instant) -> Instant {
        if self.config.implicit_after_explicit {
            now
        } else {
            now + self.config.implicit_period
        }
    }
}
