//! Connecting to ZooKeeper with a [`ZkUrl`]'s servers and credentials, and
//! the errors of ZooKeeper operations.

use std::time::Duration;

use zookeeper_client::{Acl, Acls, Client, Permission};

use crate::ZkUrl;

/// Mesos's default ZooKeeper session timeout for masters and detectors.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong talking to ZooKeeper.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZkError {
    /// No session could be established with any server.
    #[error("could not connect to ZooKeeper at {servers}")]
    Connect {
        /// The servers tried (`host:port,...`).
        servers: String,
        /// The client's error.
        #[source]
        source: zookeeper_client::Error,
    },
    /// An operation on `path` failed.
    #[error("ZooKeeper {operation} of {path:?} failed")]
    Operation {
        /// What was done: `create`, `delete`, `list`, ...
        operation: &'static str,
        /// On which znode.
        path: String,
        /// The client's error.
        #[source]
        source: zookeeper_client::Error,
    },
    /// A member payload larger than
    /// [`MAX_PAYLOAD_LEN`](crate::member::MAX_PAYLOAD_LEN) was not written.
    #[error("a member payload of {len} bytes is larger than the {max} allowed", max = crate::member::MAX_PAYLOAD_LEN)]
    PayloadTooLarge {
        /// Its length.
        len: usize,
    },
    /// [`SessionHandle::expire`](crate::SessionHandle::expire) could not
    /// end the session within `waited`.
    #[error("the ZooKeeper session was still alive after {waited:?}")]
    SessionNotExpired {
        /// How long it tried.
        waited: Duration,
    },
    /// A [`MasterContender`](crate::MasterContender)'s loopback relay to
    /// ZooKeeper could not be set up.
    #[error("could not set up the loopback relay to ZooKeeper")]
    Relay {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The call was made outside a tokio runtime (the ZooKeeper session
    /// runs as a task on it).
    #[error("ZooKeeper detection needs a tokio runtime (start it from within one)")]
    NoRuntime,
}

impl ZkError {
    /// The ZooKeeper client's error behind this one, if any.
    pub fn client_error(&self) -> Option<&zookeeper_client::Error> {
        match self {
            ZkError::Connect { source, .. } | ZkError::Operation { source, .. } => Some(source),
            ZkError::PayloadTooLarge { .. }
            | ZkError::Relay { .. }
            | ZkError::SessionNotExpired { .. }
            | ZkError::NoRuntime => None,
        }
    }

    /// True when the session is gone for good (expired, closed, or its
    /// authentication failed): only a new session helps.
    pub fn is_session_lost(&self) -> bool {
        self.client_error().is_some_and(session_lost)
    }

    pub(crate) fn operation<'a>(
        operation: &'static str,
        path: &'a str,
    ) -> impl FnOnce(zookeeper_client::Error) -> ZkError + 'a {
        move |source| ZkError::Operation {
            operation,
            path: path.to_string(),
            source,
        }
    }
}

/// Whether `error` means the session cannot be used any more.
pub(crate) fn session_lost(error: &zookeeper_client::Error) -> bool {
    use zookeeper_client::Error as E;
    matches!(
        error,
        E::SessionExpired | E::ClientClosed | E::AuthFailed | E::SessionMoved
    )
}

/// Opens a ZooKeeper session on `url`'s servers with `session_timeout`,
/// authenticated with its digest credentials if it has any (what the
/// detector and the contender do, for other crates that keep their own data
/// in ZooKeeper). Re-establishing the session when it expires is the
/// caller's.
///
/// # Errors
/// [`ZkError::NoRuntime`] outside a tokio runtime, [`ZkError::Connect`]
/// when no session could be established.
pub async fn connect(url: &ZkUrl, session_timeout: Duration) -> Result<Client, ZkError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(ZkError::NoRuntime);
    }
    open(url, Client::connector(), session_timeout).await
}

/// Takes over the existing `session` on `url`'s servers (a new connection
/// of the same session, with the URL's credentials).
pub(crate) async fn resume(
    url: &ZkUrl,
    session: &zookeeper_client::SessionInfo,
    session_timeout: Duration,
) -> Result<Client, ZkError> {
    let connector = Client::connector().with_session(session.clone());
    open(url, connector, session_timeout).await
}

async fn open(
    url: &ZkUrl,
    connector: zookeeper_client::Connector,
    session_timeout: Duration,
) -> Result<Client, ZkError> {
    let servers = url.connect_string();
    let mut connector = connector.with_session_timeout(session_timeout);
    if let Some(credentials) = url.credentials() {
        connector = connector.with_auth("digest", &credentials.digest_auth());
    }
    connector
        .connect(&servers)
        .await
        .map_err(|source| ZkError::Connect { servers, source })
}

/// The ACL Mesos gives its znodes: open without credentials; with them,
/// everyone reads and only the creator's identity may change them.
pub fn acls(url: &ZkUrl) -> Acls<'static> {
    static EVERYONE_READ_CREATOR_ALL: [Acl; 2] = [
        Acl::new_const(Permission::READ, "world", "anyone"),
        Acl::new_const(Permission::ALL, "auth", ""),
    ];
    if url.credentials().is_some() {
        Acls::new(&EVERYONE_READ_CREATOR_ALL)
    } else {
        Acls::anyone_all()
    }
}

/// Doubling delays between `initial` and `max` for reconnecting.
#[derive(Debug, Clone)]
pub(crate) struct Retry {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Retry {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Retry {
            initial,
            max: max.max(initial),
            next: initial,
        }
    }

    /// The delay before the next attempt (it doubles each time).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        delay
    }

    /// An attempt succeeded: start over from the initial delay.
    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
    }
}
