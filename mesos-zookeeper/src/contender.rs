//! [`MasterContender`]: joins the masters' group the way a Mesos master
//! does, so that detectors (ours and Mesos's own) see it.

use std::fmt;

use mesos_proto::v1::MasterInfo;
use zookeeper_client::{Client, CreateMode};

use crate::gate::{Gate, GateControl};
use crate::member::{master_info_json, Membership, JSON_INFO_LABEL, MAX_PAYLOAD_LEN};
use crate::session::{self, ZkError};
use crate::{DetectorOptions, ZkUrl};

/// A master's candidacy: an ephemeral sequential znode in the group, held by
/// this contender's ZooKeeper session.
///
/// [`contend`](Self::contend) writes exactly what a Mesos 1.11 master writes
/// (`<path>/json.info_<sequence>` with its `MasterInfo` as JSON, created
/// with the group path if missing, ACL open, or everyone-read/creator-all
/// with credentials). The candidate leads while its znode has the lowest
/// sequence number. The znode goes away with [`withdraw`](Self::withdraw),
/// when the contender is dropped (the session is closed), or when its
/// session expires ([`session_lost`](Self::session_lost) tells).
///
/// A master (say, one of `mesos-local`'s) knows it leads when a
/// [`MasterDetector`](crate::MasterDetector) on the same group reports its
/// [`membership`](Self::membership) as the leader's, as a Mesos master does.
pub struct MasterContender {
    client: Client,
    url: ZkUrl,
    membership: Membership,
    /// The relay the client reaches ZooKeeper through (see
    /// [`SessionHandle::expire`]).
    gate: Gate,
}

impl fmt::Debug for MasterContender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterContender")
            .field("url", &self.url)
            .field("membership", &self.membership)
            .finish_non_exhaustive()
    }
}

impl MasterContender {
    /// Joins `url`'s group as the master `info`, as a Mesos master does.
    pub async fn contend(
        url: &ZkUrl,
        info: &MasterInfo,
        options: &DetectorOptions,
    ) -> Result<Self, ZkError> {
        Self::join(url, Some(JSON_INFO_LABEL), &master_info_json(info), options).await
    }

    /// Joins `url`'s group with any `label` and `data` (`<label>_<sequence>`,
    /// or a bare `<sequence>` without a label): what older masters wrote, or
    /// a payload built by hand. `data` is at most
    /// [`MAX_PAYLOAD_LEN`] bytes.
    pub async fn join(
        url: &ZkUrl,
        label: Option<&str>,
        data: &[u8],
        options: &DetectorOptions,
    ) -> Result<Self, ZkError> {
        let prefix = match label {
            Some(label) => format!("{}/{label}_", url.path()),
            None => format!("{}/", url.path()),
        };
        if data.len() > MAX_PAYLOAD_LEN {
            return Err(ZkError::PayloadTooLarge { len: data.len() });
        }
        let (gate, through) = Gate::start(url)
            .await
            .map_err(|source| ZkError::Relay { source })?;
        let client = session::connect(&through, options.session_timeout).await?;
        let acls = session::acls(url);
        client
            .mkdir(url.path(), &CreateMode::Persistent.with_acls(acls))
            .await
            .map_err(ZkError::operation("mkdir", url.path()))?;
        let (_, sequence) = client
            .create(
                &prefix,
                data,
                &CreateMode::EphemeralSequential.with_acls(acls),
            )
            .await
            .map_err(ZkError::operation("create", &prefix))?;
        let name = match label {
            Some(label) => format!("{label}_{sequence}"),
            None => sequence.to_string(),
        };
        let membership = Membership {
            name,
            label: label.map(str::to_string),
            sequence: sequence.into_i64(),
        };
        tracing::info!(group = url.path(), znode = %membership.name, "joined the masters' group");
        Ok(MasterContender {
            client,
            url: url.clone(),
            membership,
            gate,
        })
    }

