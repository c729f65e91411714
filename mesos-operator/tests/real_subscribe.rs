//! The master's SUBSCRIBE against a real Mesos 1.11 master
//! (`MESOS_INTEROP_MASTER`): a command task launched meanwhile by a raw v1
//! scheduler shows up as events (in both media types) and in the folded
//! `ClusterState`; its sandbox is read through the agent's operator API;
//! the framework is torn down through the operator API.

use std::time::Duration;

use futures::StreamExt;
use mesos_operator::proto::master::event;
use mesos_operator::proto::scheduler::event as sched_event;
use mesos_operator::proto::{CommandInfo, FrameworkId, TaskId, TaskInfo, TaskState};
use mesos_operator::{Change, ClientBuilder, ClusterState, MasterClient, MediaType, TaskKey};
use mesos_test_support::environment::interop_master;
use mesos_test_support::scheduler::{scalar, RawScheduler};
use tokio::sync::mpsc;

const DEADLINE: Duration = Duration::from_secs(90);

/// Follows the master's SUBSCRIBE in `media`, folds it into a
/// `ClusterState`, and sends each change with a copy of the state.
fn watch(master: MasterClient) -> mpsc::UnboundedReceiver<(Change, ClusterState)> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut events = master.subscribe();
        let mut state = ClusterState::new();
        while let Some(event) = events.next().await {
            let event = event.expect("operator event");
            if let Some(change) = state.apply(&event) {
                if sender.send((change, state.clone())).is_err() {
                    return;
                }
            }
            if event.r#type() == event::Type::Subscribed {
                let interval = event.subscribed.and_then(|s| s.heartbeat_interval_seconds);
                assert!(interval.is_some_and(|i| i > 0.0), "{interval:?}");
            }
        }
    });
    receiver
}

