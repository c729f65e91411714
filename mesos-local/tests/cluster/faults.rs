//! The cluster's fault injection: framework failover, connection cuts and
//! master failover, agent restarts and removal, and nothing outliving the
//! cluster.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_proto::v1::{task_status, TaskInfo, TaskState};
use mesos_scheduler::SchedulerEvent;

use super::support::*;

#[tokio::test]
async fn framework_failover_keeps_running_tasks() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let info = framework("failover").failover_timeout(Duration::from_secs(60));
    let mut fw = Fw::subscribe(cluster.master_url(), info.clone()).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "survivor",
            &offer,
            TASK_CPUS,
            TASK_MEM,
            "sleep 1000",
        )],
    )
    .await;
    let running = fw
        .wait_state("survivor", TaskState::TaskRunning, SOON)
        .await;
    let pid = executor_pid(&running);
    let id = fw.id.clone();
    drop(fw);

    // A new scheduler process takes over as the same framework.
    let mut fw = Fw::subscribe(cluster.master_url(), info.id(id.clone())).await;
    assert_eq!(fw.id, id);
    let answer = fw.reconcile("survivor", &agent).await;
    assert_eq!(answer.state(), TaskState::TaskRunning, "{answer:?}");
    assert!(!process_gone(pid), "the task's process {pid} still runs");
    let state = framework_state(&cluster.state(), &id);
    assert_eq!(state["active"], true, "{state}");
    assert_eq!(state["tasks"][0]["state"], "TASK_RUNNING", "{state}");
}

#[tokio::test]
async fn schedulers_resubscribe_after_connection_cuts_and_master_failover() {
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let info = framework("reconnect").failover_timeout(Duration::from_secs(60));
    let mut fw = Fw::subscribe(cluster.master_url(), info).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(
        &offer,
        vec![command_task(
            "steady",
            &offer,
            TASK_CPUS,
            TASK_MEM,
            "sleep 1000",
        )],
    )
    .await;
    let running = fw.wait_state("steady", TaskState::TaskRunning, SOON).await;
    let pid = executor_pid(&running);

    for cut in ["kill_master_connections", "fail_over_master"] {
        match cut {
            "kill_master_connections" => cluster.kill_master_connections(),
            _ => cluster.fail_over_master(),
        }
        fw.wait_for(SOON, &format!("Disconnected after {cut}"), |e| {
            matches!(e, SchedulerEvent::Disconnected { .. }).then_some(())
        })
        .await;
        let id = fw
            .wait_for(
                SOON,
                &format!("SUBSCRIBED again after {cut}"),
                |e| match e {
                    SchedulerEvent::Subscribed {
                        framework_id,
                        resubscribed,
                        ..
                    } => Some((framework_id.clone(), *resubscribed)),
                    _ => None,
                },
            )
            .await;
        assert_eq!(id, (fw.id.clone(), true), "{cut}: a resubscription");
        let answer = fw.reconcile("steady", &agent).await;
        assert_eq!(answer.state(), TaskState::TaskRunning, "{cut}: {answer:?}");
        assert!(!process_gone(pid), "{cut}: the task's process still runs");
        // The new stream works: offers come again.
        fw.take_offer_of(&agent).await;
    }
}

#[tokio::test]
async fn checkpointed_executor_reconnects_after_an_agent_restart() {
    let executor = test_executor_info("recovering");
    let cluster = start(builder(1)).await;
    let agent = cluster.agent_ids().remove(0);
    let info = framework("checkpoint")
        .checkpoint(true)
        .failover_timeout(Duration::from_secs(60));
    let mut fw = Fw::subscribe(cluster.master_url(), info).await;
    let offer = fw.take_offer_of(&agent).await;
    fw.launch(&offer, vec![executor_task("before", &offer, &executor)])
        .await;
    let before = fw.wait_state("before", TaskState::TaskRunning, SOON).await;
    fw.wait_state("before", TaskState::TaskFinished, SOON).await;

    cluster.stop_agent(0).await.expect("agent stops");
    // Long enough for the executor to notice and retry at least once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.restart_agent(0).await.expect("agent restarts");

    let offer = fw.take_offer_of(&agent).await;
    fw.launch(&offer, vec![executor_task("after", &offer, &executor)])
        .await;
    let after = fw.wait_state("after", TaskState::TaskRunning, SOON).await;
    fw.wait_state("after", TaskState::TaskFinished, SOON).await;
    assert_eq!(
        executor_pid(&after),
        executor_pid(&before),
        "the same executor process ran both tasks"
    );
    assert!(
        !fw.log.iter().any(|e| e.starts_with("Failure")),
        "the executor never failed: {:#?}",
        fw.log
    );
}

