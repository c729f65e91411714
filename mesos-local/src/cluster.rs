//! `LocalCluster`: one master (or several, one leading) and N agents in
//! this process, on loopback.

mod builder;
mod masters;
mod observe;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mesos_proto::v1::AgentId;
use tokio_util::sync::CancellationToken;

use crate::agent::Agent;
use crate::containerizer::Containerizer;
pub use crate::queue::DEFAULT_MAX_QUEUED_EVENTS;
use crate::Error;
use masters::Masters;
pub use masters::{ELECTION_TIMEOUT, MAX_MASTERS};

pub use builder::{
    LocalClusterBuilder, DEFAULT_AGENT_RESOURCES, MAX_INTERVAL, MAX_TIMEOUT, MIN_INTERVAL,
    MIN_MAX_QUEUED_EVENTS,
};

/// A master and its agents running in this process (see the [crate docs](crate)).
///
/// Dropping it stops everything: servers close, every process the agents
/// started is killed, every Docker container they started is removed
/// (synchronously, bounded by the Docker containerizer's teardown
/// timeout), and the temporary work directory is removed. Launches still
/// in flight at the drop create nothing more and destroy what they
/// started as soon as the containerizer returns.
pub struct LocalCluster {
    masters: Masters,
    agents: Vec<Agent>,
    containerizer: Arc<dyn Containerizer>,
    docker_prefix: Option<String>,
    work_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster")
            .field("master", &self.masters.current().url)
            .field("agents", &self.agents.len())
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

impl LocalCluster {
    /// A builder with the defaults (one agent, real processes).
    pub fn builder() -> LocalClusterBuilder {
        LocalClusterBuilder::default()
    }

    /// The master's URL, `http://127.0.0.1:<port>`: give it to a scheduler.
    /// With several masters, the first master's (whether or not it leads:
    /// one that does not redirects to the leader; see
    /// [`leader_url`](Self::leader_url)).
    pub fn master_url(&self) -> &str {
        &self.masters.all()[0].url
    }

    /// Every master's URL, in order (killed ones included).
    pub fn master_urls(&self) -> Vec<String> {
        self.masters.all().iter().map(|m| m.url.clone()).collect()
    }

    /// The index (in [`master_urls`](Self::master_urls)) of the master
    /// that leads now; `None` between a leader's death and the next
    /// election.
    pub fn leader_index(&self) -> Option<usize> {
        self.masters.leader_index()
    }

    /// The leading master's URL, if one leads.
    pub fn leader_url(&self) -> Option<String> {
        self.leader_index()
            .map(|i| self.masters.all()[i].url.clone())
    }

    /// Waits until a master leads, the agents have re-registered with it,
    /// and every other live master follows it (at most `timeout`), and returns its index; [`Error::NoLeader`]
    /// after that. `start` returns only once this holds.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<usize, Error> {
        self.masters.wait_for_leader(timeout).await
    }

    /// Stops master `index` as if its process died: its HTTP server closes
    /// (scheduler streams end), it sends nothing more, and its ZooKeeper
    /// candidacy is withdrawn, so another master is elected (at once
    /// without ZooKeeper; with it, once the others' watches fire). The
    /// agents and their executors and tasks keep running.
    pub fn kill_master(&self, index: usize) -> Result<(), Error> {
        self.masters.kill(index)
    }

    /// The agents' ids, in order.
    pub fn agent_ids(&self) -> Vec<AgentId> {
        self.agents
            .iter()
            .map(|a| a.link().info.id.unwrap_or_default())
            .collect()
    }

    /// The prefix of the names of the Docker containers this cluster runs
    /// (`mesos-1a2b3c4d-`; `docker ps --filter name=<prefix>` lists them),
    /// when the cluster made its own Docker containerizer (feature
    /// `docker`, the default); `None` otherwise.
    pub fn docker_name_prefix(&self) -> Option<&str> {
        self.docker_prefix.as_deref()
    }

    /// The work directory (sandboxes under `agents/<n>/`).
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The master's state, as `GET /master/state` returns it (with several
    /// masters, the leader's; while none leads, the first live master's).
    pub fn state(&self) -> serde_json::Value {
        self.masters.current().state_json()
    }

    /// Stops agent `index` (0-based) as if its process died: its executor API
    /// goes away, executors keep running and try to reconnect.
    ///
    /// As a Mesos master does when its link to an agent breaks, the masters
    /// deactivate it: its outstanding offers are rescinded and its resources
    /// are offered to nobody until [`restart_agent`](Self::restart_agent);
    /// its tasks stay.
    pub async fn stop_agent(&self, index: usize) -> Result<(), Error> {
        let agent = self.agent(index)?;
        agent.stop().await;
        self.set_agent_active(agent, false);
        Ok(())
    }

    /// Brings a stopped agent back on the same port (the masters offer its
    /// resources again).
    pub async fn restart_agent(&self, index: usize) -> Result<(), Error> {
        let agent = self.agent(index)?;
        agent
            .restart()
            .await
            .map_err(|e| Error::io("restarting an agent", e))?;
        self.set_agent_active(agent, true);
        Ok(())
    }

    fn set_agent_active(&self, agent: &Agent, active: bool) {
        if let Some(id) = agent.link().info.id {
            for master in self.masters.all() {
                master.set_agent_active(&id, active);
            }
        }
    }

    /// Removes agent `index` for good: the master reports it lost.
    pub async fn remove_agent(&self, index: usize) -> Result<(), Error> {
        let agent = self.agent(index)?;
        agent.stop().await;
        agent.kill_all();
        if let Some(id) = agent.link().info.id {
            for master in self.masters.all() {
                master.remove_agent(&id);
            }
        }
        Ok(())
    }

    /// How many status updates each agent (in order) holds that no
    /// framework has acknowledged yet: sent and awaiting an ACKNOWLEDGE, or
    /// queued behind such an update (the agent resends them until
    /// acknowledged). All zeros once frameworks have acknowledged every
    /// update (what a test checks to know that no update is left
    /// unacknowledged). Updates of frameworks shut down on the agent are
    /// dropped and not counted. The value is published by each agent after
    /// every step of its event loop, so it may lag by one message.
    pub fn unacknowledged_updates(&self) -> Vec<usize> {
        self.agents
            .iter()
            .map(Agent::unacknowledged_updates)
            .collect()
    }

    /// Cuts every scheduler connection (frameworks must resubscribe).
    pub fn kill_master_connections(&self) {
        self.masters.current().kill_connections();
    }

    /// Simulates a master failover (new leader): streams closed, stream ids
    /// invalid, frameworks must resubscribe; tasks survive.
    pub fn fail_over_master(&self) {
        self.masters.current().fail_over();
    }

    /// Allocates now instead of at the next allocation interval.
    pub fn trigger_allocation(&self) {
        self.masters.current().trigger_allocation();
    }

    /// Stops everything (as dropping does).
    pub fn shutdown(self) {
        drop(self);
    }

    fn agent(&self, index: usize) -> Result<&Agent, Error> {
        self.agents.get(index).ok_or(Error::NoSuchAgent {
            index,
            agents: self.agents.len(),
        })
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
        for agent in &self.agents {
            agent.kill_all();
        }
        self.containerizer.destroy_all();
        if let Some(temp) = self._temp.take() {
            crate::agent::sandbox::remove_work_dir(&temp.keep());
        }
    }
}
