//! What an agent reports when it re-registers with a newly elected master:
//! its frameworks, executors and their live tasks (as a Mesos agent's
//! `ReregisterSlaveMessage` does).

use mesos_proto::v1::{ExecutorId, FrameworkInfo};

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
                    info: FrameworkInfo::clone(&framework.info),
                    executors: Vec::new(),
                    tasks: Vec::new(),
                };
                let framework_id = framework
                    .info
                    .id
                    .as_ref()
                    .map_or("", |id| id.value.as_str());
                for executor in framework.executors.values() {
                    let command = matches!(executor.kind, Kind::Command { .. });
                    if !command {
                        reported.executors.push(executor.info(framework_id));
                    }
                    for entry in executor.tasks.values() {
                        if entry.state.is_terminal() {
                            continue;
                        }
                        reported.tasks.push(ReportedTask {
                            info: mesos_proto::v1::TaskInfo::clone(&entry.info),
                            state: entry.state,
                            executor_id: (!command).then(|| ExecutorId {
                                value: executor.id.value.clone(),
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
