//! What the cluster tests share: a cluster and a framework on it, offers
//! and tasks, and waits for conditions with deadlines.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
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
pub const STATUS_UPDATE_RETRY: Duration = Duration::from_millis(300);

/// The resources of each task in these tests.
pub const TASK_CPUS: f64 = 0.1;
pub const TASK_MEM: f64 = 32.0;

/// How long anything that should happen "soon" may take.
pub const SOON: Duration = Duration::from_secs(15);

// ------------------------------------------------------------------ helpers

pub fn init_tracing() {
    mesos_test_support::init_tracing();
}

/// A cluster tuned for tests: fast allocation, fast status update retries.
pub fn builder(agents: usize) -> LocalClusterBuilder {
    LocalCluster::builder()
        .agents(agents)
        .allocation_interval(Duration::from_millis(100))
        .status_update_retry(STATUS_UPDATE_RETRY)
        .executor_shutdown_grace(Duration::from_secs(1))
}

pub async fn start(builder: LocalClusterBuilder) -> LocalCluster {
    init_tracing();
    builder
        .start()
        .await
        .unwrap_or_else(|e| panic!("the cluster starts: {}", mesos_http::error_chain(&e)))
}

pub fn framework(name: &str) -> FrameworkInfoBuilder {
    FrameworkInfo::builder("root", format!("cluster-test-{name}"))
}

/// The sum of the scalar resource `name` of `offer`.
pub fn scalar(offer: &Offer, name: &str) -> f64 {
    offer
        .resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.as_ref())
        .map(|s| s.value)
        .sum()
}

pub fn fits(offer: &Offer, cpus: f64, mem: f64) -> bool {
    scalar(offer, "cpus") >= cpus - 1e-9 && scalar(offer, "mem") >= mem - 1e-9
}

pub fn fits_small_task(offer: &Offer) -> bool {
    fits(offer, TASK_CPUS, TASK_MEM)
}

pub fn command_task(id: &str, offer: &Offer, cpus: f64, mem: f64, shell: &str) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(cpus)
        .mem(mem)
        .command(CommandInfoBuilder::shell(shell))
        .build()
        .expect("valid TaskInfo")
}

pub fn executor_task(id: &str, offer: &Offer, executor: &ExecutorInfo) -> TaskInfo {
    TaskInfo::builder(format!("task {id}"), id)
        .agent_id(&offer.agent_id)
        .cpus(TASK_CPUS)
        .mem(TASK_MEM)
        .executor(executor.clone())
        .build()
        .expect("valid TaskInfo")
}

/// The `test_executor` example as a custom executor.
pub fn test_executor_info(id: &str) -> ExecutorInfo {
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
pub fn test_executor() -> PathBuf {
    mesos_test_support::example_binary("test_executor")
}

pub fn is_reconciliation(status: &TaskStatus) -> bool {
    status.reason() == task_status::Reason::Reconciliation
}

/// Whether `pid` is gone: no `/proc/<pid>`, or a zombie.
pub fn process_gone(pid: u32) -> bool {
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
pub async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
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
pub fn framework_state(state: &Value, id: &FrameworkId) -> Value {
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
pub struct Fw {
    pub client: SchedulerClient,
    pub events: Subscription,
    pub id: FrameworkId,
    pub updates: Vec<TaskStatus>,
    pub offers: Vec<Offer>,
    pub log: Vec<String>,
    /// Whether updates are acknowledged as they come (default: yes).
    pub acknowledge: bool,
}

impl Fw {
    /// Subscribes (the first event must be a fresh SUBSCRIBED).
    pub async fn subscribe(url: &str, info: FrameworkInfoBuilder) -> Fw {
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
    pub async fn next_before(&mut self, deadline: Instant) -> Option<SchedulerEvent> {
        let event = match tokio::time::timeout_at(deadline, self.events.next()).await {
            Err(_) => return None,
            Ok(None) => panic!("the event stream ended; events: {:#?}", self.log),
            Ok(Some(Err(e))) => panic!("the subscription failed: {e}; events: {:#?}", self.log),
            Ok(Some(Ok(event))) => event,
        };
        self.absorb(&event).await;
        Some(event)
    }

    pub async fn absorb(&mut self, event: &SchedulerEvent) {
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
    pub async fn wait_for<T>(
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
    pub async fn assert_quiet(
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
    /// Events that have already arrived are read first, so that an offer
    /// rescinded meanwhile (its agent stopped, say) is not taken.
    pub async fn take_offer(&mut self, what: &str, wanted: impl Fn(&Offer) -> bool) -> Offer {
        while self.next_before(Instant::now()).await.is_some() {}
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
    pub async fn take_offer_of(&mut self, agent: &AgentId) -> Offer {
        self.take_offer(&format!("agent {}", agent.value), |o| {
            &o.agent_id == agent && fits_small_task(o)
        })
        .await
    }

    /// ACCEPTs `offer` with a LAUNCH of `tasks`; the rest of the offer is
    /// not filtered (it comes back at the next allocation).
    pub async fn launch(&self, offer: &Offer, tasks: Vec<TaskInfo>) {
        self.client
            .launch_tasks(vec![offer.id.clone()], tasks, Some(filters(Duration::ZERO)))
            .await
            .unwrap_or_else(|e| panic!("ACCEPT refused: {e}"));
    }

    /// The first (non-reconciliation) update of `task` in `state`, from the
    /// updates received so far or waiting up to `within`; panics if the
    /// task ends in another state.
    pub async fn wait_state(
        &mut self,
        task: &str,
        state: TaskState,
        within: Duration,
    ) -> TaskStatus {
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
    pub async fn reconcile(&mut self, task: &str, agent: &AgentId) -> TaskStatus {
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

    /// The states `task` went through (reconciliation answers excluded),
    /// each update once: an update resent because its acknowledgement had
    /// not reached the agent within the (short) retry interval carries the
    /// uuid of the first copy. Delivery is at least once, as in Mesos; the
    /// tests check separately that acknowledged updates are not resent.
    pub fn states_of(&self, task: &str) -> Vec<TaskState> {
        let mut seen = BTreeSet::new();
        self.updates
            .iter()
            .filter(|s| s.task_id.value == task && !is_reconciliation(s))
            .filter(|s| seen.insert(s.uuid.clone()))
            .map(TaskStatus::state)
            .collect()
    }
}

/// The pid of the process running a task, from its TASK_RUNNING update.
pub fn executor_pid(status: &TaskStatus) -> u32 {
    status
        .container_status
        .as_ref()
        .and_then(|c| c.executor_pid)
        .unwrap_or_else(|| panic!("TASK_RUNNING carries the executor pid: {status:?}"))
}
