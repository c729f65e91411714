//! `executor-updates`: status-update throughput of an executor built on
//! `mesos-executor`, end to end over real HTTP.
//!
//! ```sh
//! cargo run --release -p mesos-bench -- executor-updates --updates 20000 --tasks 100
//! ```
//!
//! A scheduler in this process launches `--tasks` tasks, in one ACCEPT, on
//! one custom executor: this very binary re-executed as `executor-child` by
//! a `mesos-local` agent with the process containerizer (or by the agent of
//! the real Mesos master named by `MESOS_INTEROP_MASTER`, when set). The
//! executor sends `--updates` status updates in all, spread evenly over its
//! tasks (TASK_RUNNING with a changing message and data, the last one of
//! each task TASK_FINISHED), each task's updates one after the other from a
//! tokio task of its own, without waiting for acknowledgements in between.
//! The scheduler acknowledges every update it receives.
//!
//! Measured, in the executor: from the first update sent until the agent's
//! ACKNOWLEDGED for the last of them arrived (`updates_per_second` =
//! updates / that time). The executor reports the figure to the scheduler
//! in a framework message and stops. The agent (real Mesos or `mesos-local`)
//! sends ACKNOWLEDGED once its status update manager has the update, not
//! after the scheduler's acknowledgement; forwarding to the scheduler goes
//! on in parallel, one update per task in flight, as Mesos does.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use mesos_executor::{Executor, ExecutorConfig, ExecutorDriver};
use mesos_proto::builders::CommandInfoBuilder;
use mesos_proto::v1::{ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, TaskState, TaskStatus};
use mesos_scheduler::{subscribe, SchedulerConfig, SchedulerEvent};
use serde_json::json;
use tokio::sync::mpsc;

use crate::acks::Acknowledger;
use crate::{offered_scalar, CPUS_PER_TASK, MEM_PER_TASK};
use mesos_bench::local_cluster::{self, Containerizer};

/// The whole run, scheduler side; the executor gives up a little later.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const CHILD_TIMEOUT: Duration = Duration::from_secs(150);
const EXECUTOR_ID: &str = "mesos-bench-executor-updates";
const EXECUTOR_CPUS: f64 = 0.1;
const EXECUTOR_MEM: f64 = 32.0;

/// How many updates task `index` of `tasks` sends, `updates` in all.
fn share(updates: usize, tasks: usize, index: usize) -> usize {
    updates / tasks + usize::from(index < updates % tasks)
}

fn is_failure(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::TaskFailed
            | TaskState::TaskLost
            | TaskState::TaskError
            | TaskState::TaskKilled
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
            | TaskState::TaskUnreachable
    )
}

/// What the scheduler has seen so far (kept outside the timed loop, so that
/// a timeout can say how far the run got).
#[derive(Default)]
struct Progress {
    launched: bool,
    received: usize,
    finished: usize,
    launched_at: Option<Instant>,
    done_at: Option<Instant>,
    report: Option<serde_json::Value>,
}

/// `mesos-bench executor-updates [--updates N] [--tasks M]`.
pub(crate) async fn run(updates: usize, tasks: usize) -> Result<serde_json::Value, String> {
    if tasks == 0 {
        return Err("--tasks must be at least 1".into());
    }
    if updates < tasks {
        return Err(format!(
            "--updates ({updates}) must be at least --tasks ({tasks}): every task ends with TASK_FINISHED"
        ));
    }
    // Keep the local cluster alive for the whole run (dropped at the end).
    let (local, master) = match std::env::var("MESOS_INTEROP_MASTER") {
        Ok(url) if !url.is_empty() => (None, url),
        _ => {
            let cluster = local_cluster::start(1, Containerizer::Process).await?;
            let url = cluster.master_url().to_string();
            (Some(cluster), url)
        }
    };
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let executor = ExecutorInfo::builder(EXECUTOR_ID)
        .name("mesos-bench executor-updates")
        .command(CommandInfoBuilder::argv(
            me.display().to_string(),
            ["executor-child", "--updates", &updates.to_string()],
        ))
        .cpus(EXECUTOR_CPUS)
        .mem(EXECUTOR_MEM)
        .build()
        .map_err(|e| e.to_string())?;
    let framework = FrameworkInfo::builder("root", "mesos-rs-bench-executor-updates")
        .build()
        .map_err(|e| e.to_string())?;
    let config = SchedulerConfig::new([master.as_str()], framework).map_err(|e| e.to_string())?;
    let (client, events) = subscribe(config).map_err(|e| e.to_string())?;
    let mut progress = Progress::default();
    let outcome = tokio::time::timeout(
        RUN_TIMEOUT,
        schedule(&client, events, &executor, updates, tasks, &mut progress),
    )
    .await;
    let _ = client.teardown().await;
    match outcome {
        Err(_) => {
            return Err(format!(
                "timed out after {} s: tasks launched: {}, updates received by the scheduler: {} of {updates}, tasks finished: {} of {tasks}, executor report: {}",
                RUN_TIMEOUT.as_secs(),
                progress.launched,
                progress.received,
                progress.finished,
                progress.report.as_ref().map_or("none".to_string(), |r| r.to_string()),
            ))
        }
        Ok(result) => result?,
    }
    let report = progress.report.unwrap_or_default();
    let seconds = report["seconds"].as_f64();
    let acknowledged = report["acknowledged"].as_u64();
    if acknowledged != Some(updates as u64) {
        return Err(format!("the executor reported {report}"));
    }
    Ok(json!({
        "bench": "executor-updates",
        "master": if local.is_some() { "mesos-local" } else { master.as_str() },
        "updates": updates,
        "tasks": tasks,
        "seconds": seconds,
        "updates_per_second": seconds.map(|s| updates as f64 / s),
        "scheduler_received": progress.received,
        "launch_to_done_seconds": progress
            .launched_at
            .zip(progress.done_at)
            .map(|(a, b)| (b - a).as_secs_f64()),
    }))
}

