//! Launches whose ACCEPT fails: the example between a fault-injecting
//! proxy and `mesos-local`.

use std::collections::BTreeSet;
use std::time::Duration;

use mesos_local::LocalCluster;
use mesos_test_support::fault_proxy::{Api, CallFilter, Fault, FaultProxy};

use crate::rack;
use crate::support::{lines, Framework, Observer};

/// The first ACCEPT is answered `503` without reaching the master: its
/// outcome is unknown to the framework, which keeps the intent, asks the
/// master (RECONCILE), hears `TASK_LOST` and replaces the instance under a
/// new task id. The second is answered `400`: certainly not launched, its
/// intent is dropped and the instance placed again under a new id. Neither
/// task id is ever launched again, and the master never hears of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_of_unknown_outcome_is_reconciled_and_a_refused_one_dropped() {
    mesos_test_support::init_tracing();
    let cluster = LocalCluster::builder()
        .agents(3)
        .agent_attributes(0, vec![rack("r1")])
        .agent_attributes(1, vec![rack("r2")])
        .agent_attributes(2, vec![rack("r3")])
        .allocation_interval(Duration::from_millis(100))
        .start()
        .await
        .expect("mesos-local starts");
    let proxy = FaultProxy::start(Api::Scheduler, cluster.master_url())
        .await
        .expect("proxy starts");
    proxy.inject(Fault::FailCalls(CallFilter::Named("ACCEPT"), 1));
    proxy.inject(Fault::RefuseCalls(CallFilter::Named("ACCEPT"), 1, 400));
    let label = "service-faults";
    let mut framework = Framework::new(
        label,
        &proxy.url(),
        &[
            "--name",
            label,
            "--instances",
            "3",
            "--constraint",
            "rack:UNIQUE",
            "--offer-lease",
            "0.5",
            "--revive-interval",
            "0.5",
        ],
    );
    let mut observer = Observer::new(cluster.master_url(), label, Some("rack"), 1, false, 3);
    framework.start(&[]);
    let last = observer
        .until(&mut framework, "three instances running", |s, f| {
            s.running() == 3
                && f.current_lines("status: ")
                    .last()
                    .is_some_and(|l| l.starts_with("running 3 of 3,"))
        })
        .await;

    let stdout = framework.all_stdout();
    let launched: Vec<String> = lines(&stdout, "launching ")
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let unique: BTreeSet<&String> = launched.iter().collect();
    assert_eq!(
        unique.len(),
        launched.len(),
        "a task id launched twice: {launched:?}"
    );
    assert_eq!(
        launched.len(),
        5,
        "three instances and two replacements: {stdout}"
    );

    // The 503'd launch: reconciled, unknown to the master, replaced.
    let lost: Vec<String> = lines(&stdout, "instance ")
        .into_iter()
        .filter(|l| l.contains(" ended TASK_LOST"))
        .collect();
    assert_eq!(lost.len(), 1, "{stdout}");
    // The 400'd launch: dropped at once.
    let refused = lines(&stdout, "launch of ");
    assert_eq!(refused.len(), 1, "{stdout}");
    assert!(refused[0].contains("refused"), "{refused:?}");
    for line in lost.iter().chain(&refused) {
        let id = line.split_whitespace().next().unwrap_or_default();
        assert!(
            launched.iter().any(|l| l == id),
            "{id} was launched: {launched:?}"
        );
        assert!(
            !observer.seen.contains_key(id),
            "the master never heard of {id}"
        );
    }

    // The master saw exactly the three that run, one per rack.
    let running: BTreeSet<&String> = last.live().map(|(id, _)| id).collect();
    let ever: BTreeSet<&String> = observer.seen.keys().collect();
    assert_eq!(ever, running, "{:?}", observer.seen);
    assert_eq!(last.per_place().len(), 3, "{last:?}");
    assert!(observer.violations.is_empty(), "{:#?}", observer.violations);
}
