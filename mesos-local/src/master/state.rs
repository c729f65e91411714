//! The master's state: registered agents, frameworks (with their scheduler
//! connection, tasks, executors, filters), outstanding offers. One `State`
//! lives behind the master's mutex; everything here is synchronous, and
//! what must happen after the lock is released (timers, allocation) is
//! collected in [`Effects`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_proto::resources::Resources;
use mesos_proto::v1::framework_info::capability::Type as FrameworkCapability;
use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::{ExecutorInfo, FrameworkId, FrameworkInfo, MasterInfo, TaskStatus};

use super::completed::{CompletedTasks, MAX_COMPLETED_TASKS};
use super::holdings::Holdings;
use super::outgoing::SchedulerEvent;
use super::removed::RemovedFrameworks;
pub(crate) use super::task::{flat, push_status, Task};
use crate::protocol::{AgentLink, ToAgent};
use crate::queue::{EventSender, SendError};
use tokio_util::sync::CancellationToken;

/// One open scheduler event stream.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    /// Its `Mesos-Stream-Id`.
    pub(crate) stream_id: String,
    /// Feeds the RecordIO response body (bounded: a scheduler that does
    /// not read has its stream closed, see [`crate::queue`]).
    pub(crate) tx: EventSender<SchedulerEvent>,
}

impl Connection {
    pub(crate) fn send(&self, event: Event) {
        self.push(SchedulerEvent::from(event));
    }

    fn push(&self, event: SchedulerEvent) {
        match self.tx.send(event) {
            Ok(()) => {}
            Err(SendError::Overflow { capacity }) => tracing::warn!(
                stream_id = %self.stream_id,
                queued = capacity,
                "scheduler is not reading its event stream; closing the stream and dropping its queue"
            ),
            Err(SendError::Ended(_)) => {
                tracing::debug!(stream_id = %self.stream_id, "event for a closed stream dropped")
            }
        }
    }

    /// Ends the stream once what is queued is delivered (the client sees EOF).
    pub(crate) fn close(&self) {
        self.tx.close();
    }
}

/// An executor of a framework on an agent (its resources are in use).
#[derive(Debug, Clone)]
pub(crate) struct Executor {
    pub(crate) info: ExecutorInfo,
    pub(crate) agent_id: String,
    pub(crate) resources: Resources,
}

/// A registered framework.
#[derive(Debug)]
pub(crate) struct Framework {
    pub(crate) id: String,
    /// Shared with the launches sent to agents (one copy, not one a task).
    pub(crate) info: Arc<FrameworkInfo>,
    pub(crate) conn: Option<Connection>,
    /// Receives offers (connected and not torn down).
    pub(crate) active: bool,
    pub(crate) registered_time: f64,
    pub(crate) reregistered_time: Option<f64>,
    pub(crate) unregistered_time: Option<f64>,
    /// Non-terminal tasks and executors, with the resources they use.
    pub(crate) holdings: Holdings,
    pub(crate) completed_tasks: CompletedTasks,
    /// Agents refused (DECLINE / ACCEPT filters) until the instant.
    pub(crate) filters: HashMap<String, Instant>,
    /// Roles suppressed (SUPPRESS) until REVIVE.
    pub(crate) suppressed: BTreeSet<String>,
    /// Bumped on every (re)subscription and disconnection; failover timers
    /// of an older generation do nothing.
    pub(crate) generation: u64,
    /// Cancels the pending failover timer (one per framework).
    pub(crate) failover_timer: Option<CancellationToken>,
}

impl Framework {
    pub(crate) fn new(id: String, info: FrameworkInfo) -> Framework {
        Framework {
            id,
            info: Arc::new(info),
            conn: None,
            active: false,
            registered_time: crate::master::ids::now_secs(),
            reregistered_time: None,
            unregistered_time: None,
            holdings: Holdings::default(),
            completed_tasks: CompletedTasks::new(MAX_COMPLETED_TASKS),
            filters: HashMap::new(),
            suppressed: BTreeSet::new(),
            generation: 0,
            failover_timer: None,
        }
    }

    /// Cancels the pending failover timer, if any.
    pub(crate) fn cancel_failover_timer(&mut self) {
        if let Some(timer) = self.failover_timer.take() {
            timer.cancel();
        }
    }

    pub(crate) fn framework_id(&self) -> FrameworkId {
        FrameworkId {
            value: self.id.clone(),
        }
    }

    pub(crate) fn has_capability(&self, capability: FrameworkCapability) -> bool {
        self.info
            .capabilities
            .iter()
            .any(|c| c.r#type == Some(capability as i32))
    }

    pub(crate) fn multi_role(&self) -> bool {
        self.has_capability(FrameworkCapability::MultiRole)
    }

    pub(crate) fn partition_aware(&self) -> bool {
        self.has_capability(FrameworkCapability::PartitionAware)
    }

    /// The roles it subscribed with: `roles` for MULTI_ROLE frameworks,
    /// else the legacy `role` (default `*`).
    #[allow(deprecated)]
    pub(crate) fn roles(&self) -> Vec<String> {
        if self.multi_role() && !self.info.roles.is_empty() {
            self.info.roles.clone()
        } else {
            vec![self
                .info
                .role
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "*".to_string())]
        }
    }