/// The scheduler: one ACCEPT launching every task on the executor, every
/// update acknowledged, until every task finished and the executor's
/// report arrived.
async fn schedule(
    client: &mesos_scheduler::SchedulerClient,
    mut events: mesos_scheduler::Subscription,
    executor: &ExecutorInfo,
    updates: usize,
    tasks: usize,
    progress: &mut Progress,
) -> Result<(), String> {
    let mut acks = Acknowledger::new(client.clone());
    while let Some(event) = events.next().await {
        match event.map_err(|e| mesos_http::error_chain(&e))? {
            SchedulerEvent::Offers(offers) => {
                for offer in offers {
                    if progress.launched {
                        client
                            .decline(
                                vec![offer.id],
                                Some(mesos_proto::builders::filters(Duration::from_secs(60))),
                            )
                            .await
                            .map_err(|e| mesos_http::error_chain(&e))?;
                        continue;
                    }
                    let (cpus, mem) = (
                        EXECUTOR_CPUS + CPUS_PER_TASK * tasks as f64,
                        EXECUTOR_MEM + MEM_PER_TASK * tasks as f64,
                    );
                    if offered_scalar(&offer, "cpus") < cpus - 1e-9
                        || offered_scalar(&offer, "mem") < mem - 1e-9
                    {
                        return Err(format!(
                            "the offer of agent {} has cpus {} and mem {}; {tasks} tasks need cpus {cpus} and mem {mem}",
                            offer.agent_id.value,
                            offered_scalar(&offer, "cpus"),
                            offered_scalar(&offer, "mem")
                        ));
                    }
                    let mut batch = Vec::with_capacity(tasks);
                    for index in 0..tasks {
                        let id = format!("updates-{index}");
                        let task = TaskInfo::builder(id.as_str(), id.as_str())
                            .agent_id(&offer.agent_id)
                            .cpus(CPUS_PER_TASK)
                            .mem(MEM_PER_TASK)
                            .executor(executor.clone())
                            .data(share(updates, tasks, index).to_string())
                            .build()
                            .map_err(|e| e.to_string())?;
                        batch.push(task);
                    }
                    client
                        .launch_tasks(vec![offer.id], batch, None)
                        .await
                        .map_err(|e| mesos_http::error_chain(&e))?;
                    progress.launched = true;
                    progress.launched_at = Some(Instant::now());
                }
            }
            SchedulerEvent::Update(status) => {
                progress.received += 1;
                let state = status.state();
                if is_failure(state) {
                    return Err(format!(
                        "task {} is {}: {}",
                        status.task_id.value,
                        state.as_str_name(),
                        status.message.as_deref().unwrap_or("(no message)")
                    ));
                }
                if state == TaskState::TaskFinished {
                    progress.finished += 1;
                }
                acks.acknowledge(status).await?;
            }
            SchedulerEvent::Message { data, .. } => {
                let report: serde_json::Value = serde_json::from_slice(&data).map_err(|e| {
                    format!(
                        "undecodable message from the executor ({e}): {}",
                        String::from_utf8_lossy(&data)
                    )
                })?;
                if let Some(error) = report["error"].as_str() {
                    return Err(format!("executor: {error}"));
                }
                progress.report = Some(report);
            }
            SchedulerEvent::Failure {
                executor_id: Some(id),
                status,
                ..
            } if progress.report.is_none() => {
                return Err(format!(
                    "executor {} terminated (wait status {status:?}) before reporting; see its sandbox's stderr",
                    id.value
                ));
            }
            SchedulerEvent::Error(message) => return Err(message),
            _ => {}
        }
        if progress.finished >= tasks && progress.report.is_some() {
            progress.done_at.get_or_insert_with(Instant::now);
            break;
        }
    }
    acks.finish().await?;
    if progress.done_at.is_none() {
        return Err("the scheduler's event stream ended".into());
    }
    Ok(())
}