/// Waits for the first change `accept` takes; the state then.
async fn wait_for(
    changes: &mut mpsc::UnboundedReceiver<(Change, ClusterState)>,
    what: &str,
    mut accept: impl FnMut(&Change) -> bool,
) -> ClusterState {
    let found = tokio::time::timeout(DEADLINE, async {
        while let Some((change, state)) = changes.recv().await {
            if accept(&change) {
                return Some(state);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(state)) => state,
        Ok(None) => panic!("the operator stream ended before {what}"),
        Err(_) => panic!("no {what} within {DEADLINE:?}"),
    }
}

/// Runs a command task through a raw v1 scheduler until it finishes;
/// returns the framework ID and the scheduler (still subscribed: dropping
/// it ends the framework).
async fn run_command_task(
    master: String,
    task_id: TaskId,
    command: &str,
) -> (FrameworkId, RawScheduler) {
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let mut scheduler =
        RawScheduler::subscribe(&master, &user, "mesos-operator subscribe test").await;
    let mut launched = false;
    while let Some(event) = scheduler.next_event().await {
        match event.r#type() {
            sched_event::Type::Offers if !launched => {
                let Some(offer) = event.offers.and_then(|o| o.offers.into_iter().next()) else {
                    continue;
                };
                let task = TaskInfo {
                    name: "operator test task".into(),
                    task_id: task_id.clone(),
                    agent_id: offer.agent_id.clone(),
                    resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
                    command: Some(CommandInfo {
                        value: Some(command.into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                scheduler.launch(&offer, vec![task]).await;
                launched = true;
            }
            sched_event::Type::Update => {
                let status = event.update.expect("update").status;
                scheduler.acknowledge(&status).await;
                if status.task_id == task_id && status.state().is_terminal() {
                    assert_eq!(status.state(), TaskState::TaskFinished, "{status:?}");
                    break;
                }
            }
            _ => {}
        }
    }
    let framework_id = scheduler.framework_id().cloned().expect("subscribed");
    (framework_id, scheduler)
}

#[tokio::test]
async fn subscribe_sees_a_task_run_and_its_framework_torn_down() {
    let Some(url) = interop_master("") else {
        return;
    };
    let client = |media| {
        ClientBuilder::new([url.as_str()])
            .media_type(media)
            .master()
            .expect("client")
    };
    let (protobuf, json) = (client(MediaType::Protobuf), client(MediaType::Json));
    let mut watchers = [watch(protobuf.clone()), watch(json)];
    for changes in &mut watchers {
        wait_for(changes, "SUBSCRIBED", |c| {
            matches!(c, Change::Snapshot { .. })
        })
        .await;
    }

    let task_id = TaskId {
        value: format!("operator-subscribe-{}", std::process::id()),
    };
    let scheduler = tokio::spawn(run_command_task(
        url.clone(),
        task_id.clone(),
        // (Into a file of the sandbox: the real-mesos tool's containerizer
        // does not redirect the executor's stdout into `stdout`.)
        "echo hello-from-the-operator-test > greeting.txt",
    ));
    let (framework_id, _scheduler) = tokio::time::timeout(DEADLINE, scheduler)
        .await
        .expect("task finished in time")
        .expect("scheduler task");
    let key = TaskKey {
        framework_id: framework_id.value.clone(),
        task_id: task_id.value.clone(),
    };

    for changes in &mut watchers {
        wait_for(changes, "FRAMEWORK_ADDED", |c| {
            matches!(c, Change::FrameworkAdded { framework_id: id, .. } if *id == key.framework_id)
        })
        .await;
        wait_for(
            changes,
            "TASK_ADDED",
            |c| matches!(c, Change::TaskAdded { key: k, .. } if *k == key),
        )
        .await;
        wait_for(changes, "TASK_RUNNING", |c| {
            // The update's own state: the event's `state` is the task's
            // latest, already TASK_FINISHED when the master processes the
            // RUNNING update after the FINISHED one arrived.
            matches!(c, Change::TaskUpdated { key: k, update: TaskState::TaskRunning, .. } if *k == key)
        })
        .await;
        let state = wait_for(changes, "TASK_FINISHED", |c| {
            matches!(c, Change::TaskUpdated { key: k, state: TaskState::TaskFinished, .. } if *k == key)
        })
        .await;
        assert!(!state.tasks().contains_key(&key));
        let done = state.task(&key).expect("the task among the completed");
        assert_eq!(done.state(), TaskState::TaskFinished);
        assert!(state.frameworks().contains_key(&key.framework_id));
        assert!(!state.agents().is_empty());
    }

    // The task's sandbox, through the agent's operator API.
    let agents = protobuf.get_agents().await.unwrap();
    let agent = agents.agents.first().expect("an agent");
    let agent = protobuf.agent_client(agent).unwrap();
    let sandbox = format!(
        "/frameworks/{}/executors/{}/runs/latest",
        framework_id.value, task_id.value
    );
    let files = agent.list_files(&sandbox).await.unwrap();
    assert!(
        files
            .file_infos
            .iter()
            .any(|f| f.path.ends_with("/greeting.txt")),
        "{:?}",
        files.file_infos.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    let greeting = agent
        .read_file(&format!("{sandbox}/greeting.txt"), 0, None)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&greeting.data);
    assert_eq!(text, "hello-from-the-operator-test\n");
    assert_eq!(greeting.size, greeting.data.len() as u64);
    let tail = agent
        .read_file(&format!("{sandbox}/greeting.txt"), 6, Some(4))
        .await
        .unwrap();
    assert_eq!(&tail.data[..], b"from");

    // TEARDOWN through the operator API ends the framework.
    protobuf.teardown(framework_id.clone()).await.unwrap();
    for changes in &mut watchers {
        let state = wait_for(changes, "FRAMEWORK_REMOVED", |c| {
            matches!(c, Change::FrameworkRemoved { framework_id: id } if *id == key.framework_id)
        })
        .await;
        assert!(!state.frameworks().contains_key(&key.framework_id));
    }
}
