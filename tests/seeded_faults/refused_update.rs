//! One fault on demand, end to end: the agent answers an executor's UPDATE
//! with `403 Executor is not subscribed` (as an agent that restarted and
//! does not know the subscription yet). The executor driver must keep the
//! update, subscribe again with it, and the scheduler must receive it.

use std::time::Duration;

use mesos_local::LocalCluster;
use mesos_proto::v1::task_status::Source;
use mesos_proto::v1::TaskState;
use mesos_scheduler::{SchedulerConfig, SchedulerDriver};
use mesos_test_support::fault_proxy::{Api, CallFilter, Fault, FaultProxy};
use mesos_tests::OneTask;
use tokio::sync::mpsc;

use crate::run::agent_pids;
use crate::workload;

/// How long the task may take to report FINISHED.
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_refused_with_403_reaches_the_scheduler_after_the_executor_resubscribes() {
    let cluster = LocalCluster::builder()
        .agents(1)
        .docker(false)
        .allocation_interval(Duration::from_millis(100))
        .status_update_retry(Duration::from_millis(500))
        .start()
        .await
        .expect("the cluster starts");
    let (_, pid) = agent_pids(&cluster).pop().expect("one agent");
    let (name, endpoint) = pid.split_once('@').expect("name@ip:port");
    let proxy = FaultProxy::start(Api::Executor, &format!("http://{endpoint}"))
        .await
        .expect("the executor proxy starts");
    // The executor's first UPDATE (TASK_RUNNING) is refused as unknown.
    proxy.inject(Fault::RefuseCalls(CallFilter::Named("UPDATE"), 1, 403));
    let binary = mesos_test_support::example_binary("test_executor");
    let executor = workload::test_executor(&binary, Some(&format!("{name}@{}", proxy.addr())));

    let (updates_tx, mut updates) = mpsc::unbounded_channel();
    let framework = mesos_proto::v1::FrameworkInfo::builder("root", "refused-update")
        .checkpoint(true)
        .build()
        .expect("a valid framework");
    let config = SchedulerConfig::new([cluster.master_url()], framework).expect("config");
    let scheduler = OneTask {
        task_id: "refused-update",
        executor: Some(executor),
        updates: updates_tx,
    };
    let driver = SchedulerDriver::new(scheduler, config).expect("a driver");
    driver.start();

    let mut states = Vec::new();
    while !states.contains(&TaskState::TaskFinished) {
        let status = tokio::time::timeout(WAIT, updates.recv())
            .await
            .unwrap_or_else(|_| panic!("no TASK_FINISHED within {WAIT:?}; got {states:?}"))
            .expect("driver running");
        if status.source() == Source::Executor {
            states.push(status.state());
        }
    }
    assert!(
        states.contains(&TaskState::TaskRunning),
        "the refused TASK_RUNNING never reached the scheduler: {states:?}"
    );
    let records = proxy.records();
    let refused = records
        .calls
        .iter()
        .filter(|c| c.name == "UPDATE" && c.status == Some(403))
        .count();
    assert_eq!(refused, 1, "{:?}", records.calls);
    assert!(
        records.subscribes.len() >= 2,
        "the executor did not subscribe again: {} SUBSCRIBE(s)",
        records.subscribes.len()
    );
    assert_eq!(
        tokio::time::timeout(WAIT, driver.stop(false))
            .await
            .expect("stop returns"),
        mesos_proto::v1::Status::DriverStopped
    );
}
