//! Errors of the local cluster.

/// Starting or controlling a [`LocalCluster`](crate::LocalCluster) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O step failed (binding a port, creating a directory, ...).
    #[error("{what} failed")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The agent resources could not be parsed.
    #[error("invalid agent resources")]
    Resources(#[source] mesos_proto::resources::ParseError),
    /// The containerizer configuration is invalid (e.g. a Docker name
    /// prefix that does not start with `mesos-`).
    #[error("invalid containerizer configuration")]
    Containerizer(#[source] crate::containerizer::ContainerizerError),
    /// A setting is out of its range (a zero interval, an absurd
    /// timeout, ...). `setting` is the builder method's (and the flag's)
    /// name.
    #[error("invalid {setting}: {reason}")]
    InvalidConfig {
        /// The setting.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP server limits are invalid.
    #[error("invalid server limits")]
    Limits(#[source] mesos_http::server::InvalidLimits),
    /// No agent with that index.
    #[error("no agent {index} (the cluster has {agents})")]
    NoSuchAgent {
        /// The index asked for.
        index: usize,
        /// How many agents there are.
        agents: usize,
    },
    /// No master with that index.
    #[error("no master {index} (the cluster has {masters})")]
    NoSuchMaster {
        /// The index asked for.
        index: usize,
        /// How many masters there are.
        masters: usize,
    },
    /// No master was elected in time.
    #[error("no master was elected within {waited:?}")]
    NoLeader {
        /// How long was waited.
        waited: std::time::Duration,
    },
    /// [`LocalCluster::expire_master_session`](crate::LocalCluster::expire_master_session)
    /// found no session to end: the masters do not contend through
    /// ZooKeeper, or master `index` is stopped or between sessions.
    #[error("master {index} holds no ZooKeeper session")]
    NoZooKeeperSession {
        /// The master asked for.
        index: usize,
    },
    /// A master could not contend through ZooKeeper (or its session could
    /// not be ended).
    #[error("a master's ZooKeeper candidacy failed")]
    ZooKeeper(#[source] mesos_zookeeper::ZkError),
    /// Master `index`'s ZooKeeper session was ended, but the master did not
    /// notice within `waited`.
    #[error("master {index} did not notice the end of its ZooKeeper session within {waited:?}")]
    SessionLossUnnoticed {
        /// The master.
        index: usize,
        /// How long it was given.
        waited: std::time::Duration,
    },
}

impl Error {
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> Self {
        Error::Io { what, source }
    }
}
