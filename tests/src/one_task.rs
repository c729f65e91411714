//! [`OneTask`]: a scheduler that launches one task on a given executor.

use std::time::Duration;

use async_trait::async_trait;
use mesos_proto::builders::filters;
use mesos_proto::v1::{ExecutorInfo, Offer, TaskInfo, TaskStatus};
use mesos_scheduler::{Scheduler, SchedulerDriver};
use tokio::sync::mpsc;

/// Launches one task (`task_id`, 0.1 cpus, 32 MB) on `executor` from the
/// first offer, declines every other offer, and sends every status update
/// to `updates`. With no executor it only declines.
#[derive(Debug)]
pub struct OneTask {
    /// The executor of the task; taken by the launch.
    pub executor: Option<ExecutorInfo>,
    /// The task's id (and name).
    pub task_id: &'static str,
    /// Where the updates go.
    pub updates: mpsc::UnboundedSender<TaskStatus>,
}

#[async_trait]
impl Scheduler for OneTask {
    async fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            let Some(executor) = self.executor.take() else {
                let _ = driver.decline_offer(offer.id, None).await;
                continue;
            };
            let task = TaskInfo::builder(self.task_id, self.task_id)
                .agent_id(&offer.agent_id)
                .cpus(0.1)
                .mem(32.0)
                .executor(executor)
                .build()
                .expect("a valid task");
            driver
                .launch_tasks(vec![offer.id], vec![task], Some(filters(Duration::ZERO)))
                .await
                .expect("ACCEPT");
        }
    }

    async fn status_update(&mut self, _: &SchedulerDriver, status: TaskStatus) {
        let _ = self.updates.send(status);
    }
}