/// An agent that is down when a new leader is elected is registered
/// inactive (nothing of it is offered) and becomes active when it restarts.
#[tokio::test]
async fn an_agent_down_during_an_election_is_inactive_until_it_restarts() {
    let cluster = start(builder(2).masters(2)).await;
    let stopped = cluster.agent_ids().remove(1);
    let active = |cluster: &mesos_local::LocalCluster| -> Option<serde_json::Value> {
        cluster.state()["slaves"]
            .as_array()
            .and_then(|agents| agents.iter().find(|a| a["id"] == stopped.value.as_str()))
            .map(|a| a["active"].clone())
    };
    cluster.stop_agent(1).await.expect("agent 1 stops");
    cluster.kill_master(0).expect("kill master 0");
    cluster.wait_for_leader(SOON).await.expect("a new leader");
    assert_eq!(active(&cluster), Some(false.into()), "{}", cluster.state());

    cluster.restart_agent(1).await.expect("agent 1 restarts");
    assert_eq!(active(&cluster), Some(true.into()), "{}", cluster.state());
}

/// A stopped agent is deactivated as a Mesos 1.11 master deactivates an
/// agent whose link broke (`Master::deactivate`): its outstanding offer is
/// rescinded, its resources are offered to nobody while it is down, and it
/// is offered again once it is back.
#[tokio::test]
async fn a_stopped_agent_is_deactivated_until_it_restarts() {
    let cluster = start(builder(2)).await;
    let stopped = cluster.agent_ids().remove(1);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("deactivation")).await;
    let offer = fw.take_offer_of(&stopped).await;
    let active = |cluster: &mesos_local::LocalCluster| {
        let state = cluster.state();
        state["slaves"]
            .as_array()
            .and_then(|agents| agents.iter().find(|a| a["id"] == stopped.value.as_str()))
            .map(|a| a["active"].clone())
    };
    assert_eq!(active(&cluster), Some(true.into()));

    cluster.stop_agent(1).await.expect("agent stops");
    fw.wait_for(SOON, "the stopped agent's offer rescinded", |e| {
        matches!(e, SchedulerEvent::Rescind(id) if *id == offer.id).then_some(())
    })
    .await;
    assert_eq!(active(&cluster), Some(false.into()));
    // Ten allocation intervals: none offers the stopped agent.
    fw.assert_quiet(Duration::from_secs(1), "an offer of the stopped agent", |e| {
        matches!(e, SchedulerEvent::Offers(offers) if offers.iter().any(|o| o.agent_id == stopped))
    })
    .await;

    cluster.restart_agent(1).await.expect("agent restarts");
    fw.take_offer_of(&stopped).await;
    assert_eq!(active(&cluster), Some(true.into()));
}

#[tokio::test]
async fn removed_agent_is_reported_lost() {
    let executor = test_executor_info("doomed-executor");
    let cluster = start(builder(2)).await;
    let ids = cluster.agent_ids();
    let (doomed, kept) = (ids[1].clone(), ids[0].clone());
    let mut fw = Fw::subscribe(cluster.master_url(), framework("remove")).await;
    let offer = fw.take_offer_of(&doomed).await;
    fw.launch(
        &offer,
        vec![
            command_task("doomed", &offer, TASK_CPUS, TASK_MEM, "sleep 1000"),
            executor_task("doomed-exec", &offer, &executor),
        ],
    )
    .await;
    let running = fw.wait_state("doomed", TaskState::TaskRunning, SOON).await;
    let exec_running = fw
        .wait_state("doomed-exec", TaskState::TaskRunning, SOON)
        .await;
    fw.wait_state("doomed-exec", TaskState::TaskFinished, SOON)
        .await;
    let pids = [executor_pid(&running), executor_pid(&exec_running)];

    cluster.remove_agent(1).await.expect("agent removed");
    let failure = fw
        .wait_for(SOON, "FAILURE (agent lost)", |e| match e {
            SchedulerEvent::Failure {
                agent_id,
                executor_id: None,
                ..
            } => Some(agent_id.clone()),
            _ => None,
        })
        .await;
    assert_eq!(failure.as_ref(), Some(&doomed));
    let lost = fw.wait_state("doomed", TaskState::TaskLost, SOON).await;
    assert_eq!(lost.reason(), task_status::Reason::AgentRemoved, "{lost:?}");
    assert_eq!(lost.agent_id.as_ref(), Some(&doomed), "{lost:?}");
    for pid in pids {
        assert!(
            eventually(Duration::from_secs(5), || process_gone(pid)).await,
            "process {pid} of the removed agent is gone"
        );
    }
    // Nothing more comes from the removed agent.
    fw.assert_quiet(
        STATUS_UPDATE_RETRY * 3,
        "an event from the removed agent",
        |e| match e {
            SchedulerEvent::Update(s) => s.agent_id.as_ref() == Some(&doomed),
            SchedulerEvent::Failure { .. } => true,
            _ => false,
        },
    )
    .await;
    let state = cluster.state();
    let slaves: Vec<&str> = state["slaves"]
        .as_array()
        .expect("slaves")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(slaves, [kept.value.as_str()], "{state}");
    // The remaining agent still works.
    let offer = fw.take_offer_of(&kept).await;
    fw.launch(
        &offer,
        vec![command_task("fine", &offer, TASK_CPUS, TASK_MEM, "true")],
    )
    .await;
    fw.wait_state("fine", TaskState::TaskFinished, SOON).await;
}

