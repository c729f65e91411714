//! The in-process master: the v1 scheduler API, the allocator, the state
//! endpoints.
//!
//! Design: one [`State`](state::State) behind a `std::sync::Mutex` that is
//! never held across an `.await`. HTTP handlers, the agents' message loop
//! and timers lock it, apply a change (sending events and agent messages
//! through unbounded channels, which never block), and collect follow-ups
//! in [`Effects`](state::Effects) (allocation, failover and offer timers,
//! stream watchers) that [`Core::run`] starts once the lock is released.
//!
//! Modules: `http` (routes), `scheduler` (call semantics), `operator`
//! (the operator API), `allocator`
//! (offers, DRF), `validation` (calls, tasks), `agents` (agent messages),
//! `state` (the data), `state_json` (`/master/state`), `ids`.
//!
//! Differences from a real master (documented choices):
//! - offer operations other than LAUNCH / LAUNCH_GROUP (RESERVE, CREATE,
//!   ...) are refused: an ACCEPT made only of them is answered `400
//!   Operation X is not supported by mesos-local` (the offers stay
//!   outstanding); next to a LAUNCH they are skipped with a warning;
//! - [`Master::fail_over`] keeps the master id and state: streams close,
//!   stream ids become invalid, and every framework gets at least
//!   [`FAILOVER_GRACE`](scheduler::FAILOVER_GRACE) to resubscribe (a
//!   framework with failover_timeout 0 is not removed by a failover).

mod agent_list;
mod agents;
mod allocator;
mod completed;
mod holdings;
pub(crate) mod http;
mod ids;
pub(crate) mod leadership;
mod metrics;
pub(crate) mod operator;
pub(crate) mod outgoing;
mod page;
mod removed;
mod scheduler;
pub(crate) mod state;
mod state_json;
mod task;
pub(crate) mod validation;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mesos_http::server::{CallReader, ServerLimits};
use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::AgentId;
use tokio::sync::{mpsc, watch, Notify};

/// How long a requested allocation waits for further requests to join it.
const ALLOCATION_BATCH_WINDOW: Duration = Duration::from_millis(50);
use tokio_util::sync::CancellationToken;

use crate::protocol::{AgentLink, FromAgent};
use leadership::Leadership;
use state::{AgentSlot, Effects, FailoverTimer, State, Watch};

/// Where the agents' messages go when several masters run: to the leader's
/// channel, set by the master that is elected (`None`: no leader; messages
/// are dropped, and the agents resend status updates).
pub(crate) type AgentRoute = Arc<Mutex<Option<mpsc::UnboundedSender<FromAgent>>>>;

/// Forwards the agents' messages to the leader of the moment (see
/// [`AgentRoute`]) until `shutdown`.
pub(crate) fn route_agent_messages(
    mut from_agents: mpsc::UnboundedReceiver<FromAgent>,
    route: AgentRoute,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => return,
                message = from_agents.recv() => message,
            };
            let Some(message) = message else { return };
            let leader = route
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone();
            match leader {
                Some(tx) if tx.send(message).is_ok() => {}
                _ => tracing::debug!("no leading master; agent message dropped"),
            }
        }
    });
}

/// What a master that does not lead yet keeps for the day it is elected:
/// the agents (which register with it then) and where their messages must
/// then be routed.
#[derive(Debug)]
struct Standby {
    agents: Vec<AgentLink>,
    route: AgentRoute,
    to_me: mpsc::UnboundedSender<FromAgent>,
}

/// How the master runs.
#[derive(Debug, Clone)]
pub(crate) struct MasterConfig {
    /// Address to listen on.
    pub(crate) ip: IpAddr,
    /// Port (0: ephemeral).
    pub(crate) port: u16,
    /// The master's id (also the prefix of framework, agent and offer ids).
    pub(crate) master_id: String,
    /// HEARTBEAT period on scheduler streams.
    pub(crate) heartbeat_interval: Duration,
    /// Period of the allocator's batch allocation.
    pub(crate) allocation_interval: Duration,
    /// Offers not answered within this are rescinded (None: never).
    pub(crate) offer_timeout: Option<Duration>,
    /// Limits of its HTTP server.
    pub(crate) limits: ServerLimits,
    /// Bound of each scheduler stream's queue.
    pub(crate) max_queued_events: usize,
    /// `--authenticate_http_frameworks`: the principals allowed (HTTP
    /// Basic); None: no authentication.
    pub(crate) credentials: Option<crate::auth::Credentials>,
    /// Serve `https://` with this.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<mesos_http::server::ServerTls>,
}

