//! What an agent reports when it re-registers with a newly elected master:
//! its frameworks, executors and their live tasks (as a Mesos agent's
//! `ReregisterSlaveMessage` does).

use mesos_proto::v1::ExecutorId;

use super::{AgentState, Kind};
use crate::protocol::{AgentReport, ReportedFramework, ReportedTask};

impl AgentState {
    /// The frameworks that run something here (not being shut down), with
    /// their executors (custom ones: the master does not account command
    /// executors) and non-terminal tasks.
    pub(super) fn report(&self) -> AgentReport {
        let frameworks = self
            .frameworks
            .values()
            .filter(|framework| !framework.shutting_down)
            .map(|framework| {
                let mut reported = ReportedFramework {
                    info: framework.info.clone(),
                    executors: Vec::new(),
                    tasks: Vec::new(),
                };
                for executor in framework.executors.values() {
                    let command = matches!(executor.kind, Kind::Command { .. });
                    if !command {
                        reported.executors.push(executor.info.clone());
                    }
                    for (task_id, entry) in &executor.tasks {
                        if entry.state.is_terminal() {
                            continue;
                        }
                        let Some(info) = executor.infos.get(task_id) else {
                            continue;
                        };
                        reported.tasks.push(ReportedTask {
                            info: mesos_proto::v1::TaskInfo::clone(info),
                            state: entry.state,
                            executor_id: (!command).then(|| ExecutorId {
                                value: executor.info.executor_id.value.clone(),
                            }),
                        });
                    }
                }
                reported
            })
            .filter(|f| !f.tasks.is_empty() || !f.executors.is_empty())
            .collect();
        AgentReport {
            agent_id: self.id.agent_id.clone(),
            frameworks,
            stopped: self.stopped,
        }
    }
}