    /// The candidacy's znode.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// The znode's full path.
    pub fn path(&self) -> String {
        format!("{}/{}", self.url.path(), self.membership.name)
    }

    /// Resolves when the session is gone (expired, closed, authentication
    /// failed): the znode is gone too and the candidacy is lost, as a
    /// Mesos master learns before it exits.
    pub async fn session_lost(&self) {
        let mut states = self.client.state_watcher();
        if states.state().is_terminated() {
            return;
        }
        loop {
            if states.changed().await.is_terminated() {
                return;
            }
        }
    }

    /// A handle on this candidacy's ZooKeeper session, to end it from
    /// elsewhere as ZooKeeper's expiry would (fault injection).
    pub fn session(&self) -> SessionHandle {
        SessionHandle {
            url: self.url.clone(),
            session: self.client.session().clone(),
            timeout: self.client.session_timeout(),
            gate: self.gate.control(),
        }
    }

    /// Deletes the znode and closes the session.
    pub async fn withdraw(self) -> Result<(), ZkError> {
        let path = self.path();
        match self.client.delete(&path, None).await {
            Ok(()) | Err(zookeeper_client::Error::NoNode) => Ok(()),
            Err(e) => Err(ZkError::operation("delete", &path)(e)),
        }
    }
}

/// A [`MasterContender`]'s ZooKeeper session, for tests that make it end
/// the way a real expiry does: [`expire`](Self::expire) takes the session
/// over from another connection and closes it, so that ZooKeeper deletes
/// the candidacy's znode, and the contender's own client learns that its
/// session expired ([`MasterContender::session_lost`] resolves).
///
/// The contender reaches ZooKeeper through a loopback relay of its own; while
/// the session is being ended the relay cuts the contender off, since its
/// client would otherwise reconnect at once and close the takeover's
/// connection before its handshake completes, again and again.
#[derive(Clone)]
pub struct SessionHandle {
    url: ZkUrl,
    session: zookeeper_client::SessionInfo,
    timeout: std::time::Duration,
    gate: GateControl,
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the session's password.
        f.debug_struct("SessionHandle")
            .field("url", &self.url)
            .field("session_id", &self.session.id())
            .finish_non_exhaustive()
    }
}

/// How long one attempt to take a session over may take.
const TAKEOVER_ATTEMPT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a taken-over session may take to close once its client is
/// dropped.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl SessionHandle {
    /// The session's id (as ZooKeeper numbers sessions).
    pub fn session_id(&self) -> i64 {
        self.session.id().0
    }

    /// Ends the session: returns once ZooKeeper refuses it as expired
    /// (within about two session timeouts, else the last error). The
    /// contender is cut off from ZooKeeper meanwhile and reconnects after:
    /// it is then told that its session expired.
    pub async fn expire(&self) -> Result<(), ZkError> {
        let _cut_off = self.gate.close();
        let deadline = tokio::time::Instant::now() + self.timeout * 2;
        loop {
            let attempt = tokio::time::timeout(
                TAKEOVER_ATTEMPT,
                session::resume(&self.url, &self.session, self.timeout),
            )
            .await;
            let last_error = match attempt {
                // Taken over: dropping the client closes the session; the
                // next attempt finds it expired.
                Ok(Ok(client)) => {
                    let mut states = client.state_watcher();
                    drop(client);
                    let closed = async { while !states.changed().await.is_terminated() {} };
                    let _ = tokio::time::timeout(CLOSE_WAIT, closed).await;
                    None
                }
                Ok(Err(ZkError::Connect {
                    source: zookeeper_client::Error::SessionExpired,
                    ..
                })) => return Ok(()),
                Ok(Err(e)) => {
                    // Not a busy loop when the error comes back at once.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    Some(e)
                }
                Err(_elapsed) => None,
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(last_error.unwrap_or(ZkError::SessionNotExpired {
                    waited: self.timeout * 2,
                }));
            }
        }
    }
}
