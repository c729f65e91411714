//! `LocalCluster`: one master and N agents in this process, on loopback.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mesos_http::server::ServerLimits;
use mesos_proto::resources::Resources;
use mesos_proto::v1::{AgentId, Attribute};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::agent::{Agent, AgentConfig};
use crate::auth::Credentials;
#[cfg(not(feature = "docker"))]
use crate::containerizer::default_containerizer;
use crate::containerizer::Containerizer;
use crate::master::{Master, MasterConfig};
pub use crate::queue::DEFAULT_MAX_QUEUED_EVENTS;
use crate::Error;

/// The resources of each agent unless configured: the defaults of
/// `shared/tools/real-mesos` (and a small real agent).
pub const DEFAULT_AGENT_RESOURCES: &str = "cpus:4;mem:4096;disk:10000;ports:[31000-32000]";

/// The shortest heartbeat, allocation and status update retry interval
/// (and offer timeout) accepted: 1 ms.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// The longest heartbeat, allocation and status update retry interval
/// accepted: one day.
pub const MAX_INTERVAL: Duration = Duration::from_secs(86_400);
/// The longest offer timeout and executor shutdown grace period accepted:
/// 365 days.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);
/// The smallest [`LocalClusterBuilder::max_queued_events`] accepted.
pub const MIN_MAX_QUEUED_EVENTS: usize = 16;

/// Configuration of a [`LocalCluster`]; every setting has a documented default.
#[must_use]
pub struct LocalClusterBuilder {
    agents: usize,
    resources: Option<Resources>,
    resources_text: String,
    attributes: Vec<Attribute>,
    containerizer: Option<Arc<dyn Containerizer>>,
    #[cfg(feature = "docker")]
    docker: bool,
    #[cfg(feature = "docker")]
    docker_name_prefix: Option<String>,
    ip: IpAddr,
    port: u16,
    allocation_interval: Duration,
    heartbeat_interval: Duration,
    offer_timeout: Option<Duration>,
    status_update_retry: Duration,
    executor_shutdown_grace: Duration,
    work_dir: Option<PathBuf>,
    limits: ServerLimits,
    max_queued_events: usize,
    framework_credentials: Option<Credentials>,
    authenticate_http_executors: bool,
    allow_unauthenticated_non_loopback: bool,
}

impl std::fmt::Debug for LocalClusterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalClusterBuilder")
            .field("agents", &self.agents)
            .field("resources", &self.resources_text)
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("allocation_interval", &self.allocation_interval)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("framework_credentials", &self.framework_credentials)
            .field(
                "authenticate_http_executors",
                &self.authenticate_http_executors,
            )
            .finish_non_exhaustive()
    }
}

impl Default for LocalClusterBuilder {
    fn default() -> Self {
        LocalClusterBuilder {
            agents: 1,
            resources: None,
            resources_text: DEFAULT_AGENT_RESOURCES.to_string(),
            attributes: Vec::new(),
            containerizer: None,
            #[cfg(feature = "docker")]
            docker: true,
            #[cfg(feature = "docker")]
            docker_name_prefix: None,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            allocation_interval: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(15),
            offer_timeout: None,
            status_update_retry: Duration::from_secs(10),
            executor_shutdown_grace: Duration::from_secs(5),
            work_dir: None,
            limits: ServerLimits::default(),
            max_queued_events: DEFAULT_MAX_QUEUED_EVENTS,
            framework_credentials: None,
            authenticate_http_executors: false,
            allow_unauthenticated_non_loopback: false,
        }
    }
}

impl LocalClusterBuilder {
    /// Number of agents. Default: 1.
    pub fn agents(mut self, n: usize) -> Self {
        self.agents = n;
        self
    }

    /// Each agent's resources. Default: [`DEFAULT_AGENT_RESOURCES`].
    pub fn resources(mut self, resources: Resources) -> Self {
        self.resources = Some(resources);
        self
    }

    /// Each agent's resources in the Mesos `--resources` syntax
    /// (`cpus:4;mem:4096;ports:[31000-32000]`); parsed by `start`.
    pub fn resources_text(mut self, text: impl Into<String>) -> Self {
        self.resources = None;
        self.resources_text = text.into();
        self
    }

    /// Each agent's attributes. Default: none.
    pub fn attributes(mut self, attributes: Vec<Attribute>) -> Self {
        self.attributes = attributes;
        self
    }

    /// How agents run executors and tasks (overrides `docker`).
    /// Default: with the `docker` feature, a `DockerContainerizer` of this
    /// cluster (Docker containers on the engine, real child
    /// processes for the rest); without it, real child processes.
    pub fn containerizer(mut self, containerizer: Arc<dyn Containerizer>) -> Self {
        self.containerizer = Some(containerizer);
        self
    }

