//! What an agent was asked to run: how many times the master sent it each
//! task (RUN_TASK, or a task of RUN_TASK_GROUP), by framework and task id.
//! An observation for tests ([`LocalCluster::task_launches`]): a task that
//! a failover made the master launch again shows up here as 2.
//!
//! [`LocalCluster::task_launches`]: crate::LocalCluster::task_launches

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use mesos_proto::v1::{FrameworkInfo, TaskInfo};

/// The most distinct tasks one agent records; launches of further task ids
/// are not counted (a warning is logged once). Ids already recorded keep
/// being counted.
pub const MAX_RECORDED_LAUNCHES: usize = 100_000;

/// The launch counts of one agent, shared between its state task (which
/// records) and the cluster (which reads).
#[derive(Debug, Default)]
pub(crate) struct LaunchLog {
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    /// framework id → task id → launches (a framework's id kept once, not
    /// once a task: the log lives as long as the agent).
    by_framework: HashMap<String, HashMap<String, u32>>,
    /// Distinct tasks recorded, of all frameworks.
    tasks: usize,
    /// Whether a task went unrecorded because of the bound.
    full: bool,
}

impl LaunchLog {
    /// Counts one launch of each of `tasks` of `framework`.
    pub(crate) fn record<'a>(
        &self,
        framework: &FrameworkInfo,
        tasks: impl IntoIterator<Item = &'a TaskInfo>,
    ) {
        let framework_id = framework.id.as_ref().map(|id| id.value.as_str());
        for task in tasks {
            self.record_one(framework_id.unwrap_or_default(), &task.task_id.value);
        }
    }

    fn record_one(&self, framework_id: &str, task_id: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let counts = &mut *counts;
        let recorded = counts
            .by_framework
            .get_mut(framework_id)
            .and_then(|tasks| tasks.get_mut(task_id));
        if let Some(count) = recorded {
            *count = count.saturating_add(1);
        } else if counts.tasks < MAX_RECORDED_LAUNCHES {
            counts.tasks += 1;
            counts
                .by_framework
                .entry(framework_id.to_string())
                .or_default()
                .insert(task_id.to_string(), 1);
        } else if !counts.full {
            counts.full = true;
            tracing::warn!(
                limit = MAX_RECORDED_LAUNCHES,
                "launch record full: launches of further tasks are not counted"
            );
        }
    }

    /// Adds this agent's counts to `into`.
    pub(crate) fn add_to(&self, into: &mut BTreeMap<(String, String), usize>) {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (framework_id, tasks) in &counts.by_framework {
            for (task_id, &count) in tasks {
                *into
                    .entry((framework_id.clone(), task_id.clone()))
                    .or_default() += count as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_launch_and_stops_adding_tasks_at_the_bound() {
        let log = LaunchLog::default();
        log.record_one("f", "a");
        log.record_one("f", "a");
        log.record_one("g", "a");
        let mut all = BTreeMap::new();
        log.add_to(&mut all);
        log.add_to(&mut all);
        assert_eq!(all.get(&("f".into(), "a".into())), Some(&4));
        assert_eq!(all.get(&("g".into(), "a".into())), Some(&2));

        for i in 0..MAX_RECORDED_LAUNCHES + 5 {
            log.record_one("h", &i.to_string());
        }
        log.record_one("f", "a");
        let mut all = BTreeMap::new();
        log.add_to(&mut all);
        assert_eq!(all.len(), MAX_RECORDED_LAUNCHES);
        assert_eq!(all.get(&("f".into(), "a".into())), Some(&3));
    }
}
