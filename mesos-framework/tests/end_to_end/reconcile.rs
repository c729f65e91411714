//! A framework that launched tasks restarts (a new subscription with the
//! same framework id, within the failover timeout) and its reconciler
//! learns every task's state from the master, including task ids the
//! master never knew, reported as the master answers for them.

use std::collections::BTreeMap;
use std::time::Duration;

use mesos_framework::reconcile::{
    Phase, ReconcileEvent, Reconciler, ReconcilerConfig, ReconcilerHandle,
};
use mesos_scheduler::proto::v1::task_status::Reason;
use mesos_scheduler::proto::v1::{AgentId, FrameworkId, TaskId, TaskState};
use mesos_scheduler::{subscribe, SchedulerEvent};
use mesos_test_support::fault_proxy::{EventFilter, Fault, FaultProxy};
use tokio::time::Instant;

use crate::support::{
    config, eventually, framework, next_event, sleeper, OfferPolicy, Pumped, WAIT,
};

/// The tasks a first instance launched: ids and their agent.
pub struct Launched {
    pub framework_id: FrameworkId,
    pub tasks: Vec<TaskId>,
    pub agent_id: AgentId,
}

/// A first instance subscribes, launches `count` sleepers on one offer,
/// acknowledges their updates until all run, then goes away without
/// tearing down (as a crashed scheduler does).
pub async fn launch_then_vanish(
    master: &str,
    name: &str,
    count: usize,
    partition_aware: bool,
) -> Launched {
    let (client, mut events) =
        subscribe(config(master, framework(name, None, partition_aware))).unwrap();
    let deadline = Instant::now() + WAIT;
    let (framework_id, offer) = {
        let mut id = None;
        loop {
            match next_event(&mut events, deadline, "SUBSCRIBED and an offer").await {
                SchedulerEvent::Subscribed { framework_id, .. } => id = Some(framework_id),
                SchedulerEvent::Offers(mut offers) if !offers.is_empty() => {
                    break (id.expect("SUBSCRIBED first"), offers.remove(0));
                }
                _ => {}
            }
        }
    };
    let tasks: Vec<TaskId> = (0..count)
        .map(|i| TaskId::from(format!("{name}-task-{i}")))
        .collect();
    let infos = tasks.iter().map(|t| sleeper(t, &offer)).collect();
    client
        .launch_tasks(vec![offer.id.clone()], infos, None)
        .await
        .expect("the launch is accepted");
    let mut running = 0;
    while running < count {
        if let SchedulerEvent::Update(status) =
            next_event(&mut events, deadline, "TASK_RUNNING of every task").await
        {
            client.acknowledge(&status).await.expect("acknowledged");
            assert!(!status.state().is_terminal(), "{status:?}");
            if status.state() == TaskState::TaskRunning {
                running += 1;
            }
        }
    }
    // Gone without TEARDOWN: the master keeps the framework and its tasks
    // for the failover timeout.
    drop(events);
    Launched {
        framework_id,
        tasks,
        agent_id: offer.agent_id,
    }
}

/// What each scenario checks once the second instance has reconciled.
pub struct Expect {
    /// The state answered for a task id the master never knew, asked with
    /// the agent that runs the others.
    pub ghost_on_agent: TaskState,
    /// ... asked without an agent.
    pub ghost_nowhere: TaskState,
}

/// The master's answers when the framework is (not) partition-aware: as
/// `Master::reconcile` in Mesos 1.11.
pub fn expected(partition_aware: bool) -> Expect {
    if partition_aware {
        Expect {
            ghost_on_agent: TaskState::TaskGone,
            ghost_nowhere: TaskState::TaskUnknown,
        }
    } else {
        Expect {
            ghost_on_agent: TaskState::TaskLost,
            ghost_nowhere: TaskState::TaskLost,
        }
    }
}