    pub(crate) fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Sends an event if connected (dropped otherwise).
    pub(crate) fn send(&self, event: Event) {
        match &self.conn {
            Some(conn) => conn.send(event),
            None => {
                tracing::debug!(framework_id = %self.id, "framework disconnected; event dropped")
            }
        }
    }

    /// Sends an UPDATE of a shared status (never copied: it is encoded
    /// from the shared one).
    pub(crate) fn send_shared_update(&self, status: &Arc<TaskStatus>) {
        match &self.conn {
            Some(conn) => conn.push(SchedulerEvent::Update(Arc::clone(status))),
            None => {
                tracing::debug!(framework_id = %self.id, "framework disconnected; event dropped")
            }
        }
    }

    pub(crate) fn send_update(&self, status: TaskStatus) {
        self.send(Event {
            r#type: Some(event::Type::Update as i32),
            update: Some(event::Update { status }),
            ..Event::default()
        });
    }

    /// Closes the current stream, if any.
    pub(crate) fn close_connection(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
        }
    }
}

/// An outstanding offer.
#[derive(Debug, Clone)]
pub(crate) struct Offer {
    pub(crate) id: String,
    pub(crate) framework_id: String,
    pub(crate) agent_id: String,
    pub(crate) role: String,
    /// Without allocation info (the framework's view is built on sending).
    pub(crate) resources: Resources,
}

/// A registered agent.
#[derive(Debug)]
pub(crate) struct AgentSlot {
    pub(crate) id: String,
    pub(crate) link: AgentLink,
    /// Total resources, without allocation info.
    pub(crate) total: Resources,
    pub(crate) registered_time: f64,
    /// False while the agent's process is down (see
    /// [`set_agent_active`](super::agents::set_agent_active)).
    pub(crate) active: bool,
}

impl AgentSlot {
    /// The agent of `link`, registered at `now` (seconds since the epoch).
    pub(crate) fn new(link: AgentLink, now: f64) -> Self {
        AgentSlot {
            id: link.info.id.clone().map(|id| id.value).unwrap_or_default(),
            total: flat(&link.info.resources),
            link,
            registered_time: now,
            active: true,
        }
    }

    pub(crate) fn send(&self, message: ToAgent) {
        if self.link.tx.send(message).is_err() {
            tracing::warn!(agent_id = %self.id, "agent channel closed; message dropped");
        }
    }
}

/// What must happen once the state lock is released.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Run an allocation soon (resources became available, a framework
    /// subscribed or revived).
    pub(crate) allocate: bool,
    /// Remove these frameworks after their delay unless they reconnected
    /// meanwhile.
    pub(crate) failover_timers: Vec<FailoverTimer>,
    /// Offers to rescind after the offer timeout.
    pub(crate) offer_timers: Vec<String>,
    /// New streams to watch (heartbeats, client gone).
    pub(crate) watch: Vec<Watch>,
}

/// A framework's failover timer.
#[derive(Debug)]
pub(crate) struct FailoverTimer {
    pub(crate) framework_id: String,
    /// The framework's generation when it disconnected.
    pub(crate) generation: u64,
    pub(crate) delay: Duration,
    /// Cancelled when the framework resubscribes, disconnects again or is
    /// removed.
    pub(crate) cancel: CancellationToken,
}

/// A scheduler stream to heartbeat and to watch for disconnection.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) framework_id: String,
    pub(crate) conn: Connection,
}

/// Everything the master knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) master_id: String,
    pub(crate) addr: SocketAddr,
    pub(crate) master_info: MasterInfo,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) allocation_interval: Duration,
    pub(crate) offer_timeout: Option<Duration>,
    pub(crate) start_time: f64,
    pub(crate) agents: super::agent_list::Agents,
    /// Agents removed for good (remove_agent).
    pub(crate) removed_agents: Vec<AgentSlot>,
    pub(crate) frameworks: BTreeMap<String, Framework>,
    pub(crate) completed_frameworks: Vec<Framework>,
    /// Ids of removed frameworks (a resubscription gets an ERROR).
    pub(crate) removed_frameworks: RemovedFrameworks,
    /// Bound of each scheduler stream's queue.
    pub(crate) max_queued_events: usize,
    /// Outstanding offers, by allocation order (add and remove them with
    /// [`State::add_offer`] and [`State::remove_offer`], which keep
    /// `offer_keys` in step).
    pub(crate) offers: BTreeMap<u64, Offer>,
    /// Offer id → key in `offers`: ACCEPT, DECLINE and timeouts find an
    /// offer without a scan.
    pub(crate) offer_keys: HashMap<String, u64>,
    pub(crate) next_framework: u64,
    pub(crate) next_offer: u64,
    /// The counters of `/metrics/snapshot`.
    pub(crate) counters: super::metrics::Counters,
    /// The operator API's subscribers.
    pub(crate) operator: super::operator::subscribe::Subscribers,
}

