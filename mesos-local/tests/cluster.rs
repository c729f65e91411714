//! End-to-end tests of a whole [`LocalCluster`] through its public API only:
//! frameworks on the scheduler stream API (and one in raw JSON over plain
//! HTTP), command tasks and the `test_executor` example as real processes,
//! and the cluster's fault injection (agent stop/restart/removal, master
//! connection cuts and failover). Every wait is for a condition, with a
//! deadline.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::BodyExt;
use mesos_local::{LocalCluster, LocalClusterBuilder};
use mesos_proto::builders::{filters, CommandInfoBuilder, FrameworkInfoBuilder};
use mesos_proto::v1::{
    task_status, AgentId, ExecutorInfo, FrameworkId, FrameworkInfo, Offer, TaskId, TaskInfo,
    TaskState, TaskStatus,
};
use mesos_scheduler::{subscribe, SchedulerClient, SchedulerConfig, SchedulerEvent, Subscription};
use serde_json::Value;
use tokio::time::Instant;

/// Status updates are resent this often when not acknowledged.
const STATUS_UPDATE_RETRY: Duration = Duration::from_millis(300);

/// The resources of each task in these tests.
const TASK_CPUS: f64 = 0.1;
const TASK_MEM: f64 = 32.0;

/// How long anything that should happen "soon" may take.
const SOON: Duration = Duration::from_secs(15);

// ------------------------------------------------------------------ helpers

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// A cluster tuned for tests: fast allocation, fast status update retries.
fn builder(agents: usize) -> LocalClusterBuilder {
    LocalCluster::builder()
        .agents(agents)
        .allocation_interval(Duration::from_millis(100))
        .status_update_retry(STATUS_UPDATE_RETRY)
        .executor_shutdown_grace(Duration::from_secs(1))
}

async fn start(builder: LocalClusterBuilder) -> LocalCluster {
    init_tracing();
    builder
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)))
}

fn framework(name: &str) -> FrameworkInfoBuilder {
    FrameworkInfo::builder("root", format!("cluster-test-{name}"))
}

/// The sum of the scalar resource `name` of `offer`.
fn scalar(offer: &Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.as_ref())
        .map(|s| s.value)
        .sum()
}

fn fits(offer: &Offer, cpus: f64, mem: f64) -> bool {
    scalar(offer, "cpus") >= cpus - 1e-9 && scalar(offer, "mem") >= mem - 1e-9
}

fn fits_small_task(offer: &Offer) -> bool {
    fits(offer, TASK_CPUS, TASK_MEM)
}

fn command_task(id: &str, offer: &Offer, cpus: f64, mem: f64, shell: &str) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(cpus)
        .mem(mem)
        .command(CommandInfoBuilder::shell(shell))
        .build()
        .expect("valid TaskInfo")
}

fn executor_task(id: &str, offer: &Offer, executor: &ExecutorInfo) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(TASK_CPUS)
        .mem(TASK_MEM)
        .executor(executor.clone())
        .build()
        .expect("valid TaskInfo")
}

/// The `test_executor` example as a custom executor.
fn test_executor_info(id: &str) -> ExecutorInfo {
    let path = test_executor().to_str().expect("a UTF-8 path").to_string();
    ExecutorInfo::builder(id)
        .name("test executor")
        .command(CommandInfoBuilder::argv(path, Vec::<String>::new()))
        .cpus(TASK_CPUS)
        .mem(TASK_MEM)
        .build()
        .expect("valid ExecutorInfo")
}

/// The `test_executor` example, built once per test binary.
fn test_executor() -> PathBuf {
    mesos_test_support::example_binary("test_executor")
}

