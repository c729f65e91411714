//! Command tasks and `test_executor` tasks: spread, acknowledgements,
//! kills, reconciliation and offer filters.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mesos_proto::builders::filters;
use mesos_proto::v1::{task_status, TaskId, TaskState};
use mesos_scheduler::SchedulerEvent;
use tokio::time::Instant;

use super::support::*;

#[tokio::test]
async fn command_tasks_spread_over_agents_and_acknowledged_updates_stop() {
    // Each agent holds three tasks of 0.5 cpus: six tasks need both.
    let cluster =
        start(builder(2).resources_text("cpus:1.5;mem:512;disk:1000;ports:[31000-31100]")).await;
    let mut fw = Fw::subscribe(cluster.master_url(), framework("spread")).await;
    let mut pending: Vec<String> = (0..6).map(|i| format!("spread-{i}")).collect();
    let all = pending.clone();
    while !pending.is_empty() {
        let offer = fw
            .take_offer("room for a 0.5 cpu task", |o| fits(o, 0.5, 64.0))
            .await;
        let room = ((scalar(&offer, "cpus") + 1e-9) / 0.5).floor() as usize;
        let take = room.min(pending.len());
        let tasks = pending
            .drain(..take)
            .map(|id| command_task(&id, &offer, 0.5, 64.0, "sleep 0.2"))
            .collect();
        fw.launch(&offer, tasks).await;
    }
    for task in &all {
        fw.wait_state(task, TaskState::TaskFinished, SOON).await;
    }
    // Every update was acknowledged: nothing is resent.
    fw.assert_quiet(
        STATUS_UPDATE_RETRY * 2 + Duration::from_millis(200),
        "a resent status update",
        |e| matches!(e, SchedulerEvent::Update(_)),
    )
    .await;
    assert_eq!(cluster.unacknowledged_updates(), [0, 0]);
    for task in &all {
        assert_eq!(
            fw.states_of(task),
            [
                TaskState::TaskStarting,
                TaskState::TaskRunning,
                TaskState::TaskFinished
            ],
            "{task}: each update exactly once"
        );
    }

    let state = framework_state(&cluster.state(), &fw.id);
    assert_eq!(state["tasks"].as_array().map(Vec::len), Some(0), "{state}");
    let completed = state["completed_tasks"]
        .as_array()
        .expect("completed tasks");
    let mut per_agent: BTreeMap<String, usize> = BTreeMap::new();
    for task in completed {
        assert_eq!(task["state"], "TASK_FINISHED", "{task}");
        *per_agent
            .entry(task["slave_id"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let agents: BTreeMap<String, usize> = cluster
        .agent_ids()
        .into_iter()
        .map(|a| (a.value, 3))
        .collect();
    assert_eq!(per_agent, agents, "three tasks on each agent");
}

#[tokio::test]
async fn test_executor_tasks_finish_on_two_agents() {
    let executor = test_executor_info("test-executor");
    let cluster = start(builder(2)).await;
    let mut fw = Fw::subscribe(cluster.master_url(), framework("executor")).await;
    let mut tasks = Vec::new();
    for (n, agent) in cluster.agent_ids().iter().enumerate() {
        let offer = fw.take_offer_of(agent).await;
        let ids = [format!("exec-{n}-a"), format!("exec-{n}-b")];
        fw.launch(
            &offer,
            ids.iter()
                .map(|id| executor_task(id, &offer, &executor))
                .collect(),
        )
        .await;
        tasks.extend(ids.into_iter().map(|id| (id, agent.clone())));
    }
    for (task, agent) in &tasks {
        let finished = fw.wait_state(task, TaskState::TaskFinished, SOON).await;
        assert_eq!(finished.agent_id.as_ref(), Some(agent), "{finished:?}");
        assert_eq!(
            fw.states_of(task),
            [TaskState::TaskRunning, TaskState::TaskFinished],
            "{task}"
        );
    }
    let state = framework_state(&cluster.state(), &fw.id);
    let executors: BTreeSet<&str> = state["executors"]
        .as_array()
        .expect("executors")
        .iter()
        .filter_map(|e| e["slave_id"].as_str())
        .collect();
    assert_eq!(executors.len(), 2, "one executor on each agent: {state}");
    assert!(
        !fw.log.iter().any(|e| e.starts_with("Failure")),
        "no executor failed: {:#?}",
        fw.log
    );
}

#[tokio::test]
async fn unacknowledged_updates_are_counted_until_acknowledged() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("unacked")).await;
    fw.acknowledge = false;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "unacked", &offer, TASK_CPUS, TASK_MEM, "exit 0",
        )],
    )
    .await;
    // Only the head of the task's stream is sent (and resent) until it is
    // acknowledged; the others queue behind it.
    let starting = fw
        .wait_state("unacked", TaskState::TaskStarting, SOON)
        .await;
    assert!(
        eventually(SOON, || cluster.unacknowledged_updates() == [3]).await,
        "STARTING, RUNNING and FINISHED unacknowledged: {:?}",
        cluster.unacknowledged_updates()
    );
    fw.acknowledge = true;
    fw.client.acknowledge(&starting).await.expect("ACKNOWLEDGE");
    fw.wait_state("unacked", TaskState::TaskFinished, SOON)
        .await;
    assert!(
        eventually(SOON, || cluster.unacknowledged_updates() == [0]).await,
        "all acknowledged: {:?}",
        cluster.unacknowledged_updates()
    );
}

