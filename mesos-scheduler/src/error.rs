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
}

impl Error {
    /// The transport error behind this one, if any.
    pub fn transport(&self) -> Option<&mesos_http::Error> {
        match self {
            Error::Call { source, .. } | Error::Subscribe(source) => Some(source),
            _ => None,
        }
    }
}