fn is_reconciliation(status: &TaskStatus) -> bool {
    status.reason() == task_status::Reason::Reconciliation
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

/// Polls `condition` every 20 ms until it holds or `within` passes.
async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The framework `id` in `/master/state` (active or completed).
fn framework_state(state: &Value, id: &FrameworkId) -> Value {
    ["frameworks", "completed_frameworks"]
        .iter()
        .filter_map(|key| state[*key].as_array())
        .flatten()
        .find(|f| f["id"] == id.value.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("framework {} in the master's state: {state}", id.value))
}

/// A scheduler on the stream API: acknowledges every update, keeps a log
/// of them, and keeps the offers it was made in a pool (never declining
/// on its own).
struct Fw {
    client: SchedulerClient,
    events: Subscription,
    id: FrameworkId,
    updates: Vec<TaskStatus>,
    offers: Vec<Offer>,
    log: Vec<String>,
    /// Whether updates are acknowledged as they come (default: yes).
    acknowledge: bool,
}

impl Fw {
    /// Subscribes (the first event must be a fresh SUBSCRIBED).
    async fn subscribe(url: &str, info: FrameworkInfoBuilder) -> Fw {
        let info = info.build().expect("valid FrameworkInfo");
        let wanted = info.id.clone();
        let config = SchedulerConfig::new([url], info)
            .expect("scheduler config")
            .backoff(Duration::from_millis(50), Duration::from_millis(500));
        let (client, mut events) = subscribe(config).expect("subscribe");
        let first = tokio::time::timeout(SOON, events.next())
            .await
            .expect("SUBSCRIBED in time")
            .expect("the stream yields an event")
            .unwrap_or_else(|e| panic!("the master accepts the subscription: {e}"));
        let SchedulerEvent::Subscribed {
            framework_id,
            resubscribed: false,
            ..
        } = first
        else {
            panic!("the first event must be a fresh SUBSCRIBED, got {first:?}");
        };
        if let Some(wanted) = wanted {
            assert_eq!(framework_id, wanted, "the master keeps the framework id");
        }
        Fw {
            client,
            events,
            id: framework_id,
            updates: Vec::new(),
            offers: Vec::new(),
            log: Vec::new(),
            acknowledge: true,
        }
    }

    /// The next event before `deadline` (`None` at the deadline); the
    /// background treatment (log, acknowledgement, offer pool) is applied.
    async fn next_before(&mut self, deadline: Instant) -> Option<SchedulerEvent> {
        let event = match tokio::time::timeout_at(deadline, self.events.next()).await {
            Err(_) => return None,
            Ok(None) => panic!("the event stream ended; events: {:#?}", self.log),
            Ok(Some(Err(e))) => panic!("the subscription failed: {e}; events: {:#?}", self.log),
            Ok(Some(Ok(event))) => event,
        };
        self.absorb(&event).await;
        Some(event)
    }

    async fn absorb(&mut self, event: &SchedulerEvent) {
        let summary = match event {
            SchedulerEvent::Update(s) => format!(
                "UPDATE {} {} {:?} uuid={}",
                s.task_id.value,
                s.state().as_str_name(),
                s.reason.map(|_| s.reason()),
                s.uuid.is_some()
            ),
            SchedulerEvent::Offers(offers) => format!(
                "OFFERS {:?}",
                offers.iter().map(|o| &o.agent_id.value).collect::<Vec<_>>()
            ),
            SchedulerEvent::Heartbeat => return,
            other => format!("{other:?}"),
        };
        self.log.push(summary);
        match event {
            SchedulerEvent::Update(status) => {
                self.updates.push(status.clone());
                if status.uuid.is_some() && self.acknowledge {
                    self.client
                        .acknowledge(status)
                        .await
                        .unwrap_or_else(|e| panic!("ACKNOWLEDGE of {status:?} refused: {e}"));
                }
            }
            SchedulerEvent::Offers(offers) => self.offers.extend(offers.iter().cloned()),
            SchedulerEvent::Rescind(id) => self.offers.retain(|o| &o.id != id),
            // Offers of an earlier connection are void.
            SchedulerEvent::Subscribed { .. } | SchedulerEvent::Disconnected { .. } => {
                self.offers.clear()
            }
            _ => {}
        }
    }

    /// Waits up to `within` for an event `matcher` maps to `Some`.
    async fn wait_for<T>(
        &mut self,
        within: Duration,
        what: &str,
        mut matcher: impl FnMut(&SchedulerEvent) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            let Some(event) = self.next_before(deadline).await else {
                panic!(
                    "timed out after {within:?} waiting for {what}; events: {:#?}",
                    self.log
                );
            };
            if let Some(found) = matcher(&event) {
                return found;
            }
        }
    }

    /// Asserts that no event matching `forbidden` arrives for `window`.
    async fn assert_quiet(
        &mut self,
        window: Duration,
        what: &str,
        mut forbidden: impl FnMut(&SchedulerEvent) -> bool,
    ) {
        let deadline = Instant::now() + window;
        while let Some(event) = self.next_before(deadline).await {
            assert!(
                !forbidden(&event),
                "{what} within {window:?}: {event:?}; events: {:#?}",
                self.log
            );
        }
    }

    /// Takes an offer matching `wanted` from the pool, waiting for one.
    async fn take_offer(&mut self, what: &str, wanted: impl Fn(&Offer) -> bool) -> Offer {
        let deadline = Instant::now() + SOON;
        loop {
            if let Some(index) = self.offers.iter().position(&wanted) {
                return self.offers.remove(index);
            }
            if self.next_before(deadline).await.is_none() {
                panic!(
                    "no offer of {what} within {SOON:?}; events: {:#?}",
                    self.log
                );
            }
        }
    }

    /// Takes an offer of `agent` with room for a small task.
    async fn take_offer_of(&mut self, agent: &AgentId) -> Offer {
        self.take_offer(&format!("agent {}", agent.value), |o| {
            &o.agent_id == agent && fits_small_task(o)
        })
        .await
    }

    /// ACCEPTs `offer` with a LAUNCH of `tasks`; the rest of the offer is
    /// not filtered (it comes back at the next allocation).
    async fn launch(&self, offer: &Offer, tasks: Vec<TaskInfo>) {
        self.client
            .launch_tasks(vec![offer.id.clone()], tasks, Some(filters(Duration::ZERO)))
            .await
            .unwrap_or_else(|e| panic!("ACCEPT refused: {e}"));
    }

    /// The first (non-reconciliation) update of `task` in `state`, from the
    /// updates received so far or waiting up to `within`; panics if the
    /// task ends in another state.
    async fn wait_state(&mut self, task: &str, state: TaskState, within: Duration) -> TaskStatus {
        let matches = |s: &TaskStatus| -> Option<TaskStatus> {
            if s.task_id.value != task || is_reconciliation(s) {
                return None;
            }
            if s.state() == state {
                return Some(s.clone());
            }
            assert!(
                !s.state().is_terminal(),
                "{task} ended in {:?} ({:?}) while waiting for {state:?}",
                s.state(),
                s.message
            );
            None
        };
        if let Some(found) = self.updates.iter().find_map(matches) {
            return found;
        }
        let what = format!("{task} in {}", state.as_str_name());
        self.wait_for(within, &what, |e| match e {
            SchedulerEvent::Update(s) => matches(s),
            _ => None,
        })
        .await
    }

    /// Explicit reconciliation of `task`: returns the master's answer.
    async fn reconcile(&mut self, task: &str, agent: &AgentId) -> TaskStatus {
        self.client
            .reconcile(vec![(TaskId::from(task), Some(agent.clone()))])
            .await
            .unwrap_or_else(|e| panic!("RECONCILE refused: {e}"));
        self.wait_for(
            SOON,
            &format!("the reconciliation of {task}"),
            |e| match e {
                SchedulerEvent::Update(s) if s.task_id.value == task && is_reconciliation(s) => {
                    Some(s.clone())
                }
                _ => None,
            },
        )
        .await
    }

    /// The states `task` went through (reconciliation answers excluded).
    fn states_of(&self, task: &str) -> Vec<TaskState> {
        self.updates
            .iter()
            .filter(|s| s.task_id.value == task && !is_reconciliation(s))
            .map(TaskStatus::state)
            .collect()
    }
}

