//! The masters of a [`LocalCluster`](crate::LocalCluster): one (the
//! default, always leading), or several of which one leads at a time —
//! elected through ZooKeeper when the cluster is given a `zk://` URL, else
//! by the cluster itself (the live master with the lowest index leads).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesos_zookeeper::{DetectorOptions, ZkUrl};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::master::leadership::zookeeper::CandidacySession;
use crate::master::leadership::Leadership;
use crate::master::{route_agent_messages, AgentRoute, Master, MasterConfig};
use crate::protocol::{AgentLink, FromAgent};
use crate::Error;

/// How long [`Masters::expire_session`] waits for the master to notice
/// that its session is gone.
const LOSS_NOTICED_WITHIN: Duration = Duration::from_secs(30);

/// The most masters a cluster runs.
pub const MAX_MASTERS: usize = 16;

/// How long [`LocalCluster::start`](crate::LocalClusterBuilder::start)
/// waits for ZooKeeper to elect the first leader.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// How the masters are elected.
#[derive(Debug)]
enum Election {
    /// One master, leading from the start (no election).
    Single,
    /// By the cluster: the live master with the lowest index.
    InProcess,
    /// Through ZooKeeper: each master contends with its own session.
    ZooKeeper,
}

/// The cluster's masters.
#[derive(Debug)]
pub(crate) struct Masters {
    masters: Vec<Master>,
    tokens: Vec<CancellationToken>,
    election: Election,
    /// Each master's ZooKeeper candidacy session (none without ZooKeeper).
    sessions: Vec<CandidacySession>,
    /// Serialises the in-process elections of concurrent `kill`s.
    elect: Mutex<()>,
}

impl Masters {
    /// Starts `count` masters (ports `port`, `port + 1`, ... when `port`
    /// is not 0); with `zookeeper`, they contend there, and this returns
    /// once one leads.
    pub(crate) async fn start(
        config: MasterConfig,
        count: usize,
        zookeeper: Option<(ZkUrl, DetectorOptions)>,
        agents: Vec<AgentLink>,
        from_agents: mpsc::UnboundedReceiver<FromAgent>,
        shutdown: &CancellationToken,
    ) -> Result<Masters, Error> {
        if count == 1 && zookeeper.is_none() {
            let token = shutdown.child_token();
            let master = Master::start(config, agents, from_agents, token.clone())
                .await
                .map_err(|e| Error::io("starting the master", e))?;
            return Ok(Masters {
                masters: vec![master],
                tokens: vec![token],
                election: Election::Single,
                sessions: Vec::new(),
                elect: Mutex::new(()),
            });
        }
        let route: AgentRoute = Arc::new(Mutex::new(None));
        route_agent_messages(from_agents, Arc::clone(&route), shutdown.child_token());
        let mut masters = Vec::with_capacity(count);
        let mut tokens = Vec::with_capacity(count);
        for index in 0..count {
            let mut config = config.clone();
            if index > 0 {
                config.master_id = uuid::Uuid::new_v4().to_string();
            }
            if config.port != 0 {
                config.port = u16::try_from(index)
                    .ok()
                    .and_then(|i| config.port.checked_add(i))
                    .ok_or_else(|| Error::InvalidConfig {
                        setting: "port",
                        reason: format!("port {} + {index} is past 65535", config.port),
                    })?;
            }
            let token = shutdown.child_token();
            let master =
                Master::start_standby(config, agents.clone(), Arc::clone(&route), token.clone())
                    .await
                    .map_err(|e| Error::io("starting a master", e))?;
            masters.push(master);
            tokens.push(token);
        }
        let masters = match zookeeper {
            None => {
                let masters = Masters {
                    masters,
                    tokens,
                    election: Election::InProcess,
                    sessions: Vec::new(),
                    elect: Mutex::new(()),
                };
                masters.elect();
                masters.wait_for_leader(ELECTION_TIMEOUT).await?;
                masters
            }
            Some((url, options)) => {
                // One after the other: the first master's znode gets the
                // lowest sequence number, so it leads first.
                let mut sessions = Vec::with_capacity(masters.len());
                for master in &masters {
                    let session = master
                        .contend(url.clone(), options.clone())
                        .await
                        .map_err(Error::ZooKeeper)?;
                    sessions.push(session);
                }
                let masters = Masters {
                    masters,
                    tokens,
                    election: Election::ZooKeeper,
                    sessions,
                    elect: Mutex::new(()),
                };
                masters.wait_for_leader(ELECTION_TIMEOUT).await?;
                masters
            }
        };
        Ok(masters)
    }

