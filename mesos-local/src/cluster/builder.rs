//! [`LocalClusterBuilder`]: the settings of a [`LocalCluster`], their
//! bounds and defaults, and [`start`](LocalClusterBuilder::start).

use super::masters::{Masters, MAX_MASTERS};
use crate::agent::{Agent, AgentConfig};
use crate::auth::Credentials;
#[cfg(not(feature = "docker"))]
use crate::containerizer::default_containerizer;
use crate::containerizer::Containerizer;
use crate::master::MasterConfig;
use crate::queue::DEFAULT_MAX_QUEUED_EVENTS;
use crate::Error;
use crate::FetcherConfig;
use mesos_http::server::ServerLimits;
use mesos_proto::resources::Resources;
use mesos_proto::v1::{AgentId, Attribute};
use mesos_zookeeper::{DetectorOptions, ZkUrl};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::LocalCluster;

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
    masters: usize,
    zookeeper: Option<ZkUrl>,
    zookeeper_options: DetectorOptions,
    resources: Option<Resources>,
    resources_text: String,
    attributes: Vec<Attribute>,
    agent_attributes: std::collections::BTreeMap<usize, Vec<Attribute>>,
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
    fetcher: FetcherConfig,
    #[cfg(feature = "tls")]
    tls: Option<crate::ClusterTls>,
}

impl std::fmt::Debug for LocalClusterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalClusterBuilder")
            .field("agents", &self.agents)
            .field("masters", &self.masters)
            .field("zookeeper", &self.zookeeper)
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
            masters: 1,
            zookeeper: None,
            zookeeper_options: DetectorOptions::default(),
            resources: None,
            resources_text: DEFAULT_AGENT_RESOURCES.to_string(),
            attributes: Vec::new(),
            agent_attributes: std::collections::BTreeMap::new(),
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
            fetcher: FetcherConfig::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl LocalClusterBuilder {
    /// Number of agents. Default: 1.
    pub fn agents(mut self, n: usize) -> Self {
        self.agents = n;
        self
    }

    /// Number of masters, at most [`MAX_MASTERS`]. Default: 1. With more
    /// than one, exactly one leads at a time: elected through ZooKeeper
    /// with [`zookeeper`](Self::zookeeper), else by the cluster (the live
    /// master with the lowest index). The others answer the scheduler API
    /// and `/master/state` with `307 Temporary Redirect` to the leader
    /// (`503 No leader elected` while none is known), as Mesos masters do.
    /// A master that is elected has the agents register with it.
    pub fn masters(mut self, n: usize) -> Self {
        self.masters = n;
        self
    }

    /// Masters contend for leadership through ZooKeeper at `url`, writing
    /// the znodes a Mesos 1.11 master writes (so a scheduler given the same
    /// `zk://` URL finds the leader); also with a single master. Default:
    /// none.
    pub fn zookeeper(mut self, url: ZkUrl) -> Self {
        self.zookeeper = Some(url);
        self
    }

    /// The masters' ZooKeeper session timeout and retry delays. Default:
    /// [`DetectorOptions::default`] (Mesos's 10 s session timeout).
    pub fn zookeeper_options(mut self, options: DetectorOptions) -> Self {
        self.zookeeper_options = options;
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

    /// More attributes for the agent of index `index` (0-based: its id
    /// ends in `-S<index>`), after the common [`attributes`](Self::attributes)
    /// — racks or zones that differ from agent to agent, for placement
    /// constraints. Given twice for one agent, the second replaces the
    /// first. `start` refuses an index past the last agent. Default: none.
    ///
    /// ```
    /// use mesos_local::LocalCluster;
    /// use mesos_proto::v1::{value, Attribute};
    ///
    /// let rack = |name: &str| Attribute {
    ///     name: "rack".into(),
    ///     r#type: value::Type::Text as i32,
    ///     text: Some(value::Text { value: name.into() }),
    ///     ..Default::default()
    /// };
    /// let builder = LocalCluster::builder()
    ///     .agents(2)
    ///     .agent_attributes(0, vec![rack("r1")])
    ///     .agent_attributes(1, vec![rack("r2")]);
    /// # let _ = builder;
    /// ```
    pub fn agent_attributes(mut self, index: usize, attributes: Vec<Attribute>) -> Self {
        self.agent_attributes.insert(index, attributes);
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

    /// The master's port; with several masters, master `i` listens on
    /// `port + i`. Default: 0 (ephemeral ports).
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

    /// The agents' fetcher settings (`CommandInfo.uris`): cache size,
    /// download limits, stall timeout. Default: [`FetcherConfig::default`],
    /// Mesos's defaults.
    pub fn fetcher(mut self, config: FetcherConfig) -> Self {
        self.fetcher = config;
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

    /// Serves `https://` (master and agents) with these certificates;
    /// executors get the matching `LIBPROCESS_SSL_*` variables. Default:
    /// plain `http://`.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::ClusterTls) -> Self {
        self.tls = Some(tls);
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
        if let Some((setting, reason)) = self.fetcher.invalid(MAX_TIMEOUT) {
            return invalid(setting, reason);
        }
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
        if let Some(index) = self.agent_attributes.keys().find(|i| **i >= self.agents) {
            return invalid(
                "agent_attributes",
                format!(
                    "agent index {index} is past the last agent ({} agents)",
                    self.agents
                ),
            );
        }
        if !(1..=MAX_MASTERS).contains(&self.masters) {
            return invalid(
                "masters",
                format!("{} is not between 1 and {MAX_MASTERS}", self.masters),
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
        #[cfg(feature = "tls")]
        let tls = match &self.tls {
            Some(tls) => Some(crate::agent::AgentTls {
                server: tls.server.clone(),
                executor_env: tls
                    .executor_environment(&work_dir.join("tls"))
                    .map_err(|e| Error::io("writing the TLS files", e))?,
            }),
            None => None,
        };
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
                attributes: self
                    .attributes
                    .iter()
                    .chain(
                        self.agent_attributes
                            .get(&(index - 1))
                            .into_iter()
                            .flatten(),
                    )
                    .cloned()
                    .collect(),
                work_dir: work_dir.join("agents").join(index.to_string()),
                containerizer: containerizer.clone(),
                status_update_retry: self.status_update_retry,
                executor_shutdown_grace: self.executor_shutdown_grace,
                limits: self.limits.clone(),
                max_queued_events: self.max_queued_events,
                max_pending_updates: crate::agent::MAX_PENDING_UPDATES,
                authenticate_executors: self.authenticate_http_executors,
                operator_credentials: self.framework_credentials.clone(),
                fetcher: self.fetcher.clone(),
                #[cfg(feature = "tls")]
                tls: tls.clone(),
            };
            let agent = Agent::start(config, to_master.clone(), shutdown.child_token())
                .await
                .map_err(|e| Error::io("starting an agent", e))?;
            agents.push(agent);
        }
        let masters = Masters::start(
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
                #[cfg(feature = "tls")]
                tls: self.tls.as_ref().map(|tls| tls.server.clone()),
            },
            self.masters,
            self.zookeeper.map(|url| (url, self.zookeeper_options)),
            agents.iter().map(Agent::link).collect(),
            from_agents,
            &shutdown,
        )
        .await?;
        tracing::info!(
            url = %masters.current().url,
            masters = masters.all().len(),
            agents = agents.len(),
            "mesos-local cluster up"
        );
        Ok(LocalCluster {
            masters,
            agents,
            containerizer,
            docker_prefix,
            work_dir,
            _temp: temp,
            shutdown,
        })
    }
}