/// The pid of the process running a task, from its TASK_RUNNING update.
fn executor_pid(status: &TaskStatus) -> u32 {
    status
        .container_status
        .as_ref()
        .and_then(|c| c.executor_pid)
        .unwrap_or_else(|| panic!("TASK_RUNNING carries the executor pid: {status:?}"))
}

// -------------------------------------------------------------------- tests

#[tokio::test]
async fn command_tasks_spread_over_agents_and_acknowledged_updates_stop() {
    // Each agent holds three tasks of 0.5 cpus: six tasks need both.
    let cluster =
        start(builder(2).resources_text("cpus:1.5;mem:512;disk:1000;ports:[31000-31100]")).await;
    let mut fw = Fw::subscribe(cluster.master_url(), framework("spread")).await;
    let mut pending: Vec<String> = (0..6).map(|i| format!("spread-{i}")).collect();
    let all = pending.clone();
    while !pending.is_empty() {
        let offer = fw
            .take_offer("room for a 0.5 cpu task", |o| fits(o, 0.5, 64.0))
            .await;
        let room = ((scalar(&offer, "cpus") + 1e-9) / 0.5).floor() as usize;
        let take = room.min(pending.len());
        let tasks = pending
            .drain(..take)
            .map(|id| command_task(&id, &offer, 0.5, 64.0, "sleep 0.2"))
            .collect();
        fw.launch(&offer, tasks).await;
    }
    for task in &all {
        fw.wait_state(task, TaskState::TaskFinished, SOON).await;
    }
    // Every update was acknowledged: nothing is resent.
    fw.assert_quiet(
        STATUS_UPDATE_RETRY * 2 + Duration::from_millis(200),
        "a resent status update",
        |e| matches!(e, SchedulerEvent::Update(_)),
    )
    .await;
    assert_eq!(cluster.unacknowledged_updates(), [0, 0]);
    for task in &all {
        assert_eq!(
            fw.states_of(task),
            [
                TaskState::TaskStarting,
                TaskState::TaskRunning,
                TaskState::TaskFinished
            ],
            "{task}: each update exactly once"
        );
    }

    let state = framework_state(&cluster.state(), &fw.id);
    assert_eq!(state["tasks"].as_array().map(Vec::len), Some(0), "{state}");
    let completed = state["completed_tasks"]
        .as_array()
        .expect("completed tasks");
    let mut per_agent: BTreeMap<String, usize> = BTreeMap::new();
    for task in completed {
        assert_eq!(task["state"], "TASK_FINISHED", "{task}");
        *per_agent
            .entry(task["slave_id"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let agents: BTreeMap<String, usize> = cluster
        .agent_ids()
        .into_iter()
        .map(|a| (a.value, 3))
        .collect();
    assert_eq!(per_agent, agents, "three tasks on each agent");
}

#[tokio::test]
async fn test_executor_tasks_finish_on_two_agents() {
    let executor = test_executor_info("test-executor");
    let cluster = start(builder(2)).await;
    let mut fw = Fw::subscribe(cluster.master_url(), framework("executor")).await;
    let mut tasks = Vec::new();
    for (n, agent) in cluster.agent_ids().iter().enumerate() {
        let offer = fw.take_offer_of(agent).await;
        let ids = [format!("exec-{n}-a"), format!("exec-{n}-b")];
        fw.launch(
            &offer,
            ids.iter()
                .map(|id| executor_task(id, &offer, &executor))
                .collect(),
        )
        .await;
        tasks.extend(ids.into_iter().map(|id| (id, agent.clone())));
    }
    for (task, agent) in &tasks {
        let finished = fw.wait_state(task, TaskState::TaskFinished, SOON).await;
        assert_eq!(finished.agent_id.as_ref(), Some(agent), "{finished:?}");
        assert_eq!(
            fw.states_of(task),
            [TaskState::TaskRunning, TaskState::TaskFinished],
            "{task}"
        );
    }
    let state = framework_state(&cluster.state(), &fw.id);
    let executors: BTreeSet<&str> = state["executors"]
        .as_array()
        .expect("executors")
        .iter()
        .filter_map(|e| e["slave_id"].as_str())
        .collect();
    assert_eq!(executors.len(), 2, "one executor on each agent: {state}");
    assert!(
        !fw.log.iter().any(|e| e.starts_with("Failure")),
        "no executor failed: {:#?}",
        fw.log
    );
}

#[tokio::test]
async fn unacknowledged_updates_are_counted_until_acknowledged() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("unacked")).await;
    fw.acknowledge = false;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "unacked", &offer, TASK_CPUS, TASK_MEM, "exit 0",
        )],
    )
    .await;
    // Only the head of the task's stream is sent (and resent) until it is
    // acknowledged; the others queue behind it.
    let starting = fw
        .wait_state("unacked", TaskState::TaskStarting, SOON)
        .await;
    assert!(
        eventually(SOON, || cluster.unacknowledged_updates() == [3]).await,
        "STARTING, RUNNING and FINISHED unacknowledged: {:?}",
        cluster.unacknowledged_updates()
    );
    fw.acknowledge = true;
    fw.client.acknowledge(&starting).await.expect("ACKNOWLEDGE");
    fw.wait_state("unacked", TaskState::TaskFinished, SOON)
        .await;
    assert!(
        eventually(SOON, || cluster.unacknowledged_updates() == [0]).await,
        "all acknowledged: {:?}",
        cluster.unacknowledged_updates()
    );
}