    /// Whether `DOCKER` containers run on the Docker engine (feature
    /// `docker`). Default: true — the cluster's containerizer is a
    /// [`DockerContainerizer`](crate::containerizer::DockerContainerizer)
    /// whose container names carry this cluster's prefix
    /// (`mesos-<first 8 hex digits of the master id>-`, see
    /// [`LocalCluster::docker_name_prefix`]). The engine is not probed:
    /// on a machine without one, non-Docker tasks run as usual and Docker
    /// tasks fail (`TASK_FAILED`) with docker's own explanation. `false`:
    /// real child processes only; Docker tasks fail with "the process
    /// containerizer cannot run Docker containers".
    #[cfg(feature = "docker")]
    pub fn docker(mut self, enabled: bool) -> Self {
        self.docker = enabled;
        self
    }

    /// A stable Docker name prefix (must start with `mesos-`) instead of
    /// the per-cluster one: when the cluster starts, containers under it
    /// that a previous (crashed) run left are removed. Never give two
    /// clusters running at the same time the same prefix. Feature `docker`.
    #[cfg(feature = "docker")]
    pub fn docker_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.docker_name_prefix = Some(prefix.into());
        self
    }

    /// The address master and agents listen on. Default: 127.0.0.1.
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = ip;
        self
    }

    /// The master's port. Default: 0 (an ephemeral port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Period of batch allocation (offers). Default: 1 s, as Mesos.
    pub fn allocation_interval(mut self, interval: Duration) -> Self {
        self.allocation_interval = interval;
        self
    }

    /// HEARTBEAT period on scheduler streams. Default: 15 s, as Mesos.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Rescind offers not answered within this. Default: never, as Mesos.
    pub fn offer_timeout(mut self, timeout: Duration) -> Self {
        self.offer_timeout = Some(timeout);
        self
    }

    /// Resend period of unacknowledged status updates. Default: 10 s.
    pub fn status_update_retry(mut self, period: Duration) -> Self {
        self.status_update_retry = period;
        self
    }

    /// Executors' shutdown grace period. Default: 5 s, as Mesos.
    pub fn executor_shutdown_grace(mut self, grace: Duration) -> Self {
        self.executor_shutdown_grace = grace;
        self
    }

    /// Where sandboxes live. Default: a temporary directory removed with
    /// the cluster.
    pub fn work_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.work_dir = Some(dir.into());
        self
    }

    /// Limits of the master's and agents' HTTP servers (timeouts,
    /// connection cap, call size and decode cost). Default:
    /// [`ServerLimits::default`].
    pub fn server_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many events may wait for a scheduler or an executor that does
    /// not read its event stream; one more and its stream is closed (and
    /// the queue dropped), with a warning logged. Default
    /// [`DEFAULT_MAX_QUEUED_EVENTS`]; at least [`MIN_MAX_QUEUED_EVENTS`].
    pub fn max_queued_events(mut self, events: usize) -> Self {
        self.max_queued_events = events;
        self
    }

    /// Framework authentication, as a master with
    /// `--authenticate_http_frameworks --credentials=<file>`: every
    /// scheduler API call must carry HTTP Basic credentials of one of these
    /// principals (else `401` with `WWW-Authenticate: Basic
    /// realm="mesos-master-scheduler"`); a SUBSCRIBE whose
    /// `FrameworkInfo.principal` is another principal is `400`, one without
    /// a principal gets the authenticated one; a framework can only be
    /// resubscribed (and called for) by its own principal. Default: off.
    pub fn authenticate_http_frameworks(mut self, credentials: Credentials) -> Self {
        self.framework_credentials = Some(credentials);
        self
    }

    /// Executor authentication, as an agent with
    /// `--authenticate_http_executors`: each executor gets its own token in
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, and the executor API answers
    /// `401` to a call without `Authorization: Bearer <token>` or with a
    /// token it did not issue, and `403` to a call for another executor
    /// than the token's. Default: off.
    pub fn authenticate_http_executors(mut self, enabled: bool) -> Self {
        self.authenticate_http_executors = enabled;
        self
    }

    /// Whether [`ip`](Self::ip) may be a non-loopback address while
    /// framework or executor authentication is off (anyone who reaches it
    /// can then run commands as this process's user). Default: false —
    /// [`start`](Self::start) refuses such a configuration.
    pub fn allow_unauthenticated_non_loopback(mut self, allow: bool) -> Self {
        self.allow_unauthenticated_non_loopback = allow;
        self
    }

    /// Checks every setting's range (`start` does).
    fn validate(&self) -> Result<(), Error> {
        let invalid =
            |setting: &'static str, reason: String| Err(Error::InvalidConfig { setting, reason });
        for (setting, value) in [
            ("heartbeat_interval", self.heartbeat_interval),
            ("allocation_interval", self.allocation_interval),
            ("status_update_retry", self.status_update_retry),
        ] {
            if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&value) {
                return invalid(
                    setting,
                    format!("{value:?} is not between {MIN_INTERVAL:?} and {MAX_INTERVAL:?}"),
                );
            }
        }
        if let Some(timeout) = self.offer_timeout {
            if !(MIN_INTERVAL..=MAX_TIMEOUT).contains(&timeout) {
                return invalid(
                    "offer_timeout",
                    format!("{timeout:?} is not between {MIN_INTERVAL:?} and {MAX_TIMEOUT:?}"),
                );
            }
        }
        if self.executor_shutdown_grace > MAX_TIMEOUT {
            return invalid(
                "executor_shutdown_grace",
                format!(
                    "{:?} is more than {MAX_TIMEOUT:?}",
                    self.executor_shutdown_grace
                ),
            );
        }
        let authenticated =
            self.framework_credentials.is_some() && self.authenticate_http_executors;
        if !self.ip.is_loopback() && !authenticated && !self.allow_unauthenticated_non_loopback {
            return invalid(
                "ip",
                format!(
                    "{} is not a loopback address and authentication is off: anyone who can \
                     reach it could run commands here. Turn on framework and executor \
                     authentication (--authenticate_http_frameworks with --credentials, and \
                     --authenticate_http_executors), or say so explicitly with \
                     --allow_unauthenticated_non_loopback",
                    self.ip
                ),
            );
        }
        if self.max_queued_events < MIN_MAX_QUEUED_EVENTS {
            return invalid(
                "max_queued_events",
                format!(
                    "{} is less than {MIN_MAX_QUEUED_EVENTS}",
                    self.max_queued_events
                ),
            );
        }
        self.limits.validate().map_err(Error::Limits)
    }

    /// Starts master and agents; returns once all listen. Settings out of
    /// range are [`Error::InvalidConfig`].
    pub async fn start(self) -> Result<LocalCluster, Error> {
        self.validate()?;
        let resources = match self.resources {
            Some(r) => r,
            None => Resources::parse(&self.resources_text).map_err(Error::Resources)?,
        };
        let (work_dir, temp) = match self.work_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating the work dir", e))?;
                (dir, None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("mesos-local-")
                    .tempdir()
                    .map_err(|e| Error::io("creating the work dir", e))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let master_id = uuid::Uuid::new_v4().to_string();
        #[allow(unused_mut)]
        let mut docker_prefix = None;
        let containerizer: Arc<dyn Containerizer> = match self.containerizer {
            Some(containerizer) => containerizer,
            #[cfg(feature = "docker")]
            None if self.docker => {
                let docker = crate::containerizer::DockerContainerizer::new();
                let docker = match self.docker_name_prefix {
                    Some(prefix) => docker
                        .with_name_prefix(prefix)
                        .map_err(Error::Containerizer)?,
                    None => docker.with_generated_prefix(format!(
                        "mesos-{}-",
                        master_id.get(..8).unwrap_or(&master_id)
                    )),
                };
                docker_prefix = Some(docker.name_prefix().to_string());
                Arc::new(docker)
            }
            #[cfg(feature = "docker")]
            None => Arc::new(crate::containerizer::ProcessContainerizer::new()),
            #[cfg(not(feature = "docker"))]
            None => default_containerizer(),
        };
        if let Err(e) = containerizer.recover().await {
            tracing::warn!(error = %e, "containerizer recovery failed");
        }
        let shutdown = CancellationToken::new();
        let (to_master, from_agents) = mpsc::unbounded_channel();
        let mut agents = Vec::with_capacity(self.agents);
        for index in 1..=self.agents {
            let config = AgentConfig {
                index,
                id: AgentId {
                    value: format!("{master_id}-S{}", index - 1),
                },
                ip: self.ip,
                port: 0,
                hostname: "localhost".to_string(),
                resources: resources.clone().into_vec(),
                attributes: self.attributes.clone(),
                work_dir: work_dir.join("agents").join(index.to_string()),
                containerizer: containerizer.clone(),
                status_update_retry: self.status_update_retry,
                executor_shutdown_grace: self.executor_shutdown_grace,
                limits: self.limits.clone(),
                max_queued_events: self.max_queued_events,
                authenticate_executors: self.authenticate_http_executors,
            };
            let agent = Agent::start(config, to_master.clone(), shutdown.child_token())
                .await
                .map_err(|e| Error::io("starting an agent", e))?;
            agents.push(agent);
        }
        let master = Master::start(
            MasterConfig {
                ip: self.ip,
                port: self.port,
                master_id,
                heartbeat_interval: self.heartbeat_interval,
                allocation_interval: self.allocation_interval,
                offer_timeout: self.offer_timeout,
                limits: self.limits.clone(),
                max_queued_events: self.max_queued_events,
                credentials: self.framework_credentials.clone(),
            },
            agents.iter().map(Agent::link).collect(),
            from_agents,
            shutdown.child_token(),
        )
        .await
        .map_err(|e| Error::io("starting the master", e))?;
        tracing::info!(url = %master.url, agents = agents.len(), "mesos-local cluster up");
        Ok(LocalCluster {
            master,
            agents,
            containerizer,
            docker_prefix,
            work_dir,
            _temp: temp,
            shutdown,
        })
    }
}

