//! A port of Mesos's `src/examples/test_executor.cpp`: every launched task
//! goes TASK_RUNNING, then TASK_FINISHED; framework messages are echoed
//! back to the scheduler; the process exits when the agent shuts the
//! executor down.
//!
//! A task whose `data` is a run time in seconds (`3`, `0.5`: what
//! `test_framework --task-seconds` sends; see
//! `mesos_examples::parse_task_seconds`) reaches its terminal state that
//! long after its other states, while other tasks and calls go on (a KILL
//! meanwhile answers TASK_KILLED instead); a task without `data` (Mesos's
//! behaviour) or with other `data` finishes at once (the latter with a
//! warning logged). Tasks of a group always finish at once.
//!
//! Beyond the original, it runs task groups (LAUNCH_GROUP, with a
//! `CUSTOM` ExecutorInfo): every task of the group goes TASK_RUNNING, then
//! every task TASK_FINISHED. Four variables of its environment (set in
//! `ExecutorInfo.command.environment`) serve tests:
//!
//! - `TEST_EXECUTOR_STATES=<state>,<state>...`: the states every task goes
//!   through instead of `TASK_RUNNING,TASK_FINISHED` (for a group, each
//!   state for every task of the group before the next state); a task left
//!   in a non-terminal state is killed on KILL (TASK_KILLED);
//! - `TEST_EXECUTOR_HEALTHY=true|false`: non-terminal updates carry
//!   `healthy` with that value (as from a health check);
//! - `TEST_EXECUTOR_REPORT=<path>`: one JSON object per line is appended
//!   to `<path>` for each event the executor saw (`registered` with the
//!   names of its environment variables, `launch`
//!   and `launch_group` with the task ids, `acknowledged` with the task id,
//!   `kill`, `message`, `shutdown`, `error`) and, last, `ended` with the
//!   driver's final status;
//! - `TEST_EXECUTOR_EXIT_WHEN_DONE=1`: once every update it sent has been
//!   acknowledged, the executor stops its driver and exits (status 0), as
//!   Mesos's default executor does once its tasks are done; otherwise it
//!   waits for SHUTDOWN.
//!
//! Run by a Mesos agent as a custom executor (`ExecutorInfo.command` = the
//! path of this binary); it reads its environment with
//! `mesos_executor::run_from_env`. Logs go to stderr (the sandbox's
//! `stderr` file), filtered by `RUST_LOG` (default `info`).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mesos_executor::{Executor, ExecutorDriver, Status};
use mesos_proto::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskGroupInfo, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use serde_json::{json, Value};

/// Where the report goes (see the module docs).
const REPORT_VAR: &str = "TEST_EXECUTOR_REPORT";

/// Set to `1` to exit once every update is acknowledged.
const EXIT_WHEN_DONE_VAR: &str = "TEST_EXECUTOR_EXIT_WHEN_DONE";

/// The states every task goes through (comma-separated names).
const STATES_VAR: &str = "TEST_EXECUTOR_STATES";

/// `true` or `false`: the `healthy` of non-terminal updates.
const HEALTHY_VAR: &str = "TEST_EXECUTOR_HEALTHY";

/// At most this many tasks are tracked (the agent sends the tasks; past
/// this bound the executor no longer exits by itself nor kills them).
const MAX_TRACKED_TASKS: usize = 4096;

/// `TEST_EXECUTOR_STATES` is not a list of task states.
#[derive(Debug, thiserror::Error)]
#[error("{STATES_VAR}: {0:?} is not a task state (such as TASK_RUNNING)")]
struct BadState(String);

/// The states of `TEST_EXECUTOR_STATES`, or TASK_RUNNING, TASK_FINISHED.
fn states_from_env() -> Result<Vec<TaskState>, BadState> {
    let Ok(list) = std::env::var(STATES_VAR) else {
        return Ok(vec![TaskState::TaskRunning, TaskState::TaskFinished]);
    };
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| TaskState::from_str_name(name).ok_or_else(|| BadState(name.to_string())))
        .collect()
}

/// Whether `state` ends a task.
fn is_terminal(state: TaskState) -> bool {
    !matches!(
        state,
        TaskState::TaskStaging
            | TaskState::TaskStarting
            | TaskState::TaskRunning
            | TaskState::TaskKilling
    )
}

/// The report file, if asked for: one JSON object per line.
struct Report(Option<PathBuf>);

impl Report {
    fn from_env() -> Report {
        Report(std::env::var_os(REPORT_VAR).map(PathBuf::from))
    }

    fn write(&self, entry: Value) {
        let Some(path) = &self.0 else {
            return;
        };
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| writeln!(file, "{entry}"));
        if let Err(e) = appended {
            tracing::error!(path = %path.display(), error = %e, "writing the report failed");
        }
    }
}