#[tokio::test]
async fn kill_and_explicit_reconciliation() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("kill")).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "long",
            &offer,
            TASK_CPUS,
            TASK_MEM,
            "sleep 1000",
        )],
    )
    .await;
    let running = fw.wait_state("long", TaskState::TaskRunning, SOON).await;
    let pid = executor_pid(&running);

    let answer = fw.reconcile("long", &agent).await;
    assert_eq!(answer.state(), TaskState::TaskRunning, "{answer:?}");
    assert_eq!(answer.source(), task_status::Source::Master, "{answer:?}");
    assert!(answer.uuid.is_none(), "{answer:?}");

    fw.client
        .kill(TaskId::from("long"), Some(agent.clone()), None)
        .await
        .expect("KILL accepted");
    let killed = fw.wait_state("long", TaskState::TaskKilled, SOON).await;
    assert_eq!(killed.agent_id.as_ref(), Some(&agent), "{killed:?}");
    assert!(
        eventually(Duration::from_secs(5), || process_gone(pid)).await,
        "the killed task's process {pid} is gone"
    );
    // Acknowledged: the master forgets it; reconciliation says so.
    let answer = fw.reconcile("long", &agent).await;
    assert_eq!(answer.state(), TaskState::TaskLost, "{answer:?}");
}