/// Every regular file named `name` under `dir`.
fn find_files(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => find_files(&path, name, found),
            Ok(t) if t.is_file() && entry.file_name() == name => found.push(path),
            _ => {}
        }
    }
}

#[tokio::test]
async fn nothing_outlives_the_cluster() {
    let executor = test_executor_info("lingering-executor");
    let cluster = start(builder(1)).await;
    let work_dir = cluster.work_dir().to_path_buf();
    assert!(work_dir.is_dir());
    let agent = cluster.agent_ids().remove(0);
    let mut fw = Fw::subscribe(cluster.master_url(), framework("outlive")).await;
    let offer = fw.take_offer_of(&agent).await;
    // Each command records its pid in its sandbox; one also leaves a
    // grandchild behind in its process group.
    let mut tasks: Vec<TaskInfo> = (0..2)
        .map(|i| {
            command_task(
                &format!("sleeper-{i}"),
                &offer,
                TASK_CPUS,
                TASK_MEM,
                "echo $$ > \"$MESOS_SANDBOX/pid\" && exec sleep 1000",
            )
        })
        .collect();
    tasks.push(command_task(
        "sleeper-2",
        &offer,
        TASK_CPUS,
        TASK_MEM,
        "sleep 1000 & echo $! > \"$MESOS_SANDBOX/pid\"; echo $$ > \"$MESOS_SANDBOX/pid.main\"; wait",
    ));
    tasks.push(executor_task("on-executor", &offer, &executor));
    fw.launch(&offer, tasks).await;
    let mut pids = HashSet::new();
    for task in ["sleeper-0", "sleeper-1", "sleeper-2", "on-executor"] {
        let running = fw.wait_state(task, TaskState::TaskRunning, SOON).await;
        pids.insert(executor_pid(&running));
    }
    let mut files = Vec::new();
    assert!(
        eventually(SOON, || {
            files.clear();
            find_files(&work_dir, "pid", &mut files);
            find_files(&work_dir, "pid.main", &mut files);
            files.len() == 4
                && files.iter().all(|f| {
                    std::fs::read_to_string(f).is_ok_and(|t| t.trim().parse::<u32>().is_ok())
                })
        })
        .await,
        "the sandboxes hold 4 pid files: {files:?}"
    );
    for file in &files {
        let pid: u32 = std::fs::read_to_string(file)
            .expect("pid file")
            .trim()
            .parse()
            .expect("a pid");
        pids.insert(pid);
    }
    assert_eq!(
        pids.len(),
        5,
        "3 commands, a grandchild, an executor: {pids:?}"
    );
    for &pid in &pids {
        assert!(!process_gone(pid), "{pid} runs before the drop");
    }

    drop(fw);
    drop(cluster);
    let survivors = || {
        pids.iter()
            .copied()
            .filter(|&p| !process_gone(p))
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(Duration::from_secs(5), || survivors().is_empty()).await,
        "processes outlived the cluster: {:?}",
        survivors()
    );
    assert!(
        eventually(Duration::from_secs(5), || !work_dir.exists()).await,
        "the work dir {} outlived the cluster",
        work_dir.display()
    );
}
