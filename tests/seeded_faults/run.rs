//! One seed's run: a cluster, proxies, the workload's drivers, the
//! schedule applied while the workload runs, then settling, evidence and
//! the checks.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos_local::LocalCluster;
use mesos_proto::v1::{FrameworkId, FrameworkInfo, TaskId};
use mesos_scheduler::{SchedulerConfig, SchedulerDriver};
use mesos_test_support::fault_proxy::{Api, FaultProxy};
use mesos_test_support::schedule::{Action, Schedule};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::invariants::{self, Evidence};
use crate::workload::{self, lock, Framework, SharedWork, Work};

/// After the schedule's last action, how long the workload may take to
/// settle (every task terminal) with faults off.
const SETTLE: Duration = Duration::from_secs(30);
/// How often a settling framework reconciles (implicitly).
const RECONCILE_EVERY: Duration = Duration::from_secs(2);
/// How long agents may take to see their last acknowledgements.
const ACKS_SETTLE: Duration = Duration::from_secs(10);
/// How long processes may take to die once the cluster is dropped.
const REAPING: Duration = Duration::from_secs(5);
/// KILLs of a long-running task are repeated this often until it ends.
const KILL_AGAIN: Duration = Duration::from_secs(1);
/// How often the harness polls its conditions.
const POLL: Duration = Duration::from_millis(50);

/// What one seed's run found.
#[derive(Debug)]
pub struct Outcome {
    /// Broken invariants (empty: the seed passed).
    pub violations: Vec<String>,
    /// Invariants checked but not enforced yet (reported only), and
    /// actions of the schedule that could not be applied.
    pub notes: Vec<String>,
    /// What happened, in numbers (one line).
    pub stats: String,
    /// With violations: what the wire showed of the tasks they name
    /// (see [`crate::trace`]).
    pub trace: String,
}

/// The drivers of the run, one after another (framework failovers).
struct Drivers {
    work: SharedWork,
    proxy_url: String,
    executors: HashMap<String, mesos_proto::v1::ExecutorInfo>,
    current: Mutex<Option<SchedulerDriver>>,
    starts: Mutex<Vec<Instant>>,
    /// Held while a driver is stopped or started, so that two failovers
    /// close together never leave two drivers running.
    lifecycle: tokio::sync::Mutex<()>,
}

impl Drivers {
    fn current(&self) -> Option<SchedulerDriver> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Starts a driver, as the same framework if it registered before.
    /// The framework runs as one process at a time: a driver still running
    /// (two failovers close together) is aborted first.
    async fn start(&self, id: Option<FrameworkId>) {
        let _lifecycle = self.lifecycle.lock().await;
        self.abort_current().await;
        let mut info = FrameworkInfo::builder("root", "seeded-faults")
            .checkpoint(true)
            .failover_timeout(Duration::from_secs(120));
        if let Some(id) = id {
            info = info.id(id);
        }
        let info = info.build().expect("valid FrameworkInfo");
        let config = SchedulerConfig::new([self.proxy_url.as_str()], info)
            .expect("scheduler config")
            .backoff(Duration::from_millis(500), Duration::from_secs(2))
            .heartbeat_multiplier(2)
            .request_timeout(Duration::from_secs(10));
        let mut starts = self.starts.lock().unwrap_or_else(|e| e.into_inner());
        let scheduler = Framework {
            work: self.work.clone(),
            driver: starts.len(),
            executors: self.executors.clone(),
        };
        let driver = SchedulerDriver::new(scheduler, config).expect("a driver");
        // Noted before it starts: its first SUBSCRIBE may come at once.
        starts.push(Instant::now());
        driver.start();
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(driver);
    }

    /// Aborts the current driver (the framework "process" dies).
    async fn abort(&self) {
        let _lifecycle = self.lifecycle.lock().await;
        self.abort_current().await;
    }

    async fn abort_current(&self) {
        let driver = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(driver) = driver {
            driver.abort().await;
        }
    }

    fn framework_id(&self) -> Option<FrameworkId> {
        lock(&self.work)
            .registrations
            .first()
            .map(|id| FrameworkId { value: id.clone() })
    }
}

/// The agents' ids and pids (`slave(1)@127.0.0.1:port`), from the
/// master's state.
pub(crate) fn agent_pids(cluster: &LocalCluster) -> Vec<(String, String)> {
    let state = cluster.state();
    state["slaves"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|agent| {
            let id = agent["id"].as_str()?.to_string();
            Some((id, agent["pid"].as_str()?.to_string()))
        })
        .collect()
}