#[tokio::test]
async fn declined_agent_is_not_offered_within_refuse_seconds() {
    const REFUSE: Duration = Duration::from_secs(2);
    let cluster = start(builder(2)).await;
    let ids = cluster.agent_ids();
    let (declined, other) = (ids[0].clone(), ids[1].clone());
    let mut fw = Fw::subscribe(cluster.master_url(), framework("decline")).await;
    let first = fw.take_offer_of(&declined).await;
    let second = fw.take_offer_of(&other).await;
    fw.client
        .decline(vec![first.id.clone()], Some(filters(REFUSE)))
        .await
        .expect("DECLINE accepted");
    let declined_at = Instant::now();
    // The other agent keeps being offered (declined without a filter)...
    fw.client
        .decline(vec![second.id.clone()], Some(filters(Duration::ZERO)))
        .await
        .expect("DECLINE accepted");
    // ...while the declined one comes back only once the filter expires.
    let mut other_offers_while_refused = 0;
    let deadline = declined_at + REFUSE + SOON;
    loop {
        let Some(event) = fw.next_before(deadline).await else {
            panic!(
                "{} not offered again within {:?}",
                declined.value,
                REFUSE + SOON
            );
        };
        let SchedulerEvent::Offers(offers) = event else {
            continue;
        };
        fw.offers.clear();
        let elapsed = declined_at.elapsed();
        if offers.iter().any(|o| o.agent_id == declined) {
            // The filter was installed before `declined_at`: a little slack.
            assert!(
                elapsed >= REFUSE - Duration::from_millis(100),
                "agent offered again {elapsed:?} after a decline refusing it for {REFUSE:?}"
            );
            break;
        }
        if elapsed < REFUSE {
            other_offers_while_refused += 1;
        }
        let ids = offers.into_iter().map(|o| o.id).collect();
        fw.client
            .decline(ids, Some(filters(Duration::ZERO)))
            .await
            .expect("DECLINE accepted");
    }
    assert!(
        other_offers_while_refused >= 2,
        "the other agent is offered again and again meanwhile ({other_offers_while_refused})"
    );
}

#[tokio::test]
async fn framework_failover_keeps_running_tasks() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let info = framework("failover").failover_timeout(Duration::from_secs(60));
    let mut fw = Fw::subscribe(cluster.master_url(), info.clone()).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "survivor",
            &offer,
            TASK_CPUS,
            TASK_MEM,
            "sleep 1000",
        )],
    )
    .await;
    let running = fw
        .wait_state("survivor", TaskState::TaskRunning, SOON)
        .await;
    let pid = executor_pid(&running);
    let id = fw.id.clone();
    drop(fw);

    // A new scheduler process takes over as the same framework.
    let mut fw = Fw::subscribe(cluster.master_url(), info.id(id.clone())).await;
    assert_eq!(fw.id, id);
    let answer = fw.reconcile("survivor", &agent).await;
    assert_eq!(answer.state(), TaskState::TaskRunning, "{answer:?}");
    assert!(!process_gone(pid), "the task's process {pid} still runs");
    let state = framework_state(&cluster.state(), &id);
    assert_eq!(state["active"], true, "{state}");
    assert_eq!(state["tasks"][0]["state"], "TASK_RUNNING", "{state}");
}