impl State {
    pub(crate) fn agent(&self, agent_id: &str) -> Option<&AgentSlot> {
        self.agents.get(agent_id)
    }

    /// Sends to an agent if registered.
    pub(crate) fn send_to_agent(&self, agent_id: &str, message: ToAgent) -> bool {
        match self.agent(agent_id) {
            Some(agent) => {
                agent.send(message);
                true
            }
            None => {
                tracing::debug!(%agent_id, "message for an unknown agent dropped");
                false
            }
        }
    }

    pub(crate) fn broadcast(&self, message: &ToAgent) {
        for agent in &self.agents {
            agent.send(message.clone());
        }
    }

    /// Resources in use on an agent (all frameworks' tasks and executors).
    /// Resources used on every agent, by agent id, in one pass over the
    /// tasks and executors (the allocator's view).
    pub(crate) fn used_by_agent(&self) -> HashMap<String, Resources> {
        let mut used: HashMap<String, Resources> = HashMap::with_capacity(self.agents.len());
        for framework in self.frameworks.values() {
            for (agent_id, resources) in framework.holdings.used_by_agent() {
                match used.get_mut(agent_id) {
                    Some(sum) => *sum += resources,
                    None => {
                        used.insert(agent_id.clone(), resources.clone());
                    }
                }
            }
        }
        used
    }

    pub(crate) fn used_on(&self, agent_id: &str) -> Resources {
        let mut used = Resources::new();
        for framework in self.frameworks.values() {
            used += framework.holdings.used_on(Some(agent_id));
        }
        used
    }

    /// Resources offered on an agent (or to a framework when given).
    pub(crate) fn offered(&self, agent_id: Option<&str>, framework_id: Option<&str>) -> Resources {
        let mut offered = Resources::new();
        for offer in self.offers.values() {
            if agent_id.is_none_or(|a| a == offer.agent_id)
                && framework_id.is_none_or(|f| f == offer.framework_id)
            {
                offered += &offer.resources;
            }
        }
        offered
    }

    /// Resources offered, by agent id: one walk over the outstanding
    /// offers (an allocation pass asking [`State::offered`] for each agent
    /// walked them once per agent: 10,000 agents with 10,000 offers out
    /// took seconds per pass).
    pub(crate) fn offered_by_agent(&self) -> HashMap<String, Resources> {
        let mut by_agent: HashMap<String, Resources> = HashMap::new();
        for offer in self.offers.values() {
            match by_agent.get_mut(&offer.agent_id) {
                Some(offered) => *offered += &offer.resources,
                None => {
                    by_agent.insert(offer.agent_id.clone(), offer.resources.clone());
                }
            }
        }
        by_agent
    }

    pub(crate) fn find_offer(&self, offer_id: &str) -> Option<u64> {
        self.offer_keys.get(offer_id).copied()
    }

    /// Records a new outstanding offer under `key`.
    pub(crate) fn add_offer(&mut self, key: u64, offer: Offer) {
        let id = offer.id.clone();
        if let Some(replaced) = self.offers.insert(key, offer) {
            self.offer_keys.remove(&replaced.id);
        }
        self.offer_keys.insert(id, key);
    }

    /// Removes an offer; `rescind` also tells the framework (RESCIND).
    pub(crate) fn remove_offer(&mut self, key: u64, rescind: bool) -> Option<Offer> {
        let offer = self.offers.remove(&key)?;
        self.offer_keys.remove(&offer.id);
        if rescind {
            if let Some(framework) = self.frameworks.get(&offer.framework_id) {
                framework.send(Event {
                    r#type: Some(event::Type::Rescind as i32),
                    rescind: Some(event::Rescind {
                        offer_id: mesos_proto::v1::OfferId {
                            value: offer.id.clone(),
                        },
                    }),
                    ..Event::default()
                });
            }
        }
        Some(offer)
    }

    /// Removes every offer matching `keep == false`, rescinding them.
    pub(crate) fn remove_offers_where(
        &mut self,
        rescind: bool,
        mut matches: impl FnMut(&Offer) -> bool,
    ) -> usize {
        let keys: Vec<u64> = self
            .offers
            .iter()
            .filter(|(_, o)| matches(o))
            .map(|(k, _)| *k)
            .collect();
        for key in &keys {
            self.remove_offer(*key, rescind);
        }
        keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_are_found_by_id_through_the_index() {
        let mut state = crate::master::tests::empty_state();
        for n in 0..1000u64 {
            let offer = Offer {
                id: format!("o{n}"),
                framework_id: "f".into(),
                agent_id: "a".into(),
                role: "*".into(),
                resources: Resources::new(),
            };
            state.add_offer(n, offer);
        }
        assert_eq!(state.find_offer("o500"), Some(500));
        assert!(state.remove_offer(500, false).is_some());
        assert_eq!(state.find_offer("o500"), None);
        assert_eq!(
            state.remove_offers_where(false, |o| o.id.ends_with('7')),
            100
        );
        assert_eq!(state.offer_keys.len(), 899);
        assert!(state
            .offers
            .iter()
            .all(|(k, o)| state.offer_keys.get(&o.id) == Some(k)));
    }
}
