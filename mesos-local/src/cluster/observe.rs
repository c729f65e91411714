//! For tests: what the cluster's agents saw (to check a run's invariants),
//! and ZooKeeper session expiry of a master (a fault beyond killing it).

use std::collections::BTreeMap;

use super::LocalCluster;
use crate::Error;

impl LocalCluster {
    /// How many times the agents were asked to launch each task, keyed by
    /// (framework id, task id) and summed over the agents: every RUN_TASK
    /// (a LAUNCH accepted by the master) and every task of a RUN_TASK_GROUP
    /// (LAUNCH_GROUP) an agent received from a master, whether or not the
    /// launch then succeeded. A task launched once is 1 however many
    /// master failovers it lived through (the agents report it to a new
    /// leader; that is no launch); a task the masters sent twice, to one
    /// agent or two, is 2. Each agent records at most
    /// [`MAX_RECORDED_LAUNCHES`](crate::MAX_RECORDED_LAUNCHES) distinct
    /// tasks (further ones go uncounted, with a warning logged).
    pub fn task_launches(&self) -> BTreeMap<(String, String), usize> {
        let mut launches = BTreeMap::new();
        for agent in &self.agents {
            agent.task_launches(&mut launches);
        }
        launches
    }

    /// Ends master `index`'s ZooKeeper session as an expiry does (another
    /// connection takes the session over and closes it: ZooKeeper deletes
    /// the master's znode and its client learns the session expired);
    /// returns once ZooKeeper refuses the session and the master noticed. A leading master then
    /// stops (another is elected), as a Mesos master does; a following
    /// master contends again with a new session, its new znode last in
    /// line. [`Error::NoZooKeeperSession`] when the masters do not contend
    /// through ZooKeeper or the master holds no session now (stopped, or
    /// between sessions).
    pub async fn expire_master_session(&self, index: usize) -> Result<(), Error> {
        self.masters.expire_session(index).await
    }
}
