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