/// The shared core: state, and what starts background work.
#[derive(Debug)]
pub(crate) struct Core {
    state: Mutex<State>,
    /// Reads calls under the server's limits.
    reader: CallReader,
    /// Framework authentication, when on.
    credentials: Option<crate::auth::Credentials>,
    allocate_now: Notify,
    shutdown: CancellationToken,
    /// Who leads, as this master knows it.
    leadership: watch::Sender<Leadership>,
    /// Until elected (masters of a highly available cluster only).
    standby: Mutex<Option<Standby>>,
    /// Leading with its agents registered (at once for a single master).
    recovered: std::sync::atomic::AtomicBool,
    /// Where timers and watchers run (the sync `Master` methods may be
    /// called outside the runtime).
    runtime: tokio::runtime::Handle,
}

impl Core {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stops serving, detached from the agents first (a stopped master
    /// sends them nothing more).
    fn stop(&self) {
        {
            let mut state = self.lock();
            for agent in &mut state.agents {
                agent.link.tx = mpsc::unbounded_channel().0;
            }
        }
        self.shutdown.cancel();
    }

    /// Runs `f` on the locked state, then starts the effects it asked for.
    pub(crate) fn run<R>(self: &Arc<Self>, f: impl FnOnce(&mut State, &mut Effects) -> R) -> R {
        let mut fx = Effects::default();
        let (result, offer_timeout, heartbeat) = {
            let mut state = self.lock();
            let result = f(&mut state, &mut fx);
            (result, state.offer_timeout, state.heartbeat_interval)
        };
        self.apply(fx, offer_timeout, heartbeat);
        result
    }

    fn apply(self: &Arc<Self>, fx: Effects, offer_timeout: Option<Duration>, heartbeat: Duration) {
        if fx.allocate {
            self.allocate_now.notify_one();
        }
        for timer in fx.failover_timers {
            let core = Arc::clone(self);
            let FailoverTimer {
                framework_id,
                generation,
                delay,
                cancel,
            } = timer;
            core.runtime.clone().spawn(async move {
                tokio::select! {
                    _ = core.shutdown.cancelled() => {}
                    _ = cancel.cancelled() => {}
                    _ = tokio::time::sleep(delay) => {
                        core.run(|state, fx| {
                            scheduler::failover_expired(state, fx, &framework_id, generation)
                        });
                    }
                }
            });
        }
        if let Some(timeout) = offer_timeout {
            for offer_id in fx.offer_timers {
                let core = Arc::clone(self);
                core.runtime.clone().spawn(async move {
                    tokio::select! {
                        _ = core.shutdown.cancelled() => {}
                        _ = tokio::time::sleep(timeout) => {
                            core.run(|state, fx| {
                                if let Some(key) = state.find_offer(&offer_id) {
                                    tracing::info!(%offer_id, "offer timed out; rescinding");
                                    state.remove_offer(key, true);
                                    fx.allocate = true;
                                }
                            });
                        }
                    }
                });
            }
        }
        for watch in fx.watch {
            self.runtime
                .spawn(Arc::clone(self).watch_stream(watch, heartbeat));
        }
    }

    /// Heartbeats a scheduler stream; notices when its client goes away.
    async fn watch_stream(self: Arc<Self>, watch: Watch, heartbeat: Duration) {
        let Watch { framework_id, conn } = watch;
        let stream_id = conn.stream_id.clone();
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                how = conn.tx.ended() => {
                    // Closed by the master: the framework is already
                    // detached from it, and this does nothing.
                    tracing::info!(%framework_id, %stream_id, ?how, "scheduler stream ended");
                    self.run(|state, fx| {
                        scheduler::disconnect(state, fx, &framework_id, Some(&stream_id), Duration::ZERO)
                    });
                    return;
                }
                _ = ticks.tick() => {
                    conn.send(Event { r#type: Some(event::Type::Heartbeat as i32), ..Event::default() });
                }
            }
        }
    }

    pub(crate) fn state_json(&self) -> serde_json::Value {
        state_json::state_json(&self.lock())
    }

    /// `GET /metrics/snapshot`.
    pub(crate) fn metrics_snapshot(&self) -> serde_json::Value {
        let elected = self.leadership.borrow().is_leading();
        metrics::snapshot(&self.lock(), elected)
    }
}

/// A running master.
#[derive(Debug)]
pub(crate) struct Master {
    /// `http://ip:port`.
    pub(crate) url: String,
    /// The bound address.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) addr: SocketAddr,
    core: Arc<Core>,
}

impl Master {
    /// Starts serving; `agents` are registered at once; `from_agents`
    /// carries their messages. Everything stops when `shutdown` is cancelled.
    pub(crate) async fn start(
        config: MasterConfig,
        agents: Vec<AgentLink>,
        from_agents: mpsc::UnboundedReceiver<FromAgent>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Master> {
        Self::start_as(config, agents, from_agents, None, shutdown).await
    }

    /// Starts serving as one of several masters, not leading (scheduler
    /// calls are redirected, see [`leadership`]) until
    /// [`set_leadership`](Self::set_leadership) elects it: then `agents`
    /// register with it and `route` brings it their messages.
    pub(crate) async fn start_standby(
        config: MasterConfig,
        agents: Vec<AgentLink>,
        route: AgentRoute,
        shutdown: CancellationToken,
    ) -> std::io::Result<Master> {
        let (to_me, from_agents) = mpsc::unbounded_channel();
        let standby = Standby {
            agents,
            route,
            to_me,
        };
        Self::start_as(config, Vec::new(), from_agents, Some(standby), shutdown).await
    }

    async fn start_as(
        config: MasterConfig,
        agents: Vec<AgentLink>,
        mut from_agents: mpsc::UnboundedReceiver<FromAgent>,
        standby: Option<Standby>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Master> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::new(config.ip, config.port)).await?;
        let addr = listener.local_addr()?;
        let now = ids::now_secs();
        let agents: agent_list::Agents = agents
            .into_iter()
            .map(|link| AgentSlot::new(link, now))
            .collect();
        let mut counters = metrics::Counters::default();
        counters.agents_registered(agents.len());
        let leadership = match standby {
            None => Leadership::Leading,
            Some(_) => Leadership::Following(None),
        };
        let state = State {
            master_info: ids::master_info(&config.master_id, addr),
            master_id: config.master_id.clone(),
            addr,
            heartbeat_interval: config.heartbeat_interval,
            allocation_interval: config.allocation_interval,
            offer_timeout: config.offer_timeout,
            start_time: now,
            agents,
            removed_agents: Vec::new(),
            frameworks: Default::default(),
            completed_frameworks: Vec::new(),
            removed_frameworks: Default::default(),
            max_queued_events: config.max_queued_events,
            offers: Default::default(),
            offer_keys: Default::default(),
            next_framework: 0,
            next_offer: 0,
            counters,
            operator: Default::default(),
        };
        let core = Arc::new(Core {
            state: Mutex::new(state),
            reader: CallReader::new(config.limits.clone()),
            credentials: config.credentials.clone(),
            allocate_now: Notify::new(),
            shutdown: shutdown.clone(),
            leadership: watch::Sender::new(leadership),
            recovered: std::sync::atomic::AtomicBool::new(standby.is_none()),
            standby: Mutex::new(standby),
            runtime: tokio::runtime::Handle::current(),
        });

        let handler_core = Arc::clone(&core);
        let handler = move |request, peer| http::route(Arc::clone(&handler_core), request, peer);
        let limits = config.limits.clone();
        let serve_shutdown = shutdown.clone();
        #[cfg(feature = "tls")]
        let tls = config.tls.clone();
        #[cfg(not(feature = "tls"))]
        let tls = None;
        let scheme = crate::serve::scheme(tls.as_ref());
        tokio::spawn(crate::serve::serve(
            listener,
            handler,
            serve_shutdown,
            limits,
            tls,
        ));

        // The allocator: every interval, and soon when asked. Requests that
        // arrive within one batching window (a burst of terminal updates
        // recovering resources, say) share one allocation, as Mesos's
        // allocator batches them; otherwise each update would pay a full
        // pass over the cluster's tasks.
        let allocator_core = Arc::clone(&core);
        let interval = config.allocation_interval.max(Duration::from_millis(1));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            loop {
                tokio::select! {
                    _ = allocator_core.shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                    _ = allocator_core.allocate_now.notified() => {
                        tokio::time::sleep(ALLOCATION_BATCH_WINDOW).await;
                    }
                }
                allocator_core.run(allocator::allocate);
            }
        });

