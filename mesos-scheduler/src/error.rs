//! Errors of the scheduler crate.

/// What can go wrong when driving a framework.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A call was made while no subscription is active (before SUBSCRIBED,
    /// or while reconnecting). Nothing was sent: retry after the next
    /// `registered`/`reregistered` (or `Subscribed` event).
    #[error("not subscribed to a master (before SUBSCRIBED or while reconnecting)")]
    NotSubscribed,
    /// The driver is not running (not started, stopped or aborted).
    #[error("the driver is not running")]
    NotRunning,
    /// The configuration is unusable.
    #[error("invalid scheduler configuration: {0}")]
    Config(String),
    /// The master answered the call with an error, or could not be reached.
    #[error("{call} call failed")]
    Call {
        /// The call type, e.g. `ACCEPT`.
        call: &'static str,
        /// The transport's error (status, message, cause).
        #[source]
        source: mesos_http::Error,
    },
    /// Subscribing failed for good: the master refused the framework (`400`
    /// with its reason, `401`/`403`), or it sent an ERROR event.
    #[error("subscription refused")]
    Subscribe(#[source] mesos_http::Error),
    /// The master sent an ERROR event (e.g. the framework was removed);
    /// Mesos recommends aborting.
    #[error("the master reported an error: {0}")]
    Master(String),
    /// A [`Scheduler`](crate::Scheduler) callback (or, for `"event loop"`,
    /// the driver itself) panicked; the driver aborted.
    #[error("the {during} panicked: {message}")]
    Panicked {
        /// Where: `"status_update callback"`, ..., or `"event loop"`.
        during: &'static str,
        /// The panic's message.
        message: String,
    },
    /// A `zk://` (or `file://`) master was given, but this build of
    /// `mesos-scheduler` has no ZooKeeper support: enable its `zookeeper`
    /// feature (`mesos-scheduler = { features = ["zookeeper"] }`).
    #[error("{scheme} masters need mesos-scheduler's `zookeeper` feature (add features = [\"zookeeper\"] to the mesos-scheduler dependency)")]
    ZooKeeperDisabled {
        /// `zk://` or `file://`.
        scheme: &'static str,
    },
    /// A `zk://` (or `file://`) master could not be read.
    #[cfg(feature = "zookeeper")]
    #[error(transparent)]
    ZooKeeperUrl(mesos_zookeeper::UrlError),
    /// `start` was called outside a tokio runtime.
    #[error("the driver needs a tokio runtime (start it from within one)")]
    NoRuntime,
}

impl Error {
    /// True when the failure is about the connection, not the call: no
    /// subscription right now ([`Error::NotSubscribed`]), or a call that
    /// failed because the connection broke, the master is unavailable or
    /// failing over, or no longer knows the stream. Such a call may succeed
    /// after the next SUBSCRIBED.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::NotSubscribed => true,
            Error::Call { source, .. } => source.is_retryable() || source.is_subscription_lost(),
            _ => false,
        }
    }

    /// The transport error behind this one, if any.
    pub fn transport(&self) -> Option<&mesos_http::Error> {
        match self {
            Error::Call { source, .. } | Error::Subscribe(source) => Some(source),
            _ => None,
        }
    }
}