/// Runs the schedule's actions at their offsets from `start`. Returns once
/// all are done, including the restarts they scheduled.
async fn apply_schedule(
    schedule: Schedule,
    start: Instant,
    cluster: Arc<LocalCluster>,
    proxy: Arc<FaultProxy>,
    executor_proxies: Arc<Vec<FaultProxy>>,
    drivers: Arc<Drivers>,
) -> Vec<String> {
    let mut log = Vec::new();
    let mut later: Vec<JoinHandle<()>> = Vec::new();
    for timed in schedule.actions {
        tokio::time::sleep_until(start + timed.at).await;
        tracing::info!(at = ?timed.at, action = ?timed.action, "schedule");
        match timed.action {
            Action::Proxy(fault) => proxy.inject(fault),
            Action::ExecutorProxy { agent, fault } => {
                if let Some(p) = executor_proxies.get(agent) {
                    p.inject(fault);
                }
            }
            Action::FailOverMaster => cluster.fail_over_master(),
            Action::KillMasterConnections => cluster.kill_master_connections(),
            Action::RestartAgent { agent, down_for } => {
                if let Err(e) = cluster.stop_agent(agent).await {
                    log.push(format!("stop_agent({agent}) failed: {e}"));
                    continue;
                }
                let cluster = cluster.clone();
                later.push(tokio::spawn(async move {
                    tokio::time::sleep(down_for).await;
                    if let Err(e) = cluster.restart_agent(agent).await {
                        tracing::error!(agent, error = %e, "restart_agent failed");
                    }
                }));
            }
            Action::FailOverFramework { down_for } => {
                let Some(id) = drivers.framework_id() else {
                    log.push(format!(
                        "+{:.3}s framework failover skipped: not registered yet",
                        timed.at.as_secs_f64()
                    ));
                    continue;
                };
                drivers.abort().await;
                let drivers = drivers.clone();
                later.push(tokio::spawn(async move {
                    tokio::time::sleep(down_for).await;
                    drivers.start(Some(id)).await;
                }));
            }
        }
    }
    for handle in later {
        let _ = handle.await;
    }
    log
}

/// Every `pid` file under `dir` (the long-running tasks write theirs).
fn pid_files(dir: &Path, found: &mut BTreeSet<u32>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            pid_files(&path, found);
        } else if path.file_name().is_some_and(|n| n == "pid") {
            if let Ok(pid) = std::fs::read_to_string(&path).map(|t| t.trim().parse::<u32>()) {
                found.extend(pid);
            }
        }
    }
}

/// Whether `pid` is gone: no `/proc/<pid>`, or a zombie.
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            matches!(state, Some('Z' | 'X') | None)
        }
        Err(_) => true,
    }
}