    /// In-process election: the live master with the lowest index leads;
    /// the others follow it. The new leader learns it first.
    fn elect(&self) {
        let _guard = self
            .elect
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(leader) = self.masters.iter().find(|m| !m.is_stopped()) else {
            return;
        };
        leader.set_leadership(Leadership::Leading);
        let endpoint = leader.addr.to_string();
        for master in self.masters.iter().filter(|m| !m.is_stopped()) {
            if !std::ptr::eq(master, leader) {
                master.set_leadership(Leadership::Following(Some(endpoint.clone())));
            }
        }
    }

    /// Waits (bounded) until a live master leads, its agents have
    /// re-registered with it, and every other live master knows it
    /// (follows it).
    pub(crate) async fn wait_for_leader(&self, timeout: Duration) -> Result<usize, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(index) = self.leader_index() {
                let leader = Leadership::Following(Some(self.masters[index].addr.to_string()));
                let agreed = self.masters[index].is_recovered()
                    && self
                        .masters
                        .iter()
                        .enumerate()
                        .all(|(i, m)| i == index || m.is_stopped() || m.leadership() == leader);
                if agreed {
                    return Ok(index);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NoLeader { waited: timeout });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The index of the live master that leads, if one does.
    pub(crate) fn leader_index(&self) -> Option<usize> {
        self.masters
            .iter()
            .position(|m| !m.is_stopped() && m.leadership().is_leading())
    }

    /// The leader, or while none leads, the first live master (or the
    /// first master when all are stopped).
    pub(crate) fn current(&self) -> &Master {
        self.leader_index()
            .or_else(|| self.masters.iter().position(|m| !m.is_stopped()))
            .and_then(|i| self.masters.get(i))
            .unwrap_or(&self.masters[0])
    }

    /// Every master, in order (stopped ones included).
    pub(crate) fn all(&self) -> &[Master] {
        &self.masters
    }

    /// Stops master `index` (see [`Master::kill`]); another is elected.
    pub(crate) fn kill(&self, index: usize) -> Result<(), Error> {
        let master = self.masters.get(index).ok_or(Error::NoSuchMaster {
            index,
            masters: self.masters.len(),
        })?;
        master.kill();
        if let Some(token) = self.tokens.get(index) {
            token.cancel();
        }
        match self.election {
            Election::InProcess => self.elect(),
            // The others' detectors see its znode go away.
            Election::ZooKeeper | Election::Single => {}
        }
        Ok(())
    }

    /// Ends master `index`'s ZooKeeper session as an expiry would (see
    /// [`LocalCluster::expire_master_session`](crate::LocalCluster::expire_master_session)).
    pub(crate) async fn expire_session(&self, index: usize) -> Result<(), Error> {
        if index >= self.masters.len() {
            return Err(Error::NoSuchMaster {
                index,
                masters: self.masters.len(),
            });
        }
        let session = self.sessions.get(index).and_then(|session| {
            session
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone()
        });
        let Some(session) = session else {
            return Err(Error::NoZooKeeperSession { index });
        };
        session.expire().await.map_err(Error::ZooKeeper)?;
        // ZooKeeper refuses the session now; the master learns it when its
        // client next hears from ZooKeeper (at once, as the takeover closed
        // its connection). Return once it has: a leader has stopped
        // leading, a follower is contending again.
        let deadline = tokio::time::Instant::now() + LOSS_NOTICED_WITHIN;
        while self.sessions[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .is_some_and(|current| current.session_id() == session.session_id())
        {
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::SessionLossUnnoticed {
                    index,
                    waited: LOSS_NOTICED_WITHIN,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }
}