struct TestExecutor {
    report: Report,
    /// The states every task goes through.
    states: Vec<TaskState>,
    /// The `healthy` of non-terminal updates.
    healthy: Option<bool>,
    /// Exit once every update is acknowledged.
    exit_when_done: bool,
    /// Updates sent and not yet acknowledged, by task id (when
    /// `exit_when_done`).
    unacknowledged: HashMap<String, usize>,
    /// Tasks launched and not in a terminal state.
    live: HashSet<String>,
    /// More tasks than [`MAX_TRACKED_TASKS`] were launched: never exit by
    /// ourselves.
    untracked: bool,
    /// Tasks whose terminal updates wait for their run time, by task id.
    running: HashMap<String, Running>,
}

/// A task that finishes after its run time.
struct Running {
    /// Sends the terminal updates once the run time is over.
    finisher: tokio::task::JoinHandle<()>,
    /// How many updates the finisher sends.
    updates: usize,
}

/// How long `task` runs before it finishes: the seconds in its `data`, if
/// it holds a valid run time.
fn run_time(task: &TaskInfo) -> Option<Duration> {
    let data = task.data.as_ref().filter(|d| !d.is_empty())?;
    let parsed = std::str::from_utf8(data)
        .map_err(|_| "not UTF-8".to_string())
        .and_then(mesos_examples::parse_task_seconds);
    match parsed {
        Ok(run) => Some(run),
        Err(e) => {
            tracing::warn!(task_id = task.task_id.value, error = %e, "task data is not a run time; finishing at once");
            None
        }
    }
}

impl TestExecutor {
    fn from_env() -> Result<TestExecutor, BadState> {
        Ok(TestExecutor {
            report: Report::from_env(),
            states: states_from_env()?,
            healthy: std::env::var(HEALTHY_VAR)
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            exit_when_done: std::env::var(EXIT_WHEN_DONE_VAR).is_ok_and(|v| v.trim() == "1"),
            unacknowledged: HashMap::new(),
            live: HashSet::new(),
            untracked: false,
            running: HashMap::new(),
        })
    }

    /// The update this executor sends for `task_id` entering `state`.
    fn status(&self, task_id: &TaskId, state: TaskState) -> TaskStatus {
        let message = match state {
            TaskState::TaskRunning => "test executor: running".to_string(),
            TaskState::TaskFinished => "test executor: finished".to_string(),
            TaskState::TaskKilled => "test executor: killed".to_string(),
            other => format!("test executor: {}", other.as_str_name()),
        };
        TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message),
            healthy: self.healthy.filter(|_| !is_terminal(state)),
            ..Default::default()
        }
    }

    async fn update(&mut self, driver: &ExecutorDriver, task_id: &TaskId, state: TaskState) {
        let status = self.status(task_id, state);
        if is_terminal(state) {
            self.live.remove(&task_id.value);
        } else if self.live.len() < MAX_TRACKED_TASKS {
            self.live.insert(task_id.value.clone());
        }
        if self.exit_when_done {
            self.expect_acknowledgement(&task_id.value);
        }
        if let Err(e) = driver.send_status_update(status).await {
            tracing::error!(task_id = task_id.value, error = %e, "status update failed");
        }
    }

    /// Sends `states` for `task_id` once `run` is over, unless the task is
    /// killed first; at once when too many tasks are running already.
    async fn finish_later(
        &mut self,
        driver: &ExecutorDriver,
        task_id: &TaskId,
        states: Vec<TaskState>,
        run: Duration,
    ) {
        self.running.retain(|_, r| !r.finisher.is_finished());
        if self.running.len() >= MAX_TRACKED_TASKS {
            tracing::warn!(
                task_id = task_id.value,
                "too many running tasks: finishing at once"
            );
            for state in states {
                self.update(driver, task_id, state).await;
            }
            return;
        }
        // From here the finisher stands for the task: a KILL stops it.
        self.live.remove(&task_id.value);
        if self.exit_when_done {
            for _ in &states {
                self.expect_acknowledgement(&task_id.value);
            }
        }
        let statuses: Vec<TaskStatus> = states.iter().map(|s| self.status(task_id, *s)).collect();
        let driver = driver.clone();
        let id = task_id.value.clone();
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(run).await;
            for status in statuses {
                if let Err(e) = driver.send_status_update(status).await {
                    tracing::error!(task_id = id, error = %e, "status update failed");
                }
            }
            tracing::info!(task_id = id, "task done");
        });
        let updates = states.len();
        self.running
            .insert(task_id.value.clone(), Running { finisher, updates });
    }

    /// Stops the finisher of `task_id`, if it has not sent its updates
    /// yet; whether it was stopped.
    fn stop_finisher(&mut self, task_id: &str) -> bool {
        let Some(running) = self.running.remove(task_id) else {
            return false;
        };
        if running.finisher.is_finished() {
            return false;
        }
        running.finisher.abort();
        if let Some(count) = self.unacknowledged.get_mut(task_id) {
            *count = count.saturating_sub(running.updates);
            if *count == 0 {
                self.unacknowledged.remove(task_id);
            }
        }
        true
    }

    fn expect_acknowledgement(&mut self, task_id: &str) {
        if let Some(count) = self.unacknowledged.get_mut(task_id) {
            *count += 1;
        } else if self.unacknowledged.len() < MAX_TRACKED_TASKS {
            self.unacknowledged.insert(task_id.to_string(), 1);
        } else {
            self.untracked = true;
        }
    }

    fn task_ids(tasks: &[TaskInfo]) -> Vec<&str> {
        tasks.iter().map(|t| t.task_id.value.as_str()).collect()
    }
}