/// The executor's side of the measurement, shared with the sending tasks.
struct Shared {
    first_sent: OnceLock<Instant>,
    sent: std::sync::atomic::AtomicUsize,
    /// The first outcome wins: elapsed time, or an error.
    done: mpsc::UnboundedSender<Result<Duration, String>>,
}

struct UpdateExecutor {
    total: usize,
    shared: Arc<Shared>,
    /// Update uuids the agent acknowledged (a resent update may be
    /// acknowledged twice).
    acknowledged: HashSet<Bytes>,
}

/// One task's updates, one after the other: TASK_RUNNING with a changing
/// message and data, the last TASK_FINISHED.
async fn send_updates(driver: ExecutorDriver, shared: Arc<Shared>, task_id: TaskId, count: usize) {
    for k in 1..=count {
        let last = k == count;
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: if last {
                TaskState::TaskFinished
            } else {
                TaskState::TaskRunning
            } as i32,
            message: Some(format!("update {k} of {count}")),
            data: Some(Bytes::from(k.to_string())),
            ..Default::default()
        };
        shared.first_sent.get_or_init(Instant::now);
        if let Err(e) = driver.send_status_update(status).await {
            let _ = shared.done.send(Err(format!(
                "update {k} of task {}: {}",
                task_id.value,
                mesos_http::error_chain(&e)
            )));
            return;
        }
        shared
            .sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[async_trait]
impl Executor for UpdateExecutor {
    async fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        let count = task
            .data
            .as_deref()
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|n| *n > 0);
        let Some(count) = count else {
            let _ = self.shared.done.send(Err(format!(
                "task {}: data is not a positive number of updates",
                task.task_id.value
            )));
            return;
        };
        tokio::spawn(send_updates(
            driver.clone(),
            self.shared.clone(),
            task.task_id,
            count,
        ));
    }

    async fn acknowledged(&mut self, _driver: &ExecutorDriver, _task_id: TaskId, uuid: Bytes) {
        if self.acknowledged.insert(uuid) && self.acknowledged.len() == self.total {
            let elapsed = self.shared.first_sent.get().map(Instant::elapsed);
            let _ =
                self.shared.done.send(elapsed.ok_or_else(|| {
                    "acknowledgements arrived before any update was sent".to_string()
                }));
        }
    }

    async fn shutdown(&mut self, _driver: &ExecutorDriver) {
        let _ = self.shared.done.send(Err(format!(
            "shut down with {} of {} updates acknowledged",
            self.acknowledged.len(),
            self.total
        )));
    }

    async fn error(&mut self, _driver: &ExecutorDriver, message: String) {
        let _ = self.shared.done.send(Err(message));
    }
}

/// The hidden `executor-child` mode: the executor process the agent runs.
/// Reports to the scheduler in a framework message (`{"error": ...}` when
/// the run failed), prints the same line to stdout (the sandbox's), stops.
pub(crate) async fn child(total: usize) -> Result<serde_json::Value, String> {
    if total == 0 {
        return Err("executor-child: --updates must be positive".into());
    }
    let config = ExecutorConfig::from_env().map_err(|e| mesos_http::error_chain(&e))?;
    let (done, mut outcome) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        first_sent: OnceLock::new(),
        sent: Default::default(),
        done,
    });
    let executor = UpdateExecutor {
        total,
        shared: shared.clone(),
        acknowledged: HashSet::with_capacity(total),
    };
    let driver = ExecutorDriver::new(executor, config).map_err(|e| mesos_http::error_chain(&e))?;
    driver.start();
    let result = tokio::select! {
        outcome = outcome.recv() => outcome.unwrap_or_else(|| Err("no outcome".into())),
        status = driver.join() => Err(format!(
            "the executor driver ended ({}) before every update was acknowledged{}",
            status.as_str_name(),
            driver.failure().map(|e| format!(": {}", mesos_http::error_chain(&*e))).unwrap_or_default()
        )),
        _ = tokio::time::sleep(CHILD_TIMEOUT) => Err(format!(
            "timed out after {} s", CHILD_TIMEOUT.as_secs()
        )),
    };
    let sent = shared.sent.load(std::sync::atomic::Ordering::Relaxed);
    let report = match &result {
        Ok(elapsed) => json!({
            "sent": sent,
            "acknowledged": total,
            "seconds": elapsed.as_secs_f64(),
        }),
        Err(message) => json!({ "sent": sent, "error": message }),
    };
    let delivered = driver
        .send_framework_message(Bytes::from(report.to_string()))
        .await;
    driver.stop().await;
    driver.join().await;
    delivered.map_err(|e| mesos_http::error_chain(&e))?;
    result.map(|_| report)
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up() {
        for (updates, tasks) in [(20_000, 100), (2_001, 100), (7, 3), (5, 5)] {
            let total: usize = (0..tasks).map(|i| share(updates, tasks, i)).sum();
            assert_eq!(total, updates);
            assert!((0..tasks).all(|i| share(updates, tasks, i) >= 1));
        }
    }
}
