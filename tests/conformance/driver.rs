//! Scenario 9: the `SchedulerDriver` + `Scheduler` trait path: launch one
//! command task on the first offer, decline the rest, record updates
//! (implicitly acknowledged), stop on TASK_FINISHED.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use mesos_proto::builders::filters;
use mesos_proto::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskState, TaskStatus};
use mesos_scheduler::{Scheduler, SchedulerDriver, Status};

use crate::harness::{command_task, fits_task, Target, SHORT_REFUSE};

crate::conformance!(driver_runs_a_task_and_stops);

#[derive(Debug, Default)]
struct Record {
    registered: Option<FrameworkId>,
    launched: bool,
    states: Vec<TaskState>,
    stopped_with: Option<Status>,
    errors: Vec<String>,
}

struct OneTask {
    target: Target,
    record: Arc<Mutex<Record>>,
}

#[async_trait]
impl Scheduler for OneTask {
    async fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: Option<&MasterInfo>) {
        self.record.lock().unwrap().registered = Some(id.clone());
    }

    async fn resource_offers(&mut self, driver: &SchedulerDriver, mut offers: Vec<Offer>) {
        let launched = self.record.lock().unwrap().launched;
        if !launched {
            if let Some(index) = offers.iter().position(fits_task) {
                let offer = offers.remove(index);
                let task_id = self.target.task_id("echo");
                let task = command_task("echo", &task_id, &offer, "echo hello");
                driver
                    .launch_tasks(
                        vec![offer.id.clone()],
                        vec![task],
                        Some(filters(SHORT_REFUSE)),
                    )
                    .await
                    .expect("LAUNCH accepted");
                self.record.lock().unwrap().launched = true;
            }
        }
        if !offers.is_empty() {
            let ids = offers.into_iter().map(|o| o.id).collect();
            driver
                .decline_offers(ids, Some(filters(SHORT_REFUSE)))
                .await
                .expect("DECLINE accepted");
        }
    }

    async fn status_update(&mut self, driver: &SchedulerDriver, status: TaskStatus) {
        let state = status.state();
        self.record.lock().unwrap().states.push(state);
        if state.is_terminal() {
            let stopped = driver.stop(false).await;
            self.record.lock().unwrap().stopped_with = Some(stopped);
        }
    }

    async fn error(&mut self, _: &SchedulerDriver, message: String) {
        self.record.lock().unwrap().errors.push(message);
    }
}

async fn driver_runs_a_task_and_stops(target: Target) {
    let record = Arc::new(Mutex::new(Record::default()));
    let framework = FrameworkInfo::builder("root", target.framework_name(""))
        .build()
        .expect("framework");
    let config = target.config(framework);
    let scheduler = OneTask {
        target: target.clone(),
        record: record.clone(),
    };
    let driver = SchedulerDriver::new(scheduler, config).expect("driver");
    assert_eq!(driver.status(), Status::DriverNotStarted);
    let status = tokio::time::timeout(Duration::from_secs(40), driver.run())
        .await
        .expect("the driver stops within 40 s");
    assert_eq!(status, Status::DriverStopped);
    assert_eq!(driver.status(), Status::DriverStopped);

    let record = record.lock().unwrap();
    assert!(
        record
            .registered
            .as_ref()
            .is_some_and(|id| !id.value.is_empty()),
        "{record:?}"
    );
    assert!(record.launched, "{record:?}");
    assert!(record.errors.is_empty(), "{record:?}");
    assert_eq!(
        record.stopped_with,
        Some(Status::DriverStopped),
        "{record:?}"
    );
    assert_eq!(
        record.states.last(),
        Some(&TaskState::TaskFinished),
        "{record:?}"
    );
    assert!(
        record.states.contains(&TaskState::TaskRunning),
        "{record:?}"
    );
}