        // The agents' messages.
        let agents_core = Arc::clone(&core);
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    _ = agents_core.shutdown.cancelled() => return,
                    message = from_agents.recv() => message,
                };
                let Some(message) = message else { return };
                agents_core.run(|state, fx| agents::handle(state, fx, message));
            }
        });

        let url = format!("{scheme}://{addr}");
        tracing::info!(%url, master_id = %config.master_id, "master listening");
        Ok(Master { url, addr, core })
    }

    /// `GET /master/state`, as JSON.
    pub(crate) fn state_json(&self) -> serde_json::Value {
        self.core.state_json()
    }

    /// What this master writes into ZooKeeper: its id and address.
    pub(crate) fn info(&self) -> mesos_proto::v1::MasterInfo {
        self.core.lock().master_info.clone()
    }

    /// Who leads, as this master knows it.
    pub(crate) fn leadership(&self) -> Leadership {
        self.core.leadership.borrow().clone()
    }

    /// Whether it leads and its agents have re-registered with it.
    pub(crate) fn is_recovered(&self) -> bool {
        self.core
            .recovered
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Tells this master who leads (see [`Core::set_leadership`]).
    pub(crate) fn set_leadership(&self, leadership: Leadership) {
        self.core.set_leadership(leadership);
    }

    /// Contends for leadership through ZooKeeper (see
    /// [`leadership::zookeeper::contend`]); returns the candidacy's session.
    pub(crate) async fn contend(
        &self,
        url: mesos_zookeeper::ZkUrl,
        options: mesos_zookeeper::DetectorOptions,
    ) -> Result<leadership::zookeeper::CandidacySession, mesos_zookeeper::ZkError> {
        leadership::zookeeper::contend(Arc::clone(&self.core), url, self.info(), options).await
    }

    /// Stops this master as if its process died: its server and timers
    /// stop, it sends the agents nothing more, and its candidacy (if it
    /// contends through ZooKeeper) is withdrawn.
    pub(crate) fn kill(&self) {
        tracing::info!(url = %self.url, "killing a master");
        self.core.stop();
    }

    /// Whether [`kill`](Self::kill) was called (or it lost its leadership).
    pub(crate) fn is_stopped(&self) -> bool {
        self.core.shutdown.is_cancelled()
    }

    /// Closes every scheduler event stream (frameworks must resubscribe).
    pub(crate) fn kill_connections(&self) {
        self.disconnect_all(Duration::ZERO);
    }

    /// Simulates a leader failover: streams closed, stream ids invalid,
    /// frameworks must resubscribe; tasks are kept.
    pub(crate) fn fail_over(&self) {
        tracing::info!("simulating a master failover");
        self.disconnect_all(scheduler::FAILOVER_GRACE);
    }

    fn disconnect_all(&self, grace: Duration) {
        self.core.run(|state, fx| {
            let ids: Vec<String> = state
                .frameworks
                .values()
                .filter(|f| f.connected())
                .map(|f| f.id.clone())
                .collect();
            for id in ids {
                scheduler::disconnect(state, fx, &id, None, grace);
            }
        });
    }

    /// Runs an allocation now instead of at the next interval.
    pub(crate) fn trigger_allocation(&self) {
        self.core.allocate_now.notify_one();
    }

    /// The agent's process went away or came back ([`agents::set_agent_active`]).
    pub(crate) fn set_agent_active(&self, agent_id: &AgentId, active: bool) {
        self.core
            .run(|state, fx| agents::set_agent_active(state, fx, &agent_id.value, active));
    }

    /// The agent is gone for good: its tasks are lost (and, not leading
    /// yet, this master will not register it when elected).
    pub(crate) fn remove_agent(&self, agent_id: &AgentId) {
        if let Some(standby) = self
            .core
            .standby
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_mut()
        {
            standby
                .agents
                .retain(|link| link.info.id.as_ref() != Some(agent_id));
        }
        self.core
            .run(|state, fx| agents::remove_agent(state, fx, agent_id));
    }
}