#[tokio::test]
async fn schedulers_resubscribe_after_connection_cuts_and_master_failover() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let info = framework("reconnect").failover_timeout(Duration::from_secs(60));
    let mut fw = Fw::subscribe(cluster.master_url(), info).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "steady",
            &offer,
            TASK_CPUS,
            TASK_MEM,
            "sleep 1000",
        )],
    )
    .await;
    let running = fw.wait_state("steady", TaskState::TaskRunning, SOON).await;
    let pid = executor_pid(&running);

    for cut in ["kill_master_connections", "fail_over_master"] {
        match cut {
            "kill_master_connections" => cluster.kill_master_connections(),
            _ => cluster.fail_over_master(),
        }
        fw.wait_for(SOON, &format!("Disconnected after {cut}"), |e| {
            matches!(e, SchedulerEvent::Disconnected { .. }).then_some(())
        })
        .await;
        let id = fw
            .wait_for(
                SOON,
                &format!("SUBSCRIBED again after {cut}"),
                |e| match e {
                    SchedulerEvent::Subscribed {
                        framework_id,
                        resubscribed,
                        ..
                    } => Some((framework_id.clone(), *resubscribed)),
                    _ => None,
                },
            )
            .await;
        assert_eq!(id, (fw.id.clone(), true), "{cut}: a resubscription");
        let answer = fw.reconcile("steady", &agent).await;
        assert_eq!(answer.state(), TaskState::TaskRunning, "{cut}: {answer:?}");
        assert!(!process_gone(pid), "{cut}: the task's process still runs");
        // The new stream works: offers come again.
        fw.take_offer_of(&agent).await;
    }
}

#[tokio::test]
async fn checkpointed_executor_reconnects_after_an_agent_restart() {
    let executor = test_executor_info("recovering");
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let info = framework("checkpoint")
        .checkpoint(true)
        .failover_timeout(Duration::from_secs(60));
    let mut fw = Fw::subscribe(cluster.master_url(), info).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(&offer, vec![executor_task("before", &offer, &executor)])
        .await;
    let before = fw.wait_state("before", TaskState::TaskRunning, SOON).await;
    fw.wait_state("before", TaskState::TaskFinished, SOON).await;

    cluster.stop_agent(0).await.expect("agent stops");
    // Long enough for the executor to notice and retry at least once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.restart_agent(0).await.expect("agent restarts");

    let offer = fw.take_offer_of(&agent).await;
    fw.launch(&offer, vec![executor_task("after", &offer, &executor)])
        .await;
    let after = fw.wait_state("after", TaskState::TaskRunning, SOON).await;
    fw.wait_state("after", TaskState::TaskFinished, SOON).await;
    assert_eq!(
        executor_pid(&after),
        executor_pid(&before),
        "the same executor process ran both tasks"
    );
    assert!(
        !fw.log.iter().any(|e| e.starts_with("Failure")),
        "the executor never failed: {:#?}",
        fw.log
    );
}

#[tokio::test]
async fn removed_agent_is_reported_lost() {
    let executor = test_executor_info("doomed-executor");
    let cluster = start(builder(2)).await;
    let ids = cluster.agent_ids();
    let (doomed, kept) = (ids[1].clone(), ids[0].clone());
    let mut fw = Fw::subscribe(cluster.master_url(), framework("remove")).await;
    let offer = fw.take_offer_of(&doomed).await;
    fw.launch(
        &offer,
        vec![
            command_task("doomed", &offer, TASK_CPUS, TASK_MEM, "sleep 1000"),
            executor_task("doomed-exec", &offer, &executor),
        ],
    )
    .await;
    let running = fw.wait_state("doomed", TaskState::TaskRunning, SOON).await;
    let exec_running = fw
        .wait_state("doomed-exec", TaskState::TaskRunning, SOON)
        .await;
    fw.wait_state("doomed-exec", TaskState::TaskFinished, SOON)
        .await;
    let pids = [executor_pid(&running), executor_pid(&exec_running)];

    cluster.remove_agent(1).await.expect("agent removed");
    let failure = fw
        .wait_for(SOON, "FAILURE (agent lost)", |e| match e {
            SchedulerEvent::Failure {
                agent_id,
                executor_id: None,
                ..
            } => Some(agent_id.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failure.as_ref(), Some(&doomed));
    let lost = fw.wait_state("doomed", TaskState::TaskLost, SOON).await;
    assert_eq!(lost.reason(), task_status::Reason::AgentRemoved, "{lost:?}");
    assert_eq!(lost.agent_id.as_ref(), Some(&doomed), "{lost:?}");
    for pid in pids {
        assert!(
            eventually(Duration::from_secs(5), || process_gone(pid)).await,
            "process {pid} of the removed agent is gone"
        );
    }
    // Nothing more comes from the removed agent.
    fw.assert_quiet(
        STATUS_UPDATE_RETRY * 3,
        "an event from the removed agent",
        |e| match e {
            SchedulerEvent::Update(s) => s.agent_id.as_ref() == Some(&doomed),
            SchedulerEvent::Failure { .. } => true,
            _ => false,
        },
    )
    .await;
    let state = cluster.state();
    let slaves: Vec<&str> = state["slaves"]
        .as_array()
        .expect("slaves")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(slaves, [kept.value.as_str()], "{state}");
    // The remaining agent still works.
    let offer = fw.take_offer_of(&kept).await;
    fw.launch(
        &offer,
        vec![command_task("fine", &offer, TASK_CPUS, TASK_MEM, "true")],
    )
    .await;
    fw.wait_state("fine", TaskState::TaskFinished, SOON).await;
}

/// Every regular file named `name` under `dir`.
fn find_files(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => find_files(&path, name, found),
            Ok(t) if t.is_file() && entry.file_name() == name => found.push(path),
            _ => {}
        }
    }
}

