//! The crate's error type.

use std::time::Duration;

use crate::env::EnvError;

/// Everything that can go wrong in the executor driver. Messages name the
/// operation; the transport error is kept as the `source`. No variant ever
/// carries the authentication token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The environment the agent set is missing variables or has malformed
    /// ones (every problem is listed).
    #[error(transparent)]
    Environment(#[from] EnvError),
    /// An explicitly configured agent URL is not a valid `http(s)://` URL.
    #[error("invalid agent URL")]
    InvalidUrl(#[source] mesos_http::Error),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client")]
    Client(#[source] mesos_http::Error),
    /// SUBSCRIBE to the agent failed (the last attempt's error).
    #[error("SUBSCRIBE to the agent's executor API failed")]
    Subscribe(#[source] mesos_http::Error),
    /// The agent ended the event stream before sending SUBSCRIBED.
    #[error("{endpoint} closed the event stream before SUBSCRIBED")]
    ClosedBeforeSubscribed {
        /// The URL that answered.
        endpoint: String,
    },
    /// The endpoint answered SUBSCRIBE with a stream that is not the agent's
    /// executor API (for example the master's operator API, reached through
    /// an un-prefixed `/api/v1/executor` on a `mesos-local` port).
    #[error("{endpoint} is not an agent's executor API: {reason}")]
    WrongStream {
        /// The URL that answered.
        endpoint: String,
        /// What was wrong with the first event.
        reason: String,
    },
    /// The agent could not be reached (again) within the recovery timeout.
    #[error("no subscription to the agent within the recovery timeout of {timeout:?}")]
    RecoveryTimeout {
        /// `MESOS_RECOVERY_TIMEOUT`.
        timeout: Duration,
    },
    /// The agent refused a status update.
    #[error("sending the status update for task {task_id:?} failed")]
    Update {
        /// The update's task.
        task_id: String,
        /// Why.
        #[source]
        source: mesos_http::Error,
    },
    /// A status update the agent would refuse (checked before sending).
    #[error("invalid status update for task {task_id:?}: {reason}")]
    InvalidUpdate {
        /// The update's task.
        task_id: String,
        /// Why.
        reason: &'static str,
    },
    /// The agent refused a framework message, or it could not be sent.
    #[error("sending the framework message failed")]
    Message(#[source] mesos_http::Error),
    /// A framework message cannot be sent while not subscribed (Mesos drops
    /// such calls; we report it instead).
    #[error("not subscribed to the agent: the framework message was not sent")]
    NotSubscribed,
    /// The driver is not running (not started yet, stopped or aborted).
    #[error("the executor driver is not running ({status:?})")]
    NotRunning {
        /// The driver's status.
        status: mesos_proto::v1::Status,
    },
    /// `start` was called outside a tokio runtime.
    #[error("the executor driver must be started inside a tokio runtime")]
    NoRuntime,
    /// An [`Executor`](crate::Executor) callback (or, for `"event loop"`,
    /// the driver itself) panicked; the driver aborted.
    #[error("the {during} panicked: {message}")]
    Panicked {
        /// Where: `"launch_task callback"`, ..., or `"event loop"`.
        during: &'static str,
        /// The panic's message.
        message: String,
    },
}