#[tokio::test]
async fn kill_and_explicit_reconciliation() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("kill")).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "long",
            &offer,
            TASK_CPUS,
            TASK_MEM,
            "sleep 1000",
        )],
    )
    .await;
    let running = fw.wait_state("long", TaskState::TaskRunning, SOON).await;
    let pid = executor_pid(&running);

    let answer = fw.reconcile("long", &agent).await;
    assert_eq!(answer.state(), TaskState::TaskRunning, "{answer:?}");
    assert_eq!(answer.source(), task_status::Source::Master, "{answer:?}");
    assert!(answer.uuid.is_none(), "{answer:?}");

    fw.client
        .kill(TaskId::from("long"), Some(agent.clone()), None)
        .await
        .expect("KILL accepted");
    let killed = fw.wait_state("long", TaskState::TaskKilled, SOON).await;
    assert_eq!(killed.agent_id.as_ref(), Some(&agent), "{killed:?}");
    assert!(
        eventually(Duration::from_secs(5), || process_gone(pid)).await,
        "the killed task's process {pid} is gone"
    );
    // Acknowledged: the master forgets it; reconciliation says so.
    let answer = fw.reconcile("long", &agent).await;
    assert_eq!(answer.state(), TaskState::TaskLost, "{answer:?}");
}

#[tokio::test]
async fn declined_agent_is_not_offered_within_refuse_seconds() {
    const REFUSE: Duration = Duration::from_secs(2);
    let cluster = start(builder(2)).await;
    let ids = cluster.agent_ids();
    let (declined, other) = (ids[0].clone(), ids[1].clone());
    let mut fw = Fw::subscribe(cluster.master_url(), framework("decline")).await;
    let first = fw.take_offer_of(&declined).await;
    let second = fw.take_offer_of(&other).await;
    fw.client
        .decline(vec![first.id.clone()], Some(filters(REFUSE)))
        .await
        .expect("DECLINE accepted");
    let declined_at = Instant::now();
    // The other agent keeps being offered (declined without a filter)...
    fw.client
        .decline(vec![second.id.clone()], Some(filters(Duration::ZERO)))
        .await
        .expect("DECLINE accepted");
    // ...while the declined one comes back only once the filter expires.
    let mut other_offers_while_refused = 0;
    let deadline = declined_at + REFUSE + SOON;
    loop {
        let Some(event) = fw.next_before(deadline).await else {
            panic!(
                "{} not offered again within {:?}",
                declined.value,
                REFUSE + SOON
            );
        };
        let SchedulerEvent::Offers(offers) = event else {
            continue;
        };
        fw.offers.clear();
        let elapsed = declined_at.elapsed();
        if offers.iter().any(|o| o.agent_id == declined) {
            // The filter was installed before `declined_at`: a little slack.
            assert!(
                elapsed >= REFUSE - Duration::from_millis(100),
                "agent offered again {elapsed:?} after a decline refusing it for {REFUSE:?}"
            );
            break;
        }
        if elapsed < REFUSE {
            other_offers_while_refused += 1;
        }
        let ids = offers.into_iter().map(|o| o.id).collect();
        fw.client
            .decline(ids, Some(filters(Duration::ZERO)))
            .await
            .expect("DECLINE accepted");
    }
    assert!(
        other_offers_while_refused >= 2,
        "the other agent is offered again and again meanwhile ({other_offers_while_refused})"
    );
}