/// The scenario against `master`: three tasks launched, the framework
/// restarted, the reconciler tracking the three plus two ghosts. With
/// `drop_one_answer`, calls go through a proxy that drops the first UPDATE
/// of the second instance, so one task must be asked again in a second
/// round; the batch size is 1 there, so every round's call count is the
/// number of tasks it asked.
pub async fn restart_and_reconcile(
    master: &str,
    name: &str,
    partition_aware: bool,
    drop_one_answer: bool,
) {
    let launched = launch_then_vanish(master, name, 3, partition_aware).await;
    let proxy = if drop_one_answer {
        let proxy = FaultProxy::start(mesos_test_support::fault_proxy::Api::Scheduler, master)
            .await
            .expect("proxy starts");
        proxy.inject(Fault::DropEvent(EventFilter::Update));
        Some(proxy)
    } else {
        None
    };
    let url = proxy.as_ref().map_or(master.to_string(), FaultProxy::url);

    // Answers take milliseconds: with a backoff of seconds (three with the
    // fault, so that the test stays short; five without) only a lost answer
    // makes another round, even on a loaded machine.
    let first_wait = Duration::from_secs(if drop_one_answer { 3 } else { 5 });
    let recon_config = ReconcilerConfig::default()
        .batch_size(if drop_one_answer { 1 } else { 2 })
        .backoff(first_wait, Duration::from_secs(10));
    let reconciler = ReconcilerHandle::new(Reconciler::new(recon_config).unwrap());
    for task in &launched.tasks {
        reconciler.track(task.clone(), Some(launched.agent_id.clone()));
    }
    let ghost_on_agent = TaskId::from(format!("{name}-never-launched"));
    let ghost_nowhere = TaskId::from(format!("{name}-nowhere"));
    reconciler.track(ghost_on_agent.clone(), Some(launched.agent_id.clone()));
    reconciler.track(ghost_nowhere.clone(), None);

    let info = framework(name, Some(&launched.framework_id), partition_aware);
    let (client, events) = subscribe(config(&url, info)).unwrap();
    reconciler.start(client.clone()).unwrap();
    let second = Pumped::spawn(
        client,
        events,
        Some(reconciler.clone()),
        None,
        OfferPolicy::Decline(Duration::from_secs(1)),
    );

    let (tasks, rounds) = eventually("the explicit run to complete", WAIT, || {
        second.log().news.iter().find_map(|n| match n {
            ReconcileEvent::Completed { tasks, rounds } => Some((*tasks, *rounds)),
            _ => None,
        })
    })
    .await;
    assert_eq!(tasks, 5, "three tasks and two ghosts asked");
    let subscribed_as: Vec<FrameworkId> = second
        .log()
        .events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::Subscribed { framework_id, .. } => Some(framework_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        subscribed_as,
        vec![launched.framework_id.clone()],
        "failed over, same id"
    );

    // The ghosts: reported, with the state the master gives them.
    let expect = expected(partition_aware);
    let unknown: BTreeMap<String, TaskState> = second
        .log()
        .news
        .iter()
        .filter_map(|n| match n {
            ReconcileEvent::Unknown(s) => Some((s.task_id.value.clone(), s.state())),
            _ => None,
        })
        .collect();
    assert_eq!(
        unknown,
        BTreeMap::from([
            (ghost_on_agent.value.clone(), expect.ghost_on_agent),
            (ghost_nowhere.value.clone(), expect.ghost_nowhere),
        ]),
        "only the ghosts are unknown to the master"
    );
    assert!(
        !reconciler.with(|r| r.is_tracked(&ghost_on_agent)),
        "TASK_LOST and TASK_GONE are terminal: forgotten"
    );
    assert_eq!(
        reconciler.with(|r| r.is_tracked(&ghost_nowhere)),
        expect.ghost_nowhere == TaskState::TaskUnknown,
        "TASK_UNKNOWN stays tracked, TASK_LOST is forgotten"
    );

    if drop_one_answer {
        assert_eq!(
            rounds, 2,
            "the task whose answer was dropped is asked again"
        );
        assert_eq!(
            reconciler.progress().explicit_calls,
            6,
            "5 tasks in round one, only the unanswered one in round two (batch size 1)"
        );
        let records = proxy.as_ref().unwrap().records();
        assert_eq!(records.faults.len(), 1, "{:?}", records.faults);
        let reconciles = records
            .calls
            .iter()
            .filter(|c| c.name == "RECONCILE")
            .count();
        assert!(
            reconciles >= 6,
            "{reconciles} RECONCILE calls reached the master"
        );
    } else {
        assert_eq!(rounds, 1);
    }

    // Implicit reconciliation follows at once: the master answers for the
    // running tasks again, every one of them tracked (no Untracked).
    eventually("implicit answers for the three running tasks", WAIT, || {
        let log = second.log();
        let answered_twice = launched.tasks.iter().all(|task| {
            log.events
                .iter()
                .filter(|e| {
                    matches!(e, SchedulerEvent::Update(s) if &s.task_id == task
                    && s.state() == TaskState::TaskRunning
                    && s.reason == Some(Reason::Reconciliation as i32))
                })
                .count()
                >= 2
        });
        (answered_twice && reconciler.progress().implicit_calls >= 1).then_some(())
    })
    .await;
    let progress = reconciler.progress();
    assert_eq!(progress.phase, Phase::Implicit);
    assert_eq!(progress.tracked, if partition_aware { 4 } else { 3 });
    assert!(
        !second
            .log()
            .news
            .iter()
            .any(|n| matches!(n, ReconcileEvent::Untracked(_))),
        "every task the master runs is tracked"
    );
    // Reconciliation answers carry no uuid: nothing to acknowledge.
    assert!(second
        .log()
        .events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::Update(s) if s.reason == Some(Reason::Reconciliation as i32) => Some(s),
            _ => None,
        })
        .all(|s| s.uuid.is_none()));
    second.teardown().await;
}