#[tokio::test]
async fn nothing_outlives_the_cluster() {
    let executor = test_executor_info("lingering-executor");
    let cluster = start(builder(1)).await;
    let work_dir = cluster.work_dir().to_path_buf();
    assert!(work_dir.is_dir());
    let agent = cluster.agent_ids().remove(0);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("outlive")).await;
    let offer = fw.take_offer_of(&agent).await;
    // Each command records its pid in its sandbox; one also leaves a
    // grandchild behind in its process group.
    let mut tasks: Vec<TaskInfo> = (0..2)
        .map(|i| {
            command_task(
                &format!("sleeper-{i}"),
                &offer,
                TASK_CPUS,
                TASK_MEM,
                "echo $$ > \"$MESOS_SANDBOX/pid\" && exec sleep 1000",
            )
        })
        .collect();
    tasks.push(command_task(
        "sleeper-2",
        &offer,
        TASK_CPUS,
        TASK_MEM,
        "sleep 1000 & echo $! > \"$MESOS_SANDBOX/pid\"; echo $$ > \"$MESOS_SANDBOX/pid.main\"; wait",
    ));
    tasks.push(executor_task("on-executor", &offer, &executor));
    fw.launch(&offer, tasks).await;
    let mut pids = HashSet::new();
    for task in ["sleeper-0", "sleeper-1", "sleeper-2", "on-executor"] {
        let running = fw.wait_state(task, TaskState::TaskRunning, SOON).await;
        pids.insert(executor_pid(&running));
    }
    let mut files = Vec::new();
    assert!(
        eventually(SOON, || {
            files.clear();
            find_files(&work_dir, "pid", &mut files);
            find_files(&work_dir, "pid.main", &mut files);
            files.len() == 4
                && files.iter().all(|f| {
                    std::fs::read_to_string(f).is_ok_and(|t| t.trim().parse::<u32>().is_ok())
                })
        })
        .await,
        "the sandboxes hold 4 pid files: {files:?}"
    );
    for file in &files {
        let pid: u32 = std::fs::read_to_string(file)
            .expect("pid file")
            .trim()
            .parse()
            .expect("a pid");
        pids.insert(pid);
    }
    assert_eq!(
        pids.len(),
        5,
        "3 commands, a grandchild, an executor: {pids:?}"
    );
    for &pid in &pids {
        assert!(!process_gone(pid), "{pid} runs before the drop");
    }

    drop(fw);
    drop(cluster);
    let survivors = || {
        pids.iter()
            .copied()
            .filter(|&p| !process_gone(p))
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(Duration::from_secs(5), || survivors().is_empty()).await,
        "processes outlived the cluster: {:?}",
        survivors()
    );
    assert!(
        eventually(Duration::from_secs(5), || !work_dir.exists()).await,
        "the work dir {} outlived the cluster",
        work_dir.display()
    );
}

// ------------------------------------------------------ raw JSON scheduler

/// The events of a RecordIO body (`<length>\n<bytes>...`) complete so far;
/// consumes them from `buffer`.
fn records(buffer: &mut Vec<u8>) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(newline) = buffer.iter().position(|&b| b == b'\n') {
        let length: usize = std::str::from_utf8(&buffer[..newline])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("a RecordIO length: {:?}", &buffer[..newline]));
        let end = newline + 1 + length;
        if buffer.len() < end {
            break;
        }
        let record = serde_json::from_slice(&buffer[newline + 1..end])
            .unwrap_or_else(|e| panic!("a JSON event: {e}"));
        out.push(record);
        buffer.drain(..end);
    }
    out
}