/// A master and its agents running in this process (see the [crate docs](crate)).
///
/// Dropping it stops everything: servers close, every process the agents
/// started is killed, every Docker container they started is removed
/// (synchronously, bounded by the Docker containerizer's teardown
/// timeout), and the temporary work directory is removed. Launches still
/// in flight at the drop create nothing more and destroy what they
/// started as soon as the containerizer returns.
pub struct LocalCluster {
    master: Master,
    agents: Vec<Agent>,
    containerizer: Arc<dyn Containerizer>,
    docker_prefix: Option<String>,
    work_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster")
            .field("master", &self.master.url)
            .field("agents", &self.agents.len())
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

impl LocalCluster {
    /// A builder with the defaults (one agent, real processes).
    pub fn builder() -> LocalClusterBuilder {
        LocalClusterBuilder::default()
    }

    /// The master's URL, `http://127.0.0.1:<port>`: give it to a scheduler.
    pub fn master_url(&self) -> &str {
        &self.master.url
    }

    /// The agents' ids, in order.
    pub fn agent_ids(&self) -> Vec<AgentId> {
        self.agents
            .iter()
            .map(|a| a.link().info.id.unwrap_or_default())
            .collect()
    }

    /// The prefix of the names of the Docker containers this cluster runs
    /// (`mesos-1a2b3c4d-`; `docker ps --filter name=<prefix>` lists them),
    /// when the cluster made its own Docker containerizer (feature
    /// `docker`, the default); `None` otherwise.
    pub fn docker_name_prefix(&self) -> Option<&str> {
        self.docker_prefix.as_deref()
    }