/// Runs `schedule` against the workload; `executor` is the test executor.
pub async fn run(schedule: Schedule, executor: PathBuf) -> Outcome {
    let mut violations = Vec::new();
    let mut builder = LocalCluster::builder();
    if let Some(dir) = std::env::var_os("SEED_WORK_DIR") {
        // Kept after the run, for the sandboxes' logs.
        builder = builder.work_dir(PathBuf::from(dir).join(format!("seed-{}", schedule.seed)));
    }
    let cluster = builder
        .agents(2)
        .docker(false)
        .allocation_interval(Duration::from_millis(100))
        .heartbeat_interval(Duration::from_secs(1))
        .status_update_retry(Duration::from_millis(500))
        .executor_shutdown_grace(Duration::from_secs(1))
        .offer_timeout(Duration::from_secs(3))
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)));
    let cluster = Arc::new(cluster);
    let work_dir = cluster.work_dir().to_path_buf();
    let proxy = Arc::new(
        FaultProxy::start(Api::Scheduler, cluster.master_url())
            .await
            .expect("the scheduler proxy starts"),
    );
    let mut executor_proxies = Vec::new();
    let mut executors = HashMap::new();
    for (agent_id, pid) in agent_pids(&cluster) {
        let (name, endpoint) = pid.split_once('@').expect("an agent pid is name@ip:port");
        let p = FaultProxy::start(Api::Executor, &format!("http://{endpoint}"))
            .await
            .expect("an executor proxy starts");
        let info = workload::test_executor(&executor, Some(&format!("{name}@{}", p.addr())));
        executors.insert(agent_id, info);
        executor_proxies.push(p);
    }
    let executor_proxies = Arc::new(executor_proxies);
    let start = Instant::now();
    let work: SharedWork = Arc::new(Mutex::new(Work::new(start)));
    let drivers = Arc::new(Drivers {
        work: work.clone(),
        proxy_url: proxy.url(),
        executors,
        current: Mutex::new(None),
        starts: Mutex::new(Vec::new()),
        lifecycle: tokio::sync::Mutex::new(()),
    });

    drivers.start(None).await;
    let mut schedule_run = tokio::spawn(apply_schedule(
        schedule,
        start,
        cluster.clone(),
        proxy.clone(),
        executor_proxies.clone(),
        drivers.clone(),
    ));
    let mut schedule_log = Vec::new();
    let mut settle_deadline: Option<Instant> = None;
    let mut last_reconcile: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if settle_deadline.is_none() && schedule_run.is_finished() {
            schedule_log = (&mut schedule_run).await.unwrap_or_default();
            proxy.clear_faults();
            for p in executor_proxies.iter() {
                p.clear_faults();
            }
            if drivers.current().is_none() {
                drivers.start(drivers.framework_id()).await;
            }
            settle_deadline = Some(now + SETTLE);
        }
        let driver = drivers.current();
        if let Some(driver) = &driver {
            let due = lock(&work).kills_due(now, KILL_AGAIN);
            for task in due {
                lock(&work).killed_at.insert(task.clone(), now);
                let _ = driver.kill_task(TaskId { value: task }, None, None).await;
            }
        }
        if let Some(deadline) = settle_deadline {
            let unfinished = lock(&work).unfinished();
            if unfinished.is_empty() {
                break;
            }
            if now >= deadline {
                violations.push(format!(
                    "the workload did not settle within {SETTLE:?} after the faults: unfinished {unfinished:?}"
                ));
                break;
            }
            if last_reconcile.is_none_or(|at| now.duration_since(at) >= RECONCILE_EVERY) {
                if let Some(driver) = &driver {
                    if driver.reconcile_tasks(Vec::new()).await.is_ok() {
                        last_reconcile = Some(now);
                    }
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
    // The framework's last word: an implicit reconciliation (a task it
    // believes done but the master does not would come back non-terminal).
    let reconciled = Instant::now() + ACKS_SETTLE;
    while let Some(driver) = drivers.current() {
        if driver.reconcile_tasks(Vec::new()).await.is_ok() || Instant::now() >= reconciled {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let acks_deadline = Instant::now() + ACKS_SETTLE;
    let unacknowledged = loop {
        let counts = cluster.unacknowledged_updates();
        let settled = counts.iter().all(|&n| n == 0) && {
            let work = lock(&work);
            work.unfinished().is_empty()
                && invariants::unacknowledged_at_the_proxy(&work, &proxy.records()).is_empty()
        };
        if settled || Instant::now() >= acks_deadline {
            break counts;
        }
        tokio::time::sleep(POLL).await;
    };

    let epoch = proxy.epoch();
    let executor_records: Vec<_> = executor_proxies.iter().map(|p| p.records()).collect();
    let evidence = Evidence {
        executor_faults: executor_records
            .iter()
            .flat_map(|r| r.faults.iter().map(|f| f.what.clone()))
            .collect(),
        state: cluster.state(),
        records: proxy.records(),
        unacknowledged,
        driver_starts: drivers
            .starts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|s| s.saturating_duration_since(epoch))
            .collect(),
    };
    let stats = {
        let r = &evidence.records;
        let executor_faults = evidence.executor_faults.len();
        let executor_calls: usize = executor_records
            .iter()
            .map(|r| r.calls.len() + r.subscribes.len())
            .sum();
        format!(
            "{} drivers, {} SUBSCRIBEs ({} subscribed), {} calls, {} acks, {} updates relayed, {} proxy faults + {} executor-side faults applied ({} executor calls), {} tasks",
            evidence.driver_starts.len(),
            r.subscribes.len(),
            r.subscribes.iter().filter(|s| s.subscribed()).count(),
            r.calls.len(),
            r.acks.len(),
            r.updates.len(),
            r.faults.len(),
            executor_faults,
            executor_calls,
            lock(&work).launched.len(),
        )
    };
    if std::env::var_os("SEED").is_some() {
        // Replaying one seed: show what happened on the wire.
        let r = &evidence.records;
        for s in &r.subscribes {
            eprintln!(
                "  SUBSCRIBE +{:.3}s {:?} ended {:?}",
                s.at.as_secs_f64(),
                s.outcome,
                s.ended.map(|e| e.as_secs_f64())
            );
        }
        for f in &r.faults {
            eprintln!("  fault +{:.3}s {}", f.at.as_secs_f64(), f.what);
        }
        eprintln!("  driver starts {:?}", evidence.driver_starts);
    }
    drivers.abort().await;
    let mut pids = lock(&work).pids();
    pid_files(&work_dir, &mut pids);
    let (mut found, notes) = invariants::check(&lock(&work), &evidence);
    let trace = crate::trace::for_violations(&found, &lock(&work), &evidence);
    violations.append(&mut found);
    drop(drivers);
    drop(executor_proxies);
    drop(proxy);
    match Arc::try_unwrap(cluster) {
        Ok(cluster) => drop(cluster),
        Err(_) => violations.push("the cluster is still shared at the end".into()),
    }
    let reap_deadline = Instant::now() + REAPING;
    let survivors = loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|&p| !process_gone(p)).collect();
        if alive.is_empty() || Instant::now() >= reap_deadline {
            break alive;
        }
        tokio::time::sleep(POLL).await;
    };
    if !survivors.is_empty() {
        violations.push(format!(
            "processes outlived the cluster: {survivors:?} (of {pids:?})"
        ));
    }
    let mut notes = notes;
    notes.extend(schedule_log);
    Outcome {
        violations,
        notes,
        stats,
        trace,
    }
}