/// The key paths of a JSON value (`a.b[].c`), values ignored.
fn key_paths(value: &Value, prefix: &str, paths: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                paths.insert(path.clone());
                key_paths(value, &path, paths);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), paths);
            }
        }
        _ => {}
    }
}

fn assert_same_keys(what: &str, ours: &Value, real: &Value) {
    let (mut a, mut b) = (BTreeSet::new(), BTreeSet::new());
    key_paths(ours, "", &mut a);
    key_paths(real, "", &mut b);
    let missing: Vec<_> = b.difference(&a).collect();
    let extra: Vec<_> = a.difference(&b).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: keys missing {missing:?}, extra {extra:?}\nours: {ours}\nreal: {real}"
    );
}

type RawSender = hyper::client::conn::http1::SendRequest<http_body_util::Full<Bytes>>;

async fn raw_connection(url: &str) -> RawSender {
    let authority = url.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .expect("connect to the master");
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
    tokio::spawn(connection);
    sender
}

fn raw_post(
    url: &str,
    body: &Value,
    stream_id: Option<&str>,
) -> http::Request<http_body_util::Full<Bytes>> {
    let mut request = http::Request::post(format!("{url}/api/v1/scheduler"))
        .header(http::header::HOST, url.trim_start_matches("http://"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json");
    if let Some(id) = stream_id {
        request = request.header("Mesos-Stream-Id", id);
    }
    request
        .body(http_body_util::Full::new(Bytes::from(body.to_string())))
        .expect("a request")
}

#[tokio::test]
async fn raw_json_scheduler_sees_the_real_masters_event_shapes() {
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/subscribe-stream.recordio"
    ))
    .expect("the real master's sample");
    let real = records(&mut sample.clone());
    let real_of = |kind: &str| {
        real.iter()
            .find(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("{kind} in the sample"))
            .clone()
    };

    let cluster = start(builder(1)).await;
    let url = cluster.master_url().to_string();
    let mut sender = raw_connection(&url).await;
    let subscribe = serde_json::json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {"user": "root", "name": "raw-json"}},
    });
    let response = sender
        .send_request(raw_post(&url, &subscribe, None))
        .await
        .expect("SUBSCRIBE answered");
    assert_eq!(response.status(), http::StatusCode::OK);
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "application/json"
    );
    let stream_id = response
        .headers()
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .expect("a Mesos-Stream-Id")
        .to_string();
    let mut body = response.into_body();
    let mut buffer = Vec::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + SOON;
    while !events.iter().any(|e: &Value| e["type"] == "OFFERS") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("OFFERS in time")
            .expect("the stream goes on")
            .expect("a body frame");
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            events.extend(records(&mut buffer));
        }
    }
    assert_eq!(events[0]["type"], "SUBSCRIBED", "{events:?}");
    assert_same_keys("SUBSCRIBED", &events[0], &real_of("SUBSCRIBED"));
    let offers = events
        .iter()
        .find(|e| e["type"] == "OFFERS")
        .expect("OFFERS");
    assert_same_keys("OFFERS", offers, &real_of("OFFERS"));
    assert!(
        events
            .iter()
            .all(|e| ["SUBSCRIBED", "HEARTBEAT", "OFFERS"]
                .contains(&e["type"].as_str().unwrap_or("")))
    );

    // A call in raw JSON on a second connection: DECLINE the offer.
    let framework_id = events[0]["subscribed"]["framework_id"].clone();
    let offer_id = offers["offers"]["offers"][0]["id"].clone();
    let decline = serde_json::json!({
        "framework_id": framework_id,
        "type": "DECLINE",
        "decline": {"offer_ids": [offer_id], "filters": {"refuse_seconds": 60.0}},
    });
    let mut calls = raw_connection(&url).await;
    let answer = calls
        .send_request(raw_post(&url, &decline, Some(&stream_id)))
        .await
        .expect("DECLINE answered");
    assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
    let state = cluster.state();
    let fw = framework_state(
        &state,
        &FrameworkId::from(framework_id["value"].as_str().unwrap_or("")),
    );
    assert_eq!(fw["offers"].as_array().map(Vec::len), Some(0), "{fw}");
}