    /// The work directory (sandboxes under `agents/<n>/`).
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The master's state, as `GET /master/state` returns it.
    pub fn state(&self) -> serde_json::Value {
        self.master.state_json()
    }

    /// Stops agent `index` (0-based) as if its process died: its executor API
    /// goes away, executors keep running and try to reconnect.
    pub async fn stop_agent(&self, index: usize) -> Result<(), Error> {
        self.agent(index)?.stop().await;
        Ok(())
    }

    /// Brings a stopped agent back on the same port.
    pub async fn restart_agent(&self, index: usize) -> Result<(), Error> {
        self.agent(index)?
            .restart()
            .await
            .map_err(|e| Error::io("restarting an agent", e))
    }

    /// Removes agent `index` for good: the master reports it lost.
    pub async fn remove_agent(&self, index: usize) -> Result<(), Error> {
        let agent = self.agent(index)?;
        agent.stop().await;
        agent.kill_all();
        if let Some(id) = agent.link().info.id {
            self.master.remove_agent(&id);
        }
        Ok(())
    }

    /// How many status updates each agent (in order) holds that no
    /// framework has acknowledged yet: sent and awaiting an ACKNOWLEDGE, or
    /// queued behind such an update (the agent resends them until
    /// acknowledged). All zeros once frameworks have acknowledged every
    /// update (what a test checks to know that no update is left
    /// unacknowledged). Updates of frameworks shut down on the agent are
    /// dropped and not counted. The value is published by each agent after
    /// every step of its event loop, so it may lag by one message.
    pub fn unacknowledged_updates(&self) -> Vec<usize> {
        self.agents
            .iter()
            .map(Agent::unacknowledged_updates)
            .collect()
    }

    /// Cuts every scheduler connection (frameworks must resubscribe).
    pub fn kill_master_connections(&self) {
        self.master.kill_connections();
    }

    /// Simulates a master failover (new leader): streams closed, stream ids
    /// invalid, frameworks must resubscribe; tasks survive.
    pub fn fail_over_master(&self) {
        self.master.fail_over();
    }

    /// Allocates now instead of at the next allocation interval.
    pub fn trigger_allocation(&self) {
        self.master.trigger_allocation();
    }

    /// Stops everything (as dropping does).
    pub fn shutdown(self) {
        drop(self);
    }

    fn agent(&self, index: usize) -> Result<&Agent, Error> {
        self.agents.get(index).ok_or(Error::NoSuchAgent {
            index,
            agents: self.agents.len(),
        })
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
        for agent in &self.agents {
            agent.kill_all();
        }
        self.containerizer.destroy_all();
        if let Some(temp) = self._temp.take() {
            crate::agent::sandbox::remove_work_dir(&temp.keep());
        }
    }
}