#[async_trait]
impl Executor for TestExecutor {
    async fn registered(
        &mut self,
        _driver: &ExecutorDriver,
        executor_info: ExecutorInfo,
        framework_info: FrameworkInfo,
        agent_info: AgentInfo,
    ) {
        tracing::info!(
            executor = executor_info.executor_id.value,
            framework = framework_info.name,
            agent = agent_info.hostname,
            "registered"
        );
        // The names of the variables the agent gave (their values are
        // mostly run-specific).
        let mut environment: Vec<String> = std::env::vars_os()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        environment.sort();
        self.report.write(json!({
            "event": "registered",
            "executor_id": executor_info.executor_id.value,
            "environment": environment,
        }));
    }

    async fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        tracing::info!(task_id = task.task_id.value, "starting task");
        self.report.write(json!({
            "event": "launch",
            "tasks": [task.task_id.value],
        }));
        // This is where one would perform the requested task.
        let mut states = self.states.clone();
        let terminal = states
            .iter()
            .position(|s| is_terminal(*s))
            .unwrap_or(states.len());
        let later = match run_time(&task) {
            Some(run) if terminal < states.len() => Some((states.split_off(terminal), run)),
            _ => None,
        };
        for state in states {
            self.update(driver, &task.task_id, state).await;
        }
        match later {
            Some((states, run)) => self.finish_later(driver, &task.task_id, states, run).await,
            None => tracing::info!(task_id = task.task_id.value, "task done"),
        }
    }

    async fn launch_group(&mut self, driver: &ExecutorDriver, task_group: TaskGroupInfo) {
        let tasks = task_group.tasks;
        tracing::info!(tasks = ?Self::task_ids(&tasks), "starting a task group");
        self.report.write(json!({
            "event": "launch_group",
            "tasks": Self::task_ids(&tasks),
        }));
        // The tasks of a group change state together.
        for state in self.states.clone() {
            for task in &tasks {
                self.update(driver, &task.task_id, state).await;
            }
        }
        tracing::info!("task group done");
    }

    async fn kill_task(
        &mut self,
        driver: &ExecutorDriver,
        task_id: TaskId,
        _kill_policy: Option<KillPolicy>,
    ) {
        tracing::info!(task_id = task_id.value, "asked to kill a task");
        self.report
            .write(json!({"event": "kill", "task_id": task_id.value}));
        // Only a task left in a non-terminal state has anything to kill.
        if self.stop_finisher(&task_id.value) || self.live.contains(&task_id.value) {
            self.update(driver, &task_id, TaskState::TaskKilled).await;
        }
    }

    async fn acknowledged(&mut self, driver: &ExecutorDriver, task_id: TaskId, _uuid: Bytes) {
        self.report
            .write(json!({"event": "acknowledged", "task_id": task_id.value}));
        if !self.exit_when_done {
            return;
        }
        if let Some(count) = self.unacknowledged.get_mut(&task_id.value) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.unacknowledged.remove(&task_id.value);
            }
        }
        if self.unacknowledged.is_empty() && !self.untracked {
            tracing::info!("every update acknowledged: exiting");
            driver.stop().await;
        }
    }

    async fn framework_message(&mut self, driver: &ExecutorDriver, data: Bytes) {
        tracing::info!(len = data.len(), "echoing a framework message");
        self.report
            .write(json!({"event": "message", "len": data.len()}));
        if let Err(e) = driver.send_framework_message(data).await {
            tracing::error!(error = %e, "echo failed");
        }
    }

    async fn shutdown(&mut self, _driver: &ExecutorDriver) {
        tracing::info!("shutting down");
        self.report.write(json!({"event": "shutdown"}));
    }

    async fn error(&mut self, _driver: &ExecutorDriver, message: String) {
        tracing::error!(message, "error");
        self.report
            .write(json!({"event": "error", "message": message}));
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let report = Report::from_env();
    let executor = match TestExecutor::from_env() {
        Ok(executor) => executor,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let status = mesos_executor::run_from_env(executor).await;
    tracing::info!(status = status.as_str_name(), "driver ended");
    report.write(json!({"event": "ended", "status": status.as_str_name()}));
    std::process::exit(if status == Status::DriverStopped {
        0
    } else {
        1
    });
}
