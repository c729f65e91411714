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
}

impl Error {
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> Self {
        Error::Io { what, source }
    }
}
